"""The room page; the lobby lives on the home page (chat/templates/chat/_lobby.html)."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from chat import selectors
from chat.serializers import room_name_for
from chat.ui import template_context


@login_required
def room_page(request, slug):
    room = selectors.room_get(slug=slug)
    if room is None:
        raise Http404("No such room.")
    if not selectors.room_can_join(room=room, user=request.user):
        # Rendered, not raised: a PermissionDenied would log a traceback for an ordinary refusal.
        return render(request, "403.html", {"message": "This room is private: only its members can open it."},
                      status=403)
    name = room_name_for(room, request.user, selectors.direct_members(room=room))
    return render(request, "chat/room.html", {**template_context(request), "room": room, "room_name": name})
