"""Thin API views over the workshop scheduling services and selectors."""

from typing import Any

from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from community.models import User, time_zone_names
from config.api import error_responses, paginated, validated
from workshops import services
from workshops.api.serializers import (
    AttendanceSerializer,
    CalendarFeedSerializer,
    CancelInput,
    EmptyInput,
    RegistrationSerializer,
    WorkshopCreateInput,
    WorkshopDetailSerializer,
    WorkshopListInput,
    WorkshopSerializer,
    WorkshopUpdateInput,
)
from workshops.calendar import workshop_ics
from workshops.models import Registration, RegistrationStatus, Workshop
from workshops.selectors import (
    WorkshopFilters,
    attendance_report,
    registrations_for_user,
    workshop_get,
    workshop_list,
    workshop_view,
)

TAGS = ["workshops"]


def _me(request: Request) -> User:
    assert isinstance(request.user, User)
    return request.user


def _workshop(request: Request, pk: int) -> Workshop:
    try:
        return workshop_get(pk=pk, viewer=request.user)
    except Workshop.DoesNotExist:
        raise exceptions.NotFound(_("No such workshop.")) from None


def _detail(request: Request, pk: int, code: int = status.HTTP_200_OK) -> Response:
    workshop = _workshop(request, pk)
    view = workshop_view(workshop=workshop, viewer=request.user)
    context = {"request": request, "view_state": view}
    return Response(WorkshopDetailSerializer(workshop, context=context).data, status=code)


def _viewer_zone(request: Request, asked: str | None) -> str:
    if asked:
        if asked not in time_zone_names():
            raise exceptions.ValidationError({"time_zone": [_("Unknown time zone.")]})
        return asked
    if request.user.is_authenticated:
        return services.profile_time_zone(_me(request))
    return "UTC"


class WorkshopListView(GenericAPIView[Any]):
    serializer_class = WorkshopSerializer

    @extend_schema(
        operation_id="workshops_list",
        summary="Upcoming (soonest first) or past (latest first) workshops, with filters",
        parameters=[WorkshopListInput],
        responses={200: WorkshopSerializer(many=True), **error_responses(400, 404, 429)},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        params = validated(WorkshopListInput, request.query_params)
        filters = WorkshopFilters(
            skill=params.get("skill", ""),
            language=params.get("language", ""),
            date_from=params.get("date_from"),
            date_to=params.get("date_to"),
            time_zone=_viewer_zone(request, params.get("time_zone")),
        )
        qs = workshop_list(when=params["when"], filters=filters, viewer=request.user)
        return paginated(self, qs, WorkshopSerializer, context={"request": request})

    @extend_schema(
        operation_id="workshops_create",
        summary="Schedule a workshop (facilitators and staff); times in `time_zone`",
        request=WorkshopCreateInput,
        responses={201: WorkshopDetailSerializer, **error_responses(400, 401, 403, 429)},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        if not services.can_create_workshops(request.user):
            raise exceptions.PermissionDenied(_("Only facilitators and staff schedule workshops."))
        data = validated(WorkshopCreateInput, request.data)
        workshop = services.workshop_create(actor=_me(request), **data)
        return _detail(request, workshop.pk, status.HTTP_201_CREATED)


class WorkshopDetailView(APIView):
    @extend_schema(
        operation_id="workshops_retrieve",
        summary="One workshop: seats left, and your registration and waitlist position",
        responses={200: WorkshopDetailSerializer, **error_responses(404, 429)},
        tags=TAGS,
    )
    def get(self, request: Request, pk: int) -> Response:
        return _detail(request, pk)

    @extend_schema(
        operation_id="workshops_partial_update",
        summary="Change a workshop (its facilitators and staff); send only what changes",
        request=WorkshopUpdateInput,
        responses={200: WorkshopDetailSerializer, **error_responses(400, 401, 403, 404, 429)},
        tags=TAGS,
    )
    def patch(self, request: Request, pk: int) -> Response:
        workshop = _workshop(request, pk)
        if not services.can_edit_workshop(request.user, workshop):
            raise exceptions.PermissionDenied(_("Only this workshop's facilitators can change it."))
        data = validated(WorkshopUpdateInput, request.data)
        services.workshop_update(actor=_me(request), workshop=workshop, data=data)
        return _detail(request, pk)


class WorkshopCancelView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="workshops_cancel",
        summary="Cancel a workshop (its facilitators and staff); registrants are told",
        request=CancelInput,
        responses={200: WorkshopDetailSerializer, **error_responses(400, 401, 403, 404, 429)},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        data = validated(CancelInput, request.data)
        workshop = _workshop(request, pk)
        services.workshop_cancel(actor=_me(request), workshop=workshop, reason=data["reason"])
        return _detail(request, pk)


class RegistrationView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="workshops_registration_create",
        summary="Register: a seat if one is left, else the waitlist (again: no change)",
        request=None,
        responses={
            201: WorkshopDetailSerializer,
            200: OpenApiResponse(WorkshopDetailSerializer, description="Already registered"),
            **error_responses(400, 401, 403, 404, 429),
        },
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        validated(EmptyInput, request.data or {})
        workshop = _workshop(request, pk)
        before = (
            Registration.objects.filter(workshop=workshop, user=_me(request))
            .exclude(status=RegistrationStatus.CANCELLED)
            .exists()
        )
        services.registration_create(workshop=workshop, user=_me(request))
        return _detail(request, pk, status.HTTP_200_OK if before else status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="workshops_registration_destroy",
        summary="Cancel your registration; your seat goes to the first on the waitlist",
        request=None,
        responses={204: None, **error_responses(400, 401, 403, 404, 429)},
        tags=TAGS,
    )
    def delete(self, request: Request, pk: int) -> Response:
        workshop = _workshop(request, pk)
        registration = (
            Registration.objects.filter(workshop=workshop, user=_me(request))
            .exclude(status=RegistrationStatus.CANCELLED)
            .first()
        )
        if registration is None:
            raise exceptions.NotFound(_("You are not registered for this workshop."))
        services.registration_cancel(actor=_me(request), registration=registration)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _waitlist_positions(page: list[Registration]) -> dict[str, Any]:
    """Serializer context: each waitlisted registration's place in its workshop's queue."""
    waiting = [r for r in page if r.status == RegistrationStatus.WAITLISTED]
    positions = {}
    for registration in waiting:  # at most a page of them, usually none
        positions[registration.pk] = (
            Registration.objects.filter(
                workshop_id=registration.workshop_id,
                status=RegistrationStatus.WAITLISTED,
                created_at__lte=registration.created_at,
            )
            .exclude(created_at=registration.created_at, id__gt=registration.pk)
            .count()
        )
    return {"positions": positions}


class MyRegistrationsView(GenericAPIView[Any]):
    permission_classes = [IsAuthenticated]
    serializer_class = RegistrationSerializer

    @extend_schema(
        operation_id="workshops_registrations_list",
        summary="Your registrations for upcoming workshops (seats and waitlist places)",
        responses={200: RegistrationSerializer(many=True), **error_responses(401, 404, 429)},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        return paginated(
            self,
            registrations_for_user(user=_me(request)),
            RegistrationSerializer,
            context=_waitlist_positions,
        )


class _CalendarView(APIView):
    def perform_content_negotiation(
        self, request: Request, force: bool = False
    ) -> tuple[BaseRenderer, str]:
        # The file is text/calendar whatever the client accepts; errors are JSON.
        return JSONRenderer(), JSONRenderer.media_type


class WorkshopCalendarView(_CalendarView):
    @extend_schema(
        operation_id="workshops_calendar",
        summary="The workshop as an iCalendar (.ics) file, times in UTC",
        responses={
            (200, "text/calendar"): OpenApiResponse(OpenApiTypes.BINARY, description="An .ics"),
            **error_responses(404, 429),
        },
        tags=TAGS,
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        workshop = _workshop(request, pk)
        response = HttpResponse(workshop_ics(workshop), content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="workshop-{workshop.pk}.ics"'
        return response


class CalendarFeedView(APIView):
    permission_classes = [IsAuthenticated]

    def _feed(self, request: Request, token: str) -> Response:
        path = reverse("workshops:calendar_feed", args=[token])
        return Response({"url": request.build_absolute_uri(path)})

    @extend_schema(
        operation_id="workshops_calendar_feed_retrieve",
        summary="Your private calendar feed URL (your upcoming workshops as iCalendar)",
        responses={200: CalendarFeedSerializer, **error_responses(401, 429)},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        return self._feed(request, services.calendar_feed_get_or_create(user=_me(request)).token)

    @extend_schema(
        operation_id="workshops_calendar_feed_reset",
        summary="Give your calendar feed a new secret URL (the old one stops working)",
        request=None,
        responses={200: CalendarFeedSerializer, **error_responses(401, 403, 429)},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        validated(EmptyInput, request.data or {})
        return self._feed(request, services.calendar_feed_reset(user=_me(request)).token)


class AttendanceView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="workshops_attendance",
        summary="Who attended and for how many minutes (the workshop's facilitators, staff)",
        responses={200: AttendanceSerializer(many=True), **error_responses(401, 403, 404, 429)},
        tags=TAGS,
    )
    def get(self, request: Request, pk: int) -> Response:
        workshop = _workshop(request, pk)
        if not services.can_edit_workshop(request.user, workshop):
            raise exceptions.PermissionDenied(
                _("Only this workshop's facilitators see its attendance.")
            )
        return Response(AttendanceSerializer(attendance_report(workshop=workshop), many=True).data)
