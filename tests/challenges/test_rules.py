"""The pure challenge rules: criteria and measure weights, tags, money and deadlines (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from procure.challenges import rules

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
DAY = timedelta(days=1)
FIVE_DAYS = timedelta(days=5)


def test_limits():
    assert rules.WEIGHT_TOTAL == 100
    assert rules.MAX_TAGS == 10
    assert rules.MAX_TAG_LENGTH == 50
    assert rules.MAX_PENCE == 100_000_000_000  # £1bn
    assert rules.AMENDMENT_NOTICE == FIVE_DAYS


# --- criteria weights --------------------------------------------------------------------------


@pytest.mark.parametrize("entries, expected", [
    # Valid sets: scored weights sum to 100, gates carry none.
    ([("scored", 100)], None),
    ([("scored", 60), ("scored", 40)], None),
    ([("scored", 1)] * 100, None),
    ([("scored", 99), ("scored", 1)], None),
    ([("scored", 100), ("gate", None)], None),
    ([("gate", None), ("scored", 50), ("gate", None), ("scored", 50)], None),
    ([("scored", 100), ("gate", 0)], None),                       # a gate's 0 counts as none
    ([("scored", 70), ("gate", None), ("scored", 30), ("gate", 0)], None),
    # criteria_missing: nothing chosen.
    ([], "criteria_missing"),
    # scored_criteria_missing: only gates.
    ([("gate", None)], "scored_criteria_missing"),
    ([("gate", None), ("gate", 0)], "scored_criteria_missing"),
    ([("gate", 100)], "scored_criteria_missing"),                 # no scored criterion at all
    # gate_weighted: a gate with a weight.
    ([("scored", 100), ("gate", 5)], "gate_weighted"),
    ([("scored", 95), ("gate", 5)], "gate_weighted"),              # even if the sum would be right
    ([("scored", 100), ("gate", -1)], "gate_weighted"),
    ([("scored", None), ("gate", 10)], "gate_weighted"),           # reported before a missing weight
    # weight_missing: a scored criterion without a whole weight of at least 1.
    ([("scored", None), ("scored", 100)], "weight_missing"),
    ([("scored", None)], "weight_missing"),
    ([("scored", 0), ("scored", 100)], "weight_missing"),
    ([("scored", -10), ("scored", 110)], "weight_missing"),
    ([("scored", 100), ("gate", None), ("scored", None)], "weight_missing"),
    # weights_sum: scored weights that do not make 100.
    ([("scored", 99)], "weights_sum"),
    ([("scored", 101)], "weights_sum"),
    ([("scored", 50), ("scored", 49)], "weights_sum"),
    ([("scored", 60), ("scored", 60)], "weights_sum"),
    ([("scored", 1)] * 99, "weights_sum"),
    ([("scored", 90), ("gate", None)], "weights_sum"),
])
def test_weights_problem(entries, expected):
    assert rules.weights_problem(entries) == expected
    assert rules.weights_problem(iter(entries)) == expected       # any iterable, read once


@pytest.mark.parametrize("weights, expected", [
    ([100], None),
    ([50, 50], None),
    ([1] * 100, None),
    ([97, 2, 1], None),
    ([], "measures_missing"),
    ([None], "measure_weight_missing"),
    ([None, 100], "measure_weight_missing"),
    ([0, 100], "measure_weight_missing"),
    ([-5, 105], "measure_weight_missing"),
    ([99], "measure_weights_sum"),
    ([101], "measure_weights_sum"),
    ([60, 50], "measure_weights_sum"),
    ([1] * 99, "measure_weights_sum"),
])
def test_measure_weights_problem(weights, expected):
    assert rules.measure_weights_problem(weights) == expected
    assert rules.measure_weights_problem(iter(weights)) == expected


# --- tags ------------------------------------------------------------------------------------------

TEN = ", ".join(f"tag {n}" for n in range(10))
ELEVEN = ", ".join(f"tag {n}" for n in range(11))


@pytest.mark.parametrize("text, expected", [
    ("", []),
    ("   ", []),
    (",,,", []),
    (" , ,\t, ", []),
    ("housing", ["housing"]),
    ("Net Zero", ["net zero"]),                                    # case folded
    ("  net   zero  ", ["net zero"]),                              # spacing tidied
    ("net\tzero\n", ["net zero"]),
    ("social care,housing", ["social care", "housing"]),
    ("Social Care , Housing ,  Transport", ["social care", "housing", "transport"]),
    ("housing, Housing, HOUSING,  housing ", ["housing"]),        # repeats dropped
    ("transport, housing, transport", ["transport", "housing"]),  # first place kept
    ("net zero, net  zero, NET ZERO", ["net zero"]),
    ("a, ,b,,", ["a", "b"]),                                       # empty pieces dropped
    ("Straße, STRASSE", ["strasse"]),                              # casefold, not just lower
    ("Ynni, ynni adnewyddadwy, Tai", ["ynni", "ynni adnewyddadwy", "tai"]),
    ("x" * 50, ["x" * 50]),                                        # exactly the longest
    ("a" * 25 + "   " + "b" * 24, ["a" * 25 + " " + "b" * 24]),    # 50 once spacing is tidied
    (TEN, [f"tag {n}" for n in range(10)]),                         # exactly the most
    (TEN + ", TAG 0, tag  9", [f"tag {n}" for n in range(10)]),     # repeats do not count
    (TEN + ", , ,", [f"tag {n}" for n in range(10)]),               # nor do empty pieces
])
def test_normalise_tags(text, expected):
    assert rules.normalise_tags(text) == expected


@pytest.mark.parametrize("text, code", [
    ("x" * 51, "tag_too_long"),
    ("housing, " + "x" * 51, "tag_too_long"),
    ("a" * 25 + " " + "b" * 25, "tag_too_long"),                   # 51 with its one space
    (ELEVEN, "too_many_tags"),
    (ELEVEN + ", tag 0", "too_many_tags"),
    (", ".join(f"t{n}" for n in range(25)), "too_many_tags"),
    (ELEVEN + ", " + "x" * 51, "tag_too_long"),                      # the length is found first
])
def test_normalise_tags_refuses(text, code):
    with pytest.raises(ValueError) as raised:
        rules.normalise_tags(text)
    assert str(raised.value) == code


# --- money -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, pence", [
    ("0", 0),
    ("1", 100),
    ("50000", 5_000_000),
    ("£50,000", 5_000_000),
    ("£ 50,000", 5_000_000),
    ("  £50,000  ", 5_000_000),
    ("\t£12\n", 1_200),
    ("50,000.00", 5_000_000),
    ("1250.5", 125_050),                                           # one decimal place is tenths
    ("1250.50", 125_050),
    ("£5,000.05", 500_005),
    ("0.01", 1),
    ("0.99", 99),
    ("00012", 1_200),
    ("1,000,000", 100_000_000),
    ("1000000000", 100_000_000_000),                               # exactly £1bn
    ("£1,000,000,000.00", 100_000_000_000),
])
def test_parse_money(text, pence):
    assert rules.parse_money(text) == pence


@pytest.mark.parametrize("text, code", [
    ("", "money_missing"),
    ("   ", "money_missing"),
    ("£", "money_missing"),
    (" £ ", "money_missing"),
    (",", "money_invalid"),
    ("1,0,0", "money_invalid"),                                    # commas group thousands only
    ("12,34", "money_invalid"),
    ("１２３", "money_invalid"),                                     # ASCII digits only
    ("fifty", "money_invalid"),
    ("-5", "money_invalid"),                                       # negative
    ("£-5", "money_invalid"),
    ("-£5", "money_invalid"),
    ("+5", "money_invalid"),
    ("12.345", "money_invalid"),                                   # too many decimals
    ("0.001", "money_invalid"),
    (".5", "money_invalid"),
    ("5.", "money_invalid"),
    ("1.2.3", "money_invalid"),
    ("1e3", "money_invalid"),
    ("NaN", "money_invalid"),
    ("Infinity", "money_invalid"),
    ("5 000", "money_invalid"),
    ("£5k", "money_invalid"),
    ("$50", "money_invalid"),
    ("50£", "money_invalid"),
    ("££50", "money_invalid"),
    ("12\n34", "money_invalid"),
    ("1000000000.01", "money_too_large"),                          # a penny over £1bn
    ("1000000001", "money_too_large"),
    ("£9,999,999,999", "money_too_large"),
])
def test_parse_money_refuses(text, code):
    with pytest.raises(ValueError) as raised:
        rules.parse_money(text)
    assert str(raised.value) == code


@pytest.mark.parametrize("pence, text", [
    (0, "0"),
    (1, "0.01"),
    (10, "0.10"),
    (99, "0.99"),
    (100, "1"),
    (105, "1.05"),
    (125_050, "1250.50"),
    (5_000_000, "50000"),
    (5_000_001, "50000.01"),
    (100_000_000_000, "1000000000"),
])
def test_format_money(pence, text):
    assert rules.format_money(pence) == text


@pytest.mark.parametrize("pence", [0, 1, 9, 10, 99, 100, 101, 12_345, 125_050, 5_000_000, 99_999_999_999,
                                   100_000_000_000])
def test_money_round_trips_from_pence(pence):
    assert rules.parse_money(rules.format_money(pence)) == pence


@pytest.mark.parametrize("text", ["£50,000", "1250.5", "0.01", "£1,000,000,000.00", " 7 "])
def test_money_round_trips_from_text(text):
    pence = rules.parse_money(text)
    assert rules.parse_money(rules.format_money(pence)) == pence


# --- amendments and the deadline -----------------------------------------------------------------


@pytest.mark.parametrize("closes_in, new_closes_in, proposals_exist, expected", [
    # Ten days to go: the deadline may stay, move later, or move earlier if 5 days are left.
    (10 * DAY, 10 * DAY, False, None),
    (10 * DAY, 10 * DAY, True, None),
    (10 * DAY, 12 * DAY, True, None),
    (10 * DAY, 6 * DAY, False, None),                                  # brought forward, no proposals
    (10 * DAY, FIVE_DAYS, False, None),                                 # ... to exactly 5 days
    (10 * DAY, FIVE_DAYS - SECOND, False, "deadline_too_soon"),         # ... to a second short
    (10 * DAY, 4 * DAY, False, "deadline_too_soon"),
    (10 * DAY, -DAY, False, "deadline_too_soon"),                       # ... into the past
    (10 * DAY, 10 * DAY - SECOND, True, "deadline_shortened"),          # proposals exist: never earlier
    (10 * DAY, 6 * DAY, True, "deadline_shortened"),
    (10 * DAY, 4 * DAY, True, "deadline_shortened"),
    # Exactly 5 days to go is not "within 5 days": it need not move.
    (FIVE_DAYS, FIVE_DAYS, False, None),
    (FIVE_DAYS, FIVE_DAYS, True, None),
    (FIVE_DAYS, FIVE_DAYS + DAY, True, None),
    (FIVE_DAYS, FIVE_DAYS - SECOND, False, "deadline_too_soon"),
    (FIVE_DAYS, FIVE_DAYS - SECOND, True, "deadline_shortened"),
    # Within 5 days: the amendment must extend the deadline to leave at least 5 days.
    (FIVE_DAYS - SECOND, FIVE_DAYS - SECOND, False, "deadline_extension_required"),
    (FIVE_DAYS - SECOND, FIVE_DAYS, False, None),
    (3 * DAY, 3 * DAY, False, "deadline_extension_required"),         # unchanged
    (3 * DAY, 3 * DAY, True, "deadline_extension_required"),
    (3 * DAY, 4 * DAY, True, "deadline_extension_required"),          # extended, but not enough
    (3 * DAY, FIVE_DAYS - SECOND, True, "deadline_extension_required"),
    (3 * DAY, FIVE_DAYS, True, None),                                  # extended to exactly 5 days
    (3 * DAY, FIVE_DAYS + SECOND, True, None),
    (3 * DAY, 14 * DAY, False, None),
    (3 * DAY, 2 * DAY, False, "deadline_extension_required"),         # brought forward, no proposals
    (3 * DAY, 2 * DAY, True, "deadline_shortened"),
    (SECOND, SECOND, False, "deadline_extension_required"),           # a second to go
    (SECOND, FIVE_DAYS, True, None),
    # The deadline has passed: it cannot move at all.
    (timedelta(0), timedelta(0), False, "deadline_passed"),            # exactly at the deadline
    (timedelta(0), 10 * DAY, False, "deadline_passed"),
    (-SECOND, 10 * DAY, True, "deadline_passed"),
    (-DAY, -DAY, False, "deadline_passed"),
    (-DAY, -2 * DAY, True, "deadline_passed"),
])
def test_amendment_deadline_problem(closes_in, new_closes_in, proposals_exist, expected):
    assert rules.amendment_deadline_problem(NOW, NOW + closes_in, NOW + new_closes_in,
                                            proposals_exist=proposals_exist) == expected


@pytest.mark.parametrize("deadline_in, closes_in, expected", [
    (DAY, 10 * DAY, None),
    (SECOND, 10 * DAY, None),                                         # a second from now
    (10 * DAY - SECOND, 10 * DAY, None),                               # a second before the close
    (DAY, None, None),                                                 # no closing time yet
    (None, 10 * DAY, "clarification_deadline_missing"),
    (None, None, "clarification_deadline_missing"),
    (timedelta(0), 10 * DAY, "clarification_deadline_past"),           # exactly now
    (-SECOND, 10 * DAY, "clarification_deadline_past"),
    (-DAY, None, "clarification_deadline_past"),
    (-DAY, -2 * DAY, "clarification_deadline_past"),                   # past wins over after-close
    (10 * DAY, 10 * DAY, "clarification_deadline_after_close"),        # exactly at the close
    (10 * DAY + SECOND, 10 * DAY, "clarification_deadline_after_close"),
    (20 * DAY, 10 * DAY, "clarification_deadline_after_close"),
])
def test_clarification_deadline_problem(deadline_in, closes_in, expected):
    deadline = None if deadline_in is None else NOW + deadline_in
    closes_at = None if closes_in is None else NOW + closes_in
    assert rules.clarification_deadline_problem(deadline, closes_at, NOW) == expected
