"""Admin for presence's database side."""

from django.contrib import admin

from presence.models import LastSeen


@admin.register(LastSeen)
class LastSeenAdmin(admin.ModelAdmin):
    list_display = ("user", "at")
    search_fields = ("user__username",)
    readonly_fields = ("user", "at")
