"""Nothing sealed or confidential reaches any public output.

Unique marker strings are written into everything the open record must never hold — what the
proposals say (responses, team, timeline), the bake-off evidence, the assessors' names and
comments, the moderators' rationales, an unsuccessful supplier's name and the lead contact's
name and address — then the record is published and every public page, feed, export and API
response, in both languages, is read and searched for each marker.
"""

from __future__ import annotations

import json

from flask import current_app
from sqlalchemy import select, update

from procure.accounts.models import Organisation, User
from procure.assessment.models import (
    Assessment,
    AssessmentMark,
    AssessorAppointment,
    Decision,
    Moderation,
)
from procure.bakeoff.models import MeasurementReport
from procure.challenges.models import Challenge, Phase
from procure.record.ocds import ocid
from procure.submissions.models import Proposal, ProposalResponse
from tests.record import builders as rb

MARKERS = {
    "response": "zqxresponsemarker",
    "team": "zqxteammarker",
    "timeline": "zqxtimelinemarker",
    "evidence": "zqxevidencemarker",
    "justification": "zqxjustificationmarker",
    "moderation": "zqxmoderationmarker",
    "assessor": "Zqxassessormarker",
    "loser": "Zqxlosermarker Ltd",
    "contact_name": "Zqxcontactmarker",
    "contact_email": "zqxcontact@marker.example",
}


def _seed_markers(db, world) -> None:
    """Write a marker into every confidential place, as the stored data."""
    challenge_id = world.challenge.id
    phase_ids = select(Phase.id).where(Phase.challenge_id == challenge_id)
    proposal_ids = select(Proposal.id).where(Proposal.phase_id.in_(phase_ids))
    db.execute(update(ProposalResponse).where(ProposalResponse.proposal_id.in_(proposal_ids))
               .values(text=MARKERS["response"]))
    db.execute(update(Proposal).where(Proposal.id.in_(proposal_ids))
               .values(team=MARKERS["team"], timeline=MARKERS["timeline"]))
    db.execute(update(MeasurementReport).values(evidence=MARKERS["evidence"]))
    db.execute(update(AssessmentMark).where(AssessmentMark.assessment_id.in_(
        select(Assessment.id).where(Assessment.proposal_id.in_(proposal_ids))))
        .values(justification=MARKERS["justification"]))
    db.execute(update(Moderation).where(Moderation.proposal_id.in_(proposal_ids))
               .values(rationale=MARKERS["moderation"]))
    assessor_ids = select(AssessorAppointment.user_id).where(
        AssessorAppointment.phase_id.in_(phase_ids))
    db.execute(update(User).where(User.id.in_(assessor_ids)).values(name=MARKERS["assessor"]))
    db.execute(update(Challenge).where(Challenge.id == challenge_id).values(
        contact_name=MARKERS["contact_name"], contact_email=MARKERS["contact_email"]))
    # The unsuccessful supplier: its organisation, and its name as frozen in the decisions.
    loser = world.suppliers[-1].active_membership.organisation_id
    db.execute(update(Organisation).where(Organisation.id == loser).values(name=MARKERS["loser"]))
    for decision in db.execute(select(Decision).where(Decision.phase_id.in_(phase_ids))).scalars():
        decision.results = [{**r, "organisation": MARKERS["loser"]}
                            if r["organisation_id"] == loser else r for r in decision.results]
    db.commit()


def _public_urls(world, record_id: int) -> list[str]:
    cid = world.challenge.id
    prefix = current_app.config["OCID_PREFIX"]
    urls = ["/", "/challenges", f"/challenges/{cid}", "/catalogue", "/catalogue?q=homes",
            f"/records/{cid}", "/shared-values", "/open-data",
            "/api/v1/challenges", f"/api/v1/challenges/{cid}", "/api/v1/openapi.json",
            f"/api/v1/ocds/records/{ocid(prefix, cid)}", "/api/v1/ocds/releases",
            "/data/ocds/releases.json", "/data/catalogue.csv",
            "/feeds/challenges.atom", "/feeds/records.atom", "/ocds/extension.json"]
    urls += [f"/api/v1/ocds/records/{ocid(prefix, cid, p.position)}"
             for p in world.challenge.phases]
    return urls


def test_no_public_output_holds_anything_sealed_or_confidential(ctx, db, now, client):
    world = rb.concluded_world(db, now, suppliers=3)
    _seed_markers(db, world)
    record = rb.publish(db, world)
    db.expire_all()
    seen = {}
    for url in _public_urls(world, record.id):
        for lang in ("en", "cy"):
            joiner = "&" if "?" in url else "?"
            response = client.get(f"{url}{joiner}lang={lang}")
            assert response.status_code == 200, url
            seen[f"{url} ({lang})"] = response.get_data(as_text=True)
    # The record itself, and what search reads.
    seen["content"] = json.dumps(record.content, ensure_ascii=False)
    seen["search"] = record.search_title + "\n" + record.search_body
    leaks = [(name, where) for where, body in seen.items()
             for name, marker in MARKERS.items() if marker.casefold() in body.casefold()]
    assert leaks == [], leaks
    # The markers were really there to be leaked: the winners are named, the data was seeded.
    assert any(world.shortlisted[0].active_membership.organisation.name in body
               for body in seen.values())
    assert db.execute(select(Organisation.name).where(Organisation.name == MARKERS["loser"])
                      ).scalar_one() == MARKERS["loser"]


def test_searching_for_a_confidential_word_finds_nothing(ctx, db, now, client):
    from procure.record import queries

    world = rb.concluded_world(db, now, suppliers=3)
    _seed_markers(db, world)
    rb.publish(db, world)
    word = world.challenge.title.split()[-1]
    assert queries.catalogue(db, queries.Filters(query=word)).total == 1
    assert client.get(f"/api/v1/challenges?q={word}").get_json()["meta"]["total"] == 1
    for marker in MARKERS.values():
        assert queries.catalogue(db, queries.Filters(query=marker)).total == 0
        assert client.get(f"/api/v1/challenges?q={marker}").get_json()["meta"]["total"] == 0
