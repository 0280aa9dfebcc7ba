"""Sealing as a pure rule: who reads a proposal, and from when. Plain stand-in objects only.

Until the closing time only the supplier's own organisation reads its proposal. From the
closing time (by the clock, whether or not the job has run) the members of the lead authority
and of accepted co-funders read the proposals that count; nobody else ever does, and a phase
cancelled before it closed never unseals.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from flask_login import AnonymousUserMixin

from procure.permissions import Permission, can
from procure.submissions.sealing import (
    authority_reader,
    can_read_proposal,
    is_supplier_member,
    phase_unsealed,
)

SECOND = timedelta(seconds=1)
DAY = timedelta(days=1)
CLOSES = datetime(2026, 12, 31, 12, 0, tzinfo=UTC)
BEFORE, AT, AFTER = CLOSES - SECOND, CLOSES, CLOSES + SECOND

SUPPLIER, RIVAL = 1, 2
LEAD, ACCEPTED, INVITED, DECLINED, UNRELATED = 10, 11, 12, 13, 14


def _user(org_id: int | None, kind: str = "authority", role: str = "editor", *,
          active: bool = True, admin: bool = False) -> SimpleNamespace:
    membership = None if org_id is None else SimpleNamespace(
        organisation_id=org_id, role=role, organisation=SimpleNamespace(id=org_id, kind=kind))
    return SimpleNamespace(id=1000 + (org_id or 0), is_authenticated=True, is_active=active,
                           is_admin=admin, active_membership=membership)


PEOPLE = {
    "visitor (None)": None,
    "visitor (anonymous)": AnonymousUserMixin(),
    "supplier editor": _user(SUPPLIER, "supplier"),
    "supplier viewer": _user(SUPPLIER, "supplier", "viewer"),
    "member of another supplier": _user(RIVAL, "supplier"),
    "lead editor": _user(LEAD),
    "lead viewer": _user(LEAD, role="viewer"),
    "accepted partner editor": _user(ACCEPTED),
    "accepted partner viewer": _user(ACCEPTED, role="viewer"),
    "invited partner editor": _user(INVITED),
    "declined partner editor": _user(DECLINED),
    "unrelated authority editor": _user(UNRELATED),
    "admin with no organisation": _user(None, admin=True),
    "disabled supplier editor": _user(SUPPLIER, "supplier", active=False),
    "disabled lead editor": _user(LEAD, active=False),
    "signed in, no organisation": _user(None),
}
# (before the closing time, from the closing time) for a proposal that counts.
READS = {
    "visitor (None)": (False, False),
    "visitor (anonymous)": (False, False),
    "supplier editor": (True, True),
    "supplier viewer": (True, True),
    "member of another supplier": (False, False),
    "lead editor": (False, True),
    "lead viewer": (False, True),
    "accepted partner editor": (False, True),
    "accepted partner viewer": (False, True),
    "invited partner editor": (False, False),
    "declined partner editor": (False, False),
    "unrelated authority editor": (False, False),
    "admin with no organisation": (False, False),
    "disabled supplier editor": (False, False),
    "disabled lead editor": (False, False),
    "signed in, no organisation": (False, False),
}
INSIDERS = ("supplier editor", "supplier viewer")
AUTHORITY_READERS = ("lead editor", "lead viewer", "accepted partner editor", "accepted partner viewer")


def _challenge() -> SimpleNamespace:
    return SimpleNamespace(id=7, lead_organisation_id=LEAD, funders=[
        SimpleNamespace(organisation_id=LEAD, role="lead", status="accepted"),
        SimpleNamespace(organisation_id=ACCEPTED, role="partner", status="accepted"),
        SimpleNamespace(organisation_id=INVITED, role="partner", status="invited"),
        SimpleNamespace(organisation_id=DECLINED, role="partner", status="declined"),
    ])


def _proposal(*, status: str = "submitted", receipt: bool = True, must_reconfirm: bool = False,
              phase_status: str = "open", closed_at: datetime | None = None) -> SimpleNamespace:
    phase = SimpleNamespace(status=phase_status, closes_at=CLOSES, closed_at=closed_at,
                            challenge=_challenge())
    return SimpleNamespace(id=5, organisation_id=SUPPLIER, status=status,
                           current_receipt_id=99 if receipt else None,
                           must_reconfirm=must_reconfirm, phase=phase)


def _reads(person: str, proposal: SimpleNamespace, now: datetime) -> bool:
    """The pure rule, and the permission the services and views ask, agree."""
    user = PEOPLE[person]
    rule = can_read_proposal(user, proposal, now)
    assert can(user, Permission.PROPOSAL_READ, proposal, now=now) is rule
    return rule


def test_every_kind_of_person_is_in_the_table():
    assert set(PEOPLE) == set(READS)


@pytest.mark.parametrize("person", list(PEOPLE))
def test_before_the_closing_time_only_the_supplier_reads(person):
    proposal = _proposal()
    assert _reads(person, proposal, BEFORE) is READS[person][0]
    assert _reads(person, proposal, CLOSES - 10 * DAY) is READS[person][0]


@pytest.mark.parametrize("person", list(PEOPLE))
@pytest.mark.parametrize("now", [AT, AFTER, CLOSES + 300 * DAY])
def test_from_the_closing_time_the_authority_reads_even_before_the_job_runs(person, now):
    assert _reads(person, _proposal(phase_status="open"), now) is READS[person][1]


@pytest.mark.parametrize("person", list(PEOPLE))
def test_after_the_phase_was_closed_by_the_job(person):
    assert _reads(person, _proposal(phase_status="closed", closed_at=AT), AFTER) is READS[person][1]


@pytest.mark.parametrize("person", list(PEOPLE))
@pytest.mark.parametrize("state", [
    {"status": "draft", "receipt": False},
    {"status": "draft", "receipt": True},           # started again after a withdrawal
    {"status": "withdrawn", "receipt": False},
    {"status": "submitted", "must_reconfirm": True},
    {"status": "reopened", "must_reconfirm": True},
], ids=["draft", "restarted", "withdrawn", "must-reconfirm", "reopened-must-reconfirm"])
def test_a_proposal_that_does_not_count_stays_with_its_supplier(person, state):
    proposal = _proposal(phase_status="closed", closed_at=AT, **state)
    assert _reads(person, proposal, AFTER) is (person in INSIDERS)


@pytest.mark.parametrize("person", list(PEOPLE))
def test_a_reopened_proposal_counts_with_its_last_submission(person):
    proposal = _proposal(status="reopened", phase_status="closed", closed_at=AT)
    assert _reads(person, proposal, BEFORE) is READS[person][0]
    assert _reads(person, proposal, AFTER) is READS[person][1]


@pytest.mark.parametrize("person", list(PEOPLE))
def test_a_phase_cancelled_before_it_closed_never_unseals(person):
    proposal = _proposal(phase_status="cancelled", closed_at=None)
    for now in (BEFORE, AT, AFTER, CLOSES + 300 * DAY):
        assert _reads(person, proposal, now) is (person in INSIDERS)


@pytest.mark.parametrize("person", list(PEOPLE))
def test_a_phase_cancelled_after_it_closed_stays_unsealed(person):
    proposal = _proposal(phase_status="cancelled", closed_at=AT)
    assert _reads(person, proposal, CLOSES + DAY) is READS[person][1]


@pytest.mark.parametrize("person", list(PEOPLE))
def test_no_proposal_is_read_by_anyone(person):
    assert can_read_proposal(PEOPLE[person], None, AFTER) is False


def test_reading_a_proposal_needs_the_time():
    with pytest.raises(TypeError):
        can(PEOPLE["lead editor"], Permission.PROPOSAL_READ, _proposal())


@pytest.mark.parametrize(("status", "closes_at", "closed_at", "now", "expected"), [
    ("open", CLOSES, None, BEFORE, False),
    ("open", CLOSES, None, AT, True),
    ("open", CLOSES, None, AFTER, True),
    ("planned", CLOSES, None, AFTER, True),  # the job has not even opened it: the clock holds
    ("closed", CLOSES, AT, AFTER, True),
    ("decided", CLOSES, AT, CLOSES + 90 * DAY, True),
    ("cancelled", CLOSES, None, BEFORE, False),
    ("cancelled", CLOSES, None, AFTER, False),
    ("cancelled", CLOSES, None, CLOSES + 300 * DAY, False),
    ("cancelled", CLOSES, AT, AFTER, True),
    ("open", None, None, AFTER, False),
    ("planned", None, None, AFTER, False),
])
def test_phase_unsealed(status, closes_at, closed_at, now, expected):
    assert phase_unsealed(status, closes_at, closed_at, now) is expected


@pytest.mark.parametrize("person", list(PEOPLE))
def test_who_is_told_the_count(person):
    challenge = _challenge()
    assert authority_reader(PEOPLE[person], challenge) is (person in AUTHORITY_READERS)
    assert can(PEOPLE[person], Permission.PROPOSAL_COUNT, challenge) is (person in AUTHORITY_READERS)


@pytest.mark.parametrize("person", list(PEOPLE))
def test_who_belongs_to_the_supplier(person):
    assert is_supplier_member(PEOPLE[person], _proposal()) is (person in INSIDERS)


@pytest.mark.parametrize(("person", "may_edit"), [
    ("supplier editor", True), ("supplier viewer", False), ("disabled supplier editor", False),
    ("member of another supplier", False), ("lead editor", False), ("visitor (None)", False),
    ("admin with no organisation", False),
])
def test_only_an_editor_of_the_supplier_changes_its_proposal(person, may_edit):
    assert can(PEOPLE[person], Permission.PROPOSAL_EDIT, _proposal()) is may_edit


# --- assessors: appointed to the phase, they read a proposal only after the deadline, once
# they have accepted and declared no conflict with its supplier -------------------------------

ASSESSOR_ID = 2000


def _assessor(org_id: int | None, kind: str = "authority", role: str = "viewer", *,
              active: bool = True) -> SimpleNamespace:
    person = _user(org_id, kind, role, active=active)
    person.id = ASSESSOR_ID
    return person


def _appointed(status: str = "accepted", declared: dict[int, bool] | None = None,
               user_id: int = ASSESSOR_ID) -> SimpleNamespace:
    """An appointment; ``declared`` maps a supplier to whether a conflict was declared."""
    return SimpleNamespace(user_id=user_id, status=status, assessments=[], declarations=[
        SimpleNamespace(organisation_id=org, conflicted=conflicted)
        for org, conflicted in (declared or {}).items()])


# case -> (the person, their appointments to the proposal's phase, reads before, reads after)
ASSESSOR_CASES = {
    "lead viewer, accepted, nothing declared": (_assessor(LEAD), [_appointed()], False, False),
    "lead viewer, accepted, no conflict": (
        _assessor(LEAD), [_appointed(declared={SUPPLIER: False})], False, True),
    "lead viewer, accepted, conflict": (
        _assessor(LEAD), [_appointed(declared={SUPPLIER: True})], False, False),
    "lead viewer, accepted, no conflict with the rival only": (
        _assessor(LEAD), [_appointed(declared={RIVAL: False})], False, False),
    "lead editor, accepted, conflict": (
        _assessor(LEAD, role="editor"), [_appointed(declared={SUPPLIER: True})], False, False),
    "partner viewer, accepted, conflict": (
        _assessor(ACCEPTED), [_appointed(declared={SUPPLIER: True})], False, False),
    "lead viewer, invited": (_assessor(LEAD), [_appointed("invited")], False, False),
    # No longer an assessor: a viewer of the lead like any other…
    "lead viewer, declined": (_assessor(LEAD), [_appointed("declined")], False, True),
    "lead viewer, stood down before declaring": (
        _assessor(LEAD), [_appointed("removed")], False, True),
    # …except that a conflict once declared stands, stood down or appointed again.
    "lead viewer, stood down after declaring a conflict": (
        _assessor(LEAD), [_appointed("removed", {SUPPLIER: True})], False, False),
    "lead viewer, appointed again after declaring a conflict": (
        _assessor(LEAD), [_appointed("accepted", {SUPPLIER: True})], False, False),
    "lead viewer, someone else's appointment": (
        _assessor(LEAD), [_appointed(declared={SUPPLIER: False}, user_id=ASSESSOR_ID + 1)],
        False, True),
    "expert, accepted, nothing declared": (_assessor(None), [_appointed()], False, False),
    "expert, accepted, no conflict": (
        _assessor(None), [_appointed(declared={SUPPLIER: False})], False, True),
    "expert, invited": (_assessor(None), [_appointed("invited")], False, False),
    "expert, stood down after declaring no conflict": (
        _assessor(None), [_appointed("removed", {SUPPLIER: False})], False, False),
    "expert, disabled": (
        _assessor(None, active=False), [_appointed(declared={SUPPLIER: False})], False, False),
    "expert, not appointed to this phase": (_assessor(None), [], False, False),
    # Having since joined a supplier, an assessor reads no competitor's proposal.
    "expert who has since joined the rival, no conflict": (
        _assessor(RIVAL, "supplier"), [_appointed(declared={SUPPLIER: False})], False, False),
}


def _assessed(appointments, **state) -> SimpleNamespace:
    proposal = _proposal(**state)
    proposal.phase.appointments = appointments
    return proposal


def _assessor_reads(person, proposal, now) -> bool:
    rule = can_read_proposal(person, proposal, now)
    assert can(person, Permission.PROPOSAL_READ, proposal, now=now) is rule
    return rule


@pytest.mark.parametrize("case", list(ASSESSOR_CASES))
def test_an_assessor_reads_only_after_the_deadline_and_declaring_no_conflict(case):
    person, appointments, before, after = ASSESSOR_CASES[case]
    assert _assessor_reads(person, _assessed(appointments), BEFORE) is before
    assert _assessor_reads(person, _assessed(appointments), CLOSES - 10 * DAY) is before
    assert _assessor_reads(person, _assessed(appointments), AT) is after
    closed = _assessed(appointments, phase_status="closed", closed_at=AT)
    assert _assessor_reads(person, closed, AFTER) is after
    assert _assessor_reads(person, _assessed(appointments, phase_status="decided", closed_at=AT),
                           CLOSES + 90 * DAY) is after


@pytest.mark.parametrize("case", list(ASSESSOR_CASES))
def test_no_assessor_reads_a_proposal_that_does_not_count_or_a_phase_cancelled_unclosed(case):
    person, appointments, _, _ = ASSESSOR_CASES[case]
    for state in ({"status": "withdrawn", "receipt": False},
                  {"status": "submitted", "must_reconfirm": True},
                  {"status": "draft", "receipt": False}):
        proposal = _assessed(appointments, phase_status="closed", closed_at=AT, **state)
        assert _assessor_reads(person, proposal, AFTER) is False, state
    cancelled = _assessed(appointments, phase_status="cancelled", closed_at=None)
    assert _assessor_reads(person, cancelled, CLOSES + 300 * DAY) is False


def test_a_conflict_stays_with_the_supplier_it_names():
    """A conflict with the rival does not stop the assessor reading this supplier's proposal."""
    person = _assessor(None)
    proposal = _assessed([_appointed(declared={RIVAL: True, SUPPLIER: False})],
                         phase_status="closed", closed_at=AT)
    assert _assessor_reads(person, proposal, AFTER) is True


def test_the_supplier_reads_its_own_whoever_is_appointed():
    proposal = _assessed([_appointed(declared={SUPPLIER: True}, user_id=PEOPLE["supplier editor"].id)])
    assert _assessor_reads(PEOPLE["supplier editor"], proposal, BEFORE) is True
