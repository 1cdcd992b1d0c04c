"""Reads for mentoring: scoring inputs in bulk, recommendations, mentorships."""

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from django.db.models import (
    Case,
    Count,
    F,
    Field,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from community.mentoring.availability import (
    SLOT_MINUTES,
    SLOTS_PER_WEEK,
    Window,
    mask_from_bytes,
    reference_monday,
    upcoming_meeting_starts,
    windows_to_mask,
)
from community.mentoring.matching import _unmatched_reason, score_matrix
from community.mentoring.models import (
    AvailabilityWindow,
    MentoringProfile,
    Mentorship,
    MentorshipStatus,
    MentorSkill,
    Programme,
    ProgrammeMatch,
    ProgrammeMember,
    ProgrammeRole,
    TargetSkill,
)
from community.mentoring.scoring import MenteeNeeds, MentorOffer, Score, score_pair, score_total
from community.models import Profile, ProfileLanguage, ProfileSkill, Skill, User

ROTATION_BAND = 5.0  # suggestions within this many points are rotated fairly
PENDING_PENALTY = 2.0  # points per pending request, so busy mentors sink a little


# --- scoring inputs --------------------------------------------------------------------------
def _languages(user_ids: QuerySet | Iterable[int]) -> dict[int, frozenset[str]]:
    langs: dict[int, set[str]] = defaultdict(set)
    for uid, code in ProfileLanguage.objects.filter(profile_id__in=user_ids).values_list(
        "profile_id", "code"
    ):
        langs[uid].add(code)
    return {uid: frozenset(codes) for uid, codes in langs.items()}


def _fresh_masks(rows: list[tuple[int, bytes, str, str]]) -> dict[int, int]:
    """rows: (user id, stored mask, mask zone, profile zone). Recompute stale masks."""
    masks = {uid: mask_from_bytes(mask) for uid, mask, _z, _p in rows}
    stale = {uid: zone for uid, _m, mask_zone, zone in rows if mask_zone != (zone or "UTC")}
    if stale:
        windows: dict[int, list[Window]] = defaultdict(list)
        for w in AvailabilityWindow.objects.filter(user_id__in=list(stale)):
            windows[w.user_id].append(Window(w.weekday, w.start, w.end))
        for uid, zone in stale.items():
            masks[uid] = windows_to_mask(windows[uid], zone or "UTC")
    return masks


def _mentoring_default(name: str) -> object:
    """A MentoringProfile field's default, for members who have saved no settings yet:
    reads use it in memory and never create the row."""
    field = MentoringProfile._meta.get_field(name)
    assert isinstance(field, Field)
    return field.get_default()


def _active_mentees() -> Count:
    return Count(
        "mentorships_as_mentor",
        filter=Q(mentorships_as_mentor__status=MentorshipStatus.ACTIVE),
    )


def _offers(
    rows: list[tuple[int, bytes, str, str, int, int]], user_ids: QuerySet | Iterable[int]
) -> list[MentorOffer]:
    """rows: (user id, stored mask, mask zone, profile zone, capacity, active mentees)."""
    masks = _fresh_masks([(r[0], r[1], r[2], r[3]) for r in rows])
    langs = _languages(user_ids)
    skills: dict[int, dict[int, int]] = defaultdict(dict)
    areas: dict[int, set[int]] = defaultdict(set)
    for uid, skill_id, level, area_id in MentorSkill.objects.filter(
        user_id__in=user_ids
    ).values_list("user_id", "skill_id", "level", "skill__area_id"):
        skills[uid][skill_id] = level
        areas[uid].add(area_id)
    return [
        MentorOffer(
            user_id=uid,
            languages=langs.get(uid, frozenset()),
            skills=skills.get(uid, {}),
            areas=frozenset(areas.get(uid, ())),
            mask=masks[uid],
            capacity=capacity,
            active=n_active,
        )
        for uid, _mask, _mz, _tz, capacity, n_active in rows
    ]


def mentor_offers(profiles: QuerySet[MentoringProfile]) -> list[MentorOffer]:
    """Scoring inputs for every mentor in ``profiles``, in a fixed number of queries."""
    rows = list(
        profiles.annotate(
            n_active=Count(
                "user__mentorships_as_mentor",
                filter=Q(user__mentorships_as_mentor__status=MentorshipStatus.ACTIVE),
            )
        ).values_list(
            "user_id",
            "availability_mask",
            "mask_time_zone",
            "user__profile__time_zone",
            "capacity",
            "n_active",
        )
    )
    return _offers(rows, profiles.values("user_id"))


def mentor_offers_for_users(user_ids: Iterable[int]) -> list[MentorOffer]:
    """Scoring inputs for these members as mentors, in a fixed number of queries; a
    member with no mentoring settings yet gets the defaults (nothing is written)."""
    ids = list(user_ids)
    mask, mask_zone = _mentoring_default("availability_mask"), _mentoring_default("mask_time_zone")
    capacity = _mentoring_default("capacity")
    rows = [
        (
            uid,
            stored_mask if has_settings else mask,
            stored_zone if has_settings else mask_zone,
            zone,
            stored_capacity if has_settings else capacity,
            n_active,
        )
        for uid, has_settings, stored_mask, stored_zone, zone, stored_capacity, n_active in (
            User.objects.filter(pk__in=ids)
            .annotate(n_active=_active_mentees())
            .values_list(
                "pk",
                "mentoring__user_id",
                "mentoring__availability_mask",
                "mentoring__mask_time_zone",
                "profile__time_zone",
                "mentoring__capacity",
                "n_active",
            )
        )
    ]
    return _offers(rows, ids)  # type: ignore[arg-type]


def mentor_offer(*, user: User) -> MentorOffer:
    return mentor_offers_for_users([user.pk])[0]


def mentee_needs_many(user_ids: Iterable[int]) -> list[MenteeNeeds]:
    """Scoring inputs for these members as mentees, in a fixed number of queries; a
    member with no mentoring settings yet gets the defaults (nothing is written)."""
    ids = list(user_ids)
    mask, mask_zone = _mentoring_default("availability_mask"), _mentoring_default("mask_time_zone")
    rows = [
        (
            uid,
            stored_mask if has_settings else mask,
            stored_zone if has_settings else mask_zone,
            zone,
        )
        for uid, has_settings, stored_mask, stored_zone, zone in User.objects.filter(
            pk__in=ids
        ).values_list(
            "pk",
            "mentoring__user_id",
            "mentoring__availability_mask",
            "mentoring__mask_time_zone",
            "profile__time_zone",
        )
    ]
    masks = _fresh_masks(rows)  # type: ignore[arg-type]
    langs = _languages(ids)
    targets: dict[int, dict[int, tuple[int, int]]] = defaultdict(dict)
    areas: dict[int, set[int]] = defaultdict(set)
    for uid, skill_id, current, target, area_id in TargetSkill.objects.filter(
        user_id__in=ids
    ).values_list("user_id", "skill_id", "current_level", "target_level", "skill__area_id"):
        targets[uid][skill_id] = (current, target)
        areas[uid].add(area_id)
    for uid, area_id in ProfileSkill.objects.filter(profile_id__in=ids).values_list(
        "profile_id", "skill__area_id"
    ):
        areas[uid].add(area_id)
    order = {uid: i for i, uid in enumerate(ids)}
    needs = [
        MenteeNeeds(
            user_id=uid,
            languages=langs.get(uid, frozenset()),
            targets=targets.get(uid, {}),
            areas=frozenset(areas.get(uid, ())),
            mask=masks.get(uid, 0),
        )
        for uid in ids
    ]
    return sorted(needs, key=lambda n: order[n.user_id])


def mentee_needs(*, user: User) -> MenteeNeeds:
    return mentee_needs_many([user.pk])[0]


def cohort_inputs(
    *,
    programme: Programme,
    mentee_ids: list[int] | None = None,
    mentor_ids: list[int] | None = None,
) -> tuple[list[MenteeNeeds], list[MentorOffer]]:
    """The programme's mentees and mentors as scoring inputs; mentor capacity is the
    programme capacity."""
    members = ProgrammeMember.objects.filter(programme=programme)
    mentee_q = members.filter(role=ProgrammeRole.MENTEE)
    if mentee_ids is not None:
        mentee_q = mentee_q.filter(user_id__in=mentee_ids)
    mentor_q = members.filter(role=ProgrammeRole.MENTOR)
    if mentor_ids is not None:
        mentor_q = mentor_q.filter(user_id__in=mentor_ids)
    capacities = dict(mentor_q.values_list("user_id", "capacity"))
    offers = mentor_offers_for_users(list(capacities))
    mentors = sorted(
        (
            MentorOffer(
                user_id=o.user_id,
                languages=o.languages,
                skills=o.skills,
                areas=o.areas,
                mask=o.mask,
                capacity=capacities[o.user_id],
                active=0,
            )
            for o in offers
        ),
        key=lambda o: o.user_id,
    )
    mentees = mentee_needs_many(sorted(mentee_q.values_list("user_id", flat=True)))
    return mentees, mentors


# --- recommendations -------------------------------------------------------------------------
@dataclass
class Suggestion:
    profile: Profile
    offer: MentorOffer
    score: Score


def _rotation_key(mentee_id: int, mentor_id: int, day: dt.date) -> int:
    digest = hashlib.blake2b(f"{mentee_id}:{mentor_id}:{day.toordinal()}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big")


def mentor_candidates(
    *, mentee: User, skill: str = "", language: str = "", country: str = ""
) -> QuerySet[MentoringProfile]:
    """Mentors a mentee may be shown: accepting, active, speaking one of the mentee's
    languages, never one with an open request from them or who declined them."""
    langs = list(
        ProfileLanguage.objects.filter(profile_id=mentee.pk).values_list("code", flat=True)
    )
    return _candidates(mentee=mentee, langs=langs, skill=skill, language=language, country=country)


def _candidates(
    *, mentee: User, langs: Iterable[str], skill: str, language: str, country: str
) -> QuerySet[MentoringProfile]:
    blocked = Mentorship.objects.filter(
        mentee=mentee,
        status__in=[MentorshipStatus.REQUESTED, MentorshipStatus.ACTIVE, MentorshipStatus.DECLINED],
    ).values("mentor_id")
    qs = (
        MentoringProfile.objects.filter(
            accepts_mentees=True,
            user__is_active=True,
            user__profile__isnull=False,
            user_id__in=ProfileLanguage.objects.filter(code__in=list(langs)).values("profile_id"),
        )
        .exclude(user_id=mentee.pk)
        .exclude(user_id__in=blocked)
    )
    if skill:
        qs = qs.filter(user_id__in=MentorSkill.objects.filter(skill__slug=skill).values("user_id"))
    if language:
        qs = qs.filter(
            user_id__in=ProfileLanguage.objects.filter(code=language).values("profile_id")
        )
    if country:
        qs = qs.filter(user__profile__country=country.upper())
    return qs


def _scoring_rows(candidates: QuerySet[MentoringProfile]) -> list[tuple]:
    """Per candidate: user id, stored mask, mask zone, profile zone, capacity, active
    mentees and pending requests, in one query (the counts are correlated subqueries
    on the (mentor, status) index)."""

    def count(status: str) -> Coalesce:
        per_mentor = (
            Mentorship.objects.filter(mentor_id=OuterRef("user_id"), status=status)
            .order_by()
            .values("mentor_id")
            .annotate(n=Count("id"))
            .values("n")
        )
        return Coalesce(Subquery(per_mentor, output_field=IntegerField()), 0)

    return list(
        candidates.annotate(
            n_active=count(MentorshipStatus.ACTIVE), n_pending=count(MentorshipStatus.REQUESTED)
        ).values_list(
            "user_id",
            "availability_mask",
            "mask_time_zone",
            "user__profile__time_zone",
            "capacity",
            "n_active",
            "n_pending",
        )
    )


def _skill_facts(
    mentor_ids: QuerySet | list[int], needs: MenteeNeeds
) -> tuple[dict[int, dict[int, int]], dict[int, set[int]]]:
    """What the skill and area parts need of each of ``mentor_ids`` (a list, or a
    subquery of a superset), in one query with one row per mentor and area of the
    mentee's: the mentor's level in each target skill ({skill: {mentor: level}}) and
    who mentors in each of the mentee's areas ({area: {mentor, ...}}). The targets'
    areas are among the mentee's areas."""
    targets = list(needs.targets)
    levels: dict[int, dict[int, int]] = {skill_id: {} for skill_id in targets}
    members: dict[int, set[int]] = {area_id: set() for area_id in needs.areas}
    if (isinstance(mentor_ids, list) and not mentor_ids) or not needs.areas:
        return levels, members
    per_target = {
        f"t{k}": Max(
            Case(
                When(skill_id=skill_id, then=F("level")),
                default=Value(0),
                output_field=IntegerField(),
            )
        )
        for k, skill_id in enumerate(targets)
    }
    for uid, area_id, *target_levels in (
        MentorSkill.objects.filter(user_id__in=mentor_ids, skill__area_id__in=list(needs.areas))
        .order_by()
        .values("user_id", "skill__area_id")
        .annotate(**per_target)
        .values_list("user_id", "skill__area_id", *per_target)
        .distinct()  # one row per mentor and area, also without targets to aggregate
    ):
        members[area_id].add(uid)
        for skill_id, level in zip(targets, target_levels, strict=True):
            if level:
                levels[skill_id][uid] = level
    return levels, members


def mentor_recommendations(
    *,
    mentee: User,
    skill: str = "",
    language: str = "",
    country: str = "",
    limit: int = 10,
    today: dt.date | None = None,
) -> list[Suggestion]:
    """The mentee's best mentors, explained. Mentors at capacity or who declined them
    are never shown; mentors within ``ROTATION_BAND`` points of each other are ordered
    by a daily rotation per mentee, so equally good mentors share the exposure.

    Built for thousands of candidates (docs/mentoring.md): one query reads each
    candidate's scoring row and one more the skill facts the score depends on; totals
    come from ``score_total``, the same arithmetic as ``score_pair``; the rotation key
    is hashed only for the bands that reach the top ``limit``; and only the mentors
    shown get their full offer, profile and explanation."""
    needs = mentee_needs(user=mentee)
    candidates = _candidates(  # mentor_candidates, with the languages already read
        mentee=mentee,
        langs=sorted(needs.languages),
        skill=skill,
        language=language,
        country=country,
    )
    rows: list[tuple] | None = None
    scored_ids: QuerySet | list[int] = []
    if needs.targets and not skill:
        scored_ids = MentorSkill.objects.filter(skill_id__in=list(needs.targets)).values("user_id")
        rows = _scoring_rows(candidates.filter(user_id__in=scored_ids))
        if len(rows) < limit:
            rows = None  # too few cover a target: rank every candidate instead
    if rows is None:
        rows = _scoring_rows(candidates)
        scored_ids = [r[0] for r in rows]
    if not rows:
        return []
    masks = {r[0]: mask_from_bytes(r[1]) for r in rows}
    stale = [(r[0], r[1], r[2], r[3]) for r in rows if r[2] != (r[3] or "UTC")]
    if stale:
        masks.update(_fresh_masks(stale))
    # Every candidate speaks one of the mentee's languages (mentor_candidates), so the
    # language requirement holds for all of them. For the mentors covering a target, the
    # subquery that found them is cheaper for the database than thousands of ids.
    levels, members = _skill_facts(scored_ids, needs)
    targets = [
        (levels[skill_id], current, target) for skill_id, (current, target) in needs.targets.items()
    ]
    area_members = list(members.values())
    n_targets = len(targets)
    adjusted: list[float] = []
    mentor_ids: list[int] = []
    for uid, _mask, _mz, _tz, capacity, n_active, n_pending in rows:
        free = capacity - n_active
        if free <= 0 or uid == needs.user_id or not needs.languages:
            continue
        full = half = 0
        for level_of, current, target in targets:
            level = level_of.get(uid, 0)
            if level >= target:
                full += 1
            elif level > current:
                half += 1
        slots = (needs.mask & masks[uid]).bit_count()
        shared = sum(1 for area in area_members if uid in area)
        total = score_total(n_targets, full, half, slots, free, capacity, shared)
        adjusted.append(total - PENDING_PENALTY * n_pending)
        mentor_ids.append(uid)
    day = today or timezone.localdate()
    top_ids = _rotate(adjusted, mentor_ids, mentee_id=mentee.pk, day=day, limit=limit)
    if not top_ids:
        return []
    # The shown mentors' full offers: their row, every skill, and the languages that
    # come prefetched with their profiles.
    row_of = {r[0]: r for r in rows if r[0] in top_ids}
    all_skills: dict[int, dict[int, int]] = defaultdict(dict)
    all_areas: dict[int, set[int]] = defaultdict(set)
    for uid, skill_id, level, area_id in MentorSkill.objects.filter(
        user_id__in=top_ids
    ).values_list("user_id", "skill_id", "level", "skill__area_id"):
        all_skills[uid][skill_id] = level
        all_areas[uid].add(area_id)
    profiles = Profile.objects.select_related("user").prefetch_related("languages").in_bulk(top_ids)
    suggestions = []
    for uid in top_ids:
        profile = profiles[uid]
        offer = MentorOffer(
            user_id=uid,
            languages=frozenset(lang.code for lang in profile.languages.all()),
            skills=all_skills.get(uid, {}),
            areas=frozenset(all_areas.get(uid, ())),
            mask=masks[uid],
            capacity=row_of[uid][4],
            active=row_of[uid][5],
        )
        score = score_pair(needs, offer)
        if score is None:  # lost its shared language since the scoring query
            continue
        suggestions.append(Suggestion(profile=profile, offer=offer, score=score))
    return suggestions


def _rotate(
    adjusted: list[float], mentor_ids: list[int], *, mentee_id: int, day: dt.date, limit: int
) -> list[int]:
    """The first ``limit`` mentor ids in (score band, daily rotation key) order."""
    bands = [-(score // ROTATION_BAND) for score in adjusted]
    chosen: Iterable[int] = range(len(bands))
    if 0 < limit < len(bands):
        # Only bands up to the one holding the limit-th mentor can reach the top.
        cutoff = sorted(bands)[limit - 1]
        chosen = [k for k, band in enumerate(bands) if band <= cutoff]
    keyed = [
        (bands[k], _rotation_key(mentee_id, mentor_ids[k], day), mentor_ids[k]) for k in chosen
    ]
    keyed.sort(key=lambda item: (item[0], item[1]))
    return [uid for _band, _key, uid in keyed[:limit]]


# --- mentorships -------------------------------------------------------------------------------
def mentorships_for_user(*, user: User) -> QuerySet[Mentorship]:
    return (
        Mentorship.objects.filter(Q(mentee=user) | Q(mentor=user))
        .select_related("mentee__profile", "mentor__profile", "programme")
        .order_by("-requested_at", "-id")
    )


def mentorship_get_for_user(*, pk: int, user: User) -> Mentorship:
    """Raises ``Mentorship.DoesNotExist`` alike for missing and other people's."""
    return (
        Mentorship.objects.filter(Q(mentee=user) | Q(mentor=user))
        .select_related("mentee__profile", "mentor__profile", "programme")
        .prefetch_related("goal_items", "sessions", "feedback")
        .get(pk=pk)
    )


@dataclass
class MeetingSlot:
    start_utc: dt.datetime
    end_utc: dt.datetime


def meeting_suggestions(
    *, mentorship: Mentorship, minutes: int = 60, count: int = 5, now: dt.datetime | None = None
) -> list[MeetingSlot]:
    """Meeting times inside both people's weekly availability, in the next two weeks."""
    a = mentee_needs(user=mentorship.mentee).mask
    b = mentee_needs(user=mentorship.mentor).mask
    starts = upcoming_meeting_starts(a & b, now=now or timezone.now(), minutes=minutes, count=count)
    return [MeetingSlot(s, s + dt.timedelta(minutes=minutes)) for s in starts]


def programmes_for_user(*, user: User) -> QuerySet[Programme]:
    qs = (
        Programme.objects.select_related("owner")
        .annotate(
            n_mentees=Count("members", filter=Q(members__role=ProgrammeRole.MENTEE)),
            n_mentors=Count("members", filter=Q(members__role=ProgrammeRole.MENTOR)),
        )
        # Meta.ordering is not applied to GROUP BY queries: order explicitly for paging.
        .order_by("-created_at", "-id")
    )
    return qs if user.is_staff else qs.filter(owner=user)


def programme_get_for_user(*, pk: int, user: User) -> Programme:
    return programmes_for_user(user=user).get(pk=pk)


def skills_for_select() -> QuerySet[Skill]:
    return (
        Skill.objects.filter(is_active=True)
        .select_related("area")
        .order_by("area__position", "position")
    )


def meeting_slot_fits(
    *, mentorship: Mentorship, start: dt.datetime, minutes: int, now: dt.datetime | None = None
) -> bool:
    """Whether a meeting of ``minutes`` at ``start`` lies in the future, on a quarter hour,
    inside both people's weekly availability."""
    start = start.astimezone(dt.UTC)
    if start <= (now or timezone.now()) or start.second or start.microsecond:
        return False
    if start.minute % SLOT_MINUTES or minutes <= 0 or minutes % SLOT_MINUTES:
        return False
    mask = mentee_needs(user=mentorship.mentee).mask & mentee_needs(user=mentorship.mentor).mask
    monday = dt.datetime.combine(reference_monday(start.date()), dt.time(), tzinfo=dt.UTC)
    first = int((start - monday).total_seconds() // 60) // SLOT_MINUTES
    return all(mask >> ((first + k) % SLOTS_PER_WEEK) & 1 for k in range(minutes // SLOT_MINUTES))


@dataclass
class Unmatched:
    user: User
    reason: str


@dataclass
class ProgrammeReport:
    members: list[ProgrammeMember]
    matches: list[ProgrammeMatch]
    mentees: int
    matched: int
    total: float
    mean: float
    unmatched: list[Unmatched]


def programme_report(*, programme: Programme) -> ProgrammeReport:
    """The programme's members, its proposed (or published) pairs, and every mentee left
    unmatched with the reason."""
    members = list(
        ProgrammeMember.objects.filter(programme=programme).select_related("user__profile")
    )
    matches = list(
        ProgrammeMatch.objects.filter(programme=programme).select_related(
            "mentee__profile", "mentor__profile"
        )
    )
    matched_ids = {match.mentee_id for match in matches}
    left = [m for m in members if m.role == ProgrammeRole.MENTEE and m.user_id not in matched_ids]
    unmatched: list[Unmatched] = []
    if left and programme.matched_at is None:
        unmatched = [Unmatched(m.user, _("the matching has not run yet")) for m in left]
    elif left:
        needs, offers = cohort_inputs(programme=programme, mentee_ids=[m.user_id for m in left])
        matrix = score_matrix(needs, offers)
        taken: dict[int, int] = defaultdict(int)
        for match in matches:
            taken[match.mentor_id] += 1
        free = np.array([offer.capacity > taken[offer.user_id] for offer in offers], dtype=bool)
        row_of = {need.user_id: i for i, need in enumerate(needs)}
        for member in left:
            i = row_of[member.user_id]
            if np.any(~np.isnan(matrix[i]) & free):
                reason = _(
                    "a mentor who shares a language still has a free place: adjust the "
                    "proposal or run the matching again"
                )
            else:
                reason = _unmatched_reason(i, matrix)
            unmatched.append(Unmatched(member.user, reason))
    total = round(sum(match.score for match in matches), 2)
    return ProgrammeReport(
        members=members,
        matches=matches,
        mentees=sum(1 for m in members if m.role == ProgrammeRole.MENTEE),
        matched=len(matches),
        total=total,
        mean=round(total / len(matches), 2) if matches else 0.0,
        unmatched=unmatched,
    )
