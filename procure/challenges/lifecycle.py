"""The challenge and phase state machines: pure transition tables, no database, no clock.

Only the domain layer moves a challenge or a phase; it asks ``next_status`` (which raises
InvalidTransition for a move the table does not allow) and templates ask ``allowed_actions``
which buttons to show.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from procure.errors import InvalidTransition


class ChallengeStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    CONCLUDED = "concluded"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class ChallengeAction(StrEnum):
    EDIT = "edit"            # change the draft
    PUBLISH = "publish"      # draft -> open, listed publicly
    AMEND = "amend"          # a public, versioned change while open
    START = "start"          # open -> in_progress, when the first phase closes
    CONCLUDE = "conclude"    # in_progress -> concluded, award or no award recorded
    PUBLISH_RECORD = "publish_record"  # concluded -> published, the open record
    CANCEL = "cancel"        # any state before published -> cancelled, with a public reason


S, A = ChallengeStatus, ChallengeAction

CHALLENGE_TRANSITIONS: dict[tuple[ChallengeStatus, ChallengeAction], ChallengeStatus] = {
    (S.DRAFT, A.EDIT): S.DRAFT,
    (S.DRAFT, A.PUBLISH): S.OPEN,
    (S.DRAFT, A.CANCEL): S.CANCELLED,
    (S.OPEN, A.AMEND): S.OPEN,
    (S.OPEN, A.START): S.IN_PROGRESS,
    (S.OPEN, A.CANCEL): S.CANCELLED,
    (S.IN_PROGRESS, A.CONCLUDE): S.CONCLUDED,
    (S.IN_PROGRESS, A.CANCEL): S.CANCELLED,
    (S.CONCLUDED, A.PUBLISH_RECORD): S.PUBLISHED,
    (S.CONCLUDED, A.CANCEL): S.CANCELLED,
}

# Seen by anyone: everything but a draft.
PUBLIC_STATUSES = frozenset(s for s in ChallengeStatus if s != S.DRAFT)


def next_status(current: str, action: str) -> ChallengeStatus:
    """The state ``action`` leads to from ``current``; InvalidTransition if it is not allowed."""
    try:
        return CHALLENGE_TRANSITIONS[(ChallengeStatus(current), ChallengeAction(action))]
    except (KeyError, ValueError):
        raise InvalidTransition(str(current), str(action)) from None


def allowed_actions(current: str) -> frozenset[ChallengeAction]:
    """Every action the table allows from ``current``."""
    return frozenset(a for (s, a) in CHALLENGE_TRANSITIONS if s == current)


class PhaseStatus(StrEnum):
    PLANNED = "planned"    # not yet open to proposals
    OPEN = "open"          # accepting proposals
    CLOSED = "closed"      # deadline passed; proposals unsealed for assessment
    DECIDED = "decided"    # shortlist or award released
    CANCELLED = "cancelled"


class PhaseAction(StrEnum):
    OPEN = "open"
    CLOSE = "close"
    DECIDE = "decide"
    CANCEL = "cancel"


PS, PA = PhaseStatus, PhaseAction

PHASE_TRANSITIONS: dict[tuple[PhaseStatus, PhaseAction], PhaseStatus] = {
    (PS.PLANNED, PA.OPEN): PS.OPEN,
    (PS.PLANNED, PA.CANCEL): PS.CANCELLED,
    (PS.OPEN, PA.CLOSE): PS.CLOSED,
    (PS.OPEN, PA.CANCEL): PS.CANCELLED,
    (PS.CLOSED, PA.DECIDE): PS.DECIDED,
    (PS.CLOSED, PA.CANCEL): PS.CANCELLED,
}


def next_phase_status(current: str, action: str) -> PhaseStatus:
    """The phase state ``action`` leads to; InvalidTransition if the table does not allow it."""
    try:
        return PHASE_TRANSITIONS[(PhaseStatus(current), PhaseAction(action))]
    except (KeyError, ValueError):
        raise InvalidTransition(str(current), str(action)) from None


def due_phase_action(status: str, opens_at: datetime | None, closes_at: datetime | None,
                     now: datetime, *, challenge_open: bool,
                     by_invitation: bool = False) -> PhaseAction | None:
    """The move the clock makes due for a phase at ``now``, if any.

    An open-competition phase opens at its opening time once the challenge is published; a
    phase by invitation opens when its entrants are decided, never by the clock alone.
    Any open phase closes at its closing time.
    """
    # A phase whose whole window passed unseen (the job was down) still opens, then closes
    # on the next step, so it never stays planned for good.
    if status == PS.PLANNED and challenge_open and not by_invitation and opens_at is not None \
            and opens_at <= now:
        return PA.OPEN
    if status == PS.OPEN and closes_at is not None and closes_at <= now:
        return PA.CLOSE
    return None


def accepting_proposals(status: str, opens_at: datetime | None, closes_at: datetime | None,
                        now: datetime) -> bool:
    """Whether the phase takes proposals at ``now`` — by the clock, whether or not a job has run."""
    return (status in (PS.PLANNED, PS.OPEN) and opens_at is not None and closes_at is not None
            and opens_at <= now < closes_at)
