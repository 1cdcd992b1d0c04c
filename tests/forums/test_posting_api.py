"""The posting API: topics, replies, edits, deletes, history, preview, drafts; retries
with client_id; permissions; trust limits as 429 with Retry-After."""

import uuid
from typing import Any

import pytest
from rest_framework.test import APIClient

from community.forums.models import Draft, Post, PostRevision, Topic
from community.models import User
from tests.factories import SkillFactory, make_member
from tests.forums.factories import make_category, make_moderator, make_post, make_topic

pytestmark = pytest.mark.django_db
API = "/api/v1/forums/"


def _api(user: User | None = None) -> APIClient:
    api = APIClient()
    if user is not None:
        api.force_authenticate(user)
    return api


def _topic_data(**changes: Any) -> dict[str, Any]:
    return {
        "category": "qc",
        "kind": "question",
        "title": "Endotoxin results out of trend",
        "body": "Our LAL results drift upwards; ideas?",
        **changes,
    }


def test_anonymous_cannot_write() -> None:
    topic = make_topic()
    opening = topic.posts.get(number=1)
    api = _api()
    for method, url in [
        ("post", "new-topic/"),
        ("post", f"t/{topic.pk}/reply/"),
        ("patch", f"p/{opening.pk}/edit/"),
        ("post", f"p/{opening.pk}/delete/"),
        ("post", "preview/"),
        ("get", "drafts/"),
        ("put", "drafts/new-topic/"),
    ]:
        response = getattr(api, method)(API + url, {}, format="json")
        assert response.status_code == 401, (method, url)
        assert response.json()["error"]["code"] == "not_authenticated"
    assert Post.objects.count() == 1


def test_create_topic_and_retry_with_the_same_client_id() -> None:
    make_category(slug="qc")
    skill = SkillFactory()
    member = make_member().user
    data = _topic_data(skills=[skill.slug], client_id=str(uuid.uuid4()))
    first = _api(member).post(API + "new-topic/", data, format="json")
    assert first.status_code == 201, first.json()
    body = first.json()
    assert body["topic"]["skills"] == [skill.slug]
    assert body["topic"]["kind"] == "question"
    assert body["post"]["number"] == 1
    again = _api(member).post(API + "new-topic/", data, format="json")
    assert again.status_code == 200
    assert again.json()["topic"]["id"] == body["topic"]["id"]
    assert Topic.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"category": "nope"}, "category"),
        ({"category": "lounge"}, "category"),
        ({"title": ""}, "title"),
        ({"title": "short"}, "title"),
        ({"body": ""}, "body"),
        ({"body": "x" * 20001}, "body"),
        ({"skills": ["no-such-skill"]}, "skills"),
        ({"kind": "poll"}, "kind"),
        ({"surprise": 1}, "surprise"),
        ({"client_id": "not-a-uuid"}, "client_id"),
    ],
)
def test_bad_topic_input(changes: dict[str, Any], field: str) -> None:
    make_category(slug="qc")
    make_category(slug="lounge", required_role="facilitator")
    response = _api(make_member().user).post(
        API + "new-topic/", _topic_data(**changes), format="json"
    )
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not Topic.objects.exists()


def test_reply_with_reply_to_and_retry() -> None:
    topic = make_topic(replies=1)
    second = topic.posts.get(number=2)
    member = make_member().user
    data = {"body": "Agreed, check the feed", "reply_to": second.pk, "client_id": str(uuid.uuid4())}
    first = _api(member).post(API + f"t/{topic.pk}/reply/", data, format="json")
    assert first.status_code == 201
    assert first.json()["reply_to"] == 2
    assert first.json()["number"] == 3
    again = _api(member).post(API + f"t/{topic.pk}/reply/", data, format="json")
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert Post.objects.filter(topic=topic).count() == 3


def test_reply_errors() -> None:
    member = make_member().user
    api = _api(member)
    topic = make_topic()
    elsewhere = make_topic(replies=1).posts.get(number=2)
    response = api.post(
        API + f"t/{topic.pk}/reply/", {"body": "x y", "reply_to": elsewhere.pk}, format="json"
    )
    assert response.status_code == 400
    assert "reply_to" in response.json()["error"]["fields"]
    assert api.post(API + "t/999999/reply/", {"body": "Hello"}, format="json").status_code == 404
    lounge = make_category(required_role="facilitator")
    hidden = make_topic(category=lounge, author=make_member(roles=("facilitator",)).user)
    assert api.post(API + f"t/{hidden.pk}/reply/", {"body": "Hi"}, format="json").status_code == 404
    Topic.objects.filter(pk=topic.pk).update(is_closed=True)
    assert (
        api.post(API + f"t/{topic.pk}/reply/", {"body": "Late"}, format="json").status_code == 403
    )
    assert (
        api.post(API + f"t/{topic.pk}/reply/", ["not", "an", "object"], format="json").status_code
        == 400
    )
    assert not Post.objects.filter(author=member).exists()


def test_trust_limit_is_429_with_retry_after(settings: Any) -> None:
    settings.FORUM_TRUST_LIMITS_ENABLED = True
    topic = make_topic()
    member = make_member().user
    api = _api(member)
    for i in range(3):
        assert (
            api.post(
                API + f"t/{topic.pk}/reply/", {"body": f"Reply {i}"}, format="json"
            ).status_code
            == 201
        )
    response = api.post(API + f"t/{topic.pk}/reply/", {"body": "Too fast"}, format="json")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response.json()["error"]["code"] == "throttled"
    links = " ".join(f"https://{i}.example" for i in range(3))
    Post.objects.filter(author=member).delete()
    response = api.post(API + f"t/{topic.pk}/reply/", {"body": links}, format="json")
    assert response.status_code == 400
    assert "body" in response.json()["error"]["fields"]


def test_edit_permissions_and_revisions() -> None:
    author = make_member().user
    topic = make_topic(author=author)
    opening = topic.posts.get(number=1)
    url = API + f"p/{opening.pk}/edit/"
    assert (
        _api(make_member().user).patch(url, {"body": "Mine now"}, format="json").status_code == 403
    )
    response = _api(author).patch(
        url,
        {"body": "Better text", "title": "A clearer topic title", "kind": "question"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["edit_count"] == 1
    assert Topic.objects.get(pk=topic.pk).title == "A clearer topic title"
    reply = make_post(topic=topic)
    bad = _api(reply.author).patch(
        API + f"p/{reply.pk}/edit/", {"body": "x y", "title": "Not allowed here"}, format="json"
    )
    assert bad.status_code == 400
    moderator = _api(make_moderator())
    assert (
        moderator.patch(
            API + f"p/{reply.pk}/edit/", {"body": "Moderated"}, format="json"
        ).status_code
        == 200
    )
    history = _api().get(API + f"p/{opening.pk}/history/")
    assert history.status_code == 200
    assert [v["number"] for v in history.json()] == [1, 2]
    assert history.json()[0]["title"] == topic.title
    assert history.json()[1]["is_current"] is True
    assert PostRevision.objects.count() == 2


def test_history_of_invisible_posts_is_not_found() -> None:
    lounge = make_category(required_role="facilitator")
    topic = make_topic(category=lounge, author=make_member(roles=("facilitator",)).user)
    opening = topic.posts.get(number=1)
    assert _api().get(API + f"p/{opening.pk}/history/").status_code == 404
    assert _api(make_member().user).get(API + f"p/{opening.pk}/history/").status_code == 404
    assert _api(make_moderator()).get(API + f"p/{opening.pk}/history/").status_code == 200


def test_delete_and_undelete() -> None:
    topic = make_topic(replies=1)
    reply = topic.posts.get(number=2)
    assert _api(make_member().user).post(API + f"p/{reply.pk}/delete/").status_code == 403
    response = _api(reply.author).post(API + f"p/{reply.pk}/delete/", {}, format="json")
    assert response.status_code == 200
    assert response.json()["is_deleted"] is True
    assert _api(reply.author).post(API + f"p/{reply.pk}/delete/").status_code == 404
    assert _api(reply.author).post(API + f"p/{reply.pk}/undelete/").status_code == 404
    restored = _api(make_moderator()).post(
        API + f"p/{reply.pk}/undelete/", {"reason": "ok"}, format="json"
    )
    assert restored.status_code == 200
    assert restored.json()["is_deleted"] is False


def test_preview() -> None:
    api = _api(make_member().user)
    response = api.post(API + "preview/", {"body": "**hi**"}, format="json")
    assert response.json() == {"html": "<p><strong>hi</strong></p>\n"}
    assert api.post(API + "preview/", {"body": "x" * 20001}, format="json").status_code == 400


def test_drafts_put_get_delete(django_assert_max_num_queries: Any) -> None:
    make_category(slug="qc")
    topic = make_topic(replies=1)
    second = topic.posts.get(number=2)
    member = make_member().user
    api = _api(member)
    assert api.get(API + "drafts/new-topic/").status_code == 404
    saved = api.put(
        API + "drafts/new-topic/",
        {"category": "qc", "title": "Half", "kind": "question", "body": "Half a text"},
        format="json",
    )
    assert saved.status_code == 200
    assert saved.json()["category"] == "qc"
    assert api.get(API + "drafts/new-topic/").json()["body"] == "Half a text"
    reply = api.put(
        API + f"drafts/t/{topic.pk}/", {"body": "Reply text", "reply_to": second.pk}, format="json"
    )
    assert reply.json()["reply_to"] == second.pk
    with django_assert_max_num_queries(6):
        listing = api.get(API + "drafts/")
    assert listing.json()["count"] == 2
    assert api.put(API + f"drafts/t/{topic.pk}/", {"body": ""}, format="json").status_code == 204
    assert api.delete(API + "drafts/new-topic/").status_code == 204
    assert not Draft.objects.exists()


def test_bad_drafts() -> None:
    lounge = make_category(slug="lounge", required_role="facilitator")
    hidden = make_topic(category=lounge, author=make_member(roles=("facilitator",)).user)
    api = _api(make_member().user)
    assert (
        api.put(
            API + "drafts/new-topic/", {"category": "lounge", "body": "x"}, format="json"
        ).status_code
        == 400
    )
    assert api.put(API + f"drafts/t/{hidden.pk}/", {"body": "x"}, format="json").status_code == 404
    assert (
        api.put(API + "drafts/new-topic/", {"body": "x" * 20001}, format="json").status_code == 400
    )
    assert (
        api.put(
            API + "drafts/new-topic/", {"skills": ["nope"], "body": "x"}, format="json"
        ).status_code
        == 400
    )
    other = make_topic(replies=1).posts.get(number=2)
    topic = make_topic()
    response = api.put(
        API + f"drafts/t/{topic.pk}/", {"body": "x", "reply_to": other.pk}, format="json"
    )
    assert response.status_code == 400
    assert not Draft.objects.exists()
