"""Chat's templates take the limits of their inputs from app_settings, never from literals."""

import re

import pytest

from chat import app_settings
from hub import app_settings as hub_settings

pytestmark = pytest.mark.django_db


def maxlength(page, element_id):
    return int(re.search(rf'id="{element_id}"[^>]*maxlength="(\d+)"', page).group(1))


def test_the_lobby_and_the_composer_show_the_limits_of_app_settings(client, make_user, monkeypatch):
    monkeypatch.setattr(app_settings.AppSettings, "ROOM_NAME_MAX_LENGTH", 77)
    monkeypatch.setattr(app_settings.AppSettings, "BODY_MAX_LENGTH", 1234)
    client.force_login(make_user("ann"))
    home = client.get("/").content.decode()
    assert maxlength(home, "new-room-name") == 77
    assert maxlength(home, "new-dm-username") == hub_settings.USERNAME_MAX_LENGTH == 150
    room = client.get("/chat/general/").content.decode()
    assert maxlength(room, "composer-input") == 1234
