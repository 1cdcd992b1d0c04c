"""The live room's REST API: the room's history (its stream of events) and its polls.

Mounted under /api/v1/workshops/<pk>/room/. Only the workshop's facilitators and the
members who may enter the room see anything: for everyone else the room does not exist
(404, the same as a missing workshop), so ids leak nothing. The websocket is the live
path; these endpoints are for catching up, scripts and integrations.
"""

from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from community.api.views import _errors
from community.models import User
from config.api import StrictInput
from workshops.models import PollKind, PollStatus, ResultsVisibility, Workshop
from workshops.room import services
from workshops.room.selectors import (
    EVENTS_BACKLOG,
    RoomAccess,
    poll_for_user,
    polls_for_user,
    room_access,
    room_events_page,
)
from workshops.room.services import (
    CLIENT_ID_MAX_LENGTH,
    OPTION_MAX_LENGTH,
    POLL_OPTIONS_MAX,
    QUESTION_MAX_LENGTH,
)

TAGS = ["workshop room"]


# --- shapes -------------------------------------------------------------------------------
class HistoryInput(serializers.Serializer):
    after = serializers.IntegerField(
        min_value=0, default=0, help_text="The last sequence number you have; 0 for all."
    )
    limit = serializers.IntegerField(
        min_value=1, max_value=EVENTS_BACKLOG, default=100, help_text="At most this many events."
    )


class RoomEventSerializer(serializers.Serializer):
    # Fields named "data" and "label" would shadow Serializer attributes as class
    # attributes, so these two serializers declare their fields in get_fields().
    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            "type": serializers.CharField(help_text="e.g. chat.message, chat.deleted."),
            "seq": serializers.IntegerField(help_text="The room's sequence number: 1, 2, 3..."),
            "data": serializers.DictField(help_text="As in the websocket event of this type."),
        }


class RoomHistorySerializer(serializers.Serializer):
    events = RoomEventSerializer(many=True)
    last_seq = serializers.IntegerField(help_text="The room's latest sequence number.")
    has_more = serializers.BooleanField(help_text="Ask again with after = the last seq here.")


class PollOptionSerializer(serializers.Serializer):
    def get_fields(self) -> dict[str, serializers.Field]:
        return {"id": serializers.IntegerField(), "label": serializers.CharField()}


class TallySerializer(serializers.Serializer):
    poll_id = serializers.IntegerField()
    total_votes = serializers.IntegerField()
    counts = serializers.DictField(
        help_text='Votes per option id (as a string); for a rating poll per "1".."5", '
        'with "mean" (null without votes).'
    )


class PollSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    question = serializers.CharField()
    kind = serializers.ChoiceField(choices=PollKind.choices)
    anonymous = serializers.BooleanField()
    results = serializers.ChoiceField(choices=ResultsVisibility.choices)
    status = serializers.ChoiceField(choices=PollStatus.choices)
    revealed = serializers.BooleanField()
    options = PollOptionSerializer(many=True)
    tally_visible = serializers.BooleanField(help_text="Whether you may see the tally now.")
    tally = TallySerializer(required=False, help_text="Only when you may see it.")
    your_vote = serializers.ListField(
        child=serializers.IntegerField(), allow_null=True, help_text="Your choices, or null."
    )
    voters = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Facilitators of a poll that is not anonymous: usernames per option.",
    )


class PollCreateInput(StrictInput):
    client_id = serializers.CharField(
        max_length=CLIENT_ID_MAX_LENGTH, help_text="Yours; a retry with it returns the original."
    )
    question = serializers.CharField(max_length=QUESTION_MAX_LENGTH)
    kind = serializers.ChoiceField(choices=PollKind.choices)
    options = serializers.ListField(
        child=serializers.CharField(max_length=OPTION_MAX_LENGTH),
        max_length=POLL_OPTIONS_MAX,
        required=False,
        default=list,
        help_text="2 to 10 for single and multiple choice; none for a rating.",
    )
    anonymous = serializers.BooleanField(required=False, default=False)
    results = serializers.ChoiceField(
        choices=ResultsVisibility.choices, required=False, default=ResultsVisibility.LIVE
    )


class VoteInput(StrictInput):
    choices = serializers.ListField(
        child=serializers.IntegerField(),
        max_length=POLL_OPTIONS_MAX,
        help_text="Option ids (one for single choice), or [rating] from 1 to 5.",
    )


class EmptyInput(StrictInput):
    pass


# --- plumbing -----------------------------------------------------------------------------
def _me(request: Request) -> User:
    assert isinstance(request.user, User)
    return request.user


def _room(request: Request, pk: int) -> RoomAccess:
    """The room, for those who may enter it; everyone else gets the 404 of a missing one."""
    try:
        return room_access(workshop_id=pk, user=request.user)
    except (Workshop.DoesNotExist, PermissionDenied):
        raise exceptions.NotFound(_("No such workshop room.")) from None


def _valid(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _poll_response(poll: Any, user: User, code: int = status.HTTP_200_OK) -> Response:
    return Response(PollSerializer(poll_for_user(poll=poll, user=user)).data, status=code)


def _poll_not_found() -> exceptions.NotFound:
    return exceptions.NotFound(_("No such poll in this room."))


# --- history ------------------------------------------------------------------------------
class RoomHistoryView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="workshop_room_history",
        summary="The room's events after a sequence number, in order",
        parameters=[HistoryInput],
        responses={200: RoomHistorySerializer, **_errors(400, 401, 404, 429)},
        tags=TAGS,
    )
    def get(self, request: Request, pk: int) -> Response:
        access = _room(request, pk)
        params = _valid(HistoryInput, request.query_params)
        events, has_more, last_seq = room_events_page(
            workshop=access.workshop, after_seq=params["after"], limit=params["limit"]
        )
        data = {"events": events, "last_seq": last_seq, "has_more": has_more}
        return Response(RoomHistorySerializer(data).data)


# --- polls --------------------------------------------------------------------------------
class PollListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="workshop_room_polls_list",
        summary="The room's polls you may see, with tallies where you may see them",
        responses={200: PollSerializer(many=True), **_errors(401, 404, 429)},
        tags=TAGS,
    )
    def get(self, request: Request, pk: int) -> Response:
        access = _room(request, pk)
        polls = polls_for_user(
            workshop=access.workshop, user=_me(request), is_facilitator=access.is_facilitator
        )
        return Response(PollSerializer(polls, many=True).data)

    @extend_schema(
        operation_id="workshop_room_polls_create",
        summary="Create a draft poll (facilitators; a retry with the same client_id is a 200)",
        request=PollCreateInput,
        responses={
            201: PollSerializer,
            200: OpenApiResponse(PollSerializer, description="A retry: the poll already made"),
            **_errors(400, 401, 403, 404, 429),
        },
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        access = _room(request, pk)
        data = _valid(PollCreateInput, request.data)
        poll, created = services.poll_create(workshop=access.workshop, actor=_me(request), **data)
        return _poll_response(
            poll, _me(request), status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class PollVoteView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="workshop_room_poll_vote",
        summary="Vote in an open poll, or change your vote while it is open",
        request=VoteInput,
        responses={200: PollSerializer, **_errors(400, 401, 403, 404, 429)},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int, poll_id: int) -> Response:
        access = _room(request, pk)
        data = _valid(VoteInput, request.data)
        try:
            vote = services.poll_vote_cast(
                workshop=access.workshop, user=_me(request), poll_id=poll_id, **data
            )
        except ObjectDoesNotExist:
            raise _poll_not_found() from None
        return _poll_response(vote.poll, _me(request))


class _PollActionView(APIView):
    permission_classes = [IsAuthenticated]
    action_name = ""

    def post(self, request: Request, pk: int, poll_id: int) -> Response:
        access = _room(request, pk)
        _valid(EmptyInput, request.data)
        service = getattr(services, f"poll_{self.action_name}")
        try:
            poll = service(workshop=access.workshop, actor=_me(request), poll_id=poll_id)
        except ObjectDoesNotExist:
            raise _poll_not_found() from None
        return _poll_response(poll, _me(request))


def _poll_action_schema(action: str, summary: str) -> Any:
    return extend_schema(
        operation_id=f"workshop_room_poll_{action}",
        summary=summary,
        request=EmptyInput,
        responses={200: PollSerializer, **_errors(400, 401, 403, 404, 429)},
        tags=TAGS,
    )


class PollOpenView(_PollActionView):
    action_name = "open"

    @_poll_action_schema("open", "Open a draft poll for votes (facilitators)")
    def post(self, request: Request, pk: int, poll_id: int) -> Response:
        return super().post(request, pk, poll_id)


class PollCloseView(_PollActionView):
    action_name = "close"

    @_poll_action_schema("close", "Close an open poll (facilitators)")
    def post(self, request: Request, pk: int, poll_id: int) -> Response:
        return super().post(request, pk, poll_id)


class PollRevealView(_PollActionView):
    action_name = "reveal"

    @_poll_action_schema("reveal", "Show a poll's results to everyone (facilitators)")
    def post(self, request: Request, pk: int, poll_id: int) -> Response:
        return super().post(request, pk, poll_id)
