"""Reading a stream of rows by id: what a client missed after an id (resume with `since`), or a page before one."""


def rows_after(queryset, *, since, limit, field="id"):
    """Up to `limit` rows with `field` (an id, or a stream position) after `since`, in that order,
    and whether more were left out.

    A client that gets `more` has missed too much to catch up row by row and reloads.
    """
    rows = list(queryset.filter(**{f"{field}__gt": since}).order_by(field)[: limit + 1])
    return rows[:limit], len(rows) > limit


def rows_before(queryset, *, before, limit):
    """Up to `limit` rows with an id before `before` (or the newest when None), newest first, and whether more were left out."""
    if before is not None:
        queryset = queryset.filter(id__lt=before)
    rows = list(queryset.order_by("-id")[: limit + 1])
    return rows[:limit], len(rows) > limit
