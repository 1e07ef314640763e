"""The documents' pages: create, list what one may open, share and unshare, delete; others' private ones are 404s."""

import pytest

from collab import services
from collab.models import Document
from notifications.models import Notification

pytestmark = pytest.mark.django_db


def test_create_then_list_only_what_each_person_may_open(client, make_user):
    olga, vic = make_user("olga"), make_user("vic")
    client.force_login(olga)
    response = client.post("/docs/", {"title": "  Plans  ", "public": ""})
    doc = Document.objects.get()
    assert response.status_code == 302 and response.url == f"/docs/{doc.pk}/"
    assert (doc.title, doc.owner, doc.public) == ("Plans", olga, False)
    assert client.post("/docs/", {"title": ""}).status_code == 200  # the form again, with its error
    assert Document.objects.count() == 1
    assert b"Plans" in client.get("/docs/").content
    client.force_login(vic)
    assert b"Plans" not in client.get("/docs/").content
    assert client.get(f"/docs/{doc.pk}/").status_code == 404
    assert client.post(f"/docs/{doc.pk}/share/", {"action": "set_public", "public": "on"}).status_code == 404


def test_the_owner_shares_and_others_may_not(client, make_user):
    olga, ed, vic = make_user("olga"), make_user("ed"), make_user("vic")
    doc = services.document_create(owner=olga, title="Plans", public=True)
    client.force_login(olga)
    client.post(f"/docs/{doc.pk}/share/", {"action": "add_editor", "username": "ed"})
    client.post(f"/docs/{doc.pk}/share/", {"action": "add_editor", "username": "ed"})  # again: no second notice
    assert list(doc.editors.all()) == [ed]
    [note] = Notification.objects.filter(recipient=ed)
    assert (note.kind, note.verb, note.url) == ("collab.shared", "shared “Plans” with you", f"/docs/{doc.pk}/")
    response = client.post(f"/docs/{doc.pk}/share/", {"action": "add_editor", "username": "nobody"}, follow=True)
    assert "No user &#x27;nobody&#x27;." in response.content.decode()
    client.post(f"/docs/{doc.pk}/share/", {"action": "remove_editor", "username": "ed"})
    assert not doc.editors.exists()
    client.force_login(vic)  # may view (public), may not share or delete
    response = client.post(f"/docs/{doc.pk}/share/", {"action": "add_editor", "username": "vic"}, follow=True)
    assert "Only the owner may do that." in response.content.decode()
    client.post(f"/docs/{doc.pk}/delete/")
    assert Document.objects.filter(pk=doc.pk).exists()
    assert client.get(f"/docs/{doc.pk}/").status_code == 200 and b"Sharing" not in client.get(f"/docs/{doc.pk}/").content
    client.force_login(olga)
    assert client.post(f"/docs/{doc.pk}/delete/").url == "/docs/"
    assert not Document.objects.filter(pk=doc.pk).exists()


def test_pages_need_a_login(client):
    assert client.get("/docs/").status_code == 302


def test_the_admin_shows_a_document_and_compacts_it(admin_client, make_user):
    doc = services.document_create(owner=make_user("olga"), title="Plans")
    import pycrdt

    writer = pycrdt.Doc()
    text = writer.get("content", type=pycrdt.Text)
    updates = []
    writer.observe(lambda event: updates.append(event.update))
    for word in ("one ", "two "):
        text += word
    for update in updates:
        services.apply_update(document_id=doc.pk, user=doc.owner, update=update)
    page = admin_client.get(f"/admin/collab/document/{doc.pk}/change/")
    assert page.status_code == 200 and "one two" in page.content.decode()
    admin_client.post("/admin/collab/document/", {"action": "compact", "_selected_action": [doc.pk]})
    doc.refresh_from_db()
    assert doc.pending == 0 and services.text_of(doc) == "one two "
