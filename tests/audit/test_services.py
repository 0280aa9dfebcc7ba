"""The audit log in the database: recording, verifying, the CLI, and log-forging defences."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, select, text, update

from procure.audit import services as audit
from procure.audit.models import AuditChainHead, AuditEvent
from tests.factories import UserFactory


def _record_five(db, now) -> list[AuditEvent]:
    actor = UserFactory()
    events = [audit.record(db, action=f"test.event_{i}", subject_type="user", subject_id=actor.id,
                           actor_id=actor.id, now=now + timedelta(seconds=i), data={"i": i})
              for i in range(5)]
    db.commit()
    return events


def _seqs(events) -> list[int]:
    return [e.seq for e in events]


def test_recorded_events_form_an_intact_chain(ctx, db, now):
    events = _record_five(db, now)
    seqs = _seqs(events)
    assert seqs == list(range(seqs[0], seqs[0] + 5))
    for before, after in zip(events, events[1:], strict=False):
        assert after.prev_hash == before.hash
    assert audit.verify(db) is None
    assert audit.latest_hash(db) == events[-1].hash
    assert db.get(AuditChainHead, 1).seq == seqs[-1]


def _tamper_data(db, events):
    db.execute(update(AuditEvent).where(AuditEvent.seq == events[2].seq)
               .values(data='{"i":99}'))
    return events[2].seq


def _tamper_action(db, events):
    db.execute(update(AuditEvent).where(AuditEvent.seq == events[1].seq)
               .values(action="user.made_admin"))
    return events[1].seq


def _delete_middle(db, events):
    db.execute(delete(AuditEvent).where(AuditEvent.seq == events[2].seq))
    return events[2].seq


def _delete_last(db, events):
    db.execute(delete(AuditEvent).where(AuditEvent.seq == events[-1].seq))
    return events[-1].seq


def _change_prev_hash(db, events):
    db.execute(update(AuditEvent).where(AuditEvent.seq == events[3].seq)
               .values(prev_hash="0" * 64))
    return events[3].seq


TAMPERING = [_tamper_data, _tamper_action, _delete_middle, _delete_last, _change_prev_hash]


@pytest.mark.parametrize("tamper", TAMPERING, ids=lambda f: f.__name__.strip("_"))
def test_verify_reports_first_broken_seq(ctx, db, now, tamper):
    events = _record_five(db, now)
    broken_seq = tamper(db, events)
    db.commit()
    db.expire_all()
    broken = audit.verify(db)
    assert broken is not None and broken.seq == broken_seq


def test_cli_verify_prints_ok_for_intact_chain(app, db, now):
    with app.app_context():
        _record_five(db, now)
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK")


@pytest.mark.parametrize("tamper", TAMPERING, ids=lambda f: f.__name__.strip("_"))
def test_cli_verify_exits_1_with_broken_seq(app, db, now, tamper):
    with app.app_context():
        events = _record_five(db, now)
        broken_seq = tamper(db, events)
        db.commit()
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"BROKEN at event {broken_seq}:" in result.stderr
    assert "intact" not in result.output


def test_audit_data_strips_line_breaks(ctx, db, now):
    forged = "bob\n2026-11-22 INFO user.made_admin subject=1\r\nmore"
    event = audit.record(db, action="user.sign_in_throttled", subject_type="user",
                         subject_id="-", actor_id=None, now=now,
                         data={"address": forged, "count": 3})
    db.commit()
    stored = db.execute(select(AuditEvent.data).where(AuditEvent.id == event.id)).scalar_one()
    assert "\n" not in stored and "\r" not in stored
    assert "\\n" not in stored and "\\r" not in stored  # not even escaped in the JSON
    assert "bob 2026-11-22 INFO user.made_admin" in stored
    assert '"count":3' in stored
    assert audit.verify(db) is None


def test_audit_data_is_truncated(ctx, db, now):
    event = audit.record(db, action="x.y", subject_type="user", subject_id=1, actor_id=None,
                         now=now, data={"note": "a" * 2000})
    db.commit()
    assert len(event.data) < 600


def test_events_rolled_back_with_the_change_leave_the_chain_intact(ctx, db, now):
    _record_five(db, now)
    audit.record(db, action="x.discarded", subject_type="user", subject_id=1, actor_id=None,
                 now=now)
    db.rollback()
    assert db.execute(select(AuditEvent).where(AuditEvent.action == "x.discarded")).first() is None
    assert audit.verify(db) is None


def test_tampering_through_raw_sql_is_found(ctx, db, now):
    events = _record_five(db, now)
    db.execute(text("UPDATE audit_events SET subject_id = 'someone else' WHERE seq = :s"),
               {"s": events[0].seq})
    db.commit()
    db.expire_all()
    assert audit.verify(db).seq == events[0].seq
