"""The api app: token-authenticated JSON endpoints under /api/v1/ (docs/http-api.md)."""

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "HTTP API"
