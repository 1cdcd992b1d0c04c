"""The pair score: each weighted part, the hard requirements and the explanation."""

import datetime as dt

import pytest

from community.mentoring.availability import Window, windows_to_mask
from community.mentoring.scoring import (
    FULL_OVERLAP_HOURS,
    WEIGHTS,
    MenteeNeeds,
    MentorOffer,
    score_pair,
)

TODAY = dt.date(2025, 1, 15)


def hours_mask(hours: float, weekday: int = 0) -> int:
    """A UTC mask with ``hours`` of availability from 08:00 on ``weekday``."""
    minutes = int(hours * 60)
    end = (dt.datetime(2025, 1, 1, 8) + dt.timedelta(minutes=minutes)).time()
    return windows_to_mask([Window(weekday, dt.time(8), end)], "UTC", today=TODAY)


def needs(
    *,
    user_id: int = 1,
    languages: tuple[str, ...] = ("en",),
    targets: dict[int, tuple[int, int]] | None = None,
    areas: tuple[int, ...] = (),
    mask: int | None = None,
) -> MenteeNeeds:
    return MenteeNeeds(
        user_id=user_id,
        languages=frozenset(languages),
        targets=targets if targets is not None else {},
        areas=frozenset(areas),
        mask=hours_mask(5) if mask is None else mask,
    )


def offer(
    *,
    user_id: int = 2,
    languages: tuple[str, ...] = ("en",),
    skills: dict[int, int] | None = None,
    areas: tuple[int, ...] = (),
    mask: int | None = None,
    capacity: int = 2,
    active: int = 0,
) -> MentorOffer:
    return MentorOffer(
        user_id=user_id,
        languages=frozenset(languages),
        skills=skills or {},
        areas=frozenset(areas),
        mask=hours_mask(5) if mask is None else mask,
        capacity=capacity,
        active=active,
    )


def test_weights_add_up_to_one_hundred() -> None:
    """The documented weights are skills 50, availability 25, capacity 15, area 10."""
    assert WEIGHTS == {"skills": 50.0, "availability": 25.0, "capacity": 15.0, "area": 10.0}


def test_a_perfect_pair_scores_one_hundred() -> None:
    """Every target met, 4+ h overlap, all places free and two shared areas: 100 points."""
    score = score_pair(
        needs(targets={10: (1, 3), 11: (0, 2)}, areas=(1, 2)),
        offer(skills={10: 4, 11: 2}, areas=(1, 2, 3)),
    )
    assert score is not None
    assert score.parts == {"skills": 50.0, "availability": 25.0, "capacity": 15.0, "area": 10.0}
    assert score.total == 100.0


# --- skills -----------------------------------------------------------------------------------
def test_skills_give_full_credit_at_target_and_half_credit_above_current() -> None:
    """Two targets met, one above current level only, one not covered: 50 * 2.5/4."""
    mentee = needs(targets={1: (0, 3), 2: (1, 3), 3: (2, 4), 4: (0, 2)})
    score = score_pair(mentee, offer(skills={1: 3, 2: 2, 3: 4, 4: 0}))
    assert score is not None
    assert score.parts["skills"] == 31.25
    assert score.explanation[0] == "covers 3 of your 4 target skills (1 below your target level)"


def test_a_mentor_at_or_below_the_mentees_level_earns_nothing_for_that_skill() -> None:
    """A mentor whose level does not exceed the mentee's current level covers nothing."""
    score = score_pair(needs(targets={1: (2, 4)}), offer(skills={1: 2}))
    assert score is not None
    assert score.parts["skills"] == 0.0
    assert score.explanation[0] == "covers 0 of your 1 target skills"


def test_covers_three_of_four_target_skills() -> None:
    """Three targets fully met out of four is explained as covering 3 of 4 target skills."""
    mentee = needs(targets={1: (0, 2), 2: (0, 2), 3: (1, 3), 4: (2, 4)})
    score = score_pair(mentee, offer(skills={1: 3, 2: 2, 3: 4}))
    assert score is not None
    assert score.parts["skills"] == 37.5
    assert score.explanation[0] == "covers 3 of your 4 target skills"


def test_a_mentee_without_targets_scores_zero_for_skills() -> None:
    """Without target skills the skills part is 0 and the explanation says so."""
    score = score_pair(needs(targets={}), offer(skills={1: 4}))
    assert score is not None
    assert score.parts["skills"] == 0.0
    assert score.explanation[0] == "you have not set target skills yet"


# --- availability -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("hours", "points"), [(0.0, 0.0), (1.0, 6.25), (2.5, 15.62), (4.0, 25.0), (5.0, 25.0)]
)
def test_availability_grows_with_overlap_up_to_four_hours(hours: float, points: float) -> None:
    """Overlap earns 25 points per 4 h/week, and no more beyond 4 h."""
    mentee = needs(mask=hours_mask(5))
    mentor = offer(mask=hours_mask(hours) if hours else hours_mask(2, weekday=3))
    score = score_pair(mentee, mentor)
    assert FULL_OVERLAP_HOURS == 4.0
    assert score is not None
    assert score.parts["availability"] == pytest.approx(points, abs=0.01)


def test_overlap_is_explained_in_hours_per_week() -> None:
    """Five shared hours read "5 h/week overlap"; none reads as no overlap."""
    score = score_pair(needs(mask=hours_mask(5)), offer(mask=hours_mask(5)))
    assert score is not None
    assert "5 h/week overlap" in score.explanation
    half = score_pair(needs(mask=hours_mask(1.5)), offer(mask=hours_mask(5)))
    assert half is not None
    assert "1.5 h/week overlap" in half.explanation
    none = score_pair(needs(mask=hours_mask(2)), offer(mask=hours_mask(2, weekday=4)))
    assert none is not None
    assert none.parts["availability"] == 0.0
    assert "no overlap in your weekly availability" in none.explanation


def test_overlap_counts_across_time_zones() -> None:
    """A Kolkata evening and a Lagos afternoon overlap by the hours they share in UTC."""
    kolkata = windows_to_mask(
        [Window(1, dt.time(19), dt.time(22))], "Asia/Kolkata", today=TODAY
    )  # 13:30-16:30 UTC
    lagos = windows_to_mask([Window(1, dt.time(14), dt.time(17))], "Africa/Lagos", today=TODAY)
    score = score_pair(needs(mask=kolkata), offer(mask=lagos))  # 13:00-16:00 UTC
    assert score is not None
    assert "2.5 h/week overlap" in score.explanation
    assert score.parts["availability"] == pytest.approx(25 * 2.5 / 4, abs=0.01)


# --- capacity ---------------------------------------------------------------------------------
def test_capacity_part_is_the_share_of_free_places() -> None:
    """A mentor with 3 of 4 places free earns 15 * 3/4 and says so."""
    score = score_pair(needs(), offer(capacity=4, active=1))
    assert score is not None
    assert score.parts["capacity"] == 11.25
    assert "3 of 4 places free" in score.explanation


def test_a_less_loaded_mentor_scores_higher_all_else_equal() -> None:
    """Between two otherwise identical mentors, the one with more free places scores higher."""
    busy = score_pair(needs(), offer(capacity=3, active=2))
    free = score_pair(needs(), offer(capacity=3, active=0))
    assert busy is not None
    assert free is not None
    assert free.total - busy.total == pytest.approx(10.0)


# --- area -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("mentee_areas", "points", "line"),
    [
        ((7,), 0.0, None),
        ((1,), 5.0, "1 shared area of practice"),
        ((1, 2), 10.0, "2 shared areas of practice"),
        ((1, 2, 3), 10.0, "3 shared areas of practice"),
    ],
)
def test_area_part_rewards_one_or_two_shared_areas(
    mentee_areas: tuple[int, ...], points: float, line: str | None
) -> None:
    """One shared area earns 5 points, two or more earn 10."""
    score = score_pair(needs(areas=mentee_areas), offer(areas=(1, 2, 3)))
    assert score is not None
    assert score.parts["area"] == points
    if line:
        assert line in score.explanation
    else:
        assert not any("area" in text for text in score.explanation)


# --- languages and hard requirements ----------------------------------------------------------
def test_shared_language_is_named() -> None:
    """A pair sharing only French is told "you both speak French"."""
    score = score_pair(needs(languages=("fr", "wo")), offer(languages=("fr", "en")))
    assert score is not None
    assert "you both speak French" in score.explanation


def test_several_shared_languages_are_all_named() -> None:
    """A pair sharing English and French is told both."""
    score = score_pair(needs(languages=("fr", "en")), offer(languages=("en", "fr", "es")))
    assert score is not None
    assert "you both speak English and French" in score.explanation


def test_full_explanation_reads_as_the_issue_describes() -> None:
    """The explanation lists skills, overlap, languages, areas and places, in that order."""
    score = score_pair(
        needs(languages=("fr",), targets={1: (0, 2), 2: (0, 2), 3: (0, 2), 4: (0, 2)}, areas=(1,)),
        offer(languages=("fr", "en"), skills={1: 2, 2: 3, 3: 4}, areas=(1,), capacity=2),
    )
    assert score is not None
    assert score.explanation == [
        "covers 3 of your 4 target skills",
        "5 h/week overlap",
        "you both speak French",
        "1 shared area of practice",
        "2 of 2 places free",
    ]
    assert score.total == pytest.approx(37.5 + 25 + 15 + 5)


def test_no_shared_language_means_no_score() -> None:
    """Without a shared language the pair has no score at all, however good otherwise."""
    assert score_pair(needs(languages=("es",), targets={1: (0, 2)}), offer(skills={1: 4})) is None


def test_a_mentor_at_capacity_has_no_score() -> None:
    """A mentor with no free place is never scored."""
    assert score_pair(needs(), offer(capacity=2, active=2)) is None
    assert score_pair(needs(), offer(capacity=2, active=1)) is not None


def test_a_member_cannot_be_scored_against_themselves() -> None:
    """The same person as mentee and mentor has no score."""
    assert score_pair(needs(user_id=5), offer(user_id=5)) is None


def test_score_without_text_matches_score_with_text() -> None:
    """Skipping the explanation does not change the numbers."""
    mentee = needs(targets={1: (0, 3), 2: (1, 2)}, areas=(1,))
    mentor = offer(skills={1: 2, 2: 4}, areas=(1, 4), capacity=3, active=1)
    with_text = score_pair(mentee, mentor)
    bare = score_pair(mentee, mentor, with_text=False)
    assert with_text is not None
    assert bare is not None
    assert (bare.total, bare.parts) == (with_text.total, with_text.parts)
    assert bare.explanation == []
    assert with_text.total == round(sum(with_text.parts.values()), 2)
