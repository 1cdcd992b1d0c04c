"""The forum topic socket on a real daphne process: replies posted through the reply
form over HTTP reach an anonymous reader's socket live; a reader that reconnects with
``?after=`` gets exactly what it missed; restricted topics are refused."""

import json
import urllib.parse
import urllib.request
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin

from community.forums.models import Topic
from tests.conftest import LiveServer
from tests.factories import make_member
from tests.forums.factories import make_category, make_topic
from tests.realtime.sockets import sign_in

pytestmark = pytest.mark.e2e

WAIT = 15


def topic_socket(server: LiveServer, topic_id: int, after: int | None = None) -> ClientConnection:
    query = "" if after is None else f"?after={after}"
    return connect(
        f"{server.ws_url}/ws/forums/topics/{topic_id}/{query}",
        origin=Origin(server.url),
        open_timeout=WAIT,
        close_timeout=WAIT,
    )


def recv(ws: ClientConnection) -> dict[str, Any]:
    return json.loads(ws.recv(timeout=WAIT))


def assert_nothing_more(ws: ClientConnection) -> None:
    ws.send(json.dumps({"type": "ping", "id": "end"}))
    pong = recv(ws)
    assert (pong["type"], pong.get("ref")) == ("pong", "end"), pong


class Browser:
    """A signed-in member's cookies (session, CSRF) for plain HTTP form posts."""

    csrf = "e2e0" * 8  # any 32 letters and digits make a valid CSRF cookie

    def __init__(self, server: LiveServer, session: str) -> None:
        self.server = server
        self.cookie = f"sessionid={session}; csrftoken={self.csrf}"

    def post(self, path: str, data: dict[str, str]) -> int:
        body = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": self.csrf}).encode()
        request = urllib.request.Request(
            self.server.url + path, data=body, headers={"Cookie": self.cookie}
        )
        with urllib.request.urlopen(request, timeout=WAIT) as response:
            return int(response.status)


@pytest.fixture
def setting(live_daphne: LiveServer, transactional_db: None) -> tuple[Browser, Topic]:
    """Kwame signed in (a session the live server reads), and Amina's public question."""
    amina = make_member("amina", display_name="Amina Okafor").user
    kwame = make_member("kwame", display_name="Kwame Mensah").user
    topic = make_topic(author=amina, category=make_category(slug="upstream"), kind="question")
    session = sign_in(kwame).cookies["sessionid"].value
    return Browser(live_daphne, session), topic


def post_reply(browser: Browser, topic: Topic, body: str) -> None:
    # 200 after following the redirect to the post in its topic page.
    assert browser.post(f"/forums/t/{topic.pk}/reply/", {"body": body, "action": "post"}) == 200


def test_replies_reach_an_anonymous_reader_live_and_after_reconnecting(
    live_daphne: LiveServer, setting
):
    """Live: post.created with seq 1. Disconnected while two more are posted, the reader
    reconnects with ?after=1 and gets 2 and 3 once, in order, then 4 live."""
    browser, topic = setting
    with topic_socket(live_daphne, topic.pk) as ws:
        hello = recv(ws)
        assert hello["data"]["user"] is None
        assert hello["data"]["topic"] == {"id": topic.pk, "last_seq": 0}
        post_reply(browser, topic, "Check the **glucose** feed.")
        event = recv(ws)
        assert (event["type"], event["seq"], event["topic"]) == ("post.created", 1, topic.pk)
        assert event["data"]["author_name"] == "Kwame Mensah"
        assert "<strong>glucose</strong>" in event["data"]["html"]

    post_reply(browser, topic, "And the lactate.")
    post_reply(browser, topic, "And the osmolality.")

    with topic_socket(live_daphne, topic.pk, after=1) as ws:
        assert recv(ws)["data"]["topic"]["last_seq"] == 3
        missed = [recv(ws), recv(ws)]
        assert [(e["seq"], e["data"]["number"]) for e in missed] == [(2, 3), (3, 4)]
        post_reply(browser, topic, "Found it: glutamine.")
        assert recv(ws)["seq"] == 4
        assert_nothing_more(ws)


def test_restricted_topic_is_refused_on_the_real_server(live_daphne: LiveServer, setting):
    """An anonymous socket to a topic in a restricted category is closed with 4404."""
    facilitator = make_member("fola", roles=("facilitator",)).user
    lounge = make_category(slug="lounge", required_role="facilitator")
    hidden = make_topic(author=facilitator, category=lounge)
    with topic_socket(live_daphne, hidden.pk) as ws, pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=WAIT)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4404
