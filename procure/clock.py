"""Wall-clock times in Europe/London, the zone every date is entered and shown in."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def london_to_utc(day: date, at: time) -> datetime:
    """The UTC instant of a London wall-clock time.

    A time skipped when the clocks go forward does not exist and raises ValueError; a time
    that happens twice when they go back means the first (British Summer Time) one.
    """
    local = datetime.combine(day, at.replace(tzinfo=None)).replace(tzinfo=LONDON, fold=0)
    instant = local.astimezone(UTC)
    if instant.astimezone(LONDON).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise ValueError("time does not exist in Europe/London")
    return instant


def utc_to_london(instant: datetime) -> datetime:
    """The London wall-clock time of a UTC instant."""
    return instant.astimezone(LONDON)
