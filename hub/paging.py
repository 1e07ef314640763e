"""Reading a stream of rows by id: what a client missed after the id it has (resume with `since`)."""


def rows_after(queryset, *, since, limit):
    """Up to `limit` rows with an id after `since`, oldest first, and whether more were left out.

    A client that gets `more` has missed too much to catch up row by row and reloads.
    """
    rows = list(queryset.filter(id__gt=since).order_by("id")[: limit + 1])
    return rows[:limit], len(rows) > limit
