"""Social API: reactions, accepted answer, expert verification; permissions
(anonymous, member, author, mentor, moderator), restricted categories, bad input."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from community.forums.models import Post, Reaction, Topic, TopicKind
from community.models import User
from tests.factories import make_member
from tests.forums.factories import make_category, make_moderator, make_topic

pytestmark = pytest.mark.django_db


def _api(user: User | None = None) -> APIClient:
    api = APIClient()
    if user is not None:
        api.force_authenticate(user)
    return api


def _question() -> tuple[Topic, Post]:
    topic = make_topic(kind=TopicKind.QUESTION, replies=1)
    return topic, topic.posts.get(number=2)


def test_reactions_read_by_anyone_set_by_members() -> None:
    _topic, reply = _question()
    url = f"/api/v1/forums/p/{reply.pk}/react/"
    member = make_member().user
    response = _api(member).post(url, {"kind": "thanks"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["counts"] == {"thanks": 1}
    assert body["mine"] == ["thanks"]
    assert body["can_react"] is True
    assert [r["kind"] for r in body["reactions"]] == ["like", "thanks", "insightful", "same"]
    anonymous = _api().get(url).json()
    assert anonymous["counts"] == {"thanks": 1}
    assert anonymous["mine"] == []
    assert anonymous["can_react"] is False
    assert _api().post(url, {"kind": "like"}, format="json").status_code in {401, 403}
    off = _api(member).post(url, {"kind": "thanks", "active": False}, format="json").json()
    assert off["counts"] == {}
    assert off["mine"] == []


def test_reactions_over_the_trust_limit_are_429_with_retry_after(settings: Any) -> None:
    settings.FORUM_TRUST_LIMITS_ENABLED = True
    settings.FORUM_TRUST_LIMITS = {0: {"reactions_per_day": 1}}
    topic = make_topic(replies=2)
    first, second = topic.posts.filter(number__gt=1).order_by("number")
    api = _api(make_member().user)
    ok = api.post(f"/api/v1/forums/p/{first.pk}/react/", {"kind": "like"}, format="json")
    assert ok.status_code == 200
    response = api.post(f"/api/v1/forums/p/{second.pk}/react/", {"kind": "like"}, format="json")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 3600
    assert response.json()["error"]["code"] == "throttled"
    assert "reaction" in response.json()["error"]["message"]
    assert not Reaction.objects.filter(post=second).exists()


def test_reaction_bad_input_and_forbidden() -> None:
    _topic, reply = _question()
    url = f"/api/v1/forums/p/{reply.pk}/react/"
    member = _api(make_member().user)
    for data in (
        {"kind": "love"},
        {},
        {"kind": "like", "active": "perhaps"},
        {"kind": "like", "x": 1},
    ):
        response = member.post(url, data, format="json")
        assert response.status_code == 400, data
        assert response.json()["error"]["code"] == "invalid"
    own = _api(reply.author).post(url, {"kind": "like"}, format="json")
    assert own.status_code == 403
    assert not Reaction.objects.exists()


def test_reactions_in_restricted_categories_are_not_found() -> None:
    lounge = make_category(required_role="facilitator")
    topic = make_topic(author=make_member(roles=("facilitator",)).user, category=lounge)
    url = f"/api/v1/forums/p/{topic.posts.get(number=1).pk}/react/"
    assert _api().get(url).status_code == 404
    assert _api(make_member().user).post(url, {"kind": "like"}, format="json").status_code == 404
    assert _api(make_moderator()).post(url, {"kind": "like"}, format="json").status_code == 200


def test_accept_api() -> None:
    topic, reply = _question()
    url = f"/api/v1/forums/t/{topic.pk}/accept/"
    assert _api().post(url, {"post": reply.pk}, format="json").status_code in {401, 403}
    assert _api(reply.author).post(url, {"post": reply.pk}, format="json").status_code == 403
    response = _api(topic.author).post(url, {"post": reply.pk}, format="json")
    assert response.status_code == 200
    assert response.json() == {"topic": topic.pk, "post_id": reply.pk, "number": 2}
    opening = topic.posts.get(number=1)
    bad = _api(topic.author).post(url, {"post": opening.pk}, format="json")
    assert bad.status_code == 400
    assert "post" in bad.json()["error"]["fields"]
    assert _api(topic.author).post(url, {"post": "x"}, format="json").status_code == 400
    assert _api(topic.author).post(url, {}, format="json").status_code == 400
    other = make_topic(kind=TopicKind.QUESTION, replies=1).posts.get(number=2)
    assert _api(topic.author).post(url, {"post": other.pk}, format="json").status_code == 400
    assert Topic.objects.get(pk=topic.pk).accepted_post_id == reply.pk
    cleared = _api(make_moderator()).post(url, {"post": None}, format="json")
    assert cleared.json() == {"topic": topic.pk, "post_id": None, "number": None}
    assert Topic.objects.get(pk=topic.pk).accepted_post_id is None
    assert (
        _api(topic.author)
        .post("/api/v1/forums/t/999999/accept/", {"post": 1}, format="json")
        .status_code
        == 404
    )


def test_verify_api() -> None:
    _topic, reply = _question()
    url = f"/api/v1/forums/p/{reply.pk}/verify/"
    mentor = make_member(roles=("mentor",)).user
    assert _api().post(url, {"verified": True}, format="json").status_code in {401, 403}
    assert _api(make_member().user).post(url, {"verified": True}, format="json").status_code == 403
    assert _api(mentor).post(url, {"verified": "maybe"}, format="json").status_code == 400
    response = _api(mentor).post(url, {"verified": True}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["verified"] is True
    assert body["verified_by"] == mentor.username
    moderator = _api(make_moderator()).post(url, {"verified": False}, format="json").json()
    assert moderator["verified"] is False
    assert moderator["verified_by"] is None


def test_social_endpoints_are_in_the_schema() -> None:
    schema = _api().get("/api/v1/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    for path in (
        "/api/v1/forums/p/{id}/react/",
        "/api/v1/forums/t/{id}/accept/",
        "/api/v1/forums/p/{id}/verify/",
        "/api/v1/forums/t/{id}/watch/",
        "/api/v1/forums/c/{slug}/watch/",
        "/api/v1/forums/tags/{slug}/watch/",
        "/api/v1/forums/settings/",
        "/api/v1/notifications/settings/",
    ):
        assert path in paths, path
