"""Admin: notifications (read-only record), announcements (added, edited and deleted live), a test action.

Every write goes through notifications.services, so the admin pushes exactly what the
socket and the Python API would.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from hub.admin import adopt_saved
from hub.errors import HubError
from notifications import services
from notifications.models import Announcement, AnnouncementDismissal, Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """A record of what was sent: searchable, not editable (a change would reach no open page)."""

    list_display = ("id", "recipient", "verb", "level", "actor", "unread", "created_at")
    list_filter = ("level", "unread", "created_at")
    search_fields = ("verb", "recipient__username", "actor__username")
    raw_id_fields = ("recipient", "actor")

    def has_add_permission(self, request):
        return False  # notify through the users' "Send a test notification" action or `manage.py notify`

    def has_change_permission(self, request, obj=None):
        return False


class AnnouncementForm(forms.ModelForm):
    class Meta:
        model = Announcement
        fields = ("title", "body", "level", "expires_at", "audience", "audience_group", "publish_at")
        help_texts = {"audience": "Online: only the people connected when it is published; never shown later. "
                                  "Group: the members of the group chosen below.",
                      "publish_at": "Leave empty to publish now."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:  # who it went to and when are history once it is made
            for name in ("audience", "audience_group", "publish_at"):
                self.fields[name].disabled = True

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        if (cleaned.get("audience") == "group") != bool(cleaned.get("audience_group")):
            raise forms.ValidationError("Choose a group for the audience 'group', and only for it.")
        try:
            services.announcement_check(title=cleaned["title"], body=cleaned["body"], level=cleaned["level"],
                                        expires_at=cleaned.get("expires_at"), new=self.instance.pk is None)
        except HubError as error:
            raise forms.ValidationError(_sentence(error.message))
        return cleaned


def _sentence(message):
    return message[:1].upper() + message[1:] + "."


@admin.register(Announcement)
class AnnouncementAdmin(admin.ModelAdmin):
    form = AnnouncementForm
    list_display = ("id", "title", "level", "audience", "author", "created_at", "publish_at", "published",
                    "expires_at", "withdrawn_at")
    list_filter = ("level", "audience", "published")
    search_fields = ("title", "body")
    exclude = ("author", "created_at", "published", "key", "withdrawn_at")
    actions = ["withdraw"]

    @admin.action(description="Withdraw the selected announcements (taken down at once, kept here)")
    def withdraw(self, request, queryset):
        for announcement in queryset:
            services.announcement_withdraw(announcement=announcement)

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data.get(name) for name in ("title", "body", "level", "expires_at")}
        if change:
            services.announcement_update(announcement=obj, **fields)
        else:
            data = form.cleaned_data
            audience = data["audience_group"] if data["audience"] == "group" else data["audience"]
            adopt_saved(obj, services.announce(fields.pop("title"), fields.pop("body"), author=request.user,
                                               audience=audience, publish_at=data.get("publish_at"), **fields))

    def delete_model(self, request, obj):
        services.announcement_delete(announcement=obj)

    def delete_queryset(self, request, queryset):
        for announcement in queryset:
            services.announcement_delete(announcement=announcement)


@admin.register(AnnouncementDismissal)
class AnnouncementDismissalAdmin(admin.ModelAdmin):
    list_display = ("announcement", "user", "created_at")
    raw_id_fields = ("announcement", "user")

    def has_add_permission(self, request):
        return False  # users dismiss for themselves

    def has_change_permission(self, request, obj=None):
        return False


@admin.action(description="Send a test notification to selected users")
def send_test_notification(modeladmin, request, queryset):
    created = services.notify(queryset, "Test notification from the admin", actor=request.user)
    modeladmin.message_user(request, f"Sent {len(created)} test notification(s).", messages.SUCCESS)


User = get_user_model()
if admin.site.is_registered(User):
    user_admin_class = type(admin.site._registry[User])
    admin.site.unregister(User)
else:
    user_admin_class = UserAdmin


@admin.register(User)
class HubUserAdmin(user_admin_class):
    actions = [*(user_admin_class.actions or []), send_test_notification]
