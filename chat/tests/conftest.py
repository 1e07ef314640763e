"""Chat fixtures: rooms made through the services (transactional tests flush the `general` room)."""

import pytest
from channels.db import database_sync_to_async

from chat.models import Membership, Room


@pytest.fixture
def make_room(django_db_blocker):
    """Factory: make_room("lounge", kind="private", members=[user, ...]) -> Room."""

    def _make(slug, *, kind="public", members=(), name=None):
        with django_db_blocker.unblock():
            room = Room.objects.create(slug=slug, name=name or slug.title(), kind=kind)
            Membership.objects.bulk_create([Membership(room=room, user=user) for user in members])
            return room

    return _make


@pytest.fixture
def amake_room(make_room):
    return database_sync_to_async(make_room)
