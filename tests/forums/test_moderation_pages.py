"""Moderation pages without JavaScript: the flag form, the review queue, the topic tools,
the log; who may see them; bad input; pinned query counts."""

from typing import Any

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from community.forums.models import (
    Category,
    Flag,
    FlagStatus,
    ModerationLog,
    Post,
    Topic,
)
from community.forums.services import moderation as services
from community.models import User
from tests.factories import make_member
from tests.forums.factories import make_category, make_moderator, make_post, make_topic

pytestmark = pytest.mark.django_db

QUEUE_QUERIES = 12
LOG_QUERIES = 12


def _client(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _count(call: Any) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = call()
    assert response.status_code == 200, response.status_code
    return len(ctx.captured_queries)


@pytest.fixture
def moderator() -> User:
    return make_moderator("modpage")


@pytest.fixture
def topic() -> Topic:
    return make_topic(replies=2)


def _reply(topic: Topic, number: int = 2) -> Post:
    return Post.objects.get(topic=topic, number=number)


# --- the flag form -------------------------------------------------------------------------
def test_flag_page_needs_sign_in(topic: Topic) -> None:
    url = reverse("forums:flag", args=[_reply(topic).pk])
    response = Client().get(url)
    assert response.status_code == 302
    assert "/login/" in response["Location"]
    assert Client().post(url, {"reason": "spam"}).status_code == 302
    assert not Flag.objects.exists()


def test_member_flags_a_post_through_the_form(topic: Topic) -> None:
    post = _reply(topic)
    client = _client(make_member().user)
    url = reverse("forums:flag", args=[post.pk])
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="csrfmiddlewaretoken"' in html
    assert "<legend>What is wrong with this post?</legend>" in html
    next_url = f"{topic.get_absolute_url()}#post-2"
    response = client.post(url, {"reason": "abusive", "note": "", "next": next_url})
    assert response.status_code == 302
    assert response["Location"] == next_url
    flag = Flag.objects.get()
    assert (flag.post_id, flag.reason, flag.status) == (post.pk, "abusive", FlagStatus.OPEN)
    again = client.get(url).content.decode()
    assert "already flagged" in again
    double = client.post(url, {"reason": "spam"})
    assert double.status_code == 400
    assert "already flagged" in double.content.decode()
    assert Flag.objects.count() == 1


def test_flag_form_errors_keep_what_was_typed(topic: Topic) -> None:
    client = _client(make_member().user)
    url = reverse("forums:flag", args=[_reply(topic).pk])
    response = client.post(url, {"reason": "other", "note": "   "})
    assert response.status_code == 400
    assert "Tell the moderators what is wrong" in response.content.decode()
    response = client.post(url, {"note": "my words stay"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Choose why you are flagging this post." in html
    assert "my words stay" in html
    response = client.post(url, {"reason": "nonsense"})
    assert response.status_code == 400
    assert not Flag.objects.exists()


def test_external_next_is_ignored(topic: Topic) -> None:
    post = _reply(topic)
    client = _client(make_member().user)
    response = client.post(
        reverse("forums:flag", args=[post.pk]), {"reason": "spam", "next": "https://evil.test/"}
    )
    assert response.status_code == 302
    assert response["Location"] == post.get_absolute_url()


def test_own_post_invisible_and_unknown_posts(topic: Topic, moderator: User) -> None:
    post = _reply(topic)
    author = _client(post.author)
    page = author.get(reverse("forums:flag", args=[post.pk]))
    assert "you cannot flag it" in page.content.decode()
    assert (
        author.post(reverse("forums:flag", args=[post.pk]), {"reason": "spam"}).status_code == 400
    )
    lounge = make_category(required_role="facilitator")
    secret = make_post(topic=make_topic(category=lounge, author=moderator), author=moderator)
    member = _client(make_member().user)
    assert member.get(reverse("forums:flag", args=[secret.pk])).status_code == 404
    assert (
        member.post(reverse("forums:flag", args=[secret.pk]), {"reason": "spam"}).status_code == 404
    )
    assert member.get(reverse("forums:flag", args=[999999])).status_code == 404
    assert not Flag.objects.exists()


def test_csrf_is_required() -> None:
    topic = make_topic(replies=1)
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_member().user)
    response = client.post(reverse("forums:flag", args=[_reply(topic).pk]), {"reason": "spam"})
    assert response.status_code == 403
    assert not Flag.objects.exists()


# --- on the topic page ---------------------------------------------------------------------
def test_topic_page_shows_flag_link_and_moderator_tools(topic: Topic, moderator: User) -> None:
    member = make_member().user
    html = _client(member).get(topic.get_absolute_url()).content.decode()
    flag_url = reverse("forums:flag", args=[_reply(topic).pk])
    assert flag_url in html
    assert "Moderator tools" not in html
    assert reverse("forums:review_post", args=[_reply(topic).pk]) not in html
    services.flag_create(user=member, post=_reply(topic), reason="spam")
    html = _client(member).get(topic.get_absolute_url()).content.decode()
    assert "You flagged this post" in html
    anon = Client().get(topic.get_absolute_url()).content.decode()
    assert flag_url not in anon
    mod_html = _client(moderator).get(topic.get_absolute_url()).content.decode()
    assert "Moderator tools" in mod_html
    assert reverse("forums:moderate_topic_action", args=[topic.pk]) in mod_html
    assert reverse("forums:review_post", args=[_reply(topic).pk]) in mod_html


def test_hide_from_the_topic_page_comes_back_to_the_post(topic: Topic, moderator: User) -> None:
    post = _reply(topic)
    back = f"{topic.get_absolute_url()}#post-2"
    response = _client(moderator).post(
        reverse("forums:review_post", args=[post.pk]), {"action": "hide", "next": back}
    )
    assert response.status_code == 303
    assert response["Location"] == back
    assert Post.objects.get(pk=post.pk).is_hidden
    html = _client(make_member().user).get(topic.get_absolute_url()).content.decode()
    assert 'id="post-2"' not in html
    mod_html = _client(moderator).get(topic.get_absolute_url()).content.decode()
    assert "Show again" in mod_html


def test_topic_page_queries_do_not_grow_for_moderators(moderator: User) -> None:
    small, big = make_topic(replies=2), make_topic(replies=12)
    for t in (small, big):
        for post in t.posts.all()[1:]:
            services.flag_create(user=make_member().user, post=post, reason="spam")
    client = _client(moderator)
    client.get(reverse("forums:review"))  # warm the session
    counts = [
        _count(lambda t=t: client.get(t.get_absolute_url(), {"page": 1})) for t in (small, big)
    ]
    assert counts[0] == counts[1], counts


# --- the review queue ----------------------------------------------------------------------
def test_queue_is_for_moderators(topic: Topic) -> None:
    url = reverse("forums:review")
    assert Client().get(url).status_code == 302
    assert _client(make_member().user).get(url).status_code == 403
    assert _client(topic.author).get(url).status_code == 403


@override_settings(FORUM_FLAG_AUTO_HIDE=0)
def test_queue_lists_flagged_posts_with_counts_and_reasons(topic: Topic, moderator: User) -> None:
    post = _reply(topic)
    for name, reason in (("qa", "spam"), ("qb", "spam"), ("qc", "off_topic")):
        services.flag_create(user=make_member(name).user, post=post, reason=reason, note="")
    services.flag_create(user=make_member("qd").user, post=post, reason="other", note="Odd link")
    response = _client(moderator).get(reverse("forums:review"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "4 flags" in html
    assert "Spam (2)" in html
    assert "Off topic (1)" in html
    assert "“Odd link”" in html
    assert topic.title in html
    filtered = _client(moderator).get(reverse("forums:review"), {"reason": "abusive"})
    assert "Nothing to review" in filtered.content.decode()


def test_queue_query_count_does_not_grow(moderator: User) -> None:
    client = _client(moderator)

    def flag_posts(n: int) -> None:
        for _ in range(n):
            post = _reply(make_topic(replies=1))
            for _ in range(2):
                services.flag_create(user=make_member().user, post=post, reason="spam")

    flag_posts(1)
    client.get(reverse("forums:review"))
    small = _count(lambda: client.get(reverse("forums:review")))
    flag_posts(8)
    large = _count(lambda: client.get(reverse("forums:review")))
    assert small == large
    assert large <= QUEUE_QUERIES
    assert client.get(reverse("forums:review")).content.decode().count('class="review-item"') == 9


def test_review_decisions_from_the_queue(topic: Topic, moderator: User) -> None:
    post = _reply(topic)
    services.flag_create(user=make_member().user, post=post, reason="spam")
    client = _client(moderator)
    url = reverse("forums:review_post", args=[post.pk])
    response = client.post(url, {"action": "delete", "reason": "Advert"})
    assert response.status_code == 303
    assert response["Location"] == reverse("forums:review")
    assert Post.objects.get(pk=post.pk).is_deleted
    assert ModerationLog.objects.get().reason == "Advert"
    # Acting again on a handled post is refused, with the reason shown, and changes nothing.
    response = client.post(url, {"action": "dismiss", "reason": "again"})
    assert response.status_code == 400
    assert "no open flags" in response.content.decode()
    assert ModerationLog.objects.count() == 1
    response = client.post(url, {"action": "explode"})
    assert response.status_code == 400
    assert (
        client.post(reverse("forums:review_post", args=[999999]), {"action": "hide"}).status_code
        == 404
    )


def test_members_cannot_review(topic: Topic) -> None:
    post = _reply(topic)
    url = reverse("forums:review_post", args=[post.pk])
    assert Client().post(url, {"action": "hide"}).status_code == 302
    for user in (make_member().user, post.author):
        assert _client(user).post(url, {"action": "hide"}).status_code == 403
    assert _client(make_member().user).get(url).status_code == 405
    assert not Post.objects.get(pk=post.pk).is_hidden


# --- topic tools ---------------------------------------------------------------------------
def test_topic_tools_permissions(topic: Topic, moderator: User) -> None:
    url = reverse("forums:moderate_topic", args=[topic.pk])
    assert Client().get(url).status_code == 302
    assert _client(make_member().user).get(url).status_code == 403
    assert _client(topic.author).get(url).status_code == 403
    lounge = make_category(required_role="facilitator")
    secret = make_topic(category=lounge, author=moderator)
    assert (
        _client(make_member().user)
        .get(reverse("forums:moderate_topic", args=[secret.pk]))
        .status_code
        == 404
    )
    assert (
        _client(moderator).get(reverse("forums:moderate_topic", args=[999999])).status_code == 404
    )
    page = _client(moderator).get(url)
    assert page.status_code == 200
    html = page.content.decode()
    for name in ("moderate_topic_action", "moderate_topic_move", "moderate_topic_merge"):
        assert reverse(f"forums:{name}", args=[topic.pk]) in html
    action = reverse("forums:moderate_topic_action", args=[topic.pk])
    assert _client(make_member().user).post(action, {"action": "pin"}).status_code == 403
    assert not Topic.objects.get(pk=topic.pk).is_pinned


def test_pin_lock_close_from_the_topic_page(topic: Topic, moderator: User) -> None:
    client = _client(moderator)
    url = reverse("forums:moderate_topic_action", args=[topic.pk])
    for action in ("pin", "lock", "close"):
        response = client.post(url, {"action": action, "next": topic.get_absolute_url()})
        assert response.status_code == 303
        assert response["Location"] == topic.get_absolute_url()
    fresh = Topic.objects.get(pk=topic.pk)
    assert (fresh.is_pinned, fresh.is_locked, fresh.is_closed) == (True, True, True)
    html = client.get(topic.get_absolute_url()).content.decode()
    assert 'value="unpin"' in html
    assert 'value="reopen"' in html
    again = client.post(url, {"action": "pin", "reason": "typed reason"})
    assert again.status_code == 400
    assert "already pinned" in again.content.decode()
    assert "typed reason" in again.content.decode()
    assert client.post(url, {"action": "fly"}).status_code == 400
    assert ModerationLog.objects.count() == 3


def test_move_from_the_page(topic: Topic, moderator: User) -> None:
    client = _client(moderator)
    target = make_category(name="Downstream purification")
    url = reverse("forums:moderate_topic_move", args=[topic.pk])
    bad = client.post(url, {"category": "no-such-category"})
    assert bad.status_code == 400
    assert "No such category." in bad.content.decode()
    same = client.post(url, {"category": topic.category.slug})
    assert same.status_code == 400
    assert "already in this category" in same.content.decode()
    assert Topic.objects.get(pk=topic.pk).category_id == topic.category_id
    response = client.post(url, {"category": target.slug, "reason": "Fits better"})
    assert response.status_code == 303
    assert Topic.objects.get(pk=topic.pk).category_id == target.pk
    assert Category.objects.get(pk=target.pk).topic_count == 1


def test_merge_from_the_page(moderator: User) -> None:
    source, into = make_topic(replies=1), make_topic(replies=1)
    client = _client(moderator)
    url = reverse("forums:moderate_topic_merge", args=[source.pk])
    for value, message in (
        (source.pk, "cannot be merged into itself"),
        (999999, "No such topic."),
        ("", "Give the number of the topic"),
        ("abc", "Enter a whole number."),
    ):
        response = client.post(url, {"into": value})
        assert response.status_code == 400, value
        assert message in response.content.decode(), value
    assert Post.objects.filter(topic=source).count() == 2
    response = client.post(url, {"into": into.pk})
    assert response.status_code == 303
    assert response["Location"] == into.get_absolute_url()
    assert Post.objects.filter(topic=into).count() == 4
    # The merged topic's address leads to the topic it was merged into.
    reader = _client(make_member().user).get(source.get_absolute_url())
    assert reader.status_code == 301
    assert reader["Location"] == into.get_absolute_url()
    # A merged topic cannot be merged again.
    response = client.post(url, {"into": make_topic().pk})
    assert response.status_code == 400


def test_delete_from_the_page(topic: Topic, moderator: User) -> None:
    client = _client(moderator)
    url = reverse("forums:moderate_topic_action", args=[topic.pk])
    response = client.post(url, {"action": "delete", "reason": "Spam"})
    assert response.status_code == 303
    assert response["Location"] == reverse("forums:moderate_topic", args=[topic.pk])
    assert Topic.objects.get(pk=topic.pk).is_deleted
    assert _client(make_member().user).get(topic.get_absolute_url()).status_code == 404
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "deleted" in page.content.decode()


# --- the log -------------------------------------------------------------------------------
def test_log_page_is_for_moderators_and_filters(topic: Topic, moderator: User) -> None:
    url = reverse("forums:moderation_log")
    assert Client().get(url).status_code == 302
    assert _client(make_member().user).get(url).status_code == 403
    other = make_moderator("othermod")
    services.topic_moderate(moderator=moderator, topic=topic, action="pin", reason="Sticky FAQ")
    services.topic_moderate(moderator=other, topic=topic, action="lock")
    client = _client(moderator)
    html = client.get(url).content.decode()
    assert "<td>Pinned a topic" in html
    assert "<td>Locked a topic" in html
    assert "Sticky FAQ" in html
    html = client.get(url, {"action": "lock"}).content.decode()
    assert "<td>Locked a topic" in html
    assert "<td>Pinned a topic" not in html
    html = client.get(url, {"moderator": "othermod"}).content.decode()
    assert "<td>Locked a topic" in html
    assert "<td>Pinned a topic" not in html
    bad = client.get(url, {"moderator": "nobody-here"})
    assert bad.status_code == 400
    assert "No member is called" in bad.content.decode()
    assert client.get(url, {"action": "explode"}).status_code == 400


def test_log_page_query_count_does_not_grow(moderator: User) -> None:
    client = _client(moderator)
    client.get(reverse("forums:review"))
    topics = [make_topic() for _ in range(6)]
    services.topic_moderate(moderator=moderator, topic=topics[0], action="pin")
    small = _count(lambda: client.get(reverse("forums:moderation_log")))
    for t in topics[1:]:
        services.topic_moderate(moderator=make_moderator(), topic=t, action="close")
    large = _count(lambda: client.get(reverse("forums:moderation_log")))
    assert small == large
    assert large <= LOG_QUERIES
