"""Thin API views over the mentoring services and selectors."""

import datetime as dt
import zoneinfo
from collections.abc import Callable
from typing import Any

from django.http import HttpResponse
from django.utils import formats
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.views import APIView

from community.mentoring import services
from community.mentoring.api.serializers import (
    EmptyInput,
    FeedbackInput,
    FeedbackSerializer,
    GoalInput,
    GoalProgressInput,
    GoalSerializer,
    InviteInput,
    MeetingSlotSerializer,
    MeetingTimesInput,
    MentoringSettingsInput,
    MentoringSettingsSerializer,
    MentorshipDetailSerializer,
    MentorshipListInput,
    MentorshipRequestInput,
    MentorshipSerializer,
    ProgrammeAdjustInput,
    ProgrammeCreateInput,
    ProgrammeDetailSerializer,
    ProgrammeMemberInput,
    ProgrammeMemberSerializer,
    ProgrammeSerializer,
    ReasonInput,
    RecommendationInput,
    RecommendationSerializer,
    SessionInput,
    SessionSerializer,
)
from community.mentoring.calendar import meeting_invite_ics
from community.mentoring.models import (
    MentoringProfile,
    Mentorship,
    MentorshipStatus,
    Programme,
    ProgrammeRole,
)
from community.mentoring.selectors import (
    meeting_slot_fits,
    meeting_suggestions,
    mentor_recommendations,
    mentorship_get_for_user,
    mentorships_for_user,
    programme_get_for_user,
    programme_report,
    programmes_for_user,
)
from community.models import Profile, User
from config.api import error_responses, paginated, validated

TAGS = ["mentoring"]


def _me(request: Request) -> User:
    assert isinstance(request.user, User)
    return request.user


# --- settings ---------------------------------------------------------------------------------
class MentoringSettingsView(APIView):
    permission_classes = [IsAuthenticated]

    def _settings(self, user: User) -> Response:
        services.mentoring_profile_get_or_create(user=user)
        profile = MentoringProfile.objects.select_related("user__profile").get(user=user)
        return Response(MentoringSettingsSerializer(profile).data)

    @extend_schema(
        operation_id="mentoring_settings_retrieve",
        summary="Your mentoring settings, as mentor and as mentee",
        responses={200: MentoringSettingsSerializer, **error_responses(401, 429)},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        return self._settings(_me(request))

    @extend_schema(
        operation_id="mentoring_settings_partial_update",
        summary="Change your mentoring settings (a list you send replaces the stored one)",
        request=MentoringSettingsInput,
        responses={200: MentoringSettingsSerializer, **error_responses(400, 401, 403, 429)},
        tags=TAGS,
    )
    def patch(self, request: Request) -> Response:
        data = MentoringSettingsInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.mentoring_settings_update(user=_me(request), data=data.service_data())
        return self._settings(_me(request))


# --- recommendations --------------------------------------------------------------------------
class RecommendationListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="mentoring_recommendations_list",
        summary="Your best mentors, each with its score and why",
        parameters=[RecommendationInput],
        responses={200: RecommendationSerializer(many=True), **error_responses(400, 401, 429)},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        params = validated(RecommendationInput, request.query_params)
        suggestions = mentor_recommendations(
            mentee=_me(request),
            skill=params["skill"].slug if params["skill"] else "",
            language=params.get("language", ""),
            country=params.get("country", ""),
            limit=params["limit"],
        )
        return Response(RecommendationSerializer(suggestions, many=True).data)


# --- mentorships ------------------------------------------------------------------------------
def _mentorship(request: Request, pk: int) -> Mentorship:
    try:
        return mentorship_get_for_user(pk=pk, user=_me(request))
    except Mentorship.DoesNotExist:
        raise exceptions.NotFound(_("No such mentorship.")) from None


def _people(mentorship: Mentorship) -> dict[str, Any]:
    """Serializer context naming the two people, so authors cost no query."""
    return {
        "people": {
            mentorship.mentee_id: mentorship.mentee.username,
            mentorship.mentor_id: mentorship.mentor.username,
        },
    }


def _detail(request: Request, pk: int, code: int = status.HTTP_200_OK) -> Response:
    mentorship = _mentorship(request, pk)
    context = {**_people(mentorship), "user": request.user}
    return Response(MentorshipDetailSerializer(mentorship, context=context).data, status=code)


class MentorshipListView(GenericAPIView[Any]):
    permission_classes = [IsAuthenticated]
    serializer_class = MentorshipSerializer

    @extend_schema(
        operation_id="mentoring_mentorships_list",
        summary="Your mentorships and requests, as mentee and as mentor, newest first",
        parameters=[MentorshipListInput],
        responses={200: MentorshipSerializer(many=True), **error_responses(400, 401, 404, 429)},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        params = validated(MentorshipListInput, request.query_params)
        user = _me(request)
        qs = mentorships_for_user(user=user)
        if params.get("status"):
            qs = qs.filter(status=params["status"])
        if params.get("role") == ProgrammeRole.MENTEE:
            qs = qs.filter(mentee=user)
        elif params.get("role") == ProgrammeRole.MENTOR:
            qs = qs.filter(mentor=user)
        return paginated(self, qs, MentorshipSerializer, context={"user": user})

    @extend_schema(
        operation_id="mentoring_mentorships_create",
        summary="Ask a mentor to mentor you",
        request=MentorshipRequestInput,
        responses={201: MentorshipDetailSerializer, **error_responses(400, 401, 403, 429)},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        data = validated(MentorshipRequestInput, request.data)
        mentorship = services.mentorship_request(
            mentee=_me(request),
            mentor=data["mentor"],
            message=data.get("message", ""),
            goals=data.get("goals", ""),
        )
        return _detail(request, mentorship.pk, status.HTTP_201_CREATED)


class MentorshipDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="mentoring_mentorships_retrieve",
        summary="One of your mentorships: goals, session log and feedback",
        responses={200: MentorshipDetailSerializer, **error_responses(401, 404, 429)},
        tags=TAGS,
    )
    def get(self, request: Request, pk: int) -> Response:
        return _detail(request, pk)


class _MentorshipActionView(APIView):
    permission_classes = [IsAuthenticated]

    def act(
        self,
        request: Request,
        pk: int,
        service: Callable[..., Any],
        input_class: type[Serializer] = EmptyInput,
    ) -> Response:
        data = validated(input_class, request.data)
        mentorship = _mentorship(request, pk)
        service(actor=_me(request), mentorship=mentorship, **data)
        return _detail(request, pk)


_ACTION_ERRORS = error_responses(400, 401, 403, 404, 429)


class MentorshipAcceptView(_MentorshipActionView):
    @extend_schema(
        operation_id="mentoring_mentorships_accept",
        summary="Accept a request (the mentor; within your capacity)",
        request=None,
        responses={200: MentorshipDetailSerializer, **_ACTION_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        return self.act(request, pk, services.mentorship_accept)


class MentorshipDeclineView(_MentorshipActionView):
    @extend_schema(
        operation_id="mentoring_mentorships_decline",
        summary="Decline a request, optionally with a reason (the mentor)",
        request=ReasonInput,
        responses={200: MentorshipDetailSerializer, **_ACTION_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        return self.act(request, pk, services.mentorship_decline, ReasonInput)


class MentorshipWithdrawView(_MentorshipActionView):
    @extend_schema(
        operation_id="mentoring_mentorships_withdraw",
        summary="Withdraw your request (the mentee)",
        request=None,
        responses={200: MentorshipDetailSerializer, **_ACTION_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        return self.act(request, pk, services.mentorship_withdraw)


class MentorshipCompleteView(_MentorshipActionView):
    @extend_schema(
        operation_id="mentoring_mentorships_complete",
        summary="Mark an active mentorship completed (either person)",
        request=ReasonInput,
        responses={200: MentorshipDetailSerializer, **_ACTION_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        return self.act(request, pk, services.mentorship_complete, ReasonInput)


class MentorshipCancelView(_MentorshipActionView):
    @extend_schema(
        operation_id="mentoring_mentorships_cancel",
        summary="Cancel an active mentorship (either person)",
        request=ReasonInput,
        responses={200: MentorshipDetailSerializer, **_ACTION_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        return self.act(request, pk, services.mentorship_cancel, ReasonInput)


class MentorshipFeedbackView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="mentoring_mentorships_feedback_create",
        summary="Rate a completed or cancelled mentorship (once per person)",
        request=FeedbackInput,
        responses={201: FeedbackSerializer, **_ACTION_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        data = validated(FeedbackInput, request.data)
        mentorship = _mentorship(request, pk)
        feedback = services.mentorship_feedback_give(
            actor=_me(request), mentorship=mentorship, **data
        )
        return Response(
            FeedbackSerializer(feedback, context=_people(mentorship)).data,
            status=status.HTTP_201_CREATED,
        )


class MentorshipGoalCreateView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="mentoring_mentorships_goals_create",
        summary="Add a shared goal to an active mentorship",
        request=GoalInput,
        responses={201: GoalSerializer, **_ACTION_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        data = validated(GoalInput, request.data)
        goal = services.mentorship_goal_add(
            actor=_me(request), mentorship=_mentorship(request, pk), title=data["title"]
        )
        return Response(GoalSerializer(goal).data, status=status.HTTP_201_CREATED)


class MentorshipGoalUpdateView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="mentoring_mentorships_goals_partial_update",
        summary="Record progress on a shared goal",
        request=GoalProgressInput,
        responses={200: GoalSerializer, **_ACTION_ERRORS},
        tags=TAGS,
    )
    def patch(self, request: Request, pk: int, goal_id: int) -> Response:
        data = validated(GoalProgressInput, request.data)
        mentorship = _mentorship(request, pk)
        goal = next((g for g in mentorship.goal_items.all() if g.pk == goal_id), None)
        if goal is None:
            raise exceptions.NotFound(_("No such goal."))
        goal.mentorship = mentorship
        goal = services.mentorship_goal_progress(
            actor=_me(request), goal=goal, progress=data["progress"]
        )
        return Response(GoalSerializer(goal).data)


class MentorshipSessionCreateView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="mentoring_mentorships_sessions_create",
        summary="Log a session of an active mentorship",
        request=SessionInput,
        responses={201: SessionSerializer, **_ACTION_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        data = validated(SessionInput, request.data)
        mentorship = _mentorship(request, pk)
        session = services.mentorship_session_log(actor=_me(request), mentorship=mentorship, **data)
        return Response(
            SessionSerializer(session, context=_people(mentorship)).data,
            status=status.HTTP_201_CREATED,
        )


def _schedulable(request: Request, pk: int) -> Mentorship:
    mentorship = _mentorship(request, pk)
    if mentorship.status != MentorshipStatus.ACTIVE:
        raise exceptions.ValidationError(
            {
                "status": _("Not possible while the mentorship is %s.")
                % mentorship.get_status_display()
            }
        )
    return mentorship


def _local(user: User, start: dt.datetime) -> dict[str, str]:
    profile: Profile | None = getattr(user, "profile", None)
    zone = profile.time_zone if profile is not None else "UTC"
    local = start.astimezone(zoneinfo.ZoneInfo(zone))
    return {
        "username": user.username,
        "time_zone": zone,
        "start": local.isoformat(),
        "formatted": formats.date_format(local, "D j M, H:i"),
    }


class MeetingTimesView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="mentoring_mentorships_meeting_times",
        summary="Meeting times in the next two weeks inside both people's availability",
        parameters=[MeetingTimesInput],
        responses={200: MeetingSlotSerializer(many=True), **error_responses(400, 401, 404, 429)},
        tags=TAGS,
    )
    def get(self, request: Request, pk: int) -> Response:
        params = validated(MeetingTimesInput, request.query_params)
        mentorship = _schedulable(request, pk)
        slots = [
            {
                "start": slot.start_utc,
                "end": slot.end_utc,
                "local": [
                    _local(mentorship.mentee, slot.start_utc),
                    _local(mentorship.mentor, slot.start_utc),
                ],
            }
            for slot in meeting_suggestions(mentorship=mentorship, minutes=params["minutes"])
        ]
        return Response(MeetingSlotSerializer(slots, many=True).data)


class MeetingInviteView(APIView):
    permission_classes = [IsAuthenticated]

    def perform_content_negotiation(
        self, request: Request, force: bool = False
    ) -> tuple[BaseRenderer, str]:
        # The invite is text/calendar whatever the client accepts; errors are JSON.
        return JSONRenderer(), JSONRenderer.media_type

    @extend_schema(
        operation_id="mentoring_mentorships_invite",
        summary="An iCalendar (.ics) invite for a meeting inside both availabilities",
        parameters=[
            OpenApiParameter(
                "start",
                OpenApiTypes.DATETIME,
                required=True,
                description="The start, ISO 8601 in UTC, e.g. one of the meeting times.",
            ),
            OpenApiParameter("minutes", int, description="15 to 240, default 60."),
        ],
        responses={
            (200, "text/calendar"): OpenApiResponse(OpenApiTypes.BINARY, description="An .ics"),
            **error_responses(400, 401, 404, 429),
        },
        tags=TAGS,
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        params = validated(InviteInput, request.query_params)
        mentorship = _schedulable(request, pk)
        start, minutes = params["start"], params["minutes"]
        if not meeting_slot_fits(mentorship=mentorship, start=start, minutes=minutes):
            raise exceptions.ValidationError(
                {
                    "start": _(
                        "Pick a future time on a quarter hour inside both people's "
                        "availability, such as one of the proposed meeting times."
                    )
                }
            )
        response = HttpResponse(
            meeting_invite_ics(mentorship, start, minutes),
            content_type="text/calendar; charset=utf-8",
        )
        response["Content-Disposition"] = (
            f'attachment; filename="mentoring-{mentorship.pk}-{start:%Y%m%dT%H%M}Z.ics"'
        )
        return response


# --- programmes -------------------------------------------------------------------------------
def _programme(request: Request, pk: int) -> Programme:
    try:
        return programme_get_for_user(pk=pk, user=_me(request))
    except Programme.DoesNotExist:
        raise exceptions.NotFound(_("No such programme.")) from None


def _programme_detail(request: Request, pk: int, code: int = status.HTTP_200_OK) -> Response:
    programme = _programme(request, pk)
    programme.report = programme_report(programme=programme)  # type: ignore[attr-defined]
    return Response(ProgrammeDetailSerializer(programme).data, status=code)


_PROGRAMME_ERRORS = error_responses(400, 401, 403, 404, 429)


class ProgrammeListView(GenericAPIView[Any]):
    permission_classes = [IsAuthenticated]
    serializer_class = ProgrammeSerializer

    @extend_schema(
        operation_id="mentoring_programmes_list",
        summary="Mentoring programmes you run (all of them, for staff)",
        responses={200: ProgrammeSerializer(many=True), **error_responses(401, 404, 429)},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        return paginated(self, programmes_for_user(user=_me(request)), ProgrammeSerializer)

    @extend_schema(
        operation_id="mentoring_programmes_create",
        summary="Create a programme (staff and facilitators)",
        request=ProgrammeCreateInput,
        responses={201: ProgrammeDetailSerializer, **error_responses(400, 401, 403, 429)},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        if not services.can_run_programmes(_me(request)):
            raise exceptions.PermissionDenied(_("Only staff and facilitators create programmes."))
        data = validated(ProgrammeCreateInput, request.data)
        programme = services.programme_create(actor=_me(request), **data)
        return _programme_detail(request, programme.pk, status.HTTP_201_CREATED)


class ProgrammeDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="mentoring_programmes_retrieve",
        summary="A programme: members, proposed matches and the report",
        responses={200: ProgrammeDetailSerializer, **error_responses(401, 404, 429)},
        tags=TAGS,
    )
    def get(self, request: Request, pk: int) -> Response:
        return _programme_detail(request, pk)


class ProgrammeMemberAddView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="mentoring_programmes_members_create",
        summary="Add a mentee or a mentor (with capacity), or change their role",
        request=ProgrammeMemberInput,
        responses={201: ProgrammeMemberSerializer, **_PROGRAMME_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        data = validated(ProgrammeMemberInput, request.data)
        member = services.programme_member_add(
            actor=_me(request),
            programme=_programme(request, pk),
            user=data["username"],
            role=data["role"],
            capacity=data["capacity"],
        )
        return Response(ProgrammeMemberSerializer(member).data, status=status.HTTP_201_CREATED)


class ProgrammeMemberRemoveView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="mentoring_programmes_members_destroy",
        summary="Remove a member (and their proposed match)",
        request=None,
        responses={204: None, **_PROGRAMME_ERRORS},
        tags=TAGS,
    )
    def delete(self, request: Request, pk: int, username: str) -> Response:
        programme = _programme(request, pk)
        member = programme.members.filter(user__username=username).select_related("user").first()
        if member is None:
            raise exceptions.NotFound(_("No such member in this programme."))
        services.programme_member_remove(actor=_me(request), programme=programme, user=member.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProgrammeMatchView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="mentoring_programmes_match",
        summary="Run the optimal matching and store it as the proposal",
        request=None,
        responses={200: ProgrammeDetailSerializer, **_PROGRAMME_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        validated(EmptyInput, request.data)
        services.programme_match_run(actor=_me(request), programme=_programme(request, pk))
        return _programme_detail(request, pk)


class ProgrammeAdjustView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="mentoring_programmes_adjust",
        summary="Give one mentee another mentor in the proposal, or none (null)",
        request=ProgrammeAdjustInput,
        responses={200: ProgrammeDetailSerializer, **_PROGRAMME_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        data = validated(ProgrammeAdjustInput, request.data)
        services.programme_match_adjust(
            actor=_me(request),
            programme=_programme(request, pk),
            mentee=data["mentee"],
            mentor=data["mentor"],
        )
        return _programme_detail(request, pk)


class ProgrammePublishView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="mentoring_programmes_publish",
        summary="Publish the proposal: every pair becomes an active mentorship",
        request=None,
        responses={200: ProgrammeDetailSerializer, **_PROGRAMME_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        validated(EmptyInput, request.data)
        services.programme_publish(actor=_me(request), programme=_programme(request, pk))
        return _programme_detail(request, pk)
