"""Users as the protocol shows them (USER), and finding users by the names people type."""

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.db.models.functions import Lower


def display_name(user):
    return (user.get_full_name() or "").strip() or user.username


def user_dict(user):
    """docs/protocol.md USER: {"id", "username", "display_name"}."""
    return {"id": user.pk, "username": user.username, "display_name": display_name(user)}


def users_by_username(*, usernames, among=None):
    """Active users by username; a name typed in another case still finds its user.

    A name matches its user exactly, or else ignoring case (allauth keeps usernames unique
    regardless of case; where two differ only in case, the exact one wins). One query on
    LOWER(username), which the hub migration indexes, so a long list of names costs no more
    than a short one. `among`: a queryset of users to look in (a room's members) instead of
    all. Every part of Hub that takes usernames (chat members, direct messages and mentions,
    presence queries, the notify command) finds users here, so they all follow one rule.
    """
    wanted = {name for name in usernames if isinstance(name, str)}
    if not wanted:
        return []
    users = (get_user_model().objects.all() if among is None else among).filter(is_active=True)
    # Exact names too: SQLite's LOWER() folds ASCII only, so "Élodie" would not meet "élodie".
    candidates = list(users.annotate(username_lower=Lower("username"))
                      .filter(Q(username__in=wanted) | Q(username_lower__in={name.lower() for name in wanted})))
    exact = {user.username for user in candidates} & wanted
    exact_folded = {name.lower() for name in exact}
    return [user for user in candidates if user.username in exact or user.username.lower() not in exact_folded]


def unknown_usernames(usernames, users):
    """The names in `usernames` that none of `users` answers to (ignoring case, as users_by_username does)."""
    known = {user.username.lower() for user in users}
    return sorted({name for name in usernames if name.lower() not in known})
