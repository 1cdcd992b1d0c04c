"""Moderation services: flags, the review decisions, topic moderation (pin, lock, close,
move, merge, delete), counters, stream events, notifications and the log."""

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings

from community.forums import access
from community.forums.models import (
    Category,
    Draft,
    Flag,
    FlagStatus,
    ModerationAction,
    ModerationLog,
    Post,
    ReadState,
    Topic,
    TopicEvent,
    TopicWatch,
)
from community.forums.selectors import moderation as selectors
from community.forums.services import moderation as services
from community.forums.services.posting import post_create
from community.models import User
from community.notifications.models import Notification
from tests.factories import make_member
from tests.forums.factories import make_category, make_moderator, make_post, make_topic

pytestmark = pytest.mark.django_db


def _member(name: str | None = None) -> User:
    return make_member(name).user


def _events(topic: Topic) -> list[tuple[str, dict[str, Any]]]:
    return [(e.type, e.data) for e in TopicEvent.objects.filter(topic=topic).order_by("seq")]


def _counts(topic: Topic) -> tuple[int, int, int]:
    topic = Topic.objects.get(pk=topic.pk)
    category = Category.objects.get(pk=topic.category_id)
    return topic.reply_count, category.topic_count, category.post_count


@pytest.fixture
def moderator() -> User:
    return make_moderator("mod")


@pytest.fixture
def topic() -> Topic:
    return make_topic(replies=2)


def _reply(topic: Topic, number: int = 2) -> Post:
    return Post.objects.get(topic=topic, number=number)


# --- flags ---------------------------------------------------------------------------------
def test_member_flags_a_post_they_can_read(topic: Topic) -> None:
    flagger = _member()
    flag = services.flag_create(user=flagger, post=_reply(topic), reason="spam")
    assert (flag.status, flag.reason, flag.flagged_by_id) == (FlagStatus.OPEN, "spam", flagger.pk)


def test_other_needs_a_note_and_notes_are_limited(topic: Topic) -> None:
    flagger = _member()
    with pytest.raises(ValidationError) as exc:
        services.flag_create(user=flagger, post=_reply(topic), reason="other", note="  ")
    assert "note" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.flag_create(user=flagger, post=_reply(topic), reason="spam", note="x" * 501)
    assert "note" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.flag_create(user=flagger, post=_reply(topic), reason="rude")
    assert "reason" in exc.value.message_dict
    assert not Flag.objects.exists()
    services.flag_create(user=flagger, post=_reply(topic), reason="other", note="Copied text")
    assert Flag.objects.get().note == "Copied text"


def test_one_open_flag_per_member_and_post(topic: Topic, moderator: User) -> None:
    flagger = _member()
    services.flag_create(user=flagger, post=_reply(topic), reason="spam")
    with pytest.raises(ValidationError) as exc:
        services.flag_create(user=flagger, post=_reply(topic), reason="abusive")
    assert "already flagged" in exc.value.message_dict["post"][0]
    assert Flag.objects.count() == 1
    # Once resolved, the member may flag the post again.
    services.post_review(moderator=moderator, post=_reply(topic), action="dismiss")
    services.flag_create(user=flagger, post=_reply(topic), reason="abusive")
    assert Flag.objects.filter(status=FlagStatus.OPEN).count() == 1


def test_nobody_flags_their_own_post(topic: Topic) -> None:
    post = _reply(topic)
    with pytest.raises(ValidationError) as exc:
        services.flag_create(user=post.author, post=post, reason="spam")
    assert "own post" in exc.value.message_dict["post"][0]
    assert not Flag.objects.exists()


def test_posts_the_member_cannot_read_cannot_be_flagged(moderator: User) -> None:
    lounge = make_category(required_role="facilitator")
    hidden_topic = make_topic(category=lounge, author=moderator)
    post = make_post(topic=hidden_topic, author=moderator)
    with pytest.raises(Post.DoesNotExist):
        services.flag_create(user=_member(), post=post, reason="spam")
    public = make_topic(replies=1)
    post = _reply(public)
    services.post_review(moderator=moderator, post=post, action="hide")
    with pytest.raises(Post.DoesNotExist):
        services.flag_create(user=_member(), post=post, reason="spam")
    with pytest.raises(PermissionDenied):
        services.flag_create(user=AnonymousUser(), post=post, reason="spam")  # type: ignore[arg-type]
    assert not Flag.objects.exists()


@override_settings(FORUM_FLAG_AUTO_HIDE=3)
def test_three_members_flagging_hide_the_post_pending_review(topic: Topic) -> None:
    post = _reply(topic)
    flaggers = [_member(f"flagger{i}") for i in range(3)]
    services.flag_create(user=flaggers[0], post=post, reason="spam")
    services.flag_create(user=flaggers[1], post=post, reason="abusive")
    assert not Post.objects.get(pk=post.pk).is_hidden
    assert _counts(topic)[0] == 2
    services.flag_create(user=flaggers[2], post=post, reason="spam")
    post.refresh_from_db()
    assert post.is_hidden
    assert _counts(topic) == (1, 1, 2)
    log = ModerationLog.objects.get()
    assert log.action == ModerationAction.HIDE
    assert log.details == {"number": 2, "automatic": True, "flags": 3}
    assert log.moderator_id == flaggers[2].pk
    assert _events(topic)[-1] == ("post.hidden", {"id": post.pk, "number": 2})
    # Still waiting for review.
    assert list(selectors.review_queue(user=make_moderator())) == [post]


@override_settings(FORUM_FLAG_AUTO_HIDE=0)
def test_automatic_hiding_can_be_turned_off(topic: Topic) -> None:
    post = _reply(topic)
    for i in range(4):
        services.flag_create(user=_member(f"f{i}"), post=post, reason="spam")
    assert not Post.objects.get(pk=post.pk).is_hidden


# --- review decisions ----------------------------------------------------------------------
def _flag(post: Post, *names: str, reason: str = "spam") -> list[User]:
    users = [_member(name) for name in names]
    for user in users:
        services.flag_create(user=user, post=post, reason=reason)
    return users


def test_hide_hides_for_everyone_but_moderators_and_author(topic: Topic, moderator: User) -> None:
    post = _reply(topic)
    flaggers = _flag(post, "ann", "bob")
    services.post_review(moderator=moderator, post=post, action="hide", reason="Advert")
    post.refresh_from_db()
    assert post.is_hidden
    assert not post.is_deleted
    reader = _member()
    visible = Post.objects.filter(access.post_visible_q(reader), topic=topic)
    assert post not in visible
    assert post in Post.objects.filter(access.post_visible_q(post.author), topic=topic)
    assert post in Post.objects.filter(access.post_visible_q(moderator), topic=topic)
    assert _counts(topic) == (1, 1, 2)
    assert set(Flag.objects.values_list("status", "resolved_by")) == {
        (FlagStatus.HIDDEN, moderator.pk)
    }
    log = ModerationLog.objects.get()
    assert (log.action, log.moderator, log.post, log.reason) == ("hide", moderator, post, "Advert")
    assert _events(topic)[-1] == ("post.hidden", {"id": post.pk, "number": 2})
    notes = Notification.objects.filter(kind="forum.flag").order_by("recipient_id")
    assert [n.recipient_id for n in notes] == sorted(u.pk for u in flaggers)
    assert "hid the post" in notes[0].text
    assert topic.title in notes[0].text


def test_restore_shows_a_hidden_post_again(topic: Topic, moderator: User) -> None:
    post = _reply(topic)
    with override_settings(FORUM_FLAG_AUTO_HIDE=1):
        _flag(post, "carl")
    assert _counts(topic) == (1, 1, 2)
    services.post_review(moderator=moderator, post=post, action="restore")
    post.refresh_from_db()
    assert not post.is_hidden
    assert _counts(topic) == (2, 1, 3)
    assert _events(topic)[-1] == ("post.restored", {"id": post.pk, "number": 2})
    assert Flag.objects.get().status == FlagStatus.RESTORED
    assert [e.action for e in ModerationLog.objects.order_by("id")] == ["hide", "restore"]


def test_restore_brings_back_a_deleted_post(topic: Topic, moderator: User) -> None:
    post = _reply(topic)
    _flag(post, "dan")
    services.post_review(moderator=moderator, post=post, action="delete")
    assert _counts(topic) == (1, 1, 2)
    services.post_review(moderator=moderator, post=post, action="restore")
    post.refresh_from_db()
    assert not post.is_deleted
    assert _counts(topic) == (2, 1, 3)


def test_delete_soft_deletes_and_resolves_flags(topic: Topic, moderator: User) -> None:
    post = _reply(topic)
    _flag(post, "eve", "fay")
    services.post_review(moderator=moderator, post=post, action="delete", reason="Spam link")
    post.refresh_from_db()
    assert post.is_deleted
    assert post.deleted_by == moderator
    assert Post.objects.filter(pk=post.pk).exists()
    assert _counts(topic) == (1, 1, 2)
    assert set(Flag.objects.values_list("status", flat=True)) == {FlagStatus.DELETED}
    assert ("post.deleted", {"id": post.pk, "number": 2}) in _events(topic)
    log = ModerationLog.objects.get(action=ModerationAction.DELETE)
    assert (log.post, log.reason) == (post, "Spam link")
    assert Notification.objects.filter(kind="forum.flag").count() == 2
    assert list(selectors.review_queue(user=moderator)) == []


def test_deleting_the_opening_post_takes_the_topic_and_its_flags(
    topic: Topic, moderator: User
) -> None:
    opening = topic.posts.get(number=1)
    _flag(opening, "gus")
    _flag(_reply(topic, 3), "hal")
    services.post_review(moderator=moderator, post=opening, action="delete")
    topic.refresh_from_db()
    assert topic.is_deleted
    assert not Flag.objects.filter(status=FlagStatus.OPEN).exists()
    assert Category.objects.get(pk=topic.category_id).topic_count == 0
    assert Notification.objects.filter(kind="forum.flag").count() == 2


def test_dismiss_closes_flags_and_shows_an_auto_hidden_post(topic: Topic, moderator: User) -> None:
    post = _reply(topic)
    with override_settings(FORUM_FLAG_AUTO_HIDE=2):
        _flag(post, "ian", "jo")
    assert Post.objects.get(pk=post.pk).is_hidden
    services.post_review(moderator=moderator, post=post, action="dismiss")
    post.refresh_from_db()
    assert not post.is_hidden
    assert _counts(topic)[0] == 2
    assert set(Flag.objects.values_list("status", flat=True)) == {FlagStatus.DISMISSED}
    log = ModerationLog.objects.filter(action="dismiss").get()
    assert log.details == {"number": 2, "flags": 2, "restored": True}
    note = Notification.objects.filter(kind="forum.flag").first()
    assert note is not None
    assert "left it up" in note.text


@pytest.mark.parametrize(
    ("setup", "action", "field"),
    [
        ("", "dismiss", "post"),  # no open flags
        ("", "restore", "post"),  # shown already
        ("hide", "hide", "post"),  # hidden already, nothing open
        ("delete", "delete", "post"),
        ("delete", "hide", "post"),
        ("", "ban", "action"),
    ],
)
def test_review_that_would_do_nothing_is_refused(
    topic: Topic, moderator: User, setup: str, action: str, field: str
) -> None:
    post = _reply(topic)
    if setup:
        services.post_review(moderator=moderator, post=post, action=setup)
    before = (_counts(topic), ModerationLog.objects.count(), TopicEvent.objects.count())
    with pytest.raises(ValidationError) as exc:
        services.post_review(moderator=moderator, post=post, action=action)
    assert field in exc.value.message_dict
    assert (_counts(topic), ModerationLog.objects.count(), TopicEvent.objects.count()) == before


def test_members_and_authors_cannot_review(topic: Topic) -> None:
    post = _reply(topic)
    _flag(post, "kim")
    for user in (_member(), post.author, topic.author):
        with pytest.raises(PermissionDenied):
            services.post_review(moderator=user, post=post, action="hide")
    assert not Post.objects.get(pk=post.pk).is_hidden
    assert Flag.objects.get().status == FlagStatus.OPEN


def test_flaggers_who_lost_access_get_no_title_or_link(moderator: User) -> None:
    topic = make_topic(replies=1)
    post = _reply(topic)
    (flagger,) = _flag(post, "lee")
    lounge = make_category(required_role="facilitator")
    services.topic_move(moderator=moderator, topic=topic, category=lounge)
    services.post_review(moderator=moderator, post=post, action="hide")
    note = Notification.objects.get(recipient=flagger)
    assert topic.title not in note.text
    assert note.url == ""


# --- the queue -----------------------------------------------------------------------------
def test_queue_groups_flags_by_post_oldest_first(moderator: User) -> None:
    first = _reply(make_topic(replies=1))
    second = _reply(make_topic(replies=1))
    _flag(first, "m1", "m2", reason="spam")
    _flag(second, "m3")
    services.flag_create(user=_member("m4"), post=first, reason="abusive")
    page = selectors.review_page(user=moderator, page=1)
    posts = list(page.object_list)
    assert posts == [first, second]
    assert posts[0].open_flag_count == 3
    assert [(r["reason"], r["count"]) for r in posts[0].reason_counts] == [
        ("spam", 2),
        ("abusive", 1),
    ]
    assert [f.flagged_by.username for f in posts[0].open_flags] == ["m1", "m2", "m4"]
    only_abusive = selectors.review_page(user=moderator, page=1, reason="abusive")
    assert list(only_abusive.object_list) == [first]
    assert only_abusive.object_list[0].open_flag_count == 3


def test_queue_and_log_are_for_moderators_only(topic: Topic) -> None:
    for user in (_member(), topic.author):
        with pytest.raises(PermissionDenied):
            selectors.review_queue(user=user)
        with pytest.raises(PermissionDenied):
            selectors.moderation_log(user=user)


def test_moderators_see_flags_in_restricted_categories(moderator: User) -> None:
    lounge = make_category(required_role="facilitator")
    facilitator = make_member(roles=("facilitator",)).user
    topic = make_topic(category=lounge, author=facilitator, replies=0)
    post = make_post(topic=topic, author=make_member(roles=("facilitator",)).user)
    services.flag_create(user=facilitator, post=post, reason="off_topic")
    assert list(selectors.review_queue(user=moderator)) == [post]


# --- topics --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("action", "field", "value"),
    [
        ("pin", "is_pinned", True),
        ("lock", "is_locked", True),
        ("close", "is_closed", True),
    ],
)
def test_toggles_change_state_log_and_tell_readers(
    topic: Topic, moderator: User, action: str, field: str, value: bool
) -> None:
    services.topic_moderate(moderator=moderator, topic=topic, action=action, reason="why")
    assert getattr(Topic.objects.get(pk=topic.pk), field) is value
    event = _events(topic)[-1]
    assert event[0] == "topic.updated"
    assert event[1][field] is value
    assert event[1]["category"] == topic.category.slug
    log = ModerationLog.objects.get()
    assert (log.action, log.topic_id, log.reason) == (action, topic.pk, "why")
    with pytest.raises(ValidationError) as exc:
        services.topic_moderate(moderator=moderator, topic=topic, action=action)
    assert "already" in exc.value.message_dict["action"][0]
    undo = {"pin": "unpin", "lock": "unlock", "close": "reopen"}[action]
    services.topic_moderate(moderator=moderator, topic=topic, action=undo)
    assert getattr(Topic.objects.get(pk=topic.pk), field) is not value
    assert ModerationLog.objects.count() == 2


def test_closed_and_locked_topics_refuse_member_replies(topic: Topic, moderator: User) -> None:
    services.topic_moderate(moderator=moderator, topic=topic, action="close")
    with pytest.raises(PermissionDenied):
        post_create(author=_member(), topic=topic, body="Still there?")
    post_create(author=moderator, topic=topic, body="Closing note.")


def test_members_cannot_moderate_topics(topic: Topic) -> None:
    for user in (_member(), topic.author):
        with pytest.raises(PermissionDenied):
            services.topic_moderate(moderator=user, topic=topic, action="pin")
        with pytest.raises(PermissionDenied):
            services.topic_move(moderator=user, topic=topic, category=make_category())
        with pytest.raises(PermissionDenied):
            services.topic_merge(moderator=user, topic=topic, into=make_topic())
        with pytest.raises(PermissionDenied):
            services.topic_delete(moderator=user, topic=topic)
    assert not ModerationLog.objects.exists()
    assert not Topic.objects.get(pk=topic.pk).is_pinned


def test_move_keeps_both_categories_counts(topic: Topic, moderator: User) -> None:
    source = topic.category
    target = make_category()
    services.post_review(moderator=moderator, post=_reply(topic), action="hide")
    services.topic_move(moderator=moderator, topic=topic, category=target, reason="Belongs there")
    source.refresh_from_db()
    target.refresh_from_db()
    assert (source.topic_count, source.post_count, source.last_posted_at) == (0, 0, None)
    assert (target.topic_count, target.post_count) == (1, 2)
    assert target.last_posted_at == Topic.objects.get(pk=topic.pk).last_posted_at
    assert _events(topic)[-1] == (
        "topic.moved",
        {"category": target.slug, "category_id": target.pk, "restricted": False},
    )
    log = ModerationLog.objects.get(action="move")
    assert log.details == {"from": source.slug, "to": target.slug}


def test_move_into_a_restricted_category_hides_the_topic(topic: Topic, moderator: User) -> None:
    lounge = make_category(required_role="facilitator")
    reader = _member()
    assert access.topics_visible_to(reader).filter(pk=topic.pk).exists()
    services.topic_move(moderator=moderator, topic=topic, category=lounge)
    assert not access.topics_visible_to(reader).filter(pk=topic.pk).exists()
    facilitator = make_member(roles=("facilitator",)).user
    assert access.topics_visible_to(facilitator).filter(pk=topic.pk).exists()
    assert _events(topic)[-1][1]["restricted"] is True


def test_move_to_the_same_or_an_unknown_category_is_refused(topic: Topic, moderator: User) -> None:
    with pytest.raises(ValidationError) as exc:
        services.topic_move(moderator=moderator, topic=topic, category=topic.category)
    assert "category" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.topic_move(moderator=moderator, topic=topic, category=Category(pk=999999))
    assert "category" in exc.value.message_dict
    assert not ModerationLog.objects.exists()
    assert Topic.objects.get(pk=topic.pk).category_id == topic.category_id


def test_merge_appends_posts_after_the_last_and_keeps_counts(moderator: User) -> None:
    category = make_category()
    other = make_category()
    target = make_topic(category=category, replies=2)  # posts 1..3
    source = make_topic(category=other, replies=1)  # posts 1..2
    older = make_topic(category=other)
    services.topic_merge(moderator=moderator, topic=older, into=source)
    # source now has 3 posts (older's opening post became #3)
    source_posts = list(Post.objects.filter(topic=source).order_by("number"))
    assert [p.number for p in source_posts] == [1, 2, 3]
    hidden = source_posts[1]
    services.post_review(moderator=moderator, post=hidden, action="hide")

    services.topic_merge(moderator=moderator, topic=source, into=target, reason="Duplicate")
    target.refresh_from_db()
    source.refresh_from_db()
    older.refresh_from_db()
    numbers = list(Post.objects.filter(topic=target).order_by("number").values_list("pk", "number"))
    assert [n for _pk, n in numbers] == [1, 2, 3, 4, 5, 6]
    assert [pk for pk, _n in numbers][3:] == [p.pk for p in source_posts]
    assert target.last_post_number == 6
    assert target.reply_count == 4  # 2 of its own + 2 visible of the 3 moved
    assert source.merged_into_id == target.pk
    assert older.merged_into_id == target.pk
    assert not Post.objects.filter(topic=source).exists()
    cat, oth = Category.objects.get(pk=category.pk), Category.objects.get(pk=other.pk)
    assert (cat.topic_count, cat.post_count) == (1, 5)
    assert (oth.topic_count, oth.post_count) == (0, 0)
    assert _events(source)[-1] == ("topic.merged", {"into": target.get_absolute_url()})
    created = [d["number"] for t, d in _events(target) if t == "post.created"]
    assert created[-2:] == [4, 6]  # the hidden post #5 is not pushed to readers
    log = ModerationLog.objects.filter(action="merge").latest("id")
    assert log.details["into"] == target.pk
    assert log.details["numbers"] == [4, 6]
    assert selectors.topic_merged_target(pk=older.pk, user=_member()) == target
    assert selectors.topic_merged_target(pk=target.pk, user=_member()) is None


def test_merge_carries_watches_drafts_and_read_positions(moderator: User) -> None:
    target = make_topic(replies=2)  # posts 1..3
    source = make_topic(replies=1)  # posts 1..2, become 4..5
    both, only_source, behind = _member("both"), _member("only_source"), _member("behind")
    TopicWatch.objects.create(user=both, topic=source, level="watching")
    TopicWatch.objects.create(user=both, topic=target, level="muted")  # their choice stays
    TopicWatch.objects.create(user=only_source, topic=source, level="tracking")
    ReadState.objects.create(user=both, topic=target, last_read_number=3)
    ReadState.objects.create(user=both, topic=source, last_read_number=1)
    ReadState.objects.create(user=behind, topic=target, last_read_number=2)
    ReadState.objects.create(user=behind, topic=source, last_read_number=2)
    Draft.objects.create(user=only_source, topic=source, body="Half a reply")
    Draft.objects.create(user=both, topic=source, body="On the source")
    Draft.objects.create(user=both, topic=target, body="On the target")

    services.topic_merge(moderator=moderator, topic=source, into=target)

    ours = [both, only_source, behind]
    watches = dict(
        TopicWatch.objects.filter(topic=target, user__in=ours).values_list(
            "user__username", "level"
        )
    )
    assert watches == {"both": "muted", "only_source": "tracking"}
    # the authors of the moved posts watched the source (as authors do) and now the target
    source_authors = set(
        Post.objects.filter(topic=target, number__gt=3).values_list("author", flat=True)
    )
    assert source_authors <= set(
        TopicWatch.objects.filter(topic=target).values_list("user_id", flat=True)
    )
    read = dict(
        ReadState.objects.filter(topic=target, user__in=ours).values_list(
            "user__username", "last_read_number"
        )
    )
    # "both" had read all of the target and post 1 of the source (now 4); "behind" had
    # not read the target's post 3, so the moved posts after it stay unread too.
    assert read == {"both": 4, "behind": 2}
    drafts = dict(Draft.objects.filter(topic=target).values_list("user__username", "body"))
    assert drafts == {"only_source": "Half a reply", "both": "On the target\n\nOn the source"}
    assert not Draft.objects.filter(topic=source).exists()


@pytest.mark.parametrize("case", ["itself", "merged", "deleted", "merged_source"])
def test_bad_merges_are_refused_and_change_nothing(moderator: User, case: str) -> None:
    source = make_topic(replies=1)
    into = make_topic(replies=1)
    if case == "itself":
        into = source
    elif case == "merged":
        services.topic_merge(moderator=moderator, topic=into, into=make_topic())
    elif case == "deleted":
        services.topic_delete(moderator=moderator, topic=into)
    else:
        services.topic_merge(moderator=moderator, topic=source, into=make_topic())
    before = (
        list(Post.objects.order_by("pk").values_list("topic_id", "number")),
        ModerationLog.objects.count(),
    )
    with pytest.raises(ValidationError) as exc:
        services.topic_merge(moderator=moderator, topic=source, into=into)
    assert set(exc.value.message_dict) & {"into", "topic"}
    after = (
        list(Post.objects.order_by("pk").values_list("topic_id", "number")),
        ModerationLog.objects.count(),
    )
    assert after == before


def test_delete_topic_is_soft_and_counted(topic: Topic, moderator: User) -> None:
    _flag(_reply(topic), "nia")
    services.topic_delete(moderator=moderator, topic=topic, reason="Spam thread")
    topic.refresh_from_db()
    assert topic.is_deleted
    assert Post.objects.filter(topic=topic).count() == 3
    assert _counts(topic)[1:] == (0, 0)
    assert not access.topics_visible_to(_member()).filter(pk=topic.pk).exists()
    assert ModerationLog.objects.filter(action="delete_topic", topic=topic).count() == 1
    assert not Flag.objects.filter(status=FlagStatus.OPEN).exists()
    kind, data = _events(topic)[-1]
    assert kind == "topic.updated"
    assert data["is_deleted"] is True
    for action in ("pin", "close"):
        with pytest.raises(ValidationError):
            services.topic_moderate(moderator=moderator, topic=topic, action=action)
    with pytest.raises(ValidationError):
        services.topic_delete(moderator=moderator, topic=topic)


def test_a_moderator_deleting_their_own_topic_is_logged_once(moderator: User) -> None:
    topic = make_topic(author=moderator)
    services.topic_delete(moderator=moderator, topic=topic)
    assert ModerationLog.objects.filter(action="delete_topic").count() == 1


def test_reasons_are_limited(topic: Topic, moderator: User) -> None:
    with pytest.raises(ValidationError) as exc:
        services.topic_moderate(moderator=moderator, topic=topic, action="pin", reason="x" * 501)
    assert "reason" in exc.value.message_dict
    assert not Topic.objects.get(pk=topic.pk).is_pinned


def test_log_filters_by_action_and_moderator(topic: Topic, moderator: User) -> None:
    other = make_moderator("mod2")
    services.topic_moderate(moderator=moderator, topic=topic, action="pin")
    services.topic_moderate(moderator=other, topic=topic, action="lock")
    services.topic_moderate(moderator=other, topic=topic, action="close")
    assert [e.action for e in selectors.moderation_log(user=moderator)] == ["close", "lock", "pin"]
    assert [e.action for e in selectors.moderation_log(user=moderator, action="lock")] == ["lock"]
    by_other = selectors.moderation_log(user=moderator, moderator=other)
    assert [e.action for e in by_other] == ["close", "lock"]
