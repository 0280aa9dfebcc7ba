"""The proposal state machine as a table of allowed moves, and when a phase takes proposals.

Pure: no Flask, no SQLAlchemy, no clock; ``now`` is passed in.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from procure.errors import InvalidTransition
from procure.submissions.models import ProposalStatus


class ProposalAction(StrEnum):
    EDIT = "edit"          # change the working copy
    SUBMIT = "submit"      # freeze a snapshot and give a receipt
    REOPEN = "reopen"      # change a submitted proposal (its submission still counts meanwhile)
    WITHDRAW = "withdraw"  # take the proposal out of the competition
    RESTART = "restart"    # start again after a withdrawal


S, A = ProposalStatus, ProposalAction

PROPOSAL_TRANSITIONS: dict[tuple[ProposalStatus, ProposalAction], ProposalStatus] = {
    (S.DRAFT, A.EDIT): S.DRAFT,
    (S.DRAFT, A.SUBMIT): S.SUBMITTED,
    (S.SUBMITTED, A.SUBMIT): S.SUBMITTED,   # confirming again after an amendment
    (S.SUBMITTED, A.REOPEN): S.REOPENED,
    (S.SUBMITTED, A.WITHDRAW): S.WITHDRAWN,
    (S.REOPENED, A.EDIT): S.REOPENED,
    (S.REOPENED, A.SUBMIT): S.SUBMITTED,
    (S.REOPENED, A.WITHDRAW): S.WITHDRAWN,
    (S.WITHDRAWN, A.RESTART): S.DRAFT,
}


def next_status(current: str, action: str) -> ProposalStatus:
    """The state ``action`` leads to; InvalidTransition if the table does not allow it."""
    try:
        return PROPOSAL_TRANSITIONS[(ProposalStatus(current), ProposalAction(action))]
    except (KeyError, ValueError):
        raise InvalidTransition(str(current), str(action)) from None


def allowed_actions(current: str) -> frozenset[ProposalAction]:
    return frozenset(a for (s, a) in PROPOSAL_TRANSITIONS if s == current)


def counts(status: str, has_receipt: bool, must_reconfirm: bool) -> bool:
    """Whether a proposal is in the competition: a submission stands and needs no confirming."""
    return status in (S.SUBMITTED, S.REOPENED) and has_receipt and not must_reconfirm


def window_problem(phase_status: str, opens_at: datetime | None, closes_at: datetime | None,
                   now: datetime) -> str | None:
    """Why a phase does not take proposals at ``now`` (None when it does).

    By the clock, so a deadline holds whether or not the scheduled job has run: a phase takes
    proposals from its opening time until, not including, its closing time — and never once
    the job has closed it.
    """
    if phase_status in ("cancelled", "decided") or opens_at is None or closes_at is None:
        return "phase_not_accepting"
    # Once the close job has closed the phase, nothing lands, whatever a clock says: a server
    # whose clock runs behind must not add a proposal the authority was told is not there.
    if phase_status == "closed":
        return "phase_closed"
    if now < opens_at:
        return "phase_not_open"
    if now >= closes_at:
        return "phase_closed"
    return None
