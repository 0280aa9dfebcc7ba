"""Assessment services on the database: appointing, declaring, scoring, moderating, deciding,
approving, releasing and feedback — each refused move leaves nothing changed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from procure.assessment import services
from procure.assessment.models import Assessment, AssessmentMark, Decision, Moderation
from procure.errors import InvalidTransition, NotFound, NotPermitted, RuleViolation
from tests.assessment import builders as ab
from tests.challenges import service_builders as sb

DAY = timedelta(days=1)


@pytest.fixture
def world(ctx, db, now):
    return ab.closed_phase(db, now, suppliers=3, partner=True)


def _ids(world):
    return {"challenge_id": world.challenge.id, "phase_id": world.phase.id}


def _count(db, model) -> int:
    db.rollback()
    return db.execute(select(func.count()).select_from(model)).scalar_one()


# --- appointing ------------------------------------------------------------------------------

def test_the_lead_appoints_a_member_who_is_told_and_accepts(world, db):
    person = sb.viewer(world.lead.membership.organisation)
    appointment = services.appoint_member(db, actor=world.lead, user_id=person.id,
                                          now=world.after, **_ids(world))
    assert (appointment.status, appointment.user_id) == ("invited", person.id)
    assert sb.recipients(db, "assessor_appointed") == [person.email]
    services.respond_to_appointment(db, actor=person, appointment_id=appointment.id, accept=True,
                                    now=world.after)
    assert services.own_appointment(db, actor=person, appointment_id=appointment.id).status == "accepted"
    assert world.lead.email in sb.recipients(db, "assessor_responded")
    assert [e.action for e in sb.events(db, "assessor.appointed")] == ["assessor.appointed"]
    assert len(sb.events(db, "assessor.accepted")) == 1
    with pytest.raises(InvalidTransition):
        services.respond_to_appointment(db, actor=person, appointment_id=appointment.id,
                                        accept=False, now=world.after)


def test_a_partner_member_can_be_appointed_but_not_a_supplier_or_an_outsider(world, db):
    partner_viewer = sb.viewer(world.partner.membership.organisation)
    services.appoint_member(db, actor=world.lead, user_id=partner_viewer.id, now=world.after,
                            **_ids(world))
    for outsider in (world.suppliers[0], sb.editor()):
        with pytest.raises(RuleViolation) as refused:
            services.appoint_member(db, actor=world.lead, user_id=outsider.id, now=world.after,
                                    **_ids(world))
        assert refused.value.errors == {"user_id": "assessor_not_eligible"}
    with pytest.raises(RuleViolation):  # already appointed
        services.appoint_member(db, actor=world.lead, user_id=partner_viewer.id, now=world.after,
                                **_ids(world))


def test_only_the_lead_editors_appoint(world, db):
    person = sb.viewer(world.lead.membership.organisation)
    for actor in (world.partner, sb.viewer(world.lead.membership.organisation)):
        with pytest.raises(NotPermitted):
            services.appoint_member(db, actor=actor, user_id=person.id, now=world.after,
                                    **_ids(world))
    with pytest.raises(NotFound):  # a phase of another challenge
        services.appoint_member(db, actor=world.lead, user_id=person.id, now=world.after,
                                challenge_id=world.challenge.id, phase_id=world.phase.id + 999)


@pytest.mark.parametrize("name, email, errors", [
    ("", "ann@expert.example", {"name": "expert_name_missing"}),
    ("Ann", "not an email", {"email": "expert_email_invalid"}),
    ("Ann", "", {"email": "expert_email_invalid"}),
    ("A" * 201, "ann@expert.example", {"name": "text_too_long"}),
])
def test_inviting_an_expert_checks_the_name_and_address(world, db, name, email, errors):
    with pytest.raises(RuleViolation) as refused:
        services.invite_expert(db, actor=world.lead, name=name, email=email, now=world.after,
                               **_ids(world))
    assert refused.value.errors == errors
    assert sb.outbox(db, "assessor_invited") == []


def test_a_supplier_cannot_be_invited_as_an_expert(world, db):
    with pytest.raises(RuleViolation) as refused:
        services.invite_expert(db, actor=world.lead, name="Sly", now=world.after,
                               email=world.suppliers[0].email.upper(), **_ids(world))
    assert refused.value.errors == {"email": "expert_is_supplier"}


def test_an_expert_accepts_through_the_link_once_with_the_invited_address(world, db):
    appointment, token = services.invite_expert(db, actor=world.lead, name="Ann Expert",
                                                email="Ann@Expert.example", now=world.after,
                                                **_ids(world))
    message = sb.outbox(db, "assessor_invited")[0]
    assert message.recipient_email == "ann@expert.example" and token in message.body
    assert appointment.token_hash != token  # only its hash is kept
    someone_else = sb.no_org_user()
    with pytest.raises(RuleViolation) as refused:
        services.accept_invitation(db, actor=someone_else, token=token, now=world.after)
    assert refused.value.errors == {"invitation": "invitation_other_address"}
    expert = sb.no_org_user(email="ann@expert.example")
    accepted = services.accept_invitation(db, actor=expert, token=token, now=world.after)
    assert (accepted.status, accepted.user_id) == ("accepted", expert.id)
    with pytest.raises(NotFound):  # single use
        services.accept_invitation(db, actor=expert, token=token, now=world.after)


def test_an_invitation_expires(world, db):
    _, token = services.invite_expert(db, actor=world.lead, name="Ann", email="ann@x.example",
                                      now=world.after, **_ids(world))
    expert = sb.no_org_user(email="ann@x.example")
    with pytest.raises(NotFound):
        services.accept_invitation(db, actor=expert, token=token,
                                   now=world.after + services.INVITATION_LIFETIME)
    with pytest.raises(NotFound):
        services.invitation(db, "not-a-token", world.after)


# --- sealed until the deadline -----------------------------------------------------------------

def test_an_assessor_appointed_before_the_deadline_reads_nothing_until_it(ctx, db, now):
    from tests.submissions import builders as pb

    challenge, phase, lead = pb.open_phase(db, now)
    world = ab.World(challenge=challenge, phase=phase, lead=lead, after=now)
    person, appointment = ab.assessor(db, world, now=now)
    proposal, _ = pb.submitted(db, now, phase, sb.supplier(), marker="SEALED")
    with pytest.raises(NotFound):
        services.declare(db, actor=person, proposal_id=proposal.id, conflicted=False, reason="",
                         now=now)
    with pytest.raises(NotFound):
        services.open_assessment(db, actor=person, proposal_id=proposal.id, now=now)
    assert services.workload(db, actor=person, appointment_id=appointment.id, now=now)[1] == []
    assert len(sb.events(db, "proposal.read_refused")) == 2


# --- declaring ---------------------------------------------------------------------------------

def test_a_conflict_needs_a_reason_and_then_hides_the_proposal(world, db):
    person, _ = ab.assessor(db, world)
    proposal = world.proposals[0]
    with pytest.raises(RuleViolation) as refused:
        services.declare(db, actor=person, proposal_id=proposal.id, conflicted=True, reason=" ",
                         now=world.after)
    assert refused.value.errors == {"reason": "conflict_reason_missing"}
    with pytest.raises(RuleViolation) as refused:
        services.declare(db, actor=person, proposal_id=proposal.id, conflicted=None, reason="",
                         now=world.after)
    assert refused.value.errors == {"conflicted": "conflict_choose"}
    services.declare(db, actor=person, proposal_id=proposal.id, conflicted=True,
                     reason="I used to work there", now=world.after)
    with pytest.raises(NotFound):
        services.open_assessment(db, actor=person, proposal_id=proposal.id, now=world.after)
    with pytest.raises(NotFound):  # and it cannot be declared again
        services.declare(db, actor=person, proposal_id=proposal.id, conflicted=False, reason="",
                         now=world.after)


def test_a_conflict_that_leaves_too_few_assessors_asks_the_lead_for_another(world, db):
    one, _ = ab.assessor(db, world)
    ab.assessor(db, world)
    services.declare(db, actor=one, proposal_id=world.proposals[0].id, conflicted=True,
                     reason="Family member", now=world.after)
    assert sb.recipients(db, "assessor_needed") == [world.lead.email]
    board = services.ranking(db, world.phase)
    cover = board.coverage[world.proposals[0].id]
    assert (cover.available, cover.needed, cover.complete) == (1, 1, False)
    assert board.coverage[world.proposals[1].id].needed == 0


def test_a_lead_editor_who_is_a_conflicted_assessor_cannot_read_the_proposal(world, db):
    from procure.submissions import services as proposal_services

    appointment = services.appoint_member(db, actor=world.lead, user_id=world.lead.id,
                                          now=world.after, **_ids(world))
    services.respond_to_appointment(db, actor=world.lead, appointment_id=appointment.id,
                                    accept=True, now=world.after)
    proposal = world.proposals[0]
    services.declare(db, actor=world.lead, proposal_id=proposal.id, conflicted=True,
                     reason="Shares", now=world.after)
    with pytest.raises(NotFound):
        proposal_services.read_submitted(db, actor=world.lead, proposal_id=proposal.id,
                                         now=world.after)
    # Another proposal, declared free of conflict, the lead editor still reads.
    services.declare(db, actor=world.lead, proposal_id=world.proposals[1].id, conflicted=False,
                     reason="", now=world.after)
    proposal_services.read_submitted(db, actor=world.lead, proposal_id=world.proposals[1].id,
                                     now=world.after)


# --- scoring -----------------------------------------------------------------------------------

def test_marks_can_be_saved_with_gaps_and_come_back_to(world, db):
    person, _ = ab.assessor(db, world)
    proposal = world.proposals[0]
    services.declare(db, actor=person, proposal_id=proposal.id, conflicted=False, reason="",
                     now=world.after)
    scored, _ = ab.criteria(db, world)
    saved = services.save_marks(db, actor=person, proposal_id=proposal.id, submit=False,
                                marks={scored[0].id: {"score": 3, "justification": "Good"}},
                                now=world.after)
    assert saved.status == "draft"
    _, assessment = services.open_assessment(db, actor=person, proposal_id=proposal.id,
                                             now=world.after)
    assert assessment.mark_for(scored[0].id).score == 3
    assert assessment.mark_for(scored[1].id).score is None
    assert any(e.actor_id == person.id for e in sb.events(db, "proposal.read"))


def test_submitting_needs_every_mark_and_justification_and_saves_nothing_otherwise(world, db):
    person, _ = ab.assessor(db, world)
    proposal = world.proposals[0]
    services.declare(db, actor=person, proposal_id=proposal.id, conflicted=False, reason="",
                     now=world.after)
    scored, gates = ab.criteria(db, world)
    marks = ab.marks(db, world, [3, 2])
    marks[scored[1].id] = {"score": None, "justification": ""}
    marks[gates[0].id]["justification"] = ""
    with pytest.raises(RuleViolation) as refused:
        services.save_marks(db, actor=person, proposal_id=proposal.id, marks=marks, submit=True,
                            now=world.after)
    assert refused.value.errors == {f"mark_{scored[1].id}": "score_missing",
                                    f"justification_{scored[1].id}": "justification_missing",
                                    f"justification_{gates[0].id}": "justification_missing"}
    assert (_count(db, Assessment), _count(db, AssessmentMark)) == (0, 0)


@pytest.mark.parametrize("bad", [5, -1, "3", True, 2.5])
def test_a_score_outside_0_to_4_is_refused(world, db, bad):
    person, _ = ab.assessor(db, world)
    proposal = world.proposals[0]
    services.declare(db, actor=person, proposal_id=proposal.id, conflicted=False, reason="",
                     now=world.after)
    scored, _ = ab.criteria(db, world)
    marks = ab.marks(db, world, [3, 2])
    marks[scored[0].id]["score"] = bad
    with pytest.raises(RuleViolation) as refused:
        services.save_marks(db, actor=person, proposal_id=proposal.id, marks=marks, submit=False,
                            now=world.after)
    assert refused.value.errors == {f"mark_{scored[0].id}": "score_invalid"}


def test_a_submitted_assessment_is_locked_and_audited(world, db):
    person, _ = ab.assessor(db, world)
    proposal = world.proposals[0]
    ab.assess(db, world, person, proposal, [3, 2])
    with pytest.raises(InvalidTransition):
        ab.assess(db, world, person, proposal, [4, 4])
    stored = db.execute(select(AssessmentMark.score).join(Assessment)
                        .where(Assessment.proposal_id == proposal.id)
                        .order_by(AssessmentMark.id)).scalars().all()
    assert [s for s in stored if s is not None] == [3, 2]
    assert len(sb.events(db, "assessment.submitted")) == 1


def test_an_assessor_sees_the_others_marks_only_after_submitting(world, db):
    one, _ = ab.assessor(db, world)
    two, _ = ab.assessor(db, world)
    proposal = world.proposals[0]
    ab.assess(db, world, one, proposal, [4, 3])
    ab.assess(db, world, two, proposal, [2, 3], submit=False)
    with pytest.raises(NotFound):
        services.proposal_marks(db, actor=two, proposal_id=proposal.id, now=world.after)
    seen = services.proposal_marks(db, actor=one, proposal_id=proposal.id, now=world.after)
    assert [a.appointment.user_id for a in seen.assessments] == [one.id]  # drafts are not shown
    ab.assess(db, world, two, proposal, [2, 3])
    seen = services.proposal_marks(db, actor=two, proposal_id=proposal.id, now=world.after)
    assert len(seen.assessments) == 2 and seen.complete
    scored, _ = ab.criteria(db, world)
    assert seen.flagged == [scored[0].id]


def test_when_a_proposal_is_fully_assessed_the_lead_is_told_what_to_moderate(world, db):
    one, _ = ab.assessor(db, world)
    two, _ = ab.assessor(db, world)
    ab.assess(db, world, one, world.proposals[0], [4, 3])
    assert sb.outbox(db, "moderation_needed") == []
    ab.assess(db, world, two, world.proposals[0], [2, 3])
    assert sb.recipients(db, "moderation_needed") == [world.lead.email]
    for p in world.proposals[1:]:
        ab.assess(db, world, one, p, [3, 3])
        ab.assess(db, world, two, p, [3, 3])
    assert sb.recipients(db, "assessments_complete") == [world.lead.email]


# --- moderating --------------------------------------------------------------------------------

def _fully_assessed(db, world):
    one, _ = ab.assessor(db, world)
    two, _ = ab.assessor(db, world)
    a, b, c = world.proposals
    for person, scores in ((one, {a: [4, 3], b: [3, 3], c: [2, 1]}),
                           (two, {a: [2, 3], b: [3, 2], c: [2, 1]})):
        for proposal, s in scores.items():
            ab.assess(db, world, person, proposal, s)
    return one, two


def test_moderation_waits_for_every_assessment(world, db):
    one, _ = ab.assessor(db, world)
    ab.assessor(db, world)
    ab.assess(db, world, one, world.proposals[0], [4, 3])
    scored, _ = ab.criteria(db, world)
    with pytest.raises(InvalidTransition):
        services.moderate(db, actor=world.lead, proposal_id=world.proposals[0].id,
                          phase_criterion_id=scored[0].id, score="3", passed=None,
                          rationale="Agreed", now=world.after)


@pytest.mark.parametrize("score, rationale, errors", [
    ("", "Agreed", {"score": "consensus_missing"}),
    ("3.3", "Agreed", {"score": "consensus_invalid"}),
    ("4.25", "Agreed", {"score": "consensus_invalid"}),
    ("three", "Agreed", {"score": "consensus_invalid"}),
    ("3", " ", {"rationale": "rationale_missing"}),
])
def test_a_consensus_needs_a_score_in_quarter_steps_and_a_rationale(world, db, score, rationale,
                                                                   errors):
    _fully_assessed(db, world)
    scored, _ = ab.criteria(db, world)
    with pytest.raises(RuleViolation) as refused:
        services.moderate(db, actor=world.lead, proposal_id=world.proposals[0].id,
                          phase_criterion_id=scored[0].id, score=score, passed=None,
                          rationale=rationale, now=world.after)
    assert refused.value.errors == errors
    assert _count(db, Moderation) == 0


def test_a_consensus_overrides_the_mean_and_can_be_changed(world, db):
    _fully_assessed(db, world)
    scored, _ = ab.criteria(db, world)
    a = world.proposals[0]
    assert services.ranking(db, world.phase).blockers == ["moderation_outstanding"]
    for score in ("3.5", "2.25"):
        services.moderate(db, actor=world.lead, proposal_id=a.id, phase_criterion_id=scored[0].id,
                          score=score, passed=None, rationale="Agreed", now=world.after)
    board = services.ranking(db, world.phase)
    result = next(r for r in board.ranked if r.proposal_id == a.id)
    assert str(result.finals[scored[0].id]) == "2.25"
    assert board.blockers == []
    assert _count(db, Moderation) == 1
    assert len(sb.events(db, "assessment.moderated")) == 2


def test_only_a_lead_editor_moderates(world, db):
    one, _ = _fully_assessed(db, world)
    scored, _ = ab.criteria(db, world)
    for actor in (one, world.partner, world.suppliers[0]):
        with pytest.raises(NotFound):
            services.moderate(db, actor=actor, proposal_id=world.proposals[0].id,
                              phase_criterion_id=scored[0].id, score="3", passed=None,
                              rationale="x", now=world.after)


# --- deciding, approving, releasing ------------------------------------------------------------

def _ready(db, world):
    _fully_assessed(db, world)
    scored, _ = ab.criteria(db, world)
    services.moderate(db, actor=world.lead, proposal_id=world.proposals[0].id,
                      phase_criterion_id=scored[0].id, score="3.5", passed=None,
                      rationale="Agreed", now=world.after)
    return services.ranking(db, world.phase)


def test_the_decision_waits_for_assessment_and_moderation(world, db):
    _fully_assessed(db, world)
    with pytest.raises(RuleViolation) as refused:
        services.record_decision(db, actor=world.lead, selected_ids=[], reason="",
                                 now=world.after, **_ids(world))
    assert refused.value.errors == {"decision": "moderation_outstanding"}


def test_the_default_selection_needs_no_reason_and_a_departure_does(world, db):
    board = _ready(db, world)
    a, b, c = world.proposals
    # a: 82.50, b: 70.00 — both at or above 60; c: 40.00 below it. Two places.
    assert board.selection.default == [a.id, b.id]
    with pytest.raises(RuleViolation) as refused:
        services.record_decision(db, actor=world.lead, selected_ids=[a.id, c.id], reason="",
                                 now=world.after, **_ids(world))
    assert refused.value.errors == {"reason": "reason_missing"}
    assert _count(db, Decision) == 0
    decision = ab.award(db, world, [a.id, c.id], reason="C's approach is untested elsewhere")
    assert decision.departs and decision.kind == "award"
    assert [r["proposal_id"] for r in decision.results] == [a.id, b.id, c.id]
    assert decision.statistics["received"] == 3 and decision.statistics["above_threshold"] == 2
    assert sb.recipients(db, "decision_approval_needed") == [world.partner.email]
    assert [e.actor_id for e in sb.events(db, "decision.recorded")] == [world.lead.id]


def test_a_proposal_that_failed_a_gate_cannot_be_selected(world, db):
    one, _ = ab.assessor(db, world)
    two, _ = ab.assessor(db, world)
    a, b, c = world.proposals
    for person in (one, two):
        ab.assess(db, world, person, a, [3, 3])
        ab.assess(db, world, person, b, [3, 3])
        ab.assess(db, world, person, c, [4, 4], gate=False)
    with pytest.raises(RuleViolation) as refused:
        services.record_decision(db, actor=world.lead, selected_ids=[c.id], reason="Best score",
                                 now=world.after, **_ids(world))
    assert refused.value.errors == {"selected": "selected_ineligible"}


def test_release_needs_every_partner_and_tells_every_supplier(world, db):
    board = _ready(db, world)
    ab.award(db, world, board.selection.default)
    with pytest.raises(NotPermitted):
        services.release_decision(db, actor=world.lead, now=world.after, **_ids(world))
    with pytest.raises(NotPermitted):  # the lead cannot approve on the partner's behalf
        services.approve_decision(db, actor=world.lead, now=world.after, **_ids(world))
    services.approve_decision(db, actor=world.partner, now=world.after, **_ids(world))
    with pytest.raises(NotPermitted):  # once per authority
        services.approve_decision(db, actor=world.partner, now=world.after, **_ids(world))
    assert sb.recipients(db, "decision_approved") == [world.lead.email]
    services.release_decision(db, actor=world.lead, now=world.after, **_ids(world))
    assert sorted(s.email for s in world.suppliers) == sb.recipients(db, "decision_released")
    phase = services.load_phase(db, **_ids(world))
    assert (phase.status, phase.decision.status) == ("decided", "released")
    with pytest.raises(NotPermitted):  # released: no more changes
        services.record_decision(db, actor=world.lead, selected_ids=[], reason="x",
                                 now=world.after, **_ids(world))


def test_changing_the_decision_asks_the_partners_again(world, db):
    board = _ready(db, world)
    a, b, _c = world.proposals
    ab.award(db, world, board.selection.default)
    services.approve_decision(db, actor=world.partner, now=world.after, **_ids(world))
    services.record_decision(db, actor=world.lead, selected_ids=[a.id], reason="Budget cut",
                             now=world.after + DAY, **_ids(world))
    with pytest.raises(NotPermitted):
        services.release_decision(db, actor=world.lead, now=world.after, **_ids(world))
    assert len(sb.outbox(db, "decision_approval_needed")) == 2


def test_a_supplier_reads_its_own_feedback_without_assessors_names(world, db):
    one, two = _fully_assessed(db, world)
    scored, _ = ab.criteria(db, world)
    services.moderate(db, actor=world.lead, proposal_id=world.proposals[0].id,
                      phase_criterion_id=scored[0].id, score="3.5", passed=None,
                      rationale="Agreed after discussion", now=world.after)
    board = services.ranking(db, world.phase)
    ab.award(db, world, board.selection.default)
    services.approve_decision(db, actor=world.partner, now=world.after, **_ids(world))
    services.release_decision(db, actor=world.lead, now=world.after, **_ids(world))
    c = world.proposals[2]
    fb = services.feedback(db, actor=world.suppliers[2], proposal_id=c.id)
    assert (fb.selected, fb.result["total"], fb.band) == (False, "40.00", "fourth_quarter")
    assert [n for n, _ in fb.comments] == [1, 2]
    assert fb.comments[0][1][scored[0].id] == "Because 2"
    fb_a = services.feedback(db, actor=world.suppliers[0], proposal_id=world.proposals[0].id)
    assert fb_a.selected and fb_a.consensus[scored[0].id] == "Agreed after discussion"
    with pytest.raises(NotFound):  # another supplier's
        services.feedback(db, actor=world.suppliers[0], proposal_id=c.id)
    with pytest.raises(NotFound):  # not for the authority either
        services.feedback(db, actor=world.lead, proposal_id=c.id)


def test_assessors_are_told_when_the_phase_closes(ctx, db, now):
    from procure.challenges import services as challenge_services
    from tests.submissions import builders as pb

    challenge, phase, lead = pb.open_phase(db, now)
    world = ab.World(challenge=challenge, phase=phase, lead=lead, after=now)
    accepted, _ = ab.assessor(db, world, now=now)
    waiting, _ = ab.assessor(db, world, now=now, accept=False)
    pb.submitted(db, now, phase, sb.supplier())
    challenge_services.advance_phases(db, now=phase.closes_at)
    challenge_services.advance_phases(db, now=phase.closes_at + DAY)  # once only
    assert sb.recipients(db, "assessment_due") == sorted([accepted.email, waiting.email])
    bodies = {m.recipient_email: m.body for m in sb.outbox(db, "assessment_due")}
    assert "not yet accepted" in bodies[waiting.email]
    assert "not yet accepted" not in bodies[accepted.email]


def test_an_assessor_who_has_not_submitted_can_be_stood_down_so_the_phase_does_not_wait(world, db):
    one, _ = ab.assessor(db, world)
    two, _ = ab.assessor(db, world)
    idle, idle_appointment = ab.assessor(db, world)
    for p in world.proposals:
        ab.assess(db, world, one, p, [3, 3])
        ab.assess(db, world, two, p, [3, 3])
    assert services.ranking(db, world.phase).blockers == ["assessments_incomplete"]
    with pytest.raises(NotPermitted):
        services.remove_appointment(db, actor=world.partner, appointment_id=idle_appointment.id,
                                    now=world.after, **_ids(world))
    services.remove_appointment(db, actor=world.lead, appointment_id=idle_appointment.id,
                                now=world.after, **_ids(world))
    assert services.ranking(db, world.phase).blockers == []
    assert sb.recipients(db, "assessor_removed") == [idle.email]
    with pytest.raises(NotFound):  # and reads nothing more as an assessor
        services.open_assessment(db, actor=idle, proposal_id=world.proposals[0].id,
                                 now=world.after)
    submitted = next(a for a in services.load_phase(db, **_ids(world)).appointments
                     if a.user_id == one.id)
    with pytest.raises(RuleViolation) as refused:
        services.remove_appointment(db, actor=world.lead, appointment_id=submitted.id,
                                    now=world.after, **_ids(world))
    assert refused.value.errors == {"appointment": "assessor_has_submitted"}
