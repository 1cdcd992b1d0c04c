"""Who hears about what happens in the forums: the one place forum notifications are
decided. The posting services call these inside their transaction; the notifications
app stores each notification and pushes/e-mails it after commit.

Contract (callers rely on it):
- ``on_post_created(post=..., mentioned=...)`` runs for every new post, the opening post
  of a topic included (``post.number == 1``); ``mentioned`` are the members the post
  @mentions who may read the topic.
- Nobody is told about a post they cannot read (restricted categories), about their own
  post, or twice about the same post.

How it decides (``on_post_created``):
- The author watches their new topic, a replier tracks the topic (unless either
  already chose a level for it).
- Each member gets at most one notification per post, the first that applies:
  "forum.mention" (the post @mentions them), "forum.reply" (it replies to their post),
  "forum.watching" (their level for the topic is watching).
- A member's level for a topic is their topic level when they have one; otherwise
  muted when they muted the category (or its parent) or one of the topic's tags;
  otherwise watching when they watch the category (or its parent) or one of the tags;
  otherwise normal. Muted means nothing at all, mentions included.
- Inactive members and members who cannot read the topic (checked with
  ``access.can_see_topic`` for each, with their roles and moderator permission loaded
  for all of them at once) get nothing.
- "forum.watching" notifications collapse: a member has at most one unread per topic;
  later posts update it ("5 new posts in ...") instead of adding more.
- A constant number of queries whatever the number of watchers: the notifications are
  created in one bulk insert and pushed one by one after commit.
"""

from collections.abc import Iterable, Sequence

from django.contrib.auth.models import Permission
from django.db.models import Q
from django.utils.translation import gettext as _

from community.forums import access
from community.forums.models import (
    CategoryWatch,
    Post,
    TagWatch,
    Topic,
    TopicSkill,
    TopicWatch,
    WatchLevel,
)
from community.forums.services.following import topic_watch_auto
from community.models import ROLE_FIELDS, User
from community.notifications.models import Notification
from community.notifications.services import notifications_send_grouped, notifications_send_many

MENTION = "forum.mention"
REPLY = "forum.reply"
WATCHING = "forum.watching"


def _name(user: User) -> str:
    profile = getattr(user, "profile", None)
    return getattr(profile, "display_name", "") or user.username


def topic_key(topic_id: int) -> str:
    """The notification group of a topic's "watching" notifications."""
    return f"forum.topic.{topic_id}"


def readers_among(topic: Topic, user_ids: Iterable[int]) -> dict[int, User]:
    """The active members among ``user_ids`` who may read ``topic``, by id. Two queries
    whatever their number (the members with their profiles, and, for a restricted
    category, which of them are moderators); the rule itself is ``access``'s."""
    ids = set(user_ids)
    if not ids:
        return {}
    users = list(User.objects.filter(pk__in=ids, is_active=True).select_related("profile"))
    category = topic.category
    if category.required_role:
        perm = Permission.objects.filter(
            codename="moderate_community", content_type__app_label="community"
        )
        moderators = set(
            User.objects.filter(pk__in=ids)
            .filter(
                Q(is_superuser=True)
                | Q(user_permissions__in=perm)
                | Q(groups__permissions__in=perm)
            )
            .values_list("pk", flat=True)
            .distinct()
        )
        for user in users:
            profile = getattr(user, "profile", None)
            user._forum_is_moderator = user.pk in moderators  # type: ignore[attr-defined]
            user._forum_roles = {  # type: ignore[attr-defined]
                role for role, field in ROLE_FIELDS.items() if getattr(profile, field, False)
            }
    return {user.pk: user for user in users if access.can_see_topic(user, topic)}


def topic_levels(topic: Topic, *, only: Iterable[int] | None = None) -> dict[int, str]:
    """Each member's effective watch level for ``topic`` (members at "normal" without any
    row are left out). Four queries. ``only`` limits the topic-level rows read to these
    members (the category and tag rows are read in full)."""
    category_ids = [topic.category_id]
    if topic.category.parent_id:
        category_ids.append(topic.category.parent_id)
    skill_ids = list(TopicSkill.objects.filter(topic=topic).values_list("skill_id", flat=True))
    inherited: dict[int, set[str]] = {}
    for user_id, level in CategoryWatch.objects.filter(category_id__in=category_ids).values_list(
        "user_id", "level"
    ):
        inherited.setdefault(user_id, set()).add(level)
    if skill_ids:
        for user_id, level in TagWatch.objects.filter(skill_id__in=skill_ids).values_list(
            "user_id", "level"
        ):
            inherited.setdefault(user_id, set()).add(level)
    levels: dict[int, str] = {}
    for user_id, found in inherited.items():
        for level in (WatchLevel.MUTED, WatchLevel.WATCHING, WatchLevel.TRACKING):
            if level in found:
                levels[user_id] = level
                break
    topic_rows = TopicWatch.objects.filter(topic=topic)
    if only is not None:
        topic_rows = topic_rows.filter(user_id__in=set(only))
    levels.update(topic_rows.values_list("user_id", "level"))
    return levels


def _recipients(
    post: Post, mentioned: Sequence[User], *, watchers: bool
) -> dict[int, tuple[str, User]]:
    """Who gets which kind of notification about ``post``."""
    topic = post.topic
    wanted: dict[int, str] = {}
    for user in mentioned:
        wanted.setdefault(user.pk, MENTION)
    if post.reply_to_id is not None:
        reply_author = (
            post.reply_to.author_id
            if post.reply_to is not None
            else Post.objects.filter(pk=post.reply_to_id)
            .values_list("author_id", flat=True)
            .first()
        )
        if reply_author is not None:
            wanted.setdefault(reply_author, REPLY)
    levels = topic_levels(topic)
    if watchers:
        for user_id, level in levels.items():
            if level == WatchLevel.WATCHING:
                wanted.setdefault(user_id, WATCHING)
    wanted.pop(post.author_id, None)
    for user_id in [pk for pk in wanted if levels.get(pk) == WatchLevel.MUTED]:
        del wanted[user_id]
    readers = readers_among(topic, wanted)
    return {pk: (kind, readers[pk]) for pk, kind in wanted.items() if pk in readers}


def on_post_created(*, post: Post, mentioned: Sequence[User] = ()) -> None:
    """Notify mentioned members, the author of the post replied to, and watchers."""
    topic = post.topic
    author = post.author
    topic_watch_auto(
        user=author,
        topic=topic,
        level=WatchLevel.WATCHING if post.number == 1 else WatchLevel.TRACKING,
    )
    recipients = _recipients(post, mentioned, watchers=True)
    if not recipients:
        return
    name, title, url = _name(author), topic.title, post.get_absolute_url()
    texts = {
        MENTION: _("%(name)s mentioned you in “%(title)s”"),
        REPLY: _("%(name)s replied to your post in “%(title)s”"),
    }
    direct = [
        Notification(
            recipient_id=pk,
            actor=author,
            kind=kind,
            text=texts[kind] % {"name": name, "title": title},
            url=url,
        )
        for pk, (kind, _user) in sorted(recipients.items())
        if kind != WATCHING
    ]
    if direct:
        notifications_send_many(direct)
    watching = [pk for pk, (kind, _user) in recipients.items() if kind == WATCHING]
    if watching:
        first = (
            _("%(name)s started “%(title)s”")
            if post.number == 1
            else _("%(name)s posted in “%(title)s”")
        )
        notifications_send_grouped(
            recipient_ids=watching,
            kind=WATCHING,
            key=topic_key(topic.pk),
            text=first % {"name": name, "title": title},
            grouped_text=_("{count} new posts in “%(title)s”") % {"title": title},
            url=url,
            actor=author,
        )


def on_post_edited(*, post: Post, newly_mentioned: Sequence[User] = ()) -> None:
    """An edit added @mentions: tell only the ``newly_mentioned`` members (who may read
    the topic; the author is never among them), as a mention of ``post``. Called by
    posting's ``post_edit`` inside its transaction, only when someone is newly
    mentioned. The body belongs to the social area."""
    if not newly_mentioned:
        return
    topic = post.topic
    ids = {u.pk for u in newly_mentioned} - {post.author_id}
    muted = {pk for pk, level in topic_levels(topic, only=ids).items() if level == WatchLevel.MUTED}
    readers = readers_among(topic, ids - muted)
    if not readers:
        return
    text = _("%(name)s mentioned you in “%(title)s”") % {
        "name": _name(post.author),
        "title": topic.title,
    }
    notifications_send_many(
        [
            Notification(
                recipient_id=pk,
                actor=post.author,
                kind=MENTION,
                text=text,
                url=post.get_absolute_url(),
            )
            for pk in sorted(readers)
        ]
    )
