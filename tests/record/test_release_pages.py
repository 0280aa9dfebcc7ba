"""The OCDS release pages, read straight from ``ocds.page_of_releases``: whatever the page size
(and so however the records fall into the batches it reads), following the cursor from the
first page gives every release exactly once, in the order of the bulk download, with no page
over its size and no cursor after the last page."""

from __future__ import annotations

from datetime import timedelta

import pytest

from procure.record import ocds
from tests.challenges.builders import QueryCounter
from tests.record import builders as rb
from tests.record.test_catalogue_queries import copy_record

DAY = timedelta(days=1)
PUB = ocds.Publication(prefix="ocds-tstpfx", base_url="https://open.example", publisher="Procure",
                       policy_url="https://open.example/open-data")


@pytest.fixture
def four_records(app, db, now):
    with app.app_context():
        published = rb.publish(db, rb.concluded_world(db, now))
        for n in range(3):
            copy_record(db, published, title=f"Copy {n}", at=published.published_at + (n + 1) * DAY)
    return published


def _ids(releases) -> list[str]:
    return [r["id"] for r in releases]


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 7, 8, 12, 100])
def test_following_the_cursor_gives_every_release_once_in_order(app, db, four_records, size):
    with app.app_context():
        everything = _ids(ocds.stream_releases(db, PUB))
        per_record = len(everything) // 4
        assert per_record > 1 and len(everything) == 4 * per_record
        seen: list[str] = []
        after = (0, 0)
        for _ in range(len(everything) + 1):
            page, following = ocds.page_of_releases(db, PUB, after=after, size=size)
            assert 0 < len(page) <= size
            seen += _ids(page)
            if following is None:
                break
            assert len(page) == size
            after = following
        assert seen == everything


def test_a_page_reads_only_the_records_it_needs(app, db, four_records, monkeypatch):
    with app.app_context():
        everything = _ids(ocds.stream_releases(db, PUB))
        per_record = len(everything) // 4
        counter = QueryCounter(app)
        monkeypatch.setattr(ocds, "PAGE_BATCH_DIVISOR", per_record)  # batches of one record
        with counter:
            # A page that ends with the first record (a whole batch): then the id of the next.
            page, following = ocds.page_of_releases(db, PUB, size=per_record)
        assert _ids(page) == everything[:per_record]
        assert following is not None and following[1] == 0
        assert counter.selects == 3  # the record, its check-ins, the next record's id
        monkeypatch.undo()
        with counter:
            page, following = ocds.page_of_releases(db, PUB, size=100)
        assert _ids(page) == everything and following is None
        assert counter.selects == 2  # one batch of at most 25 records, and their check-ins
