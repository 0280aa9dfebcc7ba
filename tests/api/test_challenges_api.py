"""The JSON API over published records: the catalogue's filters and pages, one record in full,
errors that are JSON too, and the OpenAPI document — valid, and describing every response the
tests receive (each is checked against the schema the document gives for its status)."""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import timedelta

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from openapi_spec_validator import validate as validate_spec
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sqlalchemy import event

from procure.api import openapi
from procure.api.views import LIST_LIMIT
from procure.bakeoff import rules as bakeoff_rules
from procure.bakeoff import services as bakeoff
from procure.record import services as records
from procure.record.rules import SORTS, RecordOutcome
from tests.bakeoff import builders as bb
from tests.challenges import service_builders as sb
from tests.record import builders as rb

BASE = "http://procure.test"   # the tests' BASE_URL
LIST = "/api/v1/challenges"
DETAIL = "/api/v1/challenges/{challenge_id}"
YEAR = timedelta(days=365)


# --- checking responses against the document ----------------------------------------------------

def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


class Contract:
    """The OpenAPI document as served, and a check that a response is what it documents."""

    def __init__(self, document: dict) -> None:
        self.document = document
        self.registry = Registry().with_resource(
            "urn:procure:openapi", Resource(contents=document, specification=DRAFT202012))

    def check(self, path: str, response, status: int | None = None) -> dict:
        """The response's JSON, after checking its status, headers and body against what the
        document says ``path`` answers with that status."""
        status = status or response.status_code
        assert response.status_code == status, response.get_data(as_text=True)[:500]
        assert response.headers["Content-Type"] == "application/json; charset=utf-8"
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        documented = self.document["paths"][path]["get"]["responses"]
        assert str(status) in documented, f"{path} does not document {status}"
        location = _pointer("paths", path, "get", "responses", str(status), "content",
                            "application/json", "schema")
        validator = Draft202012Validator({"$ref": f"urn:procure:openapi#/{location}"},
                                         registry=self.registry, format_checker=FormatChecker())
        body = json.loads(response.get_data(as_text=True))
        problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                    for e in validator.iter_errors(body)]
        assert not problems, problems[:10]
        return body


@pytest.fixture
def contract(client) -> Contract:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    return Contract(response.get_json())


# --- worlds -------------------------------------------------------------------------------------

def _organisation(user):
    return user.membership.organisation


def published(app, db, monkeypatch, now, *, code: str, tags: str = "housing, energy",
              award: bool = True, worked: str = rb.WORKED):
    """A concluded bake-off (with a partner) whose record is published; its framework has its
    own ``code``, its tags are ``tags`` and its lessons say ``worked``."""
    with app.app_context():  # the services' e-mails link to the site
        return _published(app, db, monkeypatch, now, code=code, tags=tags, award=award, worked=worked)


def _published(app, db, monkeypatch, now, *, code, tags, award, worked):
    real = bb.challenges.set_tags
    with monkeypatch.context() as m:
        m.setattr(bb.challenges, "set_tags",
                  lambda *a, tags_text, **k: real(*a, tags_text=tags, **k))
        world = bb.bake_off_world(db, now, code=code, partner=True)
    bb.full_bake_off(db, world)
    if award:
        bb.award(db, world)
    else:
        bb.award(db, world, selected=[], reason="Neither prototype met the targets")
    at = world.after + rb.DAY
    rb.write_lessons(db, world, at=at, worked=worked)
    queued = records.request_publication(db, actor=world.lead, challenge_id=world.challenge.id,
                                         now=at)
    assert records.publish_record(db, queued.id, now=at)
    db.expire_all()
    return world


def _ids(body) -> list[int]:
    return [item["id"] for item in body["data"]]


@contextmanager
def counting(app):
    """How many SQL statements the block ran."""
    engine = app.extensions["db_engine"]
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


# --- the list -----------------------------------------------------------------------------------

def test_each_filter_narrows_the_catalogue_and_pages_link_to_each_other(
        app, client, db, now, monkeypatch, contract):
    # The older record: no award, tagged "heating", ended a year earlier.
    older = published(app, db, monkeypatch, now - YEAR, code="api-older", tags="Heating",
                      award=False)
    newer = published(app, db, monkeypatch, now, code="api-newer",
                      worked="Heatpumps fitted by local installers worked best.")
    sb.new_draft(db, now, sb.editor(), title="Warmer homes, a draft")  # never listed
    old_id, new_id = older.challenge.id, newer.challenge.id

    def listed(query: str = "") -> dict:
        return contract.check(LIST, client.get(f"{LIST}{query}"), 200)

    everything = listed()
    assert _ids(everything) == [new_id, old_id]  # newest first
    assert everything["meta"] == {"total": 2, "page": 1, "per_page": 20, "pages": 1}
    assert everything["links"] == {"self": f"{BASE}{LIST}", "first": f"{BASE}{LIST}?page=1",
                                   "last": f"{BASE}{LIST}?page=1", "next": None, "prev": None}

    item = everything["data"][0]
    lead = _organisation(newer.lead)
    assert item == {
        "id": new_id, "ocid": f"ocds-procur-CH-{new_id}", "title": "Warmer homes, tested",
        "title_cy": "", "summary": "Find and fix the coldest homes first.", "summary_cy": "",
        "lead": {"id": lead.id, "name": lead.name}, "outcome": "awarded", "year": 2027,
        "budget": {"amount": 60000, "currency": "GBP"},
        "published_at": "2027-01-25T10:00:00+00:00",
        "links": {"self": f"{BASE}/api/v1/challenges/{new_id}",
                  "html": f"{BASE}/records/{new_id}",
                  "ocds": f"{BASE}/api/v1/ocds/records/ocds-procur-CH-{new_id}"}}
    assert everything["data"][1]["outcome"] == "no_award"
    assert everything["data"][1]["year"] == 2026

    partner = _organisation(older.partner)
    narrowed = {
        "?q=heatpumps": [new_id],
        "?criterion=api-newer.technical_feasibility": [new_id],
        "?criterion=api-older.innovation": [old_id],
        "?criterion=api-older.no-such-criterion": [],
        f"?authority={lead.id}": [new_id],
        f"?authority={partner.id}": [old_id],   # a co-funder counts
        "?tag=heating": [old_id],
        "?tag=%20HEATING%20": [old_id],          # case and spacing do not matter
        "?tag=energy": [new_id],
        "?outcome=awarded": [new_id],
        "?outcome=no_award": [old_id],
        "?outcome=cancelled": [],
        "?year=2026": [old_id],
        "?year=2027": [new_id],
        "?tag=energy&outcome=no_award": [],      # filters combine
        "?sort=oldest": [old_id, new_id],
        "?sort=newest": [new_id, old_id],
        "?q=&tag=&lang=cy": [new_id, old_id],    # empty means not given; lang is ignored
    }
    for query, expected in narrowed.items():
        body = listed(query)
        assert _ids(body) == expected, query
        assert body["meta"]["total"] == len(expected), query

    first = listed("?per_page=1&sort=oldest")
    assert _ids(first) == [old_id]
    assert first["meta"] == {"total": 2, "page": 1, "per_page": 1, "pages": 2}
    assert first["links"] == {
        "self": f"{BASE}{LIST}?sort=oldest&per_page=1",
        "first": f"{BASE}{LIST}?sort=oldest&page=1&per_page=1",
        "last": f"{BASE}{LIST}?sort=oldest&page=2&per_page=1",
        "next": f"{BASE}{LIST}?sort=oldest&page=2&per_page=1", "prev": None}
    second = contract.check(LIST, client.get(first["links"]["next"].removeprefix(BASE)), 200)
    assert _ids(second) == [new_id]
    assert second["links"]["next"] is None
    assert second["links"]["prev"] == first["links"]["first"]
    beyond = listed("?per_page=1&page=3")
    assert beyond["data"] == [] and beyond["meta"]["total"] == 2
    assert beyond["links"]["prev"].endswith("page=2&per_page=1")

    # However many records are on the page, the same number of queries.
    with counting(app) as one:
        client.get(f"{LIST}?per_page=1")
    with counting(app) as two:
        client.get(f"{LIST}?per_page=2")
    assert len(one) == len(two)

    # No name of a supplier that was not shortlisted, anywhere.
    for world in (older, newer):
        loser = _organisation(world.suppliers[2]).name
        assert loser not in client.get(LIST).get_data(as_text=True)


# --- one record ---------------------------------------------------------------------------------

def test_a_record_in_full_with_its_check_ins_and_reuses(app, client, db, now, monkeypatch,
                                                        contract):
    world = published(app, db, monkeypatch, now, code="api-detail")
    cid = world.challenge.id
    # Check-ins are asked for at 6 and 12 months; only the 6-month one is answered.
    asked_at = bakeoff_rules.check_in_due_at(world.decision.released_at, 12) + rb.DAY
    with app.app_context():
        assert bakeoff.ask_for_check_ins(db, now=asked_at) == 2
        bakeoff.record_check_in(db, actor=world.lead, challenge_id=cid, months=6, in_use=True,
                                used_by="Two housing associations",
                                notes="Rolled out in the valleys",
                                values={world.higher.id: "45"}, now=asked_at)
        records.reuse_record(db, actor=sb.editor(), challenge_id=cid, now=asked_at)

    with counting(app) as queries:
        response = client.get(DETAIL.format(challenge_id=cid))
    body = contract.check(DETAIL, response, 200)
    lead, partner = _organisation(world.lead), _organisation(world.partner)
    assert body["id"] == cid and body["ocid"] == f"ocds-procur-CH-{cid}"
    assert body["outcome"] == "awarded"
    assert body["lead"] == {"id": lead.id, "name": lead.name}
    assert [(f["id"], f["role"], f["pledge"]) for f in body["funders"]] == [
        (lead.id, "lead", {"amount": 50000, "currency": "GBP"}),
        (partner.id, "partner", {"amount": 10000, "currency": "GBP"})]
    assert body["budget"] == {"amount": 60000, "currency": "GBP"}
    assert body["tags"] == ["energy", "housing"]
    assert body["lessons"] == {"worked": rb.WORKED, "not_worked": rb.NOT_WORKED}
    assert body["reuse_count"] == 1
    assert body["check_ins"] == [{
        "months": 6, "recorded_at": asked_at.isoformat(), "in_use": True,
        "used_by": "Two housing associations",
        "measure_values": {str(world.higher.id): "45"}}]
    # The editors' notes on a check-in are theirs, never published.
    assert "Rolled out in the valleys" not in response.get_data(as_text=True)
    assert body["licence"] == {
        "name": "Open Government Licence v3.0",
        "url": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
        "attribution": "Contains public sector information licensed under the Open Government "
                       "Licence v3.0."}
    assert body["links"]["ocds"] == f"{BASE}/api/v1/ocds/records/ocds-procur-CH-{cid}"
    # The links lead somewhere: the record page and the OCDS record package.
    assert client.get(body["links"]["html"].removeprefix(BASE)).status_code == 200
    package = contract.check("/api/v1/ocds/records/{ocid}",
                             client.get(body["links"]["ocds"].removeprefix(BASE)), 200)
    assert [r["ocid"] for r in package["records"]] == [body["ocid"]]

    feasibility, bake_off = body["phases"]
    shortlisted = {_organisation(s).name for s in world.shortlisted}
    assert {r["supplier"]["name"] for r in feasibility["ranked"]} == shortlisted
    assert len(feasibility["distribution"]) == 3  # every proposal's total, anonymously
    assert feasibility["statistics"]["received"] == 3
    # Finals are keyed by the phase's criteria, which say what they are.
    keys = {str(c["id"]): c["code"] for c in feasibility["criteria"]}
    assert {keys[k] for k in feasibility["ranked"][0]["finals"]} == {
        "technical_feasibility", "innovation"}
    winner = _organisation(world.shortlisted[0])
    assert [(c["supplier"], c["value"]) for c in bake_off["contracts"]] == [
        ({"id": winner.id, "name": winner.name}, {"amount": 40000, "currency": "GBP"})]
    assert [m["name"] for m in bake_off["measures"]] == ["Homes fixed", "Cost per home"]
    assert {r["measure_id"] for e in bake_off["entrants"] for r in e["results"]} == {
        world.higher.id, world.lower.id}

    text = response.get_data(as_text=True)
    assert _organisation(world.suppliers[2]).name not in text  # never shortlisted
    for internal in ("proposal_id", "criterion_id", "_pence", '"schema"'):
        assert internal not in text
    for person in (world.lead, world.partner, *world.assessors, *world.suppliers):
        assert person.name not in text and person.email not in text

    # A fixed number of queries: the record, its check-ins, its reuses.
    assert len([q for q in queries if q.lstrip().upper().startswith("SELECT")]) == 3


def test_a_record_that_is_not_published_is_a_json_404(client, db, now, contract):
    draft = sb.new_draft(db, now, sb.editor())
    for challenge_id in (draft.id, 999_999):
        body = contract.check(DETAIL, client.get(DETAIL.format(challenge_id=challenge_id)), 404)
        assert body == {"status": 404, "title": "Not found", "errors": {}}
    # Anything else under /api/ answers in JSON too.
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert response.get_json()["status"] == 404


# --- bad parameters -----------------------------------------------------------------------------

@pytest.mark.parametrize(("query", "named"), [
    ("per_page=0", "per_page"), ("per_page=101", "per_page"), ("per_page=ten", "per_page"),
    ("page=0", "page"), ("page=-1", "page"), ("page=1.5", "page"), ("page=10001", "page"),
    ("year=26", "year"), ("year=twenty", "year"), ("outcome=won", "outcome"),
    ("sort=random", "sort"), ("criterion=healthier", "criterion"),
    ("criterion=a.b.c", "criterion"), ("authority=abc", "authority"), ("authority=0", "authority"),
    ("tag=" + "x" * 51, "tag"), ("q=" + "word " * 41, "q"), ("outcom=awarded", "outcom"),
    ("year=2026&year=2027", "year"), ("page=%EF%BC%91", "page"),  # a full-width digit one
])
def test_a_bad_parameter_is_a_400_that_names_it(client, contract, query, named):
    body = contract.check(LIST, client.get(f"{LIST}?{query}"), 400)
    assert body["status"] == 400
    assert list(body["errors"]) == [named]
    assert body["errors"][named]


def test_every_bad_parameter_is_named_at_once(client, contract):
    body = contract.check(LIST, client.get(f"{LIST}?per_page=500&outcome=x&colour=red"), 400)
    assert set(body["errors"]) == {"per_page", "outcome", "colour"}
    assert "q, criterion, authority" in body["errors"]["colour"]


def test_searching_too_often_is_refused_with_a_json_429(client, contract):
    allowed = int(LIST_LIMIT.split()[0])
    for _ in range(allowed):
        assert client.get(LIST).status_code == 200
    response = client.get(LIST)
    body = contract.check(LIST, response, 429)
    assert body["status"] == 429
    assert int(response.headers["Retry-After"]) > 0


# --- the document -------------------------------------------------------------------------------

def test_the_openapi_document_is_valid_and_describes_the_api(client, contract):
    document = contract.document
    validate_spec(document)  # raises if it is not a valid OpenAPI 3.1 document
    assert document["openapi"].startswith("3.1")
    assert document["servers"] == [{"url": BASE}]
    assert document["info"]["license"] == {
        "name": "Open Government Licence v3.0",
        "url": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"}
    for path in (LIST, DETAIL, "/api/v1/ocds/records/{ocid}", "/api/v1/ocds/releases"):
        assert "200" in document["paths"][path]["get"]["responses"], path
    for path in ("/api/v1/ocds/records/{ocid}", "/api/v1/ocds/releases"):
        operation = document["paths"][path]["get"]
        assert operation["description"]
        assert operation["externalDocs"]["url"].startswith("https://standard.open-contracting.org")

    components = document["components"]["parameters"]
    parameters = {components[p["$ref"].rsplit("/", 1)[1]]["name"]:
                  components[p["$ref"].rsplit("/", 1)[1]]
                  for p in document["paths"][LIST]["get"]["parameters"]}
    assert list(parameters) == list(openapi.LIST_PARAMETERS)
    assert all(p["in"] == "query" and not p["required"] for p in parameters.values())
    assert all(p["schema"] and p["description"] for p in parameters.values())
    assert parameters["outcome"]["schema"]["enum"] == [o.value for o in RecordOutcome]
    assert parameters["sort"]["schema"]["enum"] == list(SORTS)
    assert parameters["per_page"]["schema"]["maximum"] == 100
    assert set(document["paths"][LIST]["get"]["responses"]) == {"200", "400", "429"}
    assert set(document["paths"][DETAIL]["get"]["responses"]) == {"200", "404"}


def test_the_ocds_paths_answer_as_the_document_says(client, db, contract):
    releases = "/api/v1/ocds/releases"
    contract.check(releases, client.get(releases), 200)
    contract.check(releases, client.get(f"{releases}?page=2"), 400)
    contract.check("/api/v1/ocds/records/{ocid}",
                   client.get("/api/v1/ocds/records/ocds-procur-CH-999999"), 404)


def test_the_document_refuses_a_response_it_does_not_describe(client, contract, db, now):
    """The check the other tests rely on does bite: an extra or missing field fails it."""
    body = contract.check(LIST, client.get(LIST), 200)
    validator = Draft202012Validator(
        {"$ref": "urn:procure:openapi#/components/schemas/ChallengeList"},
        registry=contract.registry, format_checker=FormatChecker())
    assert validator.is_valid(body)
    assert not validator.is_valid({**body, "extra": 1})
    assert not validator.is_valid({k: v for k, v in body.items() if k != "meta"})
    item = {"id": 1, "ocid": "ocds-procur-CH-1", "title": "t", "title_cy": "", "summary": "",
            "summary_cy": "", "lead": {"id": 1, "name": "n"}, "outcome": "awarded", "year": 2026,
            "budget": {"amount": 1, "currency": "GBP"}, "published_at": "not a time",
            "links": {"self": BASE, "html": BASE, "ocds": BASE}}
    assert not validator.is_valid({**body, "data": [item]})  # a time that is not RFC 3339
    item["published_at"] = "2026-11-22T10:00:00+00:00"
    assert validator.is_valid({**body, "data": [item]})

