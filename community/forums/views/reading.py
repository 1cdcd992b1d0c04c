"""Reading pages (HTML): the forum index, topic lists, category and tag pages, the topic
page, the post redirect, read positions and bookmarks. Thin views over
``selectors.reading`` and ``services.reading``; every page works without JavaScript."""

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.cache import patch_cache_control
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from community.forums import access
from community.forums.models import Topic
from community.forums.post_html import PostPage, post_html
from community.forums.selectors import reading as sel
from community.forums.services import reading as svc
from community.models import User

SORT_TABS = [
    (sel.Sort.LATEST, "forums:latest"),
    (sel.Sort.TOP, "forums:top"),
    (sel.Sort.UNANSWERED, "forums:unanswered"),
]
MEMBER_TABS = [(sel.ListFilter.NEW, "forums:new"), (sel.ListFilter.UNREAD, "forums:unread")]


def _member(request: HttpRequest) -> User | None:
    user = request.user
    return user if isinstance(user, User) and user.is_authenticated else None


def _sort(request: HttpRequest) -> str:
    """The ``?sort=`` of a category or tag page; anything unknown is "latest"."""
    value = request.GET.get("sort", "")
    return value if value in sel.Sort.values else sel.Sort.LATEST


def _topic_page_url(topic: Topic, page: int, number: int | None = None) -> str:
    url = topic.get_absolute_url()
    if page > 1 or number is not None:
        url += f"?page={page}"
    if number is not None:
        url += f"#post-{number}"
    return url


def _list_context(request: HttpRequest, qs: Any, **extra: Any) -> dict[str, Any]:
    page_obj = sel.paginate(qs, request.GET.get("page"), sel.topics_per_page())
    topics = sel.topics_mark_for_reader(list(page_obj.object_list), request.user)
    return {"page_obj": page_obj, "topics": topics, **extra}


# --- index and lists ---------------------------------------------------------------------------
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    categories = sel.category_index(request.user)
    return render(
        request,
        "forums/reading/index.html",
        {"categories": categories, "member_tabs": MEMBER_TABS, "sort_tabs": SORT_TABS},
    )


def _topic_list(
    request: HttpRequest, *, sort: str = sel.Sort.LATEST, list_filter: str = ""
) -> HttpResponse:
    qs = sel.topic_list(user=request.user, sort=sort, list_filter=list_filter)
    current = list_filter or sort
    titles: dict[str, str] = {
        sel.Sort.LATEST: _("Latest topics"),
        sel.Sort.TOP: _("Top topics"),
        sel.Sort.UNANSWERED: _("Unanswered topics"),
        sel.ListFilter.NEW: _("New topics"),
        sel.ListFilter.UNREAD: _("Unread topics"),
    }
    return render(
        request,
        "forums/reading/list.html",
        _list_context(
            request,
            qs,
            current=current,
            heading=titles[current],
            list_filter=list_filter,
            sort_tabs=SORT_TABS,
            member_tabs=MEMBER_TABS,
            new_days=sel.NEW_TOPIC_DAYS,
        ),
    )


@require_GET
def latest(request: HttpRequest) -> HttpResponse:
    return _topic_list(request, sort=sel.Sort.LATEST)


@require_GET
def top(request: HttpRequest) -> HttpResponse:
    return _topic_list(request, sort=sel.Sort.TOP)


@require_GET
def unanswered(request: HttpRequest) -> HttpResponse:
    return _topic_list(request, sort=sel.Sort.UNANSWERED)


@require_GET
@login_required
def new(request: HttpRequest) -> HttpResponse:
    return _topic_list(request, list_filter=sel.ListFilter.NEW)


@require_GET
@login_required
def unread(request: HttpRequest) -> HttpResponse:
    return _topic_list(request, list_filter=sel.ListFilter.UNREAD)


@require_GET
def category(request: HttpRequest, slug: str) -> HttpResponse:
    cat = sel.category_get_for_user(slug=slug, user=request.user)
    sort = _sort(request)
    qs = sel.topic_list(user=request.user, sort=sort, category=cat, pinned_first=True)
    return render(
        request,
        "forums/reading/category.html",
        _list_context(request, qs, category=cat, current=sort, sorts=sel.Sort.choices),
    )


@require_GET
def tag(request: HttpRequest, slug: str) -> HttpResponse:
    skill = sel.skill_get(slug=slug)
    sort = _sort(request)
    qs = sel.topic_list(user=request.user, sort=sort, skill=skill)
    return render(
        request,
        "forums/reading/tag.html",
        _list_context(request, qs, skill=skill, current=sort, sorts=sel.Sort.choices),
    )


# --- the topic page ----------------------------------------------------------------------------
@require_GET
def topic(request: HttpRequest, pk: int, slug: str) -> HttpResponse:
    user = request.user
    member = _member(request)
    found = sel.topic_get_for_user(pk=pk, user=user, merged=True, reader_state=True)
    if found.merged_into_id is not None:
        target = found.merged_into
        if target is None or not access.can_see_topic(user, target):
            raise Http404(_("No such topic."))
        return redirect(target.get_absolute_url(), permanent=True)
    page_param = request.GET.get("page")
    if slug != found.slug:
        url = found.get_absolute_url()
        query = request.GET.urlencode()
        return redirect(f"{url}?{query}" if query else url, permanent=True)

    last_read = sel.read_position(topic=found, user=user)
    counts = sel.topic_post_counts(topic=found, user=user, last_read=last_read)
    first_unread_number = counts.first_unread_number
    if page_param is None and first_unread_number is not None:
        # A returning member: open at the first post they have not read.
        return redirect(_topic_page_url(found, counts.unread_page, first_unread_number))

    tp = sel.topic_page(topic=found, user=user, page=page_param, visible_count=counts.visible)
    if member is not None and tp.posts:
        # Reading a page reads it up to its last post (on the last page: up to the
        # topic's last number, so deleted posts at the end do not stay "unread").
        number = tp.posts[-1].number if tp.page_obj.has_next() else found.last_post_number
        svc.read_position_advance(user=member, topic=found, number=number)
    viewer_key = f"user:{member.pk}" if member else f"ip:{request.META.get('REMOTE_ADDR', '')}"
    svc.topic_view_record(topic=found, viewer_key=viewer_key)
    return render(
        request,
        "forums/reading/topic.html",
        {
            "topic": found,
            "page_obj": tp.page_obj,
            "page": tp.page_obj,
            "posts": tp.posts,
            "watch_level": tp.watch_level,
            "draft": tp.draft,
            "first_unread_number": first_unread_number,
            "last_read_number": last_read,
            # the reply form's retry key: a resent form never posts twice
            "client_id": uuid.uuid4(),
            **tp.perms,
        },
    )


@require_GET
def post_fragment(request: HttpRequest, pk: int) -> HttpResponse:
    """``/forums/p/<pk>/html/?back=<page>``: one post's ``<article>`` exactly as the topic
    page shows it to the viewer. forum.js fetches it for a reply that arrived live, so
    the reply comes with the viewer's reaction, accept, quote, flag and bookmark
    controls; ``back`` (a path on this site) is the page those forms return to."""
    user = request.user
    topic, post_ = sel.topic_post_for_viewer(pk=pk, user=user)
    back = request.GET.get("back", "")
    if not (
        back.startswith("/")
        and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()})
    ):
        back = topic.get_absolute_url()
    page = PostPage(
        topic=topic,
        user=user,
        request=request,
        csrf_token=get_token(request),
        back=back,
        **sel.topic_perms(topic=topic, user=user),
    )
    response = HttpResponse(post_html(page, post_), content_type="text/html; charset=utf-8")
    patch_cache_control(response, private=True, no_store=True)
    return response


@require_GET
def topic_short(request: HttpRequest, pk: int) -> HttpResponse:
    """/forums/t/<pk>/: the topic's full address."""
    found = sel.topic_get_for_user(pk=pk, user=request.user, merged=True)
    return redirect(found.get_absolute_url(), permanent=True)


@require_GET
def post(request: HttpRequest, pk: int) -> HttpResponse:
    """A post's permanent address: the page of its topic it is on, at its anchor."""
    found = sel.post_get_for_user(pk=pk, user=request.user)
    page = sel.post_page_number(post=found, user=request.user)
    return redirect(_topic_page_url(found.topic, page, found.number))


@require_http_methods(["GET", "POST"])
def topic_read(request: HttpRequest, pk: int) -> HttpResponse:
    """POST ``number``: move the read position (JavaScript reports scrolling here; the
    "mark as read" button sends the last number). GET goes to the topic."""
    found = sel.topic_get_for_user(pk=pk, user=request.user)
    member = _member(request)
    if request.method == "GET":
        return redirect(found.get_absolute_url())
    if member is None:
        return redirect(f"{reverse('account_login')}?next={found.get_absolute_url()}")
    raw = request.POST.get("number", "") or str(found.last_post_number)
    try:
        number = int(raw)
        state = svc.read_position_update(user=member, topic=found, number=number)
    except (ValueError, ValidationError):
        if _wants_json(request):
            return _json({"error": _("Give a post number of 1 or more.")}, status=400)
        messages.error(request, _("Give a post number of 1 or more."))
        return redirect(found.get_absolute_url())
    if _wants_json(request):
        return _json({"topic": found.pk, "last_read_number": state.last_read_number})
    messages.success(request, _("Marked as read."))
    return redirect(found.get_absolute_url())


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _json(data: dict[str, Any], status: int = 200) -> HttpResponse:
    return JsonResponse(data, status=status)


# --- bookmarks ---------------------------------------------------------------------------------
def _next_url(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


@require_POST
@login_required
def post_bookmark(request: HttpRequest, pk: int) -> HttpResponse:
    """POST ``action`` = "add" (with an optional ``note``) or "remove"."""
    member = _member(request)
    assert member is not None
    found = sel.post_get_for_user(pk=pk, user=member)
    back = _next_url(request, found.get_absolute_url())
    action = request.POST.get("action", "add")
    if action == "remove":
        if svc.bookmark_remove(user=member, post=found):
            messages.success(request, _("Bookmark removed."))
        return HttpResponseRedirect(back)
    if action != "add":
        messages.error(request, _("Choose to add or remove the bookmark."))
        return HttpResponseRedirect(back)
    note = request.POST.get("note")
    try:
        svc.bookmark_add(user=member, post=found, note=note)
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
        return HttpResponseRedirect(back)
    except PermissionDenied:
        raise Http404(_("No such post.")) from None
    messages.success(request, _("Bookmarked."))
    return HttpResponseRedirect(back)


@require_GET
@login_required
def bookmarks(request: HttpRequest) -> HttpResponse:
    qs = sel.bookmarks_for_user(user=request.user)
    page_obj = sel.paginate(qs, request.GET.get("page"), sel.topics_per_page())
    return render(
        request,
        "forums/reading/bookmarks.html",
        {"page_obj": page_obj, "page": page_obj, "bookmarks": list(page_obj.object_list)},
    )


urlpatterns: list[URLPattern] = [
    path("", index, name="index"),
    path("latest/", latest, name="latest"),
    path("top/", top, name="top"),
    path("unanswered/", unanswered, name="unanswered"),
    path("new/", new, name="new"),
    path("unread/", unread, name="unread"),
    path("bookmarks/", bookmarks, name="bookmarks"),
    path("c/<slug:slug>/", category, name="category"),
    path("tags/<slug:slug>/", tag, name="tag"),
    path("t/<int:pk>/", topic_short, name="topic_short"),
    path("t/<int:pk>/read/", topic_read, name="topic_read"),
    path("t/<int:pk>/<slug:slug>/", topic, name="topic"),
    path("p/<int:pk>/", post, name="post"),
    path("p/<int:pk>/html/", post_fragment, name="post_fragment"),
    path("p/<int:pk>/bookmark/", post_bookmark, name="post_bookmark"),
]
