"""Reading fields of a client payload: each helper returns the value or raises BadRequest naming the field."""

from datetime import datetime

from hub.errors import BadRequest, NotFound

# Ids are 64-bit in every database we support; bigger ones would overflow there.
INT_MIN, INT_MAX = -(2**63), 2**63 - 1


def _present(payload, key, required, default):
    """(value, False) to check, or (default, True) when an optional field is absent."""
    value = payload.get(key, default)
    return (default, True) if value is None and not required else (value, False)


def get_str(payload, key, *, required=True, max_length=None, allow_empty=False, default=None):
    value, absent = _present(payload, key, required, default)
    if absent:
        return value
    if not isinstance(value, str):
        raise BadRequest(f"`{key}` must be a string.")
    if not allow_empty and not value.strip():
        raise BadRequest(f"`{key}` must not be empty.")
    if max_length is not None and len(value) > max_length:
        raise BadRequest(f"`{key}` is longer than {max_length} characters.")
    return value


def _is_int(value):
    # bool is an int subclass in Python; JSON true is not an id.
    return isinstance(value, int) and not isinstance(value, bool)


def get_int(payload, key, *, required=True, minimum=None, maximum=None, default=None):
    value, absent = _present(payload, key, required, default)
    if absent:
        return value
    if not _is_int(value):
        raise BadRequest(f"`{key}` must be an integer.")
    if not INT_MIN <= value <= INT_MAX:
        raise BadRequest(f"`{key}` is out of range.")
    if minimum is not None and value < minimum:
        raise BadRequest(f"`{key}` must be at least {minimum}.")
    if maximum is not None and value > maximum:
        raise BadRequest(f"`{key}` must be at most {maximum}.")
    return value


def get_bool(payload, key, *, required=True, default=None):
    value, absent = _present(payload, key, required, default)
    if absent:
        return value
    if not isinstance(value, bool):
        raise BadRequest(f"`{key}` must be true or false.")
    return value


def get_list(payload, key, *, item_type, max_items, required=True, default=None, max_item_length=None):
    """A list of `item_type` (str or int); `max_item_length` bounds each string."""
    value, absent = _present(payload, key, required, default)
    if absent:
        return value
    is_item = _is_int if item_type is int else (lambda item: isinstance(item, item_type))
    if not isinstance(value, list) or not all(is_item(item) for item in value):
        raise BadRequest(f"`{key}` must be a list of {item_type.__name__}.")
    if len(value) > max_items:
        raise BadRequest(f"`{key}` has more than {max_items} items.")
    if item_type is int and not all(INT_MIN <= item <= INT_MAX for item in value):
        raise BadRequest(f"`{key}` has an item out of range.")
    if max_item_length is not None and any(len(item) > max_item_length for item in value):
        raise BadRequest(f"`{key}` has an item longer than {max_item_length} characters.")
    return value


def get_choice(payload, key, choices, *, required=True, default=None):
    value, absent = _present(payload, key, required, default)
    if absent:
        return value
    if value not in choices:
        raise BadRequest(f"`{key}` must be one of {', '.join(choices)}.")
    return value


def get_time(payload, key, *, required=False, default=None):
    """An aware datetime from an ISO-8601 time with a time zone (a trailing Z, as the protocol writes them)."""
    value, absent = _present(payload, key, required, default)
    if absent:
        return value
    if not isinstance(value, str):
        raise BadRequest(f"`{key}` must be an ISO-8601 time or null.")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"`{key}` is not an ISO-8601 time.") from None
    if parsed.tzinfo is None:
        raise BadRequest(f"`{key}` needs a time zone (e.g. a trailing Z).")
    return parsed


def id_suffix(suffix, what):
    """The id in a topic name such as `doc:<id>`; NotFound (as for an id that does not exist) for anything else."""
    if not suffix.isascii() or not suffix.isdigit() or len(suffix) > 18:  # 18 digits: always a 64-bit id
        raise NotFound(f"No such {what}.")
    return int(suffix)
