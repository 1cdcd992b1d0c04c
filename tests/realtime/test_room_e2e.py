"""Workshop rooms end to end: real daphne processes and real websocket clients, one
server on the suite's layer, and two servers sharing a Redis channel layer."""

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin

from community.models import User
from tests.conftest import REDIS_TEST_URL, ROOT, LiveServer, _database_url, _free_port, _port_open
from tests.realtime.room_support import make_room, new_member
from tests.realtime.sockets import sign_in
from workshops.models import Attendance, ChatMessage, Workshop

pytestmark = pytest.mark.e2e

WAIT = 15


# --- helpers -----------------------------------------------------------------------------------
def room_socket(server: LiveServer, user: User, workshop_id: int, after: int | None = None):  # type: ignore[no-untyped-def]
    session = sign_in(user).cookies["sessionid"].value
    query = "" if after is None else f"?after={after}"
    return connect(
        f"{server.ws_url}/ws/workshops/{workshop_id}/{query}",
        origin=Origin(server.url),
        additional_headers={"Cookie": f"sessionid={session}"},
        open_timeout=WAIT,
        close_timeout=WAIT,
        max_size=None,
    )


class Client:
    """A websocket client that unpacks batch frames into events."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.buffer: list[dict[str, Any]] = []

    def next(self) -> dict[str, Any]:
        while not self.buffer:
            frame = json.loads(self.ws.recv(timeout=WAIT))
            self.buffer.extend(frame["data"]["events"] if frame["type"] == "batch" else [frame])
        return self.buffer.pop(0)

    def until(self, type_: str) -> dict[str, Any]:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            message = self.next()
            if message["type"] == type_:
                return message
        raise AssertionError(f"no {type_} arrived")

    def send(self, type_: str, data: dict[str, Any], ref: str) -> None:
        self.ws.send(json.dumps({"type": type_, "id": ref, "data": data}))

    def start(self) -> dict[str, Any]:
        """Consume hello and return the initial state (snapshot or resume)."""
        assert self.next()["type"] == "hello"
        return self.next()


def chat_ids(client: Client, count: int) -> list[int]:
    """The ids of the next ``count`` chat messages, checking their seqs run on by one."""
    ids: list[int] = []
    last = None
    while len(ids) < count:
        message = client.next()
        if message["type"] == "chat.message":
            if last is not None:
                assert message["seq"] == last + 1, (message["seq"], last)
            last = message["seq"]
            ids.append(message["data"]["id"])
    return ids


@pytest.fixture
def people(
    transactional_db: None, member, other_member
) -> Iterator[tuple[User, User, User, Workshop]]:
    """A facilitator, Amina and Kwame registered, their room. Afterwards it waits until
    the servers have recorded every socket's leave (before the database is flushed)."""
    facilitator = new_member("fatima")
    room = make_room(facilitator, participants=(member.user, other_member.user))
    yield facilitator, member.user, other_member.user, room
    deadline = time.monotonic() + WAIT
    while Attendance.objects.filter(workshop=room, left_at__isnull=True).exists():
        assert time.monotonic() < deadline, "the servers never recorded the sockets leaving"
        time.sleep(0.05)


# --- one server -----------------------------------------------------------------------------------
def test_room_round_trip_on_a_real_server(live_daphne: LiveServer, people):
    """On a real server, participants see each other and chat; an outsider gets 4403."""
    _, amina, kwame, room = people
    with (
        room_socket(live_daphne, amina, room.pk) as a,
        room_socket(live_daphne, kwame, room.pk) as k,
    ):
        a_client, k_client = Client(a), Client(k)
        assert a_client.start()["type"] == "room.snapshot"
        assert k_client.start()["type"] == "room.snapshot"
        while a_client.until("presence")["data"]["count"] != 2:  # until Kwame is seen
            pass
        a_client.send("chat.send", {"client_id": "e2e-1", "body": "Hello from *daphne*"}, "e2e-1")
        reply = a_client.until("reply")
        assert reply["ref"] == "e2e-1"
        message = k_client.until("chat.message")
        assert message["data"]["id"] == reply["data"]["id"]
        assert message["data"]["html"].strip() == "<p>Hello from <em>daphne</em></p>"
        assert message["seq"] == reply["data"]["seq"]
    outsider = new_member("outsider")  # a member who did not register: accepted, closed
    with room_socket(live_daphne, outsider, room.pk) as ws, pytest.raises(ConnectionClosed) as e:
        ws.recv(timeout=WAIT)
    assert e.value.rcvd is not None
    assert e.value.rcvd.code == 4403


# --- two servers sharing Redis ------------------------------------------------------------------
def start_daphne(env: dict[str, str], log_path: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    daphne = shutil.which("daphne", path=str(Path(sys.executable).parent)) or "daphne"
    log = open(log_path, "wb")  # noqa: SIM115 (closed by the fixture)
    proc = subprocess.Popen(
        [daphne, "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while not _port_open("127.0.0.1", port):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("daphne did not start: " + log_path.read_text()[-3000:])
        time.sleep(0.1)
    return proc, port


@pytest.fixture(scope="module")
def two_servers(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[LiveServer]]:
    """Two daphne processes on one Redis channel layer (a prefix of their own)."""
    from tests.conftest import redis_reachable

    if not redis_reachable():
        pytest.skip(f"Redis not reachable at {REDIS_TEST_URL}")
    with django_db_blocker.unblock():
        db_url = _database_url()
    prefix = f"rooms-e2e-{uuid.uuid4().hex[:8]}"
    env = {k: v for k, v in os.environ.items() if k not in {"CHANNEL_PREFIX", "CACHE_PREFIX"}}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DATABASE_URL=db_url,
        REDIS_URL=REDIS_TEST_URL,
        CHANNEL_PREFIX=prefix,
        CACHE_PREFIX=prefix,
        CONN_MAX_AGE="0",
        PYTHONUNBUFFERED="1",
    )
    logs = tmp_path_factory.mktemp("room-daphnes")
    servers: list[tuple[subprocess.Popen[bytes], int]] = []
    try:
        for i in range(2):
            servers.append(start_daphne(env, logs / f"daphne-{i}.log"))
        yield [
            LiveServer(
                url=f"http://127.0.0.1:{port}",
                ws_url=f"ws://127.0.0.1:{port}",
                host="127.0.0.1",
                port=port,
                mail_dir=logs,
                process=proc,
            )
            for proc, port in servers
        ]
    finally:
        for proc, _ in servers:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
    for log in logs.glob("*.log"):
        assert "Traceback" not in log.read_text(), log.read_text()[-3000:]


@pytest.mark.redis
def test_messages_reach_a_socket_on_the_other_process_in_order(two_servers, people):
    """Messages sent through one daphne reach a socket on another, all of them, in order."""
    one, two = two_servers
    facilitator, amina, kwame, room = people
    with (
        room_socket(one, facilitator, room.pk) as f,
        room_socket(two, amina, room.pk) as a,
        room_socket(two, kwame, room.pk) as k,
    ):
        sender, readers = Client(f), [Client(a), Client(k)]
        for client in (sender, *readers):
            assert client.start()["type"] == "room.snapshot"
        for i in range(25):  # back to back, without waiting for the replies
            sender.send("chat.send", {"client_id": f"x{i}", "body": f"message {i}"}, f"x{i}")
        sent = [sender.until("reply")["data"]["id"] for _ in range(25)]
        for client in readers:
            assert chat_ids(client, 25) == sent
    stored = ChatMessage.objects.filter(workshop=room).order_by("seq").values_list("id", flat=True)
    assert list(stored) == sent


@pytest.mark.redis
def test_removal_on_one_process_closes_the_socket_on_the_other(two_servers, people):
    """A facilitator on one server removes a participant whose socket is on the other."""
    one, two = two_servers
    facilitator, _, kwame, room = people
    with room_socket(one, facilitator, room.pk) as f, room_socket(two, kwame, room.pk) as k:
        fac, kw = Client(f), Client(k)
        fac.start()
        kw.start()
        fac.send("participant.remove", {"user_id": kwame.pk}, "rm")
        assert fac.until("reply")["data"] == {"user_id": kwame.pk, "removed": True}
        assert kw.until("room.kicked")["data"] == {"reason": "removed"}
        with pytest.raises(ConnectionClosed) as closed:
            k.recv(timeout=WAIT)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4403


@pytest.mark.redis
def test_reconnecting_to_the_other_process_resumes_exactly(two_servers, people):
    """A client that drops from one server and resumes on the other misses nothing."""
    one, two = two_servers
    facilitator, amina, _, room = people
    with room_socket(one, facilitator, room.pk) as f:
        fac = Client(f)
        fac.start()
        with room_socket(one, amina, room.pk) as a:
            first = Client(a)
            first.start()
            fac.send("chat.send", {"client_id": "r0", "body": "before"}, "r0")
            last_seq = fac.until("reply")["data"]["seq"]
            seen = chat_ids(first, 1)
        sent = [seen[0]]
        for i in range(1, 6):  # while Amina is away
            fac.send("chat.send", {"client_id": f"r{i}", "body": f"away {i}"}, f"r{i}")
            sent.append(fac.until("reply")["data"]["id"])
        with room_socket(two, amina, room.pk, after=last_seq) as a2:
            second = Client(a2)
            resume = second.start()
            assert resume["type"] == "room.resume"
            seen += [
                e["data"]["id"] for e in resume["data"]["events"] if e["type"] == "chat.message"
            ]
            fac.send("chat.send", {"client_id": "r9", "body": "welcome back"}, "r9")
            sent.append(fac.until("reply")["data"]["id"])
            seen += chat_ids(second, 1)
        assert seen == sent
