"""The API's fixtures: `make_token(name, scopes)` -> the secret; `api_post(path, body, token=..., **headers)`."""

import json

import pytest
from django.test import Client


@pytest.fixture
def make_token(django_db_blocker):
    """Factory: make_token("deploy", ["notify"]) -> the secret of a new token (services.token_create)."""
    from api.services import token_create

    def _make(name="emitter", scopes=("notify", "announce", "events")):
        with django_db_blocker.unblock():
            return token_create(name=name, scopes=list(scopes))[1]

    return _make


@pytest.fixture
def api_post():
    """post(path, body, token=None, raw=None, key=None, headers=None) -> the response; `body` is sent as JSON,
    `raw` as is; `key` is the Idempotency-Key."""
    client = Client()

    def _post(path, body=None, *, token=None, raw=None, key=None, headers=None):
        headers = dict(headers or {})
        if key is not None:
            headers["Idempotency-Key"] = key
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        return client.post(path, data=data, content_type="application/json", headers=headers)

    return _post
