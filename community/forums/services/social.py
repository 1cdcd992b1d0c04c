"""Answers and reactions: the accepted answer of a question, expert verification, and
reactions on posts.

Every change locks the topic row (``select_for_update`` inside ``transaction.atomic``):
the counters (``Post.reaction_counts``, ``Topic.reaction_count``,
``MemberStats.reactions_received`` / ``accepted_answers``) change under it, and the
topic's stream event is appended under it, so readers see them live and in order.

Decisions:
- Reactions are not given to your own posts (as Discourse does with likes), nor to
  deleted or hidden posts; they are allowed in closed and locked topics (they are not
  replies). Setting a reaction that is already set (a double click) changes nothing.
- The accepted answer is a visible reply (not the opening post); one per topic:
  accepting another replaces it. An asker accepting their own reply does not count in
  their ``accepted_answers``. A moderator choosing on someone else's topic is logged.
- Expert verification (mentors and moderators) is for visible replies in questions, and
  not for your own posts.
"""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone
from django.utils.translation import gettext as _

from community.forums import access
from community.forums.models import (
    MemberStats,
    ModerationAction,
    ModerationLog,
    Post,
    Reaction,
    ReactionKind,
    Topic,
)
from community.forums.services import trust
from community.forums.stream import topic_event_append
from community.models import User
from community.notifications.services import notification_send


def _member(user: User) -> None:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        raise PermissionDenied(_("Log in first."))


def _lock(topic_id: int) -> Topic:
    return Topic.objects.select_for_update(of=("self",)).select_related("category").get(pk=topic_id)


def _locked_post(post: Post) -> tuple[Topic, Post]:
    """Lock the post's topic and re-read the post under the lock."""
    topic = _lock(post.topic_id)
    fresh = Post.objects.get(pk=post.pk)
    fresh.topic = topic
    return topic, fresh


def _name(user: User) -> str:
    profile = getattr(user, "profile", None)
    return getattr(profile, "display_name", "") or user.username


def _stats_add(user_id: int, **deltas: int) -> None:
    MemberStats.objects.get_or_create(user_id=user_id)
    MemberStats.objects.filter(pk=user_id).update(
        **{field: F(field) + delta for field, delta in deltas.items()}
    )


# --- reactions ---------------------------------------------------------------------------
def reaction_counts(post_id: int) -> dict[str, int]:
    """The post's reactions counted from the rows, kinds in ReactionKind order."""
    rows = dict(
        Reaction.objects.filter(post_id=post_id)
        .values_list("kind")
        .annotate(n=Count("id"))
        .values_list("kind", "n")
    )
    return {kind: rows[kind] for kind in ReactionKind.values if rows.get(kind)}


def reaction_set(*, user: User, post: Post, kind: str, active: bool = True) -> dict[str, Any]:
    """Give (``active``) or take back a reaction of ``kind`` on ``post``. Idempotent:
    setting what is already set changes nothing and appends no event. Returns
    ``{"counts": {...}, "mine": [...], "changed": bool}``."""
    _member(user)
    if kind not in ReactionKind.values:
        raise ValidationError(
            {"kind": _("Choose one of: %(kinds)s.") % {"kinds": ", ".join(ReactionKind.values)}}
        )
    with transaction.atomic():
        topic, post = _locked_post(post)
        if not access.can_see_topic(user, topic) or post.is_deleted:
            raise Post.DoesNotExist("No such post.")
        if post.is_hidden and not (access.is_moderator(user) or post.author_id == user.pk):
            raise Post.DoesNotExist("No such post.")
        if post.author_id == user.pk:
            raise PermissionDenied(_("You cannot react to your own post."))
        if post.is_hidden:
            raise PermissionDenied(_("This post is hidden."))
        existing = Reaction.objects.filter(post=post, user=user, kind=kind)
        changed = False
        if active and not existing.exists():
            trust.trust_check_reaction(user=user)
            Reaction.objects.create(post=post, user=user, kind=kind)
            delta, changed = 1, True
        elif not active and existing.delete()[0]:
            delta, changed = -1, True
        if changed:
            counts = reaction_counts(post.pk)
            Post.objects.filter(pk=post.pk).update(reaction_counts=counts)
            Topic.objects.filter(pk=topic.pk).update(reaction_count=F("reaction_count") + delta)
            _stats_add(post.author_id, reactions_received=delta)
            topic_event_append(
                topic=topic,
                type="post.reactions",
                data={"id": post.pk, "number": post.number, "counts": counts},
            )
        else:
            counts = dict(post.reaction_counts or {})
        mine = sorted(
            Reaction.objects.filter(post=post, user=user).values_list("kind", flat=True),
            key=ReactionKind.values.index,
        )
    return {"counts": counts, "mine": mine, "changed": changed}


def reaction_toggle(*, user: User, post: Post, kind: str) -> dict[str, Any]:
    """Flip the member's reaction of ``kind`` on ``post``."""
    has = Reaction.objects.filter(post=post, user=user, kind=kind).exists()
    return reaction_set(user=user, post=post, kind=kind, active=not has)


# --- accepted answers --------------------------------------------------------------------
def _accept_checks(user: User, topic: Topic) -> None:
    if not access.can_see_topic(user, topic):
        raise Topic.DoesNotExist("No such topic.")
    if not topic.is_question:
        raise ValidationError({"post": _("Only questions have an accepted answer.")})
    if not access.can_accept_answer(user, topic):
        raise PermissionDenied(_("Only the asker or a moderator can choose the answer."))


def _counts_for(topic: Topic, post_author_id: int) -> bool:
    """Whether an accepted answer counts in its author's ``accepted_answers``."""
    return post_author_id != topic.author_id


def _accept_log(user: User, topic: Topic, post: Post | None, previous: int | None) -> None:
    if topic.author_id != user.pk:
        ModerationLog.objects.create(
            moderator=user,
            action=ModerationAction.ACCEPT,
            topic=topic,
            post=post,
            details={"post": post.pk if post else None, "previous": previous},
        )


def answer_accept(*, user: User, post: Post) -> Topic:
    """Mark ``post`` the accepted answer of its question (replacing another one).
    Accepting the post that is already accepted changes nothing."""
    _member(user)
    with transaction.atomic():
        topic, post = _locked_post(post)
        _accept_checks(user, topic)
        if post.is_deleted:
            raise Post.DoesNotExist("No such post.")
        if post.number == 1:
            raise ValidationError({"post": _("The question itself cannot be its answer.")})
        if post.is_hidden:
            raise ValidationError({"post": _("A hidden post cannot be the answer.")})
        if topic.accepted_post_id == post.pk:
            return topic
        previous_id = topic.accepted_post_id
        if previous_id is not None:
            previous_author = (
                Post.objects.filter(pk=previous_id).values_list("author_id", flat=True).first()
            )
            if previous_author is not None and _counts_for(topic, previous_author):
                _stats_add(previous_author, accepted_answers=-1)
        Topic.objects.filter(pk=topic.pk).update(accepted_post=post)
        topic.accepted_post = post
        if _counts_for(topic, post.author_id):
            _stats_add(post.author_id, accepted_answers=1)
        _accept_log(user, topic, post, previous_id)
        topic_event_append(
            topic=topic, type="topic.accepted", data={"post_id": post.pk, "number": post.number}
        )
        if post.author_id != user.pk:
            notification_send(
                recipient=post.author,
                kind="forum.accepted",
                text=_("%(name)s accepted your answer in “%(title)s”")
                % {"name": _name(user), "title": topic.title},
                url=post.get_absolute_url(),
                actor=user,
            )
    return topic


def answer_unaccept(*, user: User, topic: Topic) -> Topic:
    """Clear the accepted answer of a question (no answer accepted: nothing changes)."""
    _member(user)
    with transaction.atomic():
        topic = _lock(topic.pk)
        _accept_checks(user, topic)
        previous_id = topic.accepted_post_id
        if previous_id is None:
            return topic
        previous_author = (
            Post.objects.filter(pk=previous_id).values_list("author_id", flat=True).first()
        )
        if previous_author is not None and _counts_for(topic, previous_author):
            _stats_add(previous_author, accepted_answers=-1)
        Topic.objects.filter(pk=topic.pk).update(accepted_post=None)
        topic.accepted_post = None
        _accept_log(user, topic, None, previous_id)
        topic_event_append(
            topic=topic, type="topic.accepted", data={"post_id": None, "number": None}
        )
    return topic


# --- expert verification -----------------------------------------------------------------
def post_verify_set(*, user: User, post: Post, verified: bool = True) -> Post:
    """Mark (or unmark) a reply in a question expert-verified. Mentors and moderators
    only; not your own post. Setting what is already set changes nothing."""
    _member(user)
    with transaction.atomic():
        topic, post = _locked_post(post)
        if not access.can_see_topic(user, topic) or post.is_deleted:
            raise Post.DoesNotExist("No such post.")
        if post.is_hidden and not (access.is_moderator(user) or post.author_id == user.pk):
            raise Post.DoesNotExist("No such post.")
        if not access.can_verify_answer(user):
            raise PermissionDenied(_("Only mentors and moderators verify answers."))
        if not topic.is_question or post.number == 1:
            raise ValidationError({"post": _("Only answers to a question can be verified.")})
        if post.author_id == user.pk:
            raise PermissionDenied(_("You cannot verify your own answer."))
        if verified and post.is_hidden:
            raise ValidationError({"post": _("A hidden post cannot be verified.")})
        if verified == (post.expert_verified_at is not None):
            return post
        now = timezone.now() if verified else None
        by = user if verified else None
        Post.objects.filter(pk=post.pk).update(expert_verified_by=by, expert_verified_at=now)
        post.expert_verified_by = by
        post.expert_verified_at = now
        topic_event_append(
            topic=topic,
            type="post.verified",
            data={"id": post.pk, "number": post.number, "by": user.username if verified else None},
        )
        if verified:
            notification_send(
                recipient=post.author,
                kind="forum.verified",
                text=_("%(name)s verified your answer in “%(title)s”")
                % {"name": _name(user), "title": topic.title},
                url=post.get_absolute_url(),
                actor=user,
            )
    return post
