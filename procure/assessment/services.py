"""Assessment use cases: appoint assessors, declare conflicts, score, moderate, rank, decide,
approve, release, and each supplier's feedback.

Every service loads what it needs, checks the actor's permission again with the pure
``can()``, applies the pure rules (``rules``, ``scoring``), writes the audit event and the
outbox messages, and commits. The ranking is computed from a fixed number of queries,
whatever the number of proposals, assessors and criteria.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload

from procure.accounts.models import Membership, User
from procure.assessment import rules, scoring
from procure.assessment.models import (
    AppointmentStatus,
    Assessment,
    AssessmentMark,
    AssessmentStatus,
    AssessorAppointment,
    ConflictDeclaration,
    Decision,
    DecisionApproval,
    DecisionStatus,
    Moderation,
)
from procure.audit import services as audit
from procure.bakeoff import models as _bakeoff_models  # noqa: F401 - decision.contracts
from procure.challenges import recipients
from procure.challenges.lifecycle import PhaseAction, next_phase_status
from procure.challenges.models import Challenge, ChallengeFunder, Phase, PhaseCriterion, PhaseKind
from procure.errors import InvalidTransition, NotFound, NotPermitted, RuleViolation
from procure.notifications.services import external_url, queue_email
from procure.permissions import Permission, can
from procure.submissions import sealing
from procure.submissions.models import Proposal, ProposalStatus

INVITATION_LIFETIME = timedelta(days=14)
NAME_MAX, EMAIL_MAX = 200, 254


def _text(value: str | None) -> str:
    return (value or "").replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n").strip()


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _audit(session: Session, subject_type: str, subject_id: int, action: str, actor: Any,
           now: datetime, **data: Any) -> None:
    audit.record(session, action=action, subject_type=subject_type, subject_id=subject_id,
                 actor_id=getattr(actor, "id", None), now=now, data=data or None)


def _commit(session: Session) -> None:
    try:
        session.commit()
    except Exception:
        session.rollback()
        raise


# --- loading ----------------------------------------------------------------------------------

def _phase_options():
    return (selectinload(Phase.challenge).selectinload(Challenge.funders)
            .selectinload(ChallengeFunder.organisation),
            selectinload(Phase.challenge).selectinload(Challenge.lead_organisation),
            selectinload(Phase.challenge).selectinload(Challenge.phases),
            selectinload(Phase.criteria).selectinload(PhaseCriterion.criterion),
            selectinload(Phase.appointments).selectinload(AssessorAppointment.declarations),
            selectinload(Phase.appointments).selectinload(AssessorAppointment.assessments),
            selectinload(Phase.appointments).selectinload(AssessorAppointment.user),
            selectinload(Phase.decision).selectinload(Decision.approvals)
            .selectinload(DecisionApproval.organisation))


def load_phase(session: Session, *, challenge_id: int, phase_id: int, lock: bool = False) -> Phase:
    """The phase of that challenge with what assessment needs; NotFound otherwise."""
    stmt = select(Phase).where(Phase.id == phase_id, Phase.challenge_id == challenge_id) \
        .options(*_phase_options())
    if lock:
        stmt = stmt.with_for_update(of=Phase).execution_options(populate_existing=True)
    phase = session.execute(stmt).scalar_one_or_none()
    if phase is None:
        raise NotFound("phase")
    return phase


def authorised_phase(session: Session, actor: Any, permission: Permission, *,
                     challenge_id: int, phase_id: int, lock: bool = False) -> Phase:
    """The phase, if the actor may know the challenge (404) and do ``permission`` (403)."""
    phase = load_phase(session, challenge_id=challenge_id, phase_id=phase_id, lock=lock)
    if not can(actor, Permission.CHALLENGE_VIEW, phase.challenge):
        raise NotFound("challenge")
    if not can(actor, permission, phase):
        raise NotPermitted(str(permission))
    return phase


def load_proposal(session: Session, proposal_id: int) -> Proposal:
    from procure.submissions.services import _eager as proposal_eager

    proposal = session.execute(
        select(Proposal).where(Proposal.id == proposal_id).options(
            *proposal_eager(),
            selectinload(Proposal.phase).selectinload(Phase.appointments)
            .selectinload(AssessorAppointment.declarations),
            selectinload(Proposal.phase).selectinload(Phase.appointments)
            .selectinload(AssessorAppointment.assessments),
            selectinload(Proposal.phase).selectinload(Phase.decision))
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if proposal is None:
        raise NotFound("proposal")
    return proposal


def authorised_proposal(session: Session, actor: Any, permission: Permission,
                        proposal_id: int, now: datetime) -> Proposal:
    """A proposal the actor may act on; anything else looks like a proposal that is not there
    (a refused read of a sealed proposal is audited)."""
    proposal = load_proposal(session, proposal_id)
    if not can(actor, permission, proposal, now=now):
        from procure.submissions.services import _refuse_read

        _refuse_read(session, actor, proposal_id, now)
    return proposal


def _counting(phase_id: int) -> tuple[Any, ...]:
    """The conditions for a proposal in the competition (a submission stands, nothing to
    confirm): one definition, used in lists and in subqueries."""
    return (Proposal.phase_id == phase_id,
            Proposal.status.in_([ProposalStatus.SUBMITTED, ProposalStatus.REOPENED]),
            Proposal.current_receipt_id.is_not(None), Proposal.must_reconfirm.is_(False))


def counting_proposals(session: Session, phase_id: int) -> list[Proposal]:
    """The phase's proposals in the competition, with their suppliers, in one query."""
    return list(session.execute(
        select(Proposal).where(*_counting(phase_id))
        .options(joinedload(Proposal.organisation))
        .order_by(Proposal.id)).scalars())


def _standing(appointments: list[AssessorAppointment]) -> list[AssessorAppointment]:
    return [a for a in appointments
            if a.status in (AppointmentStatus.INVITED, AppointmentStatus.ACCEPTED)]


def _tell_editors(session: Session, organisation_id: int, challenge: Challenge, *, key: str,
                  template: str, now: datetime, link: tuple[str, int], **context: Any) -> None:
    """E-mail an authority's editors about the challenge's phase, with a link to ``link``'s page
    (an endpoint of this blueprint and the phase id)."""
    endpoint, phase_id = link
    recipients.tell(session, recipients.editors_of(session, organisation_id), key=key,
                    template=template, challenge=challenge, now=now,
                    url=external_url(endpoint, challenge_id=challenge.id, phase_id=phase_id),
                    **context)


# --- appointing -------------------------------------------------------------------------------

def candidate_assessors(session: Session, phase: Phase) -> list[User]:
    """Active members of the lead and accepted partner authorities not yet appointed."""
    challenge = phase.challenge
    organisations = [challenge.lead_organisation_id] + [
        f.organisation_id for f in challenge.funders
        if f.role == "partner" and f.status == "accepted"]
    appointed = {a.user_id for a in _standing(phase.appointments) if a.user_id is not None}
    users = session.execute(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.organisation_id.in_(organisations), Membership.status == "active",
               User.is_disabled.is_(False), User.email_confirmed_at.is_not(None))
        .options(selectinload(User.membership).selectinload(Membership.organisation))
        .order_by(User.name, User.id)).scalars().all()
    return [u for u in users if u.id not in appointed]


def _appointment_email(session: Session, appointment: AssessorAppointment, *, template: str,
                       to_email: str, locale: str, recipient_id: int | None, now: datetime,
                       name: str, **context: Any) -> None:
    challenge = appointment.phase.challenge
    title = challenge.title_cy if locale == "cy" and challenge.title_cy else challenge.title
    queue_email(session, key=f"{template}:{appointment.id}:{recipient_id or to_email}",
                template=template, to_email=to_email, locale=locale, recipient_id=recipient_id,
                now=now, context={"name": name, "title": title,
                                  "authority": challenge.lead_organisation.name,
                                  "phase": appointment.phase.position, **context})


def appoint_member(session: Session, *, actor: Any, challenge_id: int, phase_id: int,
                   user_id: int, now: datetime) -> AssessorAppointment:
    """Appoint a member of the lead or a partner authority; they accept on their dashboard."""
    phase = authorised_phase(session, actor, Permission.ASSESSOR_APPOINT,
                             challenge_id=challenge_id, phase_id=phase_id, lock=True)
    user = next((u for u in candidate_assessors(session, phase) if u.id == user_id), None)
    if user is None:
        raise RuleViolation({"user_id": "assessor_not_eligible"})
    appointment = next((a for a in phase.appointments if a.user_id == user.id), None)
    if appointment is None:
        appointment = AssessorAppointment(phase=phase, user=user, user_id=user.id,
                                          appointed_by_id=actor.id, created_at=now,
                                          status=AppointmentStatus.INVITED)
        session.add(appointment)
    else:  # appointed again after declining or being stood down
        appointment.status, appointment.decided_at = AppointmentStatus.INVITED, None
        appointment.created_at = now
    session.flush()
    _audit(session, "phase", phase.id, "assessor.appointed", actor, now,
           appointment=appointment.id, user=user.id)
    _appointment_email(session, appointment, template="assessor_appointed", to_email=user.email,
                       locale=user.locale, recipient_id=user.id, now=now, name=user.name,
                       dashboard_url=external_url("assessment.dashboard"))
    _commit(session)
    return appointment


def invite_expert(session: Session, *, actor: Any, challenge_id: int, phase_id: int, name: str,
                  email: str, now: datetime) -> tuple[AssessorAppointment, str]:
    """Invite an independent expert by e-mail; they register (or sign in) through the link."""
    phase = authorised_phase(session, actor, Permission.ASSESSOR_APPOINT,
                             challenge_id=challenge_id, phase_id=phase_id, lock=True)
    name, email = _text(name), _text(email).lower()
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = "expert_name_missing"
    elif len(name) > NAME_MAX:
        errors["name"] = "text_too_long"
    if not email or "@" not in email or len(email) > EMAIL_MAX or any(c.isspace() for c in email):
        errors["email"] = "expert_email_invalid"
    if not errors:
        existing = session.execute(select(User).where(func.lower(User.email) == email)) \
            .scalar_one_or_none()
        if existing is not None and existing.membership is not None \
                and existing.membership.organisation.kind == "supplier":
            errors["email"] = "expert_is_supplier"
        elif any(a.invited_email == email or (existing is not None and a.user_id == existing.id)
                 for a in _standing(phase.appointments)):
            errors["email"] = "expert_already_appointed"
    if errors:
        raise RuleViolation(errors)
    token = secrets.token_urlsafe(32)
    appointment = AssessorAppointment(
        phase=phase, invited_email=email, invited_name=name, is_independent=True,
        token_hash=_hash_token(token), token_expires_at=now + INVITATION_LIFETIME,
        status=AppointmentStatus.INVITED, appointed_by_id=actor.id, created_at=now)
    session.add(appointment)
    session.flush()
    _audit(session, "phase", phase.id, "assessor.expert_invited", actor, now,
           appointment=appointment.id)
    _appointment_email(session, appointment, template="assessor_invited", to_email=email,
                       locale="en", recipient_id=None, now=now, name=name,
                       invitation_url=external_url("assessment.show_invitation", token=token),
                       expires=appointment.token_expires_at)
    _commit(session)
    return appointment, token


def remove_appointment(session: Session, *, actor: Any, challenge_id: int, phase_id: int,
                       appointment_id: int, now: datetime) -> AssessorAppointment:
    """Stand an assessor down (one who has not answered, or will not assess) so the phase
    does not wait for them. Someone who has submitted an assessment cannot be removed: their
    marks stand."""
    phase = authorised_phase(session, actor, Permission.ASSESSOR_APPOINT,
                             challenge_id=challenge_id, phase_id=phase_id, lock=True)
    appointment = next((a for a in phase.appointments if a.id == appointment_id), None)
    if appointment is None:
        raise NotFound("appointment")
    if appointment.status not in (AppointmentStatus.INVITED, AppointmentStatus.ACCEPTED):
        raise InvalidTransition(appointment.status, "remove")
    if any(a.status == AssessmentStatus.SUBMITTED for a in appointment.assessments):
        raise RuleViolation({"appointment": "assessor_has_submitted"})
    appointment.status = AppointmentStatus.REMOVED
    appointment.decided_at = now
    appointment.token_hash = None
    _audit(session, "phase", phase.id, "assessor.removed", actor, now, appointment=appointment.id)
    email = appointment.user.email if appointment.user else appointment.invited_email
    _appointment_email(session, appointment, template="assessor_removed", to_email=email,
                       locale=appointment.user.locale if appointment.user else "en",
                       recipient_id=appointment.user_id, now=now,
                       name=appointment.display_name)
    _commit(session)
    return appointment


def invitation(session: Session, token: str, now: datetime) -> AssessorAppointment:
    """The invitation behind a link, while it is valid; NotFound otherwise."""
    appointment = session.execute(
        select(AssessorAppointment).where(AssessorAppointment.token_hash == _hash_token(token))
        .options(selectinload(AssessorAppointment.phase).selectinload(Phase.challenge)
                 .selectinload(Challenge.lead_organisation))
    ).scalar_one_or_none()
    if (appointment is None or appointment.status != AppointmentStatus.INVITED
            or appointment.token_expires_at is None or appointment.token_expires_at <= now):
        raise NotFound("invitation")
    return appointment


def accept_invitation(session: Session, *, actor: Any, token: str, now: datetime) -> AssessorAppointment:
    """The invited expert, signed in with the invited address, takes up the appointment."""
    appointment = invitation(session, token, now)
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise NotPermitted("sign in first")
    if actor.email.lower() != appointment.invited_email:
        raise RuleViolation({"invitation": "invitation_other_address"})
    m = actor.active_membership
    if m is not None and m.organisation.kind == "supplier":
        raise RuleViolation({"invitation": "expert_is_supplier"})
    taken = session.execute(select(AssessorAppointment).where(
        AssessorAppointment.phase_id == appointment.phase_id,
        AssessorAppointment.user_id == actor.id)).scalar_one_or_none()
    if taken is not None and taken.status in (AppointmentStatus.INVITED, AppointmentStatus.ACCEPTED):
        raise RuleViolation({"invitation": "expert_already_appointed"})
    if taken is not None:  # an old, declined appointment of the same person: reuse its row
        session.delete(taken)
        session.flush()
    appointment.user_id = actor.id
    appointment.status = AppointmentStatus.ACCEPTED
    appointment.decided_at = now
    appointment.token_hash = None
    session.flush()
    _audit(session, "phase", appointment.phase_id, "assessor.accepted", actor, now,
           appointment=appointment.id)
    _tell_lead_of_response(session, appointment, actor, accepted=True, now=now)
    _commit(session)
    return appointment


def _tell_lead_of_response(session: Session, appointment: AssessorAppointment, actor: Any, *,
                           accepted: bool, now: datetime) -> None:
    challenge = appointment.phase.challenge
    _tell_editors(session, challenge.lead_organisation_id, challenge,
                  key=f"assessor_responded:{appointment.id}:{appointment.status}:{now.isoformat()}",
                  template="assessor_responded", now=now,
                  link=("assessment.list_assessors", appointment.phase_id),
                  assessor=actor.name, accepted=accepted, phase=appointment.phase.position)


def my_appointments(session: Session, *, actor: Any) -> list[AssessorAppointment]:
    """The actor's appointments, newest first."""
    return list(session.execute(
        select(AssessorAppointment).where(AssessorAppointment.user_id == actor.id)
        .options(selectinload(AssessorAppointment.phase).selectinload(Phase.challenge),
                 selectinload(AssessorAppointment.declarations),
                 selectinload(AssessorAppointment.assessments))
        .order_by(AssessorAppointment.created_at.desc(), AssessorAppointment.id.desc())).scalars())


def own_appointment(session: Session, *, actor: Any, appointment_id: int,
                    lock: bool = False) -> AssessorAppointment:
    """One of the actor's own appointments; anyone else's looks like one that is not there."""
    stmt = select(AssessorAppointment).where(AssessorAppointment.id == appointment_id).options(
        selectinload(AssessorAppointment.phase).options(*_phase_options()),
        selectinload(AssessorAppointment.declarations),
        selectinload(AssessorAppointment.assessments))
    if lock:
        stmt = stmt.with_for_update(of=AssessorAppointment).execution_options(populate_existing=True)
    appointment = session.execute(stmt).scalar_one_or_none()
    if appointment is None or actor is None or appointment.user_id != getattr(actor, "id", None):
        raise NotFound("appointment")
    return appointment


def respond_to_appointment(session: Session, *, actor: Any, appointment_id: int, accept: bool,
                           now: datetime) -> AssessorAppointment:
    """Accept or decline an appointment made by the editors."""
    appointment = own_appointment(session, actor=actor, appointment_id=appointment_id, lock=True)
    if appointment.status != AppointmentStatus.INVITED:
        raise InvalidTransition(appointment.status, "respond")
    appointment.status = AppointmentStatus.ACCEPTED if accept else AppointmentStatus.DECLINED
    appointment.decided_at = now
    _audit(session, "phase", appointment.phase_id,
           "assessor.accepted" if accept else "assessor.declined", actor, now,
           appointment=appointment.id)
    _tell_lead_of_response(session, appointment, actor, accepted=accept, now=now)
    _commit(session)
    return appointment


def tell_assessors_phase_closed(session: Session, *, phase: Phase, now: datetime) -> None:
    """The close job's message to the phase's assessors: proposals are ready to assess (those
    still to accept are reminded to). Written in the closing transaction, once each."""
    appointments = session.execute(
        select(AssessorAppointment).where(
            AssessorAppointment.phase_id == phase.id, AssessorAppointment.user_id.is_not(None),
            AssessorAppointment.status.in_([AppointmentStatus.INVITED,
                                            AppointmentStatus.ACCEPTED]))
        .options(selectinload(AssessorAppointment.user))).scalars().all()
    for appointment in appointments:
        recipients.tell(session, [appointment.user], key=f"assessment_due:{appointment.id}",
                        template="assessment_due", challenge=phase.challenge, now=now,
                        phase=phase.position,
                        accepted=appointment.status == AppointmentStatus.ACCEPTED,
                        url=external_url("assessment.show_work", appointment_id=appointment.id)
                        if appointment.status == AppointmentStatus.ACCEPTED
                        else external_url("assessment.dashboard"))


# --- the assessor's work ----------------------------------------------------------------------

@dataclass
class WorkItem:
    """One proposal as its assessor sees it on the dashboard."""
    proposal: Proposal
    declaration: ConflictDeclaration | None
    assessment: Assessment | None


def workload(session: Session, *, actor: Any, appointment_id: int, now: datetime) -> tuple[
        AssessorAppointment, list[WorkItem]]:
    """The proposals of the assessor's phase (once unsealed), with their declaration and marks."""
    appointment = own_appointment(session, actor=actor, appointment_id=appointment_id)
    phase = appointment.phase
    if appointment.status != AppointmentStatus.ACCEPTED or not sealing.phase_unsealed(
            phase.status, phase.closes_at, phase.closed_at, now):
        return appointment, []
    assessments = {a.proposal_id: a for a in appointment.assessments}
    items = [WorkItem(p, sealing.declaration(appointment, p.organisation_id),
                      assessments.get(p.id)) for p in counting_proposals(session, phase.id)]
    return appointment, items


def declare(session: Session, *, actor: Any, proposal_id: int, conflicted: bool | None,
            reason: str, now: datetime) -> ConflictDeclaration:
    """Declare no conflict, or a conflict with a reason, with the proposal's supplier. A
    conflict leaves that proposal to others; if too few remain, the editors are asked for
    another assessor."""
    proposal = authorised_proposal(session, actor, Permission.ASSESSMENT_DECLARE, proposal_id, now)
    reason = _text(reason)
    errors = rules.conflict_problems(conflicted, reason)
    if errors:
        raise RuleViolation(errors)
    phase = proposal.phase
    appointment = sealing.appointment_of(actor, phase)
    declaration = ConflictDeclaration(appointment=appointment, organisation_id=proposal.organisation_id,
                                      conflicted=bool(conflicted),
                                      reason=reason if conflicted else "", declared_at=now)
    session.add(declaration)
    try:
        session.flush()
    except IntegrityError:  # declared already in another request
        session.rollback()
        raise InvalidTransition("declared", "declare") from None
    _audit(session, "proposal", proposal.id, "assessment.conflict_declared", actor, now,
           appointment=appointment.id, conflicted=bool(conflicted))
    if conflicted:
        short = _coverage_of(phase, proposal)
        if short.needed > 0:
            _tell_editors(session, phase.challenge.lead_organisation_id, phase.challenge,
                          key=f"assessor_needed:{proposal.id}:{short.available}",
                          template="assessor_needed", now=now,
                          link=("assessment.list_assessors", phase.id), phase=phase.position,
                          needed=short.needed, minimum=phase.min_assessments)
    _commit(session)
    return declaration


def open_assessment(session: Session, *, actor: Any, proposal_id: int,
                    now: datetime) -> tuple[Proposal, Assessment | None]:
    """The proposal to assess (its read audited) and the assessor's marks so far, if any."""
    proposal = authorised_proposal(session, actor, Permission.ASSESSMENT_SCORE, proposal_id, now)
    appointment = sealing.appointment_of(actor, proposal.phase)
    assessment = next((a for a in appointment.assessments if a.proposal_id == proposal.id), None)
    _audit(session, "proposal", proposal.id, "proposal.read", actor, now,
           receipt=proposal.current_receipt.digest, as_assessor=True)
    _commit(session)
    return proposal, assessment


def _scored(phase: Phase) -> list[tuple[int, str]]:
    return [(pc.id, pc.criterion.kind) for pc in phase.criteria]


def save_marks(session: Session, *, actor: Any, proposal_id: int, marks: dict[int, dict[str, Any]],
               submit: bool, now: datetime) -> Assessment:
    """Save the assessor's marks (gaps allowed), or submit them complete and locked."""
    proposal = authorised_proposal(session, actor, Permission.ASSESSMENT_SCORE, proposal_id, now)
    phase = proposal.phase
    appointment = sealing.appointment_of(actor, phase)
    session.execute(select(AssessorAppointment.id).where(AssessorAppointment.id == appointment.id)
                    .with_for_update())
    marks = {pc_id: {**m, "justification": _text(m.get("justification"))}
             for pc_id, m in marks.items()}
    errors = rules.mark_problems(_scored(phase), marks, submitting=submit)
    if errors:
        raise RuleViolation(errors)
    assessment = session.execute(select(Assessment).where(
        Assessment.appointment_id == appointment.id, Assessment.proposal_id == proposal.id)
        .options(selectinload(Assessment.marks))
        .execution_options(populate_existing=True)).scalar_one_or_none()
    if assessment is not None and assessment.status == AssessmentStatus.SUBMITTED:
        raise InvalidTransition(assessment.status, "score")
    if assessment is None:
        assessment = Assessment(appointment_id=appointment.id, proposal_id=proposal.id,
                                status=AssessmentStatus.DRAFT, started_at=now, updated_at=now)
        session.add(assessment)
    for pc_id, kind in _scored(phase):
        given = marks.get(pc_id, {})
        row = assessment.mark_for(pc_id)
        if row is None:
            row = AssessmentMark(phase_criterion_id=pc_id)
            assessment.marks.append(row)
        if kind == "gate":
            row.passed, row.score = given.get("passed"), None
        else:
            row.score, row.passed = given.get("score"), None
        row.justification = given.get("justification") or ""
    assessment.updated_at = now
    if submit:
        assessment.status = AssessmentStatus.SUBMITTED
        assessment.submitted_at = now
    session.flush()
    _audit(session, "proposal", proposal.id,
           "assessment.submitted" if submit else "assessment.saved", actor, now,
           assessment=assessment.id)
    if submit:
        _after_submission(session, phase, proposal, now)
    _commit(session)
    return assessment


def _after_submission(session: Session, phase: Phase, proposal: Proposal, now: datetime) -> None:
    """When a proposal's assessments are all in, say so — and what needs moderating; when the
    whole phase is assessed, tell the editors it is ready to decide."""
    session.expire(phase, ["appointments"])
    board = ranking(session, phase)
    cover = board.coverage.get(proposal.id)
    if cover is None or not cover.complete:
        return
    challenge = phase.challenge
    link = ("assessment.show_overview", phase.id)
    if board.flags.get(proposal.id):
        _tell_editors(session, challenge.lead_organisation_id, challenge,
                      key=f"moderation_needed:{proposal.id}", template="moderation_needed",
                      now=now, link=link, phase=phase.position,
                      flagged=len(board.flags[proposal.id]), supplier=proposal.organisation.name)
    if all(c.complete for c in board.coverage.values()):
        _tell_editors(session, challenge.lead_organisation_id, challenge,
                      key=f"assessments_complete:{phase.id}", template="assessments_complete",
                      now=now, link=link, phase=phase.position)


# --- seeing the marks and moderating ------------------------------------------------------------

@dataclass
class ProposalMarks:
    proposal: Proposal
    assessments: list[Assessment]                # submitted only
    flagged: list[int]                           # phase criterion ids
    moderations: dict[int, Moderation]           # by phase criterion id
    result: scoring.Result
    complete: bool


def proposal_marks(session: Session, *, actor: Any, proposal_id: int, now: datetime,
                   permission: Permission = Permission.ASSESSMENT_READ_SCORES) -> ProposalMarks:
    """Every submitted assessment of a proposal, its flags, consensus and result."""
    proposal = authorised_proposal(session, actor, permission, proposal_id, now)
    phase = proposal.phase
    assessments = list(session.execute(
        select(Assessment).where(Assessment.proposal_id == proposal.id,
                                 Assessment.status == AssessmentStatus.SUBMITTED)
        .options(selectinload(Assessment.marks),
                 selectinload(Assessment.appointment).selectinload(AssessorAppointment.user))
        .order_by(Assessment.id)).scalars())
    moderations = {m.phase_criterion_id: m for m in session.execute(
        select(Moderation).where(Moderation.proposal_id == proposal.id)).scalars()}
    criteria = _criteria(phase)
    inputs = [_assessment_input(a) for a in assessments]
    result = scoring.score_proposal(proposal.id, criteria, inputs,
                                    [_consensus_input(m) for m in moderations.values()])
    cover = _coverage_of(phase, proposal)
    return ProposalMarks(proposal=proposal, assessments=assessments,
                         flagged=scoring.flags(criteria, inputs), moderations=moderations,
                         result=result, complete=cover.complete)


def moderate(session: Session, *, actor: Any, proposal_id: int, phase_criterion_id: int,
             score: Any, passed: Any, rationale: str, now: datetime) -> Moderation:
    """Record (or change) the consensus on one criterion of a fully assessed proposal."""
    proposal = authorised_proposal(session, actor, Permission.ASSESSMENT_MODERATE, proposal_id, now)
    phase = proposal.phase
    pc = next((c for c in phase.criteria if c.id == phase_criterion_id), None)
    if pc is None:
        raise NotFound("criterion")
    if not _coverage_of(phase, proposal).complete:
        raise InvalidTransition("assessing", "moderate")
    rationale = _text(rationale)
    errors = rules.consensus_problems(pc.criterion.kind, score, passed, rationale)
    if errors:
        raise RuleViolation(errors)
    row = session.execute(select(Moderation).where(
        Moderation.proposal_id == proposal.id, Moderation.phase_criterion_id == pc.id)
        .with_for_update()).scalar_one_or_none()
    if row is None:
        row = Moderation(proposal_id=proposal.id, phase_criterion_id=pc.id)
        session.add(row)
    if pc.criterion.kind == "gate":
        row.passed, row.score = bool(passed), None
    else:
        row.score, row.passed = Decimal(str(score)), None
    row.rationale, row.moderated_by_id, row.moderated_at = rationale, actor.id, now
    session.flush()
    _audit(session, "proposal", proposal.id, "assessment.moderated", actor, now,
           criterion=pc.id, score=str(row.score) if row.score is not None else None,
           passed=row.passed)
    _commit(session)
    return row


# --- the ranking --------------------------------------------------------------------------------

def _criteria(phase: Phase) -> list[scoring.Criterion]:
    return [scoring.Criterion(id=pc.id, kind=pc.criterion.kind, weight=pc.weight)
            for pc in phase.criteria]


def _assessment_input(a: Assessment) -> scoring.Assessment:
    return scoring.Assessment(
        assessor_id=a.appointment_id,
        scores={m.phase_criterion_id: m.score for m in a.marks if m.score is not None},
        gates={m.phase_criterion_id: m.passed for m in a.marks if m.passed is not None})


def _consensus_input(m: Moderation) -> scoring.Consensus:
    return scoring.Consensus(criterion_id=m.phase_criterion_id, score=m.score, passed=m.passed)


def _seats(accepted: list[int], declarations: list[tuple[int, int, bool]],
           submitted: dict[int, set[int]]) -> list[rules.Seat]:
    """The accepted assessors as the coverage rule sees them, from plain rows:
    ``declarations`` are (appointment id, supplier organisation id, conflicted)."""
    conflicted: dict[int, set[int]] = {}
    declared: dict[int, set[int]] = {}
    for appointment_id, organisation_id, is_conflict in declarations:
        declared.setdefault(appointment_id, set()).add(organisation_id)
        if is_conflict:
            conflicted.setdefault(appointment_id, set()).add(organisation_id)
    return [rules.Seat(appointment_id=a, conflicted_with=frozenset(conflicted.get(a, ())),
                       declared_for=frozenset(declared.get(a, ())),
                       submitted_for=frozenset(submitted.get(a, ())))
            for a in accepted]


def _coverage_of(phase: Phase, proposal: Proposal) -> rules.Coverage:
    """One proposal's coverage from the phase's appointments as loaded (with their
    declarations and assessments): no query, and not the whole phase's ranking."""
    accepted = [a.id for a in phase.appointments if a.status == AppointmentStatus.ACCEPTED]
    declarations = [(d.appointment_id, d.organisation_id, d.conflicted)
                    for a in phase.appointments for d in a.declarations]
    submitted = {a.id: {x.proposal_id for x in a.assessments
                        if x.status == AssessmentStatus.SUBMITTED} for a in phase.appointments}
    return rules.coverage({proposal.id: proposal.organisation_id},
                          _seats(accepted, declarations, submitted),
                          phase.min_assessments)[proposal.id]


@dataclass
class Ranking:
    """Everything the decision page shows, from a fixed number of queries."""
    proposals: dict[int, Proposal]
    ranked: list[scoring.Result]
    coverage: dict[int, rules.Coverage]
    flags: dict[int, list[int]]
    moderated: dict[int, set[int]]
    selection: scoring.Selection
    statistics: scoring.Statistics
    blockers: list[str] = field(default_factory=list)


def ranking(session: Session, phase: Phase) -> Ranking:
    """Final scores, totals, ranks, the default selection and the statistics of a phase.

    Five queries whatever the size of the phase: the proposals (with their suppliers), and as
    plain columns every submitted mark, the consensus scores, the accepted assessors and their
    declarations. Marks are read as tuples, not objects: a phase of 1,000 proposals has tens
    of thousands of them.
    """
    proposals = {p.id: p for p in counting_proposals(session, phase.id)}
    ids = list(proposals)
    in_competition = select(Proposal.id).where(*_counting(phase.id))
    mark_rows = session.execute(
        select(Assessment.id, Assessment.proposal_id, Assessment.appointment_id,
               AssessmentMark.phase_criterion_id, AssessmentMark.score, AssessmentMark.passed)
        .join(Proposal, Proposal.id == Assessment.proposal_id)
        .outerjoin(AssessmentMark, AssessmentMark.assessment_id == Assessment.id)
        .where(*_counting(phase.id), Assessment.status == AssessmentStatus.SUBMITTED)).all()
    moderation_rows = session.execute(
        select(Moderation.proposal_id, Moderation.phase_criterion_id, Moderation.score,
               Moderation.passed).where(Moderation.proposal_id.in_(in_competition))).all()
    accepted = list(session.execute(
        select(AssessorAppointment.id).where(AssessorAppointment.phase_id == phase.id,
                                             AssessorAppointment.status == AppointmentStatus.ACCEPTED)
        .order_by(AssessorAppointment.id)).scalars())
    declarations = [tuple(row) for row in session.execute(
        select(ConflictDeclaration.appointment_id, ConflictDeclaration.organisation_id,
               ConflictDeclaration.conflicted)
        .join(AssessorAppointment, AssessorAppointment.id == ConflictDeclaration.appointment_id)
        .where(AssessorAppointment.phase_id == phase.id))]
    criteria = _criteria(phase)
    by_proposal: dict[int, list[scoring.Assessment]] = {i: [] for i in ids}
    submitted: dict[int, set[int]] = {}
    marks: dict[int, tuple[int, int, dict[int, int], dict[int, bool]]] = {}
    for assessment_id, proposal_id, appointment_id, pc_id, score, passed in mark_rows:
        entry = marks.setdefault(assessment_id, (proposal_id, appointment_id, {}, {}))
        if score is not None:
            entry[2][pc_id] = score
        if passed is not None:
            entry[3][pc_id] = passed
    for proposal_id, appointment_id, scores, gates in marks.values():
        by_proposal[proposal_id].append(scoring.Assessment(assessor_id=appointment_id,
                                                           scores=scores, gates=gates))
        submitted.setdefault(appointment_id, set()).add(proposal_id)
    agreed: dict[int, list[scoring.Consensus]] = {}
    moderated: dict[int, set[int]] = {}
    for proposal_id, pc_id, score, passed in moderation_rows:
        agreed.setdefault(proposal_id, []).append(
            scoring.Consensus(criterion_id=pc_id, score=score, passed=passed))
        moderated.setdefault(proposal_id, set()).add(pc_id)
    cover = rules.coverage({p.id: p.organisation_id for p in proposals.values()},
                           _seats(accepted, declarations, submitted), phase.min_assessments)
    flags = {i: scoring.flags(criteria, by_proposal[i]) for i in ids
             if cover[i].complete}
    results = [scoring.score_proposal(i, criteria, by_proposal[i], agreed.get(i, ())) for i in ids]
    waiting = False
    if phase.kind == PhaseKind.BAKE_OFF:
        results, waiting = _with_outcomes(session, phase, proposals, results)
    ranked = scoring.rank(results)
    places = phase.contracts or 0
    return Ranking(proposals=proposals, ranked=ranked, coverage=cover, flags=flags,
                   moderated=moderated,
                   selection=scoring.default_selection(ranked, places, phase.threshold_percent),
                   statistics=scoring.statistics(criteria, ranked, phase.threshold_percent),
                   blockers=rules.decision_blockers(cover, flags, moderated)
                   + (["verification_outstanding"] if waiting else [])
                   + ([] if ids else ["no_proposals"]))


def _with_outcomes(session: Session, phase: Phase, proposals: dict[int, Proposal],
                   results: list[scoring.Result]) -> tuple[list[scoring.Result], bool]:
    """A bake-off ranks by its final score: the assessed total combined with the entrant's
    verified outcomes, by the phase's outcome share (SPEC §3.5)."""
    from procure.bakeoff import outcomes
    from procure.bakeoff.services import outcome_scores

    scores, waiting = outcome_scores(session, phase)
    combined = []
    for r in results:
        outcome = scores.get(proposals[r.proposal_id].organisation_id, Decimal("0.00"))
        combined.append(replace(r, assessed=r.total, outcome=outcome,
                                total=outcomes.final_score(r.total, outcome,
                                                           phase.outcome_share_percent)))
    return combined, waiting


def board(session: Session, phase: Phase, now: datetime) -> Ranking:
    """The ranking as the authority may see it at ``now``: until the phase is unsealed it
    names no supplier and counts no proposal — the sealed count is shown elsewhere."""
    if sealing.phase_unsealed(phase.status, phase.closes_at, phase.closed_at, now):
        return ranking(session, phase)
    criteria = _criteria(phase)
    return Ranking(proposals={}, ranked=[], coverage={}, flags={}, moderated={},
                   selection=scoring.Selection(default=[], tie_at_cutoff=[]),
                   statistics=scoring.statistics(criteria, [], phase.threshold_percent),
                   blockers=["sealed"])


def phase_board(session: Session, *, actor: Any, challenge_id: int, phase_id: int,
                now: datetime) -> tuple[Phase, Ranking]:
    """The assessment overview and ranking for the lead and partner authorities."""
    phase = authorised_phase(session, actor, Permission.ASSESSMENT_OVERVIEW,
                             challenge_id=challenge_id, phase_id=phase_id)
    return phase, board(session, phase, now)


# --- deciding -----------------------------------------------------------------------------------

def _decision_kind(phase: Phase) -> str:
    phases = phase.challenge.phases
    following = next((p for p in phases if p.position == phase.position + 1), None)
    return rules.decision_kind(phase.position, len(phases), following.kind if following else None)


def _freeze(board: Ranking) -> tuple[list[dict], dict]:
    results = [{"proposal_id": r.proposal_id,
                "organisation_id": board.proposals[r.proposal_id].organisation_id,
                "organisation": board.proposals[r.proposal_id].organisation.name,
                "total": str(r.total), "eligible": r.eligible, "rank": r.rank, "tied": r.tied,
                "finals": {str(k): str(v) for k, v in r.finals.items()},
                "gates": {str(k): v for k, v in r.gates.items()},
                **({"assessed": str(r.assessed), "outcome": str(r.outcome)}
                   if r.assessed is not None else {})} for r in board.ranked]
    s = board.statistics
    statistics = {
        "received": s.received, "eligible": s.eligible, "above_threshold": s.above_threshold,
        "total_bands": s.total_bands,
        "total_min": str(s.total_min) if s.total_min is not None else None,
        "total_median": str(s.total_median) if s.total_median is not None else None,
        "total_max": str(s.total_max) if s.total_max is not None else None,
        "criteria": {str(k): {"mean": str(v["mean"]) if v["mean"] is not None else None,
                              "min": str(v["min"]) if v["min"] is not None else None,
                              "max": str(v["max"]) if v["max"] is not None else None,
                              "counts": v["counts"]} for k, v in s.criteria.items()}}
    return results, statistics


def record_decision(session: Session, *, actor: Any, challenge_id: int, phase_id: int,
                    selected_ids: list[int], reason: str, now: datetime) -> Decision:
    """Record who goes on (or is selected). A choice other than the ranking's default needs a
    written reason. Partners are asked to approve; recording again asks them again."""
    phase = authorised_phase(session, actor, Permission.DECISION_RECORD, challenge_id=challenge_id,
                       phase_id=phase_id, lock=True)
    board = ranking(session, phase)
    if board.blockers:
        raise RuleViolation({"decision": board.blockers[0]})
    reason = _text(reason)
    kind = _decision_kind(phase)
    eligible = {r.proposal_id for r in board.ranked if r.eligible}
    chosen = sorted(set(selected_ids))
    errors: dict[str, str] = {}
    if any(i not in board.proposals for i in chosen):
        raise NotFound("proposal")
    if any(i not in eligible for i in chosen):
        errors["selected"] = "selected_ineligible"
    elif scoring.departure_problem(chosen, board.selection, reason):
        errors["reason"] = "reason_missing"
    elif kind == "shortlist" and not chosen:
        # Nobody going on would leave the next phase waiting for good: choose someone, or
        # cancel the challenge with a public reason.
        errors["selected"] = "shortlist_empty"
    elif kind == "award" and not reason:
        # An award is explained, and so is deciding to award nothing.
        errors["reason"] = "award_reason_missing" if chosen else "no_award_reason_missing"
    if len(reason) > rules.REASON_MAX:
        errors["reason"] = "text_too_long"
    if errors:
        raise RuleViolation(errors)
    results, statistics = _freeze(board)
    with session.no_autoflush:
        decision = phase.decision
        if decision is None:
            decision = Decision(phase=phase, phase_id=phase.id, kind=kind)
            session.add(decision)
        decision.kind = kind
        decision.status = DecisionStatus.AWAITING_APPROVAL
        decision.selected_ids, decision.default_ids = chosen, sorted(board.selection.default)
        decision.reason = reason
        decision.results, decision.statistics = results, statistics
        decision.recorded_by_id, decision.recorded_at = actor.id, now
        decision.approvals.clear()
        # The contracts of suppliers no longer selected go; the others stay to be confirmed.
        for contract in [c for c in decision.contracts if c.proposal_id not in chosen]:
            decision.contracts.remove(contract)
    session.flush()
    _audit(session, "phase", phase.id, "decision.recorded", actor, now, decision=decision.id,
           kind=decision.kind, selected=chosen, default=decision.default_ids,
           departs=decision.departs)
    challenge = phase.challenge
    from procure.bakeoff.services import contracts_complete

    # An award goes to the partners once each selected supplier's contract is recorded.
    ready = contracts_complete(decision)
    for funder in challenge.funders:
        if ready and funder.role == "partner" and funder.status == "accepted":
            _tell_editors(session, funder.organisation_id, challenge,
                          key=f"decision_approval:{decision.id}:{now.isoformat()}",
                          template="decision_approval_needed", now=now,
                          link=("assessment.show_decision", phase.id), phase=phase.position)
    _commit(session)
    return decision


def _decision_for(session: Session, actor: Any, permission: Permission, *, challenge_id: int,
                  phase_id: int) -> tuple[Phase, Decision]:
    phase = load_phase(session, challenge_id=challenge_id, phase_id=phase_id, lock=True)
    if not can(actor, Permission.CHALLENGE_VIEW, phase.challenge) or phase.decision is None:
        raise NotFound("decision")
    if not can(actor, permission, phase.decision):
        raise NotPermitted(str(permission))
    return phase, phase.decision


def approve_decision(session: Session, *, actor: Any, challenge_id: int, phase_id: int,
                     now: datetime) -> DecisionApproval:
    """An editor of a partner authority approves the decision for their authority."""
    phase, decision = _decision_for(session, actor, Permission.DECISION_APPROVE,
                                    challenge_id=challenge_id, phase_id=phase_id)
    approval = DecisionApproval(decision=decision,
                                organisation_id=actor.active_membership.organisation_id,
                                approved_by_id=actor.id, approved_at=now)
    session.add(approval)
    session.flush()
    _audit(session, "phase", phase.id, "decision.approved", actor, now, decision=decision.id,
           organisation=approval.organisation_id)
    challenge = phase.challenge
    _tell_editors(session, challenge.lead_organisation_id, challenge,
                  key=f"decision_approved:{decision.id}:{approval.organisation_id}:{now.isoformat()}",
                  template="decision_approved", now=now,
                  link=("assessment.show_decision", phase.id), phase=phase.position,
                  partner=actor.active_membership.organisation.name)
    _commit(session)
    return approval


def release_decision(session: Session, *, actor: Any, challenge_id: int, phase_id: int,
                     now: datetime) -> Decision:
    """Release the decision: the phase is decided and every supplier is told its result."""
    phase, decision = _decision_for(session, actor, Permission.DECISION_RELEASE,
                                    challenge_id=challenge_id, phase_id=phase_id)
    phase.status = next_phase_status(phase.status, PhaseAction.DECIDE)
    decision.status = DecisionStatus.RELEASED
    decision.released_by_id, decision.released_at = actor.id, now
    _audit(session, "phase", phase.id, "decision.released", actor, now, decision=decision.id,
           selected=decision.selected_ids)
    from procure.bakeoff import services as bakeoff

    if decision.kind == "award":
        bakeoff.on_award_released(session, phase=phase, decision=decision, actor=actor, now=now)
    else:
        bakeoff.on_shortlist_released(session, phase=phase, decision=decision, actor=actor,
                                      now=now)
    challenge = phase.challenge
    selected = set(decision.selected_ids)
    for result in decision.results:
        people = list(session.execute(
            select(User).join(Membership, Membership.user_id == User.id)
            .where(Membership.organisation_id == result["organisation_id"],
                   Membership.status == "active", User.is_disabled.is_(False),
                   User.email_confirmed_at.is_not(None)).order_by(User.id)).scalars())
        recipients.tell(session, people, key=f"decision_released:{decision.id}",
                        template="decision_released", challenge=challenge, now=now,
                        phase=phase.position, kind=decision.kind,
                        selected=result["proposal_id"] in selected,
                        feedback_url=external_url("assessment.show_feedback",
                                                  proposal_id=result["proposal_id"]))
    _commit(session)
    return decision


# --- the supplier's feedback --------------------------------------------------------------------

@dataclass
class Feedback:
    proposal: Proposal
    decision: Decision
    result: dict
    selected: bool
    band: str
    comments: list[tuple[int, dict[int, str]]]   # (assessor number, criterion id -> comment)
    consensus: dict[int, str]                    # criterion id -> moderator's rationale


def feedback(session: Session, *, actor: Any, proposal_id: int) -> Feedback:
    """The supplier's own final scores, rank band and the assessors' comments, unnamed."""
    proposal = load_proposal(session, proposal_id)
    if not sealing.is_supplier_member(actor, proposal):
        raise NotFound("proposal")
    if not can(actor, Permission.FEEDBACK_READ, proposal):
        raise NotFound("feedback")
    decision = proposal.phase.decision
    result = decision.result_for(proposal.id)
    if result is None:
        raise NotFound("feedback")
    eligible = sum(1 for r in decision.results if r["eligible"])
    assessments = session.execute(
        select(Assessment).where(Assessment.proposal_id == proposal.id,
                                 Assessment.status == AssessmentStatus.SUBMITTED)
        .options(selectinload(Assessment.marks)).order_by(Assessment.id)).scalars().all()
    comments = [(n, {m.phase_criterion_id: m.justification for m in a.marks})
                for n, a in enumerate(assessments, start=1)]
    consensus = {m.phase_criterion_id: m.rationale for m in session.execute(
        select(Moderation).where(Moderation.proposal_id == proposal.id)).scalars()}
    return Feedback(proposal=proposal, decision=decision, result=result,
                    selected=proposal.id in decision.selected_ids,
                    band=scoring.rank_band(result["rank"], eligible), comments=comments,
                    consensus=consensus)


