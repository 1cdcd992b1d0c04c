"""The base consumer's envelope, limits and error answers, through the real ASGI stack.

Sockets go through ``config.asgi.application`` (origin check, session and auth
middleware, the project's router) or, for actions the project does not have yet,
through the same middleware around a test-only ``HubConsumer`` subclass.
"""

import asyncio
import logging
from typing import Any

import orjson
import pytest
from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.urls import path

from community.models import User
from realtime.consumers.base import HubConsumer
from realtime.protocol import ProtocolError
from tests.realtime.sockets import Sockets, ping, recv, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


class ProbeConsumer(HubConsumer):
    """Actions that succeed or fail in every way a real handler can."""

    async def action_echo(self, data: dict[str, Any], ref: Any) -> dict[str, Any]:
        return {"echo": data}

    async def action_quiet(self, data: dict[str, Any], ref: Any) -> None:
        return None

    async def action_explode(self, data: dict[str, Any], ref: Any) -> None:
        raise RuntimeError("secret internals: db password is hunter2")

    async def action_invalid(self, data: dict[str, Any], ref: Any) -> None:
        raise ValidationError({"title": ["This field is required."]})

    async def action_invalid_plain(self, data: dict[str, Any], ref: Any) -> None:
        raise ValidationError("The message is empty.")

    async def action_forbidden(self, data: dict[str, Any], ref: Any) -> None:
        raise PermissionDenied

    async def action_missing(self, data: dict[str, Any], ref: Any) -> None:
        await database_sync_to_async(User.objects.get)(username="nobody-by-this-name")

    async def action_bare_missing(self, data: dict[str, Any], ref: Any) -> None:
        raise ObjectDoesNotExist

    async def action_room_closed(self, data: dict[str, Any], ref: Any) -> None:
        raise ProtocolError("room_closed", "The room is closed.", {"room": ["Closed at 17:00."]})


class OpenConsumer(HubConsumer):
    require_member = False


class GatedConsumer(HubConsumer):
    async def authorize(self) -> bool:
        return False


probe_app = AllowedHostsOriginValidator(
    AuthMiddlewareStack(
        URLRouter(
            [
                path("ws/probe/", ProbeConsumer.as_asgi()),
                path("ws/open/", OpenConsumer.as_asgi()),
                path("ws/gated/", GatedConsumer.as_asgi()),
            ]
        )
    )
)


@pytest.fixture
async def session(member):
    return await database_sync_to_async(sign_in)(member.user)


@pytest.fixture
async def socket(sockets: Sockets, session):
    """A signed-in member's notifications socket, past its hello."""
    return await sockets.open(session=session)


@pytest.fixture
async def probe(sockets: Sockets, session):
    """A signed-in member's socket on the test-only consumer, past its hello."""
    return await sockets.open("/ws/probe/", session=session, app=probe_app)


def error(code: str, ref: Any = None) -> dict[str, Any]:
    """The parts of an error event a client relies on."""
    shape: dict[str, Any] = {"type": "error", "code": code}
    if ref is not None:
        shape["ref"] = ref
    return shape


def shape_of(message: dict[str, Any]) -> dict[str, Any]:
    shape = {"type": message["type"], "code": message["data"].get("code")}
    if "ref" in message:
        shape["ref"] = message["ref"]
    return shape


# --- connecting ------------------------------------------------------------------------
async def test_member_gets_hello_with_protocol_and_username(sockets: Sockets, session, member):
    """A signed-in member's socket opens with a hello naming protocol 1 and the member."""
    comm = sockets.make(session=session)
    connected, _ = await comm.connect(timeout=5)
    assert connected
    hello = await recv(comm)
    assert hello == {
        "type": "hello",
        "data": {
            "protocol": 1,
            "user": {"id": member.user.pk, "username": "amina"},
            "max_frame_bytes": 16_384,
        },
    }


async def test_anonymous_socket_is_refused(sockets: Sockets):
    """Without a session the notifications socket is closed with 4401 before it opens."""
    assert await sockets.refused() == 4401


async def test_unknown_session_cookie_is_refused(sockets: Sockets, client):
    """A made-up session id does not sign anyone in."""
    client.cookies["sessionid"] = "x" * 32
    assert await sockets.refused(session=client) == 4401


async def test_socket_from_foreign_origin_is_refused(sockets: Sockets, session):
    """A page on another site cannot open a member's socket, even with their cookie."""
    for origin in [b"http://evil.example", b"http://127.0.0.1.evil.example", b"null", None]:
        await sockets.refused(session=session, origin=origin)


async def test_allowed_origin_on_another_port_is_accepted(sockets: Sockets, session):
    """The origin check is by host: the hub on another port of an allowed host may connect."""
    await sockets.open(session=session, origin=b"http://localhost:8000")


async def test_consumer_open_to_anonymous_says_hello_with_no_user(sockets: Sockets):
    """A consumer that does not require a member greets visitors with user null."""
    comm = sockets.make("/ws/open/", app=probe_app)
    assert (await comm.connect(timeout=5))[0]
    hello = await recv(comm)
    assert hello["type"] == "hello"
    assert hello["data"]["user"] is None
    assert hello["data"]["protocol"] == 1


async def test_consumer_that_refuses_authorization_closes_with_4403(sockets: Sockets, session):
    """When ``authorize`` says no, a signed-in member is refused with 4403."""
    assert await sockets.refused("/ws/gated/", session=session, app=probe_app) == 4403


# --- the envelope --------------------------------------------------------------------------
async def test_ping_gets_pong_with_ref(socket):
    """A ping is answered with a pong carrying the client's id (string or integer) as ref."""
    pong = await ping(socket, "p1")
    assert pong["type"] == "pong"
    assert pong["ref"] == "p1"
    assert isinstance(pong["data"]["time"], float)
    await socket.send_json_to({"type": "ping", "id": 42})
    assert (await recv(socket))["ref"] == 42


async def test_malformed_json_gets_bad_json_and_socket_survives(socket):
    """Broken JSON is answered with bad_json and the socket keeps working."""
    await socket.send_to(text_data='{"type": "ping", "id": ')
    reply = await recv(socket)
    assert shape_of(reply) == error("bad_json")
    assert reply["data"]["message"]
    assert reply["data"]["fields"] == {}
    pong = await ping(socket, "p1")
    assert (pong["type"], pong["ref"]) == ("pong", "p1")


async def test_wrong_envelope_gets_bad_envelope(socket):
    """Valid JSON that is not a {type, id, data} object gets bad_envelope, ref echoed."""
    not_objects = ["[1, 2, 3]", '"ping"', "42", "null"]
    bad_objects = [
        '{"id": "x1"}',
        '{"type": 7, "id": "x1"}',
        '{"type": null, "id": "x1"}',
        '{"type": "ping", "id": "x1", "data": [1]}',
        '{"type": "ping", "id": "x1", "data": "hello"}',
    ]
    for frame in not_objects + bad_objects:
        await socket.send_to(text_data=frame)
        reply = await recv(socket)
        expected = error("bad_envelope", "x1" if frame in bad_objects else None)
        assert shape_of(reply) == expected, frame
    assert (await ping(socket))["type"] == "pong"


async def test_unknown_type_gets_unknown_type_with_ref(socket):
    """An action the socket does not know is named in an unknown_type error with the ref."""
    await socket.send_json_to({"type": "chat.send", "id": "c-1", "data": {"body": "hi"}})
    reply = await recv(socket)
    assert shape_of(reply) == error("unknown_type", "c-1")
    assert "chat.send" in reply["data"]["message"]


async def test_only_action_methods_are_reachable(socket):
    """Consumer internals and layer handlers cannot be invoked as client actions."""
    for type_ in [
        "connect", "disconnect", "send_json", "hub.event", "session.revoked",
        "user.revoked", "__class__", "", "pi ng", "ping" + "g" * 64,
    ]:  # fmt: skip
        await socket.send_json_to({"type": type_, "id": "t1"})
        assert shape_of(await recv(socket)) == error("unknown_type", "t1"), type_
    assert (await ping(socket))["type"] == "pong"


async def test_unusable_ids_are_not_echoed(socket):
    """An id that is not a short string or integer is not echoed back."""
    for bad_id in [True, "x" * 65, {"a": 1}, [1], 1.5]:
        await socket.send_json_to({"type": "nope", "id": bad_id})
        assert shape_of(await recv(socket)) == error("unknown_type"), bad_id
    await socket.send_json_to({"type": "nope", "id": "x" * 64})
    assert (await recv(socket))["ref"] == "x" * 64


async def test_binary_frame_with_json_works(socket):
    """A binary frame holding a JSON message is handled like a text frame."""
    await socket.send_to(bytes_data=orjson.dumps({"type": "ping", "id": "b1"}))
    pong = await recv(socket)
    assert (pong["type"], pong["ref"]) == ("pong", "b1")


async def test_binary_frame_that_is_not_utf8_gets_bad_json(socket):
    """Binary garbage is answered with bad_json, not a crash."""
    await socket.send_to(bytes_data=b"\xff\xfe\x00garbage")
    assert shape_of(await recv(socket)) == error("bad_json")
    assert (await ping(socket))["type"] == "pong"


# --- limits ----------------------------------------------------------------------------------
def padded_ping(size: int, ref: str = "big") -> str:
    """A ping whose UTF-8 encoding is exactly ``size`` bytes."""
    frame = orjson.dumps({"type": "ping", "id": ref, "data": {"pad": ""}}).decode()
    return frame.replace('"pad":""', '"pad":"' + "x" * (size - len(frame)) + '"')


async def test_frame_at_the_limit_is_accepted(socket, settings):
    """A frame of exactly REALTIME_MAX_FRAME_BYTES is still handled."""
    frame = padded_ping(settings.REALTIME_MAX_FRAME_BYTES)
    assert len(frame.encode()) == settings.REALTIME_MAX_FRAME_BYTES
    await socket.send_to(text_data=frame)
    pong = await recv(socket)
    assert (pong["type"], pong["ref"]) == ("pong", "big")


async def test_frame_over_the_limit_gets_too_large_and_socket_survives(socket, settings):
    """One byte over the frame limit is refused with too_large, and the socket lives on."""
    limit = settings.REALTIME_MAX_FRAME_BYTES
    await socket.send_to(text_data=padded_ping(limit + 1))
    reply = await recv(socket)
    assert shape_of(reply) == error("too_large")
    assert str(limit) in reply["data"]["message"]
    assert (await ping(socket))["type"] == "pong"


async def test_frame_limit_counts_bytes_not_characters(socket, settings):
    """Multi-byte text over the byte limit is too large even with fewer characters."""
    limit = settings.REALTIME_MAX_FRAME_BYTES
    text = orjson.dumps({"type": "ping", "id": "e", "data": {"pad": "€" * (limit // 3 + 10)}})
    frame = text.decode()
    assert len(frame) < limit < len(text)
    await socket.send_to(text_data=frame)
    assert shape_of(await recv(socket)) == error("too_large")


async def test_binary_frame_over_the_limit_gets_too_large(socket, settings):
    """The frame limit applies to binary frames too."""
    await socket.send_to(bytes_data=b" " * (settings.REALTIME_MAX_FRAME_BYTES + 1))
    assert shape_of(await recv(socket)) == error("too_large")


async def test_more_than_the_burst_is_rate_limited(sockets: Sockets, session, settings):
    """Past the burst, messages are answered with rate_limited instead of being handled."""
    settings.REALTIME_RATE_BURST = 3
    settings.REALTIME_RATE_PER_SECOND = 0.001
    comm = await sockets.open(session=session)
    for n in range(5):
        await comm.send_json_to({"type": "ping", "id": f"r{n}"})
    replies = [await recv(comm) for _ in range(5)]
    assert [r["type"] for r in replies[:3]] == ["pong", "pong", "pong"]
    assert [r["ref"] for r in replies[:3]] == ["r0", "r1", "r2"]
    for reply in replies[3:]:
        assert reply["type"] == "error"
        assert reply["data"]["code"] == "rate_limited"
        assert reply["data"]["message"]


async def test_rate_limits_are_per_socket(sockets: Sockets, session, settings):
    """One socket using up its burst does not silence the member's other socket."""
    settings.REALTIME_RATE_BURST = 2
    settings.REALTIME_RATE_PER_SECOND = 0.001
    first = await sockets.open(session=session)
    second = await sockets.open(session=session)
    for n in range(3):
        await ping(first, f"a{n}")
    assert (await ping(first, "a3"))["data"]["code"] == "rate_limited"
    assert (await ping(second, "b0"))["type"] == "pong"


async def test_rate_limited_socket_recovers_as_tokens_refill(sockets: Sockets, session, settings):
    """A rate-limited socket stays open and is served again once the bucket refills."""
    settings.REALTIME_RATE_BURST = 1
    settings.REALTIME_RATE_PER_SECOND = 2.0
    comm = await sockets.open(session=session)
    assert (await ping(comm, "first"))["type"] == "pong"
    assert (await ping(comm, "second"))["data"]["code"] == "rate_limited"
    await asyncio.sleep(0.6)  # one token refills in 0.5 s
    assert (await ping(comm, "third"))["ref"] == "third"


# --- action results and errors -----------------------------------------------------------
async def test_action_result_is_sent_as_reply_with_ref(probe):
    """An action's result comes back as a reply carrying the client's id."""
    await probe.send_json_to({"type": "echo", "id": "e1", "data": {"x": [1, "two"]}})
    assert await recv(probe) == {"type": "reply", "ref": "e1", "data": {"echo": {"x": [1, "two"]}}}


async def test_action_without_data_gets_empty_object(probe):
    """Omitting data hands the action an empty object."""
    await probe.send_json_to({"type": "echo", "id": "e2"})
    assert (await recv(probe))["data"] == {"echo": {}}


async def test_action_returning_none_sends_nothing(probe):
    """An action with nothing to say sends no reply; the next ping is answered first."""
    await probe.send_json_to({"type": "quiet", "id": "q1"})
    assert (await ping(probe, "after"))["ref"] == "after"


async def test_unexpected_exception_gets_internal_without_closing(probe, caplog):
    """A crashing handler answers internal, leaks no details, logs, and keeps the socket."""
    with caplog.at_level(logging.ERROR, logger="realtime.consumers.base"):
        await probe.send_json_to({"type": "explode", "id": "x1"})
        reply = await recv(probe)
    assert shape_of(reply) == error("internal", "x1")
    assert "hunter2" not in orjson.dumps(reply).decode()
    assert any("hunter2" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)
    pong = await ping(probe, "p1")
    assert (pong["type"], pong["ref"]) == ("pong", "p1")


async def test_validation_error_gets_invalid_with_fields(probe):
    """A ValidationError from a handler becomes invalid with the per-field messages."""
    await probe.send_json_to({"type": "invalid", "id": "v1"})
    reply = await recv(probe)
    assert shape_of(reply) == error("invalid", "v1")
    assert reply["data"]["fields"] == {"title": ["This field is required."]}


async def test_plain_validation_error_is_reported_under_data(probe):
    """A ValidationError without fields is reported under the "data" key."""
    await probe.send_json_to({"type": "invalid_plain", "id": "v2"})
    reply = await recv(probe)
    assert shape_of(reply) == error("invalid", "v2")
    assert reply["data"]["fields"] == {"data": ["The message is empty."]}


async def test_permission_denied_gets_forbidden(probe):
    """PermissionDenied from a handler becomes forbidden."""
    await probe.send_json_to({"type": "forbidden", "id": "f1"})
    assert shape_of(await recv(probe)) == error("forbidden", "f1")
    assert (await ping(probe))["type"] == "pong"


async def test_missing_object_gets_not_found(probe):
    """A model's DoesNotExist (or ObjectDoesNotExist) from a handler becomes not_found."""
    for action in ["missing", "bare_missing"]:
        await probe.send_json_to({"type": action, "id": "n1"})
        assert shape_of(await recv(probe)) == error("not_found", "n1"), action
    assert (await ping(probe))["type"] == "pong"


async def test_protocol_error_keeps_its_code_message_and_fields(probe):
    """A ProtocolError reaches the client with its own code, message and fields."""
    await probe.send_json_to({"type": "room.closed", "id": "r1"})
    assert await recv(probe) == {
        "type": "error",
        "ref": "r1",
        "data": {
            "code": "room_closed",
            "message": "The room is closed.",
            "fields": {"room": ["Closed at 17:00."]},
        },
    }
