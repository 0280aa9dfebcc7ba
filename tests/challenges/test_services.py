"""Challenge services against the database: drafting, phases, criteria, measures, publishing,
amending, cancelling, and the public lists."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import func, select

from procure.challenges import clarifications, following, funding, queries, services
from procure.challenges.models import Amendment, Challenge, OutcomeMeasure, PhaseCriterion
from procure.errors import NotFound, NotPermitted, RuleViolation
from tests.challenges import service_builders as b
from tests.challenges.service_builders import DAY, GATES, HOUR, PROBLEM, SCORED, crit

# --- create_challenge -----------------------------------------------------------------------


def test_authority_editor_creates_a_draft_with_lead_funder_and_contact(ctx, db, now):
    lead = b.authority()
    editor = b.editor(lead, name="Siân Evans", email="sian@council.example")
    challenge = services.create_challenge(db, actor=editor, title="  Warmer   homes ", now=now)
    stored = b.reload(db, challenge.id)
    assert stored.status == "draft" and stored.title == "Warmer   homes"
    assert stored.lead_organisation_id == lead.id and stored.created_by_id == editor.id
    assert stored.version == 1 and stored.created_at == now and stored.opened_at is None
    assert (stored.contact_name, stored.contact_email) == ("Siân Evans", "sian@council.example")
    [funder] = stored.funders
    assert (funder.organisation_id, funder.role, funder.status, funder.pledge_pence) == (
        lead.id, "lead", "accepted", 0)
    assert stored.budget_pence == 0
    [event] = b.events(db, "challenge.created")
    assert (event.subject_type, event.subject_id, event.actor_id) == ("challenge", str(challenge.id),
                                                                      editor.id)


def test_an_unverified_authority_may_start_a_draft(ctx, db, now):
    challenge = services.create_challenge(db, actor=b.editor(b.authority(verified=False)),
                                          title="Draft first", now=now)
    assert b.reload(db, challenge.id).status == "draft"


@pytest.mark.parametrize("who", ["supplier editor", "authority viewer", "no organisation", "visitor",
                                 "anonymous", "pending authority editor"])
def test_only_authority_editors_create_challenges(ctx, db, now, who):
    actor = {
        "supplier editor": lambda: b.supplier(),
        "authority viewer": lambda: b.viewer(b.authority()),
        "no organisation": lambda: b.no_org_user(),
        "visitor": lambda: None,
        "anonymous": lambda: AnonymousUserMixin(),
        "pending authority editor": lambda: b.person(b.authority(), status="pending"),
    }[who]()
    with pytest.raises(NotPermitted):
        services.create_challenge(db, actor=actor, title="Not mine", now=now)
    db.rollback()
    assert db.execute(select(func.count(Challenge.id))).scalar_one() == 0
    assert "challenge.created" not in b.actions(db)


@pytest.mark.parametrize("title, code", [("", "title_missing"), ("   ", "title_missing"),
                                         ("x" * 201, "too_long")])
def test_create_refuses_a_bad_title_and_saves_nothing(ctx, db, now, title, code):
    with pytest.raises(RuleViolation) as e:
        services.create_challenge(db, actor=b.editor(), title=title, now=now)
    assert e.value.errors == {"title": code}
    db.rollback()
    assert db.execute(select(func.count(Challenge.id))).scalar_one() == 0


# --- editing a draft ------------------------------------------------------------------------

EDITS = {
    "details": lambda db, actor, c, now: services.update_details(
        db, actor=actor, challenge_id=c.id, now=now, title="Taken over"),
    "welsh": lambda db, actor, c, now: services.update_welsh(
        db, actor=actor, challenge_id=c.id, title_cy="Cartrefi cynhesach", summary_cy="", now=now),
    "contact": lambda db, actor, c, now: services.update_contact(
        db, actor=actor, challenge_id=c.id, contact_name="Someone", contact_email="a@example.org",
        now=now),
    "tags": lambda db, actor, c, now: services.set_tags(
        db, actor=actor, challenge_id=c.id, tags_text="taken", now=now),
    "deadline": lambda db, actor, c, now: services.set_clarification_deadline(
        db, actor=actor, challenge_id=c.id, deadline=now + 2 * DAY, now=now),
    "add phase": lambda db, actor, c, now: services.add_phase(
        db, actor=actor, challenge_id=c.id, kind="deployment", now=now),
}


def _snapshot(challenge: Challenge) -> tuple:
    return (challenge.title, challenge.title_cy, challenge.summary_cy, challenge.contact_name,
            challenge.contact_email, challenge.tag_names, challenge.clarification_deadline,
            len(challenge.phases), challenge.updated_at)


@pytest.mark.parametrize("edit", EDITS)
@pytest.mark.parametrize("who, error", [
    ("other verified authority editor", NotPermitted),  # public bodies may read drafts
    ("lead viewer", NotPermitted),
    ("other unverified authority editor", NotFound),
    ("supplier", NotFound),
    ("no organisation", NotFound),
    ("visitor", NotFound),
])
def test_only_lead_editors_edit_a_draft(ctx, db, now, edit, who, error):
    lead = b.authority()
    challenge = b.new_draft(db, now, b.editor(lead))
    before = _snapshot(b.reload(db, challenge.id))
    events = len(b.actions(db))
    actor = {
        "other verified authority editor": lambda: b.editor(),
        "lead viewer": lambda: b.viewer(lead),
        "other unverified authority editor": lambda: b.editor(b.authority(verified=False)),
        "supplier": lambda: b.supplier(),
        "no organisation": lambda: b.no_org_user(),
        "visitor": lambda: None,
    }[who]()
    with pytest.raises(error):
        EDITS[edit](db, actor, challenge, now + HOUR)
    assert _snapshot(b.reload(db, challenge.id)) == before
    assert len(b.actions(db)) == events


@pytest.mark.parametrize("edit", EDITS)
def test_a_published_challenge_is_not_editable(ctx, db, now, edit):
    editor = b.editor()
    challenge = b.open_challenge(db, now, editor, b.framework(db, now))
    before = _snapshot(b.reload(db, challenge.id))
    with pytest.raises(NotPermitted):
        EDITS[edit](db, editor, challenge, now + HOUR)
    assert _snapshot(b.reload(db, challenge.id)) == before


def test_unknown_challenge_is_not_found(ctx, db, now):
    with pytest.raises(NotFound):
        services.update_details(db, actor=b.editor(), challenge_id=999_999, now=now, title="x")


def test_update_details_saves_trimmed_text_and_audits_only_changed_fields(ctx, db, now):
    editor = b.editor()
    challenge = b.new_draft(db, now, editor)
    later = now + HOUR
    services.update_details(db, actor=editor, challenge_id=challenge.id, now=later,
                            title="Warmer homes", summary="  Short  ", problem_statement=PROBLEM)
    stored = b.reload(db, challenge.id)
    assert (stored.title, stored.summary, stored.problem_statement) == ("Warmer homes", "Short", PROBLEM)
    assert stored.updated_at == later
    [event] = b.events(db, "challenge.details_updated")
    assert json.loads(event.data) == {"fields": ["summary", "problem_statement"]}
    services.update_details(db, actor=editor, challenge_id=challenge.id, now=later, summary="Short")
    assert len(b.events(db, "challenge.details_updated")) == 1  # nothing changed, nothing written


@pytest.mark.parametrize("fields, errors", [
    ({"title": "  "}, {"title": "title_missing"}),
    ({"title": "x" * 201}, {"title": "too_long"}),
    ({"summary": "x" * 2001}, {"summary": "too_long"}),
    ({"problem_statement": "x" * 20_001, "context": "x" * 20_001, "affected": "ok"},
     {"problem_statement": "too_long", "context": "too_long"}),
    ({"outcomes_sought": "x" * 20_001, "affected": "x" * 20_001},
     {"outcomes_sought": "too_long", "affected": "too_long"}),
])
def test_update_details_refuses_bad_text_and_saves_none_of_it(ctx, db, now, fields, errors):
    editor = b.editor()
    challenge = b.new_draft(db, now, editor)
    with pytest.raises(RuleViolation) as e:
        services.update_details(db, actor=editor, challenge_id=challenge.id, now=now,
                                **{"summary": "A new summary", **fields})
    assert e.value.errors == errors
    stored = b.reload(db, challenge.id)
    assert (stored.title, stored.summary, stored.affected) == ("Warmer homes", "", "")
    assert "challenge.details_updated" not in b.actions(db)


def test_update_details_rejects_a_field_it_does_not_own(ctx, db, now):
    editor = b.editor()
    challenge = b.new_draft(db, now, editor)
    with pytest.raises(TypeError):
        services.update_details(db, actor=editor, challenge_id=challenge.id, now=now, status="open")


def test_welsh_title_and_summary(ctx, db, now):
    editor = b.editor()
    challenge = b.new_draft(db, now, editor)
    services.update_welsh(db, actor=editor, challenge_id=challenge.id, title_cy=" Cartrefi cynhesach ",
                          summary_cy="Crynodeb", now=now)
    stored = b.reload(db, challenge.id)
    assert (stored.title_cy, stored.summary_cy) == ("Cartrefi cynhesach", "Crynodeb")
    assert "challenge.welsh_updated" in b.actions(db)


@pytest.mark.parametrize("title_cy, summary_cy, errors", [
    ("x" * 201, "", {"title_cy": "too_long"}),
    ("Teitl", "x" * 2001, {"summary_cy": "too_long"}),
    ("x" * 201, "x" * 2001, {"title_cy": "too_long", "summary_cy": "too_long"}),
])
def test_welsh_too_long_saves_nothing(ctx, db, now, title_cy, summary_cy, errors):
    editor = b.editor()
    challenge = b.new_draft(db, now, editor)
    with pytest.raises(RuleViolation) as e:
        services.update_welsh(db, actor=editor, challenge_id=challenge.id, title_cy=title_cy,
                              summary_cy=summary_cy, now=now)
    assert e.value.errors == errors
    stored = b.reload(db, challenge.id)
    assert (stored.title_cy, stored.summary_cy) == ("", "")


def test_contact_is_saved_with_the_address_normalised(ctx, db, now):
    editor = b.editor()
    challenge = b.new_draft(db, now, editor)
    services.update_contact(db, actor=editor, challenge_id=challenge.id, contact_name=" Housing team ",
                            contact_email=" Housing@Council.EXAMPLE ", now=now)
    stored = b.reload(db, challenge.id)
    assert (stored.contact_name, stored.contact_email) == ("Housing team", "Housing@council.example")
    assert "challenge.contact_updated" in b.actions(db)


@pytest.mark.parametrize("name, email, errors", [
    ("", "team@example.org", {"contact_name": "contact_name_missing"}),
    ("x" * 201, "team@example.org", {"contact_name": "too_long"}),
    ("Team", "not an address", {"contact_email": "contact_email_invalid"}),
    ("Team", "", {"contact_email": "contact_email_invalid"}),
    ("  ", "team@", {"contact_name": "contact_name_missing", "contact_email": "contact_email_invalid"}),
])
def test_contact_refused_keeps_the_old_one(ctx, db, now, name, email, errors):
    editor = b.editor()
    challenge = b.new_draft(db, now, editor)
    with pytest.raises(RuleViolation) as e:
        services.update_contact(db, actor=editor, challenge_id=challenge.id, contact_name=name,
                                contact_email=email, now=now)
    assert e.value.errors == errors
    stored = b.reload(db, challenge.id)
    assert (stored.contact_name, stored.contact_email) == (editor.name, editor.email)


def test_tags_are_normalised_and_replaced(ctx, db, now):
    editor = b.editor()
    challenge = b.new_draft(db, now, editor)
    services.set_tags(db, actor=editor, challenge_id=challenge.id,
                      tags_text="Housing, ENERGY ,  Net   Zero, housing,,", now=now)
    assert b.reload(db, challenge.id).tag_names == ["energy", "housing", "net zero"]
    services.set_tags(db, actor=editor, challenge_id=challenge.id, tags_text="housing, transport",
                      now=now)
    assert b.reload(db, challenge.id).tag_names == ["housing", "transport"]
    services.set_tags(db, actor=editor, challenge_id=challenge.id, tags_text=" ", now=now)
    assert b.reload(db, challenge.id).tag_names == []
    assert len(b.events(db, "challenge.tags_updated")) == 3


@pytest.mark.parametrize("text, code", [
    ("housing, " + "x" * 51, "tag_too_long"),
    (", ".join(f"tag {n}" for n in range(11)), "too_many_tags"),
])
def test_bad_tags_keep_the_old_ones(ctx, db, now, text, code):
    editor = b.editor()
    challenge = b.new_draft(db, now, editor)
    services.set_tags(db, actor=editor, challenge_id=challenge.id, tags_text="energy", now=now)
    with pytest.raises(RuleViolation) as e:
        services.set_tags(db, actor=editor, challenge_id=challenge.id, tags_text=text, now=now)
    assert e.value.errors == {"tags": code}
    assert b.reload(db, challenge.id).tag_names == ["energy"]


def test_clarification_deadline_is_saved(ctx, db, now):
    editor = b.editor()
    challenge = b.new_draft(db, now, editor)
    services.set_clarification_deadline(db, actor=editor, challenge_id=challenge.id,
                                        deadline=now + 3 * DAY, now=now)
    assert b.reload(db, challenge.id).clarification_deadline == now + 3 * DAY
    assert "challenge.clarification_deadline_set" in b.actions(db)


@pytest.mark.parametrize("offset, code", [
    (None, "clarification_deadline_missing"),
    (timedelta(0), "clarification_deadline_past"),
    (-HOUR, "clarification_deadline_past"),
    (30 * DAY, "clarification_deadline_after_close"),  # the moment proposals close
    (31 * DAY, "clarification_deadline_after_close"),
])
def test_clarification_deadline_rules(ctx, db, now, offset, code):
    editor = b.editor()
    fw = b.framework(db, now)
    challenge = b.new_draft(db, now, editor)
    b.add_configured_phase(db, now, editor, challenge, fw)  # closes in 30 days
    services.set_clarification_deadline(db, actor=editor, challenge_id=challenge.id,
                                        deadline=now + 10 * DAY, now=now)
    with pytest.raises(RuleViolation) as e:
        services.set_clarification_deadline(
            db, actor=editor, challenge_id=challenge.id,
            deadline=None if offset is None else now + offset, now=now)
    assert e.value.errors == {"clarification_deadline": code}
    assert b.reload(db, challenge.id).clarification_deadline == now + 10 * DAY


# --- phases ---------------------------------------------------------------------------------


def test_phases_are_added_in_order_up_to_five(ctx, db, now):
    editor = b.editor()
    challenge = b.new_draft(db, now, editor)
    kinds = ["feasibility", "bake_off", "deployment", "feasibility", "deployment"]
    for kind in kinds:
        phase = services.add_phase(db, actor=editor, challenge_id=challenge.id, kind=kind, now=now)
        assert phase.status == "planned"
    stored = b.reload(db, challenge.id)
    assert [(p.position, p.kind) for p in stored.phases] == list(enumerate(kinds, start=1))
    assert [p.min_assessments for p in stored.phases] == [2] * 5
    assert [p.threshold_percent for p in stored.phases] == [60] * 5
    assert [p.outcome_share_percent for p in stored.phases] == [50] * 5
    with pytest.raises(RuleViolation) as e:
        services.add_phase(db, actor=editor, challenge_id=challenge.id, kind="deployment", now=now)
    assert e.value.errors == {"kind": "too_many_phases"}
    assert len(b.reload(db, challenge.id).phases) == 5
    assert len(b.events(db, "challenge.phase_added")) == 5


def test_add_phase_refuses_an_unknown_kind(ctx, db, now):
    editor = b.editor()
    challenge = b.new_draft(db, now, editor)
    with pytest.raises(RuleViolation) as e:
        services.add_phase(db, actor=editor, challenge_id=challenge.id, kind="pilot", now=now)
    assert e.value.errors == {"kind": "kind_invalid"}
    assert b.reload(db, challenge.id).phases == []


def test_update_phase_saves_every_setting(ctx, db, now):
    editor = b.editor()
    challenge = b.new_draft(db, now, editor)
    phase = services.add_phase(db, actor=editor, challenge_id=challenge.id, kind="feasibility", now=now)
    values = b.phase_values(now, kind="deployment", contracts=3, max_value_pence=1_000_050,
                            duration_months=12, min_assessments=3, threshold_percent=75,
                            outcome_share_percent=0)
    services.update_phase(db, actor=editor, challenge_id=challenge.id, phase_id=phase.id, now=now,
                          **values)
    [stored] = b.reload(db, challenge.id).phases
    assert {k: getattr(stored, k) for k in values} == values
    assert "challenge.phase_updated" in b.actions(db)


@pytest.mark.parametrize("overrides, errors", [
    ({"kind": "pilot"}, {"kind": "kind_invalid"}),
    ({"closes_at_offset": DAY}, {"closes_at": "dates_order"}),  # closes as it opens
    ({"closes_at_offset": -HOUR}, {"closes_at": "dates_order"}),
    ({"opens_at_offset": -10 * DAY, "closes_at_offset": -DAY}, {"closes_at": "closes_in_past"}),
    ({"opens_at_offset": -10 * DAY, "closes_at_offset": timedelta(0)}, {"closes_at": "closes_in_past"}),
    ({"contracts": 0}, {"contracts": "contracts_invalid"}),
    ({"contracts": 101}, {"contracts": "contracts_invalid"}),
    ({"max_value_pence": 0}, {"max_value": "money_invalid"}),
    ({"max_value_pence": 100_000_000_001}, {"max_value": "money_invalid"}),
    ({"duration_months": 0}, {"duration_months": "duration_invalid"}),
    ({"duration_months": 61}, {"duration_months": "duration_invalid"}),
    ({"min_assessments": 0}, {"min_assessments": "min_assessments_invalid"}),
    ({"min_assessments": 11}, {"min_assessments": "min_assessments_invalid"}),
    ({"threshold_percent": -1}, {"threshold_percent": "percent_invalid"}),
    ({"threshold_percent": 101}, {"threshold_percent": "percent_invalid"}),
    ({"outcome_share_percent": -1}, {"outcome_share_percent": "percent_invalid"}),
    ({"outcome_share_percent": 101}, {"outcome_share_percent": "percent_invalid"}),
    ({"kind": "x", "contracts": 0, "duration_months": 0},
     {"kind": "kind_invalid", "contracts": "contracts_invalid", "duration_months": "duration_invalid"}),
])
def test_update_phase_refuses_each_bad_value_and_keeps_the_phase(ctx, db, now, overrides, errors):
    editor = b.editor()
    fw = b.framework(db, now)
    challenge = b.new_draft(db, now, editor)
    phase = b.add_configured_phase(db, now, editor, challenge, fw)
    before = b.phase_values(now)
    overrides = dict(overrides)
    opens = now + overrides.pop("opens_at_offset", DAY)
    closes = now + overrides.pop("closes_at_offset", 30 * DAY)
    values = b.phase_values(now, opens_at=opens, closes_at=closes, **overrides)
    with pytest.raises(RuleViolation) as e:
        services.update_phase(db, actor=editor, challenge_id=challenge.id, phase_id=phase.id, now=now,
                              **values)
    assert e.value.errors == errors
    [stored] = b.reload(db, challenge.id).phases
    assert {k: getattr(stored, k) for k in before} == before


def test_phase_of_another_challenge_is_not_found(ctx, db, now):
    editor = b.editor()
    mine = b.new_draft(db, now, editor)
    theirs_editor = b.editor()
    theirs = b.new_draft(db, now, theirs_editor)
    phase = services.add_phase(db, actor=theirs_editor, challenge_id=theirs.id, kind="feasibility",
                               now=now)
    with pytest.raises(NotFound):
        services.update_phase(db, actor=editor, challenge_id=mine.id, phase_id=phase.id, now=now,
                              **b.phase_values(now))
    with pytest.raises(NotFound):
        services.remove_phase(db, actor=editor, challenge_id=mine.id, phase_id=phase.id, now=now)
    assert len(b.reload(db, theirs.id).phases) == 1


def test_removing_a_phase_numbers_the_rest_again(ctx, db, now):
    editor = b.editor()
    fw = b.framework(db, now)
    challenge = b.new_draft(db, now, editor)
    first = b.add_configured_phase(db, now, editor, challenge, fw)
    second = b.add_configured_phase(db, now, editor, challenge, fw, kind="bake_off",
                                    opens_at=now + 40 * DAY, closes_at=now + 70 * DAY)
    third = services.add_phase(db, actor=editor, challenge_id=challenge.id, kind="deployment", now=now)
    services.remove_phase(db, actor=editor, challenge_id=challenge.id, phase_id=first.id, now=now)
    stored = b.reload(db, challenge.id)
    assert [(p.id, p.position, p.kind) for p in stored.phases] == [
        (second.id, 1, "bake_off"), (third.id, 2, "deployment")]
    assert len(stored.phases[0].criteria) == 3 and len(stored.phases[0].measures) == 1
    # the removed phase's criteria went with it
    assert db.execute(select(func.count(PhaseCriterion.id))).scalar_one() == 3
    services.remove_phase(db, actor=editor, challenge_id=challenge.id, phase_id=third.id, now=now)
    assert [(p.id, p.position) for p in b.reload(db, challenge.id).phases] == [(second.id, 1)]
    assert [json.loads(e.data) for e in b.events(db, "challenge.phase_removed")] == [
        {"phase": 1}, {"phase": 2}]


def test_changing_a_bake_off_to_another_kind_drops_its_measures(ctx, db, now):
    editor = b.editor()
    fw = b.framework(db, now)
    challenge = b.new_draft(db, now, editor)
    phase = b.add_configured_phase(db, now, editor, challenge, fw, kind="bake_off")
    # saving it again as a bake-off keeps them
    services.update_phase(db, actor=editor, challenge_id=challenge.id, phase_id=phase.id, now=now,
                          **b.phase_values(now, kind="bake_off", contracts=3))
    assert len(b.reload(db, challenge.id).phases[0].measures) == 1
    services.update_phase(db, actor=editor, challenge_id=challenge.id, phase_id=phase.id, now=now,
                          **b.phase_values(now, kind="deployment"))
    [stored] = b.reload(db, challenge.id).phases
    assert stored.kind == "deployment" and stored.measures == []
    assert len(stored.criteria) == 3
    assert db.execute(select(func.count(OutcomeMeasure.id))).scalar_one() == 0


# --- criteria -------------------------------------------------------------------------------


def _draft_with_phase(db, now):
    editor = b.editor()
    challenge = b.new_draft(db, now, editor)
    phase = services.add_phase(db, actor=editor, challenge_id=challenge.id, kind="bake_off", now=now)
    return editor, challenge, phase


def _chosen(db, challenge_id):
    [phase] = b.reload(db, challenge_id).phases
    return [(pc.criterion_id, pc.weight) for pc in phase.criteria]


def test_criteria_are_chosen_with_weights_and_gates_carry_none(ctx, db, now):
    fw = b.framework(db, now)
    editor, challenge, phase = _draft_with_phase(db, now)
    a, bb, c, gate = (crit(fw, code).id for code in (*SCORED, *GATES))
    # given out of order; stored in the framework's order; a gate given 0 is stored without weight
    services.set_phase_criteria(db, actor=editor, challenge_id=challenge.id, phase_id=phase.id,
                                weights={gate: 0, c: 20, a: 50, bb: 30}, now=now)
    assert _chosen(db, challenge.id) == [(a, 50), (bb, 30), (c, 20), (gate, None)]
    [event] = b.events(db, "challenge.criteria_set")
    assert json.loads(event.data) == {"phase": 1, "weights": {str(gate): 0, str(c): 20, str(a): 50,
                                                              str(bb): 30}}
    rows = {pc.criterion_id: pc.id for pc in b.reload(db, challenge.id).phases[0].criteria}
    # choosing again keeps the rows of criteria still chosen and drops the rest
    services.set_phase_criteria(db, actor=editor, challenge_id=challenge.id, phase_id=phase.id,
                                weights={a: 70, c: 30}, now=now)
    assert _chosen(db, challenge.id) == [(a, 70), (c, 30)]
    assert {pc.criterion_id: pc.id for pc in b.reload(db, challenge.id).phases[0].criteria} == {
        a: rows[a], c: rows[c]}


@pytest.mark.parametrize("weights, code", [
    ({SCORED[0]: 60, SCORED[1]: 30, GATES[0]: None}, "weights_sum"),
    ({SCORED[0]: 60, SCORED[1]: 50}, "weights_sum"),
    ({SCORED[0]: 60, SCORED[1]: 40, GATES[0]: 10}, "gate_weighted"),
    ({SCORED[0]: 100, SCORED[1]: None}, "weight_missing"),
    ({SCORED[0]: 100, SCORED[1]: 0}, "weight_missing"),
    ({GATES[0]: None}, "scored_criteria_missing"),
    ({}, "criteria_missing"),
])
def test_bad_weights_are_refused_and_the_old_choice_kept(ctx, db, now, weights, code):
    fw = b.framework(db, now)
    editor, challenge, phase = _draft_with_phase(db, now)
    services.set_phase_criteria(db, actor=editor, challenge_id=challenge.id, phase_id=phase.id,
                                weights=b.default_weights(fw), now=now)
    before = _chosen(db, challenge.id)
    with pytest.raises(RuleViolation) as e:
        services.set_phase_criteria(db, actor=editor, challenge_id=challenge.id, phase_id=phase.id,
                                    weights={crit(fw, k).id: w for k, w in weights.items()}, now=now)
    assert e.value.errors == {"criteria": code}
    assert _chosen(db, challenge.id) == before
    assert len(b.events(db, "challenge.criteria_set")) == 1


def test_unknown_or_unpublished_criteria_are_refused(ctx, db, now):
    fw = b.framework(db, now)
    unpublished = b.framework(db, now, code="draft-framework", published=False)
    editor, challenge, phase = _draft_with_phase(db, now)
    for weights in ({999_999: 100},
                    {crit(fw, SCORED[0]).id: 50, crit(unpublished, SCORED[0]).id: 50}):
        with pytest.raises(RuleViolation) as e:
            services.set_phase_criteria(db, actor=editor, challenge_id=challenge.id, phase_id=phase.id,
                                        weights=weights, now=now)
        assert e.value.errors == {"criteria": "criterion_unknown"}
    assert _chosen(db, challenge.id) == []


def test_criteria_from_two_frameworks(ctx, db, now):
    quality = b.framework(db, now, position=2)
    goals = b.framework(db, now, code="wellbeing-goals", position=1, scored=("prosperous", "resilient"),
                        gates=())
    editor, challenge, phase = _draft_with_phase(db, now)
    weights = {crit(quality, SCORED[0]).id: 50, crit(goals, "resilient").id: 30,
               crit(goals, "prosperous").id: 20}
    services.set_phase_criteria(db, actor=editor, challenge_id=challenge.id, phase_id=phase.id,
                                weights=weights, now=now)
    assert [cid for cid, _ in _chosen(db, challenge.id)] == [
        crit(goals, "prosperous").id, crit(goals, "resilient").id, crit(quality, SCORED[0]).id]


def test_a_pinned_older_version_stays_selectable_but_new_choices_use_the_latest(ctx, db, now):
    v1 = b.framework(db, now, version=1)
    editor, pinned, phase = _draft_with_phase(db, now)
    services.set_phase_criteria(db, actor=editor, challenge_id=pinned.id, phase_id=phase.id,
                                weights=b.default_weights(v1), now=now)
    v2 = b.framework(db, now + DAY, version=2)
    later = now + 2 * DAY

    # what the draft lists: the latest version, and the older one it pinned
    assert [(f.code, f.version) for f in services.selectable_criteria(db, b.reload(db, pinned.id))] == [
        ("solution-quality", 2), ("solution-quality", 1)]
    assert [f.version for f in services.selectable_criteria(db)] == [2]

    # the draft that pinned version 1 can still change its weights there
    services.set_phase_criteria(db, actor=editor, challenge_id=pinned.id, phase_id=phase.id,
                                weights={crit(v1, SCORED[0]).id: 30, crit(v1, SCORED[1]).id: 70},
                                now=later)
    assert _chosen(db, pinned.id) == [(crit(v1, SCORED[0]).id, 30), (crit(v1, SCORED[1]).id, 70)]

    # the same criterion from both versions in one phase is refused
    with pytest.raises(RuleViolation) as e:
        services.set_phase_criteria(db, actor=editor, challenge_id=pinned.id, phase_id=phase.id,
                                    weights={crit(v1, SCORED[0]).id: 50, crit(v2, SCORED[0]).id: 50},
                                    now=later)
    assert e.value.errors == {"criteria": "criterion_twice"}

    # a draft that had pinned nothing must choose from the latest version
    other_editor, fresh, fresh_phase = _draft_with_phase(db, now)
    with pytest.raises(RuleViolation) as e:
        services.set_phase_criteria(db, actor=other_editor, challenge_id=fresh.id,
                                    phase_id=fresh_phase.id, weights=b.default_weights(v1), now=later)
    assert e.value.errors == {"criteria": "criterion_unknown"}
    services.set_phase_criteria(db, actor=other_editor, challenge_id=fresh.id, phase_id=fresh_phase.id,
                                weights=b.default_weights(v2), now=later)
    assert [cid for cid, _ in _chosen(db, fresh.id)] == list(b.default_weights(v2))

    # once the pinned draft moves wholly to version 2, version 1 is no longer offered
    services.set_phase_criteria(db, actor=editor, challenge_id=pinned.id, phase_id=phase.id,
                                weights=b.default_weights(v2), now=later)
    with pytest.raises(RuleViolation) as e:
        services.set_phase_criteria(db, actor=editor, challenge_id=pinned.id, phase_id=phase.id,
                                    weights=b.default_weights(v1), now=later)
    assert e.value.errors == {"criteria": "criterion_unknown"}


# --- outcome measures -----------------------------------------------------------------------


def _bake_off(db, now, fw=None):
    fw = fw or b.framework(db, now)
    editor = b.editor()
    challenge = b.new_draft(db, now, editor)
    phase = b.add_configured_phase(db, now, editor, challenge, fw, kind="bake_off")
    return fw, editor, challenge, phase


def _measure_args(fw, **overrides):
    values = dict(measure_id=None, name="Homes fixed", unit="homes", direction="higher",
                  baseline=Decimal("10"), target=Decimal("50"), criterion_id=crit(fw, SCORED[1]).id,
                  weight=40)
    values.update(overrides)
    return values


def _measures(db, challenge_id):
    return [(m.name, m.unit, m.direction, m.baseline, m.target, m.criterion_id, m.weight)
            for m in b.reload(db, challenge_id).phases[0].measures]


def test_measures_are_added_changed_and_removed(ctx, db, now):
    fw, editor, challenge, phase = _bake_off(db, now)
    added = services.save_measure(db, actor=editor, challenge_id=challenge.id, phase_id=phase.id,
                                  now=now, **_measure_args(fw, name=" Bills ", unit=" £ a year ",
                                                           direction="lower", baseline=Decimal("1200.5"),
                                                           target=Decimal("900.25")))
    assert _measures(db, challenge.id)[1] == (
        "Bills", "£ a year", "lower", Decimal("1200.5"), Decimal("900.25"), crit(fw, SCORED[1]).id, 40)
    services.save_measure(db, actor=editor, challenge_id=challenge.id, phase_id=phase.id, now=now,
                          **_measure_args(fw, measure_id=added.id, name="Energy bills", weight=20,
                                          criterion_id=crit(fw, SCORED[0]).id))
    stored = b.reload(db, challenge.id).phases[0].measures
    assert [(m.position, m.name, m.weight) for m in stored] == [(0, "Homes fixed", 100),
                                                                 (1, "Energy bills", 20)]
    assert stored[1].criterion_id == crit(fw, SCORED[0]).id
    services.remove_measure(db, actor=editor, challenge_id=challenge.id, phase_id=phase.id,
                            measure_id=added.id, now=now)
    assert [m[0] for m in _measures(db, challenge.id)] == ["Homes fixed"]
    assert b.actions(db).count("challenge.measure_saved") == 3
    assert "challenge.measure_removed" in b.actions(db)


@pytest.mark.parametrize("overrides, errors", [
    ({"name": "  "}, {"name": "measure_name_missing"}),
    ({"name": "x" * 201}, {"name": "too_long"}),
    ({"unit": ""}, {"unit": "measure_unit_missing"}),
    ({"unit": "x" * 61}, {"unit": "too_long"}),
    ({"direction": "sideways"}, {"direction": "direction_invalid"}),
    ({"target": Decimal("10")}, {"target": "measure_baseline_equals_target"}),
    ({"direction": "lower", "target": Decimal("10.0")}, {"target": "measure_baseline_equals_target"}),
    ({"target": Decimal("5")}, {"target": "target_below_baseline"}),
    ({"direction": "lower"}, {"target": "target_above_baseline"}),
    ({"criterion_id": "unchosen"}, {"criterion_id": "measure_criterion_not_in_phase"}),
    ({"criterion_id": "gate"}, {"criterion_id": "measure_criterion_not_in_phase"}),
    ({"weight": 0}, {"weight": "weight_invalid"}),
    ({"weight": 101}, {"weight": "weight_invalid"}),
    ({"name": "", "unit": "", "weight": 0},
     {"name": "measure_name_missing", "unit": "measure_unit_missing", "weight": "weight_invalid"}),
])
def test_save_measure_refuses_each_bad_value(ctx, db, now, overrides, errors):
    fw, editor, challenge, phase = _bake_off(db, now)
    before = _measures(db, challenge.id)
    overrides = dict(overrides)
    if overrides.get("criterion_id") == "unchosen":
        overrides["criterion_id"] = crit(fw, SCORED[2]).id
    elif overrides.get("criterion_id") == "gate":
        overrides["criterion_id"] = crit(fw, GATES[0]).id
    with pytest.raises(RuleViolation) as e:
        services.save_measure(db, actor=editor, challenge_id=challenge.id, phase_id=phase.id, now=now,
                              **_measure_args(fw, **overrides))
    assert e.value.errors == errors
    assert _measures(db, challenge.id) == before
    # changing the existing measure to the same bad values changes nothing either
    with pytest.raises(RuleViolation):
        services.save_measure(db, actor=editor, challenge_id=challenge.id, phase_id=phase.id, now=now,
                              **_measure_args(fw, **{**overrides,
                                                     "measure_id": phase.measures[0].id}))
    assert _measures(db, challenge.id) == before


def test_measures_belong_to_bake_offs_only(ctx, db, now):
    fw = b.framework(db, now)
    editor = b.editor()
    challenge = b.new_draft(db, now, editor)
    phase = b.add_configured_phase(db, now, editor, challenge, fw, kind="feasibility")
    with pytest.raises(RuleViolation) as e:
        services.save_measure(db, actor=editor, challenge_id=challenge.id, phase_id=phase.id, now=now,
                              **_measure_args(fw))
    assert e.value.errors == {"name": "measures_bake_off_only"}
    assert _measures(db, challenge.id) == []


def test_at_most_twenty_measures(ctx, db, now):
    fw, editor, challenge, phase = _bake_off(db, now)
    for n in range(19):
        services.save_measure(db, actor=editor, challenge_id=challenge.id, phase_id=phase.id, now=now,
                              **_measure_args(fw, name=f"Measure {n}", weight=5))
    with pytest.raises(RuleViolation) as e:
        services.save_measure(db, actor=editor, challenge_id=challenge.id, phase_id=phase.id, now=now,
                              **_measure_args(fw, name="One too many", weight=5))
    assert e.value.errors == {"name": "too_many_measures"}
    assert len(_measures(db, challenge.id)) == 20


def test_unknown_measure_is_not_found(ctx, db, now):
    fw, editor, challenge, phase = _bake_off(db, now)
    _, _, other, other_phase = _bake_off(db, now, fw)
    foreign = other_phase.measures[0].id
    with pytest.raises(NotFound):
        services.save_measure(db, actor=editor, challenge_id=challenge.id, phase_id=phase.id, now=now,
                              **_measure_args(fw, measure_id=foreign))
    with pytest.raises(NotFound):
        services.remove_measure(db, actor=editor, challenge_id=challenge.id, phase_id=phase.id,
                                measure_id=foreign, now=now)
    assert len(_measures(db, other.id)) == 1 and len(_measures(db, challenge.id)) == 1


def test_only_lead_editors_change_measures(ctx, db, now):
    fw, editor, challenge, phase = _bake_off(db, now)
    measure_id = phase.measures[0].id
    lead_viewer = b.viewer(b.reload(db, challenge.id).lead_organisation)
    with pytest.raises(NotPermitted):
        services.remove_measure(db, actor=lead_viewer, challenge_id=challenge.id, phase_id=phase.id,
                                measure_id=measure_id, now=now)
    with pytest.raises(NotFound):
        services.save_measure(db, actor=b.supplier(), challenge_id=challenge.id, phase_id=phase.id,
                              now=now, **_measure_args(fw))
    assert len(_measures(db, challenge.id)) == 1


# --- publishing -----------------------------------------------------------------------------


def test_an_unverified_lead_cannot_publish(ctx, db, now):
    fw = b.framework(db, now)
    editor = b.editor(b.authority(verified=False))
    challenge = b.complete_draft(db, now, editor, fw)
    assert services.publish_problems(b.reload(db, challenge.id), now) == {"lead": "lead_unverified"}
    with pytest.raises(RuleViolation) as e:
        services.publish_challenge(db, actor=editor, challenge_id=challenge.id, now=now)
    assert e.value.errors == {"lead": "lead_unverified"}
    stored = b.reload(db, challenge.id)
    assert stored.status == "draft" and stored.opened_at is None
    assert [p.status for p in stored.phases] == ["planned"]
    assert "challenge.published" not in b.actions(db)


def test_an_incomplete_draft_lists_every_problem_and_stays_a_draft(ctx, db, now):
    editor = b.editor()
    challenge = b.new_draft(db, now, editor)
    b.follower(db, now, "housing")
    services.set_tags(db, actor=editor, challenge_id=challenge.id, tags_text="housing", now=now)
    with pytest.raises(RuleViolation) as e:
        services.publish_challenge(db, actor=editor, challenge_id=challenge.id, now=now)
    assert e.value.errors == {"summary": "summary_missing", "problem_statement": "problem_missing",
                              "outcomes_sought": "outcomes_missing", "phases": "phases_missing",
                              "clarification_deadline": "clarification_deadline_missing"}
    assert b.reload(db, challenge.id).status == "draft"
    assert b.outbox(db, "challenge_opened") == []


def test_publishing_opens_the_challenge_and_tells_followers_and_partners(ctx, db, now):
    fw = b.framework(db, now)
    lead = b.authority(name="Ceredigion Council")
    editor = b.editor(lead)
    challenge = b.complete_draft(db, now, editor, fw, opens_at=now, bake_off=True,
                                 tags="housing, energy")
    # followers: only those who follow one of its tags, want e-mails and are confirmed
    housing = b.follower(db, now, "housing")
    both = b.follower(db, now, "energy, housing")  # told once
    welsh = b.follower(db, now, "energy", locale="cy")
    quiet = b.follower(db, now, "housing")
    following.set_notification_preferences(db, actor=quiet, notify_followed_tags=False, now=now)
    unconfirmed = b.follower(db, now, "housing")
    unconfirmed.email_confirmed_at = None
    disabled = b.follower(db, now, "energy")
    disabled.is_disabled = True
    b.follower(db, now, "transport")
    db.commit()
    # partners: an accepted partner's editors (not its viewers), not an invited one's
    accepted = b.authority()
    accepted_editor, accepted_viewer = b.editor(accepted), b.viewer(accepted)
    invited = b.authority()
    invited_editor = b.editor(invited)
    funding.invite_partner(db, actor=editor, challenge_id=challenge.id, organisation_id=accepted.id,
                           message="", now=now)
    funding.respond_to_invitation(db, actor=accepted_editor, challenge_id=challenge.id, accept=True,
                                  pledge_pence=1_000_000, now=now)
    funding.invite_partner(db, actor=editor, challenge_id=challenge.id, organisation_id=invited.id,
                           message="", now=now)

    published = services.publish_challenge(db, actor=editor, challenge_id=challenge.id, now=now)
    assert published.status == "open"

    stored = b.reload(db, challenge.id)
    assert stored.status == "open" and stored.opened_at == now and stored.updated_at == now
    assert stored.version == 1 and stored.budget_pence == 6_000_000
    first, second = stored.phases
    assert (first.status, first.opened_at) == ("open", now)
    assert (second.status, second.opened_at) == ("planned", None)  # by invitation only

    opened = b.outbox(db, "challenge_opened")
    assert sorted(m.recipient_email for m in opened) == sorted([housing.email, both.email, welsh.email])
    assert {m.recipient_email: m.locale for m in opened}[welsh.email] == "cy"
    message = next(m for m in opened if m.recipient_email == housing.email)
    assert "Warmer homes" in message.subject
    assert "Ceredigion Council" in message.body
    assert "housing" in message.body and "energy" in message.body
    assert f"http://procure.test/challenges/{challenge.id}" in message.body
    assert b.recipients(db, "challenge_published_partner") == [accepted_editor.email]
    assert accepted_viewer.email not in b.recipients(db, "challenge_published_partner")
    assert invited_editor.email not in b.recipients(db, "challenge_published_partner")
    [event] = b.events(db, "challenge.published")
    assert event.actor_id == editor.id
    assert json.loads(event.data) == {"budget_pence": 6_000_000, "version": 1}


def test_a_first_phase_opening_later_stays_planned_at_publication(ctx, db, now):
    fw = b.framework(db, now)
    editor = b.editor()
    challenge = b.open_challenge(db, now, editor, fw, opens_at=now + HOUR)
    stored = b.reload(db, challenge.id)
    assert stored.status == "open" and stored.opened_at == now
    assert [(p.status, p.opened_at) for p in stored.phases] == [("planned", None)]


def test_publishing_twice_is_not_permitted_and_tells_nobody_again(ctx, db, now):
    fw = b.framework(db, now)
    editor = b.editor()
    b.follower(db, now, "housing")
    challenge = b.open_challenge(db, now, editor, fw)
    assert len(b.outbox(db, "challenge_opened")) == 1
    with pytest.raises(NotPermitted):
        services.publish_challenge(db, actor=editor, challenge_id=challenge.id, now=now + HOUR)
    stored = b.reload(db, challenge.id)
    assert stored.status == "open" and stored.opened_at == now
    assert len(b.outbox(db, "challenge_opened")) == 1
    assert b.actions(db).count("challenge.published") == 1


@pytest.mark.parametrize("who, error", [("lead viewer", NotPermitted), ("other authority", NotPermitted),
                                        ("supplier", NotFound)])
def test_only_lead_editors_publish(ctx, db, now, who, error):
    fw = b.framework(db, now)
    lead = b.authority()
    challenge = b.complete_draft(db, now, b.editor(lead), fw)
    actor = {"lead viewer": lambda: b.viewer(lead), "other authority": lambda: b.editor(),
             "supplier": lambda: b.supplier()}[who]()
    with pytest.raises(error):
        services.publish_challenge(db, actor=actor, challenge_id=challenge.id, now=now)
    assert b.reload(db, challenge.id).status == "draft"


# --- amending -------------------------------------------------------------------------------


def _open(db, now, closes_in, clarification_in=None, **kwargs):
    """An open challenge whose first phase has opened and closes ``closes_in`` after ``now``."""
    fw = b.framework(db, now)
    editor = b.editor()
    challenge = b.open_challenge(db, now, editor, fw, opens_at=now - DAY, closes_at=now + closes_in,
                                 clarification_deadline=now + (clarification_in or closes_in / 2),
                                 **kwargs)
    return editor, challenge


@pytest.mark.parametrize("closes_in, new_close, error", [
    (10 * DAY, None, None),                             # far from the deadline: it may stay
    (10 * DAY, 12 * DAY, None),
    (10 * DAY, 6 * DAY, None),                          # brought forward, 5 days still left
    (10 * DAY, 5 * DAY, None),
    (10 * DAY, 5 * DAY - HOUR, "deadline_too_soon"),
    (10 * DAY, 3 * DAY, "deadline_too_soon"),
    (5 * DAY, None, None),                              # exactly 5 days left is not "within"
    (5 * DAY - HOUR, None, "deadline_extension_required"),
    (3 * DAY, None, "deadline_extension_required"),
    (3 * DAY, 4 * DAY, "deadline_extension_required"),
    (3 * DAY, 5 * DAY - HOUR, "deadline_extension_required"),
    (3 * DAY, 5 * DAY, None),                           # extended to leave exactly 5 days
    (3 * DAY, 8 * DAY, None),
])
def test_amendment_deadline_rules(ctx, db, now, closes_in, new_close, error):
    editor, challenge = _open(db, now, closes_in, clarification_in=DAY)
    call = dict(actor=editor, challenge_id=challenge.id, note="We have clarified the summary.",
                now=now, summary="Find and fix the coldest homes first, in every valley.")
    if new_close is not None:
        call["closes_at"] = now + new_close
    if error:
        with pytest.raises(RuleViolation) as e:
            services.amend_challenge(db, **call)
        assert e.value.errors == {"closes_at": error}
        stored = b.reload(db, challenge.id)
        assert stored.version == 1 and stored.amendments == []
        assert stored.phases[0].closes_at == now + closes_in
        assert stored.summary == "Find and fix the coldest homes first."
        assert "challenge.amended" not in b.actions(db)
        return
    amendment = services.amend_challenge(db, **call)
    stored = b.reload(db, challenge.id)
    assert stored.version == 2 and amendment.version == 2
    assert stored.summary == "Find and fix the coldest homes first, in every valley."
    expected_close = now + (new_close if new_close is not None else closes_in)
    assert stored.phases[0].closes_at == expected_close
    fields = [c["field"] for c in stored.amendments[0].changes]
    assert fields == (["summary"] if expected_close == now + closes_in else ["summary", "closes_at"])


def test_amendment_records_what_changed_and_tells_askers_and_followers_once(ctx, db, now):
    fw = b.framework(db, now)
    editor = b.editor()
    keen = b.follower(db, now, "housing", locale="cy")  # follows a tag and asks twice
    other_follower = b.follower(db, now, "energy")
    asker = b.supplier()
    b.follower(db, now, "transport")
    challenge = b.open_challenge(db, now, editor, fw, opens_at=now - DAY)
    for person in (keen, keen, asker):
        clarifications.ask_question(db, actor=person, challenge_id=challenge.id,
                                    question="Which homes count?", now=now)
    old_close = now + 30 * DAY
    new_close = now + 40 * DAY
    later = now + HOUR
    amendment = services.amend_challenge(
        db, actor=editor, challenge_id=challenge.id, note="  Longer to respond.  ", now=later,
        closes_at=new_close, clarification_deadline=now + 25 * DAY, summary="Find the coldest homes.",
        summary_cy="Dod o hyd i'r cartrefi oeraf.", problem_statement=PROBLEM)  # unchanged
    stored = b.reload(db, challenge.id)
    assert stored.version == 2 and stored.updated_at == later
    assert stored.phases[0].closes_at == new_close
    assert stored.clarification_deadline == now + 25 * DAY
    assert (stored.summary, stored.summary_cy) == ("Find the coldest homes.",
                                                   "Dod o hyd i'r cartrefi oeraf.")
    [row] = db.execute(select(Amendment).where(Amendment.challenge_id == challenge.id)).scalars()
    assert (row.id, row.version, row.note, row.created_at, row.created_by_id) == (
        amendment.id, 2, "Longer to respond.", later, editor.id)
    assert row.changes == [
        {"field": "summary", "before": "Find and fix the coldest homes first.",
         "after": "Find the coldest homes."},
        {"field": "summary_cy", "before": "", "after": "Dod o hyd i'r cartrefi oeraf."},
        {"field": "closes_at", "phase": 1, "before": old_close.isoformat(),
         "after": new_close.isoformat()},
        {"field": "clarification_deadline", "before": (now + 15 * DAY - DAY / 2).isoformat(),
         "after": (now + 25 * DAY).isoformat()},
    ]
    [event] = b.events(db, "challenge.amended")
    assert event.actor_id == editor.id
    assert json.loads(event.data) == {
        "fields": ["summary", "summary_cy", "closes_at", "clarification_deadline"], "version": 2}
    mails = b.outbox(db, "challenge_amended")
    assert sorted(m.recipient_email for m in mails) == sorted([keen.email, other_follower.email,
                                                              asker.email])
    keen_mail = next(m for m in mails if m.recipient_email == keen.email)
    assert keen_mail.locale == "cy" and "Longer to respond." in keen_mail.body

    # a second amendment is a new version: everyone is told again, once
    services.amend_challenge(db, actor=editor, challenge_id=challenge.id, note="Fixed a typo.",
                             now=later, summary="Find the coldest homes first.")
    stored = b.reload(db, challenge.id)
    assert stored.version == 3 and [a.version for a in stored.amendments] == [2, 3]
    assert len(b.outbox(db, "challenge_amended")) == 6
    assert len({m.idempotency_key for m in b.outbox(db, "challenge_amended")}) == 6


@pytest.mark.parametrize("kwargs, errors", [
    ({"note": "  "}, {"note": "note_missing"}),
    ({"note": "x" * 2001}, {"note": "too_long"}),
    ({"summary": " "}, {"summary": "summary_missing"}),
    ({"problem_statement": ""}, {"problem_statement": "problem_missing"}),
    ({"outcomes_sought": ""}, {"outcomes_sought": "outcomes_missing"}),
    ({"context": "x" * 20_001}, {"context": "too_long"}),
    ({"title_cy": "x" * 201}, {"title_cy": "too_long"}),
    ({"clarification_deadline": "past"}, {"clarification_deadline": "clarification_deadline_past"}),
    ({"clarification_deadline": "at close"},
     {"clarification_deadline": "clarification_deadline_after_close"}),
    ({"closes_at": "new", "clarification_deadline": "after new close"},
     {"clarification_deadline": "clarification_deadline_after_close"}),
])
def test_amendment_refused_changes_nothing(ctx, db, now, kwargs, errors):
    editor, challenge = _open(db, now, 10 * DAY)
    follower = b.follower(db, now, "housing")
    kwargs = dict(kwargs)
    moments = {"past": now - HOUR, "at close": now + 10 * DAY, "new": now + 20 * DAY,
               "after new close": now + 21 * DAY}
    for key in ("closes_at", "clarification_deadline"):
        if key in kwargs:
            kwargs[key] = moments[kwargs[key]]
    call = {"note": "A change.", "affected": "Everyone in a cold home.", **kwargs}
    with pytest.raises(RuleViolation) as e:
        services.amend_challenge(db, actor=editor, challenge_id=challenge.id, now=now, **call)
    assert e.value.errors == errors
    stored = b.reload(db, challenge.id)
    assert stored.version == 1 and stored.amendments == []
    assert stored.affected == "Tenants on low incomes." and stored.summary_cy == ""
    assert stored.phases[0].closes_at == now + 10 * DAY
    assert stored.clarification_deadline == now + 5 * DAY
    assert b.recipients(db, "challenge_amended") == []
    assert follower.email not in b.recipients(db, "challenge_amended")


def test_an_amendment_that_changes_nothing_is_refused(ctx, db, now):
    editor, challenge = _open(db, now, 10 * DAY)
    for same in ({}, {"summary": " Find and fix the coldest homes first. "},
                 {"closes_at": now + 10 * DAY, "clarification_deadline": now + 5 * DAY}):
        with pytest.raises(RuleViolation) as e:
            services.amend_challenge(db, actor=editor, challenge_id=challenge.id, note="No change",
                                     now=now, **same)
        assert e.value.errors == {"note": "nothing_changed"}
    assert b.reload(db, challenge.id).version == 1


def test_amending_after_the_deadline_passed_is_refused(ctx, db, now):
    editor, challenge = _open(db, now, 3 * DAY)
    with pytest.raises(RuleViolation) as e:
        services.amend_challenge(db, actor=editor, challenge_id=challenge.id, note="Too late",
                                 now=now + 3 * DAY, summary="Changed", closes_at=now + 20 * DAY)
    assert e.value.errors == {"closes_at": "deadline_passed"}
    assert b.reload(db, challenge.id).version == 1


def test_amending_a_draft_is_not_permitted(ctx, db, now):
    fw = b.framework(db, now)
    editor = b.editor()
    challenge = b.complete_draft(db, now, editor, fw)
    with pytest.raises(NotPermitted):
        services.amend_challenge(db, actor=editor, challenge_id=challenge.id, note="Early",
                                 now=now, summary="Changed")
    stored = b.reload(db, challenge.id)
    assert stored.version == 1 and stored.summary == "Find and fix the coldest homes first."


@pytest.mark.parametrize("who", ["lead viewer", "other authority", "supplier", "visitor"])
def test_only_lead_editors_amend(ctx, db, now, who):
    editor, challenge = _open(db, now, 10 * DAY)
    lead = b.reload(db, challenge.id).lead_organisation
    actor = {"lead viewer": lambda: b.viewer(lead), "other authority": lambda: b.editor(),
             "supplier": lambda: b.supplier(), "visitor": lambda: None}[who]()
    with pytest.raises(NotPermitted):  # an open challenge is public: known, but not theirs
        services.amend_challenge(db, actor=actor, challenge_id=challenge.id, note="Mine now",
                                 now=now, summary="Changed")
    assert b.reload(db, challenge.id).version == 1


def test_the_title_cannot_be_amended(ctx, db, now):
    editor, challenge = _open(db, now, 10 * DAY)
    with pytest.raises(TypeError):
        services.amend_challenge(db, actor=editor, challenge_id=challenge.id, note="Rename", now=now,
                                 title="Something else")


# --- cancelling -----------------------------------------------------------------------------


def _with_partners(db, now, editor, challenge):
    """Partners in each state, each with an editor and a viewer; returns editors by state."""
    people = {}
    for state in ("accepted", "invited", "requested", "declined"):
        org = b.authority()
        people[state] = b.editor(org)
        b.viewer(org)
        if state == "requested":
            funding.request_to_join(db, actor=people[state], challenge_id=challenge.id,
                                    pledge_pence=100, message="", now=now)
            continue
        funding.invite_partner(db, actor=editor, challenge_id=challenge.id, organisation_id=org.id,
                               message="", now=now)
        if state != "invited":
            funding.respond_to_invitation(db, actor=people[state], challenge_id=challenge.id,
                                          accept=state == "accepted", pledge_pence=100, now=now)
    return people


def test_cancelling_a_draft_tells_its_partners_only(ctx, db, now):
    fw = b.framework(db, now)
    editor = b.editor()
    b.follower(db, now, "housing")
    challenge = b.complete_draft(db, now, editor, fw, bake_off=True)
    partners = _with_partners(db, now, editor, challenge)
    later = now + HOUR
    services.cancel_challenge(db, actor=editor, challenge_id=challenge.id,
                              reason="  Funding withdrawn. ", now=later)
    stored = b.reload(db, challenge.id)
    assert (stored.status, stored.cancelled_at, stored.cancel_reason) == (
        "cancelled", later, "Funding withdrawn.")
    assert [p.status for p in stored.phases] == ["cancelled", "cancelled"]
    assert b.recipients(db, "challenge_cancelled") == sorted(
        partners[s].email for s in ("accepted", "invited", "requested"))
    message = b.outbox(db, "challenge_cancelled")[0]
    assert "Funding withdrawn." in message.body
    [event] = b.events(db, "challenge.cancelled")
    assert event.actor_id == editor.id


def test_cancelling_an_open_challenge_tells_partners_askers_and_followers(ctx, db, now):
    fw = b.framework(db, now)
    editor = b.editor()
    follower = b.follower(db, now, "energy")
    challenge = b.complete_draft(db, now, editor, fw, opens_at=now, bake_off=True)
    partners = _with_partners(db, now, editor, challenge)
    services.publish_challenge(db, actor=editor, challenge_id=challenge.id, now=now)
    asker = b.supplier()
    clarifications.ask_question(db, actor=asker, challenge_id=challenge.id, question="Why?", now=now)
    clarifications.ask_question(db, actor=follower, challenge_id=challenge.id, question="How?", now=now)
    services.cancel_challenge(db, actor=editor, challenge_id=challenge.id, reason="No longer needed.",
                              now=now + DAY)
    stored = b.reload(db, challenge.id)
    assert stored.status == "cancelled"
    assert [p.status for p in stored.phases] == ["cancelled", "cancelled"]  # open and planned
    assert b.recipients(db, "challenge_cancelled") == sorted(
        [partners[s].email for s in ("accepted", "invited", "requested")] + [asker.email,
                                                                            follower.email])


def test_cancelling_twice_is_not_permitted(ctx, db, now):
    editor, challenge = _open(db, now, 10 * DAY)
    services.cancel_challenge(db, actor=editor, challenge_id=challenge.id, reason="Stopped", now=now)
    with pytest.raises(NotPermitted):
        services.cancel_challenge(db, actor=editor, challenge_id=challenge.id, reason="Again",
                                  now=now + HOUR)
    stored = b.reload(db, challenge.id)
    assert (stored.cancel_reason, stored.cancelled_at) == ("Stopped", now)
    assert b.actions(db).count("challenge.cancelled") == 1


def test_a_cancelled_challenge_can_no_longer_be_changed(ctx, db, now):
    editor, challenge = _open(db, now, 10 * DAY)
    services.cancel_challenge(db, actor=editor, challenge_id=challenge.id, reason="Stopped", now=now)
    with pytest.raises(NotPermitted):
        services.amend_challenge(db, actor=editor, challenge_id=challenge.id, note="Back", now=now,
                                 summary="Changed")
    with pytest.raises(NotPermitted):
        services.update_details(db, actor=editor, challenge_id=challenge.id, now=now, summary="x")


@pytest.mark.parametrize("reason, code", [("", "reason_missing"), ("   ", "reason_missing"),
                                          ("x" * 2001, "too_long")])
def test_cancelling_needs_a_reason(ctx, db, now, reason, code):
    editor, challenge = _open(db, now, 10 * DAY)
    b.follower(db, now, "housing")
    with pytest.raises(RuleViolation) as e:
        services.cancel_challenge(db, actor=editor, challenge_id=challenge.id, reason=reason, now=now)
    assert e.value.errors == {"reason": code}
    stored = b.reload(db, challenge.id)
    assert stored.status == "open" and stored.cancelled_at is None
    assert [p.status for p in stored.phases] == ["open"]
    assert b.outbox(db, "challenge_cancelled") == []


@pytest.mark.parametrize("who", ["lead viewer", "other authority", "supplier"])
def test_only_lead_editors_cancel(ctx, db, now, who):
    editor, challenge = _open(db, now, 10 * DAY)
    lead = b.reload(db, challenge.id).lead_organisation
    actor = {"lead viewer": lambda: b.viewer(lead), "other authority": lambda: b.editor(),
             "supplier": lambda: b.supplier()}[who]()
    with pytest.raises(NotPermitted):
        services.cancel_challenge(db, actor=actor, challenge_id=challenge.id, reason="Mine", now=now)
    assert b.reload(db, challenge.id).status == "open"


# --- reading --------------------------------------------------------------------------------


def test_get_challenge_hides_drafts_from_suppliers_and_visitors(ctx, db, now):
    fw = b.framework(db, now)
    lead = b.authority()
    draft = b.new_draft(db, now, b.editor(lead))
    published = b.open_challenge(db, now, b.editor(), fw)
    for reader in (b.viewer(lead), b.editor()):
        assert services.get_challenge(db, actor=reader, challenge_id=draft.id).id == draft.id
    for outsider in (b.supplier(), b.editor(b.authority(verified=False)), None, AnonymousUserMixin()):
        with pytest.raises(NotFound):
            services.get_challenge(db, actor=outsider, challenge_id=draft.id)
        assert services.get_challenge(db, actor=outsider, challenge_id=published.id).id == published.id


def test_open_challenges_newest_first_with_filters_and_pages(ctx, db, now):
    fw = b.framework(db, now)
    first_lead, second_lead = b.authority(name="Aberystwyth"), b.authority(name="Bangor")
    partner, invited_only = b.authority(name="Cardiff"), b.authority(name="Denbigh")
    oldest = b.open_challenge(db, now, b.editor(first_lead), fw, title="Oldest", tags="housing")
    middle_editor = b.editor(second_lead)
    middle = b.complete_draft(db, now, middle_editor, fw, title="Middle", tags="energy, housing")
    funding.invite_partner(db, actor=middle_editor, challenge_id=middle.id, organisation_id=partner.id,
                           message="", now=now)
    funding.respond_to_invitation(db, actor=b.editor(partner), challenge_id=middle.id, accept=True,
                                  pledge_pence=100, now=now)
    funding.invite_partner(db, actor=middle_editor, challenge_id=middle.id,
                           organisation_id=invited_only.id, message="", now=now)
    services.publish_challenge(db, actor=middle_editor, challenge_id=middle.id, now=now + HOUR)
    newest = b.open_challenge(db, now + 2 * HOUR, b.editor(first_lead), fw, title="Newest",
                              tags="transport")
    b.complete_draft(db, now, b.editor(), fw, title="Still a draft", tags="housing")
    cancelled_editor = b.editor()
    cancelled = b.open_challenge(db, now + 3 * HOUR, cancelled_editor, fw, title="Cancelled",
                                 tags="housing")
    services.cancel_challenge(db, actor=cancelled_editor, challenge_id=cancelled.id, reason="Stop",
                              now=now + 3 * HOUR)

    def titles(page):
        return [c.title for c in page.items]

    everything = queries.open_challenges(db)
    assert titles(everything) == ["Newest", "Middle", "Oldest"]
    assert (everything.total, everything.page, everything.pages) == (3, 1, 1)
    assert titles(queries.open_challenges(db, tag="housing")) == ["Middle", "Oldest"]
    assert titles(queries.open_challenges(db, tag="nothing")) == []
    assert titles(queries.open_challenges(db, authority_id=first_lead.id)) == ["Newest", "Oldest"]
    assert titles(queries.open_challenges(db, authority_id=partner.id)) == ["Middle"]
    assert titles(queries.open_challenges(db, authority_id=invited_only.id)) == []
    assert titles(queries.open_challenges(db, tag="housing", authority_id=first_lead.id)) == ["Oldest"]

    page_one = queries.open_challenges(db, per_page=2)
    page_two = queries.open_challenges(db, per_page=2, page=2)
    assert (titles(page_one), page_one.total, page_one.pages) == (["Newest", "Middle"], 3, 2)
    assert (titles(page_two), page_two.total, page_two.page) == (["Oldest"], 3, 2)
    assert queries.open_challenges(db, per_page=2, page=0).page == 1
    assert titles(queries.open_challenges(db, per_page=2, page=3)) == []
    empty = queries.open_challenges(db, tag="nothing")
    assert (empty.total, empty.pages) == (0, 1)

    assert queries.open_tags(db) == ["energy", "housing", "transport"]
    assert [o.name for o in queries.open_authorities(db)] == ["Aberystwyth", "Bangor", "Cardiff"]
    assert oldest.id != newest.id


def test_drafts_seeking_partners_are_other_authorities_drafts(ctx, db, now):
    fw = b.framework(db, now)
    mine = b.authority()
    my_editor = b.editor(mine)
    b.new_draft(db, now, my_editor, title="My draft")
    theirs = b.new_draft(db, now, b.editor(), title="Their draft")
    b.new_draft(db, now + HOUR, b.editor(), title="Newer draft")
    b.open_challenge(db, now, b.editor(), fw, title="Already open")
    found = queries.drafts_seeking_partners(db, exclude_organisation_id=mine.id)
    assert [c.title for c in found] == ["Newer draft", "Their draft"]
    assert theirs.id in {c.id for c in found}


def test_challenges_of_an_authority_include_those_it_funds(ctx, db, now):
    fw = b.framework(db, now)
    org = b.authority()
    org_editor = b.editor(org)
    own = b.new_draft(db, now, org_editor, title="Own")
    other_editor = b.editor()
    invited = b.complete_draft(db, now + HOUR, other_editor, fw, title="Invited")
    funding.invite_partner(db, actor=other_editor, challenge_id=invited.id, organisation_id=org.id,
                           message="", now=now + HOUR)
    declined = b.new_draft(db, now, other_editor, title="Declined")
    funding.invite_partner(db, actor=other_editor, challenge_id=declined.id, organisation_id=org.id,
                           message="", now=now)
    funding.respond_to_invitation(db, actor=org_editor, challenge_id=declined.id, accept=False,
                                  pledge_pence=0, now=now)
    b.new_draft(db, now, b.editor(), title="Unrelated")
    assert [c.title for c in queries.challenges_of(db, org.id)] == ["Invited", "Own"]
    assert own.id in {c.id for c in queries.challenges_of(db, org.id)}

