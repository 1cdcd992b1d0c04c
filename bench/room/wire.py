"""A minimal websocket client for the load generator (RFC 6455, text frames, no
extensions), on a bare ``asyncio.BufferedProtocol``.

The benchmark's clients share the 2-core machine with the server they measure, so every
CPU second the client spends is taken from the server. The ``websockets`` client (its
parser generator, assembler and an awaited ``recv`` per frame, and asyncio's plain
transport allocating a 256 KiB buffer per read) cost about as much CPU as the server in
the live session. This one reads into one reused buffer, parses the frames as they come
and hands each text message to a callback, synchronously. It does what the scenarios
need and checks what a client must: the 101 answer and its ``Sec-WebSocket-Accept``,
unmasked server frames, fragmented messages, pings (answered), and the close handshake;
client frames are masked with a fresh key each.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import struct
import urllib.parse
from collections.abc import Callable

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_INCOMING = memoryview(bytearray(64 * 1024))


class HandshakeError(Exception):
    pass


def _mask(payload: bytes) -> bytes:
    key = os.urandom(4)
    n = len(payload)
    stream = (key * (n // 4 + 1))[:n]
    masked = (int.from_bytes(payload, "little") ^ int.from_bytes(stream, "little")).to_bytes(
        n, "little"
    )
    return key + masked


def client_frame(opcode: int, payload: bytes) -> bytes:
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    return head + _mask(payload)


class WireClient(asyncio.BufferedProtocol):
    """One websocket. ``on_text(text)`` gets every text message as it is parsed;
    ``on_closed(code)`` is called once when the connection ends (``code``: the close
    code the server sent, or None when it went away without one)."""

    def __init__(self, key: str, on_text: Callable[[str], None]) -> None:
        loop = asyncio.get_running_loop()
        self.key = key
        self.on_text = on_text
        self.on_closed: Callable[[int | None], None] | None = None
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.open = False
        self.opened: asyncio.Future[None] = loop.create_future()
        self.lost: asyncio.Future[None] = loop.create_future()
        self.close_code: int | None = None  # received from the server
        self.closing = False  # we sent a close frame
        self.fragments: list[bytes] = []

    # --- asyncio.Protocol -------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(exc or ConnectionError("closed during the handshake"))
        if not self.lost.done():
            self.lost.set_result(None)
        if self.on_closed is not None and self.open:
            callback, self.on_closed = self.on_closed, None
            callback(self.close_code)

    def get_buffer(self, sizehint: int) -> memoryview:
        # asyncio reads into this (``recv_into``): a plain Protocol's transport allocates
        # a 256 KiB bytes object per read (an mmap and munmap each: about 30 µs). One
        # buffer serves every socket: each read is consumed before the next one.
        return _INCOMING

    def buffer_updated(self, nbytes: int) -> None:
        self.data_received(_INCOMING[:nbytes])

    def data_received(self, data: bytes | memoryview) -> None:
        buf = self.buf
        buf += data
        if not self.open:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buf[:end]).decode("latin-1")
            del buf[: end + 4]
            try:
                self._check_handshake(head)
            except HandshakeError as exc:
                self.opened.set_exception(exc)
                assert self.transport is not None
                self.transport.close()
                return
            self.open = True
            self.opened.set_result(None)
        self._parse()

    # --- frames ---------------------------------------------------------------------------
    def _check_handshake(self, head: str) -> None:
        lines = head.split("\r\n")
        if not lines[0].startswith("HTTP/1.1 101"):
            raise HandshakeError(lines[0])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        digest = hashlib.sha1(self.key.encode() + GUID, usedforsecurity=False).digest()
        expected = base64.b64encode(digest).decode()
        if headers.get("sec-websocket-accept") != expected:
            raise HandshakeError("bad Sec-WebSocket-Accept")
        if headers.get("sec-websocket-extensions"):
            raise HandshakeError("an extension was negotiated; none was offered")

    def _parse(self) -> None:
        buf = self.buf
        n = len(buf)
        pos = 0
        while n - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            length = b1 & 0x7F
            at = pos + 2
            if length == 126:
                if n - pos < 4:
                    break
                length = int.from_bytes(buf[at : at + 2], "big")
                at += 2
            elif length == 127:
                if n - pos < 10:
                    break
                length = int.from_bytes(buf[at : at + 8], "big")
                at += 8
            if b1 & 0x80:  # a server must not mask its frames
                self._fail(1002)
                return
            if n - at < length:
                break
            payload = bytes(buf[at : at + length])
            pos = at + length
            opcode = b0 & 0x0F
            if opcode == 1 or opcode == 0:  # text, continuation
                if b0 & 0x80 and not self.fragments:
                    self.on_text(payload.decode())
                else:
                    self.fragments.append(payload)
                    if b0 & 0x80:
                        text = b"".join(self.fragments).decode()
                        self.fragments = []
                        self.on_text(text)
            elif opcode == 9:  # ping
                self._write(client_frame(10, payload))
            elif opcode == 8:  # close
                self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
                if not self.closing:
                    self.closing = True
                    self._write(client_frame(8, payload[:2]))
                assert self.transport is not None
                self.transport.close()
                pos = n
                break
            elif opcode == 2 or opcode == 10:  # binary (unused), pong
                pass
            else:
                self._fail(1002)
                return
        del buf[:pos]

    def _write(self, frame: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(frame)

    def _fail(self, code: int) -> None:
        self.close_code = None
        self._write(client_frame(8, struct.pack("!H", code)))
        assert self.transport is not None
        self.transport.close()

    # --- the API the load generator uses --------------------------------------------------
    def send(self, text: str) -> None:
        if self.closing or self.close_code is not None:
            raise ConnectionError("the websocket is closing")
        self._write(client_frame(1, text.encode()))

    async def close(self, code: int = 1000) -> None:
        """The close handshake: send a close frame, wait for the server's and the end of
        the connection (the server closes TCP)."""
        if self.transport is None:
            return
        if not self.closing and self.close_code is None:
            self.closing = True
            self._write(client_frame(8, struct.pack("!H", code)))
        try:
            await asyncio.wait_for(asyncio.shield(self.lost), 5)
        except TimeoutError:
            self.transport.abort()


async def connect(
    url: str, headers: list[tuple[str, str]], on_text: Callable[[str], None]
) -> WireClient:
    """Open a websocket to ``ws://host:port/path`` with ``headers`` added to the
    handshake; returns once the server accepted it."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "ws":
        raise ValueError(f"only ws:// URLs: {url}")
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    key = base64.b64encode(os.urandom(16)).decode()
    loop = asyncio.get_running_loop()
    _transport, client = await loop.create_connection(lambda: WireClient(key, on_text), host, port)
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: {host}:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
        *(f"{name}: {value}" for name, value in headers),
    ]
    client._write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    await client.opened
    return client
