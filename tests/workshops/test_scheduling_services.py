"""Scheduling services and selectors: workshops entered in the facilitator's zone,
permissions, bad input, registration, the waitlist and its promotion, the lists and
their filters, and the attendance report."""

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from community.notifications.models import Notification
from tests.factories import SkillFactory
from tests.workshops.test_scheduling_support import (
    LAGOS,
    NEXT_YEAR,
    facilitator,
    in_future,
    learner,
    move,
    staff,
    workshop,
)
from workshops import services
from workshops.models import (
    Attendance,
    Registration,
    RegistrationStatus,
    Workshop,
    WorkshopStatus,
)
from workshops.selectors import (
    PAST,
    WorkshopFilters,
    attendance_report,
    workshop_get,
    workshop_list,
    workshop_view,
)

pytestmark = pytest.mark.django_db


def _errors(exc: pytest.ExceptionInfo[ValidationError]) -> set[str]:
    return set(exc.value.message_dict)


# --- time zones ---------------------------------------------------------------------------
def test_seoul_facilitator_enters_nine_and_it_is_stored_as_midnight_utc() -> None:
    """A facilitator in Asia/Seoul enters 09:00-10:30; it is stored as 00:00-01:30 UTC."""
    host = facilitator("minji", time_zone="Asia/Seoul")
    created = services.workshop_create(
        actor=host,
        title="GMP deviation investigations and CAPA",
        starts_at=dt.datetime(NEXT_YEAR, 3, 10, 9, 0),
        ends_at=dt.datetime(NEXT_YEAR, 3, 10, 10, 30),
    )
    stored = Workshop.objects.get(pk=created.pk)
    assert stored.starts_at == dt.datetime(NEXT_YEAR, 3, 10, 0, 0, tzinfo=dt.UTC)
    assert stored.ends_at == dt.datetime(NEXT_YEAR, 3, 10, 1, 30, tzinfo=dt.UTC)
    assert stored.time_zone == "Asia/Seoul"
    assert stored.starts_at.astimezone(LAGOS).strftime("%H:%M") == "01:00"


def test_a_chosen_zone_wins_over_the_profile_zone_with_its_daylight_saving() -> None:
    """Times entered in a chosen zone are read in it, summer time included."""
    host = facilitator(time_zone="Asia/Seoul")
    winter = services.workshop_create(
        actor=host,
        title="Winter",
        starts_at=dt.datetime(NEXT_YEAR, 1, 15, 9, 0),
        ends_at=dt.datetime(NEXT_YEAR, 1, 15, 10, 0),
        time_zone="America/New_York",
    )
    summer = services.workshop_create(
        actor=host,
        title="Summer",
        starts_at=dt.datetime(NEXT_YEAR, 7, 15, 9, 0),
        ends_at=dt.datetime(NEXT_YEAR, 7, 15, 10, 0),
        time_zone="America/New_York",
    )
    assert winter.starts_at == dt.datetime(NEXT_YEAR, 1, 15, 14, 0, tzinfo=dt.UTC)
    assert summer.starts_at == dt.datetime(NEXT_YEAR, 7, 15, 13, 0, tzinfo=dt.UTC)
    assert winter.time_zone == summer.time_zone == "America/New_York"


def test_an_aware_datetime_is_taken_as_the_instant_it_names() -> None:
    """A start given with an offset is that instant, whatever the zone."""
    start = dt.datetime(NEXT_YEAR, 5, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=3)))
    created = workshop(facilitator(time_zone="Asia/Seoul"), starts_at=start)
    assert created.starts_at == dt.datetime(NEXT_YEAR, 5, 1, 9, 0, tzinfo=dt.UTC)


# --- creating: who and what ---------------------------------------------------------------
def test_only_facilitators_and_staff_schedule_workshops() -> None:
    """A learner is refused; a facilitator and a staff member may schedule."""
    with pytest.raises(PermissionDenied):
        workshop(learner())
    assert not Workshop.objects.exists()
    assert workshop(facilitator()).pk
    assert workshop(staff()).pk


def test_the_creator_facilitates_with_the_members_named() -> None:
    """The creator is a facilitator; co-facilitators are named by username (any case, @)."""
    host = facilitator("achieng")
    co = learner("valeria")
    created = workshop(host, facilitators=["@VALERIA", "valeria"])
    assert set(created.facilitators.values_list("username", flat=True)) == {"achieng", "valeria"}
    assert co in created.facilitators.all()


def test_description_is_rendered_markdown_without_scripts() -> None:
    """The description's Markdown becomes safe HTML; raw HTML is not kept."""
    created = workshop(description="**Bring** a report.\n\n<script>alert(1)</script>")
    assert "<strong>Bring</strong>" in created.description_html
    assert "<script" not in created.description_html


def test_skills_are_chosen_by_slug() -> None:
    """Skills named by slug are attached to the workshop."""
    skills = [SkillFactory(slug="protein-a-x"), SkillFactory(slug="column-packing-x")]
    created = workshop(skills=["protein-a-x", "column-packing-x"])
    assert set(created.skills.all()) == set(skills)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": "   "}, "title"),
        ({"title": "x" * 161}, "title"),
        ({"minutes": 0}, "ends_at"),
        ({"minutes": -30}, "ends_at"),
        ({"minutes": 13 * 60}, "ends_at"),
        ({"starts_at": "in the past"}, "starts_at"),
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
        ({"language": "xx"}, "language"),
        ({"capacity": 0}, "capacity"),
        ({"capacity": "many"}, "capacity"),
        ({"skills": ["no-such-skill"]}, "skills"),
        ({"facilitators": ["nobody-at-all"]}, "facilitators"),
        ({"description": "x" * 10001}, "description"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_creates_nothing(change, field) -> None:
    """Each kind of bad input is refused with an error on its field; nothing is saved."""
    host = facilitator()
    starts = in_future(days=2)
    data = {
        "title": "Aseptic process simulation",
        "starts_at": starts,
        "ends_at": starts + dt.timedelta(minutes=change.pop("minutes", 60)),
        **change,
    }
    if data["starts_at"] == "in the past":
        data["starts_at"] = timezone.now() - dt.timedelta(hours=1)
        data["ends_at"] = timezone.now() + dt.timedelta(hours=1)
    with pytest.raises(ValidationError) as exc:
        services.workshop_create(actor=host, **data)
    assert field in _errors(exc)
    assert not Workshop.objects.exists()


# --- editing and cancelling ---------------------------------------------------------------
def test_only_the_workshops_facilitators_and_staff_edit_it() -> None:
    """Another facilitator or a learner is refused; a co-facilitator and staff may edit."""
    co = learner("co.host")
    created = workshop(facilitators=["co.host"])
    for outsider in (facilitator(), learner()):
        with pytest.raises(PermissionDenied):
            services.workshop_update(actor=outsider, workshop=created, data={"title": "Hijack"})
    services.workshop_update(actor=co, workshop=created, data={"title": "Renamed by co"})
    services.workshop_update(actor=staff(), workshop=created, data={"capacity": 12})
    created.refresh_from_db()
    assert (created.title, created.capacity) == ("Renamed by co", 12)


def test_editing_reads_new_times_in_the_workshops_zone() -> None:
    """New wall-clock times are read in the workshop's zone (or a new zone given)."""
    host = facilitator(time_zone="Asia/Seoul")
    created = workshop(host)
    services.workshop_update(
        actor=host,
        workshop=created,
        data={
            "starts_at": dt.datetime(NEXT_YEAR, 4, 2, 9),
            "ends_at": dt.datetime(NEXT_YEAR, 4, 2, 11),
        },
    )
    created.refresh_from_db()
    assert created.starts_at == dt.datetime(NEXT_YEAR, 4, 2, 0, 0, tzinfo=dt.UTC)
    services.workshop_update(
        actor=host,
        workshop=created,
        data={
            "time_zone": "Africa/Lagos",
            "starts_at": dt.datetime(NEXT_YEAR, 4, 2, 9),
            "ends_at": dt.datetime(NEXT_YEAR, 4, 2, 11),
        },
    )
    created.refresh_from_db()
    assert created.starts_at == dt.datetime(NEXT_YEAR, 4, 2, 8, 0, tzinfo=dt.UTC)
    assert created.time_zone == "Africa/Lagos"


def test_edit_refuses_unknown_fields_and_a_capacity_below_the_registered() -> None:
    """Unknown fields and fewer seats than registered members are refused."""
    host = facilitator()
    created = workshop(host, capacity=3)
    for member in (learner(), learner()):
        services.registration_create(workshop=created, user=member)
    with pytest.raises(ValidationError) as exc:
        services.workshop_update(actor=host, workshop=created, data={"colour": "red"})
    assert _errors(exc) == {"colour"}
    with pytest.raises(ValidationError) as exc:
        services.workshop_update(actor=host, workshop=created, data={"capacity": 1})
    assert _errors(exc) == {"capacity"}
    created.refresh_from_db()
    assert created.capacity == 3


def test_more_seats_promote_the_waitlist_at_once(django_capture_on_commit_callbacks) -> None:
    """Raising the capacity gives the new seats to the waitlist, first come first served."""
    host = facilitator()
    created = workshop(host, capacity=1)
    first, second, third = learner(), learner(), learner()
    for member in (first, second, third):
        services.registration_create(workshop=created, user=member)
    with django_capture_on_commit_callbacks(execute=True):
        services.workshop_update(actor=host, workshop=created, data={"capacity": 2})
    statuses = dict(Registration.objects.values_list("user__username", "status"))
    assert statuses == {
        first.username: RegistrationStatus.REGISTERED,
        second.username: RegistrationStatus.REGISTERED,
        third.username: RegistrationStatus.WAITLISTED,
    }
    assert Notification.objects.filter(recipient=second, kind="workshops.promoted").exists()
    assert not Notification.objects.filter(recipient=third).exists()


def test_a_new_facilitator_gives_up_their_seat_to_the_waitlist() -> None:
    """Facilitators take no seat: naming a registered member a facilitator frees theirs."""
    host = facilitator()
    created = workshop(host, capacity=1)
    seated, waiting = learner("seated"), learner("waiting")
    services.registration_create(workshop=created, user=seated)
    services.registration_create(workshop=created, user=waiting)
    services.workshop_update(actor=host, workshop=created, data={"facilitators": ["seated"]})
    assert Registration.objects.get(user=seated).status == RegistrationStatus.CANCELLED
    assert Registration.objects.get(user=waiting).status == RegistrationStatus.REGISTERED
    assert seated in created.facilitators.all()


def test_cancelled_and_past_workshops_cannot_be_edited() -> None:
    """Editing a cancelled or ended workshop is refused."""
    host = facilitator()
    cancelled = workshop(host)
    services.workshop_cancel(actor=host, workshop=cancelled)
    ended = move(workshop(host), starts_at=timezone.now() - dt.timedelta(days=1))
    for target in (cancelled, ended):
        with pytest.raises(ValidationError):
            services.workshop_update(actor=host, workshop=target, data={"title": "New"})


def test_cancelling_tells_everyone_registered_or_waiting(
    django_capture_on_commit_callbacks,
) -> None:
    """A cancellation notifies (and e-mails) the registered and the waitlisted, once each."""
    host = facilitator()
    created = workshop(host, capacity=1, title="Protein A chromatography troubleshooting")
    seated, waiting, gone = learner(), learner(), learner()
    for member in (seated, waiting, gone):
        services.registration_create(workshop=created, user=member)
    services.registration_cancel(actor=gone, registration=Registration.objects.get(user=gone))
    with pytest.raises(PermissionDenied):
        services.workshop_cancel(actor=seated, workshop=created)
    with django_capture_on_commit_callbacks(execute=True):
        services.workshop_cancel(actor=host, workshop=created, reason="The trainer is ill.")
    created.refresh_from_db()
    assert created.status == WorkshopStatus.CANCELLED
    told = Notification.objects.filter(kind="workshops.cancelled")
    assert sorted(told.values_list("recipient__username", flat=True)) == sorted(
        [seated.username, waiting.username]
    )
    assert "The trainer is ill." in told.get(recipient=seated).text
    assert sorted(m.to[0] for m in mail.outbox) == sorted([seated.email, waiting.email])
    assert "Protein A chromatography troubleshooting" in mail.outbox[0].subject


# --- registration and the waitlist --------------------------------------------------------
def test_seats_then_waitlist_and_registering_again_changes_nothing() -> None:
    """Members get seats until full, then the waitlist; registering twice is a no-op."""
    created = workshop(capacity=2)
    a, b, c = learner(), learner(), learner()
    first = services.registration_create(workshop=created, user=a)
    assert first.status == RegistrationStatus.REGISTERED
    assert services.registration_create(workshop=created, user=b).status == "registered"
    assert services.registration_create(workshop=created, user=c).status == "waitlisted"
    again = services.registration_create(workshop=created, user=a)
    assert again.pk == first.pk
    assert again.status == RegistrationStatus.REGISTERED
    assert Registration.objects.filter(workshop=created).count() == 3


def test_cancelling_a_seat_promotes_the_first_waiting_member(
    django_capture_on_commit_callbacks,
) -> None:
    """A freed seat goes to the earliest on the waitlist, who is told; the rest wait."""
    created = workshop(capacity=1, title="Aseptic process simulation")
    seated, first, second = learner(), learner(), learner()
    for member in (seated, first, second):
        services.registration_create(workshop=created, user=member)
    with django_capture_on_commit_callbacks(execute=True):
        services.registration_cancel(
            actor=seated, registration=Registration.objects.get(user=seated)
        )
    mine = Registration.objects.get(user=first)
    assert mine.status == RegistrationStatus.REGISTERED
    assert mine.promoted_at is not None
    assert Registration.objects.get(user=second).status == RegistrationStatus.WAITLISTED
    assert Registration.objects.get(user=seated).status == RegistrationStatus.CANCELLED
    note = Notification.objects.get(recipient=first)
    assert note.kind == "workshops.promoted"
    assert "Aseptic process simulation" in note.text
    assert [m.to for m in mail.outbox] == [[first.email]]


def test_leaving_the_waitlist_promotes_nobody_and_rejoining_goes_to_the_back() -> None:
    """A waiting member who leaves frees no seat; coming back puts them last in line."""
    created = workshop(capacity=1)
    seated, first, second = learner(), learner(), learner()
    for member in (seated, first, second):
        services.registration_create(workshop=created, user=member)
    services.registration_cancel(actor=first, registration=Registration.objects.get(user=first))
    assert Registration.objects.get(user=second).status == RegistrationStatus.WAITLISTED
    services.registration_create(workshop=created, user=first)
    view = workshop_view(workshop=workshop_get(pk=created.pk), viewer=first)
    assert view.waitlist_position == 2
    view = workshop_view(workshop=workshop_get(pk=created.pk), viewer=second)
    assert view.waitlist_position == 1


def test_registration_is_refused_for_cancelled_ended_and_own_workshops() -> None:
    """No registration for a cancelled or ended workshop, nor for its facilitator."""
    host = facilitator()
    member = learner()
    cancelled = workshop(host)
    services.workshop_cancel(actor=host, workshop=cancelled)
    ended = move(workshop(host), starts_at=timezone.now() - dt.timedelta(hours=3))
    for target, who in ((cancelled, member), (ended, member), (workshop(host), host)):
        with pytest.raises(ValidationError) as exc:
            services.registration_create(workshop=target, user=who)
        assert _errors(exc) == {"workshop"}
    assert not Registration.objects.exists()


def test_members_cannot_cancel_each_others_registrations() -> None:
    """Cancelling someone else's registration is refused; staff may do it."""
    created = workshop(capacity=5)
    owner, other = learner(), learner()
    registration = services.registration_create(workshop=created, user=owner)
    with pytest.raises(PermissionDenied):
        services.registration_cancel(actor=other, registration=registration)
    assert Registration.objects.get(pk=registration.pk).status == RegistrationStatus.REGISTERED
    services.registration_cancel(actor=staff(), registration=registration)
    assert Registration.objects.get(pk=registration.pk).status == RegistrationStatus.CANCELLED


def test_open_workshops_never_waitlist() -> None:
    """Registering for an open workshop always succeeds (it only asks for reminders)."""
    created = workshop(capacity=1, registration_required=False)
    statuses = {
        services.registration_create(workshop=created, user=learner()).status for _ in range(3)
    }
    assert statuses == {RegistrationStatus.REGISTERED}
    view = workshop_view(workshop=workshop_get(pk=created.pk), viewer=learner())
    assert view.seats_left is None
    assert view.can_enter_room


def test_the_viewers_place_and_what_they_may_do() -> None:
    """Seats left, waitlist position and room access depend on the viewer's registration."""
    host = facilitator()
    created = workshop(host, capacity=1)
    seated, waiting, outsider = learner(), learner(), learner()
    services.registration_create(workshop=created, user=seated)
    services.registration_create(workshop=created, user=waiting)
    fetched = workshop_get(pk=created.pk)
    as_seated = workshop_view(workshop=fetched, viewer=seated)
    as_waiting = workshop_view(workshop=fetched, viewer=waiting)
    as_outsider = workshop_view(workshop=fetched, viewer=outsider)
    as_host = workshop_view(workshop=fetched, viewer=host)
    assert as_seated.seats_left == 0
    assert (as_seated.can_enter_room, as_seated.waitlist_position) == (True, None)
    assert (as_waiting.can_enter_room, as_waiting.waitlist_position) == (False, 1)
    assert (as_outsider.can_enter_room, as_outsider.can_register) == (False, True)
    assert (as_host.can_enter_room, as_host.can_edit, as_host.can_register) == (True, True, False)
    Registration.objects.filter(user=seated).update(removed_at=timezone.now())
    assert not workshop_view(workshop=fetched, viewer=seated).can_enter_room


# --- lists and filters --------------------------------------------------------------------
def test_upcoming_and_past_lists() -> None:
    """Upcoming lists soonest first, past latest first; cancelled ones are in neither."""
    host = facilitator()
    later = workshop(host, title="Later", starts_at=in_future(days=9))
    sooner = workshop(host, title="Sooner", starts_at=in_future(days=2))
    cancelled = workshop(host, title="Cancelled")
    services.workshop_cancel(actor=host, workshop=cancelled)
    old = move(workshop(host, title="Old"), starts_at=timezone.now() - dt.timedelta(days=30))
    recent = move(workshop(host, title="Recent"), starts_at=timezone.now() - dt.timedelta(days=2))
    ended_early = workshop(host, title="Ended early", starts_at=in_future(days=1))
    Workshop.objects.filter(pk=ended_early.pk).update(status=WorkshopStatus.ENDED)
    assert list(workshop_list()) == [sooner, later]
    assert list(workshop_list(when=PAST)) == [ended_early, recent, old]


def test_lists_filter_by_skill_and_language() -> None:
    """The skill and language filters keep only matching workshops."""
    SkillFactory(slug="lnp-x")
    SkillFactory(slug="capa-x")
    lnp = workshop(title="mRNA-LNP formulation basics", skills=["lnp-x", "capa-x"])
    spanish = workshop(title="Desviaciones y CAPA", language="es", skills=["capa-x"])
    assert list(workshop_list(filters=WorkshopFilters(skill="lnp-x"))) == [lnp]
    assert set(workshop_list(filters=WorkshopFilters(skill="capa-x"))) == {lnp, spanish}
    assert list(workshop_list(filters=WorkshopFilters(language="es"))) == [spanish]
    assert list(workshop_list(filters=WorkshopFilters(skill="capa-x", language="en"))) == [lnp]


def test_date_filters_are_days_in_the_viewers_zone() -> None:
    """23:30 UTC on 9 March is 10 March in Lagos: the day filters follow the viewer's zone."""
    late = workshop(starts_at=dt.datetime(NEXT_YEAR, 3, 9, 23, 30, tzinfo=dt.UTC))
    day9, day10 = dt.date(NEXT_YEAR, 3, 9), dt.date(NEXT_YEAR, 3, 10)
    in_utc = WorkshopFilters(date_from=day9, date_to=day9, time_zone="UTC")
    in_lagos = WorkshopFilters(date_from=day10, date_to=day10, time_zone="Africa/Lagos")
    lagos_day9 = WorkshopFilters(date_to=day9, time_zone="Africa/Lagos")
    assert list(workshop_list(filters=in_utc)) == [late]
    assert list(workshop_list(filters=in_lagos)) == [late]
    assert list(workshop_list(filters=lagos_day9)) == []


def test_lists_use_a_constant_number_of_queries() -> None:
    """Listing 2 or 8 workshops, with skills, facilitators and counts, costs the same."""
    viewer = learner()
    SkillFactory(slug="gmp-x")
    host = facilitator()

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            for item in workshop_list(viewer=viewer):
                list(item.skills.all())
                [u.profile.display_name for u in item.facilitators.all()]
                item.registered_count, item.my_status  # noqa: B018
        return len(ctx.captured_queries)

    for _ in range(2):
        services.registration_create(
            workshop=workshop(host, skills=["gmp-x"], facilitators=[learner().username]),
            user=viewer,
        )
    few = count()
    for _ in range(6):
        workshop(host, skills=["gmp-x"])
    assert count() == few == 3


# --- attendance ---------------------------------------------------------------------------
def test_attendance_counts_overlapping_stays_once() -> None:
    """Two overlapping stays (two tabs) and a later one: first join, last leave, minutes."""
    host = facilitator()
    created = workshop(host, capacity=5)
    present, absent = learner(display_name="Ama"), learner(display_name="Zed")
    for member in (present, absent):
        services.registration_create(workshop=created, user=member)
    t0 = created.starts_at
    for start, end in ((0, 30), (10, 40), (60, 75)):
        Attendance.objects.create(
            workshop=created,
            user=present,
            joined_at=t0 + dt.timedelta(minutes=start),
            left_at=t0 + dt.timedelta(minutes=end),
        )
    Attendance.objects.create(
        workshop=created, user=host, joined_at=t0, left_at=t0 + dt.timedelta(minutes=90)
    )
    rows = attendance_report(workshop=created, now=t0 + dt.timedelta(hours=3))
    assert [row.user for row in rows] == [host, present, absent]
    by_user = {row.user: row for row in rows}
    assert by_user[present].minutes == 55  # 0-40 and 60-75
    assert by_user[present].first_join == t0
    assert by_user[present].last_leave == t0 + dt.timedelta(minutes=75)
    assert by_user[host].is_facilitator
    assert by_user[host].minutes == 90
    assert (by_user[absent].minutes, by_user[absent].first_join) == (0, None)


def test_an_open_stay_counts_until_the_session_ends() -> None:
    """A stay never closed counts up to the live session's end, not forever."""
    host = facilitator()
    created = workshop(host)
    t0 = created.starts_at
    Attendance.objects.create(workshop=created, user=host, joined_at=t0)
    Workshop.objects.filter(pk=created.pk).update(
        status=WorkshopStatus.ENDED, live_ended_at=t0 + dt.timedelta(minutes=45)
    )
    created.refresh_from_db()
    (row,) = attendance_report(workshop=created, now=t0 + dt.timedelta(days=2))
    assert row.minutes == 45
    assert row.last_leave is None
