"""Input and output shapes of the mentoring API."""

import datetime as dt
import re
from typing import Any

from django.utils.translation import gettext as _
from django_countries import countries
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from community.languages import SPOKEN_LANGUAGES
from community.mentoring.availability import Window, mask_from_bytes
from community.mentoring.models import (
    AvailabilityWindow,
    Format,
    MentoringProfile,
    Mentorship,
    MentorshipFeedback,
    MentorshipGoal,
    MentorshipSession,
    MentorshipStatus,
    MentorSkill,
    Programme,
    ProgrammeMatch,
    ProgrammeMember,
    ProgrammeRole,
    TargetSkill,
    Weekday,
)
from community.models import Profile, Skill, SkillLevel, User
from config.api import StrictInput


# --- shared -----------------------------------------------------------------------------------
class MemberField(serializers.SlugRelatedField):
    """A member named by username: only active members; an unknown name is a field error."""

    default_error_messages = {
        "does_not_exist": "No member is called “{value}”.",
        "invalid": "Give a username.",
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("queryset", User.objects.filter(is_active=True))
        super().__init__(slug_field="username", **kwargs)


def _display_name(user: User) -> str:
    profile: Profile | None = getattr(user, "profile", None)
    return profile.display_name if profile is not None else user.username


class PersonSerializer(serializers.Serializer):
    username = serializers.CharField()
    display_name = serializers.SerializerMethodField()

    def get_display_name(self, user: User) -> str:
        return _display_name(user)


_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@extend_schema_field(
    {"type": "string", "pattern": r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$", "example": "09:30"}
)
class ClockField(serializers.Field):
    """A wall-clock time "HH:MM". As an end, "24:00" (or "00:00") means midnight."""

    default_error_messages = {"invalid": _("Give a time as HH:MM, e.g. 09:30.")}

    def __init__(self, *, end: bool = False, **kwargs: Any) -> None:
        self.end = end
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> dt.time:
        if self.end and data == "24:00":
            return dt.time(0, 0)
        match = _CLOCK.match(data) if isinstance(data, str) else None
        if match is None:
            self.fail("invalid")
        assert match is not None
        return dt.time(int(match[1]), int(match[2]))

    def to_representation(self, value: dt.time) -> str:
        if self.end and value == dt.time(0, 0):
            return "24:00"
        return f"{value:%H:%M}"


# --- settings ---------------------------------------------------------------------------------
class MentorSkillInput(StrictInput):
    skill = serializers.SlugField()
    level = serializers.ChoiceField(choices=SkillLevel.choices)


class TargetSkillInput(StrictInput):
    skill = serializers.SlugField()
    current_level = serializers.IntegerField(min_value=0, max_value=3, help_text="0 (none) to 3.")
    target_level = serializers.IntegerField(min_value=1, max_value=4, help_text="1 to 4.")


class AvailabilityInput(StrictInput):
    weekday = serializers.ChoiceField(choices=Weekday.choices, help_text="0 = Monday.")
    start = ClockField(help_text="HH:MM in your profile's time zone.")
    end = ClockField(end=True, help_text="HH:MM; 24:00 is midnight at the end of the day.")


def _unique_skills(value: list[dict[str, Any]]) -> None:
    slugs = [item["skill"] for item in value]
    if len(slugs) != len(set(slugs)):
        raise serializers.ValidationError(_("Each skill may appear once."))


class MentoringSettingsInput(StrictInput):
    """Send only what changes; a list you send replaces the stored list."""

    accepts_mentees = serializers.BooleanField(required=False)
    capacity = serializers.IntegerField(required=False, min_value=1, max_value=10)
    formats = serializers.ListField(
        child=serializers.ChoiceField(choices=Format.choices), required=False, max_length=3
    )
    seeking_mentor = serializers.BooleanField(required=False)
    goals = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    mentor_skills = MentorSkillInput(many=True, required=False, max_length=20)  # type: ignore[call-arg]
    target_skills = TargetSkillInput(many=True, required=False, max_length=20)  # type: ignore[call-arg]
    availability = AvailabilityInput(many=True, required=False, max_length=21)  # type: ignore[call-arg]

    def validate_mentor_skills(self, value: list[dict[str, Any]]) -> dict[str, int]:
        _unique_skills(value)
        return {item["skill"]: int(item["level"]) for item in value}

    def validate_target_skills(self, value: list[dict[str, Any]]) -> dict[str, tuple[int, int]]:
        _unique_skills(value)
        return {
            item["skill"]: (int(item["current_level"]), int(item["target_level"])) for item in value
        }

    def validate_availability(self, value: list[dict[str, Any]]) -> list[Window]:
        return [Window(int(item["weekday"]), item["start"], item["end"]) for item in value]

    def service_data(self) -> dict[str, Any]:
        """The validated input in the shape ``mentoring_settings_update`` takes."""
        data = dict(self.validated_data)
        formats = data.pop("formats", None)
        if formats is not None:
            data["offers_video"] = Format.VIDEO in formats
            data["offers_chat"] = Format.CHAT in formats
            data["offers_async"] = Format.ASYNC in formats
        return data


class MentorSkillSerializer(serializers.ModelSerializer[MentorSkill]):
    skill = serializers.CharField(source="skill.slug")
    name = serializers.CharField(source="skill.name")

    class Meta:
        model = MentorSkill
        fields = ["skill", "name", "level"]


class TargetSkillSerializer(serializers.ModelSerializer[TargetSkill]):
    skill = serializers.CharField(source="skill.slug")
    name = serializers.CharField(source="skill.name")
    current_level = serializers.IntegerField(help_text="0 (none) to 3.")
    target_level = serializers.IntegerField(help_text="1 to 4.")

    class Meta:
        model = TargetSkill
        fields = ["skill", "name", "current_level", "target_level"]


class AvailabilitySerializer(serializers.ModelSerializer[AvailabilityWindow]):
    start = ClockField()
    end = ClockField(end=True)

    class Meta:
        model = AvailabilityWindow
        fields = ["weekday", "start", "end"]


class MentoringSettingsSerializer(serializers.ModelSerializer[MentoringProfile]):
    formats = serializers.ListField(child=serializers.ChoiceField(choices=Format.choices))
    time_zone = serializers.SerializerMethodField(
        help_text="Your profile's time zone; availability windows are in it."
    )
    mentor_skills = serializers.SerializerMethodField()
    target_skills = serializers.SerializerMethodField()
    availability = serializers.SerializerMethodField()
    availability_hours = serializers.SerializerMethodField(
        help_text="Hours per week in your windows."
    )

    class Meta:
        model = MentoringProfile
        fields = [
            "accepts_mentees",
            "capacity",
            "formats",
            "seeking_mentor",
            "goals",
            "time_zone",
            "mentor_skills",
            "target_skills",
            "availability",
            "availability_hours",
            "updated_at",
        ]

    def get_time_zone(self, obj: MentoringProfile) -> str:
        profile: Profile | None = getattr(obj.user, "profile", None)
        return profile.time_zone if profile is not None else "UTC"

    @extend_schema_field(MentorSkillSerializer(many=True))
    def get_mentor_skills(self, obj: MentoringProfile) -> list[dict[str, Any]]:
        rows = MentorSkill.objects.filter(user_id=obj.user_id).select_related("skill")
        return MentorSkillSerializer(rows.order_by("skill__slug"), many=True).data  # type: ignore[return-value]

    @extend_schema_field(TargetSkillSerializer(many=True))
    def get_target_skills(self, obj: MentoringProfile) -> list[dict[str, Any]]:
        rows = TargetSkill.objects.filter(user_id=obj.user_id).select_related("skill")
        return TargetSkillSerializer(rows.order_by("skill__slug"), many=True).data  # type: ignore[return-value]

    @extend_schema_field(AvailabilitySerializer(many=True))
    def get_availability(self, obj: MentoringProfile) -> list[dict[str, Any]]:
        rows = AvailabilityWindow.objects.filter(user_id=obj.user_id)
        return AvailabilitySerializer(rows, many=True).data  # type: ignore[return-value]

    def get_availability_hours(self, obj: MentoringProfile) -> float:
        return mask_from_bytes(obj.availability_mask).bit_count() / 4


# --- recommendations --------------------------------------------------------------------------
class RecommendationInput(serializers.Serializer):
    skill: serializers.SlugRelatedField[Skill] = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Skill.objects.filter(is_active=True),
        required=False,
        allow_null=True,
        default=None,
        help_text="Only mentors who mentor this skill (a catalogue slug).",
    )
    language = serializers.ChoiceField(choices=SPOKEN_LANGUAGES, required=False)
    country = serializers.ChoiceField(choices=list(countries), required=False)
    limit = serializers.IntegerField(required=False, default=10, min_value=1, max_value=50)


class RecommendedMentorSerializer(serializers.ModelSerializer[Profile]):
    username = serializers.CharField(source="user.username")
    country = serializers.CharField(source="country.code")
    languages = serializers.SerializerMethodField()

    class Meta:
        model = Profile
        fields = ["username", "display_name", "headline", "country", "languages"]

    def get_languages(self, profile: Profile) -> list[str]:
        return [language.code for language in profile.languages.all()]


class ScorePartsSerializer(serializers.Serializer):
    skills = serializers.FloatField(help_text="Out of 50.")
    availability = serializers.FloatField(help_text="Out of 25.")
    capacity = serializers.FloatField(help_text="Out of 15.")
    area = serializers.FloatField(help_text="Out of 10.")


class RecommendationSerializer(serializers.Serializer):
    mentor = RecommendedMentorSerializer(source="profile")
    score = serializers.FloatField(source="score.total", help_text="0 to 100.")
    parts = ScorePartsSerializer(source="score.parts")
    explanation = serializers.ListField(child=serializers.CharField(), source="score.explanation")


# --- mentorships ------------------------------------------------------------------------------
class MentorshipListInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=MentorshipStatus.choices, required=False)
    role = serializers.ChoiceField(choices=ProgrammeRole.choices, required=False)


class MentorshipRequestInput(StrictInput):
    mentor = MemberField(help_text="The mentor's username.")
    message = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    goals = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, help_text="One goal a line."
    )


class ReasonInput(StrictInput):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class EmptyInput(StrictInput):
    pass


class FeedbackInput(StrictInput):
    rating = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class GoalInput(StrictInput):
    title = serializers.CharField(max_length=200)


class GoalProgressInput(StrictInput):
    progress = serializers.IntegerField(min_value=0, max_value=100, help_text="Percent.")


class SessionInput(StrictInput):
    date = serializers.DateField()
    notes = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")
    next_steps = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, default=""
    )


class MeetingTimesInput(serializers.Serializer):
    minutes = serializers.IntegerField(required=False, default=60, min_value=15, max_value=240)

    def validate_minutes(self, value: int) -> int:
        if value % 15:
            raise serializers.ValidationError(_("Use a multiple of 15 minutes."))
        return value


class InviteInput(MeetingTimesInput):
    start = serializers.DateTimeField(help_text="The meeting's start, ISO 8601 in UTC.")


class MentorshipSerializer(serializers.ModelSerializer[Mentorship]):
    status_label = serializers.CharField(source="get_status_display")
    role = serializers.SerializerMethodField(help_text="Your side: mentee or mentor.")
    mentee = PersonSerializer()
    mentor = PersonSerializer()

    class Meta:
        model = Mentorship
        fields = [
            "id",
            "status",
            "status_label",
            "role",
            "mentee",
            "mentor",
            "message",
            "goals",
            "decline_reason",
            "end_reason",
            "programme",
            "requested_at",
            "expires_at",
            "responded_at",
            "ended_at",
        ]

    def get_role(self, obj: Mentorship) -> str:
        user = self.context.get("user")
        return ProgrammeRole.MENTOR if user and user.pk == obj.mentor_id else ProgrammeRole.MENTEE


class GoalSerializer(serializers.ModelSerializer[MentorshipGoal]):
    class Meta:
        model = MentorshipGoal
        fields = ["id", "title", "progress", "created_at"]


class _AuthorMixin(serializers.Serializer):
    author = serializers.SerializerMethodField(help_text="The author's username.")

    def get_author(self, obj: MentorshipSession | MentorshipFeedback) -> str:
        # The author is one of the two people, loaded with the mentorship.
        people = self.context.get("people", {})
        return people.get(obj.author_id) or obj.author.username


class SessionSerializer(_AuthorMixin, serializers.ModelSerializer[MentorshipSession]):
    class Meta:
        model = MentorshipSession
        fields = ["id", "author", "date", "notes", "next_steps", "created_at"]


class FeedbackSerializer(_AuthorMixin, serializers.ModelSerializer[MentorshipFeedback]):
    class Meta:
        model = MentorshipFeedback
        fields = ["author", "rating", "comment", "created_at"]


class MentorshipDetailSerializer(MentorshipSerializer):
    goal_items = GoalSerializer(many=True)
    sessions = SessionSerializer(many=True)
    feedback = FeedbackSerializer(many=True)

    class Meta(MentorshipSerializer.Meta):
        fields = [*MentorshipSerializer.Meta.fields, "goal_items", "sessions", "feedback"]


class LocalTimeSerializer(serializers.Serializer):
    username = serializers.CharField()
    time_zone = serializers.CharField()
    start = serializers.CharField(help_text="ISO 8601 with the zone's offset.")
    formatted = serializers.CharField(help_text="Formatted for reading, e.g. “Mon 12 May, 14:00”.")


class MeetingSlotSerializer(serializers.Serializer):
    start = serializers.DateTimeField(help_text="UTC.")
    end = serializers.DateTimeField(help_text="UTC.")
    local = LocalTimeSerializer(
        many=True, help_text="The start in the mentee's, then the mentor's zone."
    )


# --- programmes -------------------------------------------------------------------------------
class ProgrammeCreateInput(StrictInput):
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(
        required=False, allow_blank=True, max_length=3000, default=""
    )


class ProgrammeMemberInput(StrictInput):
    username = MemberField()
    role = serializers.ChoiceField(choices=ProgrammeRole.choices)
    capacity = serializers.IntegerField(
        required=False, default=1, min_value=1, max_value=10, help_text="Mentees, for a mentor."
    )


class ProgrammeAdjustInput(StrictInput):
    mentee = MemberField(help_text="The mentee's username.")
    mentor = MemberField(allow_null=True, help_text="The mentor's username, or null to unmatch.")


class ProgrammeSerializer(serializers.ModelSerializer[Programme]):
    owner = serializers.CharField(source="owner.username")
    n_mentees = serializers.IntegerField()
    n_mentors = serializers.IntegerField()

    class Meta:
        model = Programme
        fields = [
            "id",
            "name",
            "description",
            "owner",
            "status",
            "n_mentees",
            "n_mentors",
            "created_at",
            "matched_at",
            "published_at",
        ]


class ProgrammeMemberSerializer(serializers.ModelSerializer[ProgrammeMember]):
    username = serializers.CharField(source="user.username")
    display_name = serializers.SerializerMethodField()

    class Meta:
        model = ProgrammeMember
        fields = ["username", "display_name", "role", "capacity"]

    def get_display_name(self, obj: ProgrammeMember) -> str:
        return _display_name(obj.user)


class ProgrammeMatchSerializer(serializers.ModelSerializer[ProgrammeMatch]):
    mentee = PersonSerializer()
    mentor = PersonSerializer()
    explanation = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = ProgrammeMatch
        fields = ["mentee", "mentor", "score", "explanation", "adjusted"]


class UnmatchedSerializer(serializers.Serializer):
    username = serializers.CharField(source="user.username")
    display_name = serializers.SerializerMethodField()
    reason = serializers.CharField()

    def get_display_name(self, obj: Any) -> str:
        return _display_name(obj.user)


class ProgrammeReportSerializer(serializers.Serializer):
    total = serializers.FloatField(help_text="Sum of the matched pairs' scores.")
    mean = serializers.FloatField(help_text="Mean score of the matched pairs.")
    matched = serializers.IntegerField()
    mentees = serializers.IntegerField()
    unmatched = UnmatchedSerializer(many=True)


class ProgrammeDetailSerializer(ProgrammeSerializer):
    """Serialises a programme with ``report`` (a ``selectors.ProgrammeReport``) attached."""

    members = ProgrammeMemberSerializer(source="report.members", many=True)
    matches = ProgrammeMatchSerializer(source="report.matches", many=True)
    report = ProgrammeReportSerializer()

    class Meta(ProgrammeSerializer.Meta):
        fields = [*ProgrammeSerializer.Meta.fields, "members", "matches", "report"]
