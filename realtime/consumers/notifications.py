"""``/ws/notifications/``: one member's personal socket for live notifications."""

from typing import Any

from realtime.consumers.base import HubConsumer
from realtime.events import user_group
from realtime.protocol import CloseCode


class NotificationsConsumer(HubConsumer):
    require_member = True

    async def joined(self) -> None:
        self.group = user_group(self.scope["user"].pk)
        await self.channel_layer.group_add(self.group, self.channel_name)

    async def disconnect(self, code: int) -> None:
        group = getattr(self, "group", None)
        if group is not None:
            await self.channel_layer.group_discard(group, self.channel_name)

    # --- events from the channel layer -------------------------------------------------
    async def hub_event(self, message: dict[str, Any]) -> None:
        await self.send_json(message["event"])

    async def session_revoked(self, message: dict[str, Any]) -> None:
        session = self.scope.get("session")
        if session is not None and session.session_key == message.get("session_key"):
            await self.send_event("session.revoked", {"reason": "logged_out"})
            await self.close(code=CloseCode.REVOKED)

    async def user_revoked(self, message: dict[str, Any]) -> None:
        await self.send_event("session.revoked", {"reason": "access_revoked"})
        await self.close(code=CloseCode.REVOKED)
