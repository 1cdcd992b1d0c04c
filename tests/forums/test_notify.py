"""Who is told about a new post (services/notify.py): mentions, replies and watchers,
each at most once, never the author, never someone who cannot read the topic; muted
wins; "watching" notifications collapse; a constant number of queries."""

from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from community.forums.models import CategoryWatch, TagWatch, Topic, TopicWatch, WatchLevel
from community.forums.services import notify
from community.forums.services.following import (
    category_watch_set,
    tag_watch_set,
    topic_watch_set,
)
from community.forums.services.posting import post_create
from community.models import User
from community.notifications.models import EmailMode, Notification
from community.notifications.services import notification_settings_update
from tests.factories import SkillFactory, make_member
from tests.forums.factories import make_category, make_moderator, make_post, make_topic

pytestmark = pytest.mark.django_db


def _kinds(post_pk: int | None = None) -> dict[str, str]:
    """{username: kind} of every notification."""
    return dict(Notification.objects.values_list("recipient__username", "kind"))


def _member(**kw: Any) -> User:
    return make_member(**kw).user


def test_watchers_of_a_topic_hear_about_replies_and_the_author_never() -> None:
    topic = make_topic()
    watcher = _member()
    topic_watch_set(user=watcher, topic=topic, level=WatchLevel.WATCHING)
    tracker = _member()
    topic_watch_set(user=tracker, topic=topic, level=WatchLevel.TRACKING)
    replier = _member()
    make_post(topic=topic, author=replier, body="Check the glucose feed.")
    kinds = _kinds()
    # The topic's author watches it automatically; the tracker hears nothing.
    assert kinds == {watcher.username: "forum.watching", topic.author.username: "forum.watching"}
    note = Notification.objects.get(recipient=watcher)
    assert topic.title in note.text
    assert note.actor_id == replier.pk
    assert note.url == topic.posts.get(number=2).get_absolute_url()


def test_author_watches_their_topic_and_repliers_track_unless_they_chose() -> None:
    topic = make_topic()
    assert TopicWatch.objects.get(topic=topic).level == WatchLevel.WATCHING
    replier, muter = _member(), _member()
    topic_watch_set(user=muter, topic=topic, level=WatchLevel.MUTED)
    make_post(topic=topic, author=replier)
    make_post(topic=topic, author=muter)
    levels = dict(TopicWatch.objects.filter(topic=topic).values_list("user", "level"))
    assert levels[replier.pk] == WatchLevel.TRACKING
    assert levels[muter.pk] == WatchLevel.MUTED
    make_post(topic=topic, author=topic.author)
    assert TopicWatch.objects.get(topic=topic, user=topic.author).level == WatchLevel.WATCHING


def test_mention_beats_reply_beats_watching_one_notification_each() -> None:
    topic = make_topic()
    first = make_post(topic=topic, body="First answer.")
    other = _member()
    topic_watch_set(user=first.author, topic=topic, level=WatchLevel.WATCHING)
    topic_watch_set(user=other, topic=topic, level=WatchLevel.WATCHING)
    Notification.objects.all().delete()
    # A reply to ``first`` that also mentions ``other`` and the topic author.
    post = make_post(
        topic=topic,
        reply_to=first,
        body=f"@{other.username} and @{topic.author.username}: see above.",
    )
    kinds = _kinds()
    assert kinds == {
        other.username: "forum.mention",
        topic.author.username: "forum.mention",
        first.author.username: "forum.reply",
    }
    assert Notification.objects.count() == 3
    assert post.author.username not in kinds


def test_mentioning_yourself_or_replying_to_yourself_tells_nobody() -> None:
    topic = make_topic()
    TopicWatch.objects.filter(topic=topic).delete()
    me = _member()
    first = make_post(topic=topic, author=me)
    make_post(topic=topic, author=me, reply_to=first, body=f"@{me.username} note to self")
    assert not Notification.objects.exists()


def test_category_and_tag_watchers_hear_about_new_topics_and_replies() -> None:
    category = make_category()
    skill = SkillFactory()
    cat_watcher, tag_watcher, tag_tracker = _member(), _member(), _member()
    category_watch_set(user=cat_watcher, category=category, level=WatchLevel.WATCHING)
    tag_watch_set(user=tag_watcher, skill=skill, level=WatchLevel.WATCHING)
    tag_watch_set(user=tag_tracker, skill=skill, level=WatchLevel.TRACKING)
    topic = make_topic(category=category, skills=[skill.slug])
    notes = {n.recipient_id: n for n in Notification.objects.all()}
    assert set(notes) == {cat_watcher.pk, tag_watcher.pk}
    assert "started" in notes[cat_watcher.pk].text
    make_post(topic=topic)
    assert Notification.objects.get(recipient=cat_watcher).count == 2


def test_parent_category_watchers_hear_about_child_topics() -> None:
    parent = make_category()
    child = make_category(parent=parent)
    watcher = _member()
    category_watch_set(user=watcher, category=parent, level=WatchLevel.WATCHING)
    make_topic(category=child)
    assert Notification.objects.filter(recipient=watcher, kind="forum.watching").exists()


def test_topic_level_overrides_category_and_tag_watching() -> None:
    category = make_category()
    skill = SkillFactory()
    member = _member()
    category_watch_set(user=member, category=category, level=WatchLevel.WATCHING)
    tag_watch_set(user=member, skill=skill, level=WatchLevel.WATCHING)
    topic = make_topic(category=category, skills=[skill.slug])
    topic_watch_set(user=member, topic=topic, level=WatchLevel.MUTED)
    Notification.objects.all().delete()
    make_post(topic=topic, body=f"@{member.username} what do you think?")
    assert not Notification.objects.filter(recipient=member).exists()
    topic_watch_set(user=member, topic=topic, level=WatchLevel.NORMAL)
    make_post(topic=topic)
    assert not Notification.objects.filter(recipient=member).exists()


def test_muted_category_or_tag_silences_even_mentions_unless_the_topic_says_otherwise() -> None:
    category = make_category()
    skill = SkillFactory()
    cat_muter, tag_muter = _member(), _member()
    category_watch_set(user=cat_muter, category=category, level=WatchLevel.MUTED)
    tag_watch_set(user=tag_muter, skill=skill, level=WatchLevel.MUTED)
    # Muting a tag wins over watching the category.
    category_watch_set(user=tag_muter, category=category, level=WatchLevel.WATCHING)
    topic = make_topic(
        category=category,
        skills=[skill.slug],
        body=f"Hello @{cat_muter.username} and @{tag_muter.username}",
    )
    assert not Notification.objects.exists()
    topic_watch_set(user=cat_muter, topic=topic, level=WatchLevel.WATCHING)
    make_post(topic=topic)
    assert Notification.objects.filter(recipient=cat_muter).count() == 1
    assert not Notification.objects.filter(recipient=tag_muter).exists()


def test_restricted_category_tells_only_those_who_can_read_it() -> None:
    lounge = make_category(required_role="facilitator")
    outsider = _member(roles=("learner",))
    insider = _member(roles=("facilitator",))
    moderator = make_moderator()
    for user in (outsider, insider, moderator):
        CategoryWatch.objects.create(user=user, category=lounge, level=WatchLevel.WATCHING)
    author = _member(roles=("facilitator",))
    topic = make_topic(author=author, category=lounge)
    # The outsider also watches the topic (say from before it moved) and is replied to.
    TopicWatch.objects.create(user=outsider, topic=topic, level=WatchLevel.WATCHING)
    recipients = set(Notification.objects.values_list("recipient", flat=True))
    assert recipients == {insider.pk, moderator.pk}
    make_post(topic=topic, author=insider, body=f"@{outsider.username} can you see this?")
    assert not Notification.objects.filter(recipient=outsider).exists()
    assert Notification.objects.filter(recipient=author, kind="forum.watching").exists()


def test_inactive_members_are_not_told() -> None:
    topic = make_topic()
    gone = _member()
    topic_watch_set(user=gone, topic=topic, level=WatchLevel.WATCHING)
    User.objects.filter(pk=gone.pk).update(is_active=False)
    make_post(topic=topic)
    assert not Notification.objects.filter(recipient=gone).exists()


def test_watching_notifications_collapse_until_read() -> None:
    topic = make_topic()
    watcher = _member()
    topic_watch_set(user=watcher, topic=topic, level=WatchLevel.WATCHING)
    make_post(topic=topic)
    make_post(topic=topic)
    last = make_post(topic=topic)
    note = Notification.objects.get(recipient=watcher)
    assert note.count == 3
    assert note.text.startswith("3 new posts in")
    assert topic.title in note.text
    assert note.url == last.get_absolute_url()
    assert note.actor_id == last.author_id
    Notification.objects.filter(pk=note.pk).update(read_at=note.created_at)
    make_post(topic=topic)
    assert Notification.objects.filter(recipient=watcher).count() == 2
    assert Notification.objects.filter(recipient=watcher, read_at__isnull=True).get().count == 1


def test_mentions_are_not_collapsed() -> None:
    topic = make_topic()
    member = _member()
    make_post(topic=topic, body=f"@{member.username} one")
    make_post(topic=topic, body=f"@{member.username} two")
    assert Notification.objects.filter(recipient=member, kind="forum.mention").count() == 2


def test_newly_mentioned_in_an_edit_are_told_once() -> None:
    from community.forums.services.posting import post_edit

    topic = make_topic()
    post = make_post(topic=topic, body="No mention yet.")
    member = _member()
    Notification.objects.all().delete()
    post_edit(editor=post.author, post=post, body=f"Now with @{member.username}.")
    assert _kinds() == {member.username: "forum.mention"}


def _watched_topic(n: int) -> Topic:
    topic = make_topic()
    watchers = [_member() for _ in range(n)]
    TopicWatch.objects.bulk_create(
        [TopicWatch(user=u, topic=topic, level=WatchLevel.WATCHING) for u in watchers]
    )
    category = topic.category
    CategoryWatch.objects.bulk_create(
        [CategoryWatch(user=u, category=category, level=WatchLevel.WATCHING) for u in watchers[:3]]
    )
    return topic


def _notify_queries(topic: Topic, restricted: bool) -> int:
    if restricted:
        from community.forums.models import Category

        Category.objects.filter(pk=topic.category_id).update(required_role="learner")
        topic = Topic.objects.select_related("category").get(pk=topic.pk)
    replier = _member()
    post = post_create(author=replier, topic=topic, body="Hello")
    post = type(post).objects.select_related("topic__category", "author__profile").get(pk=post.pk)
    Notification.objects.all().delete()
    with CaptureQueriesContext(connection) as ctx:
        notify.on_post_created(post=post, mentioned=())
    assert Notification.objects.filter(kind="forum.watching").count() >= 10
    return len(ctx.captured_queries)


@pytest.mark.parametrize("restricted", [False, True])
def test_notify_runs_the_same_number_of_queries_for_10_or_100_watchers(restricted: bool) -> None:
    small = _notify_queries(_watched_topic(10), restricted)
    large = _notify_queries(_watched_topic(100), restricted)
    # One bulk insert on PostgreSQL; SQLite splits it in batches of 999 parameters (99
    # notifications), hence one more INSERT there.
    assert large == small + (0 if connection.vendor == "postgresql" else 1)
    assert small <= 12


def test_collapsing_runs_the_same_number_of_queries(
    django_assert_max_num_queries: Callable[..., Any],
) -> None:
    topic = _watched_topic(30)
    make_post(topic=topic)
    post = make_post(topic=topic)
    post = type(post).objects.select_related("topic__category", "author__profile").get(pk=post.pk)
    with django_assert_max_num_queries(12):
        notify.on_post_created(post=post, mentioned=())
    assert set(
        Notification.objects.filter(kind="forum.watching").values_list("count", flat=True)
    ) >= {3}


def test_emails_follow_each_members_choice(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    topic = make_topic()
    TopicWatch.objects.filter(topic=topic).delete()
    now, digest, off = _member(), _member(), _member()
    for user, mode in ((digest, EmailMode.DIGEST), (off, EmailMode.OFF)):
        notification_settings_update(user=user, email_mode=mode)
    for user in (now, digest, off):
        topic_watch_set(user=user, topic=topic, level=WatchLevel.WATCHING)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        make_post(topic=topic)
    assert [m.to for m in mail.outbox] == [[now.email]]
    assert topic.title in mail.outbox[0].subject
    emailed = set(
        Notification.objects.filter(emailed_at__isnull=False).values_list("recipient", flat=True)
    )
    assert emailed == {now.pk}
    # A collapsed notification is not e-mailed again.
    with django_capture_on_commit_callbacks(execute=True):
        make_post(topic=topic)
    assert len(mail.outbox) == 1


def test_tag_watch_rows_of_other_tags_do_not_count() -> None:
    skill, other = SkillFactory(), SkillFactory()
    member = _member()
    TagWatch.objects.create(user=member, skill=other, level=WatchLevel.WATCHING)
    make_topic(skills=[skill.slug])
    assert not Notification.objects.exists()
