"""Reads of members, profiles and the catalogue, shaped for their callers."""

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.db.models import Prefetch, Q, QuerySet

from community.models import (
    ROLE_FIELDS,
    CompetencyArea,
    Profile,
    ProfileSkill,
    Skill,
    User,
    Visibility,
)

Viewer = User | AnonymousUser


@dataclass(frozen=True)
class MemberFilters:
    """What the member directory can be narrowed by. Empty values mean "any"."""

    q: str = ""
    skill: str = ""  # skill slug
    min_level: int | None = None  # with ``skill``: at least this level
    country: str = ""
    language: str = ""
    role: str = ""


def _profiles_with_details() -> QuerySet[Profile]:
    return Profile.objects.select_related("user").prefetch_related(
        Prefetch(
            "skill_levels",
            queryset=ProfileSkill.objects.select_related("skill").order_by("-level", "skill__name"),
        ),
        "languages",
    )


def profiles_visible_to(viewer: Viewer) -> QuerySet[Profile]:
    """Profiles of active members that ``viewer`` may see."""
    qs = Profile.objects.filter(user__is_active=True)
    if not viewer.is_authenticated:
        qs = qs.filter(visibility=Visibility.PUBLIC)
    return qs


def member_list(*, viewer: Viewer, filters: MemberFilters | None = None) -> QuerySet[Profile]:
    """The member directory: visible profiles, filtered, ordered by display name."""
    filters = filters or MemberFilters()
    qs = profiles_visible_to(viewer)
    if filters.q:
        for word in filters.q.split()[:8]:
            qs = qs.filter(
                Q(display_name__icontains=word)
                | Q(user__username__icontains=word)
                | Q(headline__icontains=word)
                | Q(organisation__icontains=word)
            )
    if filters.skill:
        level_q = Q(skill_levels__skill__slug=filters.skill)
        if filters.min_level:
            level_q &= Q(skill_levels__level__gte=filters.min_level)
        qs = qs.filter(level_q)
    if filters.country:
        qs = qs.filter(country=filters.country.upper())
    if filters.language:
        qs = qs.filter(languages__code=filters.language)
    if filters.role in ROLE_FIELDS:
        qs = qs.filter(**{ROLE_FIELDS[filters.role]: True})
    ids = qs.values("pk")
    return _profiles_with_details().filter(pk__in=ids).order_by("display_name", "pk")


def member_get_for_user(*, username: str, viewer: Viewer) -> Profile:
    """One member's profile, if ``viewer`` may see it.

    Raises ``Profile.DoesNotExist`` alike for a missing, inactive or hidden member.
    """
    return _profiles_with_details().get(
        pk__in=profiles_visible_to(viewer).values("pk"), user__username__iexact=username
    )


def catalogue_areas() -> QuerySet[CompetencyArea]:
    """Every area with its active skills, in catalogue order."""
    return CompetencyArea.objects.prefetch_related(
        Prefetch(
            "skills", queryset=Skill.objects.filter(is_active=True).order_by("position", "name")
        )
    ).order_by("position", "name")


def skill_list(*, area: str = "") -> QuerySet[Skill]:
    qs = Skill.objects.filter(is_active=True).select_related("area")
    if area:
        qs = qs.filter(area__slug=area)
    return qs.order_by("area__position", "position", "name")


def community_stats() -> dict[str, int]:
    visible = Profile.objects.filter(user__is_active=True)
    return {
        "members": visible.count(),
        "countries": visible.exclude(country="").values("country").distinct().count(),
        "skills": Skill.objects.filter(is_active=True).count(),
        "mentors": visible.filter(is_mentor=True).count(),
    }
