"""Tokens: stored hashed, shown once (command and admin), listed, revoked, and their last use noted sparingly."""

import hashlib
import io
import re
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.core.management import CommandError, call_command
from django.utils import timezone

from api import services
from api.models import ApiToken
from notifications.models import Notification

pytestmark = pytest.mark.django_db

NOTIFY = "/api/v1/notifications"


def run(*args):
    out = io.StringIO()
    call_command("hub_token", *args, stdout=out)
    return out.getvalue()


def test_create_prints_the_token_alone_on_its_last_line_and_stores_only_its_hash(api_post, make_user):
    make_user("alice")
    output = run("create", "deploy", "--scope", "notify", "--scope", "events")
    secret = output.rstrip("\n").splitlines()[-1]
    assert re.fullmatch(r"hub_[A-Za-z0-9_-]{43}", secret)
    token = ApiToken.objects.get(name="deploy")
    assert token.scopes == ["notify", "events"] and token.prefix == secret[:12]
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert not ApiToken.objects.filter(token_hash__contains=secret[4:20]).exists()
    assert api_post(NOTIFY, {"recipients": ["alice"], "verb": "v"}, token=secret).status_code == 201
    assert api_post("/api/v1/announcements", {"title": "t", "body": "b"}, token=secret).status_code == 403


def test_scopes_may_be_repeated_or_listed_after_one_flag():
    run("create", "one", "--scope", "events", "--scope", "notify", "--scope", "notify")
    run("create", "two", "--scope", "announce", "events")
    assert dict(ApiToken.objects.values_list("name", "scopes")) == {"one": ["notify", "events"],
                                                                   "two": ["announce", "events"]}


def test_create_refuses_a_taken_name_and_unknown_scopes():
    run("create", "deploy", "--scope", "notify")
    with pytest.raises(CommandError, match="exists already"):
        run("create", "deploy", "--scope", "notify")
    with pytest.raises(CommandError, match="invalid choice"):
        run("create", "other", "--scope", "admin")
    with pytest.raises(CommandError, match="name"):
        run("create", " ", "--scope", "notify")
    assert ApiToken.objects.count() == 1


def test_list_and_revoke(api_post, make_user):
    make_user("alice")
    secret = run("create", "ci", "--scope", "notify").splitlines()[-1]
    run("create", "cron", "--scope", "announce")
    listed = run("list").splitlines()
    assert [line.split("\t")[0] for line in listed] == ["ci", "cron"]
    assert secret[:12] in listed[0] and secret not in "".join(listed) and "never" in listed[0]
    assert run("revoke", "ci") == "Revoked token 'ci'.\n"
    assert "already" in run("revoke", "ci")
    assert "revoked" in run("list").splitlines()[0]
    assert api_post(NOTIFY, {"recipients": ["alice"], "verb": "v"}, token=secret).status_code == 401
    with pytest.raises(CommandError, match="no token named 'nope'"):
        run("revoke", "nope")


def test_last_used_is_written_at_most_once_a_minute(api_post, make_token, make_user):
    make_user("alice")
    secret = make_token()
    assert ApiToken.objects.get().last_used_at is None
    body = {"recipients": ["alice"], "verb": "v"}
    api_post(NOTIFY, body, token=secret)
    first = ApiToken.objects.get().last_used_at
    assert first is not None and timezone.now() - first < timedelta(seconds=5)
    api_post(NOTIFY, body, token=secret)
    assert ApiToken.objects.get().last_used_at == first
    ApiToken.objects.update(last_used_at=first - timedelta(seconds=61))
    api_post(NOTIFY, body, token=secret)
    assert ApiToken.objects.get().last_used_at > first


def test_a_failed_request_still_counts_as_a_use_but_a_bad_token_touches_nothing(api_post, make_token):
    secret = make_token()
    api_post(NOTIFY, {"verb": "v"}, token=secret + "x")
    assert ApiToken.objects.get().last_used_at is None
    api_post(NOTIFY, {"verb": "v"}, token=secret)
    assert ApiToken.objects.get().last_used_at is not None


def test_staff_create_a_token_in_the_admin_and_see_it_once(client, make_user, api_post):
    make_user("alice")
    admin = make_user("root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    response = client.post("/admin/api/apitoken/add/", {"name": "zapier", "scopes": ["notify"]}, follow=True)
    assert response.status_code == 200
    shown = " ".join(str(m) for m in get_messages(response.wsgi_request))
    [secret] = re.findall(r"hub_[A-Za-z0-9_-]{43}", shown)
    assert "not shown again" in shown
    token = ApiToken.objects.get(name="zapier")
    assert token.created_by == admin and token.scopes == ["notify"]
    assert secret not in client.get(f"/admin/api/apitoken/{token.pk}/change/").content.decode()
    assert secret not in client.get("/admin/api/apitoken/").content.decode()
    assert api_post(NOTIFY, {"recipients": ["alice"], "verb": "v"}, token=secret).status_code == 201
    client.post("/admin/api/apitoken/", {"action": "revoke", "_selected_action": [token.pk]})
    assert ApiToken.objects.get().revoked_at is not None
    assert api_post(NOTIFY, {"recipients": ["alice"], "verb": "v"}, token=secret).status_code == 401
    assert Notification.objects.count() == 1


def test_the_admin_refuses_a_token_without_scopes(client, make_user):
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    response = client.post("/admin/api/apitoken/add/", {"name": "empty"})
    assert response.status_code == 200 and not ApiToken.objects.exists()


def test_authenticate_takes_only_well_formed_active_secrets(make_token):
    secret = make_token()
    assert services.token_authenticate(secret).name == "emitter"
    for other in ("", secret.upper(), secret[4:], "hub_" + "a" * 300, None):
        assert services.token_authenticate(other) is None
