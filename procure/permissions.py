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
                    and not obj.is_invitation_only)
        case Permission.PROPOSAL_EDIT:
            return sealing.is_supplier_member(user, obj) and _membership(user).role == "editor"
        case Permission.PROPOSAL_READ:
            if now is None:
                raise TypeError("reading a proposal depends on the time: pass now")
            return sealing.can_read_proposal(user, obj, now)
        case Permission.PROPOSAL_COUNT:
            return sealing.authority_reader(user, obj)
    return False


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
    return False


def require(user: Any, permission: Permission, obj: Any = None, *,
            now: datetime | None = None) -> None:
    """Raise NotPermitted unless ``can(user, permission, obj)``."""
    if not can(user, permission, obj, now=now):
        raise NotPermitted(str(permission))
