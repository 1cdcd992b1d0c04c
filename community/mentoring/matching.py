"""Cohort matching: assign a cohort of mentees to a pool of mentors with capacities.

``match_optimal`` maximises the total score under the capacities and the hard
constraints, exactly: each mentor with capacity c becomes c identical "slots", each
mentee gets a private "unmatched" slot worth nothing, and scipy's
``linear_sum_assignment`` (a Jonker-Volgenant solver) finds the best assignment of
mentees to slots. Infeasible pairs (no shared language) cost more than leaving the
mentee unmatched, so they are never chosen. ``match_greedy`` is the baseline it is
compared with: best pair first.
"""

import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from django.utils.translation import gettext as _
from scipy.optimize import linear_sum_assignment

from community.mentoring.scoring import MenteeNeeds, MentorOffer, Score, score_pair, score_total

EPSILON = 1e-3  # a feasible pair with score 0 still beats being unmatched
INFEASIBLE = 1e6


@dataclass
class CohortResult:
    pairs: list[tuple[int, int, Score]] = field(default_factory=list)  # mentee, mentor, score
    unmatched: dict[int, str] = field(default_factory=dict)  # mentee id -> reason

    @property
    def total(self) -> float:
        return round(sum(score.total for _m, _n, score in self.pairs), 2)

    @property
    def matched(self) -> int:
        return len(self.pairs)

    @property
    def mean(self) -> float:
        return round(self.total / len(self.pairs), 2) if self.pairs else 0.0

    def worst(self, cohort_size: int) -> float:
        """The worst-off mentee's score (0 if anyone is left unmatched)."""
        if len(self.pairs) < cohort_size:
            return 0.0
        return min((score.total for _m, _n, score in self.pairs), default=0.0)


def _free(mentor: MentorOffer) -> MentorOffer:
    # In a programme the capacity is the programme capacity, all of it free.
    return MentorOffer(
        user_id=mentor.user_id,
        languages=mentor.languages,
        skills=mentor.skills,
        areas=mentor.areas,
        mask=mentor.mask,
        capacity=mentor.capacity,
        active=0,
    )


def score_matrix(mentees: Sequence[MenteeNeeds], mentors: Sequence[MentorOffer]) -> np.ndarray:
    """Scores (mentees x mentors); NaN where a hard requirement fails.

    Vectorised: the per-pair counts that ``score_pair`` works from (targets covered in
    full and in part, shared quarter hours, shared areas and languages) come from numpy
    over bit sets and level arrays, and each distinct combination of counts is scored
    once by ``score_total`` (the arithmetic of ``score_pair``), so every entry equals
    ``score_pair(mentee, mentor-with-all-places-free).total``."""
    matrix = np.full((len(mentees), len(mentors)), np.nan)
    if not len(mentees) or not len(mentors):
        return matrix
    free = [_free(m) for m in mentors]
    people: list[MenteeNeeds | MentorOffer] = [*mentees, *free]
    if any(x.mask < 0 for x in people):  # not a week of slots: score pair by pair
        return _score_matrix_pairwise(mentees, mentors, matrix)
    codes = _columns(c for x in people for c in x.languages)
    area_col = _columns(a for x in people for a in x.areas)
    skill_col = _columns(
        [*(s for m in free for s in m.skills), *(s for x in mentees for s in x.targets)]
    )
    mask_words = max(1, max((x.mask.bit_length() + 63) // 64 for x in people))
    lang_words, area_words = _n_words(len(codes)), _n_words(len(area_col))

    mo_lang = _bitsets([m.languages for m in free], codes, lang_words)
    mo_area = _bitsets([m.areas for m in free], area_col, area_words)
    mo_mask = _words([m.mask for m in free], mask_words)
    levels = np.zeros((len(free), max(1, len(skill_col))), dtype=np.int64)
    for j, m in enumerate(free):
        for skill_id, level in m.skills.items():
            levels[j, skill_col[skill_id]] = level
    capacity = np.array([m.capacity for m in free], dtype=np.int64)
    mentor_ids = np.array([m.user_id for m in free], dtype=np.int64)

    step = max(1, min(512, _BLOCK_WORDS // (len(free) * mask_words)))
    for lo in range(0, len(mentees), step):
        block = mentees[lo : lo + step]
        shared_lang = _shared(_bitsets([x.languages for x in block], codes, lang_words), mo_lang)
        ids = np.array([x.user_id for x in block], dtype=np.int64)
        feasible = (
            (shared_lang > 0) & (capacity > 0)[None, :] & (ids[:, None] != mentor_ids[None, :])
        )
        if not feasible.any():
            continue
        slots = _shared(_words([x.mask for x in block], mask_words), mo_mask)
        shared = _shared(_bitsets([x.areas for x in block], area_col, area_words), mo_area)
        full, half = _coverage(block, levels, skill_col)
        i_idx, j_idx = np.nonzero(feasible)
        counts = [
            np.array([len(x.targets) for x in block], dtype=np.int64)[i_idx],
            full[i_idx, j_idx],
            half[i_idx, j_idx],
            slots[i_idx, j_idx],
            capacity[j_idx],
            np.minimum(shared[i_idx, j_idx], 2),  # the area part counts two at most
        ]
        combos, inverse = _distinct_rows(counts)
        totals = np.array(
            [score_total(n, f, h, s, c, c, a) for n, f, h, s, c, a in combos],
            dtype=np.float64,
        )
        matrix[lo + i_idx, j_idx] = totals[inverse]
    return matrix


_BLOCK_WORDS = 2_000_000  # 64-bit words per block of pairs: bounds the temporary arrays


def _n_words(bits: int) -> int:
    return max(1, (bits + 63) // 64)


def _words(masks: Sequence[int], words: int) -> np.ndarray:
    """Non-negative ints as rows of little-endian 64-bit words."""
    raw = b"".join(mask.to_bytes(words * 8, "little") for mask in masks)
    return np.frombuffer(raw, dtype="<u8").reshape(len(masks), words)


def _bitsets(
    sets: Sequence[Iterable[Hashable]], columns: dict[Hashable, int], words: int
) -> np.ndarray:
    masks = []
    for items in sets:
        mask = 0
        for item in items:
            mask |= 1 << columns[item]
        masks.append(mask)
    return _words(masks, words)


_BYTE_BITS = np.array([bin(i).count("1") for i in range(256)], dtype=np.int64)


def _shared(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Bits in common between each row of ``a`` and each row of ``b`` (rows x rows)."""
    both = a[:, None, :] & b[None, :, :]
    bitwise_count = getattr(np, "bitwise_count", None)  # numpy >= 2.0
    if bitwise_count is not None:
        return bitwise_count(both).sum(axis=2, dtype=np.int64)
    as_bytes = both.view(np.uint8).reshape(both.shape[0], both.shape[1], -1)
    return _BYTE_BITS[as_bytes].sum(axis=2)


def _coverage(
    block: Sequence[MenteeNeeds], levels: np.ndarray, skill_col: dict[Hashable, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Per pair, the mentee's targets the mentor reaches (full) and the ones where the
    mentor is above the mentee's current level but below the target (half)."""
    full = np.zeros((len(block), levels.shape[0]), dtype=np.int64)
    half = np.zeros_like(full)
    owners: list[int] = []
    starts: list[int] = []
    cols: list[int] = []
    current: list[int] = []
    target: list[int] = []
    for r, x in enumerate(block):
        if x.targets:
            owners.append(r)
            starts.append(len(cols))
        for skill_id, (cur, tgt) in x.targets.items():
            cols.append(skill_col[skill_id])
            current.append(cur)
            target.append(tgt)
    if cols:
        lv = levels[:, cols]  # mentors x targets
        is_full = lv >= np.array(target, dtype=np.int64)[None, :]
        is_half = ~is_full & (lv > np.array(current, dtype=np.int64)[None, :])
        full[owners] = np.add.reduceat(is_full.astype(np.int64), starts, axis=1).T
        half[owners] = np.add.reduceat(is_half.astype(np.int64), starts, axis=1).T
    return full, half


def _distinct_rows(columns: list[np.ndarray]) -> tuple[list[tuple[int, ...]], np.ndarray]:
    """The distinct rows of non-negative integer columns (as tuples of ints) and, for each
    row, the index of its distinct row. Rows are packed into one int64 when they fit."""
    radices = [int(c.max()) + 1 if c.size else 1 for c in columns]
    if all(int(c.min()) >= 0 for c in columns if c.size) and math.prod(radices) < 2**62:
        packed = np.zeros(len(columns[0]), dtype=np.int64)
        for column, radix in zip(columns, radices, strict=True):
            packed = packed * radix + column
        keys, inverse = np.unique(packed, return_inverse=True)
        digits = []
        for radix in reversed(radices):
            keys, digit = np.divmod(keys, radix)
            digits.append(digit.tolist())
        return list(zip(*reversed(digits), strict=True)), inverse.reshape(-1)
    table, inverse = np.unique(np.stack(columns, axis=1), axis=0, return_inverse=True)
    return [tuple(int(v) for v in row) for row in table.tolist()], inverse.reshape(-1)


def _columns(items: Iterable[Hashable]) -> dict[Hashable, int]:
    """A column index for each distinct item, in first-seen order."""
    return {item: k for k, item in enumerate(dict.fromkeys(items))}


def _score_matrix_pairwise(
    mentees: Sequence[MenteeNeeds], mentors: Sequence[MentorOffer], matrix: np.ndarray
) -> np.ndarray:
    free = [_free(m) for m in mentors]
    for i, mentee in enumerate(mentees):
        for j, mentor in enumerate(free):
            score = score_pair(mentee, mentor, with_text=False)
            if score is not None:
                matrix[i, j] = score.total
    return matrix


def _unmatched_reason(i: int, matrix: np.ndarray) -> str:
    if not np.any(~np.isnan(matrix[i])):
        return _("no mentor in the pool speaks a language you speak")
    return _("every mentor who shares a language with you is at capacity")


def _result(
    mentees: Sequence[MenteeNeeds],
    mentors: Sequence[MentorOffer],
    matrix: np.ndarray,
    assignment: dict[int, int],
) -> CohortResult:
    result = CohortResult()
    free = [_free(m) for m in mentors]
    for i, mentee in enumerate(mentees):
        j = assignment.get(i)
        if j is None:
            result.unmatched[mentee.user_id] = _unmatched_reason(i, matrix)
            continue
        score = score_pair(mentee, free[j])
        assert score is not None
        result.pairs.append((mentee.user_id, mentors[j].user_id, score))
    return result


def match_optimal(
    mentees: Sequence[MenteeNeeds],
    mentors: Sequence[MentorOffer],
    matrix: np.ndarray | None = None,
) -> CohortResult:
    """The assignment with the maximum total score (see the module docstring)."""
    if matrix is None:
        matrix = score_matrix(mentees, mentors)
    n = len(mentees)
    slot_owner = [j for j, mentor in enumerate(mentors) for _ in range(max(0, mentor.capacity))]
    if n == 0:
        return CohortResult()
    gains = np.where(np.isnan(matrix), -INFEASIBLE, matrix + EPSILON)
    cost = np.zeros((n, len(slot_owner) + n))
    if slot_owner:
        cost[:, : len(slot_owner)] = -gains[:, slot_owner]
    # One private "unmatched" column per mentee (cost 0); others' are forbidden.
    private = np.full((n, n), INFEASIBLE)
    np.fill_diagonal(private, 0.0)
    cost[:, len(slot_owner) :] = private
    rows, cols = linear_sum_assignment(cost)
    assignment = {
        int(i): slot_owner[c] for i, c in zip(rows, cols, strict=True) if c < len(slot_owner)
    }
    return _result(mentees, mentors, matrix, assignment)


def match_greedy(
    mentees: Sequence[MenteeNeeds],
    mentors: Sequence[MentorOffer],
    matrix: np.ndarray | None = None,
) -> CohortResult:
    """Best remaining pair first, until no feasible pair is left."""
    if matrix is None:
        matrix = score_matrix(mentees, mentors)
    left = [mentor.capacity for mentor in mentors]
    assignment: dict[int, int] = {}
    cols = matrix.shape[1] if matrix.ndim == 2 else 0
    flat = matrix.ravel()
    feasible = np.flatnonzero(~np.isnan(flat))
    # Stable order on the feasible entries alone is the same order as on all of them.
    order = feasible[np.argsort(-flat[feasible], kind="stable")].tolist()
    places = sum(max(0, c) for c in left)
    for k in order:
        if len(assignment) == len(mentees) or places <= 0:
            break  # nothing further can change the assignment
        i, j = divmod(k, cols)
        if i in assignment or left[j] <= 0:
            continue
        assignment[i] = j
        left[j] -= 1
        places -= 1
    return _result(mentees, mentors, matrix, assignment)
