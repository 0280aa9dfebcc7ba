"""The pure outcome rules (SPEC §3.5): defining a measure, its achievement, the outcome score,
the final bake-off score, which value counts, and the checks on typed values, reports and
verifications. No database.

Every expected number below is worked out by hand from the rules in ``outcomes``'s docstring:
achievement = (verified − baseline) / (target − baseline), clamped to 0…1, to 4 places half up;
the outcome score = Σ weight × achievement × 100 / Σ weight, to 2 places half up; the final
score = (1 − s) × assessed + s × outcome, to 2 places half up.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from procure.bakeoff import outcomes
from procure.bakeoff.outcomes import MAX_ABS_VALUE, MAX_EVIDENCE, MAX_REASON, Measure

D = Decimal

# "Higher is better" from 10 to 20; "lower is better" from 100 down to 40 (days to process, say).
HIGHER = Measure(id=1, direction="higher", baseline=D(10), target=D(20), weight=60)
LOWER = Measure(id=2, direction="lower", baseline=D(100), target=D(40), weight=40)


def measure(mid: int, direction: str, baseline: str, target: str, weight: int) -> Measure:
    return Measure(id=mid, direction=direction, baseline=D(baseline), target=D(target),
                   weight=weight)


# --- defining a measure ---------------------------------------------------------------------------

@pytest.mark.parametrize(("direction", "baseline", "target", "problem"), [
    ("higher", "0", "10", None),
    ("higher", "-5", "5", None),
    ("higher", "1.5", "1.5001", None),
    ("lower", "10", "0", None),
    ("lower", "5", "-5", None),
    ("higher", "10", "10", "measure_baseline_equals_target"),
    ("lower", "10", "10", "measure_baseline_equals_target"),
    ("higher", "0", "0.0000", "measure_baseline_equals_target"),   # equal in value, not in form
    ("higher", "10", "0", "target_below_baseline"),               # wrong side for "higher"
    ("higher", "10", "9.9999", "target_below_baseline"),
    ("lower", "0", "10", "target_above_baseline"),                # wrong side for "lower"
    ("lower", "9.9999", "10", "target_above_baseline"),
    ("sideways", "0", "10", "direction_invalid"),
    ("", "10", "0", "direction_invalid"),
    ("Higher", "0", "10", "direction_invalid"),                   # the codes are exact
], ids=["higher-ok", "higher-negative-baseline", "higher-tiny-step", "lower-ok",
        "lower-negative-target", "higher-equal", "lower-equal", "equal-different-exponent",
        "higher-target-below", "higher-target-just-below", "lower-target-above",
        "lower-target-just-above", "direction-unknown", "direction-empty", "direction-case"])
def test_measure_problem(direction, baseline, target, problem):
    assert outcomes.measure_problem(direction, D(baseline), D(target)) == problem


# --- achievement ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("m", "verified", "expected"), [
    (HIGHER, "10", "0.0000"),       # at the baseline
    (HIGHER, "20", "1.0000"),       # at the target
    (HIGHER, "15", "0.5000"),       # halfway
    (HIGHER, "11", "0.1000"),
    (HIGHER, "19.99", "0.9990"),
    (HIGHER, "25", "1.0000"),       # beyond the target: clamped to 1
    (HIGHER, "1000000", "1.0000"),
    (HIGHER, "5", "0.0000"),        # worse than the baseline: clamped to 0
    (HIGHER, "-1000", "0.0000"),
    (LOWER, "100", "0.0000"),       # at the baseline
    (LOWER, "40", "1.0000"),        # at the target
    (LOWER, "70", "0.5000"),        # halfway
    (LOWER, "85", "0.2500"),
    (LOWER, "10", "1.0000"),        # better than the target: clamped to 1
    (LOWER, "-50", "1.0000"),
    (LOWER, "130", "0.0000"),       # worse than the baseline: clamped to 0
    (measure(3, "higher", "-10", "10", 1), "0", "0.5000"),      # across zero
    (measure(3, "lower", "10", "-10", 1), "-5", "0.7500"),
    (measure(3, "higher", "1.5", "2.5", 1), "2.25", "0.7500"),  # fractional values
], ids=["higher-baseline", "higher-target", "higher-half", "higher-tenth", "higher-nearly",
        "higher-beyond", "higher-far-beyond", "higher-worse", "higher-far-worse",
        "lower-baseline", "lower-target", "lower-half", "lower-quarter", "lower-beyond",
        "lower-far-beyond", "lower-worse", "higher-across-zero", "lower-across-zero",
        "fractional"])
def test_achievement(m, verified, expected):
    got = outcomes.achievement(m, D(verified))
    assert got == D(expected)
    assert str(got) == expected     # always exactly four places, never "-0.0000"


@pytest.mark.parametrize(("m", "verified", "expected"), [
    (measure(3, "higher", "0", "3", 1), "1", "0.3333"),             # 1/3
    (measure(3, "higher", "0", "3", 1), "2", "0.6667"),             # 2/3 rounds up
    (measure(3, "higher", "0", "32", 1), "1", "0.0313"),            # 0.03125: half up (even: 0.0312)
    (measure(3, "higher", "0", "32", 1), "3", "0.0938"),            # 0.09375: half up (even: 0.0938)
    (measure(3, "higher", "0", "20000", 1), "1", "0.0001"),         # 0.00005: half up (even: 0.0000)
    (measure(3, "higher", "0", "20000", 1), "0.9998", "0.0000"),    # 0.0000499…: down
    (measure(3, "lower", "32", "0", 1), "31", "0.0313"),            # 1/32 from above
    (measure(3, "lower", "3", "0", 1), "1", "0.6667"),
], ids=["third", "two-thirds", "half-up-32nd", "three-32nds", "half-up-smallest",
        "just-below-half", "lower-half-up", "lower-two-thirds"])
def test_achievement_rounds_to_four_places_half_up(m, verified, expected):
    got = outcomes.achievement(m, D(verified))
    assert got == D(expected)
    assert str(got) == expected


@pytest.mark.parametrize("m", [HIGHER, LOWER], ids=["higher", "lower"])
def test_no_verified_value_no_achievement(m):
    assert outcomes.achievement(m, None) is None


@pytest.mark.parametrize("verified", [None, D(5)], ids=["no-value", "a-value"])
def test_achievement_refuses_a_target_equal_to_its_baseline(verified):
    flat = measure(3, "higher", "10", "10", 1)
    with pytest.raises(ValueError, match="differ"):
        outcomes.achievement(flat, verified)


measures = st.builds(
    lambda direction, baseline, step, weight: Measure(
        1, direction, baseline, baseline + step if direction == "higher" else baseline - step,
        weight),
    st.sampled_from(["higher", "lower"]),
    st.decimals(min_value=-1000, max_value=1000, places=4),
    st.decimals(min_value=D("0.0001"), max_value=1000, places=4),
    st.integers(min_value=0, max_value=100))
values = st.decimals(min_value=-5000, max_value=5000, places=4)


@given(measures, values)
def test_achievement_is_always_between_0_and_1_to_four_places(m, verified):
    assert outcomes.measure_problem(m.direction, m.baseline, m.target) is None
    got = outcomes.achievement(m, verified)
    assert D(0) <= got <= D(1)
    assert got.as_tuple().exponent == -4


@given(measures, values, values)
def test_a_better_value_never_achieves_less(m, a, b):
    worse, better = sorted((a, b)) if m.direction == "higher" else sorted((a, b), reverse=True)
    assert outcomes.achievement(m, worse) <= outcomes.achievement(m, better)


@given(measures)
def test_baseline_scores_0_and_target_scores_1(m):
    assert outcomes.achievement(m, m.baseline) == D(0)
    assert outcomes.achievement(m, m.target) == D(1)


# --- outcome score -----------------------------------------------------------------------------------

# HIGHER weighs 60 (10 → 20), LOWER 40 (100 → 40).
@pytest.mark.parametrize(("verified", "expected"), [
    ({1: D(20), 2: D(40)}, "100.00"),            # both at target
    ({1: D(30), 2: D(0)}, "100.00"),             # both beyond: clamped, never above 100
    ({1: D(10), 2: D(100)}, "0.00"),             # both at baseline
    ({1: D(0), 2: D(200)}, "0.00"),              # both worse: clamped, never below 0
    ({1: D(15), 2: D(70)}, "50.00"),             # both halfway
    ({1: D(20), 2: D(100)}, "60.00"),            # only the heavier one at target
    ({1: D(10), 2: D(40)}, "40.00"),             # only the lighter one at target
    ({1: D("12.5"), 2: D(40)}, "55.00"),         # 60 × 0.25 + 40 × 1
    ({1: D(11), 2: D(85)}, "16.00"),             # 60 × 0.1 + 40 × 0.25
    ({1: D(20)}, "60.00"),                       # LOWER missing: counts as 0
    ({2: D(40)}, "40.00"),                       # HIGHER missing
    ({1: None, 2: D(40)}, "40.00"),              # no verified value: counts as 0
    ({}, "0.00"),                                # nothing verified at all
    ({1: D(20), 2: D(40), 99: D(5)}, "100.00"),  # a stray id is ignored
], ids=["all-at-target", "all-beyond", "all-at-baseline", "all-worse", "all-halfway",
        "heavy-only", "light-only", "quarter-and-full", "tenth-and-quarter", "lower-missing",
        "higher-missing", "none-counts-zero", "nothing", "stray-id"])
def test_outcome_score(verified, expected):
    got = outcomes.outcome_score([HIGHER, LOWER], verified)
    assert got == D(expected)
    assert str(got) == expected


def test_a_reported_but_unverified_measure_counts_as_zero():
    # Both suppliers reported hitting the target, but only HIGHER's report was accepted.
    reports = {1: ("accepted", D(20), None), 2: ("reported", D(40), None)}
    verified = {mid: outcomes.verified_value(*report) for mid, report in reports.items()}
    assert verified == {1: D(20), 2: None}
    assert outcomes.outcome_score([HIGHER, LOWER], verified) == D("60.00")


def test_a_correction_counts_instead_of_the_reported_value():
    # LOWER reported at target (40) but corrected to halfway (70) by the editor.
    reports = {1: ("accepted", D(20), None), 2: ("corrected", D(40), D(70))}
    verified = {mid: outcomes.verified_value(*report) for mid, report in reports.items()}
    assert outcomes.outcome_score([HIGHER, LOWER], verified) == D("80.00")  # 60 + 40 × 0.5


@pytest.mark.parametrize(("weights", "verified", "expected"), [
    ((1, 2), {1: D(1)}, "33.33"),        # 100 / 3
    ((1, 2), {2: D(1)}, "66.67"),        # 200 / 3, rounded up
    ((1, 2), {1: D(1), 2: D(1)}, "100.00"),
    ((3, 7), {1: D(1), 2: D("0.5")}, "65.00"),          # (3 + 3.5) × 100 / 10
    ((25, 25, 50), {3: D(1)}, "50.00"),
    ((1, 1), {1: D("0.0001")}, "0.01"),  # 0.005: half up (half even would give 0.00)
    ((1, 7), {1: D("0.0004")}, "0.01"),  # 0.04 / 8 = 0.005: half up
    ((1, 7), {1: D("0.0003")}, "0.00"),  # 0.00375: down
    ((100,), {1: D("0.3333")}, "33.33"),
    ((200, 100), {1: D("0.5")}, "33.33"),  # weights need not sum to 100
], ids=["one-third", "two-thirds", "both", "three-seven", "three-measures", "half-up",
        "half-up-eighths", "down-eighths", "single", "weights-not-100"])
def test_outcome_score_with_unequal_weights(weights, verified, expected):
    # Each measure runs from 0 to 1 ("higher"), so its verified value is its achievement.
    ms = [measure(n, "higher", "0", "1", w) for n, w in enumerate(weights, start=1)]
    got = outcomes.outcome_score(ms, verified)
    assert got == D(expected)
    assert str(got) == expected


@pytest.mark.parametrize("ms", [
    [],
    [measure(1, "higher", "0", "1", 0)],
    [measure(1, "higher", "0", "1", 0), measure(2, "lower", "1", "0", 0)],
], ids=["no-measures", "one-weightless", "all-weightless"])
def test_zero_total_weight_scores_zero(ms):
    got = outcomes.outcome_score(ms, {1: D(1), 2: D(0)})
    assert got == D("0.00")
    assert str(got) == "0.00"


def test_outcome_score_refuses_a_measure_whose_target_equals_its_baseline():
    with pytest.raises(ValueError):
        outcomes.outcome_score([HIGHER, measure(3, "higher", "5", "5", 40)], {1: D(20)})


@given(st.lists(st.tuples(measures, st.one_of(st.none(), values)), min_size=1, max_size=6))
def test_outcome_score_is_a_percentage_to_two_places(pairs):
    ms = [Measure(n, m.direction, m.baseline, m.target, m.weight)
          for n, (m, _) in enumerate(pairs)]
    verified = {n: v for n, (_, v) in enumerate(pairs)}
    got = outcomes.outcome_score(ms, verified)
    assert D(0) <= got <= D(100)
    assert got.as_tuple().exponent == -2


# --- final score ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("assessed", "outcome", "share", "expected"), [
    ("80.00", "40.00", 0, "80.00"),       # no outcome share: the assessed total
    ("80.00", "40.00", 100, "40.00"),     # all outcome
    ("80.00", "40.00", 50, "60.00"),
    ("80.00", "40.00", 30, "68.00"),      # 0.7 × 80 + 0.3 × 40 = 56 + 12
    ("75.55", "33.33", 30, "62.88"),      # 52.885 + 9.999 = 62.884
    ("90.00", "0.00", 1, "89.10"),
    ("0.00", "50.00", 99, "49.50"),
    ("33.33", "66.67", 50, "50.00"),
    ("100.00", "100.00", 37, "100.00"),
    ("0.00", "0.00", 37, "0.00"),
    ("70.05", "0.00", 50, "35.03"),       # 35.025: half up (half even would give 35.02)
    ("0.01", "0.00", 50, "0.01"),         # 0.005: half up
    ("0.00", "0.01", 30, "0.00"),         # 0.003: down
    ("74.95", "28.31", 33, "59.56"),      # 50.2165 + 9.3423 = 59.5588
], ids=["share-0", "share-100", "share-50", "share-30", "share-30-uneven", "share-1",
        "share-99", "share-50-even", "both-full", "both-zero", "half-up", "half-up-tiny",
        "round-down", "share-33"])
def test_final_score(assessed, outcome, share, expected):
    got = outcomes.final_score(D(assessed), D(outcome), share)
    assert got == D(expected)
    assert str(got) == expected


@pytest.mark.parametrize("share", [-1, 101, 150, -100], ids=["minus-1", "101", "150", "minus-100"])
def test_final_score_refuses_a_share_outside_0_to_100(share):
    with pytest.raises(ValueError, match="percentage"):
        outcomes.final_score(D("80.00"), D("40.00"), share)


scores = st.decimals(min_value=0, max_value=100, places=2)


@given(scores, scores, st.integers(min_value=0, max_value=100))
def test_final_score_lies_between_the_assessed_total_and_the_outcome_score(assessed, outcome,
                                                                          share):
    got = outcomes.final_score(assessed, outcome, share)
    assert min(assessed, outcome) <= got <= max(assessed, outcome)
    assert got.as_tuple().exponent == -2


@given(scores, scores)
def test_final_score_at_the_ends_of_the_share(assessed, outcome):
    assert outcomes.final_score(assessed, outcome, 0) == assessed
    assert outcomes.final_score(assessed, outcome, 100) == outcome


# --- the value that counts -------------------------------------------------------------------------

@pytest.mark.parametrize(("status", "reported", "corrected", "expected"), [
    ("reported", D(12), None, None),           # waiting for verification: nothing counts yet
    ("reported", D(12), D(10), None),
    ("accepted", D(12), None, D(12)),          # accepted as reported
    ("accepted", D(12), D(10), D(12)),         # a stray correction is ignored
    ("accepted", D(0), None, D(0)),            # zero is a value, not "none"
    ("corrected", D(12), D(10), D(10)),        # the correction replaces the reported value
    ("corrected", D(12), D(0), D(0)),
    ("corrected", D(12), D("-3.5"), D("-3.5")),
    ("corrected", D(12), None, None),          # no correction recorded: nothing counts
    ("rejected", D(12), D(10), None),          # an unknown status counts nothing
    ("", D(12), D(10), None),
], ids=["reported", "reported-with-correction", "accepted", "accepted-ignores-correction",
        "accepted-zero", "corrected", "corrected-to-zero", "corrected-negative",
        "corrected-missing", "unknown-status", "empty-status"])
def test_verified_value(status, reported, corrected, expected):
    assert outcomes.verified_value(status, reported, corrected) == expected


# --- typed values ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("12", "12"),
    (" 12 ", "12"),
    ("\t12\n", "12"),
    ("1,250.5", "1250.5"),
    ("1,000,000", "1000000"),
    ("-3", "-3"),
    ("-1,250.25", "-1250.25"),
    ("+7", "7"),
    ("0", "0"),
    ("-0", "0"),
    ("0.5", "0.5"),
    (".5", "0.5"),
    ("12.3456", "12.3456"),                      # four places: the most allowed
    ("1.50000", "1.5"),                          # trailing zeros are not precision
    ("99999999999999", "99999999999999"),        # the largest allowed
    ("-99999999999999", "-99999999999999"),
    ("99,999,999,999,999.0000", "99999999999999"),
], ids=["whole", "spaces", "tab-newline", "thousands-comma", "millions", "negative",
        "negative-with-comma", "plus-sign", "zero", "minus-zero", "fraction", "leading-point",
        "four-places", "trailing-zeros", "largest", "most-negative", "largest-formatted"])
def test_parse_value(text, expected):
    assert outcomes.parse_value(text) == D(expected)


@pytest.mark.parametrize(("text", "code"), [
    (None, "value_missing"),
    ("", "value_missing"),
    ("   ", "value_missing"),
    (",", "value_invalid"),                    # commas only between thousands
    (",,,", "value_invalid"),
    ("12,5", "value_invalid"),                 # a decimal comma would read as 125
    ("1,2,3", "value_invalid"),
    ("1e3", "value_invalid"),                  # no exponents or underscores in typed values
    ("1_000", "value_invalid"),
    ("abc", "value_invalid"),
    ("12abc", "value_invalid"),
    ("1 250", "value_invalid"),                # a space is not a thousands separator
    ("1.2.3", "value_invalid"),
    ("--5", "value_invalid"),
    ("£12", "value_invalid"),
    ("12%", "value_invalid"),
    ("NaN", "value_invalid"),
    ("nan", "value_invalid"),
    ("sNaN", "value_invalid"),
    ("Infinity", "value_invalid"),
    ("-Infinity", "value_invalid"),
    ("inf", "value_invalid"),
    ("100000000000000", "value_too_large"),    # 15 digits before the point
    ("-100000000000000", "value_too_large"),
    ("9" * 40, "value_too_large"),
    ("1.23456", "value_too_precise"),          # five places
    ("-0.00001", "value_too_precise"),
    ("1,250.12345", "value_too_precise"),
], ids=["none", "empty", "blank", "only-comma", "only-commas", "decimal-comma", "stray-commas",
        "exponent", "underscore", "letters", "trailing-letters",
        "inner-space", "two-points", "double-minus", "currency", "percent", "NaN", "nan", "sNaN",
        "Infinity", "minus-Infinity", "inf", "too-large", "too-negative", "forty-nines",
        "five-places", "tiny-negative",
        "five-places-with-comma"])
def test_parse_value_refuses(text, code):
    with pytest.raises(ValueError) as caught:
        outcomes.parse_value(text)
    assert str(caught.value) == code


@given(st.decimals(min_value=-MAX_ABS_VALUE, max_value=MAX_ABS_VALUE, places=4))
def test_parse_value_reads_back_any_allowed_value_with_or_without_commas(value):
    assert outcomes.parse_value(str(value)) == value
    assert outcomes.parse_value(f" {value:,f} ") == value


# --- a supplier's report ------------------------------------------------------------------------------

@pytest.mark.parametrize(("value_text", "evidence", "errors"), [
    ("12", "Our dashboard export, attached.", {}),
    ("1,250.5", "x", {}),
    ("12", "e" * MAX_EVIDENCE, {}),                      # exactly the limit
    ("", "Evidence", {"value": "value_missing"}),
    (None, "Evidence", {"value": "value_missing"}),
    ("abc", "Evidence", {"value": "value_invalid"}),
    ("NaN", "Evidence", {"value": "value_invalid"}),
    ("1" + "0" * 20, "Evidence", {"value": "value_too_large"}),
    ("1.23456", "Evidence", {"value": "value_too_precise"}),
    ("12", "", {"evidence": "evidence_missing"}),
    ("12", "  \n\t ", {"evidence": "evidence_missing"}),
    ("12", "e" * (MAX_EVIDENCE + 1), {"evidence": "text_too_long"}),
    ("12", " " * (MAX_EVIDENCE + 1), {"evidence": "evidence_missing"}),  # blank beats long
    ("", "", {"value": "value_missing", "evidence": "evidence_missing"}),
    ("abc", "e" * (MAX_EVIDENCE + 1), {"value": "value_invalid", "evidence": "text_too_long"}),
], ids=["ok", "ok-with-comma", "evidence-at-limit", "value-empty", "value-none", "value-letters",
        "value-nan", "value-huge", "value-precise", "evidence-empty", "evidence-blank",
        "evidence-too-long", "evidence-long-but-blank", "both-missing", "both-bad"])
def test_report_problems(value_text, evidence, errors):
    assert outcomes.report_problems(value_text, evidence) == errors


# --- an editor's verification -------------------------------------------------------------------

@pytest.mark.parametrize(("outcome", "value_text", "reason", "errors"), [
    # Accepting needs nothing else: the value and reason are not looked at...
    ("accept", None, "", {}),
    ("accept", "", "", {}),
    ("accept", "abc", "", {}),
    ("accept", "12", "Matches the invoice", {}),
    ("accept", None, "r" * MAX_REASON, {}),
    # ...except that a reason given is still kept to its length.
    ("accept", None, "r" * (MAX_REASON + 1), {"reason": "text_too_long"}),
    # Correcting needs a value and a reason.
    ("correct", "10", "The export double-counted June", {}),
    ("correct", "1,250.5", "r" * MAX_REASON, {}),
    ("correct", "", "Reason", {"value": "value_missing"}),
    ("correct", None, "Reason", {"value": "value_missing"}),
    ("correct", "abc", "Reason", {"value": "value_invalid"}),
    ("correct", "Infinity", "Reason", {"value": "value_invalid"}),
    ("correct", "1" + "0" * 20, "Reason", {"value": "value_too_large"}),
    ("correct", "1.23456", "Reason", {"value": "value_too_precise"}),
    ("correct", "10", "", {"reason": "correction_reason_missing"}),
    ("correct", "10", "   ", {"reason": "correction_reason_missing"}),
    ("correct", "", "", {"value": "value_missing", "reason": "correction_reason_missing"}),
    ("correct", "10", "r" * (MAX_REASON + 1), {"reason": "text_too_long"}),
    ("correct", "10", " " * (MAX_REASON + 1), {"reason": "text_too_long"}),  # long beats blank
    ("correct", "abc", "r" * (MAX_REASON + 1), {"value": "value_invalid", "reason": "text_too_long"}),
    # No choice made: nothing else is looked at.
    (None, "abc", "", {"outcome": "verification_choice_missing"}),
    ("", "10", "Reason", {"outcome": "verification_choice_missing"}),
    ("reject", "10", "Reason", {"outcome": "verification_choice_missing"}),
    ("Accept", None, "", {"outcome": "verification_choice_missing"}),
    (None, None, "r" * (MAX_REASON + 1), {"outcome": "verification_choice_missing"}),
], ids=["accept-bare", "accept-empty-value", "accept-ignores-bad-value", "accept-with-reason",
        "accept-reason-at-limit", "accept-reason-too-long", "correct-ok", "correct-at-limit",
        "correct-value-empty", "correct-value-none", "correct-value-letters",
        "correct-value-infinity", "correct-value-huge", "correct-value-precise",
        "correct-reason-empty", "correct-reason-blank", "correct-both-missing",
        "correct-reason-too-long", "correct-reason-long-and-blank", "correct-both-bad",
        "no-choice", "empty-choice", "unknown-choice", "choice-case", "no-choice-long-reason"])
def test_verification_problems(outcome, value_text, reason, errors):
    assert outcomes.verification_problems(outcome, value_text, reason) == errors
