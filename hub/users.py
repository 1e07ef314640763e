"""Users as the protocol shows them (USER), and finding users by the names people type."""

from django.contrib.auth import get_user_model
from django.db.models import Q


def display_name(user):
    return (user.get_full_name() or "").strip() or user.username


def user_dict(user):
    """docs/protocol.md USER: {"id", "username", "display_name"}."""
    return {"id": user.pk, "username": user.username, "display_name": display_name(user)}


def users_by_username(*, usernames):
    """Active users by username; a name typed in another case still finds its user.

    Exact names first (the username index); only names not found that way are matched
    ignoring case (allauth keeps usernames unique regardless of case). Every part of Hub
    that takes usernames (chat members and direct messages, presence queries, the notify
    command) finds users here, so they all follow the same rule.
    """
    usernames = set(usernames)
    users = get_user_model().objects.filter(is_active=True)
    found = list(users.filter(username__in=usernames))
    missing = usernames - {user.username for user in found}
    if missing:
        ignoring_case = Q()
        for name in missing:
            ignoring_case |= Q(username__iexact=name)
        found_ids = {user.pk for user in found}
        found += [user for user in users.filter(ignoring_case) if user.pk not in found_ids]
    return found


def unknown_usernames(usernames, users):
    """The names in `usernames` that none of `users` answers to (ignoring case, as users_by_username does)."""
    known = {user.username.lower() for user in users}
    return sorted({name for name in usernames if name.lower() not in known})
