"""Documents' feature logic: create, share, delete, rights, and the Yjs updates (store, merge, sync).

The one place for it: the `doc:<id>` topic, the pages and the admin all call these. The server
never interprets a document: it checks each update is a Yjs update (pycrdt, the Yrs engine that
Yjs's own format comes from), stores it, relays it, and answers a join with what the joiner lacks.
"""

import base64
import binascii

import pycrdt
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

import notifications
from collab import app_settings
from collab.models import Document, DocumentUpdate
from hub.errors import BadRequest, Forbidden, NotFound, TooLarge
from hub.push import push_to_topic

EMPTY_UPDATE = b"\x00\x00"  # a Yjs update of nothing: no structs, an empty delete set


# --- rights


def role_of(document, user):
    """"editor", "viewer", or None: what `user` may do with `document`."""
    if user.pk == document.owner_id or document.editors.filter(pk=user.pk).exists():
        return "editor"
    return "viewer" if document.public else None


def visible_to(user):
    """The documents `user` may open: their own, those shared with them, and public ones."""
    return Document.objects.filter(Q(owner=user) | Q(editors=user) | Q(public=True)).distinct()


def document_for(*, document_id, user):
    """(document, role) for a document `user` may open; NotFound for one they may not (as for one that does not exist)."""
    document = Document.objects.select_related("owner").filter(pk=document_id).first()
    role = document and role_of(document, user)
    if role is None:
        raise NotFound("No such document.")
    return document, role


# --- create, share, delete


def clean_title(title):
    title = (title or "").strip() if isinstance(title, str) else ""
    if not title:
        raise BadRequest("A document needs a title.")
    if len(title) > app_settings.TITLE_MAX_LENGTH:
        raise BadRequest(f"A title has at most {app_settings.TITLE_MAX_LENGTH} characters.")
    return title


def document_create(*, owner, title, public=False):
    return Document.objects.create(owner=owner, title=clean_title(title), public=bool(public))


def _owned(document, by):
    if document.owner_id != by.pk:
        raise Forbidden("Only the owner may do that.")


def document_share(*, document, by, add_editor=None, remove_editor=None, public=None):
    """Change who may edit or view; every open socket of the document re-checks its rights after the commit.

    add_editor / remove_editor: a username. Returns the document.
    """
    _owned(document, by)
    with transaction.atomic():
        if add_editor is not None:
            user = get_user_model().objects.filter(username=add_editor, is_active=True).first()
            if user is None:
                raise NotFound(f"No user {add_editor!r}.")
            if user.pk == document.owner_id:
                raise BadRequest("The owner edits already.")
            if not document.editors.filter(pk=user.pk).exists():
                document.editors.add(user)
                notifications.notify(user, f"shared “{document.title[:150]}” with you", actor=by, target=document,
                                     url=f"/docs/{document.pk}/", kind="collab.shared")
        if remove_editor is not None:
            document.editors.remove(*get_user_model().objects.filter(username=remove_editor))
        if public is not None:
            document.public = bool(public)
            document.save(update_fields=["public"])
        # Each joined socket re-reads its user's role (DocTopic.on_push): one push, whoever changed.
        push_to_topic(document.topic, "access", {})
    return document


def document_delete(*, document, by):
    _owned(document, by)
    with transaction.atomic():
        push_to_topic(document.topic, "removed", {"reason": "deleted"}, then_leave=True)
        document.delete()


# --- updates


def decode_base64(text, field, max_bytes):
    """The bytes of a base64 field, or BadRequest / TooLarge naming it."""
    if not isinstance(text, str):
        raise BadRequest(f"`{field}` must be a base64 string.")
    if len(text) > (max_bytes + 2) // 3 * 4:
        raise TooLarge(f"`{field}` is over {max_bytes} bytes.")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest(f"`{field}` is not base64.") from None


def encode_base64(data):
    return base64.b64encode(data).decode("ascii")


def _check_update(update):
    if len(update) > app_settings.UPDATE_MAX_BYTES:
        raise TooLarge(f"An update has at most {app_settings.UPDATE_MAX_BYTES} bytes; this one has {len(update)}.")
    try:
        pycrdt.get_state(update)  # parses every struct: a Yjs update, or it raises
    except ValueError:
        raise BadRequest("`update` is not a Yjs update.") from None


def apply_update(*, document_id, user, update, origin=""):
    """Store one Yjs update of an editor and relay it to the document's sockets after the commit.

    Rights are read again in the same transaction, under the document's row lock (a share
    that just removed the user wins). `origin` names the sending socket (its awareness id),
    so its own client can tell its echo. Raises NotFound, Forbidden, BadRequest, TooLarge.
    """
    _check_update(update)
    with transaction.atomic():
        document = Document.objects.select_for_update().filter(pk=document_id).first()
        role = document and role_of(document, user)
        if role is None:
            raise NotFound("No such document.")
        if role != "editor":
            raise Forbidden("You may view this document, not edit it.")
        if document.size + len(update) > app_settings.DOCUMENT_MAX_BYTES:
            raise TooLarge(f"The document is full ({app_settings.DOCUMENT_MAX_BYTES} bytes): it takes no more edits.")
        DocumentUpdate.objects.create(document=document, data=update, author=user)
        document.size += len(update)
        document.pending += 1
        document.updated_at = timezone.now()
        if document.pending >= app_settings.COMPACT_EVERY:
            _compact(document)
        document.save(update_fields=["snapshot", "size", "pending", "updated_at"])
        # After the commit, through the outbox (hub.outbox): a push lost to a crash is sent by another process.
        push_to_topic(document.topic, "update", {"update": encode_base64(update), "from": origin})


def _stored_updates(document):
    return [bytes(data) for data in document.updates.order_by("id").values_list("data", flat=True)]


def merged_state(document):
    """The whole document as one Yjs update: its snapshot and every update since, merged."""
    parts = [bytes(document.snapshot)] if document.snapshot else []
    parts += _stored_updates(document)
    if not parts:
        return EMPTY_UPDATE
    return parts[0] if len(parts) == 1 else pycrdt.merge_updates(*parts)


def _compact(document):
    """Merge the stored updates into the snapshot (the caller holds the row lock and saves)."""
    last_id = document.updates.order_by("-id").values_list("id", flat=True).first()
    merged = merged_state(document)
    # Encoded again from a document, runs of typing become one struct each (a fraction of the
    # merged size), unless part of it waits for an update the server never got (a client's
    # bug or an attack): then that part is kept as it came, in the merged form.
    doc = pycrdt.Doc()
    doc.apply_update(merged)
    encoded = doc.get_update()
    vector = pycrdt.get_state(encoded)
    # Lossless only if the merged form holds nothing past what the document integrated.
    snapshot = encoded if pycrdt.get_update(merged, vector) == pycrdt.get_update(encoded, vector) else merged
    document.updates.filter(id__lte=last_id).delete()
    document.snapshot = snapshot
    document.size = len(snapshot)
    document.pending = 0


def compact(*, document_id):
    """Merge a document's stored updates into its snapshot now (the admin's action; updates do it every N)."""
    with transaction.atomic():
        document = Document.objects.select_for_update().get(pk=document_id)
        if document.pending:
            _compact(document)
            document.save(update_fields=["snapshot", "size", "pending"])


def sync(*, document, state_vector=b""):
    """(what a client with `state_vector` lacks, the server's state vector): Yjs's sync steps 1 and 2."""
    merged = merged_state(document)
    try:
        missing = pycrdt.get_update(merged, state_vector or b"\x00")
    except ValueError:
        raise BadRequest("`state_vector` is not a Yjs state vector.") from None
    return missing, pycrdt.get_state(merged)


def text_of(document):
    """The document's text as the editors see it (the admin and tests read it)."""
    doc = pycrdt.Doc()
    doc.apply_update(merged_state(document))
    return str(doc.get(app_settings.TEXT_NAME, type=pycrdt.Text))
