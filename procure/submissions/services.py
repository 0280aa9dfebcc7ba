"""Proposal use cases: start, fill in, upload, submit with a receipt, reopen, withdraw; the
authority's count and, after the deadline, its audited reads; closing and reminders.

Every service loads what it needs, checks the actor's permission again (the sealing rule for
any read), applies the pure rules, writes the audit event and outbox messages, and commits.
The deadline is checked against the clock read inside the submitting transaction, after the
phase row is locked, so a submission either lands before the close job sees the phase or
is refused.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from procure.accounts.models import Membership, User
from procure.audit import services as audit
from procure.challenges import recipients
from procure.challenges.models import Challenge, ChallengeFunder, Phase, PhaseCriterion
from procure.errors import NotFound, NotPermitted, RuleViolation
from procure.permissions import Permission, can
from procure.submissions import lifecycle, receipts, rules, storage
from procure.submissions.lifecycle import ProposalAction
from procure.submissions.models import (
    Attachment,
    Proposal,
    ProposalResponse,
    ProposalStatus,
    Receipt,
    ReceiptKind,
)

REMINDER_BEFORE = timedelta(hours=48)
DECLARATIONS = ("declare_accurate", "declare_no_collusion", "declare_eligible")
Clock = Callable[[], datetime]


def _text(value: str | None) -> str:
    return (value or "").replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n").strip()


def _audit(session: Session, proposal: Proposal, action: str, actor: Any, now: datetime,
           **data: Any) -> None:
    audit.record(session, action=action, subject_type="proposal", subject_id=proposal.id,
                 actor_id=getattr(actor, "id", None), now=now, data=data or None)


def _eager():
    return (selectinload(Proposal.phase).selectinload(Phase.challenge)
            .selectinload(Challenge.funders).selectinload(ChallengeFunder.organisation),
            selectinload(Proposal.phase).selectinload(Phase.criteria)
            .selectinload(PhaseCriterion.criterion),
            selectinload(Proposal.responses), selectinload(Proposal.attachments),
            selectinload(Proposal.organisation), selectinload(Proposal.current_receipt))


def _load(session: Session, proposal_id: int, *, lock: bool = False) -> Proposal:
    stmt = select(Proposal).where(Proposal.id == proposal_id).options(*_eager())
    if lock:
        stmt = stmt.with_for_update(of=Proposal).execution_options(populate_existing=True)
    proposal = session.execute(stmt).scalar_one_or_none()
    if proposal is None:
        raise NotFound("proposal")
    return proposal


def _clock_now() -> datetime:
    from procure.db import utcnow

    return utcnow()


def _refuse_read(session: Session, actor: Any, proposal_id: int, now: datetime) -> None:
    """A read the sealing rule refuses is itself an audit event; the reader sees 404."""
    audit.record(session, action="proposal.read_refused", subject_type="proposal",
                 subject_id=proposal_id, actor_id=getattr(actor, "id", None), now=now)
    session.commit()
    raise NotFound("proposal")


def _phase_lock(session: Session, phase_id: int) -> Phase:
    """Lock the phase row as a reader: submissions do not wait for each other, but the close
    job (which locks it for update) waits for every submission under way, and they for it."""
    phase = session.execute(select(Phase).where(Phase.id == phase_id).with_for_update(read=True)
                            .execution_options(populate_existing=True)).scalar_one_or_none()
    if phase is None:
        raise NotFound("phase")
    return phase


# --- reading ------------------------------------------------------------------------------------

def get_proposal(session: Session, *, actor: Any, proposal_id: int, now: datetime) -> Proposal:
    """A proposal the actor may read at ``now``. Reads by anyone outside the supplier are
    audited; a refused read is audited too and looks like a proposal that does not exist."""
    proposal = session.execute(select(Proposal).where(Proposal.id == proposal_id)
                               .options(*_eager())).scalar_one_or_none()
    if proposal is None:
        raise NotFound("proposal")
    if not can(actor, Permission.PROPOSAL_READ, proposal, now=now):
        _refuse_read(session, actor, proposal_id, now)
    return proposal


def read_submitted(session: Session, *, actor: Any, proposal_id: int,
                   now: datetime) -> tuple[Proposal, Receipt]:
    """The submission that counts, as frozen in its receipt; every read by the authority is
    audited. The supplier reads its own without an audit event."""
    proposal = get_proposal(session, actor=actor, proposal_id=proposal_id, now=now)
    receipt = proposal.current_receipt
    if receipt is None:
        raise NotFound("submission")
    from procure.submissions.sealing import is_supplier_member

    if not is_supplier_member(actor, proposal):
        _audit(session, proposal, "proposal.read", actor, now, receipt=receipt.digest)
        session.commit()
    return proposal, receipt


def own_proposal(session: Session, *, actor: Any, proposal_id: int) -> Proposal:
    """The supplier's working copy: only its own organisation knows it exists."""
    proposal = _load(session, proposal_id)
    from procure.submissions.sealing import is_supplier_member

    if not is_supplier_member(actor, proposal):
        _refuse_read(session, actor, proposal_id, _clock_now())
    return proposal


def proposal_of(session: Session, *, organisation_id: int, phase_id: int) -> Proposal | None:
    return session.execute(select(Proposal).where(
        Proposal.organisation_id == organisation_id, Proposal.phase_id == phase_id)
    ).scalar_one_or_none()


def proposals_of_organisation(session: Session, organisation_id: int) -> list[Proposal]:
    return list(session.execute(
        select(Proposal).where(Proposal.organisation_id == organisation_id)
        .options(selectinload(Proposal.phase).selectinload(Phase.challenge),
                 selectinload(Proposal.current_receipt))
        .order_by(Proposal.updated_at.desc())).scalars())


def attachment_for_download(session: Session, *, actor: Any, proposal_id: int,
                            attachment_id: int, now: datetime, folder: Path) -> tuple[Attachment, Path]:
    """A file of the proposal the actor may read: the supplier any of its own; the authority,
    after the deadline, those of the submission that counts (each download audited)."""
    proposal = get_proposal(session, actor=actor, proposal_id=proposal_id, now=now)
    attachment = next((a for a in proposal.attachments if a.id == attachment_id), None)
    if attachment is None:
        raise NotFound("attachment")
    from procure.submissions.sealing import is_supplier_member

    if not is_supplier_member(actor, proposal):
        listed = {a["id"] for a in (proposal.current_receipt.manifest.get("attachments", [])
                                    if proposal.current_receipt else [])}
        if attachment.id not in listed:
            raise NotFound("attachment")
        _audit(session, proposal, "proposal.attachment_read", actor, now,
               attachment=attachment.id, sha256=attachment.sha256)
        session.commit()
    elif attachment.removed_at is not None and not any(
            a["id"] == attachment.id for r in proposal.receipts if r.kind == ReceiptKind.SUBMITTED
            for a in r.manifest.get("attachments", [])):
        raise NotFound("attachment")
    return attachment, storage.path_of(folder, attachment.stored_name)


def count_submitted(session: Session, phase_id: int) -> int:
    """How many proposals are in the competition — all the authority sees before the close."""
    return session.execute(select(func.count(Proposal.id)).where(
        Proposal.phase_id == phase_id,
        Proposal.status.in_([ProposalStatus.SUBMITTED, ProposalStatus.REOPENED]),
        Proposal.current_receipt_id.is_not(None), Proposal.must_reconfirm.is_(False))
    ).scalar_one()


def counts_by_phase(session: Session, phase_ids: list[int]) -> dict[int, int]:
    if not phase_ids:
        return {}
    rows = session.execute(select(Proposal.phase_id, func.count(Proposal.id)).where(
        Proposal.phase_id.in_(phase_ids),
        Proposal.status.in_([ProposalStatus.SUBMITTED, ProposalStatus.REOPENED]),
        Proposal.current_receipt_id.is_not(None), Proposal.must_reconfirm.is_(False))
        .group_by(Proposal.phase_id)).all()
    return {phase_id: n for phase_id, n in rows}


def submitted_proposals(session: Session, *, actor: Any, phase: Phase,
                        now: datetime) -> list[Proposal]:
    """The proposals that count, for the authority once the phase has closed."""
    challenge = phase.challenge
    if not can(actor, Permission.PROPOSAL_COUNT, challenge):
        raise NotPermitted(str(Permission.PROPOSAL_COUNT))
    from procure.submissions.sealing import phase_unsealed

    if not phase_unsealed(phase.status, phase.closes_at, phase.closed_at, now):
        return []
    proposals = session.execute(
        select(Proposal).where(
            Proposal.phase_id == phase.id,
            Proposal.status.in_([ProposalStatus.SUBMITTED, ProposalStatus.REOPENED]),
            Proposal.current_receipt_id.is_not(None), Proposal.must_reconfirm.is_(False))
        .options(*_eager()).order_by(Proposal.id)).scalars().all()
    return [p for p in proposals if can(actor, Permission.PROPOSAL_READ, p, now=now)]


def proposals_exist(session: Session, phase_id: int) -> bool:
    """Whether any supplier has a submission in the phase that it has not withdrawn, including
    one waiting to be confirmed after an amendment: its supplier works to the deadline too."""
    return session.execute(select(Proposal.id).where(
        Proposal.phase_id == phase_id,
        Proposal.status.in_([ProposalStatus.SUBMITTED, ProposalStatus.REOPENED]),
        Proposal.current_receipt_id.is_not(None)).limit(1)).first() is not None


def verify_receipt(session: Session, text: str) -> Receipt | None:
    """The receipt with this digest, if one is held (the caller reveals only its kind and time)."""
    digest = receipts.normalise_digest(text)
    if digest is None:
        raise RuleViolation({"digest": "digest_invalid"})
    return session.execute(select(Receipt).where(Receipt.digest == digest)).scalar_one_or_none()


# --- starting and filling in --------------------------------------------------------------------

def start_proposal(session: Session, *, actor: Any, phase_id: int, now: datetime) -> Proposal:
    """Start the organisation's proposal for an open phase (one per organisation per phase)."""
    phase = session.execute(select(Phase).where(Phase.id == phase_id)
                            .options(selectinload(Phase.challenge))).scalar_one_or_none()
    if phase is None or not can(actor, Permission.CHALLENGE_VIEW, phase.challenge):
        raise NotFound("phase")
    if not can(actor, Permission.PROPOSAL_START, phase):
        raise NotPermitted(str(Permission.PROPOSAL_START))
    problem = lifecycle.window_problem(phase.status, phase.opens_at, phase.closes_at, now)
    if problem:
        raise RuleViolation({"proposal": problem})
    org_id = actor.active_membership.organisation_id
    if proposal_of(session, organisation_id=org_id, phase_id=phase_id) is not None:
        raise RuleViolation({"proposal": "already_started"})
    proposal = Proposal(phase_id=phase.id, organisation_id=org_id, created_by_id=actor.id,
                        status=ProposalStatus.DRAFT, created_at=now, updated_at=now)
    session.add(proposal)
    try:
        session.flush()
    except IntegrityError:  # another member started one at the same moment
        session.rollback()
        raise RuleViolation({"proposal": "already_started"}) from None
    _audit(session, proposal, "proposal.started", actor, now, phase=phase.id)
    session.commit()
    return proposal


def _editable(session: Session, actor: Any, proposal_id: int, now: datetime) -> Proposal:
    """The working copy, locked, if the actor may change it and the phase still takes it."""
    proposal = own_proposal(session, actor=actor, proposal_id=proposal_id)
    if not can(actor, Permission.PROPOSAL_EDIT, proposal):
        raise NotPermitted(str(Permission.PROPOSAL_EDIT))
    phase = _phase_lock(session, proposal.phase_id)
    proposal = _load(session, proposal_id, lock=True)
    problem = lifecycle.window_problem(phase.status, phase.opens_at, phase.closes_at, now)
    if problem:
        raise RuleViolation({"proposal": problem})
    lifecycle.next_status(proposal.status, ProposalAction.EDIT)
    return proposal


def update_fields(session: Session, *, actor: Any, proposal_id: int, now: datetime,
                  summary: str | None = None, consent_publish_summary: bool | None = None,
                  team: str | None = None, price_pence: int | None = None,
                  price_given: bool = False, timeline: str | None = None,
                  declarations: dict[str, bool] | None = None) -> Proposal:
    """Save a section of the working copy. Only the arguments given change."""
    proposal = _editable(session, actor, proposal_id, now)
    errors: dict[str, str] = {}
    changed: list[str] = []
    for name, value, limit in (("summary", summary, rules.MAX_SUMMARY),
                               ("team", team, rules.MAX_TEXT),
                               ("timeline", timeline, rules.MAX_TEXT)):
        if value is None:
            continue
        value = _text(value)
        if len(value) > limit:
            errors[name] = "too_long"
        else:
            setattr(proposal, name, value)
            changed.append(name)
    if price_given:
        if price_pence is not None:
            problem = rules.price_problem(price_pence, proposal.phase.max_value_pence)
            if problem:
                errors["price"] = problem
        if "price" not in errors:
            proposal.price_pence = price_pence
            changed.append("price")
    if consent_publish_summary is not None:
        proposal.consent_publish_summary = consent_publish_summary
        changed.append("consent_publish_summary")
    for name, given in (declarations or {}).items():
        if name not in DECLARATIONS:
            raise TypeError(f"not a declaration: {name}")
        setattr(proposal, name, bool(given))
        changed.append(name)
    if errors:
        session.rollback()
        raise RuleViolation(errors)
    proposal.updated_at = now
    _audit(session, proposal, "proposal.changed", actor, now, fields=changed)
    session.commit()
    return proposal


def save_responses(session: Session, *, actor: Any, proposal_id: int, now: datetime,
                   responses: dict[int, str]) -> Proposal:
    """Save the answers to the phase's criteria, keyed by phase criterion id."""
    proposal = _editable(session, actor, proposal_id, now)
    known = {pc.id for pc in proposal.phase.criteria}
    if set(responses) - known:
        session.rollback()
        raise NotFound("criterion")
    errors = {f"response-{k}": "too_long" for k, v in responses.items()
              if len(_text(v)) > rules.MAX_TEXT}
    if errors:
        session.rollback()
        raise RuleViolation(errors)
    existing = {r.phase_criterion_id: r for r in proposal.responses}
    for pc_id, text in responses.items():
        if pc_id in existing:
            existing[pc_id].text = _text(text)
        else:
            proposal.responses.append(ProposalResponse(phase_criterion_id=pc_id, text=_text(text)))
    proposal.updated_at = now
    _audit(session, proposal, "proposal.changed", actor, now, fields=["responses"])
    session.commit()
    return proposal


def add_attachment(session: Session, *, actor: Any, proposal_id: int, filename: str,
                   data: bytes, now: datetime, folder: Path) -> Attachment:
    """Store an upload whose name, size and type (from its content) are acceptable."""
    proposal = _editable(session, actor, proposal_id, now)
    if rules.attachments_problem(len(proposal.live_attachments)):
        session.rollback()
        raise RuleViolation({"file": "too_many_files"})
    problem, mime = rules.file_problem(filename, data)
    if problem:
        session.rollback()
        raise RuleViolation({"file": problem})
    import hashlib

    name = rules.deduplicate_name(rules.clean_filename(filename),
                                  [a.filename for a in proposal.live_attachments])
    stored = storage.save(folder, data)
    try:
        attachment = Attachment(filename=name, stored_name=stored, content_type=mime,
                                size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                                uploaded_at=now, uploaded_by_id=actor.id)
        proposal.attachments.append(attachment)
        proposal.updated_at = now
        session.flush()
        # Nothing about the file itself: the audit log is read before the deadline too.
        _audit(session, proposal, "proposal.attachment_added", actor, now,
               attachment=attachment.id)
        session.commit()
    except Exception:
        session.rollback()
        storage.delete(folder, stored)  # nothing half saved: no row, no file
        raise
    return attachment


def remove_attachment(session: Session, *, actor: Any, proposal_id: int, attachment_id: int,
                      now: datetime, folder: Path) -> None:
    """Take a file out of the working copy. A file a submission refers to is kept on disk."""
    proposal = _editable(session, actor, proposal_id, now)
    attachment = next((a for a in proposal.live_attachments if a.id == attachment_id), None)
    if attachment is None:
        session.rollback()
        raise NotFound("attachment")
    referenced = any(a["id"] == attachment.id for r in proposal.receipts
                     if r.kind == ReceiptKind.SUBMITTED for a in r.manifest.get("attachments", []))
    attachment.removed_at = now
    proposal.updated_at = now
    _audit(session, proposal, "proposal.attachment_removed", actor, now, attachment=attachment.id)
    stored = attachment.stored_name
    if not referenced:
        session.delete(attachment)
    session.commit()
    if not referenced:
        storage.delete(folder, stored)


# --- submitting, reopening, withdrawing ---------------------------------------------------------

def submit_problems(proposal: Proposal) -> dict[str, str]:
    """What the supplier must still do before submitting, by field."""
    return rules.submit_problems(
        summary=proposal.summary, team=proposal.team, price_pence=proposal.price_pence,
        max_value_pence=proposal.phase.max_value_pence, timeline=proposal.timeline,
        responses={r.phase_criterion_id: r.text for r in proposal.responses},
        criterion_ids=[pc.id for pc in proposal.phase.criteria],
        declarations={name: getattr(proposal, name) for name in DECLARATIONS})


def _organisation_members(session: Session, organisation_id: int) -> list[User]:
    return list(session.execute(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.organisation_id == organisation_id, Membership.status == "active",
               User.is_disabled.is_(False), User.email_confirmed_at.is_not(None))
        .order_by(User.id)).scalars())


def _tell_supplier(session: Session, proposal: Proposal, *, key: str, template: str,
                   now: datetime, **context: Any) -> None:
    challenge = proposal.phase.challenge
    recipients.tell(session, _organisation_members(session, proposal.organisation_id), key=key,
                    template=template, challenge=challenge, now=now,
                    phase=proposal.phase.position, **context)


def _receipt(session: Session, proposal: Proposal, manifest: dict[str, Any], kind: str,
             actor: Any, received_at: datetime, challenge_version: int) -> Receipt:
    receipt = Receipt(kind=kind, sequence=manifest["sequence"], received_at=received_at,
                      challenge_version=challenge_version, digest=receipts.digest(manifest),
                      manifest=manifest, submitted_by_id=actor.id)
    proposal.receipts.append(receipt)
    session.flush()
    return receipt


def submit_proposal(session: Session, *, actor: Any, proposal_id: int, clock: Clock) -> Receipt:
    """Freeze the working copy into a submission with a receipt, if the deadline has not passed
    by the clock read now, inside this transaction, with the phase locked."""
    proposal = own_proposal(session, actor=actor, proposal_id=proposal_id)
    if not can(actor, Permission.PROPOSAL_EDIT, proposal):
        raise NotPermitted(str(Permission.PROPOSAL_EDIT))
    phase = _phase_lock(session, proposal.phase_id)
    proposal = _load(session, proposal_id, lock=True)
    now = clock()
    problem = lifecycle.window_problem(phase.status, phase.opens_at, phase.closes_at, now)
    if problem:
        session.rollback()
        raise RuleViolation({"proposal": problem})
    if (proposal.status == ProposalStatus.SUBMITTED and not proposal.must_reconfirm
            and proposal.current_receipt is not None):
        # Already in, unchanged since (a submitted proposal cannot be edited) and not asked
        # to confirm an amendment: a second press, or the same request sent twice at once,
        # waited here for the first. It gets the submission that stands, not another one.
        receipt = proposal.current_receipt
        session.commit()  # nothing written: this only lets go of the locks
        return receipt
    new_status = lifecycle.next_status(proposal.status, ProposalAction.SUBMIT)
    problems = submit_problems(proposal)
    if problems:
        session.rollback()
        raise RuleViolation(problems)
    challenge = phase.challenge
    criteria = {pc.id: pc for pc in proposal.phase.criteria}
    manifest = receipts.submission_manifest(
        proposal_id=proposal.id, challenge_id=challenge.id, challenge_version=challenge.version,
        phase_id=phase.id, organisation_id=proposal.organisation_id,
        sequence=len(proposal.receipts) + 1, received_at=now, nonce=secrets.token_hex(16),
        fields=rules.snapshot_fields(proposal),
        responses=[{"phase_criterion": pc_id, "criterion": criteria[pc_id].criterion.code,
                    "text": proposal.response_to(pc_id)} for pc_id in sorted(criteria)],
        attachments=[{"id": a.id, "filename": a.filename, "content_type": a.content_type,
                      "size": a.size, "sha256": a.sha256} for a in proposal.live_attachments])
    receipt = _receipt(session, proposal, manifest, ReceiptKind.SUBMITTED, actor, now,
                       challenge.version)
    was = proposal.status
    proposal.status = new_status
    proposal.current_receipt_id = receipt.id
    proposal.must_reconfirm = False
    proposal.updated_at = now
    _audit(session, proposal, "proposal.submitted", actor, now, receipt=receipt.digest,
           sequence=receipt.sequence, resubmission=was != ProposalStatus.DRAFT)
    _tell_supplier(session, proposal, key=f"proposal-submitted:{receipt.id}",
                   template="proposal_submitted", now=now, digest=receipt.digest,
                   received_at=now, closes_at=phase.closes_at,
                   receipt_url=_receipt_url(proposal, receipt))
    session.commit()
    return receipt


def _receipt_url(proposal: Proposal, receipt: Receipt) -> str:
    from procure.notifications.services import external_url

    return external_url("proposals.show_receipt", proposal_id=proposal.id, receipt_id=receipt.id)


def reopen_proposal(session: Session, *, actor: Any, proposal_id: int, now: datetime) -> Proposal:
    """Change a submitted proposal (its submission still counts until replaced), or start
    again after withdrawing."""
    proposal = own_proposal(session, actor=actor, proposal_id=proposal_id)
    if not can(actor, Permission.PROPOSAL_EDIT, proposal):
        raise NotPermitted(str(Permission.PROPOSAL_EDIT))
    phase = _phase_lock(session, proposal.phase_id)
    proposal = _load(session, proposal_id, lock=True)
    problem = lifecycle.window_problem(phase.status, phase.opens_at, phase.closes_at, now)
    if problem:
        session.rollback()
        raise RuleViolation({"proposal": problem})
    action = ProposalAction.RESTART if proposal.status == ProposalStatus.WITHDRAWN \
        else ProposalAction.REOPEN
    proposal.status = lifecycle.next_status(proposal.status, action)
    proposal.updated_at = now
    _audit(session, proposal, "proposal.reopened" if action == ProposalAction.REOPEN
           else "proposal.restarted", actor, now)
    session.commit()
    return proposal


def withdraw_proposal(session: Session, *, actor: Any, proposal_id: int, clock: Clock) -> Receipt:
    """Take the proposal out of the competition before the deadline, with a receipt."""
    proposal = own_proposal(session, actor=actor, proposal_id=proposal_id)
    if not can(actor, Permission.PROPOSAL_EDIT, proposal):
        raise NotPermitted(str(Permission.PROPOSAL_EDIT))
    phase = _phase_lock(session, proposal.phase_id)
    proposal = _load(session, proposal_id, lock=True)
    now = clock()
    problem = lifecycle.window_problem(phase.status, phase.opens_at, phase.closes_at, now)
    if problem:
        session.rollback()
        raise RuleViolation({"proposal": problem})
    proposal.status = lifecycle.next_status(proposal.status, ProposalAction.WITHDRAW)
    withdrawn = proposal.current_receipt
    manifest = receipts.withdrawal_manifest(
        proposal_id=proposal.id, phase_id=phase.id, organisation_id=proposal.organisation_id,
        sequence=len(proposal.receipts) + 1, received_at=now, nonce=secrets.token_hex(16),
        withdrawn_digest=withdrawn.digest if withdrawn else None)
    receipt = _receipt(session, proposal, manifest, ReceiptKind.WITHDRAWN, actor, now,
                       phase.challenge.version)
    proposal.current_receipt_id = None
    proposal.must_reconfirm = False
    proposal.updated_at = now
    _audit(session, proposal, "proposal.withdrawn", actor, now, receipt=receipt.digest)
    _tell_supplier(session, proposal, key=f"proposal-withdrawn:{receipt.id}",
                   template="proposal_withdrawn", now=now, digest=receipt.digest, received_at=now,
                   receipt_url=_receipt_url(proposal, receipt))
    session.commit()
    return receipt


def get_receipt(session: Session, *, actor: Any, proposal_id: int,
                receipt_id: int) -> tuple[Proposal, Receipt]:
    """A receipt of the supplier's own proposal."""
    proposal = own_proposal(session, actor=actor, proposal_id=proposal_id)
    receipt = next((r for r in proposal.receipts if r.id == receipt_id), None)
    if receipt is None:
        raise NotFound("receipt")
    return proposal, receipt


# --- what other services and jobs call ----------------------------------------------------------

def on_challenge_amended(session: Session, *, challenge: Challenge, phase: Phase | None,
                         now: datetime) -> None:
    """An amendment: submissions in the current phase must be confirmed against the new
    version, and every supplier with a proposal there is told (in the amending transaction)."""
    if phase is None:
        return
    proposals = session.execute(select(Proposal).where(Proposal.phase_id == phase.id)
                                .with_for_update()).scalars().all()
    for proposal in proposals:
        if proposal.status in (ProposalStatus.SUBMITTED, ProposalStatus.REOPENED) \
                and proposal.current_receipt_id is not None:
            proposal.must_reconfirm = True
            _audit(session, proposal, "proposal.reconfirmation_required", None, now,
                   version=challenge.version)
        if proposal.status != ProposalStatus.WITHDRAWN:
            _tell_supplier(session, proposal,
                           key=f"proposal-amended:{challenge.id}:{challenge.version}:{proposal.id}",
                           template="proposal_challenge_amended", now=now,
                           version=challenge.version, must_reconfirm=proposal.must_reconfirm,
                           proposal_url=_proposal_url(proposal))


def _proposal_url(proposal: Proposal) -> str:
    from procure.notifications.services import external_url

    return external_url("proposals.show_proposal", proposal_id=proposal.id)


def suppliers_with_proposals(session: Session, challenge_id: int) -> list[User]:
    """Members of every supplier with a proposal (not withdrawn) in the challenge."""
    org_ids = select(Proposal.organisation_id).join(Phase).where(
        Phase.challenge_id == challenge_id, Proposal.status != ProposalStatus.WITHDRAWN)
    return list(session.execute(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.organisation_id.in_(org_ids), Membership.status == "active",
               User.is_disabled.is_(False), User.email_confirmed_at.is_not(None))
        .order_by(User.id)).scalars())


def on_phase_closed(session: Session, *, phase: Phase, now: datetime) -> None:
    """The close job's message: the authority learns how many arrived; each supplier learns
    whether its proposal is in (written in the closing transaction, each at most once)."""
    challenge = phase.challenge
    count = count_submitted(session, phase.id)
    readers: dict[int, User] = {}
    for funder in challenge.funders:
        if funder.role == "lead" or funder.status == "accepted":
            readers.update({u.id: u for u in recipients.editors_of(session, funder.organisation_id)})
    from procure.notifications.services import external_url

    recipients.tell(session, readers.values(), key=f"phase-closed:{phase.id}",
                    template="phase_closed_authority", challenge=challenge, now=now,
                    phase=phase.position, count=count,
                    proposals_url=external_url("proposals.list_for_phase",
                                               challenge_id=challenge.id, phase_id=phase.id))
    proposals = session.execute(select(Proposal).where(Proposal.phase_id == phase.id)
                                .order_by(Proposal.id)).scalars().all()
    for proposal in proposals:
        if proposal.status == ProposalStatus.WITHDRAWN:
            continue
        counted = lifecycle.counts(proposal.status, proposal.current_receipt_id is not None,
                                   proposal.must_reconfirm)
        _tell_supplier(session, proposal, key=f"phase-closed-supplier:{phase.id}:{proposal.id}",
                       template="phase_closed_supplier", now=now, counted=counted,
                       proposal_url=_proposal_url(proposal))


def remind_unsubmitted(session: Session, *, now: datetime) -> int:
    """Tell suppliers whose proposal is not in (a draft, reopened, or awaiting confirmation)
    that the deadline is 48 hours away or less — once per proposal."""
    due = session.execute(
        select(Proposal.id).join(Phase).where(
            Phase.closes_at > now, Phase.closes_at <= now + REMINDER_BEFORE,
            Phase.status.in_(["planned", "open"]), Proposal.reminded_at.is_(None),
            (Proposal.status == ProposalStatus.DRAFT) | (Proposal.status == ProposalStatus.REOPENED)
            | Proposal.must_reconfirm.is_(True))
    ).scalars().all()
    sent = 0
    for proposal_id in due:
        proposal = session.execute(select(Proposal).where(Proposal.id == proposal_id)
                                   .with_for_update()).scalar_one()
        if proposal.reminded_at is not None:
            continue
        proposal.reminded_at = now
        _tell_supplier(session, proposal, key=f"proposal-reminder:{proposal.id}",
                       template="proposal_reminder", now=now, closes_at=proposal.phase.closes_at,
                       status=proposal.status, must_reconfirm=proposal.must_reconfirm,
                       proposal_url=_proposal_url(proposal))
        _audit(session, proposal, "proposal.reminded", None, now)
        session.commit()
        sent += 1
    return sent
