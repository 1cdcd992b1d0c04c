"""Following: the watch level a member sets on a topic, a category or a tag (a skill).

- A topic level, once set (by the member, or automatically: the author watches their
  topic, a replier tracks it), is the member's choice for that topic and overrides the
  category's and tags' levels, "normal" included.
- Category and tag levels: "normal" is the default and is stored as no row.

Levels (WatchLevel): watching (every new post), tracking and normal (only mentions and
replies to you), muted (nothing at all, not even mentions).
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from community.forums import access
from community.forums.models import (
    Category,
    CategoryWatch,
    TagWatch,
    Topic,
    TopicWatch,
    WatchLevel,
)
from community.models import Skill, User


def _clean_level(level: str) -> str:
    if level not in WatchLevel.values:
        raise ValidationError(
            {"level": _("Choose one of: %(levels)s.") % {"levels": ", ".join(WatchLevel.values)}}
        )
    return level


def _member(user: User) -> None:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        raise PermissionDenied(_("Log in to follow."))


def topic_watch_set(*, user: User, topic: Topic, level: str) -> TopicWatch:
    """Set the member's level for a topic they can read."""
    _member(user)
    level = _clean_level(level)
    if not access.can_see_topic(user, topic):
        raise PermissionDenied(_("You cannot follow this topic."))
    with transaction.atomic():
        watch, _created = TopicWatch.objects.update_or_create(
            user=user, topic=topic, defaults={"level": level}
        )
    return watch


def topic_watch_auto(*, user: User, topic: Topic, level: str) -> None:
    """Give the member ``level`` on the topic unless they already have one (authors
    watch their topic, repliers track it). One query; a member's own choice wins."""
    TopicWatch.objects.bulk_create(
        [TopicWatch(user=user, topic=topic, level=level)], ignore_conflicts=True
    )


def category_watch_set(*, user: User, category: Category, level: str) -> CategoryWatch | None:
    """Set the member's level for a category they can read ("normal" removes it)."""
    _member(user)
    level = _clean_level(level)
    if not access.can_see_category(user, category):
        raise PermissionDenied(_("You cannot follow this category."))
    with transaction.atomic():
        if level == WatchLevel.NORMAL:
            CategoryWatch.objects.filter(user=user, category=category).delete()
            return None
        watch, _created = CategoryWatch.objects.update_or_create(
            user=user, category=category, defaults={"level": level}
        )
    return watch


def tag_watch_set(*, user: User, skill: Skill, level: str) -> TagWatch | None:
    """Set the member's level for a tag (a catalogue skill; "normal" removes it)."""
    _member(user)
    level = _clean_level(level)
    if not skill.is_active:
        raise ValidationError({"tag": _("This tag is no longer in use.")})
    with transaction.atomic():
        if level == WatchLevel.NORMAL:
            TagWatch.objects.filter(user=user, skill=skill).delete()
            return None
        watch, _created = TagWatch.objects.update_or_create(
            user=user, skill=skill, defaults={"level": level}
        )
    return watch
