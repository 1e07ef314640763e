"""API tokens: stored as the SHA-256 of the secret, which is shown once, at creation."""

from django.conf import settings
from django.db import models

from api import app_settings


class ApiToken(models.Model):
    """A bearer token for /api/v1/: a name people know it by, its scopes, and whether it still works.

    Only `token_hash` (SHA-256 of the secret, which has 256 random bits: no salt or slow hash
    needed, nothing to guess) and the first characters (`prefix`, to tell tokens apart in lists) are kept.
    """

    name = models.CharField(max_length=app_settings.TOKEN_NAME_MAX_LENGTH, unique=True)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=16, editable=False)
    scopes = models.JSONField(default=list, help_text="Some of: notify, announce, events.")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = "API token"

    def __str__(self):
        return self.name

    @property
    def active(self):
        return self.revoked_at is None

    def has_scope(self, scope):
        return scope in self.scopes
