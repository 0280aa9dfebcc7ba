"""Guards around the bake-off: the award's contracts stay within the budget together, refused
and allowed reads of sealed reports are audited, an entrant without a demonstration still
hears the result, and a shortlist of nobody is refused while a phase waits for it."""

from __future__ import annotations

import pytest

from procure.bakeoff import services as bakeoff
from procure.demo_challenges import one_page_pdf
from procure.errors import NotFound, RuleViolation
from tests.bakeoff import builders as bb
from tests.challenges import service_builders as sb

PDF = one_page_pdf("Meter readings")


@pytest.fixture
def world(ctx, db, now):
    return bb.bake_off_world(db, now, suppliers=3, partner=True)


def test_the_award_contracts_together_stay_within_the_budget(world, db):
    bb.full_bake_off(db, world)
    first, best = (world.demonstrations[s.id].id for s in world.shortlisted)
    from procure.assessment import services as assessment

    assessment.record_decision(db, actor=world.lead, selected_ids=[first, best],
                               reason="Both, to compare in use", now=world.after, **world.ids())
    assert world.challenge.budget_pence == 6_000_000
    bb.record_contract(db, world, first, (4_000_000, *bb.AWARD_CONTRACT[1:]))
    with pytest.raises(RuleViolation) as refused:   # 4m + 2.5m is more than the 6m budget
        bb.record_contract(db, world, best, (2_500_000, *bb.AWARD_CONTRACT[1:]))
    assert refused.value.errors == {"value": "contract_value_above_budget"}
    # Changing the first contract is checked against the others only.
    bb.record_contract(db, world, first, (3_000_000, *bb.AWARD_CONTRACT[1:]))
    bb.record_contract(db, world, best, (3_000_000, *bb.AWARD_CONTRACT[1:]))


def test_reading_sealed_evidence_is_refused_and_audited_then_reading_reports_is_audited(
        world, db, app):
    folder = app.config["UPLOAD_DIR"]
    bb.invite(db, world)
    entrant = world.entrants[0]
    bb.report(db, world, entrant, world.higher, "30")
    evidence = bakeoff.add_evidence(db, actor=world.supplier_of(entrant), entrant_id=entrant.id,
                                    measure_id=world.higher.id, filename="readings.pdf",
                                    data=PDF, now=bb.during(world), folder=folder)
    with pytest.raises(NotFound):   # before the deadline
        bakeoff.evidence_for_download(db, actor=world.lead, file_id=evidence.id,
                                      now=bb.during(world), folder=folder)
    refused = sb.events(db, "bake_off.evidence_read_refused")
    assert [e.actor_id for e in refused] == [world.lead.id]
    bb.close_bake_off(db, world)
    bakeoff.read_reports(db, actor=world.partner, now=world.after, **world.ids())
    assert [e.actor_id for e in sb.events(db, "bake_off.reports_read")] == [world.partner.id]


def test_an_entrant_without_a_demonstration_is_told_the_award(world, db):
    bb.invite(db, world)
    keen, absent = world.shortlisted
    bb.demonstrate(db, world, keen)
    bb.close_bake_off(db, world)
    bb.assess_bake_off(db, world)
    decision = bb.award(db, world, [world.demonstrations[keen.id].id])
    told = {m.recipient_email: m for m in sb.outbox(db, "decision_released")
            if m.idempotency_key.startswith(f"decision_released:{decision.id}:")}
    assert sorted(told) == sorted([keen.email, absent.email])
    entrant = next(e for e in world.entrants
                   if e.organisation_id == absent.membership.organisation_id)
    assert f"/bake-off/{entrant.id}" in told[absent.email].body


def test_a_shortlist_of_nobody_is_refused_while_a_phase_waits_for_it(ctx, db, now):
    from procure.assessment import services as assessment

    world = bb.bake_off_world(db, now, suppliers=2, decided=False)
    with pytest.raises(RuleViolation) as refused:
        assessment.record_decision(db, actor=world.lead, selected_ids=[],
                                   reason="Nobody was good enough", now=world.decided_at,
                                   **world.ids(world.phase1))
    assert refused.value.errors == {"selected": "shortlist_empty"}
