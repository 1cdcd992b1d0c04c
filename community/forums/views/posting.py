"""Posting pages (HTML): new topic, reply (with reply-to and quoting), edit, edit
history, delete and undelete, preview, drafts. Every page works without JavaScript: one
form with three buttons (send, "Preview", "Save draft"), POST-redirect-GET on success,
and on any error the form comes back with the member's text and the error beside it.
A trust limit that says "not now" also keeps the text as the member's draft."""

import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from community.forums import access
from community.forums.forms_posting import DeleteForm, EditForm, ReplyForm, TopicForm
from community.forums.models import Draft, Post, Topic
from community.forums.selectors.posting import (
    categories_for_posting,
    draft_get,
    drafts_for_user,
    post_get_for_undelete,
    post_get_for_user,
    post_history,
    skill_areas,
    topic_get_for_posting,
)
from community.forums.services import drafts as draft_services
from community.forums.services import posting as services
from community.forums.services.trust import TrustLimitExceeded
from community.markup import render_markdown
from community.models import User

BODY_MAX = services.BODY_MAX


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _add_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Put a service's errors on the form: on the field they name, else on the form."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for name, errors in exc.message_dict.items():
        known = name in form.fields and not form.fields[name].widget.is_hidden
        for error in errors:
            form.add_error(name if known else None, error)


def _client_id(request: HttpRequest) -> uuid.UUID | None:
    """The form's one-time id: a form sent twice (a double click, a retried request)
    makes one post."""
    try:
        return uuid.UUID(request.POST.get("client_id", ""))
    except ValueError:
        return None


def _action(request: HttpRequest) -> str:
    action = request.POST.get("action", "post")
    return action if action in {"post", "preview", "draft"} else "post"


def _preview(text: str) -> str:
    return str(render_markdown(text[:BODY_MAX])) if text.strip() else ""


def _keep_draft(request: HttpRequest, **fields: Any) -> bool:
    """Save what the member sent as their draft (after a "not now" limit); True if kept."""
    try:
        draft_services.draft_save(user=_user(request), **fields)
    except (ValidationError, PermissionDenied):
        return False
    return True


# --- new topic --------------------------------------------------------------------------------
def _topic_form(request: HttpRequest, data: Any = None, initial: Any = None) -> TopicForm:
    return TopicForm(
        data,
        initial=initial,
        categories=list(categories_for_posting(request.user)),
        areas=list(skill_areas()),
    )


def _topic_draft_fields(request: HttpRequest, form: TopicForm) -> dict[str, Any]:
    post = request.POST
    return {
        "topic": None,
        "category": form.categories.get(post.get("category", "")),
        "title": post.get("title", "")[:200],
        "kind": post.get("kind", "") if post.get("kind") in {"discussion", "question"} else "",
        "skills": post.getlist("skills")[:5],
        "body": post.get("body", "")[:BODY_MAX],
    }


def _render_topic_form(
    request: HttpRequest, form: TopicForm, *, preview: str = "", status: int = 200
) -> HttpResponse:
    return render(
        request,
        "forums/posting/topic_form.html",
        {
            "form": form,
            "preview": preview,
            "client_id": uuid.uuid4(),
            "draft": draft_get(user=request.user),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def topic_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if request.method == "GET":
        draft = draft_get(user=user)
        if draft is not None:
            initial = {
                "category": draft.category.slug if draft.category else "",
                "kind": draft.kind or "discussion",
                "title": draft.title,
                "skills": draft.skills,
                "body": draft.body,
            }
        else:
            initial = {"category": request.GET.get("category", ""), "kind": "discussion"}
        return _render_topic_form(request, _topic_form(request, initial=initial))

    form = _topic_form(request, data=request.POST)
    action = _action(request)
    if action == "preview":
        fields = _topic_draft_fields(request, form)
        initial = {**fields, "category": request.POST.get("category", "")}
        return _render_topic_form(
            request, _topic_form(request, initial=initial), preview=_preview(fields["body"])
        )
    if action == "draft":
        try:
            draft_services.draft_save(user=user, **_topic_draft_fields(request, form))
        except ValidationError as exc:
            form.is_valid()
            _add_errors(form, exc)
            return _render_topic_form(request, form, status=400)
        messages.success(request, _("Draft saved. It will be here when you come back."))
        return redirect("forums:topic_new")
    if not form.is_valid():
        return _render_topic_form(request, form, status=400)
    data = form.cleaned_data
    try:
        topic = services.topic_create(
            author=user,
            category=data["category"],
            title=data["title"],
            body=data["body"],
            kind=data["kind"],
            skills=data["skills"],
            client_id=_client_id(request),
        )
    except TrustLimitExceeded as exc:
        _add_errors(form, exc)
        if _keep_draft(request, **_topic_draft_fields(request, form)):
            form.add_error(None, _("Your text is saved as a draft."))
        return _render_topic_form(request, form, status=429 if exc.retry_after else 400)
    except ValidationError as exc:
        _add_errors(form, exc)
        return _render_topic_form(request, form, status=400)
    except PermissionDenied as exc:
        form.add_error("category", str(exc) or _("You cannot post in this category."))
        return _render_topic_form(request, form, status=403)
    return redirect(topic.get_absolute_url())


# --- reply ------------------------------------------------------------------------------------
def _post_in_topic(topic: Topic, pk: Any, user: Any) -> Post | None:
    try:
        post = post_get_for_user(pk=int(pk), user=user)
    except (TypeError, ValueError, Http404):
        return None
    return post if post.topic_id == topic.pk else None


def _render_reply(
    request: HttpRequest,
    topic: Topic,
    form: ReplyForm,
    *,
    reply_to: Post | None,
    preview: str = "",
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "forums/posting/reply.html",
        {
            "topic": topic,
            "form": form,
            "reply_to": reply_to,
            "preview": preview,
            "client_id": uuid.uuid4(),
            "can_reply": access.can_post_in(request.user, topic),
            "draft": draft_get(user=request.user, topic=topic),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def reply(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    topic = topic_get_for_posting(pk=pk, user=user)
    if not access.can_post_in(user, topic):
        return _render_reply(request, topic, ReplyForm(), reply_to=None, status=403)

    if request.method == "GET":
        draft = draft_get(user=user, topic=topic)
        body = draft.body if draft else ""
        reply_to = None
        if quote := _post_in_topic(topic, request.GET.get("quote"), user):
            body = (body.rstrip() + "\n\n" if body.strip() else "") + services.quote_markdown(quote)
            reply_to = quote
        elif wanted := _post_in_topic(topic, request.GET.get("reply_to"), user):
            reply_to = wanted
        elif draft is not None and draft.reply_to_id:
            reply_to = _post_in_topic(topic, draft.reply_to_id, user)
        initial = {"body": body, "reply_to": reply_to.pk if reply_to else None}
        return _render_reply(request, topic, ReplyForm(initial=initial), reply_to=reply_to)

    form = ReplyForm(request.POST)
    raw_reply_to = request.POST.get("reply_to") or None
    reply_to = _post_in_topic(topic, raw_reply_to, user) if raw_reply_to else None
    body = request.POST.get("body", "")
    action = _action(request)
    if action == "preview":
        initial = {"body": body[:BODY_MAX], "reply_to": reply_to.pk if reply_to else None}
        return _render_reply(
            request, topic, ReplyForm(initial=initial), reply_to=reply_to, preview=_preview(body)
        )
    draft_fields: dict[str, Any] = {"topic": topic, "body": body[:BODY_MAX], "reply_to": reply_to}
    if action == "draft":
        try:
            draft_services.draft_save(user=user, **draft_fields)
        except ValidationError as exc:
            form.is_valid()
            _add_errors(form, exc)
            return _render_reply(request, topic, form, reply_to=reply_to, status=400)
        messages.success(request, _("Draft saved. It will be here when you come back."))
        return redirect(topic.get_absolute_url() + "#reply")
    if not form.is_valid():
        return _render_reply(request, topic, form, reply_to=reply_to, status=400)
    if raw_reply_to and reply_to is None:
        form.add_error(None, _("The post you reply to is not in this topic."))
        return _render_reply(request, topic, form, reply_to=None, status=400)
    try:
        post = services.post_create(
            author=user,
            topic=topic,
            body=form.cleaned_data["body"],
            reply_to=reply_to,
            client_id=_client_id(request),
        )
    except TrustLimitExceeded as exc:
        _add_errors(form, exc)
        if _keep_draft(request, **draft_fields):
            form.add_error(None, _("Your text is saved as a draft."))
        status = 429 if exc.retry_after else 400
        return _render_reply(request, topic, form, reply_to=reply_to, status=status)
    except ValidationError as exc:
        _add_errors(form, exc)
        return _render_reply(request, topic, form, reply_to=reply_to, status=400)
    except PermissionDenied:
        form.add_error(None, _("This topic does not take replies."))
        return _render_reply(request, topic, form, reply_to=reply_to, status=403)
    return redirect(post.get_absolute_url())


# --- edit -------------------------------------------------------------------------------------
def _editable(request: HttpRequest, pk: int) -> Post:
    post = post_get_for_user(pk=pk, user=request.user)
    if not access.can_edit_post(request.user, post):
        raise PermissionDenied(_("You cannot edit this post."))
    return post


def _edit_form(post: Post, data: Any = None, initial: Any = None) -> EditForm:
    is_opening = post.number == 1
    return EditForm(
        data,
        initial=initial,
        is_opening=is_opening,
        areas=list(skill_areas()) if is_opening else [],
    )


def _render_edit(
    request: HttpRequest, post: Post, form: EditForm, *, preview: str = "", status: int = 200
) -> HttpResponse:
    return render(
        request,
        "forums/posting/edit.html",
        {"post": post, "topic": post.topic, "form": form, "preview": preview},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def post_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    post = _editable(request, pk)
    topic = post.topic
    is_opening = post.number == 1
    if request.method == "GET":
        initial: dict[str, Any] = {"body": post.body}
        if is_opening:
            initial |= {
                "title": topic.title,
                "kind": topic.kind,
                "skills": [s.slug for s in topic.skills.all()],
            }
        return _render_edit(request, post, _edit_form(post, initial=initial))

    form = _edit_form(post, data=request.POST)
    if _action(request) == "preview":
        fields = {name: request.POST.get(name, "") for name in ("body", "title", "kind", "reason")}
        fields["skills"] = request.POST.getlist("skills")  # type: ignore[assignment]
        return _render_edit(
            request, post, _edit_form(post, initial=fields), preview=_preview(fields["body"])
        )
    if not form.is_valid():
        return _render_edit(request, post, form, status=400)
    data = form.cleaned_data
    try:
        services.post_edit(
            editor=user,
            post=post,
            body=data["body"],
            title=data["title"] if is_opening else None,
            kind=data["kind"] if is_opening else None,
            skills=data["skills"] if is_opening else None,
            reason=data.get("reason", ""),
        )
    except ValidationError as exc:
        _add_errors(form, exc)
        return _render_edit(request, post, form, status=400)
    messages.success(request, _("Your changes are saved."))
    return redirect(post.get_absolute_url())


# --- history ----------------------------------------------------------------------------------
@require_http_methods(["GET"])
def post_history_page(request: HttpRequest, pk: int) -> HttpResponse:
    post = post_get_for_user(pk=pk, user=request.user)
    versions = post_history(post)
    return render(
        request,
        "forums/posting/history.html",
        {"post": post, "topic": post.topic, "versions": list(reversed(versions))},
    )


# --- delete -----------------------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
def post_delete(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    post = post_get_for_user(pk=pk, user=user)
    if not access.can_edit_post(user, post):
        raise PermissionDenied(_("You cannot delete this post."))
    form = DeleteForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        services.post_delete(actor=user, post=post, reason=form.cleaned_data["reason"])
        if post.number == 1:
            messages.success(request, _("The topic is deleted."))
            return redirect(post.topic.category.get_absolute_url())
        messages.success(request, _("The post is deleted."))
        return redirect(post.topic.get_absolute_url())
    return render(
        request,
        "forums/posting/delete.html",
        {
            "post": post,
            "topic": post.topic,
            "form": form,
            "is_moderator": access.is_moderator(user),
        },
    )


@login_required
@require_POST
def post_undelete(request: HttpRequest, pk: int) -> HttpResponse:
    post = post_get_for_undelete(pk=pk, user=request.user)
    services.post_undelete(actor=_user(request), post=post)
    messages.success(request, _("The post is back."))
    return redirect(post.get_absolute_url())


# --- preview ----------------------------------------------------------------------------------
@require_POST
def preview(request: HttpRequest) -> HttpResponse:
    """The rendered HTML of ``body`` (what forum.js shows under the textarea)."""
    if not request.user.is_authenticated:
        return HttpResponse(_("Log in to preview."), status=403, content_type="text/plain")
    body = request.POST.get("body", "")
    if len(body) > BODY_MAX:
        return HttpResponseBadRequest(
            _("Keep a post under %(n)d characters.") % {"n": BODY_MAX}, content_type="text/plain"
        )
    return HttpResponse(render_markdown(body), content_type="text/html; charset=utf-8")


# --- drafts -----------------------------------------------------------------------------------
@login_required
@require_http_methods(["GET"])
def drafts(request: HttpRequest) -> HttpResponse:
    return render(
        request, "forums/posting/drafts.html", {"drafts": list(drafts_for_user(_user(request)))}
    )


@login_required
@require_POST
def draft_discard(request: HttpRequest, pk: int) -> HttpResponse:
    draft = get_object_or_404(Draft, pk=pk, user=request.user)
    draft_services.draft_delete(user=_user(request), topic=draft.topic)
    messages.success(request, _("Draft discarded."))
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(reverse("forums:drafts"))


urlpatterns: list[URLPattern] = [
    path("new-topic/", topic_new, name="topic_new"),
    path("t/<int:pk>/reply/", reply, name="reply"),
    path("p/<int:pk>/edit/", post_edit, name="post_edit"),
    path("p/<int:pk>/delete/", post_delete, name="post_delete"),
    path("p/<int:pk>/undelete/", post_undelete, name="post_undelete"),
    path("p/<int:pk>/history/", post_history_page, name="post_history"),
    path("preview/", preview, name="preview"),
    path("drafts/", drafts, name="drafts"),
    path("drafts/<int:pk>/discard/", draft_discard, name="draft_discard"),
]
