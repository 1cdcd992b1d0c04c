"""Posting pages without JavaScript: new topic, reply, quote, edit, history, delete,
preview, drafts, and the topic page's posting includes."""

import re
import uuid
from typing import Any

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse

from community.forums.models import Draft, Post, Topic
from community.forums.post_html import PostPage, post_links_html
from community.forums.services.drafts import draft_save
from community.forums.services.posting import post_edit
from community.models import User
from tests.factories import SkillFactory, make_member
from tests.forums.factories import make_category, make_moderator, make_post, make_topic

pytestmark = pytest.mark.django_db


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _textarea(html: str, name: str = "body") -> str:
    match = re.search(rf'<textarea name="{name}"[^>]*>(.*?)</textarea>', html, re.S)
    assert match, html
    text = match.group(1)
    return text[1:] if text.startswith("\n") else text  # browsers drop that first newline


# --- new topic --------------------------------------------------------------------------------
def test_anonymous_is_sent_to_log_in() -> None:
    response = Client().get(reverse("forums:topic_new"))
    assert response.status_code == 302
    assert "/login/" in response["Location"]
    topic = make_topic()
    assert (
        Client().post(reverse("forums:reply", args=[topic.pk]), {"body": "Hi"}).status_code == 302
    )
    assert Post.objects.count() == 1


def test_new_topic_form_lists_visible_categories_and_grouped_skills(
    django_assert_max_num_queries: Any,
) -> None:
    make_category(name="Upstream processing", slug="upstream")
    make_category(name="Facilitators lounge", slug="lounge", required_role="facilitator")
    skill = SkillFactory(name="Cell culture")
    client = _client(make_member().user)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("forums:topic_new") + "?category=upstream")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<option value="upstream" selected>' in html
    assert "lounge" not in html
    assert f'<optgroup label="{skill.area.name}"><option value="{skill.slug}">Cell culture' in html
    assert 'data-preview-url="/forums/preview/"' in html


def test_posting_a_topic_redirects_to_it() -> None:
    category = make_category(slug="qc")
    skill = SkillFactory()
    member = make_member().user
    response = _client(member).post(
        reverse("forums:topic_new"),
        {
            "category": "qc",
            "kind": "question",
            "title": "Why does viability drop on day 9?",
            "skills": [skill.slug],
            "body": "My CHO culture...",
            "client_id": str(uuid.uuid4()),
        },
    )
    topic = Topic.objects.get()
    assert response.status_code == 302
    assert response["Location"] == topic.get_absolute_url()
    assert (topic.category, topic.kind, topic.author) == (category, "question", member)
    assert list(topic.skills.all()) == [skill]


def test_the_same_form_sent_twice_makes_one_topic() -> None:
    make_category(slug="qc")
    client = _client(make_member().user)
    data = {
        "category": "qc",
        "kind": "discussion",
        "title": "A topic sent twice",
        "body": "Body",
        "client_id": str(uuid.uuid4()),
    }
    first = client.post(reverse("forums:topic_new"), data)
    second = client.post(reverse("forums:topic_new"), data)
    assert first["Location"] == second["Location"]
    assert Topic.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "field_error"),
    [
        ({"title": "short"}, "title"),
        ({"body": ""}, "body"),
        ({"category": "no-such"}, "category"),
        ({"category": "lounge"}, "category"),
        ({"skills": ["no-such-skill"]}, "skills"),
        ({"body": "x" * 20001}, "body"),
    ],
)
def test_bad_topic_input_keeps_the_text_and_changes_nothing(
    changes: dict[str, Any], field_error: str
) -> None:
    make_category(slug="qc")
    make_category(slug="lounge", required_role="facilitator")
    data = {
        "category": "qc",
        "kind": "discussion",
        "title": "A perfectly fine title",
        "body": "Text I typed with care",
        **changes,
    }
    response = _client(make_member().user).post(reverse("forums:topic_new"), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'class="errorlist' in html
    if field_error != "body":
        assert "Text I typed with care" in _textarea(html)
    assert not Topic.objects.exists()


def test_preview_button_shows_the_rendered_text_and_keeps_it() -> None:
    make_category(slug="qc")
    response = _client(make_member().user).post(
        reverse("forums:topic_new"),
        {
            "category": "qc",
            "title": "Draft title here",
            "body": "**bold** move",
            "action": "preview",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<strong>bold</strong> move" in html
    assert _textarea(html) == "**bold** move"
    assert 'value="Draft title here"' in html
    assert '<option value="qc" selected>' in html
    assert not Topic.objects.exists()


def test_save_draft_then_the_form_restores_it_and_posting_deletes_it() -> None:
    make_category(slug="qc")
    member = make_member().user
    client = _client(member)
    response = client.post(
        reverse("forums:topic_new"),
        {"category": "qc", "title": "Half done", "body": "Half a text", "action": "draft"},
    )
    assert response.status_code == 302
    html = client.get(reverse("forums:topic_new")).content.decode()
    assert _textarea(html) == "Half a text"
    assert 'value="Half done"' in html
    client.post(
        reverse("forums:topic_new"),
        {"category": "qc", "kind": "discussion", "title": "Now complete", "body": "All of it"},
    )
    assert not Draft.objects.exists()


def test_a_trust_limit_keeps_the_text_and_the_draft(settings: Any) -> None:
    settings.FORUM_TRUST_LIMITS_ENABLED = True
    topic = make_topic()
    member = make_member().user
    client = _client(member)
    for i in range(3):
        make_post(topic=topic, author=member, body=f"Reply {i}")
    response = client.post(reverse("forums:reply", args=[topic.pk]), {"body": "My fourth reply"})
    html = response.content.decode()
    assert response.status_code == 429
    assert "try again in" in html
    assert _textarea(html) == "My fourth reply"
    draft = Draft.objects.get(user=member, topic=topic)
    assert draft.body == "My fourth reply"
    assert Post.objects.filter(author=member).count() == 3


def test_a_topic_over_the_daily_limit_keeps_the_text_as_a_draft(settings: Any) -> None:
    settings.FORUM_TRUST_LIMITS_ENABLED = True
    settings.FORUM_TRUST_LIMITS = {0: {"topics_per_day": 1}}
    category = make_category(slug="upstream")
    member = make_member().user
    client = _client(member)
    first = {"category": "upstream", "kind": "question", "title": "First question of the day"}
    assert client.post(reverse("forums:topic_new"), {**first, "body": "One"}).status_code == 302
    second = {**first, "title": "Second question of the day", "body": "My second question"}
    response = client.post(reverse("forums:topic_new"), second)
    html = response.content.decode()
    assert response.status_code == 429
    assert "1 topic a day" in html
    assert "Your text is saved as a draft." in html
    assert _textarea(html) == "My second question"
    draft = Draft.objects.get(user=member, topic=None)
    assert (draft.title, draft.body, draft.category) == (
        "Second question of the day",
        "My second question",
        category,
    )
    assert Topic.objects.filter(author=member).count() == 1


# --- reply and quote --------------------------------------------------------------------------
def test_quote_link_prefills_a_blockquote_and_reply_to() -> None:
    author = make_member("quoted", display_name="Kwame").user
    topic = make_topic(author=author, body="Check the glucose feed")
    opening = topic.posts.get(number=1)
    member = make_member().user
    draft_save(user=member, topic=topic, body="My earlier words")
    response = _client(member).get(
        reverse("forums:reply", args=[topic.pk]) + f"?quote={opening.pk}"
    )
    html = response.content.decode()
    body = _textarea(html)
    assert body.startswith("My earlier words\n\n&gt; **Kwame** [wrote](/forums/p/")
    assert "&gt; Check the glucose feed" in body
    assert f'name="reply_to" value="{opening.pk}"' in html


def test_reply_with_reply_to_and_draft_restored() -> None:
    topic = make_topic(replies=1)
    second = topic.posts.get(number=2)
    member = make_member().user
    client = _client(member)
    client.post(
        reverse("forums:reply", args=[topic.pk]),
        {"body": "Saved for later", "reply_to": second.pk, "action": "draft"},
    )
    html = client.get(reverse("forums:reply", args=[topic.pk])).content.decode()
    assert _textarea(html) == "Saved for later"
    assert f'name="reply_to" value="{second.pk}"' in html
    response = client.post(
        reverse("forums:reply", args=[topic.pk]), {"body": "Now sent", "reply_to": second.pk}
    )
    post = Post.objects.get(topic=topic, number=3)
    assert response["Location"] == post.get_absolute_url()
    assert post.reply_to == second
    assert not Draft.objects.exists()


def test_reply_to_a_post_of_another_topic_is_refused() -> None:
    topic = make_topic()
    elsewhere = make_topic(replies=1).posts.get(number=2)
    response = _client(make_member().user).post(
        reverse("forums:reply", args=[topic.pk]), {"body": "Hello", "reply_to": elsewhere.pk}
    )
    assert response.status_code == 400
    assert "Hello" in _textarea(response.content.decode())
    assert Post.objects.filter(topic=topic).count() == 1


def test_closed_locked_and_restricted_topics() -> None:
    member = make_member().user
    client = _client(member)
    closed = make_topic()
    Topic.objects.filter(pk=closed.pk).update(is_closed=True)
    response = client.post(reverse("forums:reply", args=[closed.pk]), {"body": "Late"})
    assert response.status_code == 403
    assert "closed" in response.content.decode()
    locked = make_topic()
    Topic.objects.filter(pk=locked.pk).update(is_locked=True)
    assert client.get(reverse("forums:reply", args=[locked.pk])).status_code == 403
    moderator = _client(make_moderator())
    assert (
        moderator.post(reverse("forums:reply", args=[locked.pk]), {"body": "Mod note"}).status_code
        == 302
    )
    lounge = make_category(required_role="facilitator")
    hidden = make_topic(category=lounge, author=make_member(roles=("facilitator",)).user)
    assert client.get(reverse("forums:reply", args=[hidden.pk])).status_code == 404
    assert client.post(reverse("forums:reply", args=[hidden.pk]), {"body": "x"}).status_code == 404
    assert Post.objects.filter(author=member).count() == 0


# --- edit, history, delete --------------------------------------------------------------------
def test_edit_permissions_and_opening_post_fields() -> None:
    author = make_member().user
    topic = make_topic(author=author, title="The original title")
    opening = topic.posts.get(number=1)
    url = reverse("forums:post_edit", args=[opening.pk])
    assert _client(make_member().user).get(url).status_code == 403
    assert Client().get(url).status_code == 302
    html = _client(author).get(url).content.decode()
    assert 'value="The original title"' in html
    response = _client(author).post(
        url, {"title": "The better title", "kind": "question", "body": "New opening text"}
    )
    assert response.status_code == 302
    topic.refresh_from_db()
    assert (topic.title, topic.kind) == ("The better title", "question")
    reply = make_post(topic=topic)
    reply_html = _client(reply.author).get(reverse("forums:post_edit", args=[reply.pk])).content
    assert b'name="title"' not in reply_html
    assert (
        _client(make_moderator()).get(reverse("forums:post_edit", args=[reply.pk])).status_code
        == 200
    )


def test_edit_preview_and_bad_input_keep_the_text() -> None:
    reply = make_post(topic=make_topic(), body="Before")
    client = _client(reply.author)
    url = reverse("forums:post_edit", args=[reply.pk])
    preview = client.post(url, {"body": "*After*", "action": "preview"}).content.decode()
    assert "<em>After</em>" in preview
    assert _textarea(preview) == "*After*"
    bad = client.post(url, {"body": ""})
    assert bad.status_code == 400
    assert Post.objects.get(pk=reply.pk).body == "Before"


def test_history_page_shows_every_version_with_a_diff(django_assert_max_num_queries: Any) -> None:
    author = make_member().user
    reply = make_post(topic=make_topic(), author=author, body="line one\nline two")
    post_edit(editor=author, post=reply, body="line one\nline 2")
    post_edit(editor=make_moderator(), post=reply, body="line one\nline 2\nline three")
    with django_assert_max_num_queries(8):
        response = Client().get(reverse("forums:post_history", args=[reply.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('class="version"') == 3
    assert "<del>\u2212 line two</del>" in html
    assert "<ins>+ line 2</ins>" in html
    assert "<ins>+ line three</ins>" in html
    assert "Version 3 (current)" in html


def test_history_of_a_restricted_post_is_not_found() -> None:
    lounge = make_category(required_role="facilitator")
    topic = make_topic(category=lounge, author=make_member(roles=("facilitator",)).user)
    url = reverse("forums:post_history", args=[topic.posts.get(number=1).pk])
    assert Client().get(url).status_code == 404
    assert _client(make_member().user).get(url).status_code == 404


def test_delete_confirm_then_delete_and_undelete() -> None:
    topic = make_topic(replies=1)
    reply = topic.posts.get(number=2)
    url = reverse("forums:post_delete", args=[reply.pk])
    assert _client(make_member().user).post(url).status_code == 403
    client = _client(reply.author)
    assert "Delete post #2?" in client.get(url).content.decode()
    response = client.post(url)
    assert response["Location"] == topic.get_absolute_url()
    assert Post.objects.get(pk=reply.pk).is_deleted
    undelete = reverse("forums:post_undelete", args=[reply.pk])
    assert client.post(undelete).status_code == 404
    assert _client(make_moderator()).post(undelete).status_code == 302
    assert not Post.objects.get(pk=reply.pk).is_deleted


def test_deleting_the_opening_post_deletes_the_topic() -> None:
    topic = make_topic(replies=1)
    opening = topic.posts.get(number=1)
    client = _client(topic.author)
    assert (
        "deletes the whole topic"
        in client.get(reverse("forums:post_delete", args=[opening.pk])).content.decode()
    )
    response = client.post(reverse("forums:post_delete", args=[opening.pk]))
    assert response["Location"] == topic.category.get_absolute_url()
    assert Topic.objects.get(pk=topic.pk).is_deleted


# --- preview and drafts -----------------------------------------------------------------------
def test_preview_endpoint() -> None:
    url = reverse("forums:preview")
    assert Client().post(url, {"body": "x"}).status_code == 403
    client = _client(make_member().user)
    response = client.post(url, {"body": "**hi** <script>x</script>"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b"<strong>hi</strong>" in response.content
    assert b"<script>" not in response.content
    assert client.post(url, {"body": "x" * 20001}).status_code == 400
    assert client.get(url).status_code == 405


def test_drafts_page_lists_and_discards(django_assert_max_num_queries: Any) -> None:
    member = make_member().user
    topic = make_topic(title="Glucose feeding strategy")
    draft_save(user=member, topic=topic, body="Reply in progress")
    draft_save(user=member, title="My new topic idea", body="Topic in progress")
    other = make_member().user
    draft_save(user=other, body="Someone else's")
    client = _client(member)
    with django_assert_max_num_queries(8):
        html = client.get(reverse("forums:drafts")).content.decode()
    assert "Glucose feeding strategy" in html
    assert "My new topic idea" in html
    assert "Someone else" not in html
    theirs = Draft.objects.get(user=other)
    assert client.post(reverse("forums:draft_discard", args=[theirs.pk])).status_code == 404
    mine = Draft.objects.get(user=member, topic=topic)
    assert client.post(reverse("forums:draft_discard", args=[mine.pk])).status_code == 302
    assert Draft.objects.filter(user=member).count() == 1


# --- the topic page's includes ----------------------------------------------------------------
def test_topic_page_includes_render_without_queries(django_assert_num_queries: Any) -> None:
    author = make_member().user
    topic = make_topic(author=author, replies=1)
    posts = list(topic.posts.select_related("author").order_by("number"))
    posts[0].can_edit = True  # type: ignore[attr-defined]
    posts[1].can_edit = False  # type: ignore[attr-defined]
    posts[0].edit_count = 2
    draft = draft_save(user=author, topic=topic, body="Unsent words", reply_to=posts[1])
    topic = Topic.objects.get(pk=topic.pk)
    context = {"topic": topic, "can_reply": True, "draft": draft, "user": author}
    with django_assert_num_queries(0):
        links = [
            post_links_html(PostPage(topic=topic, user=author, can_reply=True, csrf_token="tok"), p)
            for p in posts
        ]
        form = render_to_string("forums/posting/_reply_form.html", context)
    assert f"/forums/p/{posts[0].pk}/edit/" in links[0]
    assert f"/forums/p/{posts[0].pk}/history/" in links[0]
    assert "/edit/" not in links[1]
    assert f"?quote={posts[1].pk}" in links[1]
    assert "Unsent words</textarea>" in form
    assert f'name="reply_to" value="{posts[1].pk}"' in form
    assert 'data-mention-url="/api/v1/members/?q="' in form
    closed = render_to_string(
        "forums/posting/_reply_form.html", {**context, "can_reply": False, "draft": None}
    )
    assert "<textarea" not in closed
