"""Site URLs; each feature app mounts its own."""

from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from hub import views
from notifications.views import preferences_page

# The admin's own login form has no rate limit: send it to allauth's login (and its per-IP and
# per-account limits on failures), then back. A signed-in non-staff user gets 403.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("metrics", views.metrics, name="metrics"),
    path("accounts/", include("allauth.urls")),
    path("api/v1/", include("api.urls")),
    path("admin/hub/", admin.site.admin_view(views.live_view), name="hub_live_view"),  # staff only, as the admin
    path("admin/", admin.site.urls),
    path("chat/", include("chat.urls")),
    path("docs/", include("collab.urls")),
    path("games/", include("games.urls")),
    path("live/", include("live.urls")),
    path("notifications/", include("notifications.urls")),
    path("settings/notifications/", preferences_page, name="notification_settings"),
]
