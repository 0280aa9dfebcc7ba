"""Every permission against every role (pure), and every URL rule walked as every role."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from flask_login import AnonymousUserMixin
from werkzeug.routing import IntegerConverter

from procure.assessment import services as assessment_services
from procure.errors import NotPermitted
from procure.extensions import limiter
from procure.permissions import Permission, can, require
from procure.submissions import services as submission_services
from procure.values import services as values_services
from tests.challenges import service_builders as sb
from tests.challenges.builders import recently
from tests.conftest import NOW, sign_in
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory, member
from tests.submissions.builders import PDF, complete

# The objects permissions are asked about: an unverified authority (the object's
# organisation in most rows), an unverified supplier, and an already verified authority.
AUTHORITY = OrganisationFactory.build(id=1, name="Authority", kind="authority", verified_at=None)
SUPPLIER = OrganisationFactory.build(id=2, name="Supplier", kind="supplier", verified_at=None)
VERIFIED = OrganisationFactory.build(id=3, name="Verified", kind="authority")
OTHER = OrganisationFactory.build(id=4, name="Other", kind="authority")
OBJECTS = {"none": None, "authority": AUTHORITY, "supplier": SUPPLIER, "verified": VERIFIED}


def _user(**fields):
    return UserFactory.build(id=fields.pop("id", None), **fields)


def _member_of(org, role="editor", status="active", **fields):
    user = _user(**fields)
    MembershipFactory.build(user=user, organisation=org, organisation_id=org.id, role=role,
                            status=status)
    return user


ROLES = {
    "visitor (None)": lambda: None,
    "visitor (anonymous)": AnonymousUserMixin,
    "unconfirmed user": lambda: _user(email_confirmed_at=None),
    "unconfirmed editor": lambda: _member_of(AUTHORITY, email_confirmed_at=None),
    "disabled editor": lambda: _member_of(AUTHORITY, is_disabled=True),
    "disabled admin": lambda: _user(is_admin=True, is_disabled=True),
    "no organisation": lambda: _user(),
    "pending member": lambda: _member_of(AUTHORITY, role="viewer", status="pending"),
    "declined member": lambda: _member_of(AUTHORITY, role="viewer", status="declined"),
    "supplier viewer": lambda: _member_of(SUPPLIER, role="viewer"),
    "supplier editor": lambda: _member_of(SUPPLIER, role="editor"),
    "authority viewer": lambda: _member_of(AUTHORITY, role="viewer"),
    "authority editor": lambda: _member_of(AUTHORITY, role="editor"),
    "editor of another organisation": lambda: _member_of(OTHER, role="editor"),
    "admin": lambda: _user(is_admin=True),
    "admin who is an editor": lambda: _member_of(SUPPLIER, role="editor", is_admin=True),
}

P = Permission
ANY = tuple(OBJECTS)  # the permission does not depend on the object
ADMIN_ONLY = {(p, o) for p in (P.ADMIN_ACCESS, P.AUDIT_READ, P.OUTBOX_READ) for o in ANY}
MAY_JOIN = {(p, o) for p in (P.ORGANISATION_CREATE, P.ORGANISATION_JOIN) for o in ANY}
ADMIN_VIEWS_MEMBERS = {(P.ORGANISATION_VIEW_MEMBERS, o) for o in ANY}  # of any organisation
ADMIN_VALUES = {(P.VALUES_MANAGE, o) for o in ANY}
MAY_CREATE_CHALLENGE = {(P.CHALLENGE_CREATE, o) for o in ANY}
MAY_FOLLOW = {(P.TAG_FOLLOW, o) for o in ANY}

# role -> every (permission, object) it is allowed; everything else is refused.
ALLOWED: dict[str, set[tuple[Permission, str]]] = {
    "visitor (None)": set(),
    "visitor (anonymous)": set(),
    "unconfirmed user": set(),
    "unconfirmed editor": set(),
    "disabled editor": set(),
    "disabled admin": set(),
    "no organisation": MAY_JOIN | MAY_FOLLOW,
    "pending member": MAY_FOLLOW,
    "declined member": MAY_JOIN | MAY_FOLLOW,
    "supplier viewer": {(P.ORGANISATION_VIEW_MEMBERS, "supplier")} | MAY_FOLLOW,
    "supplier editor": {(P.ORGANISATION_VIEW_MEMBERS, "supplier"),
                        (P.ORGANISATION_MANAGE_MEMBERS, "supplier")} | MAY_FOLLOW,
    "authority viewer": {(P.ORGANISATION_VIEW_MEMBERS, "authority")} | MAY_FOLLOW,
    "authority editor": {(P.ORGANISATION_VIEW_MEMBERS, "authority"),
                         (P.ORGANISATION_MANAGE_MEMBERS, "authority")} | MAY_FOLLOW
                        | MAY_CREATE_CHALLENGE,
    "editor of another organisation": MAY_FOLLOW | MAY_CREATE_CHALLENGE,
    "admin": ADMIN_ONLY | MAY_JOIN | MAY_FOLLOW | ADMIN_VALUES | {
        (P.ORGANISATION_VERIFY, "authority"), (P.ORGANISATION_VERIFY, "supplier"),
        *ADMIN_VIEWS_MEMBERS},
    "admin who is an editor": ADMIN_ONLY | MAY_FOLLOW | ADMIN_VALUES | {
        (P.ORGANISATION_VERIFY, "authority"), (P.ORGANISATION_VERIFY, "supplier"),
        *ADMIN_VIEWS_MEMBERS, (P.ORGANISATION_MANAGE_MEMBERS, "supplier")},
}

# Permissions asked about a challenge, about a proposal, and about assessing a phase, are tested
# in their own tables below.
ON_CHALLENGE = {p for p in Permission if p.value.startswith(("challenge:", "clarification:"))
                and p != P.CHALLENGE_CREATE}
ON_PROPOSAL = {p for p in Permission if p.value.startswith("proposal:")}
ON_ASSESSMENT = {p for p in Permission
                 if p.value.startswith(("assessor:", "assessment:", "decision:", "feedback:"))}
ON_BAKE_OFF = {p for p in Permission if p.value.startswith(("bakeoff:", "award:", "checkin:"))}
ON_RECORD = {p for p in Permission if p.value.startswith("record:")}
MATRIX = [(role, permission, obj) for role in ROLES for permission in Permission
          for obj in OBJECTS
          if permission not in ON_CHALLENGE | ON_PROPOSAL | ON_ASSESSMENT | ON_BAKE_OFF | ON_RECORD]


def test_table_covers_every_role_and_every_permission_is_granted_to_someone():
    assert set(ALLOWED) == set(ROLES)
    assert set(CHALLENGE_ALLOWED) == set(CHALLENGE_ROLES)
    assert set(PROPOSAL_ALLOWED) == set(PROPOSAL_ROLES)
    assert set(SITUATIONS) == ON_PROPOSAL
    assert set(ASSESSMENT_ALLOWED) == set(PROPOSAL_ROLES)
    assert set(ASSESSMENT_SITUATIONS) == ON_ASSESSMENT
    assert not ON_CHALLENGE & ON_PROPOSAL and not ON_ASSESSMENT & (ON_CHALLENGE | ON_PROPOSAL)
    assert set(BAKE_OFF_ALLOWED) == set(PROPOSAL_ROLES)
    assert set(BAKE_OFF_SITUATIONS) == ON_BAKE_OFF
    assert not ON_BAKE_OFF & (ON_CHALLENGE | ON_PROPOSAL | ON_ASSESSMENT)
    assert set(RECORD_ALLOWED) == set(CHALLENGE_ROLES)
    assert not ON_RECORD & (ON_CHALLENGE | ON_PROPOSAL | ON_ASSESSMENT | ON_BAKE_OFF)
    granted = {p for pairs in ALLOWED.values() for p, _ in pairs}
    granted |= {p for perms in CHALLENGE_ALLOWED.values() for p in perms}
    granted |= {p for perms in PROPOSAL_ALLOWED.values() for p in perms}
    granted |= {p for perms in ASSESSMENT_ALLOWED.values() for p in perms}
    granted |= {p for perms in BAKE_OFF_ALLOWED.values() for p in perms}
    granted |= {p for perms in RECORD_ALLOWED.values() for p in perms}
    assert granted == set(Permission), "add rows for a new permission"
    # Every situation a permission is allowed in is one the table asks about.
    for table, situations in ((PROPOSAL_ALLOWED, SITUATIONS),
                              (ASSESSMENT_ALLOWED, ASSESSMENT_SITUATIONS),
                              (BAKE_OFF_ALLOWED, BAKE_OFF_SITUATIONS),
                              (RECORD_ALLOWED, {p: RECORD_SITUATIONS for p in ON_RECORD})):
        for role, perms in table.items():
            for permission, allowed in perms.items():
                assert allowed <= set(situations[permission]), (role, permission)


@pytest.mark.parametrize("role, permission, obj", MATRIX,
                         ids=[f"{r}-{p}-{o}" for r, p, o in MATRIX])
def test_permission_matrix(role, permission, obj):
    user = ROLES[role]()
    expected = (permission, obj) in ALLOWED[role]
    assert can(user, permission, OBJECTS[obj]) is expected
    if expected:
        require(user, permission, OBJECTS[obj])
    else:
        with pytest.raises(NotPermitted):
            require(user, permission, OBJECTS[obj])


# --- permissions on a challenge, by role and by the challenge's state -------------------------

# A challenge led by LEAD; other authorities stand in every relation to it a funder can have.
# All authorities here are verified: only verified ones can be invited or ask to join.
LEAD = OrganisationFactory.build(id=10, name="Lead", kind="authority")
ACCEPTED = OrganisationFactory.build(id=11, name="Accepted partner", kind="authority")
INVITED = OrganisationFactory.build(id=12, name="Invited partner", kind="authority")
REQUESTED = OrganisationFactory.build(id=13, name="Requesting partner", kind="authority")
DECLINED = OrganisationFactory.build(id=14, name="Declined partner", kind="authority")
UNRELATED = OrganisationFactory.build(id=15, name="Unrelated", kind="authority")
UNVERIFIED = OrganisationFactory.build(id=16, name="Unverified", kind="authority", verified_at=None)
BIDDER = OrganisationFactory.build(id=20, name="Bidder", kind="supplier")
STATES = ("draft", "open", "in_progress", "concluded", "published", "cancelled")


def _challenge(status):
    funders = [SimpleNamespace(organisation_id=org.id, role=role, status=state)
               for org, role, state in ((LEAD, "lead", "accepted"), (ACCEPTED, "partner", "accepted"),
                                        (INVITED, "partner", "invited"),
                                        (REQUESTED, "partner", "requested"),
                                        (DECLINED, "partner", "declined"))]
    return SimpleNamespace(id=1, status=status, lead_organisation_id=LEAD.id, funders=funders)


CHALLENGE_ROLES = {
    "visitor": lambda: None,
    "supplier editor": lambda: _member_of(BIDDER, role="editor"),
    "supplier viewer": lambda: _member_of(BIDDER, role="viewer"),
    "lead editor": lambda: _member_of(LEAD, role="editor"),
    "lead viewer": lambda: _member_of(LEAD, role="viewer"),
    "lead editor, pending": lambda: _member_of(LEAD, role="editor", status="pending"),
    "partner editor": lambda: _member_of(ACCEPTED, role="editor"),
    "partner viewer": lambda: _member_of(ACCEPTED, role="viewer"),
    "invited partner editor": lambda: _member_of(INVITED, role="editor"),
    "invited partner viewer": lambda: _member_of(INVITED, role="viewer"),
    "requesting partner editor": lambda: _member_of(REQUESTED, role="editor"),
    "declined partner editor": lambda: _member_of(DECLINED, role="editor"),
    "unrelated authority editor": lambda: _member_of(UNRELATED, role="editor"),
    "unrelated authority viewer": lambda: _member_of(UNRELATED, role="viewer"),
    "unverified authority editor": lambda: _member_of(UNVERIFIED, role="editor"),
    # Assessors are appointed per phase; someone with no organisation stands for an
    # independent expert, who gains nothing on a challenge until appointed.
    "independent assessor": lambda: _user(),
    "admin": lambda: _user(is_admin=True),
}

PUBLIC = set(STATES) - {"draft"}
EVERY = set(STATES)
FUNDING = {"draft", "open"}
BEFORE_RECORD = {"draft", "open", "in_progress", "concluded"}

# role -> permission -> the challenge states in which it is allowed; everything else is refused.
CHALLENGE_ALLOWED: dict[str, dict[Permission, set[str]]] = {
    "visitor": {P.CHALLENGE_VIEW: PUBLIC},
    "supplier editor": {P.CHALLENGE_VIEW: PUBLIC, P.CLARIFICATION_ASK: {"open"}},
    "supplier viewer": {P.CHALLENGE_VIEW: PUBLIC, P.CLARIFICATION_ASK: {"open"}},
    "lead editor": {P.CHALLENGE_VIEW: EVERY, P.CHALLENGE_EDIT: {"draft"},
                    P.CHALLENGE_PUBLISH: {"draft"}, P.CHALLENGE_AMEND: {"open"},
                    P.CHALLENGE_CANCEL: BEFORE_RECORD, P.CHALLENGE_MANAGE_PARTNERS: FUNDING,
                    P.CLARIFICATION_ANSWER: {"open"}, P.CLARIFICATION_READ_PENDING: EVERY},
    "lead viewer": {P.CHALLENGE_VIEW: EVERY, P.CLARIFICATION_READ_PENDING: EVERY},
    "lead editor, pending": {P.CHALLENGE_VIEW: PUBLIC},
    "partner editor": {P.CHALLENGE_VIEW: EVERY, P.CHALLENGE_PLEDGE: FUNDING},
    "partner viewer": {P.CHALLENGE_VIEW: EVERY},
    "invited partner editor": {P.CHALLENGE_VIEW: EVERY, P.CHALLENGE_PLEDGE: FUNDING},
    "invited partner viewer": {P.CHALLENGE_VIEW: EVERY},
    "requesting partner editor": {P.CHALLENGE_VIEW: EVERY},
    "declined partner editor": {P.CHALLENGE_VIEW: EVERY, P.CHALLENGE_REQUEST_JOIN: FUNDING},
    "unrelated authority editor": {P.CHALLENGE_VIEW: EVERY, P.CHALLENGE_REQUEST_JOIN: FUNDING},
    "unrelated authority viewer": {P.CHALLENGE_VIEW: EVERY},
    "unverified authority editor": {P.CHALLENGE_VIEW: PUBLIC},
    "independent assessor": {P.CHALLENGE_VIEW: PUBLIC},
    "admin": {P.CHALLENGE_VIEW: PUBLIC},
}

CHALLENGE_MATRIX = [(role, permission, state) for role in CHALLENGE_ROLES
                    for permission in sorted(ON_CHALLENGE) for state in STATES]


@pytest.mark.parametrize("role, permission, state", CHALLENGE_MATRIX,
                         ids=[f"{r}-{p}-{s}" for r, p, s in CHALLENGE_MATRIX])
def test_challenge_permission_matrix(role, permission, state):
    user = CHALLENGE_ROLES[role]()
    expected = state in CHALLENGE_ALLOWED[role].get(permission, set())
    assert can(user, permission, _challenge(state)) is expected


@pytest.mark.parametrize("permission", sorted(ON_CHALLENGE))
def test_challenge_permissions_need_a_challenge(permission):
    assert can(CHALLENGE_ROLES["lead editor"](), permission, None) is False


# --- permissions on a proposal, by role and by where the proposal and its phase stand --------

# Proposals belong to BIDDER; RIVAL is another supplier in the same phase.
RIVAL = OrganisationFactory.build(id=21, name="Rival", kind="supplier")
DEADLINE = NOW + timedelta(days=30)
BEFORE, AFTER = DEADLINE - timedelta(seconds=1), DEADLINE + timedelta(days=1)

# Assessors of the phase (id 1) the proposals below are in, each with their own user id. The
# editors appoint members of the lead (here viewers, as most assessors are) or independent
# experts (no organisation); an assessor declares about each supplier before reading its
# proposal, and may have saved or submitted marks for it (the proposal's id is 1).
PHASE_ID, OTHER_PHASE_ID = 1, 2


def _appointment(user_id, status="accepted", *, declared=None, marks=None, phase_id=PHASE_ID):
    """``declared``: None (nothing yet), False (no conflict) or True (a conflict) with BIDDER;
    ``marks``: None, "draft" or "submitted"."""
    return SimpleNamespace(
        id=user_id, user_id=user_id, phase_id=phase_id, status=status,
        declarations=[] if declared is None else [
            SimpleNamespace(organisation_id=BIDDER.id, conflicted=declared)],
        assessments=[] if marks is None else [SimpleNamespace(proposal_id=1, status=marks)])


# role -> (the person, their appointment)
ASSESSORS = {
    "assessor, accepted, nothing declared": (
        lambda: _member_of(LEAD, role="viewer", id=101), _appointment(101)),
    "assessor, no conflict declared, marking": (
        lambda: _member_of(LEAD, role="viewer", id=102),
        _appointment(102, declared=False, marks="draft")),
    "assessor, no conflict declared, submitted": (
        lambda: _member_of(LEAD, role="viewer", id=103),
        _appointment(103, declared=False, marks="submitted")),
    "assessor, conflict declared": (
        lambda: _member_of(LEAD, role="viewer", id=104), _appointment(104, declared=True)),
    # Stood down after declaring: the conflict stands, whatever else the person is.
    "assessor, conflict declared, then stood down": (
        lambda: _member_of(LEAD, role="viewer", id=105),
        _appointment(105, "removed", declared=True)),
    "assessor, invited, not yet accepted": (
        lambda: _member_of(LEAD, role="viewer", id=106), _appointment(106, "invited")),
    # Declined: no longer an assessor, just a viewer of the lead again.
    "assessor, declined": (
        lambda: _member_of(LEAD, role="viewer", id=107), _appointment(107, "declined")),
    "assessor of another phase": (
        lambda: _user(id=108), _appointment(108, declared=False, marks="submitted",
                                            phase_id=OTHER_PHASE_ID)),
    "independent expert, nothing declared": (lambda: _user(id=109), _appointment(109)),
    "independent expert, no conflict declared": (
        lambda: _user(id=110), _appointment(110, declared=False)),
    # An expert who has since joined another supplier reads no competitor's bid.
    "independent expert, since joined the rival": (
        lambda: _member_of(RIVAL, role="viewer", id=111), _appointment(111, declared=False)),
    "lead editor, assessor with a conflict": (
        lambda: _member_of(LEAD, role="editor", id=112), _appointment(112, declared=True)),
}
APPOINTMENTS = [a for _, a in ASSESSORS.values() if a.phase_id == PHASE_ID]

PROPOSAL_ROLES = {
    **CHALLENGE_ROLES,
    "rival supplier editor": lambda: _member_of(RIVAL, role="editor"),
    "rival supplier viewer": lambda: _member_of(RIVAL, role="viewer"),
    "supplier editor, pending": lambda: _member_of(BIDDER, role="editor", status="pending"),
    "disabled supplier editor": lambda: _member_of(BIDDER, role="editor", is_disabled=True),
    "admin who is a lead editor": lambda: _member_of(LEAD, role="editor", is_admin=True),
    **{role: person for role, (person, _) in ASSESSORS.items()},
}


def _phase(challenge_status="open", *, invitation_only=False, phase_status="open",
           closed_at=None, entrants=()):
    """``entrants``: the suppliers shortlisted into an invitation-only phase, as
    (organisation, invited or not)."""
    phase = SimpleNamespace(id=PHASE_ID, challenge=_challenge(challenge_status),
                            status=phase_status, closes_at=DEADLINE, closed_at=closed_at,
                            is_invitation_only=invitation_only, appointments=APPOINTMENTS,
                            decision=None)
    phase.entrants = [SimpleNamespace(organisation_id=org.id, phase=phase,
                                      invited_at=NOW if invited else None)
                      for org, invited in entrants]
    return phase


def _proposal(status, *, receipt=True, must_reconfirm=False, **phase):
    return SimpleNamespace(id=1, organisation_id=BIDDER.id, status=status,
                           current_receipt_id=1 if receipt else None,
                           must_reconfirm=must_reconfirm, phase=_phase(**phase))


# permission -> situation -> (object, now). Starting is asked of a phase, counting of a
# challenge, editing and reading of a proposal; only reading depends on the time.
SITUATIONS: dict[Permission, dict[str, tuple[object, datetime | None]]] = {
    P.PROPOSAL_START: {
        **{f"challenge {s}": (_phase(s), None) for s in STATES},
        "phase by invitation only": (_phase(invitation_only=True), None),
        # The bake-off: BIDDER shortlisted and invited, RIVAL not among the entrants.
        "phase by invitation only, supplier invited": (
            _phase("in_progress", invitation_only=True, entrants=[(BIDDER, True)]), None),
        "phase by invitation only, supplier shortlisted, not yet invited": (
            _phase("in_progress", invitation_only=True, entrants=[(BIDDER, False)]), None),
        "phase by invitation only, invited, challenge cancelled": (
            _phase("cancelled", invitation_only=True, entrants=[(BIDDER, True)]), None),
    },
    P.PROPOSAL_EDIT: {
        "draft": (_proposal("draft", receipt=False), None),
        "submitted": (_proposal("submitted"), None),
        "reopened": (_proposal("reopened"), None),
        "withdrawn": (_proposal("withdrawn", receipt=False), None),
    },
    P.PROPOSAL_READ: {
        "draft, before the deadline": (_proposal("draft", receipt=False), BEFORE),
        "submitted, before the deadline": (_proposal("submitted"), BEFORE),
        "reopened, before the deadline": (_proposal("reopened"), BEFORE),
        "submitted, at the deadline": (_proposal("submitted"), DEADLINE),
        "submitted, after the deadline": (_proposal("submitted"), AFTER),
        "submitted, after the deadline, phase closed": (
            _proposal("submitted", phase_status="closed", closed_at=DEADLINE), AFTER),
        "reopened, after the deadline": (_proposal("reopened"), AFTER),
        "awaiting confirmation, after the deadline": (
            _proposal("submitted", must_reconfirm=True), AFTER),
        "draft, after the deadline": (_proposal("draft", receipt=False), AFTER),
        "withdrawn, after the deadline": (_proposal("withdrawn", receipt=False), AFTER),
        "phase cancelled before its deadline": (_proposal("submitted", phase_status="cancelled"), AFTER),
        "phase cancelled after closing": (
            _proposal("submitted", phase_status="cancelled", closed_at=DEADLINE), AFTER),
    },
    P.PROPOSAL_COUNT: {f"challenge {s}": (_challenge(s), None) for s in STATES},
}
READ = SITUATIONS[P.PROPOSAL_READ]
EVERY_SITUATION = {p: set(s) for p, s in SITUATIONS.items()}
# Once the deadline has passed (and the phase was not cancelled before it), the submissions that
# count: a reopened proposal's last submission still does; one awaiting confirmation does not.
UNSEALED = {"submitted, at the deadline", "submitted, after the deadline",
            "submitted, after the deadline, phase closed", "reopened, after the deadline",
            "phase cancelled after closing"}
MAY_START = {"challenge open", "challenge in_progress"}
ENTRANT_STARTS = MAY_START | {"phase by invitation only, supplier invited"}
COUNTS = {f"challenge {s}" for s in STATES}
SUPPLIER_READS = {P.PROPOSAL_READ: EVERY_SITUATION[P.PROPOSAL_READ]}
AUTHORITY_READS = {P.PROPOSAL_READ: UNSEALED, P.PROPOSAL_COUNT: COUNTS}
AUTHORITY_COUNTS = {P.PROPOSAL_COUNT: COUNTS}  # a member of the lead, held to the assessor rule
ASSESSOR_READS = {P.PROPOSAL_READ: UNSEALED}

# role -> permission -> the situations in which it is allowed; everything else is refused.
# Nobody outside the supplier reads anything before the deadline: not the lead, not an admin.
PROPOSAL_ALLOWED: dict[str, dict[Permission, set[str]]] = {
    **{role: {} for role in PROPOSAL_ROLES},
    # BIDDER's editor is the invited entrant in the phase by invitation; RIVAL is not one.
    "supplier editor": {P.PROPOSAL_START: ENTRANT_STARTS,
                        P.PROPOSAL_EDIT: EVERY_SITUATION[P.PROPOSAL_EDIT], **SUPPLIER_READS},
    "supplier viewer": SUPPLIER_READS,
    "rival supplier editor": {P.PROPOSAL_START: MAY_START},
    "lead editor": AUTHORITY_READS,
    "lead viewer": AUTHORITY_READS,
    "partner editor": AUTHORITY_READS,
    "partner viewer": AUTHORITY_READS,
    "admin who is a lead editor": AUTHORITY_READS,
    # An assessor reads nothing before the deadline, and after it only the proposals of the
    # suppliers they have declared no conflict with — a member of the lead included.
    "assessor, accepted, nothing declared": AUTHORITY_COUNTS,
    "assessor, no conflict declared, marking": AUTHORITY_READS,
    "assessor, no conflict declared, submitted": AUTHORITY_READS,
    "assessor, conflict declared": AUTHORITY_COUNTS,
    "assessor, conflict declared, then stood down": AUTHORITY_COUNTS,
    "assessor, invited, not yet accepted": AUTHORITY_COUNTS,
    "assessor, declined": AUTHORITY_READS,
    "independent expert, no conflict declared": ASSESSOR_READS,
    "lead editor, assessor with a conflict": AUTHORITY_COUNTS,
}

PROPOSAL_MATRIX = [(role, permission, situation) for role in PROPOSAL_ROLES
                   for permission in sorted(ON_PROPOSAL) for situation in SITUATIONS[permission]]


@pytest.mark.parametrize("role, permission, situation", PROPOSAL_MATRIX,
                         ids=[f"{r}-{p}-{s}" for r, p, s in PROPOSAL_MATRIX])
def test_proposal_permission_matrix(role, permission, situation):
    user = PROPOSAL_ROLES[role]()
    obj, now = SITUATIONS[permission][situation]
    expected = situation in PROPOSAL_ALLOWED[role].get(permission, set())
    assert can(user, permission, obj, now=now) is expected
    if not expected:
        with pytest.raises(NotPermitted):
            require(user, permission, obj, now=now)


@pytest.mark.parametrize("permission", sorted(ON_PROPOSAL))
def test_proposal_permissions_need_an_object(permission):
    assert can(PROPOSAL_ROLES["supplier editor"](), permission, None, now=AFTER) is False


def test_reading_a_proposal_must_be_asked_at_a_time():
    proposal, _ = READ["submitted, after the deadline"]
    with pytest.raises(TypeError):
        can(PROPOSAL_ROLES["lead editor"](), P.PROPOSAL_READ, proposal)


# --- assessing a phase: appointing, declaring, scoring, moderating, deciding, feedback --------

# Where the phase stands: (phase status, challenge status, closed_at, the clock, the decision's
# status or None, who has approved it, whether the challenge has a co-funder).
STAGES = {
    "before the deadline": ("open", "open", None, BEFORE, None, (), True),
    "after the deadline, before the job closes the phase": ("open", "open", None, AFTER, None,
                                                            (), True),
    "after the deadline, phase closed": ("closed", "in_progress", DEADLINE, AFTER, None, (),
                                         True),
    "decision awaiting the partner's approval": ("closed", "in_progress", DEADLINE, AFTER,
                                                 "awaiting_approval", (), True),
    "decision approved by the partner": ("closed", "in_progress", DEADLINE, AFTER,
                                         "awaiting_approval", (ACCEPTED,), True),
    "decision awaiting release, no co-funder": ("closed", "in_progress", DEADLINE, AFTER,
                                                "awaiting_approval", (), False),
    "decision released, phase decided": ("decided", "in_progress", DEADLINE, AFTER, "released",
                                         (ACCEPTED,), True),
    "phase cancelled before its deadline": ("cancelled", "cancelled", None, AFTER, None, (), True),
}


def _stage(name):
    """(the phase, BIDDER's submitted proposal in it, its decision or None, the clock)."""
    phase_status, challenge_status, closed_at, now, decided, approved, partnered = STAGES[name]
    phase = _phase(challenge_status, phase_status=phase_status, closed_at=closed_at)
    if not partnered:
        phase.challenge.funders = [f for f in phase.challenge.funders if f.role == "lead"]
    if decided is not None:
        phase.decision = SimpleNamespace(
            id=1, phase=phase, status=decided, kind="shortlist", selected_ids=[1], contracts=[],
            approvals=[SimpleNamespace(organisation_id=org.id, phase=phase) for org in approved])
    proposal = SimpleNamespace(id=1, organisation_id=BIDDER.id, status="submitted",
                               current_receipt_id=1, must_reconfirm=False, phase=phase)
    return phase, proposal, phase.decision, now


# Appointing, the overview and recording are asked of a phase; approving and releasing of a
# decision; the rest of a proposal. Declaring, scoring, reading the marks and moderating are
# about reading a proposal, so they depend on the time; the others are not.
ON_PHASE = {P.ASSESSOR_APPOINT, P.ASSESSMENT_OVERVIEW, P.DECISION_RECORD}
ON_DECISION = {P.DECISION_APPROVE, P.DECISION_RELEASE}
TIMED = {P.ASSESSMENT_DECLARE, P.ASSESSMENT_SCORE, P.ASSESSMENT_READ_SCORES,
         P.ASSESSMENT_MODERATE}
PHASE_STAGES = [s for s in STAGES if STAGES[s][6]]  # the co-funded challenge
DECISION_STAGES = [s for s in STAGES if STAGES[s][4] is not None]


def _situation(permission, name):
    phase, proposal, decision, now = _stage(name)
    obj = phase if permission in ON_PHASE else decision if permission in ON_DECISION else proposal
    return obj, (now if permission in TIMED else None)


ASSESSMENT_SITUATIONS: dict[Permission, dict[str, tuple[object, datetime | None]]] = {
    permission: {name: _situation(permission, name)
                 for name in (DECISION_STAGES if permission in ON_DECISION else PHASE_STAGES)}
    for permission in ON_ASSESSMENT}

# An award (the last phase's decision) is approved and released with a contract for each
# supplier selected: (selected proposal ids, those with a contract, who has approved).
AWARD_STAGES = {
    "award awaiting its contract": ([1], [], ()),
    "award with its contract, awaiting the partner's approval": ([1], [1], ()),
    "award with its contract, approved by the partner": ([1], [1], (ACCEPTED,)),
    "award to two, one contract, approved by the partner": ([1, 2], [1], (ACCEPTED,)),
    "no award, awaiting the partner's approval": ([], [], ()),
}


def _award_stage(name):
    selected, contracted, approved = AWARD_STAGES[name]
    phase, _, _, _ = _stage("after the deadline, phase closed")
    phase.decision = SimpleNamespace(
        id=1, phase=phase, status="awaiting_approval", kind="award", selected_ids=selected,
        contracts=[SimpleNamespace(proposal_id=i) for i in contracted],
        approvals=[SimpleNamespace(organisation_id=org.id, phase=phase) for org in approved])
    return phase.decision


for _permission in ON_DECISION:
    ASSESSMENT_SITUATIONS[_permission].update(
        {name: (_award_stage(name), None) for name in AWARD_STAGES})

BEFORE_DEADLINE, DUE, CLOSED, AWAITING, APPROVED, SOLO, RELEASED, CANCELLED = STAGES
AWARD_APPROVABLE = {"award with its contract, awaiting the partner's approval",
                    "no award, awaiting the partner's approval"}
AWARD_RELEASABLE = {"award with its contract, approved by the partner"}
ALL_STAGES = set(PHASE_STAGES)
READABLE = {DUE, CLOSED, AWAITING, APPROVED, RELEASED}  # unsealed by the clock, not cancelled
# The editors appoint, and assessors declare, until a decision is recorded: someone appointed
# after it could never score.
NO_DECISION = {BEFORE_DEADLINE, DUE, CLOSED}
DECIDING = {CLOSED, AWAITING, APPROVED}  # closed, and no decision released
LEAD_EDITS = {P.ASSESSOR_APPOINT: NO_DECISION, P.ASSESSMENT_OVERVIEW: ALL_STAGES,
              P.DECISION_RECORD: DECIDING,
              P.DECISION_RELEASE: {APPROVED, SOLO} | AWARD_RELEASABLE}
OVERVIEW = {P.ASSESSMENT_OVERVIEW: ALL_STAGES}
AUTHORITY_MARKS = {**OVERVIEW, P.ASSESSMENT_READ_SCORES: READABLE}

# role -> permission -> the stages in which it is allowed; everything else is refused.
ASSESSMENT_ALLOWED: dict[str, dict[Permission, set[str]]] = {
    **{role: {} for role in PROPOSAL_ROLES},
    # The supplier reads its own feedback once the decision is released, never the marks.
    "supplier editor": {P.FEEDBACK_READ: {RELEASED}},
    "supplier viewer": {P.FEEDBACK_READ: {RELEASED}},
    # The lead's editors appoint until a decision is recorded, moderate while it is assessed,
    # record the decision and release it once every co-funder has approved.
    "lead editor": {**LEAD_EDITS, P.ASSESSMENT_READ_SCORES: READABLE,
                    P.ASSESSMENT_MODERATE: {CLOSED}},
    "admin who is a lead editor": {**LEAD_EDITS, P.ASSESSMENT_READ_SCORES: READABLE,
                                   P.ASSESSMENT_MODERATE: {CLOSED}},
    "lead viewer": AUTHORITY_MARKS,
    # A partner approves an award only once each selected supplier's contract is recorded.
    "partner editor": {**AUTHORITY_MARKS, P.DECISION_APPROVE: {AWAITING} | AWARD_APPROVABLE},
    "partner viewer": AUTHORITY_MARKS,
    # Assessors: declare once the phase is closed; score the proposals declared free of
    # conflict until the decision; see the others' marks only after submitting their own.
    "assessor, accepted, nothing declared": {**OVERVIEW, P.ASSESSMENT_DECLARE: {CLOSED}},
    "assessor, no conflict declared, marking": {**OVERVIEW, P.ASSESSMENT_SCORE: {CLOSED}},
    "assessor, no conflict declared, submitted": {**AUTHORITY_MARKS,
                                                  P.ASSESSMENT_SCORE: {CLOSED}},
    "assessor, conflict declared": OVERVIEW,
    "assessor, conflict declared, then stood down": OVERVIEW,
    "assessor, invited, not yet accepted": OVERVIEW,
    "assessor, declined": AUTHORITY_MARKS,
    "independent expert, nothing declared": {P.ASSESSMENT_DECLARE: {CLOSED}},
    "independent expert, no conflict declared": {P.ASSESSMENT_SCORE: {CLOSED}},
    # A conflicted lead editor still runs the phase, but neither reads nor moderates the bid.
    "lead editor, assessor with a conflict": LEAD_EDITS,
}

ASSESSMENT_MATRIX = [(role, permission, situation) for role in PROPOSAL_ROLES
                     for permission in sorted(ON_ASSESSMENT)
                     for situation in ASSESSMENT_SITUATIONS[permission]]


@pytest.mark.parametrize("role, permission, situation", ASSESSMENT_MATRIX,
                         ids=[f"{r}-{p}-{s}" for r, p, s in ASSESSMENT_MATRIX])
def test_assessment_permission_matrix(role, permission, situation):
    user = PROPOSAL_ROLES[role]()
    obj, now = ASSESSMENT_SITUATIONS[permission][situation]
    expected = situation in ASSESSMENT_ALLOWED[role].get(permission, set())
    assert can(user, permission, obj, now=now) is expected
    if expected:
        require(user, permission, obj, now=now)
    else:
        with pytest.raises(NotPermitted):
            require(user, permission, obj, now=now)


@pytest.mark.parametrize("permission", sorted(ON_ASSESSMENT))
def test_assessment_permissions_need_an_object(permission):
    for role in ("lead editor", "partner editor", "supplier editor",
                 "assessor, no conflict declared, submitted"):
        assert can(PROPOSAL_ROLES[role](), permission, None, now=AFTER) is False


@pytest.mark.parametrize("permission", sorted(TIMED | {P.PROPOSAL_READ}))
def test_every_permission_about_reading_a_proposal_must_be_asked_at_a_time(permission):
    _, proposal, _, _ = _stage(CLOSED)
    for role in ("lead editor", "visitor", "assessor, no conflict declared, submitted"):
        with pytest.raises(TypeError):
            can(PROPOSAL_ROLES[role](), permission, proposal)
        with pytest.raises(TypeError):
            require(PROPOSAL_ROLES[role](), permission, proposal)


@pytest.mark.parametrize("permission", sorted(ON_ASSESSMENT - TIMED))
def test_the_other_assessment_permissions_answer_the_same_at_any_time(permission):
    for situation, (obj, now) in ASSESSMENT_SITUATIONS[permission].items():
        assert now is None, (permission, situation)
        for role in ("lead editor", "partner editor", "supplier editor",
                     "assessor, no conflict declared, submitted"):
            user = PROPOSAL_ROLES[role]()
            answer = can(user, permission, obj)
            assert can(user, permission, obj, now=BEFORE) is answer, (role, situation)
            assert can(user, permission, obj, now=AFTER) is answer, (role, situation)


# --- the bake-off and the award: inviting, reporting, verifying, the results, contracts, ------
# --- and the adoption check-ins -------------------------------------------------------------

# The bake-off is phase 2 (by invitation) of LEAD's challenge, co-funded by ACCEPTED. BIDDER is
# the entrant shortlisted from phase 1 (so "supplier editor" is the entrant's editor and
# "supplier viewer" its viewer); RIVAL took part in phase 1 but is not an entrant.
BAKE_OFF_ID = 3


def _bake_off(status="open", *, challenge_status="in_progress", kind="bake_off",
              before="decided", entrants=True, invited=True, closed_at=None, decision=None):
    challenge = _challenge(challenge_status)
    first = SimpleNamespace(id=PHASE_ID, position=1, status=before, kind="feasibility",
                            is_invitation_only=False, challenge=challenge, closes_at=DEADLINE,
                            closed_at=DEADLINE, decision=None, entrants=[],
                            appointments=APPOINTMENTS)
    phase = SimpleNamespace(id=BAKE_OFF_ID, position=2, status=status, kind=kind,
                            is_invitation_only=True, challenge=challenge, closes_at=DEADLINE,
                            closed_at=closed_at, decision=decision, appointments=APPOINTMENTS)
    phase.entrants = [SimpleNamespace(id=1, organisation_id=BIDDER.id, phase=phase,
                                      invited_at=NOW if invited else None)] if entrants else []
    if decision is not None:
        decision.phase = phase
    challenge.phases = [first, phase]
    return phase


def _first_phase():
    return _bake_off().challenge.phases[0]


def _entrant(**phase):
    return _bake_off(**phase).entrants[0]


def _award(status="awaiting_approval", *, kind="award", selected=(1,)):
    decision = SimpleNamespace(id=2, status=status, kind=kind, selected_ids=list(selected),
                               contracts=[], approvals=[])
    _bake_off("closed", closed_at=DEADLINE, decision=decision)
    return decision


def _check_in(challenge_status):
    return SimpleNamespace(id=1, months=6, challenge=_challenge(challenge_status))


# permission -> situation -> (object, now). Only reading the results depends on the time.
BAKE_OFF_SITUATIONS: dict[Permission, dict[str, tuple[object, datetime | None]]] = {
    P.BAKE_OFF_INVITE: {
        "bake-off planned, shortlist released": (_bake_off("planned"), None),
        "bake-off planned, shortlist not yet released": (
            _bake_off("planned", before="closed", entrants=False), None),
        "bake-off planned, released with nobody shortlisted": (
            _bake_off("planned", entrants=False), None),
        "bake-off already open": (_bake_off("open"), None),
        "bake-off planned, challenge cancelled": (
            _bake_off("planned", challenge_status="cancelled"), None),
        "the first phase, open to all": (_first_phase(), None),
    },
    P.BAKE_OFF_REPORT: {
        "entrant invited, bake-off open": (_entrant(), None),
        "entrant not yet invited": (_entrant(status="planned", invited=False), None),
        "entrant invited, bake-off closed": (_entrant(status="closed", closed_at=DEADLINE), None),
        "entrant invited, bake-off decided": (
            _entrant(status="decided", closed_at=DEADLINE), None),
        "entrant invited, challenge cancelled": (_entrant(challenge_status="cancelled"), None),
    },
    P.BAKE_OFF_VERIFY: {
        "bake-off open": (_bake_off("open"), None),
        "bake-off closed, no decision": (_bake_off("closed", closed_at=DEADLINE), None),
        "bake-off closed, award recorded": (
            _bake_off("closed", closed_at=DEADLINE,
                      decision=SimpleNamespace(status="awaiting_approval")), None),
        "bake-off closed, challenge cancelled": (
            _bake_off("closed", closed_at=DEADLINE, challenge_status="cancelled"), None),
        "a closed phase that is no bake-off": (
            _bake_off("closed", closed_at=DEADLINE, kind="feasibility"), None),
    },
    P.BAKE_OFF_RESULTS: {
        "bake-off open, before its deadline": (_bake_off("open"), BEFORE),
        "bake-off open, at its deadline": (_bake_off("open"), DEADLINE),
        "bake-off closed": (_bake_off("closed", closed_at=DEADLINE), AFTER),
        "bake-off decided": (_bake_off("decided", closed_at=DEADLINE), AFTER),
        "bake-off cancelled before its deadline": (
            _bake_off("cancelled", challenge_status="cancelled"), AFTER),
        "a closed phase that is no bake-off": (
            _bake_off("closed", closed_at=DEADLINE, kind="feasibility"), AFTER),
    },
    P.AWARD_CONTRACT: {
        "award awaiting approval": (_award(), None),
        "award to two, awaiting approval": (_award(selected=(1, 2)), None),
        "no award, awaiting approval": (_award(selected=()), None),
        "award released": (_award("released"), None),
        "a shortlist awaiting approval": (_award(kind="shortlist"), None),
    },
    P.CHECK_IN_RECORD: {f"challenge {s}": (_check_in(s), None) for s in STATES},
}
BAKE_OFF_TIMED = {P.BAKE_OFF_RESULTS}

RESULTS_READABLE = {"bake-off open, at its deadline", "bake-off closed", "bake-off decided"}
LEAD_RUNS_BAKE_OFF = {
    P.BAKE_OFF_INVITE: {"bake-off planned, shortlist released"},
    P.BAKE_OFF_VERIFY: {"bake-off closed, no decision"},
    P.BAKE_OFF_RESULTS: RESULTS_READABLE,
    P.AWARD_CONTRACT: {"award awaiting approval", "award to two, awaiting approval"},
    P.CHECK_IN_RECORD: {"challenge concluded", "challenge published"},
}
READS_RESULTS = {P.BAKE_OFF_RESULTS: RESULTS_READABLE}

# role -> permission -> the situations in which it is allowed; everything else is refused.
BAKE_OFF_ALLOWED: dict[str, dict[Permission, set[str]]] = {
    **{role: {} for role in PROPOSAL_ROLES},
    # The invited entrant's editors report while the bake-off is open — and, once it is
    # closed, still reach the service, which answers that it has closed (``bake_off_closed``)
    # rather than "no permission"; its viewers, a supplier that is not an entrant, a pending
    # or disabled member never.
    "supplier editor": {P.BAKE_OFF_REPORT: {"entrant invited, bake-off open",
                                            "entrant invited, bake-off closed"}},
    # The lead's editors run it; its viewers and the partners read the results once the
    # deadline has passed; a partner's editor contracts nothing and records no check-in.
    "lead editor": LEAD_RUNS_BAKE_OFF,
    "admin who is a lead editor": LEAD_RUNS_BAKE_OFF,
    "lead editor, assessor with a conflict": LEAD_RUNS_BAKE_OFF,
    "lead viewer": READS_RESULTS,
    "partner editor": READS_RESULTS,
    "partner viewer": READS_RESULTS,
    # Assessors who are members of the lead read the results as its members do; independent
    # experts, and anyone who has since joined a supplier, do not.
    **{role: READS_RESULTS for role in ASSESSORS
       if role.startswith("assessor,") and role != "assessor of another phase"},
}

BAKE_OFF_MATRIX = [(role, permission, situation) for role in PROPOSAL_ROLES
                   for permission in sorted(ON_BAKE_OFF)
                   for situation in BAKE_OFF_SITUATIONS[permission]]


@pytest.mark.parametrize("role, permission, situation", BAKE_OFF_MATRIX,
                         ids=[f"{r}-{p}-{s}" for r, p, s in BAKE_OFF_MATRIX])
def test_bake_off_permission_matrix(role, permission, situation):
    user = PROPOSAL_ROLES[role]()
    obj, now = BAKE_OFF_SITUATIONS[permission][situation]
    expected = situation in BAKE_OFF_ALLOWED[role].get(permission, set())
    assert can(user, permission, obj, now=now) is expected
    if expected:
        require(user, permission, obj, now=now)
    else:
        with pytest.raises(NotPermitted):
            require(user, permission, obj, now=now)


@pytest.mark.parametrize("permission", sorted(ON_BAKE_OFF))
def test_bake_off_permissions_need_an_object(permission):
    for role in ("lead editor", "partner editor", "supplier editor"):
        assert can(PROPOSAL_ROLES[role](), permission, None, now=AFTER) is False


def test_reading_the_bake_off_results_must_be_asked_at_a_time():
    phase, _ = BAKE_OFF_SITUATIONS[P.BAKE_OFF_RESULTS]["bake-off closed"]
    for role in ("lead editor", "partner viewer", "visitor"):
        with pytest.raises(TypeError):
            can(PROPOSAL_ROLES[role](), P.BAKE_OFF_RESULTS, phase)


@pytest.mark.parametrize("permission", sorted(ON_BAKE_OFF - BAKE_OFF_TIMED))
def test_the_other_bake_off_permissions_answer_the_same_at_any_time(permission):
    for situation, (obj, now) in BAKE_OFF_SITUATIONS[permission].items():
        assert now is None, (permission, situation)
        for role in ("lead editor", "partner editor", "supplier editor"):
            user = PROPOSAL_ROLES[role]()
            answer = can(user, permission, obj)
            assert can(user, permission, obj, now=BEFORE) is answer, (role, situation)
            assert can(user, permission, obj, now=AFTER) is answer, (role, situation)


def test_an_invited_entrant_starts_a_proposal_in_the_bake_off_and_nobody_else_does():
    invited, _ = SITUATIONS[P.PROPOSAL_START]["phase by invitation only, supplier invited"]
    waiting, _ = SITUATIONS[P.PROPOSAL_START][
        "phase by invitation only, supplier shortlisted, not yet invited"]
    assert can(PROPOSAL_ROLES["supplier editor"](), P.PROPOSAL_START, invited) is True
    for role in ("rival supplier editor", "supplier viewer", "supplier editor, pending",
                 "disabled supplier editor", "lead editor", "admin"):
        assert can(PROPOSAL_ROLES[role](), P.PROPOSAL_START, invited) is False, role
    assert can(PROPOSAL_ROLES["supplier editor"](), P.PROPOSAL_START, waiting) is False


# --- the open record, by role and by where the challenge and its record stand ---------------

def _recorded(status, record=None, *, outcome="awarded", opened=True):
    """LEAD's challenge in ``status`` (opened to the public or not) with its record in the
    state ``record`` (None: not started), of the given outcome once published."""
    challenge = _challenge(status)
    challenge.opened_at = NOW if opened else None
    challenge.record = None if record is None else SimpleNamespace(
        status=record, outcome=outcome if record == "published" else "")
    return challenge


# situation -> the challenge (with its record) asked about. Every record permission is asked
# of the challenge.
RECORD_SITUATIONS: dict[str, object] = {
    "challenge draft": _recorded("draft", opened=False),
    "challenge open": _recorded("open"),
    "challenge in progress": _recorded("in_progress"),
    "concluded, record not started": _recorded("concluded"),
    "concluded, record being written": _recorded("concluded", "draft"),
    "concluded, record queued": _recorded("concluded", "queued"),
    "concluded, publication failed": _recorded("concluded", "failed"),
    "published with an award": _recorded("published", "published"),
    "published without an award": _recorded("published", "published", outcome="no_award"),
    "cancelled after opening, record not started": _recorded("cancelled"),
    "cancelled after opening, record being written": _recorded("cancelled", "draft"),
    "cancelled after opening, record queued": _recorded("cancelled", "queued"),
    "cancelled after opening, record published": _recorded(
        "cancelled", "published", outcome="cancelled"),
    "draft cancelled unseen": _recorded("cancelled", opened=False),
}
# The lead's members follow the record from the end of the challenge to its publication; its
# editors write and publish it while it is neither queued nor published; once published, any
# verified authority's editor may reuse it and, when it ended in an award, another authority's
# editor may register interest in adopting the winning solution.
RECORD_ENDED = {s for s in RECORD_SITUATIONS if s.startswith(("concluded", "published",
                                                                "cancelled after opening"))}
RECORD_WRITABLE = {"concluded, record not started", "concluded, record being written",
                   "concluded, publication failed", "cancelled after opening, record not started",
                   "cancelled after opening, record being written"}
RECORD_PUBLISHED = {"published with an award", "published without an award",
                    "cancelled after opening, record published"}
RECORD_AWARDED = {"published with an award"}
LEAD_WRITES_RECORD = {P.RECORD_PREPARE: RECORD_ENDED, P.RECORD_EDIT: RECORD_WRITABLE,
                      P.RECORD_PUBLISH: RECORD_WRITABLE, P.RECORD_REUSE: RECORD_PUBLISHED}
OTHER_EDITOR_READS_RECORD = {P.RECORD_REUSE: RECORD_PUBLISHED, P.RECORD_INTEREST: RECORD_AWARDED}

# role -> permission -> the situations in which it is allowed; everything else is refused.
RECORD_ALLOWED: dict[str, dict[Permission, set[str]]] = {
    **{role: {} for role in CHALLENGE_ROLES},
    "lead editor": LEAD_WRITES_RECORD,
    # The lead's viewers follow the record but change nothing and reuse nothing.
    "lead viewer": {P.RECORD_PREPARE: RECORD_ENDED},
    # Co-funders and any other verified authority: reuse and (not the lead) adoption interest,
    # by their editors only. An unverified authority, suppliers, a pending member, an
    # independent expert and an admin as such get nothing.
    # A co-funder reuses the record but is no outsider wanting to adopt what it paid for.
    "partner editor": {P.RECORD_REUSE: RECORD_PUBLISHED},
    "invited partner editor": OTHER_EDITOR_READS_RECORD,
    "requesting partner editor": OTHER_EDITOR_READS_RECORD,
    "declined partner editor": OTHER_EDITOR_READS_RECORD,
    "unrelated authority editor": OTHER_EDITOR_READS_RECORD,
}

RECORD_MATRIX = [(role, permission, situation) for role in CHALLENGE_ROLES
                 for permission in sorted(ON_RECORD) for situation in RECORD_SITUATIONS]


@pytest.mark.parametrize("role, permission, situation", RECORD_MATRIX,
                         ids=[f"{r}-{p}-{s}" for r, p, s in RECORD_MATRIX])
def test_record_permission_matrix(role, permission, situation):
    user = CHALLENGE_ROLES[role]()
    expected = situation in RECORD_ALLOWED[role].get(permission, set())
    assert can(user, permission, RECORD_SITUATIONS[situation]) is expected
    if expected:
        require(user, permission, RECORD_SITUATIONS[situation])
    else:
        with pytest.raises(NotPermitted):
            require(user, permission, RECORD_SITUATIONS[situation])


@pytest.mark.parametrize("permission", sorted(ON_RECORD))
def test_record_permissions_need_a_challenge(permission):
    for role in ("lead editor", "unrelated authority editor"):
        assert can(CHALLENGE_ROLES[role](), permission, None) is False


def test_record_permissions_answer_the_same_at_any_time():
    for permission in ON_RECORD:
        for situation, challenge in RECORD_SITUATIONS.items():
            for role in ("lead editor", "unrelated authority editor"):
                user = CHALLENGE_ROLES[role]()
                answer = can(user, permission, challenge)
                assert can(user, permission, challenge, now=BEFORE) is answer, (role, situation)
                assert can(user, permission, challenge, now=AFTER) is answer, (role, situation)


# --- every URL as every role ----------------------------------------------------------------

# An assessor here is a viewer of the lead, appointed to the phase and accepted.
WALK_ROLES = ["visitor", "supplier editor", "authority editor", "lead editor", "assessor", "admin"]


@pytest.fixture
def world(app, db):
    authority = OrganisationFactory(kind="authority", verified_at=None)
    supplier = OrganisationFactory(kind="supplier")
    authority_editor = member(authority, role="editor")
    supplier_editor = member(supplier, role="editor")
    pending = MembershipFactory(organisation=authority, role="viewer", status="pending",
                                decided_at=None)
    admin = UserFactory(is_admin=True)
    values_services.load_seed(db, now=NOW)
    draft = values_services.create_next_version(db, actor=admin, code="solution-quality", now=NOW)
    # An open challenge (on the real clock, as pages read it) with the supplier's proposal
    # submitted, one file attached: sealed until its deadline a month away.
    now = recently()
    lead_editor = sb.editor()
    challenge = sb.open_challenge(db, now - timedelta(hours=2), lead_editor,
                                  sb.framework(db, now, code="walk-values"),
                                  opens_at=now - timedelta(hours=1), closes_at=now + timedelta(days=30))
    phase = challenge.phases[0]
    proposal = submission_services.start_proposal(db, actor=supplier_editor, phase_id=phase.id,
                                                  now=now)
    proposal = complete(db, now, proposal, supplier_editor)
    attachment = submission_services.add_attachment(
        db, actor=supplier_editor, proposal_id=proposal.id, filename="plan.pdf", data=PDF, now=now,
        folder=app.config["UPLOAD_DIR"])
    with app.app_context():  # the receipt and appointment e-mails link to the site
        receipt = submission_services.submit_proposal(db, actor=supplier_editor,
                                                      proposal_id=proposal.id, clock=lambda: now)
        # Assessors are appointed before the deadline: a viewer of the lead who has accepted,
        # and an independent expert invited by e-mail (whose link anyone may open).
        assessor = sb.viewer(lead_editor.membership.organisation)
        appointment = assessment_services.appoint_member(
            db, actor=lead_editor, challenge_id=challenge.id, phase_id=phase.id,
            user_id=assessor.id, now=now)
        assessment_services.respond_to_appointment(db, actor=assessor,
                                                   appointment_id=appointment.id, accept=True,
                                                   now=now)
        _, token = assessment_services.invite_expert(
            db, actor=lead_editor, challenge_id=challenge.id, phase_id=phase.id,
            name="Expert", email="expert@example.org", now=now)
    return {
        "users": {"visitor": None, "supplier editor": supplier_editor,
                  "authority editor": authority_editor, "lead editor": lead_editor,
                  "assessor": assessor, "admin": admin},
        "ids": {"organisation_id": authority.id, "membership_id": pending.id,
                "framework_id": draft.id, "criterion_id": draft.criteria[0].id,
                "challenge_id": challenge.id, "phase_id": phase.id, "proposal_id": proposal.id,
                "attachment_id": attachment.id, "receipt_id": receipt.id,
                "appointment_id": appointment.id, "token": token},
        # Moderating names a criterion of the phase, not of a framework.
        "rule ids": {"/assessments/proposals/<int:proposal_id>/moderate/<int:criterion_id>": {
            "criterion_id": phase.criteria[0].id}},
    }


def _paths(app, ids, rule_ids=None) -> list[tuple[str, bool, str]]:
    """(rule, answers GET, path) for every URL rule, with real ids (``rule_ids`` for one rule's
    own) or a dummy string."""
    out = []
    for rule in app.url_map.iter_rules():
        values = {}
        own = {**ids, **(rule_ids or {}).get(rule.rule, {})}
        for arg in rule.arguments:
            numeric = isinstance(rule._converters[arg], IntegerConverter)
            values[arg] = own.get(arg, 1) if numeric else own.get(arg, "dummy-token")
        out.append((rule.rule, "GET" in rule.methods, rule.build(values)[1]))
    # A path with a GET rule and a separate POST rule answers GET.
    with_get = {rule for rule, get, _ in out if get}
    return sorted((rule, get or rule in with_get, path) for rule, get, path in out)


@pytest.mark.parametrize("role", WALK_ROLES)
def test_every_url_as_every_role_never_fails(app, client, db, world, role):
    limiter.reset()  # the invitation page is rate limited, and every role opens it
    user = world["users"][role]
    if user is not None:
        sign_in(client, db, user)
    # Every rule with the world's ids, and a guessed invitation link.
    paths = [*_paths(app, world["ids"], world["rule ids"]),
             ("/assessor-invitations/<token>", True, "/assessor-invitations/dummy-token")]
    assert sum(1 for _, get, p in paths if get and p.startswith("/admin")) >= 4
    ids = world["ids"]
    proposal_page = f"/proposals/{ids['proposal_id']}"
    count_page = f"/challenges/{ids['challenge_id']}/phases/{ids['phase_id']}/proposals"
    assert sum(1 for _, get, p in paths if get and _of_proposal(p, proposal_page)) >= 12
    expected_assessment = _assessment_pages(world)
    walked = {p for _, get, p in paths if get}
    assert set(expected_assessment) <= walked, set(expected_assessment) - walked
    for rule, answers_get, path in paths:
        response = client.get(path)
        response.close()
        status = response.status_code
        assert status < 500, (rule, path, status)
        if not answers_get:
            assert status == 405, (rule, path, status)  # a POST-only action: GET changes nothing
        elif path.startswith("/admin"):
            if role == "visitor":
                assert status == 302, path
                assert "/sign-in" in response.headers["Location"], path
            elif role == "admin":
                assert status == 200, path
            else:
                assert status == 403, path
                assert "You do not have permission" in response.get_data(as_text=True)
        elif _of_proposal(path, proposal_page):
            _assert_sealed_page_status(role, path, response, proposal_page)
        elif path == count_page:
            # Before the deadline the lead (an assessor from it too) sees how many are in;
            # nobody else may ask.
            expected = {"visitor": 302, "lead editor": 200, "assessor": 200}.get(role, 403)
            assert status == expected, (role, path, status)
        elif path in expected_assessment:
            statuses = expected_assessment[path]
            assert status == statuses.get(role, statuses[None]), (role, path, status)
            if status == 302:
                assert "/sign-in" in response.headers["Location"], path


def _assessment_pages(world) -> dict[str, dict[str | None, int]]:
    """Before the deadline: path -> role -> status (None: everyone else). The lead and its
    members run the assessment; an assessor sees only their own appointment; the pages of a
    proposal under assessment do not exist yet for anyone; the invitation link is public; a
    visitor is asked to sign in for everything else."""
    ids = world["ids"]
    phase = f"/challenges/{ids['challenge_id']}/phases/{ids['phase_id']}"
    assessed = f"/assessments/proposals/{ids['proposal_id']}"
    criterion = world["rule ids"][
        "/assessments/proposals/<int:proposal_id>/moderate/<int:criterion_id>"]["criterion_id"]
    signed_in = {
        "/assessments": {None: 200},
        f"/assessments/{ids['appointment_id']}": {"assessor": 200, None: 404},
        assessed: {None: 404},
        f"{assessed}/declare": {None: 404},
        f"{assessed}/marks": {None: 404},
        f"{assessed}/moderate/{criterion}": {None: 404},
        **{f"{phase}/{page}": {"lead editor": 200, "assessor": 200, None: 403}
           for page in ("assessors", "assessment", "decision")},
    }
    return {**{path: {"visitor": 302, **statuses} for path, statuses in signed_in.items()},
            f"/assessor-invitations/{ids['token']}": {None: 200},
            "/assessor-invitations/dummy-token": {None: 404}}


def _of_proposal(path, proposal_page):
    return path == proposal_page or path.startswith(proposal_page + "/")


def _assert_sealed_page_status(role, path, response, proposal_page):
    """A proposal's pages: the owner's to use; to anyone else, before the deadline, it does not
    exist (so a guessed id reveals nothing); a visitor is asked to sign in."""
    status = response.status_code
    if role == "visitor":
        assert status == 302, path
        assert "/sign-in" in response.headers["Location"], path
    elif role == "supplier editor":
        # Submitted: its section pages send the owner back to the proposal until reopened.
        assert status in (200, 302), (path, status)
        if status == 302:
            assert urlsplit(response.headers["Location"]).path == proposal_page, path
    else:
        assert status == 404, (role, path, status)
