"""Publish readiness (SPEC 3.1): every reason a draft may not be published yet, by field.

Pure: takes the draft as plain attributes (a model or any object shaped like one) and
``now``, returns ``{field: error_code}``. An empty dict means it may be published. The
field keys name the task-list sections, so each problem links to where it is fixed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from procure.challenges import rules

MIN_PROBLEM_LENGTH = 100


def phase_key(position: int, part: str) -> str:
    return f"phase-{position}-{part}"


def _text(value: Any) -> str:
    return (value or "").strip()


def publish_problems(challenge: Any, *, lead_verified: bool, now: datetime) -> dict[str, str]:
    """Why ``challenge`` cannot be published at ``now``; empty when it can."""
    problems: dict[str, str] = {}
    if not lead_verified:
        problems["lead"] = "lead_unverified"
    if not _text(challenge.title):
        problems["title"] = "title_missing"
    if not _text(challenge.summary):
        problems["summary"] = "summary_missing"
    problem = _text(challenge.problem_statement)
    if not problem:
        problems["problem_statement"] = "problem_missing"
    elif len(problem) < MIN_PROBLEM_LENGTH:
        problems["problem_statement"] = "problem_too_short"
    if not _text(challenge.outcomes_sought):
        problems["outcomes_sought"] = "outcomes_missing"
    if not _text(challenge.contact_name) or not _text(challenge.contact_email):
        problems["contact"] = "contact_missing"

    phases = list(challenge.phases)
    if not phases:
        problems["phases"] = "phases_missing"
    budget = challenge.budget_pence
    previous_close: datetime | None = None
    for phase in phases:
        problems.update(_phase_problems(phase, budget, previous_close, now))
        previous_close = phase.closes_at or previous_close

    first_close = phases[0].closes_at if phases else None
    deadline = rules.clarification_deadline_problem(challenge.clarification_deadline,
                                                    first_close, now)
    if deadline:
        problems["clarification_deadline"] = deadline
    return problems


def _phase_problems(phase: Any, budget: int, previous_close: datetime | None,
                    now: datetime) -> dict[str, str]:
    n = phase.position
    problems: dict[str, str] = {}
    if phase.opens_at is None or phase.closes_at is None:
        problems[phase_key(n, "dates")] = "dates_missing"
    elif phase.closes_at <= phase.opens_at:
        problems[phase_key(n, "dates")] = "dates_order"
    elif phase.closes_at <= now:
        problems[phase_key(n, "dates")] = "closes_in_past"
    elif previous_close is not None and phase.opens_at < previous_close:
        problems[phase_key(n, "dates")] = "opens_before_previous_closes"

    if not phase.contracts or phase.contracts < 1:
        problems[phase_key(n, "details")] = "contracts_missing"
    elif not phase.max_value_pence or phase.max_value_pence < 1:
        problems[phase_key(n, "details")] = "max_value_missing"
    elif not phase.duration_months or phase.duration_months < 1:
        problems[phase_key(n, "details")] = "duration_missing"
    elif phase.contracts * phase.max_value_pence > budget:
        problems[phase_key(n, "budget")] = "budget_short"

    weights = rules.weights_problem((c.criterion.kind, c.weight) for c in phase.criteria)
    if weights:
        problems[phase_key(n, "criteria")] = weights

    if phase.kind == "bake_off":
        measures = list(phase.measures)
        # Outcomes evidence a scored criterion; a gate is pass or fail, not measured.
        chosen = {c.criterion_id for c in phase.criteria if c.criterion.kind == "scored"}
        problem = rules.measure_weights_problem(m.weight for m in measures)
        if problem is None and any(m.baseline == m.target for m in measures):
            problem = "measure_baseline_equals_target"
        if problem is None and any(m.criterion_id not in chosen for m in measures):
            problem = "measure_criterion_not_in_phase"
        if problem is None and not 0 <= phase.outcome_share_percent <= 100:
            problem = "outcome_share_invalid"
        if problem:
            problems[phase_key(n, "measures")] = problem
    return problems
