"""Idempotency-Key: the same request again answers the first success and does nothing; another request is 422."""

import pytest

from api import idempotency
from api.models import ApiToken
from hub.redis import get_sync_redis
from notifications.models import Announcement, Notification

pytestmark = pytest.mark.django_db

NOTIFY = "/api/v1/notifications"


@pytest.fixture
def alice(make_user):
    return make_user("alice")


def test_the_same_key_and_body_answer_the_first_result_and_notify_once(api_post, make_token, alice):
    token = make_token()
    first = api_post(NOTIFY, {"recipients": ["alice"], "verb": "v", "level": "info"}, token=token,
                     key="job-1")
    assert first.status_code == 201 and "Idempotent-Replayed" not in first
    # The same JSON, its keys in another order and spaced otherwise, is the same request.
    again = api_post(NOTIFY, raw='{"level": "info",   "verb": "v", "recipients": ["alice"]}', token=token,
                     key="job-1")
    assert (again.status_code, again.json()) == (201, first.json())
    assert again["Idempotent-Replayed"] == "true"
    assert Notification.objects.count() == 1
    ttl = get_sync_redis().ttl(idempotency._redis_key(ApiToken.objects.get().pk, "job-1"))
    assert 24 * 3600 - 60 < ttl <= 24 * 3600


def test_the_same_key_with_another_body_or_endpoint_is_422(api_post, make_token, alice):
    token = make_token()
    api_post(NOTIFY, {"recipients": ["alice"], "verb": "v"}, token=token, key="k")
    other = api_post(NOTIFY, {"recipients": ["alice"], "verb": "w"}, token=token, key="k")
    assert other.status_code == 422 and other.json()["error"]["code"] == "bad_request"
    assert "different request" in other.json()["error"]["message"]
    elsewhere = api_post("/api/v1/announcements", {"recipients": ["alice"], "verb": "v"}, token=token,
                         key="k")
    assert elsewhere.status_code == 422
    assert Notification.objects.count() == 1 and not Announcement.objects.exists()


def test_keys_belong_to_their_token(api_post, make_token, alice):
    body = {"recipients": ["alice"], "verb": "v"}
    one, two = make_token("one"), make_token("two")
    ids = {api_post(NOTIFY, body, token=token, key="same").json()["ids"][0] for token in (one, two)}
    assert len(ids) == 2 and Notification.objects.count() == 2


def test_a_failure_frees_the_key(api_post, make_token, make_user):
    token = make_token()
    body = {"recipients": ["bob"], "verb": "v"}
    assert api_post(NOTIFY, body, token=token, key="retry").status_code == 422
    make_user("bob")
    assert api_post(NOTIFY, body, token=token, key="retry").status_code == 201
    assert api_post(NOTIFY, body, token=token, key="retry").status_code == 201
    assert Notification.objects.count() == 1


def test_while_the_first_is_answered_the_same_key_is_429(api_post, make_token, alice):
    token = make_token()
    body = {"recipients": ["alice"], "verb": "v"}
    request_print = idempotency.fingerprint("POST", NOTIFY, body)
    assert idempotency.begin(token_id=ApiToken.objects.get().pk, idempotency_key="slow",
                             request_fingerprint=request_print) is None
    busy = api_post(NOTIFY, body, token=token, key="slow")
    assert busy.status_code == 429 and busy["Retry-After"] == "1"
    assert not Notification.objects.exists()


@pytest.mark.parametrize("key", ["", " ", "x" * 256, "tab\there"])
def test_a_bad_key_is_422(api_post, make_token, alice, key):
    response = api_post(NOTIFY, {"recipients": ["alice"], "verb": "v"}, token=make_token(), key=key)
    assert response.status_code == 422 and "Idempotency-Key" in response.json()["error"]["message"]
    assert not Notification.objects.exists()
