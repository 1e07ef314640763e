"""Tokens: create, revoke, authenticate (noting the use). The admin, `manage.py hub_token` and the views call these."""

import hashlib
import secrets
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from api import app_settings
from api.models import ApiToken
from hub.errors import BadRequest, NotFound

# Recognisable in a leaked config file or a secret scanner's rules; the rest is 256 random bits.
TOKEN_PREFIX = "hub_"
SHOWN_PREFIX_LENGTH = 12


def token_hash(secret):
    return hashlib.sha256(secret.encode()).hexdigest()


def token_check(*, name, scopes):
    """BadRequest naming the first thing wrong with a new token's name or scopes; the scopes, deduplicated."""
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > app_settings.TOKEN_NAME_MAX_LENGTH:
        raise BadRequest(f"a token's name is a non-empty string of at most {app_settings.TOKEN_NAME_MAX_LENGTH} "
                         "characters")
    unknown = sorted(set(scopes) - set(app_settings.SCOPES))
    if unknown or not scopes:
        raise BadRequest(f"scopes must be some of {', '.join(app_settings.SCOPES)}"
                         + (f", not {', '.join(unknown)}" if unknown else ""))
    return [scope for scope in app_settings.SCOPES if scope in scopes]


def token_create(*, name, scopes, created_by=None):
    """A new token: (the row, the secret). The secret is not stored; show it once."""
    scopes = token_check(name=name, scopes=scopes)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            token = ApiToken.objects.create(name=name.strip(), scopes=scopes, created_by=created_by,
                                            token_hash=token_hash(secret), prefix=secret[:SHOWN_PREFIX_LENGTH])
    except IntegrityError:
        raise BadRequest(f"a token named {name.strip()!r} exists already") from None
    return token, secret


def token_revoke(*, name):
    """Revoke the token of this name (it answers 401 from now on); False if it was revoked already."""
    token = ApiToken.objects.filter(name=name).first()
    if token is None:
        raise NotFound(f"no token named {name!r}")
    return bool(ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now()))


def token_authenticate(secret):
    """The active token whose secret this is, or None; notes its use at most once a LAST_USED_EVERY_SECS.

    Looked up by the secret's hash: the comparison the database makes is of hashes, so its timing
    tells nothing about the secret (nothing to compare in constant time by hand).
    """
    if not isinstance(secret, str) or not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = ApiToken.objects.filter(token_hash=token_hash(secret), revoked_at__isnull=True).first()
    if token is None:
        return None
    now = timezone.now()
    every = timedelta(seconds=app_settings.LAST_USED_EVERY_SECS)
    if token.last_used_at is None or now - token.last_used_at >= every:
        token.last_used_at = now
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token
