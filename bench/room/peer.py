"""The peer: the Channels tutorial's chat consumer, unchanged in substance.

One ``group_add`` per socket; ``receive`` does one ``group_send``; every consumer then
gets the event from the channel layer, dispatches it to ``chat_message`` and encodes it
again with ``json.dumps``. This is the stock pattern the issue compares the hub with.
Served by daphne with the project's Redis channel layer (bench/room/peer_asgi.py).
"""

import json
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer


class ChatConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        self.room_name = self.scope["url_route"]["kwargs"]["room_name"]
        self.room_group_name = f"chat_{self.room_name}"
        await self.channel_layer.group_add(self.room_group_name, self.channel_name)
        await self.accept()

    async def disconnect(self, close_code: int) -> None:
        await self.channel_layer.group_discard(self.room_group_name, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        text_data_json = json.loads(text_data or "{}")
        message = text_data_json["message"]
        await self.channel_layer.group_send(
            self.room_group_name, {"type": "chat.message", "message": message}
        )

    async def chat_message(self, event: dict[str, Any]) -> None:
        message = event["message"]
        await self.send(text_data=json.dumps({"message": message}))
