"""Who assesses what, whether marks are complete, and whether a phase is ready to decide.

Pure: plain values in, plain values out; no Flask, no SQLAlchemy, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from procure.assessment.scoring import MAX_SCORE

JUSTIFICATION_MAX = 5000
REASON_MAX = 5000


@dataclass(frozen=True)
class Seat:
    """One accepted assessor as the coverage rule sees them: their conflicts and submissions."""
    appointment_id: int
    conflicted_with: frozenset[int]   # supplier organisation ids
    declared_for: frozenset[int]      # organisations they have declared about (either way)
    submitted_for: frozenset[int]     # proposal ids they have submitted an assessment for


@dataclass(frozen=True)
class Coverage:
    """How a proposal stands: who may assess it, how many have, and how many more are needed."""
    proposal_id: int
    available: int     # accepted assessors not conflicted with its supplier
    submitted: int
    needed: int        # further assessors to appoint to reach the phase's minimum
    complete: bool     # every available assessor has submitted, and at least the minimum


def coverage(proposals: Mapping[int, int], seats: Sequence[Seat], minimum: int) -> dict[int, Coverage]:
    """Per proposal (id -> supplier organisation id): assessors available, submitted, still needed.

    A conflicted assessor never counts towards a proposal, so a conflict can leave it short of
    the phase's minimum of independent assessments: ``needed`` says how many more to appoint.
    """
    out: dict[int, Coverage] = {}
    for proposal_id, organisation_id in proposals.items():
        available = [s for s in seats if organisation_id not in s.conflicted_with]
        submitted = sum(1 for s in available if proposal_id in s.submitted_for)
        out[proposal_id] = Coverage(
            proposal_id=proposal_id, available=len(available), submitted=submitted,
            needed=max(0, minimum - len(available)),
            complete=len(available) >= minimum and submitted == len(available))
    return out


def conflict_problems(conflicted: bool | None, reason: str) -> dict[str, str]:
    """A declaration says one way or the other, and a conflict says why."""
    if conflicted is None:
        return {"conflicted": "conflict_choose"}
    if conflicted and not reason.strip():
        return {"reason": "conflict_reason_missing"}
    if len(reason) > REASON_MAX:
        return {"reason": "text_too_long"}
    return {}


def mark_problems(criteria: Iterable[tuple[int, str]], marks: Mapping[int, Mapping[str, object]],
                  *, submitting: bool) -> dict[str, str]:
    """Field errors for an assessor's marks: ``criteria`` is (phase criterion id, kind).

    A score is a whole number 0–4 and a gate pass or fail; saving a draft accepts gaps, but
    submitting needs every mark and a justification for each.
    """
    errors: dict[str, str] = {}
    for pc_id, kind in criteria:
        mark = marks.get(pc_id, {})
        justification = str(mark.get("justification") or "")
        if len(justification) > JUSTIFICATION_MAX:
            errors[f"justification_{pc_id}"] = "text_too_long"
        if kind == "gate":
            passed = mark.get("passed")
            if passed is None and submitting:
                errors[f"mark_{pc_id}"] = "gate_missing"
            elif passed is not None and not isinstance(passed, bool):
                errors[f"mark_{pc_id}"] = "gate_invalid"
        else:
            score = mark.get("score")
            if score is None:
                if submitting:
                    errors[f"mark_{pc_id}"] = "score_missing"
            elif isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= MAX_SCORE:
                errors[f"mark_{pc_id}"] = "score_invalid"
        if submitting and not justification.strip() and f"justification_{pc_id}" not in errors:
            errors[f"justification_{pc_id}"] = "justification_missing"
    return errors


def consensus_problems(kind: str, score: object, passed: object, rationale: str) -> dict[str, str]:
    """A moderator's consensus: a score 0–4 in steps of 0.25 (or pass/fail), and why."""
    from decimal import Decimal, InvalidOperation

    errors: dict[str, str] = {}
    if kind == "gate":
        if not isinstance(passed, bool):
            errors["passed"] = "gate_missing"
    else:
        try:
            value = Decimal(str(score)) if score is not None and str(score).strip() else None
        except (InvalidOperation, ValueError):
            value = None
            errors["score"] = "consensus_invalid"
        if value is None and "score" not in errors:
            errors["score"] = "consensus_missing"
        # The step test must be exact: Decimal arithmetic rounds to 28 digits and flushes tiny
        # values to zero, so "3.0000…01" or "1e-999999999" would pass ``(value * 4) % 1``.
        elif value is not None and (not value.is_finite() or not 0 <= value <= MAX_SCORE
                                    or value != value.quantize(Decimal("0.01"))
                                    or (value * 4) % 1 != 0):
            errors["score"] = "consensus_invalid"
    if not rationale.strip():
        errors["rationale"] = "rationale_missing"
    elif len(rationale) > REASON_MAX:
        errors["rationale"] = "text_too_long"
    return errors


def decision_blockers(coverage_: Mapping[int, Coverage], flagged: Mapping[int, Sequence[int]],
                      moderated: Mapping[int, Iterable[int]]) -> list[str]:
    """Why the phase cannot be decided yet: proposals not fully assessed, or flagged criteria
    without a consensus. Empty when it can."""
    blockers: list[str] = []
    if any(not c.complete for c in coverage_.values()):
        blockers.append("assessments_incomplete")
    for proposal_id, criteria in flagged.items():
        done = set(moderated.get(proposal_id, ()))
        if any(c not in done for c in criteria):
            blockers.append("moderation_outstanding")
            break
    return blockers


def approvals_outstanding(partner_ids: Iterable[int], approved_ids: Iterable[int]) -> list[int]:
    """The partner authorities that have not yet approved a decision."""
    approved = set(approved_ids)
    return sorted(p for p in set(partner_ids) if p not in approved)


def decision_kind(phase_position: int, phase_count: int, next_phase_kind: str | None) -> str:
    """A phase followed by another shortlists for it; the last phase selects for award."""
    return "shortlist" if phase_position < phase_count and next_phase_kind is not None else "award"
