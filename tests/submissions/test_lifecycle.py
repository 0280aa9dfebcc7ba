"""The proposal state machine, whether a proposal is in the competition, and when a phase takes
proposals: pure tables, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import product

import pytest

from procure.errors import InvalidTransition
from procure.submissions.lifecycle import (
    ProposalAction,
    allowed_actions,
    counts,
    next_status,
    window_problem,
)
from procure.submissions.models import ProposalStatus

SECOND = timedelta(seconds=1)
OPENS = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
CLOSES = datetime(2026, 12, 31, 12, 0, tzinfo=UTC)

# Every move a proposal may make, written out: anything not listed is refused.
ALLOWED = {
    ("draft", "edit"): "draft",
    ("draft", "submit"): "submitted",
    ("submitted", "submit"): "submitted",  # confirming again after an amendment
    ("submitted", "reopen"): "reopened",
    ("submitted", "withdraw"): "withdrawn",
    ("reopened", "edit"): "reopened",
    ("reopened", "submit"): "submitted",
    ("reopened", "withdraw"): "withdrawn",
    ("withdrawn", "restart"): "draft",
}
ALL_PAIRS = list(product([s.value for s in ProposalStatus], [a.value for a in ProposalAction]))


def test_the_table_covers_every_status_and_action():
    assert {s for s, _ in ALL_PAIRS} == {"draft", "submitted", "reopened", "withdrawn"}
    assert {a for _, a in ALL_PAIRS} == {"edit", "submit", "reopen", "withdraw", "restart"}
    assert set(ALLOWED) <= set(ALL_PAIRS)


@pytest.mark.parametrize(("status", "action"), [p for p in ALL_PAIRS if p in ALLOWED])
def test_allowed_move(status, action):
    assert next_status(status, action) == ALLOWED[(status, action)]


@pytest.mark.parametrize(("status", "action"), [p for p in ALL_PAIRS if p not in ALLOWED])
def test_refused_move(status, action):
    with pytest.raises(InvalidTransition) as refused:
        next_status(status, action)
    assert (refused.value.current, refused.value.action) == (status, action)


@pytest.mark.parametrize(("status", "action"), [
    ("closed", "edit"), ("draft", "delete"), ("", "submit"), ("draft", ""),
])
def test_unknown_status_or_action_is_refused(status, action):
    with pytest.raises(InvalidTransition):
        next_status(status, action)


@pytest.mark.parametrize("status", [s.value for s in ProposalStatus])
def test_allowed_actions_are_the_moves_of_the_table(status):
    assert allowed_actions(status) == {a for s, a in ALLOWED if s == status}


def test_a_withdrawn_proposal_can_only_start_again():
    assert allowed_actions("withdrawn") == {"restart"}
    assert allowed_actions("submitted") == {"submit", "reopen", "withdraw"}


# --- counts: in the competition ----------------------------------------------------------------

@pytest.mark.parametrize(("status", "has_receipt", "must_reconfirm", "expected"), [
    ("submitted", True, False, True),
    ("reopened", True, False, True),     # being changed: the last submission still counts
    ("submitted", True, True, False),    # amended since: must be confirmed again
    ("reopened", True, True, False),
    ("submitted", False, False, False),  # no receipt, nothing stands
    ("reopened", False, False, False),
    ("draft", False, False, False),
    ("draft", True, False, False),       # started again after a withdrawal
    ("withdrawn", True, False, False),
    ("withdrawn", False, False, False),
])
def test_counts(status, has_receipt, must_reconfirm, expected):
    assert counts(status, has_receipt, must_reconfirm) is expected


# --- window_problem: the clock decides --------------------------------------------------------

@pytest.mark.parametrize(("phase_status", "now", "expected"), [
    ("planned", OPENS - SECOND, "phase_not_open"),
    ("planned", OPENS, None),
    ("open", OPENS, None),
    ("open", CLOSES - SECOND, None),
    ("open", CLOSES, "phase_closed"),          # the closing time itself is too late
    ("open", CLOSES + SECOND, "phase_closed"),
    ("planned", CLOSES, "phase_closed"),       # the job has not run: the clock still holds
    ("closed", CLOSES + SECOND, "phase_closed"),
    ("closed", CLOSES - SECOND, "phase_closed"),  # closed by the job: a clock behind it is wrong
    ("cancelled", OPENS + SECOND, "phase_not_accepting"),
    ("cancelled", CLOSES + SECOND, "phase_not_accepting"),
    ("decided", OPENS + SECOND, "phase_not_accepting"),
    ("decided", CLOSES + SECOND, "phase_not_accepting"),
])
def test_window_problem(phase_status, now, expected):
    assert window_problem(phase_status, OPENS, CLOSES, now) == expected


@pytest.mark.parametrize(("opens_at", "closes_at"), [(None, CLOSES), (OPENS, None), (None, None)])
def test_a_phase_without_dates_takes_no_proposals(opens_at, closes_at):
    assert window_problem("open", opens_at, closes_at, OPENS + SECOND) == "phase_not_accepting"
