"""Kinds of notification, each with a label and a default delivery: what /settings/notifications/ lists and what
`notify(kind=...)` honours per recipient.

Apps declare theirs in AppConfig.ready() with `notifications.register_kind("app.thing", "Label")`.
"""

import re
from dataclasses import dataclass

from hub.errors import BadRequest

# in_app: stored and shown live; email: that, and emailed in a digest when the person was away (HUB_EMAIL_AFTER);
# off: not stored at all.
DELIVERIES = ("in_app", "email", "off")
DELIVERY_LABELS = {"in_app": "In the app", "email": "In the app and by email", "off": "Off"}
NAME = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")
NAME_MAX_LENGTH = 100
# What notify() without `kind` stores: notifications an app did not classify.
DEFAULT_KIND = "notifications.other"
ANNOUNCEMENTS = "notifications.announcement"


@dataclass(frozen=True)
class Kind:
    name: str
    label: str
    default: str
    # What may be chosen for it (an app may leave out email or off).
    deliveries: tuple = DELIVERIES

    def delivery(self, chosen):
        """What a person's stored choice (None: none) stands for: a choice the kind no longer offers (its app
        changed its deliveries) counts as its default."""
        return chosen if chosen in self.deliveries else self.default


_kinds = {}


def register_kind(name, label, *, default="in_app", deliveries=DELIVERIES):
    """Declare a kind ("app.thing"); registering the same one again with the same values is harmless."""
    if not isinstance(name, str) or not NAME.fullmatch(name) or len(name) > NAME_MAX_LENGTH:
        raise ValueError(f"a notification kind is 'app.thing' (lowercase, dotted, at most {NAME_MAX_LENGTH} "
                         f"characters), not {name!r}")
    if not isinstance(label, str) or not label.strip():
        raise ValueError("a notification kind needs a label")
    if default not in deliveries or not set(deliveries) <= set(DELIVERIES):
        raise ValueError(f"a kind's deliveries are some of {DELIVERIES} and include its default {default!r}")
    kind = Kind(name, label.strip(), default, tuple(d for d in DELIVERIES if d in deliveries))
    if _kinds.get(name, kind) != kind:
        raise ValueError(f"notification kind {name!r} is registered already, differently")
    _kinds[name] = kind
    return kind


def get_kind(name):
    """The registered kind; BadRequest (an API caller's mistake) for one nobody registered."""
    kind = _kinds.get(name) if isinstance(name, str) else None
    if kind is None:
        raise BadRequest(f"unknown notification kind {name!r}; apps declare theirs with register_kind()")
    return kind


def all_kinds():
    """Every registered kind, in registration order, "other notifications" last (the settings page's order)."""
    return sorted(_kinds.values(), key=lambda kind: kind.name == DEFAULT_KIND)
