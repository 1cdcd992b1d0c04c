"""Moderation pages (HTML, no JavaScript needed): the flag form, the review queue, the
moderator tools of a topic and the moderation log. Thin over services/moderation.py and
selectors/moderation.py."""

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from community.forums.forms_moderation import (
    FlagForm,
    LogFilterForm,
    MergeForm,
    MoveForm,
    ReviewForm,
    TopicActionForm,
)
from community.forums.models import FlagReason, ModerationLog, Post, Topic
from community.forums.selectors import moderation as selectors
from community.forums.services import moderation as services
from community.models import User


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _next_or(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next", "") or request.GET.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _see_other(url: str) -> HttpResponseRedirect:
    """POST-redirect-GET with 303 See Other."""
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


def _add_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """A service's errors on the form: on the field they name, else on the form."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


# --- flagging ------------------------------------------------------------------------------
@login_required
def flag(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the flag form for a post; POST: flag it, then back to the post."""
    user = _user(request)
    post = selectors.post_get_for_flagging(pk=pk, user=user)
    back = _next_or(request, post.get_absolute_url())
    own = post.author_id == user.pk
    already = selectors.has_open_flag(post=post, user=user)
    form = FlagForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.flag_create(
                    user=user,
                    post=post,
                    reason=form.cleaned_data["reason"],
                    note=form.cleaned_data["note"],
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("Thank you: the moderators will look at this post."))
                return redirect(back)
        status = 400
    return render(
        request,
        "forums/moderation/flag.html",
        {
            "post": post,
            "topic": post.topic,
            "form": form,
            "own": own,
            "already": already,
            "next": back,
        },
        status=status,
    )


# --- the review queue ----------------------------------------------------------------------
def _render_queue(
    request: HttpRequest,
    *,
    failed: Post | None = None,
    form: ReviewForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    reason = request.GET.get("reason", "")
    if reason not in dict(FlagReason.choices):
        reason = ""
    page = selectors.review_page(user=user, page=request.GET.get("page"), reason=reason)
    return render(
        request,
        "forums/moderation/review.html",
        {
            "page_obj": page,
            "posts": page.object_list,
            "reason": reason,
            "reasons": FlagReason.choices,
            "query": urlencode({"reason": reason}) if reason else "",
            "failed": failed,
            "failed_form": form,
        },
        status=status,
    )


@login_required
def review(request: HttpRequest) -> HttpResponse:
    """Posts with open flags, the longest waiting first (moderators only)."""
    selectors.require_moderator(request.user)
    return _render_queue(request)


@login_required
@require_POST
def review_post(request: HttpRequest, pk: int) -> HttpResponse:
    """A moderator's decision on a flagged post: hide, restore, delete or dismiss."""
    user = _user(request)
    post = selectors.post_get_for_review(pk=pk, user=user)
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            services.post_review(
                moderator=user,
                post=post,
                action=form.cleaned_data["action"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            done = {
                "hide": _("The post is hidden."),
                "restore": _("The post is shown again."),
                "delete": _("The post is deleted."),
                "dismiss": _("The flags are dismissed."),
            }
            messages.success(request, done[form.cleaned_data["action"]])
            return _see_other(_next_or(request, reverse("forums:review")))
    return _render_queue(request, failed=post, form=form, status=400)


# --- topic tools ---------------------------------------------------------------------------
def _render_topic_tools(
    request: HttpRequest,
    topic: Topic,
    *,
    bound: dict[str, forms.Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    bound = bound or {}
    categories = selectors.move_categories()
    log = list(
        ModerationLog.objects.select_related("moderator__profile")
        .filter(topic=topic)
        .order_by("-created_at", "-id")[:20]
    )
    return render(
        request,
        "forums/moderation/topic.html",
        {
            "topic": topic,
            "action_form": bound.get("action") or TopicActionForm(),
            "move_form": bound.get("move") or MoveForm(categories=categories, auto_id="id_move_%s"),
            "merge_form": bound.get("merge") or MergeForm(auto_id="id_merge_%s"),
            "log": log,
            "next": _next_or(request, topic.get_absolute_url()),
        },
        status=status,
    )


@login_required
def moderate_topic(request: HttpRequest, pk: int) -> HttpResponse:
    """The moderator tools of one topic: pin, lock, close, move, merge, delete."""
    topic = selectors.topic_get_for_moderation(pk=pk, user=request.user)
    return _render_topic_tools(request, topic)


def _topic_done(request: HttpRequest, topic: Topic, message: str) -> HttpResponse:
    messages.success(request, message)
    fallback = (
        reverse("forums:moderate_topic", kwargs={"pk": topic.pk})
        if topic.is_deleted or topic.merged_into_id
        else topic.get_absolute_url()
    )
    target = _next_or(request, fallback)
    if topic.is_deleted:
        target = reverse("forums:moderate_topic", kwargs={"pk": topic.pk})
    return _see_other(target)


@login_required
@require_POST
def moderate_topic_action(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    topic = selectors.topic_get_for_moderation(pk=pk, user=user)
    form = TopicActionForm(request.POST)
    if form.is_valid():
        action = form.cleaned_data["action"]
        reason = form.cleaned_data["reason"]
        try:
            if action == "delete":
                topic = services.topic_delete(moderator=user, topic=topic, reason=reason)
            else:
                topic = services.topic_moderate(
                    moderator=user, topic=topic, action=action, reason=reason
                )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            done = {
                "pin": _("The topic is pinned."),
                "unpin": _("The topic is unpinned."),
                "lock": _("The topic is locked: only moderators can post."),
                "unlock": _("The topic is unlocked."),
                "close": _("The topic is closed."),
                "reopen": _("The topic is open again."),
                "delete": _("The topic is deleted."),
            }
            return _topic_done(request, topic, done[action])
    return _render_topic_tools(request, topic, bound={"action": form}, status=400)


@login_required
@require_POST
def moderate_topic_move(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    topic = selectors.topic_get_for_moderation(pk=pk, user=user)
    form = MoveForm(request.POST, categories=selectors.move_categories(), auto_id="id_move_%s")
    if form.is_valid():
        try:
            topic = services.topic_move(
                moderator=user,
                topic=topic,
                category=form.cleaned_data["category"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            return _topic_done(
                request,
                topic,
                _("The topic is now in “%(category)s”.") % {"category": topic.category.name},
            )
    return _render_topic_tools(request, topic, bound={"move": form}, status=400)


@login_required
@require_POST
def moderate_topic_merge(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    topic = selectors.topic_get_for_moderation(pk=pk, user=user)
    form = MergeForm(request.POST, auto_id="id_merge_%s")
    if form.is_valid():
        try:
            into = selectors.topic_get_merge_target(pk=form.cleaned_data["into"])
        except Topic.DoesNotExist:
            form.add_error("into", _("No such topic."))
        else:
            try:
                target = services.topic_merge(
                    moderator=user, topic=topic, into=into, reason=form.cleaned_data["reason"]
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("The posts of “%(source)s” are now at the end of this topic.")
                    % {"source": topic.title},
                )
                return _see_other(target.get_absolute_url())
    return _render_topic_tools(request, topic, bound={"merge": form}, status=400)


# --- the log -------------------------------------------------------------------------------
@login_required
def moderation_log(request: HttpRequest) -> HttpResponse:
    """Every moderator action, newest first, filterable by action and moderator."""
    selectors.require_moderator(request.user)
    form = LogFilterForm(request.GET or None)
    action, moderator, unknown = "", None, False
    if form.is_valid():
        action = form.cleaned_data["action"]
        name = form.cleaned_data["moderator"].strip()
        if name:
            moderator = User.objects.filter(username__iexact=name).first()
            if moderator is None:
                form.add_error("moderator", _("No member is called “%(name)s”.") % {"name": name})
                unknown = True
    entries: Any = (
        ModerationLog.objects.none()
        if unknown or (form.is_bound and form.errors)
        else selectors.moderation_log(user=request.user, action=action, moderator=moderator)
    )
    page = selectors.paginate(entries, request.GET.get("page"), selectors.LOG_PER_PAGE)
    query = urlencode(
        {
            k: v
            for k, v in {
                "action": action,
                "moderator": moderator.username if moderator else "",
            }.items()
            if v
        }
    )
    return render(
        request,
        "forums/moderation/log.html",
        {"form": form, "page_obj": page, "entries": page.object_list, "query": query},
        status=400 if form.is_bound and form.errors else 200,
    )


urlpatterns: list[URLPattern] = [
    path("p/<int:pk>/flag/", flag, name="flag"),
    path("review/", review, name="review"),
    path("review/p/<int:pk>/", review_post, name="review_post"),
    path("t/<int:pk>/moderate/", moderate_topic, name="moderate_topic"),
    path("t/<int:pk>/moderate/action/", moderate_topic_action, name="moderate_topic_action"),
    path("t/<int:pk>/moderate/move/", moderate_topic_move, name="moderate_topic_move"),
    path("t/<int:pk>/moderate/merge/", moderate_topic_merge, name="moderate_topic_merge"),
    path("log/", moderation_log, name="moderation_log"),
]
