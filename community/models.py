"""Members, their profiles, and the competency catalogue that the whole hub tags with."""

import zoneinfo
from functools import cache

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField


@cache
def time_zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    if value not in time_zone_names():
        raise ValidationError(_("“%(value)s” is not a known time zone."), params={"value": value})


class User(AbstractUser):
    """An account. ``username`` is the member's public handle (URLs, @mentions)."""

    email = models.EmailField(_("email address"), unique=True)

    class Meta:
        swappable = "AUTH_USER_MODEL"
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(Lower("username"), name="user_username_ci_unique"),
        ]


class CompetencyArea(models.Model):
    """An area of practice: upstream processing, QC analytics, GMP, ..."""

    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=80, unique=True)
    description = models.TextField(_("description"), max_length=500, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("competency area")
        verbose_name_plural = _("competency areas")

    def __str__(self) -> str:
        return self.name


class Skill(models.Model):
    """One competency in the catalogue; the tag every part of the hub uses."""

    area = models.ForeignKey(
        CompetencyArea, on_delete=models.PROTECT, related_name="skills", verbose_name=_("area")
    )
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=80)
    description = models.CharField(_("description"), max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["area__position", "position", "name"]
        verbose_name = _("skill")
        verbose_name_plural = _("skills")
        constraints = [
            models.UniqueConstraint(fields=["area", "name"], name="skill_name_unique_in_area"),
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    LEARNER = "learner", _("Learner")
    PROFESSIONAL = "professional", _("Professional")
    MENTOR = "mentor", _("Mentor")
    FACILITATOR = "facilitator", _("Facilitator")


class Visibility(models.TextChoices):
    PUBLIC = "public", _("Public: anyone can see it")
    MEMBERS = "members", _("Members only: signed-in members can see it")


class SkillLevel(models.IntegerChoices):
    AWARENESS = 1, _("Awareness")
    PRACTITIONER = 2, _("Practitioner")
    ADVANCED = 3, _("Advanced")
    EXPERT = 4, _("Expert")


ROLE_FIELDS: dict[str, str] = {
    Role.LEARNER: "is_learner",
    Role.PROFESSIONAL: "is_professional",
    Role.MENTOR: "is_mentor",
    Role.FACILITATOR: "is_facilitator",
}


class Profile(models.Model):
    """What a member shows the community about themselves."""

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, primary_key=True, related_name="profile"
    )
    display_name = models.CharField(_("display name"), max_length=80)
    headline = models.CharField(_("headline"), max_length=140, blank=True)
    organisation = models.CharField(_("organisation"), max_length=120, blank=True)
    country = CountryField(_("country"), blank=True, db_index=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="UTC", validators=[validate_time_zone]
    )
    is_learner = models.BooleanField(_("learner"), default=False, db_index=True)
    is_professional = models.BooleanField(_("professional"), default=False, db_index=True)
    is_mentor = models.BooleanField(_("mentor"), default=False, db_index=True)
    is_facilitator = models.BooleanField(_("facilitator"), default=False, db_index=True)
    bio = models.TextField(_("bio"), max_length=5000, blank=True)
    bio_html = models.TextField(editable=False, blank=True)
    visibility = models.CharField(
        _("visibility"), max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    skills: models.ManyToManyField[Skill, "ProfileSkill"] = models.ManyToManyField(
        Skill, through="ProfileSkill", related_name="profiles"
    )
    created_at = models.DateTimeField(_("joined"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["display_name"]
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")
        permissions = [("moderate_community", _("Can moderate the community"))]
        indexes = [
            models.Index(Lower("display_name"), name="profile_display_name_ci"),
            models.Index(fields=["visibility", "display_name"], name="profile_visible_name"),
        ]

    def __str__(self) -> str:
        return self.display_name

    def get_absolute_url(self) -> str:
        return reverse("community:member_detail", kwargs={"username": self.user.username})

    @property
    def roles(self) -> list[str]:
        return [role for role, field in ROLE_FIELDS.items() if getattr(self, field)]

    @property
    def role_labels(self) -> list[str]:
        return [str(Role(role).label) for role in self.roles]


class ProfileSkill(models.Model):
    """A skill on a member's profile, with the level they rate themselves at."""

    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="skill_levels")
    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="profile_levels")
    level = models.PositiveSmallIntegerField(_("level"), choices=SkillLevel.choices)

    class Meta:
        ordering = ["-level", "skill__name"]
        constraints = [
            models.UniqueConstraint(fields=["profile", "skill"], name="profile_skill_unique"),
            models.CheckConstraint(
                condition=models.Q(level__gte=1, level__lte=4), name="profile_skill_level_range"
            ),
        ]
        indexes = [models.Index(fields=["skill", "level"], name="profileskill_skill_level")]

    def __str__(self) -> str:
        return f"{self.skill} ({self.get_level_display()})"


class ProfileLanguage(models.Model):
    """A language a member speaks (ISO 639-1 code)."""

    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="languages")
    code = models.CharField(_("language"), max_length=8)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["profile", "code"], name="profile_language_unique"),
        ]
        indexes = [models.Index(fields=["code"], name="profilelanguage_code")]

    def __str__(self) -> str:
        return self.code

    @property
    def name(self) -> str:
        from community.languages import language_name

        return language_name(self.code)
