"""The pure bake-off and award rules: the adoption check-in schedule (6, 12 and 24 months after
the award, by the calendar), a contract's value and dates, opening a bake-off, and an adoption
check-in's answers. No database, no clock: ``now`` is passed in."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from procure.bakeoff import rules
from procure.bakeoff.rules import CHECK_IN_MONTHS, MAX_CONTRACT_PENCE, MAX_NOTES, MAX_USED_BY

SECOND = timedelta(seconds=1)
AWARDED = datetime(2025, 1, 15, 10, 0, tzinfo=UTC)
AT_6 = datetime(2025, 7, 15, 10, 0, tzinfo=UTC)
AT_12 = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)
AT_24 = datetime(2027, 1, 15, 10, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- when a check-in falls due ------------------------------------------------------------------

@pytest.mark.parametrize(("awarded", "months", "due"), [
    (AWARDED, 6, AT_6),
    (AWARDED, 12, AT_12),
    (AWARDED, 24, AT_24),
    # 31 August + 6 months is the end of February: the 29th in a leap year...
    (utc(2023, 8, 31, 12, 0), 6, utc(2024, 2, 29, 12, 0)),
    (utc(2027, 8, 31, 12, 0), 6, utc(2028, 2, 29, 12, 0)),
    # ...the 28th otherwise.
    (utc(2024, 8, 31, 12, 0), 6, utc(2025, 2, 28, 12, 0)),
    (utc(2025, 8, 31, 12, 0), 6, utc(2026, 2, 28, 12, 0)),
    # The 31st and 30th of a month land on the shorter month's last day, never spill over.
    (utc(2025, 3, 31, 9, 0), 6, utc(2025, 9, 30, 9, 0)),
    (utc(2025, 8, 30, 9, 0), 6, utc(2026, 2, 28, 9, 0)),
    (utc(2024, 12, 31, 23, 59, 59), 6, utc(2025, 6, 30, 23, 59, 59)),
    # A 29 February award: its anniversaries fall on 28 February.
    (utc(2024, 2, 29, 8, 0), 12, utc(2025, 2, 28, 8, 0)),
    (utc(2024, 2, 29, 8, 0), 24, utc(2026, 2, 28, 8, 0)),
    (utc(2023, 2, 28, 8, 0), 12, utc(2024, 2, 28, 8, 0)),    # not the 29th of the leap year
    # Whole years keep the day.
    (utc(2025, 8, 31, 12, 0), 12, utc(2026, 8, 31, 12, 0)),
    (utc(2025, 8, 31, 12, 0), 24, utc(2027, 8, 31, 12, 0)),
], ids=["6", "12", "24", "aug31-leap", "aug31-leap-2028", "aug31-non-leap", "aug31-non-leap-2026",
        "mar31", "aug30", "dec31-last-second", "feb29-12", "feb29-24", "feb28-12", "aug31-12",
        "aug31-24"])
def test_check_in_due_at(awarded, months, due):
    got = rules.check_in_due_at(awarded, months)
    assert got == due
    assert got.tzinfo is UTC      # still timezone-aware, still UTC


def test_the_schedule_is_6_12_and_24_months():
    assert CHECK_IN_MONTHS == (6, 12, 24)


# --- which check-ins are due ----------------------------------------------------------------------

@pytest.mark.parametrize(("now", "existing", "due"), [
    (AWARDED, [], []),                                # the moment of the award
    (AWARDED - timedelta(days=1), [], []),            # a clock before the award
    (AT_6 - SECOND, [], []),                          # one second before 6 months
    (AT_6, [], [6]),                                  # exactly at 6 months
    (AT_6 + SECOND, [], [6]),
    (AT_12 - SECOND, [], [6]),
    (AT_12, [], [6, 12]),
    (AT_24 - SECOND, [], [6, 12]),
    (AT_24, [], [6, 12, 24]),
    (utc(2027, 2, 15, 10, 0), [], [6, 12, 24]),       # the job was down for 25 months
    (utc(2035, 1, 1), [], [6, 12, 24]),               # ten years on
    # Already asked: never asked again.
    (AT_6, [6], []),
    (AT_12 - SECOND, [6], []),
    (AT_12, [6], [12]),
    (AT_24, [6, 12], [24]),
    (utc(2027, 2, 15, 10, 0), [6, 12, 24], []),
    (utc(2027, 2, 15, 10, 0), [12], [6, 24]),         # a gap is filled
    (AT_6 - SECOND, [6], []),                         # asked early (by hand): nothing more
    (AT_24, [3, 18, 36], [6, 12, 24]),                # months outside the schedule are ignored
], ids=["at-award", "before-award", "6-minus-1s", "6", "6-plus-1s", "12-minus-1s", "12",
        "24-minus-1s", "24", "down-25-months", "ten-years", "6-asked", "12-minus-1s-6-asked",
        "12-6-asked", "24-6-12-asked", "all-asked", "gap", "asked-early", "stray-months"])
def test_due_check_ins(now, existing, due):
    assert rules.due_check_ins(AWARDED, now, existing) == due


@pytest.mark.parametrize("now", [AWARDED, AT_24, utc(2099, 1, 1)], ids=["award", "24", "far"])
def test_no_award_no_check_ins(now):
    assert rules.due_check_ins(None, now, []) == []


@pytest.mark.parametrize("now", [AT_6, AT_12, AT_24, utc(2027, 2, 15, 10, 0)],
                         ids=["6", "12", "24", "25-months"])
def test_due_check_ins_is_idempotent(now):
    first = rules.due_check_ins(AWARDED, now, [])
    assert first                                              # something was due...
    assert rules.due_check_ins(AWARDED, now, first) == []     # ...and is not due again


def test_running_the_job_at_each_boundary_asks_each_check_in_once():
    asked: list[int] = []
    for now in (AT_6 - SECOND, AT_6, AT_6 + SECOND, AT_12 - SECOND, AT_12, AT_24, AT_24 + SECOND):
        asked += rules.due_check_ins(AWARDED, now, asked)
    assert asked == [6, 12, 24]


@pytest.mark.parametrize("existing", [(6,), {6}, frozenset({6}), iter([6]), (m for m in [6])],
                         ids=["tuple", "set", "frozenset", "iterator", "generator"])
def test_existing_may_be_any_iterable(existing):
    assert rules.due_check_ins(AWARDED, AT_12, existing) == [12]


@pytest.mark.parametrize(("awarded", "now", "due"), [
    # 31 August 2023 + 6 months = 29 February 2024 (a leap year).
    (utc(2023, 8, 31, 12, 0), utc(2024, 2, 28, 12, 0), []),
    (utc(2023, 8, 31, 12, 0), utc(2024, 2, 29, 12, 0) - SECOND, []),
    (utc(2023, 8, 31, 12, 0), utc(2024, 2, 29, 12, 0), [6]),
    # 31 August 2024 + 6 months = 28 February 2025.
    (utc(2024, 8, 31, 12, 0), utc(2025, 2, 28, 12, 0) - SECOND, []),
    (utc(2024, 8, 31, 12, 0), utc(2025, 2, 28, 12, 0), [6]),
    (utc(2024, 8, 31, 12, 0), utc(2025, 3, 1, 0, 0), [6]),
], ids=["leap-day-before", "leap-1s-before", "leap-29th", "non-leap-1s-before", "non-leap-28th",
        "non-leap-1-march"])
def test_due_check_ins_at_the_end_of_february(awarded, now, due):
    assert rules.due_check_ins(awarded, now, []) == due


def test_now_in_another_zone_is_compared_as_an_instant():
    an_hour_ahead = timezone(timedelta(hours=1))
    at_6_elsewhere = AT_6.astimezone(an_hour_ahead)       # 11:00+01:00, the same instant
    assert rules.due_check_ins(AWARDED, at_6_elsewhere, []) == [6]
    assert rules.due_check_ins(AWARDED, at_6_elsewhere - SECOND, []) == []


instants = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1),
                        timezones=st.just(UTC))
asked_before = st.lists(st.sampled_from(CHECK_IN_MONTHS), unique=True)


@given(instants, instants, asked_before)
def test_due_check_ins_are_new_ordered_and_not_due_again(awarded, now, existing):
    due = rules.due_check_ins(awarded, now, existing)
    assert due == sorted(due)
    assert set(due) <= set(CHECK_IN_MONTHS) - set(existing)
    assert rules.due_check_ins(awarded, now, existing + due) == []
    for m in due:
        assert rules.check_in_due_at(awarded, m) <= now


@given(instants, instants, instants)
def test_a_later_now_never_has_fewer_check_ins_due(awarded, a, b):
    earlier, later = sorted((a, b))
    assert set(rules.due_check_ins(awarded, earlier, [])) <= set(
        rules.due_check_ins(awarded, later, []))


@given(instants)
def test_none_due_before_6_months_and_all_due_at_24(awarded):
    assert rules.due_check_ins(awarded, rules.check_in_due_at(awarded, 6) - SECOND, []) == []
    assert rules.due_check_ins(awarded, rules.check_in_due_at(awarded, 24), []) == [6, 12, 24]


# --- a contract -----------------------------------------------------------------------------------

START, END = date(2026, 1, 1), date(2026, 12, 31)


@pytest.mark.parametrize(("value", "starts", "ends", "max_pence", "errors"), [
    (5_000_000, START, END, 10_000_000, {}),
    (5_000_000, START, END, None, {}),                       # no maximum set by the phase
    (1, START, END, None, {}),                               # 1p: the least
    (MAX_CONTRACT_PENCE, START, END, None, {}),              # £1bn: the most
    (10_000_000, START, END, 10_000_000, {}),                # exactly the phase's maximum
    (5_000_000, START, START, None, {}),                     # starting and ending the same day
    (None, START, END, None, {"value": "contract_value_missing"}),
    (None, START, END, 10_000_000, {"value": "contract_value_missing"}),
    (0, START, END, None, {"value": "contract_value_invalid"}),
    (-100, START, END, None, {"value": "contract_value_invalid"}),
    (MAX_CONTRACT_PENCE + 1, START, END, None, {"value": "contract_value_invalid"}),
    (MAX_CONTRACT_PENCE + 1, START, END, MAX_CONTRACT_PENCE * 2,
     {"value": "contract_value_invalid"}),                  # a phase cannot lift the £1bn cap
    (0, START, END, 10_000_000, {"value": "contract_value_invalid"}),
    (10_000_001, START, END, 10_000_000, {"value": "contract_value_above_maximum"}),
    (5_000_000, None, END, None, {"starts_on": "contract_start_missing"}),
    (5_000_000, START, None, None, {"ends_on": "contract_end_missing"}),
    (5_000_000, None, None, None,
     {"starts_on": "contract_start_missing", "ends_on": "contract_end_missing"}),
    (5_000_000, END, START, None, {"ends_on": "contract_end_before_start"}),
    (5_000_000, date(2026, 1, 2), date(2026, 1, 1), None, {"ends_on": "contract_end_before_start"}),
    (None, None, None, None, {"value": "contract_value_missing",
                              "starts_on": "contract_start_missing",
                              "ends_on": "contract_end_missing"}),
    (10_000_001, END, START, 10_000_000, {"value": "contract_value_above_maximum",
                                          "ends_on": "contract_end_before_start"}),
], ids=["ok", "no-maximum", "one-penny", "the-cap", "at-maximum", "same-day", "value-missing",
        "value-missing-with-maximum", "value-zero", "value-negative", "over-the-cap",
        "over-the-cap-despite-maximum", "zero-with-maximum", "above-maximum", "start-missing",
        "end-missing", "both-dates-missing", "end-before-start", "end-a-day-early",
        "everything-missing", "value-and-dates-wrong"])
def test_contract_problems(value, starts, ends, max_pence, errors):
    assert rules.contract_problems(value, starts, ends, max_pence) == errors


@pytest.mark.parametrize(("value", "starts", "ends", "max_pence", "errors"), [
    (5_000_000, START, END, None, {}),
    (None, None, None, None, {"award_value": "contract_value_missing",
                              "award_starts_on": "contract_start_missing",
                              "award_ends_on": "contract_end_missing"}),
    (0, END, START, None, {"award_value": "contract_value_invalid",
                           "award_ends_on": "contract_end_before_start"}),
    (11, START, END, 10, {"award_value": "contract_value_above_maximum"}),
], ids=["ok", "all-missing", "invalid-and-backwards", "above-maximum"])
def test_contract_problems_prefix_the_keys(value, starts, ends, max_pence, errors):
    assert rules.contract_problems(value, starts, ends, max_pence, prefix="award_") == errors


# --- opening a bake-off ------------------------------------------------------------------------------

@pytest.mark.parametrize(("closes_at", "problem"), [
    (None, "close_missing"),
    (NOW - timedelta(days=30), "close_in_past"),
    (NOW - SECOND, "close_in_past"),
    (NOW, "close_in_past"),                        # closing this very instant is not the future
    (NOW + SECOND, None),
    (NOW + timedelta(days=60), None),
    (NOW.astimezone(timezone(timedelta(hours=-5))), "close_in_past"),   # the same instant
    ((NOW + SECOND).astimezone(timezone(timedelta(hours=9))), None),
], ids=["missing", "a-month-ago", "1s-ago", "now", "in-1s", "in-60-days", "now-elsewhere",
        "in-1s-elsewhere"])
def test_bake_off_close_problem(closes_at, problem):
    assert rules.bake_off_close_problem(closes_at, NOW) == problem


# --- an adoption check-in ------------------------------------------------------------------------

@pytest.mark.parametrize(("in_use", "used_by", "notes", "values", "errors"), [
    (True, "Leeds City Council", "", {}, {}),
    (True, "Leeds", "Rolled out to two teams.", {7: "120", 8: "1,250.5"}, {}),
    (False, "", "", {}, {}),                                  # not in use: no one to name
    (False, "   ", "Paused after the pilot.", {}, {}),
    (False, "Leeds (until March)", "", {}, {}),               # naming someone anyway is fine
    (None, "", "", {}, {"in_use": "in_use_missing"}),
    (None, "Leeds", "", {}, {"in_use": "in_use_missing"}),
    (True, "", "", {}, {"used_by": "used_by_missing"}),
    (True, " \n\t ", "", {}, {"used_by": "used_by_missing"}),
    (True, "u" * MAX_USED_BY, "", {}, {}),                    # exactly the limit
    (True, "u" * (MAX_USED_BY + 1), "", {}, {"used_by": "text_too_long"}),
    (False, "u" * (MAX_USED_BY + 1), "", {}, {"used_by": "text_too_long"}),
    (True, " " * (MAX_USED_BY + 1), "", {}, {"used_by": "text_too_long"}),  # long beats blank
    (False, "", "n" * MAX_NOTES, {}, {}),
    (False, "", "n" * (MAX_NOTES + 1), {}, {"notes": "text_too_long"}),
    # Measure values are optional: blank ones are skipped...
    (False, "", "", {7: "", 8: "   ", 9: None}, {}),
    # ...and bad ones are keyed by the measure.
    (False, "", "", {7: "abc"}, {"value_7": "value_invalid"}),
    (False, "", "", {7: "NaN"}, {"value_7": "value_invalid"}),
    (False, "", "", {7: "1" + "0" * 20}, {"value_7": "value_too_large"}),
    (False, "", "", {7: "1.23456"}, {"value_7": "value_too_precise"}),
    (False, "", "", {7: "12", 8: "abc", 9: "", 10: "1.23456"},
     {"value_8": "value_invalid", "value_10": "value_too_precise"}),
    (None, "u" * (MAX_USED_BY + 1), "n" * (MAX_NOTES + 1), {3: "x"},
     {"in_use": "in_use_missing", "used_by": "text_too_long", "notes": "text_too_long",
      "value_3": "value_invalid"}),
], ids=["in-use", "in-use-with-values", "not-in-use", "not-in-use-blank", "not-in-use-named",
        "in-use-missing", "in-use-missing-named", "used-by-missing", "used-by-blank",
        "used-by-at-limit", "used-by-too-long", "used-by-too-long-not-in-use",
        "used-by-long-and-blank", "notes-at-limit", "notes-too-long", "blank-values-skipped",
        "value-letters", "value-nan", "value-huge", "value-precise", "mixed-values",
        "everything-wrong"])
def test_check_in_problems(in_use, used_by, notes, values, errors):
    assert rules.check_in_problems(in_use, used_by, notes, values) == errors
