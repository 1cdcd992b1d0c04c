"""Calendar files: the .ics of one workshop and a member's private feed, parsed back with
icalendar; the feed page and resetting its secret address."""

import datetime as dt
import re

import pytest
from icalendar import Calendar

from tests.workshops.test_scheduling_support import (
    NEXT_YEAR,
    facilitator,
    in_future,
    learner,
    move,
    workshop,
)
from workshops import services
from workshops.models import CalendarFeed, Registration

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]


def _events(body: bytes) -> dict[str, dict]:
    """The VEVENTs of an iCalendar body by UID: start, end, summary, url, description, status."""
    cal = Calendar.from_ical(body)
    return {
        str(event["UID"]): {
            "start": event.decoded("DTSTART"),
            "end": event.decoded("DTEND"),
            "summary": str(event["SUMMARY"]),
            "url": str(event["URL"]),
            "description": str(event["DESCRIPTION"]),
            "status": str(event.get("STATUS", "")),
        }
        for event in cal.walk("VEVENT")
    }


def _feed_url(client, user) -> str:
    client.force_login(user)
    page = client.get("/workshops/calendar/")
    assert page.status_code == 200
    match = re.search(
        r'value="(https?://[^"]+/workshops/calendar/[^"]+\.ics)"', page.content.decode()
    )
    assert match, "the page shows no feed address"
    return match.group(1)


def test_workshop_ics_has_a_stable_uid_utc_times_url_and_plain_text(client) -> None:
    """The .ics holds the workshop in UTC with a stable UID, its URL and a plain description."""
    host = facilitator("seoul.host", time_zone="Asia/Seoul", display_name="Min-ji Park")
    created = services.workshop_create(
        actor=host,
        title="GMP deviation investigations and CAPA",
        description="**Bring** a deviation report.\n\n- Root causes\n- CAPA *effectiveness*",
        starts_at=dt.datetime(NEXT_YEAR, 3, 10, 9, 0),
        ends_at=dt.datetime(NEXT_YEAR, 3, 10, 10, 30),
    )
    first = client.get(f"/workshops/{created.pk}/workshop.ics")
    assert first.status_code == 200
    assert first["Content-Type"].startswith("text/calendar")
    assert "attachment" in first["Content-Disposition"]
    ((uid, event),) = _events(first.content).items()
    assert event["start"] == dt.datetime(NEXT_YEAR, 3, 10, 0, 0, tzinfo=dt.UTC)
    assert event["end"] == dt.datetime(NEXT_YEAR, 3, 10, 1, 30, tzinfo=dt.UTC)
    assert re.search(rb"\r\nDTSTART:\d{8}T\d{6}Z\r\n", first.content)  # UTC, no TZID
    assert event["summary"] == "GMP deviation investigations and CAPA"
    assert event["url"].endswith(f"/workshops/{created.pk}/")
    lines = event["description"].splitlines()
    assert lines[:3] == ["Bring a deviation report.", "- Root causes", "- CAPA effectiveness"]
    assert "Min-ji Park" in event["description"]
    assert not re.search(r"[*<>]", event["description"])
    services.workshop_update(actor=host, workshop=created, data={"title": "Renamed"})
    again = _events(client.get(f"/workshops/{created.pk}/workshop.ics").content)
    assert list(again) == [uid]
    assert again[uid]["summary"] == "Renamed"


def test_unknown_workshop_ics_is_404(client) -> None:
    """Asking for the .ics of a workshop that does not exist is a 404."""
    assert client.get("/workshops/999999/workshop.ics").status_code == 404


def test_the_feed_holds_registered_and_facilitated_upcoming_workshops(client) -> None:
    """The feed lists what the member is registered for or facilitates, upcoming only."""
    member = facilitator("feed.member")
    other_host = facilitator()
    mine = workshop(member, title="I facilitate this")
    seated = workshop(other_host, title="Registered", capacity=1)
    waiting_for = workshop(other_host, title="Only waitlisted", capacity=1)
    dropped = workshop(other_host, title="Cancelled my registration")
    cancelled = workshop(other_host, title="Called off")
    past = workshop(other_host, title="Long ago")
    unrelated = workshop(other_host, title="Not mine")
    services.registration_create(workshop=waiting_for, user=learner())
    for target in (seated, waiting_for, dropped, cancelled, past):
        services.registration_create(workshop=target, user=member)
    services.registration_cancel(
        actor=member, registration=Registration.objects.get(workshop=dropped, user=member)
    )
    services.workshop_cancel(actor=other_host, workshop=cancelled)
    move(past, starts_at=in_future(days=-5))
    url = _feed_url(client, member)
    client.logout()
    response = client.get(url)  # no session needed: the secret address is the key
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    events = _events(response.content)
    titles = {event["summary"]: event for event in events.values()}
    assert set(titles) == {"I facilitate this", "Registered", "Called off"}
    assert titles["Called off"]["status"] == "CANCELLED"
    assert titles["Registered"]["status"] == "CONFIRMED"
    assert f"workshop-{seated.pk}@workforce-hub" in events
    assert unrelated.title not in titles
    # The same workshop has the same UID in its own file and in the feed.
    own = _events(client.get(f"/workshops/{mine.pk}/workshop.ics").content)
    assert set(own) <= set(events)


def test_resetting_the_feed_retires_the_old_address(client) -> None:
    """After a reset the old address is a 404 and the new one works."""
    member = learner()
    old = _feed_url(client, member)
    response = client.post("/workshops/calendar/reset/")
    assert response.status_code == 302
    new = _feed_url(client, member)
    assert new != old
    client.logout()
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200
    assert CalendarFeed.objects.filter(user=member).count() == 1


def test_unknown_feed_tokens_and_signed_out_feed_pages(client) -> None:
    """A made-up token is a 404; the feed page needs sign-in; reset needs a POST."""
    assert client.get("/workshops/calendar/not-a-real-token.ics").status_code == 404
    page = client.get("/workshops/calendar/")
    assert page.status_code == 302
    assert "/accounts/login/" in page["Location"]
    client.force_login(learner())
    assert client.get("/workshops/calendar/reset/").status_code == 405
