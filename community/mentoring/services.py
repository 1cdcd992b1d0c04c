"""Every change in mentoring: settings, requests and their lifecycle, programmes."""

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from community.mentoring.availability import Window, mask_to_bytes, windows_to_mask
from community.mentoring.matching import match_optimal
from community.mentoring.models import (
    OPEN_STATUSES,
    AvailabilityWindow,
    MentoringProfile,
    Mentorship,
    MentorshipFeedback,
    MentorshipGoal,
    MentorshipSession,
    MentorshipStatus,
    MentorSkill,
    Programme,
    ProgrammeMatch,
    ProgrammeMember,
    ProgrammeRole,
    ProgrammeStatus,
    TargetSkill,
)
from community.mentoring.selectors import cohort_inputs, mentee_needs, mentor_offer
from community.models import Profile, Skill, User
from community.notifications.services import notification_send

REQUEST_TTL = dt.timedelta(days=14)
REMIND_BEFORE = dt.timedelta(days=3)
MAX_WINDOWS = 21
MAX_SKILLS = 20


# --- settings ------------------------------------------------------------------------------
def mentoring_profile_get_or_create(*, user: User) -> MentoringProfile:
    profile, _created = MentoringProfile.objects.get_or_create(user=user)
    return profile


def _skills_by_slug(slugs: Iterable[str], field: str) -> dict[str, int]:
    slugs = list(slugs)
    if len(slugs) > MAX_SKILLS:
        raise ValidationError({field: _("At most %d skills.") % MAX_SKILLS})
    found = dict(Skill.objects.filter(slug__in=slugs, is_active=True).values_list("slug", "id"))
    unknown = sorted(set(slugs) - set(found))
    if unknown:
        raise ValidationError({field: _("Unknown skill: %s") % ", ".join(unknown)})
    return found


def _clean_windows(windows: Iterable[Window]) -> list[Window]:
    windows = list(windows)
    if len(windows) > MAX_WINDOWS:
        raise ValidationError({"availability": _("At most %d windows.") % MAX_WINDOWS})
    for w in windows:
        if not 0 <= w.weekday <= 6:
            raise ValidationError({"availability": _("Weekdays run from 0 (Monday) to 6.")})
        end = w.end.hour * 60 + w.end.minute or 24 * 60
        if end <= w.start.hour * 60 + w.start.minute:
            raise ValidationError({"availability": _("Each window must end after it starts.")})
        if w.start.minute % 15 or w.end.minute % 15:
            raise ValidationError({"availability": _("Use quarter hours (:00, :15, :30, :45).")})
    return windows


def _refresh_mask(profile: MentoringProfile, time_zone: str) -> None:
    windows = [
        Window(w.weekday, w.start, w.end)
        for w in AvailabilityWindow.objects.filter(user_id=profile.user_id)
    ]
    profile.availability_mask = mask_to_bytes(windows_to_mask(windows, time_zone))
    profile.mask_time_zone = time_zone


@transaction.atomic
def mentoring_settings_update(*, user: User, data: Mapping[str, Any]) -> MentoringProfile:
    """Update a member's mentoring settings. ``data`` may hold: accepts_mentees,
    capacity, offers_video/offers_chat/offers_async, seeking_mentor, goals,
    mentor_skills {slug: level}, target_skills {slug: (current, target)},
    availability [Window]. All or nothing."""
    profile = MentoringProfile.objects.select_for_update().get(
        pk=mentoring_profile_get_or_create(user=user).pk
    )
    for name in (
        "accepts_mentees",
        "offers_video",
        "offers_chat",
        "offers_async",
        "seeking_mentor",
    ):
        if name in data:
            setattr(profile, name, bool(data[name]))
    if "capacity" in data:
        profile.capacity = data["capacity"]
        if not isinstance(profile.capacity, int) or not 1 <= profile.capacity <= 10:
            raise ValidationError({"capacity": _("Capacity runs from 1 to 10 mentees.")})
    if "goals" in data:
        profile.goals = str(data["goals"]).strip()
        if len(profile.goals) > 2000:
            raise ValidationError({"goals": _("Goals are limited to 2000 characters.")})

    if "mentor_skills" in data:
        levels: Mapping[str, int] = data["mentor_skills"]
        ids = _skills_by_slug(levels, "mentor_skills")
        if any(level not in (1, 2, 3, 4) for level in levels.values()):
            raise ValidationError({"mentor_skills": _("Levels run from 1 to 4.")})
        MentorSkill.objects.filter(user=user).delete()
        MentorSkill.objects.bulk_create(
            [MentorSkill(user=user, skill_id=ids[slug], level=lvl) for slug, lvl in levels.items()]
        )
    if "target_skills" in data:
        targets: Mapping[str, tuple[int, int]] = data["target_skills"]
        ids = _skills_by_slug(targets, "target_skills")
        for current, target in targets.values():
            if not (0 <= current <= 3 and 1 <= target <= 4 and target > current):
                raise ValidationError(
                    {"target_skills": _("The target level must be above your current level.")}
                )
        TargetSkill.objects.filter(user=user).delete()
        TargetSkill.objects.bulk_create(
            [
                TargetSkill(user=user, skill_id=ids[slug], current_level=cur, target_level=tgt)
                for slug, (cur, tgt) in targets.items()
            ]
        )
    time_zone = Profile.objects.filter(user=user).values_list("time_zone", flat=True).first()
    if "availability" in data:
        windows = _clean_windows(data["availability"])
        AvailabilityWindow.objects.filter(user=user).delete()
        AvailabilityWindow.objects.bulk_create(
            [
                AvailabilityWindow(user=user, weekday=w.weekday, start=w.start, end=w.end)
                for w in windows
            ]
        )
    _refresh_mask(profile, time_zone or "UTC")
    profile.save()
    return profile


# --- the request lifecycle ------------------------------------------------------------------
def _url(mentorship: Mentorship) -> str:
    return reverse("mentoring:mentorship_detail", kwargs={"pk": mentorship.pk})


def _name(user: User) -> str:
    return Profile.objects.filter(user=user).values_list("display_name", flat=True).first() or (
        user.username
    )


def _locked(mentorship: Mentorship) -> Mentorship:
    return (
        Mentorship.objects.select_for_update(of=("self",))
        .select_related("mentee", "mentor")
        .get(pk=mentorship.pk)
    )


def _require(mentorship: Mentorship, *statuses: str) -> None:
    if mentorship.status not in statuses:
        raise ValidationError(
            {
                "status": _("Not possible while the mentorship is %s.")
                % mentorship.get_status_display()
            }
        )


@transaction.atomic
def mentorship_request(
    *, mentee: User, mentor: User, message: str = "", goals: str = ""
) -> Mentorship:
    """A mentee asks a mentor. Refused for oneself, a mentor not accepting or full, no
    shared language, an open request or mentorship with them, or one who declined."""
    if mentee.pk == mentor.pk:
        raise ValidationError({"mentor": _("You cannot mentor yourself.")})
    if len(message) > 2000 or len(goals) > 2000:
        raise ValidationError({"message": _("Messages are limited to 2000 characters.")})
    settings_row = MentoringProfile.objects.filter(user=mentor, user__is_active=True).first()
    if settings_row is None or not settings_row.accepts_mentees:
        raise ValidationError({"mentor": _("This member is not accepting mentees.")})
    offer = mentor_offer(user=mentor)
    needs = mentee_needs(user=mentee)
    if not offer.languages & needs.languages:
        raise ValidationError({"mentor": _("You and this mentor share no language.")})
    if offer.active >= offer.capacity:
        raise ValidationError({"mentor": _("This mentor has no free place right now.")})
    pair = Mentorship.objects.filter(mentee=mentee, mentor=mentor)
    if pair.filter(status__in=OPEN_STATUSES).exists():
        raise ValidationError({"mentor": _("You already have an open request or mentorship.")})
    if pair.filter(status=MentorshipStatus.DECLINED).exists():
        raise ValidationError({"mentor": _("This mentor has declined a request from you.")})
    try:
        with transaction.atomic():
            mentorship = Mentorship.objects.create(
                mentee=mentee,
                mentor=mentor,
                message=message.strip(),
                goals=goals.strip(),
                expires_at=timezone.now() + REQUEST_TTL,
            )
    except IntegrityError:
        raise ValidationError(
            {"mentor": _("You already have an open request or mentorship.")}
        ) from None
    notification_send(
        recipient=mentor,
        actor=mentee,
        kind="mentoring.request",
        url=_url(mentorship),
        text=_("%(name)s asks you to be their mentor") % {"name": _name(mentee)},
    )
    return mentorship


@transaction.atomic
def mentorship_accept(*, actor: User, mentorship: Mentorship) -> Mentorship:
    """The mentor accepts. Capacity is checked under a lock on the mentor's settings
    row, so two concurrent accepts can never exceed it."""
    # Lock the mentor first, then the mentorship: one lock order for every accept.
    settings_row = MentoringProfile.objects.select_for_update().get(user_id=mentorship.mentor_id)
    mentorship = _locked(mentorship)
    if actor.pk != mentorship.mentor_id:
        raise PermissionDenied(_("Only the mentor can accept."))
    _require(mentorship, MentorshipStatus.REQUESTED)
    active = Mentorship.objects.filter(
        mentor_id=mentorship.mentor_id, status=MentorshipStatus.ACTIVE
    ).count()
    if active >= settings_row.capacity:
        raise ValidationError(
            {"capacity": _("You are at your capacity of %d mentees.") % settings_row.capacity}
        )
    mentorship.status = MentorshipStatus.ACTIVE
    mentorship.responded_at = timezone.now()
    mentorship.save(update_fields=["status", "responded_at"])
    if mentorship.goals and not mentorship.goal_items.exists():
        MentorshipGoal.objects.bulk_create(
            [
                MentorshipGoal(mentorship=mentorship, title=line.strip()[:200])
                for line in mentorship.goals.splitlines()
                if line.strip()
            ][:10]
        )
    notification_send(
        recipient=mentorship.mentee,
        actor=actor,
        kind="mentoring.accepted",
        url=_url(mentorship),
        text=_("%(name)s accepted your mentoring request") % {"name": _name(actor)},
    )
    return mentorship


@transaction.atomic
def mentorship_decline(*, actor: User, mentorship: Mentorship, reason: str = "") -> Mentorship:
    mentorship = _locked(mentorship)
    if actor.pk != mentorship.mentor_id:
        raise PermissionDenied(_("Only the mentor can decline."))
    _require(mentorship, MentorshipStatus.REQUESTED)
    mentorship.status = MentorshipStatus.DECLINED
    mentorship.decline_reason = reason.strip()[:500]
    mentorship.responded_at = timezone.now()
    mentorship.save(update_fields=["status", "decline_reason", "responded_at"])
    notification_send(
        recipient=mentorship.mentee,
        actor=actor,
        kind="mentoring.declined",
        url=_url(mentorship),
        text=_("%(name)s declined your mentoring request") % {"name": _name(actor)},
    )
    return mentorship


@transaction.atomic
def mentorship_withdraw(*, actor: User, mentorship: Mentorship) -> Mentorship:
    mentorship = _locked(mentorship)
    if actor.pk != mentorship.mentee_id:
        raise PermissionDenied(_("Only the mentee can withdraw a request."))
    _require(mentorship, MentorshipStatus.REQUESTED)
    mentorship.status = MentorshipStatus.WITHDRAWN
    mentorship.ended_at = timezone.now()
    mentorship.save(update_fields=["status", "ended_at"])
    notification_send(
        recipient=mentorship.mentor,
        actor=actor,
        kind="mentoring.withdrawn",
        url=_url(mentorship),
        text=_("%(name)s withdrew their mentoring request") % {"name": _name(actor)},
    )
    return mentorship


def _end(actor: User, mentorship: Mentorship, status: str, reason: str) -> Mentorship:
    mentorship = _locked(mentorship)
    if actor.pk not in (mentorship.mentee_id, mentorship.mentor_id):
        raise PermissionDenied(_("Only the two people in a mentorship can end it."))
    _require(mentorship, MentorshipStatus.ACTIVE)
    mentorship.status = status
    mentorship.end_reason = reason.strip()[:500]
    mentorship.ended_at = timezone.now()
    mentorship.save(update_fields=["status", "end_reason", "ended_at"])
    other = mentorship.mentor if actor.pk == mentorship.mentee_id else mentorship.mentee
    verb = _("completed") if status == MentorshipStatus.COMPLETED else _("cancelled")
    notification_send(
        recipient=other,
        actor=actor,
        kind=f"mentoring.{status}",
        url=_url(mentorship),
        text=_("%(name)s marked your mentorship %(verb)s; please leave feedback")
        % {"name": _name(actor), "verb": verb},
    )
    return mentorship


@transaction.atomic
def mentorship_complete(*, actor: User, mentorship: Mentorship, reason: str = "") -> Mentorship:
    return _end(actor, mentorship, MentorshipStatus.COMPLETED, reason)


@transaction.atomic
def mentorship_cancel(*, actor: User, mentorship: Mentorship, reason: str = "") -> Mentorship:
    return _end(actor, mentorship, MentorshipStatus.CANCELLED, reason)


def _participant(actor: User, mentorship: Mentorship) -> None:
    if actor.pk not in (mentorship.mentee_id, mentorship.mentor_id):
        raise PermissionDenied(_("Only the two people in a mentorship can do that."))


@transaction.atomic
def mentorship_feedback_give(
    *, actor: User, mentorship: Mentorship, rating: int, comment: str = ""
) -> MentorshipFeedback:
    mentorship = _locked(mentorship)
    _participant(actor, mentorship)
    _require(mentorship, MentorshipStatus.COMPLETED, MentorshipStatus.CANCELLED)
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ValidationError({"rating": _("Rate from 1 to 5.")})
    if mentorship.feedback.filter(author=actor).exists():
        raise ValidationError({"rating": _("You have already given feedback.")})
    return MentorshipFeedback.objects.create(
        mentorship=mentorship, author=actor, rating=rating, comment=comment.strip()[:2000]
    )


@transaction.atomic
def mentorship_goal_add(*, actor: User, mentorship: Mentorship, title: str) -> MentorshipGoal:
    mentorship = _locked(mentorship)
    _participant(actor, mentorship)
    _require(mentorship, MentorshipStatus.ACTIVE)
    title = title.strip()
    if not title or len(title) > 200:
        raise ValidationError({"title": _("A goal needs a title of up to 200 characters.")})
    return MentorshipGoal.objects.create(mentorship=mentorship, title=title)


@transaction.atomic
def mentorship_goal_progress(*, actor: User, goal: MentorshipGoal, progress: int) -> MentorshipGoal:
    mentorship = _locked(goal.mentorship)
    _participant(actor, mentorship)
    _require(mentorship, MentorshipStatus.ACTIVE)
    if not isinstance(progress, int) or not 0 <= progress <= 100:
        raise ValidationError({"progress": _("Progress runs from 0 to 100%.")})
    goal.progress = progress
    goal.save(update_fields=["progress"])
    return goal


@transaction.atomic
def mentorship_session_log(
    *, actor: User, mentorship: Mentorship, date: dt.date, notes: str = "", next_steps: str = ""
) -> MentorshipSession:
    mentorship = _locked(mentorship)
    _participant(actor, mentorship)
    _require(mentorship, MentorshipStatus.ACTIVE)
    if date > timezone.localdate() + dt.timedelta(days=1):
        raise ValidationError({"date": _("Log sessions that have happened.")})
    if len(notes) > 5000 or len(next_steps) > 2000:
        raise ValidationError({"notes": _("Notes are too long.")})
    return MentorshipSession.objects.create(
        mentorship=mentorship,
        author=actor,
        date=date,
        notes=notes.strip(),
        next_steps=next_steps.strip(),
    )


def mentorship_requests_expire(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Remind mentors of requests about to expire, and expire the overdue ones.
    Meant to run from cron (``manage.py mentoring_expire_requests``)."""
    now = now or timezone.now()
    reminded = expired = 0
    due = Mentorship.objects.filter(
        status=MentorshipStatus.REQUESTED,
        reminded_at__isnull=True,
        expires_at__gt=now,
        expires_at__lte=now + REMIND_BEFORE,
    )
    for mentorship in due.select_related("mentee", "mentor"):
        with transaction.atomic():
            if Mentorship.objects.filter(pk=mentorship.pk, reminded_at__isnull=True).update(
                reminded_at=now
            ):
                reminded += 1
                notification_send(
                    recipient=mentorship.mentor,
                    actor=mentorship.mentee,
                    kind="mentoring.reminder",
                    url=_url(mentorship),
                    text=_("Reminder: %(name)s's mentoring request expires soon")
                    % {"name": _name(mentorship.mentee)},
                )
    overdue = Mentorship.objects.filter(status=MentorshipStatus.REQUESTED, expires_at__lte=now)
    for mentorship in overdue.select_related("mentee", "mentor"):
        with transaction.atomic():
            if Mentorship.objects.filter(
                pk=mentorship.pk, status=MentorshipStatus.REQUESTED
            ).update(status=MentorshipStatus.EXPIRED, ended_at=now):
                expired += 1
                notification_send(
                    recipient=mentorship.mentee,
                    actor=mentorship.mentor,
                    kind="mentoring.expired",
                    url=reverse("mentoring:home"),
                    text=_(
                        "Your request to %(name)s expired without an answer; "
                        "here are other mentors for you"
                    )
                    % {"name": _name(mentorship.mentor)},
                )
    return {"reminded": reminded, "expired": expired}


# --- programmes -----------------------------------------------------------------------------
def can_run_programmes(user: User | AnonymousUser) -> bool:
    if not user.is_authenticated:
        return False
    return bool(
        user.is_staff or Profile.objects.filter(user_id=user.pk, is_facilitator=True).exists()
    )


def _owner(actor: User, programme: Programme) -> None:
    if not (actor.is_staff or actor.pk == programme.owner_id):
        raise PermissionDenied(_("Only the programme's owner can do that."))


@transaction.atomic
def programme_create(*, actor: User, name: str, description: str = "") -> Programme:
    if not can_run_programmes(actor):
        raise PermissionDenied(_("Only staff and facilitators create programmes."))
    name = name.strip()
    if not name or len(name) > 120:
        raise ValidationError({"name": _("A programme needs a name of up to 120 characters.")})
    return Programme.objects.create(owner=actor, name=name, description=description.strip()[:3000])


@transaction.atomic
def programme_member_add(
    *, actor: User, programme: Programme, user: User, role: str, capacity: int = 1
) -> ProgrammeMember:
    _owner(actor, programme)
    programme = Programme.objects.select_for_update().get(pk=programme.pk)
    if programme.status == ProgrammeStatus.PUBLISHED:
        raise ValidationError({"programme": _("The programme is already published.")})
    if role not in ProgrammeRole.values:
        raise ValidationError({"role": _("Choose mentee or mentor.")})
    if not isinstance(capacity, int) or not 1 <= capacity <= 10:
        raise ValidationError({"capacity": _("Capacity runs from 1 to 10.")})
    member, _created = ProgrammeMember.objects.update_or_create(
        programme=programme, user=user, defaults={"role": role, "capacity": capacity}
    )
    return member


@transaction.atomic
def programme_member_remove(*, actor: User, programme: Programme, user: User) -> None:
    _owner(actor, programme)
    programme = Programme.objects.select_for_update().get(pk=programme.pk)
    if programme.status == ProgrammeStatus.PUBLISHED:
        raise ValidationError({"programme": _("The programme is already published.")})
    ProgrammeMember.objects.filter(programme=programme, user=user).delete()
    ProgrammeMatch.objects.filter(programme=programme).filter(mentee=user).delete()
    ProgrammeMatch.objects.filter(programme=programme).filter(mentor=user).delete()


@transaction.atomic
def programme_match_run(*, actor: User, programme: Programme) -> list[ProgrammeMatch]:
    """Run the optimal assignment and store it as the programme's proposal."""
    _owner(actor, programme)
    programme = Programme.objects.select_for_update().get(pk=programme.pk)
    if programme.status == ProgrammeStatus.PUBLISHED:
        raise ValidationError({"programme": _("The programme is already published.")})
    mentees, mentors = cohort_inputs(programme=programme)
    result = match_optimal(mentees, mentors)
    ProgrammeMatch.objects.filter(programme=programme).delete()
    matches = ProgrammeMatch.objects.bulk_create(
        [
            ProgrammeMatch(
                programme=programme,
                mentee_id=mentee_id,
                mentor_id=mentor_id,
                score=score.total,
                explanation=score.explanation,
            )
            for mentee_id, mentor_id, score in result.pairs
        ]
    )
    programme.status = ProgrammeStatus.PROPOSED
    programme.matched_at = timezone.now()
    programme.save(update_fields=["status", "matched_at"])
    return matches


@transaction.atomic
def programme_match_adjust(
    *, actor: User, programme: Programme, mentee: User, mentor: User | None
) -> ProgrammeMatch | None:
    """Change one mentee's proposed mentor (or leave them unmatched with ``None``)."""
    _owner(actor, programme)
    programme = Programme.objects.select_for_update().get(pk=programme.pk)
    if programme.status != ProgrammeStatus.PROPOSED:
        raise ValidationError({"programme": _("Run the matching first.")})
    members = {m.user_id: m for m in programme.members.all()}
    if members.get(mentee.pk) is None or members[mentee.pk].role != ProgrammeRole.MENTEE:
        raise ValidationError({"mentee": _("Not a mentee in this programme.")})
    ProgrammeMatch.objects.filter(programme=programme, mentee=mentee).delete()
    if mentor is None:
        return None
    slot = members.get(mentor.pk)
    if slot is None or slot.role != ProgrammeRole.MENTOR:
        raise ValidationError({"mentor": _("Not a mentor in this programme.")})
    if ProgrammeMatch.objects.filter(programme=programme, mentor=mentor).count() >= slot.capacity:
        raise ValidationError({"mentor": _("This mentor's places in the programme are full.")})
    mentees, mentors = cohort_inputs(
        programme=programme, mentee_ids=[mentee.pk], mentor_ids=[mentor.pk]
    )
    from community.mentoring.scoring import score_pair

    score = score_pair(mentees[0], mentors[0])
    if score is None:
        raise ValidationError({"mentor": _("This mentor shares no language with the mentee.")})
    return ProgrammeMatch.objects.create(
        programme=programme,
        mentee=mentee,
        mentor=mentor,
        score=score.total,
        explanation=score.explanation,
        adjusted=True,
    )


@transaction.atomic
def programme_publish(*, actor: User, programme: Programme) -> list[Mentorship]:
    """Turn the proposal into active mentorships and tell everyone."""
    _owner(actor, programme)
    programme = Programme.objects.select_for_update().get(pk=programme.pk)
    if programme.status != ProgrammeStatus.PROPOSED:
        raise ValidationError({"programme": _("Run the matching before publishing.")})
    created = []
    now = timezone.now()
    for match in programme.matches.select_related("mentee", "mentor"):
        if Mentorship.objects.filter(
            mentee=match.mentee, mentor=match.mentor, status__in=OPEN_STATUSES
        ).exists():
            continue
        mentorship = Mentorship.objects.create(
            mentee=match.mentee,
            mentor=match.mentor,
            status=MentorshipStatus.ACTIVE,
            programme=programme,
            responded_at=now,
            goals=MentoringProfile.objects.filter(user=match.mentee)
            .values_list("goals", flat=True)
            .first()
            or "",
        )
        created.append(mentorship)
        for recipient, other in ((match.mentee, match.mentor), (match.mentor, match.mentee)):
            notification_send(
                recipient=recipient,
                actor=actor,
                kind="mentoring.matched",
                url=_url(mentorship),
                text=_("%(programme)s: you are matched with %(name)s")
                % {"programme": programme.name, "name": _name(other)},
            )
    programme.status = ProgrammeStatus.PUBLISHED
    programme.published_at = now
    programme.save(update_fields=["status", "published_at"])
    return created
