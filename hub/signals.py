"""Signal receivers of the hub app: a logout closes its session's sockets; a change to a user's
rights, groups or password makes their open sockets re-read them (within a push, not a minute)."""

import logging

from django.contrib.auth.models import Group

from hub.protocol import CLOSE_SESSION_ENDED
from hub.push import close_message, publish, session_group, users_changed

logger = logging.getLogger(__name__)
# A login saves last_login only: that changes nobody's rights.
ROUTINE_FIELDS = frozenset({"last_login"})


def close_sockets_on_logout(sender, request, user, **kwargs):
    """Close every socket of the session that is logging out with 4401 (they share its key)."""
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if not session_key:
        return
    try:
        publish([session_group(session_key)], close_message(CLOSE_SESSION_ENDED))
    except Exception:
        # The periodic session check still closes them; logout itself must not fail.
        logger.warning("could not push logout to open sockets", exc_info=True)


def user_saved(sender, instance, created=False, update_fields=None, **kwargs):
    """post_save of the user model: is_active, is_staff, is_superuser or the password may have changed."""
    if not created and not (update_fields and set(update_fields) <= ROUTINE_FIELDS):
        users_changed([instance.pk])


def user_relations_changed(sender, instance, action, reverse, pk_set, **kwargs):
    """m2m_changed of the user's groups or permissions, from either side."""
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    if not reverse:
        users_changed([instance.pk])
    elif action == "pre_clear":  # a group or permission losing every user: pk_set is not given
        users_changed(list(getattr(instance, "user_set").values_list("pk", flat=True)))
    else:
        users_changed(pk_set or [])


def group_permissions_changed(sender, instance, action, reverse, pk_set, **kwargs):
    """m2m_changed of Group.permissions, from either side: every member of the groups concerned."""
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    groups = [instance] if not reverse else Group.objects.filter(
        pk__in=pk_set if action != "pre_clear" else instance.group_set.values("pk"))
    users_changed(list(Group.user_set.through.objects.filter(group__in=groups).values_list("user_id", flat=True)))


def group_deleted(sender, instance, **kwargs):
    """pre_delete of a Group: its members lose what it granted (the rows go without an m2m signal)."""
    users_changed(list(instance.user_set.values_list("pk", flat=True)))
