"""Asking the channel layer itself who is in a group (not inferring it from which pushes arrive)."""

from channels.layers import get_channel_layer
from channels_redis.pubsub import RedisPubSubChannelLayer


async def group_members(group):
    """The channel names the layer holds in `group` now: in this process for pub/sub, in Redis for core."""
    layer = get_channel_layer()
    if isinstance(layer, RedisPubSubChannelLayer):
        loop_layer = layer._get_layer()
        return set(loop_layer.groups.get(loop_layer._get_group_channel_name(group), ()))
    connection = layer.connection(layer.consistent_hash(group))
    return {member.decode() for member in await connection.zrange(layer._group_key(group), 0, -1)}
