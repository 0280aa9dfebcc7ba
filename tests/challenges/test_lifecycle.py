"""The challenge and phase state machines, and the moves the clock makes due (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import product

import pytest

from procure.challenges.lifecycle import (
    CHALLENGE_TRANSITIONS,
    PHASE_TRANSITIONS,
    PUBLIC_STATUSES,
    ChallengeAction,
    ChallengeStatus,
    PhaseAction,
    PhaseStatus,
    accepting_proposals,
    allowed_actions,
    due_phase_action,
    next_phase_status,
    next_status,
)
from procure.errors import InvalidTransition

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
DAY = timedelta(days=1)

# The tables as the product defines them, written out so that any change to the code's tables is seen.
EXPECTED_CHALLENGE_MOVES = {
    ("draft", "edit"): "draft",
    ("draft", "publish"): "open",
    ("draft", "cancel"): "cancelled",
    ("open", "amend"): "open",
    ("open", "start"): "in_progress",
    ("open", "cancel"): "cancelled",
    ("in_progress", "conclude"): "concluded",
    ("in_progress", "cancel"): "cancelled",
    ("concluded", "publish_record"): "published",
    ("concluded", "cancel"): "cancelled",
}
CHALLENGE_REFUSED = sorted(
    (s.value, a.value) for s, a in product(ChallengeStatus, ChallengeAction)
    if (s.value, a.value) not in EXPECTED_CHALLENGE_MOVES)

EXPECTED_PHASE_MOVES = {
    ("planned", "open"): "open",
    ("planned", "cancel"): "cancelled",
    ("open", "close"): "closed",
    ("open", "cancel"): "cancelled",
    ("closed", "decide"): "decided",
    ("closed", "cancel"): "cancelled",
}
PHASE_REFUSED = sorted(
    (s.value, a.value) for s, a in product(PhaseStatus, PhaseAction)
    if (s.value, a.value) not in EXPECTED_PHASE_MOVES)


def _ids(pair):
    return "-".join(pair) if isinstance(pair, tuple) else str(pair)


# --- the challenge state machine ---------------------------------------------------------------


def test_challenge_vocabulary():
    assert [s.value for s in ChallengeStatus] == [
        "draft", "open", "in_progress", "concluded", "published", "cancelled"]
    assert [a.value for a in ChallengeAction] == [
        "edit", "publish", "amend", "start", "conclude", "publish_record", "cancel"]


def test_challenge_table_is_exactly_the_expected_one():
    assert {(s.value, a.value): t.value for (s, a), t in CHALLENGE_TRANSITIONS.items()} \
        == EXPECTED_CHALLENGE_MOVES


def test_refused_challenge_moves_cover_the_rest_of_the_cross_product():
    cross_product = len(ChallengeStatus) * len(ChallengeAction)
    assert len(EXPECTED_CHALLENGE_MOVES) + len(CHALLENGE_REFUSED) == cross_product
    assert len(CHALLENGE_REFUSED) == 32


@pytest.mark.parametrize("current, action, expected",
                         [(s, a, t) for (s, a), t in EXPECTED_CHALLENGE_MOVES.items()],
                         ids=[f"{s}-{a}" for s, a in EXPECTED_CHALLENGE_MOVES])
def test_allowed_challenge_move(current, action, expected):
    result = next_status(current, action)
    assert result == expected
    assert isinstance(result, ChallengeStatus)
    # The enum members are accepted as well as their stored strings.
    assert next_status(ChallengeStatus(current), ChallengeAction(action)) is ChallengeStatus(expected)


@pytest.mark.parametrize("current, action", CHALLENGE_REFUSED, ids=_ids)
def test_refused_challenge_move(current, action):
    with pytest.raises(InvalidTransition) as raised:
        next_status(current, action)
    assert raised.value.current == current
    assert raised.value.action == action
    assert str(raised.value) == f"cannot {action} from {current}"
    with pytest.raises(InvalidTransition):
        next_status(ChallengeStatus(current), ChallengeAction(action))


@pytest.mark.parametrize("current, action", [
    ("drafted", "publish"),         # no such status
    ("draft", "publicise"),         # no such action
    ("Draft", "publish"),           # statuses are lower case
    ("draft", "PUBLISH"),
    ("", "publish"),
    ("draft", ""),
    ("", ""),
    ("planned", "open"),            # a phase status and action, not a challenge's
    ("open", "close"),
    ("closed", "decide"),
], ids=_ids)
def test_unknown_challenge_status_or_action_is_refused(current, action):
    with pytest.raises(InvalidTransition) as raised:
        next_status(current, action)
    assert (raised.value.current, raised.value.action) == (current, action)


@pytest.mark.parametrize("current, expected", [
    ("draft", {"edit", "publish", "cancel"}),
    ("open", {"amend", "start", "cancel"}),
    ("in_progress", {"conclude", "cancel"}),
    ("concluded", {"publish_record", "cancel"}),
    ("published", set()),
    ("cancelled", set()),
    ("archived", set()),            # unknown: nothing to offer
    ("", set()),
])
def test_allowed_actions(current, expected):
    actions = allowed_actions(current)
    assert isinstance(actions, frozenset)
    assert {a.value for a in actions} == expected
    assert all(isinstance(a, ChallengeAction) for a in actions)


@pytest.mark.parametrize("current", list(ChallengeStatus), ids=str)
def test_allowed_actions_agree_with_next_status(current):
    for action in ChallengeAction:
        if action in allowed_actions(current):
            next_status(current, action)
        else:
            with pytest.raises(InvalidTransition):
                next_status(current, action)


def test_every_status_but_draft_is_public():
    assert PUBLIC_STATUSES == {"open", "in_progress", "concluded", "published", "cancelled"}


# --- the phase state machine ---------------------------------------------------------------------


def test_phase_vocabulary():
    assert [s.value for s in PhaseStatus] == ["planned", "open", "closed", "decided", "cancelled"]
    assert [a.value for a in PhaseAction] == ["open", "close", "decide", "cancel"]


def test_phase_table_is_exactly_the_expected_one():
    assert {(s.value, a.value): t.value for (s, a), t in PHASE_TRANSITIONS.items()} == EXPECTED_PHASE_MOVES


def test_refused_phase_moves_cover_the_rest_of_the_cross_product():
    assert len(EXPECTED_PHASE_MOVES) + len(PHASE_REFUSED) == len(PhaseStatus) * len(PhaseAction)
    assert len(PHASE_REFUSED) == 14


@pytest.mark.parametrize("current, action, expected",
                         [(s, a, t) for (s, a), t in EXPECTED_PHASE_MOVES.items()],
                         ids=[f"{s}-{a}" for s, a in EXPECTED_PHASE_MOVES])
def test_allowed_phase_move(current, action, expected):
    result = next_phase_status(current, action)
    assert result == expected
    assert isinstance(result, PhaseStatus)
    assert next_phase_status(PhaseStatus(current), PhaseAction(action)) is PhaseStatus(expected)


@pytest.mark.parametrize("current, action", PHASE_REFUSED, ids=_ids)
def test_refused_phase_move(current, action):
    with pytest.raises(InvalidTransition) as raised:
        next_phase_status(current, action)
    assert (raised.value.current, raised.value.action) == (current, action)
    with pytest.raises(InvalidTransition):
        next_phase_status(PhaseStatus(current), PhaseAction(action))


@pytest.mark.parametrize("current, action", [
    ("scheduled", "open"),
    ("planned", "start"),
    ("Planned", "open"),
    ("planned", "OPEN"),
    ("", "open"),
    ("planned", ""),
    ("draft", "publish"),           # a challenge status and action, not a phase's
    ("open", "amend"),
    ("in_progress", "cancel"),
], ids=_ids)
def test_unknown_phase_status_or_action_is_refused(current, action):
    with pytest.raises(InvalidTransition) as raised:
        next_phase_status(current, action)
    assert (raised.value.current, raised.value.action) == (current, action)


# --- what the clock makes due ----------------------------------------------------------------------

OPEN, CLOSE = PhaseAction.OPEN, PhaseAction.CLOSE


@pytest.mark.parametrize("status, opens_at, closes_at, challenge_open, by_invitation, expected", [
    # A planned open-competition phase of a published challenge opens at its opening time.
    ("planned", NOW, NOW + 10 * DAY, True, False, OPEN),                  # exactly at opening
    ("planned", NOW + SECOND, NOW + 10 * DAY, True, False, None),         # a second before
    ("planned", NOW - SECOND, NOW + 10 * DAY, True, False, OPEN),         # a second after
    ("planned", NOW - 3 * DAY, NOW + 10 * DAY, True, False, OPEN),        # a tick was missed
    ("planned", NOW + 3 * DAY, NOW + 10 * DAY, True, False, None),
    # ... but only while its window lasts.
    ("planned", NOW - DAY, NOW + SECOND, True, False, OPEN),              # a second before closing
    # A window that passed unseen still opens (and closes on the next step): never stuck.
    ("planned", NOW - DAY, NOW, True, False, OPEN),                       # exactly at closing
    ("planned", NOW - DAY, NOW - SECOND, True, False, OPEN),              # a second after closing
    ("planned", NOW - DAY, None, True, False, OPEN),                      # no closing time yet
    ("planned", None, NOW + DAY, True, False, None),                      # no opening time
    ("planned", None, None, True, False, None),
    # The challenge must be open (published) for the clock to open a phase.
    ("planned", NOW, NOW + 10 * DAY, False, False, None),
    ("planned", NOW - DAY, NOW + 10 * DAY, False, False, None),
    # A phase by invitation never opens by the clock alone.
    ("planned", NOW, NOW + 10 * DAY, True, True, None),
    ("planned", NOW - DAY, NOW + 10 * DAY, True, True, None),
    ("planned", NOW - DAY, NOW + 10 * DAY, False, True, None),
    # Any open phase closes at its closing time.
    ("open", NOW - DAY, NOW + SECOND, True, False, None),                 # a second before
    ("open", NOW - DAY, NOW, True, False, CLOSE),                         # exactly at closing
    ("open", NOW - DAY, NOW - SECOND, True, False, CLOSE),                # a second after
    ("open", NOW - 9 * DAY, NOW - 3 * DAY, True, False, CLOSE),           # a tick was missed
    ("open", NOW - DAY, NOW, True, True, CLOSE),                          # by invitation too
    ("open", NOW - DAY, NOW, False, False, CLOSE),                        # whatever the challenge's state
    ("open", NOW - DAY, NOW, False, True, CLOSE),
    ("open", None, NOW - SECOND, True, False, CLOSE),                     # opening time not needed
    ("open", NOW - DAY, None, True, False, None),                         # no closing time: stays open
    ("open", None, None, True, False, None),
    # Nothing is due for a phase past open.
    ("closed", NOW - DAY, NOW - SECOND, True, False, None),
    ("closed", NOW, NOW + DAY, True, False, None),
    ("decided", NOW - DAY, NOW - SECOND, True, False, None),
    ("decided", NOW, NOW + DAY, True, False, None),
    ("cancelled", NOW - DAY, NOW - SECOND, True, False, None),
    ("cancelled", NOW, NOW + DAY, True, False, None),
    ("unknown", NOW, NOW + DAY, True, False, None),
])
def test_due_phase_action(status, opens_at, closes_at, challenge_open, by_invitation, expected):
    due = due_phase_action(status, opens_at, closes_at, NOW, challenge_open=challenge_open,
                           by_invitation=by_invitation)
    assert due == expected
    # The enum member behaves as its stored string.
    if status in set(PhaseStatus):
        assert due_phase_action(PhaseStatus(status), opens_at, closes_at, NOW,
                                challenge_open=challenge_open, by_invitation=by_invitation) == expected


def test_due_phase_action_is_open_competition_unless_told():
    assert due_phase_action("planned", NOW, NOW + DAY, NOW, challenge_open=True) is PhaseAction.OPEN


@pytest.mark.parametrize("status, opens_at, closes_at, expected", [
    ("planned", NOW - DAY, NOW + DAY, "open"),
    ("open", NOW - DAY, NOW, "closed"),
])
def test_the_due_action_is_one_the_phase_table_allows(status, opens_at, closes_at, expected):
    due = due_phase_action(status, opens_at, closes_at, NOW, challenge_open=True)
    assert next_phase_status(status, due) == expected


@pytest.mark.parametrize("status, opens_at, closes_at, expected", [
    ("planned", NOW, NOW + DAY, True),             # exactly at opening, before the job has run
    ("open", NOW, NOW + DAY, True),
    ("open", NOW + SECOND, NOW + DAY, False),      # a second before opening
    ("planned", NOW + SECOND, NOW + DAY, False),
    ("open", NOW - SECOND, NOW + DAY, True),
    ("open", NOW - DAY, NOW + SECOND, True),       # a second before closing
    ("open", NOW - DAY, NOW, False),               # exactly at closing, before the job has run
    ("planned", NOW - DAY, NOW, False),
    ("open", NOW - DAY, NOW - SECOND, False),
    ("open", None, NOW + DAY, False),              # no window, no proposals
    ("open", NOW - DAY, None, False),
    ("planned", None, None, False),
    ("closed", NOW - DAY, NOW + DAY, False),       # moved on: the window no longer matters
    ("decided", NOW - DAY, NOW + DAY, False),
    ("cancelled", NOW - DAY, NOW + DAY, False),
    ("unknown", NOW - DAY, NOW + DAY, False),
])
def test_accepting_proposals(status, opens_at, closes_at, expected):
    assert accepting_proposals(status, opens_at, closes_at, NOW) is expected
