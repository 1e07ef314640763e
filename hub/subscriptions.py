"""One socket's channel-layer groups, counted, so two holders of a group (a topic, the socket) share one membership."""

import collections


class Subscriptions:
    """`add(group)` / `remove(group)` by reference count; `clear()` leaves every group at once.

    Counting matters because a socket's topics may subscribe the same group (its user's
    group, a lobby); the channel-layer membership goes only when its last holder lets go.
    """

    __slots__ = ("layer", "channel_name", "refs")

    def __init__(self, layer, channel_name):
        self.layer = layer
        self.channel_name = channel_name
        self.refs = collections.Counter()

    def __contains__(self, group):
        return self.refs[group] > 0

    async def add(self, group):
        if self.refs[group] == 0:
            await self.layer.group_add(group, self.channel_name)
        self.refs[group] += 1

    async def remove(self, group):
        if self.refs[group] <= 0:
            return
        self.refs[group] -= 1
        if self.refs[group] == 0:
            del self.refs[group]
            await self.layer.group_discard(group, self.channel_name)

    async def clear(self):
        """Leave every group, and let the layer drop the socket's own channel (the socket is closing)."""
        groups, self.refs = list(self.refs), collections.Counter()
        for group in groups:
            await self.layer.group_discard(group, self.channel_name)
        forget = getattr(self.layer, "forget_channel", None)  # hub.layers' pub/sub layer
        if forget is not None:
            await forget(self.channel_name)
