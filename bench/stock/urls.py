"""Just /healthz, so the bench's Stack knows the stock server is up."""

from django.http import JsonResponse
from django.urls import path

urlpatterns = [path("healthz", lambda request: JsonResponse({"ok": True}))]
