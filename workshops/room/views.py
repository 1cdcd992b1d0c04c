"""The live room without JavaScript: one page that shows the room and plain forms that
post to the same services the websocket uses. static/js/room.js enhances the page when
it can (it hooks the ids and data attributes the template sets).

Every POST answers with a redirect back to the page on success; on failure the page is
rendered again with the error and the input kept: 400 for bad input, 403 for an action
the member may not take, 404 for an id that is not of this room.
"""

import datetime as dt
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from community.models import User
from workshops.models import (
    PollKind,
    PollStatus,
    ResultsVisibility,
    Workshop,
    WorkshopStatus,
)
from workshops.room import services
from workshops.room.forms import ChatForm, PollCreateForm, SlowModeForm, new_client_id
from workshops.room.selectors import (
    RATINGS,
    RoomAccess,
    room_access,
    room_muted_user_ids,
    room_snapshot,
)

TEMPLATE = "workshops/room.html"


class _Refused(Exception):
    """The member may not be in this room."""


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _page_url(pk: int, anchor: str = "") -> str:
    url = reverse("workshops:room_page", kwargs={"pk": pk})
    return f"{url}#{anchor}" if anchor else url


def _enter(request: HttpRequest, pk: int) -> RoomAccess:
    try:
        return room_access(workshop_id=pk, user=request.user)
    except Workshop.DoesNotExist:
        raise Http404(_("No such workshop.")) from None
    except PermissionDenied:
        raise _Refused from None


def _refused(request: HttpRequest, pk: int) -> HttpResponse:
    workshop = Workshop.objects.filter(pk=pk).first()
    return render(request, TEMPLATE, {"refused": True, "workshop": workshop}, status=403)


def _add_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Put a service's errors on the form: on the field they name, else on the form."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, errors in exc.message_dict.items():
        known = field in form.fields and not form.fields[field].widget.is_hidden
        form.add_error(field if known else None, errors)


# --- the page -----------------------------------------------------------------------------
def _poll_view(poll: dict[str, Any], posted: list[int] | None) -> dict[str, Any]:
    """A poll from the snapshot, with one row per option (or rating) for the template."""
    tally = poll.get("tally")
    counts = tally["counts"] if tally else {}
    total = tally["total_votes"] if tally else 0
    voters = poll.get("voters", {})
    chosen = posted if posted is not None else (poll["your_vote"] or [])
    if poll["kind"] == PollKind.RATING:
        choices = [(int(rating), rating) for rating in RATINGS]
    else:
        choices = [(option["id"], option["label"]) for option in poll["options"]]
    rows = []
    for value, label in choices:
        count = counts.get(str(value), 0)
        rows.append(
            {
                "value": value,
                "label": label,
                "checked": value in chosen,
                "count": count,
                "percent": round(100 * count / total) if total else 0,
                "voters": voters.get(str(value), []),
            }
        )
    return {
        **poll,
        "rows": rows,
        "mean": counts.get("mean") if poll["kind"] == PollKind.RATING else None,
        "total": total,
        "kind_label": PollKind(poll["kind"]).label,
        "results_label": ResultsVisibility(poll["results"]).label,
        "status_label": PollStatus(poll["status"]).label,
        "input_type": "checkbox" if poll["kind"] == PollKind.MULTIPLE else "radio",
    }


def _render(
    request: HttpRequest,
    access: RoomAccess,
    *,
    status: int = 200,
    errors: list[str] | None = None,
    chat_form: ChatForm | None = None,
    poll_form: PollCreateForm | None = None,
    slow_form: SlowModeForm | None = None,
    vote: tuple[int, list[int], list[str]] | None = None,
) -> HttpResponse:
    user = _user(request)
    workshop = access.workshop
    snapshot = room_snapshot(workshop=workshop, user=user)
    state = snapshot["workshop"]
    is_facilitator = snapshot["you"]["is_facilitator"]
    chat = [
        {
            **message,
            "created": dt.datetime.fromisoformat(message["created_at"]),
            "can_delete": is_facilitator or message["author"]["id"] == user.pk,
        }
        for message in snapshot["chat"]
    ]
    polls = []
    for poll in snapshot["polls"]:
        posted = vote[1] if vote is not None and vote[0] == poll["id"] else None
        shaped = _poll_view(poll, posted)
        shaped["errors"] = vote[2] if vote is not None and vote[0] == poll["id"] else []
        polls.append(shaped)
    chat_form = chat_form or ChatForm()
    client_id = chat_form["client_id"].value() or new_client_id()
    muted_ids = room_muted_user_ids(workshop=workshop) if is_facilitator else set()
    members = [
        {**member, "muted": member["id"] in muted_ids} for member in snapshot["presence"]["members"]
    ]
    context = {
        "workshop": workshop,
        "snapshot": snapshot,
        "state": state,
        "status_label": WorkshopStatus(state["status"]).label,
        "is_facilitator": is_facilitator,
        "you": snapshot["you"],
        "presence": snapshot["presence"],
        "members": members,
        "chat": chat,
        "chat_open": state["status"] in services.CHAT_OPEN,
        "polls": polls,
        "errors": errors or [],
        "chat_form": chat_form,
        "chat_client_id": client_id,
        "poll_form": poll_form or (PollCreateForm() if is_facilitator else None),
        "slow_form": slow_form or SlowModeForm(initial={"seconds": state["slow_mode_seconds"]}),
        "page_url": _page_url(workshop.pk),
    }
    return render(request, TEMPLATE, context, status=status)


@login_required
@require_GET
def room_page(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        access = _enter(request, pk)
    except _Refused:
        return _refused(request, pk)
    return _render(request, access)


# --- the two shapes of a POST: a form, or an action button ----------------------------------
RoomView = Callable[..., HttpResponse]


def _form_view(
    form_class: type[forms.Form],
    form_arg: str,
    run: Callable[[HttpRequest, RoomAccess, User, Any], str | None],
    anchor: str,
    *,
    list_errors: bool = True,
) -> RoomView:
    """A POST view for one of the page's forms: the form validates, ``run`` calls the
    service (and returns a success message, or None for none) and the member goes back
    to ``anchor``; otherwise the page is rendered again with the form (as ``form_arg``)
    and its errors: 400 for bad input, 403 for a refusal."""

    @login_required
    @require_POST
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        try:
            access = _enter(request, pk)
        except _Refused:
            return _refused(request, pk)
        form = form_class(request.POST)
        status = 400
        if form.is_valid():
            try:
                done = run(request, access, _user(request), form)
            except ValidationError as exc:
                _add_errors(form, exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
                status = 403
            else:
                if done is not None:
                    messages.success(request, done)
                return redirect(_page_url(pk, anchor))
        errors = [str(e) for e in form.non_field_errors()] if list_errors else None
        page: dict[str, Any] = {form_arg: form}
        return _render(request, access, status=status, errors=errors, **page)

    return view


def _action_view(run: Callable[..., str], anchor: str | Callable[..., str] = "") -> RoomView:
    """A POST view for one of the page's action buttons (the facilitator controls, a
    delete): ``run(request, access, user, **url_kwargs)`` calls the service and says
    what happened, and the member goes back to the page at ``anchor``; a refusal renders
    the page again with the error: 400 for bad input, 403 for a wrong actor, 404 for an
    id that is not of this room."""

    @login_required
    @require_POST
    def view(request: HttpRequest, pk: int, **kwargs: Any) -> HttpResponse:
        try:
            access = _enter(request, pk)
        except _Refused:
            return _refused(request, pk)
        try:
            done = run(request, access, _user(request), **kwargs)
        except ValidationError as exc:
            return _render(request, access, errors=exc.messages, status=400)
        except PermissionDenied as exc:
            return _render(request, access, errors=[str(exc)], status=403)
        except ObjectDoesNotExist:
            raise Http404(_("Not found in this room.")) from None
        messages.success(request, done)
        return redirect(_page_url(pk, anchor(**kwargs) if callable(anchor) else anchor))

    return view


def _flag(request: HttpRequest, name: str) -> bool:
    value = request.POST.get(name)
    if value not in {"0", "1"}:
        raise ValidationError({name: _("Choose on or off.")})
    return value == "1"


# --- chat and votes -----------------------------------------------------------------------
def _chat(request: HttpRequest, access: RoomAccess, user: User, form: Any) -> None:
    services.chat_message_post(
        workshop=access.workshop,
        user=user,
        client_id=form.cleaned_data["client_id"],
        body=form.cleaned_data["body"],
    )
    return None


room_chat = _form_view(ChatForm, "chat_form", _chat, "chat-form", list_errors=False)


def _choice_ids(values: list[str]) -> list[int]:
    try:
        return [int(value) for value in values]
    except ValueError:
        raise ValidationError({"choices": _("Choose among this poll's options.")}) from None


@login_required
@require_POST
def room_vote(request: HttpRequest, pk: int, poll_id: int) -> HttpResponse:
    try:
        access = _enter(request, pk)
    except _Refused:
        return _refused(request, pk)
    raw = request.POST.getlist("choices")
    try:
        choices = _choice_ids(raw)
        services.poll_vote_cast(
            workshop=access.workshop, user=_user(request), poll_id=poll_id, choices=choices
        )
    except ValidationError as exc:
        posted = [int(v) for v in raw if v.isdigit()]
        return _render(request, access, vote=(poll_id, posted, exc.messages), status=400)
    except PermissionDenied as exc:
        return _render(request, access, errors=[str(exc)], status=403)
    except ObjectDoesNotExist:
        raise Http404(_("No such poll in this room.")) from None
    messages.success(request, _("Your vote is counted."))
    return redirect(_page_url(pk, f"poll-{poll_id}"))


# --- facilitator controls -----------------------------------------------------------------
def _session(request: HttpRequest, access: RoomAccess, user: User, *, action: str) -> str:
    if action == "start":
        services.room_session_start(workshop=access.workshop, actor=user)
        return _("The session is live.")
    services.room_session_end(workshop=access.workshop, actor=user)
    return _("The session has ended.")


def _chat_lock(request: HttpRequest, access: RoomAccess, user: User) -> str:
    locked = _flag(request, "locked")
    services.room_chat_lock(workshop=access.workshop, actor=user, locked=locked)
    return _("The chat is locked.") if locked else _("The chat is open.")


def _slow_mode(request: HttpRequest, access: RoomAccess, user: User, form: Any) -> str:
    seconds = form.cleaned_data["seconds"]
    services.room_slow_mode(workshop=access.workshop, actor=user, seconds=seconds)
    if seconds:
        return _("Slow mode: one message per %d seconds per member.") % seconds
    return _("Slow mode is off.")


def _message_delete(
    request: HttpRequest, access: RoomAccess, user: User, *, message_id: int
) -> str:
    services.chat_message_delete(workshop=access.workshop, actor=user, message_id=message_id)
    return _("The message is deleted.")


def _participant_mute(request: HttpRequest, access: RoomAccess, user: User, *, user_id: int) -> str:
    muted = _flag(request, "muted")
    services.room_participant_mute(
        workshop=access.workshop, actor=user, user_id=user_id, muted=muted
    )
    return _("The participant is muted.") if muted else _("The participant may write again.")


def _participant_remove(
    request: HttpRequest, access: RoomAccess, user: User, *, user_id: int
) -> str:
    services.room_participant_remove(workshop=access.workshop, actor=user, user_id=user_id)
    return _("The participant is removed from the room.")


room_session = _action_view(_session)
room_chat_lock = _action_view(_chat_lock, "chat-form")
room_slow_mode = _form_view(SlowModeForm, "slow_form", _slow_mode, "chat-form")
room_message_delete = _action_view(_message_delete, "chat-log")
room_participant_mute = _action_view(_participant_mute, "presence")
room_participant_remove = _action_view(_participant_remove, "presence")


# --- polls --------------------------------------------------------------------------------
def _poll_create(request: HttpRequest, access: RoomAccess, user: User, form: Any) -> str:
    data = form.cleaned_data
    services.poll_create(
        workshop=access.workshop,
        actor=user,
        client_id=data["client_id"],
        question=data["question"],
        kind=data["kind"],
        options=form.option_labels(),
        anonymous=data["anonymous"],
        results=data["results"],
    )
    return _("The poll is saved as a draft. Open it when ready.")


def _poll_action(
    request: HttpRequest, access: RoomAccess, user: User, *, poll_id: int, action: str
) -> str:
    actions = {
        "open": (services.poll_open, _("The poll is open.")),
        "close": (services.poll_close, _("The poll is closed.")),
        "reveal": (services.poll_reveal, _("The results are shown to everyone.")),
    }
    service, done = actions[action]
    service(workshop=access.workshop, actor=user, poll_id=poll_id)
    return str(done)


room_poll_create = _form_view(PollCreateForm, "poll_form", _poll_create, "polls")
room_poll_action = _action_view(_poll_action, lambda poll_id, **_kw: f"poll-{poll_id}")
