"""Template context shared by every page."""

from django.conf import settings


def hub_settings(request):
    return {"HUB_HEARTBEAT": settings.HUB_HEARTBEAT}
