"""Every change to members and their profiles goes through these functions."""

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from community.languages import LANGUAGE_CODES
from community.markup import render_markdown
from community.models import (
    ROLE_FIELDS,
    Profile,
    ProfileLanguage,
    ProfileSkill,
    Role,
    Skill,
    SkillLevel,
    User,
    Visibility,
)

PROFILE_TEXT_FIELDS = ("display_name", "headline", "organisation", "country", "time_zone", "bio")
MAX_PROFILE_SKILLS = 40
MAX_PROFILE_LANGUAGES = 10


def _validate_roles(roles: Iterable[str]) -> list[str]:
    roles = list(dict.fromkeys(roles))
    unknown = [role for role in roles if role not in Role.values]
    if unknown:
        raise ValidationError({"roles": _("Unknown role: %s") % ", ".join(unknown)})
    return roles


def _validate_languages(languages: Iterable[str]) -> list[str]:
    codes = list(dict.fromkeys(languages))
    unknown = [code for code in codes if code not in LANGUAGE_CODES]
    if unknown:
        raise ValidationError({"languages": _("Unknown language: %s") % ", ".join(unknown)})
    if len(codes) > MAX_PROFILE_LANGUAGES:
        raise ValidationError({"languages": _("At most %d languages.") % MAX_PROFILE_LANGUAGES})
    return codes


def _validate_skills(skills: Mapping[str, int]) -> dict[int, int]:
    """Map skill slugs to levels; return skill ids to levels."""
    if len(skills) > MAX_PROFILE_SKILLS:
        raise ValidationError({"skills": _("At most %d skills.") % MAX_PROFILE_SKILLS})
    bad_levels = [slug for slug, level in skills.items() if level not in SkillLevel.values]
    if bad_levels:
        raise ValidationError(
            {"skills": _("Levels run from 1 to 4; not valid for: %s") % ", ".join(bad_levels)}
        )
    ids = dict(
        Skill.objects.filter(slug__in=list(skills), is_active=True).values_list("slug", "id")
    )
    unknown = sorted(set(skills) - set(ids))
    if unknown:
        raise ValidationError({"skills": _("Unknown skill: %s") % ", ".join(unknown)})
    return {ids[slug]: level for slug, level in skills.items()}


@transaction.atomic
def profile_create(
    *,
    user: User,
    display_name: str = "",
    time_zone: str = "UTC",
    roles: Iterable[str] = (Role.LEARNER,),
) -> Profile:
    """Give a new account its profile (idempotent: returns the existing one)."""
    existing = Profile.objects.filter(user=user).first()
    if existing is not None:
        return existing
    profile = Profile(
        user=user, display_name=(display_name or user.username).strip()[:80], time_zone=time_zone
    )
    for role in _validate_roles(roles):
        setattr(profile, ROLE_FIELDS[role], True)
    profile.full_clean(exclude=["user"])
    profile.save()
    return profile


def profile_get_or_create(*, user: User) -> Profile:
    try:
        return user.profile
    except Profile.DoesNotExist:
        return profile_create(user=user)


@transaction.atomic
def profile_update(
    *,
    actor: User,
    profile: Profile,
    data: Mapping[str, Any],
) -> Profile:
    """Update a member's own profile. ``data`` may hold any subset of the editable
    fields, ``roles`` (list), ``languages`` (list of codes), ``skills`` (slug -> level)
    and ``visibility``. Nothing changes unless all of it is valid."""
    if actor.pk != profile.user_id:
        raise PermissionDenied(_("Members can only edit their own profile."))
    profile = Profile.objects.select_for_update().get(pk=profile.pk)
    for field in PROFILE_TEXT_FIELDS:
        if field in data:
            value = data[field]
            setattr(profile, field, value.strip() if isinstance(value, str) else value)
    if "visibility" in data:
        if data["visibility"] not in Visibility.values:
            raise ValidationError({"visibility": _("Choose public or members.")})
        profile.visibility = data["visibility"]
    if "roles" in data:
        roles = _validate_roles(data["roles"])
        for role, field in ROLE_FIELDS.items():
            setattr(profile, field, role in roles)
    languages = _validate_languages(data["languages"]) if "languages" in data else None
    skills = _validate_skills(data["skills"]) if "skills" in data else None
    if not profile.display_name:
        raise ValidationError({"display_name": _("A display name is required.")})
    profile.full_clean(exclude=["user"])
    profile.bio_html = render_markdown(profile.bio)
    profile.save()

    if languages is not None:
        ProfileLanguage.objects.filter(profile=profile).exclude(code__in=languages).delete()
        have = set(profile.languages.values_list("code", flat=True))
        ProfileLanguage.objects.bulk_create(
            [ProfileLanguage(profile=profile, code=code) for code in languages if code not in have]
        )
    if skills is not None:
        ProfileSkill.objects.filter(profile=profile).exclude(skill_id__in=list(skills)).delete()
        current = dict(profile.skill_levels.values_list("skill_id", "level"))
        for skill_id, level in skills.items():
            if skill_id not in current:
                ProfileSkill.objects.create(profile=profile, skill_id=skill_id, level=level)
            elif current[skill_id] != level:
                ProfileSkill.objects.filter(profile=profile, skill_id=skill_id).update(level=level)
    return profile
