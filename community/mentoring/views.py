"""Server-rendered mentoring pages: recommendations, settings, mentorships, programmes."""

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from community.mentoring import services
from community.mentoring.calendar import meeting_invite_ics
from community.mentoring.forms import (
    FeedbackForm,
    GoalForm,
    GoalProgressForm,
    MatchAdjustForm,
    MentorFilterForm,
    MentoringSettingsForm,
    MentorshipRequestForm,
    ProgrammeForm,
    ProgrammeMemberForm,
    ReasonForm,
    SessionForm,
    availability_formset,
)
from community.mentoring.models import (
    ENDED_STATUSES,
    AvailabilityWindow,
    Format,
    MentoringProfile,
    Mentorship,
    MentorshipStatus,
    MentorSkill,
    Programme,
    ProgrammeMatch,
    ProgrammeMember,
    ProgrammeRole,
    ProgrammeStatus,
    TargetSkill,
)
from community.mentoring.selectors import (
    meeting_suggestions,
    mentor_recommendations,
    mentorship_get_for_user,
    mentorships_for_user,
    programme_get_for_user,
    programmes_for_user,
)
from community.models import Profile, ProfileLanguage, User
from community.selectors import catalogue_areas

INVITE_MINUTES = (15, 240)


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _add_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Put a service's errors on the form: on the field they name, else on the form."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, errors in exc.message_dict.items():
        known = field in form.fields and not form.fields[field].widget.is_hidden
        form.add_error(field if known else None, errors)


def _errors(exc: ValidationError) -> list[str]:
    return list(exc.messages)


def _form_errors(bound: dict[str, forms.Form]) -> list[str]:
    """Every error of the bound forms, for the summary at the top of the page (a form
    whose section is not shown any more still tells what went wrong)."""
    summary = []
    for form in bound.values():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else None
            summary += [
                _("%(field)s: %(error)s") % {"field": label, "error": error}
                if label
                else str(error)
                for error in errors
            ]
    return list(dict.fromkeys(summary))


def _profile(user: User) -> Profile | None:
    try:
        return user.profile
    except Profile.DoesNotExist:
        return None


def _name(user: User) -> str:
    profile = _profile(user)
    return profile.display_name if profile and profile.display_name else user.username


def _zone(user: User) -> str:
    profile = _profile(user)
    return profile.time_zone if profile and profile.time_zone else "UTC"


def _next_or(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


# --- home: my mentorships, requests to me, recommendations ---------------------------------------
def _request_auto_id(mentor_pk: int | None) -> str:
    return f"id_request_{mentor_pk or 'x'}_%s"


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return render(request, "mentoring/home.html", {})
    return _render_home(request)


def _render_home(
    request: HttpRequest, *, request_form: MentorshipRequestForm | None = None, status: int = 200
) -> HttpResponse:
    user = _user(request)
    filter_form = MentorFilterForm(request.GET or None, areas=list(catalogue_areas()))
    filters = filter_form.filters()
    suggestions = mentor_recommendations(
        mentee=user,
        skill=filters["skill"],
        language=filters["language"],
        country=filters["country"],
    )
    mentorships = list(mentorships_for_user(user=user))
    pending = [
        m for m in mentorships if m.mentor_id == user.pk and m.status == MentorshipStatus.REQUESTED
    ]
    settings_rows = MentoringProfile.objects.in_bulk(
        [user.pk, *[s.profile.pk for s in suggestions]]
    )
    own = settings_rows.get(user.pk)
    posted_for = request_form.data.get("mentor", "") if request_form is not None else None
    cards = []
    for suggestion in suggestions:
        username = suggestion.profile.user.username
        if request_form is not None and posted_for == username:
            form, posted_for = request_form, None
        else:
            form = MentorshipRequestForm(
                initial={"mentor": username, "goals": own.goals if own else ""},
                auto_id=_request_auto_id(suggestion.profile.pk),
            )
        row = settings_rows.get(suggestion.profile.pk)
        cards.append(
            {
                "suggestion": suggestion,
                "form": form,
                "formats": [Format(f).label for f in row.formats] if row else [],
            }
        )
    return render(
        request,
        "mentoring/home.html",
        {
            "filter_form": filter_form,
            "cards": cards,
            # a failed request whose mentor is no longer among the suggestions
            "request_form": request_form if posted_for is not None else None,
            "as_mentee": [m for m in mentorships if m.mentee_id == user.pk],
            "as_mentor": [
                m
                for m in mentorships
                if m.mentor_id == user.pk and m.status != MentorshipStatus.REQUESTED
            ],
            "pending": [(m, ReasonForm(auto_id=f"id_decline_{m.pk}_%s")) for m in pending],
            "own_settings": own,
            "can_run_programmes": services.can_run_programmes(user),
        },
        status=status,
    )


@login_required
@require_POST
def mentorship_request(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    username = request.POST.get("mentor", "")
    mentor = User.objects.filter(username=username, is_active=True).first()
    form = MentorshipRequestForm(
        request.POST, auto_id=_request_auto_id(mentor.pk if mentor else None)
    )
    if form.is_valid():
        if mentor is None:
            form.add_error(None, _("No such mentor."))
        else:
            try:
                mentorship = services.mentorship_request(
                    mentee=user,
                    mentor=mentor,
                    message=form.cleaned_data["message"],
                    goals=form.cleaned_data["goals"],
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("Your request has been sent to %(name)s.") % {"name": _name(mentor)},
                )
                return redirect("mentoring:mentorship_detail", pk=mentorship.pk)
    return _render_home(request, request_form=form, status=400)


# --- settings ----------------------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
def settings_edit(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    profile = services.mentoring_profile_get_or_create(user=user)
    data = request.POST if request.method == "POST" else None
    form = MentoringSettingsForm(
        data,
        instance=profile,
        areas=list(catalogue_areas()),
        mentor_levels=dict(MentorSkill.objects.filter(user=user).values_list("skill_id", "level")),
        targets=list(TargetSkill.objects.filter(user=user)),
    )
    formset = availability_formset(data, list(AvailabilityWindow.objects.filter(user=user)))
    if request.method == "POST":
        form_ok = form.is_valid()
        if formset.is_valid() and form_ok:
            try:
                services.mentoring_settings_update(
                    user=user, data=form.service_data(formset.windows())
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("Your mentoring settings have been saved."))
                return redirect("mentoring:settings")
    return render(
        request,
        "mentoring/settings.html",
        {"form": form, "formset": formset, "time_zone": _zone(user)},
        status=400 if request.method == "POST" else 200,
    )


# --- one mentorship ----------------------------------------------------------------------------
def _mentorship_or_404(request: HttpRequest, pk: int) -> Mentorship:
    try:
        return mentorship_get_for_user(pk=pk, user=_user(request))
    except Mentorship.DoesNotExist:
        raise Http404(_("No such mentorship.")) from None


def _render_detail(
    request: HttpRequest,
    mentorship: Mentorship,
    *,
    bound: dict[str, forms.Form] | None = None,
    errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    bound = bound or {}
    errors = [*(errors or []), *_form_errors(bound)]
    m = mentorship
    is_mentor = user.pk == m.mentor_id
    other = m.mentee if is_mentor else m.mentor
    active = m.status == MentorshipStatus.ACTIVE
    ended = m.status in ENDED_STATUSES
    feedback = list(m.feedback.all())
    mine = next((f for f in feedback if f.author_id == user.pk), None)
    goals = [
        (
            goal,
            bound.get(f"goal-{goal.pk}")
            or GoalProgressForm(
                initial={"progress": goal.progress}, auto_id=f"id_goal_{goal.pk}_%s"
            ),
        )
        for goal in m.goal_items.all()
    ]
    zones = {"mentee": _zone(m.mentee), "mentor": _zone(m.mentor)}
    slots = []
    if active:
        for slot in meeting_suggestions(mentorship=m):
            query = f"start={slot.start_utc:%Y-%m-%dT%H:%MZ}"
            slots.append({"start": slot.start_utc, "end": slot.end_utc, "query": query})
    return render(
        request,
        "mentoring/mentorship_detail.html",
        {
            "mentorship": m,
            "is_mentor": is_mentor,
            "other": other,
            "other_name": _name(other),
            "mentee_name": _name(m.mentee),
            "mentor_name": _name(m.mentor),
            "zones": zones,
            "active": active,
            "ended": ended,
            "can_respond": is_mentor and m.status == MentorshipStatus.REQUESTED,
            "can_withdraw": not is_mentor and m.status == MentorshipStatus.REQUESTED,
            "goals": goals,
            "sessions": list(m.sessions.all()),
            "slots": slots,
            "my_feedback": mine,
            "other_gave_feedback": any(f.author_id != user.pk for f in feedback),
            "decline_form": bound.get("decline") or ReasonForm(auto_id="id_decline_%s"),
            "end_form": bound.get("end") or ReasonForm(auto_id="id_end_%s"),
            "goal_form": bound.get("goal") or GoalForm(auto_id="id_goal_new_%s"),
            "session_form": bound.get("session") or SessionForm(auto_id="id_session_%s"),
            "feedback_form": bound.get("feedback") or FeedbackForm(auto_id="id_feedback_%s"),
            "errors": errors,
        },
        status=status,
    )


@login_required
def mentorship_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, _mentorship_or_404(request, pk))


def _transition(
    service: Callable[..., Mentorship],
    done: Callable[[], str],
    *,
    reason_form: str | None = None,
) -> Callable[[HttpRequest, int], HttpResponse]:
    """A lifecycle step: call the service, then back to where the member came from."""

    @login_required
    @require_POST
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        mentorship = _mentorship_or_404(request, pk)
        kwargs: dict[str, Any] = {}
        form = None
        if reason_form:
            form = ReasonForm(request.POST, auto_id=f"id_{reason_form}_%s")
            if not form.is_valid():
                return _render_detail(request, mentorship, bound={reason_form: form}, status=400)
            kwargs["reason"] = form.cleaned_data["reason"]
        try:
            service(actor=_user(request), mentorship=mentorship, **kwargs)
        except ValidationError as exc:
            return _render_detail(request, mentorship, errors=_errors(exc), status=400)
        messages.success(request, done())
        default = reverse("mentoring:mentorship_detail", kwargs={"pk": mentorship.pk})
        return redirect(_next_or(request, default))

    return view


mentorship_accept = _transition(
    services.mentorship_accept, lambda: _("You accepted the request; the mentorship is active.")
)
mentorship_decline = _transition(
    services.mentorship_decline, lambda: _("You declined the request."), reason_form="decline"
)
mentorship_withdraw = _transition(
    services.mentorship_withdraw, lambda: _("You withdrew your request.")
)
mentorship_complete = _transition(
    services.mentorship_complete,
    lambda: _("The mentorship is completed. Please leave feedback."),
    reason_form="end",
)
mentorship_cancel = _transition(
    services.mentorship_cancel,
    lambda: _("The mentorship is cancelled. Please leave feedback."),
    reason_form="end",
)


@login_required
@require_POST
def goal_add(request: HttpRequest, pk: int) -> HttpResponse:
    mentorship = _mentorship_or_404(request, pk)
    form = GoalForm(request.POST, auto_id="id_goal_new_%s")
    if form.is_valid():
        try:
            services.mentorship_goal_add(
                actor=_user(request), mentorship=mentorship, title=form.cleaned_data["title"]
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("The goal has been added."))
            return redirect("mentoring:mentorship_detail", pk=mentorship.pk)
    return _render_detail(request, mentorship, bound={"goal": form}, status=400)


@login_required
@require_POST
def goal_progress(request: HttpRequest, pk: int, goal_pk: int) -> HttpResponse:
    mentorship = _mentorship_or_404(request, pk)
    goal = next((g for g in mentorship.goal_items.all() if g.pk == goal_pk), None)
    if goal is None:
        raise Http404(_("No such goal."))
    goal.mentorship = mentorship
    form = GoalProgressForm(request.POST, auto_id=f"id_goal_{goal.pk}_%s")
    if form.is_valid():
        try:
            services.mentorship_goal_progress(
                actor=_user(request), goal=goal, progress=form.cleaned_data["progress"]
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Progress saved."))
            return redirect("mentoring:mentorship_detail", pk=mentorship.pk)
    return _render_detail(request, mentorship, bound={f"goal-{goal.pk}": form}, status=400)


@login_required
@require_POST
def session_log(request: HttpRequest, pk: int) -> HttpResponse:
    mentorship = _mentorship_or_404(request, pk)
    form = SessionForm(request.POST, auto_id="id_session_%s")
    if form.is_valid():
        try:
            services.mentorship_session_log(
                actor=_user(request), mentorship=mentorship, **form.cleaned_data
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("The session has been logged."))
            return redirect("mentoring:mentorship_detail", pk=mentorship.pk)
    return _render_detail(request, mentorship, bound={"session": form}, status=400)


@login_required
@require_POST
def feedback_give(request: HttpRequest, pk: int) -> HttpResponse:
    mentorship = _mentorship_or_404(request, pk)
    form = FeedbackForm(request.POST, auto_id="id_feedback_%s")
    if form.is_valid():
        try:
            services.mentorship_feedback_give(
                actor=_user(request), mentorship=mentorship, **form.cleaned_data
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Thank you for your feedback."))
            return redirect("mentoring:mentorship_detail", pk=mentorship.pk)
    return _render_detail(request, mentorship, bound={"feedback": form}, status=400)


@login_required
def mentorship_invite(request: HttpRequest, pk: int) -> HttpResponse:
    """An .ics invite for a meeting of this mentorship starting at ``?start=`` (UTC)."""
    mentorship = _mentorship_or_404(request, pk)
    if mentorship.status != MentorshipStatus.ACTIVE:
        return HttpResponseBadRequest(_("Meetings are planned in active mentorships only."))
    try:
        start = dt.datetime.fromisoformat(request.GET.get("start", ""))
        minutes = int(request.GET.get("minutes", "60"))
    except ValueError:
        start, minutes = None, 0
    low, high = INVITE_MINUTES
    if start is None or start.tzinfo is None or not low <= minutes <= high:
        return HttpResponseBadRequest(
            _("Give the start as an ISO date and time in UTC, e.g. 2030-01-07T09:00Z.")
        )
    response = HttpResponse(
        meeting_invite_ics(mentorship, start, minutes), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="mentoring-{mentorship.pk}.ics"'
    return response


# --- programmes --------------------------------------------------------------------------------
def _require_runner(request: HttpRequest) -> User:
    user = _user(request)
    if not services.can_run_programmes(user):
        raise PermissionDenied(_("Only staff and facilitators run mentoring programmes."))
    return user


@login_required
def programme_list(request: HttpRequest) -> HttpResponse:
    user = _require_runner(request)
    programmes = programmes_for_user(user=user).select_related("owner__profile")
    return render(request, "mentoring/programme_list.html", {"programmes": programmes})


@login_required
@require_http_methods(["GET", "POST"])
def programme_new(request: HttpRequest) -> HttpResponse:
    user = _require_runner(request)
    form = ProgrammeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            programme = services.programme_create(actor=user, **form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("The programme has been created. Now add its members."))
            return redirect("mentoring:programme_detail", pk=programme.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "mentoring/programme_form.html", {"form": form}, status=status)


def _programme_or_404(request: HttpRequest, pk: int) -> Programme:
    try:
        return programme_get_for_user(pk=pk, user=_user(request))
    except Programme.DoesNotExist:
        raise Http404(_("No such programme.")) from None


def _unmatched_reasons(
    mentees: list[ProgrammeMember], mentors: list[ProgrammeMember], matches: list[ProgrammeMatch]
) -> dict[int, str]:
    """Why each mentee without a proposed mentor has none (the only hard constraint in a
    programme is a shared language; capacity is the programme capacity)."""
    matched = {m.mentee_id for m in matches}
    waiting = [m for m in mentees if m.user_id not in matched]
    if not waiting:
        return {}
    langs: dict[int, set[str]] = defaultdict(set)
    ids = [m.user_id for m in waiting] + [m.user_id for m in mentors]
    for uid, code in ProfileLanguage.objects.filter(profile_id__in=ids).values_list(
        "profile_id", "code"
    ):
        langs[uid].add(code)
    used = Counter(m.mentor_id for m in matches)
    reasons = {}
    for mentee in waiting:
        sharing = [m for m in mentors if langs[m.user_id] & langs[mentee.user_id]]
        if not sharing:
            reasons[mentee.user_id] = _(
                "No mentor in the pool speaks a language this mentee speaks."
            )
        elif all(used[m.user_id] >= m.capacity for m in sharing):
            reasons[mentee.user_id] = _(
                "Every mentor who shares a language with this mentee is at capacity."
            )
        else:
            reasons[mentee.user_id] = _(
                "Not in the current proposal, though a mentor with a free place shares a "
                "language: choose a mentor below or run the matching again."
            )
    return reasons


def _render_programme(
    request: HttpRequest,
    programme: Programme,
    *,
    bound: dict[str, forms.Form] | None = None,
    errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    bound = bound or {}
    errors = [*(errors or []), *_form_errors(bound)]
    members = list(programme.members.select_related("user__profile"))
    mentees = [m for m in members if m.role == ProgrammeRole.MENTEE]
    mentors = [m for m in members if m.role == ProgrammeRole.MENTOR]
    matches = list(programme.matches.select_related("mentee__profile", "mentor__profile"))
    names = {m.user_id: _name(m.user) for m in members}
    mentor_choices = [(m.user_id, names[m.user_id]) for m in mentors]
    editable = programme.status == ProgrammeStatus.PROPOSED

    def adjust_form(mentee_id: int, mentor_id: int | None) -> MatchAdjustForm:
        return bound.get(f"adjust-{mentee_id}") or MatchAdjustForm(  # type: ignore[return-value]
            initial={"mentee": mentee_id, "mentor": mentor_id},
            mentors=mentor_choices,
            auto_id=f"id_adjust_{mentee_id}_%s",
        )

    report = None
    if programme.status != ProgrammeStatus.DRAFT:
        total = round(sum(m.score for m in matches), 2)
        reasons = _unmatched_reasons(mentees, mentors, matches)
        report = {
            "total": total,
            "mean": round(total / len(matches), 2) if matches else 0,
            "matched": len(matches),
            "cohort": len(mentees),
            "pairs": [
                (
                    match,
                    _name(match.mentee),
                    _name(match.mentor),
                    adjust_form(match.mentee_id, match.mentor_id),
                )
                for match in matches
            ],
            "unmatched": [
                (m, names[m.user_id], reasons[m.user_id], adjust_form(m.user_id, None))
                for m in mentees
                if m.user_id in reasons
            ],
        }
    return render(
        request,
        "mentoring/programme_detail.html",
        {
            "programme": programme,
            "mentees": [(m, names[m.user_id]) for m in mentees],
            "mentors": [(m, names[m.user_id]) for m in mentors],
            "report": report,
            "editable": editable,
            "open": programme.status != ProgrammeStatus.PUBLISHED,
            "member_form": bound.get("member") or ProgrammeMemberForm(),
            "errors": errors,
        },
        status=status,
    )


@login_required
def programme_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_programme(request, _programme_or_404(request, pk))


@login_required
@require_POST
def programme_member_add(request: HttpRequest, pk: int) -> HttpResponse:
    programme = _programme_or_404(request, pk)
    form = ProgrammeMemberForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        user = User.objects.filter(username=data["username"], is_active=True).first()
        if user is None:
            form.add_error("username", _("No member has this username."))
        else:
            try:
                services.programme_member_add(
                    actor=_user(request),
                    programme=programme,
                    user=user,
                    role=data["role"],
                    capacity=data["capacity"],
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(
                    request, _("%(name)s has been added to the programme.") % {"name": _name(user)}
                )
                return redirect("mentoring:programme_detail", pk=programme.pk)
    return _render_programme(request, programme, bound={"member": form}, status=400)


@login_required
@require_POST
def programme_member_remove(request: HttpRequest, pk: int, user_pk: int) -> HttpResponse:
    programme = _programme_or_404(request, pk)
    member = programme.members.select_related("user__profile").filter(user_id=user_pk).first()
    if member is None:
        raise Http404(_("Not a member of this programme."))
    try:
        services.programme_member_remove(
            actor=_user(request), programme=programme, user=member.user
        )
    except ValidationError as exc:
        return _render_programme(request, programme, errors=_errors(exc), status=400)
    messages.success(
        request, _("%(name)s has been removed from the programme.") % {"name": _name(member.user)}
    )
    return redirect("mentoring:programme_detail", pk=programme.pk)


@login_required
@require_POST
def programme_match(request: HttpRequest, pk: int) -> HttpResponse:
    programme = _programme_or_404(request, pk)
    try:
        matches = services.programme_match_run(actor=_user(request), programme=programme)
    except ValidationError as exc:
        return _render_programme(request, programme, errors=_errors(exc), status=400)
    messages.success(
        request, _("Matching done: %(n)d pairs proposed. Review them below.") % {"n": len(matches)}
    )
    return redirect("mentoring:programme_detail", pk=programme.pk)


@login_required
@require_POST
def programme_adjust(request: HttpRequest, pk: int) -> HttpResponse:
    programme = _programme_or_404(request, pk)
    members = {m.user_id: m for m in programme.members.select_related("user__profile")}
    choices = [(uid, _name(m.user)) for uid, m in members.items() if m.role == ProgrammeRole.MENTOR]
    posted = request.POST.get("mentee", "")
    key = f"adjust-{posted}" if posted.isdigit() else "adjust"
    form = MatchAdjustForm(
        request.POST, mentors=choices, auto_id=f"id_adjust_{posted if posted.isdigit() else 'x'}_%s"
    )
    if form.is_valid():
        mentee = members.get(form.cleaned_data["mentee"])
        mentor_id = form.cleaned_data["mentor"]
        if mentee is None or mentee.role != ProgrammeRole.MENTEE:
            form.add_error(None, _("Not a mentee in this programme."))
        else:
            try:
                services.programme_match_adjust(
                    actor=_user(request),
                    programme=programme,
                    mentee=mentee.user,
                    mentor=members[mentor_id].user if mentor_id is not None else None,
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("The proposal has been adjusted."))
                return redirect("mentoring:programme_detail", pk=programme.pk)
    return _render_programme(request, programme, bound={key: form}, status=400)


@login_required
@require_POST
def programme_publish(request: HttpRequest, pk: int) -> HttpResponse:
    programme = _programme_or_404(request, pk)
    try:
        created = services.programme_publish(actor=_user(request), programme=programme)
    except ValidationError as exc:
        return _render_programme(request, programme, errors=_errors(exc), status=400)
    messages.success(
        request,
        _("The programme is published: %(n)d mentorships have started.") % {"n": len(created)},
    )
    return redirect("mentoring:programme_detail", pk=programme.pk)
