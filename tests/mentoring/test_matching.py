"""Cohort matching: the optimal assignment against the greedy one and a brute force.

Cohorts are built directly as scoring inputs (no database), with random languages,
target skills, mentor skills, availability and capacities.
"""

import itertools
from collections import Counter
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from community.mentoring.availability import SLOTS_PER_WEEK
from community.mentoring.matching import match_greedy, match_optimal, score_matrix
from community.mentoring.scoring import MenteeNeeds, MentorOffer, Score, score_pair

LANGUAGES = ("en", "fr", "es")
SKILLS = range(1, 7)
AREA_OF = {1: 1, 2: 1, 3: 2, 4: 2, 5: 3, 6: 3}
TOLERANCE = 1e-6

PROPERTY_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

LEVEL_PAIRS = [(current, target) for current in range(4) for target in range(current + 1, 5)]


def _runs_to_mask(runs: list[tuple[int, int]]) -> int:
    mask = 0
    for start, length in runs:
        for k in range(length):
            mask |= 1 << ((start + k) % SLOTS_PER_WEEK)
    return mask


# Strategies are built once: up to three runs of free quarter hours in the UTC week.
languages = st.frozensets(st.sampled_from(LANGUAGES), min_size=1, max_size=2)
masks = st.lists(st.tuples(st.integers(0, SLOTS_PER_WEEK - 1), st.integers(1, 24)), max_size=3).map(
    _runs_to_mask
)
mentees = st.builds(
    lambda langs, targets, mask: MenteeNeeds(
        user_id=0,
        languages=langs,
        targets=targets,
        areas=frozenset(AREA_OF[s] for s in targets),
        mask=mask,
    ),
    languages,
    st.dictionaries(st.sampled_from(SKILLS), st.sampled_from(LEVEL_PAIRS), max_size=4),
    masks,
)
# ``active`` (mentees outside the programme) must not reduce the programme capacity.
mentors = st.builds(
    lambda langs, skills, mask, capacity, active: MentorOffer(
        user_id=0,
        languages=langs,
        skills=skills,
        areas=frozenset(AREA_OF[s] for s in skills),
        mask=mask,
        capacity=capacity,
        active=active,
    ),
    languages,
    st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 4), max_size=4),
    masks,
    st.integers(1, 3),
    st.integers(0, 3),
)


def cohorts(
    max_mentees: int = 12, max_mentors: int = 6
) -> st.SearchStrategy[tuple[list[MenteeNeeds], list[MentorOffer]]]:
    """A cohort and a pool with distinct user ids (mentees 100+, mentors 200+)."""
    return st.tuples(
        st.lists(mentees, max_size=max_mentees), st.lists(mentors, max_size=max_mentors)
    ).map(
        lambda cp: (
            [replace(m, user_id=100 + i) for i, m in enumerate(cp[0])],
            [replace(m, user_id=200 + j) for j, m in enumerate(cp[1])],
        )
    )


def _check_valid(
    result_pairs: list[tuple[int, int, Score]], cohort: list[MenteeNeeds], pool: list[MentorOffer]
) -> None:
    by_mentee = {m.user_id: m for m in cohort}
    by_mentor = {m.user_id: m for m in pool}
    load = Counter(mentor_id for _mentee, mentor_id, _score in result_pairs)
    for mentor_id, n in load.items():
        assert n <= by_mentor[mentor_id].capacity
    seen = [mentee_id for mentee_id, _mentor, _score in result_pairs]
    assert len(seen) == len(set(seen))
    for mentee_id, mentor_id, _score in result_pairs:
        assert by_mentee[mentee_id].languages & by_mentor[mentor_id].languages


def _brute_force_best(matrix: np.ndarray, capacities: list[int]) -> float:
    """The true maximum total over every assignment (mentee -> mentor or nobody)."""
    n, m = matrix.shape
    choices = [[None, *(j for j in range(m) if not np.isnan(matrix[i, j]))] for i in range(n)]
    best = 0.0
    for assignment in itertools.product(*choices):
        load = Counter(j for j in assignment if j is not None)
        if any(load[j] > capacities[j] for j in load):
            continue
        total = sum(matrix[i, j] for i, j in enumerate(assignment) if j is not None)
        best = max(best, total)
    return best


@PROPERTY_SETTINGS
@given(cohorts())
def test_optimal_respects_capacities_languages_and_each_mentee_once(
    cohort: tuple[list[MenteeNeeds], list[MentorOffer]],
) -> None:
    """The optimal matching never overfills a mentor, never pairs people without a shared
    language, and places each mentee at most once; every mentee is matched or explained."""
    mentees_, mentors_ = cohort
    result = match_optimal(mentees_, mentors_)
    _check_valid(result.pairs, mentees_, mentors_)
    matched = {mentee_id for mentee_id, _m, _s in result.pairs}
    assert matched.isdisjoint(result.unmatched)
    assert matched | set(result.unmatched) == {m.user_id for m in mentees_}
    assert all(result.unmatched.values())


@PROPERTY_SETTINGS
@given(cohorts())
def test_optimal_is_never_worse_than_greedy(
    cohort: tuple[list[MenteeNeeds], list[MentorOffer]],
) -> None:
    """The optimal total score is never below the greedy assignment's total."""
    mentees_, mentors_ = cohort
    matrix = score_matrix(mentees_, mentors_)
    optimal = match_optimal(mentees_, mentors_, matrix)
    greedy = match_greedy(mentees_, mentors_, matrix)
    _check_valid(greedy.pairs, mentees_, mentors_)
    assert optimal.total >= greedy.total - TOLERANCE


@PROPERTY_SETTINGS
@given(cohorts(max_mentees=5, max_mentors=4))
def test_optimal_equals_the_brute_force_maximum(
    cohort: tuple[list[MenteeNeeds], list[MentorOffer]],
) -> None:
    """On tiny cohorts the optimal total equals the best of every possible assignment."""
    mentees_, mentors_ = cohort
    matrix = score_matrix(mentees_, mentors_)
    optimal = match_optimal(mentees_, mentors_, matrix)
    best = _brute_force_best(matrix, [m.capacity for m in mentors_])
    assert abs(optimal.total - best) <= TOLERANCE


@PROPERTY_SETTINGS
@given(cohorts())
def test_score_matrix_matches_the_pair_score(
    cohort: tuple[list[MenteeNeeds], list[MentorOffer]],
) -> None:
    """Each matrix entry is the pair's score with all programme places free, or NaN
    exactly where the pair has no score."""
    mentees_, mentors_ = cohort
    matrix = score_matrix(mentees_, mentors_)
    assert matrix.shape == (len(mentees_), len(mentors_))
    for i, mentee in enumerate(mentees_):
        for j, mentor in enumerate(mentors_):
            score = score_pair(mentee, replace(mentor, active=0), with_text=False)
            if score is None:
                assert np.isnan(matrix[i, j])
            else:
                assert matrix[i, j] == pytest.approx(score.total, abs=TOLERANCE)


# --- examples ---------------------------------------------------------------------------------
def _mentee(uid: int, langs: str, targets: dict[int, tuple[int, int]]) -> MenteeNeeds:
    return MenteeNeeds(uid, frozenset(langs.split()), targets, frozenset(), 0)


def _mentor(uid: int, langs: str, skills: dict[int, int], capacity: int) -> MentorOffer:
    return MentorOffer(uid, frozenset(langs.split()), skills, frozenset(), 0, capacity)


def test_optimal_beats_greedy_when_greedy_takes_the_contested_mentor() -> None:
    """Greedy gives the star mentor to the first best pair; optimal serves both mentees."""
    a = _mentee(1, "en", {1: (0, 4), 2: (0, 4)})  # star covers both, other covers one
    b = _mentee(2, "en", {1: (0, 4)})  # only the star covers this
    star = _mentor(10, "en", {1: 4, 2: 4}, capacity=1)
    other = _mentor(11, "en", {2: 4}, capacity=1)
    optimal = match_optimal([a, b], [star, other])
    greedy = match_greedy([a, b], [star, other])
    assert sorted((m, n) for m, n, _s in optimal.pairs) == [(1, 11), (2, 10)]
    assert optimal.total > greedy.total


def test_unmatched_mentees_get_a_reason() -> None:
    """A mentee no one can talk to, and one left over at capacity, are told why."""
    lonely = _mentee(1, "es", {})
    first = _mentee(2, "en", {1: (0, 2)})
    second = _mentee(3, "en", {})
    mentor = _mentor(10, "en fr", {1: 3}, capacity=1)
    result = match_optimal([lonely, first, second], [mentor])
    assert [(m, n) for m, n, _s in result.pairs] == [(2, 10)]
    assert result.unmatched == {
        1: "no mentor in the pool speaks a language you speak",
        3: "every mentor who shares a language with you is at capacity",
    }
    assert result.worst(3) == 0.0
    assert result.mean == result.total


def test_a_weak_pair_is_better_than_no_mentor() -> None:
    """A mentee whose only possible mentor covers none of their skills is still matched,
    and a mentor's outside load does not count against the programme capacity."""
    mentee = MenteeNeeds(1, frozenset({"en"}), {1: (3, 4)}, frozenset(), 0)
    mentor = MentorOffer(10, frozenset({"en"}), {}, frozenset(), 0, capacity=1, active=1)
    result = match_optimal([mentee], [mentor])
    assert [(m, n) for m, n, _s in result.pairs] == [(1, 10)]
    assert result.pairs[0][2].parts["skills"] == 0.0
