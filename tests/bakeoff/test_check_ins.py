"""Adoption check-ins: the scheduled job asks the lead authority 6, 12 and 24 months after an
award (once each, however often or late it runs), and the lead's editors record the answers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select

from procure.bakeoff import rules
from procure.bakeoff import services as bakeoff
from procure.bakeoff.models import AdoptionCheckIn
from procure.errors import NotFound, NotPermitted, RuleViolation
from tests.bakeoff import builders as bb
from tests.challenges import service_builders as sb

SECOND = timedelta(seconds=1)
DAY = timedelta(days=1)


def awarded_world(db, now, **kwargs):
    """A bake-off run to the end and awarded to the second entrant, released at ``world.after``."""
    world = bb.bake_off_world(db, now, **kwargs)
    bb.full_bake_off(db, world)
    best = world.demonstrations[world.shortlisted[1].id].id
    bb.award(db, world, [best])
    return world


@pytest.fixture
def world(ctx, db, now):
    return awarded_world(db, now, partner=True)


def _rows(db) -> list[tuple[int, int, datetime, datetime]]:
    db.rollback()
    return [tuple(r) for r in db.execute(
        select(AdoptionCheckIn.challenge_id, AdoptionCheckIn.months, AdoptionCheckIn.due_at,
               AdoptionCheckIn.asked_at).order_by(AdoptionCheckIn.months))]


def _utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; compare as UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _asked(db) -> list[str]:
    return sorted(m.idempotency_key for m in sb.outbox(db, "adoption_check_in_due"))


def _due(world, months):
    return rules.check_in_due_at(world.decision.released_at, months)


# --- asking --------------------------------------------------------------------------------------

def test_the_award_is_released_when_the_tests_think_it_is(world):
    # The world's dates, worked out by hand: the award is released on 24 January 2027 at 10:00
    # UTC, so the check-ins fall due on 24 July 2027, 24 January 2028 and 24 January 2029.
    assert _utc(world.decision.released_at) == datetime(2027, 1, 24, 10, 0, tzinfo=UTC)
    assert [_utc(_due(world, m)) for m in (6, 12, 24)] == [
        datetime(2027, 7, 24, 10, 0, tzinfo=UTC), datetime(2028, 1, 24, 10, 0, tzinfo=UTC),
        datetime(2029, 1, 24, 10, 0, tzinfo=UTC)]


def test_each_check_in_is_asked_for_at_its_boundary_and_not_a_second_before(world, db):
    lead_editors = sorted([world.lead.email])
    asked_so_far: list[int] = []
    for months in (6, 12, 24):
        due = _due(world, months)
        assert bakeoff.ask_for_check_ins(db, now=due - SECOND) == 0
        assert [m for _, m, _, _ in _rows(db)] == asked_so_far, months
        assert bakeoff.ask_for_check_ins(db, now=due) == 1
        asked_so_far.append(months)
        rows = _rows(db)
        assert [m for _, m, _, _ in rows] == asked_so_far
        _, _, due_at, asked_at = rows[-1]
        assert (_utc(due_at), _utc(asked_at)) == (_utc(due), _utc(due))
        assert _asked(db) == sorted(f"adoption_check_in:{world.challenge.id}:{m}:{world.lead.id}"
                                    for m in asked_so_far)
    assert sorted({m.recipient_email for m in sb.outbox(db, "adoption_check_in_due")}) \
        == lead_editors
    events = sb.events(db, "adoption.check_in_due")
    assert [json.loads(e.data)["months"] for e in events] == [6, 12, 24]
    assert {(e.subject_type, e.subject_id, e.actor_id) for e in events} == {
        ("challenge", str(world.challenge.id), None)}


def test_running_the_job_twice_asks_once(world, db):
    at = _due(world, 12) + DAY
    assert bakeoff.ask_for_check_ins(db, now=at) == 2
    rows, mails = _rows(db), _asked(db)
    assert bakeoff.ask_for_check_ins(db, now=at) == 0
    assert bakeoff.ask_for_check_ins(db, now=at + DAY) == 0
    assert _rows(db) == rows and _asked(db) == mails
    assert len(mails) == 2 and len(sb.events(db, "adoption.check_in_due")) == 2


def test_a_job_down_for_25_months_asks_for_all_three_once(world, db):
    at = world.decision.released_at + relativedelta(months=25)
    assert bakeoff.ask_for_check_ins(db, now=at) == 3
    rows = _rows(db)
    assert [(m, _utc(due)) for _, m, due, _ in rows] == [
        (m, _utc(_due(world, m))) for m in (6, 12, 24)]
    assert all(_utc(asked) == _utc(at) for *_, asked in rows)
    assert len(_asked(db)) == 3
    assert bakeoff.ask_for_check_ins(db, now=at + SECOND) == 0
    assert len(_rows(db)) == 3 and len(_asked(db)) == 3


def test_every_editor_of_the_lead_is_asked_but_not_its_viewers_or_the_partner(world, db):
    organisation = world.lead.membership.organisation
    second_editor, viewer = sb.editor(organisation), sb.viewer(organisation)
    bakeoff.ask_for_check_ins(db, now=_due(world, 6))
    told = sorted(m.recipient_email for m in sb.outbox(db, "adoption_check_in_due"))
    assert told == sorted([world.lead.email, second_editor.email])
    assert viewer.email not in told and world.partner.email not in told


def test_no_award_asks_for_no_check_ins(ctx, db, now):
    world = bb.bake_off_world(db, now)
    bb.full_bake_off(db, world)
    bb.award(db, world, [], reason="Neither prototype is ready to deploy")
    assert world.challenge.status == "concluded"
    assert bakeoff.ask_for_check_ins(db, now=world.after + relativedelta(months=30)) == 0
    assert _rows(db) == [] and _asked(db) == []


def test_an_award_not_yet_released_asks_for_nothing(ctx, db, now):
    world = bb.bake_off_world(db, now)
    bb.full_bake_off(db, world)
    bb.award(db, world, [world.demonstrations[world.shortlisted[1].id].id], release=False)
    assert bakeoff.ask_for_check_ins(db, now=world.after + relativedelta(months=30)) == 0
    assert _rows(db) == []


# --- recording -----------------------------------------------------------------------------------

_LEAD = object()


def _record(db, world, actor=_LEAD, months=6, *, in_use=True, used_by="Valleys Housing",
            notes="In use on two estates", values=None, now=None):
    return bakeoff.record_check_in(db, actor=world.lead if actor is _LEAD else actor,
                                   challenge_id=world.challenge.id,
                                   months=months, in_use=in_use, used_by=used_by, notes=notes,
                                   values=values or {}, now=now or _due(world, months) + DAY)


def _stored(db, world, months=6) -> AdoptionCheckIn:
    db.rollback()
    db.expire_all()
    return db.execute(select(AdoptionCheckIn).where(
        AdoptionCheckIn.challenge_id == world.challenge.id,
        AdoptionCheckIn.months == months)).scalar_one()


def test_the_lead_records_a_check_in_with_the_latest_values(world, db):
    bakeoff.ask_for_check_ins(db, now=_due(world, 6))
    measures = bakeoff.check_in_measures(bakeoff.get_check_in(
        db, actor=world.lead, challenge_id=world.challenge.id, months=6))
    assert [m.id for m in measures] == [world.higher.id, world.lower.id]
    at = _due(world, 6) + DAY
    _record(db, world, used_by="  Valleys Housing  ", values={
        world.higher.id: "1,204", world.lower.id: " ", world.lower.id + 999: "7"}, now=at)
    stored = _stored(db, world)
    assert (stored.in_use, stored.used_by, stored.notes, stored.recorded_by_id) == (
        True, "Valleys Housing", "In use on two estates", world.lead.id)
    assert _utc(stored.recorded_at) == _utc(at)
    assert stored.measure_values == {str(world.higher.id): "1204"}   # blank and unknown dropped
    (event,) = sb.events(db, "adoption.check_in_recorded")
    assert json.loads(event.data) == {"months": 6, "in_use": True,
                                      "values": {str(world.higher.id): "1204"}}
    # Corrected later: no longer in use, so nobody uses it.
    _record(db, world, in_use=False, used_by="Valleys Housing", notes="Stopped in June",
            values={world.lower.id: "640.5"})
    stored = _stored(db, world)
    assert (stored.in_use, stored.used_by, stored.measure_values) == (
        False, "", {str(world.lower.id): "640.5"})
    assert len(sb.events(db, "adoption.check_in_recorded")) == 2


@pytest.mark.parametrize("fields, errors", [
    ({"in_use": None}, {"in_use": "in_use_missing"}),
    ({"in_use": True, "used_by": "   "}, {"used_by": "used_by_missing"}),
    ({"used_by": "x" * 2001}, {"used_by": "text_too_long"}),
    ({"notes": "x" * 5001}, {"notes": "text_too_long"}),
    ({"values": "higher:lots"}, {"value_higher": "value_invalid"}),
    ({"values": "lower:1.23456"}, {"value_lower": "value_too_precise"}),
])
def test_a_refused_check_in_changes_nothing(world, db, fields, errors):
    bakeoff.ask_for_check_ins(db, now=_due(world, 6))
    fields = dict(fields)   # the parameters are shared by both databases' runs
    if "values" in fields:
        which, text = fields.pop("values").split(":")
        measure = world.higher if which == "higher" else world.lower
        fields["values"] = {measure.id: text}
        errors = {f"value_{measure.id}": code for code in errors.values()}
    with pytest.raises(RuleViolation) as refused:
        _record(db, world, **fields)
    assert refused.value.errors == errors
    stored = _stored(db, world)
    assert (stored.recorded_at, stored.in_use, stored.used_by, stored.measure_values) == (
        None, None, "", {})
    assert sb.events(db, "adoption.check_in_recorded") == []


def test_only_the_lead_editors_record_a_check_in(world, db):
    bakeoff.ask_for_check_ins(db, now=_due(world, 6))
    lead_viewer = sb.viewer(world.lead.membership.organisation)
    with pytest.raises(NotPermitted):   # a member of the lead sees it, but does not answer
        _record(db, world, lead_viewer)
    for outsider in (world.partner, world.shortlisted[1], world.outsider, sb.editor(),
                     sb.no_org_user(), None):
        with pytest.raises(NotFound):
            _record(db, world, outsider)
    with pytest.raises(NotFound):       # not yet asked for
        _record(db, world, months=12)
    with pytest.raises(NotFound):       # no such check-in
        _record(db, world, months=7)
    assert _stored(db, world).recorded_at is None
    assert sb.events(db, "adoption.check_in_recorded") == []


def test_check_in_tasks_list_what_the_actors_authority_has_not_yet_answered(world, db, now):
    other = awarded_world(db, now, code="other-values")
    assert bakeoff.check_in_tasks(db, actor=world.lead) == []
    bakeoff.ask_for_check_ins(db, now=_due(world, 12))
    tasks = bakeoff.check_in_tasks(db, actor=world.lead)
    assert [(t.challenge_id, t.months) for t in tasks] == [(world.challenge.id, 6),
                                                          (world.challenge.id, 12)]
    # The other challenge's lead has its own (both awards fall due on the same days).
    assert [(t.challenge_id, t.months) for t in bakeoff.check_in_tasks(db, actor=other.lead)] \
        == [(other.challenge.id, 6), (other.challenge.id, 12)]
    viewer = sb.viewer(world.lead.membership.organisation)
    assert [t.months for t in bakeoff.check_in_tasks(db, actor=viewer)] == [6, 12]
    for outsider in (world.partner, world.shortlisted[1], sb.editor(), sb.no_org_user(), None):
        assert bakeoff.check_in_tasks(db, actor=outsider) == []
    _record(db, world, months=6)
    assert [t.months for t in bakeoff.check_in_tasks(db, actor=world.lead)] == [12]
    _record(db, world, months=12, in_use=False, used_by="")
    assert bakeoff.check_in_tasks(db, actor=world.lead) == []
    assert len(bakeoff.check_in_tasks(db, actor=other.lead)) == 2


def test_count_of_check_ins_is_exactly_one_per_challenge_and_month(world, db):
    for months in (6, 12, 24):
        bakeoff.ask_for_check_ins(db, now=_due(world, months))
        bakeoff.ask_for_check_ins(db, now=_due(world, months))
    db.rollback()
    counts = dict(db.execute(select(AdoptionCheckIn.months, func.count())
                             .group_by(AdoptionCheckIn.months)).all())
    assert counts == {6: 1, 12: 1, 24: 1}
