"""Admin: notifications (list, filter, search), announcements (published live on add), a test action."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.utils import timezone

from notifications import services
from notifications.models import Announcement, AnnouncementDismissal, Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("id", "recipient", "verb", "level", "actor", "unread", "created_at")
    list_filter = ("level", "unread", "created_at")
    search_fields = ("verb", "recipient__username", "actor__username")
    raw_id_fields = ("recipient", "actor")
    readonly_fields = ("target_content_type", "target_object_id", "target_repr", "created_at")


class AnnouncementForm(forms.ModelForm):
    class Meta:
        model = Announcement
        fields = ("title", "body", "level", "expires_at")

    def clean_expires_at(self):
        expires_at = self.cleaned_data.get("expires_at")
        if self.instance.pk is None and expires_at is not None and expires_at <= timezone.now():
            raise forms.ValidationError("This time is in the past: the announcement would never be shown.")
        return expires_at


@admin.register(Announcement)
class AnnouncementAdmin(admin.ModelAdmin):
    form = AnnouncementForm
    list_display = ("id", "title", "level", "author", "created_at", "expires_at")
    list_filter = ("level",)
    search_fields = ("title", "body")
    exclude = ("author", "created_at")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.author = request.user
        super().save_model(request, obj, form, change)
        if not change:
            services.announcement_publish(obj)  # the same live push as announce()


@admin.register(AnnouncementDismissal)
class AnnouncementDismissalAdmin(admin.ModelAdmin):
    list_display = ("announcement", "user", "created_at")
    raw_id_fields = ("announcement", "user")


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
