"""Preferences (issue 15 §1): kinds (register_kind, notify(kind=)) honoured per recipient, do-not-disturb and
appear offline, the settings page, and every change reaching the person's open sockets live."""

import pytest
from channels.db import database_sync_to_async
from django.test import Client

import notifications
from chat.services import message_send, message_notify
from hub.errors import BadRequest
from notifications import kinds, preferences
from notifications.models import Notification, NotificationPreference

pytestmark = pytest.mark.django_db(transaction=True)


def names(entries):
    return sorted(entry["username"] for entry in entries)


def test_apps_register_kinds_and_a_bad_one_is_refused():
    registered = {kind.name: kind for kind in kinds.all_kinds()}
    assert registered["chat.mention"].default == "email" and registered["chat.direct"].label == "Direct messages"
    assert registered["notifications.announcement"].deliveries == ("in_app", "email", "off")
    assert notifications.register_kind("chat.mention", "Mentions of you in rooms", default="email")  # the same again
    for name in ("mention", "Chat.Mention", "chat.", "chat..x", "a." + "x" * 100, 7):
        with pytest.raises(ValueError):
            notifications.register_kind(name, "Label")
    with pytest.raises(ValueError, match="registered already"):
        notifications.register_kind("chat.mention", "Another label")
    with pytest.raises(ValueError):
        notifications.register_kind("tests.thing", "Thing", default="sometimes")


def test_notify_stores_the_kind_and_skips_whoever_turned_it_off(make_user):
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    preferences.preferences_set(user=bob, deliveries={"chat.direct": "off"})
    sent = notifications.notify([alice, bob, carol], "wrote to you", kind="chat.direct")
    assert sorted(n.recipient.username for n in sent) == ["alice", "carol"]
    assert {n.kind for n in Notification.objects.all()} == {"chat.direct"}
    # Other kinds still reach bob; notify() without a kind is "notifications.other".
    [other] = notifications.notify(bob, "something else")
    assert other.kind == kinds.DEFAULT_KIND
    assert notifications.notify(bob, "x", kind="chat.mention")
    with pytest.raises(BadRequest, match="unknown notification kind"):
        notifications.notify(bob, "x", kind="nobody.registered")
    assert Notification.objects.filter(recipient=bob).count() == 2


def test_a_muted_kind_also_silences_grouping(make_user):
    """A grouped notification of a kind turned off is neither created nor grown."""
    alice, bob = make_user("alice"), make_user("bob")
    [first] = notifications.notify(bob, "liked your post", actor=alice, group_key="likes:1", kind="chat.mention")
    preferences.preferences_set(user=bob, deliveries={"chat.mention": "off"})
    assert notifications.notify(bob, "liked your post", actor=alice, group_key="likes:1", kind="chat.mention") == []
    first.refresh_from_db()
    assert first.count == 1


@pytest.fixture
def kind_without_email(monkeypatch):
    """A kind an app offers in the app or off only (registered for this test alone)."""
    kind = kinds.Kind("tests.no_email", "No email for this", "in_app", ("in_app", "off"))
    monkeypatch.setitem(kinds._kinds, kind.name, kind)
    return kind


def test_a_delivery_a_kind_does_not_offer_is_refused_and_nothing_is_stored(make_user, kind_without_email):
    bob = make_user("bob")
    with pytest.raises(BadRequest, match="tests.no_email can be delivered in_app, off"):
        preferences.preferences_set(user=bob, deliveries={"chat.direct": "off", "tests.no_email": "email"})
    with pytest.raises(BadRequest, match="delivered in_app, email, off, not 'loud'"):
        preferences.preferences_set(user=bob, deliveries={"chat.direct": "loud"})
    with pytest.raises(BadRequest, match="unknown notification kind"):
        preferences.preferences_set(user=bob, deliveries={"no.such": "off"})
    assert not NotificationPreference.objects.exists()


async def test_preferences_reach_every_open_tab_live(amake_user, connect):
    bob = await amake_user("bob")
    tabs = [await connect(bob) for _ in range(2)]
    joined = [await tab.ok("notifications", "join") for tab in tabs]
    assert joined[0]["preferences"]["do_not_disturb"] is False
    assert {k["kind"]: k["delivery"] for k in joined[0]["preferences"]["kinds"]}["chat.direct"] == "email"
    await database_sync_to_async(preferences.preferences_set)(
        user=bob, deliveries={"chat.direct": "in_app"}, do_not_disturb=True)
    for tab in tabs:
        pushed = (await tab.expect("notifications", "preferences"))["preferences"]
        assert pushed["do_not_disturb"] is True
        assert {k["kind"]: k["delivery"] for k in pushed["kinds"]}["chat.direct"] == "in_app"
    # Do-not-disturb keeps notifications coming (stored, counted, pushed): only the client's toasts stop.
    await database_sync_to_async(notifications.notify)(bob, "still here")
    assert (await tabs[0].expect("notifications", "new"))["unread"] == 1


async def test_announcements_turned_off_show_only_critical_ones_and_follow_live(amake_user, connect):
    bob = await amake_user("bob")
    await database_sync_to_async(notifications.announce)("Lunch", "at noon")
    await database_sync_to_async(notifications.announce)("Outage", "now", level="critical")
    tab = await connect(bob)
    assert [a["title"] for a in (await tab.ok("announcements", "join"))["items"]] == ["Lunch", "Outage"]
    await database_sync_to_async(preferences.preferences_set)(
        user=bob, deliveries={"notifications.announcement": "off"})
    refresh = await tab.expect("announcements", "refresh")
    assert refresh["off"] is True and [a["title"] for a in refresh["items"]] == ["Outage"]
    await database_sync_to_async(notifications.announce)("Cake", "in the kitchen")
    await database_sync_to_async(notifications.announce)("Deploy", "in 5 minutes", level="critical")
    assert (await tab.expect("announcements", "new"))["announcement"]["title"] == "Deploy"
    assert not any(f.get("payload", {}).get("announcement", {}).get("title") == "Cake" for f in tab.buffer)
    again = await connect(bob)
    assert [a["title"] for a in (await again.ok("announcements", "join"))["items"]] == ["Outage", "Deploy"]
    # Saving something else does not refresh the banners; turning them on again does.
    await database_sync_to_async(preferences.preferences_set)(user=bob, do_not_disturb=True)
    assert await tab.nothing(0.3, topic="announcements", event="refresh")
    await database_sync_to_async(preferences.preferences_set)(
        user=bob, deliveries={"notifications.announcement": "in_app"})
    refresh = await tab.expect("announcements", "refresh")
    assert refresh["off"] is False and [a["title"] for a in refresh["items"]] == ["Lunch", "Outage", "Cake", "Deploy"]


async def test_a_mention_of_someone_who_turned_mentions_off_notifies_nobody(amake_user, make_room):
    alice, bob, carol = await amake_user("alice"), await amake_user("bob"), await amake_user("carol")
    room = await database_sync_to_async(make_room)("lounge", members=[alice, bob, carol])
    await database_sync_to_async(preferences.preferences_set)(user=bob, deliveries={"chat.mention": "off"})
    message, _ = await database_sync_to_async(message_send)(room=room, author=alice, body="@bob @carol look")
    sent = await message_notify(message)
    assert [n.recipient_id for n in sent] == [carol.pk]
    assert sent[0].kind == "chat.mention"


async def test_appear_offline_leaves_every_set_others_see_and_comes_back(amake_user, connect, make_room):
    alice, bob = await amake_user("alice"), await amake_user("bob")
    await database_sync_to_async(make_room)("lounge", members=[alice, bob])
    watcher = await connect(alice)
    await watcher.ok("presence", "join")
    await watcher.ok("room:lounge", "join")
    bob_tab = await connect(bob)
    await bob_tab.ok("room:lounge", "join")
    await watcher.expect("presence", "diff", where=lambda p: "bob" in names(p["joins"]))
    await watcher.expect("room:lounge", "presence", where=lambda p: "bob" in names(p["joins"]))
    await database_sync_to_async(preferences.preferences_set)(user=bob, appear_offline=True)
    await watcher.expect("presence", "diff", timeout=3, where=lambda p: "bob" in names(p["leaves"]))
    await watcher.expect("room:lounge", "presence", timeout=3, where=lambda p: "bob" in names(p["leaves"]))
    # Hidden: a new tab of bob's is in no set; others see him offline; he still sees them.
    second = await connect(bob)
    seen_by_bob = await second.ok("presence", "join")
    assert names(seen_by_bob["users"]) == ["alice"]
    await second.ok("hub", "heartbeat")  # heartbeats (refreshes) do not bring him back
    assert [u["status"] for u in (await watcher.ok("presence", "query", {"users": ["bob"]}))["users"]] == ["offline"]
    assert names((await (await connect(alice)).ok("presence", "join"))["users"]) == ["alice"]
    # Back: both tabs join again, and his room tab is in the room's set again.
    watcher.buffer.clear()
    await database_sync_to_async(preferences.preferences_set)(user=bob, appear_offline=False)
    await watcher.expect("presence", "diff", timeout=3, where=lambda p: "bob" in names(p["joins"]))
    await watcher.expect("room:lounge", "presence", timeout=3, where=lambda p: "bob" in names(p["joins"]))
    assert [u["status"] for u in (await watcher.ok("presence", "query", {"users": ["bob"]}))["users"]] == ["online"]


def test_the_settings_page_lists_every_kind_and_saves(make_user, kind_without_email):
    bob = make_user("bob")
    client = Client()
    assert client.get("/settings/notifications/").status_code == 302  # to the login
    client.force_login(bob)
    page = client.get("/settings/notifications/")
    assert page.status_code == 200
    html = page.content.decode()
    for kind in kinds.all_kinds():
        assert kind.label in html
    assert 'name="kind_tests.no_email" value="email"' not in html  # not offered
    assert 'name="kind_notifications.announcement" value="email"' in html
    assert "Emails go only to a verified address" in html  # bob's is not verified
    form = {f"kind_{k.name}": k.default for k in kinds.all_kinds()} | {"kind_chat.mention": "off",
                                                                         "do_not_disturb": "on"}
    saved = client.post("/settings/notifications/", form)
    assert saved.status_code == 302 and saved["Location"] == "/settings/notifications/"
    assert "Your notification settings are saved." in client.get("/settings/notifications/").content.decode()
    shown = preferences.preferences_of(user=bob)
    assert shown["do_not_disturb"] is True and shown["appear_offline"] is False
    assert {k["kind"]: k["delivery"] for k in shown["kinds"]}["chat.mention"] == "off"
    bad = client.post("/settings/notifications/", form | {"kind_tests.no_email": "email"})
    assert bad.status_code == 400 and "Select a valid choice" in bad.content.decode()
    assert client.post("/settings/notifications/", {k: v for k, v in form.items() if k != "kind_chat.direct"}
                       ).status_code == 400


async def test_someone_appearing_offline_who_has_the_room_open_is_still_looking(amake_user, connect, make_room):
    """Hidden from the others, but the server knows the room is open in their tab: no mention notification, no
    direct-message notification, as for anyone looking; once the tab leaves, they are notified again."""
    alice, bob = await amake_user("alice"), await amake_user("bob")
    room = await database_sync_to_async(make_room)("lounge", members=[alice, bob])
    await database_sync_to_async(preferences.preferences_set)(user=bob, appear_offline=True)
    watcher = await connect(alice)
    bob_tab = await connect(bob)
    await bob_tab.ok("room:lounge", "join")
    joined = await watcher.ok("room:lounge", "join")
    assert "bob" not in names(joined["present"])  # the others do not see him
    message, _ = await database_sync_to_async(message_send)(room=room, author=alice, body="@bob are you there?")
    assert await message_notify(message) == []
    await watcher.ok("chat", "join")
    dm = (await watcher.ok("chat", "open_dm", {"username": "bob"}))["room"]
    await bob_tab.ok(f"room:{dm['slug']}", "join")
    dm_room = await database_sync_to_async(type(room).objects.get)(slug=dm["slug"])
    message, _ = await database_sync_to_async(message_send)(room=dm_room, author=alice, body="psst")
    assert await message_notify(message) == []
    await bob_tab.ok("room:lounge", "leave")
    message, _ = await database_sync_to_async(message_send)(room=room, author=alice, body="@bob now?")
    assert [n.recipient_id for n in await message_notify(message)] == [bob.pk]
