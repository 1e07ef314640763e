"""The transactional outbox (hub.outbox): pushes written with their rows, published after the commit, relayed
when their writer could not publish them."""

import pytest
import redis
from channels.db import database_sync_to_async
from django.db import transaction
from django.utils import timezone

from hub import outbox, push, redis as hub_redis, topics
from hub.models import OutboxEntry
from hub.push import push_to_topic, push_to_users
from notifications.services import notify

pytestmark = pytest.mark.django_db(transaction=True)


class EchoTopic(topics.Topic):
    """A topic whose join only subscribes: pushes to it are what these tests watch."""

    async def join(self, payload):
        await self.subscribe()


@pytest.fixture(autouse=True)
def echo_topic():
    topics.register("echo:*", EchoTopic)
    yield
    topics.unregister("echo:*")


@pytest.fixture
def redis_away(monkeypatch):
    """Make Redis unreachable for sync pushes (a real client to a port nothing listens on); call it to undo."""
    working = hub_redis.get_sync_redis()
    monkeypatch.setattr(hub_redis, "_sync_client", redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=1))

    def restore():
        monkeypatch.setattr(hub_redis, "_sync_client", working)
        monkeypatch.setattr(push, "_redis_away_until", 0.0)  # as if REDIS_AWAY_SECS had passed

    yield restore
    restore()


def entries():
    return list(OutboxEntry.objects.order_by("id").values_list("pushes", flat=True))


def test_a_push_in_a_transaction_is_written_with_it_marked_published_and_tidied_by_the_relay(make_user):
    alice = make_user("alice")
    with transaction.atomic():
        push_to_users([alice.pk], "echo:x", "custom", {"n": 1})
        # In the transaction, beside the rows it is about.
        [stored] = entries()
        assert stored["pairs"][0][1]["payload"] == {"n": 1}
    [entry_id] = OutboxEntry.objects.values_list("id", flat=True)
    done = hub_redis.get_sync_redis().smembers(hub_redis.key("outbox", "done"))
    assert done == {str(entry_id).encode()}  # marked in the round trip that published it
    assert outbox.relay_batch(older_than_secs=0) == 0  # deleted, not sent again
    assert entries() == []
    assert not hub_redis.get_sync_redis().exists(hub_redis.key("outbox", "done"))


def test_a_push_batch_is_one_row_and_one_round_trip_and_nothing_if_the_block_fails(make_user):
    alice = make_user("alice")
    pubsub = hub_redis.get_sync_redis().pubsub()
    pubsub.subscribe(push._pubsub_channel(push.user_group(alice.pk)))
    pubsub.get_message(timeout=1)  # the subscribe confirmation
    with transaction.atomic(), push.push_batch():
        push_to_users([alice.pk], "echo:x", "custom", {"n": 1})
        push_to_users([alice.pk], "echo:y", "custom", {"n": 2})
    [stored] = entries()
    assert [part["pairs"][0][1]["topic"] for part in stored["all"]] == ["echo:x", "echo:y"]
    with pytest.raises(ZeroDivisionError), transaction.atomic(), push.push_batch():
        push_to_users([alice.pk], "echo:z", "custom", {"n": 3})
        1 / 0
    assert len(entries()) == 1
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    got = []
    while (message := pubsub.get_message(timeout=0.5)) is not None:
        got.append(layer.deserialize(message["data"])["topic"])
    pubsub.close()
    assert got == ["echo:x", "echo:y"]


def test_a_rolled_back_transaction_leaves_no_outbox_row(make_user):
    alice = make_user("alice")
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        push_to_users([alice.pk], "echo:x", "custom", {"n": 1})
        1 / 0
    assert entries() == []


def test_a_push_outside_a_transaction_goes_to_the_outbox_only_when_its_publish_fails(make_user, redis_away, caplog):
    alice = make_user("alice")
    restore = redis_away
    push_to_topic("echo:x", "custom", {"n": 1})
    assert "the outbox relay sends it" in caplog.text
    [stored] = entries()
    restore()
    push_to_topic("echo:x", "custom", {"n": 2})
    assert entries() == [stored]
    assert alice  # the user only makes the test database real


async def test_a_push_whose_publish_failed_after_the_commit_is_relayed(amake_user, connect, redis_away, caplog):
    alice = await amake_user("alice")
    tab = await connect(alice)
    await tab.ok("echo:x", "join")
    restore = redis_away

    def write_and_push():
        with transaction.atomic():
            push_to_users([alice.pk], "echo:x", "custom", {"n": 1})

    await database_sync_to_async(write_and_push)()
    assert "the outbox relay sends it" in caplog.text
    assert await tab.nothing(0.2)
    restore()
    # Not yet: the relay leaves rows younger than HUB_OUTBOX_AFTER to their writer.
    assert await database_sync_to_async(outbox.relay_batch)() == 0
    assert await database_sync_to_async(outbox.relay_batch)(older_than_secs=0) == 1
    assert await tab.expect("echo:x", "custom", timeout=5) == {"n": 1}
    assert await database_sync_to_async(entries)() == []


async def test_relay_runs_in_one_process_at_a_time_and_bumps_the_resync_marker_heartbeats_carry(
        amake_user, connect, redis_away, monkeypatch):
    monkeypatch.setattr(outbox, "ensure_relay", lambda: None)  # this test plays the relays of two processes
    alice = await amake_user("alice")
    tab = await connect(alice)
    await tab.ok("echo:x", "join")
    assert await outbox.relay_once(token="a") == 0  # nothing to relay; the marker is read
    before = (await tab.ok("hub", "heartbeat"))["resync"]
    restore = redis_away
    await database_sync_to_async(push_to_users)([alice.pk], "echo:x", "custom", {"n": 1})
    restore()
    lock = hub_redis.key("outbox", "relay")
    await hub_redis.get_async_redis().set(lock, "a", px=60_000)
    assert await outbox.relay_once(token="b", older_than_secs=0) == 0  # "a" holds the relay lock
    assert await tab.nothing(0.2)
    await hub_redis.get_async_redis().delete(lock)
    assert await outbox.relay_once(token="b", older_than_secs=0) == 1
    assert await tab.expect("echo:x", "custom") == {"n": 1}
    assert (await tab.ok("hub", "heartbeat"))["resync"] == before + 1


def test_relay_publishes_in_write_order_and_stops_at_the_first_failure(make_user, redis_away):
    alice = make_user("alice")
    restore = redis_away
    for n in range(3):
        push_to_users([alice.pk], "echo:x", "custom", {"n": n})
    assert len(entries()) == 3
    assert outbox.relay_batch(older_than_secs=0) == 0  # Redis still away: nothing published, nothing lost
    assert len(entries()) == 3
    restore()
    pubsub = hub_redis.get_sync_redis().pubsub()
    pubsub.subscribe(push._pubsub_channel(push.user_group(alice.pk)))
    pubsub.get_message(timeout=1)  # the subscribe confirmation
    assert outbox.relay_batch(older_than_secs=0) == 3
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    got = [layer.deserialize(pubsub.get_message(timeout=1)["data"])["payload"]["n"] for _ in range(3)]
    pubsub.close()
    assert got == [0, 1, 2]
    assert entries() == []


def test_notify_stores_a_rebuild_recipe_not_its_pushes_and_the_relay_rebuilds_them(make_user, redis_away):
    users = [make_user(f"user{i}") for i in range(3)]
    restore = redis_away
    created = notify(users, "hello")
    [stored] = entries()
    assert stored == {"rebuild": ["notifications.services.new_pushes_rebuilt", [n.pk for n in created]]}
    restore()
    [pairs] = [outbox.pairs_of(stored)]
    assert [(m["topic"], m["event"], m["payload"]["notification"]["id"], m["payload"]["unread"]) for _, m in pairs] \
        == [("notifications", "new", n.pk, 1) for n in created]
    assert outbox.relay_batch(older_than_secs=0) == 1


def test_the_relay_calls_only_functions_marked_rebuildable(make_user):
    OutboxEntry.objects.create(created_at=timezone.now(), pushes={"rebuild": ["os.system", "echo relayed"]})
    with pytest.raises(ValueError, match="not marked @rebuildable"):
        outbox.pairs_of({"rebuild": ["os.system", "echo relayed"]})
    assert outbox.relay_batch(older_than_secs=0) == 0  # dropped (logged): not run, not sent, not blocking the rest
    assert entries() == []
