"""Reads for the posting pages and API: the topic or post a member may write in or
edit, drafts, and a post's edit history with the differences between versions."""

import difflib
import itertools
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from community.forums import access
from community.forums.models import Category, Draft, Post, PostRevision, Topic
from community.models import CompetencyArea, User
from community.selectors import catalogue_areas

Viewer = access.Viewer


def topic_get_for_posting(*, pk: int, user: Viewer) -> Topic:
    """A live topic ``user`` may read (with its category and skills), or Http404 for a
    missing and an invisible one alike."""
    topic = (
        access.topics_visible_to(user)
        .select_related("category")
        .prefetch_related("skills")
        .filter(pk=pk)
        .first()
    )
    if topic is None:
        raise Http404("No such topic.")
    return topic


def post_get_for_user(*, pk: int, user: Viewer) -> Post:
    """A post ``user`` may read (in a topic it may read; not deleted; hidden only to its
    author and moderators), with topic, category, author and profile; else Http404."""
    post = (
        Post.objects.filter(access.post_visible_q(user), pk=pk)
        .select_related("topic__category", "author__profile", "reply_to")
        .first()
    )
    if post is None or not access.can_see_topic(user, post.topic):
        raise Http404("No such post.")
    return post


def post_get_for_undelete(*, pk: int, user: Viewer) -> Post:
    """A deleted post, for moderators (Http404 for everyone else)."""
    if not access.is_moderator(user):
        raise Http404("No such post.")
    post = (
        Post.objects.filter(pk=pk, topic__merged_into__isnull=True)
        .select_related("topic__category", "author__profile")
        .first()
    )
    if post is None:
        raise Http404("No such post.")
    return post


def categories_for_posting(user: Viewer) -> QuerySet[Category]:
    """Categories ``user`` may open a topic in, parents first then their children."""
    return access.categories_visible_to(user).select_related("parent").order_by("position", "name")


def skill_areas() -> QuerySet[CompetencyArea]:
    return catalogue_areas()


def draft_get(*, user: Viewer, topic: Topic | None = None) -> Draft | None:
    if not isinstance(user, User) or not user.is_authenticated:
        return None
    return Draft.objects.filter(user=user, topic=topic).select_related("reply_to").first()


def drafts_for_user(user: User) -> QuerySet[Draft]:
    """The member's drafts, newest first, those of topics they can no longer read left
    out."""
    visible = access.topics_visible_to(user).values("pk")
    return (
        Draft.objects.filter(user=user)
        .filter(Q(topic__isnull=True) | Q(topic__in=visible))
        .select_related("topic", "category")
        .order_by("-updated_at")
    )


# --- edit history ----------------------------------------------------------------------------
@dataclass
class DiffLine:
    op: str  # "same", "add", "del"
    text: str


@dataclass
class Version:
    number: int
    title: str
    body: str
    editor: User | None
    created_at: Any
    is_current: bool = False
    title_changed: bool = False
    previous_title: str = ""
    diff: list[DiffLine] = field(default_factory=list)


def _diff(before: str, after: str) -> list[DiffLine]:
    lines: list[DiffLine] = []
    a, b = before.splitlines(), after.splitlines()
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            lines += [DiffLine("same", text) for text in a[i1:i2]]
            continue
        lines += [DiffLine("del", text) for text in a[i1:i2]]
        lines += [DiffLine("add", text) for text in b[j1:j2]]
    return lines


def post_history(post: Post) -> list[Version]:
    """Every version of ``post``, oldest first: version 1 is the text as first posted,
    the last is the current text; each later version carries its line diff against the
    one before (and the topic title, for the opening post). One query."""
    revisions = list(
        PostRevision.objects.filter(post=post).select_related("editor__profile").order_by("number")
    )
    is_opening = post.number == 1
    versions: list[Version] = []
    # Revision k holds the text before edit k, written by revision k-1's editor (or the
    # author, for k = 1); the current text is by the last revision's editor.
    for i, revision in enumerate(revisions):
        versions.append(
            Version(
                number=i + 1,
                title=revision.title,
                body=revision.body,
                editor=post.author if i == 0 else revisions[i - 1].editor,
                created_at=post.created_at if i == 0 else revisions[i - 1].created_at,
            )
        )
    versions.append(
        Version(
            number=len(revisions) + 1,
            title=post.topic.title if is_opening else "",
            body=post.body,
            editor=revisions[-1].editor if revisions else post.author,
            created_at=post.edited_at or post.created_at,
            is_current=True,
        )
    )
    for previous, version in itertools.pairwise(versions):
        version.diff = _diff(previous.body, version.body)
        if is_opening and previous.title and previous.title != version.title:
            version.title_changed = True
            version.previous_title = previous.title
    return versions
