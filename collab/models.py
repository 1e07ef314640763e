"""Documents and the Yjs updates stored as they come, merged into the document's snapshot every few."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from collab import app_settings


class Document(models.Model):
    title = models.CharField(max_length=app_settings.TITLE_MAX_LENGTH)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="owned_documents")
    # Besides the owner, who may edit; everyone else on the site may view a public document.
    editors = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="shared_documents")
    public = models.BooleanField(default=False)
    # A Yjs update holding the document as of the last compaction (empty: nothing yet); the
    # DocumentUpdate rows since then complete it.
    snapshot = models.BinaryField(default=b"", editable=False)
    # Bytes of the snapshot and of the updates since: what HUB_DOC_MAX_BYTES bounds.
    size = models.PositiveIntegerField(default=0, editable=False)
    pending = models.PositiveIntegerField(default=0, editable=False)  # updates stored since the snapshot
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-updated_at", "-id"]

    def __str__(self):
        return self.title

    @property
    def topic(self):
        return f"doc:{self.pk}"


class DocumentUpdate(models.Model):
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="updates")
    data = models.BinaryField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
