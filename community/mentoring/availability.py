"""Weekly availability as bit masks over the UTC week, so overlaps are one AND.

A week has 672 quarter-hour slots; slot 0 is Monday 00:00-00:15 UTC. A member's
windows are entered in their own time zone and converted with that zone's offset in
a reference week (the current one, so daylight saving time is what it is now).
"""

import datetime as dt
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass

SLOT_MINUTES = 15
SLOTS_PER_DAY = 24 * 60 // SLOT_MINUTES
SLOTS_PER_WEEK = 7 * SLOTS_PER_DAY
MASK_BYTES = SLOTS_PER_WEEK // 8


@dataclass(frozen=True)
class Window:
    weekday: int  # 0 = Monday
    start: dt.time
    end: dt.time  # 00:00 = midnight at the end of the day


def _minutes(t: dt.time) -> int:
    return t.hour * 60 + t.minute


def window_minutes(window: Window) -> int:
    end = _minutes(window.end) or 24 * 60
    return max(0, end - _minutes(window.start))


def reference_monday(today: dt.date | None = None) -> dt.date:
    today = today or dt.date.today()
    return today - dt.timedelta(days=today.weekday())


def windows_to_mask(
    windows: Iterable[Window], time_zone: str, *, today: dt.date | None = None
) -> int:
    """The UTC slot mask of weekly windows given in ``time_zone``."""
    tz = zoneinfo.ZoneInfo(time_zone)
    monday = reference_monday(today)
    utc_monday = dt.datetime.combine(monday, dt.time(), tzinfo=dt.UTC)
    mask = 0
    for window in windows:
        length = window_minutes(window)
        if length <= 0:
            continue
        local = dt.datetime.combine(monday + dt.timedelta(days=window.weekday), window.start, tz)
        offset_minutes = int((local.astimezone(dt.UTC) - utc_monday).total_seconds() // 60)
        first = offset_minutes // SLOT_MINUTES
        for i in range(length // SLOT_MINUTES):
            mask |= 1 << ((first + i) % SLOTS_PER_WEEK)
    return mask


def mask_to_bytes(mask: int) -> bytes:
    return mask.to_bytes(MASK_BYTES, "little")


def mask_from_bytes(data: bytes | memoryview | None) -> int:
    return int.from_bytes(bytes(data or b""), "little")


def overlap_hours(a: int, b: int) -> float:
    """Hours per week when both are free."""
    return (a & b).bit_count() * SLOT_MINUTES / 60


def mask_slots(mask: int) -> list[tuple[int, int]]:
    """Runs of set slots as (first_slot, length) pairs, in week order."""
    runs: list[tuple[int, int]] = []
    slot = 0
    while slot < SLOTS_PER_WEEK:
        if mask >> slot & 1:
            start = slot
            while slot < SLOTS_PER_WEEK and mask >> slot & 1:
                slot += 1
            runs.append((start, slot - start))
        else:
            slot += 1
    return runs


def upcoming_meeting_starts(
    mask: int, *, now: dt.datetime, minutes: int = 60, count: int = 5, days: int = 14
) -> list[dt.datetime]:
    """The next ``count`` UTC start times (on the hour or half hour, one per day at most)
    where ``minutes`` of shared time fit in ``mask``, within ``days``."""
    need = max(1, minutes // SLOT_MINUTES)
    starts: list[dt.datetime] = []
    used_days: set[dt.date] = set()
    utc_now = now.astimezone(dt.UTC)
    monday = dt.datetime.combine(reference_monday(utc_now.date()), dt.time(), tzinfo=dt.UTC)
    first = int((utc_now - monday).total_seconds() // 60 // SLOT_MINUTES) + 1
    for absolute in range(first, first + days * SLOTS_PER_DAY):
        if absolute % 2:  # start on :00 or :30
            continue
        if all(mask >> ((absolute + k) % SLOTS_PER_WEEK) & 1 for k in range(need)):
            start = monday + dt.timedelta(minutes=absolute * SLOT_MINUTES)
            if start.date() in used_days:
                continue
            used_days.add(start.date())
            starts.append(start)
            if len(starts) >= count:
                break
    return starts
