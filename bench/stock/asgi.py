"""The stock design: one AsyncJsonWebsocketConsumer, group_send per message (the Channels tutorial)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.stock.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

from channels.generic.websocket import AsyncJsonWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

ROOM_GROUP = "chat_bench"


class ChatConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        await self.channel_layer.group_add(ROOM_GROUP, self.channel_name)
        await self.accept()
        await self.send_json({"topic": "hub", "event": "hello", "payload": {}})  # same first frame as Hub

    async def disconnect(self, code):
        await self.channel_layer.group_discard(ROOM_GROUP, self.channel_name)

    async def receive_json(self, content):
        await self.channel_layer.group_send(ROOM_GROUP, {"type": "chat.message", "message": content["message"]})

    async def chat_message(self, event):
        await self.send_json({"message": event["message"]})


application = ProtocolTypeRouter({"http": django_asgi_app, "websocket": URLRouter([path("ws/", ChatConsumer.as_asgi())])})
