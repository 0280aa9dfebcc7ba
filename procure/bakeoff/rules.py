"""Pure bake-off and award rules: contracts, award details and the adoption check-in schedule.

No Flask, no SQLAlchemy, no clock: ``now`` is passed in. Each rule returns error codes that
services raise as RuleViolation and views show by the field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime

from dateutil.relativedelta import relativedelta

from procure.bakeoff.outcomes import parse_value

# Months after the award at which the lead authority is asked about adoption.
CHECK_IN_MONTHS = (6, 12, 24)
MAX_USED_BY = 2000
MAX_NOTES = 5000
MAX_CONTRACT_PENCE = 100_000_000_000  # £1bn: more is a typing mistake


def check_in_due_at(awarded_at: datetime, months: int) -> datetime:
    """The calendar date ``months`` after the award (31 August + 6 months is 28 or 29 February)."""
    return awarded_at + relativedelta(months=months)


def due_check_ins(awarded_at: datetime | None, now: datetime, existing: Iterable[int]) -> list[int]:
    """The check-ins (in months) that are due at ``now`` and not yet asked for."""
    if awarded_at is None:
        return []
    asked = set(existing)
    return [m for m in CHECK_IN_MONTHS
            if m not in asked and check_in_due_at(awarded_at, m) <= now]


def contract_problems(value_pence: int | None, starts_on: date | None, ends_on: date | None,
                      max_pence: int | None, prefix: str = "") -> dict[str, str]:
    """A contract's value (at least 1p, at most ``max_pence`` when the phase sets one) and its
    dates (start on or before the end). Keys are the fields, with ``prefix``."""
    errors: dict[str, str] = {}
    if value_pence is None:
        errors[f"{prefix}value"] = "contract_value_missing"
    elif value_pence < 1 or value_pence > MAX_CONTRACT_PENCE:
        errors[f"{prefix}value"] = "contract_value_invalid"
    elif max_pence is not None and value_pence > max_pence:
        errors[f"{prefix}value"] = "contract_value_above_maximum"
    if starts_on is None:
        errors[f"{prefix}starts_on"] = "contract_start_missing"
    if ends_on is None:
        errors[f"{prefix}ends_on"] = "contract_end_missing"
    elif starts_on is not None and ends_on < starts_on:
        errors[f"{prefix}ends_on"] = "contract_end_before_start"
    return errors


def bake_off_close_problem(closes_at: datetime | None, now: datetime) -> str | None:
    """Opening the bake-off: its deadline must be in the future."""
    if closes_at is None:
        return "close_missing"
    if closes_at <= now:
        return "close_in_past"
    return None


def check_in_problems(in_use: bool | None, used_by: str, notes: str,
                      values: Mapping[int, str]) -> dict[str, str]:
    """An adoption check-in: whether the solution is in use (and by whom), and optionally the
    latest value of each measure (keys ``value_<measure id>``)."""
    errors: dict[str, str] = {}
    if in_use is None:
        errors["in_use"] = "in_use_missing"
    elif in_use and not used_by.strip():
        errors["used_by"] = "used_by_missing"
    if len(used_by) > MAX_USED_BY:
        errors["used_by"] = "text_too_long"
    if len(notes) > MAX_NOTES:
        errors["notes"] = "text_too_long"
    for measure_id, text in values.items():
        if (text or "").strip():
            try:
                parse_value(text)
            except ValueError as e:
                errors[f"value_{measure_id}"] = str(e)
    return errors
