"""Who may see and do what in the forums. Every selector and service goes through here,
so a restricted category is invisible everywhere: lists, search, API, notifications,
websocket events."""

from typing import Any

from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.db.models import Exists, OuterRef, Q, QuerySet

from community.forums.models import Category, Post, Topic
from community.models import ROLE_FIELDS, User

Viewer = User | AnonymousUser | Any


def is_moderator(user: Viewer) -> bool:
    """Moderators hold ``community.moderate_community`` (the Moderators group); staff
    superusers hold every permission."""
    if not getattr(user, "is_authenticated", False):
        return False
    cached = getattr(user, "_forum_is_moderator", None)
    if cached is None:
        cached = bool(user.is_active and (user.is_superuser or _holds_moderate(user.pk)))
        setattr(user, "_forum_is_moderator", cached)  # noqa: B010
    return bool(cached)


def _moderate_permission(uid: Any) -> QuerySet[Permission]:
    """``community.moderate_community`` if member ``uid`` holds it, directly or through a
    group (else nothing): ``has_perm`` of the model backend as one query, where
    ``has_perm`` itself loads every permission of the member and of their groups (two)."""
    held = Permission.objects.filter(
        codename="moderate_community", content_type__app_label="community"
    )
    return held.filter(
        Exists(User.user_permissions.through.objects.filter(user_id=uid, permission=OuterRef("pk")))
        | Exists(
            Group.permissions.through.objects.filter(permission=OuterRef("pk"), group__user=uid)
        )
    )


def _holds_moderate(uid: Any) -> bool:
    return _moderate_permission(uid).exists()


def moderator_subquery(uid: int) -> Exists:
    """An expression for an annotation: whether member ``uid`` holds the moderators'
    permission. A page that loads something anyway (the topic page) asks it along and
    passes the answer to ``moderator_known``, which saves ``is_moderator`` its query."""
    return Exists(_moderate_permission(uid))


def moderator_known(user: Viewer, holds: bool) -> None:
    """Remember what ``moderator_subquery`` found for ``user`` (for ``is_moderator``)."""
    if (
        getattr(user, "is_authenticated", False)
        and getattr(user, "_forum_is_moderator", None) is None
    ):
        setattr(user, "_forum_is_moderator", bool(user.is_active and (user.is_superuser or holds)))  # noqa: B010


def member_roles(user: Viewer) -> set[str]:
    """The roles on the member's profile ("mentor", "facilitator", ...)."""
    if not getattr(user, "is_authenticated", False):
        return set()
    cached = getattr(user, "_forum_roles", None)
    if cached is None:
        profile = getattr(user, "profile", None)
        cached = {role for role, field in ROLE_FIELDS.items() if getattr(profile, field, False)}
        setattr(user, "_forum_roles", cached)  # noqa: B010
    return set(cached)


def category_filter(user: Viewer, prefix: str = "") -> Q:
    """A Q on Category (or, with ``prefix`` like "category__", on a related model) that
    keeps what ``user`` may read."""
    if is_moderator(user):
        return Q()
    return Q(**{f"{prefix}required_role": ""}) | Q(
        **{f"{prefix}required_role__in": sorted(member_roles(user))}
    )


def can_see_category(user: Viewer, category: Category) -> bool:
    return (
        not category.required_role
        or is_moderator(user)
        or category.required_role in member_roles(user)
    )


def categories_visible_to(user: Viewer) -> QuerySet[Category]:
    return Category.objects.filter(category_filter(user))


def topics_visible_to(user: Viewer) -> QuerySet[Topic]:
    """Live topics in categories the user may read (deleted and merged-away topics are
    gone for everyone; moderators reach them through the moderation pages)."""
    return Topic.objects.filter(
        category_filter(user, "category__"), is_deleted=False, merged_into__isnull=True
    )


def can_see_topic(user: Viewer, topic: Topic) -> bool:
    return (
        not topic.is_deleted
        and topic.merged_into_id is None
        and can_see_category(user, topic.category)
    )


def viewer_kind(user: Viewer) -> str:
    """The kind of viewer the visibility filters differ by: "moderator", "member" or
    "visitor"."""
    if is_moderator(user):
        return "moderator"
    return "member" if getattr(user, "is_authenticated", False) else "visitor"


def post_visible_q(user: Viewer, prefix: str = "") -> Q:
    """Posts a reader sees as text: not deleted, and not hidden unless the reader is a
    moderator or the author (authors see their hidden post, marked as hidden)."""
    return post_visible_q_for(viewer_kind(user), int(getattr(user, "pk", None) or 0), prefix)


def post_visible_q_for(kind: str, uid: int, prefix: str = "") -> Q:
    """``post_visible_q`` for a viewer of ``kind`` (``viewer_kind``) with id ``uid``."""
    if kind == "moderator":
        return Q(**{f"{prefix}is_deleted": False})
    q = Q(**{f"{prefix}is_deleted": False, f"{prefix}is_hidden": False})
    if kind == "member":
        q |= Q(**{f"{prefix}is_deleted": False, f"{prefix}author_id": uid})
    return q


def can_post_in(user: Viewer, topic: Topic) -> bool:
    """Reply allowed: a member who can see the topic, which is open (locked topics take
    moderators' posts only)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if not can_see_topic(user, topic):
        return False
    if is_moderator(user):
        return True
    return not (topic.is_closed or topic.is_locked)


def can_edit_post(user: Viewer, post: Post) -> bool:
    if not getattr(user, "is_authenticated", False) or post.is_deleted:
        return False
    if is_moderator(user):
        return True
    return post.author_id == user.pk and not post.topic.is_locked


def can_accept_answer(user: Viewer, topic: Topic) -> bool:
    if not getattr(user, "is_authenticated", False) or not topic.is_question:
        return False
    return topic.author_id == user.pk or is_moderator(user)


def can_verify_answer(user: Viewer) -> bool:
    """Experts (members with the mentor role) and moderators mark answers verified."""
    return is_moderator(user) or "mentor" in member_roles(user)
