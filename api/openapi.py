"""The OpenAPI 3.1 document served at /api/v1/openapi.json, written by hand beside the views it describes
(api/tests/test_openapi.py checks it against them)."""

from api import app_settings
from hub import app_settings as hub_settings

_ERROR = {"$ref": "#/components/schemas/Error"}
_USERNAMES = {"type": "array", "minItems": 1, "maxItems": app_settings.RECIPIENTS_MAX,
              "items": {"type": "string", "maxLength": 150}}
_TIME = {"type": ["string", "null"], "format": "date-time", "description": "ISO 8601 with a time zone (…Z)"}


def _error(description):
    return {"description": description, "content": {"application/json": {"schema": _ERROR}}}


def _errors(scope):
    return {
        "400": _error("The body is not a JSON object (`bad_request`)."),
        "401": _error("No token, an invalid or revoked one, or a session cookie instead (`unauthorized`); "
                      "with `WWW-Authenticate: Bearer`."),
        "403": _error(f"The token lacks the `{scope}` scope (`forbidden`)."),
        "405": _error("Not POST (`bad_request`), with `Allow: POST`."),
        "413": _error("The body is over HUB_API_MAX_BODY bytes (`too_large`)."),
        "422": _error("A field is missing or wrong, a username unknown (`unknown_usernames` lists them), or the "
                      "Idempotency-Key was used with another request (`bad_request`)."),
        "429": _error("Over HUB_API_RATE for this token, or the first request of this Idempotency-Key is still "
                      "being answered (`rate_limited`, `retry_after`); with `Retry-After`."),
    }


def _post(summary, scope, schema, status, answer, description, extra_errors=None):
    return {"post": {
        "summary": summary, "description": description, "security": [{"bearer": [scope]}],
        "parameters": [{"$ref": "#/components/parameters/IdempotencyKey"}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": schema}}},
        "responses": {status: {"description": "Done.", "content": {"application/json": {"schema": answer}}},
                      **_errors(scope), **(extra_errors or {})},
    }}


_NOTIFICATION = {
    "type": "object", "additionalProperties": False, "required": ["verb"],
    "oneOf": [{"required": ["recipients"]}, {"required": ["group"]}],
    "properties": {
        "recipients": _USERNAMES,
        "group": {"type": "string", "description": "a group's name: every member"},
        "verb": {"type": "string", "maxLength": 255},
        "level": {"enum": ["info", "success", "warning", "error"], "default": "info"},
        "url": {"type": "string", "maxLength": 500, "description": "a path on this site or an http(s) URL"},
        "data": {"type": "object"},
        "kind": {"type": "string", "description": "a registered kind; recipients who turned it off get nothing"},
        "group_key": {"type": "string", "maxLength": 100,
                      "description": "an unread notification of this key is updated instead of a new one"},
    },
}
_ANNOUNCEMENT = {
    "type": "object", "additionalProperties": False, "required": ["title", "body"],
    "properties": {
        "title": {"type": "string", "maxLength": 200},
        "body": {"type": "string", "maxLength": 5000},
        "level": {"enum": ["info", "warning", "critical"], "default": "info"},
        "expires_at": _TIME,
        "audience": {"oneOf": [{"enum": ["all", "staff", "online"]},
                               {"type": "object", "required": ["group"], "additionalProperties": False,
                                "properties": {"group": {"type": "string"}}}],
                     "default": "all"},
        "publish_at": _TIME,
        "key": {"type": "string", "maxLength": 100,
                "description": "an announcement already made with this key is answered instead of a new one"},
    },
}
_EVENT = {
    "type": "object", "additionalProperties": False, "required": ["users", "topic", "event"],
    "properties": {
        "users": _USERNAMES,
        "topic": {"type": "string", "maxLength": hub_settings.MAX_TOPIC_LENGTH,
                  "description": "a topic an app registered (not Hub's own: presence, notifications, "
                                 "announcements, room:*, hub:admin)"},
        "event": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,63}$", "not": {"enum": ["join", "leave", "reply"]}},
        "payload": {"type": "object", "default": {},
                    "description": f"at most {app_settings.EVENT_PAYLOAD_MAX_BYTES} bytes as JSON"},
    },
}

DOCUMENT = {
    "openapi": "3.1.0",
    "info": {"title": "Hub HTTP API", "version": "1",
             "description": "For emitters that are not Python: notifications, announcements and custom events "
                            "into Hub's sockets. See docs/http-api.md."},
    "paths": {
        "/api/v1/notifications": _post(
            "Notify users", "notify", _NOTIFICATION, "201",
            {"type": "object", "properties": {"ids": {"type": "array", "items": {"type": "integer"}}}},
            "Stores one notification per recipient (or updates their unread one of `group_key`) and pushes it "
            "live. `ids`: the notifications created or updated."),
        "/api/v1/announcements": _post(
            "Publish an announcement", "announce", _ANNOUNCEMENT, "201",
            {"type": "object", "properties": {"id": {"type": "integer"}, "published": {"type": "boolean"}}},
            "Publishes a banner to its audience now, or at `publish_at` (`published` false until then)."),
        "/api/v1/events": _post(
            "Push a custom event", "events", _EVENT, "202",
            {"type": "object", "properties": {"users": {"type": "integer"}}},
            "Pushes `event` on `topic` to every socket of these users that joined it; nothing is stored.",
            {"403": _error("The token lacks the `events` scope, or the topic is Hub's own (`forbidden`)."),
             "413": _error("The body is over HUB_API_MAX_BODY bytes, or the payload over its limit (`too_large`)."),
             "422": _error("A field is wrong, a username unknown, or no app registered the topic "
                           "(`bad_request`, `unknown_topic`).")}),
        "/api/v1/openapi.json": {"get": {"summary": "This document", "security": [],
                                         "responses": {"200": {"description": "OpenAPI 3.1 JSON."}}}},
    },
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                       "description": "A token from the admin or `manage.py hub_token create`; "
                                                      "scopes notify, announce, events."}},
        "parameters": {"IdempotencyKey": {
            "name": "Idempotency-Key", "in": "header", "required": False,
            "schema": {"type": "string", "maxLength": app_settings.IDEMPOTENCY_KEY_MAX_LENGTH},
            "description": "The same key with the same request within 24 hours answers the first success again "
                           "(`Idempotent-Replayed: true`), doing nothing; with another request, 422. Per token."}},
        "schemas": {"Error": {
            "type": "object", "required": ["error"],
            "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
                "code": {"enum": ["bad_request", "unauthorized", "forbidden", "too_large", "rate_limited",
                                  "unknown_topic", "internal"]},
                "message": {"type": "string"},
                "retry_after": {"type": "number"},
                "unknown_usernames": {"type": "array", "items": {"type": "string"}},
                "unknown_fields": {"type": "array", "items": {"type": "string"}}}}}}},
    },
    "security": [{"bearer": []}],
}
