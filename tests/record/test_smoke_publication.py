"""Publishing a record end to end through the services (the job run inline)."""

from __future__ import annotations

import json

from procure.challenges.models import Challenge
from procure.record.rules import RecordStatus
from tests.record import builders as rb


def test_a_concluded_bake_off_publishes_its_record(ctx, db, now):
    world = rb.concluded_world(db, now)
    record = rb.publish(db, world)
    assert record.status == RecordStatus.PUBLISHED
    assert db.get(Challenge, world.challenge.id).status == "published"
    content = record.content
    assert content["outcome"] == "awarded"
    text = json.dumps(content)
    loser = world.suppliers[2].active_membership.organisation.name
    assert loser not in text
    phase2 = content["phases"][1]
    assert phase2["contracts"] and phase2["entrants"]
    assert record.search_title.startswith(world.challenge.title)


def test_the_published_record_is_found_by_a_word_of_its_title(ctx, db, now):
    from procure.record import queries

    world = rb.concluded_world(db, now)
    rb.publish(db, world)
    word = world.challenge.title.split()[-1]
    page = queries.catalogue(db, queries.Filters(query=word))
    assert [r.challenge_id for r in page.items] == [world.challenge.id]
    assert queries.catalogue(db, queries.Filters(query="zzzunfindable")).total == 0
    uses = {u.key: u for u in queries.shared_values(db)}
    assert any(u.records for u in uses.values())
