"""The full notification list page, its "Mark all read" form, and the notification settings page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from notifications import app_settings, emails, preferences, selectors, services
from notifications.forms import PreferencesForm
from notifications.serializers import who


@login_required
def notification_list(request):
    page = Paginator(selectors.notification_list(user=request.user), app_settings.PAGE_SIZE).get_page(request.GET.get("page"))
    for n in selectors.attach_actors(page.object_list):
        if n.count > 1:  # grouped: "alice, bob and 3 others <verb>"
            n.who = who([user.username for user in n.shown_actors], len(n.actor_ids))
    unread = selectors.notification_unread_count(user=request.user)
    return render(request, "notifications/list.html", {"page": page, "unread": unread})


@require_POST
@login_required
def notification_read_all(request):
    """The same service as the socket's `read_all`: the user's open tabs update live."""
    services.notification_mark_all_read(user=request.user)
    return redirect("notifications:list")


@login_required
def preferences_page(request):
    """/settings/notifications/: saved through the same service as every other caller; every open tab of the
    user (this page in another tab too) follows the change live (push `preferences`)."""
    form = PreferencesForm(request.POST or None, preferences=preferences.preferences_of(user=request.user))
    if request.method == "POST" and form.is_valid():
        preferences.preferences_set(user=request.user, deliveries=form.deliveries(),
                                    do_not_disturb=form.cleaned_data["do_not_disturb"],
                                    appear_offline=form.cleaned_data["appear_offline"])
        messages.success(request, "Your notification settings are saved.")
        return redirect("notification_settings")
    verified = bool(emails.verified_addresses([request.user.pk]))
    return render(request, "notifications/preferences.html", {"form": form, "email_verified": verified},
                  status=400 if form.errors else 200)


@csrf_exempt  # the signed token is the proof; mail clients POST here themselves (RFC 8058 one-click)
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    """An email's unsubscribe link, no login needed. GET asks (link scanners fetch every link of a mail and
    must not unsubscribe anyone); POST, from that page's one button or the mail client, does it."""
    user = emails.unsubscribe_user(token)
    if user is None:
        return render(request, "notifications/unsubscribe.html", {"invalid": True}, status=400)
    done = request.method == "POST"
    if done:
        preferences.emails_unsubscribe(user=user)
    return render(request, "notifications/unsubscribe.html", {"done": done, "username": user.username})
