"""The open record as OCDS 1.1: every release and package made from real published worlds
(awarded, no award, cancelled at three moments, adoption check-ins recorded) is valid against
the reference schemas in ../shared/ocds with the declared extensions merged in, and holds what
the schema cannot check — unique ids, no nulls, every referenced party present with its role,
release ids never reused, the compiled release ocdsmerge makes, nobody named who must not be.
Then the mapping itself on hand-written content."""

from __future__ import annotations

import copy
import csv
import json
from collections.abc import Iterator
from datetime import timedelta
from functools import cache, partial
from pathlib import Path
from typing import Any

import ocdsmerge
import pytest
from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from procure.bakeoff import rules as bakeoff_rules
from procure.bakeoff import services as bakeoff
from procure.challenges import services as challenges
from procure.record import ocds
from tests.bakeoff import builders as bb
from tests.challenges import service_builders as sb
from tests.record import builders as rb

# The official OCDS 1.1 schemas, extensions and codelists: the reference copy beside the project
# (../shared/ocds) where there is one, else the same files kept with these tests.
_BESIDE = Path(__file__).resolve().parents[3] / "shared" / "ocds"
SHARED = _BESIDE if (_BESIDE / "release-schema.json").is_file() else (
    Path(__file__).resolve().parent / "ocds_reference")
CORE_ID = "https://standard.open-contracting.org/schema/1__1__5/release-schema.json"
DAY = timedelta(days=1)
PUB = ocds.Publication(prefix="ocds-tstpfx", base_url="https://open.example", publisher="Procure",
                       policy_url="https://open.example/open-data")


# --- the reference schemas ----------------------------------------------------------------------

def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _merge(target: Any, patch: Any) -> Any:
    """RFC 7386, written again here so the check does not lean on the code it checks."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = _merge(out.get(key), value)
    return out


@cache
def _registry_patches() -> dict[str, Path]:
    """extension.json address -> the reference copy of its release schema patch."""
    with (SHARED / "extensions" / "SOURCES.csv").open(newline="") as f:
        return {f"https://raw.githubusercontent.com/{row['repo']}/{row['ref']}/extension.json":
                SHARED / "extensions" / f"{row['name']}.json" for row in csv.DictReader(f)}


@cache
def reference_schema(extensions: tuple[str, ...]) -> dict:
    """The core release schema with each declared extension merged in: registry extensions
    from ../shared/ocds, ours from the file the platform serves. An undeclared-looking address
    fails the test."""
    schema = _json(SHARED / "release-schema.json")
    for url in extensions:
        if url.endswith(ocds.LOCAL_EXTENSION_PATH):
            patch = _json(ocds.EXTENSION_DIR / "release-schema.json")
        else:
            assert url in _registry_patches(), f"no reference copy of the extension {url}"
            patch = _json(_registry_patches()[url])
        schema = _merge(schema, patch)
    return schema


def validators(extensions: list[str]) -> tuple[Draft4Validator, Draft4Validator, Draft4Validator]:
    """(release, release package, record package) validators; the packages' remote reference to
    the release schema resolves, offline, to the merged reference schema."""
    schema = reference_schema(tuple(extensions))
    registry = Registry().with_resource(CORE_ID, Resource(contents=schema, specification=DRAFT4))
    make = partial(Draft4Validator, registry=registry, format_checker=Draft4Validator.FORMAT_CHECKER)
    return (make(schema), make(_json(SHARED / "release-package-schema.json")),
            make(_json(SHARED / "record-package-schema.json")))


def problems_of(validator: Draft4Validator, instance: Any, where: str) -> list[str]:
    return [f"{where} {'/'.join(map(str, e.absolute_path))}: {e.message[:300]}"
            for e in validator.iter_errors(instance)]


# --- what the schema cannot check ---------------------------------------------------------------

def _walk(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    yield path, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, f"{path}/{k}")
    elif isinstance(value, list):
        for n, v in enumerate(value):
            yield from _walk(v, f"{path}/{n}")


REFERENCES = {"buyer": "buyer", "procuringEntity": "procuringEntity", "sourceParty": "sourceParty"}
REFERENCE_LISTS = {"suppliers": "supplier", "tenderers": "tenderer"}


def _references(release: dict) -> Iterator[tuple[str, dict, str]]:
    """(path, organisation reference, the role its party must have) in a release."""
    for path, value in _walk(release):
        if not isinstance(value, dict) or path.startswith("/parties"):
            continue
        for key, role in REFERENCES.items():
            if isinstance(value.get(key), dict):
                yield f"{path}/{key}", value[key], role
        for key, role in REFERENCE_LISTS.items():
            for n, ref in enumerate(value.get(key) or ()):
                yield f"{path}/{key}/{n}", ref, role


def sound(release: dict) -> list[str]:
    """What is wrong with a release that the schema does not catch."""
    problems = []
    where = release.get("id", "?")
    for path, value in _walk(release):
        if value is None or value == "" or value == [] or value == {}:
            problems.append(f"{where} {path}: empty ({value!r})")
        if isinstance(value, list) and value and all(isinstance(v, dict) and "id" in v for v in value):
            ids = [v["id"] for v in value]
            if len(ids) != len(set(ids)):
                problems.append(f"{where} {path}: repeated ids {ids}")
    parties = {p["id"]: p for p in release.get("parties", ())}
    for path, ref, role in _references(release):
        party = parties.get(ref.get("id"))
        if party is None:
            problems.append(f"{where} {path}: {ref} is not in parties")
        elif party["name"] != ref.get("name") or role not in party["roles"]:
            problems.append(f"{where} {path}: {ref} does not match {party} (role {role})")
    bids = {b["id"] for b in release.get("bids", {}).get("details", ())}
    for award in release.get("awards", ()):
        for bid in award.get("relatedBids", ()):
            if bid not in bids:
                problems.append(f"{where} award {award['id']}: no bid {bid}")
    if "#" in release["id"] or not release["id"].startswith(release["ocid"] + "-"):
        problems.append(f"{where}: not an id of its ocid")
    return problems


@pytest.fixture
def check(app):
    """check(by_ocid) -> every release, after validating them, their packages and records."""

    def run(by_ocid: dict[str, list[dict]]) -> list[dict]:
        prefix = app.config["OCID_PREFIX"] + "-CH-"
        releases = [r for rs in by_ocid.values() for r in rs]
        assert releases
        pub = ocds.publication()
        when = ocds.latest(releases)
        release_package = ocds.release_package(pub, releases, uri=f"{pub.base_url}/x", published_date=when)
        records = [ocds.record(o, rs) for o, rs in by_ocid.items()]
        record_package = ocds.record_package(pub, records, uri=f"{pub.base_url}/y", published_date=when)
        assert release_package["extensions"] == record_package["extensions"] == pub.extensions
        release_v, release_package_v, record_package_v = validators(release_package["extensions"])
        problems = problems_of(release_package_v, release_package, "release package")
        problems += problems_of(record_package_v, record_package, "record package")
        for release in releases:
            problems += problems_of(release_v, release, release["id"])
            problems += sound(release)
        merger = ocdsmerge.Merger(schema=reference_schema(tuple(pub.extensions)))
        for rec in records:
            problems += problems_of(release_v, rec["compiledRelease"], f"compiled {rec['ocid']}")
            problems += sound(rec["compiledRelease"])
            assert rec["compiledRelease"] == merger.create_compiled_release(rec["releases"])
            assert rec["ocid"].startswith(prefix)
            assert all(r["ocid"] == rec["ocid"] for r in rec["releases"])
            dates = [r["date"] for r in rec["releases"]]
            assert dates == sorted(dates), rec["ocid"]
            # A contract's award is in the same process.
            awards = {a["id"] for a in rec["compiledRelease"].get("awards", ())}
            for contract in rec["compiledRelease"].get("contracts", ()):
                assert contract["awardID"] in awards, (rec["ocid"], contract)
        assert not problems, "\n".join(problems[:30])
        ids = [r["id"] for r in releases]
        assert len(ids) == len(set(ids)), "a release id is used twice"
        for package in (release_package, record_package):
            assert package["license"] == ocds.OGL
            assert package["publicationPolicy"] == app.config["BASE_URL"] + "/open-data"
            assert package["publisher"]["name"] == app.config["PUBLISHER_NAME"]
            assert package["version"] == "1.1"
        return releases

    return run


def _published(db, world) -> dict[str, list[dict]]:
    """Every release of the world's published record, by ocid, as the app builds them."""
    db.expire_all()
    rec = ocds.published_records(db, [world.challenge.id])[0]
    by_ocid = ocds.record_releases(rec, ocds.check_ins(db, [rec.challenge_id]), ocds.publication())
    again = ocds.record_releases(rec, ocds.check_ins(db, [rec.challenge_id]), ocds.publication())
    assert again == by_ocid  # the same data gives the same ids and the same content
    return by_ocid


def _one(by_ocid: dict[str, list[dict]], ocid: str, tag: str) -> dict:
    (found,) = [r for r in by_ocid[ocid] if tag in r["tag"]]
    return found


def _text(by_ocid: dict) -> str:
    return json.dumps(by_ocid, ensure_ascii=False)


def _never_named(world, text: str) -> None:
    """Nobody the open record must not name appears in it."""
    people = [world.lead, *world.assessors, *world.bake_off_assessors, *world.suppliers]
    for person in people:
        assert person.email not in text and f'"{person.name}"' not in text
    if len(world.suppliers) > len(world.shortlisted):
        outsider = world.outsider.membership.organisation.name
        assert f'"{outsider}"' not in text


def _ocid(world, position=None) -> str:
    from flask import current_app

    return ocds.ocid(current_app.config["OCID_PREFIX"], world.challenge.id, position)


def _org(user) -> str:
    return f"PROCURE-ORG-{user.membership.organisation_id}"


# --- worlds -------------------------------------------------------------------------------------

def test_an_awarded_challenge_is_valid_ocds_from_planning_to_contract(ctx, db, now, check):
    world = rb.concluded_world(db, now)
    rb.publish(db, world)
    by_ocid = _published(db, world)
    check(by_ocid)
    challenge, p1, p2 = _ocid(world), _ocid(world, 1), _ocid(world, 2)
    assert list(by_ocid) == [challenge, p1, p2]
    _never_named(world, _text(by_ocid))

    planning = _one(by_ocid, challenge, "planning")
    roles = {p["id"]: p["roles"] for p in planning["parties"]}
    assert roles == {_org(world.lead): ["buyer", "procuringEntity", "funder", "sourceParty", "payer"],
                     _org(world.partner): ["funder", "sourceParty"]}
    budget = planning["planning"]["budget"]
    assert budget["amount"] == {"amount": 60000, "currency": "GBP"}
    assert [(b["sourceParty"]["id"], b["amount"]["amount"]) for b in budget["budgetBreakdown"]] == [
        (_org(world.lead), 50000), (_org(world.partner), 10000)]
    assert planning["planning"]["rationale"] == sb.PROBLEM
    assert [(d["language"], d["url"]) for d in planning["planning"]["documents"]] == [
        ("en", f"http://procure.test/records/{world.challenge.id}"),
        ("cy", f"http://procure.test/records/{world.challenge.id}?lang=cy")]
    assert planning["tender"]["status"] == "planning"

    tender1 = _one(by_ocid, p1, "tender")["tender"]
    assert (tender1["procurementMethod"], tender1["status"]) == ("open", "active")
    assert tender1["value"] == {"amount": 50000, "currency": "GBP"}  # 2 contracts of up to £25,000
    assert [c["numbers"][0]["number"] for c in tender1["lots"][0]["awardCriteria"]["criteria"][:2]] \
        == [60, 40]
    assert _one(by_ocid, p1, "tender")["relatedProcesses"] == [
        {"id": "1", "relationship": ["planning"], "scheme": "ocid", "identifier": challenge,
         "title": world.challenge.title}]

    shortlist = _one(by_ocid, p1, "award")
    statistics = {s["measure"]: s["value"] for s in shortlist["bids"]["statistics"]}
    assert statistics == {"bids": 3, "validBids": 3}
    named = [_org(s) for s in world.shortlisted]
    assert [b["tenderers"][0]["id"] for b in shortlist["bids"]["details"]] == named
    assert [(b["status"], b["rank"]) for b in shortlist["bids"]["details"]] == [("valid", 1), ("valid", 2)]
    assert [b["assessment"]["totalScore"] for b in shortlist["bids"]["details"]] == [100, 90]
    assert [(a["status"], a["suppliers"][0]["id"], a["value"]["amount"]) for a in shortlist["awards"]] \
        == [("active", o, 20000) for o in named]   # each entrant's £20,000 bake-off contract
    bake_off_contracts = _one(by_ocid, p1, "contract")["contracts"]
    assert [c["awardID"] for c in bake_off_contracts] == [a["id"] for a in shortlist["awards"]]
    results = _one(by_ocid, p1, "implementation")["contracts"]
    assert [[(m["title"], m["observations"][0]["measure"]) for m in c["implementation"]["metrics"]]
            for c in results] == [[("Homes fixed", 30), ("Cost per home", 800)],
                                  [("Homes fixed", 50), ("Cost per home", 500)]]

    tender2 = _one(by_ocid, p2, "tender")
    assert tender2["tender"]["procurementMethod"] == "selective"
    assert [(r["relationship"], r["identifier"]) for r in tender2["relatedProcesses"]] == [
        (["planning"], challenge), (["prior"], p1)]
    assert "phase 1" in tender2["relatedProcesses"][1]["title"]
    assert [t["title"] for t in tender2["tender"]["targets"]] == ["Homes fixed", "Cost per home"]
    award = _one(by_ocid, p2, "award")
    winner = next(s for s in world.shortlisted
                  if s.membership.organisation_id == world.decision.contracts[0].organisation_id)
    (active,) = award["awards"]
    assert (active["status"], active["suppliers"][0]["id"], active["value"]["amount"]) == (
        "active", _org(winner), 40000)
    parties = {p["id"]: p["roles"] for p in award["parties"]}
    loser = next(s for s in world.shortlisted if s is not winner)
    assert parties[_org(winner)] == ["tenderer", "supplier"] and parties[_org(loser)] == ["tenderer"]
    assert {b["id"] for b in award["bids"]["details"]} >= set(active["relatedBids"])
    contract = _one(by_ocid, p2, "contract")["contracts"]
    assert [(c["awardID"], c["value"]["amount"]) for c in contract] == [(active["id"], 40000)]
    assert contract[0]["period"] == {"startDate": "2027-06-01T00:00:00+01:00",
                                     "endDate": "2028-05-31T23:59:59+01:00"}
    conclusion, assets = [r for r in by_ocid[challenge] if r["tag"] == ["planningUpdate"]]
    assert conclusion["tender"]["status"] == "complete"
    assert [(d["title"], d["url"]) for d in assets["planning"]["documents"]] == [
        ("Prototype source code", "https://example.org/code")]


def test_no_award_is_an_unsuccessful_award_with_its_reason(ctx, db, now, check):
    world = rb.concluded_world(db, now, award=False, partner=False)
    rb.publish(db, world)
    by_ocid = _published(db, world)
    check(by_ocid)
    award = _one(by_ocid, _ocid(world, 2), "award")
    assert award["awards"] == [{"id": "no-award", "status": "unsuccessful", "date": award["date"],
                                "description": "Neither prototype met the targets",
                                "relatedLots": ["1"]}]
    assert award["tender"]["status"] == "unsuccessful"
    assert all(p["roles"] == ["tenderer"] for p in award["parties"][1:])
    assert not [r for r in by_ocid[_ocid(world, 2)] if "contract" in r["tag"]]
    compiled = ocds.record(_ocid(world, 2), by_ocid[_ocid(world, 2)])["compiledRelease"]
    assert compiled["tender"]["status"] == "unsuccessful"
    _never_named(world, _text(by_ocid))


def _cancel(db, world, at):
    challenges.cancel_challenge(db, actor=world.lead, challenge_id=world.challenge.id,
                                reason="The service was taken over by the health board", now=at)
    return rb.publish(db, world, at=at + DAY)


def test_a_challenge_cancelled_after_its_shortlist(ctx, db, now, check):
    world = bb.bake_off_world(db, now, suppliers=3)
    record = _cancel(db, world, world.decided_at + DAY)
    assert record.content["outcome"] == "cancelled"
    by_ocid = _published(db, world)
    check(by_ocid)
    assert list(by_ocid) == [_ocid(world), _ocid(world, 1)]  # the bake-off never opened
    cancellation = _one(by_ocid, _ocid(world), "tenderCancellation")
    assert cancellation["tender"] == {"id": f"CH-{world.challenge.id}", "status": "cancelled",
                                      "statusDetails": "The service was taken over by the health board"}
    # The decided phase keeps its shortlist; nobody was under a bake-off contract yet.
    assert [r["tag"] for r in by_ocid[_ocid(world, 1)]] == [["tender"], ["award"]]
    _never_named(world, _text(by_ocid))


def test_a_challenge_cancelled_during_its_bake_off(ctx, db, now, check):
    world = bb.bake_off_world(db, now)
    bb.invite(db, world)
    _cancel(db, world, bb.during(world))
    by_ocid = _published(db, world)
    check(by_ocid)
    p2 = by_ocid[_ocid(world, 2)]
    assert [r["tag"] for r in p2] == [["tender"], ["tenderCancellation"]]
    assert p2[1]["tender"]["statusDetails"] == "The service was taken over by the health board"
    compiled = ocds.record(_ocid(world, 2), p2)["compiledRelease"]
    assert (compiled["tender"]["status"], compiled["tender"]["lots"][0]["status"]) == (
        "cancelled", "cancelled")
    assert len(_one(by_ocid, _ocid(world, 1), "contract")["contracts"]) == 2


def test_a_challenge_cancelled_before_its_first_decision(ctx, db, now, check):
    world = bb.bake_off_world(db, now, decided=False)
    _cancel(db, world, world.decided_at)
    by_ocid = _published(db, world)
    check(by_ocid)
    assert [r["tag"] for r in by_ocid[_ocid(world, 1)]] == [["tender"], ["tenderCancellation"]]
    assert "bids" not in json.dumps(by_ocid)  # nobody is named, nothing is counted
    _never_named(world, _text(by_ocid))


@pytest.fixture
def wellbeing(monkeypatch):
    """Worlds whose criteria are well-being goals (and the gate an eligibility check)."""
    goals = ("prosperous", "healthier", "moreEqual")
    monkeypatch.setattr(sb, "framework", partial(sb.framework, scored=goals))
    monkeypatch.setattr(sb, "SCORED", goals)


def test_adoption_check_ins_extend_the_awarded_contract(ctx, db, now, check, wellbeing):
    world = bb.bake_off_world(db, now, code="wellbeing-goals", partner=True)
    bb.full_bake_off(db, world)
    bb.award(db, world)
    rb.publish(db, world)
    before = _published(db, world)
    released = world.decision.released_at
    for months, in_use, values in ((6, True, {world.higher.id: "41"}),
                                   (12, False, {world.higher.id: "44", world.lower.id: "700.5"})):
        due = bakeoff_rules.check_in_due_at(released, months)
        bakeoff.ask_for_check_ins(db, now=due)
        bakeoff.record_check_in(db, actor=world.lead, challenge_id=world.challenge.id,
                                months=months, in_use=in_use,
                                used_by="Valleys Housing and two councils" if in_use else "",
                                notes="Planning a wider roll-out", values=values, now=due + DAY)
    by_ocid = _published(db, world)
    check(by_ocid)
    p2 = _ocid(world, 2)
    # The check-ins add releases; nothing published before changes.
    assert [r for r in by_ocid[p2] if "implementation" not in r["tag"]] == before[p2]
    six, twelve = [r for r in by_ocid[p2] if "implementation" in r["tag"]]
    contract_id = f"contract-{world.decision.contracts[0].id}"
    (contract,) = six["contracts"]
    assert contract["id"] == contract_id
    (milestone,) = contract["implementation"]["milestones"]
    assert (milestone["inUse"], milestone["description"]) == (
        True, "In use by: Valleys Housing and two councils")
    assert [(m["title"], m["observations"][0]["measure"]) for m in contract["implementation"]["metrics"]] \
        == [("Homes fixed", 41)]
    assert twelve["contracts"][0]["implementation"]["milestones"][0]["inUse"] is False
    assert "Planning a wider roll-out" not in _text(by_ocid)  # the notes stay with the authority
    compiled = ocds.record(p2, by_ocid[p2])["compiledRelease"]
    (implementation,) = [c["implementation"] for c in compiled["contracts"] if c["id"] == contract_id]
    assert [m["id"] for m in implementation["milestones"]] == ["check-in-6", "check-in-12"]
    assert {m["title"]: [o["measure"] for o in m["observations"]] for m in implementation["metrics"]} \
        == {"Homes fixed": [41, 44], "Cost per home": [700.5]}
    criteria = _one(by_ocid, p2, "tender")["tender"]["assessmentCriteria"]
    assert [(c["code"], c.get("wellbeingGoals"), c["gate"]) for c in criteria] == [
        ("prosperous", ["prosperous"], False), ("healthier", ["healthier"], False),
        ("eligibility", None, True)]

    # Correcting a check-in publishes a new release, under a new id.
    due = bakeoff_rules.check_in_due_at(released, 6)
    bakeoff.record_check_in(db, actor=world.lead, challenge_id=world.challenge.id, months=6,
                            in_use=True, used_by="Valleys Housing", notes="", values={},
                            now=due + 3 * DAY)
    corrected = _published(db, world)
    check(corrected)
    new_six = [r for r in corrected[p2] if "implementation" in r["tag"]][-1]
    assert new_six["id"] != six["id"] and six["id"] not in _text(corrected)


def test_only_published_records_give_releases(ctx, db, now):
    world = rb.concluded_world(db, now)
    rb.write_lessons(db, world)
    assert ocds.published_records(db, [world.challenge.id]) == []
    pub = ocds.publication()
    assert ocds.load_record(db, _ocid(world), pub) is None
    rb.publish(db, world)
    assert ocds.load_record(db, _ocid(world, 2), pub)
    assert ocds.load_record(db, _ocid(world, 3), pub) is None
    assert ocds.load_record(db, f"ocds-zzzzzz-CH-{world.challenge.id}", pub) is None
    assert [r.challenge_id for r in ocds.published_records(db)] == [world.challenge.id]


# --- the shipped schemas and the local extension ------------------------------------------------

def test_the_app_merges_the_same_schemas_as_the_reference():
    assert _json(ocds.SCHEMA_DIR / "release-schema.json") == _json(SHARED / "release-schema.json")
    for name, url in ocds.REGISTRY_EXTENSIONS:
        assert _json(ocds.SCHEMA_DIR / name) == _json(_registry_patches()[url]), name
    assert ocds.release_schema() == reference_schema(tuple(PUB.extensions))
    Draft4Validator.check_schema(ocds.release_schema())


def test_the_local_extension_is_complete_and_its_codelists_are_the_acts():
    metadata = ocds.extension_metadata("https://open.example")
    assert {"name", "description", "documentationUrl", "compatibility", "schemas"} <= set(metadata)
    assert metadata["documentationUrl"] == {"en": "https://open.example/open-data",
                                            "cy": "https://open.example/open-data?lang=cy"}
    assert metadata["compatibility"] == ["1.1"] and metadata["schemas"] == ["release-schema.json"]
    assert set(metadata["dependencies"]) <= set(PUB.extensions)
    for name in metadata["schemas"] + [f"codelists/{c}" for c in metadata["codelists"]]:
        assert ocds.extension_file(name) is not None, name
    seed = {f["code"]: [c["code"] for c in f["criteria"]]
            for f in _json(Path(ocds.__file__).parents[1] / "values" / "data" / "frameworks.json")
            ["frameworks"]}
    criterion = ocds.release_schema()["definitions"]["AssessmentCriterion"]["properties"]
    for framework, (field, file) in ocds.CODELIST_FRAMEWORKS.items():
        assert list(ocds.codelist(file)) == seed[framework] == criterion[field]["items"]["enum"]
    with (ocds.EXTENSION_DIR / "codelists" / "wellbeingGoal.csv").open(encoding="utf-8") as f:
        rows = {r["Code"]: r for r in csv.DictReader(f)}
    assert rows["vibrantCultureWelshLanguage"]["Title_cy"] == \
        "Cymru â diwylliant bywiog lle mae'r Gymraeg yn ffynnu"
    assert ocds.extension_file("schema/release-schema.json") is None
    assert ocds.extension_file("../ocds.py") is None


# --- the mapping on hand-written content --------------------------------------------------------

def _criteria(first_id: int, framework: str = "wellbeing-goals",
              codes: tuple[str, ...] = ("healthier", "moreEqual")) -> list[dict]:
    made = [{"id": first_id + n, "criterion_id": 10 + n, "framework": framework,
             "framework_version": 1, "code": code, "kind": "scored", "name_en": code,
             "name_cy": code, "weight": w} for n, (code, w) in enumerate(zip(codes, (70, 30), strict=True))]
    made.append({"id": first_id + len(codes), "criterion_id": 99, "framework": "solution-quality",
                 "framework_version": 1, "code": "eligibility", "kind": "gate",
                 "name_en": "Eligibility", "name_cy": "Cymhwysedd", "weight": None})
    return made


def _ranked(proposal_id: int, org: int, rank: int, selected: bool, ids: tuple[int, int, int],
            **extra) -> dict:
    return {"proposal_id": proposal_id, "organisation_id": org, "organisation": f"Supplier {org}",
            "rank": rank, "tied": False, "total": "80.50", "eligible": True,
            "finals": {str(ids[0]): "3.25", str(ids[1]): "3.00"}, "gates": {str(ids[2]): True},
            "assessed": None, "outcome": None, "selected": selected, "summary": "", **extra}


def _phase(position: int, kind: str, **values) -> dict:
    phase = {"id": position, "position": position, "kind": kind, "status": "open",
             "invitation_only": position > 1, "opens_at": "2026-01-05T09:00:00+00:00",
             "closes_at": "2026-02-05T12:00:00+00:00", "opened_at": "2026-01-05T09:00:00+00:00",
             "closed_at": None, "planned_contracts": 3, "max_value_pence": 1_000_050,
             "duration_months": 3, "threshold_percent": 60, "outcome_share_percent": None,
             "criteria": _criteria(position * 10), "measures": [], "proposals_received": 0,
             "statistics": None, "distribution": [], "decision": None, "ranked": [],
             "entrants": [], "contracts": []}
    phase.update(values)
    return phase


CONTENT = {
    "schema": 1,
    "challenge": {"id": 7, "title": "Safer crossings", "title_cy": "Croesfannau mwy diogel",
                  "summary": "Fewer near misses", "summary_cy": "", "problem_statement": "Cars.",
                  "context": "", "affected": "", "outcomes_sought": "", "tags": ["roads"],
                  "status": "in_progress", "version": 2,
                  "created_at": "2025-12-01T09:00:00+00:00", "opened_at": "2026-01-05T09:00:00+00:00",
                  "in_progress_at": None, "concluded_at": None, "cancelled_at": None,
                  "cancel_reason": "", "derived_from": None},
    "outcome": "no_award",
    "lead": {"organisation_id": 1, "name": "Cyngor Sir Example"},
    "funders": [{"organisation_id": 1, "name": "Cyngor Sir Example", "role": "lead",
                 "pledge_pence": 4_000_000}],
    "budget_pence": 4_000_000,
    "phases": [
        _phase(1, "feasibility", status="decided", closed_at="2026-02-05T12:00:00+00:00",
               proposals_received=5,
               statistics={"received": 5, "eligible": 4, "above_threshold": 2},
               decision={"id": 1, "kind": "shortlist", "recorded_at": "2026-02-10T09:00:00+00:00",
                         "released_at": "2026-02-11T09:00:00+00:00", "reason": "Best two",
                         "departs": False, "selected": 2},
               ranked=[_ranked(101, 5, 1, True, (10, 11, 12)),
                       _ranked(102, 6, 2, True, (10, 11, 12))]),
        _phase(2, "bake_off", status="planned", opened_at=None, planned_contracts=1,
               outcome_share_percent=40, measures=[
                   {"id": 3, "name": "Near misses", "unit": "per month", "direction": "lower",
                    "baseline": "20", "target": "5", "criterion_id": 10, "framework": "x",
                    "code": "healthier", "weight": 100}]),
    ],
    "clarifications": [], "amendments": [], "lessons": {"worked": "a", "not_worked": "b"},
    "assets": [], "licence": ocds.OGL, "published_at": "2026-03-01T09:00:00+00:00",
}


def _content(**changes) -> dict:
    content = copy.deepcopy(CONTENT)
    for key, value in changes.items():
        content[key] = value
    return content


def test_ocids_are_the_prefix_the_challenge_and_the_phase():
    assert ocds.ocid("ocds-abc123", 42) == "ocds-abc123-CH-42"
    assert ocds.ocid("ocds-abc123", 42, 2) == "ocds-abc123-CH-42-P2"
    assert ocds.parse_ocid("ocds-abc123", "ocds-abc123-CH-42") == (42, None)
    assert ocds.parse_ocid("ocds-abc123", "ocds-abc123-CH-42-P2") == (42, 2)
    assert ocds.parse_ocid("ocds-abc123", f"ocds-abc123-CH-{2**31 - 1}") == (2**31 - 1, None)
    for other in ("ocds-abc124-CH-42", "ocds-abc123-CH-042", "ocds-abc123-CH-42-P", "ocds-abc123-CH-x",
                  "ocds-abc123-CH-42-P2-P3", "ocds-abc123-CH-42 ", "ocds.abc123-CH-42",
                  f"ocds-abc123-CH-{2**31}", "ocds-abc123-CH-99999999999"):
        assert ocds.parse_ocid("ocds-abc123", other) is None, other


def test_prune_drops_what_is_empty_and_keeps_false_and_zero():
    assert ocds.prune({"a": None, "b": "", "c": [], "d": {}, "e": [None, {"f": None}], "g": False,
                       "h": 0, "i": [{"j": ""}, {"k": 1}]}) == {"g": False, "h": 0, "i": [{"k": 1}]}


def test_times_are_utc_to_the_second_and_days_are_welsh_days():
    by_ocid = ocds.releases_by_ocid(_content(), [], PUB)
    assert by_ocid["ocds-tstpfx-CH-7"][0]["date"] == "2026-01-05T09:00:00Z"
    assert ocds._utc("2026-07-01T10:30:15.123456+01:00") == "2026-07-01T09:30:15Z"
    assert ocds._day("2026-07-01") == "2026-07-01T00:00:00+01:00"
    assert ocds._day("2026-12-31", end=True) == "2026-12-31T23:59:59+00:00"


def test_a_phase_opens_as_a_tender_with_its_weights_and_shared_values():
    by_ocid = ocds.releases_by_ocid(_content(), [], PUB)
    assert list(by_ocid) == ["ocds-tstpfx-CH-7", "ocds-tstpfx-CH-7-P1"]  # phase 2 never opened
    tender = by_ocid["ocds-tstpfx-CH-7-P1"][0]["tender"]
    assert tender["value"] == {"amount": 30001.5, "currency": "GBP"}  # 3 × £10,000.50
    assert (tender["title"], tender["title_cy"]) == ("Safer crossings", "Croesfannau mwy diogel")
    assert [(c["id"], c.get("wellbeingGoals"), c.get("weight")) for c in tender["assessmentCriteria"]] \
        == [("10", ["healthier"], 70), ("11", ["moreEqual"], 30), ("12", None, None)]
    numbers = [c.get("numbers") for c in tender["lots"][0]["awardCriteria"]["criteria"]]
    assert numbers == [[{"number": 70, "weight": "percentageExact"}],
                       [{"number": 30, "weight": "percentageExact"}], None]


def test_ways_of_working_and_unknown_codes():
    content = _content()
    content["phases"][0]["criteria"] = _criteria(10, "ways-of-working", ("longTerm", "notAWay"))
    tender = ocds.releases_by_ocid(content, [], PUB)["ocds-tstpfx-CH-7-P1"][0]["tender"]
    assert [(c.get("waysOfWorking"), c.get("wellbeingGoals")) for c in tender["assessmentCriteria"]] \
        == [(["longTerm"], None), (None, None), (None, None)]


def test_a_bake_off_shares_its_weights_with_its_outcome_measures():
    content = _content()
    content["phases"][1].update(opened_at="2026-02-20T09:00:00+00:00", status="open")
    release = ocds.releases_by_ocid(content, [], PUB)["ocds-tstpfx-CH-7-P2"][0]
    criteria = release["tender"]["lots"][0]["awardCriteria"]["criteria"]
    assert [(c["name"], c.get("numbers", [{}])[0].get("number")) for c in criteria] == [
        ("healthier", 42), ("moreEqual", 18), ("Verified outcome: Near misses", 40),
        ("Eligibility", None)]
    assert release["tender"]["procurementMethod"] == "selective"
    assert release["relatedProcesses"][1]["identifier"] == "ocds-tstpfx-CH-7-P1"
    assert release["tender"]["targets"][0]["observations"] == [
        {"id": "baseline", "measure": 20, "unit": {"name": "per month"}},
        {"id": "target", "measure": 5, "unit": {"name": "per month"}}]


def test_amendments_are_tender_amendments_of_the_first_phase():
    content = _content(amendments=[
        {"version": 2, "note": "Deadline moved", "created_at": "2026-01-20T10:00:00+00:00"},
        {"version": 3, "note": "Budget raised", "created_at": "2026-01-25T10:00:00+00:00"}])
    tender, first, second, _award = ocds.releases_by_ocid(content, [], PUB)["ocds-tstpfx-CH-7-P1"]
    assert first["tag"] == second["tag"] == ["tenderAmendment"]
    assert first["tender"]["amendments"] == [{"id": "2", "date": "2026-01-20T10:00:00Z",
                                              "description": "Deadline moved",
                                              "amendsReleaseID": tender["id"]}]
    assert second["tender"]["amendments"][0]["amendsReleaseID"] == first["id"]
    compiled = ocds.record(first["ocid"], [tender, first, second])["compiledRelease"]
    assert [a["id"] for a in compiled["tender"]["amendments"]] == ["2", "3"]


def test_an_amendment_before_any_phase_opened_updates_the_plan():
    content = _content(amendments=[
        {"version": 2, "note": "Deadline moved", "created_at": "2026-01-02T10:00:00+00:00"}])
    for phase in content["phases"]:
        phase.update(opened_at=None, decision=None, ranked=[], status="planned")
    (planning, update), = ocds.releases_by_ocid(content, [], PUB).values()
    assert update["tag"] == ["planningUpdate"]
    assert update["tender"]["amendments"][0]["description"] == "Deadline moved"


def test_a_shortlist_awards_the_bake_off_contracts():
    content = _content()
    content["phases"][1].update(status="open", opened_at="2026-02-20T09:00:00+00:00", entrants=[
        {"organisation_id": 5, "organisation": "Supplier 5", "contract_value_pence": 1_234_567,
         "starts_on": "2026-03-02", "ends_on": "2026-05-29",
         "invited_at": "2026-02-20T09:00:00+00:00", "results": [
             {"measure_id": 3, "verified": "7.5", "status": "corrected",
              "verified_at": "2026-06-01T09:00:00+00:00"},
             {"measure_id": 4, "verified": "1", "status": "accepted", "verified_at": None}]},
        {"organisation_id": 6, "organisation": "Supplier 6", "contract_value_pence": 1_000_000,
         "starts_on": "2026-03-02", "ends_on": "2026-05-29",
         "invited_at": "2026-02-21T09:00:00+00:00", "results": [
             {"measure_id": 3, "verified": None, "status": "reported", "verified_at": None}]}])
    p1 = ocds.releases_by_ocid(content, [], PUB)["ocds-tstpfx-CH-7-P1"]
    assert [r["tag"] for r in p1] == [["tender"], ["award"], ["contract"], ["contract"],
                                      ["implementation"]]
    award = p1[1]
    assert [(a["id"], a["value"]["amount"]) for a in award["awards"]] == [
        ("award-101", 12345.67), ("award-102", 10000)]
    assert [s["measure"] for s in award["bids"]["statistics"]] == ["bids", "validBids"]
    assert [b["assessment"]["scores"] for b in award["bids"]["details"]][0] == [
        {"criterionID": "10", "score": 3.25}, {"criterionID": "11", "score": 3},
        {"criterionID": "12", "passed": True}]
    assert [[c["awardID"] for c in r["contracts"]] for r in p1[2:4]] == [["award-101"], ["award-102"]]
    (measured,) = p1[4]["contracts"]   # only verified measurements of known measures
    assert measured["implementation"]["metrics"] == [
        {"id": "measure-3", "title": "Near misses",
         "observations": [{"id": "verified", "measure": 7.5, "unit": {"name": "per month"}}]}]


def test_release_ids_follow_the_content():
    first = ocds.releases(_content(), [], PUB)
    assert ocds.releases(_content(), [], PUB) == first
    changed = _content()
    changed["phases"][0]["decision"]["reason"] = "The best two"
    second = ocds.releases(changed, [], PUB)
    assert [a["id"] == b["id"] for a, b in zip(first, second, strict=True)] == [True, True, False]
    assert first[2]["id"].startswith("ocds-tstpfx-CH-7-P1-award-")


def test_cancelling_cancels_the_open_phases_and_the_plan():
    content = _content()
    content["challenge"].update(status="cancelled", cancelled_at="2026-02-25T09:00:00+00:00",
                                cancel_reason="Funding withdrawn")
    content["phases"][1].update(status="cancelled", opened_at="2026-02-20T09:00:00+00:00")
    by_ocid = ocds.releases_by_ocid(content, [], PUB)
    assert [r["tag"] for r in by_ocid["ocds-tstpfx-CH-7-P1"]] == [["tender"], ["award"]]
    assert [r["tag"] for r in by_ocid["ocds-tstpfx-CH-7-P2"]] == [["tender"], ["tenderCancellation"]]
    assert by_ocid["ocds-tstpfx-CH-7"][-1]["tender"] == {
        "id": "CH-7", "status": "cancelled", "statusDetails": "Funding withdrawn"}


def test_check_ins_need_an_award_contract():
    check_in = {"months": 6, "recorded_at": "2026-09-01T09:00:00+00:00", "in_use": True,
                "used_by": "Two schools", "measure_values": {"3": "4"}}
    assert not [r for r in ocds.releases(_content(), [check_in], PUB) if "implementation" in r["tag"]]


def test_the_reference_kept_with_the_tests_is_the_official_one():
    """The copy in tests/record/ocds_reference is the reference beside the project, file for
    file (checked wherever that reference is present)."""
    kept = Path(__file__).resolve().parent / "ocds_reference"
    assert (kept / "release-schema.json").is_file()
    if not (_BESIDE / "release-schema.json").is_file():
        return
    ours = sorted(p.relative_to(kept) for p in kept.rglob("*") if p.is_file())
    theirs = sorted(p.relative_to(_BESIDE) for p in _BESIDE.rglob("*") if p.is_file())
    assert ours == theirs
    assert all((kept / p).read_bytes() == (_BESIDE / p).read_bytes() for p in ours)
