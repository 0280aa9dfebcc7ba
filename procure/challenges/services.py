"""Challenge use cases: drafting, phases and criteria, publishing, amending and cancelling.

Every service loads the challenge itself, checks the actor's permission again, applies the
pure rules (lifecycle, readiness, weights, amendment deadline), writes the audit event and
outbox messages, and commits. Views, tasks, the CLI and tests all call these.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from procure.audit import services as audit
from procure.challenges import lifecycle, readiness, recipients, rules
from procure.challenges.lifecycle import ChallengeAction, ChallengeStatus, PhaseAction, PhaseStatus
from procure.challenges.models import (
    Amendment,
    Challenge,
    ChallengeFunder,
    ChallengeTag,
    FunderRole,
    FunderStatus,
    MeasureDirection,
    OutcomeMeasure,
    Phase,
    PhaseCriterion,
    PhaseKind,
)
from procure.errors import NotFound, NotPermitted, RuleViolation
from procure.permissions import Permission, can
from procure.values.models import FrameworkStatus, ValueCriterion, ValueFramework

MAX_TITLE = 200
MAX_TEXT = 20_000
MAX_SHORT_TEXT = 2_000

# Fields an editor writes on the details pages, and the longest each may be.
DETAIL_FIELDS = {"title": MAX_TITLE, "summary": MAX_SHORT_TEXT, "problem_statement": MAX_TEXT,
                 "context": MAX_TEXT, "affected": MAX_TEXT, "outcomes_sought": MAX_TEXT}
WELSH_FIELDS = {"title_cy": MAX_TITLE, "summary_cy": MAX_SHORT_TEXT}
# What an amendment may change once the challenge is public. Criteria, weights and money are
# fixed at publication: changing how bids are judged after suppliers have read it is unfair.
AMENDABLE_FIELDS = {**DETAIL_FIELDS, **WELSH_FIELDS}
del AMENDABLE_FIELDS["title"]


def _eager():
    return (selectinload(Challenge.funders).selectinload(ChallengeFunder.organisation),
            selectinload(Challenge.tags),
            selectinload(Challenge.phases).selectinload(Phase.criteria)
            .selectinload(PhaseCriterion.criterion).selectinload(ValueCriterion.framework),
            selectinload(Challenge.phases).selectinload(Phase.measures)
            .selectinload(OutcomeMeasure.criterion),
            selectinload(Challenge.lead_organisation))


def load_challenge(session: Session, challenge_id: int, *, lock: bool = False) -> Challenge:
    """The challenge with its funders, tags and phases; NotFound if there is none."""
    stmt = select(Challenge).where(Challenge.id == challenge_id).options(*_eager())
    if lock:
        stmt = stmt.with_for_update(of=Challenge)
    challenge = session.execute(stmt).scalar_one_or_none()
    if challenge is None:
        raise NotFound("challenge")
    return challenge


def get_challenge(session: Session, *, actor: Any, challenge_id: int) -> Challenge:
    """A challenge the actor may read; NotFound for a draft they may not know of."""
    challenge = load_challenge(session, challenge_id)
    if not can(actor, Permission.CHALLENGE_VIEW, challenge):
        raise NotFound("challenge")
    return challenge


def _authorised(session: Session, actor: Any, permission: Permission, challenge_id: int,
                *, lock: bool = True) -> Challenge:
    """Load with a row lock and re-check permission: 404 if unknown to them, 403 if not theirs."""
    challenge = load_challenge(session, challenge_id, lock=lock)
    if not can(actor, Permission.CHALLENGE_VIEW, challenge):
        raise NotFound("challenge")
    if not can(actor, permission, challenge):
        raise NotPermitted(str(permission))
    return challenge


def _touch(challenge: Challenge, now: datetime) -> None:
    challenge.updated_at = now


def _audit(session: Session, challenge: Challenge, action: str, actor: Any, now: datetime,
           **data: Any) -> None:
    audit.record(session, action=action, subject_type="challenge", subject_id=challenge.id,
                 actor_id=getattr(actor, "id", None), now=now, data=data or None)


def _text(value: str | None) -> str:
    """Text as typed, tidied: no NUL characters (a database refuses them), plain line ends,
    no surrounding space — so an untouched multi-line field never looks changed."""
    return (value or "").replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n").strip()


def _check_lengths(values: dict[str, str], limits: dict[str, int]) -> None:
    errors = {k: "too_long" for k, v in values.items() if len(v) > limits[k]}
    if errors:
        raise RuleViolation(errors)


# --- drafting -------------------------------------------------------------------------------

def create_challenge(session: Session, *, actor: Any, title: str, now: datetime) -> Challenge:
    """Start a draft led by the actor's authority, with the actor as lead contact."""
    if not can(actor, Permission.CHALLENGE_CREATE):
        raise NotPermitted(str(Permission.CHALLENGE_CREATE))
    title = _text(title)
    if not title:
        raise RuleViolation({"title": "title_missing"})
    _check_lengths({"title": title}, DETAIL_FIELDS)
    org_id = actor.active_membership.organisation_id
    challenge = Challenge(
        lead_organisation_id=org_id, created_by_id=actor.id, status=ChallengeStatus.DRAFT,
        title=title, contact_name=actor.name, contact_email=actor.email, version=1,
        created_at=now, updated_at=now)
    challenge.funders.append(ChallengeFunder(
        organisation_id=org_id, role=FunderRole.LEAD, status=FunderStatus.ACCEPTED,
        pledge_pence=0, created_at=now, decided_at=now))
    session.add(challenge)
    session.flush()
    _audit(session, challenge, "challenge.created", actor, now)
    session.commit()
    return challenge


def update_details(session: Session, *, actor: Any, challenge_id: int, now: datetime,
                   **fields: str) -> Challenge:
    """Save the problem, its context, who it affects and the outcomes sought (Markdown)."""
    unknown = set(fields) - set(DETAIL_FIELDS)
    if unknown:
        raise TypeError(f"not a detail field: {sorted(unknown)}")
    challenge = _authorised(session, actor, Permission.CHALLENGE_EDIT, challenge_id)
    values = {k: _text(v) for k, v in fields.items()}
    if "title" in values and not values["title"]:
        raise RuleViolation({"title": "title_missing"})
    _check_lengths(values, DETAIL_FIELDS)
    changed = [k for k, v in values.items() if getattr(challenge, k) != v]
    for key, value in values.items():
        setattr(challenge, key, value)
    _touch(challenge, now)
    if changed:
        _audit(session, challenge, "challenge.details_updated", actor, now, fields=changed)
    session.commit()
    return challenge


def update_welsh(session: Session, *, actor: Any, challenge_id: int, title_cy: str,
                 summary_cy: str, now: datetime) -> Challenge:
    """Save the optional Welsh title and summary."""
    challenge = _authorised(session, actor, Permission.CHALLENGE_EDIT, challenge_id)
    values = {"title_cy": _text(title_cy), "summary_cy": _text(summary_cy)}
    _check_lengths(values, WELSH_FIELDS)
    challenge.title_cy, challenge.summary_cy = values["title_cy"], values["summary_cy"]
    _touch(challenge, now)
    _audit(session, challenge, "challenge.welsh_updated", actor, now)
    session.commit()
    return challenge


def update_contact(session: Session, *, actor: Any, challenge_id: int, contact_name: str,
                   contact_email: str, now: datetime) -> Challenge:
    """Save the lead contact suppliers see (a role address is better than a person's)."""
    challenge = _authorised(session, actor, Permission.CHALLENGE_EDIT, challenge_id)
    name, email = _text(contact_name), _text(contact_email)
    errors = {}
    if not name:
        errors["contact_name"] = "contact_name_missing"
    elif len(name) > 200:
        errors["contact_name"] = "too_long"
    try:
        email = validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError:
        errors["contact_email"] = "contact_email_invalid"
    if errors:
        raise RuleViolation(errors)
    challenge.contact_name, challenge.contact_email = name, email
    _touch(challenge, now)
    _audit(session, challenge, "challenge.contact_updated", actor, now)
    session.commit()
    return challenge


def set_tags(session: Session, *, actor: Any, challenge_id: int, tags_text: str,
             now: datetime) -> Challenge:
    """Replace the challenge's topics (comma-separated) that suppliers follow and filter by."""
    challenge = _authorised(session, actor, Permission.CHALLENGE_EDIT, challenge_id)
    try:
        tags = rules.normalise_tags(tags_text)
    except ValueError as e:
        raise RuleViolation({"tags": str(e)}) from None
    challenge.tags = [ChallengeTag(tag=t) for t in tags]
    _touch(challenge, now)
    _audit(session, challenge, "challenge.tags_updated", actor, now, tags=tags)
    session.commit()
    return challenge


def set_clarification_deadline(session: Session, *, actor: Any, challenge_id: int,
                               deadline: datetime, now: datetime) -> Challenge:
    """When suppliers must have asked their questions by (before proposals close)."""
    challenge = _authorised(session, actor, Permission.CHALLENGE_EDIT, challenge_id)
    first_close = challenge.phases[0].closes_at if challenge.phases else None
    problem = rules.clarification_deadline_problem(deadline, first_close, now)
    if problem:
        raise RuleViolation({"clarification_deadline": problem})
    challenge.clarification_deadline = deadline
    _touch(challenge, now)
    _audit(session, challenge, "challenge.clarification_deadline_set", actor, now,
           deadline=deadline.isoformat())
    session.commit()
    return challenge


# --- phases ---------------------------------------------------------------------------------

def _phase(challenge: Challenge, phase_id: int) -> Phase:
    for phase in challenge.phases:
        if phase.id == phase_id:
            return phase
    raise NotFound("phase")


def add_phase(session: Session, *, actor: Any, challenge_id: int, kind: str,
              now: datetime) -> Phase:
    """Add a phase at the end: feasibility (proof of concept), bake-off or deployment."""
    challenge = _authorised(session, actor, Permission.CHALLENGE_EDIT, challenge_id)
    if kind not in set(PhaseKind):
        raise RuleViolation({"kind": "kind_invalid"})
    if len(challenge.phases) >= 5:
        raise RuleViolation({"kind": "too_many_phases"})
    phase = Phase(position=len(challenge.phases) + 1, kind=kind, status=PhaseStatus.PLANNED,
                  min_assessments=2, threshold_percent=60, outcome_share_percent=50)
    challenge.phases.append(phase)
    _touch(challenge, now)
    session.flush()
    _audit(session, challenge, "challenge.phase_added", actor, now, phase=phase.position, kind=kind)
    session.commit()
    return phase


def update_phase(session: Session, *, actor: Any, challenge_id: int, phase_id: int, now: datetime,
                 kind: str, opens_at: datetime, closes_at: datetime, contracts: int,
                 max_value_pence: int, duration_months: int, min_assessments: int,
                 threshold_percent: int, outcome_share_percent: int) -> Phase:
    """Save a phase's kind, dates (UTC), contracts, value, duration and assessment settings."""
    challenge = _authorised(session, actor, Permission.CHALLENGE_EDIT, challenge_id)
    phase = _phase(challenge, phase_id)
    errors: dict[str, str] = {}
    if kind not in set(PhaseKind):
        errors["kind"] = "kind_invalid"
    if closes_at <= opens_at:
        errors["closes_at"] = "dates_order"
    elif closes_at <= now:
        errors["closes_at"] = "closes_in_past"
    if not 1 <= contracts <= 100:
        errors["contracts"] = "contracts_invalid"
    if not 1 <= max_value_pence <= rules.MAX_PENCE:
        errors["max_value"] = "money_invalid"
    if not 1 <= duration_months <= 60:
        errors["duration_months"] = "duration_invalid"
    if not 1 <= min_assessments <= 10:
        errors["min_assessments"] = "min_assessments_invalid"
    if not 0 <= threshold_percent <= 100:
        errors["threshold_percent"] = "percent_invalid"
    if not 0 <= outcome_share_percent <= 100:
        errors["outcome_share_percent"] = "percent_invalid"
    if errors:
        raise RuleViolation(errors)
    phase.kind, phase.opens_at, phase.closes_at = kind, opens_at, closes_at
    phase.contracts, phase.max_value_pence = contracts, max_value_pence
    phase.duration_months, phase.min_assessments = duration_months, min_assessments
    phase.threshold_percent, phase.outcome_share_percent = threshold_percent, outcome_share_percent
    if kind != PhaseKind.BAKE_OFF:
        phase.measures = []
    _touch(challenge, now)
    _audit(session, challenge, "challenge.phase_updated", actor, now, phase=phase.position)
    session.commit()
    return phase


def remove_phase(session: Session, *, actor: Any, challenge_id: int, phase_id: int,
                 now: datetime) -> None:
    """Delete a draft phase and number the rest again."""
    challenge = _authorised(session, actor, Permission.CHALLENGE_EDIT, challenge_id)
    phase = _phase(challenge, phase_id)
    position = phase.position
    challenge.phases.remove(phase)
    session.flush()
    # Renumber through a gap so the (challenge, position) unique constraint never trips.
    for p in challenge.phases:
        p.position += 100
    session.flush()
    for number, p in enumerate(challenge.phases, start=1):
        p.position = number
    _touch(challenge, now)
    _audit(session, challenge, "challenge.phase_removed", actor, now, phase=position)
    session.commit()


def selectable_criteria(session: Session, challenge: Challenge | None = None) -> list[ValueFramework]:
    """The frameworks a phase's criteria are chosen from: the latest published version of each,
    and any older version the challenge already pinned (a newer version never rewrites what it
    chose; the editor may move to the newer one)."""
    frameworks = list(session.execute(
        select(ValueFramework).where(ValueFramework.status == FrameworkStatus.PUBLISHED)
        .options(selectinload(ValueFramework.criteria))
        .order_by(ValueFramework.position, ValueFramework.code, ValueFramework.version.desc())
    ).scalars())
    pinned = set()
    if challenge is not None:
        pinned = {pc.criterion.framework_id for p in challenge.phases for pc in p.criteria}
    latest: set[str] = set()
    chosen: list[ValueFramework] = []
    for fw in frameworks:  # newest version of each code first
        if fw.code not in latest:
            latest.add(fw.code)
            chosen.append(fw)
        elif fw.id in pinned:
            chosen.append(fw)
    return chosen


def set_phase_criteria(session: Session, *, actor: Any, challenge_id: int, phase_id: int,
                       weights: dict[int, int | None], now: datetime) -> Phase:
    """Choose the phase's criteria from the shared frameworks, pinning their version.

    ``weights`` maps a criterion id to its whole-number weight (None for a gate); scored
    weights must sum to 100.
    """
    challenge = _authorised(session, actor, Permission.CHALLENGE_EDIT, challenge_id)
    phase = _phase(challenge, phase_id)
    allowed = {c.id: c for fw in selectable_criteria(session, challenge) for c in fw.criteria}
    if any(cid not in allowed for cid in weights):
        raise RuleViolation({"criteria": "criterion_unknown"})
    codes = [(allowed[cid].framework.code, allowed[cid].code) for cid in weights]
    if len(set(codes)) != len(codes):
        raise RuleViolation({"criteria": "criterion_twice"})
    versions = {(allowed[cid].framework.code, allowed[cid].framework_id) for cid in weights}
    if len({code for code, _ in versions}) != len(versions):
        # A phase judges with one version of each framework, so its scores compare.
        raise RuleViolation({"criteria": "criteria_mixed_versions"})
    entries = [(allowed[cid].kind, w) for cid, w in weights.items()]
    problem = rules.weights_problem(entries)
    if problem:
        raise RuleViolation({"criteria": problem})
    kept = {pc.criterion_id: pc for pc in phase.criteria if pc.criterion_id in weights}
    phase.criteria = [
        _criterion_row(kept.get(cid), cid, None if allowed[cid].is_gate else w, position)
        for position, (cid, w) in enumerate(
            sorted(weights.items(), key=lambda item: (allowed[item[0]].framework.position,
                                                       allowed[item[0]].position)))]
    # A measure whose criterion was dropped keeps pointing at it: readiness flags it until fixed.
    _touch(challenge, now)
    _audit(session, challenge, "challenge.criteria_set", actor, now, phase=phase.position,
           weights={str(k): v for k, v in weights.items()})
    session.commit()
    return phase


def _criterion_row(row: PhaseCriterion | None, criterion_id: int, weight: int | None,
                   position: int) -> PhaseCriterion:
    row = row or PhaseCriterion(criterion_id=criterion_id)
    row.weight, row.position = weight, position
    return row


def save_measure(session: Session, *, actor: Any, challenge_id: int, phase_id: int,
                 measure_id: int | None, name: str, unit: str, direction: str,
                 baseline: Decimal, target: Decimal, criterion_id: int, weight: int,
                 now: datetime) -> OutcomeMeasure:
    """Add or change one outcome measure of a bake-off phase."""
    challenge = _authorised(session, actor, Permission.CHALLENGE_EDIT, challenge_id)
    phase = _phase(challenge, phase_id)
    if phase.kind != PhaseKind.BAKE_OFF:
        raise RuleViolation({"name": "measures_bake_off_only"})
    errors: dict[str, str] = {}
    name, unit = _text(name), _text(unit)
    if not name:
        errors["name"] = "measure_name_missing"
    elif len(name) > 200:
        errors["name"] = "too_long"
    if not unit:
        errors["unit"] = "measure_unit_missing"
    elif len(unit) > 60:
        errors["unit"] = "too_long"
    if direction not in set(MeasureDirection):
        errors["direction"] = "direction_invalid"
    if baseline == target:
        errors["target"] = "measure_baseline_equals_target"
    elif direction == MeasureDirection.HIGHER and target < baseline:
        errors["target"] = "target_below_baseline"
    elif direction == MeasureDirection.LOWER and target > baseline:
        errors["target"] = "target_above_baseline"
    if criterion_id not in {pc.criterion_id for pc in phase.criteria if not pc.criterion.is_gate}:
        errors["criterion_id"] = "measure_criterion_not_in_phase"
    if not 1 <= weight <= 100:
        errors["weight"] = "weight_invalid"
    if errors:
        raise RuleViolation(errors)
    if measure_id is None:
        if len(phase.measures) >= 20:
            raise RuleViolation({"name": "too_many_measures"})
        measure = OutcomeMeasure(position=len(phase.measures))
        phase.measures.append(measure)
    else:
        measure = next((m for m in phase.measures if m.id == measure_id), None)
        if measure is None:
            raise NotFound("measure")
    measure.name, measure.unit, measure.direction = name, unit, direction
    measure.baseline, measure.target = baseline, target
    measure.criterion_id, measure.weight = criterion_id, weight
    _touch(challenge, now)
    session.flush()
    _audit(session, challenge, "challenge.measure_saved", actor, now, phase=phase.position,
           measure=measure.id)
    session.commit()
    return measure


def remove_measure(session: Session, *, actor: Any, challenge_id: int, phase_id: int,
                   measure_id: int, now: datetime) -> None:
    """Delete one outcome measure of a draft bake-off phase."""
    challenge = _authorised(session, actor, Permission.CHALLENGE_EDIT, challenge_id)
    phase = _phase(challenge, phase_id)
    measure = next((m for m in phase.measures if m.id == measure_id), None)
    if measure is None:
        raise NotFound("measure")
    phase.measures.remove(measure)
    _touch(challenge, now)
    _audit(session, challenge, "challenge.measure_removed", actor, now, phase=phase.position,
           measure=measure_id)
    session.commit()


# --- publishing -----------------------------------------------------------------------------

def publish_problems(challenge: Challenge, now: datetime) -> dict[str, str]:
    """Why the draft cannot be published yet, by task-list field (empty when it can)."""
    return readiness.publish_problems(challenge, lead_verified=challenge.lead_organisation.is_verified,
                                      now=now)


def publish_challenge(session: Session, *, actor: Any, challenge_id: int,
                      now: datetime) -> Challenge:
    """Open the challenge to suppliers: listed publicly, and its followers told."""
    challenge = _authorised(session, actor, Permission.CHALLENGE_PUBLISH, challenge_id)
    problems = publish_problems(challenge, now)
    if problems:
        raise RuleViolation(problems)
    challenge.status = lifecycle.next_status(challenge.status, ChallengeAction.PUBLISH)
    challenge.opened_at = now
    _touch(challenge, now)
    for phase in challenge.phases:
        for action in _advance_phase_fully(phase, now, challenge_open=True):
            audit.record(session, action=f"phase.{action}", subject_type="phase",
                         subject_id=phase.id, actor_id=actor.id, now=now,
                         data={"challenge": challenge.id, "phase": phase.position})
    _audit(session, challenge, "challenge.published", actor, now, version=challenge.version,
           budget_pence=challenge.budget_pence)
    recipients.tell(session, recipients.followers_of(session, challenge.tag_names),
                    key=f"challenge-opened:{challenge.id}", template="challenge_opened",
                    challenge=challenge, now=now, tags=", ".join(challenge.tag_names))
    partners = [f for f in challenge.accepted_funders if f.role == FunderRole.PARTNER]
    for funder in partners:
        recipients.tell(session, recipients.editors_of(session, funder.organisation_id),
                        key=f"challenge-published-partner:{challenge.id}",
                        template="challenge_published_partner", challenge=challenge, now=now)
    session.commit()
    return challenge


def _advance_phase(phase: Phase, now: datetime, *, challenge_open: bool) -> str | None:
    action = lifecycle.due_phase_action(phase.status, phase.opens_at, phase.closes_at, now,
                                        challenge_open=challenge_open,
                                        by_invitation=phase.is_invitation_only)
    if action is None:
        return None
    phase.status = lifecycle.next_phase_status(phase.status, action)
    if action == PhaseAction.OPEN:
        phase.opened_at = now
    elif action == PhaseAction.CLOSE:
        phase.closed_at = now
    return action


def _advance_phase_fully(phase: Phase, now: datetime, *, challenge_open: bool) -> list[str]:
    """Every move due at ``now``: a phase whose window passed unseen opens and then closes."""
    moves = []
    while (action := _advance_phase(phase, now, challenge_open=challenge_open)) is not None:
        moves.append(action)
    return moves


def advance_phases(session: Session, *, now: datetime) -> int:
    """Open and close phases whose times have come (the scheduled job; safe to run twice)."""
    due = select(Phase.id).join(Challenge).where(
        Challenge.status.in_([ChallengeStatus.OPEN, ChallengeStatus.IN_PROGRESS]),
        ((Phase.status == PhaseStatus.PLANNED) & (Phase.opens_at <= now) & (Phase.position == 1))
        | ((Phase.status == PhaseStatus.OPEN) & (Phase.closes_at <= now)))
    moved = 0
    for phase_id in session.execute(due).scalars().all():
        phase = session.execute(select(Phase).where(Phase.id == phase_id).with_for_update()
                                .execution_options(populate_existing=True)).scalar_one()
        challenge = phase.challenge
        actions = _advance_phase_fully(phase, now, challenge_open=challenge.status in
                                       (ChallengeStatus.OPEN, ChallengeStatus.IN_PROGRESS))
        if not actions:
            continue
        moved += 1
        for action in actions:
            audit.record(session, action=f"phase.{action}", subject_type="phase",
                         subject_id=phase.id, actor_id=None, now=now,
                         data={"challenge": challenge.id, "phase": phase.position})
        if PhaseAction.CLOSE in actions:
            from procure.assessment.services import tell_assessors_phase_closed
            from procure.submissions.services import on_phase_closed

            on_phase_closed(session, phase=phase, now=now)
            tell_assessors_phase_closed(session, phase=phase, now=now)
        if PhaseAction.CLOSE in actions and phase.position == 1 \
                and challenge.status == ChallengeStatus.OPEN:
            challenge.status = lifecycle.next_status(challenge.status, ChallengeAction.START)
            challenge.in_progress_at = now
            _audit(session, challenge, "challenge.started", None, now)
        session.commit()
    return moved


# --- amending and cancelling -----------------------------------------------------------------

def current_phase(challenge: Challenge) -> Phase | None:
    """The phase whose deadline suppliers are working to: the first not yet closed."""
    return next((p for p in challenge.phases
                 if p.status in (PhaseStatus.PLANNED, PhaseStatus.OPEN)), None)


def proposals_exist(session: Session, phase: Phase) -> bool:
    """Whether any supplier has a submitted proposal standing in the phase."""
    from procure.submissions.services import proposals_exist as submitted

    return submitted(session, phase.id)


def amend_challenge(session: Session, *, actor: Any, challenge_id: int, note: str, now: datetime,
                    closes_at: datetime | None = None,
                    clarification_deadline: datetime | None = None,
                    **fields: str) -> Amendment:
    """Publish a change to an open challenge with a public note; the page keeps the history.

    An amendment within 5 days of the deadline must extend it so 5 days remain (SPEC 3.2);
    everyone who asked a question or follows its tags is told.
    """
    unknown = set(fields) - set(AMENDABLE_FIELDS)
    if unknown:
        raise TypeError(f"not an amendable field: {sorted(unknown)}")
    challenge = _authorised(session, actor, Permission.CHALLENGE_AMEND,
                            challenge_id)
    lifecycle.next_status(challenge.status, ChallengeAction.AMEND)
    errors: dict[str, str] = {}
    note = _text(note)
    if not note:
        errors["note"] = "note_missing"
    elif len(note) > MAX_SHORT_TEXT:
        errors["note"] = "too_long"
    values = {k: _text(v) for k, v in fields.items()}
    for key, limit in AMENDABLE_FIELDS.items():
        if key in values and len(values[key]) > limit:
            errors[key] = "too_long"
    for key in ("summary", "problem_statement", "outcomes_sought"):
        if key in values and not values[key]:
            errors[key] = {"summary": "summary_missing", "problem_statement": "problem_missing",
                           "outcomes_sought": "outcomes_missing"}[key]
    if values.get("problem_statement") and \
            len(values["problem_statement"]) < readiness.MIN_PROBLEM_LENGTH:
        errors["problem_statement"] = "problem_too_short"
    changes: list[dict[str, Any]] = [
        {"field": k, "before": getattr(challenge, k), "after": v}
        for k, v in values.items() if getattr(challenge, k) != v]

    phase = current_phase(challenge)
    new_close = closes_at if closes_at is not None else (phase.closes_at if phase else None)
    if phase is None or phase.closes_at is None:
        errors["closes_at"] = "deadline_passed"
    else:
        problem = rules.amendment_deadline_problem(
            now, phase.closes_at, new_close, proposals_exist=proposals_exist(session, phase))
        if problem:
            errors["closes_at"] = problem
        elif new_close != phase.closes_at:
            changes.append({"field": "closes_at", "phase": phase.position,
                            "before": phase.closes_at.isoformat(), "after": new_close.isoformat()})
        if "closes_at" not in errors and phase is not None and new_close is not None:
            following = next((p for p in challenge.phases if p.position == phase.position + 1), None)
            if following is not None and following.opens_at is not None \
                    and new_close > following.opens_at:
                errors["closes_at"] = "closes_after_next_phase_opens"
    if clarification_deadline is not None and clarification_deadline != challenge.clarification_deadline:
        problem = rules.clarification_deadline_problem(clarification_deadline, new_close, now)
        if problem:
            errors["clarification_deadline"] = problem
        else:
            before = challenge.clarification_deadline
            changes.append({"field": "clarification_deadline",
                            "before": before.isoformat() if before else None,
                            "after": clarification_deadline.isoformat()})
    elif challenge.clarification_deadline is not None and new_close is not None \
            and challenge.clarification_deadline >= new_close:
        # Questions must still close before proposals do.
        errors["clarification_deadline"] = "clarification_deadline_after_close"
    if not errors and not changes:
        errors["note"] = "nothing_changed"
    if errors:
        raise RuleViolation(errors)

    for key, value in values.items():
        setattr(challenge, key, value)
    if phase is not None and new_close != phase.closes_at:
        phase.closes_at = new_close
    if clarification_deadline is not None:
        challenge.clarification_deadline = clarification_deadline
    challenge.version += 1
    amendment = Amendment(version=challenge.version, note=note, changes=changes, created_at=now,
                          created_by_id=actor.id)
    challenge.amendments.append(amendment)
    _touch(challenge, now)
    session.flush()
    _audit(session, challenge, "challenge.amended", actor, now, version=challenge.version,
           fields=[c["field"] for c in changes])
    from procure.submissions import services as submissions

    submissions.on_challenge_amended(session, challenge=challenge, phase=phase, now=now)
    people = {u.id: u for u in recipients.askers_of(session, challenge.id)}
    people.update({u.id: u for u in recipients.followers_of(session, challenge.tag_names)})
    for user in submissions.suppliers_with_proposals(session, challenge.id):
        people.pop(user.id, None)  # told with what it means for their proposal
    recipients.tell(session, people.values(),
                    key=f"challenge-amended:{challenge.id}:{challenge.version}",
                    template="challenge_amended", challenge=challenge, now=now, note=note,
                    version=challenge.version)
    session.commit()
    return amendment


def cancel_challenge(session: Session, *, actor: Any, challenge_id: int, reason: str,
                     now: datetime) -> Challenge:
    """Cancel with a public reason; partners and interested suppliers are told."""
    challenge = _authorised(session, actor, Permission.CHALLENGE_CANCEL, challenge_id)
    reason = _text(reason)
    if not reason:
        raise RuleViolation({"reason": "reason_missing"})
    if len(reason) > MAX_SHORT_TEXT:
        raise RuleViolation({"reason": "too_long"})
    was_public = challenge.status != ChallengeStatus.DRAFT
    challenge.status = lifecycle.next_status(challenge.status, ChallengeAction.CANCEL)
    challenge.cancelled_at, challenge.cancel_reason = now, reason
    for phase in challenge.phases:
        if (phase.status, PhaseAction.CANCEL) in lifecycle.PHASE_TRANSITIONS:
            phase.status = lifecycle.next_phase_status(phase.status, PhaseAction.CANCEL)
    _touch(challenge, now)
    _audit(session, challenge, "challenge.cancelled", actor, now)
    people: dict[int, Any] = {}
    for funder in challenge.funders:
        if funder.role == FunderRole.PARTNER and funder.status in (
                FunderStatus.ACCEPTED, FunderStatus.INVITED, FunderStatus.REQUESTED):
            people.update({u.id: u for u in recipients.editors_of(session, funder.organisation_id)})
    if was_public:
        from procure.submissions.services import suppliers_with_proposals

        people.update({u.id: u for u in recipients.askers_of(session, challenge.id)})
        people.update({u.id: u for u in recipients.followers_of(session, challenge.tag_names)})
        people.update({u.id: u for u in suppliers_with_proposals(session, challenge.id)})
    recipients.tell(session, people.values(), key=f"challenge-cancelled:{challenge.id}",
                    template="challenge_cancelled", challenge=challenge, now=now, reason=reason)
    session.commit()
    return challenge
