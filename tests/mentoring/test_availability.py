"""Weekly availability: time-zone conversion to UTC quarter-hour masks, overlap hours and
meeting times that fall inside both people's windows."""

import datetime as dt
import zoneinfo

from community.mentoring.availability import (
    SLOTS_PER_DAY,
    Window,
    mask_slots,
    overlap_hours,
    upcoming_meeting_starts,
    windows_to_mask,
)

WINTER = dt.date(2025, 1, 15)  # a Wednesday; no daylight saving time in the north
SUMMER = dt.date(2025, 7, 16)
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def t(hhmm: str) -> dt.time:
    return dt.time.fromisoformat(hhmm)


def w(weekday: int, start: str, end: str) -> Window:
    return Window(weekday, t(start), t(end))


def slot(weekday: int, hhmm: str) -> int:
    """The UTC slot index of a weekday and UTC time."""
    time = t(hhmm)
    return weekday * SLOTS_PER_DAY + (time.hour * 60 + time.minute) // 15


def mask(*windows: Window, zone: str = "UTC", today: dt.date = WINTER) -> int:
    return windows_to_mask(windows, zone, today=today)


# --- conversion ------------------------------------------------------------------------------
def test_utc_window_covers_exactly_its_quarter_hours() -> None:
    """Monday 09:00-10:00 UTC is the four quarter hours from Monday 09:00, nothing else."""
    assert mask_slots(mask(w(MON, "09:00", "10:00"))) == [(slot(MON, "09:00"), 4)]
    assert overlap_hours(mask(w(MON, "09:00", "10:00")), mask(w(MON, "00:00", "00:00"))) == 1.0


def test_half_hour_zone_is_shifted_by_five_and_a_half_hours() -> None:
    """Monday 09:00-10:30 in Kolkata (UTC+5:30) is Monday 03:30-05:00 UTC."""
    kolkata = mask(w(MON, "09:00", "10:30"), zone="Asia/Kolkata")
    assert mask_slots(kolkata) == [(slot(MON, "03:30"), 6)]


def test_half_hour_zone_overlaps_by_half_hours() -> None:
    """A Kolkata morning and a UTC early-morning window share exactly the half hour they meet."""
    kolkata = mask(w(MON, "09:00", "10:30"), zone="Asia/Kolkata")  # 03:30-05:00 UTC
    assert overlap_hours(kolkata, mask(w(MON, "03:00", "04:00"))) == 0.5
    assert overlap_hours(kolkata, mask(w(MON, "04:00", "06:00"))) == 1.0
    assert overlap_hours(kolkata, mask(w(MON, "05:00", "06:00"))) == 0.0


def test_early_morning_in_kolkata_falls_on_the_previous_utc_day() -> None:
    """Tuesday 02:00-04:00 in Kolkata is Monday 20:30-22:30 UTC."""
    kolkata = mask(w(TUE, "02:00", "04:00"), zone="Asia/Kolkata")
    assert mask_slots(kolkata) == [(slot(MON, "20:30"), 8)]


def test_window_crossing_midnight_utc_spans_two_utc_days() -> None:
    """Friday 18:00-21:00 in Bogota (UTC-5) runs from Friday 23:00 to Saturday 02:00 UTC."""
    bogota = mask(w(FRI, "18:00", "21:00"), zone="America/Bogota")
    assert mask_slots(bogota) == [(slot(FRI, "23:00"), 12)]
    assert overlap_hours(bogota, mask(w(SAT, "00:00", "01:00"))) == 1.0
    assert overlap_hours(bogota, mask(w(FRI, "22:00", "23:30"))) == 0.5


def test_monday_morning_in_tokyo_wraps_to_the_end_of_the_utc_week() -> None:
    """Monday 07:00-10:00 in Tokyo is Sunday 22:00-24:00 plus Monday 00:00-01:00 UTC."""
    tokyo = mask(w(MON, "07:00", "10:00"), zone="Asia/Tokyo")
    assert mask_slots(tokyo) == [(0, 4), (slot(SUN, "22:00"), 8)]
    assert overlap_hours(tokyo, tokyo) == 3.0


def test_end_of_midnight_means_the_end_of_the_day() -> None:
    """A window ending at 00:00 runs to midnight at the end of its day."""
    late = mask(w(SUN, "22:00", "00:00"))
    assert mask_slots(late) == [(slot(SUN, "22:00"), 8)]
    assert overlap_hours(late, late) == 2.0


def test_conversion_follows_daylight_saving_time_of_the_reference_week() -> None:
    """Berlin 18:00 is 17:00 UTC in winter and 16:00 UTC in summer."""
    winter = mask(w(MON, "18:00", "19:00"), zone="Europe/Berlin", today=WINTER)
    summer = mask(w(MON, "18:00", "19:00"), zone="Europe/Berlin", today=SUMMER)
    assert mask_slots(winter) == [(slot(MON, "17:00"), 4)]
    assert mask_slots(summer) == [(slot(MON, "16:00"), 4)]


def test_overlap_adds_up_over_the_week() -> None:
    """Overlap hours sum every shared quarter hour across all days of the week."""
    mentee = mask(w(TUE, "18:00", "20:00"), w(THU, "18:00", "20:00"), w(SAT, "09:00", "12:00"))
    mentor = mask(w(TUE, "19:00", "21:00"), w(THU, "17:00", "18:00"), w(SAT, "10:30", "13:00"))
    assert overlap_hours(mentee, mentor) == 1.0 + 0.0 + 1.5
    assert overlap_hours(mentee, 0) == 0.0


# --- meeting times ----------------------------------------------------------------------------
def _inside(start: dt.datetime, minutes: int, windows: list[Window], zone: str) -> bool:
    """Whether ``minutes`` from ``start`` fit in one of the local weekly windows."""
    tz = zoneinfo.ZoneInfo(zone)
    local = start.astimezone(tz)
    end = local + dt.timedelta(minutes=minutes)
    for window in windows:
        w_start = dt.datetime.combine(local.date(), window.start, tz)
        w_end = dt.datetime.combine(local.date(), window.end, tz)
        if window.end == dt.time(0):
            w_end += dt.timedelta(days=1)
        if local.weekday() == window.weekday and w_start <= local and end <= w_end:
            return True
    return False


def test_meeting_starts_land_inside_both_windows() -> None:
    """Proposed meetings start on :00 or :30, one per day, after now, inside both weeks."""
    kolkata = [w(TUE, "19:00", "22:00"), w(THU, "19:00", "22:00"), w(SAT, "10:00", "12:00")]
    lagos = [w(TUE, "14:00", "17:00"), w(THU, "14:00", "17:00"), w(SUN, "10:00", "12:00")]
    shared = mask(*kolkata, zone="Asia/Kolkata") & mask(*lagos, zone="Africa/Lagos")
    now = dt.datetime(2025, 1, 13, 10, 0, tzinfo=dt.UTC)  # a Monday
    starts = upcoming_meeting_starts(shared, now=now, minutes=60, count=5)
    # Tuesday and Thursday 13:30 UTC (19:00 Kolkata, 14:30 Lagos), for two weeks.
    assert starts == [dt.datetime(2025, 1, day, 13, 30, tzinfo=dt.UTC) for day in (14, 16, 21, 23)]
    for start in starts:
        assert start > now
        assert start.minute in (0, 30)
        assert _inside(start, 60, kolkata, "Asia/Kolkata")
        assert _inside(start, 60, lagos, "Africa/Lagos")


def test_meeting_starts_across_midnight_utc() -> None:
    """A shared window across midnight UTC yields a start that fits before the window ends."""
    bogota = [w(FRI, "18:00", "21:00")]  # Friday 23:00 - Saturday 02:00 UTC
    tokyo = [w(SAT, "09:00", "12:00")]  # Saturday 00:00 - 03:00 UTC
    shared = mask(*bogota, zone="America/Bogota") & mask(*tokyo, zone="Asia/Tokyo")
    now = dt.datetime(2025, 1, 13, 10, 0, tzinfo=dt.UTC)
    starts = upcoming_meeting_starts(shared, now=now, minutes=90, count=1)
    assert starts == [dt.datetime(2025, 1, 18, 0, 0, tzinfo=dt.UTC)]
    assert _inside(starts[0], 90, bogota, "America/Bogota")
    assert _inside(starts[0], 90, tokyo, "Asia/Tokyo")
    assert upcoming_meeting_starts(shared, now=now, minutes=150) == []


def test_meeting_starts_respect_count_and_skip_the_current_slot() -> None:
    """At most ``count`` starts are proposed, and never one that has already begun."""
    daily = mask(*(w(day, "09:00", "12:00") for day in range(7)))
    now = dt.datetime(2025, 1, 13, 9, 0, tzinfo=dt.UTC)
    starts = upcoming_meeting_starts(daily, now=now, minutes=60, count=3)
    assert starts == [
        dt.datetime(2025, 1, 13, 9, 30, tzinfo=dt.UTC),
        dt.datetime(2025, 1, 14, 9, 0, tzinfo=dt.UTC),
        dt.datetime(2025, 1, 15, 9, 0, tzinfo=dt.UTC),
    ]
    assert upcoming_meeting_starts(0, now=now) == []
