"""HTTP side of the hub: accounts through allauth, the home page, /healthz."""

import pytest

from conftest import PASSWORD
from hub import redis as hub_redis

pytestmark = pytest.mark.django_db


def test_home_requires_login(client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_signup_then_home_shows_the_connection_indicator(client):
    response = client.post("/accounts/signup/", {
        "username": "newbie", "email": "newbie@example.com", "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302
    page = client.get("/").content.decode()
    assert 'id="hub-status"' in page and "newbie" in page and "hub/app.js" in page


@pytest.mark.parametrize("login", ["alice", "alice@example.com"])
def test_login_by_username_or_email(client, make_user, login):
    make_user("alice")
    response = client.post("/accounts/login/", {"login": login, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_logout_is_post_only(client, make_user):
    client.force_login(make_user("alice"))
    client.get("/accounts/logout/")
    assert client.get("/").status_code == 200, "a GET must not log out"
    client.post("/accounts/logout/")
    assert client.get("/").status_code == 302


def test_allauth_pages_use_the_project_layout(client):
    page = client.get("/accounts/login/").content.decode()
    assert 'class="site-header"' in page and "hub/hub.css" in page


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"db": "ok", "redis": "ok"}


def test_healthz_names_redis_when_it_is_down(client, settings, tmp_path):
    settings.REDIS_URL = f"unix://{tmp_path}/nothing-here.sock"
    hub_redis.reset_clients()
    try:
        response = client.get("/healthz")
    finally:
        hub_redis.reset_clients()
    assert response.status_code == 503
    assert response.json() == {"db": "ok", "redis": "down"}
