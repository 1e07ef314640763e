"""The full notification list page, and its "Mark all read" form."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from notifications import app_settings, selectors, services
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
