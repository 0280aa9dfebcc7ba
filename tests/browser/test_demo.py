"""The demo data the live server was started with: the damp phase is half assessed, the falls
challenge went through a full bake-off to its award, and loading the demo again (as ``make
run`` does on every start) changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.browser.conftest import DAMP, EXPERT, VIEWER, LiveServer
from tests.test_demo_load import EXPECTED, falls_state

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def _damp_state(session) -> dict:
    from sqlalchemy import select

    from procure.assessment import services
    from procure.challenges.models import Challenge

    phase = session.execute(select(Challenge).where(Challenge.title == DAMP)).scalar_one().phases[0]
    board = services.ranking(session, phase)
    return {
        "assessors": sorted((a.user.email, a.status) for a in phase.appointments),
        "flagged": {board.proposals[i].organisation.name: [
            pc.criterion.code for pc in phase.criteria if pc.id in flagged]
            for i, flagged in board.flags.items()},
        "submitted": {board.proposals[i].organisation.name: c.submitted
                      for i, c in board.coverage.items()},
        "blockers": board.blockers,
    }


def _counts(session) -> dict[str, int]:
    from sqlalchemy import func, select

    from procure.accounts.models import User
    from procure.assessment.models import AssessorAppointment, ConflictDeclaration
    from procure.audit.models import AuditEvent
    from procure.bakeoff.models import AdoptionCheckIn, AwardContract, MeasurementReport
    from procure.challenges.models import Challenge
    from procure.submissions.models import Proposal

    return {model.__name__: session.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (User, Challenge, Proposal, AssessorAppointment, ConflictDeclaration,
                          AuditEvent, MeasurementReport, AwardContract, AdoptionCheckIn)}


def test_the_damp_phase_is_half_assessed(live_server: LiveServer) -> None:
    assert live_server.run(_damp_state) == {
        "assessors": [(EXPERT, "accepted"), (VIEWER, "accepted")],
        "flagged": {"Bright Ideas Ltd": ["healthier"]},  # Greenfield's is not fully assessed
        "submitted": {"Bright Ideas Ltd": 2, "Greenfield Data Co-operative": 0},
        "blockers": ["assessments_incomplete", "moderation_outstanding"],
    }


def test_the_falls_challenge_is_concluded_after_a_full_bake_off(live_server: LiveServer) -> None:
    from procure.db import utcnow

    state = live_server.run(falls_state)
    released = state.pop("released_at")
    # Other tests may answer the check-in; it was asked for 6 months after the award.
    check_ins, _tasks = state.pop("check_ins"), state.pop("lead_tasks")
    assert state == {k: v for k, v in EXPECTED.items() if k not in ("check_ins", "lead_tasks")}
    assert [months for months, _recorded in check_ins] == [6]
    assert utcnow() - timedelta(days=245) < released < utcnow() - timedelta(days=185)


def test_loading_the_demo_again_changes_nothing(live_server: LiveServer) -> None:
    from procure.db import utcnow
    from procure.demo import load_demo
    from procure.demo_challenges import load_demo_challenges

    before = live_server.run(_counts)
    state, falls = live_server.run(_damp_state), live_server.run(falls_state)
    live_server.run(lambda s: load_demo(s, now=utcnow()))
    assert live_server.run(lambda s: load_demo_challenges(s, now=utcnow())) == []
    assert live_server.run(_counts) == before
    assert live_server.run(_damp_state) == state
    assert live_server.run(falls_state) == falls
