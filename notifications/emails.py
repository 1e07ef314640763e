"""Email when a person was away: one digest of the notifications they missed.

Each notification is decided once, HUB_EMAIL_AFTER seconds after it was made, if it is still unread: it
is emailed when its recipient had no live socket since it was made (hub.connections.last_live), wants
its kind by email (notifications.preferences) and has a verified email address, and never otherwise. A person
gets at most one email per HUB_EMAIL_AFTER: what was decided for them in one round goes in one digest,
and what falls due while they wait goes in the next. Notifications are claimed (in the database) before
the email is sent, so two processes never send the same one; a send that fails gives them back to the
next round. Run every EMAIL_CHECK_SECS by one server process (notifications.scheduler) and by
`manage.py hub_send_emails` (cron).
"""

import logging
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from hub import connections
from notifications import app_settings, kinds, preferences, selectors
from notifications.models import Notification, NotificationPreference, NotificationSettings
from notifications.serializers import who

logger = logging.getLogger(__name__)
UNSUBSCRIBE_SALT = "notifications.unsubscribe"


def emails_send_due(*, now=None):
    """One round: decide every notification that is due, send the digests; returns how many were sent."""
    if not app_settings.EMAIL_AFTER:
        return 0
    now = now or timezone.now()
    pending = Notification.objects.filter(unread=True, email_checked=False)
    # A backlog older than EMAIL_MAX_AGE (the server was down for days) is news to nobody by now.
    pending.filter(created_at__lt=now - app_settings.EMAIL_MAX_AGE).update(email_checked=True)
    cutoff = now - timedelta(seconds=app_settings.EMAIL_AFTER)
    due = pending.filter(created_at__lte=cutoff)
    user_ids = list(dict.fromkeys([*due.order_by("created_at").values_list("recipient_id", flat=True)[:10_000],
                                   *_announcement_readers(cutoff)]))
    # At most one email per person per window: who had one since the cutoff waits (their notifications stay
    # pending).
    waiting = set(NotificationSettings.objects.filter(user_id__in=user_ids, last_emailed_at__gt=cutoff)
                  .values_list("user_id", flat=True))
    user_ids = [uid for uid in user_ids if uid not in waiting][:app_settings.EMAIL_USERS_PER_ROUND]
    live = connections.last_live(user_ids)
    addresses = verified_addresses(user_ids)
    users = list(get_user_model().objects.filter(pk__in=user_ids, is_active=True))
    # Deactivated people get no email: their notifications are decided now, not looked at every round.
    due.filter(recipient_id__in=set(user_ids) - {user.pk for user in users}).update(email_checked=True)
    sent = 0
    for user in users:
        sent += _digest(user, due, now=now, cutoff=cutoff, live_at=live[user.pk], address=addresses.get(user.pk))
    return sent


def _announcement_readers(cutoff):
    """People who want announcements by email and have not had those published up to `cutoff` decided, when
    any was published since the earliest of their cursors (else nobody: one query a round)."""
    readers = NotificationSettings.objects.filter(
        user_id__in=NotificationPreference.objects.filter(kind=kinds.ANNOUNCEMENTS, delivery="email")
        .values("user_id"), announcements_decided_until__lt=cutoff)
    earliest = readers.order_by("announcements_decided_until").values_list(
        "announcements_decided_until", flat=True).first()
    if earliest is None or not selectors.announcements_published_after(after=earliest, until=cutoff):
        return []
    return list(readers.order_by("announcements_decided_until").values_list("user_id", flat=True)[:10_000])


def verified_addresses(user_ids):
    """{user id: their verified primary address}: digests go only there. Anyone may sign up with someone
    else's address; mail to an unverified one would let them send our mail to a stranger."""
    from allauth.account.models import EmailAddress

    return dict(EmailAddress.objects.filter(user_id__in=list(user_ids), verified=True, primary=True)
                .values_list("user_id", "email"))


def _away_since(live_at, moment):
    """They had no socket after `moment` (live_at is a whole second, made at most then)."""
    return live_at is None or live_at < int(moment.timestamp())


def _digest(user, due, *, now, cutoff, live_at, address):
    """Decide this person's due notifications (and announcements, if they want them by email) and email those
    that qualify; 1 if an email went out."""
    with transaction.atomic():
        # Locked (PostgreSQL; SQLite has one writer at a time): another process's round skips them.
        rows = list(due.filter(recipient=user).select_for_update(skip_locked=True)
                    .order_by("created_at", "id")[:app_settings.EMAIL_DIGEST_MAX_ITEMS])
        Notification.objects.filter(pk__in=[n.pk for n in rows]).update(email_checked=True)
        # A kind no app registers any more is not among them: never emailed.
        by_email = preferences.emailed_kinds(user=user)
        missed = [n for n in rows if n.kind in by_email and _away_since(live_at, n.created_at)]
        settings_row = NotificationSettings.objects.select_for_update().filter(user=user).first()
        decided_until = settings_row.announcements_decided_until if settings_row else None
        announcements = []
        if kinds.ANNOUNCEMENTS in by_email and decided_until is not None and decided_until < cutoff:
            announcements = [a for a in selectors.announcements_published_between(
                user=user, after=decided_until, until=cutoff) if _away_since(live_at, a.published_time)]
            NotificationSettings.objects.filter(user=user).update(announcements_decided_until=cutoff)
        if not (missed or announcements) or not address:
            return 0
        Notification.objects.filter(pk__in=[n.pk for n in missed]).update(emailed_at=now)
        NotificationSettings.objects.update_or_create(user=user, defaults={"last_emailed_at": now})
    missed = list(Notification.objects.select_related("actor").filter(pk__in=[n.pk for n in missed])
                  .order_by("created_at", "id"))
    try:
        digest_message(user, missed, address, announcements=announcements).send()
    except Exception:
        logger.exception("the digest for user %s could not be sent; it is tried again next round", user.pk)
        Notification.objects.filter(pk__in=[n.pk for n in missed]).update(email_checked=False, emailed_at=None)
        NotificationSettings.objects.filter(user=user).update(
            last_emailed_at=None, **({"announcements_decided_until": decided_until} if announcements else {}))
        return 0
    return 1


def absolute(path_or_url):
    return path_or_url if path_or_url.startswith(("http://", "https://")) else f"{app_settings.SITE_URL}{path_or_url}"


def unsubscribe_url(user):
    token = signing.dumps(user.pk, salt=UNSUBSCRIBE_SALT, compress=True)
    return absolute(reverse("notifications:unsubscribe", args=[token]))


def unsubscribe_user(token):
    """The user a link's token was signed for, or None (tampered, or the user is gone)."""
    try:
        user_id = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    return get_user_model().objects.filter(pk=user_id, is_active=True).first() if isinstance(user_id, int) else None


def digest_message(user, missed, address, *, announcements=()):
    """The email: plain text and HTML, the notifications grouped by kind (in the settings page's order), and
    the announcements missed."""
    selectors.attach_actors(missed)
    labels = {kind.name: kind.label for kind in kinds.all_kinds()}
    groups = {}
    for n in missed:
        text = n.verb
        if n.count > 1:
            text = f"{who([u.username for u in n.shown_actors], len(n.actor_ids))} {n.verb}"
        elif n.actor_id:
            text = f"{n.verb} (from {n.actor.username})"
        link = absolute(n.url or reverse("notifications:list"))
        groups.setdefault(n.kind, []).append({"text": text, "link": link, "created_at": n.created_at})
    for a in announcements:
        groups.setdefault(kinds.ANNOUNCEMENTS, []).append(
            {"text": f"{a.title}: {a.body[:300]}", "link": absolute("/"), "created_at": a.published_time})
    count = len(missed) + len(announcements)
    order = list(labels)
    context = {
        "user": user, "count": count, "site_url": app_settings.SITE_URL,
        "groups": [(labels.get(name, name), items) for name, items in sorted(
            groups.items(), key=lambda pair: order.index(pair[0]) if pair[0] in order else len(order))],
        "settings_url": absolute(reverse("notification_settings")), "unsubscribe_url": unsubscribe_url(user),
    }
    subject = f"{count} notification{'s' if count > 1 else ''} you missed"
    message = EmailMultiAlternatives(
        subject, render_to_string("notifications/email/digest.txt", context), to=[address],
        # RFC 8058: mail clients offer "Unsubscribe" and POST to the link themselves.
        headers={"List-Unsubscribe": f"<{context['unsubscribe_url']}>",
                 "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})
    message.attach_alternative(render_to_string("notifications/email/digest.html", context), "text/html")
    return message
