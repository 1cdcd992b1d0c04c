"""Live workshops: scheduling and registration, and the live room's state and stream."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from community.models import Skill


class WorkshopStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    LIVE = "live", _("Live now")
    ENDED = "ended", _("Ended")
    CANCELLED = "cancelled", _("Cancelled")


class Workshop(models.Model):
    """A scheduled live session. Times are stored in UTC; ``time_zone`` is the zone the
    facilitator entered them in."""

    title = models.CharField(_("title"), max_length=160)
    description = models.TextField(_("description"), max_length=10000, blank=True)
    description_html = models.TextField(editable=False, blank=True)
    skills = models.ManyToManyField(Skill, blank=True, related_name="workshops")
    facilitators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="facilitated_workshops"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    starts_at = models.DateTimeField(_("starts"), db_index=True)
    ends_at = models.DateTimeField(_("ends"))
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    language = models.CharField(_("language"), max_length=8, default="en", db_index=True)
    capacity = models.PositiveIntegerField(_("capacity"), default=100)
    registration_required = models.BooleanField(_("registration required"), default=True)
    status = models.CharField(
        max_length=10, choices=WorkshopStatus.choices, default=WorkshopStatus.SCHEDULED
    )
    # Live-room state.
    live_started_at = models.DateTimeField(null=True, blank=True)
    live_ended_at = models.DateTimeField(null=True, blank=True)
    chat_locked = models.BooleanField(default=False)
    slow_mode_seconds = models.PositiveSmallIntegerField(default=0)
    last_seq = models.BigIntegerField(default=0, editable=False)  # the room stream's last seq
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="workshop_ends_after_start"
            ),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="workshop_capacity_positive"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("workshops:detail", kwargs={"pk": self.pk})


class RegistrationStatus(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    WAITLISTED = "waitlisted", _("On the waitlist")
    CANCELLED = "cancelled", _("Cancelled")


class Registration(models.Model):
    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="registrations")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="workshop_registrations"
    )
    status = models.CharField(max_length=10, choices=RegistrationStatus.choices)
    created_at = models.DateTimeField(auto_now_add=True)  # waitlist order
    promoted_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    reminded_24h_at = models.DateTimeField(null=True, blank=True)
    reminded_1h_at = models.DateTimeField(null=True, blank=True)
    # Facilitator controls in the live room.
    muted_at = models.DateTimeField(null=True, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["workshop", "user"], name="registration_once"),
        ]
        indexes = [
            models.Index(fields=["workshop", "status", "created_at"], name="registration_queue"),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.workshop} ({self.status})"


def _feed_token() -> str:
    return secrets.token_urlsafe(24)


class CalendarFeed(models.Model):
    """A member's private calendar feed URL (their workshops as iCalendar)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    token = models.CharField(max_length=64, unique=True, default=_feed_token)

    def __str__(self) -> str:
        return f"calendar feed of {self.user}"


class RoomEvent(models.Model):
    """The room's stream: every event with its per-room sequence number (1, 2, 3, ...),
    assigned in the same transaction as the write under a lock on the workshop row."""

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="events")
    seq = models.BigIntegerField()
    type = models.CharField(max_length=40)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["workshop", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["workshop", "seq"], name="room_event_seq_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.workshop_id}#{self.seq} {self.type}"


class ChatMessage(models.Model):
    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    client_id = models.CharField(max_length=64)
    body = models.TextField(max_length=2000)
    body_html = models.TextField()
    seq = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["workshop", "seq"]
        constraints = [
            models.UniqueConstraint(
                fields=["workshop", "author", "client_id"], name="chat_message_idempotent"
            ),
        ]
        indexes = [models.Index(fields=["workshop", "seq"], name="chat_message_stream")]

    def __str__(self) -> str:
        return self.body[:40]


class PollKind(models.TextChoices):
    SINGLE = "single", _("Single choice")
    MULTIPLE = "multiple", _("Multiple choice")
    RATING = "rating", _("Rating 1-5")


class ResultsVisibility(models.TextChoices):
    LIVE = "live", _("Live, as votes come in")
    ON_CLOSE = "on_close", _("When the poll closes")
    HIDDEN = "hidden", _("Hidden until revealed")


class PollStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class Poll(models.Model):
    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="polls")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    client_id = models.CharField(max_length=64)
    question = models.CharField(max_length=300)
    kind = models.CharField(max_length=10, choices=PollKind.choices)
    anonymous = models.BooleanField(default=False)
    results = models.CharField(
        max_length=10, choices=ResultsVisibility.choices, default=ResultsVisibility.LIVE
    )
    status = models.CharField(max_length=10, choices=PollStatus.choices, default=PollStatus.DRAFT)
    revealed = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["workshop", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workshop", "created_by", "client_id"], name="poll_idempotent"
            ),
        ]

    def __str__(self) -> str:
        return self.question


class PollOption(models.Model):
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="options")
    label = models.CharField(max_length=200)
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["poll", "position"]
        constraints = [
            models.UniqueConstraint(fields=["poll", "position"], name="poll_option_position"),
        ]

    def __str__(self) -> str:
        return self.label


class Vote(models.Model):
    """One vote per participant per poll (the constraint guarantees it); changing it
    while the poll is open updates this row. ``choices`` holds option ids, or for a
    rating poll the single rating 1-5."""

    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="votes")
    voter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    choices = models.JSONField()
    cast_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["poll", "voter"], name="vote_once_per_poll"),
        ]

    def __str__(self) -> str:
        return f"vote on {self.poll_id}"


class Attendance(models.Model):
    """One stay in the live room: a socket's join and leave times."""

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="attendance")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    joined_at = models.DateTimeField()
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["workshop", "joined_at"]
        indexes = [
            models.Index(
                fields=["workshop", "user"],
                condition=Q(left_at__isnull=True),
                name="attendance_present",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.workshop_id}"
