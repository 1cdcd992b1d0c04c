"""Input and output shapes of the workshops API. Times go out in UTC ("...Z")."""

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from community.languages import SPOKEN_LANGUAGES, language_name
from community.models import Profile, Skill, User
from config.api import StrictInput
from workshops.models import Registration, RegistrationStatus, Workshop
from workshops.selectors import PAST, UPCOMING, WorkshopView
from workshops.services import MAX_CAPACITY, MAX_FACILITATORS, MAX_SKILLS


def _utc_field(**kwargs: Any) -> serializers.DateTimeField:
    return serializers.DateTimeField(default_timezone=dt.UTC, **kwargs)


@extend_schema_field(
    {
        "type": "string",
        "example": "2031-01-07T09:00",
        "description": "A wall-clock date and time in `time_zone` (no offset), or an ISO "
        "8601 date and time with an offset.",
    }
)
class LocalDateTimeField(serializers.DateTimeField):
    """A wall-clock date and time kept as entered (naive); the service reads it in the
    workshop's time zone. With an offset it is an instant."""

    def enforce_timezone(self, value: dt.datetime) -> dt.datetime:
        return value


# --- output -------------------------------------------------------------------------------
class WorkshopPersonSerializer(serializers.Serializer):
    username = serializers.CharField()
    display_name = serializers.SerializerMethodField()

    def get_display_name(self, user: User) -> str:
        try:
            profile: Profile = user.profile
        except Profile.DoesNotExist:
            return user.username
        return profile.display_name or user.username


class WorkshopSkillSerializer(serializers.ModelSerializer[Skill]):
    class Meta:
        model = Skill
        fields = ["slug", "name"]


class WorkshopSerializer(serializers.ModelSerializer[Workshop]):
    skills = WorkshopSkillSerializer(many=True, read_only=True)
    facilitators = WorkshopPersonSerializer(many=True, read_only=True)
    starts_at = _utc_field(read_only=True)
    ends_at = _utc_field(read_only=True)
    time_zone = serializers.CharField(
        read_only=True, help_text="The zone the facilitator entered the times in."
    )
    language_name = serializers.SerializerMethodField()
    registered_count = serializers.IntegerField(read_only=True)
    waitlist_count = serializers.IntegerField(read_only=True)
    seats_left = serializers.SerializerMethodField(
        help_text="null for an open workshop (no registration required)."
    )
    your_registration = serializers.SerializerMethodField(
        help_text="Your registration's status, or null (also when not signed in)."
    )
    url = serializers.SerializerMethodField()

    class Meta:
        model = Workshop
        fields = [
            "id",
            "title",
            "skills",
            "facilitators",
            "starts_at",
            "ends_at",
            "time_zone",
            "language",
            "language_name",
            "capacity",
            "registration_required",
            "status",
            "registered_count",
            "waitlist_count",
            "seats_left",
            "your_registration",
            "url",
        ]

    def get_language_name(self, workshop: Workshop) -> str:
        return language_name(workshop.language)

    def get_seats_left(self, workshop: Workshop) -> int | None:
        if not workshop.registration_required:
            return None
        return max(workshop.capacity - getattr(workshop, "registered_count", 0), 0)

    @extend_schema_field(
        serializers.ChoiceField(choices=RegistrationStatus.choices, allow_null=True)
    )
    def get_your_registration(self, workshop: Workshop) -> str | None:
        status = getattr(workshop, "my_status", None)
        return status if status != RegistrationStatus.CANCELLED else None

    def get_url(self, workshop: Workshop) -> str:
        request = self.context.get("request")
        path = workshop.get_absolute_url()
        return request.build_absolute_uri(path) if request is not None else path


class YouSerializer(serializers.Serializer):
    registration = serializers.ChoiceField(choices=RegistrationStatus.choices, allow_null=True)
    waitlist_position = serializers.IntegerField(
        allow_null=True, help_text="1 = next in line; null unless you are on the waitlist."
    )
    is_facilitator = serializers.BooleanField()
    can_edit = serializers.BooleanField()
    can_register = serializers.BooleanField()
    can_enter_room = serializers.BooleanField()


class WorkshopDetailSerializer(WorkshopSerializer):
    description = serializers.CharField(read_only=True, help_text="Markdown.")
    description_html = serializers.CharField(read_only=True)
    live_started_at = _utc_field(read_only=True, allow_null=True)
    live_ended_at = _utc_field(read_only=True, allow_null=True)
    ics_url = serializers.SerializerMethodField()
    room_url = serializers.SerializerMethodField()
    you = serializers.SerializerMethodField(help_text="null when not signed in.")

    class Meta(WorkshopSerializer.Meta):
        fields = [
            *WorkshopSerializer.Meta.fields,
            "description",
            "description_html",
            "live_started_at",
            "live_ended_at",
            "ics_url",
            "room_url",
            "you",
        ]

    def _absolute(self, path: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    def get_ics_url(self, workshop: Workshop) -> str:
        return self._absolute(f"/api/v1/workshops/{workshop.pk}/calendar.ics")

    def get_room_url(self, workshop: Workshop) -> str:
        return self._absolute(f"{workshop.get_absolute_url()}room/")

    def get_your_registration(self, workshop: Workshop) -> str | None:
        view: WorkshopView | None = self.context.get("view_state")
        if view is None or view.registration is None:
            return None
        return view.registration.status

    @extend_schema_field(YouSerializer(allow_null=True))
    def get_you(self, workshop: Workshop) -> dict[str, Any] | None:
        view: WorkshopView | None = self.context.get("view_state")
        request = self.context.get("request")
        if view is None or request is None or not request.user.is_authenticated:
            return None
        return {
            "registration": view.registration.status if view.registration else None,
            "waitlist_position": view.waitlist_position,
            "is_facilitator": view.is_facilitator,
            "can_edit": view.can_edit,
            "can_register": view.can_register,
            "can_enter_room": view.can_enter_room,
        }


class RegistrationWorkshopSerializer(serializers.ModelSerializer[Workshop]):
    starts_at = _utc_field(read_only=True)
    ends_at = _utc_field(read_only=True)

    class Meta:
        model = Workshop
        fields = ["id", "title", "starts_at", "ends_at", "time_zone", "language", "status"]


class RegistrationSerializer(serializers.ModelSerializer[Registration]):
    workshop = RegistrationWorkshopSerializer(read_only=True)
    waitlist_position = serializers.SerializerMethodField(
        help_text="1 = next in line; null unless on the waitlist."
    )
    created_at = _utc_field(read_only=True)
    promoted_at = _utc_field(read_only=True, allow_null=True)

    class Meta:
        model = Registration
        fields = ["workshop", "status", "waitlist_position", "created_at", "promoted_at"]

    def get_waitlist_position(self, registration: Registration) -> int | None:
        positions: dict[int, int] = self.context.get("positions", {})
        return positions.get(registration.pk)


class CalendarFeedSerializer(serializers.Serializer):
    url = serializers.URLField(
        help_text="Your private iCalendar feed: subscribe to it in your calendar app."
    )


class AttendanceSerializer(serializers.Serializer):
    username = serializers.CharField(source="user.username")
    name = serializers.CharField()
    is_facilitator = serializers.BooleanField()
    registration = serializers.CharField(source="registration_status", allow_blank=True)
    first_join = _utc_field(allow_null=True)
    last_leave = _utc_field(allow_null=True, help_text="null while still in the room.")
    minutes = serializers.IntegerField(help_text="Overlapping stays counted once.")


# --- input --------------------------------------------------------------------------------
class WorkshopListInput(serializers.Serializer):
    when = serializers.ChoiceField(choices=[UPCOMING, PAST], required=False, default=UPCOMING)
    skill = serializers.SlugField(required=False)
    language = serializers.ChoiceField(choices=SPOKEN_LANGUAGES, required=False)
    date_from = serializers.DateField(required=False, help_text="A day in `time_zone`.")
    date_to = serializers.DateField(required=False, help_text="A day in `time_zone`, included.")
    time_zone = serializers.CharField(
        required=False,
        max_length=64,
        help_text="The zone the dates are days in; default: your profile's, else UTC.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("date_from"), attrs.get("date_to")
        if start and end and end < start:
            raise serializers.ValidationError({"date_to": _("Must not be before date_from.")})
        return attrs


class WorkshopUpdateInput(StrictInput):
    """Send only what changes; a list you send replaces the stored one."""

    title = serializers.CharField(max_length=160, required=False)
    description = serializers.CharField(
        max_length=10000, required=False, allow_blank=True, help_text="Markdown."
    )
    skills = serializers.ListField(
        child=serializers.SlugField(), required=False, max_length=MAX_SKILLS
    )
    facilitators = serializers.ListField(
        child=serializers.CharField(max_length=150),
        required=False,
        max_length=MAX_FACILITATORS,
        help_text="Usernames of co-facilitators; you stay one.",
    )
    starts_at = LocalDateTimeField(required=False)
    ends_at = LocalDateTimeField(required=False)
    time_zone = serializers.CharField(
        max_length=64,
        required=False,
        help_text="The zone starts_at and ends_at are in; default: your profile's zone.",
    )
    language = serializers.ChoiceField(choices=SPOKEN_LANGUAGES, required=False)
    capacity = serializers.IntegerField(min_value=1, max_value=MAX_CAPACITY, required=False)
    registration_required = serializers.BooleanField(required=False)


class WorkshopCreateInput(WorkshopUpdateInput):
    title = serializers.CharField(max_length=160)
    starts_at = LocalDateTimeField()
    ends_at = LocalDateTimeField()


class CancelInput(StrictInput):
    reason = serializers.CharField(
        max_length=500, required=False, allow_blank=True, default="",
        help_text="Sent to everyone registered.",
    )  # fmt: skip


class EmptyInput(StrictInput):
    pass
