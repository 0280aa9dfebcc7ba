"""The scheduled job that opens and closes phases by the clock, against the database."""

from __future__ import annotations

import json
from datetime import timedelta

from procure.challenges import services
from procure.challenges.models import Phase
from tests.challenges import service_builders as b
from tests.challenges.service_builders import DAY

SECOND = timedelta(seconds=1)


def _open_with_bake_off(db, now, **kwargs):
    """Published at ``now``: phase 1 runs from tomorrow for 29 days; the bake-off (by invitation)
    from day 40 to day 70."""
    fw = b.framework(db, now)
    editor = b.editor()
    challenge = b.open_challenge(db, now, editor, fw, bake_off=True, **kwargs)
    return editor, challenge


def _phases(db, challenge_id):
    return [(p.status, p.opened_at, p.closed_at) for p in b.reload(db, challenge_id).phases]


def _phase_events(db):
    return [(e.action, e.subject_type, e.actor_id, json.loads(e.data))
            for e in b.events(db, "phase.open") + b.events(db, "phase.close")]


def test_nothing_moves_before_the_first_phase_opens(ctx, db, now):
    _, challenge = _open_with_bake_off(db, now)
    assert services.advance_phases(db, now=now) == 0
    assert services.advance_phases(db, now=now + DAY - SECOND) == 0
    assert _phases(db, challenge.id) == [("planned", None, None), ("planned", None, None)]
    assert _phase_events(db) == []


def test_phase_one_opens_at_its_time_once(ctx, db, now):
    _, challenge = _open_with_bake_off(db, now)
    opens = now + DAY
    assert services.advance_phases(db, now=opens) == 1
    assert _phases(db, challenge.id) == [("open", opens, None), ("planned", None, None)]
    first = b.reload(db, challenge.id).phases[0]
    [event] = b.events(db, "phase.open")
    assert (event.subject_type, event.subject_id, event.actor_id) == ("phase", str(first.id), None)
    assert event.occurred_at == opens
    assert json.loads(event.data) == {"challenge": challenge.id, "phase": 1}
    assert b.reload(db, challenge.id).status == "open"

    assert services.advance_phases(db, now=opens) == 0  # safe to run again
    assert services.advance_phases(db, now=opens + DAY) == 0
    assert len(b.events(db, "phase.open")) == 1


def test_phase_one_closes_at_its_time_and_the_challenge_is_under_way(ctx, db, now):
    _, challenge = _open_with_bake_off(db, now)
    opens, closes = now + DAY, now + 30 * DAY
    services.advance_phases(db, now=opens)
    assert services.advance_phases(db, now=closes - SECOND) == 0
    assert services.advance_phases(db, now=closes) == 1
    stored = b.reload(db, challenge.id)
    assert (stored.status, stored.in_progress_at) == ("in_progress", closes)
    assert _phases(db, challenge.id) == [("closed", opens, closes), ("planned", None, None)]
    assert [a for a in b.actions(db) if a.startswith(("phase.", "challenge.started"))] == [
        "phase.open", "phase.close", "challenge.started"]
    [close] = b.events(db, "phase.close")
    assert json.loads(close.data) == {"challenge": challenge.id, "phase": 1}
    [started] = b.events(db, "challenge.started")
    assert (started.subject_type, started.subject_id, started.actor_id) == (
        "challenge", str(challenge.id), None)

    assert services.advance_phases(db, now=closes) == 0
    assert services.advance_phases(db, now=closes + DAY) == 0
    assert len(b.events(db, "phase.close")) == 1 and len(b.events(db, "challenge.started")) == 1


def test_a_phase_whose_window_passed_unseen_opens_and_closes_in_one_run(ctx, db, now):
    _, challenge = _open_with_bake_off(db, now)
    late = now + 31 * DAY
    assert services.advance_phases(db, now=late) == 1
    assert _phases(db, challenge.id)[0] == ("closed", late, late)
    assert b.reload(db, challenge.id).status == "in_progress"
    assert [e[0] for e in _phase_events(db)] == ["phase.open", "phase.close"]
    assert services.advance_phases(db, now=late) == 0


def test_a_first_phase_opened_at_publication_closes_by_the_clock(ctx, db, now):
    fw = b.framework(db, now)
    challenge = b.open_challenge(db, now, b.editor(), fw, opens_at=now)
    assert services.advance_phases(db, now=now) == 0  # it is open already
    assert services.advance_phases(db, now=now + 30 * DAY) == 1
    assert _phases(db, challenge.id) == [("closed", now, now + 30 * DAY)]
    # opened by publishing (audited then), closed by the job
    assert [e[0] for e in _phase_events(db)] == ["phase.open", "phase.close"]


def test_a_later_phase_never_opens_by_the_clock(ctx, db, now):
    _, challenge = _open_with_bake_off(db, now)
    for moment in (now + DAY, now + 30 * DAY, now + 40 * DAY, now + 55 * DAY, now + 71 * DAY,
                   now + 400 * DAY):
        services.advance_phases(db, now=moment)
    assert _phases(db, challenge.id)[1] == ("planned", None, None)
    assert [e[3]["phase"] for e in _phase_events(db)] == [1, 1]


def test_a_later_phase_opened_by_invitation_closes_by_the_clock(ctx, db, now):
    _, challenge = _open_with_bake_off(db, now)
    services.advance_phases(db, now=now + 30 * DAY)
    bake_off = db.get(Phase, b.reload(db, challenge.id).phases[1].id)
    bake_off.status, bake_off.opened_at = "open", now + 40 * DAY  # its entrants were decided
    db.commit()
    assert services.advance_phases(db, now=now + 70 * DAY - SECOND) == 0
    assert services.advance_phases(db, now=now + 70 * DAY) == 1
    assert _phases(db, challenge.id)[1] == ("closed", now + 40 * DAY, now + 70 * DAY)
    stored = b.reload(db, challenge.id)
    assert (stored.status, stored.in_progress_at) == ("in_progress", now + 30 * DAY)
    assert len(b.events(db, "challenge.started")) == 1
    assert [e[3]["phase"] for e in _phase_events(db) if e[0] == "phase.close"] == [1, 2]


def test_drafts_and_cancelled_challenges_are_left_alone(ctx, db, now):
    fw = b.framework(db, now)
    draft = b.complete_draft(db, now, b.editor(), fw, title="Draft")
    cancelled_editor = b.editor()
    cancelled = b.open_challenge(db, now, cancelled_editor, fw, title="Cancelled")
    services.cancel_challenge(db, actor=cancelled_editor, challenge_id=cancelled.id, reason="Stopped",
                              now=now)
    under_way_editor = b.editor()
    under_way = b.open_challenge(db, now, under_way_editor, fw, title="Cancelled under way", bake_off=True)
    services.advance_phases(db, now=now + 30 * DAY)
    services.cancel_challenge(db, actor=under_way_editor, challenge_id=under_way.id, reason="Stopped",
                              now=now + 30 * DAY)
    events = len(b.actions(db))
    for moment in (now + DAY, now + 30 * DAY, now + 100 * DAY):
        assert services.advance_phases(db, now=moment) == 0
    assert _phases(db, draft.id) == [("planned", None, None)]
    assert b.reload(db, draft.id).status == "draft"
    assert [p[0] for p in _phases(db, cancelled.id)] == ["cancelled"]
    assert [p[0] for p in _phases(db, under_way.id)] == ["cancelled", "cancelled"]
    assert len(b.actions(db)) == events


def test_each_due_phase_of_several_challenges_moves_once(ctx, db, now):
    fw = b.framework(db, now)
    early = b.open_challenge(db, now, b.editor(), fw, opens_at=now + DAY, title="Early")
    later = b.open_challenge(db, now, b.editor(), fw, opens_at=now + 2 * DAY, title="Later")
    already = b.open_challenge(db, now, b.editor(), fw, opens_at=now, closes_at=now + 2 * DAY,
                               clarification_deadline=now + DAY, title="Already open")
    assert services.advance_phases(db, now=now + 2 * DAY) == 3
    assert [p[0] for p in _phases(db, early.id)] == ["open"]
    assert [p[0] for p in _phases(db, later.id)] == ["open"]
    assert [p[0] for p in _phases(db, already.id)] == ["closed"]
    assert b.reload(db, already.id).status == "in_progress"
    assert b.reload(db, early.id).status == "open"
    assert services.advance_phases(db, now=now + 2 * DAY) == 0
