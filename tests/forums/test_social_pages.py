"""Social pages without JavaScript: reaction, accept and verify forms, and the topic
page includes (which must not query)."""

from collections.abc import Callable
from typing import Any

import pytest
from django.template.loader import render_to_string
from django.test import Client, RequestFactory

from community.forums.models import Post, Reaction, Topic, TopicKind
from community.forums.post_html import PostPage, post_actions_html
from community.models import User
from tests.factories import make_member
from tests.forums.factories import make_category, make_moderator, make_topic

pytestmark = pytest.mark.django_db


def _client(user: User) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _question() -> tuple[Topic, Post]:
    topic = make_topic(kind=TopicKind.QUESTION, replies=1)
    return topic, topic.posts.get(number=2)


def test_react_form_gives_and_takes_back_a_reaction() -> None:
    _topic, reply = _question()
    member = make_member().user
    c = _client(member)
    url = f"/forums/p/{reply.pk}/react/"
    response = c.post(url, {"kind": "like", "active": "1", "next": "/forums/t/1/x/#post-2"})
    assert response.status_code == 302
    assert response["Location"] == "/forums/t/1/x/#post-2"
    c.post(url, {"kind": "like", "active": "1"})  # a double click
    assert Reaction.objects.filter(post=reply, user=member).count() == 1
    c.post(url, {"kind": "like"})  # no "active": flips
    assert not Reaction.objects.exists()
    assert Post.objects.get(pk=reply.pk).reaction_counts == {}
    # the page's buttons send "kind:1" / "kind:0"
    c.post(url, {"reaction": "thanks:1"})
    c.post(url, {"reaction": "thanks:1"})
    assert list(Reaction.objects.values_list("kind", flat=True)) == ["thanks"]
    c.post(url, {"reaction": "thanks:0"})
    assert not Reaction.objects.exists()
    assert c.post(url, {"reaction": "thanks:2"}).status_code == 400
    assert c.post(url, {"reaction": "nope:1"}).status_code == 400


def test_react_form_over_the_trust_limit_is_429_and_says_when(settings: Any) -> None:
    settings.FORUM_TRUST_LIMITS_ENABLED = True
    settings.FORUM_TRUST_LIMITS = {0: {"reactions_per_day": 1}}
    topic = make_topic(replies=2)
    first, second = topic.posts.filter(number__gt=1).order_by("number")
    c = _client(make_member().user)
    assert c.post(f"/forums/p/{first.pk}/react/", {"reaction": "like:1"}).status_code == 302
    response = c.post(f"/forums/p/{second.pk}/react/", {"reaction": "like:1"})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 3600
    assert "1 reaction today" in response.content.decode()
    assert Post.objects.get(pk=second.pk).reaction_counts == {}


def test_react_bad_input_is_a_400_and_changes_nothing() -> None:
    _topic, reply = _question()
    c = _client(make_member().user)
    for data in ({"kind": "love"}, {"kind": "like", "active": "yes"}):
        response = c.post(f"/forums/p/{reply.pk}/react/", data)
        assert response.status_code == 400
        assert 'role="alert"' in response.content.decode()
    assert not Reaction.objects.exists()
    assert c.get(f"/forums/p/{reply.pk}/react/").status_code == 405


def test_react_permissions() -> None:
    lounge = make_category(required_role="facilitator")
    hidden = make_topic(author=make_member(roles=("facilitator",)).user, category=lounge)
    _topic, reply = _question()
    anonymous = Client().post(f"/forums/p/{reply.pk}/react/", {"kind": "like"})
    assert anonymous.status_code == 302
    assert "/login/" in anonymous["Location"]
    assert (
        _client(reply.author).post(f"/forums/p/{reply.pk}/react/", {"kind": "like"}).status_code
        == 403
    )
    outsider = _client(make_member().user)
    post = hidden.posts.get(number=1)
    assert outsider.post(f"/forums/p/{post.pk}/react/", {"kind": "like"}).status_code == 404
    assert outsider.post("/forums/p/999999/react/", {"kind": "like"}).status_code == 404
    assert not Reaction.objects.exists()


def test_accept_and_unaccept_forms() -> None:
    topic, reply = _question()
    asker = _client(topic.author)
    url = f"/forums/t/{topic.pk}/accept/"
    assert asker.post(url, {"post": reply.pk, "action": "accept"}).status_code == 302
    assert Topic.objects.get(pk=topic.pk).accepted_post_id == reply.pk
    assert asker.post(url, {"action": "unaccept"}).status_code == 302
    assert Topic.objects.get(pk=topic.pk).accepted_post_id is None


def test_accept_bad_input_and_permissions() -> None:
    topic, reply = _question()
    other, _ = _question()
    url = f"/forums/t/{topic.pk}/accept/"
    asker = _client(topic.author)
    for data in (
        {"post": "abc"},
        {"post": other.posts.get(number=2).pk},
        {"post": topic.posts.get(number=1).pk},
        {"post": reply.pk, "action": "maybe"},
        {"post": 999999},
    ):
        response = asker.post(url, data)
        assert response.status_code == 400, data
    assert _client(reply.author).post(url, {"post": reply.pk}).status_code == 403
    assert _client(make_moderator()).post(url, {"post": reply.pk}).status_code == 302
    assert Client().post(url, {"post": reply.pk}).status_code == 302  # to the login page
    assert Topic.objects.get(pk=topic.pk).accepted_post_id == reply.pk


def test_verify_form() -> None:
    topic, reply = _question()
    url = f"/forums/p/{reply.pk}/verify/"
    assert _client(make_member(roles=("learner",)).user).post(url).status_code == 403
    mentor = _client(make_member(roles=("mentor",)).user)
    assert mentor.post(url, {"verified": "x"}).status_code == 400
    assert mentor.post(url, {"verified": "1"}).status_code == 302
    assert Post.objects.get(pk=reply.pk).expert_verified_at is not None
    assert mentor.post(url, {"verified": "0"}).status_code == 302
    assert Post.objects.get(pk=reply.pk).expert_verified_at is None
    opening = topic.posts.get(number=1)
    assert mentor.post(f"/forums/p/{opening.pk}/verify/").status_code == 400


def _render_actions(user: Any, post: Post, **context: Any) -> str:
    request = RequestFactory().get("/forums/t/1/x/")
    request.user = user
    page = PostPage(topic=post.topic, user=user, request=request, csrf_token="tok", **context)
    return post_actions_html(page, post)


def test_post_actions_include_renders_forms_with_counts_and_pressed_state_without_queries(
    django_assert_num_queries: Callable[..., Any],
) -> None:
    _topic, reply = _question()
    member = make_member().user
    Post.objects.filter(pk=reply.pk).update(reaction_counts={"like": 3, "thanks": 1})
    reply = Post.objects.select_related("topic").get(pk=reply.pk)
    reply.my_reactions = {"like"}  # type: ignore[attr-defined]
    reply.is_accepted = True  # type: ignore[attr-defined]
    with django_assert_num_queries(0):
        html = _render_actions(member, reply, can_accept=True, can_verify=True)
    assert html.count('class="reaction-form"') == 1  # one form, a button per reaction
    assert html.count('name="reaction"') == 4
    assert (
        'data-kind="like" aria-pressed="true">Like <span class="count" data-count>3</span>' in html
    )
    assert 'data-kind="thanks" aria-pressed="false">' in html
    assert 'value="like:0"' in html  # the pressed one takes it back
    assert 'value="thanks:1"' in html
    assert "Unmark accepted answer" in html
    assert "Verify as expert" in html
    assert 'name="next" value="/forums/t/1/x/#post-2"' in html


def test_post_actions_include_for_readers_who_cannot_act() -> None:
    from django.contrib.auth.models import AnonymousUser

    _topic, reply = _question()
    Post.objects.filter(pk=reply.pk).update(reaction_counts={"like": 2})
    reply = Post.objects.select_related("topic").get(pk=reply.pk)
    for user in (AnonymousUser(), reply.author):
        html = _render_actions(user, reply, can_accept=False, can_verify=False)
        assert "<form" not in html
        assert 'data-kind="like">Like <span class="count" data-count>2</span>' in html
        assert 'data-kind="thanks"' not in html  # zero counts are left out


def test_watch_form_include_selects_the_level_without_queries(
    django_assert_num_queries: Callable[..., Any],
) -> None:
    topic = make_topic()
    member = make_member().user
    request = RequestFactory().get(topic.get_absolute_url())
    request.user = member
    with django_assert_num_queries(0):
        html = render_to_string(
            "forums/social/_watch_form.html",
            {"topic": topic, "user": member, "watch_level": "tracking"},
            request=request,
        )
    assert f'action="/forums/t/{topic.pk}/watch/"' in html
    assert '<option value="tracking" selected>' in html
    assert f'<label for="watch-level-{topic.pk}">' in html


def test_topic_page_shows_reaction_state_and_the_no_js_flow_round_trips() -> None:
    topic, reply = _question()
    member = make_member().user
    c = _client(member)
    page = c.get(topic.get_absolute_url())
    assert page.status_code == 200
    html = page.content.decode()
    assert f'action="/forums/p/{reply.pk}/react/"' in html
    assert f'action="/forums/t/{topic.pk}/watch/"' in html
    back = c.post(
        f"/forums/p/{reply.pk}/react/",
        {"reaction": "insightful:1", "next": topic.get_absolute_url()},
        follow=True,
    )
    html = back.content.decode()
    assert 'data-kind="insightful" aria-pressed="true">' in html
    asker = _client(topic.author).get(topic.get_absolute_url(), follow=True).content.decode()
    assert "Mark as accepted answer" in asker
    assert "Mark as accepted answer" not in html
