"""Reading the forums: the index, topic lists, the topic page, bookmarks.

Everything here goes through ``community.forums.access``, so a restricted category is
invisible (absent from lists and counts, "not found" when asked for by id or slug).
Every function runs a constant number of queries, whatever the number of topics or
posts: per-viewer data (read positions, reactions, bookmarks, flags) is loaded for a
whole page in one query each and attached to the objects.

Definitions, for the viewer:

- *unread*: a topic the viewer has opened (it has a ``ReadState``) with posts after
  their read position (``last_read_number < last_post_number``).
- *new*: a topic the viewer has never opened, not their own, created in the last
  ``NEW_TOPIC_DAYS`` days and after they joined (so a new member is not greeted with
  every topic of the last fortnight as "new" ... only those since they signed up).
- Muted topics, and topics in muted categories, are left out of both lists and counts.
"""

import datetime as dt
import functools
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import (
    Count,
    Exists,
    F,
    FilteredRelation,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    TextChoices,
    Value,
)
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from community import compiled
from community.forums import access
from community.forums.access import Viewer
from community.forums.models import (
    Bookmark,
    Category,
    CategoryWatch,
    Draft,
    Flag,
    FlagStatus,
    Post,
    Reaction,
    ReadState,
    Topic,
    TopicKind,
    TopicWatch,
    WatchLevel,
)
from community.models import Skill, User

NEW_TOPIC_DAYS = 14


class Sort(TextChoices):
    LATEST = "latest", _("Latest")
    TOP = "top", _("Top")
    UNANSWERED = "unanswered", _("Unanswered")


class ListFilter(TextChoices):
    NEW = "new", _("New")
    UNREAD = "unread", _("Unread")


def posts_per_page() -> int:
    return int(getattr(settings, "FORUM_POSTS_PER_PAGE", 20))


def topics_per_page() -> int:
    return int(getattr(settings, "FORUM_TOPICS_PER_PAGE", 30))


def _member(user: Viewer) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def _uid(user: Viewer) -> int:
    """The viewer's id (0 for a visitor: matches no row)."""
    return int(user.pk or 0)


def new_since(user: Viewer) -> dt.datetime:
    """Topics created after this are "new" to ``user`` (if not opened)."""
    since = timezone.now() - dt.timedelta(days=NEW_TOPIC_DAYS)
    joined = getattr(user, "date_joined", None)
    return max(since, joined) if joined else since


def _muted(user: Viewer) -> Q:
    """Topics ``user`` muted, or in a category they muted (a Q on Topic)."""
    return Q(
        Exists(
            TopicWatch.objects.filter(
                user_id=_uid(user), topic=OuterRef("pk"), level=WatchLevel.MUTED
            )
        )
    ) | Q(
        Exists(
            CategoryWatch.objects.filter(
                user_id=_uid(user), category=OuterRef("category_id"), level=WatchLevel.MUTED
            )
        )
    )


def _with_read_state(qs: QuerySet[Topic], user: Viewer) -> QuerySet[Topic]:
    """Join the viewer's read state: ``my_read`` (alias) and ``my_last_read`` (or None)."""
    return qs.alias(
        my_read=FilteredRelation("read_states", condition=Q(read_states__user=user))
    ).annotate(my_last_read=F("my_read__last_read_number"))


def _unread_q(user: Viewer) -> Q:
    return Q(my_read__isnull=False, my_read__last_read_number__lt=F("last_post_number"))


def _new_q(user: Viewer) -> Q:
    return Q(my_read__isnull=True, created_at__gte=new_since(user)) & ~Q(author_id=user.pk)


# --- the index ---------------------------------------------------------------------------------
def category_index(user: Viewer) -> list[Category]:
    """Top-level categories ``user`` may read, in order, each with ``subcategories`` (one
    level), its latest topic (``last_topic_id``, ``last_topic_title``,
    ``last_topic_slug``) and, for members, ``unread_count`` and ``new_count``. Two
    queries (three with the viewer's counts)."""
    latest = (
        Topic.objects.filter(category=OuterRef("pk"), is_deleted=False, merged_into__isnull=True)
        .order_by("-last_posted_at", "-pk")
        .values
    )
    categories = list(
        access.categories_visible_to(user)
        .annotate(
            last_topic_id=Subquery(latest("pk")[:1]),
            last_topic_title=Subquery(latest("title")[:1]),
            last_topic_slug=Subquery(latest("slug")[:1]),
        )
        .order_by("position", "name", "pk")
    )
    counts = category_reader_counts(user)
    by_id = {c.pk: c for c in categories}
    top: list[Category] = []
    for category in categories:
        category.unread_count, category.new_count = counts.get(category.pk, (0, 0))  # type: ignore[attr-defined]
        category.subcategories = []  # type: ignore[attr-defined]
    for category in categories:
        parent = by_id.get(category.parent_id) if category.parent_id else None
        if parent is not None:
            parent.subcategories.append(category)  # type: ignore[attr-defined]
        else:
            top.append(category)
    return top


def category_reader_counts(user: Viewer) -> dict[int, tuple[int, int]]:
    """{category id: (unread topics, new topics)} for ``user``, in one query. Empty for
    anonymous visitors."""
    if not _member(user):
        return {}
    qs = _with_read_state(access.topics_visible_to(user), user)
    rows = (
        qs.filter(Q(my_read__isnull=False) | Q(created_at__gte=new_since(user)))
        .exclude(_muted(user))
        .values("category_id")
        .annotate(
            unread=Count("pk", filter=_unread_q(user)),
            new=Count("pk", filter=_new_q(user)),
        )
        .order_by()
    )
    return {row["category_id"]: (row["unread"], row["new"]) for row in rows}


def category_get_for_user(*, slug: str, user: Viewer) -> Category:
    """The category ``slug`` with its parent and subcategories, or Http404 (also when
    ``user`` may not read it)."""
    category = (
        access.categories_visible_to(user)
        .select_related("parent")
        .prefetch_related(
            Prefetch(
                "children",
                queryset=access.categories_visible_to(user).order_by("position", "name"),
                to_attr="subcategories",
            )
        )
        .filter(slug=slug)
        .first()
    )
    if category is None:
        raise Http404(_("No such category."))
    return category


def skill_get(*, slug: str) -> Skill:
    skill = Skill.objects.filter(slug=slug, is_active=True).select_related("area").first()
    if skill is None:
        raise Http404(_("No such tag."))
    return skill


# --- topic lists -------------------------------------------------------------------------------
def topic_list(
    *,
    user: Viewer,
    sort: str = Sort.LATEST,
    list_filter: str = "",
    category: Category | None = None,
    skill: Skill | None = None,
    pinned_first: bool = False,
) -> QuerySet[Topic]:
    """Topics ``user`` may read, sorted (``Sort``), optionally only the viewer's new or
    unread ones (``ListFilter``), in a category (with its subcategories) or with a tag.
    Each topic carries ``my_last_read`` (None if never opened, or for visitors); use
    ``topics_mark_for_reader`` on the page to set ``unread_count`` and ``is_new``."""
    if sort not in Sort.values:
        raise ValueError(f"unknown sort {sort!r}")
    if list_filter and list_filter not in ListFilter.values:
        raise ValueError(f"unknown filter {list_filter!r}")
    qs = access.topics_visible_to(user).select_related(
        "category", "author__profile", "last_poster__profile"
    )
    qs = qs.prefetch_related(
        Prefetch("skills", queryset=Skill.objects.only("pk", "slug", "name").order_by("name"))
    )
    if category is not None:
        qs = qs.filter(Q(category=category) | Q(category__parent=category))
    if skill is not None:
        qs = qs.filter(skill_tags__skill=skill)
    if _member(user):
        qs = _with_read_state(qs, user)
        if list_filter:
            qs = qs.exclude(_muted(user))
            qs = qs.filter(_unread_q(user) if list_filter == ListFilter.UNREAD else _new_q(user))
    elif list_filter:
        qs = qs.none()
    if sort == Sort.UNANSWERED:
        qs = qs.filter(
            Q(kind=TopicKind.QUESTION, accepted_post__isnull=True)
            | Q(kind=TopicKind.DISCUSSION, reply_count=0)
        )
    order = (
        ["-reaction_count", "-reply_count", "-last_posted_at", "-pk"]
        if sort == Sort.TOP
        else ["-last_posted_at", "-pk"]
    )
    return qs.order_by(*(["-is_pinned"] if pinned_first else []), *order)


def topics_mark_for_reader(topics: list[Topic], user: Viewer) -> list[Topic]:
    """Set ``unread_count`` (posts after the read position, 0 if none or never opened)
    and ``is_new`` on each topic of a page from ``topic_list``. No query."""
    since = new_since(user) if _member(user) else None
    for topic in topics:
        last_read = getattr(topic, "my_last_read", None)
        topic.unread_count = (  # type: ignore[attr-defined]
            max(topic.last_post_number - last_read, 0) if last_read is not None else 0
        )
        topic.is_new = bool(  # type: ignore[attr-defined]
            since is not None
            and last_read is None
            and topic.created_at >= since
            and topic.author_id != user.pk
        )
    return topics


def paginate(qs: QuerySet[Any], page: int | str | None, per_page: int) -> Page[Any]:
    """One page; a missing or non-numeric page is the first, a page past the end the last."""
    return Paginator(qs, per_page).get_page(page)


# --- the topic page ----------------------------------------------------------------------------
def topic_get_for_user(
    *, pk: int, user: Viewer, merged: bool = False, reader_state: bool = False
) -> Topic:
    """The topic with its category (and parent) and skills, or Http404 when it does not
    exist, is deleted or ``user`` may not read it. With ``merged=True`` a topic merged
    into another is returned too (the caller redirects to ``merged_into``). With
    ``reader_state=True`` (the topic page) the member's read position, watch level,
    whether they have a draft and whether they are a moderator come in the same query
    (``read_position``, ``topic_page`` and ``access.is_moderator`` then need no query of
    their own for them)."""
    annotate = reader_state and _member(user)
    values: dict[str, int] = {"pk": int(pk), "uid": _uid(user)} if annotate else {"pk": int(pk)}
    build = functools.partial(_topic_query, merged_into=not reader_state)
    found = compiled.run(("forums.topic", reader_state, annotate), build, values)
    topic: Topic | None = found[0] if found else None
    if topic is not None:
        # the skills, cached as ``prefetch_related("skills")`` caches them (the related
        # manager's queryset, its results filled in), from one compiled query
        skills = topic.skills.get_queryset()
        skills._result_cache = compiled.run("forums.topic.skills", _topic_skills, {"pk": topic.pk})
        skills._prefetch_done = True  # type: ignore[attr-defined]
        topic._prefetched_objects_cache = {"skills": skills}  # type: ignore[attr-defined]
    if topic is not None and hasattr(topic, "reader_holds_moderate"):
        access.moderator_known(user, topic.reader_holds_moderate)
    if topic is None or topic.is_deleted or not access.can_see_category(user, topic.category):
        raise Http404(_("No such topic."))
    if topic.merged_into_id is not None and not merged:
        raise Http404(_("No such topic."))
    return topic


def _topic_query(*, pk: int, uid: int | None = None, merged_into: bool = True) -> QuerySet[Topic]:
    """``topic_get_for_user``'s query (compiled once: see community/compiled.py). With
    ``uid`` it carries the member's read position, watch level, draft and moderator
    permission; with ``merged_into``, what redirecting a merged topic needs."""
    related = ["category__parent", "author__profile"]
    if merged_into:
        related.append("merged_into__category")
    qs = Topic.objects.select_related(*related)
    if uid is not None:
        qs = qs.annotate(
            reader_has_draft=Exists(Draft.objects.filter(user_id=uid, topic=OuterRef("pk"))),
            reader_holds_moderate=access.moderator_subquery(uid),
            reader_last_read=Subquery(
                ReadState.objects.filter(user_id=uid, topic=OuterRef("pk")).values(
                    "last_read_number"
                )[:1]
            ),
            reader_watch_level=Subquery(
                TopicWatch.objects.filter(user_id=uid, topic=OuterRef("pk")).values("level")[:1]
            ),
        )
    return qs.filter(pk=pk).order_by()[:1]


def _topic_skills(*, pk: int) -> QuerySet[Skill]:
    return Skill.objects.filter(forum_tags__topic_id=pk).order_by("name")


def _visible_posts(topic: Topic, user: Viewer) -> QuerySet[Post]:
    return Post.objects.filter(access.post_visible_q(user), topic=topic)


def read_position(*, topic: Topic, user: Viewer) -> int | None:
    """The viewer's read position in ``topic`` (None: never opened, or a visitor)."""
    if not _member(user):
        return None
    if hasattr(topic, "reader_last_read"):  # loaded with the topic (reader_state=True)
        return topic.reader_last_read
    return (
        ReadState.objects.filter(user_id=_uid(user), topic=topic)
        .values_list("last_read_number", flat=True)
        .first()
    )


@dataclass(frozen=True)
class PostCounts:
    visible: int  # posts of the topic the viewer sees
    first_unread_number: int | None  # the first visible one after the read position
    unread_page: int  # the page it is on (1 without one)


def topic_post_counts(*, topic: Topic, user: Viewer, last_read: int | None) -> PostCounts:
    """How many posts of ``topic`` the viewer sees and where their first unread one is,
    in one query (the topic page's paginator takes the count from here)."""
    after = last_read if last_read is not None else topic.last_post_number + 1
    kind, values = _viewer_values(user)
    rows = compiled.run(
        ("forums.post_counts", kind),
        functools.partial(_counts_query, kind=kind),
        {"topic": topic.pk, "after": after, **values},
    )
    visible, before, first = rows[0] if rows else (0, 0, None)
    first = first if last_read is not None else None
    page = before // posts_per_page() + 1 if first is not None else 1
    return PostCounts(visible=visible, first_unread_number=first, unread_page=page)


def _viewer_values(user: Viewer) -> tuple[str, dict[str, int]]:
    """The viewer's kind (what the visibility filter differs by) and, for a member,
    their id: the values of the compiled post queries."""
    kind = access.viewer_kind(user)
    return kind, ({"uid": _uid(user)} if kind == "member" else {})


def _counts_query(*, topic: int, after: int, uid: int = 0, kind: str = "") -> QuerySet[Any]:
    return (
        Post.objects.filter(access.post_visible_q_for(kind, uid), topic_id=topic)
        .order_by()
        .values("topic_id")
        .annotate(
            visible=Count("pk"),
            before=Count("pk", filter=Q(number__lte=after)),
            first=Min("number", filter=Q(number__gt=after)),
        )
        .values_list("visible", "before", "first")
    )


def post_get_for_user(*, pk: int, user: Viewer) -> Post:
    """A post ``user`` may see (its topic readable, the post not deleted, not hidden
    unless author or moderator), with its topic; else Http404."""
    post = Post.objects.select_related("topic__category").filter(pk=pk).first()
    if (
        post is None
        or not access.can_see_topic(user, post.topic)
        or not _visible_posts(post.topic, user).filter(pk=post.pk).exists()
    ):
        raise Http404(_("No such post."))
    return post


def post_page_number(*, post: Post, user: Viewer) -> int:
    """The page of its topic ``post`` is on, for ``user`` (who sees maybe fewer posts)."""
    before = _visible_posts(post.topic, user).filter(number__lt=post.number).count()
    return before // posts_per_page() + 1


# marks in the page's one query of the viewer's reactions, bookmarks and flags (not
# reaction kinds)
_BOOKMARKED, _FLAGGED = "+bookmarked", "+flagged"


@dataclass
class TopicPage:
    topic: Topic
    page_obj: Page[Any]
    posts: list[Post]
    last_read: int | None
    watch_level: str = ""
    draft: Draft | None = None
    perms: dict[str, bool] = field(default_factory=dict)


class _CountedPaginator(Paginator):
    """A paginator told its count (``count`` is a cached property: filled in here)."""

    def __init__(self, object_list: Any, per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self.__dict__["count"] = count


def _page_posts(topic: Topic, user: Viewer) -> QuerySet[Post]:
    kind, values = _viewer_values(user)
    return _page_posts_query(topic=topic.pk, kind=kind, **values)


def _page_posts_query(*, topic: int, uid: int = 0, kind: str = "") -> QuerySet[Post]:
    """The visible posts of a topic as its pages show them, by ids (the compiled path
    builds it once for every topic). The posts alone (no joins: a seven-way join cost
    PostgreSQL more to plan than to run), then their people in one query; the page
    shows body_html only."""
    return (
        Post.objects.filter(access.post_visible_q_for(kind, uid), topic_id=topic)
        .annotate(reply_to_number=F("reply_to__number"))
        .defer("body", "body_text")
        .order_by("number")
    )


class _PagePosts:
    """The topic's visible posts for the paginator: a slice is one compiled query
    (LIMIT and OFFSET as parameters)."""

    def __init__(self, topic: Topic, user: Viewer) -> None:
        self.topic = topic
        self.kind, self.values = _viewer_values(user)

    def __getitem__(self, window: slice) -> list[Post]:
        offset = window.start or 0
        return compiled.run(
            ("forums.page_posts", self.kind),
            functools.partial(_page_posts_query, kind=self.kind),
            {"topic": self.topic.pk, **self.values},
            window=(offset, window.stop - offset),
        )


def _people_query(*, ids: list[int]) -> QuerySet[User]:
    return (
        User.objects.filter(pk__in=ids)
        .select_related("profile", "forum_stats")
        .defer("profile__bio", "profile__bio_html")
    )


def _marks_query(*, uid: int, ids: list[int]) -> QuerySet[Any]:
    """The viewer's reactions, bookmarks and open flags on the page's posts."""
    return (
        Reaction.objects.filter(user_id=uid, post_id__in=ids)
        .order_by()
        .values_list("post_id", "kind")
        .union(
            Bookmark.objects.filter(user_id=uid, post_id__in=ids)
            .order_by()
            .annotate(mark=Value(_BOOKMARKED))
            .values_list("post_id", "mark"),
            Flag.objects.filter(flagged_by_id=uid, post_id__in=ids, status=FlagStatus.OPEN)
            .order_by()
            .annotate(mark=Value(_FLAGGED))
            .values_list("post_id", "mark"),
            all=True,
        )
    )


def _with_viewer_state(posts: list[Post], *, topic: Topic, user: Viewer) -> list[Post]:
    """Attach to each post what the page shows of it (see ``topic_page``): a constant
    number of queries for any number of posts."""
    ids = [p.pk for p in posts]
    people_ids = {p.author_id for p in posts} | {
        p.expert_verified_by_id for p in posts if p.expert_verified_by_id
    }
    found = (
        compiled.run("forums.page_people", _people_query, {"ids": sorted(people_ids)})
        if people_ids
        else []
    )
    people = {u.pk: u for u in found}
    for post in posts:
        post.author = people[post.author_id]
        if post.expert_verified_by_id:
            post.expert_verified_by = people.get(post.expert_verified_by_id)
    member = _member(user)
    reactions: dict[int, set[str]] = {}
    bookmarked: set[int] = set()
    flagged: set[int] = set()
    if member and ids:
        # the viewer's reactions, bookmarks and open flags on the page: one query
        marks = compiled.run("forums.page_marks", _marks_query, {"uid": _uid(user), "ids": ids})
        for post_id, mark in marks:
            if mark == _BOOKMARKED:
                bookmarked.add(post_id)
            elif mark == _FLAGGED:
                flagged.add(post_id)
            else:
                reactions.setdefault(post_id, set()).add(mark)
    for post in posts:
        post.topic = topic
        post.author_stats = getattr(post.author, "forum_stats", None)  # type: ignore[attr-defined]
        post.my_reactions = reactions.get(post.pk, set())  # type: ignore[attr-defined]
        post.is_bookmarked = post.pk in bookmarked  # type: ignore[attr-defined]
        post.my_flagged = post.pk in flagged  # type: ignore[attr-defined]
        post.can_edit = access.can_edit_post(user, post)  # type: ignore[attr-defined]
        post.is_accepted = post.pk == topic.accepted_post_id  # type: ignore[attr-defined]
    return posts


def topic_perms(*, topic: Topic, user: Viewer) -> dict[str, bool]:
    """What ``user`` may do on the topic page (no query once ``is_moderator`` is known)."""
    return {
        "is_moderator": access.is_moderator(user),
        "can_reply": access.can_post_in(user, topic),
        "can_accept": access.can_accept_answer(user, topic),
        "can_verify": access.can_verify_answer(user),
    }


def topic_post_for_viewer(*, pk: int, user: Viewer) -> tuple[Topic, Post]:
    """Post ``pk`` and its topic as the topic page shows them to ``user`` (a reply that
    arrived live, so forum.js can show it with the viewer's controls), or Http404 when
    it is missing or the viewer may not see it."""
    topic_id = Post.objects.filter(pk=pk).values_list("topic_id", flat=True).first()
    if topic_id is None:
        raise Http404(_("No such post."))
    topic = topic_get_for_user(pk=topic_id, user=user, reader_state=True)
    post = _page_posts(topic, user).filter(pk=pk).first()
    if post is None:
        raise Http404(_("No such post."))
    return topic, _with_viewer_state([post], topic=topic, user=user)[0]


def topic_page(
    *, topic: Topic, user: Viewer, page: int | str | None, visible_count: int | None = None
) -> TopicPage:
    """One page of ``topic`` for ``user`` with everything the page and its includes
    show, in a constant number of queries. Each post carries ``topic`` (the same
    object), ``author`` with ``profile`` and ``forum_stats`` (``author_stats`` is the
    MemberStats or None), ``reply_to_number``, ``my_reactions``, ``is_bookmarked``,
    ``my_flagged``, ``can_edit`` and ``is_accepted``."""
    if visible_count is None:
        page_obj = paginate(_page_posts(topic, user), page, posts_per_page())
    else:  # counted already (topic_post_counts)
        paginator = _CountedPaginator(
            _PagePosts(topic, user), posts_per_page(), count=visible_count
        )
        page_obj = paginator.get_page(page)
    posts = _with_viewer_state(list(page_obj.object_list), topic=topic, user=user)
    result = TopicPage(
        topic=topic,
        page_obj=page_obj,
        posts=posts,
        last_read=read_position(topic=topic, user=user),
        perms=topic_perms(topic=topic, user=user),
    )
    if _member(user):
        if hasattr(topic, "reader_watch_level"):  # loaded with the topic
            result.watch_level = topic.reader_watch_level or ""
        else:
            result.watch_level = (
                TopicWatch.objects.filter(user_id=_uid(user), topic=topic)
                .values_list("level", flat=True)
                .first()
                or ""
            )
        result.draft = (
            None
            if getattr(topic, "reader_has_draft", True) is False
            else (
                Draft.objects.filter(user_id=_uid(user), topic=topic)
                .select_related("reply_to")
                .first()
            )
        )
    return result


# --- bookmarks ---------------------------------------------------------------------------------
def bookmarks_for_user(*, user: Viewer) -> QuerySet[Bookmark]:
    """The member's bookmarks on posts they can still see, newest first."""
    if not _member(user):
        return Bookmark.objects.none()
    visible_topics = access.topics_visible_to(user).values("pk")
    return (
        Bookmark.objects.filter(user_id=_uid(user), post__topic__in=visible_topics)
        .filter(access.post_visible_q(user, "post__"))
        .select_related("post__topic__category", "post__author__profile")
        .order_by("-created_at", "-pk")
    )


def bookmark_get_for_user(*, pk: int, user: Viewer) -> Bookmark:
    bookmark = bookmarks_for_user(user=user).filter(pk=pk).first()
    if bookmark is None:
        raise Http404(_("No such bookmark."))
    return bookmark
