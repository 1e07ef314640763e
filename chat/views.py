"""The room page; the lobby lives on the home page (chat/templates/chat/_lobby.html)."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from chat import selectors
from hub.errors import NotFound
from chat.serializers import room_name_for
from chat.ui import template_context


@login_required
def room_page(request, slug):
    try:
        room = selectors.room_visible_to(slug=slug, user=request.user)
    except NotFound:
        # A private room or conversation of others answers exactly as one that does not exist.
        raise Http404("No such room.")
    name = room_name_for(room, request.user, selectors.direct_members(room=room))
    return render(request, "chat/room.html", {**template_context(request), "room": room, "room_name": name})
