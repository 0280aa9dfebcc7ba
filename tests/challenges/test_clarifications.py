"""Clarification questions against the database: asking until the deadline, answering in public
without naming the asker, unprompted clarifications, and who sees what is still unanswered."""

from __future__ import annotations

import json
from datetime import timedelta
from types import SimpleNamespace as ns

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import func, select

from procure.challenges import clarifications, services
from procure.challenges.models import Clarification
from procure.errors import NotFound, NotPermitted, RuleViolation
from tests.challenges import service_builders as b
from tests.challenges.service_builders import DAY, HOUR


@pytest.fixture
def world(ctx, db, now):
    """An open challenge from "Ceredigion Council" taking questions for 10 days."""
    fw = b.framework(db, now)
    lead = b.authority(name="Ceredigion Council")
    editor = b.editor(lead)
    challenge = b.open_challenge(db, now, editor, fw, opens_at=now, clarification_deadline=now + 10 * DAY)
    return lead, editor, challenge


def _ask(db, now, actor, challenge, question="Which homes count?"):
    return clarifications.ask_question(db, actor=actor, challenge_id=challenge.id, question=question,
                                       now=now)


def _count(db) -> int:
    return db.execute(select(func.count(Clarification.id))).scalar_one()


# --- asking ---------------------------------------------------------------------------------


def test_a_supplier_asks_and_the_leads_editors_are_told(ctx, db, now, world):
    lead, editor, challenge = world
    second_editor = b.editor(lead, locale="cy")
    b.viewer(lead)
    asker = b.supplier()
    later = now + HOUR
    asked = _ask(db, later, asker, challenge, question="  Do flats count?  ")
    stored = db.get(Clarification, asked.id)
    assert (stored.challenge_id, stored.asked_by_id, stored.question, stored.answer) == (
        challenge.id, asker.id, "Do flats count?", "")
    assert (stored.asked_at, stored.published_at, stored.answered_by_id) == (later, None, None)
    mails = b.outbox(db, "question_asked")
    assert sorted(m.recipient_email for m in mails) == sorted([editor.email, second_editor.email])
    assert all("Do flats count?" in m.body for m in mails)
    assert all(asker.name not in m.body and asker.email not in m.body for m in mails)
    [event] = b.events(db, "clarification.asked")
    assert (event.subject_type, event.subject_id, event.actor_id) == ("clarification", str(asked.id),
                                                                      asker.id)
    assert json.loads(event.data) == {"challenge": challenge.id}


def test_a_supplier_viewer_may_ask_too(ctx, db, now, world):
    _, _, challenge = world
    _ask(db, now, b.viewer(b.supplier_org()), challenge)
    assert _count(db) == 1


@pytest.mark.parametrize("when", [10 * DAY, 10 * DAY + HOUR, 40 * DAY])
def test_questions_close_at_the_deadline(ctx, db, now, world, when):
    _, _, challenge = world
    asker = b.supplier()
    _ask(db, now + 10 * DAY - timedelta(seconds=1), asker, challenge)  # the last moment
    with pytest.raises(RuleViolation) as e:
        _ask(db, now + when, asker, challenge, question="Too late?")
    assert e.value.errors == {"question": "questions_closed"}
    assert _count(db) == 1
    assert len(b.outbox(db, "question_asked")) == 1


@pytest.mark.parametrize("question, code", [("", "question_missing"), ("   ", "question_missing"),
                                            ("x" * 2001, "too_long")])
def test_a_question_must_say_something_short(ctx, db, now, world, question, code):
    _, _, challenge = world
    with pytest.raises(RuleViolation) as e:
        _ask(db, now, b.supplier(), challenge, question=question)
    assert e.value.errors == {"question": code}
    assert _count(db) == 0


@pytest.mark.parametrize("who", ["lead editor", "other authority editor", "authority viewer",
                                 "no organisation", "visitor", "anonymous"])
def test_only_suppliers_ask(ctx, db, now, world, who):
    lead, editor, challenge = world
    actor = {"lead editor": lambda: editor, "other authority editor": lambda: b.editor(),
             "authority viewer": lambda: b.viewer(lead), "no organisation": lambda: b.no_org_user(),
             "visitor": lambda: None, "anonymous": lambda: AnonymousUserMixin()}[who]()
    with pytest.raises(NotPermitted):
        _ask(db, now, actor, challenge)
    assert _count(db) == 0


def test_no_questions_on_a_draft_or_a_cancelled_challenge(ctx, db, now):
    fw = b.framework(db, now)
    editor = b.editor()
    draft = b.complete_draft(db, now, editor, fw)
    with pytest.raises(NotFound):  # suppliers may not know a draft exists
        _ask(db, now, b.supplier(), draft)
    services.publish_challenge(db, actor=editor, challenge_id=draft.id, now=now)
    services.cancel_challenge(db, actor=editor, challenge_id=draft.id, reason="Stopped", now=now)
    with pytest.raises(NotPermitted):
        _ask(db, now, b.supplier(), draft)
    assert _count(db) == 0


def test_questions_are_open_only_on_an_open_challenge_with_a_deadline_to_come(now):
    assert not clarifications.questions_open(ns(status="open", clarification_deadline=None), now)
    assert not clarifications.questions_open(ns(status="draft", clarification_deadline=now + DAY), now)
    assert not clarifications.questions_open(ns(status="in_progress", clarification_deadline=now + DAY),
                                             now)
    assert not clarifications.questions_open(ns(status="open", clarification_deadline=now), now)
    assert clarifications.questions_open(ns(status="open", clarification_deadline=now + DAY), now)


# --- answering ------------------------------------------------------------------------------


def test_an_editor_answers_rewording_the_question_and_the_asker_is_told(ctx, db, now, world):
    lead, editor, challenge = world
    asker = b.supplier(locale="cy")
    question = _ask(db, now, asker, challenge, question="We at Acme Ltd want to know: do flats count?")
    later = now + DAY
    answered = clarifications.answer_question(
        db, actor=editor, clarification_id=question.id, question="  Do flats count?  ",
        answer="  Yes, flats count.  ", now=later)
    assert answered.id == question.id
    stored = db.get(Clarification, question.id)
    db.refresh(stored)
    assert (stored.question, stored.answer, stored.published_at, stored.answered_by_id) == (
        "Do flats count?", "Yes, flats count.", later, editor.id)
    assert stored.asked_by_id == asker.id  # kept for the record, never shown
    [mail] = b.outbox(db, "question_answered")
    assert (mail.recipient_email, mail.locale) == (asker.email, "cy")
    assert "Do flats count?" in mail.body and "Yes, flats count." in mail.body
    assert "Acme" not in mail.body
    [event] = b.events(db, "clarification.answered")
    assert event.actor_id == editor.id and event.subject_id == str(question.id)
    assert [c.id for c in clarifications.published(db, challenge.id)] == [question.id]
    assert clarifications.pending(db, actor=editor, challenge_id=challenge.id) == []


def test_answering_twice_is_refused(ctx, db, now, world):
    _, editor, challenge = world
    question = _ask(db, now, b.supplier(), challenge)
    clarifications.answer_question(db, actor=editor, clarification_id=question.id, question="Q?",
                                   answer="First answer.", now=now)
    with pytest.raises(RuleViolation) as e:
        clarifications.answer_question(db, actor=editor, clarification_id=question.id, question="Q?",
                                       answer="Second answer.", now=now + HOUR)
    assert e.value.errors == {"answer": "already_answered"}
    db.rollback()
    stored = db.get(Clarification, question.id)
    db.refresh(stored)
    assert (stored.answer, stored.published_at) == ("First answer.", now)
    assert len(b.outbox(db, "question_answered")) == 1


@pytest.mark.parametrize("question, answer, errors", [
    ("", "An answer.", {"question": "question_missing"}),
    ("x" * 2001, "An answer.", {"question": "too_long"}),
    ("Q?", "  ", {"answer": "answer_missing"}),
    ("Q?", "x" * 10_001, {"answer": "too_long"}),
    (" ", "", {"question": "question_missing", "answer": "answer_missing"}),
])
def test_an_answer_needs_a_question_and_an_answer(ctx, db, now, world, question, answer, errors):
    _, editor, challenge = world
    asked = _ask(db, now, b.supplier(), challenge, question="Original?")
    with pytest.raises(RuleViolation) as e:
        clarifications.answer_question(db, actor=editor, clarification_id=asked.id, question=question,
                                       answer=answer, now=now)
    assert e.value.errors == errors
    db.rollback()
    stored = db.get(Clarification, asked.id)
    db.refresh(stored)
    assert (stored.question, stored.answer, stored.published_at) == ("Original?", "", None)
    assert b.outbox(db, "question_answered") == []


@pytest.mark.parametrize("who, error", [("lead viewer", NotPermitted), ("other authority", NotPermitted),
                                        ("the asker", NotPermitted), ("visitor", NotPermitted)])
def test_only_lead_editors_answer(ctx, db, now, world, who, error):
    lead, _, challenge = world
    asker = b.supplier()
    asked = _ask(db, now, asker, challenge)
    actor = {"lead viewer": lambda: b.viewer(lead), "other authority": lambda: b.editor(),
             "the asker": lambda: asker, "visitor": lambda: None}[who]()
    with pytest.raises(error):
        clarifications.answer_question(db, actor=actor, clarification_id=asked.id, question="Q?",
                                       answer="A.", now=now)
    assert clarifications.published(db, challenge.id) == []


def test_answering_an_unknown_question_is_not_found(ctx, db, now, world):
    _, editor, _ = world
    with pytest.raises(NotFound):
        clarifications.answer_question(db, actor=editor, clarification_id=999_999, question="Q?",
                                       answer="A.", now=now)


def test_a_disabled_asker_is_not_emailed(ctx, db, now, world):
    _, editor, challenge = world
    asker = b.supplier()
    asked = _ask(db, now, asker, challenge)
    asker.is_disabled = True
    db.commit()
    clarifications.answer_question(db, actor=editor, clarification_id=asked.id, question="Q?",
                                   answer="A.", now=now)
    assert b.outbox(db, "question_answered") == []
    assert [c.answer for c in clarifications.published(db, challenge.id)] == ["A."]


def test_an_editor_publishes_a_clarification_nobody_asked_for(ctx, db, now, world):
    _, editor, challenge = world
    later = now + HOUR
    published = clarifications.publish_clarification(
        db, actor=editor, challenge_id=challenge.id, question=" Site visits ",
        answer=" There is a site visit on 1 December. ", now=later)
    stored = db.get(Clarification, published.id)
    assert (stored.question, stored.answer, stored.asked_by_id, stored.answered_by_id) == (
        "Site visits", "There is a site visit on 1 December.", None, editor.id)
    assert (stored.asked_at, stored.published_at) == (later, later)
    assert "clarification.published" in b.actions(db)
    assert b.outbox(db, "question_answered") == []
    assert [c.id for c in clarifications.published(db, challenge.id)] == [published.id]


@pytest.mark.parametrize("question, answer, errors", [
    ("", "Text.", {"question": "subject_missing"}),
    ("x" * 2001, "Text.", {"question": "too_long"}),
    ("Subject", "", {"answer": "answer_missing"}),
    ("Subject", "x" * 10_001, {"answer": "too_long"}),
])
def test_an_unprompted_clarification_needs_a_subject_and_text(ctx, db, now, world, question, answer,
                                                             errors):
    _, editor, challenge = world
    with pytest.raises(RuleViolation) as e:
        clarifications.publish_clarification(db, actor=editor, challenge_id=challenge.id,
                                             question=question, answer=answer, now=now)
    assert e.value.errors == errors
    db.rollback()
    assert _count(db) == 0


def test_only_lead_editors_publish_clarifications(ctx, db, now, world):
    lead, _, challenge = world
    for actor in (b.viewer(lead), b.editor(), b.supplier(), None):
        with pytest.raises(NotPermitted):
            clarifications.publish_clarification(db, actor=actor, challenge_id=challenge.id,
                                                 question="Subject", answer="Text.", now=now)
    assert _count(db) == 0


def test_published_oldest_answer_first_never_pending_ones(ctx, db, now, world):
    _, editor, challenge = world
    first = _ask(db, now, b.supplier(), challenge, question="Asked first")
    second = _ask(db, now + HOUR, b.supplier(), challenge, question="Asked second")
    _ask(db, now + HOUR, b.supplier(), challenge, question="Never answered")
    clarifications.answer_question(db, actor=editor, clarification_id=second.id, question="Asked second",
                                   answer="A2", now=now + 2 * HOUR)
    note = clarifications.publish_clarification(db, actor=editor, challenge_id=challenge.id,
                                                question="Notice", answer="N", now=now + 3 * HOUR)
    clarifications.answer_question(db, actor=editor, clarification_id=first.id, question="Asked first",
                                   answer="A1", now=now + 4 * HOUR)
    same_time = clarifications.publish_clarification(db, actor=editor, challenge_id=challenge.id,
                                                     question="Same time", answer="S", now=now + 4 * HOUR)
    assert [c.id for c in clarifications.published(db, challenge.id)] == [
        second.id, note.id, first.id, same_time.id]


def test_published_lists_only_that_challenges_clarifications(ctx, db, now, world):
    fw = b.framework(db, now, code="other-framework")
    _, editor, challenge = world
    other_editor = b.editor()
    other = b.open_challenge(db, now, other_editor, fw, opens_at=now)
    clarifications.publish_clarification(db, actor=other_editor, challenge_id=other.id,
                                         question="Elsewhere", answer="E", now=now)
    assert clarifications.published(db, challenge.id) == []


# --- what is still unanswered, and for whom -------------------------------------------------


def test_pending_questions_by_reader(ctx, db, now, world):
    lead, editor, challenge = world
    alice, bob = b.supplier(), b.supplier()
    a1 = _ask(db, now, alice, challenge, question="Alice one")
    b1 = _ask(db, now + HOUR, bob, challenge, question="Bob one")
    a2 = _ask(db, now + 2 * HOUR, alice, challenge, question="Alice two")
    answered = _ask(db, now + 3 * HOUR, alice, challenge, question="Answered")
    clarifications.answer_question(db, actor=editor, clarification_id=answered.id, question="Answered",
                                   answer="Done", now=now + 4 * HOUR)

    def ids(actor):
        return [c.id for c in clarifications.pending(db, actor=actor, challenge_id=challenge.id)]

    assert ids(editor) == [a1.id, b1.id, a2.id]
    assert ids(b.viewer(lead)) == [a1.id, b1.id, a2.id]
    assert ids(alice) == [a1.id, a2.id]
    assert ids(bob) == [b1.id]
    assert ids(b.supplier()) == []
    assert ids(b.editor()) == []  # another authority is not the lead
    assert ids(None) == []
    assert ids(AnonymousUserMixin()) == []


def test_get_pending_is_for_the_leads_editors(ctx, db, now, world):
    lead, editor, challenge = world
    asker = b.supplier()
    asked = _ask(db, now, asker, challenge)
    assert clarifications.get_pending(db, actor=editor, clarification_id=asked.id).id == asked.id
    with pytest.raises(NotPermitted):
        clarifications.get_pending(db, actor=b.viewer(lead), clarification_id=asked.id)
    for outsider in (asker, b.editor(), None):
        with pytest.raises(NotFound):
            clarifications.get_pending(db, actor=outsider, clarification_id=asked.id)
    with pytest.raises(NotFound):
        clarifications.get_pending(db, actor=editor, clarification_id=999_999)
