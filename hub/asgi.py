"""ASGI entry point: HTTP through Django (WhiteNoise serves static files), `/ws/` to the hub socket."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
django_asgi_app = get_asgi_application()  # sets Django up before anything imports models

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from django.conf import settings  # noqa: E402

from hub import daphne_limits, log_format, malloc_tuning, socket_memory  # noqa: E402
from hub.consumer import HubConsumer  # noqa: E402
from hub.origins import OriginValidator  # noqa: E402

daphne_limits.install()
socket_memory.install()  # light inbound queues, the upgrade request let go: see hub/socket_memory.py
log_format.install(settings.LOG_FORMAT)  # daphne's access log as JSON lines too, with LOG_FORMAT=json
malloc_tuning.tune(settings.HUB_MALLOC_MMAP_THRESHOLD)  # a long-lived server: see hub/malloc_tuning.py

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": OriginValidator(
            AuthMiddlewareStack(URLRouter([path("ws/", HubConsumer.as_asgi())]))
        ),
    }
)
