"""The room page and the `general` room of the data migration."""

import re

import pytest

from chat.models import Room

pytestmark = pytest.mark.django_db


def test_general_exists_after_migrate():
    room = Room.objects.get(slug="general")
    assert room.kind == "public"


def test_room_page_needs_login_access_and_an_existing_room(client, make_user, make_room, caplog):
    alice, bob = make_user("alice"), make_user("bob")
    make_room("secret", kind="private", members=[alice])
    assert client.get("/chat/general/").status_code == 302
    client.force_login(bob)
    missing = client.get("/chat/nope/")
    refused = client.get("/chat/secret/")
    # A private room of others answers exactly as one that does not exist: no existence oracle.
    assert missing.status_code == refused.status_code == 404
    def page(response):  # the page as a reader sees it: the form tokens differ from request to request
        return re.sub(r'value="[^"]+"', "", response.content.decode().replace("secret", "nope"))

    assert page(refused) == page(missing)
    assert 'href="/"' in refused.content.decode()  # the project's page with its navigation
    assert not [r for r in caplog.records if r.exc_info], caplog.text
    page = client.get("/chat/general/").content.decode()
    assert 'data-slug="general"' in page and '<label for="composer-input">Message</label>' in page
    client.force_login(alice)
    assert client.get("/chat/secret/").status_code == 200


def test_home_shows_the_lobby(client, make_user):
    client.force_login(make_user("alice"))
    page = client.get("/").content.decode()
    assert 'id="room-list"' in page and "New room" in page and "New message" in page
