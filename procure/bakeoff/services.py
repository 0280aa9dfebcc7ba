"""Bake-off and award use cases: inviting the shortlisted entrants under contract, their
measurement reports and evidence, the editors' verification, the results side by side, the
award's contracts, and the adoption check-ins after an award.

Each service loads what it needs, checks the actor's permission again with ``can()``, applies
the pure rules (``outcomes``, ``rules``), writes the audit event and the outbox messages and
commits, or changes nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload

from procure.accounts.models import User
from procure.assessment import services as assessment
from procure.assessment.models import Decision, DecisionStatus
from procure.assessment.services import _audit, _commit, _text
from procure.audit import services as audit
from procure.bakeoff import outcomes, rules
from procure.bakeoff.models import (
    AdoptionCheckIn,
    AwardContract,
    BakeOffEntrant,
    EvidenceFile,
    MeasurementReport,
    ReportStatus,
)
from procure.challenges import recipients
from procure.challenges.lifecycle import (
    ChallengeAction,
    ChallengeStatus,
    PhaseAction,
    accepting_proposals,
    next_phase_status,
    next_status,
)
from procure.challenges.models import Challenge, OutcomeMeasure, Phase, PhaseKind
from procure.errors import NotFound, NotPermitted, RuleViolation
from procure.notifications.services import external_url
from procure.permissions import Permission, can
from procure.submissions import rules as file_rules
from procure.submissions import storage
from procure.submissions.models import Proposal
from procure.submissions.services import _organisation_members, _phase_lock

MAX_EVIDENCE_FILES = 3


def members_of(session: Session, organisation_id: int) -> list[User]:
    """The active, confirmed members of a supplier organisation."""
    return _organisation_members(session, organisation_id)


def _measures(phase: Phase) -> list[outcomes.Measure]:
    return [outcomes.Measure(id=m.id, direction=m.direction, baseline=m.baseline,
                             target=m.target, weight=m.weight) for m in phase.measures]


# --- scores: what the ranking of a bake-off phase adds -------------------------------------------

def outcome_scores(session: Session, phase: Phase) -> tuple[dict[int, Decimal], bool]:
    """Each entrant's outcome score (by organisation id), and whether a report still waits
    for verification. One query, plain columns, whatever the number of entrants."""
    rows = session.execute(
        select(BakeOffEntrant.organisation_id, MeasurementReport.measure_id,
               MeasurementReport.status, MeasurementReport.value,
               MeasurementReport.verified_value)
        .join(MeasurementReport, MeasurementReport.entrant_id == BakeOffEntrant.id)
        .where(BakeOffEntrant.phase_id == phase.id)).all()
    verified: dict[int, dict[int, Decimal | None]] = {}
    waiting = False
    for organisation_id, measure_id, status, value, corrected in rows:
        verified.setdefault(organisation_id, {})[measure_id] = outcomes.verified_value(
            status, value, corrected)
        waiting = waiting or status == ReportStatus.REPORTED
    measures = _measures(phase)
    entrants = set(session.execute(select(BakeOffEntrant.organisation_id)
                                   .where(BakeOffEntrant.phase_id == phase.id)).scalars())
    return ({org: outcomes.outcome_score(measures, verified.get(org, {})) for org in entrants},
            waiting)


# --- entrants and their contracts ---------------------------------------------------------------

def on_shortlist_released(session: Session, *, phase: Phase, decision: Decision, actor: Any,
                          now: datetime) -> list[BakeOffEntrant]:
    """The suppliers shortlisted in ``phase`` become the entrants of the phase after it, each
    with a bake-off contract of that phase's value to confirm."""
    following = next((p for p in phase.challenge.phases if p.position == phase.position + 1), None)
    if following is None or decision.kind != "shortlist":
        return []
    proposals = {p.id: p for p in session.execute(
        select(Proposal).where(Proposal.id.in_(decision.selected_ids))).scalars()}
    made = []
    for proposal_id in decision.selected_ids:
        proposal = proposals[proposal_id]
        entrant = BakeOffEntrant(phase_id=following.id, organisation_id=proposal.organisation_id,
                                 shortlisted_proposal_id=proposal.id,
                                 contract_value_pence=following.max_value_pence, created_at=now)
        session.add(entrant)
        made.append(entrant)
    session.flush()
    _audit(session, "phase", following.id, "bake_off.entrants_recorded", actor, now,
           entrants=[e.organisation_id for e in made], decision=decision.id)
    return made


def _load_phase(session: Session, challenge_id: int, phase_id: int, *, lock: bool = False) -> Phase:
    stmt = select(Phase).where(Phase.id == phase_id, Phase.challenge_id == challenge_id).options(
        *assessment._phase_options(),
        selectinload(Phase.measures).selectinload(OutcomeMeasure.criterion),
        selectinload(Phase.entrants).selectinload(BakeOffEntrant.organisation),
        selectinload(Phase.entrants).selectinload(BakeOffEntrant.reports)
        .selectinload(MeasurementReport.files))
    if lock:
        stmt = stmt.with_for_update(of=Phase).execution_options(populate_existing=True)
    phase = session.execute(stmt).scalar_one_or_none()
    if phase is None:
        raise NotFound("phase")
    return phase


def authorised_phase(session: Session, actor: Any, permission: Permission, *, challenge_id: int,
                     phase_id: int, now: datetime | None = None, lock: bool = False) -> Phase:
    """The phase, if the actor may know the challenge (404) and do ``permission`` (403)."""
    phase = _load_phase(session, challenge_id, phase_id, lock=lock)
    if not can(actor, Permission.CHALLENGE_VIEW, phase.challenge):
        raise NotFound("challenge")
    if not can(actor, permission, phase, now=now):
        raise NotPermitted(str(permission))
    return phase


def entrants(session: Session, *, actor: Any, challenge_id: int, phase_id: int) -> Phase:
    """An invitation-only phase with its entrants, for the lead and partner authorities."""
    phase = authorised_phase(session, actor, Permission.ASSESSMENT_OVERVIEW,
                             challenge_id=challenge_id, phase_id=phase_id)
    if not phase.is_invitation_only:
        raise NotFound("phase")
    return phase


def invite_entrants(session: Session, *, actor: Any, challenge_id: int, phase_id: int,
                    contracts: dict[int, tuple[int | None, date | None, date | None]],
                    closes_at: datetime | None, now: datetime) -> Phase:
    """Record each entrant's bake-off contract, open the phase to them alone until
    ``closes_at``, and tell them."""
    phase = authorised_phase(session, actor, Permission.BAKE_OFF_INVITE,
                             challenge_id=challenge_id, phase_id=phase_id, lock=True)
    errors: dict[str, str] = {}
    for entrant in phase.entrants:
        value, starts_on, ends_on = contracts.get(entrant.id, (None, None, None))
        errors.update(rules.contract_problems(value, starts_on, ends_on, phase.max_value_pence,
                                              prefix=f"entrant_{entrant.id}_"))
    problem = rules.bake_off_close_problem(closes_at, now)
    if problem:
        errors["closes_at"] = problem
    if errors:
        session.rollback()
        raise RuleViolation(errors)
    phase.status = next_phase_status(phase.status, PhaseAction.OPEN)
    phase.opened_at = now
    if phase.opens_at is None or phase.opens_at > now:
        phase.opens_at = now
    phase.closes_at = closes_at
    for entrant in phase.entrants:
        value, starts_on, ends_on = contracts[entrant.id]
        entrant.contract_value_pence = value
        entrant.contract_starts_on, entrant.contract_ends_on = starts_on, ends_on
        entrant.invited_at, entrant.invited_by_id = now, actor.id
    session.flush()
    _audit(session, "phase", phase.id, "bake_off.opened", actor, now,
           closes_at=closes_at.isoformat(),
           contracts=[{"organisation": e.organisation_id, "value_pence": e.contract_value_pence,
                       "starts_on": e.contract_starts_on.isoformat(),
                       "ends_on": e.contract_ends_on.isoformat()} for e in phase.entrants])
    challenge = phase.challenge
    for entrant in phase.entrants:
        recipients.tell(session, members_of(session, entrant.organisation_id),
                        key=f"bake_off_invited:{entrant.id}", template="bake_off_invited",
                        challenge=challenge, now=now, phase=phase.position,
                        value_pence=entrant.contract_value_pence,
                        closes_at=closes_at,
                        url=external_url("bakeoff.show_entry", entrant_id=entrant.id))
    _commit(session)
    return phase


def own_entry(session: Session, *, actor: Any, entrant_id: int) -> BakeOffEntrant:
    """The actor's organisation's place in a bake-off; NotFound for anyone else."""
    entrant = session.execute(
        select(BakeOffEntrant).where(BakeOffEntrant.id == entrant_id).options(
            selectinload(BakeOffEntrant.phase).selectinload(Phase.measures),
            selectinload(BakeOffEntrant.phase).selectinload(Phase.challenge),
            selectinload(BakeOffEntrant.reports).selectinload(MeasurementReport.files))
        .execution_options(populate_existing=True)).scalar_one_or_none()
    m = getattr(actor, "active_membership", None)
    if entrant is None or m is None or m.organisation_id != entrant.organisation_id \
            or entrant.invited_at is None:
        raise NotFound("entrant")
    return entrant


def entries_of(session: Session, organisation_id: int) -> list[BakeOffEntrant]:
    """Every bake-off the organisation has been invited into, newest first."""
    return list(session.execute(
        select(BakeOffEntrant).where(BakeOffEntrant.organisation_id == organisation_id,
                                     BakeOffEntrant.invited_at.is_not(None))
        .options(selectinload(BakeOffEntrant.phase).selectinload(Phase.challenge))
        .order_by(BakeOffEntrant.invited_at.desc())).scalars())


def entry_for_phase(session: Session, *, organisation_id: int, phase_id: int) -> BakeOffEntrant | None:
    return session.execute(select(BakeOffEntrant).where(
        BakeOffEntrant.organisation_id == organisation_id, BakeOffEntrant.phase_id == phase_id,
        BakeOffEntrant.invited_at.is_not(None))).scalar_one_or_none()


# --- the entrant's reports ----------------------------------------------------------------------

def _reporting(session: Session, actor: Any, entrant_id: int, now: datetime) -> BakeOffEntrant:
    """The actor's entry, locked for a report while the bake-off takes them. The phase row is
    read-locked first, as a submission does, so the close job either waits for this report
    or has closed the phase, which then refuses it whatever the clock says; the entrant row
    is locked so two members' changes (and the count of files) never cross."""
    entrant = own_entry(session, actor=actor, entrant_id=entrant_id)
    _phase_lock(session, entrant.phase_id)
    session.execute(select(BakeOffEntrant.id).where(BakeOffEntrant.id == entrant.id)
                    .with_for_update())
    if not can(actor, Permission.BAKE_OFF_REPORT, entrant):
        raise NotPermitted(str(Permission.BAKE_OFF_REPORT))
    phase = entrant.phase
    if not accepting_proposals(phase.status, phase.opens_at, phase.closes_at, now):
        raise RuleViolation({"value": "bake_off_closed"})
    return entrant


def _measure(entrant: BakeOffEntrant, measure_id: int) -> OutcomeMeasure:
    measure = next((m for m in entrant.phase.measures if m.id == measure_id), None)
    if measure is None:
        raise NotFound("measure")
    return measure


def report_measurement(session: Session, *, actor: Any, entrant_id: int, measure_id: int,
                       value_text: str | None, evidence: str | None,
                       now: datetime) -> MeasurementReport:
    """Report (or change, until the deadline) what the prototype achieved on one measure."""
    entrant = _reporting(session, actor, entrant_id, now)
    measure = _measure(entrant, measure_id)
    evidence = _text(evidence)
    errors = outcomes.report_problems(value_text, evidence)
    if errors:
        session.rollback()
        raise RuleViolation(errors)
    report = entrant.report_for(measure.id)
    if report is None:
        report = MeasurementReport(entrant=entrant, measure_id=measure.id,
                                   status=ReportStatus.REPORTED)
        session.add(report)
    report.value = outcomes.parse_value(value_text)
    report.evidence = evidence
    report.reported_at, report.reported_by_id = now, actor.id
    try:
        session.flush()
    except IntegrityError:  # another member reported the same measure at the same moment
        session.rollback()
        raise RuleViolation({"value": "report_conflict"}) from None
    # Like a proposal, nothing of the report itself before the deadline.
    _audit(session, "bake_off_entrant", entrant.id, "bake_off.measurement_reported", actor, now,
           measure=measure.id, report=report.id)
    _commit(session)
    return report


def add_evidence(session: Session, *, actor: Any, entrant_id: int, measure_id: int,
                 filename: str, data: bytes, now: datetime, folder: Path) -> EvidenceFile:
    """Attach a file of evidence to a reported measurement (type checked from the content)."""
    entrant = _reporting(session, actor, entrant_id, now)
    measure = _measure(entrant, measure_id)
    report = entrant.report_for(measure.id)
    if report is None:
        session.rollback()
        raise RuleViolation({"file": "report_first"})
    if len(report.files) >= MAX_EVIDENCE_FILES:
        session.rollback()
        raise RuleViolation({"file": "too_many_evidence_files"})
    problem, mime = file_rules.file_problem(filename, data)
    if problem:
        session.rollback()
        raise RuleViolation({"file": problem})
    name = file_rules.deduplicate_name(file_rules.clean_filename(filename),
                                       [f.filename for f in report.files])
    stored = storage.save(folder, data)
    try:
        evidence = EvidenceFile(filename=name, stored_name=stored, content_type=mime,
                                size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                                uploaded_at=now, uploaded_by_id=actor.id)
        report.files.append(evidence)
        session.flush()
        _audit(session, "bake_off_entrant", entrant.id, "bake_off.evidence_added", actor, now,
               report=report.id, file=evidence.id)
        session.commit()
    except Exception:
        session.rollback()
        storage.delete(folder, stored)
        raise
    return evidence


def remove_evidence(session: Session, *, actor: Any, entrant_id: int, file_id: int,
                    now: datetime, folder: Path) -> None:
    entrant = _reporting(session, actor, entrant_id, now)
    evidence = next((f for r in entrant.reports for f in r.files if f.id == file_id), None)
    if evidence is None:
        raise NotFound("file")
    stored = evidence.stored_name
    evidence.report.files.remove(evidence)
    _audit(session, "bake_off_entrant", entrant.id, "bake_off.evidence_removed", actor, now,
           file=file_id)
    _commit(session)
    storage.delete(folder, stored)


def evidence_for_download(session: Session, *, actor: Any, file_id: int, now: datetime,
                          folder: Path) -> tuple[EvidenceFile, Path]:
    """A file of evidence: the entrant's own at any time; the lead and partner authorities'
    once the bake-off has closed (each of their downloads audited)."""
    evidence = session.execute(
        select(EvidenceFile).where(EvidenceFile.id == file_id).options(
            joinedload(EvidenceFile.report).joinedload(MeasurementReport.entrant)
            .joinedload(BakeOffEntrant.phase).joinedload(Phase.challenge)
            .selectinload(Challenge.funders))).scalar_one_or_none()
    if evidence is None:
        raise NotFound("file")
    entrant = evidence.report.entrant
    m = getattr(actor, "active_membership", None)
    if m is not None and m.organisation_id == entrant.organisation_id:
        return evidence, storage.path_of(folder, evidence.stored_name)
    if not can(actor, Permission.BAKE_OFF_RESULTS, entrant.phase, now=now):
        # A refused attempt to read sealed evidence is recorded, as for proposals.
        _audit(session, "bake_off_entrant", entrant.id, "bake_off.evidence_read_refused", actor,
               now, file=evidence.id)
        _commit(session)
        raise NotFound("file")
    _audit(session, "bake_off_entrant", entrant.id, "bake_off.evidence_read", actor, now,
           file=evidence.id, sha256=evidence.sha256)
    _commit(session)
    return evidence, storage.path_of(folder, evidence.stored_name)


# --- verifying ----------------------------------------------------------------------------------

def read_reports(session: Session, *, actor: Any, challenge_id: int, phase_id: int,
                 now: datetime) -> Phase:
    """Every entrant's reports and evidence, for the lead and partner authorities once the
    bake-off has closed; each reading is audited, as reading a proposal is."""
    phase = authorised_phase(session, actor, Permission.BAKE_OFF_RESULTS,
                             challenge_id=challenge_id, phase_id=phase_id, now=now)
    _audit(session, "phase", phase.id, "bake_off.reports_read", actor, now,
           entrants=[e.id for e in phase.entrants if e.invited_at is not None])
    _commit(session)
    return phase


def _report(session: Session, report_id: int) -> MeasurementReport:
    report = session.execute(
        select(MeasurementReport).where(MeasurementReport.id == report_id)
        .options(joinedload(MeasurementReport.entrant).joinedload(BakeOffEntrant.organisation),
                 joinedload(MeasurementReport.measure))
        .with_for_update(of=MeasurementReport)
        .execution_options(populate_existing=True)).scalar_one_or_none()
    if report is None:
        raise NotFound("report")
    return report


def verify_measurement(session: Session, *, actor: Any, challenge_id: int, phase_id: int,
                       report_id: int, outcome: str | None, value_text: str | None,
                       reason: str | None, now: datetime) -> MeasurementReport:
    """Accept a reported value, or correct it with a reason; the entrant is told."""
    phase = authorised_phase(session, actor, Permission.BAKE_OFF_VERIFY,
                             challenge_id=challenge_id, phase_id=phase_id, lock=True)
    report = _report(session, report_id)
    if report.entrant.phase_id != phase.id:
        raise NotFound("report")
    reason = _text(reason)
    errors = outcomes.verification_problems(outcome, value_text, reason)
    if errors:
        session.rollback()
        raise RuleViolation(errors)
    if outcome == "accept":
        report.status, report.verified_value, report.correction_reason = (
            ReportStatus.ACCEPTED, report.value, reason)
    else:
        report.status = ReportStatus.CORRECTED
        report.verified_value = outcomes.parse_value(value_text)
        report.correction_reason = reason
    report.verified_at, report.verified_by_id = now, actor.id
    session.flush()
    _audit(session, "bake_off_entrant", report.entrant_id, "bake_off.measurement_verified",
           actor, now, report=report.id, measure=report.measure_id, outcome=report.status,
           reported=str(report.value), verified=str(report.verified_value))
    challenge = phase.challenge
    recipients.tell(session, members_of(session, report.entrant.organisation_id),
                    key=f"measurement_verified:{report.id}:{now.isoformat()}",
                    template="measurement_verified", challenge=challenge, now=now,
                    measure=report.measure.name, corrected=report.status == ReportStatus.CORRECTED,
                    url=external_url("bakeoff.show_entry", entrant_id=report.entrant_id))
    _commit(session)
    return report


# --- the results --------------------------------------------------------------------------------

@dataclass
class MeasureResult:
    measure: OutcomeMeasure
    report: MeasurementReport | None
    verified: Decimal | None
    achievement: Decimal | None


@dataclass
class EntrantResult:
    entrant: BakeOffEntrant
    proposal_id: int | None
    measures: list[MeasureResult]
    outcome: Decimal
    assessed: Decimal | None       # None until the demonstration proposal is assessed
    final: Decimal | None
    rank: int | None
    tied: bool
    eligible: bool
    awarded: bool = False


@dataclass
class Results:
    phase: Phase
    rows: list[EntrantResult]
    blockers: list[str] = field(default_factory=list)
    waiting: int = 0   # reports waiting for verification


def results(session: Session, *, actor: Any, challenge_id: int, phase_id: int,
            now: datetime) -> Results:
    """Every entrant side by side: each measure's baseline, target, reported and verified value
    and achievement, the outcome score, the assessed total and the final score."""
    phase = authorised_phase(session, actor, Permission.BAKE_OFF_RESULTS,
                             challenge_id=challenge_id, phase_id=phase_id, now=now)
    board = assessment.ranking(session, phase)
    by_org = {p.organisation_id: p for p in board.proposals.values()}
    ranked = {r.proposal_id: r for r in board.ranked}
    measures = _measures(phase)
    decision = phase.decision
    awarded = set(decision.selected_ids) if decision is not None and decision.status == \
        DecisionStatus.RELEASED else set()
    rows: list[EntrantResult] = []
    waiting = 0
    for entrant in phase.entrants:
        if entrant.invited_at is None:
            continue
        cells = []
        verified: dict[int, Decimal | None] = {}
        for m, om in zip(measures, phase.measures, strict=True):
            report = entrant.report_for(m.id)
            value = report.counted_value if report is not None else None
            waiting += int(report is not None and report.status == ReportStatus.REPORTED)
            verified[m.id] = value
            cells.append(MeasureResult(measure=om, report=report, verified=value,
                                       achievement=outcomes.achievement(m, value)))
        proposal = by_org.get(entrant.organisation_id)
        result = ranked.get(proposal.id) if proposal is not None else None
        complete = proposal is not None and board.coverage[proposal.id].complete
        rows.append(EntrantResult(
            entrant=entrant, proposal_id=proposal.id if proposal else None, measures=cells,
            outcome=outcomes.outcome_score(measures, verified),
            assessed=result.assessed if result is not None and complete else None,
            final=result.total if result is not None and complete else None,
            rank=result.rank if result is not None and complete else None,
            tied=bool(result and result.tied), eligible=bool(result and result.eligible),
            awarded=proposal is not None and proposal.id in awarded))
    rows.sort(key=lambda r: (r.rank is None, r.rank or 0, r.entrant.organisation.name))
    _audit(session, "phase", phase.id, "bake_off.results_read", actor, now,
           entrants=[r.entrant.id for r in rows])
    _commit(session)
    return Results(phase=phase, rows=rows, blockers=board.blockers, waiting=waiting)


# --- the award's contracts ------------------------------------------------------------------------

def record_contract(session: Session, *, actor: Any, challenge_id: int, phase_id: int,
                    proposal_id: int, value_pence: int | None, starts_on: date | None,
                    ends_on: date | None, now: datetime) -> AwardContract:
    """Record the contract awarded to one selected supplier. Partners approve the award with
    its contracts, so a change asks them again."""
    phase = assessment.load_phase(session, challenge_id=challenge_id, phase_id=phase_id, lock=True)
    decision = phase.decision
    if not can(actor, Permission.CHALLENGE_VIEW, phase.challenge) or decision is None:
        raise NotFound("decision")
    if not can(actor, Permission.AWARD_CONTRACT, decision):
        raise NotPermitted(str(Permission.AWARD_CONTRACT))
    if proposal_id not in decision.selected_ids:
        raise NotFound("proposal")
    # Together the award's contracts stay within the challenge's budget.
    others = sum(c.value_pence for c in decision.contracts if c.proposal_id != proposal_id)
    budget = max(phase.challenge.budget_pence - others, 0)
    errors = {k: "contract_value_above_budget" if v == "contract_value_above_maximum" else v
              for k, v in rules.contract_problems(value_pence, starts_on, ends_on, budget).items()}
    if errors:
        session.rollback()
        raise RuleViolation(errors)
    contract = next((c for c in decision.contracts if c.proposal_id == proposal_id), None)
    if contract is None:
        organisation_id = session.execute(select(Proposal.organisation_id)
                                          .where(Proposal.id == proposal_id)).scalar_one()
        contract = AwardContract(proposal_id=proposal_id, organisation_id=organisation_id)
        decision.contracts.append(contract)
    contract.value_pence, contract.starts_on, contract.ends_on = value_pence, starts_on, ends_on
    contract.recorded_at, contract.recorded_by_id = now, actor.id
    decision.approvals.clear()
    session.flush()
    _audit(session, "phase", phase.id, "award.contract_recorded", actor, now,
           decision=decision.id, proposal=proposal_id, value_pence=value_pence,
           starts_on=starts_on.isoformat(), ends_on=ends_on.isoformat())
    if contracts_complete(decision):
        challenge = phase.challenge
        for funder in challenge.accepted_funders:
            if funder.role == "partner":
                assessment._tell_editors(
                    session, funder.organisation_id, challenge,
                    key=f"decision_approval:{decision.id}:{now.isoformat()}",
                    template="decision_approval_needed", now=now,
                    link=("assessment.show_decision", phase.id), phase=phase.position)
    _commit(session)
    return contract


def contracts_complete(decision: Decision) -> bool:
    """Whether every selected supplier of an award has its contract recorded."""
    if decision.kind != "award":
        return True
    contracted = {c.proposal_id for c in decision.contracts}
    return all(i in contracted for i in decision.selected_ids)


def on_award_released(session: Session, *, phase: Phase, decision: Decision, actor: Any,
                      now: datetime) -> None:
    """An award (or no award) released: the challenge is concluded."""
    challenge = phase.challenge
    if challenge.status == ChallengeStatus.OPEN:
        challenge.status = next_status(challenge.status, ChallengeAction.START)
        challenge.in_progress_at = now
    challenge.status = next_status(challenge.status, ChallengeAction.CONCLUDE)
    challenge.concluded_at = challenge.updated_at = now
    # Entrants who sent no demonstration are in no ranking, but are told the result too.
    ranked = {r["organisation_id"] for r in decision.results}
    for entrant in getattr(phase, "entrants", ()):
        if entrant.invited_at is not None and entrant.organisation_id not in ranked:
            recipients.tell(session, members_of(session, entrant.organisation_id),
                            key=f"decision_released:{decision.id}", template="decision_released",
                            challenge=challenge, now=now, phase=phase.position, kind=decision.kind,
                            selected=False,
                            feedback_url=external_url("bakeoff.show_entry", entrant_id=entrant.id))
    audit.record(session, action="challenge.concluded", subject_type="challenge",
                 subject_id=challenge.id, actor_id=getattr(actor, "id", None), now=now,
                 data={"decision": decision.id, "awarded": decision.selected_ids,
                       "contracts": [{"organisation": c.organisation_id,
                                      "value_pence": c.value_pence} for c in decision.contracts]})


# --- adoption check-ins ---------------------------------------------------------------------------

def ask_for_check_ins(session: Session, *, now: datetime) -> int:
    """Ask the lead authority of every awarded challenge for each check-in that has fallen due
    (6, 12 and 24 months after the award). Safe to run again: a check-in is asked for once."""
    awards = session.execute(
        select(Decision, Challenge).join(Phase, Phase.id == Decision.phase_id)
        .join(Challenge, Challenge.id == Phase.challenge_id)
        .where(Decision.kind == "award", Decision.status == DecisionStatus.RELEASED,
               Challenge.status.in_([ChallengeStatus.CONCLUDED, ChallengeStatus.PUBLISHED]))
        .order_by(Decision.id)).all()
    asked: dict[int, set[int]] = {}
    for challenge_id, months in session.execute(
            select(AdoptionCheckIn.challenge_id, AdoptionCheckIn.months)):
        asked.setdefault(challenge_id, set()).add(months)
    made = 0
    for decision, challenge in awards:
        if not decision.selected_ids:  # no award: nothing to adopt
            continue
        for months in rules.due_check_ins(decision.released_at, now, asked.get(challenge.id, ())):
            check_in = AdoptionCheckIn(challenge_id=challenge.id, decision_id=decision.id,
                                       months=months, asked_at=now,
                                       due_at=rules.check_in_due_at(decision.released_at, months))
            try:
                with session.begin_nested():
                    session.add(check_in)
            except IntegrityError:  # another beat asked for it at the same moment
                continue
            _audit(session, "challenge", challenge.id, "adoption.check_in_due", None, now,
                   months=months)
            recipients.tell(session, recipients.editors_of(session, challenge.lead_organisation_id),
                            key=f"adoption_check_in:{challenge.id}:{months}",
                            template="adoption_check_in_due", challenge=challenge, now=now,
                            months=months,
                            url=external_url("bakeoff.show_check_in", challenge_id=challenge.id,
                                             months=months))
            made += 1
    _commit(session)
    return made


def check_in_tasks(session: Session, *, actor: Any) -> list[AdoptionCheckIn]:
    """The check-ins the actor's authority has been asked for and not yet answered."""
    m = getattr(actor, "active_membership", None)
    if m is None:
        return []
    return list(session.execute(
        select(AdoptionCheckIn).join(Challenge, Challenge.id == AdoptionCheckIn.challenge_id)
        .where(Challenge.lead_organisation_id == m.organisation_id,
               AdoptionCheckIn.recorded_at.is_(None))
        .options(joinedload(AdoptionCheckIn.challenge))
        .order_by(AdoptionCheckIn.due_at)).scalars())


def get_check_in(session: Session, *, actor: Any, challenge_id: int, months: int,
                 lock: bool = False) -> AdoptionCheckIn:
    """A check-in, for the lead authority's members; NotFound for anyone else."""
    stmt = select(AdoptionCheckIn).where(AdoptionCheckIn.challenge_id == challenge_id,
                                         AdoptionCheckIn.months == months).options(
        joinedload(AdoptionCheckIn.challenge).selectinload(Challenge.phases)
        .selectinload(Phase.measures))
    if lock:
        stmt = stmt.with_for_update(of=AdoptionCheckIn).execution_options(populate_existing=True)
    check_in = session.execute(stmt).scalar_one_or_none()
    m = getattr(actor, "active_membership", None)
    if check_in is None or m is None \
            or m.organisation_id != check_in.challenge.lead_organisation_id:
        raise NotFound("check_in")
    return check_in


def check_in_measures(check_in: AdoptionCheckIn) -> list[OutcomeMeasure]:
    """The outcome measures a check-in asks about: those of the challenge's bake-off phases."""
    return [m for p in check_in.challenge.phases if p.kind == PhaseKind.BAKE_OFF
            for m in p.measures]


def record_check_in(session: Session, *, actor: Any, challenge_id: int, months: int,
                    in_use: bool | None, used_by: str | None, notes: str | None,
                    values: dict[int, str], now: datetime) -> AdoptionCheckIn:
    """Record (or correct) whether the solution is in use, by whom, and the latest values."""
    check_in = get_check_in(session, actor=actor, challenge_id=challenge_id, months=months,
                            lock=True)
    if not can(actor, Permission.CHECK_IN_RECORD, check_in):
        raise NotPermitted(str(Permission.CHECK_IN_RECORD))
    used_by, notes = _text(used_by), _text(notes)
    measures = {m.id for m in check_in_measures(check_in)}
    values = {k: v for k, v in values.items() if k in measures}
    errors = rules.check_in_problems(in_use, used_by, notes, values)
    if errors:
        session.rollback()
        raise RuleViolation(errors)
    check_in.in_use = in_use
    check_in.used_by = used_by if in_use else ""
    check_in.notes = notes
    check_in.measure_values = {str(k): str(outcomes.parse_value(v)) for k, v in values.items()
                               if (v or "").strip()}
    check_in.recorded_at, check_in.recorded_by_id = now, actor.id
    _audit(session, "challenge", challenge_id, "adoption.check_in_recorded", actor, now,
           months=months, in_use=in_use, values=check_in.measure_values)
    _commit(session)
    return check_in
