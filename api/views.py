"""The endpoints: read the body's fields, find the users, call the one service that does it, shape the answer.

Field checks the services make themselves (a verb's length, a level, a url, an announcement's
times) are left to them, so the HTTP API refuses exactly what the Python API does.
"""

import json

from django.contrib.auth.models import Group
from django.http import JsonResponse

import notifications
from api import app_settings, openapi
from api.http import endpoint, error_response
from hub import app_settings as hub_settings
from hub import topics
from hub.errors import BadRequest, Forbidden, TooLarge, UnknownTopic
from hub.payload import get_list, get_str, get_time
from hub.push import push_to_users
from hub.users import unknown_usernames, users_by_username

# Topics of Hub's own apps: what they push is state their server side computes (unread counts, chat
# messages, presence), so an event forged beside it would mislead every client. Apps that register
# their own topics (docs/python-api.md) are the ones the API pushes to.
RESERVED_TOPIC_APPS = frozenset({"hub", "presence", "notifications", "chat"})


def _only(body, fields):
    unknown = sorted(set(body) - set(fields))
    if unknown:
        raise BadRequest(f"Unknown field(s): {', '.join(unknown)}.", unknown_fields=unknown)


def _users(body, field):
    """The active users named by `field` (a list of usernames); BadRequest naming any that are not."""
    names = get_list(body, field, item_type=str, max_items=app_settings.RECIPIENTS_MAX,
                     max_item_length=hub_settings.USERNAME_MAX_LENGTH)
    if not names:
        raise BadRequest(f"`{field}` must name at least one user.")
    users = users_by_username(usernames=names)
    unknown = unknown_usernames(names, users)
    if unknown:
        raise BadRequest(f"Unknown or inactive username(s): {', '.join(unknown)}; nothing was done.",
                         unknown_usernames=unknown)
    return users


def _group(name, field):
    group = Group.objects.filter(name=name).first() if isinstance(name, str) else None
    if group is None:
        raise BadRequest(f"`{field}` must name an existing group; there is no group {name!r}.")
    return group


@endpoint(scope="notify", status=201)
def notifications_create(body, *, token):
    """POST /api/v1/notifications: notify() the users named, or a group's members; the ids created or updated."""
    _only(body, ("recipients", "group", "verb", "level", "url", "data", "kind", "group_key"))
    if ("recipients" in body) == ("group" in body):
        raise BadRequest("Send either `recipients` (a list of usernames) or `group` (a group's name).")
    recipient = _users(body, "recipients") if "recipients" in body else _group(body["group"], "group")
    data = body.get("data")
    if data is not None and not isinstance(data, dict):
        raise BadRequest("`data` must be a JSON object.")
    changed = notifications.notify(
        recipient, get_str(body, "verb"), level=body.get("level", "info"), data=data,
        url=get_str(body, "url", required=False), kind=get_str(body, "kind", required=False),
        group_key=get_str(body, "group_key", required=False))
    return {"ids": [n.pk for n in changed]}


@endpoint(scope="announce", status=201)
def announcements_create(body, *, token):
    """POST /api/v1/announcements: announce() to an audience; its id, and whether it is out yet."""
    _only(body, ("title", "body", "level", "expires_at", "audience", "publish_at", "key"))
    audience = body.get("audience", "all")
    if isinstance(audience, dict):
        if set(audience) != {"group"}:
            raise BadRequest("`audience` is \"all\", \"staff\", \"online\" or {\"group\": name}.")
        audience = _group(audience["group"], "audience.group")
    elif audience not in ("all", "staff", "online"):
        raise BadRequest("`audience` is \"all\", \"staff\", \"online\" or {\"group\": name}.")
    announcement = notifications.announce(
        get_str(body, "title"), get_str(body, "body"), level=body.get("level", "info"),
        expires_at=get_time(body, "expires_at"), audience=audience, publish_at=get_time(body, "publish_at"),
        key=get_str(body, "key", required=False))
    return {"id": announcement.pk, "published": announcement.published}


@endpoint(scope="events", status=202)
def events_create(body, *, token):
    """POST /api/v1/events: push a custom event to the sockets of these users that joined `topic`."""
    _only(body, ("users", "topic", "event", "payload"))
    users = _users(body, "users")
    topic = get_str(body, "topic", max_length=hub_settings.MAX_TOPIC_LENGTH)
    handler_class, _ = topics.lookup(topic)
    if handler_class is None:
        raise UnknownTopic(f"No app registered topic {topic!r}: nobody could have joined it.")
    if handler_class.__module__.split(".")[0] in RESERVED_TOPIC_APPS:
        raise Forbidden(f"Topic {topic!r} is Hub's own; only its app pushes there.")
    event = get_str(body, "event", max_length=hub_settings.MAX_EVENT_LENGTH)
    if not topics.EVENT_NAME.match(event) or event in topics.RESERVED_EVENTS:
        raise BadRequest("`event` is lowercase letters, digits and _, starting with a letter, and not "
                         f"{', '.join(sorted(topics.RESERVED_EVENTS))}.")
    payload = body.get("payload", {})
    if not isinstance(payload, dict):
        raise BadRequest("`payload` must be a JSON object.")
    size = len(json.dumps(payload, ensure_ascii=False).encode())
    if size > app_settings.EVENT_PAYLOAD_MAX_BYTES:
        raise TooLarge(f"`payload` is {size} bytes of JSON; at most {app_settings.EVENT_PAYLOAD_MAX_BYTES}.")
    push_to_users([user.pk for user in users], topic, event, payload)
    return {"users": len(users)}


def openapi_document(request):
    """GET /api/v1/openapi.json: the OpenAPI 3.1 description of this API (public: it holds no secret)."""
    if request.method not in ("GET", "HEAD"):
        response = error_response(BadRequest(f"{request.method} is not allowed here; use GET."), status=405)
        response["Allow"] = "GET, HEAD"
        return response
    return JsonResponse(openapi.DOCUMENT)
