"""The home page and the health check."""

import logging

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import Http404, HttpResponse, HttpResponseForbidden, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from hub import live_topic, metrics as hub_metrics
from hub.redis import get_sync_redis

logger = logging.getLogger(__name__)


@login_required
def home(request):
    return render(request, "home.html")


@never_cache
@require_GET
def healthz(request):
    """200 {"db": "ok", "redis": "ok"}, or 503 naming what is down."""
    status = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        status["db"] = "ok"
    except Exception as exc:
        logger.warning("healthz: database down: %s", exc)
        status["db"] = "down"
    try:
        get_sync_redis().ping()
        status["redis"] = "ok"
    except Exception as exc:
        logger.warning("healthz: redis down: %s", exc)
        status["redis"] = "down"
    healthy = all(value == "ok" for value in status.values())
    return JsonResponse(status, status=200 if healthy else 503)


@never_cache
@require_GET
def metrics(request):
    """Prometheus text for every server process of this machine; 404 unless HUB_METRICS, 403 to other callers."""
    if not settings.HUB_METRICS:
        raise Http404("Metrics are off (HUB_METRICS).")
    if not hub_metrics.may_scrape(request):
        return HttpResponseForbidden("Metrics are readable from HUB_METRICS_ALLOW addresses or with the bearer token.\n",
                                     content_type="text/plain")
    body, content_type = hub_metrics.render()
    return HttpResponse(body, content_type=content_type)


def live_view(request):
    """/admin/hub/ (staff: hub/urls.py wraps it in the admin's own check): the live view, filled over the socket."""
    context = {**admin.site.each_context(request), "title": "Hub live view", "push_seconds": int(live_topic.PUSH_SECS)}
    return render(request, "admin/hub/live.html", context)
