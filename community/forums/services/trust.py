"""Trust levels and the limits on new members.

A member starts at trust level 0 ("new"): few posts per minute, few topics per day, few
links and mentions per post, few reactions per day, so that a spammer's first hour does
little harm. The limits lift at level 1 ("member": some posts over some days, or
reactions received from others) and lift further at level 2 ("regular"). Moderators are
never limited.

Everything is configurable in settings (read at call time, never at import):

- ``FORUM_TRUST_LIMITS_ENABLED`` (default True): the switch (the test settings turn it off
  for every test but the ones about trust, which turn it on).
- ``FORUM_TRUST_LIMITS``: ``{level: {limit: number or None}}`` merged over
  :data:`DEFAULT_LIMITS` (None means unlimited).
- ``FORUM_TRUST_LEVELS``: ``{level: {requirement: number}}`` merged over
  :data:`DEFAULT_LEVELS`.

Rate limits (posts per minute, topics per day, reactions per day) are counted from the database (the
member's own rows in the window, under a lock on the member's stats row), so they are
exact across processes and need no cache; the error says when to try again.
"""

import datetime as dt
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from community.forums import access
from community.forums.models import MemberStats, Post, Reaction, Topic
from community.models import User

NEW, MEMBER, REGULAR = 0, 1, 2

DEFAULT_LIMITS: dict[int, dict[str, int | None]] = {
    NEW: {
        "posts_per_minute": 3,
        "topics_per_day": 3,
        "links_per_post": 2,
        "mentions_per_post": 2,
        "reactions_per_day": 30,
    },
    MEMBER: {
        "posts_per_minute": 10,
        "topics_per_day": 20,
        "links_per_post": 10,
        "mentions_per_post": 10,
        "reactions_per_day": 100,
    },
    REGULAR: {
        "posts_per_minute": 30,
        "topics_per_day": None,
        "links_per_post": None,
        "mentions_per_post": 30,
        "reactions_per_day": 300,
    },
}

# Level 1: ``posts`` posts and ``days`` days since joining, or ``reactions`` reactions
# received. Level 2: ``posts`` posts, ``days`` days, and ``reactions`` reactions received
# or ``accepted`` accepted answers.
DEFAULT_LEVELS: dict[int, dict[str, int]] = {
    MEMBER: {"posts": 5, "days": 1, "reactions": 5},
    REGULAR: {"posts": 30, "days": 14, "reactions": 20, "accepted": 1},
}

_EXTERNAL_HREF = re.compile(r"""<a\s[^>]*href="(?!/|#)""")


class TrustLimitExceeded(ValidationError):
    """A trust limit said no. ``retry_after`` (seconds) is set for rate limits, which
    the API answers with 429 and a Retry-After header; other limits are plain bad
    input (400)."""

    def __init__(self, field: str, message: str, *, retry_after: int | None = None) -> None:
        super().__init__({field: [message]})
        self.retry_after = retry_after


@dataclass(frozen=True)
class Limits:
    posts_per_minute: int | None
    topics_per_day: int | None
    links_per_post: int | None
    mentions_per_post: int | None
    reactions_per_day: int | None = None


def limits_enabled() -> bool:
    return bool(getattr(settings, "FORUM_TRUST_LIMITS_ENABLED", True))


def limits_for_level(level: int) -> Limits:
    overrides: dict[int, dict[str, Any]] = getattr(settings, "FORUM_TRUST_LIMITS", {}) or {}
    level = min(max(level, NEW), REGULAR)
    merged = {**DEFAULT_LIMITS[level], **overrides.get(level, {})}
    return Limits(**merged)


def _requirements(level: int) -> dict[str, int]:
    overrides: dict[int, dict[str, Any]] = getattr(settings, "FORUM_TRUST_LEVELS", {}) or {}
    return {**DEFAULT_LEVELS[level], **overrides.get(level, {})}


def trust_level_earned(*, stats: MemberStats, date_joined: dt.datetime) -> int:
    """The level a member's participation has earned (never counting a level a
    moderator gave by hand: see :func:`trust_level_of`)."""
    days = (timezone.now() - date_joined).total_seconds() / 86400
    level = NEW
    one = _requirements(MEMBER)
    if (stats.post_count >= one["posts"] and days >= one["days"]) or (
        stats.reactions_received >= one["reactions"]
    ):
        level = MEMBER
    two = _requirements(REGULAR)
    if (
        level == MEMBER
        and stats.post_count >= two["posts"]
        and days >= two["days"]
        and (
            stats.reactions_received >= two["reactions"]
            or stats.accepted_answers >= two["accepted"]
        )
    ):
        level = REGULAR
    return level


def trust_level_of(*, stats: MemberStats, date_joined: dt.datetime) -> int:
    """The member's level: what is stored (levels are never taken away automatically)
    or what participation has earned since, whichever is higher."""
    return max(stats.trust_level, trust_level_earned(stats=stats, date_joined=date_joined))


def member_stats_refresh(*, user: User, stats: MemberStats | None = None) -> MemberStats:
    """Store the member's trust level if participation has raised it. The posting
    services call this after every post; the social area may call it after reactions
    and accepted answers (the level is also recomputed whenever a limit is checked)."""
    if stats is None:
        stats, _created = MemberStats.objects.get_or_create(user=user)
    else:
        stats.refresh_from_db()
    level = trust_level_of(stats=stats, date_joined=user.date_joined)
    if level > stats.trust_level:
        MemberStats.objects.filter(pk=stats.pk, trust_level__lt=level).update(trust_level=level)
        stats.trust_level = level
    return stats


def is_exempt(user: User) -> bool:
    return access.is_moderator(user) or bool(getattr(user, "is_staff", False))


def external_link_count(html: str) -> int:
    """Links to other sites in rendered post HTML (links inside the forum, such as the
    one a quote carries, do not count)."""
    return len(_EXTERNAL_HREF.findall(html))


def _wait(oldest: dt.datetime, window: dt.timedelta) -> int:
    return max(1, math.ceil((oldest + window - timezone.now()).total_seconds()))


def trust_check_post(
    *,
    user: User,
    stats: MemberStats,
    html: str,
    mention_count: int,
    new_topic: bool,
    rate: bool = True,
    topic_id: int | None = None,
) -> None:
    """Raise :class:`TrustLimitExceeded` if this post (or new topic, or edit with
    ``rate=False``) goes over the member's limits (``topic_id``: the topic being opened,
    which does not count against itself). The caller holds the lock on the
    member's stats row, so two posts sent at once cannot both slip under a limit."""
    if not limits_enabled() or is_exempt(user):
        return
    limits = limits_for_level(trust_level_of(stats=stats, date_joined=user.date_joined))
    if limits.links_per_post is not None and external_link_count(html) > limits.links_per_post:
        raise TrustLimitExceeded(
            "body",
            ngettext(
                "New members can put at most %(n)d link in a post; remove some links.",
                "New members can put at most %(n)d links in a post; remove some links.",
                limits.links_per_post,
            )
            % {"n": limits.links_per_post},
        )
    if limits.mentions_per_post is not None and mention_count > limits.mentions_per_post:
        raise TrustLimitExceeded(
            "body",
            ngettext(
                "You can mention at most %(n)d member in a post.",
                "You can mention at most %(n)d members in a post.",
                limits.mentions_per_post,
            )
            % {"n": limits.mentions_per_post},
        )
    if not rate:
        return
    if new_topic and limits.topics_per_day is not None:
        topics = Topic.objects.filter(author=user)
        if topic_id is not None:
            topics = topics.exclude(pk=topic_id)
        _rate_check(
            topics,
            limits.topics_per_day,
            dt.timedelta(days=1),
            "__all__",
            lambda n, wait: (
                ngettext(
                    "New members can open %(n)d topic a day. Your text is kept; you can "
                    "post it in %(wait)s.",
                    "New members can open %(n)d topics a day. Your text is kept; you can "
                    "post it in %(wait)s.",
                    n,
                )
                % {"n": n, "wait": wait}
            ),
        )
    if limits.posts_per_minute is not None:
        _rate_check(
            Post.objects.filter(author=user),
            limits.posts_per_minute,
            dt.timedelta(minutes=1),
            "__all__",
            lambda n, wait: (
                _(
                    "You are posting faster than new members may (%(n)d posts a minute). "
                    "Your text is kept; try again in %(wait)s."
                )
                % {"n": n, "wait": wait}
            ),
        )


def trust_check_reaction(*, user: User) -> None:
    """Raise :class:`TrustLimitExceeded` (with ``retry_after``) if giving one more
    reaction goes over the member's reactions per day (reactions given in the last 24
    hours, still standing: taking one back gives it back). Call it inside the reaction's
    transaction: it locks the member's stats row until the end, so reactions sent at
    once cannot all slip under the limit."""
    if not limits_enabled() or is_exempt(user):
        return
    MemberStats.objects.get_or_create(user=user)
    stats = MemberStats.objects.select_for_update().get(pk=user.pk)
    limits = limits_for_level(trust_level_of(stats=stats, date_joined=user.date_joined))
    if limits.reactions_per_day is not None:
        _rate_check(
            Reaction.objects.filter(user=user),
            limits.reactions_per_day,
            dt.timedelta(days=1),
            "kind",
            lambda n, wait: (
                ngettext(
                    "You have given %(n)d reaction today, the most your trust level allows. "
                    "Try again in %(wait)s.",
                    "You have given %(n)d reactions today, the most your trust level allows. "
                    "Try again in %(wait)s.",
                    n,
                )
                % {"n": n, "wait": wait}
            ),
        )


def _rate_check(
    rows: QuerySet[Any],
    limit: int,
    window: dt.timedelta,
    field: str,
    message: Callable[[int, str], str],
) -> None:
    """Raise :class:`TrustLimitExceeded` if ``rows`` (the member's own, with a
    ``created_at``) already hold ``limit`` made within ``window``; ``retry_after`` is
    when the oldest of them leaves it. ``message(limit, wait)`` says so."""
    recent = list(
        rows.filter(created_at__gte=timezone.now() - window)
        .order_by("-created_at")
        .values_list("created_at", flat=True)[:limit]
    )
    if len(recent) >= limit:
        wait = _wait(recent[-1], window)
        raise TrustLimitExceeded(field, message(limit, _duration(wait)), retry_after=wait)


def _duration(seconds: int) -> str:
    if seconds < 120:
        return ngettext("%(n)d second", "%(n)d seconds", seconds) % {"n": seconds}
    if seconds < 7200:
        minutes = math.ceil(seconds / 60)
        return ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}
    hours = math.ceil(seconds / 3600)
    return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}
