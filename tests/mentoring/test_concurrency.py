"""Capacity and one-open-request rules hold under concurrent requests (PostgreSQL)."""

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from community.mentoring import services
from community.mentoring.models import Mentorship, MentorshipStatus
from community.models import User
from tests.conftest import Race
from tests.factories import make_member

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# How long each racer keeps its transaction open waiting for the other one to get as far.
# Without locking both get there and both commit; with it, the second waits on a lock, so
# the first stops waiting after this long and commits. Not an assertion on time.
HOLD_SECONDS = 1.0


def _member(username: str, **settings: Any) -> User:
    user = make_member(username, languages=["en"]).user
    if settings:
        services.mentoring_settings_update(user=user, data=settings)
    return user


def test_concurrent_accepts_never_exceed_capacity(race: Race) -> None:
    """Two accepts racing for a mentor's last place: one wins, the other is refused."""
    mentor = _member("kofi.racer", accepts_mentees=True, capacity=1)
    first = services.mentorship_request(mentee=_member("ada.racer"), mentor=mentor)
    second = services.mentorship_request(mentee=_member("bo.racer"), mentor=mentor)
    results = race(
        [
            lambda: services.mentorship_accept(actor=mentor, mentorship=first),
            lambda: services.mentorship_accept(actor=mentor, mentorship=second),
        ],
        hold=HOLD_SECONDS,
    )
    won = [r for r in results if isinstance(r, Mentorship)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(won) == 1, results
    assert len(refused) == 1, results
    assert "capacity" in refused[0].message_dict
    active = Mentorship.objects.filter(mentor=mentor, status=MentorshipStatus.ACTIVE)
    assert list(active) == won
    assert Mentorship.objects.filter(mentor=mentor, status="requested").count() == 1


def test_concurrent_identical_requests_make_one_open_request(race: Race) -> None:
    """The same request sent twice at once creates one open request; the other is refused."""
    mentor = _member("kofi.twice", accepts_mentees=True, capacity=3)
    mentee = _member("ada.twice")
    results = race(
        [
            lambda: services.mentorship_request(mentee=mentee, mentor=mentor, message="Hello"),
            lambda: services.mentorship_request(mentee=mentee, mentor=mentor, message="Hello"),
        ],
        hold=HOLD_SECONDS,
    )
    assert sum(isinstance(r, Mentorship) for r in results) == 1, results
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(refused) == 1, results
    assert "mentor" in refused[0].message_dict
    assert Mentorship.objects.filter(mentee=mentee, mentor=mentor).count() == 1
