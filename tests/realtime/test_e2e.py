"""End to end: real daphne processes, real websocket clients, sessions from real logins."""

import http.cookiejar
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin

from realtime.events import publish_to_user
from tests.conftest import REDIS_TEST_URL, ROOT, LiveServer, _database_url, _free_port, _port_open
from tests.realtime.sockets import redis_layers, sign_in

pytestmark = pytest.mark.e2e

TIMEOUT = 5
NOTIFICATIONS = "/ws/notifications/"


# --- helpers -------------------------------------------------------------------------------
class Browser:
    """Cookies and CSRF over plain HTTP, like a browser talking to the live server."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.jar if c.name == name), None)

    def get(self, path: str) -> Any:
        return self.opener.open(self.base_url + path, timeout=TIMEOUT)

    def post(self, path: str, data: dict[str, str]) -> Any:
        if self.cookie("csrftoken") is None:
            self.get(path)  # the form page sets the CSRF cookie
        body = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": self.cookie("csrftoken")})
        request = urllib.request.Request(
            self.base_url + path, data=body.encode(), headers={"Referer": self.base_url + path}
        )
        return self.opener.open(request, timeout=TIMEOUT)

    def log_in(self, username: str, password: str) -> str:
        self.post("/accounts/login/", {"login": username, "password": password})
        session = self.cookie("sessionid")
        assert session, "logging in set no session cookie"
        return session


def open_socket(server: LiveServer, session: str | None, origin: str | None = None) -> Any:
    headers = {"Cookie": f"sessionid={session}"} if session else None
    return connect(
        server.ws_url + NOTIFICATIONS,
        origin=Origin(origin or server.url),
        additional_headers=headers,
        open_timeout=TIMEOUT,
        close_timeout=TIMEOUT,
    )


def recv(ws: ClientConnection) -> dict[str, Any]:
    return json.loads(ws.recv(timeout=TIMEOUT))


def recv_until(ws: ClientConnection, match: dict[str, Any]) -> dict[str, Any]:
    """The first event equal to ``match``; others (another process's tests) are skipped."""
    deadline = time.monotonic() + TIMEOUT
    while (left := deadline - time.monotonic()) > 0:
        message = json.loads(ws.recv(timeout=left))
        if message == match:
            return message
    raise AssertionError(f"{match} never arrived")


def assert_alive(ws: ClientConnection, ref: str = "p1") -> None:
    ws.send(json.dumps({"type": "ping", "id": ref}))
    pong = recv(ws)
    assert (pong["type"], pong["ref"]) == ("pong", ref)


def handshake_status(server: LiveServer, session: str | None, origin: str | None = None) -> int:
    with pytest.raises(InvalidStatus) as refused:
        open_socket(server, session, origin).close()
    return refused.value.response.status_code


# --- one server ------------------------------------------------------------------------------
@pytest.fixture
def browser(live_daphne: LiveServer, transactional_db: None, member, password) -> Browser:
    """A browser that has logged in to the live server as Amina."""
    b = Browser(live_daphne.url)
    b.log_in("amina", password)
    return b


def test_live_server_answers_healthz(live_daphne: LiveServer, transactional_db: None):
    """The real server reports itself healthy over HTTP."""
    with urllib.request.urlopen(live_daphne.url + "/healthz", timeout=TIMEOUT) as response:
        assert response.status == 200
        body = json.loads(response.read())
    assert body["status"] == "ok"


def test_foreign_origin_is_refused_at_handshake(live_daphne: LiveServer, browser: Browser):
    """A page on another site gets HTTP 403 even when it carries a member's cookie."""
    session = browser.cookie("sessionid")
    assert handshake_status(live_daphne, session, origin="http://evil.example") == 403


def test_anonymous_socket_is_refused_at_handshake(live_daphne: LiveServer, transactional_db):
    """Without a session the handshake is answered with HTTP 403."""
    assert handshake_status(live_daphne, None) == 403


def test_logged_in_browser_socket_gets_hello(live_daphne: LiveServer, browser: Browser, member):
    """After logging in over HTTP, the session cookie opens a socket greeted by hello."""
    with open_socket(live_daphne, browser.cookie("sessionid")) as ws:
        hello = recv(ws)
        assert hello["type"] == "hello"
        assert hello["data"]["protocol"] == 1
        assert hello["data"]["user"] == {"id": member.user.pk, "username": "amina"}
        assert_alive(ws)


def test_bad_frames_get_errors_and_socket_survives(live_daphne: LiveServer, browser: Browser):
    """Malformed, wrongly shaped, unknown and 100 KB frames get errors; the socket lives."""
    with open_socket(live_daphne, browser.cookie("sessionid")) as ws:
        assert recv(ws)["type"] == "hello"
        cases: list[tuple[str | bytes, str]] = [
            ("{not json", "bad_json"),
            (b"\xff\xfe", "bad_json"),
            ("[1, 2]", "bad_envelope"),
            ('{"type": "ping", "data": 5}', "bad_envelope"),
            ('{"type": "nope", "id": "n1"}', "unknown_type"),
            (json.dumps({"type": "ping", "data": {"pad": "x" * 100_000}}), "too_large"),
            (b"x" * 100_000, "too_large"),
        ]
        for frame, code in cases:
            ws.send(frame)
            reply = recv(ws)
            assert (reply["type"], reply["data"]["code"]) == ("error", code), frame[:40]
        assert_alive(ws, "after-bad-frames")


def test_logging_out_over_http_closes_the_socket(live_daphne: LiveServer, browser: Browser):
    """Logging out in the browser revokes its socket: session.revoked, then close 4409."""
    with open_socket(live_daphne, browser.cookie("sessionid")) as ws:
        assert recv(ws)["type"] == "hello"
        browser.post("/accounts/logout/", {})
        assert recv(ws) == {"type": "session.revoked", "data": {"reason": "logged_out"}}
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=TIMEOUT)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4409


def test_wrong_password_opens_no_socket(live_daphne: LiveServer, transactional_db, member):
    """A failed login leaves the browser without a session that could open a socket."""
    b = Browser(live_daphne.url)
    b.post("/accounts/login/", {"login": "amina", "password": "not-the-password"})
    assert b.cookie("sessionid") is None
    assert handshake_status(live_daphne, b.cookie("sessionid")) == 403


# --- a second server on Redis -------------------------------------------------------------
@pytest.fixture(scope="module")
def redis_daphne(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A second daphne process on the Redis channel layer with the default prefix "hub"."""
    with django_db_blocker.unblock():
        db_url = _database_url()
    port = _free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"CHANNEL_PREFIX", "CACHE_PREFIX"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DATABASE_URL=db_url,
        REDIS_URL=REDIS_TEST_URL,
        CACHE_PREFIX=f"hub-e2e-{port}",
        CONN_MAX_AGE="0",
        PYTHONUNBUFFERED="1",
    )
    log_path = tmp_path_factory.mktemp("redis-daphne") / "daphne.log"
    daphne = shutil.which("daphne", path=str(Path(sys.executable).parent)) or "daphne"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [daphne, "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 30
            while not _port_open("127.0.0.1", port):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("daphne did not start: " + log_path.read_text()[-3000:])
                time.sleep(0.1)
            yield LiveServer(
                url=f"http://127.0.0.1:{port}",
                ws_url=f"ws://127.0.0.1:{port}",
                host="127.0.0.1",
                port=port,
                mail_dir=log_path.parent,
                process=proc,
            )
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
    assert "Traceback" not in log_path.read_text(), log_path.read_text()[-3000:]


def publish_through_redis(user_id: int, data: dict[str, Any]) -> None:
    """Publish from this process on the Redis layer the servers use (prefix "hub")."""
    with override_settings(CHANNEL_LAYERS=redis_layers(prefix="hub")):
        publish_to_user(user_id=user_id, event_type="notification", data=data)


@pytest.mark.redis
def test_event_published_here_reaches_socket_on_other_process(
    redis_daphne: LiveServer, transactional_db: None, member
):
    """An event published in one process reaches the member's socket on another server."""
    session = sign_in(member.user).cookies["sessionid"].value
    with open_socket(redis_daphne, session) as ws:
        hello = recv(ws)
        assert hello["data"]["user"]["username"] == "amina"
        data = {"text": "Your mentor replied", "nonce": uuid.uuid4().hex}
        publish_through_redis(member.user.pk, data)
        recv_until(ws, {"type": "notification", "data": data})
        assert_alive(ws)


@pytest.mark.redis
def test_idle_socket_on_redis_layer_stays_connected(
    redis_daphne: LiveServer, transactional_db: None, member
):
    """A socket idle longer than the Redis client's 5 s read timeout still gets events."""
    session = sign_in(member.user).cookies["sessionid"].value
    with open_socket(redis_daphne, session) as ws:
        assert recv(ws)["type"] == "hello"
        deadline = time.monotonic() + 6.5
        while (left := deadline - time.monotonic()) > 0:
            try:
                ws.recv(timeout=left)  # idle; a closed socket raises ConnectionClosed
            except TimeoutError:
                break
        data = {"text": "still here?", "nonce": uuid.uuid4().hex}
        publish_through_redis(member.user.pk, data)
        recv_until(ws, {"type": "notification", "data": data})
        assert_alive(ws)
