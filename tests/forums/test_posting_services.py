"""Posting services: mentions, edits with revisions, soft deletes, quotes."""

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from community.forums.models import (
    Category,
    MemberStats,
    Mention,
    ModerationLog,
    Post,
    PostRevision,
    Topic,
    TopicEvent,
)
from community.forums.services import notify
from community.forums.services.posting import (
    mention_names,
    post_create,
    post_delete,
    post_edit,
    post_undelete,
    quote_markdown,
    topic_create,
)
from tests.factories import SkillFactory, make_member
from tests.forums.factories import make_category, make_moderator, make_post, make_topic

pytestmark = pytest.mark.django_db


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[dict[str, Any]]]:
    """What posting told the notify hooks (the hooks themselves still run)."""
    seen: dict[str, list[dict[str, Any]]] = {"created": [], "edited": []}
    created, edited = notify.on_post_created, notify.on_post_edited

    def on_created(**kw: Any) -> None:
        seen["created"].append(kw)
        created(**kw)

    def on_edited(**kw: Any) -> None:
        seen["edited"].append(kw)
        edited(**kw)

    monkeypatch.setattr(notify, "on_post_created", on_created)
    monkeypatch.setattr(notify, "on_post_edited", on_edited)
    return seen


# --- mentions ---------------------------------------------------------------------------------
def test_mention_names_skip_code_quotes_and_emails() -> None:
    text = (
        "Hi @Amina and @kwame.mensah, thanks @amina.\n\n"
        "`@incode` and mail me at lab@example.org\n\n"
        "```\n@fenced\n```\n\n"
        "> @quoted wrote this\n\n"
        "- @listed"
    )
    assert mention_names(text) == ["amina", "kwame.mensah", "listed"]


def test_mentions_keep_existing_active_readers_and_reach_notify(calls: Any) -> None:
    make_member("amina")
    gone = make_member("gone").user
    gone.is_active = False
    gone.save()
    author = make_member("writer").user
    topic = make_topic(author=author)
    post = post_create(
        author=author,
        topic=topic,
        body="Ask @AMINA, @gone, @nobody and myself @writer",
    )
    assert list(Mention.objects.filter(post=post).values_list("user__username", flat=True)) == [
        "amina"
    ]
    assert [u.username for u in calls["created"][-1]["mentioned"]] == ["amina"]
    assert calls["created"][-1]["post"] == post


def test_mentions_leave_out_members_who_cannot_read_the_topic(calls: Any) -> None:
    lounge = make_category(required_role="facilitator")
    facilitator = make_member("fac", roles=("facilitator",)).user
    colleague = make_member("fac2", roles=("facilitator",)).user
    make_member("learner")
    topic = topic_create(
        author=facilitator,
        category=lounge,
        title="Lounge topic for facilitators",
        body="Hello @learner and @fac2",
    )
    opening = topic.posts.get(number=1)
    assert [m.user for m in Mention.objects.filter(post=opening)] == [colleague]
    assert [u.username for u in calls["created"][0]["mentioned"]] == ["fac2"]


# --- edits ------------------------------------------------------------------------------------
def test_edit_keeps_a_revision_and_appends_post_edited() -> None:
    author = make_member().user
    topic = make_topic(author=author)
    reply = make_post(topic=topic, author=author, body="First text")
    edited = post_edit(editor=author, post=reply, body="Second text")
    assert edited.edit_count == 1
    assert edited.edited_at is not None
    assert "Second text" in edited.body_html
    revision = PostRevision.objects.get(post=reply)
    assert (revision.number, revision.body, revision.editor) == (1, "First text", author)
    last = TopicEvent.objects.filter(topic=topic).order_by("-seq").first()
    assert last is not None
    assert last.type == "post.edited"
    assert last.data["html"] == edited.body_html
    assert last.data["id"] == reply.pk
    post_edit(editor=author, post=reply, body="Third text")
    assert list(PostRevision.objects.filter(post=reply).values_list("number", "body")) == [
        (1, "First text"),
        (2, "Second text"),
    ]


def test_edit_that_changes_nothing_stores_nothing() -> None:
    author = make_member().user
    reply = make_post(topic=make_topic(), author=author, body="Same text")
    seq = Topic.objects.get(pk=reply.topic_id).last_seq
    post_edit(editor=author, post=reply, body="Same text  ")
    assert not PostRevision.objects.exists()
    assert Topic.objects.get(pk=reply.topic_id).last_seq == seq


def test_opening_post_edit_changes_title_kind_and_skills() -> None:
    old, new = SkillFactory(), SkillFactory()
    author = make_member().user
    topic = make_topic(author=author, title="An old long title", skills=[old.slug])
    opening = topic.posts.get(number=1)
    post_edit(
        editor=author,
        post=opening,
        body="New body text",
        title="A new long title",
        kind="question",
        skills=[new.slug],
    )
    topic.refresh_from_db()
    assert (topic.title, topic.slug, topic.kind) == (
        "A new long title",
        "a-new-long-title",
        "question",
    )
    assert list(topic.skills.values_list("slug", flat=True)) == [new.slug]
    revision = PostRevision.objects.get(post=opening)
    assert revision.title == "An old long title"
    assert Post.objects.get(pk=opening.pk).body_text.startswith("A new long title")


def test_title_on_a_reply_edit_is_refused() -> None:
    author = make_member().user
    reply = make_post(topic=make_topic(), author=author)
    with pytest.raises(ValidationError) as exc:
        post_edit(editor=author, post=reply, body="Changed", title="A brand new title")
    assert "title" in exc.value.message_dict
    assert not PostRevision.objects.exists()


def test_edit_permissions_author_moderator_not_others() -> None:
    author = make_member().user
    reply = make_post(topic=make_topic(), author=author, body="Original")
    with pytest.raises(PermissionDenied):
        post_edit(editor=make_member().user, post=reply, body="Vandalised")
    moderator = make_moderator()
    post_edit(editor=moderator, post=reply, body="Tidied by a moderator", reason="typo")
    log = ModerationLog.objects.get()
    assert (log.action, log.post_id, log.moderator, log.reason) == (
        "edit",
        reply.pk,
        moderator,
        "typo",
    )
    # The author's own edit is not a moderator action.
    post_edit(editor=author, post=reply, body="Author again")
    assert ModerationLog.objects.count() == 1


def test_author_cannot_edit_in_a_locked_topic() -> None:
    author = make_member().user
    reply = make_post(topic=make_topic(), author=author)
    Topic.objects.filter(pk=reply.topic_id).update(is_locked=True)
    with pytest.raises(PermissionDenied):
        post_edit(editor=author, post=Post.objects.get(pk=reply.pk), body="Sneaky")


def test_edit_adding_a_mention_notifies_only_the_newly_mentioned(calls: Any) -> None:
    make_member("ada")
    make_member("bo")
    author = make_member().user
    reply = make_post(topic=make_topic(), author=author, body="cc @ada")
    post_edit(editor=author, post=reply, body="cc @ada and @bo")
    assert len(calls["edited"]) == 1
    assert [u.username for u in calls["edited"][0]["newly_mentioned"]] == ["bo"]
    assert set(Mention.objects.filter(post=reply).values_list("user__username", flat=True)) == {
        "ada",
        "bo",
    }
    post_edit(editor=author, post=reply, body="cc @bo only")
    assert len(calls["edited"]) == 1  # nobody new
    assert list(Mention.objects.filter(post=reply).values_list("user__username", flat=True)) == [
        "bo"
    ]


# --- deletes ----------------------------------------------------------------------------------
def test_deleting_a_reply_keeps_counters_right_and_tells_readers() -> None:
    topic = make_topic(replies=2)
    reply = topic.posts.get(number=2)
    post_delete(actor=reply.author, post=reply)
    topic.refresh_from_db()
    category = Category.objects.get(pk=topic.category_id)
    assert topic.reply_count == 1
    assert (category.topic_count, category.post_count) == (1, 2)
    assert MemberStats.objects.get(user=reply.author).post_count == 0
    last = TopicEvent.objects.filter(topic=topic).order_by("-seq").first()
    assert last is not None
    assert (last.type, last.data) == ("post.deleted", {"id": reply.pk, "number": 2})
    # A second delete changes nothing.
    post_delete(actor=reply.author, post=reply)
    assert Topic.objects.get(pk=topic.pk).reply_count == 1


def test_deleting_the_opening_post_deletes_the_topic_and_undelete_brings_it_back() -> None:
    topic = make_topic(replies=2)
    opening = topic.posts.get(number=1)
    post_delete(actor=topic.author, post=opening)
    topic.refresh_from_db()
    assert topic.is_deleted
    category = Category.objects.get(pk=topic.category_id)
    assert (category.topic_count, category.post_count) == (0, 0)
    moderator = make_moderator()
    post_undelete(actor=moderator, post=opening)
    topic.refresh_from_db()
    category.refresh_from_db()
    assert not topic.is_deleted
    assert (category.topic_count, category.post_count) == (1, 3)
    assert ModerationLog.objects.filter(action="restore").count() == 1


def test_delete_permissions_and_moderator_log() -> None:
    topic = make_topic(replies=1)
    reply = topic.posts.get(number=2)
    with pytest.raises(PermissionDenied):
        post_delete(actor=make_member().user, post=reply)
    with pytest.raises(PermissionDenied):
        post_undelete(actor=reply.author, post=reply)
    moderator = make_moderator()
    post_delete(actor=moderator, post=reply, reason="spam")
    log = ModerationLog.objects.get()
    assert (log.action, log.reason, log.post_id) == ("delete", "spam", reply.pk)


def test_deleting_the_accepted_answer_clears_it() -> None:
    topic = make_topic(replies=1, kind="question")
    answer = topic.posts.get(number=2)
    Topic.objects.filter(pk=topic.pk).update(accepted_post=answer)
    post_delete(actor=answer.author, post=answer)
    assert Topic.objects.get(pk=topic.pk).accepted_post_id is None
    types = list(TopicEvent.objects.filter(topic=topic).values_list("type", flat=True))
    assert types[-2:] == ["topic.accepted", "post.deleted"]


def test_reply_to_a_deleted_post_or_into_a_deleted_topic_is_refused() -> None:
    topic = make_topic(replies=1)
    reply = topic.posts.get(number=2)
    post_delete(actor=reply.author, post=reply)
    with pytest.raises(ValidationError):
        post_create(author=make_member().user, topic=topic, body="Hello", reply_to=reply)
    post_delete(actor=topic.author, post=topic.posts.get(number=1))
    with pytest.raises(PermissionDenied):
        post_create(author=make_member().user, topic=topic, body="Hello")


def test_quote_is_a_blockquote_of_the_post_and_its_author() -> None:
    profile = make_member("quoted", display_name="Amina O. [QA]")
    topic = make_topic(author=profile.user, body="Line one\n\nLine *two*")
    quote = quote_markdown(topic.posts.select_related("author__profile").get(number=1))
    assert quote.startswith(r"> **Amina O\. \[QA\]** [wrote](/forums/p/")
    assert "> Line one\n>\n> Line *two*" in quote
    # Quoting mentions nobody, and the link back counts against no link limit.
    assert mention_names(quote) == []
