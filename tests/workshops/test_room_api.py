"""The room's REST API: history and polls, for the people in the room only."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

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
from workshops.models import Poll, Vote
from workshops.room import services

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("room_layer")]


def _api(user: User | None) -> APIClient:
    api = APIClient()
    if user is not None:
        api.force_authenticate(user)
    return api


def _url(room: Room, name: str, **kwargs: int) -> str:
    return reverse(name, kwargs={"pk": room.workshop.pk, **kwargs})


def _error(response) -> dict:  # type: ignore[no-untyped-def,type-arg]
    body = response.json()
    assert set(body) == {"error"}
    return body["error"]


# --- history ------------------------------------------------------------------------------
def test_history_pages_through_the_rooms_events() -> None:
    """Events after a seq, in order, with the last seq and whether more follow."""
    room = make_room()
    hello = say(room, body="Hello")
    services.room_chat_lock(workshop=room.workshop, actor=room.facilitator, locked=True)
    make_poll(room)
    url = _url(room, "api-room-history")
    body = _api(room.participant).get(url).json()
    assert body["last_seq"] == 3
    assert body["has_more"] is False
    assert [(e["seq"], e["type"]) for e in body["events"]] == [
        (1, "chat.message"),
        (2, "chat.locked"),
        (3, "poll.opened"),
    ]
    assert body["events"][0]["data"]["id"] == hello.pk
    page = _api(room.participant).get(url, {"after": 1, "limit": 1}).json()
    assert [e["seq"] for e in page["events"]] == [2]
    assert page["has_more"] is True
    assert _api(room.facilitator).get(url, {"after": 3}).json()["events"] == []


@pytest.mark.parametrize("params", [{"after": -1}, {"after": "x"}, {"limit": 0}, {"limit": 501}])
def test_history_refuses_bad_parameters(params: dict) -> None:  # type: ignore[type-arg]
    """Bad after or limit: 400 in the error format."""
    room = make_room()
    response = _api(room.participant).get(_url(room, "api-room-history"), params)
    assert response.status_code == 400
    assert _error(response)["code"] == "invalid"


@pytest.mark.parametrize("who", ["outsider", "removed", "missing"])
def test_history_is_not_found_for_those_outside_the_room(who: str) -> None:
    """Not registered, removed, or no such workshop: the same 404."""
    room = make_room()
    say(room, body="Private")
    user, url = room.outsider, _url(room, "api-room-history")
    if who == "removed":
        services.room_participant_remove(
            workshop=room.workshop, actor=room.facilitator, user_id=room.participant.pk
        )
        user = room.participant
    if who == "missing":
        url = reverse("api-room-history", kwargs={"pk": room.workshop.pk + 999})
    response = _api(user).get(url)
    assert response.status_code == 404
    assert _error(response)["code"] == "not_found"
    assert "Private" not in response.content.decode()


def test_the_room_api_needs_a_signed_in_member() -> None:
    """Anonymous requests get a 401."""
    room = make_room()
    for url in (_url(room, "api-room-history"), _url(room, "api-room-polls")):
        response = _api(None).get(url)
        assert response.status_code == 401
        assert _error(response)["code"] == "not_authenticated"


def test_history_costs_the_same_queries_however_long(django_assert_max_num_queries) -> None:
    """The history's query count does not grow with the number of events."""
    room = make_room()
    api = _api(room.participant)
    url = _url(room, "api-room-history")
    for i in range(3):
        say(room, user=room.facilitator, body=f"m{i}")
    with django_assert_max_num_queries(6) as few:
        api.get(url)
    many_messages(room, 60)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(api.get(url, {"limit": 500}).json()["events"]) == 63


# --- polls --------------------------------------------------------------------------------
def test_poll_list_shows_what_each_person_may_see() -> None:
    """Participants see open and closed polls with tallies per the setting; facilitators
    also see drafts, every tally, and voters."""
    room = make_room()
    live = make_poll(room)
    hidden = make_poll(room, results="hidden")
    draft = make_poll(room, open_it=False)
    services.poll_vote_cast(
        workshop=room.workshop, user=room.other, poll_id=live.pk, choices=[option_ids(live)[0]]
    )
    as_participant = _api(room.participant).get(_url(room, "api-room-polls")).json()
    assert [p["id"] for p in as_participant] == [live.pk, hidden.pk]
    assert as_participant[0]["tally"]["counts"][str(option_ids(live)[0])] == 1
    assert as_participant[0]["your_vote"] is None
    assert "voters" not in as_participant[0]
    assert "tally" not in as_participant[1]
    assert as_participant[1]["tally_visible"] is False
    as_facilitator = _api(room.facilitator).get(_url(room, "api-room-polls")).json()
    assert [p["id"] for p in as_facilitator] == [live.pk, hidden.pk, draft.pk]
    assert all("tally" in p for p in as_facilitator)
    assert as_facilitator[0]["voters"][str(option_ids(live)[0])] == [room.other.username]


def test_facilitators_create_and_run_a_poll_and_participants_vote() -> None:
    """Create (201, a retry 200), open, vote, change the vote, close, reveal."""
    room = make_room()
    facilitator = _api(room.facilitator)
    payload = {
        "client_id": client_id(),
        "question": "Rate the cleaning validation module",
        "kind": "rating",
        "results": "hidden",
        "anonymous": True,
    }
    created = facilitator.post(_url(room, "api-room-polls"), payload, format="json")
    assert created.status_code == 201
    poll = created.json()
    assert (poll["status"], poll["kind"], poll["options"]) == ("draft", "rating", [])
    again = facilitator.post(_url(room, "api-room-polls"), payload, format="json")
    assert again.status_code == 200
    assert again.json()["id"] == poll["id"]
    opened = facilitator.post(_url(room, "api-room-poll-open", poll_id=poll["id"]), {})
    assert opened.json()["status"] == "open"
    vote_url = _url(room, "api-room-poll-vote", poll_id=poll["id"])
    participant = _api(room.participant)
    assert participant.post(vote_url, {"choices": [2]}, format="json").status_code == 200
    voted = participant.post(vote_url, {"choices": [5]}, format="json").json()
    assert voted["your_vote"] == [5]
    assert "tally" not in voted
    closed = facilitator.post(_url(room, "api-room-poll-close", poll_id=poll["id"]), {}).json()
    assert closed["tally"]["counts"]["5"] == 1
    assert "voters" not in closed  # anonymous
    facilitator.post(_url(room, "api-room-poll-reveal", poll_id=poll["id"]), {})
    seen = participant.get(_url(room, "api-room-polls")).json()[0]
    assert seen["revealed"] is True
    assert seen["tally"] == {
        "poll_id": poll["id"],
        "total_votes": 1,
        "counts": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 1, "mean": 5.0},
    }


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"kind": "single", "options": ["only"]}, "options"),
        ({"kind": "poll"}, "kind"),
        ({"kind": "single", "options": ["a", "b"], "colour": "red"}, "colour"),
        ({"kind": "single", "options": ["a", "b"], "question": ""}, "question"),
    ],
)
def test_bad_polls_are_400_with_the_field(payload: dict, field: str) -> None:  # type: ignore[type-arg]
    """Invalid poll input names its field; nothing is created."""
    room = make_room()
    body = {"client_id": client_id(), "question": "Q?", **payload}
    response = _api(room.facilitator).post(_url(room, "api-room-polls"), body, format="json")
    assert response.status_code == 400
    assert field in _error(response)["fields"]
    assert not Poll.objects.exists()


@pytest.mark.parametrize("choices", [[], ["a"], "1", [1, 2]])
def test_bad_votes_are_400(choices: object) -> None:
    """Votes that are not one option id of this poll: 400, nothing counted."""
    room = make_room()
    poll = make_poll(room)
    response = _api(room.participant).post(
        _url(room, "api-room-poll-vote", poll_id=poll.pk), {"choices": choices}, format="json"
    )
    assert response.status_code == 400
    assert "choices" in _error(response)["fields"]
    assert not Vote.objects.exists()


@pytest.mark.parametrize("action", ["open", "close", "reveal"])
def test_participants_cannot_run_polls(action: str) -> None:
    """Facilitator endpoints answer a participant with 403; creating too."""
    room = make_room()
    poll = make_poll(room, open_it=action == "open")
    participant = _api(room.participant)
    response = participant.post(_url(room, f"api-room-poll-{action}", poll_id=poll.pk), {})
    assert response.status_code == 403
    assert _error(response)["code"] == "permission_denied"
    create = participant.post(
        _url(room, "api-room-polls"),
        {"client_id": client_id(), "question": "Q", "kind": "single", "options": ["a", "b"]},
        format="json",
    )
    assert create.status_code == 403
    assert Poll.objects.count() == 1


@pytest.mark.parametrize("action", ["open", "close", "reveal", "vote"])
def test_another_rooms_poll_is_404(action: str) -> None:
    """A poll id of another room is not found here, for facilitators and participants."""
    room = make_room()
    foreign = make_poll(make_room())
    user = room.participant if action == "vote" else room.facilitator
    body = {"choices": [option_ids(foreign)[0]]} if action == "vote" else {}
    response = _api(user).post(
        _url(room, f"api-room-poll-{action}", poll_id=foreign.pk), body, format="json"
    )
    assert response.status_code == 404
    assert _error(response)["code"] == "not_found"
    assert not Vote.objects.exists()


def test_outsiders_cannot_see_or_vote_in_polls() -> None:
    """A member outside the room gets 404 for the polls and for voting."""
    room = make_room()
    poll = make_poll(room)
    outsider = _api(room.outsider)
    assert outsider.get(_url(room, "api-room-polls")).status_code == 404
    response = outsider.post(
        _url(room, "api-room-poll-vote", poll_id=poll.pk),
        {"choices": [option_ids(poll)[0]]},
        format="json",
    )
    assert response.status_code == 404
    assert not Vote.objects.exists()


def test_the_room_endpoints_are_in_the_openapi_schema() -> None:
    """The room's endpoints are documented under the "workshop room" tag."""
    schema = APIClient().get("/api/v1/schema/?format=json").json()
    room_paths = {p: item for p, item in schema["paths"].items() if "/room/" in p}
    assert set(room_paths) == {
        "/api/v1/workshops/{id}/room/history/",
        "/api/v1/workshops/{id}/room/polls/",
        "/api/v1/workshops/{id}/room/polls/{poll_id}/vote/",
        "/api/v1/workshops/{id}/room/polls/{poll_id}/open/",
        "/api/v1/workshops/{id}/room/polls/{poll_id}/close/",
        "/api/v1/workshops/{id}/room/polls/{poll_id}/reveal/",
    }
    operations = [op for item in room_paths.values() for op in item.values()]
    assert len(operations) == 7
    assert all(op["tags"] == ["workshop room"] for op in operations)
    assert all("404" in op["responses"] for op in operations)
