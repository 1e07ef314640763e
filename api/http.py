"""What every endpoint shares: POST only, the bearer token and its scope, the rate, the body's size and JSON,
the Idempotency-Key; and HubErrors answered as JSON (docs/http-api.md "Errors")."""

import json
import logging
import math
from functools import wraps

from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from api import app_settings, idempotency
from api.services import token_authenticate
from hub.errors import BadRequest, Forbidden, HubError, Internal, RateLimited, TooLarge
from hub.protocol import not_json, unstorable_text
from hub.rates import hit_sync

logger = logging.getLogger(__name__)

# The socket's error codes (docs/protocol.md) and the HTTP status each is answered with; `unauthorized`
# is the one code only HTTP has (a socket without a session is refused at the handshake).
STATUS_BY_CODE = {"bad_request": 422, "unknown_topic": 422, "unknown_event": 422, "not_found": 404,
                  "unauthorized": 401, "forbidden": 403, "too_large": 413, "rate_limited": 429, "internal": 500}
RATE_BUCKET = "api"


class Unauthorized(HubError):
    code = "unauthorized"
    default_message = "Send `Authorization: Bearer <token>`."


class NotJson(BadRequest):
    """A body that is not a JSON object: 400, where a JSON object with bad values is 422."""

    http_status = 400


def error_response(error, *, status=None, token_given=False):
    """The JSON answer to a HubError: {"error": {"code", "message", ...}}, as the socket's error object."""
    status = status or getattr(error, "http_status", None) or STATUS_BY_CODE.get(error.code, 400)
    response = JsonResponse({"error": error.as_dict()}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="hub"' + (', error="invalid_token"' if token_given else "")
    if status == 429:
        response["Retry-After"] = str(max(1, math.ceil(error.extra["retry_after"])))
    return response


def _token(request):
    """The request's active token, or Unauthorized. A signed-in session is refused, not used."""
    header = request.headers.get("Authorization", "")
    if not header:
        if request.user.is_authenticated:
            raise Unauthorized("This API takes `Authorization: Bearer <token>`; a signed-in session is not "
                               "accepted (staff create tokens in the admin or with manage.py hub_token).")
        raise Unauthorized()
    scheme, _, secret = header.partition(" ")
    token = token_authenticate(secret.strip()) if scheme.lower() == "bearer" else None
    if token is None:
        raise Unauthorized("Invalid or revoked token.")
    return token


def _body(request):
    """The body as a JSON object: TooLarge past MAX_BODY_BYTES, NotJson for anything but an object."""
    limit = app_settings.MAX_BODY_BYTES
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if not declared.isdigit() or int(declared) > limit:
        raise TooLarge(f"The body is larger than {limit} bytes.")
    raw = request.body
    if len(raw) > limit:
        raise TooLarge(f"The body is larger than {limit} bytes.")
    try:
        body = json.loads(raw.decode("utf-8"), parse_constant=not_json)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise NotJson("The body is not valid JSON (UTF-8, no NaN or Infinity).") from None
    if not isinstance(body, dict):
        raise NotJson("The body must be a JSON object.")
    problem = unstorable_text(body)
    if problem:
        raise NotJson(f"The body contains {problem}.")
    return body


def endpoint(*, scope, status):
    """Make `view(body, token=token) -> dict` a POST endpoint needing `scope`, answering `status` with the dict."""
    def decorate(view):
        @csrf_exempt  # no cookie is ever used: a forged cross-site request has no token to send
        @never_cache
        @wraps(view)
        def handle(request):
            if request.method != "POST":
                response = error_response(BadRequest(f"{request.method} is not allowed here; use POST."), status=405)
                response["Allow"] = "POST"
                return response
            token = None
            try:
                token = _token(request)
                if not token.has_scope(scope):
                    raise Forbidden(f"This token does not have the `{scope}` scope.")
                # "token<id>": hub.rates.forget_user(<user id>) clears `rate:*:<user id>`, never this.
                wait = hit_sync(RATE_BUCKET, f"token{token.pk}", app_settings.RATE)
                if wait:
                    raise RateLimited(wait, f"More than {app_settings.RATE} requests with this token; slow down.")
                body = _body(request)
                return _answer(request, view, token, body, status)
            except HubError as error:
                return error_response(error, token_given=bool(request.headers.get("Authorization")))
            except Exception:
                logger.exception("api: %s failed (token %s)", request.path, token.name if token else None)
                return error_response(Internal("The server failed; nothing may have been done. Retry with the same "
                                               "Idempotency-Key to be safe."))
        return handle
    return decorate


def _answer(request, view, token, body, status):
    """Run the view once per Idempotency-Key (when sent); a success is remembered, a failure frees the key."""
    header = request.headers.get("Idempotency-Key")
    if header is None:
        return JsonResponse(view(body, token=token), status=status)
    ids = dict(token_id=token.pk, idempotency_key=idempotency.check_key(header))
    request_print = idempotency.fingerprint(request.method, request.path, body)
    first = idempotency.begin(**ids, request_fingerprint=request_print)
    if first is not None:
        response = JsonResponse(first[1], status=first[0])
        response["Idempotent-Replayed"] = "true"
        return response
    try:
        data = view(body, token=token)
    except BaseException:
        idempotency.release(**ids)
        raise
    idempotency.finish(**ids, request_fingerprint=request_print, status=status, body=data)
    return JsonResponse(data, status=status)
