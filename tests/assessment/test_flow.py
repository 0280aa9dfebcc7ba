"""The whole assessment of a phase through the services: smoke-level first check."""

from procure.assessment import services
from tests.assessment import builders as ab


def test_a_phase_is_assessed_moderated_decided_and_released(ctx, db, now):
    world = ab.closed_phase(db, now, suppliers=3, partner=True)
    one, _ = ab.assessor(db, world)
    two, _ = ab.assessor(db, world)
    a, b, c = world.proposals
    ab.assess(db, world, one, a, [4, 3])
    ab.assess(db, world, two, a, [2, 3])   # 4 and 2: flagged
    ab.assess(db, world, one, b, [3, 3])
    ab.assess(db, world, two, b, [3, 2])
    ab.assess(db, world, one, c, [1, 1])
    ab.assess(db, world, two, c, [1, 1], gate=False)
    phase, board = services.phase_board(db, actor=world.lead, challenge_id=world.challenge.id,
                                        phase_id=world.phase.id, now=world.after)
    scored, gates = ab.criteria(db, world)
    assert board.flags == {a.id: [scored[0].id], b.id: [], c.id: [gates[0].id]}
    assert board.blockers == ["moderation_outstanding"]
    services.moderate(db, actor=world.lead, proposal_id=c.id, phase_criterion_id=gates[0].id,
                      score=None, passed=False, rationale="Not eligible", now=world.after)
    services.moderate(db, actor=world.lead, proposal_id=a.id, phase_criterion_id=scored[0].id,
                      score="3.5", passed=None, rationale="Agreed after discussion",
                      now=world.after)
    phase, board = services.phase_board(db, actor=world.lead, challenge_id=world.challenge.id,
                                        phase_id=world.phase.id, now=world.after)
    assert board.blockers == []
    totals = {r.proposal_id: str(r.total) for r in board.ranked}
    assert totals == {a.id: "82.50", b.id: "70.00", c.id: "25.00"}
    decision = ab.award(db, world, board.selection.default)
    services.approve_decision(db, actor=world.partner, challenge_id=world.challenge.id,
                              phase_id=world.phase.id, now=world.after)
    services.release_decision(db, actor=world.lead, challenge_id=world.challenge.id,
                              phase_id=world.phase.id, now=world.after)
    fb = services.feedback(db, actor=world.suppliers[1], proposal_id=b.id)
    assert fb.selected and fb.result["total"] == "70.00"
    assert decision.status == "released"
