"""The moderation API: flag, review queue and decisions, topic actions, the log;
permissions (anonymous, member, author, moderator), bad input, query counts."""

from typing import Any

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from community.forums.models import Category, Flag, FlagStatus, ModerationLog, Post, Topic
from community.forums.services import moderation as services
from community.models import User
from tests.api.helpers import assert_error
from tests.factories import make_member
from tests.forums.factories import make_category, make_moderator, make_post, make_topic

pytestmark = pytest.mark.django_db

BASE = "/api/v1/forums"
QUEUE_QUERIES = 3  # count, page, the page's flags


def _api(user: User | None = None) -> APIClient:
    api = APIClient()
    if user is not None:
        api.force_authenticate(user)
    return api


@pytest.fixture
def moderator() -> User:
    return make_moderator("modapi")


@pytest.fixture
def topic() -> Topic:
    return make_topic(replies=2)


def _reply(topic: Topic, number: int = 2) -> Post:
    return Post.objects.get(topic=topic, number=number)


# --- flag ----------------------------------------------------------------------------------
def test_flag_a_post(topic: Topic) -> None:
    post = _reply(topic)
    url = f"{BASE}/p/{post.pk}/flag/"
    assert_error(_api().post(url, {"reason": "spam"}), 401)
    member = make_member().user
    response = _api(member).post(url, {"reason": "other", "note": "Looks like an advert"})
    assert response.status_code == 201
    body = response.json()
    assert body["post"] == post.pk
    assert body["status"] == "open"
    assert body["note"] == "Looks like an advert"
    assert_error(_api(member).post(url, {"reason": "spam"}), 400, "invalid", {"post"})
    assert Flag.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "reason"),
        ({"reason": "rude"}, "reason"),
        ({"reason": "other"}, "note"),
        ({"reason": "spam", "note": "x" * 501}, "note"),
        ({"reason": "spam", "colour": "red"}, "colour"),
    ],
)
def test_bad_flags_are_refused(topic: Topic, data: dict[str, Any], field: str) -> None:
    response = _api(make_member().user).post(
        f"{BASE}/p/{_reply(topic).pk}/flag/", data, format="json"
    )
    assert_error(response, 400, "invalid", {field})
    assert not Flag.objects.exists()


def test_own_invisible_and_unknown_posts(topic: Topic, moderator: User) -> None:
    post = _reply(topic)
    assert_error(
        _api(post.author).post(f"{BASE}/p/{post.pk}/flag/", {"reason": "spam"}), 400, "invalid"
    )
    lounge = make_category(required_role="mentor")
    secret = make_post(topic=make_topic(category=lounge, author=moderator), author=moderator)
    member = _api(make_member(roles=("learner",)).user)
    assert_error(member.post(f"{BASE}/p/{secret.pk}/flag/", {"reason": "spam"}), 404)
    assert_error(member.post(f"{BASE}/p/999999/flag/", {"reason": "spam"}), 404)
    assert not Flag.objects.exists()


# --- the queue -----------------------------------------------------------------------------
def test_queue_permissions(topic: Topic) -> None:
    url = f"{BASE}/review/"
    assert_error(_api().get(url), 401)
    assert_error(_api(make_member().user).get(url), 403)
    assert_error(_api(topic.author).get(url), 403)


@override_settings(FORUM_FLAG_AUTO_HIDE=0)
def test_queue_lists_posts_with_flags(topic: Topic, moderator: User) -> None:
    post = _reply(topic)
    for reason in ("spam", "spam", "abusive"):
        services.flag_create(user=make_member().user, post=post, reason=reason)
    later = _reply(topic, 3)
    services.flag_create(user=make_member().user, post=later, reason="off_topic")
    response = _api(moderator).get(f"{BASE}/review/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    first = body["results"][0]
    assert first["post"]["id"] == post.pk
    assert first["post"]["topic"]["id"] == topic.pk
    assert first["open_flag_count"] == 3
    assert [(r["reason"], r["count"]) for r in first["reasons"]] == [("spam", 2), ("abusive", 1)]
    assert len(first["flags"]) == 3
    filtered = _api(moderator).get(f"{BASE}/review/", {"reason": "off_topic"}).json()
    assert [r["post"]["id"] for r in filtered["results"]] == [later.pk]
    assert_error(_api(moderator).get(f"{BASE}/review/", {"reason": "bad"}), 400)
    assert_error(_api(moderator).get(f"{BASE}/review/", {"page": 9}), 404)


def test_queue_query_count_does_not_grow(moderator: User) -> None:
    api = _api(moderator)

    def flag_posts(n: int) -> None:
        for _ in range(n):
            post = _reply(make_topic(replies=1))
            for _ in range(2):
                services.flag_create(user=make_member().user, post=post, reason="spam")

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert api.get(f"{BASE}/review/").status_code == 200
        return len(ctx.captured_queries)

    flag_posts(1)
    count()  # the moderator's permissions are loaded once
    small = count()
    flag_posts(6)
    large = count()
    assert small == large
    assert large <= QUEUE_QUERIES


def test_review_decisions(topic: Topic, moderator: User) -> None:
    post = _reply(topic)
    services.flag_create(user=make_member().user, post=post, reason="spam")
    url = f"{BASE}/review/p/{post.pk}/"
    assert_error(_api().post(url, {"action": "hide"}), 401)
    assert_error(_api(make_member().user).post(url, {"action": "hide"}), 403)
    assert_error(_api(post.author).post(url, {"action": "hide"}), 403)
    assert_error(_api(moderator).post(url, {"action": "nuke"}), 400, "invalid", {"action"})
    assert_error(_api(moderator).post(f"{BASE}/review/p/999999/", {"action": "hide"}), 404)
    response = _api(moderator).post(url, {"action": "hide", "reason": "Advert"})
    assert response.status_code == 200
    assert response.json()["is_hidden"] is True
    assert Flag.objects.get().status == FlagStatus.HIDDEN
    assert_error(_api(moderator).post(url, {"action": "dismiss"}), 400, "invalid", {"post"})
    response = _api(moderator).post(url, {"action": "restore"})
    assert response.json()["is_hidden"] is False
    response = _api(moderator).post(url, {"action": "delete"})
    assert response.json()["is_deleted"] is True
    assert [e.action for e in ModerationLog.objects.order_by("id")] == ["hide", "restore", "delete"]


# --- topics --------------------------------------------------------------------------------
def test_topic_actions_permissions(topic: Topic, moderator: User) -> None:
    url = f"{BASE}/t/{topic.pk}/moderate/"
    assert_error(_api().post(url, {"action": "pin"}), 401)
    assert_error(_api(make_member().user).post(url, {"action": "pin"}), 403)
    assert_error(_api(topic.author).post(url, {"action": "pin"}), 403)
    lounge = make_category(required_role="facilitator")
    secret = make_topic(category=lounge, author=moderator)
    assert_error(
        _api(make_member().user).post(f"{BASE}/t/{secret.pk}/moderate/", {"action": "pin"}), 404
    )
    assert_error(_api(moderator).post(f"{BASE}/t/999999/moderate/", {"action": "pin"}), 404)
    assert not ModerationLog.objects.exists()


def test_toggles(topic: Topic, moderator: User) -> None:
    url = f"{BASE}/t/{topic.pk}/moderate/"
    api = _api(moderator)
    for action, field, value in (
        ("pin", "is_pinned", True),
        ("lock", "is_locked", True),
        ("close", "is_closed", True),
        ("reopen", "is_closed", False),
    ):
        response = api.post(url, {"action": action})
        assert response.status_code == 200, action
        assert response.json()[field] is value
    assert_error(api.post(url, {"action": "pin"}), 400, "invalid", {"action"})
    assert_error(api.post(url, {"action": "teleport"}), 400, "invalid", {"action"})


def test_move(topic: Topic, moderator: User) -> None:
    url = f"{BASE}/t/{topic.pk}/moderate/"
    api = _api(moderator)
    assert_error(api.post(url, {"action": "move"}), 400, "invalid", {"category"})
    assert_error(
        api.post(url, {"action": "move", "category": "nowhere"}), 400, "invalid", {"category"}
    )
    assert_error(
        api.post(url, {"action": "move", "category": topic.category.slug}),
        400,
        "invalid",
        {"category"},
    )
    target = make_category()
    response = api.post(url, {"action": "move", "category": target.slug, "reason": "Fits"})
    assert response.status_code == 200
    assert response.json()["category"] == target.slug
    assert Category.objects.get(pk=target.pk).topic_count == 1


def test_merge(moderator: User) -> None:
    source, into = make_topic(replies=1), make_topic(replies=2)
    url = f"{BASE}/t/{source.pk}/moderate/"
    api = _api(moderator)
    assert_error(api.post(url, {"action": "merge"}), 400, "invalid", {"into"})
    assert_error(api.post(url, {"action": "merge", "into": 999999}), 400, "invalid", {"into"})
    assert_error(api.post(url, {"action": "merge", "into": source.pk}), 400, "invalid", {"into"})
    assert_error(api.post(url, {"action": "merge", "into": "x"}), 400, "invalid", {"into"})
    response = api.post(url, {"action": "merge", "into": into.pk})
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == into.pk
    assert body["last_post_number"] == 5
    assert body["reply_count"] == 4
    # The merged topic refuses any further action.
    assert_error(api.post(url, {"action": "pin"}), 400, "invalid", {"topic"})
    assert_error(api.post(url, {"action": "merge", "into": make_topic().pk}), 400, "invalid")


def test_delete(topic: Topic, moderator: User) -> None:
    url = f"{BASE}/t/{topic.pk}/moderate/"
    response = _api(moderator).post(url, {"action": "delete", "reason": "Spam"})
    assert response.status_code == 200
    assert response.json()["is_deleted"] is True
    assert_error(_api(moderator).post(url, {"action": "delete"}), 400, "invalid", {"topic"})


# --- the log -------------------------------------------------------------------------------
def test_log(topic: Topic, moderator: User) -> None:
    url = f"{BASE}/log/"
    assert_error(_api().get(url), 401)
    assert_error(_api(make_member().user).get(url), 403)
    other = make_moderator("otherapi")
    services.topic_moderate(moderator=moderator, topic=topic, action="pin", reason="FAQ")
    services.topic_moderate(moderator=other, topic=topic, action="lock")
    body = _api(moderator).get(url).json()
    assert body["count"] == 2
    assert [e["action"] for e in body["results"]] == ["lock", "pin"]
    assert body["results"][1]["reason"] == "FAQ"
    assert body["results"][1]["topic"] == topic.pk
    by_action = _api(moderator).get(url, {"action": "pin"}).json()
    assert [e["action"] for e in by_action["results"]] == ["pin"]
    by_mod = _api(moderator).get(url, {"moderator": "otherapi"}).json()
    assert [e["moderator"] for e in by_mod["results"]] == ["otherapi"]
    assert_error(_api(moderator).get(url, {"moderator": "ghost"}), 400, "invalid", {"moderator"})
    assert_error(_api(moderator).get(url, {"action": "x"}), 400, "invalid", {"action"})


def test_operations_are_in_the_schema() -> None:
    schema = APIClient().get("/api/v1/schema/", {"format": "json"}).json()
    for path in (
        "/api/v1/forums/p/{id}/flag/",
        "/api/v1/forums/review/",
        "/api/v1/forums/review/p/{id}/",
        "/api/v1/forums/t/{id}/moderate/",
        "/api/v1/forums/log/",
    ):
        assert path in schema["paths"], path
