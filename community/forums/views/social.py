"""Social pages (HTML): reactions, accepted answers, expert verification, watch levels
and the "what you follow" page. Plain forms with CSRF and POST-redirect-GET; bad input
gets a 400 page that says what was wrong and changes nothing."""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from community.forums.models import Category, Post, Topic, WatchLevel
from community.forums.selectors import social as selectors
from community.forums.services import following, social
from community.models import Skill, User


def _me(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _bad(request: HttpRequest, exc: ValidationError, back_url: str) -> HttpResponse:
    errors = (
        [m for msgs in exc.message_dict.values() for m in msgs]
        if hasattr(exc, "error_dict")
        else exc.messages
    )
    # a rate limit (reactions per day) is 429 with Retry-After; other bad input is 400
    wait = getattr(exc, "retry_after", None)
    response = render(
        request,
        "forums/social/error.html",
        {"errors": errors, "back_url": back_url},
        status=429 if wait else 400,
    )
    if wait:
        response["Retry-After"] = str(wait)
    return response


def _post(request: HttpRequest, pk: int) -> Post:
    try:
        return selectors.post_get_for_user(pk=pk, user=request.user)
    except Post.DoesNotExist:
        raise Http404(_("No such post.")) from None


def _topic(request: HttpRequest, pk: int) -> Topic:
    try:
        return selectors.topic_get_for_user(pk=pk, user=request.user)
    except Topic.DoesNotExist:
        raise Http404(_("No such topic.")) from None


def _run(
    request: HttpRequest, back_url: str, action: Callable[[], Any], done: str = ""
) -> HttpResponse:
    try:
        action()
    except ValidationError as exc:
        return _bad(request, exc, back_url)
    except (Post.DoesNotExist, Topic.DoesNotExist):
        raise Http404 from None
    if done:
        messages.success(request, done)
    return redirect(_next(request, back_url))


@login_required
@require_POST
def post_react(request: HttpRequest, pk: int) -> HttpResponse:
    """Give or take back a reaction (``kind``; ``active`` 1 or 0; without ``active``
    it flips; or ``reaction`` = "kind:1" / "kind:0", what the page's buttons send)."""
    post = _post(request, pk)
    kind = request.POST.get("kind", "")
    active = request.POST.get("active")
    if "reaction" in request.POST:
        # The page's one form per post: each button sends "kind:1" (give) or "kind:0".
        kind, _sep, active = request.POST["reaction"].partition(":")
    if active not in {None, "0", "1"}:
        return _bad(
            request, ValidationError({"active": _("Send 1 or 0.")}), post.get_absolute_url()
        )
    if active is None:
        return _run(
            request,
            post.get_absolute_url(),
            lambda: social.reaction_toggle(user=_me(request), post=post, kind=kind),
        )
    return _run(
        request,
        post.get_absolute_url(),
        lambda: social.reaction_set(user=_me(request), post=post, kind=kind, active=active == "1"),
    )


@login_required
@require_POST
def topic_accept(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark (``action=accept``, ``post``) or unmark (``action=unaccept``) the answer."""
    topic = _topic(request, pk)
    back = topic.get_absolute_url()
    action = request.POST.get("action", "accept")
    if action == "unaccept":
        return _run(
            request,
            back,
            lambda: social.answer_unaccept(user=_me(request), topic=topic),
            _("The accepted answer is unmarked."),
        )
    if action != "accept":
        return _bad(request, ValidationError({"action": _("Send accept or unaccept.")}), back)
    raw = request.POST.get("post", "")
    if not raw.isdigit():
        return _bad(request, ValidationError({"post": _("Choose a post.")}), back)
    try:
        post = selectors.post_get_for_user(pk=int(raw), user=request.user)
    except Post.DoesNotExist:
        post = None
    if post is None or post.topic_id != topic.pk:
        return _bad(request, ValidationError({"post": _("That post is not in this topic.")}), back)
    return _run(
        request,
        back,
        lambda: social.answer_accept(user=_me(request), post=post),
        _("Marked as the accepted answer."),
    )


@login_required
@require_POST
def post_verify(request: HttpRequest, pk: int) -> HttpResponse:
    post = _post(request, pk)
    verified = request.POST.get("verified", "1")
    if verified not in {"0", "1"}:
        return _bad(
            request, ValidationError({"verified": _("Send 1 or 0.")}), post.get_absolute_url()
        )
    return _run(
        request,
        post.get_absolute_url(),
        lambda: social.post_verify_set(user=_me(request), post=post, verified=verified == "1"),
        _("Marked as verified by an expert.") if verified == "1" else _("Verification removed."),
    )


def _watch_page(
    request: HttpRequest,
    *,
    subject: str,
    back_url: str,
    action: str,
    level: str,
    save: Callable[[str], Any],
) -> HttpResponse:
    if request.method == "POST":
        new = request.POST.get("level", "")
        try:
            save(new)
        except ValidationError as exc:
            error = " ".join(m for msgs in exc.message_dict.values() for m in msgs)
            context = {
                "subject": subject,
                "back_url": back_url,
                "action": action,
                "level": new,
                "error": error,
            }
            return render(request, "forums/social/watch.html", context, status=400)
        messages.success(
            request,
            _("Notifications for %(subject)s: %(level)s.")
            % {"subject": subject, "level": WatchLevel(new).label},
        )
        return redirect(_next(request, back_url))
    context = {"subject": subject, "back_url": back_url, "action": action, "level": level}
    return render(request, "forums/social/watch.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def topic_watch(request: HttpRequest, pk: int) -> HttpResponse:
    topic = _topic(request, pk)
    return _watch_page(
        request,
        subject=topic.title,
        back_url=topic.get_absolute_url(),
        action=reverse("forums:topic_watch", args=[topic.pk]),
        level=selectors.topic_watch_level(user=request.user, topic=topic) or WatchLevel.NORMAL,
        save=lambda level: following.topic_watch_set(user=_me(request), topic=topic, level=level),
    )


@login_required
@require_http_methods(["GET", "POST"])
def category_watch(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        category = selectors.category_get_for_user(slug=slug, user=request.user)
    except Category.DoesNotExist:
        raise Http404(_("No such category.")) from None
    return _watch_page(
        request,
        subject=category.name,
        back_url=category.get_absolute_url(),
        action=reverse("forums:category_watch", args=[category.slug]),
        level=selectors.category_watch_level(user=request.user, category=category),
        save=lambda level: following.category_watch_set(
            user=_me(request), category=category, level=level
        ),
    )


def _tag_url(slug: str) -> str:
    try:
        return reverse("forums:tag", kwargs={"slug": slug})
    except NoReverseMatch:
        return reverse("forums:index")


@login_required
@require_http_methods(["GET", "POST"])
def tag_watch(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        skill = selectors.tag_get(slug=slug)
    except Skill.DoesNotExist:
        raise Http404(_("No such tag.")) from None
    return _watch_page(
        request,
        subject=skill.name,
        back_url=_tag_url(skill.slug),
        action=reverse("forums:tag_watch", args=[skill.slug]),
        level=selectors.tag_watch_level(user=request.user, skill=skill),
        save=lambda level: following.tag_watch_set(user=_me(request), skill=skill, level=level),
    )


@login_required
def social_settings(request: HttpRequest) -> HttpResponse:
    """Everything the member follows or muted, with a form to change each."""
    return render(
        request,
        "forums/social/settings.html",
        {"following": selectors.following_for_user(user=_me(request))},
    )


urlpatterns: list[URLPattern] = [
    path("p/<int:pk>/react/", post_react, name="post_react"),
    path("t/<int:pk>/accept/", topic_accept, name="topic_accept"),
    path("p/<int:pk>/verify/", post_verify, name="post_verify"),
    path("t/<int:pk>/watch/", topic_watch, name="topic_watch"),
    path("c/<slug:slug>/watch/", category_watch, name="category_watch"),
    path("tags/<slug:slug>/watch/", tag_watch, name="tag_watch"),
    path("settings/", social_settings, name="social_settings"),
]
