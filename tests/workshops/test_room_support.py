"""Helpers for the live-room tests (no tests here): rooms with their people, and a
listener on the room's channel-layer group that records what the services broadcast."""

import asyncio
import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.utils import timezone

from community.models import Profile, User
from realtime.events import room_group
from workshops.models import (
    ChatMessage,
    Poll,
    Registration,
    RegistrationStatus,
    RoomEvent,
    Workshop,
    WorkshopStatus,
)
from workshops.room import services

MEMORY_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


@dataclass
class Room:
    workshop: Workshop
    facilitator: User
    participant: User  # registered
    other: User  # registered too
    outsider: User  # a member who is not registered


_counter = iter(range(1, 1_000_000))


def make_user(prefix: str, name: str = "") -> User:
    """A member with a profile (made directly: these tests are about rooms, not sign-up)."""
    n = next(_counter)
    user = User.objects.create(username=f"{prefix}{n}", email=f"{prefix}{n}@example.org")
    Profile.objects.create(user=user, display_name=name or f"{prefix.title()} {n}")
    return user


def make_workshop(
    facilitator: User,
    *,
    title: str = "GMP deviations and CAPA",
    registration_required: bool = True,
    status: str = WorkshopStatus.SCHEDULED,
) -> Workshop:
    starts = timezone.now() + dt.timedelta(hours=1)
    workshop = Workshop.objects.create(
        title=title,
        created_by=facilitator,
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=2),
        registration_required=registration_required,
        status=status,
    )
    workshop.facilitators.add(facilitator)
    return workshop


def register(
    workshop: Workshop, user: User, status: str = RegistrationStatus.REGISTERED
) -> Registration:
    return Registration.objects.create(workshop=workshop, user=user, status=status)


def make_room(
    *, registration_required: bool = True, status: str = WorkshopStatus.SCHEDULED
) -> Room:
    facilitator = make_user("fac", "Seo-yeon Park")
    workshop = make_workshop(
        facilitator, registration_required=registration_required, status=status
    )
    participant = make_user("part", "Amara Diallo")
    other = make_user("other", "Lucas Souza")
    register(workshop, participant)
    register(workshop, other)
    return Room(workshop, facilitator, participant, other, make_user("out", "Out Sider"))


def client_id() -> str:
    return uuid.uuid4().hex


def say(room: Room, user: User | None = None, body: str = "Hello everyone") -> ChatMessage:
    message, created = services.chat_message_post(
        workshop=room.workshop, user=user or room.participant, client_id=client_id(), body=body
    )
    assert created
    return message


def many_messages(room: Room, n: int, user: User | None = None) -> list[ChatMessage]:
    """``n`` chat messages with their stream events, written in bulk (for tests of reads
    over long histories; posting goes through the service everywhere else)."""
    author = user or room.facilitator
    start = last_seq(room.workshop)
    ChatMessage.objects.bulk_create(
        ChatMessage(
            workshop=room.workshop,
            author=author,
            client_id=client_id(),
            body=f"Note {i}",
            body_html=f"<p>Note {i}</p>\n",
            seq=start + 1 + i,
        )
        for i in range(n)
    )
    messages = list(
        ChatMessage.objects.filter(workshop=room.workshop, seq__gt=start).order_by("seq")
    )
    RoomEvent.objects.bulk_create(
        RoomEvent(workshop=room.workshop, seq=m.seq, type="chat.message", data={"id": m.pk})
        for m in messages
    )
    Workshop.objects.filter(pk=room.workshop.pk).update(last_seq=start + n)
    return messages


def make_poll(
    room: Room,
    *,
    kind: str = "single",
    options: list[str] | None = None,
    results: str = "live",
    anonymous: bool = False,
    open_it: bool = True,
) -> Poll:
    if options is None:
        options = [] if kind == "rating" else ["Yes", "No", "Not sure"]
    poll, _created = services.poll_create(
        workshop=room.workshop,
        actor=room.facilitator,
        client_id=client_id(),
        question="Was the root cause found?",
        kind=kind,
        options=options,
        anonymous=anonymous,
        results=results,
    )
    if open_it:
        services.poll_open(workshop=room.workshop, actor=room.facilitator, poll_id=poll.pk)
    poll.refresh_from_db()
    return poll


def option_ids(poll: Poll) -> list[int]:
    return list(poll.options.order_by("position").values_list("id", flat=True))


def stream(workshop: Workshop) -> list[tuple[int, str]]:
    return list(
        RoomEvent.objects.filter(workshop=workshop).order_by("seq").values_list("seq", "type")
    )


def last_seq(workshop: Workshop) -> int:
    return Workshop.objects.values_list("last_seq", flat=True).get(pk=workshop.pk)


# --- what the services broadcast -----------------------------------------------------------
async def _receive(channel: str) -> dict[str, Any]:
    return await asyncio.wait_for(get_channel_layer().receive(channel), timeout=5)


@pytest.fixture
def room_layer(settings: Any) -> None:
    """A fresh in-memory channel layer of this test's own."""
    settings.CHANNEL_LAYERS = MEMORY_LAYERS


CaptureOnCommit = Callable[..., AbstractContextManager[Any]]


@contextmanager
def broadcasts(workshop: Workshop, capture: CaptureOnCommit) -> Iterator[list[dict[str, Any]]]:
    """Record the messages the services send to the room's group in the block: the
    on-commit callbacks run when the block's (test) transaction "commits", and the list
    is complete when the block exits (a marker sent after them closes it)."""
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(room_group(workshop.pk), channel)
    received: list[dict[str, Any]] = []
    with capture(execute=True):
        yield received
    async_to_sync(layer.group_send)(room_group(workshop.pk), {"type": "test.end"})
    while True:
        message = async_to_sync(_receive)(channel)
        if message["type"] == "test.end":
            break
        received.append(message)
    async_to_sync(layer.group_discard)(room_group(workshop.pk), channel)
