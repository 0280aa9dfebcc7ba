"""Permissions named ``resource:action`` and one pure answer: ``can(user, permission, obj)``.

No database, no Flask: the caller passes the user (or None for a visitor) and the object
already loaded. Views call ``require()``; services call ``can()`` again.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from procure.errors import NotPermitted


class Permission(StrEnum):
    ADMIN_ACCESS = "admin:access"
    AUDIT_READ = "audit:read"
    OUTBOX_READ = "outbox:read"
    ORGANISATION_CREATE = "organisation:create"
    ORGANISATION_JOIN = "organisation:join"
    ORGANISATION_VERIFY = "organisation:verify"
    ORGANISATION_VIEW_MEMBERS = "organisation:view_members"
    ORGANISATION_MANAGE_MEMBERS = "organisation:manage_members"
    VALUES_MANAGE = "values:manage"
    CHALLENGE_CREATE = "challenge:create"
    CHALLENGE_VIEW = "challenge:view"
    CHALLENGE_EDIT = "challenge:edit"
    CHALLENGE_PUBLISH = "challenge:publish"
    CHALLENGE_AMEND = "challenge:amend"
    CHALLENGE_CANCEL = "challenge:cancel"
    CHALLENGE_MANAGE_PARTNERS = "challenge:manage_partners"
    CHALLENGE_PLEDGE = "challenge:pledge"
    CHALLENGE_REQUEST_JOIN = "challenge:request_join"
    CLARIFICATION_ASK = "clarification:ask"
    CLARIFICATION_ANSWER = "clarification:answer"
    CLARIFICATION_READ_PENDING = "clarification:read_pending"
    TAG_FOLLOW = "tag:follow"
    PROPOSAL_START = "proposal:start"
    PROPOSAL_EDIT = "proposal:edit"
    PROPOSAL_READ = "proposal:read"
    PROPOSAL_COUNT = "proposal:count"
    ASSESSOR_APPOINT = "assessor:appoint"
    ASSESSMENT_OVERVIEW = "assessment:overview"
    ASSESSMENT_DECLARE = "assessment:declare"
    ASSESSMENT_SCORE = "assessment:score"
    ASSESSMENT_READ_SCORES = "assessment:read_scores"
    ASSESSMENT_MODERATE = "assessment:moderate"
    DECISION_RECORD = "decision:record"
    DECISION_APPROVE = "decision:approve"
    DECISION_RELEASE = "decision:release"
    FEEDBACK_READ = "feedback:read"
    BAKE_OFF_INVITE = "bakeoff:invite"
    BAKE_OFF_REPORT = "bakeoff:report"
    BAKE_OFF_VERIFY = "bakeoff:verify"
    BAKE_OFF_RESULTS = "bakeoff:results"
    AWARD_CONTRACT = "award:contract"
    CHECK_IN_RECORD = "checkin:record"
    RECORD_PREPARE = "record:prepare"
    RECORD_EDIT = "record:edit"
    RECORD_PUBLISH = "record:publish"
    RECORD_REUSE = "record:reuse"
    RECORD_INTEREST = "record:interest"


def _signed_in(user: Any) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and user.is_active


def _membership(user: Any) -> Any:
    return getattr(user, "active_membership", None) if _signed_in(user) else None


def _is_admin(user: Any) -> bool:
    return _signed_in(user) and bool(getattr(user, "is_admin", False))


def _member_of(user: Any, organisation: Any, role: str | None = None) -> bool:
    m = _membership(user)
    if m is None or organisation is None or m.organisation_id != organisation.id:
        return False
    return role is None or m.role == role


# Challenge states in which the lead may still change who funds it.
_FUNDING_OPEN = ("draft", "open")
# Challenge states from which it can still be cancelled (anything before the open record).
_CANCELLABLE = ("draft", "open", "in_progress", "concluded")
# A partner row in these states lets the partner's members read the challenge.
_PARTNER_READS = ("invited", "requested", "accepted")


def _authority_member(user: Any, role: str | None = None, verified: bool = False) -> bool:
    m = _membership(user)
    if m is None or m.organisation is None or m.organisation.kind != "authority":
        return False
    if verified and not m.organisation.is_verified:
        return False
    return role is None or m.role == role


def _lead(user: Any, challenge: Any, role: str | None = None) -> bool:
    m = _membership(user)
    return (m is not None and challenge is not None
            and m.organisation_id == challenge.lead_organisation_id
            and (role is None or m.role == role))


def _partner_row(user: Any, challenge: Any) -> Any:
    m = _membership(user)
    if m is None or challenge is None:
        return None
    for funder in challenge.funders:
        if funder.organisation_id == m.organisation_id and funder.role == "partner":
            return funder
    return None


def _challenge_rule(user: Any, permission: Permission, challenge: Any) -> bool:
    if challenge is None:
        return False
    status = challenge.status
    lead_editor = _lead(user, challenge, role="editor")
    match permission:
        case Permission.CHALLENGE_VIEW:
            if status != "draft":
                return True
            # A draft is shared among public bodies (so they can find one to co-fund), never
            # with suppliers or the public.
            partner = _partner_row(user, challenge)
            return (_lead(user, challenge) or _authority_member(user, verified=True)
                    or (partner is not None and partner.status in _PARTNER_READS))
        case Permission.CHALLENGE_EDIT | Permission.CHALLENGE_PUBLISH:
            return lead_editor and status == "draft"
        case Permission.CHALLENGE_AMEND:
            return lead_editor and status == "open"
        case Permission.CHALLENGE_CANCEL:
            return lead_editor and status in _CANCELLABLE
        case Permission.CHALLENGE_MANAGE_PARTNERS:
            return lead_editor and status in _FUNDING_OPEN
        case Permission.CHALLENGE_PLEDGE:
            partner = _partner_row(user, challenge)
            return (status in _FUNDING_OPEN and partner is not None
                    and partner.status in ("invited", "accepted")
                    and _authority_member(user, role="editor", verified=True))
        case Permission.CHALLENGE_REQUEST_JOIN:
            partner = _partner_row(user, challenge)
            return (status in _FUNDING_OPEN and not _lead(user, challenge)
                    and _authority_member(user, role="editor", verified=True)
                    and (partner is None or partner.status == "declined"))
        case Permission.CLARIFICATION_ASK:
            m = _membership(user)
            return (status == "open" and m is not None and m.organisation is not None
                    and m.organisation.kind == "supplier")
        case Permission.CLARIFICATION_ANSWER:
            return lead_editor and status == "open"
        case Permission.CLARIFICATION_READ_PENDING:
            return _lead(user, challenge)
    return False


def _proposal_rule(user: Any, permission: Permission, obj: Any, now: datetime | None) -> bool:
    from procure.submissions import sealing

    if obj is None:
        return False
    match permission:
        case Permission.PROPOSAL_START:
            # obj is the phase: an editor of a supplier organisation, while the challenge is
            # public and the phase is open to all (the window itself is checked by the clock).
            m = _membership(user)
            return (m is not None and m.role == "editor" and m.organisation is not None
                    and m.organisation.kind == "supplier"
                    and obj.challenge.status in ("open", "in_progress")
                    and (not obj.is_invitation_only or _invited_entrant(user, obj) is not None))
        case Permission.PROPOSAL_EDIT:
            return sealing.is_supplier_member(user, obj) and _membership(user).role == "editor"
        case Permission.PROPOSAL_READ:
            if now is None:
                raise TypeError("reading a proposal depends on the time: pass now")
            return sealing.can_read_proposal(user, obj, now)
        case Permission.PROPOSAL_COUNT:
            return sealing.authority_reader(user, obj)
    return False


def _invited_entrant(user: Any, phase: Any) -> Any:
    """The user's organisation's place in an invitation-only phase, once invited."""
    m = _membership(user)
    if m is None:
        return None
    return next((e for e in getattr(phase, "entrants", ())
                 if e.organisation_id == m.organisation_id and e.invited_at is not None), None)


def _contracts_complete(decision: Any) -> bool:
    """An award is approved and released with a contract for every supplier selected."""
    if decision.kind != "award":
        return True
    contracted = {c.proposal_id for c in getattr(decision, "contracts", ())}
    return all(i in contracted for i in decision.selected_ids)


def _bake_off_rule(user: Any, permission: Permission, obj: Any, now: datetime | None) -> bool:
    """The bake-off and the award. ``obj`` is a phase (inviting, verifying, the results), an
    entrant (reporting), a decision (award contracts) or an adoption check-in."""
    from procure.submissions import sealing

    if obj is None:
        return False
    match permission:
        case Permission.BAKE_OFF_INVITE:
            phases = obj.challenge.phases
            before = next((p for p in phases if p.position == obj.position - 1), None)
            return (_lead(user, obj.challenge, role="editor")
                    and obj.challenge.status == "in_progress" and obj.is_invitation_only
                    and obj.status == "planned" and before is not None
                    and before.status == "decided" and bool(getattr(obj, "entrants", ())))
        case Permission.BAKE_OFF_REPORT:
            m = _membership(user)
            return (m is not None and m.role == "editor"
                    and m.organisation_id == obj.organisation_id
                    and obj.invited_at is not None and obj.phase.status in ("open", "closed")
                    and obj.phase.challenge.status == "in_progress")
        case Permission.BAKE_OFF_VERIFY:
            return (_lead(user, obj.challenge, role="editor") and obj.kind == "bake_off"
                    and obj.status == "closed" and obj.challenge.status == "in_progress"
                    and getattr(obj, "decision", None) is None)
        case Permission.BAKE_OFF_RESULTS:
            if now is None:
                raise TypeError("reading bake-off results depends on the time: pass now")
            return (obj.kind == "bake_off" and sealing.authority_reader(user, obj.challenge)
                    and sealing.phase_unsealed(obj.status, obj.closes_at, obj.closed_at, now))
        case Permission.AWARD_CONTRACT:
            return (_lead(user, obj.phase.challenge, role="editor") and obj.kind == "award"
                    and obj.status == "awaiting_approval" and bool(obj.selected_ids))
        case Permission.CHECK_IN_RECORD:
            return _lead(user, obj.challenge, role="editor") and obj.challenge.status in (
                "concluded", "published")
    return False


def _record_rule(user: Any, permission: Permission, challenge: Any) -> bool:
    """The open record. ``obj`` is the challenge (its ``record`` may not exist yet)."""
    from procure.record import rules as record_rules

    if challenge is None:
        return False
    record = getattr(challenge, "record", None)
    status = record.status if record is not None else None
    match permission:
        case Permission.RECORD_PREPARE:
            # The lead authority's members follow the record from conclusion to publication.
            return _lead(user, challenge) and (
                challenge.status == "published" or record_rules.publishable(
                    challenge.status, challenge.opened_at is not None))
        case Permission.RECORD_EDIT | Permission.RECORD_PUBLISH:
            return (_lead(user, challenge, role="editor") and record_rules.editable(
                status, challenge.status, challenge.opened_at is not None))
        case Permission.RECORD_REUSE:
            return status == "published" and _authority_member(user, role="editor", verified=True)
        case Permission.RECORD_INTEREST:
            # Not the lead nor a co-funder: they already hold the solution's story first hand.
            partner = _partner_row(user, challenge)
            return (status == "published" and record.outcome == "awarded"
                    and not _lead(user, challenge)
                    and (partner is None or partner.status != "accepted")
                    and _authority_member(user, role="editor", verified=True))
    return False


def _accepted_partner_editor(user: Any, challenge: Any) -> Any:
    partner = _partner_row(user, challenge)
    if partner is None or partner.status != "accepted":
        return None
    return partner if _membership(user).role == "editor" else None


def _own_assessment_submitted(appointment: Any, proposal: Any) -> bool:
    return any(a.proposal_id == proposal.id and a.status == "submitted"
               for a in getattr(appointment, "assessments", ()))


def _assessment_rule(user: Any, permission: Permission, obj: Any, now: datetime | None) -> bool:
    """Assessors, moderation and decisions. ``obj`` is a phase (appointing, the overview,
    recording a decision), a proposal (declaring, scoring, reading scores, moderating,
    feedback) or a decision (approving, releasing)."""
    from procure.submissions import sealing

    if obj is None:
        return False
    match permission:
        case Permission.ASSESSOR_APPOINT:
            # Not once a decision is recorded: a late appointee could never score.
            return (_lead(user, obj.challenge, role="editor")
                    and obj.challenge.status in ("open", "in_progress")
                    and obj.status in ("planned", "open", "closed")
                    and getattr(obj, "decision", None) is None)
        case Permission.ASSESSMENT_OVERVIEW:
            return sealing.authority_reader(user, obj.challenge)
        case Permission.DECISION_RECORD:
            decision = getattr(obj, "decision", None)
            return (_lead(user, obj.challenge, role="editor") and obj.status == "closed"
                    and obj.challenge.status in ("open", "in_progress")
                    and (decision is None or decision.status == "awaiting_approval"))
        case Permission.DECISION_APPROVE:
            challenge = obj.phase.challenge
            partner = _accepted_partner_editor(user, challenge)
            return (partner is not None and obj.status == "awaiting_approval"
                    and _contracts_complete(obj)
                    and all(a.organisation_id != partner.organisation_id for a in obj.approvals))
        case Permission.DECISION_RELEASE:
            challenge = obj.phase.challenge
            approved = {a.organisation_id for a in obj.approvals}
            return (_lead(user, challenge, role="editor") and obj.status == "awaiting_approval"
                    and _contracts_complete(obj)
                    and all(f.organisation_id in approved for f in challenge.funders
                            if f.role == "partner" and f.status == "accepted"))
        case Permission.FEEDBACK_READ:
            decision = getattr(obj.phase, "decision", None)
            return (sealing.is_supplier_member(user, obj) and decision is not None
                    and decision.status == "released")
    # The rest are about one proposal under assessment, and depend on the time.
    if now is None:
        raise TypeError("assessing a proposal depends on the time: pass now")
    phase = obj.phase
    appointment = sealing.appointment_of(user, phase)
    match permission:
        case Permission.ASSESSMENT_DECLARE:
            return (appointment is not None and appointment.status == "accepted"
                    and phase.status == "closed" and getattr(phase, "decision", None) is None
                    and sealing.declaration(appointment, obj.organisation_id) is None
                    and sealing.phase_unsealed(phase.status, phase.closes_at, phase.closed_at, now)
                    and _counts(obj))
        case Permission.ASSESSMENT_SCORE:
            return (appointment is not None and phase.status == "closed"
                    and getattr(phase, "decision", None) is None
                    and sealing.can_read_proposal(user, obj, now))
        case Permission.ASSESSMENT_READ_SCORES:
            # An assessor sees the others' marks only once their own are in.
            if not sealing.can_read_proposal(user, obj, now) or sealing.is_supplier_member(user, obj):
                return False
            return appointment is None or _own_assessment_submitted(appointment, obj)
        case Permission.ASSESSMENT_MODERATE:
            return (_lead(user, phase.challenge, role="editor") and phase.status == "closed"
                    and getattr(phase, "decision", None) is None
                    and sealing.can_read_proposal(user, obj, now)
                    and (appointment is None or _own_assessment_submitted(appointment, obj)))
    return False


def _counts(proposal: Any) -> bool:
    from procure.submissions import lifecycle

    return lifecycle.counts(proposal.status, proposal.current_receipt_id is not None,
                            proposal.must_reconfirm)


def can(user: Any, permission: Permission, obj: Any = None, *, now: datetime | None = None) -> bool:
    """Whether ``user`` may do ``permission`` to ``obj`` (at ``now``, for time-bound rules)."""
    match permission:
        case Permission.ADMIN_ACCESS | Permission.AUDIT_READ | Permission.OUTBOX_READ:
            return _is_admin(user)
        case Permission.ORGANISATION_VERIFY:
            return _is_admin(user) and obj is not None and not obj.is_verified
        case Permission.ORGANISATION_CREATE | Permission.ORGANISATION_JOIN:
            # One organisation per user: only someone with no membership (or a declined one).
            if not _signed_in(user):
                return False
            m = getattr(user, "membership", None)
            return m is None or m.status == "declined"
        case Permission.ORGANISATION_VIEW_MEMBERS:
            return _member_of(user, obj) or _is_admin(user)
        case Permission.ORGANISATION_MANAGE_MEMBERS:
            return _member_of(user, obj, role="editor")
        case Permission.VALUES_MANAGE:
            return _is_admin(user)
        case Permission.CHALLENGE_CREATE:
            return _authority_member(user, role="editor")
        case Permission.TAG_FOLLOW:
            return _signed_in(user)
        case _ if permission.value.startswith(("challenge:", "clarification:")):
            return _challenge_rule(user, permission, obj)
        case _ if permission.value.startswith("proposal:"):
            return _proposal_rule(user, permission, obj, now)
        case _ if permission.value.startswith(("assessor:", "assessment:", "decision:",
                                               "feedback:")):
            return _assessment_rule(user, permission, obj, now)
        case _ if permission.value.startswith(("bakeoff:", "award:", "checkin:")):
            return _bake_off_rule(user, permission, obj, now)
        case _ if permission.value.startswith("record:"):
            return _record_rule(user, permission, obj)
    return False


def require(user: Any, permission: Permission, obj: Any = None, *,
            now: datetime | None = None) -> None:
    """Raise NotPermitted unless ``can(user, permission, obj)``."""
    if not can(user, permission, obj, now=now):
        raise NotPermitted(str(permission))
