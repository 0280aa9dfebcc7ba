"""Sealing: the one rule for who may read any part of a proposal, and when.

Until the phase closes no one outside the supplier's organisation reads anything of it — not
the authority, an assessor or an admin. After the closing time (by the clock, not by the job)
the members of the lead and co-funding authorities, and the phase's assessors who have
declared no conflict with the supplier, read the proposals that count. A phase
cancelled before it closed never unseals. Pure: the caller passes ``now``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from procure.submissions import lifecycle


def _membership(user: Any) -> Any:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    return getattr(user, "active_membership", None)


def phase_unsealed(status: str, closes_at: datetime | None, closed_at: datetime | None,
                   now: datetime) -> bool:
    """Whether proposals of a phase with this state may be read by the authority at ``now``."""
    if closes_at is None:
        return False
    if status == "cancelled" and closed_at is None:
        return False
    return now >= closes_at


def is_supplier_member(user: Any, proposal: Any) -> bool:
    """A member of the organisation that owns the proposal."""
    m = _membership(user)
    return m is not None and m.organisation_id == proposal.organisation_id


def authority_reader(user: Any, challenge: Any) -> bool:
    """A member of the lead authority or of an authority that has accepted to co-fund."""
    m = _membership(user)
    if m is None or m.organisation is None or m.organisation.kind != "authority":
        return False
    if m.organisation_id == challenge.lead_organisation_id:
        return True
    return any(f.organisation_id == m.organisation_id and f.role == "partner"
               and f.status == "accepted" for f in challenge.funders)


def appointment_of(user: Any, phase: Any) -> Any:
    """The user's standing appointment (invited or accepted) as an assessor of ``phase``."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    return next((a for a in getattr(phase, "appointments", ())
                 if a.user_id == user.id and a.status in ("invited", "accepted")), None)


def declaration(appointment: Any, organisation_id: int) -> Any:
    """The appointment's conflict declaration about one supplier, if made."""
    return next((d for d in appointment.declarations if d.organisation_id == organisation_id),
                None)


def declared_conflict(user: Any, phase: Any, organisation_id: int) -> bool:
    """Whether ``user`` has declared a conflict with that supplier on any appointment to
    ``phase``, standing or not: being stood down (or appointed again) does not undo it."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return any(d.organisation_id == organisation_id and d.conflicted
               for a in getattr(phase, "appointments", ()) if a.user_id == user.id
               for d in a.declarations)


def can_read_proposal(user: Any, proposal: Any, now: datetime) -> bool:
    """Whether ``user`` may read any part of ``proposal`` at ``now``.

    Once unsealed, an appointed assessor reads a proposal only after accepting and declaring
    no conflict with its supplier — even one who is also a member of the authority: a
    conflicted assessor never sees that proposal, not even after being stood down. An
    assessor who has since joined a supplier organisation reads no other supplier's proposal.
    """
    if proposal is None:
        return False
    if is_supplier_member(user, proposal):
        return True
    phase = proposal.phase
    if not phase_unsealed(phase.status, phase.closes_at, phase.closed_at, now):
        return False
    if not lifecycle.counts(proposal.status, proposal.current_receipt_id is not None,
                            proposal.must_reconfirm):
        return False
    if declared_conflict(user, phase, proposal.organisation_id):
        return False
    appointment = appointment_of(user, phase)
    if appointment is not None:
        m = _membership(user)
        if appointment.status != "accepted" or (
                m is not None and m.organisation is not None and m.organisation.kind == "supplier"):
            return False
        declared = declaration(appointment, proposal.organisation_id)
        return declared is not None and not declared.conflicted
    return authority_reader(user, phase.challenge)
