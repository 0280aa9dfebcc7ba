"""Sealing: the one rule for who may read any part of a proposal, and when.

Until the phase closes no one outside the supplier's organisation reads anything of it — not
the authority, an assessor or an admin. After the closing time (by the clock, not by the job)
the members of the lead and co-funding authorities read the proposals that count. A phase
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


def can_read_proposal(user: Any, proposal: Any, now: datetime) -> bool:
    """Whether ``user`` may read any part of ``proposal`` at ``now``."""
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
    return authority_reader(user, phase.challenge)
