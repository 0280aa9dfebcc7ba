"""OCDS over HTTP: one ocid's record package, the release packages a page at a time with
``links.next``, the bulk download of every release, and the local extension's files — each valid
against the reference schemas, JSON readable from any origin, 404 (as JSON) for what was never
published, and a fixed number of queries however many records there are."""

from __future__ import annotations

import csv
import io
import json

import ocdsmerge
import pytest

from procure.api import ocds_views
from procure.challenges import services as challenges
from procure.record import ocds
from tests.bakeoff import builders as bb
from tests.challenges.builders import QueryCounter
from tests.record import builders as rb
from tests.record.test_ocds import problems_of, reference_schema, sound, validators

BASE = "http://procure.test"   # the tests' BASE_URL
JSON_TYPE = "application/json; charset=utf-8"


def _published(app, db, now, n: int, *, award: bool = True):
    """A challenge taken through a full bake-off (award or not) and its record published."""
    with app.app_context():  # the services' e-mails link to the site
        world = bb.bake_off_world(db, now, code=f"values-{n}")
        bb.full_bake_off(db, world)
        if award:
            bb.award(db, world)
        else:
            bb.award(db, world, selected=[], reason="Neither prototype met the targets")
        rb.publish(db, world)
    return world


def _expected(app, db) -> dict[str, list[dict]]:
    """Every release of every published record, by ocid, as the mapping makes them."""
    with app.app_context():
        pub = ocds.publication()
        rows = ocds.published_records(db)
        found = ocds.check_ins(db, [r.challenge_id for r in rows])
        by_ocid: dict[str, list[dict]] = {}
        for row in rows:
            by_ocid.update(ocds.record_releases(row, found, pub))
    return by_ocid


def _ocid(app, world, position=None) -> str:
    return ocds.ocid(app.config["OCID_PREFIX"], world.challenge.id, position)


def _open_json(response, status: int = 200) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.headers["Content-Type"] == JSON_TYPE
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    return json.loads(response.get_data(as_text=True))


def _valid_release_package(package: dict) -> None:
    release_v, package_v, _ = validators(package["extensions"])
    problems = problems_of(package_v, package, "package")
    for release in package["releases"]:
        problems += sound(release)
    assert not problems, problems[:20]
    assert package["license"] == ocds.OGL and package["publicationPolicy"] == f"{BASE}/open-data"


# --- one record ---------------------------------------------------------------------------------

def test_each_ocid_of_a_published_record_has_its_record_package(app, db, now, client):
    world = _published(app, db, now, 1)
    expected = _expected(app, db)
    for ocid in (_ocid(app, world), _ocid(app, world, 1), _ocid(app, world, 2)):
        package = _open_json(client.get(f"/api/v1/ocds/records/{ocid}"))
        assert package["uri"] == f"{BASE}/api/v1/ocds/records/{ocid}"
        _, _, record_v = validators(package["extensions"])
        assert not problems_of(record_v, package, ocid)
        (record,) = package["records"]
        assert record["ocid"] == ocid and record["releases"] == expected[ocid]
        merger = ocdsmerge.Merger(schema=reference_schema(tuple(package["extensions"])))
        assert record["compiledRelease"] == merger.create_compiled_release(record["releases"])
        assert package["publishedDate"] == record["releases"][-1]["date"]
    compiled = package["records"][0]["compiledRelease"]
    assert compiled["tender"]["status"] == "complete" and compiled["awards"][0]["status"] == "active"


def test_what_was_never_published_is_not_found_as_json(app, db, now, client):
    with app.app_context():
        unpublished = bb.bake_off_world(db, now, code="values-a")
        cancelled = bb.bake_off_world(db, now, code="values-b")
        challenges.cancel_challenge(db, actor=cancelled.lead, challenge_id=cancelled.challenge.id,
                                    reason="Taken over by the health board", now=cancelled.decided_at)
        rb.publish(db, cancelled, at=cancelled.decided_at)
    assert client.get(f"/api/v1/ocds/records/{_ocid(app, cancelled, 1)}").status_code == 200
    for ocid in (_ocid(app, unpublished), _ocid(app, unpublished, 1),
                 _ocid(app, cancelled, 2),          # the bake-off never opened
                 _ocid(app, cancelled, 3), f"ocds-zzzzzz-CH-{cancelled.challenge.id}",
                 f"{_ocid(app, cancelled)}-X", "99999"):
        body = _open_json(client.get(f"/api/v1/ocds/records/{ocid}"), 404)
        assert body["status"] == 404, ocid


def test_a_record_package_takes_the_same_queries_however_many_records(app, db, now, client):
    first = _published(app, db, now, 1)
    counter = QueryCounter(app)
    with counter:
        assert client.get(f"/api/v1/ocds/records/{_ocid(app, first, 2)}").status_code == 200
    alone = counter.count
    _published(app, db, now, 2, award=False)
    with counter:
        assert client.get(f"/api/v1/ocds/records/{_ocid(app, first, 2)}").status_code == 200
    assert counter.count == alone


# --- release packages, a page at a time ---------------------------------------------------------

def test_release_pages_follow_links_next_to_every_release_once(app, db, now, client,
                                                               monkeypatch):
    assert ocds_views.PAGE_SIZE == 100
    _published(app, db, now, 1)
    _published(app, db, now, 2, award=False)
    expected = [r for rs in _expected(app, db).values() for r in rs]
    assert len(expected) > 8
    monkeypatch.setattr(ocds_views, "PAGE_SIZE", 4)
    seen: list[dict] = []
    url = "/api/v1/ocds/releases"
    pages = 0
    while url:
        package = _open_json(client.get(url))
        _valid_release_package(package)
        assert 1 <= len(package["releases"]) <= 4
        seen += package["releases"]
        url = package.get("links", {}).get("next")
        assert url is None or url.startswith(f"{BASE}/api/v1/ocds/releases?cursor=")
        pages += 1
    assert pages == -(-len(expected) // 4)
    assert [r["id"] for r in seen] == [r["id"] for r in expected] and seen == expected


def test_a_page_that_ends_with_a_record_starts_the_next_with_the_next_record(app, db, now,
                                                                             client, monkeypatch):
    first = _published(app, db, now, 1)
    _published(app, db, now, 2)
    by_ocid = _expected(app, db)
    size = sum(len(rs) for o, rs in by_ocid.items() if o.startswith(_ocid(app, first)))
    monkeypatch.setattr(ocds_views, "PAGE_SIZE", size)
    package = _open_json(client.get("/api/v1/ocds/releases"))
    assert {r["ocid"].split("-P")[0] for r in package["releases"]} == {_ocid(app, first)}
    second = _open_json(client.get(package["links"]["next"]))
    assert "links" not in second
    assert len(package["releases"]) + len(second["releases"]) == sum(map(len, by_ocid.values()))


def test_the_release_pages_refuse_what_they_do_not_know(app, db, now, client):
    for query, field in (("?cursor=abc", "cursor"), ("?cursor=1.2.3", "cursor"),
                         (f"?cursor={2**31}.0", "cursor"),
                         ("?page=2", "page")):
        body = _open_json(client.get(f"/api/v1/ocds/releases{query}"), 400)
        assert list(body["errors"]) == [field]
    empty = _open_json(client.get("/api/v1/ocds/releases?lang=cy"))
    assert empty["releases"] == [] and "links" not in empty


def test_a_page_of_releases_takes_the_same_queries_however_many_records(app, db, now, client):
    _published(app, db, now, 1)
    counter = QueryCounter(app)
    with counter:
        assert client.get("/api/v1/ocds/releases").status_code == 200
    alone = counter.count
    _published(app, db, now, 2)
    _published(app, db, now, 3, award=False)
    with counter:
        assert client.get("/api/v1/ocds/releases").status_code == 200
    assert counter.count == alone


# --- the bulk download --------------------------------------------------------------------------

def _download(client) -> bytes:
    """The whole download, read and closed as a server would."""
    response = client.get("/data/ocds/releases.json")
    try:
        return response.get_data()
    finally:
        response.close()


@pytest.mark.parametrize("batch", [1, 500])
def test_the_bulk_download_is_one_package_of_every_release(app, db, now, client, monkeypatch,
                                                           batch):
    monkeypatch.setattr(ocds_views, "BULK_BATCH", batch)
    _published(app, db, now, 1)
    _published(app, db, now, 2, award=False)
    response = client.get("/data/ocds/releases.json")
    assert response.is_streamed
    assert response.headers["Content-Disposition"] == 'attachment; filename="releases.json"'
    package = _open_json(response)
    assert package["uri"] == f"{BASE}/data/ocds/releases.json"
    _valid_release_package(package)
    assert package["releases"] == [r for rs in _expected(app, db).values() for r in rs]


def test_the_bulk_download_reads_the_records_in_batches(app, db, now, client, monkeypatch):
    monkeypatch.setattr(ocds_views, "BULK_BATCH", 1)
    _published(app, db, now, 1)
    counter = QueryCounter(app)
    with counter:
        _download(client)
    one = counter.selects
    _published(app, db, now, 2)
    with counter:
        _download(client)
    # One more batch of records and its check-ins: two queries, whatever a record holds
    # (each batch also ends its transaction, so that a slow client holds none).
    assert counter.selects == one + 2
    monkeypatch.setattr(ocds_views, "BULK_BATCH", 500)
    with counter:
        _download(client)
    assert counter.selects == one


# --- the local extension ------------------------------------------------------------------------

def test_the_extension_and_its_files_are_served(app, client):
    metadata = _open_json(client.get("/ocds/extension.json"))
    assert metadata["documentationUrl"]["en"] == f"{BASE}/open-data"
    assert metadata["schemas"] == ["release-schema.json"]
    with app.app_context():
        assert f"{BASE}/ocds/extension.json" in ocds.publication().extensions
    schema = _open_json(client.get("/ocds/release-schema.json"))
    assert schema == json.loads((ocds.EXTENSION_DIR / "release-schema.json").read_text())
    for name in metadata["codelists"]:
        response = client.get(f"/ocds/codelists/{name}")
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
        rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
        assert rows and {"Code", "Title", "Title_cy"} <= set(rows[0])
    for name in ("schema/release-schema.json", "codelists/nothing.csv", "extension.csv",
                 "../ocds.py", "%2e%2e/ocds.py", "codelists"):
        body = _open_json(client.get(f"/ocds/{name}"), 404)
        assert body["status"] == 404, name
