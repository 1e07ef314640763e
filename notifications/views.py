"""The full notification list page."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render

from notifications.models import Notification

PAGE_SIZE = 25


@login_required
def notification_list(request):
    rows = Notification.objects.filter(recipient=request.user).select_related("actor").order_by("-id")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notifications/list.html", {"page": page})
