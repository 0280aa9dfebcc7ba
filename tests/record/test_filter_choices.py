"""The catalogue filters' choices come only from published records, whatever else is in the
database: the authorities that funded one, its tags (the most used when there are more than
the limit, then A–Z) and its years (newest first). On each database backend."""

from __future__ import annotations

from datetime import timedelta

import pytest

from procure.record import queries
from procure.record.models import ChallengeRecord
from procure.record.rules import RecordStatus
from tests.challenges import service_builders as sb
from tests.record import builders as rb
from tests.record.test_catalogue_queries import copy_record

DAY = timedelta(days=1)


@pytest.fixture
def records(app, db, now):
    with app.app_context():
        source = rb.publish(db, rb.concluded_world(db, now))
        at = source.published_at
        made = [copy_record(db, source, title=f"Copy {k}", at=at + (k + 1) * DAY, tags=tags,
                            year=year)
                for k, (tags, year) in enumerate([("roads, water", 2022), ("roads", 2024),
                                                  ("roads, water, parks", 2022)])]
        # A record that is not published: its tag, year and lead are no choices.
        hidden = copy_record(db, source, title="Hidden", at=at + 9 * DAY, tags="secret",
                             year=2019, lead=sb.editor())
        db.get(ChallengeRecord, hidden.id).status = RecordStatus.QUEUED
        db.commit()
        return source, made, hidden


def test_choices_are_those_of_published_records(app, db, records):
    source, made, hidden = records
    with app.app_context():
        tags = queries.tag_choices(db)
        years = queries.year_choices(db)
        authorities = {i for i, _name in queries.authority_choices(db)}
    assert "secret" not in tags
    assert {"roads", "water", "parks"} <= set(tags) and tags == sorted(tags)
    assert 2019 not in years
    assert years == sorted({source.year, 2022, 2024}, reverse=True)
    hidden_lead = hidden.content["lead"]["organisation_id"]
    assert hidden_lead not in authorities
    assert {r.content["lead"]["organisation_id"] for r in made} <= authorities


def test_over_the_limit_the_most_used_tags_are_kept(app, db, records):
    with app.app_context():
        everything = queries.tag_choices(db)
        two = queries.tag_choices(db, limit=2)
    assert len(everything) > 2
    assert two == ["roads", "water"]  # used 3 and 2 times; then A–Z
