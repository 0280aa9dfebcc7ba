"""``flask demo generate``: synthetic published challenges in bulk, on each database backend.

What they must be for a benchmark to mean anything: records the catalogue finds and filters
like real ones, that the shared-values view counts, whose frozen content has exactly the shape
the publication job composes, and that the public record page shows."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select

from procure.challenges.models import ChallengeFunder, ChallengeTag
from procure.record import queries
from procure.record.generate import RARE_WORDS, generate
from procure.record.models import ChallengeRecord, RecordCriterion, RecordResult
from procure.values.models import ValueCriterion, ValueFramework
from tests.record import builders as rb


def _generated(db, now, count: int = 30, seed: int = 7) -> list[ChallengeRecord]:
    from procure.values.services import load_seed

    load_seed(db, now=now)
    made = generate(db, challenges=count, seed=seed, now=now, batch=12)  # three batches
    assert made.challenges == count
    return list(db.execute(select(ChallengeRecord).order_by(ChallengeRecord.id)).scalars())


def _ids(page: queries.Page) -> set[int]:
    return {r.challenge_id for r in page.items}


def test_generated_records_are_found_filtered_and_counted(ctx, db, now) -> None:
    records = _generated(db, now)
    assert len(records) == 30
    assert {r.status for r in records} == {"published"}
    assert {r.outcome for r in records} == {"awarded", "no_award", "cancelled"}
    assert {r.year for r in records} <= set(range(2021, 2027))
    everything = queries.catalogue(db, queries.Filters(), per_page=100)
    assert everything.total == 30

    # Search: a title's words find every record with that title; Welsh titles are searched.
    first = records[0]
    same_title = {r.challenge_id for r in records if r.title == first.title}
    found = queries.catalogue(db, queries.Filters(query=first.title), per_page=100)
    assert same_title <= _ids(found)
    assert found.items[0].title == first.title  # the title counts most
    welsh = next(r for r in records if r.title_cy)
    word = max(welsh.title_cy.split(), key=len)
    assert welsh.challenge_id in _ids(queries.catalogue(db, queries.Filters(query=word),
                                                        per_page=100))
    assert queries.catalogue(db, queries.Filters(query="zzzunfindable")).total == 0

    # Every filter narrows to what the rows say.
    for outcome in ("awarded", "no_award", "cancelled"):
        page = queries.catalogue(db, queries.Filters(outcome=outcome), per_page=100)
        assert _ids(page) == {r.challenge_id for r in records if r.outcome == outcome}
    year = first.year
    assert _ids(queries.catalogue(db, queries.Filters(year=year), per_page=100)) == {
        r.challenge_id for r in records if r.year == year}
    tag = first.content["challenge"]["tags"][0]
    tagged = set(db.execute(select(ChallengeTag.challenge_id).where(ChallengeTag.tag == tag))
                 .scalars())
    assert _ids(queries.catalogue(db, queries.Filters(tag=tag), per_page=100)) == tagged
    assert tag in queries.tag_choices(db)
    lead = first.content["lead"]["organisation_id"]
    funded = set(db.execute(select(ChallengeFunder.challenge_id)
                            .where(ChallengeFunder.organisation_id == lead)).scalars())
    assert _ids(queries.catalogue(db, queries.Filters(authority_id=lead), per_page=100)) == funded
    assert (lead, first.lead_name) in queries.authority_choices(db)
    healthier = {r.challenge_id for r in records
                 if any(c["framework"] == "wellbeing-goals" and c["code"] == "healthier"
                        for p in r.content["phases"] for c in p["criteria"])}
    page = queries.catalogue(db, queries.Filters(criterion="wellbeing-goals.healthier"),
                             per_page=100)
    assert _ids(page) == healthier

    # The shared-values view counts them: records per criterion, verified results.
    uses = {u.key: u for u in queries.shared_values(db)}
    assert uses["wellbeing-goals.healthier"].records == len(healthier)
    key_of = ValueFramework.code + "." + ValueCriterion.code
    results = dict(db.execute(
        select(key_of, func.count(RecordResult.id))
        .join(ValueCriterion, ValueCriterion.id == RecordResult.criterion_id)
        .join(ValueFramework, ValueFramework.id == ValueCriterion.framework_id)
        .group_by(key_of)).all())
    assert sum(results.values()) > 0
    for key, count in results.items():
        assert uses[key].measurements == count
        assert uses[key].average_achievement is not None
    pairs = select(RecordCriterion.record_id, RecordCriterion.criterion_id).distinct().subquery()
    assert sum(u.records for u in uses.values()) == db.execute(
        select(func.count()).select_from(pairs)).scalar_one()


def test_generated_records_agree_with_themselves(ctx, db, now) -> None:
    """Totals, ranks, selections and named suppliers follow the rules a real record keeps."""
    for record in _generated(db, now):
        content = record.content
        assert record.outcome == content["outcome"]
        assert (record.title, record.summary) == (content["challenge"]["title"],
                                                  content["challenge"]["summary"])
        assert record.budget_pence == sum(f["pledge_pence"] for f in content["funders"])
        awarded = [c for p in content["phases"] for c in p["contracts"]]
        assert bool(awarded) == (record.outcome == "awarded")
        selected = {r["organisation_id"] for p in content["phases"] for r in p["ranked"]
                    if r["selected"]}
        for phase in content["phases"]:
            decision = phase["decision"]
            if decision is None:
                assert record.outcome == "cancelled" and not phase["ranked"]
                continue
            assert phase["statistics"]["received"] == phase["proposals_received"]
            assert len(phase["distribution"]) == phase["proposals_received"]
            assert sum(phase["statistics"]["total_bands"]) == phase["proposals_received"]
            # Only suppliers some released decision selected are named.
            assert {r["organisation_id"] for r in phase["ranked"]} <= selected
            assert sum(r["selected"] for r in phase["ranked"]) == decision["selected"]
            ranks = [r["rank"] for r in phase["ranked"] if r["eligible"]]
            assert ranks == sorted(ranks)


def _compare(real: Any, made: Any, path: str = "content") -> None:
    """Both have the same keys at every level and the same kind of value (None matches any:
    a field empty in one record may be set in another); keys that are ids match any ids."""
    if real is None or made is None:
        return
    if isinstance(real, dict):
        assert isinstance(made, dict), path
        if real and all(k.isdigit() for k in real):
            assert made and all(k.isdigit() for k in made), path
            _compare(next(iter(real.values())), next(iter(made.values())), f"{path}[id]")
            return
        assert set(real) == set(made), (path, set(real) ^ set(made))
        for key in real:
            _compare(real[key], made[key], f"{path}.{key}")
    elif isinstance(real, list):
        assert isinstance(made, list), path
        for n, (a, b) in enumerate(zip(real, made, strict=False)):
            _compare(a, b, f"{path}[{n}]")
    else:
        assert type(real) is type(made), (path, real, made)


@pytest.mark.parametrize("award", [True, False], ids=["awarded", "no_award"])
def test_generated_content_has_the_shape_the_publication_job_composes(ctx, db, now,
                                                                      award) -> None:
    world = rb.concluded_world(db, now, award=award)
    real = rb.publish(db, world).content
    # The world's own framework is the one loaded: generate from its criteria.
    generate(db, challenges=40, seed=3, now=now, batch=40)
    outcome = "awarded" if award else "no_award"
    made = db.execute(select(ChallengeRecord).where(
        ChallengeRecord.outcome == outcome, ChallengeRecord.challenge_id != world.challenge.id)
    ).scalars().all()
    two_phases = [r.content for r in made if len(r.content["phases"]) == 2]
    assert two_phases, "the seed makes two-phase records of this outcome"
    for content in two_phases:
        _compare(real, content)
        # Every list the real record fills, the generated one fills too (when it has one).
        for a, b in zip(real["phases"], content["phases"], strict=True):
            for key in ("criteria", "ranked", "entrants", "distribution"):
                assert bool(a[key]) == bool(b[key]), key
            assert bool(a["measures"]) == bool(b["measures"])
            assert bool(a["contracts"]) == bool(b["contracts"])


def test_the_same_seed_makes_the_same_challenges(ctx, db, now) -> None:
    def texts(records: list[ChallengeRecord]) -> list[tuple]:
        return [(r.title, r.title_cy, r.outcome, r.year, r.budget_pence, r.search_body)
                for r in records]

    first = _generated(db, now, count=10, seed=11)
    generate(db, challenges=10, seed=11, now=now)  # again: new ids, the same challenges
    every = list(db.execute(select(ChallengeRecord).order_by(ChallengeRecord.id)).scalars())
    assert len(every) == 20
    assert texts(every[10:]) == texts(first)
    assert {r.challenge_id for r in every[10:]}.isdisjoint(r.challenge_id for r in first)


def test_a_rare_word_finds_few(ctx, db, now) -> None:
    records = _generated(db, now, count=300, seed=5)
    rare = {w: {r.challenge_id for r in records if re.search(rf"\b{w}\b", r.search_body)}
            for w in RARE_WORDS}
    word, having = max(rare.items(), key=lambda item: len(item[1]))
    assert 0 < len(having) < 30
    page = queries.catalogue(db, queries.Filters(query=word), per_page=100)
    assert _ids(page) == having


def test_a_generated_record_is_shown_on_its_public_page(ctx, db, now, client) -> None:
    records = _generated(db, now, count=12)
    for record in (records[0], next(r for r in records if r.outcome == "cancelled")):
        response = client.get(f"/records/{record.challenge_id}")
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert record.title in page.replace("&#39;", "'")
        assert record.lead_name in page


def test_the_command_says_how_many_it_made(app, db) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "generate", "--challenges", "25", "--seed", "1"])
    assert result.exit_code == 0, result.output
    assert "Made 25 published challenges" in result.output
    assert db.execute(select(func.count(ChallengeRecord.id))).scalar_one() == 25
