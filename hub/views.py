"""The home page and the health check."""

import logging

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

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
