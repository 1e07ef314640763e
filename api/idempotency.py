"""Idempotency-Key: the first answer to a key is remembered for a day, per token, in Redis.

`hub:api:idem:<token id>:<sha256 of the key>` holds JSON {"fingerprint", "status", "body"}:
the request's fingerprint (method, path and body) and, once answered, its status and body.
While the first request is being answered the entry has no status and a short expiry
(IDEMPOTENCY_PENDING_SECS), so a process that dies mid-request frees the key soon.
"""

import hashlib
import json

from api import app_settings
from hub.errors import BadRequest, RateLimited
from hub.redis import get_sync_redis, key


def fingerprint(method, path, body):
    """What "the same request" means: the same method, path and JSON body (key order and spacing aside)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


def _redis_key(token_id, idempotency_key):
    return key("api", "idem", token_id, hashlib.sha256(idempotency_key.encode()).hexdigest())


def check_key(value):
    """The header's value, or BadRequest."""
    if not value.strip() or len(value) > app_settings.IDEMPOTENCY_KEY_MAX_LENGTH or not value.isprintable():
        raise BadRequest(f"Idempotency-Key must be 1 to {app_settings.IDEMPOTENCY_KEY_MAX_LENGTH} printable "
                         "characters")
    return value


def begin(*, token_id, idempotency_key, request_fingerprint):
    """None when this request is the key's first (answer it, then finish() or release()); else the first
    answer as (status, body). BadRequest for the key with another request; RateLimited while the first is
    still being answered."""
    redis, name = get_sync_redis(), _redis_key(token_id, idempotency_key)
    pending = json.dumps({"fingerprint": request_fingerprint, "status": None})
    for _ in range(3):  # the entry may expire between the SET and the GET
        if redis.set(name, pending, nx=True, ex=app_settings.IDEMPOTENCY_PENDING_SECS):
            return None
        stored = redis.get(name)
        if stored is None:
            continue
        first = json.loads(stored)
        if first["fingerprint"] != request_fingerprint:
            raise BadRequest("This Idempotency-Key was used with a different request (method, path or body) "
                             "in the last 24 hours; use a new key for a new request.")
        if first["status"] is None:
            raise RateLimited(1, "A request with this Idempotency-Key is still being answered; retry in a second.")
        return first["status"], first["body"]
    raise RateLimited(1, "This Idempotency-Key is busy; retry in a second.")


def finish(*, token_id, idempotency_key, request_fingerprint, status, body):
    """Remember the answer for IDEMPOTENCY_TTL_SECS."""
    get_sync_redis().set(_redis_key(token_id, idempotency_key),
                         json.dumps({"fingerprint": request_fingerprint, "status": status, "body": body}),
                         ex=app_settings.IDEMPOTENCY_TTL_SECS)


def release(*, token_id, idempotency_key):
    """Forget the key (the request failed): the same key may be tried again."""
    get_sync_redis().delete(_redis_key(token_id, idempotency_key))
