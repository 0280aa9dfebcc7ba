"""Outcome achievement, the outcome score and the final bake-off score (SPEC §3.5).

Pure: plain values in, plain values out; every number a ``Decimal``. The rules, stated once:

- the achievement of a measure is (verified − baseline) / (target − baseline), clamped to
  0…1, to 4 decimal places (half up). Because the target lies on the better side of the
  baseline, the same formula serves "higher is better" and "lower is better";
- a measure with no verified value (not reported, or reported but not yet verified) has no
  achievement, and counts as 0 in the outcome score;
- the outcome score (a percentage) is the weighted mean achievement × 100, to 2 places;
- the final bake-off score = (1 − s) × assessed total + s × outcome score, s being the
  phase's outcome share; to 2 places.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

ZERO, ONE, HUNDRED = Decimal(0), Decimal(1), Decimal(100)
FOUR_PLACES = Decimal("0.0001")
TWO_PLACES = Decimal("0.01")
# At most 14 digits before the point and 4 after: what the column (Numeric(18, 4)) holds.
MAX_ABS_VALUE = Decimal("99999999999999.9999")
# A plain number: an optional sign, digits (commas only between thousands), a decimal point.
_NUMBER = re.compile(r"[+-]?(?:(?:\d+|\d{1,3}(?:,\d{3})+)(?:\.\d+)?|\.\d+)")
MAX_EVIDENCE = 5000
MAX_REASON = 2000


@dataclass(frozen=True)
class Measure:
    id: int
    direction: str      # "higher" or "lower" is better
    baseline: Decimal
    target: Decimal
    weight: int         # whole number; a phase's weights sum to 100


def measure_problem(direction: str, baseline: Decimal, target: Decimal) -> str | None:
    """Why a measure cannot be defined this way: its target must differ from its baseline and
    lie on the better side of it."""
    if baseline == target:
        return "measure_baseline_equals_target"
    if direction == "higher" and target < baseline:
        return "target_below_baseline"
    if direction == "lower" and target > baseline:
        return "target_above_baseline"
    if direction not in ("higher", "lower"):
        return "direction_invalid"
    return None


def achievement(measure: Measure, verified: Decimal | None) -> Decimal | None:
    """How far from the baseline to the target the verified value went, 0…1 (None: no value)."""
    if measure.baseline == measure.target:
        raise ValueError("a measure's target must differ from its baseline")
    if verified is None:
        return None
    ratio = (Decimal(verified) - measure.baseline) / (measure.target - measure.baseline)
    return min(ONE, max(ZERO, ratio)).quantize(FOUR_PLACES, rounding=ROUND_HALF_UP)


def outcome_score(measures: Sequence[Measure], verified: Mapping[int, Decimal | None]) -> Decimal:
    """The weighted mean achievement of ``measures``, as a percentage to 2 places; a measure
    without a verified value counts as 0."""
    total_weight = sum(m.weight for m in measures)
    if total_weight <= 0:
        return Decimal("0.00")
    weighted = sum((Decimal(m.weight) * (achievement(m, verified.get(m.id)) or ZERO)
                    for m in measures), ZERO)
    return (weighted * HUNDRED / Decimal(total_weight)).quantize(TWO_PLACES,
                                                                 rounding=ROUND_HALF_UP)


def final_score(assessed_total: Decimal, outcome: Decimal, share_percent: int) -> Decimal:
    """(1 − s) × assessed total + s × outcome score, s = ``share_percent`` / 100."""
    if not 0 <= share_percent <= 100:
        raise ValueError("the outcome share is a percentage")
    s = Decimal(share_percent) / HUNDRED
    return ((ONE - s) * Decimal(assessed_total) + s * Decimal(outcome)).quantize(
        TWO_PLACES, rounding=ROUND_HALF_UP)


def verified_value(status: str, reported: Decimal | None,
                   corrected: Decimal | None) -> Decimal | None:
    """The value that counts: the reported one once accepted, the editor's once corrected,
    none while the report waits for verification."""
    if status == "accepted":
        return reported
    if status == "corrected":
        return corrected
    return None


def parse_value(text: str | None) -> Decimal:
    """A measured value typed by a person ("1,250.5", " 12 "); ValueError with a code."""
    cleaned = (text or "").strip()
    if not cleaned:
        raise ValueError("value_missing")
    if not _NUMBER.fullmatch(cleaned):
        raise ValueError("value_invalid")
    try:
        value = Decimal(cleaned.replace(",", ""))
    except InvalidOperation:
        raise ValueError("value_invalid") from None
    if not value.is_finite():
        raise ValueError("value_invalid")
    if abs(value) > MAX_ABS_VALUE:
        raise ValueError("value_too_large")
    if value != value.quantize(FOUR_PLACES):
        raise ValueError("value_too_precise")
    return value


def report_problems(value_text: str | None, evidence: str) -> dict[str, str]:
    """What is wrong with a supplier's report of one measure (field -> error code)."""
    errors: dict[str, str] = {}
    try:
        parse_value(value_text)
    except ValueError as e:
        errors["value"] = str(e)
    if not evidence.strip():
        errors["evidence"] = "evidence_missing"
    elif len(evidence) > MAX_EVIDENCE:
        errors["evidence"] = "text_too_long"
    return errors


def verification_problems(outcome: str | None, value_text: str | None,
                          reason: str) -> dict[str, str]:
    """An editor's verification: accept as reported, or correct with a value and a reason."""
    errors: dict[str, str] = {}
    if outcome not in ("accept", "correct"):
        errors["outcome"] = "verification_choice_missing"
        return errors
    if outcome == "correct":
        try:
            parse_value(value_text)
        except ValueError as e:
            errors["value"] = str(e)
        if not reason.strip():
            errors["reason"] = "correction_reason_missing"
    if len(reason) > MAX_REASON:
        errors["reason"] = "text_too_long"
    return errors
