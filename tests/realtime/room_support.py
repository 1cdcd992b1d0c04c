"""Helpers for the workshop-room socket tests: rooms, members and a frame reader that
unpacks ``batch`` frames into the events they carry."""

import asyncio
import datetime as dt
import itertools
from typing import Any

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from community.models import User
from tests.factories import make_member
from tests.realtime.sockets import Sockets, sign_in
from workshops.models import Registration, RegistrationStatus, Workshop

_names = itertools.count(1)
# How long to wait for an event before giving up: generous, because a loaded machine
# (other test runs, benchmarks) can stall a reply for seconds; it is never a speed test.
WAIT = 15.0


def room_path(workshop_id: int, after: int | None = None) -> str:
    path = f"/ws/workshops/{workshop_id}/"
    return path if after is None else f"{path}?after={after}"


def make_room(
    facilitator: User,
    *,
    participants: tuple[User, ...] = (),
    registration_required: bool = True,
    title: str = "GMP deviation handling",
) -> Workshop:
    """A scheduled workshop starting in an hour, with ``participants`` registered."""
    start = timezone.now() + dt.timedelta(hours=1)
    workshop = Workshop.objects.create(
        title=title,
        created_by=facilitator,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2),
        registration_required=registration_required,
    )
    workshop.facilitators.add(facilitator)
    for user in participants:
        register(workshop, user)
    return workshop


def register(workshop: Workshop, user: User) -> Registration:
    return Registration.objects.create(
        workshop=workshop, user=user, status=RegistrationStatus.REGISTERED
    )


def new_member(prefix: str = "member") -> User:
    n = next(_names)
    return make_member(f"{prefix}{n}", display_name=f"{prefix.title()} {n}").user


def events_of(frame: dict[str, Any]) -> list[dict[str, Any]]:
    """The events a frame carries: itself, or the events of a batch."""
    if frame.get("type") == "batch":
        return list(frame["data"]["events"])
    return [frame]


class Reader:
    """Reads a room socket event by event (batches unpacked), keeping the raw frames."""

    def __init__(self, comm: WebsocketCommunicator) -> None:
        self.comm = comm
        self.frames: list[dict[str, Any]] = []
        self.buffer: list[dict[str, Any]] = []

    async def frame(self, within: float = WAIT) -> dict[str, Any]:
        frame = await self.comm.receive_json_from(timeout=within)
        self.frames.append(frame)
        return frame

    async def next(self, within: float = WAIT) -> dict[str, Any]:
        while not self.buffer:
            self.buffer.extend(events_of(await self.frame(within)))
        return self.buffer.pop(0)

    async def until(self, type_: str, within: float = WAIT) -> dict[str, Any]:
        """The next event of ``type_`` (within ``within`` seconds); earlier ones are skipped."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            message = await self.next(within=max(deadline - loop.time(), 0.01))
            if message["type"] == type_:
                return message

    async def quiet(self, within: float = 0.3) -> list[dict[str, Any]]:
        """Everything that arrives within ``within`` seconds (the socket then has nothing more)."""
        got = list(self.buffer)
        self.buffer.clear()
        while await self.comm.receive_nothing(timeout=within) is False:
            got.extend(events_of(await self.frame()))
        return got

    async def send(self, type_: str, data: dict[str, Any] | None = None, ref: Any = None) -> None:
        message: dict[str, Any] = {"type": type_, "data": data or {}}
        if ref is not None:
            message["id"] = ref
        await self.comm.send_json_to(message)

    async def act(
        self, type_: str, data: dict[str, Any] | None = None, ref: str = "a1"
    ) -> dict[str, Any]:
        """Send an action and return its reply or error (events in between are kept)."""
        await self.send(type_, data, ref)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT
        skipped: list[dict[str, Any]] = []
        try:
            while True:
                message = await self.next(within=max(deadline - loop.time(), 0.01))
                if message["type"] == "error" and "ref" not in message:
                    raise AssertionError(f"the socket refused a frame: {message}")
                if message.get("ref") == ref and message["type"] in {
                    "reply",
                    "error",
                    "room.resume",
                    "room.reload",
                }:
                    return message
                skipped.append(message)
        finally:
            self.buffer[:0] = skipped


async def session_for(user: User) -> Any:
    return await database_sync_to_async(sign_in)(user)


async def open_room(
    sockets: Sockets, user: User, workshop_id: int, after: int | None = None
) -> tuple[Reader, dict[str, Any]]:
    """Open a room socket past hello; returns the reader and the initial state event
    (room.snapshot, or room.resume with ``after``)."""
    session = await session_for(user)
    comm = await sockets.open(room_path(workshop_id, after), session=session)
    reader = Reader(comm)
    first = await reader.next()
    return reader, first


async def refused(sockets: Sockets, user: User | None, workshop_id: int, **kwargs: Any) -> int:
    """Try to open a room socket; insist that it is closed before any event arrives (at
    the handshake, or right after accepting it) and return the close code."""
    session = await session_for(user) if user is not None else None
    comm = sockets.make(room_path(workshop_id), session=session, **kwargs)
    connected, code = await comm.connect(timeout=WAIT)
    if connected:
        message = await comm.receive_output(timeout=WAIT)
        assert message["type"] == "websocket.close", message
        code = message.get("code")
    return int(code or 1000)


async def chat(reader: Reader, body: str, client_id: str) -> dict[str, Any]:
    reply = await reader.act("chat.send", {"client_id": client_id, "body": body}, ref=client_id)
    assert reply["type"] == "reply", reply
    return reply["data"]
