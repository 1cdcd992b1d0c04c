"""The forum search page: a GET form that works without JavaScript, results grouped by
topic or one per post, with highlighted excerpts.

The filter form's option lists (every visible category, the whole skill catalogue: about
90 options) and the result list are built here in Python, not in the template: in the
template engine they cost about 12 ms and 1 ms a hit on the benchmark machine, a large
part of a search that itself takes tens of milliseconds. The markup is the same; the
page template keeps the structure (tests/forums/test_search.py pins the markup)."""

import re
from collections.abc import Iterable
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils import dateformat, formats, timezone
from django.utils.html import escape
from django.utils.http import urlencode
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from community.forums import access
from community.forums.models import Category, Topic, TopicKind
from community.forums.selectors.search import (
    FIELDS,
    PAGE_SIZE,
    QUERY_MAX,
    SearchHit,
    forum_search,
    page_window,
    search_params_clean,
)
from community.models import Skill


def _option(value: str, label: str, selected: str) -> str:
    chosen = " selected" if value == selected else ""
    return f'<option value="{escape(value)}"{chosen}>{escape(label)}</option>'


def _category_options(viewer: access.Viewer, selected: str) -> SafeString:
    """The categories the viewer may read as ``<option>``s, each parent followed by its
    children (marked with a dash)."""
    categories = list(
        access.categories_visible_to(viewer)
        .order_by("position", "name")
        .values_list("pk", "parent_id", "slug", "name")
    )
    children: dict[int, list[tuple[str, str]]] = {}
    for _pk, parent, slug, name in categories:
        if parent is not None:
            children.setdefault(parent, []).append((slug, name))
    known = {pk for pk, *_rest in categories}
    out: list[str] = []
    for pk, parent, slug, name in categories:
        if parent is None or parent not in known:
            out.append(_option(slug, name, selected))
            out.extend(_option(s, f"— {n}", selected) for s, n in children.get(pk, []))
    return mark_safe("".join(out))  # noqa: S308 - every value is escaped in _option


TAG_CACHE_KEY = "forums:search:tag-options"
# Saving or deleting a skill or an area forgets the cached options at once (apps.py); the
# timeout covers bulk changes, which send no signals: they show within five minutes.
TAG_CACHE_SECONDS = 300


def forget_tag_options(**_kwargs: Any) -> None:
    """Signal receiver: the catalogue changed, build the tag options anew."""
    cache.delete(TAG_CACHE_KEY)


def _tag_rows() -> list[tuple[str, str, str]]:
    """(area, slug, name) of the active skills, in catalogue order: the same for every
    viewer and rarely changed, so cached for a few minutes."""
    rows = cache.get(TAG_CACHE_KEY)
    if rows is None:
        skills = Skill.objects.filter(is_active=True)
        rows = list(skills.values_list("area__name", "slug", "name"))
        cache.set(TAG_CACHE_KEY, rows, TAG_CACHE_SECONDS)
    return list(rows)


def _tag_options(selected: str) -> SafeString:
    """The active skills as ``<option>``s in one ``<optgroup>`` per competency area."""
    groups: dict[str, list[str]] = {}
    for area, slug, name in _tag_rows():
        groups.setdefault(area, []).append(_option(slug, name, selected))
    return mark_safe(  # noqa: S308 - every value is escaped here and in _option
        "".join(
            f'<optgroup label="{escape(area)}">{"".join(options)}</optgroup>'
            for area, options in groups.items()
        )
    )


_SLUG = "slug-marker"
_PLAIN_SLUG = re.compile(r"[-a-zA-Z0-9_]+")


class _HitRenderer:
    """One result-list item per hit. The translated words, the time zone and the date
    format are looked up once per page, not once per hit (each lookup goes through the
    request's thread-local state)."""

    def __init__(self, query: str) -> None:
        self.query = escape(query)
        self.zone = timezone.get_current_timezone()
        self.date_format = formats.get_format("DATE_FORMAT")
        self.solved = f' · <span class="status-ok">{escape(_("Solved"))}</span>'
        self.question = f" · {escape(_('Question'))}"
        self.opening = escape(_("Opening post"))
        self.numbered = _("Post #%(n)s")
        self.by = escape(_("by"))
        self.accepted = f' · <span class="status-ok">{escape(_("Accepted answer"))}</span>'
        self.verified = f' · <span class="status-ok">{escape(_("Expert verified"))}</span>'
        self.tags = escape(_("Tags"))
        self.replies: dict[int, str] = {}
        self.categories: dict[int, str] = {}
        # reverse() once per page: the addresses with a marker where the id and slug go
        self.topic_url = reverse("forums:topic", kwargs={"pk": 1, "slug": _SLUG}).split(
            "1/" + _SLUG
        )
        self.post_url = reverse("forums:post", kwargs={"pk": 1}).rsplit("1/", 1)

    def _topic_url(self, topic: Topic) -> str:
        if not _PLAIN_SLUG.fullmatch(topic.slug):  # reverse() would percent-encode it
            return escape(topic.get_absolute_url())
        return escape(f"{self.topic_url[0]}{topic.pk}/{topic.slug}{self.topic_url[1]}")

    def _category(self, category: Category) -> str:
        if category.pk not in self.categories:
            self.categories[category.pk] = (
                f'<a href="{escape(category.get_absolute_url())}">{escape(category.name)}</a>'
            )
        return self.categories[category.pk]

    def _replies(self, n: int) -> str:
        if n not in self.replies:
            self.replies[n] = escape(ngettext("%(n)s reply", "%(n)s replies", n) % {"n": n})
        return self.replies[n]

    def __call__(self, hit: SearchHit) -> str:
        post, topic = hit.post, hit.topic
        status = (self.solved if topic.is_solved else self.question) if topic.is_question else ""
        profile = getattr(post.author, "profile", None)
        name = getattr(profile, "display_name", "") or post.author.username
        which = self.opening if post.number == 1 else escape(self.numbered % {"n": post.number})
        created = post.created_at.astimezone(self.zone)
        marks = self.accepted if post.pk == topic.accepted_post_id else ""
        if post.expert_verified_at:
            marks += self.verified
        skills = hit.skills
        tags = ""
        if skills:
            items = "".join(
                f'<li><a class="tag" href="?{self.query}&amp;tag={escape(s.slug)}">'
                f"{escape(s.name)}</a></li>"
                for s in skills
            )
            tags = f'\n      <ul class="tags" aria-label="{self.tags}">{items}</ul>'
        day = escape(dateformat.format(created, self.date_format))
        post_url = f"{self.post_url[0]}{post.pk}/{self.post_url[1]}"
        return (
            '<li class="card search-hit">\n'
            f'      <h3><a href="{self._topic_url(topic)}">{hit.title_html}</a></h3>\n'
            '      <p class="meta">\n'
            f"        {self._category(topic.category)}{status}\n"
            f"        · {self._replies(topic.reply_count)}\n"
            "      </p>\n"
            f'      <blockquote class="search-excerpt">{hit.excerpt_html}</blockquote>\n'
            '      <p class="meta">\n'
            f'        <a href="{escape(post_url)}">{which}</a>\n'
            f"        {self.by} {escape(name)} · "
            f'<time datetime="{created.isoformat()}">{day}</time>{marks}\n'
            f"      </p>{tags}\n"
            "    </li>"
        )


def _hits_html(hits: Iterable[SearchHit], query: str) -> SafeString:
    """The result list's items. Member text is escaped here; the title and excerpt are
    already escaped, with only ``<mark>`` added (``selectors.search.marked_html``)."""
    render = _HitRenderer(query)
    return mark_safe("\n    ".join(render(hit) for hit in hits))  # noqa: S308


def search_page(request: HttpRequest) -> HttpResponse:
    values = {name: request.GET.get(name, "") for name in FIELDS}
    context: dict[str, Any] = {
        "values": values,
        "errors": {},
        "page_obj": None,
        "query": "",
        "query_max": QUERY_MAX,
        "kinds": TopicKind.choices,
        "category_options": _category_options(request.user, values["category"]),
        "tag_options": _tag_options(values["tag"]),
    }
    status = 200
    if not values["q"].strip():
        context["hint"] = True
    else:
        try:
            params = search_params_clean(viewer=request.user, data=request.GET)
        except ValidationError as exc:
            context["errors"] = exc.message_dict
            status = 400
        else:
            window = page_window(request.GET.get("page") or 1)
            results = forum_search(viewer=request.user, params=params, window=window)
            context["params"] = params
            paginator: Paginator[Any] = Paginator(results, PAGE_SIZE)  # type: ignore[arg-type]
            page_obj = paginator.get_page(request.GET.get("page"))
            context["page_obj"] = page_obj
            context["query"] = urlencode({"q": params.q, **params.filters()})
            context["hits_html"] = _hits_html(page_obj.object_list, context["query"])
    return render(request, "forums/search/search.html", context, status=status)


urlpatterns: list[URLPattern] = [
    path("search/", search_page, name="search"),
]
