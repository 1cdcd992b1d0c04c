"""Forum search: full-text over the posts a viewer may read, with filters and ranking.

PostgreSQL: a stored generated ``search_vector`` column on posts (migration
0002_search_index; its GIN index was dropped in 0005, the documents below have their
own), configuration ``'english'`` (stemming and English stop
words; the community writes mostly in English, and 'english' still finds product names
and abbreviations such as CHO, AAV or HCP, which it leaves unstemmed). Queries use
``websearch_to_tsquery``, so people can type what they would type into a web search
engine: words (all must match), ``"a phrase"``, ``or``, ``-excluded``. Ranking is
``ts_rank`` (normalised by document length) where the topic title, weighted 'A' in the
opening post's vector, counts ten times a body word; accepted answers rank x1.5 and
expert-verified posts x1.3. Excerpts come from ``ts_headline``. ``ts_rank`` reads the
vector of every row it ranks, so a very common word would make a search cost grow with
the forum: at most the newest ``RANK_CANDIDATES`` (2,000) matching posts are ranked;
the count of results stays exact.

PostgreSQL searches the search documents (migrations 0003, 0004): one narrow row per
findable post, kept by triggers, with the vector and what search filters and ranks on
(topic, category, topic liveness, author, date, accepted and verified flags). Counting
the topics of 32,000 matching posts through the posts table meant reading nearly all of
its 1.5 KB rows; the documents are a third of the size and need no join for visibility.
A search is two queries over them: one pass through the GIN index for the exact
count and the ranking candidates, then the ranking of the candidates and the page.

SQLite (the embedded default) has no full-text index: every term must appear in the
post (``icontains``), quoted phrases count as one term and ``-word`` excludes; the score
counts term occurrences, plus 5 per term in the topic title, with the same boosts. The
excerpt is cut around the first match in Python.

Either way excerpts are built as plain text with invisible markers around the matches,
then HTML-escaped, and only then are the markers turned into ``<mark>``: member text
never reaches the page as HTML.

Visibility: only posts in topics the viewer may read (``access.topics_visible_to``) and
that the viewer may read (``access.post_visible_q``); hidden posts are never found, not
even by their author or a moderator (they reach them on the topic page or the review
queue), and deleted ones never.

Results come grouped by topic (each topic once, with its best-matching post) or one per
post. ``forum_search`` returns a lazy sequence with ``count()`` and slicing, so Django's
``Paginator`` and DRF's pagination page it: a page costs a count, the page's ids and
one fetch of those posts with their topics and tags (SQLite: plus one for the tags),
whatever the number of hits.
"""

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import (
    Case,
    F,
    FloatField,
    Q,
    QuerySet,
    Value,
    When,
    Window,
)
from django.db.models.functions import Cast, Length, Lower, Replace, RowNumber
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from community.forums import access
from community.forums.models import Category, Post, Topic, TopicKind, TopicSkill
from community.models import Profile, Skill, User

SEARCH_CONFIG = "english"
QUERY_MAX = 200
PAGE_SIZE = 20
ACCEPTED_BOOST = 1.5
VERIFIED_BOOST = 1.3
TITLE_TERM_SCORE = 5  # SQLite: a term in the title counts as five in the body
EXCERPT_CHARS = 240  # SQLite excerpt length
RANK_CANDIDATES = 2000  # PostgreSQL: matches ranked at most (the newest)
MARK_OPEN, MARK_CLOSE = "\x02", "\x03"  # around matches until the text is escaped

GROUPS = ("topic", "post")
ORDERS = ("relevance", "newest")
STATUSES = ("solved", "unsolved")
FIELDS = ("q", "category", "tag", "author", "status", "after", "before", "kind", "group", "order")


@dataclass(frozen=True)
class SearchParams:
    q: str
    category: Category | None = None
    category_ids: tuple[int, ...] = ()  # the category and its visible children
    tag: Skill | None = None
    author: User | None = None
    status: str = ""  # "", "solved", "unsolved" (question topics only)
    after: dt.date | None = None  # posted on or after
    before: dt.date | None = None  # posted on or before
    kind: str = ""  # "", "discussion", "question"
    group: str = "topic"
    order: str = "relevance"

    def filters(self) -> dict[str, str]:
        """The non-empty filters as query-string values (for links and the API)."""
        values = {
            "category": self.category.slug if self.category else "",
            "tag": self.tag.slug if self.tag else "",
            "author": self.author.username if self.author else "",
            "status": self.status,
            "after": self.after.isoformat() if self.after else "",
            "before": self.before.isoformat() if self.before else "",
            "kind": self.kind,
            "group": "" if self.group == "topic" else self.group,
            "order": "" if self.order == "relevance" else self.order,
        }
        return {key: value for key, value in values.items() if value}


@dataclass
class SearchHit:
    post: Post
    topic: Topic
    rank: float
    excerpt_html: SafeString
    title_html: SafeString
    skills: list[Skill]  # the topic's tags, in catalogue order


# --- input -----------------------------------------------------------------------------------
_TOKEN = re.compile(r'(-?)"([^"]*)"|(\S+)')


def query_terms(q: str) -> tuple[list[str], list[str]]:
    """The words and phrases a query asks for, and the ones it excludes (``-word``), in
    lower case, the way ``websearch_to_tsquery`` reads them (``or`` is an operator)."""
    wanted: list[str] = []
    excluded: list[str] = []
    for match in _TOKEN.finditer(q):
        negated, phrase, word = match.group(1), match.group(2), match.group(3)
        if phrase is not None:
            term = " ".join(phrase.split()).lower()
        else:
            negated = "-" if word.startswith("-") else ""
            term = word.lstrip("-").strip("\"'()").lower()
            if term == "or":
                continue
        if term:
            (excluded if negated else wanted).append(term)
    return list(dict.fromkeys(wanted)), list(dict.fromkeys(excluded))


def _date(value: str, field: str, errors: dict[str, list[str]]) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        errors[field] = [_("Enter a date as YYYY-MM-DD, for example 2026-03-31.")]
        return None


def search_params_clean(*, viewer: access.Viewer, data: Mapping[str, Any]) -> SearchParams:
    """Read and check a search request (the page's GET form or the API's query string).
    Raises ValidationError with a message per field; unknown categories (including ones
    the viewer may not read), tags and members are errors, never silently ignored."""
    raw = {name: " ".join(str(data.get(name) or "").split()) for name in FIELDS}
    errors: dict[str, list[str]] = {}
    q = raw["q"]
    if not q:
        errors["q"] = [_("Type a word or two to search for.")]
    elif len(q) > QUERY_MAX:
        errors["q"] = [
            _("Keep the search under %(max)d characters (yours has %(n)d).")
            % {"max": QUERY_MAX, "n": len(q)}
        ]
    elif not query_terms(q)[0]:
        errors["q"] = [_("Say what to look for: a search of only excluded words finds nothing.")]

    category: Category | None = None
    category_ids: tuple[int, ...] = ()
    if raw["category"]:
        found = list(
            access.categories_visible_to(viewer)
            .filter(Q(slug=raw["category"]) | Q(parent__slug=raw["category"]))
            .order_by()
        )
        category = next((c for c in found if c.slug == raw["category"]), None)
        if category is None:
            errors["category"] = [_("There is no category “%(slug)s”.") % {"slug": raw["category"]}]
        else:
            category_ids = tuple(sorted(c.pk for c in found))
    tag = None
    if raw["tag"]:
        tag = Skill.objects.filter(slug=raw["tag"], is_active=True).first()
        if tag is None:
            errors["tag"] = [_("There is no tag “%(slug)s”.") % {"slug": raw["tag"]}]
    author = None
    if raw["author"]:
        author = User.objects.filter(username=raw["author"].lstrip("@"), is_active=True).first()
        if author is None:
            errors["author"] = [_("No member is called “%(name)s”.") % {"name": raw["author"]}]
    if raw["status"] and raw["status"] not in STATUSES:
        errors["status"] = [_("Choose “solved” or “unsolved”.")]
    if raw["kind"] and raw["kind"] not in TopicKind.values:
        errors["kind"] = [_("Choose “discussion” or “question”.")]
    if raw["group"] and raw["group"] not in GROUPS:
        errors["group"] = [_("Choose “topic” or “post”.")]
    if raw["order"] and raw["order"] not in ORDERS:
        errors["order"] = [_("Choose “relevance” or “newest”.")]
    after = _date(raw["after"], "after", errors)
    before = _date(raw["before"], "before", errors)
    if after and before and after > before:
        errors["before"] = [_("“Before” cannot be earlier than “after”.")]
    if errors:
        raise ValidationError(errors)
    return SearchParams(
        q=q,
        category=category,
        category_ids=category_ids,
        tag=tag,
        author=author,
        status=raw["status"],
        after=after,
        before=before,
        kind=raw["kind"],
        group=raw["group"] or "topic",
        order=raw["order"] or "relevance",
    )


# --- the query -------------------------------------------------------------------------------
def uses_postgres() -> bool:
    return connection.vendor == "postgresql"


def _visible_posts(viewer: access.Viewer, params: SearchParams) -> QuerySet[Post]:
    posts = Post.objects.filter(
        access.post_visible_q(viewer),
        is_hidden=False,
        topic__in=access.topics_visible_to(viewer),
    )
    if params.category_ids:
        posts = posts.filter(topic__category_id__in=params.category_ids)
    if params.tag is not None:
        posts = posts.filter(
            topic_id__in=TopicSkill.objects.filter(skill=params.tag).values("topic")
        )
    if params.author is not None:
        posts = posts.filter(author=params.author)
    if params.kind:
        posts = posts.filter(topic__kind=params.kind)
    if params.status:
        posts = posts.filter(
            topic__kind=TopicKind.QUESTION,
            topic__accepted_post__isnull=params.status == "unsolved",
        )
    zone = timezone.get_current_timezone()
    if params.after:
        start = dt.datetime.combine(params.after, dt.time.min, tzinfo=zone)
        posts = posts.filter(created_at__gte=start)
    if params.before:
        end = dt.datetime.combine(params.before + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
        posts = posts.filter(created_at__lt=end)
    return posts.order_by()


def _boost() -> Case:
    return Case(
        When(topic__accepted_post=F("pk"), then=Value(ACCEPTED_BOOST)),
        When(expert_verified_at__isnull=False, then=Value(VERIFIED_BOOST)),
        default=Value(1.0),
        output_field=FloatField(),
    )


def _occurrences(term: str) -> Any:
    lowered = Lower("body_text")
    return (Length(lowered) - Length(Replace(lowered, Value(term), Value("")))) / len(term)


def _matching(
    viewer: access.Viewer, params: SearchParams, *, ranked: bool = True
) -> QuerySet[Post]:
    """SQLite: the visible posts that match, annotated with ``rank`` (unless ``ranked``
    is false: for counting). PostgreSQL searches the search documents instead (below)."""
    posts = _visible_posts(viewer, params)
    wanted, excluded = query_terms(params.q)
    for term in wanted:
        posts = posts.filter(body_text__icontains=term)
    for term in excluded:
        posts = posts.exclude(body_text__icontains=term)
    score: Any = Value(0.0)
    for term in wanted:
        score = score + _occurrences(term)
        score = score + Case(
            When(number=1, topic__title__icontains=term, then=Value(TITLE_TERM_SCORE)),
            default=Value(0),
        )
    return posts.annotate(rank=Cast(score, FloatField()) * _boost())


def _ordered(posts: QuerySet[Post], params: SearchParams) -> QuerySet[Post]:
    order = (
        [F("rank").desc(), F("pk").desc()]
        if params.order == "relevance"
        else [F("created_at").desc(), F("pk").desc()]
    )
    if params.group == "topic":
        posts = posts.annotate(
            best=Window(RowNumber(), partition_by=[F("topic_id")], order_by=order)
        ).filter(best=1)
    return posts.order_by(*order)


# --- excerpts --------------------------------------------------------------------------------
def marked_html(text: str) -> SafeString:
    """Escape ``text`` and turn the match markers into balanced ``<mark>`` elements."""
    out: list[str] = []
    is_open = False
    for piece in re.split(f"([{MARK_OPEN}{MARK_CLOSE}])", text):
        if piece == MARK_OPEN:
            if not is_open:
                out.append("<mark>")
                is_open = True
        elif piece == MARK_CLOSE:
            if is_open:
                out.append("</mark>")
                is_open = False
        else:
            out.append(escape(piece))
    if is_open:
        out.append("</mark>")
    return mark_safe("".join(out))  # noqa: S308 - every piece of text is escaped above


def _mark_terms(text: str, terms: list[str]) -> str:
    text = text.replace(MARK_OPEN, "").replace(MARK_CLOSE, "")
    if not terms:
        return text
    pattern = re.compile(
        "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)), re.IGNORECASE
    )
    return pattern.sub(lambda m: f"{MARK_OPEN}{m.group(0)}{MARK_CLOSE}", text)


def text_excerpt(text: str, terms: list[str], *, size: int = EXCERPT_CHARS) -> SafeString:
    """About ``size`` characters of ``text`` around the first match of ``terms``, with
    the matches marked (the SQLite excerpt)."""
    lowered = text.lower()
    positions = [p for p in (lowered.find(t) for t in terms) if p >= 0]
    first = min(positions, default=0)
    start = max(0, first - size // 3)
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < first else start
    end = min(len(text), start + size)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > first else end
    piece = text[start:end].strip()
    marked = _mark_terms(piece, terms)
    return marked_html(("… " if start else "") + marked + (" …" if end < len(text) else ""))


def _body_without_title(post: Post) -> str:
    if post.number == 1:
        return post.body_text.split("\n", 1)[-1]
    return post.body_text


# --- PostgreSQL: the search documents -------------------------------------------------------
DOC_TABLE = "forums_post_search_doc"  # migration 0003: one row per findable post
DOC_INDEX = "forum_post_search_doc_vector"
_TSQUERY = f"websearch_to_tsquery('{SEARCH_CONFIG}'::regconfig, %s)"


def _doc_where(viewer: access.Viewer, params: SearchParams) -> tuple[str, list[Any]]:
    """The WHERE clause over the search documents ``d``: the query; the viewer's
    visibility (``access.topics_visible_to``: a live topic in a category the viewer may
    read, the categories compiled by the ORM from ``access``); the topic filters (a
    subquery on the topics, only when asked for) and the post filters. Documents exist
    only for posts that are neither deleted nor hidden (migrations 0003 and 0004)."""
    categories = access.categories_visible_to(viewer).order_by().values("pk")
    category_sql, category_params = categories.query.sql_with_params()
    where = [
        f"d.search_vector @@ {_TSQUERY}",
        "d.topic_live",
        f"d.category_id IN ({category_sql})",
    ]
    values: list[Any] = [params.q, *category_params]
    if params.category_ids:
        where.append("d.category_id = ANY(%s)")
        values.append(list(params.category_ids))
    if params.tag is not None or params.kind or params.status:
        topics = Topic.objects.all()
        if params.tag is not None:
            tagged = TopicSkill.objects.filter(skill=params.tag).values("topic")
            topics = topics.filter(pk__in=tagged)
        if params.kind:
            topics = topics.filter(kind=params.kind)
        if params.status:
            topics = topics.filter(
                kind=TopicKind.QUESTION, accepted_post__isnull=params.status == "unsolved"
            )
        topic_sql, topic_params = topics.order_by().values("pk").query.sql_with_params()
        where.append(f"d.topic_id IN ({topic_sql})")
        values.extend(topic_params)
    if params.author is not None:
        where.append("d.author_id = %s")
        values.append(params.author.pk)
    zone = timezone.get_current_timezone()
    if params.after:
        where.append("d.created_at >= %s")
        values.append(dt.datetime.combine(params.after, dt.time.min, tzinfo=zone))
    if params.before:
        where.append("d.created_at < %s")
        end = dt.datetime.combine(params.before + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
        values.append(end)
    return " AND ".join(where), values


# Every piece put into these statements with an f-string is a constant of this module, a
# choice between constants, or SQL compiled by the ORM; every value is a parameter.
def _match_sql(viewer: access.Viewer, params: SearchParams) -> tuple[str, list[Any]]:
    """One pass over the matches (a bitmap scan of the GIN index on the narrow search
    documents): the exact count (distinct topics, or posts) and the ids of the newest
    ``RANK_CANDIDATES`` matching posts, the ones that get ranked."""
    where, values = _doc_where(viewer, params)
    counted = "count(DISTINCT d.topic_id)" if params.group == "topic" else "count(*)"
    newest = "(array_agg(d.post_id ORDER BY d.post_id DESC))[1:%s]"
    sql = f"SELECT {counted} AS n, {newest} AS ids FROM {DOC_TABLE} d WHERE {where}"  # noqa: S608
    return sql, [RANK_CANDIDATES, *values]


def _page_sql(
    params: SearchParams, start: int, stop: int | None, *, ids: str = "%s"
) -> tuple[str, list[Any]]:
    """Rank the candidates (``ts_rank`` with the boosts; each topic's best post when
    grouped) and return one page of (post id, rank, position). ``ids`` is the SQL of
    the candidates' id array: a parameter (given after the query text's one) or a
    column of the match query."""
    score = (
        f"ts_rank(d.search_vector, {_TSQUERY}, 1) * CASE"
        f" WHEN d.is_accepted THEN {ACCEPTED_BOOST}"
        f" WHEN d.is_verified THEN {VERIFIED_BOOST} ELSE 1.0 END"
    )
    if params.order == "relevance":
        order = "score DESC, post_id DESC"
    else:
        order = "created_at DESC, post_id DESC"
    ranked = (
        f"SELECT d.post_id, d.topic_id, d.created_at, {score} AS score "  # noqa: S608
        f"FROM {DOC_TABLE} d WHERE d.post_id = ANY({ids})"
    )
    if params.group == "topic":
        ranked = f"SELECT DISTINCT ON (topic_id) * FROM ({ranked}) r ORDER BY topic_id, {order}"  # noqa: S608
    sql = (
        f"SELECT post_id, score, row_number() OVER (ORDER BY {order}) AS pos "  # noqa: S608
        f"FROM ({ranked}) best ORDER BY {order} LIMIT %s OFFSET %s"
    )
    limit = None if stop is None else max(0, stop - start)
    return sql, [params.q, limit, start]


def _count_and_page_sql(
    viewer: access.Viewer, params: SearchParams, start: int, stop: int
) -> tuple[str, list[Any]]:
    """The match query and the ranking of one page in one statement (one round trip, and
    the candidates' ids never leave the server): rows of (count, post id, rank), one row
    with no post when the page is empty."""
    match_sql, match_values = _match_sql(viewer, params)
    page_sql, page_values = _page_sql(params, start, stop, ids="m.ids")
    sql = (
        f"WITH m AS MATERIALIZED ({match_sql}) "  # noqa: S608
        f"SELECT m.n, p.post_id, p.score FROM m LEFT JOIN LATERAL ({page_sql}) p ON true "
        "ORDER BY p.pos"
    )
    return sql, [*match_values, *page_values]


def search_plan(*, viewer: access.Viewer, params: SearchParams, analyze: bool = False) -> str:
    """EXPLAIN of the statement a results page runs first on PostgreSQL (the count and
    the first page's ranking; its cost grows with the number of matches), for the
    benchmark and tests."""
    sql, values = _count_and_page_sql(viewer, params, 0, PAGE_SIZE)
    options = "(ANALYZE, BUFFERS)" if analyze else ""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {options} {sql}", values)
        return "\n".join(row[0] for row in cursor.fetchall())


# --- results ---------------------------------------------------------------------------------
class SearchResults:
    """The hits of one search, lazily: ``count()`` and slices of ``SearchHit``.

    PostgreSQL: with a ``window`` (the slice the caller will ask for, e.g. the requested
    page), ``count()`` counts and ranks that page in one statement, and the slice only
    fetches its posts: a page is two queries whatever the number of hits. Without one,
    or for another slice, ``count()`` runs the match query (count and ranking candidates
    in one pass) and a slice ranks the candidates and returns its page (one query more).
    """

    def __init__(
        self,
        *,
        viewer: access.Viewer,
        params: SearchParams,
        window: tuple[int, int] | None = None,
    ) -> None:
        self.viewer = viewer
        self.params = params
        self.window = window
        self._count: int | None = None
        self._candidates: list[int] | None = None
        self._pages: dict[tuple[int, int | None], list[tuple[int, float]]] = {}

    def count(self) -> int:
        if self._count is None:
            if uses_postgres():
                self._count = self._pg_count()
                return self._count
            posts = _matching(self.viewer, self.params, ranked=False)
            if self.params.group == "topic":
                self._count = posts.values("topic_id").distinct().count()
            else:
                self._count = posts.count()
        return self._count

    def _pg_count(self) -> int:
        with connection.cursor() as cursor:
            if self.window is not None:
                start, stop = self.window
                cursor.execute(*_count_and_page_sql(self.viewer, self.params, start, stop))
                fetched = cursor.fetchall()
                self._pages[start, stop] = [
                    (int(pk), float(rank)) for _n, pk, rank in fetched if pk is not None
                ]
                return int(fetched[0][0])
            cursor.execute(*_match_sql(self.viewer, self.params))
            count, candidates = cursor.fetchone()
        self._candidates = list(candidates or [])
        return int(count)

    def _pg_page(self, start: int, stop: int | None) -> list[tuple[int, float]]:
        if (start, stop) in self._pages:
            return self._pages[start, stop]
        if self._candidates is None:  # counted with another window: collect them now
            with connection.cursor() as cursor:
                cursor.execute(*_match_sql(self.viewer, self.params))
                self._candidates = list(cursor.fetchone()[1] or [])
        if not self._candidates or (stop is not None and stop <= start):
            return []
        sql, (q, *rest) = _page_sql(self.params, start, stop)
        with connection.cursor() as cursor:
            cursor.execute(sql, [q, self._candidates, *rest])
            return [(int(pk), float(rank)) for pk, rank, _pos in cursor.fetchall()]

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key: slice) -> list[SearchHit]:
        if not isinstance(key, slice):
            raise TypeError("SearchResults supports slices only")
        if uses_postgres():
            self.count()
            return self._hits(self._pg_page(key.start or 0, key.stop))
        ordered = _ordered(_matching(self.viewer, self.params), self.params)
        rows = list(ordered.values_list("pk", "rank")[key])  # type: ignore[misc]
        return self._hits(rows)

    def _hits(self, rows: list[tuple[int, float]]) -> list[SearchHit]:
        if not rows:
            return []
        if uses_postgres():
            return _pg_hits(self.params, rows)
        posts = (
            Post.objects.filter(pk__in=[pk for pk, _rank in rows])
            .select_related("topic__category", "author__profile")
            .prefetch_related("topic__skills")
            .defer("body", "body_html")
            .order_by()
        )
        by_pk = {post.pk: post for post in posts}
        terms = query_terms(self.params.q)[0]
        hits = []
        for pk, rank in rows:
            post = by_pk.get(pk)
            if post is None:  # deleted between the two queries
                continue
            hits.append(
                SearchHit(
                    post=post,
                    topic=post.topic,
                    rank=float(rank or 0),
                    excerpt_html=text_excerpt(_body_without_title(post), terms),
                    title_html=marked_html(_mark_terms(post.topic.title, terms)),
                    skills=list(post.topic.skills.all()),
                )
            )
        return hits


def _headline_options(**options: Any) -> str:
    return ", ".join(
        connection.ops.compose_sql(f"{name}=%s", [value])  # type: ignore[attr-defined]
        for name, value in options.items()
    )


_HEADLINES: dict[str, str] = {}  # ts_headline options, composed once


def _headline(kind: str) -> str:
    if kind not in _HEADLINES:
        marks = {"StartSel": MARK_OPEN, "StopSel": MARK_CLOSE}
        if kind == "title":
            _HEADLINES[kind] = _headline_options(**marks, HighlightAll=True)
        else:
            _HEADLINES[kind] = _headline_options(
                **marks,
                MaxWords=40,
                MinWords=15,
                ShortWord=2,
                MaxFragments=2,
                FragmentDelimiter=" … ",
            )
    return _HEADLINES[kind]


def _loaded(model: Any, **values: Any) -> Any:
    """A model instance as the ORM builds it from a row, with only these fields loaded
    (``from_db`` takes the values in the model's field order)."""
    names = [f.attname for f in model._meta.concrete_fields if f.attname in values]
    return model.from_db(connection.alias, names, [values[name] for name in names])


def _pg_hits(params: SearchParams, rows: list[tuple[int, float]]) -> list[SearchHit]:
    """The page's posts with what the page and the API show of them, in one query:
    excerpts and titles from ``ts_headline`` (the opening post's first line is the
    title, left out of its excerpt), the topic, its category, the author and their
    display name, the topic's tags. Models are built from the rows with only those
    fields loaded (another field would be read on access)."""
    body = (
        "CASE WHEN p.number = 1 THEN substr(p.body_text, strpos(p.body_text, E'\\n') + 1) "
        "ELSE p.body_text END"
    )
    config = f"'{SEARCH_CONFIG}'::regconfig"
    sql = (
        "SELECT p.id, p.number, p.created_at, p.expert_verified_at, p.author_id, p.topic_id, "  # noqa: S608
        f"ts_headline({config}, {body}, {_TSQUERY}, %s), "
        f"ts_headline({config}, t.title, {_TSQUERY}, %s), "
        "t.slug, t.title, t.kind, t.accepted_post_id, t.reply_count, t.category_id, "
        "c.slug, c.name, u.username, pr.display_name, "
        "(SELECT coalesce(json_agg(json_build_array(s.id, s.slug, s.name)"
        " ORDER BY a.position, s.position, s.name), '[]') "
        " FROM forums_topicskill ts JOIN community_skill s ON s.id = ts.skill_id"
        " JOIN community_competencyarea a ON a.id = s.area_id WHERE ts.topic_id = t.id) "
        "FROM forums_post p JOIN forums_topic t ON t.id = p.topic_id "
        "JOIN forums_category c ON c.id = t.category_id "
        "JOIN community_user u ON u.id = p.author_id "
        "LEFT JOIN community_profile pr ON pr.user_id = u.id "
        "WHERE p.id = ANY(%s)"
    )
    ids = [pk for pk, _rank in rows]
    values: list[Any] = [params.q, _headline("body"), params.q, _headline("title"), ids]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        fetched = cursor.fetchall()
    topics: dict[int, Topic] = {}
    categories: dict[int, Category] = {}
    found: dict[int, tuple[Post, str, str, list[Skill]]] = {}
    for row in fetched:
        (pk, number, created_at, verified_at, author_id, topic_id, excerpt, title) = row[:8]
        post = _loaded(
            Post,
            id=pk,
            number=number,
            created_at=created_at,
            expert_verified_at=verified_at,
            author_id=author_id,
            topic_id=topic_id,
        )
        topic = topics.get(topic_id)
        if topic is None:
            slug, topic_title, kind, accepted, replies, category_id = row[8:14]
            topic = _loaded(
                Topic,
                id=topic_id,
                slug=slug,
                title=topic_title,
                kind=kind,
                accepted_post_id=accepted,
                reply_count=replies,
                category_id=category_id,
            )
            category = categories.get(category_id)
            if category is None:
                category = _loaded(Category, id=category_id, slug=row[14], name=row[15])
                categories[category_id] = category
            topic.category = category
            topics[topic_id] = topic
        post.topic = topic
        author = _loaded(User, id=author_id, username=row[16])
        if row[17] is None:
            User.profile.related.set_cached_value(author, None)  # no profile: no query
        else:
            author.profile = _loaded(Profile, user_id=author_id, display_name=row[17])
        post.author = author
        skills = [_loaded(Skill, id=i, slug=slug, name=name) for i, slug, name in row[18]]
        found[pk] = (post, excerpt, title, skills)
    hits = []
    for pk, rank in rows:
        if pk not in found:  # deleted between the two queries
            continue
        post, excerpt, title, skills = found[pk]
        hits.append(
            SearchHit(
                post=post,
                topic=post.topic,
                rank=float(rank or 0),
                excerpt_html=marked_html(excerpt),
                title_html=marked_html(title),
                skills=skills,
            )
        )
    return hits


def forum_search(
    *, viewer: access.Viewer, params: SearchParams, window: tuple[int, int] | None = None
) -> SearchResults:
    """Search the posts ``viewer`` may read (see the module docstring). ``window``: the
    slice the caller will ask for first, fetched with the count (PostgreSQL)."""
    return SearchResults(viewer=viewer, params=params, window=window)


def page_window(page: object, size: int = PAGE_SIZE) -> tuple[int, int]:
    """The slice of the requested page (a query-string value; page 1 when unusable),
    as ``Paginator`` will ask for it when the page exists."""
    try:
        number = max(1, int(str(page)))
    except ValueError:
        number = 1
    return (number - 1) * size, number * size
