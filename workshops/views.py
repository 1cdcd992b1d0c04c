"""Server-rendered workshop pages: lists, one workshop, scheduling forms, registration,
calendar files and feed, and the attendance report. No JavaScript needed; times are shown
in the viewer's zone (the middleware activates it) with the zone named."""

import csv
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from community.models import User
from community.selectors import catalogue_areas
from workshops import services
from workshops.calendar import feed_ics, workshop_ics
from workshops.forms import CancelWorkshopForm, WorkshopFilterForm, WorkshopForm
from workshops.models import CalendarFeed, Registration, RegistrationStatus, Workshop
from workshops.selectors import (
    PAST,
    UPCOMING,
    attendance_report,
    calendar_feed_user,
    calendar_workshops,
    facilitated_upcoming,
    registrations_for_user,
    workshop_get,
    workshop_list,
    workshop_view,
)

PER_PAGE = 20


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _workshop_or_404(request: HttpRequest, pk: int) -> Workshop:
    try:
        return workshop_get(pk=pk, viewer=request.user)
    except Workshop.DoesNotExist:
        raise Http404(_("No such workshop.")) from None


def _add_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Put a service's errors on the form: on the field they name, else on the form."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


# --- lists --------------------------------------------------------------------------------
def workshop_list_page(request: HttpRequest) -> HttpResponse:
    when = PAST if request.GET.get("when") == PAST else UPCOMING
    form = WorkshopFilterForm(request.GET or None, areas=list(catalogue_areas()))
    workshops = workshop_list(when=when, filters=form.filters(), viewer=request.user)
    page = Paginator(workshops, PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    filters = query.copy()
    filters.pop("when", None)
    return render(
        request,
        "workshops/list.html",
        {
            "form": form,
            "page": page,
            "when": when,
            "query": query.urlencode(),
            "filter_query": filters.urlencode(),
            "can_create": services.can_create_workshops(request.user),
        },
    )


# --- one workshop -------------------------------------------------------------------------
def workshop_detail(request: HttpRequest, pk: int) -> HttpResponse:
    workshop = _workshop_or_404(request, pk)
    view = workshop_view(workshop=workshop, viewer=request.user)
    return render(
        request,
        "workshops/detail.html",
        {
            "workshop": workshop,
            "view": view,
            "cancel_form": CancelWorkshopForm() if view.can_edit else None,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def workshop_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not services.can_create_workshops(user):
        raise PermissionDenied(_("Only facilitators and staff schedule workshops."))
    form = WorkshopForm(
        request.POST or None,
        areas=list(catalogue_areas()),
        default_zone=services.profile_time_zone(user),
    )
    if request.method == "POST" and form.is_valid():
        try:
            workshop = services.workshop_create(actor=user, **form.service_data())
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("The workshop has been scheduled."))
            return redirect(workshop)
    status = 400 if request.method == "POST" else 200
    return render(request, "workshops/form.html", {"form": form, "workshop": None}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def workshop_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    workshop = _workshop_or_404(request, pk)
    if not services.can_edit_workshop(user, workshop):
        raise PermissionDenied(_("Only this workshop's facilitators can change it."))
    form = WorkshopForm(
        request.POST or None,
        areas=list(catalogue_areas()),
        workshop=workshop,
        actor_username=user.username,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.workshop_update(actor=user, workshop=workshop, data=form.service_data())
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("The workshop has been saved."))
            return redirect(workshop)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "workshops/form.html", {"form": form, "workshop": workshop}, status=status
    )


@login_required
@require_POST
def workshop_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    workshop = _workshop_or_404(request, pk)
    form = CancelWorkshopForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.workshop_cancel(actor=_user(request), workshop=workshop, reason=reason)
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
    else:
        messages.success(request, _("The workshop has been cancelled; registrants were told."))
    return redirect(workshop)


@login_required
@require_POST
def register(request: HttpRequest, pk: int) -> HttpResponse:
    workshop = _workshop_or_404(request, pk)
    try:
        registration = services.registration_create(workshop=workshop, user=_user(request))
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
    else:
        if registration.status == RegistrationStatus.REGISTERED:
            messages.success(request, _("You are registered."))
        else:
            messages.info(
                request,
                _(
                    "The workshop is full: you are on the waitlist and will get a seat "
                    "automatically when one frees up."
                ),
            )
    return redirect(workshop)


@login_required
@require_POST
def unregister(request: HttpRequest, pk: int) -> HttpResponse:
    workshop = _workshop_or_404(request, pk)
    registration = (
        Registration.objects.filter(workshop=workshop, user=_user(request))
        .exclude(status=RegistrationStatus.CANCELLED)
        .first()
    )
    if registration is None:
        messages.info(request, _("You were not registered."))
        return redirect(workshop)
    try:
        services.registration_cancel(actor=_user(request), registration=registration)
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
    else:
        messages.success(request, _("Your registration has been cancelled."))
    return redirect(workshop)


@require_GET
def workshop_calendar_file(request: HttpRequest, pk: int) -> HttpResponse:
    workshop = _workshop_or_404(request, pk)
    response = HttpResponse(workshop_ics(workshop), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="workshop-{workshop.pk}.ics"'
    return response


# --- attendance ---------------------------------------------------------------------------
def _attendance(request: HttpRequest, pk: int) -> tuple[Workshop, list[Any]]:
    workshop = _workshop_or_404(request, pk)
    if not services.can_edit_workshop(_user(request), workshop):
        raise PermissionDenied(_("Only this workshop's facilitators see its attendance."))
    return workshop, attendance_report(workshop=workshop)


@login_required
@require_GET
def attendance(request: HttpRequest, pk: int) -> HttpResponse:
    workshop, rows = _attendance(request, pk)
    return render(
        request,
        "workshops/attendance.html",
        {
            "workshop": workshop,
            "rows": rows,
            "attended": sum(1 for row in rows if row.stays),
        },
    )


@login_required
@require_GET
def attendance_csv(request: HttpRequest, pk: int) -> HttpResponse:
    workshop, rows = _attendance(request, pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="attendance-{workshop.pk}.csv"'
    writer = csv.writer(response)
    writer.writerow(
        ["username", "name", "role", "registration", "first_join", "last_leave", "minutes"]
    )

    def when(value: Any) -> str:
        return timezone.localtime(value).isoformat(timespec="seconds") if value else ""

    for row in rows:
        name = row.name
        if name[:1] in ("=", "+", "-", "@"):  # no formulas when opened in a spreadsheet
            name = "'" + name
        writer.writerow(
            [
                row.user.username,
                name,
                "facilitator" if row.is_facilitator else "participant",
                row.registration_status,
                when(row.first_join),
                when(row.last_leave),
                row.minutes,
            ]
        )
    return response


# --- calendar feed ------------------------------------------------------------------------
@login_required
@require_GET
def calendar_page(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    feed = services.calendar_feed_get_or_create(user=user)
    url = request.build_absolute_uri(reverse("workshops:calendar_feed", args=[feed.token]))
    return render(
        request,
        "workshops/calendar.html",
        {
            "feed_url": url,
            "registrations": registrations_for_user(user=user),
            "facilitating": facilitated_upcoming(user=user),
        },
    )


@login_required
@require_POST
def calendar_reset(request: HttpRequest) -> HttpResponse:
    services.calendar_feed_reset(user=_user(request))
    messages.success(
        request, _("Your calendar feed has a new address; the old one no longer works.")
    )
    return redirect("workshops:calendar")


@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    try:
        user = calendar_feed_user(token=token)
    except CalendarFeed.DoesNotExist:
        raise Http404(_("No such calendar feed.")) from None
    response = HttpResponse(
        feed_ics(user, calendar_workshops(user=user)), content_type="text/calendar; charset=utf-8"
    )
    response["Cache-Control"] = "private, max-age=300"
    return response
