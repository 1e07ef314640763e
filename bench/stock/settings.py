"""Settings of the stock Channels design the chat bench compares against (the Channels tutorial's shape)."""

import os

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "bench-only-secret-key")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["daphne", "django.contrib.contenttypes", "django.contrib.auth", "channels"]
ROOT_URLCONF = "bench.stock.urls"
ASGI_APPLICATION = "bench.stock.asgi.application"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ.get("STOCK_DB", ":memory:")}}
USE_TZ = True
CHANNEL_LAYERS = {
    "default": {
        # The default, list-based channels-redis layer, as the tutorial configures it.
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [{"address": os.environ["REDIS_URL"], "socket_timeout": 30}]},
    }
}
