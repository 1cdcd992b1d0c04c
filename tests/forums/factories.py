"""Forum test data, made through the services (so counters and streams are right)."""

from typing import Any

from community.forums.models import Category, Post, Topic
from community.forums.services.posting import post_create, topic_create
from community.models import User
from tests.factories import make_member

_counter = {"n": 0}


def _next() -> int:
    _counter["n"] += 1
    return _counter["n"]


def make_category(**kwargs: Any) -> Category:
    n = _next()
    kwargs.setdefault("slug", f"category-{n}")
    kwargs.setdefault("name", f"Category {n}")
    kwargs.setdefault("description", "A category for tests.")
    return Category.objects.create(**kwargs)


def make_topic(
    *,
    author: User | None = None,
    category: Category | None = None,
    title: str = "",
    body: str = "Why does viability drop on day 9 of my CHO fed-batch?",
    replies: int = 0,
    **kwargs: Any,
) -> Topic:
    """A topic with its opening post and ``replies`` replies by other members."""
    author = author or make_member().user
    category = category or make_category()
    topic = topic_create(
        author=author,
        category=category,
        title=title or f"Test topic number {_next()}",
        body=body,
        **kwargs,
    )
    for i in range(replies):
        post_create(
            author=make_member().user, topic=topic, body=f"Reply {i + 1}: check the glucose."
        )
    topic.refresh_from_db()
    return topic


def make_post(
    *, topic: Topic, author: User | None = None, body: str = "A reply.", **kw: Any
) -> Post:
    return post_create(author=author or make_member().user, topic=topic, body=body, **kw)


def make_moderator(username: str | None = None) -> User:
    """A member in the Moderators group (community.moderate_community)."""
    from django.contrib.auth.models import Group

    user = make_member(username).user
    user.groups.add(Group.objects.get(name="Moderators"))
    return User.objects.get(pk=user.pk)  # fresh: no cached permissions
