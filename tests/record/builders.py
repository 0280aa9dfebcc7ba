"""Builders for open-record tests: a challenge taken through the real services to its end —
a full bake-off and an award (or no award, or a cancellation) — and its record written,
asked for and published by the job, as the editors and the worker would.

Every step is a service call; ``now`` is always passed in.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from procure.challenges import services as challenges
from procure.record import services as record
from procure.record.models import ChallengeRecord
from tests.bakeoff import builders as bb

DAY = timedelta(days=1)
WORKED = "Trying two prototypes side by side showed which one residents would use."
NOT_WORKED = "Measuring cost per home took longer than planned."


def concluded_world(db, now: datetime, *, suppliers: int = 3, partner: bool = True,
                    award: bool = True, code: str = "solution-quality") -> bb.World:
    """A challenge concluded after a full bake-off: the first demonstration awarded (or no
    award, with a reason). ``code`` names the value framework: give each world of one test
    its own."""
    world = bb.bake_off_world(db, now, suppliers=suppliers, partner=partner, code=code)
    bb.full_bake_off(db, world)
    if award:
        bb.award(db, world)
    else:
        bb.award(db, world, selected=[], reason="Neither prototype met the targets")
    return world


def write_lessons(db, world: bb.World, *, at: datetime | None = None,
                  worked: str = WORKED, not_worked: str = NOT_WORKED) -> ChallengeRecord:
    return record.save_lessons(db, actor=world.lead, challenge_id=world.challenge.id,
                               worked=worked, not_worked=not_worked, now=at or world.after)


def publish(db, world: bb.World, *, at: datetime | None = None,
            assets: bool = True) -> ChallengeRecord:
    """Write the lessons, list an asset, ask for publication and run the job."""
    at = at or world.after + DAY
    write_lessons(db, world, at=at)
    if assets:
        record.add_asset(db, actor=world.lead, challenge_id=world.challenge.id,
                         title="Prototype source code", url="https://example.org/code",
                         licence="MIT", description="The winning prototype's code", now=at)
    queued = record.request_publication(db, actor=world.lead, challenge_id=world.challenge.id,
                                        now=at)
    assert record.publish_record(db, queued.id, now=at)
    db.expire_all()
    return db.get(ChallengeRecord, queued.id)


def cancelled_world(db, now: datetime, *, code: str = "solution-quality") -> bb.World:
    """A bake-off challenge cancelled after its shortlist, with a public reason; ``after`` is
    then a day after the cancellation."""
    world = bb.bake_off_world(db, now, suppliers=2, partner=False, code=code)
    at = world.decided_at + DAY
    challenges.cancel_challenge(db, actor=world.lead, challenge_id=world.challenge.id,
                                reason="The service was taken over by the health board", now=at)
    world.after = at + DAY
    return world
