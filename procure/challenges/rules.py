"""Pure challenge rules: weights, tags, money, and the amendment-deadline rule.

No Flask, no SQLAlchemy, no clock: ``now`` is passed in. Each rule returns an error code
(or None); services raise RuleViolation with it and views show its message by the field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

WEIGHT_TOTAL = 100
MAX_TAGS = 10
MAX_TAG_LENGTH = 50
MAX_PENCE = 100_000_000_000  # £1bn: more is a typing mistake
AMENDMENT_NOTICE = timedelta(days=5)


def weights_problem(entries: Iterable[tuple[str, int | None]]) -> str | None:
    """Check a phase's criteria: ``(kind, weight)`` pairs, kind ``scored`` or ``gate``.

    Scored criteria carry whole-number weights of at least 1 that sum to 100; gates carry none.
    """
    entries = list(entries)
    if not entries:
        return "criteria_missing"
    scored = [w for kind, w in entries if kind == "scored"]
    if not scored:
        return "scored_criteria_missing"
    if any(kind == "gate" and w not in (None, 0) for kind, w in entries):
        return "gate_weighted"
    if any(w is None or w < 1 for w in scored):
        return "weight_missing"
    if sum(scored) != WEIGHT_TOTAL:
        return "weights_sum"
    return None


def measure_weights_problem(weights: Iterable[int]) -> str | None:
    """A bake-off's outcome measures: at least one, whole weights of at least 1 summing to 100."""
    weights = list(weights)
    if not weights:
        return "measures_missing"
    if any(w is None or w < 1 for w in weights):
        return "measure_weight_missing"
    if sum(weights) != WEIGHT_TOTAL:
        return "measure_weights_sum"
    return None


def normalise_tags(text: str) -> list[str]:
    """Split comma-separated tags, tidy spacing and case, drop repeats; ValueError with a code."""
    tags: list[str] = []
    for raw in text.split(","):
        tag = " ".join(raw.split()).casefold()
        if not tag:
            continue
        if len(tag) > MAX_TAG_LENGTH:
            raise ValueError("tag_too_long")
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise ValueError("too_many_tags")
    return tags


# Plain digits, or digits grouped in thousands by commas; up to two decimal places.
_MONEY = re.compile(r"^([0-9]+|[0-9]{1,3}(,[0-9]{3})+)(\.[0-9]{1,2})?$")


def parse_money(text: str) -> int:
    """Pounds as typed ("£50,000", "1250.5") to integer pence; ValueError with a code."""
    cleaned = text.strip().removeprefix("£").strip()
    if not cleaned:
        raise ValueError("money_missing")
    if not _MONEY.match(cleaned):
        raise ValueError("money_invalid")
    cleaned = cleaned.replace(",", "")
    try:
        pence = int((Decimal(cleaned) * 100).to_integral_exact())
    except InvalidOperation:
        raise ValueError("money_invalid") from None
    if pence > MAX_PENCE:
        raise ValueError("money_too_large")
    return pence


def format_money(pence: int) -> str:
    """Integer pence as pounds for a form field: 5000000 -> "50000", 125050 -> "1250.50"."""
    sign = "-" if pence < 0 else ""
    pounds, rest = divmod(abs(pence), 100)
    return f"{sign}{pounds}" if rest == 0 else f"{sign}{pounds}.{rest:02d}"


def amendment_deadline_problem(now: datetime, closes_at: datetime, new_closes_at: datetime,
                               *, proposals_exist: bool) -> str | None:
    """SPEC 3.2: an amendment within 5 days of the deadline must extend it to leave 5 days.

    The deadline of a phase that has closed cannot move; once proposals exist it cannot be
    brought forward; a moved deadline must itself leave suppliers 5 days.
    """
    if closes_at <= now:
        return "deadline_passed"
    if new_closes_at < closes_at and proposals_exist:
        return "deadline_shortened"
    minimum = now + AMENDMENT_NOTICE
    late = closes_at - now < AMENDMENT_NOTICE
    if (late or new_closes_at != closes_at) and new_closes_at < minimum:
        return "deadline_extension_required" if late else "deadline_too_soon"
    return None


def clarification_deadline_problem(deadline: datetime | None, closes_at: datetime | None,
                                   now: datetime) -> str | None:
    """Questions close before proposals do, and not in the past."""
    if deadline is None:
        return "clarification_deadline_missing"
    if deadline <= now:
        return "clarification_deadline_past"
    if closes_at is not None and deadline >= closes_at:
        return "clarification_deadline_after_close"
    return None
