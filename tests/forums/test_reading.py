"""Reading the forums: the index, lists, new/unread, read positions, the topic page,
post links, bookmarks, permissions, bad input and constant query counts."""

import datetime as dt
import re
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from community.forums.models import (
    Bookmark,
    CategoryWatch,
    Flag,
    Post,
    Reaction,
    ReadState,
    Topic,
    TopicKind,
    TopicWatch,
    WatchLevel,
)
from community.forums.selectors import reading as sel
from community.forums.services import reading as svc
from community.models import User
from tests.factories import SkillFactory, make_member
from tests.forums.factories import make_category, make_moderator, make_post, make_topic

pytestmark = pytest.mark.django_db


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _old_member(**kwargs: Any) -> User:
    """A member who joined a month ago (so topics of the last 14 days can be new)."""
    user = make_member(**kwargs).user
    User.objects.filter(pk=user.pk).update(date_joined=timezone.now() - dt.timedelta(days=30))
    return User.objects.get(pk=user.pk)


def _count_queries(fn: Any) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


# --- read positions ----------------------------------------------------------------------------
def test_read_position_only_moves_forward_and_is_clamped() -> None:
    topic = make_topic(replies=4)  # posts 1..5
    reader = make_member().user
    assert svc.read_position_update(user=reader, topic=topic, number=3).last_read_number == 3
    assert svc.read_position_update(user=reader, topic=topic, number=2).last_read_number == 3
    assert svc.read_position_update(user=reader, topic=topic, number=99).last_read_number == 5
    assert ReadState.objects.filter(user=reader, topic=topic).count() == 1


@pytest.mark.parametrize("number", [0, -1, "3", 2.5, True, None])
def test_read_position_refuses_bad_numbers_and_changes_nothing(number: Any) -> None:
    topic = make_topic(replies=2)
    reader = make_member().user
    svc.read_position_update(user=reader, topic=topic, number=2)
    with pytest.raises(ValidationError) as exc:
        svc.read_position_update(user=reader, topic=topic, number=number)
    assert "number" in exc.value.message_dict
    assert ReadState.objects.get(user=reader, topic=topic).last_read_number == 2


def test_read_position_in_a_restricted_topic_is_refused() -> None:
    topic = make_topic(author=make_member(roles=("facilitator",)).user,
                       category=make_category(required_role="facilitator"))  # fmt: skip
    outsider = make_member().user
    with pytest.raises(PermissionDenied):
        svc.read_position_update(user=outsider, topic=topic, number=1)
    assert not ReadState.objects.filter(user=outsider).exists()


# --- new and unread ----------------------------------------------------------------------------
def test_new_is_recent_unopened_topics_by_others_since_joining() -> None:
    reader = _old_member()
    category = make_category()
    fresh = make_topic(category=category)
    old = make_topic(category=category)
    Topic.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=15))
    before_joining = make_topic(category=category)
    Topic.objects.filter(pk=before_joining.pk).update(
        created_at=timezone.now() - dt.timedelta(days=31)
    )
    make_topic(category=category, author=reader)  # own topic
    opened = make_topic(category=category)
    svc.read_position_update(user=reader, topic=opened, number=1)
    muted = make_topic(category=category)
    TopicWatch.objects.create(user=reader, topic=muted, level=WatchLevel.MUTED)

    new = list(sel.topic_list(user=reader, list_filter="new"))
    assert new == [fresh]
    assert sel.category_reader_counts(reader)[category.pk] == (0, 1)


def test_a_new_member_sees_only_topics_since_they_joined_as_new() -> None:
    make_topic()
    newcomer = make_member().user
    later = make_topic()
    assert list(sel.topic_list(user=newcomer, list_filter="new")) == [later]


def test_unread_lists_opened_topics_with_later_posts_and_leaves_out_muted() -> None:
    reader = _old_member()
    category = make_category()
    read_all, has_more, muted = (make_topic(category=category) for _ in range(3))
    muted_cat_topic = make_topic(category=make_category())
    for topic in (read_all, has_more, muted, muted_cat_topic):
        svc.read_position_update(user=reader, topic=topic, number=1)
    for topic in (has_more, muted, muted_cat_topic):
        make_post(topic=topic)
        make_post(topic=topic)
    TopicWatch.objects.create(user=reader, topic=muted, level=WatchLevel.MUTED)
    CategoryWatch.objects.create(
        user=reader, category=muted_cat_topic.category, level=WatchLevel.MUTED
    )

    unread = sel.topics_mark_for_reader(
        list(sel.topic_list(user=reader, list_filter="unread")), reader
    )
    assert unread == [has_more]
    assert unread[0].unread_count == 2
    counts = sel.category_reader_counts(reader)
    assert counts[category.pk] == (1, 0)
    assert muted_cat_topic.category_id not in counts


def test_anonymous_visitors_get_no_new_or_unread_and_no_counts() -> None:
    from django.contrib.auth.models import AnonymousUser

    make_topic()
    anon = AnonymousUser()
    assert list(sel.topic_list(user=anon, list_filter="new")) == []
    assert sel.category_reader_counts(anon) == {}


# --- sorting -----------------------------------------------------------------------------------
def test_top_sorts_by_reactions_then_replies() -> None:
    category = make_category()
    quiet, busy, liked = (make_topic(category=category) for _ in range(3))
    make_post(topic=busy)
    Topic.objects.filter(pk=liked.pk).update(reaction_count=5)
    assert list(sel.topic_list(user=make_member().user, sort="top")) == [liked, busy, quiet]


def test_unanswered_is_open_questions_and_discussions_without_replies() -> None:
    category = make_category()
    lonely = make_topic(category=category)
    make_topic(category=category, replies=1)  # answered discussion
    open_question = make_topic(category=category, kind=TopicKind.QUESTION, replies=1)
    solved = make_topic(category=category, kind=TopicKind.QUESTION, replies=1)
    Topic.objects.filter(pk=solved.pk).update(accepted_post=solved.posts.get(number=2))
    found = set(sel.topic_list(user=make_member().user, sort="unanswered"))
    assert found == {lonely, open_question}


def test_category_page_lists_pinned_topics_first_and_subcategory_topics() -> None:
    parent = make_category()
    child = make_category(parent=parent)
    pinned = make_topic(category=parent)
    Topic.objects.filter(pk=pinned.pk).update(is_pinned=True)
    in_child = make_topic(category=child)
    latest = make_topic(category=parent)
    response = Client().get(reverse("forums:category", args=[parent.slug]))
    assert [t.pk for t in response.context["topics"]] == [pinned.pk, latest.pk, in_child.pk]
    assert b"Pinned" in response.content


def test_tag_page_lists_topics_tagged_with_the_skill() -> None:
    skill = SkillFactory(slug="reading-test-tff", name="Tangential flow filtration")
    tagged = make_topic(skills=[skill.slug])
    make_topic()
    response = Client().get(reverse("forums:tag", args=[skill.slug]))
    assert response.status_code == 200
    assert [t.pk for t in response.context["topics"]] == [tagged.pk]
    assert Client().get(reverse("forums:tag", args=["no-such-skill"])).status_code == 404


def test_list_rows_show_state_badges_tags_and_escape_member_text() -> None:
    """The rows of a topic list (community/forums/list_html.py): pinned (on category pages
    only), solved or open question, closed, locked, new, unread counts, category, author,
    skill tags and the activity time; titles and names are escaped."""
    category = make_category(name="Upstream & <cell> culture", slug="upstream-rows")
    skill = SkillFactory(slug="rows-tff", name="TFF <b>")
    author = make_member("rows-author", display_name='Ama "<script>"').user
    question = make_topic(
        category=category,
        author=author,
        title="Why <i>does</i> viability drop?",
        kind=TopicKind.QUESTION,
        skills=[skill.slug],
        replies=3,
    )
    Topic.objects.filter(pk=question.pk).update(is_pinned=True, is_closed=True, is_locked=True)
    reader = make_member().user
    svc.read_position_update(user=reader, topic=question, number=1)
    client = _client(reader)
    html = client.get(reverse("forums:latest")).content.decode()
    row = html[
        html.index('<li class="topic-row') : html.index("</li>", html.index('<li class="topic-row'))
    ]
    assert 'class="topic-row"' in row  # pinned rows stand out on category pages only
    assert "badge pinned" not in row
    assert (
        f'<a href="{question.get_absolute_url()}">Why &lt;i&gt;does&lt;/i&gt; viability drop?</a>'
        in row
    )
    assert '3 unread<span class="visually-hidden"> posts</span>' in row
    assert '<span class="badge question">Question</span>' in row
    assert '<span class="badge">Closed</span> <span class="badge">Locked</span>' in row
    assert (
        f'<a href="{category.get_absolute_url()}">Upstream &amp; &lt;cell&gt; culture</a> ·' in row
    )
    assert "by Ama &quot;&lt;script&gt;&quot;" in row
    assert '<a class="tag" href="/forums/tags/rows-tff/">TFF &lt;b&gt;</a>' in row
    assert "<dt>Replies</dt><dd>3</dd>" in row
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT[^"]+" title="[^"]+">[^<]+ ago</time>', row)
    Topic.objects.filter(pk=question.pk).update(accepted_post=question.posts.get(number=2))
    svc.read_position_update(user=reader, topic=question, number=3)
    page = client.get(reverse("forums:category", args=[category.slug])).content.decode()
    row = page[page.index('<li class="topic-row') :]
    assert row.startswith('<li class="topic-row is-pinned">')
    assert '<span class="badge pinned">Pinned</span> <a href=' in row
    assert '<span class="badge solved">Solved</span>' in row
    assert '1 unread<span class="visually-hidden"> post</span>' in row
    assert "Upstream &amp;" not in row.split("</li>")[0]  # no subcategories: no category link


# --- the index ---------------------------------------------------------------------------------
def test_index_shows_categories_in_order_nested_one_level_with_counts() -> None:
    second = make_category(position=2, name="Downstream")
    first = make_category(position=1, name="Upstream")
    child = make_category(parent=first, name="Cell culture media")
    make_topic(category=child, replies=2)
    index = sel.category_index(make_member().user)
    assert [c.pk for c in index] == [first.pk, second.pk]
    assert [c.pk for c in index[0].subcategories] == [child.pk]
    sub = index[0].subcategories[0]
    assert (sub.topic_count, sub.post_count) == (1, 3)
    assert sub.last_topic_title.startswith("Test topic")


def test_index_counts_unread_and_new_per_category_for_the_viewer() -> None:
    reader = _old_member()
    category = make_category()
    make_topic(category=category)
    seen = make_topic(category=category)
    svc.read_position_update(user=reader, topic=seen, number=1)
    make_post(topic=seen)
    response = _client(reader).get(reverse("forums:index"))
    row = next(c for c in response.context["categories"] if c.pk == category.pk)
    assert (row.unread_count, row.new_count) == (1, 1)
    assert b"1 new" in response.content
    assert b"1 unread" in response.content


def test_restricted_categories_are_invisible_to_others_everywhere() -> None:
    lounge = make_category(name="Facilitators lounge", required_role="facilitator")
    facilitator = make_member(roles=("facilitator",)).user
    secret = make_topic(author=facilitator, category=lounge, title="Secret lounge topic")
    public = make_topic(title="Public topic here")
    learner = _old_member()
    moderator = make_moderator()
    for client in (Client(), _client(learner)):
        index = client.get(reverse("forums:index"))
        assert b"Facilitators lounge" not in index.content
        for name in ("latest", "top", "unanswered"):
            page = client.get(reverse(f"forums:{name}"))
            assert b"Secret lounge topic" not in page.content
        assert client.get(reverse("forums:category", args=[lounge.slug])).status_code == 404
        assert client.get(secret.get_absolute_url()).status_code == 404
        assert client.get(reverse("forums:post", args=[secret.posts.get().pk])).status_code == 404
        assert client.get(public.get_absolute_url()).status_code == 200
    assert lounge.pk not in sel.category_reader_counts(learner)
    for user in (facilitator, moderator):
        client = _client(user)
        assert b"Facilitators lounge" in client.get(reverse("forums:index")).content
        assert client.get(secret.get_absolute_url()).status_code == 200


def test_anonymous_pages_carry_no_personal_data() -> None:
    topic = make_topic(replies=1)
    response = Client().get(topic.get_absolute_url())
    assert response.status_code == 200
    assert b"bookmark" not in response.content.lower()
    # only the posters' own read positions exist (their posts): the visit stored none
    assert ReadState.objects.count() == 2
    assert Client().get(reverse("forums:new")).status_code == 302
    assert Client().get(reverse("forums:bookmarks")).status_code == 302


# --- the topic page ----------------------------------------------------------------------------
@pytest.fixture
def long_topic(settings: Any) -> Topic:
    settings.FORUM_POSTS_PER_PAGE = 20
    return make_topic(replies=44)  # 45 posts: 3 pages


def test_topic_page_is_paginated_and_marks_the_read_position(long_topic: Topic) -> None:
    reader = make_member().user
    client = _client(reader)
    page2 = client.get(long_topic.get_absolute_url(), {"page": 2})
    assert [p.number for p in page2.context["posts"]] == list(range(21, 41))
    assert ReadState.objects.get(user=reader, topic=long_topic).last_read_number == 40
    client.get(long_topic.get_absolute_url(), {"page": 1})
    assert ReadState.objects.get(user=reader, topic=long_topic).last_read_number == 40
    client.get(long_topic.get_absolute_url(), {"page": 3})
    assert ReadState.objects.get(user=reader, topic=long_topic).last_read_number == 45


def test_a_returning_member_opens_at_the_first_unread_post(long_topic: Topic) -> None:
    reader = make_member().user
    client = _client(reader)
    svc.read_position_update(user=reader, topic=long_topic, number=22)
    response = client.get(long_topic.get_absolute_url())
    assert response.status_code == 302
    assert response["Location"] == f"{long_topic.get_absolute_url()}?page=2#post-23"
    page = client.get(response["Location"])
    assert page.context["first_unread_number"] == 23
    assert b'id="unread"' in page.content
    # Everything read: the plain address shows the first page.
    svc.read_position_update(user=reader, topic=long_topic, number=45)
    assert client.get(long_topic.get_absolute_url()).status_code == 200


def test_first_unread_skips_deleted_posts(long_topic: Topic) -> None:
    reader = make_member().user
    svc.read_position_update(user=reader, topic=long_topic, number=20)
    Post.objects.filter(topic=long_topic, number=21).update(is_deleted=True)
    response = _client(reader).get(long_topic.get_absolute_url())
    # Post 22 is now the 21st visible post: still page 2.
    assert response["Location"] == f"{long_topic.get_absolute_url()}?page=2#post-22"


def test_post_link_redirects_to_its_page_and_anchor(long_topic: Topic) -> None:
    post = long_topic.posts.get(number=30)
    response = Client().get(reverse("forums:post", args=[post.pk]))
    assert response["Location"] == f"{long_topic.get_absolute_url()}?page=2#post-30"
    first = long_topic.posts.get(number=1)
    response = Client().get(reverse("forums:post", args=[first.pk]))
    assert response["Location"] == f"{long_topic.get_absolute_url()}?page=1#post-1"


def test_post_link_to_deleted_or_hidden_post_is_not_found() -> None:
    topic = make_topic(replies=2)
    deleted, hidden = topic.posts.filter(number__gt=1).order_by("number")
    Post.objects.filter(pk=deleted.pk).update(is_deleted=True)
    Post.objects.filter(pk=hidden.pk).update(is_hidden=True)
    assert Client().get(reverse("forums:post", args=[deleted.pk])).status_code == 404
    assert Client().get(reverse("forums:post", args=[hidden.pk])).status_code == 404
    assert _client(hidden.author).get(reverse("forums:post", args=[hidden.pk])).status_code == 302
    assert (
        _client(make_moderator()).get(reverse("forums:post", args=[hidden.pk])).status_code == 302
    )
    assert Client().get(reverse("forums:post", args=[999999])).status_code == 404


def test_wrong_slug_and_short_address_redirect_to_the_topic() -> None:
    topic = make_topic()
    wrong = reverse("forums:topic", kwargs={"pk": topic.pk, "slug": "old-title"})
    response = Client().get(wrong, {"page": 1})
    assert response.status_code == 301
    assert response["Location"] == f"{topic.get_absolute_url()}?page=1"
    response = Client().get(reverse("forums:topic_short", args=[topic.pk]))
    assert response["Location"] == topic.get_absolute_url()


def test_a_merged_topic_redirects_to_the_topic_it_was_merged_into() -> None:
    into = make_topic()
    merged = make_topic()
    Topic.objects.filter(pk=merged.pk).update(merged_into=into)
    response = Client().get(merged.get_absolute_url())
    assert response.status_code == 301
    assert response["Location"] == into.get_absolute_url()


def test_deleted_topic_is_not_found() -> None:
    topic = make_topic()
    Topic.objects.filter(pk=topic.pk).update(is_deleted=True)
    assert Client().get(topic.get_absolute_url()).status_code == 404


def test_view_counter_counts_each_viewer_once_an_hour() -> None:
    topic = make_topic()
    reader = _client(make_member().user)
    reader.get(topic.get_absolute_url())
    reader.get(topic.get_absolute_url())
    Client().get(topic.get_absolute_url())
    assert Topic.objects.get(pk=topic.pk).view_count == 2


@pytest.mark.parametrize("page", ["abc", "0", "-3", "9999", "1.5", ""])
def test_odd_page_numbers_give_a_sensible_page(long_topic: Topic, page: str) -> None:
    response = Client().get(long_topic.get_absolute_url(), {"page": page})
    assert response.status_code == 200
    assert response.context["page_obj"].number in {1, 3}


@pytest.mark.parametrize("url_name", ["latest", "top", "unanswered"])
def test_odd_list_pages_give_a_sensible_page(url_name: str) -> None:
    make_topic()
    for page in ("abc", "9999", "-1"):
        assert Client().get(reverse(f"forums:{url_name}"), {"page": page}).status_code == 200


def test_unknown_sort_falls_back_to_latest() -> None:
    topic = make_topic()
    response = Client().get(reverse("forums:category", args=[topic.category.slug]), {"sort": "x"})
    assert response.status_code == 200
    assert response.context["current"] == "latest"


def test_unknown_category_is_not_found() -> None:
    assert Client().get(reverse("forums:category", args=["nope"])).status_code == 404


def test_topic_page_context_and_markup_follow_the_contract() -> None:
    topic = make_topic(kind=TopicKind.QUESTION, replies=2)
    reader = make_member().user
    second, third = topic.posts.filter(number__gt=1).order_by("number")
    reply = make_post(topic=topic, author=reader, reply_to=second)
    Topic.objects.filter(pk=topic.pk).update(accepted_post=third)
    Reaction.objects.create(post=second, user=reader, kind="like")
    Reaction.objects.create(post=second, user=reader, kind="thanks")
    Bookmark.objects.create(post=third, user=reader)
    Flag.objects.create(post=second, flagged_by=reader, reason="spam")
    response = _client(reader).get(topic.get_absolute_url(), {"page": 1})
    ctx = response.context
    for key in ("topic", "page_obj", "posts", "is_moderator", "can_reply", "can_accept",
                "can_verify", "watch_level", "draft", "first_unread_number", "user"):  # fmt: skip
        assert key in ctx, key
    posts = {p.number: p for p in ctx["posts"]}
    assert all(p.topic is ctx["topic"] for p in posts.values())
    assert posts[2].my_reactions == {"like", "thanks"}
    assert posts[3].my_reactions == set()
    assert (posts[3].is_bookmarked, posts[2].is_bookmarked) == (True, False)
    assert (posts[2].my_flagged, posts[3].my_flagged) == (True, False)
    assert (posts[3].is_accepted, posts[2].is_accepted) == (True, False)
    assert posts[reply.number].reply_to_number == 2
    assert posts[reply.number].can_edit
    assert not posts[2].can_edit
    assert posts[1].author.profile.display_name
    assert ctx["can_reply"]
    assert not ctx["can_accept"]
    assert not ctx["is_moderator"]
    html = response.content.decode()
    assert f'data-topic-id="{topic.pk}"' in html
    assert f'data-ws-url="/ws/forums/topics/{topic.pk}/"' in html
    assert f'id="post-2" data-post-id="{second.pk}" data-number="2"' in html
    assert '<div class="post-body">' in html
    # the viewer's own state on each post, as community.forums.post_html builds it
    assert html.count('class="reaction-form"') == 3  # posts 1-3; none on their own reply
    assert 'value="like:0" class="reaction" data-kind="like" aria-pressed="true"' in html
    assert html.count("You flagged this post") == 1
    assert html.count('class="inline-form bookmark-form"') == 1  # the bookmarked post 3
    assert f'<a href="/forums/p/{second.pk}/">in reply to #2</a>' in html
    assert html.count('class="unread-divider"') == 0
    used = {t.name for t in response.templates}
    includes = [
        "forums/posting/_reply_form.html",
        "forums/social/_watch_form.html",
        "forums/moderation/_topic_tools.html",
    ]
    for include in includes:
        assert include in used, include


def test_hidden_posts_show_to_their_author_and_moderators_only() -> None:
    topic = make_topic(replies=1)
    hidden = topic.posts.get(number=2)
    Post.objects.filter(pk=hidden.pk).update(is_hidden=True)
    url = topic.get_absolute_url()
    numbers = lambda c: [p.number for p in c.get(url, {"page": 1}).context["posts"]]  # noqa: E731
    assert numbers(Client()) == [1]
    assert numbers(_client(hidden.author)) == [1, 2]
    assert numbers(_client(make_moderator())) == [1, 2]


def test_mark_read_form_moves_the_position_and_refuses_garbage() -> None:
    topic = make_topic(replies=3)
    reader = make_member().user
    client = _client(reader)
    url = reverse("forums:topic_read", args=[topic.pk])
    assert client.post(url, {"number": "abc"}).status_code == 302
    assert not ReadState.objects.filter(user=reader).exists()
    assert client.post(url, {"number": "2"}).status_code == 302
    assert ReadState.objects.get(user=reader).last_read_number == 2
    response = client.post(url, {"number": "1"}, HTTP_ACCEPT="application/json")
    assert response.json() == {"topic": topic.pk, "last_read_number": 2}
    response = client.post(url, {"number": "0"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 400
    client.post(url)  # no number: everything
    assert ReadState.objects.get(user=reader).last_read_number == 4
    assert Client().post(url, {"number": "2"}).status_code == 302  # to the login page
    assert ReadState.objects.filter(user=reader).count() == 1


# --- bookmarks ---------------------------------------------------------------------------------
def test_bookmark_add_note_replace_and_remove() -> None:
    topic = make_topic(replies=1)
    reader = make_member().user
    post = topic.posts.get(number=2)
    client = _client(reader)
    url = reverse("forums:post_bookmark", args=[post.pk])
    client.post(url, {"action": "add", "note": "glucose tip"})
    client.post(url, {"action": "add", "note": "  glucose   feed tip "})
    bookmark = Bookmark.objects.get(user=reader)
    assert bookmark.note == "glucose feed tip"
    page = client.get(reverse("forums:bookmarks"))
    assert b"glucose feed tip" in page.content
    response = client.post(url, {"action": "add", "note": "x" * 201})
    assert response.status_code == 302
    assert Bookmark.objects.get(user=reader).note == "glucose feed tip"
    client.post(url, {"action": "remove"})
    assert not Bookmark.objects.exists()


def test_bookmarking_needs_a_visible_post_and_a_member() -> None:
    topic = make_topic(author=make_member(roles=("facilitator",)).user,
                       category=make_category(required_role="facilitator"))  # fmt: skip
    post = topic.posts.get()
    url = reverse("forums:post_bookmark", args=[post.pk])
    assert _client(make_member().user).post(url, {"action": "add"}).status_code == 404
    assert Client().post(url, {"action": "add"}).status_code == 302
    assert not Bookmark.objects.exists()
    with pytest.raises(PermissionDenied):
        svc.bookmark_add(user=make_member().user, post=post)


def test_bookmarks_on_posts_no_longer_visible_are_left_out() -> None:
    reader = make_member().user
    topic = make_topic(replies=1)
    kept, gone = topic.posts.order_by("number")
    svc.bookmark_add(user=reader, post=kept)
    svc.bookmark_add(user=reader, post=gone)
    Post.objects.filter(pk=gone.pk).update(is_deleted=True)
    assert [b.post_id for b in sel.bookmarks_for_user(user=reader)] == [kept.pk]


# --- constant query counts ---------------------------------------------------------------------
def _topic_with(n_posts: int) -> Topic:
    topic = make_topic(replies=n_posts - 1, kind=TopicKind.QUESTION)
    for post in topic.posts.all()[:3]:
        Post.objects.filter(pk=post.pk).update(reply_to=topic.posts.get(number=1))
    return topic


def test_topic_page_query_count_does_not_grow_with_posts(
    django_assert_max_num_queries: Any,
) -> None:
    small, big = _topic_with(5), _topic_with(60)
    reader = make_member().user
    for topic in (small, big):
        for post in topic.posts.all():
            Reaction.objects.create(post=post, user=reader, kind="like")
            Bookmark.objects.create(post=post, user=reader)
    client = _client(reader)
    client.get(reverse("forums:index"))  # warm the session
    counts = []
    for topic in (small, big):
        url = topic.get_absolute_url()
        counts.append(_count_queries(lambda u=url: client.get(u, {"page": 1})))
    assert counts[0] == counts[1], counts
    with django_assert_max_num_queries(11):
        client.get(big.get_absolute_url(), {"page": 2})
    anon = [_count_queries(lambda t=t: Client().get(t.get_absolute_url())) for t in (small, big)]
    assert anon[0] == anon[1], anon


def test_list_query_counts_do_not_grow_with_topics(django_assert_max_num_queries: Any) -> None:
    reader = _old_member()
    skill = SkillFactory(slug="reading-test-count", name="Counting")

    def fill(category: Any, n: int) -> None:
        for i in range(n):
            topic = make_topic(category=category, skills=[skill.slug])
            if i % 2:
                svc.read_position_update(user=reader, topic=topic, number=1)
                make_post(topic=topic)

    small, big = make_category(), make_category()
    fill(small, 5)
    fill(big, 50)
    client = _client(reader)
    client.get(reverse("forums:index"))
    small_n = _count_queries(lambda: client.get(reverse("forums:category", args=[small.slug])))
    big_n = _count_queries(lambda: client.get(reverse("forums:category", args=[big.slug])))
    assert small_n == big_n, (small_n, big_n)
    for name in ("latest", "top", "unanswered", "new", "unread", "index", "bookmarks"):
        with django_assert_max_num_queries(12):
            assert client.get(reverse(f"forums:{name}")).status_code == 200
    with django_assert_max_num_queries(12):
        client.get(reverse("forums:tag", args=[skill.slug]))


def test_index_query_count_does_not_grow_with_categories() -> None:
    reader = _old_member()
    client = _client(reader)
    client.get(reverse("forums:latest"))
    for _ in range(2):
        make_topic(category=make_category())
    few = _count_queries(lambda: client.get(reverse("forums:index")))
    for _ in range(10):
        parent = make_category()
        make_topic(category=make_category(parent=parent))
    many = _count_queries(lambda: client.get(reverse("forums:index")))
    assert few == many


def test_bookmark_list_query_count_does_not_grow() -> None:
    reader = make_member().user
    client = _client(reader)
    topic = make_topic(replies=30)
    posts = list(topic.posts.all())
    for post in posts[:3]:
        svc.bookmark_add(user=reader, post=post)
    few = _count_queries(lambda: client.get(reverse("forums:bookmarks")))
    for post in posts[3:]:
        svc.bookmark_add(user=reader, post=post)
    many = _count_queries(lambda: client.get(reverse("forums:bookmarks")))
    assert few == many


# --- one post's markup for forum.js (a reply that arrived live) ---------------------------------
def test_post_fragment_is_the_viewers_article_with_their_controls() -> None:
    asker = make_member().user
    topic = make_topic(author=asker, kind=TopicKind.QUESTION, replies=1)
    reply = topic.posts.get(number=2)
    url = reverse("forums:post_fragment", args=[reply.pk])
    back = f"{topic.get_absolute_url()}?page=1"
    response = _client(asker).get(url, {"back": back})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]
    html = response.content.decode()
    assert html.startswith(f'<article class="post" id="post-2" data-post-id="{reply.pk}"')
    assert 'class="reaction-form"' in html  # the asker may react to the reply ...
    assert "Mark as accepted answer" in html  # ... and accept it
    assert f'name="next" value="{topic.get_absolute_url()}?page=1#post-2"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    visitor = Client().get(url).content.decode()
    assert "<form" not in visitor
    assert 'class="post-body"' in visitor


@pytest.mark.parametrize("back", ["https://evil.example/x", "//evil.example/x", "javascript:x", ""])
def test_post_fragment_forms_return_only_to_this_site(back: str) -> None:
    topic = make_topic(replies=1)
    reply = topic.posts.get(number=2)
    url = reverse("forums:post_fragment", args=[reply.pk])
    html = _client(make_member().user).get(url, {"back": back}).content.decode()
    assert "evil" not in html
    assert f'name="next" value="{topic.get_absolute_url()}#post-2"' in html


def test_post_fragment_of_a_post_the_viewer_cannot_see_is_not_found() -> None:
    lounge = make_category(required_role="facilitator")
    secret = make_topic(category=lounge, author=make_moderator()).posts.get(number=1)
    hidden_topic = make_topic(replies=1)
    hidden = hidden_topic.posts.get(number=2)
    Post.objects.filter(pk=hidden.pk).update(is_hidden=True)
    member = _client(make_member().user)
    for pk in (secret.pk, hidden.pk, 999_999):
        assert member.get(reverse("forums:post_fragment", args=[pk])).status_code == 404
    assert (
        _client(hidden.author).get(reverse("forums:post_fragment", args=[hidden.pk])).status_code
        == 200
    )
