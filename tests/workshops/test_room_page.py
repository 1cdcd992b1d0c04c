"""The room page without JavaScript: what each person sees, and the plain forms that
post chat, votes and facilitator controls through the same services."""

import html
import re

import pytest
from django.test import Client
from django.urls import reverse

from community.models import User
from tests.workshops.test_room_support import (
    Room,
    client_id,
    make_poll,
    make_room,
    many_messages,
    option_ids,
    room_layer,  # noqa: F401
    say,
)
from workshops.models import ChatMessage, Poll, Registration, Vote, Workshop
from workshops.room import services

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("room_layer")]


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _url(room: Room, name: str = "room_page", **kwargs: int) -> str:
    return reverse(f"workshops:{name}", kwargs={"pk": room.workshop.pk, **kwargs})


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.content.decode())


def _client_id_on(page: str) -> str:
    match = re.search(r'name="client_id" value="([0-9a-f]{32})"', page)
    assert match, "the chat form carries a client id"
    return match[1]


# --- what each person sees ----------------------------------------------------------------
def test_a_participant_sees_state_presence_chat_and_open_polls() -> None:
    """The page shows the state, who is here, recent chat and the open poll with a form."""
    room = make_room()
    services.room_join(workshop=room.workshop, user=room.facilitator)
    services.room_join(workshop=room.workshop, user=room.other)
    hello = say(room, user=room.other, body="**Hello** from São Paulo")
    poll = make_poll(room)
    draft = make_poll(room, open_it=False)
    response = _client(room.participant).get(_url(room))
    assert response.status_code == 200
    page = response.content.decode()
    assert f'data-room-id="{room.workshop.pk}"' in page
    assert 'data-seq="2"' in page
    assert '<ol id="chat-log" aria-live="polite"' in page
    assert f'<li id="msg-{hello.pk}" data-seq="1">' in page
    assert "<strong>Hello</strong> from São Paulo" in page
    assert 'id="chat-form"' in page
    assert '<section id="polls"' in page
    assert f'<article id="poll-{poll.pk}"' in page
    assert f'id="poll-{draft.pk}"' not in page
    assert f'name="choices" value="{option_ids(poll)[0]}"' in page
    assert '<section id="presence"' in page
    assert "2 people in the room." in page
    assert "Seo-yeon Park" in page
    assert "Facilitator controls" not in page
    assert "Scheduled" in page
    nonce = re.search(r'<script src="/static/js/room\.js" defer nonce="([^"]+)"', page)
    assert nonce
    assert f"'nonce-{nonce[1]}'" in response["Content-Security-Policy"]


def test_a_facilitator_sees_controls_drafts_hidden_tallies_and_voters() -> None:
    """Facilitators get the controls, drafts, hidden results and who voted what."""
    room = make_room()
    hidden = make_poll(room, results="hidden")
    make_poll(room, open_it=False)
    services.poll_vote_cast(
        workshop=room.workshop,
        user=room.participant,
        poll_id=hidden.pk,
        choices=[option_ids(hidden)[0]],
    )
    services.room_join(workshop=room.workshop, user=room.participant)
    page = _text(_client(room.facilitator).get(_url(room)))
    assert "Facilitator controls" in page
    assert "Start the session" in page
    assert "Lock the chat" in page
    assert "Open the poll" in page
    assert "Reveal the results" in page
    assert "Create a poll" in page
    assert "Yes: 1 vote (100%)" in page
    assert f"Voters: {room.participant.username}" in page
    assert _url(room, "room_participant_mute", user_id=room.participant.pk) in page
    participant_page = _text(_client(room.participant).get(_url(room)))
    assert "Yes: 1 vote" not in participant_page
    assert "Results are hidden until a facilitator reveals them." in participant_page
    assert "Voters:" not in participant_page


def test_the_page_shows_the_last_50_messages_newest_at_the_bottom() -> None:
    """Late joiners see the 50 newest messages in order, with a link for newer ones."""
    room = make_room()
    messages = many_messages(room, 52)
    page = _text(_client(room.participant).get(_url(room)))
    shown = [int(m) for m in re.findall(r'<li id="msg-(\d+)"', page)]
    assert shown == [m.pk for m in messages[2:]]
    assert "Show newer messages" in page


@pytest.mark.parametrize("who", ["outsider", "removed", "cancelled"])
def test_people_who_may_not_enter_get_a_403_that_explains(who: str) -> None:
    """Not registered, removed, or a cancelled workshop: 403 without the room's content."""
    room = make_room()
    say(room, body="Private chat")
    user = room.outsider
    if who == "removed":
        services.room_participant_remove(
            workshop=room.workshop, actor=room.facilitator, user_id=room.participant.pk
        )
        user = room.participant
    if who == "cancelled":
        Workshop.objects.filter(pk=room.workshop.pk).update(status="cancelled")
        user = room.facilitator
    response = _client(user).get(_url(room))
    assert response.status_code == 403
    page = _text(response)
    assert "You cannot enter this room." in page
    assert "Private chat" not in page
    assert "data-room-id" not in page


def test_visitors_are_sent_to_log_in_and_unknown_rooms_are_404() -> None:
    """Anonymous visitors go to the login page; an unknown workshop is a 404."""
    room = make_room()
    response = Client().get(_url(room))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]
    missing = reverse("workshops:room_page", kwargs={"pk": room.workshop.pk + 999})
    assert _client(room.facilitator).get(missing).status_code == 404


def test_the_page_costs_the_same_queries_however_full_the_room(
    django_assert_max_num_queries,
) -> None:
    """The page's query count does not grow with messages, polls, votes or people."""
    room = make_room()
    client = _client(room.facilitator)
    for i in range(3):
        say(room, user=room.facilitator, body=f"m{i}")
        poll = make_poll(room)
        services.poll_vote_cast(
            workshop=room.workshop,
            user=room.participant,
            poll_id=poll.pk,
            choices=[option_ids(poll)[0]],
        )
    services.room_join(workshop=room.workshop, user=room.participant)
    with django_assert_max_num_queries(15) as small:
        client.get(_url(room))
    many_messages(room, 60)
    for _ in range(5):
        make_poll(room)
    services.room_join(workshop=room.workshop, user=room.other)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(_url(room)).status_code == 200


# --- chat ---------------------------------------------------------------------------------
def test_posting_a_message_and_a_double_submit_stores_it_once() -> None:
    """The form posts the message; submitting the same form again adds nothing."""
    room = make_room()
    client = _client(room.participant)
    cid = _client_id_on(client.get(_url(room)).content.decode())
    for _ in range(2):
        response = client.post(_url(room, "room_chat"), {"client_id": cid, "body": "Hello *all*"})
        assert response.status_code == 302
        assert response["Location"] == _url(room) + "#chat-form"
    message = ChatMessage.objects.get()
    assert message.body_html == "<p>Hello <em>all</em></p>\n"
    assert "<em>all</em>" in client.get(_url(room)).content.decode()


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("   ", "Write a message first."),
        ("x" * 2001, "Messages are at most 2000 characters (this one has 2001)."),
    ],
)
def test_a_refused_message_shows_the_error_and_keeps_the_text(body: str, error: str) -> None:
    """Bad input: 400, the error on the page, the text and client id still in the form."""
    room = make_room()
    cid = client_id()
    response = _client(room.participant).post(
        _url(room, "room_chat"), {"client_id": cid, "body": body}
    )
    assert response.status_code == 400
    page = _text(response)
    assert error in page
    assert f'value="{cid}"' in page
    if body.strip():
        assert body in page
    assert not ChatMessage.objects.exists()


def test_slow_mode_and_muting_keep_the_typed_message() -> None:
    """Slow mode (400) and mute (403) answer on the page; the message stays in the form."""
    room = make_room()
    client = _client(room.participant)
    services.room_slow_mode(workshop=room.workshop, actor=room.facilitator, seconds=60)
    say(room, body="First")
    response = client.post(_url(room, "room_chat"), {"client_id": client_id(), "body": "Second"})
    assert response.status_code == 400
    page = _text(response)
    assert "Slow mode is on" in page
    assert ">Second</textarea>" in page.replace("\n", "")
    services.room_participant_mute(
        workshop=room.workshop, actor=room.facilitator, user_id=room.participant.pk, muted=True
    )
    response = client.post(_url(room, "room_chat"), {"client_id": client_id(), "body": "Third"})
    assert response.status_code == 403
    page = _text(response)
    assert "A facilitator has muted you in this room." in page
    assert ">Third</textarea>" in page.replace("\n", "")
    assert ChatMessage.objects.count() == 1


def test_a_post_without_a_client_id_is_refused_and_given_a_new_one() -> None:
    """A tampered form without a client id: 400, and the form gets a fresh id."""
    room = make_room()
    response = _client(room.participant).post(_url(room, "room_chat"), {"body": "Hi"})
    assert response.status_code == 400
    assert _client_id_on(response.content.decode())
    assert not ChatMessage.objects.exists()


def test_outsiders_cannot_post_through_the_page() -> None:
    """A member who may not enter cannot post either."""
    room = make_room()
    response = _client(room.outsider).post(
        _url(room, "room_chat"), {"client_id": client_id(), "body": "Let me in"}
    )
    assert response.status_code == 403
    assert not ChatMessage.objects.exists()


def test_the_page_and_the_forms_answer_only_their_methods() -> None:
    """The page is GET only; the forms are POST only."""
    room = make_room()
    client = _client(room.participant)
    assert client.post(_url(room)).status_code == 405
    assert client.get(_url(room, "room_chat")).status_code == 405


# --- votes --------------------------------------------------------------------------------
def test_voting_with_radio_checkbox_and_rating_forms() -> None:
    """Each kind of poll takes its form's answer; the page then shows the choice."""
    room = make_room()
    client = _client(room.participant)
    single = make_poll(room)
    multiple = make_poll(room, kind="multiple")
    rating = make_poll(room, kind="rating")
    answers = {
        single: [str(option_ids(single)[1])],
        multiple: [str(i) for i in option_ids(multiple)[:2]],
        rating: ["4"],
    }
    for poll, choices in answers.items():
        response = client.post(_url(room, "room_vote", poll_id=poll.pk), {"choices": choices})
        assert response.status_code == 302
        assert response["Location"].endswith(f"#poll-{poll.pk}")
    stored = dict(Vote.objects.values_list("poll_id", "choices"))
    assert stored == {
        single.pk: [option_ids(single)[1]],
        multiple.pk: option_ids(multiple)[:2],
        rating.pk: [4],
    }
    page = client.get(_url(room)).content.decode()
    assert f'id="poll-{rating.pk}-c4" checked' in page
    assert "Change your vote" in page


@pytest.mark.parametrize("choices", [[], ["abc"], ["1", "2"]])
def test_a_bad_vote_shows_the_error_by_the_poll(choices: list[str]) -> None:
    """No choice, garbage, or two choices in a single-choice poll: 400 at the poll."""
    room = make_room()
    poll = make_poll(room)
    response = _client(room.participant).post(
        _url(room, "room_vote", poll_id=poll.pk), {"choices": choices}
    )
    assert response.status_code == 400
    page = _text(response)
    article = page[page.index(f'<article id="poll-{poll.pk}"') :]
    assert 'class="errorlist" role="alert"' in article[: article.index("</article>")]
    assert not Vote.objects.exists()


def test_votes_on_another_rooms_poll_are_404() -> None:
    """A poll id of another room is not found through this room's page."""
    room = make_room()
    elsewhere = make_room()
    foreign = make_poll(elsewhere)
    response = _client(room.participant).post(
        _url(room, "room_vote", poll_id=foreign.pk), {"choices": [option_ids(foreign)[0]]}
    )
    assert response.status_code == 404
    assert not Vote.objects.exists()


# --- facilitator forms --------------------------------------------------------------------
def test_facilitator_forms_run_the_session_and_the_chat() -> None:
    """Start, lock, slow mode, unlock and end, each through its form."""
    room = make_room()
    client = _client(room.facilitator)
    steps = [
        ("room_session_start", {}),
        ("room_chat_lock", {"locked": "1"}),
        ("room_slow_mode", {"seconds": "30"}),
        ("room_chat_lock", {"locked": "0"}),
        ("room_session_end", {}),
    ]
    for name, data in steps:
        response = client.post(_url(room, name), data)
        assert response.status_code == 302, name
    workshop = Workshop.objects.get(pk=room.workshop.pk)
    assert (workshop.status, workshop.chat_locked, workshop.slow_mode_seconds) == (
        "ended",
        False,
        30,
    )
    page = _text(client.get(_url(room)))
    assert "The session has ended." in page  # the last action's confirmation
    assert "The chat is closed: this workshop has ended." in page


@pytest.mark.parametrize(
    ("name", "data", "error"),
    [
        ("room_slow_mode", {"seconds": "601"}, "less than or equal to 600"),
        ("room_slow_mode", {"seconds": "soon"}, "Enter a whole number."),
        ("room_chat_lock", {"locked": "maybe"}, "Choose on or off."),
        ("room_session_end", {}, "The session has not started."),
    ],
)
def test_bad_facilitator_input_is_shown_with_a_400(name: str, data: dict, error: str) -> None:  # type: ignore[type-arg]
    """Bad values or transitions: 400 with the error; nothing changes."""
    room = make_room()
    response = _client(room.facilitator).post(_url(room, name), data)
    assert response.status_code == 400
    assert error in _text(response)
    assert Workshop.objects.get(pk=room.workshop.pk).last_seq == 0


def test_creating_opening_closing_and_revealing_a_poll_through_forms() -> None:
    """A poll made from the form, then opened, closed and revealed."""
    room = make_room()
    client = _client(room.facilitator)
    response = client.post(
        _url(room, "room_poll_create"),
        {
            "client_id": client_id(),
            "question": "Which buffer?",
            "kind": "single",
            "options": "PBS\nTris\n\n",
            "results": "hidden",
        },
    )
    assert response.status_code == 302
    poll = Poll.objects.get()
    assert (poll.question, poll.results, poll.anonymous) == ("Which buffer?", "hidden", False)
    assert list(poll.options.values_list("label", flat=True)) == ["PBS", "Tris"]
    for action in ("open", "close", "reveal"):
        response = client.post(_url(room, f"room_poll_{action}", poll_id=poll.pk))
        assert response.status_code == 302, action
    poll.refresh_from_db()
    assert (poll.status, poll.revealed) == ("closed", True)


def test_a_refused_poll_keeps_what_was_typed() -> None:
    """A poll with one option: 400, the error by the options, the question kept."""
    room = make_room()
    response = _client(room.facilitator).post(
        _url(room, "room_poll_create"),
        {
            "client_id": client_id(),
            "question": "Which column resin?",
            "kind": "single",
            "options": "Protein A",
            "results": "live",
        },
    )
    assert response.status_code == 400
    page = _text(response)
    assert "Give between 2 and 10 options." in page
    assert 'value="Which column resin?"' in page
    assert "Protein A</textarea>" in page
    assert not Poll.objects.exists()


def test_deleting_muting_and_removing_through_forms() -> None:
    """A facilitator deletes a message, mutes and unmutes, then removes a participant."""
    room = make_room()
    client = _client(room.facilitator)
    message = say(room, body="Off topic")
    uid = room.participant.pk
    assert client.post(_url(room, "room_message_delete", message_id=message.pk)).status_code == 302
    mute = _url(room, "room_participant_mute", user_id=uid)
    assert client.post(mute, {"muted": "1"}).status_code == 302
    assert Registration.objects.get(user_id=uid).muted_at is not None
    assert client.post(mute, {"muted": "0"}).status_code == 302
    assert client.post(_url(room, "room_participant_remove", user_id=uid)).status_code == 302
    registration = Registration.objects.get(user_id=uid)
    assert (registration.muted_at, registration.removed_at is not None) == (None, True)
    assert ChatMessage.objects.get().deleted_at is not None
    assert "Off topic" not in _text(client.get(_url(room)))


def test_authors_delete_their_own_message_from_the_page() -> None:
    """A participant sees a delete button only on their own messages, and it works."""
    room = make_room()
    mine = say(room, body="Mine")
    theirs = say(room, user=room.other, body="Theirs")
    client = _client(room.participant)
    page = client.get(_url(room)).content.decode()
    assert _url(room, "room_message_delete", message_id=mine.pk) in page
    assert _url(room, "room_message_delete", message_id=theirs.pk) not in page
    assert client.post(_url(room, "room_message_delete", message_id=theirs.pk)).status_code == 403
    assert client.post(_url(room, "room_message_delete", message_id=mine.pk)).status_code == 302
    assert list(ChatMessage.objects.filter(deleted_at__isnull=True)) == [theirs]


FACILITATOR_POSTS = [
    ("room_session_start", {}, {}),
    ("room_session_end", {}, {}),
    ("room_chat_lock", {}, {"locked": "1"}),
    ("room_slow_mode", {}, {"seconds": "10"}),
    ("room_poll_create", {}, {"client_id": "c1", "question": "Q", "kind": "single",
                              "options": "a\nb", "results": "live"}),
    ("room_poll_open", {"poll_id": "draft"}, {}),
    ("room_poll_close", {"poll_id": "poll"}, {}),
    ("room_poll_reveal", {"poll_id": "poll"}, {}),
    ("room_participant_mute", {"user_id": "other"}, {"muted": "1"}),
    ("room_participant_remove", {"user_id": "other"}, {}),
    ("room_message_delete", {"message_id": "message"}, {}),
]  # fmt: skip


def _ids(room: Room) -> dict[str, int]:
    return {
        "poll": make_poll(room).pk,
        "draft": make_poll(room, open_it=False).pk,
        "other": room.other.pk,
        "message": say(room, user=room.other, body="Theirs").pk,
    }


def _state(room: Room) -> tuple[object, ...]:
    workshop = Workshop.objects.get(pk=room.workshop.pk)
    return (
        workshop.last_seq,
        Poll.objects.count(),
        list(Registration.objects.values_list("muted_at", "removed_at")),
    )


@pytest.mark.parametrize(("name", "kwargs", "data"), FACILITATOR_POSTS, ids=lambda v: str(v)[:24])
def test_participants_posting_facilitator_forms_get_a_403(name, kwargs, data) -> None:  # type: ignore[no-untyped-def]
    """Every facilitator form refuses a participant with 403 and changes nothing."""
    room = make_room()
    ids = _ids(room)
    before = _state(room)
    url = _url(room, name, **{key: ids[value] for key, value in kwargs.items()})
    response = _client(room.participant).post(url, data)
    assert response.status_code == 403
    assert _state(room) == before


@pytest.mark.parametrize(
    ("name", "kwargs", "data"),
    [p for p in FACILITATOR_POSTS if p[1]],
    ids=lambda v: str(v)[:24],
)
def test_facilitator_forms_with_another_rooms_ids_are_404(name, kwargs, data) -> None:  # type: ignore[no-untyped-def]
    """A poll, message or person of another room is not found through this room's forms."""
    room = make_room()
    _ids(room)
    foreign = _ids(make_room())
    before = _state(room)
    url = _url(room, name, **{key: foreign[value] for key, value in kwargs.items()})
    response = _client(room.facilitator).post(url, data)
    assert response.status_code == 404
    assert _state(room) == before
