"""Site URLs; each feature app mounts its own."""

from django.contrib import admin
from django.urls import include, path

from hub import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("chat/", include("chat.urls")),
    path("notifications/", include("notifications.urls")),
]
