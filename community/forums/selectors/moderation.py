"""Reads for moderation: the review queue, the moderation log, and the permission-checked
fetches the flag form and the moderator tools use.

Moderators see every category (restricted ones included), so the queue and the log are
not filtered by category; members never reach them. Every list here runs a constant
number of queries: the page's flags and people are loaded in one query each.
"""

from collections import Counter
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from community.forums import access
from community.forums.access import Viewer
from community.forums.models import (
    Category,
    Flag,
    FlagReason,
    FlagStatus,
    ModerationAction,
    ModerationLog,
    Post,
    Topic,
)
from community.models import User

QUEUE_PER_PAGE = 20
LOG_PER_PAGE = 50


def require_moderator(user: Viewer) -> None:
    """PermissionDenied unless ``user`` moderates the forums."""
    if not access.is_moderator(user):
        raise PermissionDenied(_("Only moderators can see this page."))


def paginate(qs: QuerySet[Any], page: int | str | None, per_page: int) -> Page[Any]:
    """One page; a missing or non-numeric page is the first, a page past the end the last."""
    return Paginator(qs, per_page).get_page(page)


# --- flagging ------------------------------------------------------------------------------
def post_get_for_flagging(*, pk: int, user: Viewer) -> Post:
    """A post ``user`` may read (its topic readable; not deleted; hidden only for its
    author and moderators), with its topic and author; else Http404."""
    post = (
        Post.objects.select_related("topic__category", "author__profile")
        .filter(access.post_visible_q(user), pk=pk)
        .first()
    )
    if post is None or not access.can_see_topic(user, post.topic):
        raise Http404(_("No such post."))
    return post


def has_open_flag(*, post: Post, user: Viewer) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return Flag.objects.filter(post=post, flagged_by_id=user.pk, status=FlagStatus.OPEN).exists()


# --- the review queue ----------------------------------------------------------------------
def review_queue(*, user: Viewer, reason: str = "") -> QuerySet[Post]:
    """Posts with open flags, the longest waiting first, each annotated with
    ``open_flag_count`` and ``first_flagged_at``. Moderators only."""
    require_moderator(user)
    open_q = Q(flags__status=FlagStatus.OPEN)
    qs = Post.objects.filter(open_q)
    if reason:
        qs = qs.filter(
            Exists(Flag.objects.filter(post=OuterRef("pk"), status=FlagStatus.OPEN, reason=reason))
        )
    return (
        qs.annotate(
            open_flag_count=Count("flags", filter=open_q, distinct=True),
            first_flagged_at=Min("flags__created_at", filter=open_q),
        )
        .select_related("topic__category", "author__profile")
        .order_by("first_flagged_at", "pk")
    )


def review_queue_count(*, user: Viewer) -> int:
    """How many posts wait for review (0 for non-moderators)."""
    if not access.is_moderator(user):
        return 0
    return Post.objects.filter(flags__status=FlagStatus.OPEN).distinct().count()


def review_attach_flags(posts: list[Post]) -> None:
    """Give each post of a queue page ``open_flags`` (oldest first, with the flaggers
    and their profiles) and ``reason_counts`` ([{reason, label, count}], most first),
    in one query for the page."""
    flags_by_post: dict[int, list[Flag]] = {p.pk: [] for p in posts}
    if posts:
        for flag in (
            Flag.objects.filter(post_id__in=flags_by_post, status=FlagStatus.OPEN)
            .select_related("flagged_by__profile")
            .order_by("created_at", "id")
        ):
            flags_by_post[flag.post_id].append(flag)
    labels = dict(FlagReason.choices)
    for post in posts:
        post.open_flags = flags_by_post[post.pk]  # type: ignore[attr-defined]
        counts = Counter(flag.reason for flag in post.open_flags)  # type: ignore[attr-defined]
        post.reason_counts = [  # type: ignore[attr-defined]
            {"reason": reason, "label": str(labels.get(reason, reason)), "count": n}
            for reason, n in counts.most_common()
        ]


def review_page(*, user: Viewer, page: int | str | None, reason: str = "") -> Page[Any]:
    """One page of the queue. Each post gets ``open_flags`` (oldest first, with the
    flaggers and their profiles) and ``reason_counts`` ([(reason label, n)], most first),
    loaded in one query for the page."""
    qs = review_queue(user=user, reason=reason)
    page_obj = paginate(qs, page, QUEUE_PER_PAGE)
    posts = list(page_obj.object_list)
    review_attach_flags(posts)
    page_obj.object_list = posts
    return page_obj


def post_get_for_review(*, pk: int, user: Viewer) -> Post:
    """Any post, deleted or hidden too, for a moderator; Http404 when missing,
    PermissionDenied for others."""
    require_moderator(user)
    post = Post.objects.select_related("topic__category").filter(pk=pk).first()
    if post is None:
        raise Http404(_("No such post."))
    return post


# --- topics --------------------------------------------------------------------------------
def topic_get_for_moderation(*, pk: int, user: Viewer) -> Topic:
    """The topic, for a moderator's tools: Http404 when it does not exist or ``user``
    may not read it (so ids leak nothing), PermissionDenied when they may read it but
    do not moderate. Moderators also get deleted and merged topics (the services
    refuse to act on them, with a clear error)."""
    topic = Topic.objects.select_related("category", "merged_into").filter(pk=pk).first()
    if topic is None:
        raise Http404(_("No such topic."))
    if not access.is_moderator(user):
        if not access.can_see_topic(user, topic):
            raise Http404(_("No such topic."))
        raise PermissionDenied(_("Only moderators can do this."))
    return topic


def topic_get_merge_target(*, pk: int | None) -> Topic:
    """The topic to merge into, for a moderator: any existing topic (the service refuses
    deleted or merged ones); ValidationError-friendly Topic.DoesNotExist otherwise."""
    if pk is None:
        raise Topic.DoesNotExist
    return Topic.objects.select_related("category").get(pk=pk)


def move_categories() -> QuerySet[Category]:
    """Every category, for a moderator's move form (moderators see them all)."""
    return Category.objects.select_related("parent").order_by("position", "name")


def topic_merged_target(*, pk: int, user: Viewer) -> Topic | None:
    """Where a merged topic's URL leads: the live topic it was merged into (following
    older chains), if ``user`` may read it; None when ``pk`` is not a merged topic."""
    topic = Topic.objects.filter(pk=pk).only("merged_into_id", "is_deleted").first()
    seen: set[int] = set()
    while topic is not None and topic.merged_into_id is not None and topic.pk not in seen:
        seen.add(topic.pk)
        topic = Topic.objects.select_related("category").filter(pk=topic.merged_into_id).first()
    if topic is None or not seen or not access.can_see_topic(user, topic):
        return None
    return topic


# --- the log -------------------------------------------------------------------------------
def moderation_log(
    *, user: Viewer, action: str = "", moderator: User | None = None
) -> QuerySet[ModerationLog]:
    """The log, newest first, optionally of one action or one moderator. Moderators
    only."""
    require_moderator(user)
    qs = ModerationLog.objects.select_related("moderator__profile", "topic", "post").order_by(
        "-created_at", "-id"
    )
    if action:
        qs = qs.filter(action=action)
    if moderator is not None:
        qs = qs.filter(moderator=moderator)
    return qs


def log_actions() -> list[tuple[str, str]]:
    return [(value, str(label)) for value, label in ModerationAction.choices]
