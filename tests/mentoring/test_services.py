"""Mentoring services and selectors: settings, recommendations, the request lifecycle,
notifications, expiry, programmes and the demo data."""

import datetime as dt
from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from community.mentoring import services
from community.mentoring.availability import Window, mask_from_bytes, mask_slots
from community.mentoring.models import (
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
    ProgrammeStatus,
    TargetSkill,
)
from community.mentoring.selectors import (
    Suggestion,
    meeting_suggestions,
    mentee_needs,
    mentor_recommendations,
    mentorship_get_for_user,
    mentorships_for_user,
    programme_get_for_user,
)
from community.models import Profile, User
from community.notifications.models import Notification
from community.services import profile_update
from tests.factories import UserFactory, make_member

pytestmark = pytest.mark.django_db

CHO = "cho-fed-batch-culture"
BIOREACTOR = "bioreactor-operation"
PROTEIN_A = "protein-a-affinity-chromatography"
HPLC = "hplc-and-uplc-methods"
EVENINGS = [Window(day, dt.time(17), dt.time(20)) for day in range(4)]  # Mon-Thu, 12 h/week


# --- helpers ----------------------------------------------------------------------------------
def make_mentor(
    username: str,
    *,
    languages: tuple[str, ...] = ("en",),
    skills: dict[str, int] | None = None,
    capacity: int = 2,
    accepts: bool = True,
    country: str = "GH",
    time_zone: str = "UTC",
    windows: list[Window] | None = None,
) -> User:
    """A member who accepts mentees, mentoring ``skills`` at the given levels."""
    profile = make_member(
        username,
        display_name=username.replace(".", " ").title(),
        roles=("professional", "mentor"),
        time_zone=time_zone,
        languages=list(languages),
        country=country,
    )
    services.mentoring_settings_update(
        user=profile.user,
        data={
            "accepts_mentees": accepts,
            "capacity": capacity,
            "mentor_skills": skills if skills is not None else {CHO: 4},
            "availability": EVENINGS if windows is None else windows,
        },
    )
    return profile.user


def make_mentee(
    username: str,
    *,
    languages: tuple[str, ...] = ("en",),
    targets: dict[str, tuple[int, int]] | None = None,
    goals: str = "",
    time_zone: str = "UTC",
    windows: list[Window] | None = None,
) -> User:
    """A member looking for a mentor, with target skills and weekly availability."""
    profile = make_member(
        username,
        display_name=username.replace(".", " ").title(),
        roles=("learner",),
        time_zone=time_zone,
        languages=list(languages),
    )
    services.mentoring_settings_update(
        user=profile.user,
        data={
            "seeking_mentor": True,
            "goals": goals,
            "target_skills": targets if targets is not None else {CHO: (1, 3)},
            "availability": EVENINGS if windows is None else windows,
        },
    )
    return profile.user


def kinds(user: User) -> list[str]:
    """The kinds of the member's notifications, oldest first."""
    return list(
        Notification.objects.filter(recipient=user).order_by("id").values_list("kind", flat=True)
    )


def newest(user: User) -> Notification:
    """The member's most recent notification."""
    return Notification.objects.filter(recipient=user).latest("id")


def error_fields(exc: pytest.ExceptionInfo[ValidationError]) -> set[str]:
    return set(exc.value.message_dict)


def refresh(mentorship: Mentorship) -> Mentorship:
    return Mentorship.objects.get(pk=mentorship.pk)


@pytest.fixture
def mentor() -> User:
    return make_mentor("kofi.mentor", capacity=2)


@pytest.fixture
def mentee() -> User:
    return make_mentee("ngozi.mentee", goals="Lead a tech transfer")


@pytest.fixture
def stranger() -> User:
    return make_member("lars.stranger", languages=["en"]).user


@pytest.fixture
def requested(mentee: User, mentor: User) -> Mentorship:
    return services.mentorship_request(
        mentee=mentee,
        mentor=mentor,
        message="I run fed-batch at pilot scale.",
        goals="Scale up a CHO process\nPrepare for a tech transfer",
    )


@pytest.fixture
def active(requested: Mentorship, mentor: User) -> Mentorship:
    return services.mentorship_accept(actor=mentor, mentorship=requested)


@pytest.fixture
def completed(active: Mentorship, mentee: User) -> Mentorship:
    return services.mentorship_complete(actor=mentee, mentorship=active, reason="Goals reached")


# --- settings ---------------------------------------------------------------------------------
def test_settings_store_skills_targets_and_a_mask_in_the_members_zone() -> None:
    """Mentor skills, target skills and windows are stored; the mask is in UTC."""
    profile = make_member("priya.k", time_zone="Asia/Kolkata", languages=["en", "hi"])
    services.mentoring_settings_update(
        user=profile.user,
        data={
            "accepts_mentees": True,
            "capacity": 3,
            "mentor_skills": {CHO: 4, HPLC: 3},
            "target_skills": {PROTEIN_A: (1, 3)},
            "availability": [Window(0, dt.time(9), dt.time(10, 30))],
        },
    )
    settings_row = MentoringProfile.objects.get(user=profile.user)
    assert settings_row.accepts_mentees
    assert settings_row.capacity == 3
    levels = dict(MentorSkill.objects.filter(user=profile.user).values_list("skill__slug", "level"))
    assert levels == {CHO: 4, HPLC: 3}
    target = TargetSkill.objects.get(user=profile.user)
    assert (target.skill.slug, target.current_level, target.target_level) == (PROTEIN_A, 1, 3)
    # 09:00-10:30 in Kolkata is 03:30-05:00 UTC: slots 14-19 of the week.
    assert mask_slots(mask_from_bytes(settings_row.availability_mask)) == [(14, 6)]
    assert settings_row.mask_time_zone == "Asia/Kolkata"


def test_changing_time_zone_moves_the_availability() -> None:
    """After a member changes time zone, their windows count in the new zone."""
    user = make_mentee("moved", windows=[Window(0, dt.time(9), dt.time(10))])
    assert mask_slots(mentee_needs(user=user).mask) == [(36, 4)]
    profile_update(actor=user, profile=user.profile, data={"time_zone": "Asia/Tokyo"})
    assert mask_slots(mentee_needs(user=user).mask) == [(0, 4)]  # 09:00 Tokyo = 00:00 UTC


BAD_SETTINGS: list[tuple[dict[str, Any], str]] = [
    ({"capacity": 0}, "capacity"),
    ({"capacity": 11}, "capacity"),
    ({"mentor_skills": {"no-such-skill": 3}}, "mentor_skills"),
    ({"mentor_skills": {CHO: 5}}, "mentor_skills"),
    ({"target_skills": {CHO: (3, 3)}}, "target_skills"),
    ({"target_skills": {CHO: (0, 5)}}, "target_skills"),
    ({"availability": [Window(7, dt.time(9), dt.time(10))]}, "availability"),
    ({"availability": [Window(1, dt.time(10), dt.time(9))]}, "availability"),
    ({"availability": [Window(1, dt.time(9, 10), dt.time(10))]}, "availability"),
    ({"availability": [Window(1, dt.time(9), dt.time(10))] * 22}, "availability"),
    ({"goals": "x" * 2001}, "goals"),
]


def test_bad_settings_are_refused_and_nothing_changes() -> None:
    """Invalid settings name the field and leave the earlier settings untouched."""
    user = make_mentor("steady", skills={CHO: 4}, capacity=2)
    for data, field in BAD_SETTINGS:
        with pytest.raises(ValidationError) as exc:
            services.mentoring_settings_update(
                user=user,
                data={"accepts_mentees": False, "goals": "changed", "mentor_skills": {}, **data},
            )
        assert field in error_fields(exc), data
    settings_row = MentoringProfile.objects.get(user=user)
    assert (settings_row.accepts_mentees, settings_row.capacity, settings_row.goals) == (
        True,
        2,
        "",
    )
    assert list(MentorSkill.objects.filter(user=user).values_list("skill__slug", "level")) == [
        (CHO, 4)
    ]
    assert mask_from_bytes(settings_row.availability_mask).bit_count() == 12 * 4


# --- recommendations --------------------------------------------------------------------------
@pytest.fixture
def seeker() -> User:
    return make_mentee("seeker", languages=("en", "fr"), targets={CHO: (1, 3), BIOREACTOR: (0, 2)})


def names(suggestions: list[Suggestion]) -> list[str]:
    return [s.profile.user.username for s in suggestions]


def test_recommendations_rank_the_best_mentor_first_with_an_explanation(seeker: User) -> None:
    """A mentor covering every target ranks above one covering part of them, explained."""
    weak = make_mentor("partial", skills={CHO: 2})
    strong = make_mentor("complete", skills={CHO: 4, BIOREACTOR: 3})
    suggestions = mentor_recommendations(mentee=seeker)
    assert names(suggestions) == ["complete", "partial"]
    best = suggestions[0]
    assert best.offer.user_id == strong.pk
    assert best.score.total > suggestions[1].score.total
    assert best.score.explanation[:3] == [
        "covers 2 of your 2 target skills",
        "12 h/week overlap",
        "you both speak English",
    ]
    assert suggestions[1].offer.user_id == weak.pk


def test_recommendations_never_show_a_mentor_at_capacity(seeker: User) -> None:
    """A mentor whose places are all taken is not suggested until a place frees up."""
    full = make_mentor("full", capacity=1, skills={CHO: 4, BIOREACTOR: 4})
    make_mentor("free", skills={CHO: 3})
    taken = services.mentorship_request(mentee=make_mentee("first"), mentor=full)
    services.mentorship_accept(actor=full, mentorship=taken)
    assert names(mentor_recommendations(mentee=seeker)) == ["free"]
    services.mentorship_complete(actor=full, mentorship=taken)
    assert names(mentor_recommendations(mentee=seeker)) == ["full", "free"]


def test_recommendations_never_show_a_mentor_who_declined_the_mentee(seeker: User) -> None:
    """A mentor who declined a mentee is never suggested to them again, but to others."""
    mentor = make_mentor("choosy", skills={CHO: 4, BIOREACTOR: 4})
    asked = services.mentorship_request(mentee=seeker, mentor=mentor)
    assert mentor_recommendations(mentee=seeker) == []  # an open request hides them too
    services.mentorship_decline(actor=mentor, mentorship=asked, reason="Full this term")
    assert mentor_recommendations(mentee=seeker) == []
    assert names(mentor_recommendations(mentee=make_mentee("other"))) == ["choosy"]


def test_recommendations_need_a_shared_language_and_an_accepting_mentor(seeker: User) -> None:
    """Mentors without a shared language, not accepting, or deactivated are not shown."""
    make_mentor("spanish", languages=("es",), skills={CHO: 4})
    make_mentor("paused", accepts=False, skills={CHO: 4})
    gone = make_mentor("gone", skills={CHO: 4})
    User.objects.filter(pk=gone.pk).update(is_active=False)
    make_mentor("french", languages=("fr",), skills={CHO: 4})
    assert names(mentor_recommendations(mentee=seeker)) == ["french"]


def test_recommendations_filter_by_skill_language_and_country(seeker: User) -> None:
    """Filters keep only mentors of that skill, that language, or that country."""
    make_mentor("ghana.en", country="GH", skills={CHO: 4})
    make_mentor("france.fr", country="FR", languages=("fr", "en"), skills={HPLC: 4})
    make_mentor("kenya.en", country="KE", skills={BIOREACTOR: 4, HPLC: 2})
    assert sorted(names(mentor_recommendations(mentee=seeker, skill=HPLC))) == [
        "france.fr",
        "kenya.en",
    ]
    assert names(mentor_recommendations(mentee=seeker, language="fr")) == ["france.fr"]
    assert names(mentor_recommendations(mentee=seeker, country="ke")) == ["kenya.en"]
    assert names(mentor_recommendations(mentee=seeker, country="FR", skill=CHO)) == []


def test_recommendations_respect_the_limit(seeker: User) -> None:
    """No more than ``limit`` mentors are suggested."""
    for i in range(4):
        make_mentor(f"m{i}", skills={CHO: 4})
    assert len(mentor_recommendations(mentee=seeker, limit=3)) == 3
    assert len(mentor_recommendations(mentee=seeker)) == 4


def _twins_and_star() -> tuple[User, User, User]:
    twin_a = make_mentor("twin.a", skills={CHO: 3})
    twin_b = make_mentor("twin.b", skills={CHO: 3})
    star = make_mentor("star", skills={CHO: 4, BIOREACTOR: 4})
    return twin_a, twin_b, star


def test_equal_mentors_are_rotated_across_days_and_a_better_one_stays_first(
    seeker: User,
) -> None:
    """Two equally good mentors swap places from day to day; the clearly best stays first."""
    _twins_and_star()
    orders = set()
    for offset in range(16):
        day = dt.date(2025, 3, 1) + dt.timedelta(days=offset)
        suggestions = mentor_recommendations(mentee=seeker, today=day)
        assert names(suggestions)[0] == "star"
        assert suggestions[1].score.total == suggestions[2].score.total
        orders.add(tuple(names(suggestions)[1:]))
    assert orders == {("twin.a", "twin.b"), ("twin.b", "twin.a")}


def test_equal_mentors_are_rotated_across_mentees() -> None:
    """On one day, different mentees see two equally good mentors in different orders."""
    _twins_and_star()
    day = dt.date(2025, 3, 1)
    orders = set()
    for i in range(12):
        mentee = make_mentee(f"cohort{i}", targets={CHO: (1, 3), BIOREACTOR: (0, 2)})
        suggestions = names(mentor_recommendations(mentee=mentee, today=day))
        assert suggestions[0] == "star"
        orders.add(tuple(suggestions[1:]))
        assert names(mentor_recommendations(mentee=mentee, today=day)) == suggestions
    assert orders == {("twin.a", "twin.b"), ("twin.b", "twin.a")}


# --- requests ---------------------------------------------------------------------------------
def test_request_creates_an_open_request_and_tells_the_mentor(
    requested: Mentorship, mentee: User, mentor: User
) -> None:
    """A request is open for 14 days, keeps message and goals, and notifies the mentor."""
    assert requested.status == MentorshipStatus.REQUESTED
    assert requested.message == "I run fed-batch at pilot scale."
    assert requested.expires_at is not None
    remaining = requested.expires_at - timezone.now()
    assert dt.timedelta(days=13, hours=23) < remaining <= dt.timedelta(days=14)
    note = Notification.objects.get(recipient=mentor)
    assert note.kind == "mentoring.request"
    assert note.actor == mentee
    assert note.text == "Ngozi Mentee asks you to be their mentor"
    assert note.url == reverse("mentoring:mentorship_detail", kwargs={"pk": requested.pk})


def test_request_is_emailed_to_the_mentor_after_commit(
    mentee: User, mentor: User, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    """The mentor gets an e-mail with a link once the request is saved."""
    with django_capture_on_commit_callbacks(execute=True):
        mentorship = services.mentorship_request(mentee=mentee, mentor=mentor)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [mentor.email]
    assert "Ngozi Mentee asks you to be their mentor" in message.subject
    assert reverse("mentoring:mentorship_detail", kwargs={"pk": mentorship.pk}) in message.body


def test_cannot_request_oneself(mentor: User) -> None:
    """A member cannot ask themselves to be their mentor."""
    with pytest.raises(ValidationError) as exc:
        services.mentorship_request(mentee=mentor, mentor=mentor)
    assert "mentor" in error_fields(exc)


def test_cannot_request_a_mentor_not_accepting(mentee: User) -> None:
    """A member who does not accept mentees (or never set up mentoring) cannot be asked."""
    paused = make_mentor("paused", accepts=False)
    with pytest.raises(ValidationError) as exc:
        services.mentorship_request(mentee=mentee, mentor=paused)
    assert "mentor" in error_fields(exc)
    never = make_member("never", languages=["en"]).user
    with pytest.raises(ValidationError):
        services.mentorship_request(mentee=mentee, mentor=never)
    assert not Mentorship.objects.exists()


def test_cannot_request_a_mentor_without_a_shared_language(mentee: User) -> None:
    """Mentee and mentor must share a language."""
    spanish = make_mentor("solo.es", languages=("es",))
    with pytest.raises(ValidationError) as exc:
        services.mentorship_request(mentee=mentee, mentor=spanish)
    assert "mentor" in error_fields(exc)


def test_cannot_request_a_mentor_at_capacity(mentee: User) -> None:
    """A mentor with every place taken cannot be asked."""
    full = make_mentor("full", capacity=1)
    services.mentorship_accept(
        actor=full, mentorship=services.mentorship_request(mentee=make_mentee("a"), mentor=full)
    )
    with pytest.raises(ValidationError) as exc:
        services.mentorship_request(mentee=mentee, mentor=full)
    assert "mentor" in error_fields(exc)


def test_cannot_request_twice_while_open(requested: Mentorship, mentee: User, mentor: User) -> None:
    """A second request while one is pending, or while active, is refused."""
    with pytest.raises(ValidationError):
        services.mentorship_request(mentee=mentee, mentor=mentor)
    services.mentorship_accept(actor=mentor, mentorship=requested)
    with pytest.raises(ValidationError) as exc:
        services.mentorship_request(mentee=mentee, mentor=mentor)
    assert "mentor" in error_fields(exc)
    assert Mentorship.objects.filter(mentee=mentee, mentor=mentor).count() == 1


def test_cannot_request_a_mentor_who_declined(
    requested: Mentorship, mentee: User, mentor: User
) -> None:
    """After a decline, the mentee cannot ask the same mentor again."""
    services.mentorship_decline(actor=mentor, mentorship=requested)
    with pytest.raises(ValidationError) as exc:
        services.mentorship_request(mentee=mentee, mentor=mentor)
    assert "mentor" in error_fields(exc)


def test_can_request_again_after_withdrawing_or_completing(
    requested: Mentorship, mentee: User, mentor: User
) -> None:
    """A withdrawn request or a finished mentorship does not block a new request."""
    services.mentorship_withdraw(actor=mentee, mentorship=requested)
    again = services.mentorship_request(mentee=mentee, mentor=mentor)
    services.mentorship_accept(actor=mentor, mentorship=again)
    services.mentorship_complete(actor=mentor, mentorship=again)
    third = services.mentorship_request(mentee=mentee, mentor=mentor)
    assert third.status == MentorshipStatus.REQUESTED


def test_overlong_message_is_refused(mentee: User, mentor: User) -> None:
    """Messages over 2000 characters are refused."""
    with pytest.raises(ValidationError) as exc:
        services.mentorship_request(mentee=mentee, mentor=mentor, message="x" * 2001)
    assert "message" in error_fields(exc)


# --- transitions ------------------------------------------------------------------------------
def test_accept_activates_turns_goals_into_items_and_tells_the_mentee(
    requested: Mentorship, mentee: User, mentor: User
) -> None:
    """Accepting makes the mentorship active, lists the goals and notifies the mentee."""
    mentorship = services.mentorship_accept(actor=mentor, mentorship=requested)
    assert refresh(mentorship).status == MentorshipStatus.ACTIVE
    assert refresh(mentorship).responded_at is not None
    assert list(mentorship.goal_items.values_list("title", "progress")) == [
        ("Scale up a CHO process", 0),
        ("Prepare for a tech transfer", 0),
    ]
    assert kinds(mentee) == ["mentoring.accepted"]
    assert Notification.objects.get(recipient=mentee).text == (
        "Kofi Mentor accepted your mentoring request"
    )


def test_decline_keeps_the_reason_and_tells_the_mentee(
    requested: Mentorship, mentee: User, mentor: User
) -> None:
    """Declining stores the optional reason and notifies the mentee."""
    services.mentorship_decline(actor=mentor, mentorship=requested, reason="  Full until June  ")
    stored = refresh(requested)
    assert stored.status == MentorshipStatus.DECLINED
    assert stored.decline_reason == "Full until June"
    assert kinds(mentee) == ["mentoring.declined"]


def test_withdraw_ends_a_pending_request(requested: Mentorship, mentee: User) -> None:
    """The mentee can withdraw a pending request."""
    services.mentorship_withdraw(actor=mentee, mentorship=requested)
    stored = refresh(requested)
    assert stored.status == MentorshipStatus.WITHDRAWN
    assert stored.ended_at is not None


def test_either_person_ends_an_active_mentorship_and_the_other_is_told(
    mentee: User, mentor: User
) -> None:
    """Either person can complete or cancel; the other is asked for feedback."""
    for actor, other in ((mentee, mentor), (mentor, mentee)):
        for end, status in (
            (services.mentorship_complete, "completed"),
            (services.mentorship_cancel, "cancelled"),
        ):
            mentorship = services.mentorship_request(mentee=mentee, mentor=mentor)
            services.mentorship_accept(actor=mentor, mentorship=mentorship)
            end(actor=actor, mentorship=mentorship, reason="Moving on")
            stored = refresh(mentorship)
            assert stored.status == status
            assert stored.end_reason == "Moving on"
            assert stored.ended_at is not None
            assert kinds(other)[-1] == f"mentoring.{status}"
            latest = newest(other)
            assert latest.text.endswith(f"marked your mentorship {status}; please leave feedback")


def test_both_sides_give_feedback_once_after_the_end(
    completed: Mentorship, mentee: User, mentor: User
) -> None:
    """After completion each person rates once; a second rating is refused."""
    services.mentorship_feedback_give(actor=mentee, mentorship=completed, rating=5, comment="Great")
    services.mentorship_feedback_give(actor=mentor, mentorship=completed, rating=4)
    assert sorted(completed.feedback.values_list("rating", flat=True)) == [4, 5]
    with pytest.raises(ValidationError) as exc:
        services.mentorship_feedback_give(actor=mentee, mentorship=completed, rating=3)
    assert "rating" in error_fields(exc)
    assert MentorshipFeedback.objects.filter(mentorship=completed).count() == 2


def test_feedback_is_allowed_after_a_cancellation(active: Mentorship, mentee: User) -> None:
    """A cancelled mentorship can be rated too."""
    services.mentorship_cancel(actor=mentee, mentorship=active)
    services.mentorship_feedback_give(actor=mentee, mentorship=active, rating=2)
    assert MentorshipFeedback.objects.filter(mentorship=active).count() == 1


def test_feedback_rating_must_be_one_to_five(completed: Mentorship, mentee: User) -> None:
    """Ratings outside 1-5 (or not numbers) are refused."""
    for rating in (0, 6, "5"):
        with pytest.raises(ValidationError) as exc:
            services.mentorship_feedback_give(actor=mentee, mentorship=completed, rating=rating)  # type: ignore[arg-type]
        assert "rating" in error_fields(exc)
    assert not MentorshipFeedback.objects.exists()


def test_goals_and_sessions_are_kept_on_an_active_mentorship(
    active: Mentorship, mentee: User, mentor: User
) -> None:
    """Both people add goals, record progress and log sessions with next steps."""
    goal = services.mentorship_goal_add(actor=mentee, mentorship=active, title="Write a CCS")
    services.mentorship_goal_progress(actor=mentor, goal=goal, progress=40)
    session = services.mentorship_session_log(
        actor=mentor,
        mentorship=active,
        date=timezone.localdate(),
        notes="Reviewed the seed train",
        next_steps="Draft the tech-transfer plan",
    )
    assert MentorshipGoal.objects.get(pk=goal.pk).progress == 40
    assert active.goal_items.count() == 3
    stored = MentorshipSession.objects.get(pk=session.pk)
    assert (stored.author, stored.next_steps) == (mentor, "Draft the tech-transfer plan")


def test_bad_goal_and_session_input_is_refused(active: Mentorship, mentee: User) -> None:
    """Blank or long goal titles, progress over 100% and future sessions are refused."""
    goal = active.goal_items.get(title="Scale up a CHO process")
    progress = services.mentorship_goal_progress
    in_three_days = timezone.localdate() + dt.timedelta(days=3)
    for call, field in (
        (lambda: services.mentorship_goal_add(actor=mentee, mentorship=active, title=" "), "title"),
        (
            lambda: services.mentorship_goal_add(actor=mentee, mentorship=active, title="x" * 201),
            "title",
        ),
        (lambda: progress(actor=mentee, goal=goal, progress=101), "progress"),
        (lambda: progress(actor=mentee, goal=goal, progress=-1), "progress"),
        (
            lambda: services.mentorship_session_log(
                actor=mentee, mentorship=active, date=in_three_days
            ),
            "date",
        ),
    ):
        with pytest.raises(ValidationError) as exc:
            call()
        assert field in error_fields(exc)
    assert active.goal_items.count() == 2
    assert not active.sessions.exists()


# --- illegal transitions ----------------------------------------------------------------------
def test_accept_twice_is_refused(active: Mentorship, mentor: User) -> None:
    """An active mentorship cannot be accepted again."""
    with pytest.raises(ValidationError) as exc:
        services.mentorship_accept(actor=mentor, mentorship=active)
    assert "status" in error_fields(exc)


def test_decline_after_accept_is_refused(active: Mentorship, mentor: User) -> None:
    """Once accepted, a mentorship cannot be declined."""
    with pytest.raises(ValidationError):
        services.mentorship_decline(actor=mentor, mentorship=active)
    assert refresh(active).status == MentorshipStatus.ACTIVE


def test_withdraw_after_accept_is_refused(active: Mentorship, mentee: User) -> None:
    """Once accepted, a request cannot be withdrawn (it can be cancelled)."""
    with pytest.raises(ValidationError):
        services.mentorship_withdraw(actor=mentee, mentorship=active)


@pytest.mark.parametrize("end", [services.mentorship_complete, services.mentorship_cancel])
def test_a_request_cannot_be_completed_or_cancelled(
    requested: Mentorship, mentee: User, end: Callable[..., Mentorship]
) -> None:
    """Only an active mentorship can be completed or cancelled."""
    with pytest.raises(ValidationError) as exc:
        end(actor=mentee, mentorship=requested)
    assert "status" in error_fields(exc)
    assert refresh(requested).status == MentorshipStatus.REQUESTED


def test_feedback_on_an_active_mentorship_is_refused(active: Mentorship, mentee: User) -> None:
    """Feedback waits until the mentorship has ended."""
    with pytest.raises(ValidationError) as exc:
        services.mentorship_feedback_give(actor=mentee, mentorship=active, rating=5)
    assert "status" in error_fields(exc)


@pytest.mark.parametrize("state", ["declined", "withdrawn", "completed"])
def test_ended_mentorships_accept_no_further_step(
    requested: Mentorship, mentee: User, mentor: User, state: str
) -> None:
    """Declined, withdrawn and completed mentorships cannot be accepted, declined or ended."""
    if state == "declined":
        services.mentorship_decline(actor=mentor, mentorship=requested)
    elif state == "withdrawn":
        services.mentorship_withdraw(actor=mentee, mentorship=requested)
    else:
        services.mentorship_accept(actor=mentor, mentorship=requested)
        services.mentorship_complete(actor=mentor, mentorship=requested)
    for step in (
        lambda: services.mentorship_accept(actor=mentor, mentorship=requested),
        lambda: services.mentorship_decline(actor=mentor, mentorship=requested),
        lambda: services.mentorship_withdraw(actor=mentee, mentorship=requested),
        lambda: services.mentorship_complete(actor=mentee, mentorship=requested),
        lambda: services.mentorship_cancel(actor=mentee, mentorship=requested),
        lambda: services.mentorship_goal_add(actor=mentee, mentorship=requested, title="More"),
        lambda: services.mentorship_session_log(
            actor=mentee, mentorship=requested, date=timezone.localdate()
        ),
    ):
        with pytest.raises(ValidationError):
            step()
    assert refresh(requested).status == state


# --- wrong actors -----------------------------------------------------------------------------
REQUESTED_STEPS = {
    "accept": lambda m, u: services.mentorship_accept(actor=u, mentorship=m),
    "decline": lambda m, u: services.mentorship_decline(actor=u, mentorship=m),
    "withdraw": lambda m, u: services.mentorship_withdraw(actor=u, mentorship=m),
}
ACTIVE_STEPS = {
    "complete": lambda m, u: services.mentorship_complete(actor=u, mentorship=m),
    "cancel": lambda m, u: services.mentorship_cancel(actor=u, mentorship=m),
    "goal_add": lambda m, u: services.mentorship_goal_add(actor=u, mentorship=m, title="Mine"),
    "goal_progress": lambda m, u: services.mentorship_goal_progress(
        actor=u, goal=m.goal_items.first(), progress=90
    ),
    "session_log": lambda m, u: services.mentorship_session_log(
        actor=u, mentorship=m, date=timezone.localdate()
    ),
}
ENDED_STEPS = {
    "feedback": lambda m, u: services.mentorship_feedback_give(actor=u, mentorship=m, rating=1),
}


def test_wrong_actor_on_a_request_is_denied(
    requested: Mentorship, mentee: User, mentor: User, stranger: User
) -> None:
    """Only the mentor accepts or declines, and only the mentee withdraws."""
    for step, actor in (
        ("accept", mentee),
        ("accept", stranger),
        ("decline", mentee),
        ("decline", stranger),
        ("withdraw", mentor),
        ("withdraw", stranger),
    ):
        with pytest.raises(PermissionDenied):
            REQUESTED_STEPS[step](requested, actor)
    assert refresh(requested).status == MentorshipStatus.REQUESTED


def test_a_stranger_cannot_touch_an_active_mentorship(active: Mentorship, stranger: User) -> None:
    """Nobody but the two people ends, plans or logs an active mentorship."""
    for name, step in ACTIVE_STEPS.items():
        with pytest.raises(PermissionDenied):
            step(active, stranger)
        assert refresh(active).status == MentorshipStatus.ACTIVE, name
    assert active.goal_items.count() == 2
    assert not active.sessions.exists()
    assert set(active.goal_items.values_list("progress", flat=True)) == {0}


def test_a_stranger_cannot_give_feedback(completed: Mentorship, stranger: User) -> None:
    """Only the two people rate a finished mentorship."""
    with pytest.raises(PermissionDenied):
        ENDED_STEPS["feedback"](completed, stranger)
    assert not MentorshipFeedback.objects.exists()


def test_only_the_two_people_see_a_mentorship(
    requested: Mentorship, mentee: User, mentor: User, stranger: User
) -> None:
    """Others get "not found", the same as for a missing id."""
    assert mentorship_get_for_user(pk=requested.pk, user=mentee) == requested
    assert mentorship_get_for_user(pk=requested.pk, user=mentor) == requested
    with pytest.raises(Mentorship.DoesNotExist):
        mentorship_get_for_user(pk=requested.pk, user=stranger)
    with pytest.raises(Mentorship.DoesNotExist):
        mentorship_get_for_user(pk=requested.pk + 1000, user=mentee)
    assert list(mentorships_for_user(user=stranger)) == []
    assert list(mentorships_for_user(user=mentor)) == [requested]


# --- notifications and e-mail over the whole lifecycle ----------------------------------------
def test_every_step_notifies_and_emails_the_other_person(
    mentee: User, mentor: User, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    """Request, accept and completion each reach the other person in the app and by e-mail."""
    with django_capture_on_commit_callbacks(execute=True):
        mentorship = services.mentorship_request(mentee=mentee, mentor=mentor)
    with django_capture_on_commit_callbacks(execute=True):
        services.mentorship_accept(actor=mentor, mentorship=mentorship)
    with django_capture_on_commit_callbacks(execute=True):
        services.mentorship_complete(actor=mentee, mentorship=mentorship)
    assert kinds(mentor) == ["mentoring.request", "mentoring.completed"]
    assert kinds(mentee) == ["mentoring.accepted"]
    assert [(m.to, m.subject) for m in mail.outbox] == [
        ([mentor.email], "[Workforce Hub] Ngozi Mentee asks you to be their mentor"),
        ([mentee.email], "[Workforce Hub] Kofi Mentor accepted your mentoring request"),
        (
            [mentor.email],
            "[Workforce Hub] Ngozi Mentee marked your mentorship completed; please leave feedback",
        ),
    ]
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()


def test_decline_is_emailed_to_the_mentee(
    requested: Mentorship, mentee: User, mentor: User, django_capture_on_commit_callbacks: Any
) -> None:
    """A declined mentee hears about it by e-mail."""
    with django_capture_on_commit_callbacks(execute=True):
        services.mentorship_decline(actor=mentor, mentorship=requested, reason="Full")
    assert [m.to for m in mail.outbox] == [[mentee.email]]
    assert "declined your mentoring request" in mail.outbox[0].subject


# --- meeting times ----------------------------------------------------------------------------
def test_meeting_suggestions_fall_inside_both_weeks_across_zones() -> None:
    """Proposed meetings for a Kolkata mentee and a Lagos mentor fit both availabilities."""
    mentor = make_mentor(
        "lagos", time_zone="Africa/Lagos", windows=[Window(1, dt.time(14), dt.time(17))]
    )
    mentee = make_mentee(
        "kolkata", time_zone="Asia/Kolkata", windows=[Window(1, dt.time(19), dt.time(22))]
    )
    mentorship = services.mentorship_request(mentee=mentee, mentor=mentor)
    services.mentorship_accept(actor=mentor, mentorship=mentorship)
    now = timezone.now()
    slots = meeting_suggestions(mentorship=mentorship, minutes=60, now=now)
    assert len(slots) == 2  # one Tuesday per week, for two weeks
    for slot in slots:
        assert slot.start_utc > now
        assert slot.end_utc - slot.start_utc == dt.timedelta(hours=1)
        # Both are free on Tuesdays 13:30-16:00 UTC (19:00-21:30 Kolkata, 14:30-17:00 Lagos).
        assert slot.start_utc.weekday() == 1
        assert slot.start_utc.minute in (0, 30)
        assert dt.time(13, 30) <= slot.start_utc.time() <= dt.time(15)


# --- expiry -----------------------------------------------------------------------------------
def _expiring_in(mentorship: Mentorship, delta: dt.timedelta) -> None:
    Mentorship.objects.filter(pk=mentorship.pk).update(expires_at=timezone.now() + delta)


def test_expiry_reminds_the_mentor_once_when_under_three_days_remain(
    requested: Mentorship, mentor: User
) -> None:
    """A request with under three days left triggers one reminder, not one per run."""
    _expiring_in(requested, dt.timedelta(days=2))
    out = StringIO()
    call_command("mentoring_expire_requests", stdout=out)
    assert "reminded 1, expired 0" in out.getvalue()
    call_command("mentoring_expire_requests", stdout=StringIO())
    assert kinds(mentor) == ["mentoring.request", "mentoring.reminder"]
    assert "expires soon" in newest(mentor).text
    stored = refresh(requested)
    assert stored.status == MentorshipStatus.REQUESTED
    assert stored.reminded_at is not None


def test_expiry_leaves_fresh_requests_alone(requested: Mentorship, mentor: User) -> None:
    """A request with more than three days left gets no reminder yet."""
    _expiring_in(requested, dt.timedelta(days=3, hours=1))
    call_command("mentoring_expire_requests", stdout=StringIO())
    assert kinds(mentor) == ["mentoring.request"]
    assert refresh(requested).status == MentorshipStatus.REQUESTED


def test_expiry_expires_overdue_requests_and_tells_the_mentee(
    active: Mentorship, mentee: User
) -> None:
    """An unanswered request past its deadline expires and the mentee is pointed elsewhere."""
    other = services.mentorship_request(mentee=mentee, mentor=make_mentor("silent"))
    _expiring_in(other, -dt.timedelta(minutes=1))
    _expiring_in(active, -dt.timedelta(days=1))  # accepted long ago: never expires
    out = StringIO()
    call_command("mentoring_expire_requests", stdout=out)
    assert "reminded 0, expired 1" in out.getvalue()
    stored = refresh(other)
    assert stored.status == MentorshipStatus.EXPIRED
    assert stored.ended_at is not None
    assert refresh(active).status == MentorshipStatus.ACTIVE
    note = newest(mentee)
    assert note.kind == "mentoring.expired"
    assert note.url == reverse("mentoring:home")
    call_command("mentoring_expire_requests", stdout=out)
    assert kinds(mentee).count("mentoring.expired") == 1


def test_an_expired_request_can_be_made_again(requested: Mentorship, mentee: User) -> None:
    """Unlike a decline, an expiry does not block asking the same mentor again."""
    _expiring_in(requested, -dt.timedelta(minutes=1))
    call_command("mentoring_expire_requests", stdout=StringIO())
    again = services.mentorship_request(mentee=mentee, mentor=requested.mentor)
    assert again.status == MentorshipStatus.REQUESTED


# --- programmes -------------------------------------------------------------------------------
@pytest.fixture
def facilitator() -> User:
    return make_member("chinwe.f", display_name="Chinwe Eze", roles=("facilitator",)).user


@pytest.fixture
def programme(facilitator: User) -> Programme:
    return services.programme_create(actor=facilitator, name="Downstream 2026 cohort")


def _staff(username: str) -> User:
    UserFactory(username=username, is_staff=True)
    return make_member(username).user


def test_only_staff_and_facilitators_create_programmes(facilitator: User) -> None:
    """A facilitator or staff member creates programmes; other members are refused."""
    made = services.programme_create(actor=facilitator, name="  Upstream cohort  ")
    assert (made.name, made.owner, made.status) == ("Upstream cohort", facilitator, "draft")
    assert services.programme_create(actor=_staff("staffer"), name="Staff cohort")
    with pytest.raises(PermissionDenied):
        services.programme_create(actor=make_mentee("learner"), name="Mine")
    with pytest.raises(ValidationError) as exc:
        services.programme_create(actor=facilitator, name="   ")
    assert "name" in error_fields(exc)
    assert Programme.objects.count() == 2


def _cohort(programme: Programme, owner: User) -> dict[str, User]:
    people = {
        "alpha": make_mentor("p.alpha", skills={CHO: 4, BIOREACTOR: 4}, capacity=5),
        "beta": make_mentor("p.beta", skills={PROTEIN_A: 4}, languages=("en", "fr")),
        "ada": make_mentee("p.ada", targets={CHO: (1, 3)}, goals="Own the seed train"),
        "bo": make_mentee("p.bo", targets={BIOREACTOR: (0, 3)}),
        "cy": make_mentee("p.cy", targets={PROTEIN_A: (1, 4)}, languages=("fr",)),
        "dee": make_mentee("p.dee", languages=("es",)),
    }
    services.programme_member_add(
        actor=owner, programme=programme, user=people["alpha"], role="mentor", capacity=1
    )
    services.programme_member_add(
        actor=owner, programme=programme, user=people["beta"], role="mentor", capacity=3
    )
    for name in ("ada", "bo", "cy", "dee"):
        services.programme_member_add(
            actor=owner, programme=programme, user=people[name], role="mentee"
        )
    return people


def test_matching_proposes_pairs_under_programme_capacities(
    programme: Programme, facilitator: User
) -> None:
    """The run stores the best pairs within each mentor's programme places, explained."""
    people = _cohort(programme, facilitator)
    matches = services.programme_match_run(actor=facilitator, programme=programme)
    pairs = {(m.mentee.username, m.mentor.username) for m in matches}
    # alpha has one programme place (not their own capacity of 5): ada or bo gets it.
    assert ("p.cy", "p.beta") in pairs
    assert len(pairs) == 3
    assert sum(1 for _e, mentor in pairs if mentor == "p.alpha") == 1
    assert all(mentee != "p.dee" for mentee, _m in pairs)  # speaks only Spanish
    stored = Programme.objects.get(pk=programme.pk)
    assert stored.status == ProgrammeStatus.PROPOSED
    assert stored.matched_at is not None
    cy = ProgrammeMatch.objects.get(programme=programme, mentee=people["cy"])
    assert "you both speak French" in cy.explanation
    assert cy.score > 0
    assert not Mentorship.objects.exists()  # nothing is published yet


def test_adjust_respects_places_and_languages(programme: Programme, facilitator: User) -> None:
    """The owner can move a mentee, but not to a full mentor or one without a shared language."""
    people = _cohort(programme, facilitator)
    with pytest.raises(ValidationError):  # nothing proposed yet
        services.programme_match_adjust(
            actor=facilitator, programme=programme, mentee=people["ada"], mentor=people["beta"]
        )
    services.programme_match_run(actor=facilitator, programme=programme)
    on_alpha = ProgrammeMatch.objects.get(programme=programme, mentor=people["alpha"]).mentee
    other = people["bo"] if on_alpha == people["ada"] else people["ada"]
    with pytest.raises(ValidationError) as exc:
        services.programme_match_adjust(
            actor=facilitator, programme=programme, mentee=other, mentor=people["alpha"]
        )
    assert "mentor" in error_fields(exc)
    with pytest.raises(ValidationError) as exc:
        services.programme_match_adjust(
            actor=facilitator, programme=programme, mentee=people["dee"], mentor=people["beta"]
        )
    assert "mentor" in error_fields(exc)
    with pytest.raises(ValidationError) as exc:
        services.programme_match_adjust(
            actor=facilitator,
            programme=programme,
            mentee=people["dee"],
            mentor=make_mentor("outsider"),
        )
    assert "mentor" in error_fields(exc)
    # Freeing alpha's place lets the other mentee move there.
    assert (
        services.programme_match_adjust(
            actor=facilitator, programme=programme, mentee=on_alpha, mentor=None
        )
        is None
    )
    moved = services.programme_match_adjust(
        actor=facilitator, programme=programme, mentee=other, mentor=people["alpha"]
    )
    assert moved is not None
    assert moved.adjusted
    assert moved.explanation
    assert not ProgrammeMatch.objects.filter(programme=programme, mentee=on_alpha).exists()
    assert ProgrammeMatch.objects.filter(programme=programme, mentor=people["alpha"]).count() == 1


def test_publish_creates_active_mentorships_and_tells_both(
    programme: Programme,
    facilitator: User,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    """Publishing turns every proposed pair into an active mentorship and notifies both."""
    people = _cohort(programme, facilitator)
    with pytest.raises(ValidationError):
        services.programme_publish(actor=facilitator, programme=programme)
    services.programme_match_run(actor=facilitator, programme=programme)
    proposed = set(
        ProgrammeMatch.objects.filter(programme=programme).values_list("mentee_id", "mentor_id")
    )
    with django_capture_on_commit_callbacks(execute=True):
        created = services.programme_publish(actor=facilitator, programme=programme)
    assert {(m.mentee_id, m.mentor_id) for m in created} == proposed
    assert (
        set(
            Mentorship.objects.filter(
                programme=programme, status=MentorshipStatus.ACTIVE
            ).values_list("mentee_id", "mentor_id")
        )
        == proposed
    )
    for mentee_id, mentor_id in proposed:
        assert "mentoring.matched" in kinds(User.objects.get(pk=mentee_id))
        assert "mentoring.matched" in kinds(User.objects.get(pk=mentor_id))
    assert len(mail.outbox) == 2 * len(proposed)
    assert "Downstream 2026 cohort: you are matched with" in mail.outbox[0].subject
    assert Mentorship.objects.get(mentee=people["ada"]).goals == "Own the seed train"
    assert Programme.objects.get(pk=programme.pk).status == ProgrammeStatus.PUBLISHED
    for step in (
        lambda: services.programme_match_run(actor=facilitator, programme=programme),
        lambda: services.programme_publish(actor=facilitator, programme=programme),
        lambda: services.programme_member_add(
            actor=facilitator, programme=programme, user=people["dee"], role="mentor"
        ),
    ):
        with pytest.raises(ValidationError):
            step()


def test_only_the_owner_runs_adjusts_and_publishes(programme: Programme, facilitator: User) -> None:
    """Another facilitator can neither see nor change someone else's programme."""
    people = _cohort(programme, facilitator)
    rival = make_member("rival", roles=("facilitator",)).user
    with pytest.raises(Programme.DoesNotExist):
        programme_get_for_user(pk=programme.pk, user=rival)
    assert programme_get_for_user(pk=programme.pk, user=facilitator) == programme
    denied = [
        lambda: services.programme_member_add(
            actor=rival, programme=programme, user=rival, role="mentor"
        ),
        lambda: services.programme_member_remove(
            actor=rival, programme=programme, user=people["ada"]
        ),
        lambda: services.programme_match_run(actor=rival, programme=programme),
    ]
    for step in denied:
        with pytest.raises(PermissionDenied):
            step()
    services.programme_match_run(actor=facilitator, programme=programme)
    with pytest.raises(PermissionDenied):
        services.programme_match_adjust(
            actor=rival, programme=programme, mentee=people["ada"], mentor=None
        )
    with pytest.raises(PermissionDenied):
        services.programme_publish(actor=rival, programme=programme)
    assert ProgrammeMember.objects.filter(programme=programme).count() == 6
    assert ProgrammeMatch.objects.filter(programme=programme).count() == 3
    assert Programme.objects.get(pk=programme.pk).status == ProgrammeStatus.PROPOSED
    assert not Mentorship.objects.exists()


def test_programme_members_need_a_valid_role_and_capacity(
    programme: Programme, facilitator: User
) -> None:
    """Roles are mentee or mentor and capacities run from 1 to 10."""
    user = make_mentee("joiner")
    with pytest.raises(ValidationError) as exc:
        services.programme_member_add(
            actor=facilitator, programme=programme, user=user, role="boss"
        )
    assert "role" in error_fields(exc)
    with pytest.raises(ValidationError) as exc:
        services.programme_member_add(
            actor=facilitator, programme=programme, user=user, role="mentor", capacity=11
        )
    assert "capacity" in error_fields(exc)
    assert not ProgrammeMember.objects.exists()


def test_removing_a_member_drops_their_proposed_pairs(
    programme: Programme, facilitator: User
) -> None:
    """A member removed after the run leaves no proposed pair behind."""
    people = _cohort(programme, facilitator)
    services.programme_match_run(actor=facilitator, programme=programme)
    services.programme_member_remove(actor=facilitator, programme=programme, user=people["beta"])
    assert not ProgrammeMatch.objects.filter(mentor=people["beta"]).exists()
    assert not ProgrammeMember.objects.filter(user=people["beta"]).exists()


# --- demo data --------------------------------------------------------------------------------
def test_seed_demo_creates_mentorships_in_every_state_once() -> None:
    """The demo has mentors, mentees, every mentorship state and a proposed programme;
    a second run adds nothing."""
    call_command("seed_demo", "--quiet", stdout=StringIO())
    statuses = set(Mentorship.objects.values_list("status", flat=True))
    assert statuses == set(MentorshipStatus.values)
    assert MentoringProfile.objects.filter(accepts_mentees=True).count() >= 10
    assert TargetSkill.objects.values("user").distinct().count() >= 10
    active = Mentorship.objects.filter(status=MentorshipStatus.ACTIVE).earliest("id")
    assert active.goal_items.exists()
    assert active.sessions.exists()
    finished = Mentorship.objects.get(status=MentorshipStatus.COMPLETED)
    assert finished.feedback.count() == 2
    assert Mentorship.objects.get(status=MentorshipStatus.DECLINED).decline_reason
    programme = Programme.objects.get()
    assert programme.status == ProgrammeStatus.PROPOSED
    assert Profile.objects.get(user=programme.owner).is_facilitator
    assert programme.members.filter(role="mentee").count() >= 6
    assert programme.members.filter(role="mentor").count() >= 3
    assert programme.matches.exists()
    for mentor_id, places in programme.members.filter(role="mentor").values_list(
        "user_id", "capacity"
    ):
        assert programme.matches.filter(mentor_id=mentor_id).count() <= places

    def counts() -> dict[str, int]:
        return {
            model.__name__: model.objects.count()
            for model in (
                User,
                Mentorship,
                MentorshipGoal,
                MentorshipSession,
                MentorshipFeedback,
                MentorSkill,
                TargetSkill,
                Programme,
                ProgrammeMember,
                ProgrammeMatch,
                Notification,
            )
        }

    before = counts()
    call_command("seed_demo", "--quiet", stdout=StringIO())
    assert counts() == before
