"""Collaborative documents (issue 14 §1) over real sockets, Redis and the database, with pycrdt playing the
browser's Yjs: the join's sync both ways, updates relayed and stored, compaction, viewers refused, rights
changed under open sockets, cursors that end with their socket, and every limit with its clear error."""

import base64

import pycrdt
import pytest
from channels.db import database_sync_to_async

from collab import services
from collab.app_settings import AppSettings
from collab.models import Document, DocumentUpdate

pytestmark = pytest.mark.django_db(transaction=True)
b64 = services.encode_base64


class Client:
    """A Yjs document of one client: its edits come out as the updates a browser would send."""

    def __init__(self):
        self.doc = pycrdt.Doc()
        self.text = self.doc.get("content", type=pycrdt.Text)
        self.updates = []
        self.doc.observe(lambda event: self.updates.append(event.update))

    def edit(self, index, insert="", delete=0):
        with self.doc.transaction():
            if delete:
                del self.text[index:index + delete]
            if insert:
                self.text.insert(index, insert)
        return self.updates.pop()

    def apply(self, update_b64):
        self.doc.apply_update(base64.b64decode(update_b64))

    @property
    def vector(self):
        return b64(self.doc.get_state())

    def __str__(self):
        return str(self.text)


@pytest.fixture
def document(make_user):
    def _make(title="Plan", *, owner="olga", editors=(), public=False):
        from django.contrib.auth import get_user_model

        users = get_user_model().objects
        owner_user = users.filter(username=owner).first() or make_user(owner)
        doc = services.document_create(owner=owner_user, title=title, public=public)
        doc.editors.add(*[users.filter(username=name).first() or make_user(name) for name in editors])
        return doc

    return database_sync_to_async(_make)


async def joined(hub_connect, username, doc, client=None):
    from django.contrib.auth import get_user_model

    user = await database_sync_to_async(get_user_model().objects.get)(username=username)
    comm = await hub_connect(user)
    client = client or Client()
    data = await comm.ok(doc.topic, "join", {"state_vector": client.vector})
    client.apply(data["update"])
    return comm, client, data


async def test_two_editors_merge_concurrent_edits_and_a_late_joiner_gets_the_whole_text(hub_connect, document, make_user):
    doc = await document(editors=["ed"])
    await database_sync_to_async(make_user)("vic")
    olga, o, data = await joined(hub_connect, "olga", doc)
    assert data["role"] == "editor" and data["document"] == {"id": doc.pk, "title": "Plan", "public": False,
                                                             "owner": "olga"}
    ed, e, _ = await joined(hub_connect, "ed", doc)
    # Both type into the same empty line before seeing the other's edit.
    first, second = o.edit(0, "hello "), e.edit(0, "world")
    await olga.ok(doc.topic, "update", {"update": b64(first)})
    await ed.ok(doc.topic, "update", {"update": b64(second)})
    e.apply((await ed.expect(doc.topic, "update", where=lambda p: p["from"] == data["me"]["id"]))["update"])
    o.apply((await olga.expect(doc.topic, "update", where=lambda p: p["from"] != data["me"]["id"]))["update"])
    assert str(o) == str(e) and sorted(str(o)) == sorted("hello world")
    assert {"hello ", "world"} <= {str(o)[:6], str(o)[5:], str(o)[:5], str(o)[6:]}  # each one's word intact
    stored = await database_sync_to_async(Document.objects.get)(pk=doc.pk)
    assert await database_sync_to_async(services.text_of)(stored) == str(o)
    # A third person joins later with nothing and gets everything in the join's reply.
    await database_sync_to_async(doc.editors.add)(await _user("vic"))
    _, v, _ = await joined(hub_connect, "vic", doc)
    assert str(v) == str(o)


async def test_offline_edits_on_both_sides_merge_at_the_next_join(hub_connect, document):
    doc = await document(editors=["ed"])
    olga, o, olga_data = await joined(hub_connect, "olga", doc)
    await olga.ok(doc.topic, "update", {"update": b64(o.edit(0, "line one\n"))})
    ed, e, _ = await joined(hub_connect, "ed", doc)
    await ed.disconnect()
    # Ed edits offline; meanwhile Olga goes on.
    e.edit(len(str(e)), "ed was offline\n")
    await olga.ok(doc.topic, "update", {"update": b64(o.edit(0, "title\n"))})
    # Back: the join answers what Ed lacks and the server's state vector, from which Ed sends what it lacks.
    ed, e, data = await joined(hub_connect, "ed", doc, client=e)
    missing = pycrdt.get_update(e.doc.get_update(), base64.b64decode(data["state_vector"]))
    await ed.ok(doc.topic, "update", {"update": b64(missing)})
    o.apply((await olga.expect(doc.topic, "update", where=lambda p: p["from"] != olga_data["me"]["id"]))["update"])
    assert str(o) == str(e) == "title\nline one\ned was offline\n"


async def test_updates_are_compacted_into_the_snapshot_every_n_and_nothing_is_lost(hub_connect, document, monkeypatch):
    monkeypatch.setattr(AppSettings, "COMPACT_EVERY", 10)
    doc = await document()
    olga, o, _ = await joined(hub_connect, "olga", doc)
    for n in range(25):
        await olga.ok(doc.topic, "update", {"update": b64(o.edit(len(str(o)), f"{n},"))})
    stored = await database_sync_to_async(Document.objects.get)(pk=doc.pk)
    assert stored.pending == 5 and await database_sync_to_async(DocumentUpdate.objects.filter(document=doc).count)() == 5
    assert stored.size == len(stored.snapshot) + sum(
        len(u) for u in await database_sync_to_async(list)(DocumentUpdate.objects.filter(document=doc).values_list("data", flat=True)))
    assert await database_sync_to_async(services.text_of)(stored) == str(o) == "".join(f"{n}," for n in range(25))
    _, fresh, _ = await joined(hub_connect, "olga", doc)
    assert str(fresh) == str(o)


async def test_an_update_that_waits_for_a_missing_one_survives_compaction(document, make_user):
    doc = await document()
    owner = doc.owner
    writer = Client()
    first, second = writer.edit(0, "abc"), writer.edit(3, "def")
    await database_sync_to_async(services.apply_update)(document_id=doc.pk, user=owner, update=second)
    await database_sync_to_async(services.compact)(document_id=doc.pk)
    await database_sync_to_async(services.apply_update)(document_id=doc.pk, user=owner, update=first)
    await database_sync_to_async(services.compact)(document_id=doc.pk)
    stored = await database_sync_to_async(Document.objects.get)(pk=doc.pk)
    assert await database_sync_to_async(services.text_of)(stored) == "abcdef"


async def test_viewers_read_and_follow_but_their_updates_are_refused(hub_connect, document, make_user):
    doc = await document(public=True)
    await database_sync_to_async(make_user)("vic")
    olga, o, _ = await joined(hub_connect, "olga", doc)
    vic, v, data = await joined(hub_connect, "vic", doc)
    assert data["role"] == "viewer"
    error = await vic.error(doc.topic, "update", {"update": b64(v.edit(0, "graffiti"))})
    assert error["code"] == "forbidden"
    await olga.ok(doc.topic, "update", {"update": b64(o.edit(0, "real text"))})
    v2 = Client()
    v2.apply((await vic.expect(doc.topic, "update"))["update"])
    assert str(v2) == "real text"
    assert await database_sync_to_async(DocumentUpdate.objects.filter(author__username="vic").count)() == 0


async def test_a_private_document_answers_others_as_one_that_does_not_exist(hub_connect, document, make_user):
    doc = await document()
    mallory = await database_sync_to_async(make_user)("mallory")
    comm = await hub_connect(mallory)
    for topic in (doc.topic, "doc:999999", "doc:abc", "doc:٣", "doc:" + "9" * 30):
        assert (await comm.error(topic, "join"))["code"] == "not_found", topic


async def test_rights_changed_under_open_sockets(hub_connect, document, make_user):
    doc = await document(editors=["ed"], public=False)
    await database_sync_to_async(make_user)("vic")
    ed, e, _ = await joined(hub_connect, "ed", doc)
    # Made public: a viewer joins; then Ed is no longer an editor but still a viewer (public): role pushed.
    await database_sync_to_async(services.document_share)(document=doc, by=doc.owner, public=True)
    vic, _, _ = await joined(hub_connect, "vic", doc)
    await database_sync_to_async(services.document_share)(document=doc, by=doc.owner, remove_editor="ed")
    assert await ed.expect(doc.topic, "access") == {"role": "viewer"}
    assert (await ed.error(doc.topic, "update", {"update": b64(e.edit(0, "x"))}))["code"] == "forbidden"
    # Made private again: Vic (no rights left) is taken out of the topic; Ed too.
    await database_sync_to_async(services.document_share)(document=doc, by=doc.owner, public=False)
    assert await vic.expect(doc.topic, "removed") == {"reason": "forbidden"}
    assert await ed.expect(doc.topic, "removed") == {"reason": "forbidden"}
    assert (await vic.error(doc.topic, "update", {"update": b64(Client().edit(0, "y"))}))["code"] == "not_joined"
    # Only the owner shares.
    with pytest.raises(Exception, match="Only the owner"):
        await database_sync_to_async(services.document_share)(document=doc, by=await _user("ed"), public=True)


async def _user(username):
    from django.contrib.auth import get_user_model

    return await database_sync_to_async(get_user_model().objects.get)(username=username)


async def test_a_deleted_document_takes_everyone_out(hub_connect, document):
    doc = await document(editors=["ed"])
    ed, _, _ = await joined(hub_connect, "ed", doc)
    topic = doc.topic  # the deleted instance has no pk
    await database_sync_to_async(services.document_delete)(document=doc, by=doc.owner)
    assert await ed.expect(topic, "removed") == {"reason": "deleted"}
    assert (await ed.error(topic, "join"))["code"] == "not_found"


async def test_cursors_reach_the_others_and_end_with_the_socket(hub_connect, document):
    doc = await document(editors=["ed"])
    olga, o, data = await joined(hub_connect, "olga", doc)
    position = b64(b"\x01\x02\x03")
    await olga.ok(doc.topic, "awareness", {"anchor": position, "head": position})
    ed, _, ed_data = await joined(hub_connect, "ed", doc)
    [cursor] = ed_data["awareness"]
    assert cursor["id"] == data["me"]["id"] and cursor["user"]["username"] == "olga" and cursor["head"] == position
    assert cursor["color"] == data["me"]["color"]
    await ed.ok(doc.topic, "awareness", {"anchor": None, "head": position})
    moved = await olga.expect(doc.topic, "awareness", where=lambda p: p["user"]["username"] == "ed")
    assert moved["anchor"] is None and moved["head"] == position
    await olga.disconnect()
    assert await ed.expect(doc.topic, "awareness", where=lambda p: p.get("gone")) == {"id": data["me"]["id"], "gone": True}
    _, _, again = await joined(hub_connect, "ed", doc)
    assert [c["user"]["username"] for c in again["awareness"]] == ["ed"]  # the first socket of ed's, not olga's


@pytest.mark.parametrize("payload, code", [
    ({}, "bad_request"),
    ({"update": 5}, "bad_request"),
    ({"update": "not base64!"}, "bad_request"),
    ({"update": b64(b"garbage that is not a Yjs update")}, "bad_request"),
    ({"update": b64(b"")}, "bad_request"),
    ({"update": "A" * 40000}, "too_large"),
])
async def test_bad_updates_get_a_clear_error_and_store_nothing(hub_connect, document, payload, code):
    doc = await document()
    olga, _, _ = await joined(hub_connect, "olga", doc)
    assert (await olga.error(doc.topic, "update", payload))["code"] == code
    assert await database_sync_to_async(DocumentUpdate.objects.count)() == 0


@pytest.mark.parametrize("payload", [{"state_vector": "%%%"}, {"state_vector": b64(b"\x01")}, {"state_vector": 7}])
async def test_a_bad_state_vector_is_a_bad_request(hub_connect, document, payload):
    doc = await document()
    comm = await hub_connect(doc.owner)
    assert (await comm.error(doc.topic, "join", payload))["code"] == "bad_request"


async def test_bad_cursors_and_too_many_cursor_moves(hub_connect, document):
    doc = await document()
    olga, _, _ = await joined(hub_connect, "olga", doc)
    for payload in ({"head": 5}, {"head": "%%"}, {"head": "A" * 300}):
        assert (await olga.error(doc.topic, "awareness", payload))["code"] == "bad_request"
    codes = [
        (await olga.request(doc.topic, "awareness", {"head": None})).get("error", {}).get("code")
        for _ in range(AppSettings.AWARENESS_PER_SECOND + 5)
    ]
    assert "rate_limited" in codes  # at most 10 a second: each goes to every socket of the document


async def test_a_full_document_takes_no_more_edits(hub_connect, document, settings):
    settings.HUB_DOC_MAX_BYTES = 2000
    settings.HUB_DOC_UPDATE_MAX_BYTES = 1500
    doc = await document()
    olga, o, _ = await joined(hub_connect, "olga", doc)
    await olga.ok(doc.topic, "update", {"update": b64(o.edit(0, "x" * 1200))})
    error = await olga.error(doc.topic, "update", {"update": b64(o.edit(0, "y" * 1000))})
    assert error["code"] == "too_large" and "full" in error["message"]
    error = await olga.error(doc.topic, "update", {"update": b64(o.edit(0, "z" * 1600))})
    assert error["code"] == "too_large" and "1500" in error["message"]


async def test_updates_past_the_rate_are_refused_with_retry_after(hub_connect, document, settings):
    settings.HUB_DOC_UPDATE_RATE = "3/10s"
    doc = await document()
    olga, o, _ = await joined(hub_connect, "olga", doc)
    for n in range(3):
        await olga.ok(doc.topic, "update", {"update": b64(o.edit(0, str(n)))})
    error = await olga.error(doc.topic, "update", {"update": b64(o.edit(0, "late"))})
    assert error["code"] == "rate_limited" and error["retry_after"] > 0
