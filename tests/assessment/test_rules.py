"""The pure assessment rules (SPEC §3.4): coverage by independent assessors, the validity of
marks and of a moderator's consensus, what blocks a decision, approvals and the decision's kind.
No database."""

from __future__ import annotations

from decimal import Decimal

import pytest

from procure.assessment import rules
from procure.assessment.rules import Coverage, Seat

SUPPLIER_A, SUPPLIER_B = 100, 200
P_A, P_B = 1, 2                     # proposals of suppliers A and B
PROPOSALS = {P_A: SUPPLIER_A, P_B: SUPPLIER_B}


def seat(n: int, *, conflicted: tuple[int, ...] = (), submitted: tuple[int, ...] = ()) -> Seat:
    conflicted_with = frozenset(conflicted)
    return Seat(appointment_id=n, conflicted_with=conflicted_with,
                declared_for=conflicted_with | {SUPPLIER_A, SUPPLIER_B},
                submitted_for=frozenset(submitted))


# --- coverage -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("seats", "minimum", "expected"), [
    # (available, submitted, needed, complete) for proposal A
    ([seat(1, submitted=(P_A,)), seat(2, submitted=(P_A,))], 2, (2, 2, 0, True)),
    ([seat(1, submitted=(P_A,)), seat(2)], 2, (2, 1, 0, False)),
    ([seat(1), seat(2)], 2, (2, 0, 0, False)),
    # Every available assessor must submit, even beyond the minimum.
    ([seat(1, submitted=(P_A,)), seat(2, submitted=(P_A,)), seat(3)], 2, (3, 2, 0, False)),
    ([seat(1, submitted=(P_A,)), seat(2), seat(3)], 1, (3, 1, 0, False)),
    ([seat(n, submitted=(P_A,)) for n in (1, 2, 3)], 2, (3, 3, 0, True)),
    # A conflicted assessor does not count, leaving the others to complete it...
    ([seat(1, submitted=(P_A,)), seat(2, submitted=(P_A,)), seat(3, conflicted=(SUPPLIER_A,))],
     2, (2, 2, 0, True)),
    # ...or leaving it short of the minimum: one more assessor to appoint.
    ([seat(1, submitted=(P_A,)), seat(2, conflicted=(SUPPLIER_A,))], 2, (1, 1, 1, False)),
    ([seat(1, conflicted=(SUPPLIER_A,)), seat(2, conflicted=(SUPPLIER_A,))], 2, (0, 0, 2, False)),
    ([seat(1, submitted=(P_A,)), seat(2, conflicted=(SUPPLIER_A,))], 3, (1, 1, 2, False)),
    # A conflict with another supplier changes nothing for A.
    ([seat(1, submitted=(P_A,)), seat(2, submitted=(P_A,), conflicted=(SUPPLIER_B,))],
     2, (2, 2, 0, True)),
    # A submission for another proposal is not one for A.
    ([seat(1, submitted=(P_A,)), seat(2, submitted=(P_B,))], 2, (2, 1, 0, False)),
    ([], 2, (0, 0, 2, False)),
    ([seat(1, submitted=(P_A,))], 1, (1, 1, 0, True)),
], ids=["both-in", "one-in", "none-in", "third-missing", "minimum-1-not-all", "three-in",
        "conflict-others-enough", "conflict-short-1", "all-conflicted", "minimum-3-short-2",
        "other-supplier-conflict", "other-proposal", "no-seats", "minimum-1-done"])
def test_coverage(seats, minimum, expected):
    cover = rules.coverage(PROPOSALS, seats, minimum)
    assert set(cover) == {P_A, P_B}
    a = cover[P_A]
    assert a == Coverage(P_A, *expected)


def test_coverage_is_per_proposal():
    seats = [seat(1, submitted=(P_A, P_B)), seat(2, submitted=(P_A,), conflicted=(SUPPLIER_B,)),
             seat(3, submitted=(P_A,))]
    cover = rules.coverage(PROPOSALS, seats, 3)
    assert cover[P_A] == Coverage(P_A, available=3, submitted=3, needed=0, complete=True)
    assert cover[P_B] == Coverage(P_B, available=2, submitted=1, needed=1, complete=False)


def test_coverage_of_no_proposals():
    assert rules.coverage({}, [seat(1)], 2) == {}


# --- conflict declarations ------------------------------------------------------------------------

@pytest.mark.parametrize(("conflicted", "reason", "problems"), [
    (False, "", {}),
    (True, "I used to work there", {}),
    (None, "", {"conflicted": "conflict_choose"}),
    (None, "A reason but no answer", {"conflicted": "conflict_choose"}),
    (True, "", {"reason": "conflict_reason_missing"}),
    (True, "  \n\t", {"reason": "conflict_reason_missing"}),
    (True, "x" * rules.REASON_MAX, {}),
    (True, "x" * (rules.REASON_MAX + 1), {"reason": "text_too_long"}),
    (False, "x" * (rules.REASON_MAX + 1), {"reason": "text_too_long"}),
])
def test_conflict_problems(conflicted, reason, problems):
    assert rules.conflict_problems(conflicted, reason) == problems


# --- an assessor's marks -------------------------------------------------------------------------

CRITERIA = [(11, "scored"), (12, "scored"), (13, "gate")]
WHY = "Clear evidence"
COMPLETE = {11: {"score": 3, "justification": WHY}, 12: {"score": 0, "justification": WHY},
            13: {"passed": True, "justification": WHY}}
EVERY_GAP = {"mark_11": "score_missing", "justification_11": "justification_missing",
             "mark_12": "score_missing", "justification_12": "justification_missing",
             "mark_13": "gate_missing", "justification_13": "justification_missing"}


def with_mark(pc_id: int, **mark) -> dict:
    return {**COMPLETE, pc_id: {**COMPLETE[pc_id], **mark}}


@pytest.mark.parametrize(("marks", "saving", "submitting"), [
    (COMPLETE, {}, {}),
    ({}, {}, EVERY_GAP),                               # a draft may be empty, a submission not
    ({11: {"score": 2}}, {}, {k: v for k, v in EVERY_GAP.items() if k != "mark_11"}),
    (with_mark(11, score=4), {}, {}),
    (with_mark(11, score=0), {}, {}),
    (with_mark(13, passed=False), {}, {}),             # failing a gate is a valid mark
    # Not a whole number 0–4: refused whether saving or submitting.
    (with_mark(11, score=5), {"mark_11": "score_invalid"}, {"mark_11": "score_invalid"}),
    (with_mark(11, score=-1), {"mark_11": "score_invalid"}, {"mark_11": "score_invalid"}),
    (with_mark(11, score=True), {"mark_11": "score_invalid"}, {"mark_11": "score_invalid"}),
    (with_mark(11, score=False), {"mark_11": "score_invalid"}, {"mark_11": "score_invalid"}),
    (with_mark(11, score="3"), {"mark_11": "score_invalid"}, {"mark_11": "score_invalid"}),
    (with_mark(11, score=2.5), {"mark_11": "score_invalid"}, {"mark_11": "score_invalid"}),
    (with_mark(11, score=3.0), {"mark_11": "score_invalid"}, {"mark_11": "score_invalid"}),
    (with_mark(11, score=Decimal(3)), {"mark_11": "score_invalid"}, {"mark_11": "score_invalid"}),
    (with_mark(13, passed="yes"), {"mark_13": "gate_invalid"}, {"mark_13": "gate_invalid"}),
    (with_mark(13, passed=1), {"mark_13": "gate_invalid"}, {"mark_13": "gate_invalid"}),
    # A missing mark or justification only matters on submitting.
    (with_mark(12, score=None), {}, {"mark_12": "score_missing"}),
    (with_mark(13, passed=None), {}, {"mark_13": "gate_missing"}),
    (with_mark(12, justification=""), {}, {"justification_12": "justification_missing"}),
    (with_mark(12, justification="   "), {}, {"justification_12": "justification_missing"}),
    (with_mark(12, justification=None), {}, {"justification_12": "justification_missing"}),
    # Too long is refused either way, and is the only complaint about that justification.
    (with_mark(11, justification="x" * (rules.JUSTIFICATION_MAX + 1)),
     {"justification_11": "text_too_long"}, {"justification_11": "text_too_long"}),
    (with_mark(11, justification="x" * rules.JUSTIFICATION_MAX), {}, {}),
], ids=["complete", "empty", "one-score-only", "score-4", "score-0", "gate-fail", "score-5",
        "score-minus-1", "score-True", "score-False", "score-str", "score-2.5", "score-3.0",
        "score-Decimal", "gate-str", "gate-1", "no-score", "no-gate", "no-justification",
        "blank-justification", "None-justification", "justification-too-long",
        "justification-at-limit"])
def test_mark_problems(marks, saving, submitting):
    assert rules.mark_problems(CRITERIA, marks, submitting=False) == saving
    assert rules.mark_problems(CRITERIA, marks, submitting=True) == submitting


def test_marks_for_criteria_outside_the_phase_are_ignored():
    marks = {**COMPLETE, 99: {"score": 9}}
    assert rules.mark_problems(CRITERIA, marks, submitting=True) == {}


# --- a moderator's consensus --------------------------------------------------------------------

@pytest.mark.parametrize(("score", "problem"), [
    ("0", None), ("0.25", None), ("0.5", None), ("1.75", None), ("2.50", None), ("3.25", None),
    ("4", None), ("4.00", None), (" 3.5 ", None), (3, None), (Decimal("2.75"), None),
    (2.5, None),
    ("4.25", "consensus_invalid"),            # above the scale
    ("-0.25", "consensus_invalid"),           # below it
    ("3.3", "consensus_invalid"),             # not a step of 0.25
    ("0.125", "consensus_invalid"),
    ("2.2", "consensus_invalid"),
    ("abc", "consensus_invalid"),
    ("NaN", "consensus_invalid"),
    ("sNaN", "consensus_invalid"),
    ("Infinity", "consensus_invalid"),
    ("-Infinity", "consensus_invalid"),
    ("1e9", "consensus_invalid"),
    (True, "consensus_invalid"),
    # Off the 0.25 grid by less than Decimal's 28 digits or its smallest exponent: these slipped
    # through an inexact ``(value * 4) % 1`` test.
    ("3.0000000000000000000000000000001", "consensus_invalid"),
    ("1e-999999999", "consensus_invalid"),
    (None, "consensus_missing"),
    ("", "consensus_missing"),
    ("   ", "consensus_missing"),
])
def test_consensus_score(score, problem):
    expected = {"score": problem} if problem else {}
    assert rules.consensus_problems("scored", score, None, "Agreed after discussion") == expected


@pytest.mark.parametrize(("passed", "problems"), [
    (True, {}),
    (False, {}),
    (None, {"passed": "gate_missing"}),
    ("yes", {"passed": "gate_missing"}),
    (1, {"passed": "gate_missing"}),
])
def test_consensus_on_a_gate(passed, problems):
    # A gate's consensus ignores any score given with it.
    assert rules.consensus_problems("gate", "abc", passed, "Checked the certificate") == problems


@pytest.mark.parametrize(("rationale", "problems"), [
    ("Agreed", {}),
    ("", {"rationale": "rationale_missing"}),
    (" \n ", {"rationale": "rationale_missing"}),
    ("x" * rules.REASON_MAX, {}),
    ("x" * (rules.REASON_MAX + 1), {"rationale": "text_too_long"}),
])
def test_consensus_needs_a_rationale(rationale, problems):
    assert rules.consensus_problems("scored", "3", None, rationale) == problems
    assert rules.consensus_problems("gate", None, True, rationale) == problems


def test_consensus_reports_every_problem_at_once():
    assert rules.consensus_problems("scored", "5", None, "") == {
        "score": "consensus_invalid", "rationale": "rationale_missing"}


# --- what blocks a decision ----------------------------------------------------------------------

DONE = Coverage(P_A, available=2, submitted=2, needed=0, complete=True)
DONE_B = Coverage(P_B, available=2, submitted=2, needed=0, complete=True)
OPEN_B = Coverage(P_B, available=2, submitted=1, needed=0, complete=False)
SHORT_B = Coverage(P_B, available=1, submitted=1, needed=1, complete=False)


@pytest.mark.parametrize(("coverage", "flagged", "moderated", "blockers"), [
    ({P_A: DONE, P_B: DONE_B}, {P_A: [], P_B: []}, {}, []),
    ({P_A: DONE, P_B: DONE_B}, {}, {}, []),
    ({P_A: DONE, P_B: OPEN_B}, {P_A: []}, {}, ["assessments_incomplete"]),
    ({P_A: DONE, P_B: SHORT_B}, {P_A: []}, {}, ["assessments_incomplete"]),
    ({P_A: DONE, P_B: DONE_B}, {P_A: [11]}, {}, ["moderation_outstanding"]),
    ({P_A: DONE, P_B: DONE_B}, {P_A: [11, 13]}, {P_A: {11}}, ["moderation_outstanding"]),
    ({P_A: DONE, P_B: DONE_B}, {P_A: [11, 13]}, {P_A: {11, 13}}, []),
    # A consensus on another proposal's criterion does not count for this one.
    ({P_A: DONE, P_B: DONE_B}, {P_A: [11]}, {P_B: {11}}, ["moderation_outstanding"]),
    # Moderating an unflagged criterion is allowed and blocks nothing.
    ({P_A: DONE, P_B: DONE_B}, {P_A: []}, {P_A: {12}}, []),
    ({P_A: DONE, P_B: OPEN_B}, {P_A: [11], P_B: [12]}, {},
     ["assessments_incomplete", "moderation_outstanding"]),
    ({}, {}, {}, []),
], ids=["ready", "ready-no-flags", "one-incomplete", "one-short", "flag-open", "flag-half-done",
        "flags-done", "other-proposal-moderated", "unflagged-moderated", "both", "nothing"])
def test_decision_blockers(coverage, flagged, moderated, blockers):
    assert rules.decision_blockers(coverage, flagged, moderated) == blockers


# --- approvals and the decision's kind ------------------------------------------------------------

@pytest.mark.parametrize(("partners", "approved", "outstanding"), [
    ([], [], []),                    # no partners: nothing to wait for
    ([7], [], [7]),
    ([7, 8, 9], [8], [7, 9]),
    ([9, 7, 8], [7, 8, 9], []),
    ([9, 7], [], [7, 9]),            # sorted
    ([7, 7], [], [7]),               # each partner once
    ([7], [5], [7]),                 # an approval from a non-partner counts for nothing
])
def test_approvals_outstanding(partners, approved, outstanding):
    assert rules.approvals_outstanding(partners, approved) == outstanding


@pytest.mark.parametrize(("position", "count", "next_kind", "kind"), [
    (1, 1, None, "award"),               # a single phase selects for award
    (1, 2, "bake_off", "shortlist"),     # a feasibility phase shortlists for the bake-off
    (2, 2, None, "award"),               # the last phase awards
    (1, 3, "bake_off", "shortlist"),
    (2, 3, "deployment", "shortlist"),
    (3, 3, None, "award"),
    (1, 2, None, "award"),               # no following phase found: award
])
def test_decision_kind(position, count, next_kind, kind):
    assert rules.decision_kind(position, count, next_kind) == kind
