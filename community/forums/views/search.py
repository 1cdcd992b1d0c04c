"""The forum search page: a GET form that works without JavaScript, results grouped by
topic or one per post, with highlighted excerpts."""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils.http import urlencode

from community.forums import access
from community.forums.models import Category, TopicKind
from community.forums.selectors.search import (
    FIELDS,
    PAGE_SIZE,
    QUERY_MAX,
    forum_search,
    search_params_clean,
)
from community.models import Skill


def _category_options(viewer: access.Viewer) -> list[tuple[Category, bool]]:
    """The categories the viewer may read, each parent followed by its children
    (``True`` marks a child)."""
    categories = list(access.categories_visible_to(viewer).order_by("position", "name"))
    children: dict[int, list[Category]] = {}
    for category in categories:
        if category.parent_id is not None:
            children.setdefault(category.parent_id, []).append(category)
    known = {c.pk for c in categories}
    options: list[tuple[Category, bool]] = []
    for category in categories:
        if category.parent_id is None or category.parent_id not in known:
            options.append((category, False))
            options.extend((child, True) for child in children.get(category.pk, []))
    return options


def _tag_groups() -> list[tuple[str, list[Skill]]]:
    groups: dict[str, list[Skill]] = {}
    for skill in Skill.objects.filter(is_active=True).select_related("area"):
        groups.setdefault(skill.area.name, []).append(skill)
    return list(groups.items())


def search_page(request: HttpRequest) -> HttpResponse:
    values = {name: request.GET.get(name, "") for name in FIELDS}
    context: dict[str, Any] = {
        "values": values,
        "errors": {},
        "page_obj": None,
        "query": "",
        "query_max": QUERY_MAX,
        "kinds": TopicKind.choices,
        "category_options": _category_options(request.user),
        "tag_groups": _tag_groups(),
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
            results = forum_search(viewer=request.user, params=params)
            context["params"] = params
            paginator: Paginator[Any] = Paginator(results, PAGE_SIZE)  # type: ignore[arg-type]
            context["page_obj"] = paginator.get_page(request.GET.get("page"))
            context["query"] = urlencode({"q": params.q, **params.filters()})
    return render(request, "forums/search/search.html", context, status=status)


urlpatterns: list[URLPattern] = [
    path("search/", search_page, name="search"),
]
