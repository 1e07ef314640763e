"""Games in the admin, to look at (moves are made only through games.services)."""

from django.contrib import admin

from games.models import Game


@admin.register(Game)
class GameAdmin(admin.ModelAdmin):
    list_display = ("id", "first", "second", "moves", "ended", "winner", "created_at", "finished_at")
    list_filter = ("ended",)
    search_fields = ("first__username", "second__username")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
