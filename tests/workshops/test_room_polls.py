"""Polls in the live room: drafts, opening, closing, revealing, votes and tallies, and
who sees which results when."""

import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests.workshops.test_room_support import (
    broadcasts,
    client_id,
    last_seq,
    make_poll,
    make_room,
    make_user,
    option_ids,
    register,
    room_layer,  # noqa: F401
    stream,
)
from workshops.models import Poll, PollOption, Vote
from workshops.room import selectors, services

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("room_layer")]


def _create(room, **overrides):  # type: ignore[no-untyped-def]
    fields = {
        "client_id": client_id(),
        "question": "Which step failed?",
        "kind": "single",
        "options": ["Filling", "Capping"],
        "anonymous": False,
        "results": "live",
        **overrides,
    }
    return services.poll_create(workshop=room.workshop, actor=room.facilitator, **fields)


def _vote(room, user, poll, choices):  # type: ignore[no-untyped-def]
    return services.poll_vote_cast(
        workshop=room.workshop, user=user, poll_id=poll.pk, choices=choices
    )


def _frames(messages):  # type: ignore[no-untyped-def]
    return [json.loads(m["text"]) for m in messages if m["type"] == "room.frame"]


# --- creating -----------------------------------------------------------------------------
def test_a_poll_is_created_as_a_draft_and_not_broadcast(
    django_capture_on_commit_callbacks,
) -> None:
    """A new poll is a draft with its options in order; nobody is told yet."""
    room = make_room()
    with broadcasts(room.workshop, django_capture_on_commit_callbacks) as sent:
        poll, created = _create(room, options=["  Filling ", "Capping", "", "Labelling"])
    assert created
    assert poll.status == "draft"
    assert list(poll.options.order_by("position").values_list("label", flat=True)) == [
        "Filling",
        "Capping",
        "Labelling",
    ]
    assert sent == []
    assert last_seq(room.workshop) == 0
    as_participant = selectors.room_snapshot(workshop=room.workshop, user=room.participant)
    assert as_participant["polls"] == []


def test_creating_again_with_the_same_client_id_returns_the_original() -> None:
    """A retried create returns the first poll; no second poll."""
    room = make_room()
    cid = client_id()
    first, created = _create(room, client_id=cid)
    again, created_again = _create(room, client_id=cid, question="Something else")
    assert created
    assert not created_again
    assert again.pk == first.pk
    assert Poll.objects.count() == 1


def test_a_rating_poll_has_no_options() -> None:
    """A 1-5 rating poll takes no options."""
    room = make_room()
    poll, _ = _create(room, kind="rating", options=[])
    assert poll.options.count() == 0
    with pytest.raises(ValidationError) as caught:
        _create(room, kind="rating", options=["1", "2"])
    assert "options" in caught.value.error_dict


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"options": ["Only one"]}, "options"),
        ({"options": [f"o{i}" for i in range(11)]}, "options"),
        ({"options": ["Same", "same"]}, "options"),
        ({"options": ["ok", "x" * 201]}, "options"),
        ({"options": "Filling, Capping"}, "options"),
        ({"options": ["ok", 2]}, "options"),
        ({"kind": "ranking"}, "kind"),
        ({"results": "sometimes"}, "results"),
        ({"question": "   "}, "question"),
        ({"question": "?" * 301}, "question"),
        ({"anonymous": "yes"}, "anonymous"),
        ({"client_id": ""}, "client_id"),
    ],
)
def test_bad_polls_are_refused(overrides: dict, field: str) -> None:  # type: ignore[type-arg]
    """Each bad input names its field and creates nothing."""
    room = make_room()
    with pytest.raises(ValidationError) as caught:
        _create(room, **overrides)
    assert field in caught.value.error_dict
    assert not Poll.objects.exists()
    assert not PollOption.objects.exists()


def test_ten_options_is_the_most() -> None:
    """Ten options is allowed."""
    room = make_room()
    poll, _ = _create(room, options=[f"Option {i}" for i in range(10)])
    assert poll.options.count() == 10


def test_no_polls_are_created_after_the_workshop_ended() -> None:
    """Once ended, a workshop takes no new polls."""
    room = make_room()
    services.room_session_start(workshop=room.workshop, actor=room.facilitator)
    services.room_session_end(workshop=room.workshop, actor=room.facilitator)
    with pytest.raises(ValidationError):
        _create(room)


# --- opening, closing, revealing ----------------------------------------------------------
def test_opening_broadcasts_the_poll(django_capture_on_commit_callbacks) -> None:
    """ "poll.opened" carries the poll (and its empty live tally) to everyone."""
    room = make_room()
    poll, _ = _create(room)
    with broadcasts(room.workshop, django_capture_on_commit_callbacks) as sent:
        services.poll_open(workshop=room.workshop, actor=room.facilitator, poll_id=poll.pk)
    first, second = option_ids(poll)
    assert _frames(sent) == [
        {
            "type": "poll.opened",
            "seq": 1,
            "data": {
                "id": poll.pk,
                "question": "Which step failed?",
                "kind": "single",
                "anonymous": False,
                "results": "live",
                "status": "open",
                "revealed": False,
                "options": [{"id": first, "label": "Filling"}, {"id": second, "label": "Capping"}],
                "tally": {
                    "poll_id": poll.pk,
                    "total_votes": 0,
                    "counts": {str(first): 0, str(second): 0},
                },
            },
        }
    ]


def test_hidden_and_on_close_polls_open_without_a_tally() -> None:
    """Results not live: the opened event has no tally."""
    room = make_room()
    for results in ("on_close", "hidden"):
        make_poll(room, results=results)
    events = selectors.room_events_since(workshop=room.workshop, after_seq=0)
    assert events is not None
    assert all("tally" not in e["data"] for e in events)


def test_open_close_reveal_transitions() -> None:
    """Open twice is one event; a draft cannot close or reveal; a closed poll cannot reopen."""
    room = make_room()
    poll, _ = _create(room, results="hidden")
    actor = {"workshop": room.workshop, "actor": room.facilitator, "poll_id": poll.pk}
    for action in (services.poll_close, services.poll_reveal):
        with pytest.raises(ValidationError):
            action(**actor)
    services.poll_open(**actor)
    services.poll_open(**actor)
    services.poll_close(**actor)
    services.poll_close(**actor)
    with pytest.raises(ValidationError):
        services.poll_open(**actor)
    services.poll_reveal(**actor)
    services.poll_reveal(**actor)
    assert [kind for _seq, kind in stream(room.workshop)] == [
        "poll.opened",
        "poll.closed",
        "poll.revealed",
    ]
    poll.refresh_from_db()
    assert (poll.status, poll.revealed) == ("closed", True)
    assert poll.opened_at is not None
    assert poll.closed_at is not None


def test_close_carries_the_tally_only_when_everyone_may_see_it() -> None:
    """Closing a live or on-close poll shows the tally; a hidden one waits for reveal."""
    room = make_room()
    polls = {results: make_poll(room, results=results) for results in ("on_close", "hidden")}
    for poll in polls.values():
        _vote(room, room.participant, poll, [option_ids(poll)[0]])
        services.poll_close(workshop=room.workshop, actor=room.facilitator, poll_id=poll.pk)
    services.poll_reveal(workshop=room.workshop, actor=room.facilitator, poll_id=polls["hidden"].pk)
    events = selectors.room_events_since(workshop=room.workshop, after_seq=0) or []
    closed = {e["data"]["id"]: e["data"] for e in events if e["type"] == "poll.closed"}
    assert closed[polls["on_close"].pk]["tally"]["total_votes"] == 1
    assert "tally" not in closed[polls["hidden"].pk]
    revealed = next(e["data"] for e in events if e["type"] == "poll.revealed")
    assert revealed["tally"]["total_votes"] == 1
    assert revealed["revealed"] is True


# --- votes --------------------------------------------------------------------------------
def test_a_vote_is_counted_and_the_room_told_without_a_stream_event(
    django_capture_on_commit_callbacks,
) -> None:
    """Voting stores one vote, sends a "poll" dirty note, and adds no stream event."""
    room = make_room()
    poll = make_poll(room)
    before = last_seq(room.workshop)
    with broadcasts(room.workshop, django_capture_on_commit_callbacks) as sent:
        vote = _vote(room, room.participant, poll, [option_ids(poll)[1]])
    assert vote.choices == [option_ids(poll)[1]]
    assert sent == [{"type": "room.dirty", "room": room.workshop.pk, "what": "poll",
                     "poll_id": poll.pk}]  # fmt: skip
    assert last_seq(room.workshop) == before


def test_changing_a_vote_keeps_one_vote() -> None:
    """A second vote while open replaces the first: still one vote."""
    room = make_room()
    poll = make_poll(room)
    yes, no, _ = option_ids(poll)
    _vote(room, room.participant, poll, [yes])
    _vote(room, room.participant, poll, [no])
    assert list(Vote.objects.filter(poll=poll).values_list("choices", flat=True)) == [[no]]
    tally = selectors.poll_tally(poll=poll)
    assert tally["counts"] == {str(yes): 0, str(no): 1, str(option_ids(poll)[2]): 0}


def test_multiple_choice_and_rating_votes() -> None:
    """Multiple choice counts each option once per voter; ratings count 1-5 and a mean."""
    room = make_room()
    multi = make_poll(room, kind="multiple", options=["pH", "Temperature", "DO"])
    ph, temp, do = option_ids(multi)
    _vote(room, room.participant, multi, [temp, ph])
    _vote(room, room.other, multi, [ph])
    _vote(room, room.facilitator, multi, [do, ph, temp])
    tally = selectors.poll_tally(poll=multi)
    assert tally == {
        "poll_id": multi.pk,
        "total_votes": 3,
        "counts": {str(ph): 3, str(temp): 2, str(do): 1},
    }
    rating = make_poll(room, kind="rating")
    assert selectors.poll_tally(poll=rating)["counts"] == {
        "1": 0,
        "2": 0,
        "3": 0,
        "4": 0,
        "5": 0,
        "mean": None,
    }
    _vote(room, room.participant, rating, [4])
    _vote(room, room.other, rating, [5])
    _vote(room, room.facilitator, rating, [2])
    assert selectors.poll_tally(poll=rating) == {
        "poll_id": rating.pk,
        "total_votes": 3,
        "counts": {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1, "mean": 3.67},
    }


@pytest.mark.parametrize(
    ("kind", "choices"),
    [
        ("single", []),
        ("single", "first-two"),
        ("single", "other-poll"),
        ("single", ["1"]),
        ("single", [True]),
        ("single", "not-a-list"),
        ("multiple", []),
        ("multiple", "duplicate"),
        ("multiple", "other-poll"),
        ("rating", [0]),
        ("rating", [6]),
        ("rating", [3, 4]),
        ("rating", []),
        ("rating", [4.5]),
    ],
)
def test_bad_votes_are_refused(kind: str, choices: object) -> None:
    """Wrong counts, other polls' options, out-of-range ratings, wrong types: refused."""
    room = make_room()
    poll = make_poll(room, kind=kind)
    elsewhere = make_poll(room)
    ids = option_ids(poll)
    resolved = {
        "first-two": ids[:2],
        "other-poll": [option_ids(elsewhere)[0]],
        "duplicate": [ids[0], ids[0]] if ids else [],
        "not-a-list": ids[0] if ids else 1,
    }.get(choices, choices) if isinstance(choices, str) else choices  # fmt: skip
    with pytest.raises(ValidationError) as caught:
        _vote(room, room.participant, poll, resolved)
    assert "choices" in caught.value.error_dict
    assert not Vote.objects.exists()


def test_votes_only_while_open() -> None:
    """A draft or closed poll takes no vote; the vote cast while open stays."""
    room = make_room()
    poll = make_poll(room, open_it=False)
    with pytest.raises(ValidationError) as caught:
        _vote(room, room.participant, poll, [option_ids(poll)[0]])
    assert "poll_id" in caught.value.error_dict
    services.poll_open(workshop=room.workshop, actor=room.facilitator, poll_id=poll.pk)
    _vote(room, room.participant, poll, [option_ids(poll)[0]])
    services.poll_close(workshop=room.workshop, actor=room.facilitator, poll_id=poll.pk)
    with pytest.raises(ValidationError):
        _vote(room, room.participant, poll, [option_ids(poll)[1]])
    assert list(Vote.objects.values_list("choices", flat=True)) == [[option_ids(poll)[0]]]


def test_poll_ids_must_be_numbers() -> None:
    """A poll id that is not a whole number is refused."""
    room = make_room()
    make_poll(room)
    with pytest.raises(ValidationError):
        services.poll_vote_cast(
            workshop=room.workshop, user=room.participant, poll_id="1", choices=[1]
        )
    with pytest.raises(ValidationError):
        services.poll_open(workshop=room.workshop, actor=room.facilitator, poll_id=None)


# --- who sees the tally -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("results", "stage", "participants_see"),
    [
        ("live", "open", True),
        ("live", "closed", True),
        ("on_close", "open", False),
        ("on_close", "closed", True),
        ("hidden", "open", False),
        ("hidden", "closed", False),
        ("hidden", "revealed", True),
        ("on_close", "revealed", True),
    ],
)
def test_tally_visibility_follows_the_results_setting(
    results: str, stage: str, participants_see: bool
) -> None:
    """Live: always; on close: once closed; hidden: once revealed; facilitators: always."""
    room = make_room()
    poll = make_poll(room, results=results)
    _vote(room, room.other, poll, [option_ids(poll)[0]])
    if stage in {"closed", "revealed"}:
        services.poll_close(workshop=room.workshop, actor=room.facilitator, poll_id=poll.pk)
    if stage == "revealed":
        services.poll_reveal(workshop=room.workshop, actor=room.facilitator, poll_id=poll.pk)
    poll.refresh_from_db()
    seen = selectors.poll_for_user(poll=poll, user=room.participant)
    assert seen["tally_visible"] is participants_see
    assert ("tally" in seen) is participants_see
    assert selectors.poll_tally_visible(poll=poll, is_facilitator=False) is participants_see
    as_facilitator = selectors.poll_for_user(poll=poll, user=room.facilitator)
    assert as_facilitator["tally"]["total_votes"] == 1
    listed = selectors.polls_for_user(
        workshop=room.workshop, user=room.participant, is_facilitator=False
    )
    assert ("tally" in listed[0]) is participants_see


def test_a_draft_shows_no_tally_to_participants_but_does_to_facilitators() -> None:
    """Drafts are for facilitators only."""
    room = make_room()
    poll = make_poll(room, open_it=False)
    assert not selectors.poll_tally_visible(poll=poll, is_facilitator=False)
    assert selectors.poll_tally_visible(poll=poll, is_facilitator=True)


def test_voters_are_named_to_facilitators_only_and_never_for_anonymous_polls() -> None:
    """Facilitators see who voted what unless the poll is anonymous; participants never."""
    room = make_room()
    named = make_poll(room)
    secret = make_poll(room, anonymous=True)
    for poll in (named, secret):
        _vote(room, room.participant, poll, [option_ids(poll)[0]])
        _vote(room, room.other, poll, [option_ids(poll)[2]])
    yes, no, unsure = option_ids(named)
    assert selectors.poll_for_user(poll=named, user=room.facilitator)["voters"] == {
        str(yes): [room.participant.username],
        str(no): [],
        str(unsure): [room.other.username],
    }
    as_facilitator = selectors.poll_for_user(poll=secret, user=room.facilitator)
    assert "voters" not in as_facilitator
    assert room.participant.username not in json.dumps(as_facilitator)
    for poll in (named, secret):
        seen = selectors.poll_for_user(poll=poll, user=room.participant)
        assert "voters" not in seen
        assert room.other.username not in json.dumps(seen)


def test_everyone_sees_their_own_vote() -> None:
    """ "your_vote" is the member's own choices, or None."""
    room = make_room()
    poll = make_poll(room, kind="multiple")
    ids = option_ids(poll)
    _vote(room, room.participant, poll, [ids[2], ids[0]])
    assert selectors.poll_for_user(poll=poll, user=room.participant)["your_vote"] == [
        ids[0],
        ids[2],
    ]
    assert selectors.poll_for_user(poll=poll, user=room.other)["your_vote"] is None


def test_rating_voters_are_listed_per_rating() -> None:
    """For a named rating poll, facilitators see names per rating."""
    room = make_room()
    poll = make_poll(room, kind="rating")
    _vote(room, room.participant, poll, [5])
    voters = selectors.poll_for_user(poll=poll, user=room.facilitator)["voters"]
    assert voters["5"] == [room.participant.username]
    assert voters["1"] == []


# --- votes cast together (the room's sockets voting at once) -------------------------------
def test_votes_cast_together_each_get_what_a_lone_vote_would_have(
    django_capture_on_commit_callbacks,
) -> None:
    """A batch of ballots: valid ones are counted, a bad choice and a removed member are
    refused on their own, a member voting twice keeps the later choice; one dirty note."""
    room = make_room()
    poll = make_poll(room)
    yes, no, unsure = option_ids(poll)
    removed = make_user("gone")
    register(room.workshop, removed)
    services.room_participant_remove(
        workshop=room.workshop, actor=room.facilitator, user_id=removed.pk
    )
    with broadcasts(room.workshop, django_capture_on_commit_callbacks) as sent:
        results = services.poll_votes_cast(
            workshop=room.workshop,
            poll_id=poll.pk,
            ballots=[
                (room.participant, [yes]),
                (room.other, [999_999]),
                (removed, [no]),
                (room.facilitator, [unsure]),
                (room.participant, [no]),
            ],
        )
    first, bad, refused, facilitator, again = results
    assert isinstance(bad, ValidationError)
    assert isinstance(refused, PermissionDenied)
    assert (first.choices, facilitator.choices, again.choices) == ([yes], [unsure], [no])
    assert sorted(Vote.objects.filter(poll=poll).values_list("voter_id", "choices")) == sorted(
        [(room.participant.pk, [no]), (room.facilitator.pk, [unsure])]
    )
    assert [m["type"] for m in sent] == ["room.dirty"]
    assert selectors.poll_tally(poll=poll)["counts"] == {str(yes): 0, str(no): 1, str(unsure): 1}


def test_votes_cast_together_cost_the_same_queries_whatever_their_number(
    django_assert_num_queries, django_assert_max_num_queries
) -> None:
    """Ten ballots take as many queries as two."""
    room = make_room()
    poll = make_poll(room)
    yes = option_ids(poll)[0]
    voters = [make_user("voter") for _ in range(12)]
    for voter in voters:
        register(room.workshop, voter)
    with django_assert_max_num_queries(8) as two:
        services.poll_votes_cast(
            workshop=room.workshop, poll_id=poll.pk, ballots=[(v, [yes]) for v in voters[:2]]
        )
    with django_assert_num_queries(len(two.captured_queries)):
        services.poll_votes_cast(
            workshop=room.workshop, poll_id=poll.pk, ballots=[(v, [yes]) for v in voters[2:]]
        )
    assert selectors.poll_tally(poll=poll)["total_votes"] == 12


def test_votes_cast_together_in_a_closed_poll_are_all_refused() -> None:
    room = make_room()
    poll = make_poll(room)
    services.poll_close(workshop=room.workshop, actor=room.facilitator, poll_id=poll.pk)
    with pytest.raises(ValidationError):
        services.poll_votes_cast(
            workshop=room.workshop,
            poll_id=poll.pk,
            ballots=[(room.participant, [option_ids(poll)[0]]), (room.other, [])],
        )
    assert not Vote.objects.filter(poll=poll).exists()
