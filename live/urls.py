"""URLs of the live app (mounted at /live/)."""

from django.urls import path

from live import views

app_name = "live"
urlpatterns = [path("<str:stream>/", views.stream_page, name="stream")]
