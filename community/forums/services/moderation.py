"""Moderation: members flag posts; moderators review the flags (hide, restore, delete,
dismiss) and pin, lock, close, move, merge and delete topics. Every moderator action
writes a ``ModerationLog`` row in the same transaction.

Counters follow the rule of services/posting.py: ``Topic.reply_count`` counts the
visible replies (not deleted, not hidden) and ``Category.post_count`` / ``topic_count``
the visible posts and the live topics (not deleted, not merged away) of the category.

Locks: every write locks the topic row (``select_for_update``) before it reads the
post, so it serialises with posting, and appends the topic's stream event under that
lock. A merge locks both topics, lower id first.

Automatic hiding: when ``FORUM_FLAG_AUTO_HIDE`` (default 3; 0 turns it off) distinct
members have open flags on a post, it is hidden pending review. The log needs a
moderator (``ModerationLog.moderator`` is required), so the automatic hide is logged
under the member whose flag tipped it over, with ``details["automatic"] = True`` and the
flag count; the log page shows it as done automatically.
"""

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from community.forums import access
from community.forums.models import (
    Category,
    Draft,
    Flag,
    FlagReason,
    FlagStatus,
    ModerationAction,
    ModerationLog,
    Post,
    ReadState,
    Topic,
    TopicWatch,
)
from community.forums.services import posting
from community.forums.stream import topic_event_append
from community.models import User
from community.notifications.services import notification_send

NOTE_MAX = 500
REASON_MAX = 500
FLAG_NOTIFICATION_KIND = "forum.flag"

# What a review of a post does, and the status its open flags get.
REVIEW_ACTIONS = {
    "hide": FlagStatus.HIDDEN,
    "restore": FlagStatus.RESTORED,
    "delete": FlagStatus.DELETED,
    "dismiss": FlagStatus.DISMISSED,
}

TOPIC_TOGGLES: dict[str, tuple[str, bool, str]] = {
    # action: (Topic field, new value, ModerationAction)
    "pin": ("is_pinned", True, ModerationAction.PIN),
    "unpin": ("is_pinned", False, ModerationAction.UNPIN),
    "lock": ("is_locked", True, ModerationAction.LOCK),
    "unlock": ("is_locked", False, ModerationAction.UNLOCK),
    "close": ("is_closed", True, ModerationAction.CLOSE),
    "reopen": ("is_closed", False, ModerationAction.REOPEN),
}


_ALREADY = {
    "pin": gettext_lazy("The topic is already pinned."),
    "unpin": gettext_lazy("The topic is not pinned."),
    "lock": gettext_lazy("The topic is already locked."),
    "unlock": gettext_lazy("The topic is not locked."),
    "close": gettext_lazy("The topic is already closed."),
    "reopen": gettext_lazy("The topic is not closed."),
}


def auto_hide_threshold() -> int:
    """Open flags from distinct members that hide a post pending review (0: never)."""
    return int(getattr(settings, "FORUM_FLAG_AUTO_HIDE", 3))


def _require_moderator(user: User) -> None:
    if not access.is_moderator(user):
        raise PermissionDenied(_("Only moderators can do this."))


def _clean_reason(reason: str) -> str:
    reason = " ".join((reason or "").split())
    if len(reason) > REASON_MAX:
        raise ValidationError(
            {"reason": _("Keep the reason under %(n)d characters.") % {"n": REASON_MAX}}
        )
    return reason


def _log(
    *,
    moderator: User,
    action: str,
    topic: Topic | None,
    post: Post | None = None,
    details: dict[str, Any] | None = None,
    reason: str = "",
) -> ModerationLog:
    return ModerationLog.objects.create(
        moderator=moderator,
        action=action,
        topic=topic,
        post=post,
        details=details or {},
        reason=reason[:REASON_MAX],
    )


def _lock_post(post: Post) -> tuple[Topic, Post]:
    """Lock the post's topic, then read both fresh (the caller is in atomic). A post
    whose topic was merged meanwhile is followed to the topic it moved to."""
    topic_id = post.topic_id
    while True:
        topic = (
            Topic.objects.select_for_update(of=("self",))
            .select_related("category")
            .get(pk=topic_id)
        )
        fresh = Post.objects.select_related("author").get(pk=post.pk)
        if fresh.topic_id == topic.pk:
            fresh.topic = topic
            return topic, fresh
        topic_id = fresh.topic_id


def _topic_is_live(topic: Topic) -> bool:
    return not topic.is_deleted and topic.merged_into_id is None


def _visibility_changed(*, topic: Topic, post: Post, shown: bool) -> None:
    """Counters after ``post`` became visible (``shown``) or invisible."""
    step = 1 if shown else -1
    if post.number > 1:
        Topic.objects.filter(pk=topic.pk).update(reply_count=F("reply_count") + step)
    if _topic_is_live(topic):
        Category.objects.filter(pk=topic.category_id).update(post_count=F("post_count") + step)


def _visible_count(topic: Topic) -> int:
    return Post.objects.filter(topic=topic, is_deleted=False, is_hidden=False).count()


def _number_data(post: Post) -> dict[str, int]:
    return {"id": post.pk, "number": post.number}


# --- flags ---------------------------------------------------------------------------------
def flag_create(*, user: User, post: Post, reason: str, note: str = "") -> Flag:
    """Flag a post the member can read (not their own): one open flag per member and
    post. Enough flags from distinct members hide the post pending review."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        raise PermissionDenied(_("Sign in to flag a post."))
    if reason not in FlagReason.values:
        raise ValidationError({"reason": _("Choose why you are flagging this post.")})
    note = (note or "").strip()
    if reason == FlagReason.OTHER and not note:
        raise ValidationError({"note": _("Tell the moderators what is wrong with this post.")})
    if len(note) > NOTE_MAX:
        raise ValidationError(
            {"note": _("Keep the note under %(n)d characters.") % {"n": NOTE_MAX}}
        )
    try:
        with transaction.atomic():
            topic, post_now = _lock_post(post)
            visible = access.can_see_topic(user, topic) and not post_now.is_deleted
            if visible and post_now.is_hidden:
                visible = access.is_moderator(user) or post_now.author_id == user.pk
            if not visible:
                raise Post.DoesNotExist(_("No such post."))
            if post_now.author_id == user.pk:
                raise ValidationError({"post": _("You cannot flag your own post.")})
            if Flag.objects.filter(post=post_now, flagged_by=user, status=FlagStatus.OPEN).exists():
                raise ValidationError(
                    {"post": _("You have already flagged this post; a moderator will look at it.")}
                )
            flag = Flag.objects.create(post=post_now, flagged_by=user, reason=reason, note=note)
            _maybe_auto_hide(topic=topic, post=post_now, last_flagger=user)
    except IntegrityError:
        # Two submissions at once: the unique constraint kept one.
        raise ValidationError(
            {"post": _("You have already flagged this post; a moderator will look at it.")}
        ) from None
    return flag


def _maybe_auto_hide(*, topic: Topic, post: Post, last_flagger: User) -> None:
    threshold = auto_hide_threshold()
    if threshold <= 0 or post.is_hidden:
        return
    flaggers = (
        Flag.objects.filter(post=post, status=FlagStatus.OPEN)
        .values("flagged_by")
        .distinct()
        .count()
    )
    if flaggers < threshold:
        return
    post.is_hidden = True
    post.save(update_fields=["is_hidden"])
    _visibility_changed(topic=topic, post=post, shown=False)
    _log(
        moderator=last_flagger,
        action=ModerationAction.HIDE,
        topic=topic,
        post=post,
        details={"number": post.number, "automatic": True, "flags": flaggers},
        reason=_("Hidden automatically after %(n)d flags, pending review.") % {"n": flaggers},
    )
    topic_event_append(topic=topic, type="post.hidden", data=_number_data(post))


# --- reviewing a post ----------------------------------------------------------------------
def _resolve_flags(*, post: Post, moderator: User, status: str) -> list[Flag]:
    flags = list(
        Flag.objects.select_related("flagged_by").filter(post=post, status=FlagStatus.OPEN)
    )
    if flags:
        Flag.objects.filter(pk__in=[f.pk for f in flags]).update(
            status=status, resolved_by=moderator, resolved_at=timezone.now()
        )
    return flags


def _close_topic_flags(*, topic: Topic, moderator: User) -> None:
    """Close the open flags on every post of a deleted topic; the flaggers are told."""
    for post in Post.objects.filter(topic=topic, flags__status=FlagStatus.OPEN).distinct():
        flags = _resolve_flags(post=post, moderator=moderator, status=FlagStatus.DELETED)
        _notify_flaggers(
            flags=flags, topic=topic, post=post, status=FlagStatus.DELETED, moderator=moderator
        )


def _outcome_text(status: str, title: str | None) -> str:
    outcomes: dict[str, str] = {
        FlagStatus.HIDDEN: _("a moderator hid the post"),
        FlagStatus.RESTORED: _("a moderator reviewed the post and left it up"),
        FlagStatus.DELETED: _("a moderator deleted the post"),
        FlagStatus.DISMISSED: _("a moderator reviewed the post and left it up"),
    }
    if title is None:
        return _("Thanks for your flag: %(outcome)s.") % {"outcome": outcomes[status]}
    return _("Thanks for flagging a post in “%(title)s”: %(outcome)s.") % {
        "title": title,
        "outcome": outcomes[status],
    }


def _notify_flaggers(
    *, flags: Sequence[Flag], topic: Topic, post: Post, status: str, moderator: User
) -> None:
    """Tell each flagger the outcome; a flagger who cannot read the topic any more (it
    moved into a restricted category) gets no title and no link."""
    told: set[int] = set()
    for flag in flags:
        flagger = flag.flagged_by
        if flagger.pk in told or not flagger.is_active:
            continue
        told.add(flagger.pk)
        readable = access.can_see_topic(flagger, topic)
        url = ""
        if readable:
            url = post.get_absolute_url() if post.is_visible else topic.get_absolute_url()
        notification_send(
            recipient=flagger,
            kind=FLAG_NOTIFICATION_KIND,
            text=_outcome_text(status, topic.title if readable else None),
            url=url,
            actor=None,
            email=False,
        )


def _hide(*, moderator: User, topic: Topic, post: Post, reason: str, flags: int) -> None:
    if post.is_deleted:
        raise ValidationError({"post": _("This post is deleted.")})
    if post.is_hidden and not flags:
        raise ValidationError({"post": _("This post is already hidden.")})
    if not post.is_hidden:
        post.is_hidden = True
        post.save(update_fields=["is_hidden"])
        _visibility_changed(topic=topic, post=post, shown=False)
        topic_event_append(topic=topic, type="post.hidden", data=_number_data(post))
    _log(
        moderator=moderator,
        action=ModerationAction.HIDE,
        topic=topic,
        post=post,
        details={"number": post.number, "flags": flags},
        reason=reason,
    )


def _unhide(*, topic: Topic, post: Post) -> None:
    post.is_hidden = False
    post.save(update_fields=["is_hidden"])
    if not post.is_deleted:
        _visibility_changed(topic=topic, post=post, shown=True)
        topic_event_append(topic=topic, type="post.restored", data=_number_data(post))


def post_review(*, moderator: User, post: Post, action: str, reason: str = "") -> Post:
    """A moderator's decision on a post (usually from the review queue):

    - ``hide``: hidden for everyone but moderators and the author ("post.hidden");
    - ``restore``: shown again, whether hidden or deleted ("post.restored");
    - ``delete``: soft-deleted (services.posting.post_delete; the opening post takes its
      topic with it);
    - ``dismiss``: the flags were not needed: they are closed, and a post that was
      hidden (automatically) is shown again.

    Every open flag of the post is resolved with the outcome and each flagger is told.
    Refused (ValidationError, nothing changed) when the action would do nothing."""
    _require_moderator(moderator)
    if action not in REVIEW_ACTIONS:
        raise ValidationError({"action": _("Choose hide, restore, delete or dismiss.")})
    reason = _clean_reason(reason)
    status = REVIEW_ACTIONS[action]
    with transaction.atomic():
        topic, post_now = _lock_post(post)
        open_flags = Flag.objects.filter(post=post_now, status=FlagStatus.OPEN).count()
        if topic.merged_into_id is not None:
            raise ValidationError({"post": _("This post's topic was merged into another.")})
        if action == "hide":
            _hide(moderator=moderator, topic=topic, post=post_now, reason=reason, flags=open_flags)
        elif action == "restore":
            if not (post_now.is_hidden or post_now.is_deleted):
                raise ValidationError(
                    {
                        "post": _(
                            "This post is neither hidden nor deleted; dismiss the flags instead."
                        )
                    }
                )
            if post_now.is_hidden:
                _unhide(topic=topic, post=post_now)
                if not post_now.is_deleted:
                    _log(
                        moderator=moderator,
                        action=ModerationAction.RESTORE,
                        topic=topic,
                        post=post_now,
                        details={"number": post_now.number, "flags": open_flags},
                        reason=reason,
                    )
            if post_now.is_deleted:
                # Logs the restore and appends "post.restored" itself.
                post_now = posting.post_undelete(actor=moderator, post=post_now, reason=reason)
                post_now.topic = Topic.objects.select_related("category").get(pk=topic.pk)
        elif action == "delete":
            if post_now.is_deleted:
                raise ValidationError({"post": _("This post is already deleted.")})
            post_now = posting.post_delete(actor=moderator, post=post_now, reason=reason)
            if post_now.author_id == moderator.pk:
                # posting logs a moderator deleting someone else's post only.
                _log(
                    moderator=moderator,
                    action=(
                        ModerationAction.DELETE_TOPIC
                        if post_now.number == 1
                        else ModerationAction.DELETE
                    ),
                    topic=topic,
                    post=post_now,
                    details={"number": post_now.number},
                    reason=reason,
                )
            post_now.topic = Topic.objects.select_related("category").get(pk=topic.pk)
        else:  # dismiss
            if not open_flags:
                raise ValidationError({"post": _("This post has no open flags.")})
            restored = post_now.is_hidden and not post_now.is_deleted
            if restored:
                _unhide(topic=topic, post=post_now)
            _log(
                moderator=moderator,
                action=ModerationAction.DISMISS,
                topic=topic,
                post=post_now,
                details={"number": post_now.number, "flags": open_flags, "restored": restored},
                reason=reason,
            )
        flags = _resolve_flags(post=post_now, moderator=moderator, status=status)
        _notify_flaggers(
            flags=flags, topic=post_now.topic, post=post_now, status=status, moderator=moderator
        )
        if post_now.topic.is_deleted:
            # The opening post took its topic: its other posts leave the queue too.
            _close_topic_flags(topic=post_now.topic, moderator=moderator)
    return post_now


# --- topics --------------------------------------------------------------------------------
def _lock_topic(topic: Topic) -> Topic:
    locked = (
        Topic.objects.select_for_update(of=("self",)).select_related("category").get(pk=topic.pk)
    )
    if locked.is_deleted:
        raise ValidationError({"topic": _("This topic is deleted.")})
    if locked.merged_into_id is not None:
        raise ValidationError({"topic": _("This topic was merged into another.")})
    return locked


def _topic_state(topic: Topic) -> dict[str, Any]:
    return {
        "is_locked": topic.is_locked,
        "is_closed": topic.is_closed,
        "is_pinned": topic.is_pinned,
        "category": topic.category.slug,
    }


def topic_moderate(*, moderator: User, topic: Topic, action: str, reason: str = "") -> Topic:
    """Pin, unpin, lock, unlock, close or reopen a topic. Readers get "topic.updated".
    Refused when the topic already is so."""
    _require_moderator(moderator)
    if action not in TOPIC_TOGGLES:
        raise ValidationError({"action": _("Choose pin, unpin, lock, unlock, close or reopen.")})
    field, value, logged = TOPIC_TOGGLES[action]
    reason = _clean_reason(reason)
    with transaction.atomic():
        locked = _lock_topic(topic)
        if getattr(locked, field) == value:
            raise ValidationError({"action": str(_ALREADY[action])})
        setattr(locked, field, value)
        locked.save(update_fields=[field])
        _log(moderator=moderator, action=logged, topic=locked, reason=reason)
        topic_event_append(topic=locked, type="topic.updated", data=_topic_state(locked))
    return locked


def topic_move(*, moderator: User, topic: Topic, category: Category, reason: str = "") -> Topic:
    """Move a topic to another category; both categories' counts follow. Readers get
    "topic.moved" (the live area re-checks each reader's access: a move into a
    restricted category closes the sockets of those who may not follow)."""
    _require_moderator(moderator)
    reason = _clean_reason(reason)
    with transaction.atomic():
        locked = _lock_topic(topic)
        target = Category.objects.filter(pk=category.pk).first()
        if target is None:
            raise ValidationError({"category": _("No such category.")})
        source = locked.category
        if target.pk == source.pk:
            raise ValidationError({"category": _("The topic is already in this category.")})
        shown = _visible_count(locked)
        Category.objects.filter(pk=source.pk).update(
            topic_count=F("topic_count") - 1, post_count=F("post_count") - shown
        )
        Category.objects.filter(pk=target.pk).update(
            topic_count=F("topic_count") + 1,
            post_count=F("post_count") + shown,
            last_posted_at=Greatest(F("last_posted_at"), locked.last_posted_at)
            if target.last_posted_at is not None
            else locked.last_posted_at,
        )
        locked.category = target
        locked.save(update_fields=["category"])
        _refresh_last_posted(source)
        _log(
            moderator=moderator,
            action=ModerationAction.MOVE,
            topic=locked,
            details={"from": source.slug, "to": target.slug},
            reason=reason,
        )
        topic_event_append(
            topic=locked,
            type="topic.moved",
            data={
                "category": target.slug,
                "category_id": target.pk,
                "restricted": target.is_restricted,
            },
        )
    return locked


def _refresh_last_posted(category: Category) -> None:
    """A category's latest activity after a topic left it."""
    latest = Topic.objects.filter(
        category=category, is_deleted=False, merged_into__isnull=True
    ).aggregate(latest=Max("last_posted_at"))["latest"]
    Category.objects.filter(pk=category.pk).update(last_posted_at=latest)


def topic_merge(*, moderator: User, topic: Topic, into: Topic, reason: str = "") -> Topic:
    """Merge ``topic`` (A) into ``into`` (B): A's posts move to B, numbered after B's
    last post in A's order; A keeps its row with ``merged_into`` = B (its URL redirects
    there), topics earlier merged into A now point at B. Both topics are locked, lower
    id first, so a reply racing the merge either lands in A before the merge (and moves
    with it) or is refused after it. Counters of both topics and categories follow. A's
    readers get "topic.merged"; B's readers get "post.created" for each moved post."""
    _require_moderator(moderator)
    reason = _clean_reason(reason)
    if topic.pk == into.pk:
        raise ValidationError({"into": _("A topic cannot be merged into itself.")})
    with transaction.atomic():
        first, second = sorted([topic.pk, into.pk])
        locked = {
            t.pk: t
            for t in Topic.objects.select_for_update(of=("self",))
            .select_related("category")
            .filter(pk__in=[first, second])
            .order_by("pk")
        }
        if topic.pk not in locked:
            raise ValidationError({"topic": _("No such topic.")})
        if into.pk not in locked:
            raise ValidationError({"into": _("No such topic.")})
        source = locked[topic.pk]
        target = locked[into.pk]
        if source.is_deleted or source.merged_into_id is not None:
            raise ValidationError({"topic": _("This topic is deleted or already merged.")})
        if target.is_deleted or target.merged_into_id is not None:
            raise ValidationError({"into": _("You cannot merge into a deleted or merged topic.")})
        offset = target.last_post_number
        moved_ids = list(
            Post.objects.filter(topic=source).order_by("number").values_list("pk", flat=True)
        )
        last_number = Post.objects.filter(topic=source).aggregate(last=Max("number"))["last"] or 0
        shown = _visible_count(source)
        Post.objects.filter(topic=source).update(topic=target, number=F("number") + offset)
        new_last_posted = max(target.last_posted_at, source.last_posted_at)
        target_updates: dict[str, Any] = {
            "last_post_number": offset + last_number,
            "reply_count": F("reply_count") + shown,
            "reaction_count": F("reaction_count") + source.reaction_count,
            "last_posted_at": new_last_posted,
        }
        if source.last_posted_at > target.last_posted_at:
            target_updates["last_poster"] = source.last_poster_id
        Topic.objects.filter(pk=target.pk).update(**target_updates)
        Topic.objects.filter(pk=source.pk).update(
            merged_into=target,
            last_post_number=0,
            reply_count=0,
            reaction_count=0,
            accepted_post=None,
        )
        Topic.objects.filter(merged_into=source).update(merged_into=target)
        _carry_readers(source=source, target=target, offset=offset)
        Category.objects.filter(pk=source.category_id).update(
            topic_count=F("topic_count") - 1, post_count=F("post_count") - shown
        )
        Category.objects.filter(pk=target.category_id).update(
            post_count=F("post_count") + shown,
            last_posted_at=Greatest(F("last_posted_at"), new_last_posted)
            if target.category.last_posted_at is not None
            else new_last_posted,
        )
        if source.category_id != target.category_id:
            _refresh_last_posted(source.category)
        target.refresh_from_db()
        source.refresh_from_db()
        _log(
            moderator=moderator,
            action=ModerationAction.MERGE,
            topic=source,
            details={
                "into": target.pk,
                "into_title": target.title,
                "posts": len(moved_ids),
                "numbers": [offset + 1, offset + last_number] if moved_ids else [],
            },
            reason=reason,
        )
        topic_event_append(
            topic=source, type="topic.merged", data={"into": target.get_absolute_url()}
        )
        for post in (
            Post.objects.filter(pk__in=moved_ids)
            .select_related("author__profile", "reply_to")
            .order_by("number")
        ):
            if post.is_visible:
                topic_event_append(
                    topic=target, type="post.created", data=posting.post_payload(post)
                )
    return target


def _carry_readers(*, source: Topic, target: Topic, offset: int) -> None:
    """What members kept on a merged topic follows its posts into the target: their
    watch level (unless they already chose one for the target), how far they read it
    (for those who had read the whole target, the moved posts they had read stay read),
    and their reply drafts (moved, or appended to the draft they have on the target:
    no text is lost)."""
    TopicWatch.objects.bulk_create(
        [
            TopicWatch(user_id=user_id, topic=target, level=level)
            for user_id, level in TopicWatch.objects.filter(topic=source).values_list(
                "user_id", "level"
            )
        ],
        ignore_conflicts=True,
    )
    read_source = dict(
        ReadState.objects.filter(topic=source, last_read_number__gt=0).values_list(
            "user_id", "last_read_number"
        )
    )
    if read_source:
        caught_up = list(
            ReadState.objects.filter(
                topic=target, user_id__in=read_source, last_read_number__gte=offset
            )
        )
        now = timezone.now()
        for state in caught_up:
            state.last_read_number = max(
                state.last_read_number, offset + read_source[state.user_id]
            )
            state.updated_at = now
        ReadState.objects.bulk_update(caught_up, ["last_read_number", "updated_at"])
    drafts = list(Draft.objects.filter(topic=source))
    if drafts:
        kept = {d.user_id: d for d in Draft.objects.filter(topic=target)}
        for draft in drafts:
            there = kept.get(draft.user_id)
            if there is None:
                draft.topic = target
                draft.save(update_fields=["topic", "updated_at"])
                continue
            if draft.body.strip():
                there.body = f"{there.body.rstrip()}\n\n{draft.body.strip()}".strip()
                there.save(update_fields=["body", "updated_at"])
            draft.delete()


def topic_delete(*, moderator: User, topic: Topic, reason: str = "") -> Topic:
    """Soft-delete a topic (through its opening post, as posting does: undeleting the
    opening post brings it back). Open flags on its posts are closed as deleted.
    Readers get "topic.updated" with ``is_deleted`` (their sockets are re-checked)."""
    _require_moderator(moderator)
    reason = _clean_reason(reason)
    with transaction.atomic():
        locked = _lock_topic(topic)
        opening = Post.objects.filter(topic=locked, number=1).first()
        if opening is None or opening.is_deleted:
            raise ValidationError({"topic": _("This topic is deleted.")})
        posting.post_delete(actor=moderator, post=opening, reason=reason)
        if opening.author_id == moderator.pk:
            _log(
                moderator=moderator,
                action=ModerationAction.DELETE_TOPIC,
                topic=locked,
                post=opening,
                details={"number": 1},
                reason=reason,
            )
        locked.refresh_from_db()
        _close_topic_flags(topic=locked, moderator=moderator)
        topic_event_append(
            topic=locked, type="topic.updated", data={**_topic_state(locked), "is_deleted": True}
        )
    return locked
