"""The hand-written OpenAPI document agrees with the views: the fields each takes, the scope each needs."""

import pytest

from api.openapi import DOCUMENT

pytestmark = pytest.mark.django_db

POSTS = {path: item["post"] for path, item in DOCUMENT["paths"].items() if "post" in item}


def test_every_api_url_is_described():
    from api.urls import urlpatterns

    assert {f"/api/v1/{p.pattern}" for p in urlpatterns} == set(DOCUMENT["paths"])


@pytest.mark.parametrize("path", sorted(POSTS))
def test_the_fields_described_are_the_fields_taken(api_post, make_token, path):
    schema = POSTS[path]["requestBody"]["content"]["application/json"]["schema"]
    token = make_token()
    described = {name: None for name in schema["properties"]}
    refused = api_post(path, {**described, "surprise": 1}, token=token).json()["error"]
    assert refused["unknown_fields"] == ["surprise"]
    answer = api_post(path, described, token=token).json()
    assert "unknown_fields" not in answer.get("error", {}), answer


@pytest.mark.parametrize("path", sorted(POSTS))
def test_the_scope_described_is_the_scope_needed(api_post, make_token, path):
    [scope] = POSTS[path]["security"][0]["bearer"]
    others = [s for s in ("notify", "announce", "events") if s != scope]
    assert api_post(path, {}, token=make_token("without", others)).status_code == 403
    assert api_post(path, {}, token=make_token("with", [scope])).status_code == 422
