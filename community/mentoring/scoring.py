"""How well a mentor suits a mentee: a documented, weighted, explainable score.

Score (0-100) = skills (50) + availability (25) + capacity (15) + shared area (10).

- Hard requirements: at least one shared language; the mentor accepts mentees and has
  a free place. A pair that fails one has no score (it is never suggested or matched).
- Skills, 50: for each of the mentee's target skills, full credit when the mentor's level
  reaches the target level, half credit when it is above the mentee's current level but
  below the target, none otherwise; averaged over the targets. A mentee with no targets
  scores 0 here (their suggestions then rank on the other parts).
- Availability, 25: weekly hours both are free (after converting both time zones to
  UTC), saturating at 4 h/week.
- Capacity, 15: the share of the mentor's places still free, so load spreads out.
- Area, 10: the mentor mentors in at least one area of practice the mentee targets or
  works in (5 for one shared area, 10 for two or more).

Every score carries its explanation, one short phrase per part.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from community.languages import language_name
from community.mentoring.availability import SLOT_MINUTES, overlap_hours

WEIGHTS = {"skills": 50.0, "availability": 25.0, "capacity": 15.0, "area": 10.0}
FULL_OVERLAP_HOURS = 4.0


@dataclass(frozen=True)
class MenteeNeeds:
    user_id: int
    languages: frozenset[str]
    targets: Mapping[int, tuple[int, int]]  # skill id -> (current level, target level)
    areas: frozenset[int]
    mask: int


@dataclass(frozen=True)
class MentorOffer:
    user_id: int
    languages: frozenset[str]
    skills: Mapping[int, int]  # skill id -> level
    areas: frozenset[int]
    mask: int
    capacity: int
    active: int = 0


@dataclass
class Score:
    total: float
    parts: dict[str, float]
    explanation: list[str] = field(default_factory=list)


def _parts(
    n_targets: int, full: int, half: int, hours: float, free: int, capacity: int, shared: int
) -> dict[str, float]:
    """The four rounded parts, from the pair's counts (the one place the weights apply)."""
    skills = WEIGHTS["skills"] * (full + 0.5 * half) / n_targets if n_targets else 0.0
    availability = WEIGHTS["availability"] * min(hours, FULL_OVERLAP_HOURS) / FULL_OVERLAP_HOURS
    capacity_part = WEIGHTS["capacity"] * free / capacity
    area = WEIGHTS["area"] * min(shared, 2) / 2
    return {
        "skills": round(skills, 2),
        "availability": round(availability, 2),
        "capacity": round(capacity_part, 2),
        "area": round(area, 2),
    }


@lru_cache(maxsize=65536)
def score_total(
    n_targets: int, full: int, half: int, slots: int, free: int, capacity: int, shared: int
) -> float:
    """``score_pair(...).total`` from the pair's counts (``slots``: shared quarter hours
    per week), memoised: bulk scoring (recommendations, cohort matrices) sees few
    distinct combinations, so it costs one lookup per pair."""
    hours = slots * SLOT_MINUTES / 60
    return round(sum(_parts(n_targets, full, half, hours, free, capacity, shared).values()), 2)


def score_pair(mentee: MenteeNeeds, mentor: MentorOffer, *, with_text: bool = True) -> Score | None:
    """The pair's score, or ``None`` when a hard requirement fails."""
    if mentee.user_id == mentor.user_id:
        return None
    shared_languages = mentee.languages & mentor.languages
    free = mentor.capacity - mentor.active
    if not shared_languages or free <= 0:
        return None

    full = half = 0
    for skill_id, (current, target) in mentee.targets.items():
        level = mentor.skills.get(skill_id, 0)
        if level >= target:
            full += 1
        elif level > current:
            half += 1
    n_targets = len(mentee.targets)
    hours = overlap_hours(mentee.mask, mentor.mask)
    shared_areas = len(mentee.areas & mentor.areas)
    parts = _parts(n_targets, full, half, hours, free, mentor.capacity, shared_areas)
    total = round(sum(parts.values()), 2)
    if not with_text:
        return Score(total=total, parts=parts)
    return Score(
        total=total,
        parts=parts,
        explanation=explain(
            n_targets=n_targets,
            full=full,
            half=half,
            hours=hours,
            languages=shared_languages,
            free=free,
            capacity=mentor.capacity,
            shared_areas=shared_areas,
        ),
    )


def explain(
    *,
    n_targets: int,
    full: int,
    half: int,
    hours: float,
    languages: frozenset[str],
    free: int,
    capacity: int,
    shared_areas: int,
) -> list[str]:
    lines = []
    if n_targets:
        covered = full + half
        line = _("covers %(covered)d of your %(n)d target skills") % {
            "covered": covered,
            "n": n_targets,
        }
        if half:
            line += " " + ngettext(
                "(%(half)d below your target level)", "(%(half)d below your target levels)", half
            ) % {"half": half}
        lines.append(line)
    else:
        lines.append(_("you have not set target skills yet"))
    if hours:
        lines.append(_("%(hours)s h/week overlap") % {"hours": f"{hours:g}"})
    else:
        lines.append(_("no overlap in your weekly availability"))
    names = sorted(language_name(code) for code in languages)
    lines.append(_("you both speak %(languages)s") % {"languages": _(" and ").join(names)})
    if shared_areas:
        lines.append(
            ngettext(
                "%(n)d shared area of practice", "%(n)d shared areas of practice", shared_areas
            )
            % {"n": shared_areas}
        )
    lines.append(_("%(free)d of %(capacity)d places free") % {"free": free, "capacity": capacity})
    return lines
