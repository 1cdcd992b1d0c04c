"""Helpers for socket tests: signed-in sessions, communicators, channel-layer configs."""

import asyncio
import uuid
from typing import Any

from channels.testing import WebsocketCommunicator
from django.test import Client

from config.asgi import application
from tests.conftest import REDIS_TEST_URL

NOTIFICATIONS = "/ws/notifications/"
ORIGIN = b"http://127.0.0.1"
RECEIVE_TIMEOUT = 5
MEMORY_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


REDIS_BACKEND = "channels_redis.core.RedisChannelLayer"
# As config/settings/base.py configures it (redis-py 8 needs the blocking read untimed).
REDIS_HOST = {"address": REDIS_TEST_URL, "socket_timeout": None, "socket_connect_timeout": 5}


def redis_layers(prefix: str | None = None, config: dict[str, Any] | None = None) -> dict[str, Any]:
    """CHANNEL_LAYERS for the test Redis (or ``config``), under a prefix of its own."""
    config = config or {"hosts": [REDIS_HOST]}
    return {
        "default": {
            "BACKEND": REDIS_BACKEND,
            "CONFIG": {**config, "prefix": prefix or f"test-{uuid.uuid4().hex[:12]}"},
        }
    }


def sign_in(user: Any) -> Client:
    """A browser session for ``user``, stored in the database (sync: wrap it in async)."""
    client = Client()
    client.force_login(user)
    return client


def cookie_header(client: Client) -> tuple[bytes, bytes]:
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


async def recv(comm: WebsocketCommunicator) -> dict[str, Any]:
    """The next JSON event on the socket."""
    return await comm.receive_json_from(timeout=RECEIVE_TIMEOUT)


async def recv_close(comm: WebsocketCommunicator) -> int:
    """Wait for the server to close the socket; returns the close code."""
    message = await comm.receive_output(timeout=RECEIVE_TIMEOUT)
    assert message["type"] == "websocket.close", message
    return int(message.get("code", 1000))


async def ping(comm: WebsocketCommunicator, ref: str = "p1") -> dict[str, Any]:
    """Send a ping and return the next event (a pong, if the socket is healthy)."""
    await comm.send_json_to({"type": "ping", "id": ref})
    return await recv(comm)


class Sockets:
    """Opens communicators against an ASGI app and disconnects them all at teardown."""

    def __init__(self) -> None:
        self.opened: list[WebsocketCommunicator] = []

    def make(
        self,
        path: str = NOTIFICATIONS,
        *,
        session: Client | None = None,
        origin: bytes | None = ORIGIN,
        app: Any = application,
    ) -> WebsocketCommunicator:
        headers = [(b"host", b"127.0.0.1")]
        if origin is not None:
            headers.append((b"origin", origin))
        if session is not None:
            headers.append(cookie_header(session))
        comm = WebsocketCommunicator(app, path, headers=headers)
        self.opened.append(comm)
        return comm

    async def refused(self, path: str = NOTIFICATIONS, **kwargs: Any) -> int:
        """Try to connect; insist on refusal and return the close code."""
        connected, code = await self.make(path, **kwargs).connect(timeout=RECEIVE_TIMEOUT)
        assert not connected, "the socket was accepted"
        return int(code)

    async def open(self, path: str = NOTIFICATIONS, **kwargs: Any) -> WebsocketCommunicator:
        """Connect, insist on acceptance, and consume the ``hello`` event."""
        comm = self.make(path, **kwargs)
        connected, _ = await comm.connect(timeout=RECEIVE_TIMEOUT)
        assert connected, "the socket was refused"
        hello = await recv(comm)
        assert hello["type"] == "hello", hello
        return comm

    async def close_all(self) -> None:
        """Disconnect every socket; a consumer that crashed re-raises its error here."""
        await asyncio.gather(*(comm.disconnect(timeout=RECEIVE_TIMEOUT) for comm in self.opened))
