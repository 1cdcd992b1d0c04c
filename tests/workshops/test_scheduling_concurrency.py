"""Seats are never oversold and the waitlist moves correctly under concurrent
registrations and cancellations (PostgreSQL: real row locks, one thread per member)."""

import pytest

from tests.conftest import Race
from tests.workshops.test_scheduling_support import facilitator, learner, workshop
from workshops import services
from workshops.models import Registration, RegistrationStatus

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# How long each racer keeps its transaction open waiting for the others to get as far.
# Without the lock they would all count the same free seats and all commit; with it, the
# later ones wait on the lock, so the first stops waiting after this long. Not a timing
# assertion.
HOLD_SECONDS = 0.5


def test_concurrent_registrations_never_exceed_capacity(race: Race) -> None:
    """Six members register at once for two seats: two seated, four waitlisted, in order."""
    created = workshop(facilitator(), capacity=2)
    members = [learner() for _ in range(6)]
    results = race(
        [(lambda m=m: services.registration_create(workshop=created, user=m)) for m in members],
        hold=HOLD_SECONDS,
    )
    assert all(isinstance(r, Registration) for r in results), results
    statuses = list(Registration.objects.filter(workshop=created).values_list("status", flat=True))
    assert statuses.count(RegistrationStatus.REGISTERED) == 2
    assert statuses.count(RegistrationStatus.WAITLISTED) == 4
    # The queue order is the order in which the lock let them in: seated ones came first.
    queue = list(Registration.objects.filter(workshop=created).order_by("created_at", "id"))
    assert [r.status for r in queue] == ["registered"] * 2 + ["waitlisted"] * 4


def test_concurrent_cancellations_promote_each_waiting_member_once(race: Race) -> None:
    """Two seated members cancel at once: the two first waiting get the seats, once each."""
    created = workshop(facilitator(), capacity=2)
    seated = [learner(), learner()]
    waiting = [learner(), learner(), learner()]
    for member in seated + waiting:
        services.registration_create(workshop=created, user=member)
    registrations = [Registration.objects.get(workshop=created, user=m) for m in seated]
    results = race(
        [
            (lambda r=r: services.registration_cancel(actor=r.user, registration=r))
            for r in registrations
        ],
        hold=HOLD_SECONDS,
    )
    assert all(isinstance(r, Registration) for r in results), results
    status = dict(Registration.objects.values_list("user_id", "status"))
    assert [status[m.pk] for m in waiting] == ["registered", "registered", "waitlisted"]
    assert list(status.values()).count("registered") == 2


def test_a_cancellation_racing_a_registration_keeps_the_queue_fair(race: Race) -> None:
    """A seat freed while a newcomer registers goes to the member already waiting."""
    created = workshop(facilitator(), capacity=1)
    seated, waiting, newcomer = learner(), learner(), learner()
    services.registration_create(workshop=created, user=seated)
    services.registration_create(workshop=created, user=waiting)
    registration = Registration.objects.get(user=seated)
    results = race(
        [
            lambda: services.registration_cancel(actor=seated, registration=registration),
            lambda: services.registration_create(workshop=created, user=newcomer),
        ],
        hold=HOLD_SECONDS,
    )
    assert all(isinstance(r, Registration) for r in results), results
    status = dict(Registration.objects.values_list("user_id", "status"))
    assert status[waiting.pk] == RegistrationStatus.REGISTERED
    assert status[newcomer.pk] == RegistrationStatus.WAITLISTED
    assert list(status.values()).count("registered") == 1
