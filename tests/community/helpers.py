"""Shared helpers for the community tests."""

from html.parser import HTMLParser
from typing import Any

from community.models import (
    ROLE_FIELDS,
    Profile,
    ProfileLanguage,
    ProfileSkill,
    Skill,
    User,
)


def profile_snapshot(profile_pk: int) -> dict[str, Any]:
    """Everything a member can change on their profile, re-read from the database."""
    profile = Profile.objects.get(pk=profile_pk)
    return {
        "display_name": profile.display_name,
        "headline": profile.headline,
        "organisation": profile.organisation,
        "country": profile.country.code,
        "time_zone": profile.time_zone,
        "bio": profile.bio,
        "bio_html": profile.bio_html,
        "visibility": profile.visibility,
        "roles": sorted(profile.roles),
        "languages": sorted(profile.languages.values_list("code", flat=True)),
        "skills": dict(profile.skill_levels.values_list("skill__slug", "level")),
    }


class _FormReader(HTMLParser):
    """Collects what a browser would submit from the first form with this method and action
    (``action=None``: a form that posts to the page itself, not the header's log-out form)."""

    def __init__(self, method: str, action: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.method, self.action = method, action
        self.values: dict[str, list[str]] = {}
        self.in_form = False
        self.done = False
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if (
            tag == "form"
            and not self.done
            and a.get("method", "get").lower() == self.method
            and a.get("action") == self.action
        ):
            self.in_form = True
        if not self.in_form:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in {"checkbox", "radio"}:
                if "checked" in a:
                    self.values.setdefault(name, []).append(a.get("value", "on"))
            elif kind not in {"submit", "button"}:
                self.values.setdefault(name, []).append(a.get("value", ""))
        elif tag == "select" and name:
            self.select = name
            self.values.setdefault(name, [])
        elif tag == "option" and self.select and "selected" in a:
            self.values[self.select].append(a.get("value", ""))
        elif tag == "textarea" and name:
            self.textarea = name
            self.values[name] = [""]

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.in_form:
            self.in_form, self.done = False, True
        elif tag == "select":
            self.select = None
        elif tag == "textarea" and self.textarea:
            # Browsers drop the one newline that starts a textarea's content.
            self.values[self.textarea][0] = self.values[self.textarea][0].removeprefix("\n")
            self.textarea = None

    def handle_data(self, data: str) -> None:
        if self.textarea:
            self.values[self.textarea][0] += data


def form_values(
    html: str, *, method: str = "post", action: str | None = None
) -> dict[str, list[str]]:
    """The values a browser would submit from one form of the page, as it stands."""
    reader = _FormReader(method, action)
    reader.feed(html)
    return reader.values


def bulk_members(
    count: int,
    *,
    prefix: str,
    name: str,
    roles: tuple[str, ...] = ("learner",),
    country: str = "",
    languages: tuple[str, ...] = (),
    skills_each: int = 0,
) -> list[Profile]:
    """``count`` members in a handful of queries (the services are tested on their own):
    usernames ``{prefix}00``, ``{prefix}01``, ..., display names ``{name} 00``, ...; each
    with ``skills_each`` catalogue skills at varying levels and the given languages."""
    users = User.objects.bulk_create(
        [
            User(username=f"{prefix}{i:02d}", email=f"{prefix}{i:02d}@example.org")
            for i in range(count)
        ]
    )
    if not all(u.pk for u in users):  # backends that do not return ids on bulk insert
        users = list(User.objects.filter(username__startswith=prefix).order_by("username"))
    profiles = Profile.objects.bulk_create(
        [
            Profile(
                user=user,
                display_name=f"{name} {i:02d}",
                country=country,
                bio_html="",
                **{ROLE_FIELDS[role]: True for role in roles},
            )
            for i, user in enumerate(users)
        ]
    )
    pool = list(Skill.objects.filter(is_active=True).values_list("pk", flat=True)[:12])
    ProfileSkill.objects.bulk_create(
        [
            ProfileSkill(profile=p, skill_id=pool[(i + k) % len(pool)], level=1 + (i + k) % 4)
            for i, p in enumerate(profiles)
            for k in range(skills_each)
        ]
    )
    ProfileLanguage.objects.bulk_create(
        [ProfileLanguage(profile=p, code=code) for p in profiles for code in languages]
    )
    return profiles
