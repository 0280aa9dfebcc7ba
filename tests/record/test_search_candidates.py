"""Best match first among a bounded set of candidates: when a search matches more records than
``queries.RANKED_CANDIDATES``, only the most recently published of them are ranked, and the
other matches follow newest first; the count is still of every match, and every page of the
ordering follows on from the one before. On each database backend."""

from __future__ import annotations

from datetime import timedelta

import pytest

from procure.record import queries
from tests.record import builders as rb
from tests.record.test_catalogue_queries import copy_record

DAY = timedelta(days=1)


@pytest.fixture
def lanterns(app, db, now):
    """Five records whose titles have "lantern", oldest first; the oldest matches best."""
    with app.app_context():
        source = rb.publish(db, rb.concluded_world(db, now))
        at = source.published_at
        names = ["Lantern lantern lantern", "Lantern two", "Lantern three",
                 "Lantern lantern four", "Lantern five"]
        return [copy_record(db, source, title=name, at=at + (k + 1) * DAY).challenge_id
                for k, name in enumerate(names)]


def _order(db, per_page: int, pages: int) -> tuple[list[int], int]:
    ids, total = [], 0
    for page in range(1, pages + 1):
        found = queries.catalogue(db, queries.Filters(query="lantern"), page=page,
                                  per_page=per_page)
        ids += [r.challenge_id for r in found.items]
        total = found.total
    return ids, total


def test_every_match_is_ranked_when_there_are_few(app, db, lanterns):
    with app.app_context():
        ids, total = _order(db, per_page=10, pages=1)
    oldest_best, two, three, four, five = lanterns
    assert total == 5
    assert ids[:2] == [oldest_best, four]          # the best matches, whatever their age
    assert ids[2:] == [five, three, two]           # equal matches: newest first


def test_beyond_the_candidates_matches_follow_newest_first(app, db, lanterns, monkeypatch):
    monkeypatch.setattr(queries, "RANKED_CANDIDATES", 3)
    oldest_best, two, three, four, five = lanterns
    with app.app_context():
        first_page, total = _order(db, per_page=3, pages=1)
        # Pages of two: the second page straddles the candidates and the rest.
        paged, paged_total = _order(db, per_page=2, pages=3)
    assert total == paged_total == 5
    # The three newest matches are the candidates, best match first among them.
    assert first_page == [four, five, three]
    assert paged == [four, five, three, two, oldest_best]
