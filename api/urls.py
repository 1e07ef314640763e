"""/api/v1/ (docs/http-api.md)."""

from django.urls import path

from api import views

urlpatterns = [
    path("notifications", views.notifications_create, name="api_notifications"),
    path("announcements", views.announcements_create, name="api_announcements"),
    path("events", views.events_create, name="api_events"),
    path("openapi.json", views.openapi_document, name="api_openapi"),
]
