"""The open record's use cases through the services: writing the lessons and the reusable
assets, asking for publication, the publication job and its sweeper, what the frozen record
holds and never holds, reusing a record and registering interest in adopting the winner.

Every refused call changes nothing; every change is audited. The last test races two editors
asking at once, in two connections, on PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event, select, text, update
from sqlalchemy.orm import Session

from procure.accounts.models import User
from procure.assessment import services as assessment
from procure.audit.models import AuditEvent
from procure.bakeoff import services as bakeoff
from procure.challenges import clarifications, funding
from procure.challenges import services as challenges
from procure.challenges.models import Challenge
from procure.errors import InvalidTransition, NotFound, NotPermitted, RuleViolation
from procure.permissions import Permission, can
from procure.record import compose, queries, rules
from procure.record import services as record
from procure.record.models import (
    AdoptionInterest,
    ChallengeRecord,
    RecordAsset,
    RecordCriterion,
    RecordResult,
)
from procure.record.rules import RecordStatus
from procure.record.services import MAX_ATTEMPTS, PUBLISH_TASK, SWEEP_AFTER
from procure.submissions import services as submissions
from tests import factories
from tests.assessment import builders as ab
from tests.bakeoff import builders as bb
from tests.challenges import service_builders as sb
from tests.conftest import PG_URL, create_postgres_database, drop_postgres_database, migrate
from tests.factories import OrganisationFactory
from tests.record import builders as rb

DAY, HOUR, MINUTE = timedelta(days=1), timedelta(hours=1), timedelta(minutes=1)
CODE_URL = "https://example.org/code"
CANCEL_REASON = "The service was taken over by the health board"


def ended_world(db, now, *, code: str = "ended-values") -> bb.World:
    """The quickest challenge whose record can be written: opened to the public with a
    co-funder, then cancelled a day later before any proposal came in (``code`` names its
    value framework: give each world of a test its own). Two suppliers stand by."""
    fw = sb.framework(db, now, code=code)
    lead, partner = sb.editor(), sb.editor()
    drafted = now - 2 * HOUR
    draft = sb.complete_draft(db, drafted, lead, fw, opens_at=now - HOUR, closes_at=now + 30 * DAY)
    funding.invite_partner(db, actor=lead, challenge_id=draft.id,
                           organisation_id=partner.membership.organisation_id,
                           message="Join us", now=drafted)
    funding.respond_to_invitation(db, actor=partner, challenge_id=draft.id, accept=True,
                                  pledge_pence=1_000_000, now=drafted)
    challenge = challenges.publish_challenge(db, actor=lead, challenge_id=draft.id, now=drafted)
    after = now + DAY
    challenges.cancel_challenge(db, actor=lead, challenge_id=challenge.id, reason=CANCEL_REASON,
                                now=after)
    phase = challenge.phases[0]
    return bb.World(challenge=challenges.load_challenge(db, challenge.id), phase1=phase,
                    phase2=phase, lead=lead, framework=fw, partner=partner, after=after,
                    suppliers=[sb.supplier(), sb.supplier()])


@pytest.fixture
def world(ctx, db, now):
    """A challenge cancelled after opening: its record is written as a concluded one's is."""
    return ended_world(db, now)


@pytest.fixture
def concluded(ctx, db, now):
    """A challenge concluded after a full bake-off and an award."""
    return rb.concluded_world(db, now)


def _cancelled_world(db, now, *, code: str = "solution-quality") -> bb.World:
    """A bake-off challenge cancelled the day after its shortlist was released, with a public
    reason: a record can be written for it (``code`` names its value framework)."""
    world = bb.bake_off_world(db, now, suppliers=2, code=code)
    world.after = world.decided_at + DAY
    challenges.cancel_challenge(db, actor=world.lead, challenge_id=world.challenge.id,
                                reason=CANCEL_REASON, now=world.after)
    return world


def _people(world) -> dict[str, User | None]:
    """Everyone who is not one of the lead's editors, in each relation to the challenge."""
    return {
        "lead viewer": sb.viewer(world.lead.membership.organisation),
        "partner editor": world.partner,
        "supplier": world.suppliers[0],                 # shortlisted, in a concluded world
        "unsuccessful supplier": world.suppliers[-1],
        "other authority editor": sb.editor(),
        "unverified authority editor": sb.editor(sb.authority(verified=False)),
        "admin": sb.no_org_user(is_admin=True),
        "visitor": None,
    }


def _stored(db, world) -> ChallengeRecord | None:
    """The challenge's record as the database holds it (a refused call's leftovers undone)."""
    db.rollback()
    db.expire_all()
    return db.execute(select(ChallengeRecord).where(
        ChallengeRecord.challenge_id == world.challenge.id)).scalar_one_or_none()


def _data(event_: AuditEvent) -> dict:
    return json.loads(event_.data) if event_.data else {}


def _ask(db, world, *, at=None) -> ChallengeRecord:
    return record.request_publication(db, actor=world.lead, challenge_id=world.challenge.id,
                                      now=at or world.after)


LEAD = object()  # the asset is added by the lead's editor unless told otherwise


def _asset(db, world, *, actor=LEAD, title="Prototype source code", url=CODE_URL,
           licence="MIT", description="", at=None) -> RecordAsset:
    return record.add_asset(db, actor=world.lead if actor is LEAD else actor,
                            challenge_id=world.challenge.id,
                            title=title, url=url, licence=licence, description=description,
                            now=at or world.after)


# --- the lessons learned ------------------------------------------------------------------------

def test_saving_the_lessons_starts_the_record_and_audits_each_change(world, db):
    saved = record.save_lessons(db, actor=world.lead, challenge_id=world.challenge.id,
                                worked=f"  {rb.WORKED}\r\nAnd more.\x00 ", not_worked="",
                                now=world.after)
    stored = _stored(db, world)
    assert stored.id == saved.id
    assert (stored.status, stored.lessons_worked, stored.lessons_not_worked) == (
        RecordStatus.DRAFT, f"{rb.WORKED}\nAnd more.", "")
    assert (stored.created_at, stored.updated_at) == (world.after, world.after)
    (event_,) = sb.events(db, "record.lessons_saved")
    assert (event_.actor_id, event_.subject_id) == (world.lead.id, str(world.challenge.id))
    assert _data(event_) == {"fields": ["lessons_worked"]}

    # Saving the same text again changes nothing worth a line in the audit log.
    record.save_lessons(db, actor=world.lead, challenge_id=world.challenge.id,
                        worked=f"{rb.WORKED}\nAnd more.", not_worked="", now=world.after + DAY)
    assert len(sb.events(db, "record.lessons_saved")) == 1
    record.save_lessons(db, actor=world.lead, challenge_id=world.challenge.id,
                        worked=f"{rb.WORKED}\nAnd more.", not_worked=rb.NOT_WORKED,
                        now=world.after + DAY)
    assert _data(sb.events(db, "record.lessons_saved")[-1]) == {"fields": ["lessons_not_worked"]}
    assert db.scalar(select(ChallengeRecord.id).where(
        ChallengeRecord.challenge_id == world.challenge.id)) == saved.id   # still one record


def test_lessons_too_long_change_nothing(world, db):
    rb.write_lessons(db, world)
    with pytest.raises(RuleViolation) as refused:
        record.save_lessons(db, actor=world.lead, challenge_id=world.challenge.id,
                            worked="x" * (rules.MAX_LESSONS + 1), not_worked="changed",
                            now=world.after + DAY)
    assert refused.value.errors == {"lessons_worked": "lessons_too_long"}
    stored = _stored(db, world)
    assert (stored.lessons_worked, stored.lessons_not_worked) == (rb.WORKED, rb.NOT_WORKED)
    assert len(sb.events(db, "record.lessons_saved")) == 1


def test_only_the_lead_editors_write_the_record(world, db):
    _asset(db, world)
    asset_id = _stored(db, world).assets[0].id
    calls = {
        "save_lessons": lambda actor: record.save_lessons(
            db, actor=actor, challenge_id=world.challenge.id, worked="w", not_worked="n",
            now=world.after),
        "add_asset": lambda actor: _asset(db, world, actor=actor, title="Theirs"),
        "remove_asset": lambda actor: record.remove_asset(
            db, actor=actor, challenge_id=world.challenge.id, asset_id=asset_id,
            now=world.after),
        "request_publication": lambda actor: record.request_publication(
            db, actor=actor, challenge_id=world.challenge.id, now=world.after),
    }
    before = sb.actions(db)
    for who, person in _people(world).items():
        for name, call in calls.items():
            with pytest.raises(NotPermitted):
                call(person)
            stored = _stored(db, world)
            assert (stored.status, stored.lessons_worked, len(stored.assets)) == (
                RecordStatus.DRAFT, "", 1), (who, name)
    assert sb.actions(db) == before


def test_a_challenge_nobody_may_know_of_and_an_unknown_id_are_not_found(ctx, db, now):
    lead = sb.editor()
    draft = sb.new_draft(db, now, lead, title="A draft")
    for actor, challenge_id in ((sb.supplier(), draft.id), (None, draft.id),
                                (lead, 999_999)):
        with pytest.raises(NotFound):
            record.editing(db, actor=actor, challenge_id=challenge_id)
        with pytest.raises(NotFound):
            record.save_lessons(db, actor=actor, challenge_id=challenge_id, worked="w",
                                not_worked="n", now=now)
        with pytest.raises(NotFound):
            record.request_publication(db, actor=actor, challenge_id=challenge_id, now=now)
    # The lead's own draft exists, but has no record to write yet.
    with pytest.raises(NotPermitted):
        record.save_lessons(db, actor=lead, challenge_id=draft.id, worked="w", not_worked="n",
                            now=now)


def test_no_record_while_the_challenge_is_still_running(ctx, db, now):
    world = bb.bake_off_world(db, now, suppliers=2)        # in progress
    with pytest.raises(NotPermitted):
        record.editing(db, actor=world.lead, challenge_id=world.challenge.id)
    with pytest.raises(NotPermitted):
        rb.write_lessons(db, world, at=now)
    assert _stored(db, world) is None


# --- reusable assets ----------------------------------------------------------------------------

def test_adding_and_removing_assets(world, db):
    first = _asset(db, world, title=" Source code ", description="The winner's\r\ncode",
                   url=f"  {CODE_URL}  ")
    second = _asset(db, world, title="Survey", url="https://example.org/survey",
                    licence="OGL-UK-3.0")
    stored = _stored(db, world)
    assert [(a.title, a.url, a.licence, a.description, a.position) for a in stored.assets] == [
        ("Source code", CODE_URL, "MIT", "The winner's\ncode", 1),
        ("Survey", "https://example.org/survey", "OGL-UK-3.0", "", 2)]
    added = sb.events(db, "record.asset_added")
    assert [_data(e) for e in added] == [
        {"asset": first.id, "url": CODE_URL, "licence": "MIT"},
        {"asset": second.id, "url": "https://example.org/survey", "licence": "OGL-UK-3.0"}]

    record.remove_asset(db, actor=world.lead, challenge_id=world.challenge.id, asset_id=first.id,
                        now=world.after)
    assert [a.title for a in _stored(db, world).assets] == ["Survey"]
    assert db.get(RecordAsset, first.id) is None
    assert [_data(e) for e in sb.events(db, "record.asset_removed")] == [{"asset": first.id}]
    # Listed again, it goes after the others.
    assert _asset(db, world, title="Again").position == 3
    with pytest.raises(NotFound):
        record.remove_asset(db, actor=world.lead, challenge_id=world.challenge.id,
                            asset_id=first.id, now=world.after)


def test_a_hostile_or_broken_address_saves_nothing(ctx, db, now):
    world = ended_world(db, now)
    for url in ("javascript:alert(document.cookie)", "data:text/html,<b>x</b>",
                "//evil.example/code", "https://exa mple.org/", "https://example.org/" + "a" * 500,
                "ftp://example.org/code", "https://user@evil.example/"):
        with pytest.raises(RuleViolation) as refused:
            _asset(db, world, url=url)
        assert refused.value.errors == {"url": "asset_url_invalid"}, url
        assert _stored(db, world) is None, url      # not even the record was started
    assert sb.events(db, "record.asset_added") == []


def test_every_mistake_of_an_asset_at_once_and_a_full_list(world, db):
    with pytest.raises(RuleViolation) as refused:
        _asset(db, world, title=" ", url="", licence="Public domain", description="d" * 1_001)
    assert refused.value.errors == {"title": "asset_title_missing", "url": "asset_url_missing",
                                    "licence": "asset_licence_missing",
                                    "description": "asset_description_too_long"}
    for n in range(rules.MAX_ASSETS):
        _asset(db, world, title=f"Asset {n}", url=f"https://example.org/{n}")
    with pytest.raises(RuleViolation) as refused:
        _asset(db, world, title="One too many")
    assert refused.value.errors == {"title": "assets_too_many"}
    assert len(_stored(db, world).assets) == rules.MAX_ASSETS


def test_an_asset_of_another_record_is_not_found(world, db, now):
    other = ended_world(db, now, code="other-values")
    theirs = _asset(db, other, title="Theirs")
    _asset(db, world, title="Ours")
    with pytest.raises(NotFound):
        record.remove_asset(db, actor=world.lead, challenge_id=world.challenge.id,
                            asset_id=theirs.id, now=world.after)
    assert [a.title for a in _stored(db, other).assets] == ["Theirs"]


# --- asking for publication ---------------------------------------------------------------------

def test_publication_needs_both_lessons(world, db, jobs):
    for worked, not_worked, expected in (
            ("", "", {"lessons_worked": "lessons_worked_missing",
                      "lessons_not_worked": "lessons_not_worked_missing"}),
            (rb.WORKED, "  ", {"lessons_not_worked": "lessons_not_worked_missing"})):
        if worked or not_worked:
            rb.write_lessons(db, world, worked=worked, not_worked=not_worked)
        with pytest.raises(RuleViolation) as refused:
            _ask(db, world)
        assert refused.value.errors == expected
    stored = _stored(db, world)
    assert (stored.status, stored.requested_at) == (RecordStatus.DRAFT, None)
    assert jobs == []
    assert sb.events(db, "record.publication_requested") == []


def test_asking_for_publication_queues_the_job_once(world, db, jobs):
    rb.write_lessons(db, world)
    queued = _ask(db, world)
    stored = _stored(db, world)
    assert (stored.status, stored.requested_at, stored.requested_by_id) == (
        RecordStatus.QUEUED, world.after, world.lead.id)
    assert jobs == [(PUBLISH_TASK, (queued.id,))]            # sent once committed
    (event_,) = sb.events(db, "record.publication_requested")
    assert event_.actor_id == world.lead.id

    # Asked again (by anyone of the lead) while queued: refused, nothing sent twice.
    other_editor = sb.editor(world.lead.membership.organisation)
    for actor in (world.lead, other_editor):
        with pytest.raises(InvalidTransition):
            record.request_publication(db, actor=actor, challenge_id=world.challenge.id,
                                       now=world.after + HOUR)
    assert jobs == [(PUBLISH_TASK, (queued.id,))]
    assert len(sb.events(db, "record.publication_requested")) == 1
    # Nothing can change while the job freezes it: the state forbids it, not the person.
    with pytest.raises(InvalidTransition):
        rb.write_lessons(db, world, worked="Late")
    with pytest.raises(InvalidTransition):
        _asset(db, world, title="Late")
    assert _stored(db, world).lessons_worked == rb.WORKED
    # Outsiders are told they may not, not what state the record is in; the lead's viewers,
    # who follow the record, are told it is already on its way.
    people = _people(world)
    with pytest.raises(InvalidTransition):
        record.request_publication(db, actor=people.pop("lead viewer"),
                                   challenge_id=world.challenge.id, now=world.after + HOUR)
    for who, person in people.items():
        with pytest.raises(NotPermitted):
            record.request_publication(db, actor=person, challenge_id=world.challenge.id,
                                       now=world.after + HOUR)
        assert _stored(db, world).requested_by_id == world.lead.id, who


# --- the publication job ------------------------------------------------------------------------

def test_the_job_freezes_the_record_and_publishes_the_challenge(concluded, db, now):
    rb.write_lessons(db, concluded)
    _asset(db, concluded)
    queued = _ask(db, concluded)
    at = concluded.after + HOUR
    assert record.publish_record(db, queued.id, now=at) is True
    db.expire_all()
    published = db.get(ChallengeRecord, queued.id)
    challenge = db.get(Challenge, concluded.challenge.id)
    assert (published.status, published.published_at) == (RecordStatus.PUBLISHED, at)
    assert (challenge.status, challenge.published_at) == ("published", at)

    content = published.content
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert published.content_sha256 == hashlib.sha256(canonical.encode()).hexdigest()
    assert content["published_at"] == at.isoformat() and content["outcome"] == "awarded"
    assert content["lessons"] == {"worked": rb.WORKED, "not_worked": rb.NOT_WORKED}
    assert content["assets"] == [{"title": "Prototype source code", "url": CODE_URL,
                                  "licence": "MIT", "licence_name": "MIT License",
                                  "licence_url": "https://opensource.org/license/mit",
                                  "description": ""}]
    # What the catalogue filters and sorts on.
    assert (published.outcome, published.year, published.title, published.lead_name,
            published.budget_pence) == (
        "awarded", concluded.after.year, "Warmer homes, tested",
        concluded.lead.membership.organisation.name, 6_000_000)
    assert published.search_title.startswith("Warmer homes, tested")
    assert rb.WORKED in published.search_body

    # Every criterion of every phase, with its weight; every verified measurement's achievement.
    rows = db.execute(select(RecordCriterion.phase_position, RecordCriterion.weight)
                      .where(RecordCriterion.record_id == published.id)).all()
    assert sorted(rows, key=lambda r: (r[0], r[1] or 0)) == [
        (1, None), (1, 40), (1, 60), (2, None), (2, 40), (2, 60)]
    achievements = db.scalars(select(RecordResult.achievement)
                              .where(RecordResult.record_id == published.id)).all()
    assert sorted(achievements) == [Decimal("0.5"), Decimal("0.5"), Decimal("1"), Decimal("1")]

    # Search finds it by its lessons, its tags and its measures; not by a loser's name.
    for words in ("prototypes residents", "housing", "cost per home"):
        page = queries.catalogue(db, queries.Filters(query=words))
        assert [r.challenge_id for r in page.items] == [concluded.challenge.id], words
    loser = concluded.outsider.membership.organisation.name
    assert queries.catalogue(db, queries.Filters(query=loser)).total == 0

    # The funders' editors and the named suppliers are told; the unsuccessful supplier is not.
    told = sb.recipients(db, "record_published")
    expected = sorted([concluded.lead.email, concluded.partner.email,
                       *(s.email for s in concluded.shortlisted)])
    assert told == expected
    assert concluded.outsider.email not in told
    (event_,) = sb.events(db, "record.published")
    assert event_.actor_id is None
    assert _data(event_) == {"sha256": published.content_sha256, "outcome": "awarded"}


def test_the_job_run_twice_publishes_once(world, db):
    rb.write_lessons(db, world)
    queued = _ask(db, world)
    assert record.publish_record(db, queued.id, now=world.after) is True
    first = _stored(db, world)
    sha, criteria = first.content_sha256, db.scalars(select(RecordCriterion.id)).all()
    assert record.publish_record(db, queued.id, now=world.after + DAY) is False
    again = _stored(db, world)
    assert (again.content_sha256, again.published_at) == (sha, world.after)
    assert db.scalars(select(RecordCriterion.id)).all() == criteria
    assert len(sb.events(db, "record.published")) == 1
    assert sb.recipients(db, "record_published") == sorted([world.lead.email,
                                                             world.partner.email])
    assert record.publish_record(db, 999_999, now=world.after) is False   # no such record
    # And once published, nothing changes any more.
    with pytest.raises(InvalidTransition):
        rb.write_lessons(db, world, worked="After")
    with pytest.raises(InvalidTransition):
        _ask(db, world, at=world.after + DAY)


def test_a_failing_job_retries_then_fails_and_the_editors_can_try_again(world, db, monkeypatch,
                                                                        jobs):
    rb.write_lessons(db, world)
    queued = _ask(db, world)

    def broken(*_args, **_kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(compose, "compose", broken)
    for attempt in range(1, MAX_ATTEMPTS):
        assert record.publish_record(db, queued.id, now=world.after + attempt * MINUTE) is False
        stored = _stored(db, world)
        assert (stored.status, stored.attempts, stored.failure) == (
            RecordStatus.QUEUED, attempt, "RuntimeError")
    assert record.publish_record(db, queued.id, now=world.after + HOUR) is False
    stored = _stored(db, world)
    assert (stored.status, stored.attempts) == (RecordStatus.FAILED, MAX_ATTEMPTS)
    assert (stored.content, stored.published_at) == (None, None)
    challenge = db.get(Challenge, world.challenge.id)
    assert (challenge.status, challenge.published_at) == ("cancelled", None)
    assert sb.outbox(db, "record_published") == []
    assert db.scalars(select(RecordCriterion.id)).all() == []
    failures = sb.events(db, "record.publication_failed")
    assert [_data(e)["attempts"] for e in failures] == list(range(1, MAX_ATTEMPTS + 1))
    assert {_data(e)["error"] for e in failures} == {"RuntimeError"}   # no message, no detail

    # Failed: the editors may change it and ask again, with every attempt available again.
    rb.write_lessons(db, world, worked="Better lessons")
    again = _ask(db, world, at=world.after + DAY)
    stored = _stored(db, world)
    assert (stored.status, stored.failure, stored.attempts) == (RecordStatus.QUEUED, "", 0)
    assert jobs[-1] == (PUBLISH_TASK, (again.id,))
    assert record.publish_record(db, again.id, now=world.after + DAY) is False
    assert _stored(db, world).status == RecordStatus.QUEUED     # one failure: it will retry
    monkeypatch.undo()
    assert record.publish_record(db, again.id, now=world.after + DAY) is True
    assert _stored(db, world).content["lessons"]["worked"] == "Better lessons"


def test_the_sweeper_publishes_what_the_broker_lost_and_leaves_a_fresh_request(ctx, db, now):
    old = ended_world(db, now, code="sweep-old")
    fresh = ended_world(db, now, code="sweep-fresh")
    at = old.after + DAY
    rb.write_lessons(db, old, at=at)
    rb.write_lessons(db, fresh, at=at)
    _ask(db, old, at=at)
    _ask(db, fresh, at=at + SWEEP_AFTER - MINUTE)
    assert record.sweep_publications(db, now=at + SWEEP_AFTER) == 1
    assert _stored(db, old).status == RecordStatus.PUBLISHED
    assert _stored(db, fresh).status == RecordStatus.QUEUED
    assert record.sweep_publications(db, now=at + 2 * SWEEP_AFTER) == 1
    assert _stored(db, fresh).status == RecordStatus.PUBLISHED
    assert record.sweep_publications(db, now=at + 3 * SWEEP_AFTER) == 0


# --- how the challenge ended --------------------------------------------------------------------

def test_a_challenge_concluded_without_an_award_publishes_its_record(ctx, db, now):
    world = rb.concluded_world(db, now, award=False)
    published = rb.publish(db, world)
    assert (published.outcome, published.content["outcome"]) == ("no_award", "no_award")
    assert db.get(Challenge, world.challenge.id).status == "published"
    bake_off = published.content["phases"][1]
    assert bake_off["contracts"] == [] and bake_off["decision"]["selected"] == 0
    assert bake_off["decision"]["reason"] == "Neither prototype met the targets"
    # No winning solution to adopt.
    other = sb.editor()
    assert can(other, Permission.RECORD_INTEREST, db.get(Challenge, world.challenge.id)) is False
    with pytest.raises(NotPermitted):
        record.register_interest(db, actor=other, challenge_id=world.challenge.id, message="",
                                 now=world.after)


def test_a_challenge_cancelled_after_opening_publishes_its_record(ctx, db, now):
    world = _cancelled_world(db, now)
    challenge = db.get(Challenge, world.challenge.id)
    assert rules.publishable(challenge.status, challenge.opened_at is not None)
    published = rb.publish(db, world)
    assert published.outcome == "cancelled"
    assert published.content["challenge"]["cancel_reason"] == CANCEL_REASON
    challenge = db.get(Challenge, world.challenge.id)
    assert challenge.status == "cancelled" and challenge.published_at is not None
    assert published.year == world.after.year
    assert db.scalars(select(RecordCriterion.id).where(
        RecordCriterion.record_id == published.id)).all()


def test_a_draft_cancelled_unseen_has_no_record(ctx, db, now):
    lead = sb.editor()
    draft = sb.new_draft(db, now, lead, title="Never opened")
    challenges.cancel_challenge(db, actor=lead, challenge_id=draft.id, reason="Not needed",
                                now=now)
    challenge = db.get(Challenge, draft.id)
    assert not rules.publishable(challenge.status, challenge.opened_at is not None)
    with pytest.raises(NotPermitted):
        record.editing(db, actor=lead, challenge_id=draft.id)
    with pytest.raises(NotPermitted):
        record.save_lessons(db, actor=lead, challenge_id=draft.id, worked="w", not_worked="n",
                            now=now)
    with pytest.raises(NotPermitted):
        record.request_publication(db, actor=lead, challenge_id=draft.id, now=now)
    db.rollback()
    assert db.scalars(select(ChallengeRecord.id)).all() == []


# --- what the record holds, and never holds -----------------------------------------------------

MARK = {
    "team": "Zqxteam of four engineers",
    "timeline": "Zqxtimeline over three months",
    "response": "Zqxresponse to the criterion",
    "justification": "Zqxjustification",
    "moderation": "Zqxmoderation rationale",
    "assessor": "Zqxassessor One",
    "second assessor": "Zqxassessor Two",
    "loser": "Zqxloser Widgets Ltd",
    "silent loser": "Zqxsilent Sensors Ltd",
    "loser summary": "Zqxlosersummary of a bid",
    "unconsented summary": "Zqxunconsented summary",
    "contact name": "Zqxcontact Person",
    "contact email": "zqxcontact@council.example",
    "asker": "Zqxasker Name",
    "asker email": "zqxasker@supplier.example",
}
WINNER = "Winning Works Ltd"
WINNER_SUMMARY = "Heat sensors in every home, read by the tenant's phone"


def _marked_world(db, now):
    """A one-phase challenge with a partner, taken to an award, with a unique marker in every
    place the open record must never show."""
    fw = sb.framework(db, now, code="marked-values")
    lead = sb.editor(name=MARK["contact name"], email=MARK["contact email"])
    partner = sb.editor(name="Partner Editor")
    drafted, opens, closes = now - 2 * HOUR, now - HOUR, now + 30 * DAY
    draft = sb.complete_draft(db, drafted, lead, fw, opens_at=opens, closes_at=closes)
    funding.invite_partner(db, actor=lead, challenge_id=draft.id,
                           organisation_id=partner.membership.organisation_id,
                           message="Join us", now=drafted)
    funding.respond_to_invitation(db, actor=partner, challenge_id=draft.id, accept=True,
                                  pledge_pence=1_500_000, now=drafted)
    challenge = challenges.publish_challenge(db, actor=lead, challenge_id=draft.id, now=drafted)
    phase = challenge.phases[0]
    asker = sb.supplier(name=MARK["asker"], email=MARK["asker email"])
    question = clarifications.ask_question(db, actor=asker, challenge_id=challenge.id,
                                           question="May we reuse existing sensors?", now=now)
    clarifications.answer_question(db, actor=lead, clarification_id=question.id,
                                   question="May suppliers reuse existing sensors?",
                                   answer="Yes, if tenants agree.", now=now)

    proposals = {}
    for name, summary, consent in ((WINNER, WINNER_SUMMARY, True),
                                   (MARK["loser"], MARK["loser summary"], True),
                                   (MARK["silent loser"], MARK["unconsented summary"], False)):
        supplier = sb.person(OrganisationFactory(kind="supplier", name=name))
        proposal = submissions.start_proposal(db, actor=supplier, phase_id=phase.id, now=now)
        submissions.update_fields(db, actor=supplier, proposal_id=proposal.id, now=now,
                                  summary=summary, consent_publish_summary=consent,
                                  team=MARK["team"], timeline=MARK["timeline"],
                                  price_pence=1_000_000, price_given=True,
                                  declarations={d: True for d in submissions.DECLARATIONS})
        submissions.save_responses(db, actor=supplier, proposal_id=proposal.id, now=now,
                                   responses={pc.id: MARK["response"] for pc in phase.criteria})
        submissions.submit_proposal(db, actor=supplier, proposal_id=proposal.id,
                                    clock=lambda: now)
        proposals[name] = proposal
    challenges.advance_phases(db, now=closes)
    after = closes + DAY

    view = ab.World(challenge=challenge, phase=phase, lead=lead, after=after)
    view.phase = assessment.load_phase(db, challenge_id=challenge.id, phase_id=phase.id)
    people = []
    for name in (MARK["assessor"], MARK["second assessor"]):
        person = sb.viewer(lead.membership.organisation, name=name)
        appointment = assessment.appoint_member(db, actor=lead, challenge_id=challenge.id,
                                                phase_id=phase.id, user_id=person.id, now=after)
        assessment.respond_to_appointment(db, actor=person, appointment_id=appointment.id,
                                          accept=True, now=after)
        people.append(person)
    scores = {WINNER: ([4, 4], [4, 2]), MARK["loser"]: ([2, 2], [2, 2]),
              MARK["silent loser"]: ([1, 1], [1, 1])}
    for name, proposal in proposals.items():
        for person, marks in zip(people, scores[name], strict=True):
            assessment.declare(db, actor=person, proposal_id=proposal.id, conflicted=False,
                               reason="", now=after)
            assessment.save_marks(db, actor=person, proposal_id=proposal.id, submit=True,
                                  marks=ab.marks(db, view, marks, text=MARK["justification"]),
                                  now=after)
    # The assessors differ by two on the winner's second criterion: the lead moderates.
    second = ab.criteria(db, view)[0][1]
    assessment.moderate(db, actor=lead, proposal_id=proposals[WINNER].id,
                        phase_criterion_id=second.id, score=3, passed=None,
                        rationale=MARK["moderation"], now=after)
    ids = {"challenge_id": challenge.id, "phase_id": phase.id}
    assessment.record_decision(db, actor=lead, selected_ids=[proposals[WINNER].id],
                               reason="The only proposal above the threshold", now=after, **ids)
    bakeoff.record_contract(db, actor=lead, proposal_id=proposals[WINNER].id,
                            value_pence=2_000_000, starts_on=date(2027, 2, 1),
                            ends_on=date(2027, 7, 31), now=after, **ids)
    assessment.approve_decision(db, actor=partner, now=after, **ids)
    assessment.release_decision(db, actor=lead, now=after, **ids)
    return bb.World(challenge=challenge, phase1=phase, phase2=phase, lead=lead, framework=fw,
                    partner=partner, after=after, suppliers=list(proposals))


def test_the_record_holds_what_the_spec_lists_and_never_what_it_excludes(ctx, db, now):
    world = _marked_world(db, now)
    assert db.get(Challenge, world.challenge.id).status == "concluded"
    published = rb.publish(db, world)
    content = published.content
    dumped = json.dumps(content, ensure_ascii=False)

    # The problem, the lead and partner authorities with their contributions.
    assert content["challenge"]["problem_statement"] == sb.PROBLEM
    assert content["challenge"]["outcomes_sought"] == "Fewer cold homes; lower bills."
    assert content["challenge"]["tags"] == ["energy", "housing"]
    lead_org = world.lead.membership.organisation
    partner_org = world.partner.membership.organisation
    assert {(f["name"], f["role"], f["pledge_pence"]) for f in content["funders"]} == {
        (lead_org.name, "lead", 5_000_000), (partner_org.name, "partner", 1_500_000)}
    assert content["budget_pence"] == 6_500_000
    # The phase with its dates, budget, how many proposals and the anonymous statistics.
    (phase,) = content["phases"]
    assert phase["opens_at"] and phase["closes_at"] and phase["closed_at"]
    assert (phase["planned_contracts"], phase["max_value_pence"]) == (2, 2_500_000)
    assert phase["proposals_received"] == 3
    assert phase["statistics"]["received"] == 3
    assert set(phase["statistics"]["criteria"]) == {str(c["id"]) for c in phase["criteria"]
                                                    if c["kind"] == "scored"}
    assert len(phase["distribution"]) == 3                         # every total, no names
    assert all(isinstance(t, str) for t in phase["distribution"])
    # The winner: named, its award value, final score per criterion, its consented summary.
    (winner,) = phase["ranked"]
    assert (winner["organisation"], winner["selected"], winner["summary"]) == (
        WINNER, True, WINNER_SUMMARY)
    first, second = (c["id"] for c in phase["criteria"] if c["kind"] == "scored")
    assert winner["finals"] == {str(first): "4.00", str(second): "3.00"}   # the consensus
    (contract,) = phase["contracts"]
    assert (contract["organisation"], contract["value_pence"]) == (WINNER, 2_000_000)
    # The decision's rationale, the published clarification, the lessons, the assets, the licence.
    assert phase["decision"]["reason"] == "The only proposal above the threshold"
    assert [(c["question"], c["answer"]) for c in content["clarifications"]] == [
        ("May suppliers reuse existing sensors?", "Yes, if tenants agree.")]
    assert content["lessons"] == {"worked": rb.WORKED, "not_worked": rb.NOT_WORKED}
    assert [a["url"] for a in content["assets"]] == [CODE_URL]
    assert content["licence"] == (
        "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/")

    # Never: what the proposals said, who assessed and what they wrote, the moderator's
    # rationale, the unsuccessful suppliers, the contact person, who asked a question.
    for what, marker in MARK.items():
        assert marker.casefold() not in dumped.casefold(), what
        assert marker.casefold() not in (published.search_title + published.search_body
                                         ).casefold(), what
    assert "Partner Editor" not in dumped


# --- reuse and adoption interest ----------------------------------------------------------------

def test_reusing_a_record_starts_a_draft_derived_from_it(concluded, db):
    published = rb.publish(db, concluded)
    other = sb.editor(name="Rhian Reuser")
    draft = record.reuse_record(db, actor=other, challenge_id=concluded.challenge.id,
                                now=concluded.after + 2 * DAY)
    db.expire_all()
    draft = db.get(Challenge, draft.id)
    original = db.get(Challenge, concluded.challenge.id)
    assert (draft.status, draft.derived_from_id, draft.version) == ("draft", original.id, 1)
    assert draft.lead_organisation_id == other.membership.organisation_id
    assert (draft.title, draft.problem_statement, draft.outcomes_sought, draft.tag_names) == (
        original.title, original.problem_statement, original.outcomes_sought,
        original.tag_names)
    assert (draft.contact_name, draft.contact_email) == ("Rhian Reuser", other.email)
    assert [(p.kind, p.status, p.contracts, p.max_value_pence) for p in draft.phases] == [
        (p.kind, "planned", p.contracts, p.max_value_pence) for p in original.phases]
    for copy, phase in zip(draft.phases, original.phases, strict=True):
        assert [(c.criterion_id, c.weight) for c in copy.criteria] == [
            (c.criterion_id, c.weight) for c in phase.criteria]
        assert [(m.name, m.direction, m.baseline, m.target, m.weight) for m in copy.measures] \
            == [(m.name, m.direction, m.baseline, m.target, m.weight) for m in phase.measures]
        assert all(p.opens_at is None for p in draft.phases)       # new dates to choose
    assert draft.budget_pence == 0 and draft.funders[0].role == "lead"
    (created,) = [e for e in sb.events(db, "challenge.created")
                  if e.subject_id == str(draft.id)]
    assert _data(created) == {"derived_from": original.id}
    (reused,) = sb.events(db, "record.reused")
    assert _data(reused) == {"draft": draft.id, "organisation": other.membership.organisation_id}
    # Counted at once; the authority is named only once its challenge is opened to the public.
    assert record.reuses(db, original.id) == [(draft.id, "")]
    db.execute(update(Challenge).where(Challenge.id == draft.id).values(opened_at=concluded.after))
    assert record.reuses(db, original.id) == [(draft.id, other.membership.organisation.name)]
    assert db.get(ChallengeRecord, published.id).content == published.content   # untouched


def test_who_may_reuse_a_record(concluded, db):
    with pytest.raises(NotFound):          # not published yet: there is nothing to reuse
        record.reuse_record(db, actor=sb.editor(), challenge_id=concluded.challenge.id,
                            now=concluded.after)
    rb.publish(db, concluded)
    refused = {"unverified authority editor", "lead viewer", "supplier",
               "unsuccessful supplier", "admin", "visitor"}
    people = _people(concluded)
    drafts = db.scalars(select(Challenge.id).where(Challenge.status == "draft")).all()
    for who in refused:
        with pytest.raises(NotPermitted):
            record.reuse_record(db, actor=people[who], challenge_id=concluded.challenge.id,
                                now=concluded.after)
    db.rollback()
    assert db.scalars(select(Challenge.id).where(Challenge.status == "draft")).all() == drafts
    assert record.reuses(db, concluded.challenge.id) == []
    # The lead itself may start again from its own record.
    assert record.reuse_record(db, actor=concluded.lead, challenge_id=concluded.challenge.id,
                               now=concluded.after).derived_from_id == concluded.challenge.id


def test_registering_interest_in_adopting_the_winner(concluded, db):
    with pytest.raises(NotFound):          # not published yet
        record.register_interest(db, actor=sb.editor(), challenge_id=concluded.challenge.id,
                                 message="", now=concluded.after)
    published = rb.publish(db, concluded)
    interested = sb.editor(name="Alys Adopter")
    interest = record.register_interest(db, actor=interested, challenge_id=concluded.challenge.id,
                                        message="  We would like to try it.  ",
                                        now=concluded.after + DAY)
    assert (interest.record_id, interest.organisation_id, interest.message) == (
        published.id, interested.membership.organisation_id, "We would like to try it.")
    # The lead's editors and the winner's people are told; not the other shortlisted supplier.
    winner = next(s for s in concluded.shortlisted
                  if s.membership.organisation_id == published.content["phases"][1]
                  ["contracts"][0]["organisation_id"])
    runner_up = next(s for s in concluded.shortlisted if s is not winner)
    told = sb.recipients(db, "adoption_interest")
    assert told == sorted([concluded.lead.email, winner.email])
    assert runner_up.email not in told and concluded.partner.email not in told
    (message,) = [m for m in sb.outbox(db, "adoption_interest") if m.recipient_id == winner.id]
    assert "We would like to try it." in message.body and "Alys Adopter" in message.body
    (event_,) = sb.events(db, "record.adoption_interest")
    assert _data(event_) == {"organisation": interested.membership.organisation_id}

    # Once per authority, whichever of its editors asks.
    colleague = sb.editor(interested.membership.organisation)
    with pytest.raises(RuleViolation) as refused:
        record.register_interest(db, actor=colleague, challenge_id=concluded.challenge.id,
                                 message="Again", now=concluded.after + 2 * DAY)
    assert refused.value.errors == {"message": "interest_already_registered"}
    db.rollback()
    assert len(sb.outbox(db, "adoption_interest")) == 2
    assert db.scalars(select(AdoptionInterest.id)).all() == [interest.id]
    with pytest.raises(RuleViolation) as refused:
        record.register_interest(db, actor=sb.editor(), challenge_id=concluded.challenge.id,
                                 message="m" * (record.MAX_MESSAGE + 1), now=concluded.after)
    assert refused.value.errors == {"message": "interest_message_too_long"}
    # Not the lead authority itself, nor anyone who is not a verified authority's editor.
    people = _people(concluded)
    for actor in (concluded.lead, people["lead viewer"], people["unverified authority editor"],
                  people["supplier"], people["admin"], None):
        with pytest.raises(NotPermitted):
            record.register_interest(db, actor=actor, challenge_id=concluded.challenge.id,
                                     message="", now=concluded.after)
    db.rollback()
    assert db.scalars(select(AdoptionInterest.id)).all() == [interest.id]


# --- two editors at once, on PostgreSQL ---------------------------------------------------------

WAIT = 20.0  # seconds: lock_timeout, and how long to wait for the other connection


@pytest.fixture(scope="module")
def race_app(tmp_path_factory):
    """The app on a PostgreSQL database of its own, where the services' commits are real (two
    connections see each other's work only once committed)."""
    if not PG_URL:
        pytest.skip("racing two connections for a row lock needs PostgreSQL: set "
                    "PROCURE_TEST_DATABASE_URL (with CI=true its absence is an error)")
    from procure import create_app

    name = f"procure_record_race_{uuid.uuid4().hex[:8]}"
    url = create_postgres_database(PG_URL, name)
    try:
        migrate(url)
        app = create_app("testing", SQLALCHEMY_DATABASE_URL=url,
                         MAIL_DIR=tmp_path_factory.mktemp("race-mail"),
                         UPLOAD_DIR=tmp_path_factory.mktemp("race-uploads"),
                         BASE_URL="http://procure.test")
        yield app
        app.extensions["db_engine"].dispose()
    finally:
        drop_postgres_database(PG_URL, name)


def _waiting_for_a_lock(app, pid: int | None) -> bool:
    if pid is None:
        return False
    with app.extensions["db_engine"].connect() as connection:
        return connection.execute(text(
            "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = :pid"),
            {"pid": pid}).scalar() is True


def _wait_until(predicate, what: str) -> None:
    deadline = threading.Event()
    for _ in range(int(WAIT / 0.05)):
        if predicate():
            return
        deadline.wait(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_two_editors_asking_at_once_queue_one_publication(race_app, now):
    """The first editor's request holds the challenge's row until it commits; the second,
    sent meanwhile, waits for it and then finds the record queued."""
    app = race_app
    with app.app_context():
        session = app.extensions["db_sessionmaker"]()
        factories.bind(session)
        try:
            world = rb.concluded_world(session, now)
            colleague = sb.editor(world.lead.membership.organisation)
            rb.write_lessons(session, world)
            challenge_id, editors = world.challenge.id, {"first": world.lead.id,
                                                         "second": colleague.id}
        finally:
            session.close()
    jobs = app.extensions.setdefault("job_recorder", [])
    jobs.clear()
    pids: dict[str, int] = {}
    results: dict[str, str] = {}
    first_holds_the_row = threading.Event()

    def ask(name: str) -> None:
        with app.app_context(), app.extensions["db_engine"].connect() as connection:
            session = Session(bind=connection, expire_on_commit=False)
            try:
                pids[name] = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
                session.execute(text(f"SET lock_timeout = '{int(WAIT)}s'"))
                if name == "first":
                    @event.listens_for(session, "before_commit")
                    def _hold(_session):
                        # Everything is done but the commit: let the second editor in, and
                        # commit only once it is waiting for this transaction's row lock.
                        if not first_holds_the_row.is_set():
                            first_holds_the_row.set()
                            _wait_until(lambda: _waiting_for_a_lock(app, pids.get("second")),
                                        "the second request to wait for the row lock")
                actor = session.get(User, editors[name])
                queued = record.request_publication(session, actor=actor,
                                                    challenge_id=challenge_id, now=now)
                results[name] = queued.status
            except Exception as error:  # noqa: BLE001 - what the editor would be told
                results[name] = type(error).__name__
            finally:
                session.close()

    first = threading.Thread(target=ask, args=("first",))
    second = threading.Thread(target=ask, args=("second",))
    first.start()
    assert first_holds_the_row.wait(WAIT), results
    second.start()
    first.join(2 * WAIT)
    second.join(2 * WAIT)
    assert results == {"first": RecordStatus.QUEUED, "second": "InvalidTransition"}

    with app.extensions["db_sessionmaker"]() as session:
        stored = session.execute(select(ChallengeRecord).where(
            ChallengeRecord.challenge_id == challenge_id)).scalar_one()
        assert (stored.status, stored.requested_by_id) == (RecordStatus.QUEUED, editors["first"])
        requested = session.scalars(select(AuditEvent.id).where(
            AuditEvent.action == "record.publication_requested")).all()
        assert len(requested) == 1
    assert jobs == [(PUBLISH_TASK, (stored.id,))]
