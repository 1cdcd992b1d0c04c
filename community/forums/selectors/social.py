"""Reads for answers, reactions and following. Fetches for a member raise
``DoesNotExist`` (or Http404 through the views) for missing and invisible objects
alike, so ids leak nothing."""

from dataclasses import dataclass, field

from django.db.models import QuerySet

from community.forums import access
from community.forums.models import (
    Category,
    CategoryWatch,
    Post,
    Reaction,
    ReactionKind,
    TagWatch,
    Topic,
    TopicWatch,
    WatchLevel,
)
from community.models import Skill, User


def _uid(user: access.Viewer) -> int:
    """The id of a signed-in member (callers checked ``is_authenticated``)."""
    assert user.pk is not None
    return int(user.pk)


def topic_get_for_user(*, pk: int, user: access.Viewer) -> Topic:
    """A topic the member may read (Topic.DoesNotExist otherwise)."""
    return access.topics_visible_to(user).select_related("category").get(pk=pk)


def post_get_for_user(*, pk: int, user: access.Viewer) -> Post:
    """A post the member may read, with its topic and category (Post.DoesNotExist for
    missing, deleted, hidden from them, or in a topic they cannot read)."""
    post = (
        Post.objects.select_related("topic__category")
        .filter(access.post_visible_q(user))
        .get(pk=pk)
    )
    if not access.can_see_topic(user, post.topic):
        raise Post.DoesNotExist("No such post.")
    return post


def category_get_for_user(*, slug: str, user: access.Viewer) -> Category:
    return access.categories_visible_to(user).get(slug=slug)


def tag_get(*, slug: str) -> Skill:
    return Skill.objects.select_related("area").get(slug=slug, is_active=True)


def my_reactions(*, user: access.Viewer, post_ids: list[int]) -> dict[int, set[str]]:
    """The kinds the member gave on each of these posts (one query)."""
    found: dict[int, set[str]] = {pk: set() for pk in post_ids}
    if not getattr(user, "is_authenticated", False) or not post_ids:
        return found
    for post_id, kind in Reaction.objects.filter(
        user_id=_uid(user), post_id__in=post_ids
    ).values_list("post_id", "kind"):
        found[post_id].add(kind)
    return found


def reaction_summary(post: Post, mine: set[str]) -> list[dict[str, object]]:
    """Every reaction kind with its count and whether the member gave it (no query)."""
    counts = post.reaction_counts or {}
    return [
        {"kind": kind, "name": str(label), "count": int(counts.get(kind, 0)), "mine": kind in mine}
        for kind, label in ReactionKind.choices
    ]


def topic_watch_level(*, user: access.Viewer, topic: Topic) -> str:
    """The member's own level for the topic, "" when they never set one."""
    if not getattr(user, "is_authenticated", False):
        return ""
    return (
        TopicWatch.objects.filter(user_id=_uid(user), topic=topic)
        .values_list("level", flat=True)
        .first()
        or ""
    )


def category_watch_level(*, user: access.Viewer, category: Category) -> str:
    if not getattr(user, "is_authenticated", False):
        return str(WatchLevel.NORMAL)
    found = CategoryWatch.objects.filter(user_id=_uid(user), category=category).values_list(
        "level", flat=True
    )
    return found.first() or str(WatchLevel.NORMAL)


def tag_watch_level(*, user: access.Viewer, skill: Skill) -> str:
    if not getattr(user, "is_authenticated", False):
        return str(WatchLevel.NORMAL)
    found = TagWatch.objects.filter(user_id=_uid(user), skill=skill).values_list("level", flat=True)
    return found.first() or str(WatchLevel.NORMAL)


@dataclass
class Following:
    topics: list[TopicWatch] = field(default_factory=list)
    categories: list[CategoryWatch] = field(default_factory=list)
    tags: list[TagWatch] = field(default_factory=list)


TOPIC_WATCH_LIMIT = 200


def following_for_user(*, user: User, topic_limit: int = TOPIC_WATCH_LIMIT) -> Following:
    """What the member follows or muted: topics they may still read (the latest
    ``topic_limit``, newest activity first; the "normal" ones left out), categories they
    may read, tags. Three queries."""
    topics = list(
        TopicWatch.objects.filter(user=user, topic__in=access.topics_visible_to(user))
        .exclude(level=WatchLevel.NORMAL)
        .select_related("topic__category")
        .order_by("-topic__last_posted_at", "-id")[:topic_limit]
    )
    categories = list(
        CategoryWatch.objects.filter(user=user, category__in=access.categories_visible_to(user))
        .select_related("category")
        .order_by("category__position", "category__name")
    )
    tags = list(
        TagWatch.objects.filter(user=user, skill__is_active=True)
        .select_related("skill")
        .order_by("skill__name")
    )
    return Following(topics=topics, categories=categories, tags=tags)


def topic_watches_for_user(*, user: User) -> QuerySet[TopicWatch]:
    """The member's topic levels on topics they may read, newest activity first (for a
    paginated API list)."""
    return (
        TopicWatch.objects.filter(user=user, topic__in=access.topics_visible_to(user))
        .select_related("topic")
        .order_by("-topic__last_posted_at", "-id")
    )
