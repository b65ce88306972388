"""The one clock: UTC instants for storage, and calendar days in a place's own time zone.

Everything that asks "what time is it" or "what day is it" comes here, so a test can pin the
clock at an edge (23:30 in Guam, 00:30 in Germany) and every rule sees the same moment.
Stored timestamps are UTC; a day is always somebody's local day, so `today_in` needs the
IANA zone of the place it is asked for.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

_source: Callable[[], datetime] = functools.partial(datetime.now, UTC)


def utcnow() -> datetime:
    """The current time as an aware UTC datetime."""
    return _source()


def set_source(source: Callable[[], datetime] | None) -> None:
    """Make utcnow() read `source` (an aware datetime factory); None restores the real clock."""
    global _source
    _source = source or functools.partial(datetime.now, UTC)


@functools.cache
def zone(name: str) -> ZoneInfo:
    """The ZoneInfo for an IANA name.

    :raises ValueError: not a time zone name this system knows.
    """
    if name not in known_zones():
        raise ValueError(f"{name!r} is not an IANA time zone name, such as America/New_York.")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:  # pragma: no cover - listed but absent
        raise ValueError(f"{name!r} is not an IANA time zone name.") from exc


@functools.cache
def known_zones() -> frozenset[str]:
    """Every IANA zone name available here (system tzdata or the tzdata package)."""
    return frozenset(available_timezones())


def today_in(zone_name: str) -> date:
    """The calendar date it is now in the named zone."""
    return utcnow().astimezone(zone(zone_name)).date()


def local_time(instant: datetime, zone_name: str) -> datetime:
    """A stored UTC instant as wall-clock time in the named zone."""
    return instant.astimezone(zone(zone_name))


def start_of_day(day: date, zone_name: str) -> datetime:
    """The UTC instant at which `day` begins in the named zone (for timestamp ranges)."""
    return datetime.combine(day, time.min, tzinfo=zone(zone_name)).astimezone(UTC)
