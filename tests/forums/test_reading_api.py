"""The reading API: categories, topic lists, a topic with its posts, read positions and
bookmarks; permissions (anonymous, member, author, moderator), bad input, query counts."""

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import resolve
from rest_framework.test import APIClient

from community.forums.api import reading as api
from community.forums.models import Bookmark, Post, ReadState, Topic, TopicKind
from community.forums.services import reading as svc
from community.models import User
from tests.api.helpers import assert_error
from tests.factories import SkillFactory, make_member
from tests.forums.factories import make_category, make_moderator, make_post, make_topic

pytestmark = pytest.mark.django_db

BASE = "/api/v1/forums/"


def _api(user: User | None = None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def _queries(fn: Any) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = fn()
    assert response.status_code == 200, response.content[:300]
    return len(ctx.captured_queries)


@pytest.fixture
def lounge_topic() -> Topic:
    lounge = make_category(name="Lounge", required_role="facilitator")
    return make_topic(author=make_member(roles=("facilitator",)).user, category=lounge)


def test_our_get_routes_are_not_shadowed_by_other_areas() -> None:
    """Other areas' URL lists come first: each of our addresses must still reach us."""
    expected = {
        "categories/": api.CategoryListView,
        "c/some-category/": api.CategoryTopicsView,
        "topics/": api.TopicListView,
        "t/1/": api.TopicDetailView,
        "t/1/read/": api.ReadPositionView,
        "bookmarks/": api.BookmarkListView,
        "bookmarks/1/": api.BookmarkDetailView,
    }
    for path, view in expected.items():
        assert resolve(BASE + path).func.view_class is view, path  # type: ignore[attr-defined]


# --- categories --------------------------------------------------------------------------------
def test_categories_for_visitors_members_and_moderators(lounge_topic: Topic) -> None:
    reader = make_member().user  # joined before the topic: it is new to them
    public = make_category(name="Upstream")
    make_topic(category=public)
    names = lambda r: [c["name"] for c in r.json()]  # noqa: E731
    anon = _api().get(BASE + "categories/")
    assert "Lounge" not in names(anon)
    assert "Upstream" in names(anon)
    row = next(c for c in anon.json() if c["name"] == "Upstream")
    assert (row["unread_count"], row["new_count"]) == (None, None)
    member = _api(reader).get(BASE + "categories/")
    assert "Lounge" not in names(member)
    row = next(c for c in member.json() if c["name"] == "Upstream")
    assert (row["unread_count"], row["new_count"]) == (0, 1)
    assert "Lounge" in names(_api(make_moderator()).get(BASE + "categories/"))


def test_category_topics_sorted_pinned_first_and_restricted_is_not_found(
    lounge_topic: Topic,
) -> None:
    category = make_category()
    pinned, quiet, liked = (make_topic(category=category) for _ in range(3))
    Topic.objects.filter(pk=pinned.pk).update(is_pinned=True)
    Topic.objects.filter(pk=liked.pk).update(reaction_count=3)
    response = _api().get(f"{BASE}c/{category.slug}/", {"sort": "top"})
    assert [t["id"] for t in response.json()["results"]] == [pinned.pk, liked.pk, quiet.pk]
    first = response.json()["results"][0]
    assert first["unread_count"] is None
    assert first["last_read_number"] is None
    assert_error(
        _api().get(f"{BASE}c/{category.slug}/", {"sort": "best"}), 400, "invalid", {"sort"}
    )
    slug = lounge_topic.category.slug
    assert_error(_api(make_member().user).get(f"{BASE}c/{slug}/"), 404, "not_found")
    assert _api(make_moderator()).get(f"{BASE}c/{slug}/").status_code == 200


# --- topic lists -------------------------------------------------------------------------------
def test_topic_list_sorts_filters_and_refuses_bad_input(lounge_topic: Topic) -> None:
    reader = make_member().user
    skill = SkillFactory(slug="reading-api-skill", name="Viral clearance")
    tagged = make_topic(skills=[skill.slug], kind=TopicKind.QUESTION)
    other = make_topic()
    svc.read_position_update(user=reader, topic=other, number=1)
    make_post(topic=other)
    client = _api(reader)
    ids = lambda r: [t["id"] for t in r.json()["results"]]  # noqa: E731
    assert ids(client.get(BASE + "topics/")) == [other.pk, tagged.pk]
    assert ids(client.get(BASE + "topics/", {"tag": skill.slug})) == [tagged.pk]
    assert ids(client.get(BASE + "topics/", {"filter": "unread"})) == [other.pk]
    assert ids(client.get(BASE + "topics/", {"filter": "new"})) == [tagged.pk]
    assert ids(client.get(BASE + "topics/", {"sort": "unanswered"})) == [tagged.pk]
    row = client.get(BASE + "topics/", {"filter": "unread"}).json()["results"][0]
    assert (row["unread_count"], row["last_read_number"], row["is_new"]) == (1, 1, False)
    assert_error(client.get(BASE + "topics/", {"sort": "hot"}), 400, "invalid", {"sort"})
    assert_error(client.get(BASE + "topics/", {"filter": "all"}), 400, "invalid", {"filter"})
    assert_error(client.get(BASE + "topics/", {"tag": "nope"}), 400, "invalid", {"tag"})
    missing = client.get(BASE + "topics/", {"category": "nope"})
    hidden = client.get(BASE + "topics/", {"category": lounge_topic.category.slug})
    assert assert_error(missing, 400, "invalid", {"category"}) == assert_error(
        hidden, 400, "invalid", {"category"}
    )
    assert_error(client.get(BASE + "topics/", {"page": "99"}), 404)
    assert_error(client.get(BASE + "topics/", {"page": "x"}), 404)
    assert_error(_api().get(BASE + "topics/", {"filter": "new"}), 401)
    assert lounge_topic.pk not in ids(client.get(BASE + "topics/"))
    assert lounge_topic.pk in ids(_api(make_moderator()).get(BASE + "topics/"))


# --- a topic -----------------------------------------------------------------------------------
def test_topic_detail_pages_posts_and_says_where_to_resume(settings: Any) -> None:
    settings.FORUM_POSTS_PER_PAGE = 20
    topic = make_topic(replies=24)  # 25 posts: 2 pages
    reader = make_member().user
    svc.read_position_update(user=reader, topic=topic, number=21)
    body = _api(reader).get(f"{BASE}t/{topic.pk}/", {"page": 2}).json()
    assert body["count"] == 25
    assert [p["number"] for p in body["results"]] == [21, 22, 23, 24, 25]
    assert body["next"] is None
    assert body["previous"] is not None
    meta = body["topic"]
    assert (meta["first_unread_number"], meta["first_unread_page"]) == (22, 2)
    assert (meta["last_read_number"], meta["unread_count"]) == (21, 4)
    assert meta["can_reply"] is True
    assert meta["is_moderator"] is False
    # Reading through the API does not move the read position.
    assert ReadState.objects.get(user=reader, topic=topic).last_read_number == 21
    anon = _api().get(f"{BASE}t/{topic.pk}/").json()
    assert anon["topic"]["last_read_number"] is None
    assert anon["topic"]["unread_count"] is None
    assert anon["topic"]["can_reply"] is False
    assert anon["results"][0]["my_reactions"] == []


def test_topic_detail_bad_pages_and_invisible_topics(lounge_topic: Topic) -> None:
    topic = make_topic(replies=1)
    error = assert_error(_api().get(f"{BASE}t/{topic.pk}/", {"page": 3}), 404, "not_found")
    assert "page 3" in error["message"]
    assert_error(_api().get(f"{BASE}t/{topic.pk}/", {"page": "abc"}), 400, "invalid", {"page"})
    assert_error(_api().get(f"{BASE}t/{topic.pk}/", {"page": "0"}), 400, "invalid", {"page"})
    assert_error(_api().get(f"{BASE}t/999999/"), 404, "not_found")
    assert_error(_api(make_member().user).get(f"{BASE}t/{lounge_topic.pk}/"), 404, "not_found")
    Topic.objects.filter(pk=topic.pk).update(is_deleted=True)
    assert_error(_api(make_moderator()).get(f"{BASE}t/{topic.pk}/"), 404, "not_found")


def test_hidden_posts_reach_author_and_moderators_only() -> None:
    topic = make_topic(replies=1)
    hidden = topic.posts.get(number=2)
    Post.objects.filter(pk=hidden.pk).update(is_hidden=True)
    numbers = lambda c: [p["number"] for p in c.get(f"{BASE}t/{topic.pk}/").json()["results"]]  # noqa: E731
    assert numbers(_api()) == [1]
    assert numbers(_api(make_member().user)) == [1]
    assert numbers(_api(hidden.author)) == [1, 2]
    assert numbers(_api(make_moderator())) == [1, 2]


# --- read position -----------------------------------------------------------------------------
def test_read_position_moves_forward_only(lounge_topic: Topic) -> None:
    topic = make_topic(replies=3)
    reader = make_member().user
    url = f"{BASE}t/{topic.pk}/read/"
    assert_error(_api().post(url, {"number": 2}), 401)
    client = _api(reader)
    assert client.post(url, {"number": 3}).json() == {"topic": topic.pk, "last_read_number": 3}
    assert client.post(url, {"number": 1}).json()["last_read_number"] == 3
    assert client.post(url, {"number": 50}).json()["last_read_number"] == 4
    for bad in ({"number": 0}, {"number": "x"}, {}, {"number": None}):
        assert_error(client.post(url, bad), 400, "invalid", {"number"})
    assert_error(client.post(f"{BASE}t/{lounge_topic.pk}/read/", {"number": 1}), 404)
    assert ReadState.objects.get(user=reader, topic=topic).last_read_number == 4
    assert ReadState.objects.filter(user=reader).count() == 1


# --- bookmarks ---------------------------------------------------------------------------------
def test_bookmarks_crud(lounge_topic: Topic) -> None:
    topic = make_topic(replies=1)
    post = topic.posts.get(number=2)
    reader = make_member().user
    client = _api(reader)
    created = client.post(BASE + "bookmarks/", {"post": post.pk, "note": "feed strategy"})
    assert created.status_code == 201
    bookmark_id = created.json()["id"]
    assert created.json()["post"]["topic_id"] == topic.pk
    again = client.post(BASE + "bookmarks/", {"post": post.pk, "note": "better note"})
    assert again.status_code == 200
    assert again.json()["id"] == bookmark_id
    assert Bookmark.objects.get().note == "better note"
    listed = client.get(BASE + "bookmarks/").json()
    assert [b["id"] for b in listed["results"]] == [bookmark_id]
    url = f"{BASE}bookmarks/{bookmark_id}/"
    assert client.patch(url, {"note": "x"}).json()["note"] == "x"
    assert_error(client.patch(url, {"note": "y" * 201}), 400, "invalid", {"note"})
    assert_error(client.post(BASE + "bookmarks/", {"post": 999999}), 400, "invalid", {"post"})
    assert_error(
        client.post(BASE + "bookmarks/", {"post": lounge_topic.posts.get().pk}),
        400,
        "invalid",
        {"post"},
    )
    assert_error(client.post(BASE + "bookmarks/", {"post": "abc"}), 400, "invalid", {"post"})
    # Someone else's bookmark does not exist for you.
    stranger = _api(make_member().user)
    assert_error(stranger.get(url), 404)
    assert_error(stranger.patch(url, {"note": "mine"}), 404)
    assert_error(stranger.delete(url), 404)
    assert_error(_api().get(BASE + "bookmarks/"), 401)
    assert Bookmark.objects.get().note == "x"
    assert client.delete(url).status_code == 204
    assert not Bookmark.objects.exists()
    assert_error(client.delete(url), 404)


# --- query counts ------------------------------------------------------------------------------
def test_api_query_counts_do_not_grow(django_assert_max_num_queries: Any) -> None:
    reader = make_member().user
    client = _api(reader)
    small_cat, big_cat = make_category(), make_category()
    small = make_topic(category=small_cat, replies=4)
    big = make_topic(category=big_cat, replies=59)
    skill = SkillFactory(slug="reading-api-count", name="Counting")
    for _ in range(4):
        make_topic(category=small_cat, skills=[skill.slug])
    for i in range(49):
        t = make_topic(category=big_cat, skills=[skill.slug])
        if i % 3 == 0:
            svc.read_position_update(user=reader, topic=t, number=1)
    for post in list(small.posts.all()) + list(big.posts.all()):
        svc.bookmark_add(user=reader, post=post, note="n")

    client.get(BASE + "categories/")  # warm the per-user caches (permissions, roles)

    def pair(fn: Any) -> None:
        counts = [fn(x) for x in (0, 1)]
        assert counts[0] == counts[1], counts

    pair(lambda i: _queries(lambda: client.get(f"{BASE}t/{(small, big)[i].pk}/")))
    pair(lambda i: _queries(lambda: client.get(f"{BASE}c/{(small_cat, big_cat)[i].slug}/")))
    pair(lambda i: _queries(lambda: _api().get(f"{BASE}t/{(small, big)[i].pk}/")))
    for url in ("categories/", "topics/", "topics/?filter=new", "topics/?filter=unread",
                f"topics/?tag={skill.slug}", "bookmarks/", f"t/{big.pk}/?page=2",
                f"c/{big_cat.slug}/?sort=top"):  # fmt: skip
        with django_assert_max_num_queries(11):
            assert client.get(BASE + url).status_code == 200, url
