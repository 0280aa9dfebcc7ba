"""Scoring, moderation flags, totals, ranking, the default selection and phase statistics.

Pure: plain values in, plain values out; no Flask, no SQLAlchemy, no clock. Every number is a
``Decimal``. The rounding rule, stated once:

- a criterion's final score is the moderator's consensus score if there is one, else the mean
  of the assessors' scores, rounded to 2 decimal places, half up;
- the weighted total (a percentage) is  Σ weightᵢ × finalᵢ / 4  over the scored criteria,
  computed from those rounded finals and rounded to 2 decimal places, half up;
- proposals are ranked by that rounded total; equal totals share a rank ("1, 2, 2, 4").

A gate's final result is the consensus if there is one, else "pass" only if every assessor
passed it. A proposal that fails any gate is ineligible: it gets no rank and is never selected.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal

MAX_SCORE = 4
SPREAD_FLAG = 2       # scores this far apart are flagged for moderation
TWO_PLACES = Decimal("0.01")
HUNDRED = Decimal(100)


def round2(value: Decimal) -> Decimal:
    return value.quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Criterion:
    id: int
    kind: str                 # "scored" or "gate"
    weight: int | None = None  # scored criteria only; the weights sum to 100


@dataclass(frozen=True)
class Assessment:
    """One assessor's submitted marks: a 0–4 score per scored criterion, pass/fail per gate."""
    assessor_id: int
    scores: Mapping[int, int] = field(default_factory=dict)
    gates: Mapping[int, bool] = field(default_factory=dict)


@dataclass(frozen=True)
class Consensus:
    """A moderator's decision on one criterion: a score (scored) or a result (gate)."""
    criterion_id: int
    score: Decimal | None = None
    passed: bool | None = None


@dataclass(frozen=True)
class Result:
    proposal_id: int
    finals: dict[int, Decimal]     # scored criterion id -> final score (0–4, 2 places)
    gates: dict[int, bool]         # gate id -> final pass/fail
    total: Decimal                 # 0–100, 2 places
    eligible: bool
    rank: int | None = None        # None when ineligible
    tied: bool = False             # shares its rank with another proposal
    # A bake-off ranks by its final score (the total); these are what it combines.
    assessed: Decimal | None = None
    outcome: Decimal | None = None


def spread(scores: Iterable[int]) -> int:
    values = list(scores)
    return max(values) - min(values) if values else 0


def flags(criteria: Sequence[Criterion], assessments: Sequence[Assessment]) -> list[int]:
    """Criteria to moderate: scores 2 or more apart, or assessors disagreeing on a gate."""
    flagged = []
    for c in criteria:
        if c.kind == "gate":
            results = {a.gates[c.id] for a in assessments if c.id in a.gates}
            if len(results) > 1:
                flagged.append(c.id)
        elif spread(a.scores[c.id] for a in assessments if c.id in a.scores) >= SPREAD_FLAG:
            flagged.append(c.id)
    return flagged


def final_score(scores: Sequence[int], consensus: Decimal | None) -> Decimal:
    """The consensus if given, else the mean of the scores, to 2 places (half up)."""
    if consensus is not None:
        return round2(Decimal(consensus))
    if not scores:
        return Decimal("0.00")
    return round2(Decimal(sum(scores)) / Decimal(len(scores)))


def final_gate(results: Sequence[bool], consensus: bool | None) -> bool:
    if consensus is not None:
        return consensus
    return bool(results) and all(results)


def weighted_total(criteria: Sequence[Criterion], finals: Mapping[int, Decimal]) -> Decimal:
    """Σ weight × final / 4 over the scored criteria: a percentage, to 2 places (half up)."""
    total = sum((Decimal(c.weight or 0) * finals.get(c.id, Decimal(0)) for c in criteria
                 if c.kind == "scored"), Decimal(0))
    return round2(total / MAX_SCORE)


def score_proposal(proposal_id: int, criteria: Sequence[Criterion],
                   assessments: Sequence[Assessment],
                   consensus: Iterable[Consensus] = ()) -> Result:
    """One proposal's finals, gate results, total and eligibility (ranked later)."""
    agreed = {c.criterion_id: c for c in consensus}
    finals: dict[int, Decimal] = {}
    gates: dict[int, bool] = {}
    for c in criteria:
        decided = agreed.get(c.id)
        if c.kind == "gate":
            gates[c.id] = final_gate([a.gates[c.id] for a in assessments if c.id in a.gates],
                                     decided.passed if decided else None)
        else:
            finals[c.id] = final_score([a.scores[c.id] for a in assessments if c.id in a.scores],
                                       decided.score if decided else None)
    return Result(proposal_id=proposal_id, finals=finals, gates=gates,
                  total=weighted_total(criteria, finals), eligible=all(gates.values()))


def rank(results: Iterable[Result]) -> list[Result]:
    """Eligible proposals by total, highest first, equal totals sharing a rank (1, 2, 2, 4),
    then the ineligible ones (no rank). Ties and equal ineligibles are ordered by proposal id,
    so the order never depends on the order of the input."""
    results = list(results)
    eligible = sorted((r for r in results if r.eligible), key=lambda r: (-r.total, r.proposal_id))
    ineligible = sorted((r for r in results if not r.eligible),
                        key=lambda r: (-r.total, r.proposal_id))
    counts: dict[Decimal, int] = {}
    for r in eligible:
        counts[r.total] = counts.get(r.total, 0) + 1
    ranked: list[Result] = []
    position = 0
    previous: Decimal | None = None
    current_rank = 0
    for r in eligible:
        position += 1
        if r.total != previous:
            current_rank, previous = position, r.total
        ranked.append(replace(r, eligible=True, rank=current_rank, tied=counts[r.total] > 1))
    return ranked + [replace(r, eligible=False, rank=None, tied=False) for r in ineligible]


@dataclass(frozen=True)
class Selection:
    default: list[int]          # proposal ids the ranking selects
    tie_at_cutoff: list[int]    # tied proposals straddling the last place: the editor chooses


def default_selection(ranked: Sequence[Result], places: int, threshold_percent: int) -> Selection:
    """The top ``places`` eligible proposals at or above the threshold. A tie that straddles
    the last place is not broken by the system: those proposals are left for the editor."""
    threshold = Decimal(threshold_percent)
    qualifying = [r for r in ranked if r.eligible and r.total >= threshold]
    group_size = Counter(r.total for r in qualifying)
    chosen: list[int] = []
    straddling: list[int] = []
    for r in qualifying:
        if r.rank is not None and r.rank + group_size[r.total] - 1 <= places:
            chosen.append(r.proposal_id)
        elif r.rank is not None and r.rank <= places:
            straddling.append(r.proposal_id)
    return Selection(default=chosen, tie_at_cutoff=straddling)


def departure_problem(chosen: Iterable[int], selection: Selection, reason: str) -> str | None:
    """A choice different from the default needs a written reason."""
    if set(chosen) != set(selection.default) and not reason.strip():
        return "reason_missing"
    return None


def rank_band(rank_: int | None, eligible_count: int) -> str:
    """Where a proposal stands, without naming anyone else: top quarter … bottom quarter."""
    if rank_ is None:
        return "ineligible"
    if eligible_count <= 0:
        return "ineligible"
    # How many of the others rank above: the first is always in the top quarter and the last
    # always in the bottom one, however few proposals there are.
    share = Decimal(rank_ - 1) / Decimal(max(eligible_count - 1, 1))
    if share < Decimal("0.25"):
        return "first_quarter"
    if share < Decimal("0.5"):
        return "second_quarter"
    if share < Decimal("0.75"):
        return "third_quarter"
    return "fourth_quarter"


@dataclass(frozen=True)
class Statistics:
    received: int
    eligible: int
    above_threshold: int
    total_bands: list[int]                      # counts of totals in 0–9, 10–19, … 90–100
    total_min: Decimal | None
    total_median: Decimal | None
    total_max: Decimal | None
    criteria: dict[int, dict[str, object]]      # per scored criterion: mean, min, max, counts 0–4


def _median(values: list[Decimal]) -> Decimal | None:
    if not values:
        return None
    values = sorted(values)
    middle = len(values) // 2
    if len(values) % 2:
        return values[middle]
    return round2((values[middle - 1] + values[middle]) / 2)


def statistics(criteria: Sequence[Criterion], results: Sequence[Result],
               threshold_percent: int) -> Statistics:
    """The phase's assessment figures for the open record (no supplier named)."""
    totals = [r.total for r in results]
    bands = [0] * 10
    for t in totals:
        bands[min(int(t // 10), 9)] += 1
    per_criterion: dict[int, dict[str, object]] = {}
    for c in criteria:
        if c.kind != "scored":
            continue
        finals = [r.finals[c.id] for r in results if c.id in r.finals]
        counts = [0] * (MAX_SCORE + 1)
        for f in finals:
            counts[int(f.to_integral_value(rounding=ROUND_HALF_UP))] += 1
        per_criterion[c.id] = {
            "mean": round2(sum(finals, Decimal(0)) / len(finals)) if finals else None,
            "min": min(finals) if finals else None, "max": max(finals) if finals else None,
            "counts": counts}
    threshold = Decimal(threshold_percent)
    return Statistics(
        received=len(results), eligible=sum(1 for r in results if r.eligible),
        above_threshold=sum(1 for r in results if r.eligible and r.total >= threshold),
        total_bands=bands, total_min=min(totals) if totals else None,
        total_median=_median(totals), total_max=max(totals) if totals else None,
        criteria=per_criterion)
