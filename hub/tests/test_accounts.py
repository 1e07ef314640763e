"""Signing up through allauth's page with names built to deceive: normalised or refused (hub.accounts)."""

import pytest
from django.contrib.auth import get_user_model

from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def sign_up(client, username):
    return client.post("/accounts/signup/", {
        "username": username, "email": "new@example.com", "password1": PASSWORD, "password2": PASSWORD})


def usernames():
    return sorted(get_user_model().objects.values_list("username", flat=True))


@pytest.mark.parametrize("name", ["ad\u202enim", "ad\u2066min", "ad\u200fmin", "ad\u200bmin", "ad\u0007min"])
def test_a_username_with_a_bidi_override_or_invisible_character_is_refused_with_a_form_error(client, name):
    response = sign_up(client, name)
    assert response.status_code == 200
    errors = response.context["form"].errors["username"]
    assert any("Invisible or text-direction characters" in error for error in errors), errors
    assert usernames() == []


def test_a_look_alike_spelling_is_stored_normalised_and_is_taken_if_the_plain_one_is(client, make_user):
    assert sign_up(client, "ｍａｌｌｏｒｙ").status_code == 302
    assert usernames() == ["mallory"]
    make_user("file")
    client.logout()
    response = sign_up(client, "\ufb01le")  # the "fi" ligature
    assert response.status_code == 200 and response.context["form"].errors["username"]
    assert usernames() == ["file", "mallory"]


def test_a_decomposed_accent_is_composed_rather_than_refused(client):
    assert sign_up(client, "e\u0301lodie").status_code == 302
    assert usernames() == ["\u00e9lodie"]


def test_the_admin_add_user_form_normalises_and_refuses_the_same(client, make_user):
    """Django's own UsernameField already folds NFKC, and its validator refuses these characters."""
    client.force_login(make_user("boss", is_staff=True, is_superuser=True))
    form = {"password1": PASSWORD, "password2": PASSWORD, "usable_password": "true"}
    assert client.post("/admin/auth/user/add/", {"username": "ｂｏｂ", **form}).status_code == 302
    response = client.post("/admin/auth/user/add/", {"username": "b\u202eob", **form})
    assert response.status_code == 200 and response.context["adminform"].form.errors["username"]
    assert usernames() == ["bob", "boss"]
