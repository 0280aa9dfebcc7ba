"""London wall-clock times to UTC instants and back, across both clock changes (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest

from procure.clock import LONDON, london_to_utc, utc_to_london

SPRING_FORWARD = date(2027, 3, 28)     # 01:00 GMT becomes 02:00 BST
FALL_BACK = date(2026, 10, 25)         # 02:00 BST becomes 01:00 GMT
HOUR = timedelta(hours=1)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize("day, at, expected", [
    # Greenwich Mean Time: London is UTC.
    (date(2026, 11, 22), time(10, 0), utc(2026, 11, 22, 10, 0)),
    (date(2027, 1, 15), time(23, 30), utc(2027, 1, 15, 23, 30)),
    (date(2026, 12, 31), time(23, 59, 59), utc(2026, 12, 31, 23, 59, 59)),
    (date(2027, 1, 1), time(0, 0), utc(2027, 1, 1, 0, 0)),
    # British Summer Time: London is an hour ahead.
    (date(2026, 7, 1), time(12, 0), utc(2026, 7, 1, 11, 0)),
    (date(2026, 6, 30), time(0, 30), utc(2026, 6, 29, 23, 30)),         # the UTC day before
    (date(2027, 8, 31), time(17, 0), utc(2027, 8, 31, 16, 0)),
    (date(2026, 7, 1), time(9, 15, 30, 250), utc(2026, 7, 1, 8, 15, 30, 250)),
    # Spring forward: either side of the gap.
    (SPRING_FORWARD, time(0, 0), utc(2027, 3, 28, 0, 0)),
    (SPRING_FORWARD, time(0, 59, 59), utc(2027, 3, 28, 0, 59, 59)),
    (SPRING_FORWARD, time(2, 0), utc(2027, 3, 28, 1, 0)),
    (SPRING_FORWARD, time(12, 0), utc(2027, 3, 28, 11, 0)),
    # Fall back: a time that happens twice means the first, British Summer Time, one.
    (FALL_BACK, time(0, 59, 59), utc(2026, 10, 24, 23, 59, 59)),
    (FALL_BACK, time(1, 0), utc(2026, 10, 25, 0, 0)),
    (FALL_BACK, time(1, 30), utc(2026, 10, 25, 0, 30)),
    (FALL_BACK, time(1, 59, 59), utc(2026, 10, 25, 0, 59, 59)),
    (FALL_BACK, time(2, 0), utc(2026, 10, 25, 2, 0)),
    (FALL_BACK, time(12, 0), utc(2026, 10, 25, 12, 0)),
    # A zone on the time given is ignored: it is always London's wall clock.
    (date(2026, 7, 1), time(12, 0, tzinfo=UTC), utc(2026, 7, 1, 11, 0)),
    (date(2026, 7, 1), time(12, 0, tzinfo=timezone(timedelta(hours=5))), utc(2026, 7, 1, 11, 0)),
])
def test_london_to_utc(day, at, expected):
    instant = london_to_utc(day, at)
    assert instant == expected
    assert instant.utcoffset() == timedelta(0)


@pytest.mark.parametrize("day, at", [
    (SPRING_FORWARD, time(1, 0)),
    (SPRING_FORWARD, time(1, 30)),
    (SPRING_FORWARD, time(1, 59, 59)),
    (date(2026, 3, 29), time(1, 30)),                                   # the year before
])
def test_a_time_skipped_in_spring_does_not_exist(day, at):
    with pytest.raises(ValueError, match="does not exist in Europe/London"):
        london_to_utc(day, at)


def test_only_the_skipped_hour_is_refused():
    refused = []
    for minutes in range(0, 24 * 60, 15):
        at = time(minutes // 60, minutes % 60)
        try:
            london_to_utc(SPRING_FORWARD, at)
        except ValueError:
            refused.append(at)
    assert refused == [time(1, 0), time(1, 15), time(1, 30), time(1, 45)]


@pytest.mark.parametrize("instant, wall, offset_hours, fold", [
    (utc(2026, 11, 22, 10, 0), datetime(2026, 11, 22, 10, 0), 0, 0),
    (utc(2026, 7, 1, 11, 0), datetime(2026, 7, 1, 12, 0), 1, 0),
    (utc(2026, 6, 29, 23, 30), datetime(2026, 6, 30, 0, 30), 1, 0),      # the London day after
    (utc(2027, 3, 28, 0, 59, 59), datetime(2027, 3, 28, 0, 59, 59), 0, 0),
    (utc(2027, 3, 28, 1, 0), datetime(2027, 3, 28, 2, 0), 1, 0),         # the clocks go forward
    (utc(2026, 10, 25, 0, 30), datetime(2026, 10, 25, 1, 30), 1, 0),     # 01:30 the first time
    (utc(2026, 10, 25, 0, 59, 59), datetime(2026, 10, 25, 1, 59, 59), 1, 0),
    (utc(2026, 10, 25, 1, 0), datetime(2026, 10, 25, 1, 0), 0, 1),       # the clocks go back
    (utc(2026, 10, 25, 1, 30), datetime(2026, 10, 25, 1, 30), 0, 1),     # 01:30 the second time
    (utc(2026, 10, 25, 2, 0), datetime(2026, 10, 25, 2, 0), 0, 0),
    (datetime(2026, 7, 1, 16, 0, tzinfo=timezone(timedelta(hours=5))),
     datetime(2026, 7, 1, 12, 0), 1, 0),                                 # any aware instant
])
def test_utc_to_london(instant, wall, offset_hours, fold):
    local = utc_to_london(instant)
    assert local.tzinfo is LONDON
    assert local.replace(tzinfo=None) == wall
    assert local.utcoffset() == offset_hours * HOUR
    assert local.fold == fold
    # Within the repeated hour an aware comparison across zones is never equal (PEP 495), so compare in UTC.
    assert local.astimezone(UTC) == instant


@pytest.mark.parametrize("start", [utc(2027, 3, 27, 12, 0), utc(2026, 10, 24, 12, 0)],
                         ids=["spring-forward", "fall-back"])
def test_round_trip_across_a_clock_change(start):
    for step in range(0, 24 * 4):
        instant = start + step * timedelta(minutes=15)
        local = utc_to_london(instant)
        back = london_to_utc(local.date(), local.time())
        # The repeated hour's second pass reads back as its first, an hour earlier.
        assert back == (instant - HOUR if local.fold else instant)
