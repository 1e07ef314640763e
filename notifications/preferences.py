"""Each person's notification preferences: a delivery per kind and do-not-disturb, with presence's
"appear offline" on the same page. Read by notify() and the email digest; set from /settings/notifications/
and the unsubscribe link; every change is pushed (`preferences`) to the person's open tabs.
"""

from django.db import transaction
from django.utils import timezone

from hub.errors import BadRequest
from hub.push import push_to_users
from notifications import kinds
from notifications.models import NotificationPreference, NotificationSettings

NOTIFICATIONS_TOPIC = "notifications"
ANNOUNCEMENTS_TOPIC = "announcements"


def deliveries_for(*, user_ids, kind):
    """{user id: "in_app" | "email" | "off"} for one kind, in one query (no row: the kind's default)."""
    chosen = dict(NotificationPreference.objects.filter(user_id__in=list(user_ids), kind=kind.name)
                  .values_list("user_id", "delivery"))
    return {uid: kind.delivery(chosen.get(uid)) for uid in user_ids}


def deliveries_of(*, user):
    """{kind name: delivery} of one person for every registered kind, in one query."""
    chosen = dict(NotificationPreference.objects.filter(user=user).values_list("kind", "delivery"))
    return {kind.name: kind.delivery(chosen.get(kind.name)) for kind in kinds.all_kinds()}


def emailed_kinds(*, user):
    """The names of the kinds this person gets by email."""
    return {name for name, delivery in deliveries_of(user=user).items() if delivery == "email"}


def _announcement_delivery(user):
    return deliveries_for(user_ids=[user.pk], kind=kinds.get_kind(kinds.ANNOUNCEMENTS))[user.pk]


def announcements_off(*, user):
    return _announcement_delivery(user) == "off"


def do_not_disturb(*, user):
    return NotificationSettings.objects.filter(user=user, do_not_disturb=True).exists()


def preferences_of(*, user):
    """PREFERENCES (docs/protocol.md): every kind with its label, choices and this person's delivery,
    do_not_disturb and appear_offline."""
    from presence import selectors as presence_selectors

    delivery = deliveries_of(user=user)
    return {
        "kinds": [{"kind": kind.name, "label": kind.label, "deliveries": list(kind.deliveries),
                   "delivery": delivery[kind.name]} for kind in kinds.all_kinds()],
        "do_not_disturb": do_not_disturb(user=user),
        "appear_offline": presence_selectors.appears_offline(user=user),
    }


def preferences_set(*, user, deliveries=None, do_not_disturb=None, appear_offline=None):
    """Store what changed (deliveries: {kind name: delivery}; None leaves a setting as it is) and push the
    whole PREFERENCES to every open tab of the person after the commit. BadRequest for an unknown kind or a
    delivery the kind does not offer; nothing is stored then."""
    from presence import services as presence_services

    deliveries = deliveries or {}
    for name, delivery in deliveries.items():
        kind = kinds.get_kind(name)
        if delivery not in kind.deliveries:
            raise BadRequest(f"{name} can be delivered {', '.join(kind.deliveries)}, not {delivery!r}")
    with transaction.atomic():
        announcements_were_off = announcements_off(user=user)
        if deliveries.get(kinds.ANNOUNCEMENTS) == "email" and _announcement_delivery(user) != "email":
            # From now on: the announcements published before are not emailed.
            NotificationSettings.objects.update_or_create(
                user=user, defaults={"announcements_decided_until": timezone.now()})
        for name, delivery in deliveries.items():
            NotificationPreference.objects.update_or_create(user=user, kind=name, defaults={"delivery": delivery})
        if do_not_disturb is not None:
            NotificationSettings.objects.update_or_create(user=user, defaults={"do_not_disturb": bool(do_not_disturb)})
        if appear_offline is not None:
            presence_services.appear_offline_set(user=user, value=bool(appear_offline))
        preferences = preferences_of(user=user)
        push_to_users([user.pk], NOTIFICATIONS_TOPIC, "preferences", {"preferences": preferences})
        if announcements_off(user=user) != announcements_were_off:
            _announcements_refresh(user)
    return preferences


def announcements_shown(*, user):
    """(off, [ANNOUNCEMENT]): whether the person turned announcements off, and the active ones they see
    (with announcements off, only critical ones)."""
    from notifications.selectors import announcements_active
    from notifications.serializers import announcement_dict

    off = announcements_off(user=user)
    return off, [announcement_dict(a) for a in announcements_active(user=user) if not off or a.level == "critical"]


def _announcements_refresh(user):
    """Open banners follow the choice: every active announcement the person sees from now on, and `off`."""
    off, items = announcements_shown(user=user)
    push_to_users([user.pk], ANNOUNCEMENTS_TOPIC, "refresh", {"items": items, "off": off})


def emails_unsubscribe(*, user):
    """The one-click unsubscribe: every kind this person gets by email is in the app only from now on."""
    return preferences_set(user=user, deliveries={name: "in_app" for name in emailed_kinds(user=user)})
