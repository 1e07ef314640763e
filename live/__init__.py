"""Live data streams over the hub socket: `live.publish(stream, key, value)`, topic `stream:<name>`."""

from live.api import allow, apublish, publish

__all__ = ["allow", "apublish", "publish"]
