"""The endpoints' answers: every status code, each field's checks, and what was stored."""

import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from api import app_settings
from api.models import ApiToken
from hub import rates
from hub.redis import get_sync_redis, key
from notifications.models import Announcement, Notification

pytestmark = pytest.mark.django_db

NOTIFY = "/api/v1/notifications"
ANNOUNCE = "/api/v1/announcements"
EVENTS = "/api/v1/events"


def error(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()["error"]
    assert body["code"] == code and body["message"]
    return body


# --- notifications


def test_notify_usernames_answers_201_with_the_ids_created(api_post, make_token, make_user):
    alice, bob = make_user("alice"), make_user("bob")
    response = api_post(NOTIFY, {"recipients": ["alice", "BOB"], "verb": "Export ready", "level": "success",
                                 "url": "/exports/1", "data": {"export": 1}}, token=make_token())
    assert response.status_code == 201
    ids = response.json()["ids"]
    rows = Notification.objects.filter(id__in=ids).order_by("recipient_id")
    assert [(n.recipient, n.verb, n.level, n.url, n.data) for n in rows] == [
        (alice, "Export ready", "success", "/exports/1", {"export": 1}),
        (bob, "Export ready", "success", "/exports/1", {"export": 1})]
    assert Notification.objects.count() == 2


def test_notify_a_group_and_group_key_answers_the_ids_updated(api_post, make_token, make_user):
    ops = Group.objects.create(name="ops")
    for name in ("mia", "max"):
        make_user(name).groups.add(ops)
    make_user("oz")
    token = make_token()
    first = api_post(NOTIFY, {"group": "ops", "verb": "build 1 failed", "group_key": "ci"}, token=token).json()["ids"]
    assert sorted(Notification.objects.values_list("recipient__username", flat=True)) == ["max", "mia"]
    again = api_post(NOTIFY, {"group": "ops", "verb": "build 2 failed", "group_key": "ci"}, token=token)
    assert again.status_code == 201 and sorted(again.json()["ids"]) == sorted(first)
    assert set(Notification.objects.values_list("verb", "count")) == {("build 2 failed", 2)}


def test_unknown_usernames_are_named_and_nothing_is_sent(api_post, make_token, make_user):
    make_user("alice")
    make_user("gone", is_active=False)
    body = error(api_post(NOTIFY, {"recipients": ["alice", "nobody", "gone"], "verb": "v"}, token=make_token()),
                 422, "bad_request")
    assert body["unknown_usernames"] == ["gone", "nobody"] and "nobody" in body["message"]
    assert not Notification.objects.exists()


@pytest.mark.parametrize("body, words", [
    ({"verb": "v"}, "either"),
    ({"recipients": ["alice"], "group": "ops", "verb": "v"}, "either"),
    ({"recipients": [], "verb": "v"}, "at least one"),
    ({"recipients": "alice", "verb": "v"}, "list"),
    ({"recipients": ["alice"] * (app_settings.RECIPIENTS_MAX + 1), "verb": "v"}, "more than 1000"),
    ({"recipients": ["alice"]}, "`verb`"),
    ({"recipients": ["alice"], "verb": "v", "level": "loud"}, "level"),
    ({"recipients": ["alice"], "verb": "v", "url": "javascript:alert(1)"}, "url"),
    ({"recipients": ["alice"], "verb": "v", "data": [1]}, "data"),
    ({"recipients": ["alice"], "verb": "v", "kind": "no.such"}, "kind"),
    ({"recipients": ["alice"], "verb": "v", "group_key": ""}, "group_key"),
    ({"recipients": ["alice"], "verb": "v", "actor": "bob"}, "actor"),
    ({"group": "nope", "verb": "v"}, "no group"),
])
def test_bad_fields_answer_422_naming_them(api_post, make_token, make_user, body, words):
    make_user("alice")
    assert words in error(api_post(NOTIFY, body, token=make_token()), 422, "bad_request")["message"]
    assert not Notification.objects.exists()


@pytest.mark.parametrize("raw", ["{", "[1, 2]", '"text"', '{"verb": NaN}', b"\xff\xfe", '{"verb": "a\\u0000b"}'])
def test_a_body_that_is_not_a_json_object_is_400(api_post, make_token, raw):
    error(api_post(NOTIFY, raw=raw, token=make_token()), 400, "bad_request")


def test_no_token_bad_token_other_scheme_and_revoked_token_are_401(api_post, make_token, make_user):
    from api.services import token_revoke

    make_user("alice")
    body = {"recipients": ["alice"], "verb": "v"}
    missing = api_post(NOTIFY, body)
    error(missing, 401, "unauthorized")
    assert missing["WWW-Authenticate"] == 'Bearer realm="hub"'
    bad = api_post(NOTIFY, body, token="hub_not-a-real-token")
    error(bad, 401, "unauthorized")
    assert bad["WWW-Authenticate"] == 'Bearer realm="hub", error="invalid_token"'
    token = make_token("t")
    error(api_post(NOTIFY, body, headers={"Authorization": f"Basic {token}"}), 401, "unauthorized")
    assert api_post(NOTIFY, body, token=token).status_code == 201
    token_revoke(name="t")
    error(api_post(NOTIFY, body, token=token), 401, "unauthorized")
    assert Notification.objects.count() == 1


def test_each_endpoint_needs_its_scope(api_post, make_token, make_user):
    make_user("alice")
    token = make_token("events-only", ["events"])
    assert "`notify`" in error(api_post(NOTIFY, {"recipients": ["alice"], "verb": "v"}, token=token),
                                403, "forbidden")["message"]
    assert "`announce`" in error(api_post(ANNOUNCE, {"title": "t", "body": "b"}, token=token),
                                  403, "forbidden")["message"]
    error(api_post(EVENTS, {"users": ["alice"], "topic": "x", "event": "y"}, token=make_token("n", ["notify"])),
          403, "forbidden")
    assert not Notification.objects.exists() and not Announcement.objects.exists()


def test_a_signed_in_session_is_refused_and_no_csrf_token_is_needed_with_a_bearer_token(make_token, make_user):
    alice = make_user("alice", is_staff=True, is_superuser=True)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    refused = browser.post(NOTIFY, {"recipients": ["alice"], "verb": "v"}, content_type="application/json")
    assert "session is not accepted" in error(refused, 401, "unauthorized")["message"]
    sent = Client(enforce_csrf_checks=True).post(NOTIFY, {"recipients": ["alice"], "verb": "v"},
                                                 content_type="application/json",
                                                 headers={"Authorization": f"Bearer {make_token()}"})
    assert sent.status_code == 201 and Notification.objects.count() == 1


@pytest.mark.parametrize("path", [NOTIFY, ANNOUNCE, EVENTS])
def test_other_methods_are_405_in_json(client, path):
    response = client.get(path)
    error(response, 405, "bad_request")
    assert response["Allow"] == "POST"
    assert client.post("/api/v1/openapi.json").status_code == 405


def test_a_body_over_the_limit_is_413(api_post, make_token, make_user, settings):
    settings.HUB_API_MAX_BODY = 1024
    make_user("alice")
    token = make_token()
    assert api_post(NOTIFY, {"recipients": ["alice"], "verb": "v" * 200}, token=token).status_code == 201
    too_big = api_post(NOTIFY, {"recipients": ["alice"], "verb": "v" * 1100}, token=token)
    assert "1024" in error(too_big, 413, "too_large")["message"]


def test_past_the_rate_a_token_gets_429_with_retry_after_and_other_tokens_go_on(api_post, make_token, make_user,
                                                                                 settings):
    settings.HUB_API_RATE = "2/1m"
    make_user("alice")
    body = {"recipients": ["alice"], "verb": "v"}
    busy, calm = make_token("busy"), make_token("calm")
    assert [api_post(NOTIFY, body, token=busy).status_code for _ in range(2)] == [201, 201]
    limited = api_post(NOTIFY, body, token=busy)
    assert 0 < error(limited, 429, "rate_limited")["retry_after"] <= 60
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert api_post(NOTIFY, body, token=calm).status_code == 201
    assert Notification.objects.count() == 3
    # A deleted user whose id is the token's forgets their own rate logs, not the token's.
    busy_id = ApiToken.objects.get(name="busy").pk
    rates.forget_user(busy_id)
    assert get_sync_redis().exists(key("rate", "api", f"token{busy_id}"))
    assert api_post(NOTIFY, body, token=busy).status_code == 429


# --- announcements


def test_announce_with_every_field(api_post, make_token):
    expires = (timezone.now() + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    response = api_post(ANNOUNCE, {"title": "Maintenance", "body": "Tonight at 22:00", "level": "warning",
                                   "expires_at": expires, "audience": "staff", "key": "deploy-42"},
                        token=make_token(scopes=["announce"]))
    assert response.status_code == 201 and response.json()["published"] is True
    announcement = Announcement.objects.get(pk=response.json()["id"])
    assert (announcement.title, announcement.level, announcement.audience, announcement.key) == (
        "Maintenance", "warning", "staff", "deploy-42")
    assert abs((announcement.expires_at - timezone.now()) - timedelta(days=1)) < timedelta(minutes=1)


def test_announce_to_a_group_later_and_a_key_answers_the_same_announcement(api_post, make_token):
    Group.objects.create(name="ops")
    token = make_token(scopes=["announce"])
    later = (timezone.now() + timedelta(hours=1)).isoformat()
    body = {"title": "t", "body": "b", "audience": {"group": "ops"}, "publish_at": later, "key": "k"}
    first = api_post(ANNOUNCE, body, token=token)
    assert first.status_code == 201 and first.json()["published"] is False
    announcement = Announcement.objects.get()
    assert announcement.audience == "group" and announcement.audience_group.name == "ops"
    assert api_post(ANNOUNCE, body, token=token).json() == first.json()
    assert Announcement.objects.count() == 1


@pytest.mark.parametrize("body, words", [
    ({"body": "b"}, "`title`"),
    ({"title": "t", "body": "b", "audience": "everyone"}, "audience"),
    ({"title": "t", "body": "b", "audience": {"group": "nope"}}, "no group"),
    ({"title": "t", "body": "b", "audience": {"name": "ops"}}, "audience"),
    ({"title": "t", "body": "b", "expires_at": "tomorrow"}, "ISO-8601"),
    ({"title": "t", "body": "b", "expires_at": "2020-01-01T00:00:00Z"}, "past"),
    ({"title": "t", "body": "b", "publish_at": "2030-01-01T00:00:00"}, "time zone"),
    ({"title": "t", "body": "b", "level": "success"}, "level"),
    ({"title": "t" * 201, "body": "b"}, "longer than 200"),
])
def test_bad_announcements_are_422(api_post, make_token, body, words):
    assert words in error(api_post(ANNOUNCE, body, token=make_token()), 422, "bad_request")["message"]
    assert not Announcement.objects.exists()


# --- events (delivery itself: test_delivery.py)


@pytest.mark.parametrize("body, status, code, words", [
    ({"users": ["alice"], "topic": "nowhere:1", "event": "e"}, 422, "unknown_topic", "registered"),
    ({"users": ["alice"], "topic": "notifications", "event": "new"}, 403, "forbidden", "Hub's own"),
    ({"users": ["alice"], "topic": "announcements", "event": "new"}, 403, "forbidden", "Hub's own"),
    ({"users": ["alice"], "topic": "room:general", "event": "message"}, 403, "forbidden", "Hub's own"),
    ({"users": ["alice"], "topic": "presence", "event": "diff"}, 403, "forbidden", "Hub's own"),
    ({"users": ["alice"], "topic": "stream:prices", "event": "_private"}, 422, "bad_request", "lowercase"),
    ({"users": ["alice"], "topic": "stream:prices", "event": "join"}, 422, "bad_request", "join"),
    ({"users": ["alice"], "topic": "stream:prices", "event": "Tick"}, 422, "bad_request", "lowercase"),
    ({"users": ["alice"], "topic": "stream:prices", "event": "e", "payload": [1]}, 422, "bad_request", "payload"),
    ({"users": ["alice"], "topic": "stream:prices", "event": "e",
      "payload": {"x": "y" * app_settings.EVENT_PAYLOAD_MAX_BYTES}}, 413, "too_large", "payload"),
    ({"users": ["alice", "carol"], "topic": "stream:prices", "event": "e"}, 422, "bad_request", "carol"),
    ({"topic": "stream:prices", "event": "e"}, 422, "bad_request", "`users`"),
])
def test_bad_events_are_refused(api_post, make_token, make_user, body, status, code, words):
    make_user("alice")
    assert words in error(api_post(EVENTS, body, token=make_token()), status, code)["message"]


def test_an_event_to_an_apps_topic_is_accepted(api_post, make_token, make_user):
    make_user("alice")
    response = api_post(EVENTS, {"users": ["alice"], "topic": "stream:prices", "event": "note",
                                 "payload": {"text": "hi"}}, token=make_token())
    assert response.status_code == 202 and response.json() == {"users": 1}


def test_the_openapi_document_is_public_and_names_every_endpoint(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = json.loads(response.content)
    assert document["openapi"].startswith("3.")
    assert set(document["paths"]) == {NOTIFY, ANNOUNCE, EVENTS, "/api/v1/openapi.json"}
