"""Admin for rooms, memberships and messages: every write goes through chat.services, so open sockets hear of it.

A message edited here reaches the room as `edited`; a message deleted here is deleted the
way the protocol promises (`deleted: true`, the row and its id kept), never erased. A member
removed here (or a room deleted) is taken out of the room's open sockets (chat.signals); a
room made private keeps only the members it had explicitly.
"""

from django import forms
from django.contrib import admin

from chat import services
from chat.models import Membership, Message, Room
from hub.admin import adopt_saved
from hub.errors import HubError


class RoomForm(forms.ModelForm):
    class Meta:
        model = Room
        fields = ("name", "kind")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "kind" in self.fields:  # direct rooms are opened by their two people, never made here
            self.fields["kind"].choices = [(k, k) for k in ("public", "private")]

    def clean_name(self):
        try:
            return services.room_name_clean(self.cleaned_data["name"])
        except HubError as error:
            raise forms.ValidationError(error.message)


class MembershipInline(admin.TabularInline):
    model = Membership
    raw_id_fields = ("user",)
    fields = ("user", "last_read_id", "joined_at")
    readonly_fields = ("last_read_id", "joined_at")
    extra = 0

    def has_change_permission(self, request, obj=None):
        return False  # add or remove a member; a membership has nothing else to edit

    def has_add_permission(self, request, obj=None):
        # A direct room has exactly its two people; otherwise the user's own add_membership right decides.
        return super().has_add_permission(request, obj) and (obj is None or obj.kind != "direct")


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    form = RoomForm
    list_display = ("slug", "name", "kind", "created_by", "created_at")
    list_filter = ("kind",)
    search_fields = ("slug", "name")
    inlines = [MembershipInline]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("slug", "created_by", "created_at", *(("kind",) if obj.kind == "direct" else ()))

    def save_model(self, request, obj, form, change):
        if change:
            services.room_update(room=obj, name=form.cleaned_data["name"],
                                 kind=form.cleaned_data.get("kind", obj.kind))
            return
        # Staff make the room for others: they are not its creator or a member (the inline adds members).
        room = services.room_create(creator=None, name=form.cleaned_data["name"],
                                    private=form.cleaned_data["kind"] == "private", member_usernames=[])
        adopt_saved(obj, room)

    def save_formset(self, request, form, formset, change):
        """New members are added through the service, so their open lobbies list the room at once."""
        memberships = formset.save(commit=False)
        services.members_add(room=form.instance, users=[m.user for m in memberships if m.pk is None])
        for membership in formset.deleted_objects:
            membership.delete()


class MembershipForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ("room", "user")

    def clean_room(self):
        room = self.cleaned_data["room"]
        if room.kind == "direct":
            raise forms.ValidationError("A direct room has exactly its two people.")
        return room


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    form = MembershipForm
    list_display = ("room", "user", "last_read_id", "joined_at")
    search_fields = ("room__slug", "user__username")
    raw_id_fields = ("room", "user")

    def has_change_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        services.members_add(room=obj.room, users=[obj.user])
        adopt_saved(obj, Membership.objects.get(room=obj.room, user=obj.user))


class MessageForm(forms.ModelForm):
    class Meta:
        model = Message
        fields = ("body",)

    def clean_body(self):
        try:
            return services.body_clean(self.cleaned_data["body"])
        except HubError as error:
            raise forms.ValidationError(error.message)


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    """Moderation: edit or delete what people wrote (messages are written through the socket)."""

    form = MessageForm
    list_display = ("id", "room", "author", "short_body", "created_at", "edited_at", "deleted")
    list_filter = ("deleted", "room__kind")
    search_fields = ("body", "author__username", "room__slug")
    readonly_fields = ("room", "author", "created_at", "edited_at", "deleted", "client_id")

    @admin.display(description="body")
    def short_body(self, obj):
        return obj.body[:80]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.deleted:
            return False  # a deleted message stays deleted: its page is view-only
        return super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        services.message_edit(room=obj.room, user=request.user, message_id=obj.pk, body=form.cleaned_data["body"])

    def delete_model(self, request, obj):
        if not obj.deleted:
            services.message_delete(room=obj.room, user=request.user, message_id=obj.pk)

    def delete_queryset(self, request, queryset):
        for message in queryset.filter(deleted=False).select_related("room"):
            services.message_delete(room=message.room, user=request.user, message_id=message.pk)
