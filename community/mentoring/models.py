"""Mentoring: who mentors what, who seeks what, when they are free, and mentorships."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from community.models import Skill, SkillLevel


class Format(models.TextChoices):
    VIDEO = "video", _("Video calls")
    CHAT = "chat", _("Chat")
    ASYNC = "async", _("Asynchronous (messages, document review)")


class MentoringProfile(models.Model):
    """A member's mentoring settings, as mentor and as mentee.

    Languages, country and time zone come from the member profile. ``availability_mask``
    caches the weekly windows as 672 quarter-hour UTC slots (bit i = slot i of a week
    starting Monday 00:00 UTC), computed for ``mask_time_zone``.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="mentoring",
    )
    accepts_mentees = models.BooleanField(_("accepting mentees"), default=False, db_index=True)
    capacity = models.PositiveSmallIntegerField(
        _("mentees at most"), default=2, help_text=_("Active mentees at most (1-10).")
    )
    offers_video = models.BooleanField(_("video"), default=True)
    offers_chat = models.BooleanField(_("chat"), default=True)
    offers_async = models.BooleanField(_("asynchronous"), default=False)
    seeking_mentor = models.BooleanField(_("looking for a mentor"), default=False)
    goals = models.TextField(_("goals"), max_length=2000, blank=True)
    availability_mask = models.BinaryField(max_length=84, default=bytes(84), editable=False)
    mask_time_zone = models.CharField(max_length=64, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(capacity__gte=1, capacity__lte=10), name="mentoring_capacity_range"
            ),
        ]

    def __str__(self) -> str:
        return f"mentoring settings of {self.user}"

    @property
    def formats(self) -> list[str]:
        flags = {
            Format.VIDEO: self.offers_video,
            Format.CHAT: self.offers_chat,
            Format.ASYNC: self.offers_async,
        }
        return [str(f) for f, on in flags.items() if on]


class MentorSkill(models.Model):
    """A skill a mentor offers to mentor, at their level."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mentor_skills"
    )
    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="+")
    level = models.PositiveSmallIntegerField(choices=SkillLevel.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "skill"], name="mentor_skill_unique"),
            models.CheckConstraint(
                condition=Q(level__gte=1, level__lte=4), name="mentor_skill_level_range"
            ),
        ]
        indexes = [models.Index(fields=["skill", "level"], name="mentorskill_skill_level")]

    def __str__(self) -> str:
        return f"{self.user} mentors {self.skill}"


class TargetSkill(models.Model):
    """A skill a mentee wants to grow: from ``current_level`` (0 = none) to ``target_level``."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="target_skills"
    )
    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="+")
    current_level = models.PositiveSmallIntegerField(default=0)
    target_level = models.PositiveSmallIntegerField(choices=SkillLevel.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "skill"], name="target_skill_unique"),
            models.CheckConstraint(
                condition=Q(current_level__gte=0, current_level__lte=3)
                & Q(target_level__gte=1, target_level__lte=4)
                & Q(target_level__gt=models.F("current_level")),
                name="target_skill_levels",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} wants {self.skill} at {self.target_level}"


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class AvailabilityWindow(models.Model):
    """A weekly window when the member is free, in their own time zone.

    ``end`` of 00:00 means midnight at the end of the day.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="availability"
    )
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start = models.TimeField()
    end = models.TimeField()

    class Meta:
        ordering = ["weekday", "start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(weekday__gte=0, weekday__lte=6), name="availability_weekday"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}-{self.end:%H:%M}"


class MentorshipStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("Expired")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    ACTIVE = "active", _("Active")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_STATUSES = (MentorshipStatus.REQUESTED, MentorshipStatus.ACTIVE)
ENDED_STATUSES = (MentorshipStatus.COMPLETED, MentorshipStatus.CANCELLED)


class Mentorship(models.Model):
    mentee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mentorships_as_mentee"
    )
    mentor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mentorships_as_mentor"
    )
    status = models.CharField(
        max_length=12, choices=MentorshipStatus.choices, default=MentorshipStatus.REQUESTED
    )
    message = models.TextField(_("message"), max_length=2000, blank=True)
    goals = models.TextField(_("goals"), max_length=2000, blank=True)
    decline_reason = models.CharField(_("reason"), max_length=500, blank=True)
    end_reason = models.CharField(_("reason"), max_length=500, blank=True)
    programme = models.ForeignKey(
        "Programme", on_delete=models.SET_NULL, null=True, blank=True, related_name="mentorships"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["mentee", "mentor"],
                condition=Q(status__in=["requested", "active"]),
                name="mentorship_one_open_per_pair",
            ),
            models.CheckConstraint(
                condition=~Q(mentee=models.F("mentor")), name="mentorship_not_self"
            ),
        ]
        indexes = [
            models.Index(fields=["mentor", "status"], name="mentorship_mentor_status"),
            models.Index(fields=["mentee", "status"], name="mentorship_mentee_status"),
            models.Index(fields=["status", "expires_at"], name="mentorship_status_expiry"),
        ]

    def __str__(self) -> str:
        return f"{self.mentee} ← {self.mentor} ({self.status})"


class MentorshipGoal(models.Model):
    mentorship = models.ForeignKey(Mentorship, on_delete=models.CASCADE, related_name="goal_items")
    title = models.CharField(_("goal"), max_length=200)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="goal_progress_range"),
        ]

    def __str__(self) -> str:
        return self.title


class MentorshipSession(models.Model):
    mentorship = models.ForeignKey(Mentorship, on_delete=models.CASCADE, related_name="sessions")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    date = models.DateField(_("date"))
    notes = models.TextField(_("notes"), max_length=5000, blank=True)
    next_steps = models.TextField(_("next steps"), max_length=2000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]

    def __str__(self) -> str:
        return f"session on {self.date}"


class MentorshipFeedback(models.Model):
    mentorship = models.ForeignKey(Mentorship, on_delete=models.CASCADE, related_name="feedback")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    rating = models.PositiveSmallIntegerField(_("rating (1-5)"))
    comment = models.TextField(_("comment"), max_length=2000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["mentorship", "author"], name="feedback_once_per_side"),
            models.CheckConstraint(
                condition=Q(rating__gte=1, rating__lte=5), name="feedback_rating_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rating}/5 from {self.author}"


class ProgrammeStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PROPOSED = "proposed", _("Matching proposed")
    PUBLISHED = "published", _("Published")


class Programme(models.Model):
    """A mentoring programme: a cohort of mentees and a pool of mentors, matched at once."""

    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), max_length=3000, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="mentoring_programmes"
    )
    status = models.CharField(
        max_length=10, choices=ProgrammeStatus.choices, default=ProgrammeStatus.DRAFT
    )
    created_at = models.DateTimeField(auto_now_add=True)
    matched_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class ProgrammeRole(models.TextChoices):
    MENTEE = "mentee", _("Mentee")
    MENTOR = "mentor", _("Mentor")


class ProgrammeMember(models.Model):
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=6, choices=ProgrammeRole.choices)
    capacity = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["role", "id"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "user"], name="programme_member_once"),
            models.CheckConstraint(
                condition=Q(capacity__gte=1, capacity__lte=10), name="programme_capacity_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role})"


class ProgrammeMatch(models.Model):
    """A proposed pair in a programme's matching, until it is published."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="matches")
    mentee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    mentor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField()
    explanation = models.JSONField(default=list)
    adjusted = models.BooleanField(default=False)

    class Meta:
        ordering = ["-score", "id"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "mentee"], name="programme_match_once"),
        ]

    def __str__(self) -> str:
        return f"{self.mentee} ← {self.mentor}"
