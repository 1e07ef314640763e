"""Admin for rooms, memberships and messages."""

from django.contrib import admin

from chat.models import Membership, Message, Room


class MembershipInline(admin.TabularInline):
    model = Membership
    raw_id_fields = ("user",)
    extra = 0


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "kind", "created_by", "created_at")
    list_filter = ("kind",)
    search_fields = ("slug", "name")
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("room", "user", "last_read_id", "joined_at")
    search_fields = ("room__slug", "user__username")
    raw_id_fields = ("room", "user")


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("id", "room", "author", "short_body", "created_at", "edited_at", "deleted")
    list_filter = ("deleted", "room__kind")
    search_fields = ("body", "author__username", "room__slug")
    raw_id_fields = ("room", "author")

    @admin.display(description="body")
    def short_body(self, obj):
        return obj.body[:80]
