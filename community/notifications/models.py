"""Stored notifications: what happened that a member should know about, and how each
member wants to hear about it by e-mail."""

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=40)
    text = models.CharField(_("text"), max_length=300)
    url = models.CharField(_("link"), max_length=300, blank=True)
    # Notifications with the same non-empty key (say "forum.topic.12") may be collapsed
    # into one while unread: the sender updates the unread one and bumps ``count``.
    key = models.CharField(_("group"), max_length=60, blank=True)
    count = models.PositiveIntegerField(_("events"), default=1)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("e-mailed"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notification_inbox"),
            models.Index(
                fields=["recipient"],
                condition=models.Q(read_at__isnull=True),
                name="notification_unread",
            ),
            models.Index(
                fields=["key", "recipient"],
                condition=models.Q(read_at__isnull=True) & ~models.Q(key=""),
                name="notification_unread_key",
            ),
            models.Index(
                fields=["recipient", "created_at"],
                condition=models.Q(read_at__isnull=True, emailed_at__isnull=True),
                name="notification_unmailed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.text}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class EmailMode(models.TextChoices):
    IMMEDIATE = "immediate", _("Right away: one e-mail per notification")
    DIGEST = "digest", _("Daily digest: one e-mail a day with what I have not read")
    OFF = "off", _("Never: I read them on the site")


class NotificationSettings(models.Model):
    """How a member hears about notifications by e-mail. A member without a row gets
    the default: an e-mail right away."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="notification_settings",
    )
    email_mode = models.CharField(
        _("e-mail me"), max_length=10, choices=EmailMode.choices, default=EmailMode.IMMEDIATE
    )
    digest_hour_utc = models.PositiveSmallIntegerField(
        _("digest hour (UTC)"),
        default=7,
        validators=[MaxValueValidator(23)],
        help_text=_("The daily digest is sent at the first run after this hour (UTC)."),
    )
    last_digest_at = models.DateTimeField(_("last digest"), null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("notification settings")
        verbose_name_plural = _("notification settings")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(digest_hour_utc__lte=23), name="notification_digest_hour"
            ),
        ]
        indexes = [models.Index(fields=["email_mode"], name="notification_settings_mode")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.email_mode}"
