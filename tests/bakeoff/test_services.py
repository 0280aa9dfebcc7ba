"""Bake-off and award services on the database: from the released shortlist, through the
invitation, the reports and their evidence, verification and the results, to the award and
the concluded challenge. Each refused move changes nothing; each state change is audited."""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from procure.assessment import services as assessment
from procure.assessment.models import Decision
from procure.bakeoff import services as bakeoff
from procure.bakeoff.models import (
    AdoptionCheckIn,
    AwardContract,
    BakeOffEntrant,
    EvidenceFile,
    MeasurementReport,
)
from procure.demo_challenges import one_page_pdf
from procure.errors import NotFound, NotPermitted, RuleViolation
from procure.submissions import services as submissions
from tests.bakeoff import builders as bb
from tests.challenges import service_builders as sb
from tests.submissions.builders import JPEG, png

DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)
PDF = one_page_pdf("Meter readings for 30 homes")


@pytest.fixture
def world(ctx, db, now):
    return bb.bake_off_world(db, now, suppliers=3, partner=True)


@pytest.fixture
def folder(app):
    return app.config["UPLOAD_DIR"]


def _count(db, model) -> int:
    db.rollback()
    return db.execute(select(func.count()).select_from(model)).scalar_one()


def _stored_entrants(db, world) -> list[BakeOffEntrant]:
    db.rollback()
    db.expire_all()
    return bb.load_entrants(db, world)


def _report_row(db, report_id) -> MeasurementReport:
    db.rollback()
    db.expire_all()
    return db.get(MeasurementReport, report_id)


def _data(event) -> dict:
    """An audit event's data (stored as canonical JSON)."""
    return json.loads(event.data)


# --- the shortlist makes the entrants ------------------------------------------------------------

def test_releasing_the_shortlist_records_the_entrants_with_the_phase_value(world, db):
    entrants = world.entrants
    assert [e.organisation_id for e in entrants] == [
        s.membership.organisation_id for s in world.suppliers[:2]]
    assert [e.shortlisted_proposal_id for e in entrants] == [p.id for p in world.proposals[:2]]
    for e in entrants:
        assert e.phase_id == world.phase2.id
        assert e.contract_value_pence == bb.BAKE_OFF_MAX == world.phase2.max_value_pence
        assert (e.contract_starts_on, e.contract_ends_on, e.invited_at) == (None, None, None)
        assert e.created_at == world.decided_at
    assert world.phase1.status == "decided" and world.phase2.status == "planned"
    assert world.challenge.status == "in_progress"
    (event,) = sb.events(db, "bake_off.entrants_recorded")
    assert (event.subject_type, event.subject_id) == ("phase", str(world.phase2.id))
    assert _data(event)["entrants"] == [e.organisation_id for e in entrants]
    # Nobody is told of the bake-off yet: they are told when invited.
    assert sb.outbox(db, "bake_off_invited") == []


def test_the_entrants_page_is_for_the_lead_and_partners(world, db):
    for actor in (world.lead, world.partner, sb.viewer(world.lead.membership.organisation)):
        phase = bakeoff.entrants(db, actor=actor, **world.ids())
        assert [e.id for e in phase.entrants] == [e.id for e in world.entrants]
    for actor in (world.suppliers[0], sb.editor()):
        with pytest.raises(NotPermitted):
            bakeoff.entrants(db, actor=actor, **world.ids())
    with pytest.raises(NotFound):  # the feasibility phase has no entrants
        bakeoff.entrants(db, actor=world.lead, **world.ids(world.phase1))


# --- who may start a demonstration proposal ------------------------------------------------------

def test_only_an_invited_entrant_starts_a_proposal_in_the_bake_off(world, db):
    entrant_supplier, outsider = world.shortlisted[0], world.outsider
    stranger = sb.supplier()
    entrant_viewer = sb.viewer(entrant_supplier.membership.organisation)
    # Shortlisted but not yet invited, inside the phase's planned window: not yet.
    planned = world.phase2.opens_at + DAY
    with pytest.raises(NotPermitted):
        submissions.start_proposal(db, actor=entrant_supplier, phase_id=world.phase2.id,
                                   now=planned)
    bb.invite(db, world)
    for actor in (outsider, stranger, entrant_viewer):
        with pytest.raises(NotPermitted):
            submissions.start_proposal(db, actor=actor, phase_id=world.phase2.id,
                                       now=bb.during(world))
    proposal = submissions.start_proposal(db, actor=entrant_supplier, phase_id=world.phase2.id,
                                          now=bb.during(world))
    assert (proposal.phase_id, proposal.organisation_id) == (
        world.phase2.id, entrant_supplier.membership.organisation_id)
    # The whole demonstration goes in like any proposal.
    demo = bb.demonstrate(db, world, world.shortlisted[1])
    assert demo.status == "submitted"


# --- inviting ----------------------------------------------------------------------------------

def test_inviting_records_the_contracts_opens_the_bake_off_and_tells_the_entrants(world, db):
    at = world.decided_at + DAY
    closes = at + 30 * DAY
    second = (1_500_000, date(2027, 2, 1), date(2027, 2, 1))   # a one-day contract is fine
    contracts = {world.entrants[0].id: bb.CONTRACT, world.entrants[1].id: second}
    phase = bakeoff.invite_entrants(db, actor=world.lead, contracts=contracts, closes_at=closes,
                                    now=at, **world.ids())
    assert (phase.status, phase.opened_at, phase.opens_at, phase.closes_at) == (
        "open", at, at, closes)
    stored = _stored_entrants(db, world)
    assert [(e.contract_value_pence, e.contract_starts_on, e.contract_ends_on) for e in stored] \
        == [bb.CONTRACT, second]
    assert all(e.invited_at == at and e.invited_by_id == world.lead.id for e in stored)
    assert sb.recipients(db, "bake_off_invited") == sorted(s.email for s in world.shortlisted)
    (event,) = sb.events(db, "bake_off.opened")
    assert event.actor_id == world.lead.id and event.subject_id == str(world.phase2.id)
    assert _data(event)["closes_at"] == closes.isoformat()
    assert _data(event)["contracts"] == [
        {"organisation": e.organisation_id, "value_pence": v, "starts_on": s.isoformat(),
         "ends_on": f.isoformat()} for e, (v, s, f) in zip(stored, [bb.CONTRACT, second],
                                                          strict=True)]
    # Once open, it cannot be opened again.
    with pytest.raises(NotPermitted):
        bakeoff.invite_entrants(db, actor=world.lead, contracts=contracts, closes_at=closes,
                                now=at, **world.ids())
    # Each entrant finds its own place, and only its own.
    entry = bakeoff.own_entry(db, actor=world.shortlisted[0], entrant_id=stored[0].id)
    assert entry.id == stored[0].id
    with pytest.raises(NotFound):
        bakeoff.own_entry(db, actor=world.shortlisted[0], entrant_id=stored[1].id)
    assert [e.id for e in bakeoff.entries_of(
        db, world.shortlisted[1].membership.organisation_id)] == [stored[1].id]


@pytest.mark.parametrize("field, value, code", [
    ("value", None, "contract_value_missing"),
    ("value", 0, "contract_value_invalid"),
    ("value", -5, "contract_value_invalid"),
    ("value", bb.BAKE_OFF_MAX + 1, "contract_value_above_maximum"),
    ("starts_on", None, "contract_start_missing"),
    ("ends_on", None, "contract_end_missing"),
    ("ends_on", date(2027, 1, 3), "contract_end_before_start"),
])
def test_inviting_refuses_a_bad_contract_field_by_field_and_changes_nothing(world, db, field,
                                                                            value, code):
    contract = dict(zip(("value", "starts_on", "ends_on"), bb.CONTRACT, strict=True))
    contract[field] = value
    bad = world.entrants[1]
    contracts = {world.entrants[0].id: bb.CONTRACT, bad.id: tuple(contract.values())}
    at = world.decided_at + DAY
    with pytest.raises(RuleViolation) as refused:
        bakeoff.invite_entrants(db, actor=world.lead, contracts=contracts, closes_at=at + 30 * DAY,
                                now=at, **world.ids())
    assert refused.value.errors == {f"entrant_{bad.id}_{field}": code}
    _assert_not_invited(db, world)


def test_inviting_refuses_an_entrant_without_a_contract_and_reports_every_field(world, db):
    at = world.decided_at + DAY
    first, second = world.entrants
    with pytest.raises(RuleViolation) as refused:
        bakeoff.invite_entrants(db, actor=world.lead, contracts={first.id: bb.CONTRACT},
                                closes_at=None, now=at, **world.ids())
    assert refused.value.errors == {
        f"entrant_{second.id}_value": "contract_value_missing",
        f"entrant_{second.id}_starts_on": "contract_start_missing",
        f"entrant_{second.id}_ends_on": "contract_end_missing",
        "closes_at": "close_missing"}
    _assert_not_invited(db, world)


@pytest.mark.parametrize("offset", [timedelta(0), -SECOND, -DAY])
def test_inviting_refuses_a_closing_time_not_in_the_future(world, db, offset):
    at = world.decided_at + DAY
    with pytest.raises(RuleViolation) as refused:
        bakeoff.invite_entrants(db, actor=world.lead, contracts=bb.contracts_for(world),
                                closes_at=at + offset, now=at, **world.ids())
    assert refused.value.errors == {"closes_at": "close_in_past"}
    _assert_not_invited(db, world)


def test_only_the_lead_editors_invite_and_only_into_the_bake_off(world, db):
    at = world.decided_at + DAY
    args = dict(contracts=bb.contracts_for(world), closes_at=at + 30 * DAY, now=at)
    for actor in (world.partner, sb.viewer(world.lead.membership.organisation),
                  world.shortlisted[0]):
        with pytest.raises(NotPermitted):
            bakeoff.invite_entrants(db, actor=actor, **args, **world.ids())
    with pytest.raises(NotFound):  # a draft of another authority: not even seen by a supplier
        bakeoff.invite_entrants(db, actor=world.lead, **args, challenge_id=world.challenge.id,
                                phase_id=world.phase2.id + 999)
    with pytest.raises(NotPermitted):  # the feasibility phase is not by invitation
        bakeoff.invite_entrants(db, actor=world.lead, **args, **world.ids(world.phase1))
    _assert_not_invited(db, world)


def _assert_not_invited(db, world):
    stored = _stored_entrants(db, world)
    assert all(e.invited_at is None and e.contract_starts_on is None for e in stored)
    assert all(e.contract_value_pence == bb.BAKE_OFF_MAX for e in stored)
    phase = assessment.load_phase(db, challenge_id=world.challenge.id, phase_id=world.phase2.id)
    assert (phase.status, phase.opened_at) == ("planned", None)
    assert sb.events(db, "bake_off.opened") == []
    assert sb.outbox(db, "bake_off_invited") == []


# --- reporting ---------------------------------------------------------------------------------

def test_an_entrant_reports_and_changes_a_value_until_the_deadline(world, db):
    bb.invite(db, world)
    entrant = world.entrants[0]
    first = bb.report(db, world, entrant, world.higher, "1,250.5", "  Meter readings  ")
    assert (first.value, first.evidence, first.status) == (Decimal("1250.5"), "Meter readings",
                                                           "reported")
    assert first.counted_value is None   # not yet verified
    changed = bb.report(db, world, entrant, world.higher, "31", "Recounted",
                        now=world.closes_at - SECOND)
    assert changed.id == first.id
    stored = _report_row(db, first.id)
    assert (stored.value, stored.evidence, stored.reported_at) == (
        Decimal("31"), "Recounted", world.closes_at - SECOND)
    assert _count(db, MeasurementReport) == 1
    events = sb.events(db, "bake_off.measurement_reported")
    assert [(e.subject_type, e.subject_id) for e in events] == [("bake_off_entrant", str(entrant.id))] * 2
    # Like a proposal, the audit says nothing of the value before the deadline.
    assert all(set(_data(e)) == {"measure", "report"} for e in events)


@pytest.mark.parametrize("value, evidence, errors", [
    ("", "Counted", {"value": "value_missing"}),
    ("lots", "Counted", {"value": "value_invalid"}),
    ("1.23456", "Counted", {"value": "value_too_precise"}),
    ("123456789012345", "Counted", {"value": "value_too_large"}),
    ("12", "   ", {"evidence": "evidence_missing"}),
    ("12", "x" * 5001, {"evidence": "text_too_long"}),
])
def test_a_report_is_checked_and_a_refused_one_is_not_kept(world, db, value, evidence, errors):
    bb.invite(db, world)
    with pytest.raises(RuleViolation) as refused:
        bb.report(db, world, world.entrants[0], world.higher, value, evidence)
    assert refused.value.errors == errors
    assert _count(db, MeasurementReport) == 0
    assert sb.events(db, "bake_off.measurement_reported") == []


def test_reports_are_taken_only_while_the_bake_off_accepts_them(world, db):
    bb.invite(db, world)
    entrant = world.entrants[0]
    for moment in (world.invited_at - SECOND, world.closes_at, world.closes_at + DAY):
        with pytest.raises(RuleViolation) as refused:
            bb.report(db, world, entrant, world.higher, "30", now=moment)
        assert refused.value.errors == {"value": "bake_off_closed"}, moment
    bb.report(db, world, entrant, world.higher, "30", now=world.invited_at)
    bb.report(db, world, entrant, world.lower, "800", now=world.closes_at - SECOND)
    assert _count(db, MeasurementReport) == 2


def test_once_the_job_has_closed_the_bake_off_a_report_is_refused_as_closed(world, db):
    """After the close job has run, a late report is told the bake-off has closed (the
    ``bake_off_closed`` message), as a late proposal is told its phase has closed."""
    bb.invite(db, world)
    bb.close_bake_off(db, world)
    with pytest.raises(RuleViolation) as refused:
        bb.report(db, world, world.entrants[0], world.higher, "30", now=world.after)
    assert refused.value.errors == {"value": "bake_off_closed"}
    assert _count(db, MeasurementReport) == 0


def test_only_the_entrants_editors_report_for_it(world, db):
    entrant = world.entrants[0]
    owner = world.supplier_of(entrant)
    with pytest.raises(NotFound):  # not yet invited: there is no entry to report to
        bb.report(db, world, entrant, world.higher, "30", now=world.decided_at + DAY)
    bb.invite(db, world)
    for outsider in (world.outsider, world.shortlisted[1], sb.supplier(), world.lead,
                     world.partner, sb.no_org_user()):
        with pytest.raises(NotFound):
            bb.report(db, world, entrant, world.higher, "30", actor=outsider)
    with pytest.raises(NotPermitted):  # a viewer of the entrant reads, but does not report
        bb.report(db, world, entrant, world.higher, "30",
                  actor=sb.viewer(owner.membership.organisation))
    with pytest.raises(NotFound):  # a measure of another phase (or none)
        bakeoff.report_measurement(db, actor=owner, entrant_id=entrant.id,
                                   measure_id=world.higher.id + 999, value_text="30",
                                   evidence="Counted", now=bb.during(world))
    assert _count(db, MeasurementReport) == 0


# --- evidence ----------------------------------------------------------------------------------

def _add(db, world, folder, entrant, filename="readings.pdf", data=PDF, *, measure=None,
         now=None, actor=None):
    return bakeoff.add_evidence(db, actor=actor or world.supplier_of(entrant),
                                entrant_id=entrant.id, measure_id=(measure or world.higher).id,
                                filename=filename, data=data, now=now or bb.during(world),
                                folder=folder)


def test_evidence_is_attached_to_a_report_checked_by_its_content_and_limited_to_three(
        world, db, folder):
    bb.invite(db, world)
    entrant = world.entrants[0]
    with pytest.raises(RuleViolation) as refused:
        _add(db, world, folder, entrant)
    assert refused.value.errors == {"file": "report_first"}
    report = bb.report(db, world, entrant, world.higher, "30")
    first = _add(db, world, folder, entrant)
    assert (first.filename, first.content_type, first.size, first.sha256) == (
        "readings.pdf", "application/pdf", len(PDF), hashlib.sha256(PDF).hexdigest())
    for name, data, code in [("readings.pdf", png(), "file_type_mismatch"),
                             ("notes.txt", b"just some text", "file_type"),
                             ("empty.pdf", b"", "file_empty")]:
        with pytest.raises(RuleViolation) as refused:
            _add(db, world, folder, entrant, name, data)
        assert refused.value.errors == {"file": code}, name
    second = _add(db, world, folder, entrant)            # the same name again
    third = _add(db, world, folder, entrant, "site.jpg", JPEG)
    assert (second.filename, third.content_type) == ("readings (2).pdf", "image/jpeg")
    with pytest.raises(RuleViolation) as refused:
        _add(db, world, folder, entrant, "more.png", png())
    assert refused.value.errors == {"file": "too_many_evidence_files"}
    db.rollback()
    assert [f.filename for f in _report_row(db, report.id).files] == [
        "readings.pdf", "readings (2).pdf", "site.jpg"]
    assert len(sb.events(db, "bake_off.evidence_added")) == 3
    # Removing one makes room again.
    bakeoff.remove_evidence(db, actor=world.supplier_of(entrant), entrant_id=entrant.id,
                            file_id=second.id, now=bb.during(world), folder=folder)
    assert [_data(e)["file"] for e in sb.events(db, "bake_off.evidence_removed")] == [second.id]
    _add(db, world, folder, entrant, "more.png", png())
    assert _count(db, EvidenceFile) == 3


def test_evidence_can_only_be_added_by_the_entrant_while_it_is_open(world, db, folder):
    bb.invite(db, world)
    entrant = world.entrants[0]
    bb.report(db, world, entrant, world.higher, "30")
    with pytest.raises(NotFound):
        _add(db, world, folder, entrant, actor=world.shortlisted[1])
    with pytest.raises(RuleViolation) as refused:
        _add(db, world, folder, entrant, now=world.closes_at)
    assert refused.value.errors == {"value": "bake_off_closed"}
    assert _count(db, EvidenceFile) == 0


def test_the_authority_reads_evidence_only_once_the_bake_off_has_closed(world, db, folder):
    bb.invite(db, world)
    entrant = world.entrants[0]
    bb.report(db, world, entrant, world.higher, "30")
    evidence = _add(db, world, folder, entrant)
    owner = world.supplier_of(entrant)

    def download(actor, now):
        return bakeoff.evidence_for_download(db, actor=actor, file_id=evidence.id, now=now,
                                             folder=folder)

    # The entrant's own members, at any time, unaudited.
    found, path = download(sb.viewer(owner.membership.organisation), bb.during(world))
    assert found.id == evidence.id and path.read_bytes() == PDF
    for actor in (world.lead, world.partner, world.outsider, world.shortlisted[1]):
        with pytest.raises(NotFound):
            download(actor, world.closes_at - SECOND)
    assert sb.events(db, "bake_off.evidence_read") == []

    bb.close_bake_off(db, world)
    for actor in (world.lead, world.partner):
        found, path = download(actor, world.after)
        assert path.read_bytes() == PDF
    for actor in (world.outsider, world.shortlisted[1], sb.editor(), None):
        with pytest.raises(NotFound):
            download(actor, world.after)
    events = sb.events(db, "bake_off.evidence_read")
    assert [e.actor_id for e in events] == [world.lead.id, world.partner.id]
    assert _data(events[0]) == {"file": evidence.id, "sha256": hashlib.sha256(PDF).hexdigest()}
    with pytest.raises(NotFound):
        bakeoff.evidence_for_download(db, actor=world.lead, file_id=evidence.id + 999,
                                      now=world.after, folder=folder)


# --- verifying ---------------------------------------------------------------------------------

def _reported(db, world):
    """The bake-off invited, both entrants reporting both measures and demonstrating."""
    bb.invite(db, world)
    reports = {}
    for supplier, (high, low) in zip(world.shortlisted, [("30", "800"), ("50", "700")],
                                     strict=True):
        entrant = world.entrant_of(supplier)
        bb.demonstrate(db, world, supplier)
        reports[(supplier.id, "higher")] = bb.report(db, world, entrant, world.higher, high)
        reports[(supplier.id, "lower")] = bb.report(db, world, entrant, world.lower, low)
    return reports


def test_verification_waits_for_the_close_and_accepts_or_corrects_with_a_reason(world, db):
    reports = _reported(db, world)
    first = reports[(world.shortlisted[0].id, "higher")]
    second = reports[(world.shortlisted[1].id, "higher")]
    with pytest.raises(NotPermitted):   # the bake-off is still open
        bb.verify(db, world, first, now=bb.during(world))
    bb.close_bake_off(db, world)

    accepted = bb.verify(db, world, first)
    assert (accepted.status, accepted.verified_value, accepted.verified_by_id,
            accepted.verified_at) == ("accepted", Decimal("30"), world.lead.id, world.after)
    assert accepted.counted_value == Decimal("30")
    assert sb.recipients(db, "measurement_verified") == [world.shortlisted[0].email]

    corrected = bb.verify(db, world, second, "correct", "42", "  The meter read 42  ")
    assert (corrected.status, corrected.value, corrected.verified_value,
            corrected.correction_reason) == ("corrected", Decimal("50"), Decimal("42"),
                                             "The meter read 42")
    assert sb.recipients(db, "measurement_verified") == sorted(
        s.email for s in world.shortlisted)
    events = sb.events(db, "bake_off.measurement_verified")
    assert [(e.subject_id, _data(e)["outcome"], Decimal(_data(e)["reported"]),
             Decimal(_data(e)["verified"])) for e in events] == [
        (str(world.entrants[0].id), "accepted", Decimal("30"), Decimal("30")),
        (str(world.entrants[1].id), "corrected", Decimal("50"), Decimal("42"))]


@pytest.mark.parametrize("outcome, value, reason, errors", [
    (None, None, "", {"outcome": "verification_choice_missing"}),
    ("maybe", "30", "Because", {"outcome": "verification_choice_missing"}),
    ("correct", "42", "   ", {"reason": "correction_reason_missing"}),
    ("correct", "", "Because", {"value": "value_missing"}),
    ("correct", "forty", "", {"value": "value_invalid", "reason": "correction_reason_missing"}),
    ("accept", None, "x" * 2001, {"reason": "text_too_long"}),
])
def test_a_refused_verification_changes_nothing(world, db, outcome, value, reason, errors):
    reports = _reported(db, world)
    report = reports[(world.shortlisted[0].id, "higher")]
    bb.close_bake_off(db, world)
    with pytest.raises(RuleViolation) as refused:
        bb.verify(db, world, report, outcome, value, reason)
    assert refused.value.errors == errors
    stored = _report_row(db, report.id)
    assert (stored.status, stored.verified_value, stored.verified_at) == ("reported", None, None)
    assert sb.events(db, "bake_off.measurement_verified") == []
    assert sb.outbox(db, "measurement_verified") == []


def test_only_the_lead_editors_verify_and_only_before_the_decision(world, db):
    reports = _reported(db, world)
    report = reports[(world.shortlisted[0].id, "higher")]
    bb.close_bake_off(db, world)
    for actor in (world.partner, sb.viewer(world.lead.membership.organisation),
                  world.shortlisted[0], sb.editor()):
        with pytest.raises(NotPermitted):
            bb.verify(db, world, report, actor=actor)
    with pytest.raises(NotFound):
        bakeoff.verify_measurement(db, actor=world.lead, report_id=report.id + 999,
                                   outcome="accept", value_text=None, reason="",
                                   now=world.after, **world.ids())
    with pytest.raises(NotPermitted):  # phase 1 is no bake-off: nothing there to verify
        bakeoff.verify_measurement(db, actor=world.lead, report_id=report.id,
                                   outcome="accept", value_text=None, reason="",
                                   now=world.after, **world.ids(world.phase1))
    for r in reports.values():
        bb.verify(db, world, r)
    bb.assess_bake_off(db, world)
    bb.award(db, world, [world.demonstrations[world.shortlisted[1].id].id], release=False,
             contracts=False)
    with pytest.raises(NotPermitted):  # a decision is recorded: the values are settled
        bb.verify(db, world, report, "correct", "31", "Late correction")
    assert _report_row(db, report.id).status == "accepted"


# --- the results -------------------------------------------------------------------------------

def test_results_compute_achievement_outcome_assessed_and_final_exactly(world, db):
    """Entrant 0 reports "Homes fixed" 30 (accepted) and nothing for "Cost per home";
    entrant 1 reports 50 (corrected to 42) and 777 (accepted)."""
    bb.invite(db, world)
    zero, one = world.entrants
    for supplier in world.shortlisted:
        bb.demonstrate(db, world, supplier)
    a = bb.report(db, world, zero, world.higher, "30")
    b = bb.report(db, world, one, world.higher, "50")
    c = bb.report(db, world, one, world.lower, "777")
    bb.close_bake_off(db, world)
    bb.assess_bake_off(db, world)   # entrant 0: [3, 2] = 65.00; entrant 1: [2, 4] = 70.00

    waiting = bb.results(db, world)
    assert waiting.waiting == 3
    assert "verification_outstanding" in waiting.blockers
    assert all(m.verified is None and m.achievement is None for row in waiting.rows
               for m in row.measures)
    assert [str(r.outcome) for r in waiting.rows] == ["0.00", "0.00"]

    bb.verify(db, world, a)
    bb.verify(db, world, b, "correct", "42", "The meter read 42")
    bb.verify(db, world, c)
    board = bb.results(db, world)
    assert (board.waiting, board.blockers) == (0, [])
    rows = {r.entrant.id: r for r in board.rows}
    assert [r.entrant.id for r in board.rows] == [one.id, zero.id]   # by rank

    def cells(row):
        return [(m.measure.id, m.report.id if m.report else None,
                 str(m.verified) if m.verified is not None else None,
                 str(m.achievement) if m.achievement is not None else None)
                for m in row.measures]

    # (30 − 10) / (50 − 10) = 0.5; not reported: no value, counts 0.
    assert cells(rows[zero.id]) == [(world.higher.id, a.id, "30.0000", "0.5000"),
                                    (world.lower.id, None, None, None)]
    # Corrected to 42: (42 − 10) / 40 = 0.8; (777 − 1000) / (600 − 1000) = 0.5575.
    assert cells(rows[one.id]) == [(world.higher.id, b.id, "42.0000", "0.8000"),
                                   (world.lower.id, c.id, "777.0000", "0.5575")]
    zero_row, one_row = rows[zero.id], rows[one.id]
    # Outcome: 60 × 0.5 + 40 × 0 = 30.00; final: 0.5 × 65.00 + 0.5 × 30.00 = 47.50.
    assert (str(zero_row.outcome), str(zero_row.assessed), str(zero_row.final),
            zero_row.rank) == ("30.00", "65.00", "47.50", 2)
    # Outcome: 60 × 0.8 + 40 × 0.5575 = 70.30; final: 0.5 × 70.00 + 0.5 × 70.30 = 70.15.
    assert (str(one_row.outcome), str(one_row.assessed), str(one_row.final),
            one_row.rank) == ("70.30", "70.00", "70.15", 1)
    assert zero_row.proposal_id == world.demonstrations[world.shortlisted[0].id].id
    assert all(r.eligible and not r.tied and not r.awarded for r in board.rows)
    # The ranking of the phase ranks by the same final scores.
    ranking = assessment.ranking(db, board.phase)
    by_proposal = {r.proposal_id: r for r in ranking.ranked}
    assert [(str(by_proposal[r.proposal_id].total), str(by_proposal[r.proposal_id].assessed),
             str(by_proposal[r.proposal_id].outcome)) for r in board.rows] == [
        ("70.15", "70.00", "70.30"), ("47.50", "65.00", "30.00")]
    assert ranking.selection.default == [one_row.proposal_id]


def test_results_clamp_achievement_and_show_an_entrant_without_a_demonstration(world, db):
    bb.invite(db, world)
    zero, one = world.entrants
    bb.demonstrate(db, world, world.shortlisted[0])
    over = bb.report(db, world, zero, world.higher, "75")     # past the target: 1
    worse = bb.report(db, world, zero, world.lower, "1200")   # worse than the baseline: 0
    bb.close_bake_off(db, world)
    bb.assess_bake_off(db, world)
    bb.verify(db, world, over)
    bb.verify(db, world, worse)
    rows = {r.entrant.id: r for r in bb.results(db, world).rows}
    assert [str(m.achievement) for m in rows[zero.id].measures] == ["1.0000", "0.0000"]
    assert (str(rows[zero.id].outcome), str(rows[zero.id].final)) == ("60.00", "62.50")
    # Entrant 1 neither demonstrated nor reported: outcome 0, nothing assessed, no rank.
    assert (str(rows[one.id].outcome), rows[one.id].proposal_id, rows[one.id].assessed,
            rows[one.id].final, rows[one.id].rank) == ("0.00", None, None, None, None)


def test_results_are_for_the_authority_once_the_bake_off_has_closed(world, db):
    bb.invite(db, world)
    with pytest.raises(NotPermitted):
        bb.results(db, world, now=world.closes_at - SECOND)
    board = bb.results(db, world, now=world.closes_at)   # by the clock, before the job runs
    assert len(board.rows) == 2
    bb.close_bake_off(db, world)
    for actor in (world.partner, sb.viewer(world.lead.membership.organisation)):
        assert len(bb.results(db, world, actor=actor).rows) == 2
    for actor in (world.shortlisted[0], world.outsider, sb.editor()):
        with pytest.raises(NotPermitted):
            bb.results(db, world, actor=actor)
    with pytest.raises(NotPermitted):  # phase 1 is no bake-off
        bakeoff.results(db, actor=world.lead, now=world.after, **world.ids(world.phase1))


# --- the award ---------------------------------------------------------------------------------

def _ready(db, world):
    """Everything reported, verified and assessed: entrant 1 leads (85.00 vs 57.50)."""
    bb.full_bake_off(db, world)
    return [world.demonstrations[s.id].id for s in world.shortlisted]


def test_an_award_waits_for_every_report_to_be_verified(world, db):
    bb.invite(db, world)
    for supplier in world.shortlisted:
        bb.demonstrate(db, world, supplier)
    report = bb.report(db, world, world.entrants[0], world.higher, "30")
    bb.close_bake_off(db, world)
    bb.assess_bake_off(db, world)
    best = world.demonstrations[world.shortlisted[1].id].id
    with pytest.raises(RuleViolation) as refused:
        assessment.record_decision(db, actor=world.lead, selected_ids=[best],
                                   reason="The best results", now=world.after, **world.ids())
    assert refused.value.errors == {"decision": "verification_outstanding"}
    assert _count(db, Decision) == 1   # the shortlist's only
    bb.verify(db, world, report)
    decision = assessment.record_decision(db, actor=world.lead, selected_ids=[best],
                                          reason="The best results", now=world.after,
                                          **world.ids())
    assert (decision.kind, decision.selected_ids) == ("award", [best])


def test_an_award_needs_a_reason(world, db):
    first, best = _ready(db, world)
    with pytest.raises(RuleViolation) as refused:   # the ranking's own choice, unexplained
        assessment.record_decision(db, actor=world.lead, selected_ids=[best], reason="  ",
                                   now=world.after, **world.ids())
    assert refused.value.errors == {"reason": "award_reason_missing"}
    with pytest.raises(RuleViolation) as refused:   # departing from the ranking, unexplained
        assessment.record_decision(db, actor=world.lead, selected_ids=[], reason="",
                                   now=world.after, **world.ids())
    assert refused.value.errors == {"reason": "reason_missing"}
    assert _count(db, Decision) == 1
    assert _data(sb.events(db, "decision.recorded")[-1])["kind"] == "shortlist"


def test_no_award_when_nobody_reached_the_threshold_still_needs_a_reason(ctx, db, now):
    world = bb.bake_off_world(db, now)
    bb.invite(db, world)
    for supplier in world.shortlisted:
        bb.demonstrate(db, world, supplier)
    bb.close_bake_off(db, world)
    bb.assess_bake_off(db, world, {s: [0, 1] for s in world.shortlisted})   # 10.00 each
    assert assessment.ranking(db, world.phase2).selection.default == []
    with pytest.raises(RuleViolation) as refused:
        assessment.record_decision(db, actor=world.lead, selected_ids=[], reason="",
                                   now=world.after, **world.ids())
    assert refused.value.errors == {"reason": "no_award_reason_missing"}


def test_no_award_with_a_reason_concludes_the_challenge_and_asks_for_no_check_ins(world, db):
    _ready(db, world)
    decision = assessment.record_decision(db, actor=world.lead, selected_ids=[],
                                          reason="Neither prototype is ready to deploy",
                                          now=world.after, **world.ids())
    assert (decision.kind, decision.selected_ids) == ("award", [])
    with pytest.raises(NotPermitted):   # nobody to contract with
        bb.record_contract(db, world, world.demonstrations[world.shortlisted[0].id].id)
    assessment.approve_decision(db, actor=world.partner, now=world.after, **world.ids())
    assessment.release_decision(db, actor=world.lead, now=world.after, **world.ids())
    bb.refresh(db, world)
    assert (world.challenge.status, world.challenge.concluded_at) == ("concluded", world.after)
    assert world.phase2.status == "decided"
    (event,) = sb.events(db, "challenge.concluded")
    assert _data(event) == {"decision": decision.id, "awarded": [], "contracts": []}
    assert bakeoff.ask_for_check_ins(db, now=world.after + 800 * DAY) == 0
    assert _count(db, AdoptionCheckIn) == 0
    assert sb.outbox(db, "adoption_check_in_due") == []


def test_partners_approve_an_award_once_its_contracts_are_recorded(world, db):
    first, best = _ready(db, world)
    ids = world.ids()
    decision = assessment.record_decision(db, actor=world.lead, selected_ids=[best],
                                          reason="The best results in the bake-off",
                                          now=world.after, **ids)
    approvals_asked = len(sb.outbox(db, "decision_approval_needed"))
    for move in (assessment.approve_decision, ):
        with pytest.raises(NotPermitted):
            move(db, actor=world.partner, now=world.after, **ids)
    with pytest.raises(NotPermitted):
        assessment.release_decision(db, actor=world.lead, now=world.after, **ids)
    assert len(sb.outbox(db, "decision_approval_needed")) == approvals_asked

    contract = bb.record_contract(db, world, best)
    assert (contract.value_pence, contract.starts_on, contract.ends_on, contract.organisation_id,
            contract.recorded_by_id) == (*bb.AWARD_CONTRACT,
                                         world.shortlisted[1].membership.organisation_id,
                                         world.lead.id)
    assert world.partner.email in sb.recipients(db, "decision_approval_needed")
    assessment.approve_decision(db, actor=world.partner, now=world.after, **ids)

    # Changing the contract asks the partner again.
    changed = (3_500_000, date(2027, 6, 1), date(2028, 5, 31))
    bb.record_contract(db, world, best, changed, now=world.after + DAY)
    db.expire_all()
    assert db.get(Decision, decision.id).approvals == []
    assert _count(db, AwardContract) == 1
    with pytest.raises(NotPermitted):
        assessment.release_decision(db, actor=world.lead, now=world.after + DAY, **ids)
    assessment.approve_decision(db, actor=world.partner, now=world.after + DAY, **ids)
    released = assessment.release_decision(db, actor=world.lead, now=world.after + DAY, **ids)
    assert released.status == "released"

    bb.refresh(db, world)
    assert world.challenge.status == "concluded"
    assert world.challenge.concluded_at == world.after + DAY
    (event,) = sb.events(db, "challenge.concluded")
    assert event.actor_id == world.lead.id
    assert _data(event) == {"decision": decision.id, "awarded": [best], "contracts": [
        {"organisation": world.shortlisted[1].membership.organisation_id,
         "value_pence": 3_500_000}]}
    # Every supplier in the bake-off is told its result.
    told = sorted(m.recipient_email for m in sb.outbox(db, "decision_released")
                  if m.idempotency_key.startswith(f"decision_released:{decision.id}:"))
    assert told == sorted(s.email for s in world.shortlisted)
    rows = {r.proposal_id: r for r in bb.results(db, world, now=world.after + DAY).rows}
    assert rows[best].awarded and not rows[first].awarded
    # The audit trail of the award, in order.
    actions = [a for a in sb.actions(db) if a.startswith(("award.", "decision.", "challenge.c"))]
    assert actions[-7:] == ["decision.recorded", "award.contract_recorded", "decision.approved",
                            "award.contract_recorded", "decision.approved",
                            "decision.released", "challenge.concluded"]
    recorded = sb.events(db, "award.contract_recorded")
    assert [_data(e)["value_pence"] for e in recorded] == [bb.AWARD_CONTRACT[0], 3_500_000]
    with pytest.raises(NotPermitted):   # released: the contract is settled
        bb.record_contract(db, world, best, now=world.after + 2 * DAY)


@pytest.mark.parametrize("contract, errors", [
    ((None, date(2027, 6, 1), date(2028, 5, 31)), {"value": "contract_value_missing"}),
    ((0, date(2027, 6, 1), date(2028, 5, 31)), {"value": "contract_value_invalid"}),
    ((6_000_001, date(2027, 6, 1), date(2028, 5, 31)), {"value": "contract_value_above_budget"}),
    ((4_000_000, None, None), {"starts_on": "contract_start_missing",
                               "ends_on": "contract_end_missing"}),
    ((4_000_000, date(2027, 6, 1), date(2027, 5, 31)), {"ends_on": "contract_end_before_start"}),
])
def test_an_award_contract_is_checked_and_a_refused_one_not_kept(world, db, contract, errors):
    first, best = _ready(db, world)
    assert world.challenge.budget_pence == 6_000_000   # the lead's 5m and the partner's 1m
    assessment.record_decision(db, actor=world.lead, selected_ids=[best], reason="Best",
                               now=world.after, **world.ids())
    with pytest.raises(RuleViolation) as refused:
        bb.record_contract(db, world, best, contract)
    assert refused.value.errors == errors
    assert _count(db, AwardContract) == 0
    assert sb.events(db, "award.contract_recorded") == []


def test_only_the_lead_editors_record_a_contract_for_a_selected_supplier(world, db):
    first, best = _ready(db, world)
    with pytest.raises(NotFound):   # no decision yet
        bb.record_contract(db, world, best)
    assessment.record_decision(db, actor=world.lead, selected_ids=[best], reason="Best",
                               now=world.after, **world.ids())
    for actor in (world.partner, sb.viewer(world.lead.membership.organisation),
                  world.shortlisted[1]):
        with pytest.raises(NotPermitted):
            bb.record_contract(db, world, best, actor=actor)
    with pytest.raises(NotFound):   # not selected
        bb.record_contract(db, world, first)
    assert _count(db, AwardContract) == 0


def test_recording_the_award_again_drops_the_contracts_of_suppliers_no_longer_selected(world, db):
    first, best = _ready(db, world)
    ids = world.ids()
    assessment.record_decision(db, actor=world.lead, selected_ids=[first, best],
                               reason="Both, to compare in use", now=world.after, **ids)
    half = (2_000_000, *bb.AWARD_CONTRACT[1:])   # two contracts within the £60,000 budget
    bb.record_contract(db, world, first, half)
    bb.record_contract(db, world, best, half)
    assessment.approve_decision(db, actor=world.partner, now=world.after, **ids)
    decision = assessment.record_decision(db, actor=world.lead, selected_ids=[best],
                                          reason="The best results", now=world.after, **ids)
    db.expire_all()
    stored = db.get(Decision, decision.id)
    assert [c.proposal_id for c in stored.contracts] == [best]
    assert stored.approvals == []
    # With the one remaining contract complete, the partner may approve at once.
    assessment.approve_decision(db, actor=world.partner, now=world.after, **ids)
    assessment.release_decision(db, actor=world.lead, now=world.after, **ids)
    assert bb.refresh(db, world).challenge.status == "concluded"


def test_every_step_of_a_bake_off_is_audited(world, db, folder):
    bb.invite(db, world)
    entrant = world.entrants[0]
    bb.report(db, world, entrant, world.higher, "30")
    evidence = _add(db, world, folder, entrant)
    bakeoff.remove_evidence(db, actor=world.supplier_of(entrant), entrant_id=entrant.id,
                            file_id=evidence.id, now=bb.during(world), folder=folder)
    kept = _add(db, world, folder, entrant)
    for supplier in world.shortlisted:
        bb.demonstrate(db, world, supplier)
    bb.close_bake_off(db, world)
    bakeoff.evidence_for_download(db, actor=world.lead, file_id=kept.id, now=world.after,
                                  folder=folder)
    bb.assess_bake_off(db, world)
    (report,) = bb.load_entrants(db, world)[0].reports
    bb.verify(db, world, report, "correct", "29", "Two homes were counted twice")
    best = world.demonstrations[world.shortlisted[0].id].id
    bb.award(db, world, [best])
    actions = sb.actions(db)
    actions = actions[actions.index("bake_off.entrants_recorded"):]
    assert [a for a in actions if a.startswith(("bake_off.", "award.", "decision.",
                                                "challenge.concluded"))] == [
        "bake_off.entrants_recorded", "bake_off.opened", "bake_off.measurement_reported",
        "bake_off.evidence_added", "bake_off.evidence_removed", "bake_off.evidence_added",
        "bake_off.evidence_read", "bake_off.measurement_verified", "decision.recorded",
        "award.contract_recorded", "decision.approved", "decision.released",
        "challenge.concluded"]
    for event in sb.events(db, "bake_off.evidence_added"):
        assert (event.subject_type, event.subject_id) == ("bake_off_entrant", str(entrant.id))
