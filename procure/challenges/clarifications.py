"""Clarification questions: suppliers ask, the lead's editors answer in public, never naming who asked."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from procure.audit import services as audit
from procure.challenges import recipients
from procure.challenges.models import Challenge, Clarification
from procure.challenges.services import _authorised, _text, load_challenge
from procure.errors import NotFound, NotPermitted, RuleViolation
from procure.notifications.services import external_url
from procure.permissions import Permission, can

MAX_QUESTION = 2_000
MAX_ANSWER = 10_000


def questions_open(challenge: Challenge, now: datetime) -> bool:
    """Suppliers may ask until the clarification deadline."""
    deadline = challenge.clarification_deadline
    return challenge.status == "open" and deadline is not None and now < deadline


def _record(session: Session, clarification: Clarification, action: str, actor: Any,
            now: datetime) -> None:
    audit.record(session, action=action, subject_type="clarification", subject_id=clarification.id,
                 actor_id=getattr(actor, "id", None), now=now,
                 data={"challenge": clarification.challenge_id})


def ask_question(session: Session, *, actor: Any, challenge_id: int, question: str,
                 now: datetime) -> Clarification:
    """A supplier asks; the lead's editors are told. The asker is never shown to anyone."""
    challenge = _authorised(session, actor, Permission.CLARIFICATION_ASK, challenge_id, lock=False)
    if not questions_open(challenge, now):
        raise RuleViolation({"question": "questions_closed"})
    question = _text(question)
    if not question:
        raise RuleViolation({"question": "question_missing"})
    if len(question) > MAX_QUESTION:
        raise RuleViolation({"question": "too_long"})
    clarification = Clarification(challenge_id=challenge.id, asked_by_id=actor.id,
                                  question=question, answer="", asked_at=now)
    session.add(clarification)
    session.flush()
    _record(session, clarification, "clarification.asked", actor, now)
    recipients.tell(session, recipients.editors_of(session, challenge.lead_organisation_id),
                    key=f"question-asked:{clarification.id}", template="question_asked",
                    challenge=challenge, now=now, question=question,
                    questions_url=external_url("challenges.list_questions",
                                               challenge_id=challenge.id))
    session.commit()
    return clarification


def answer_question(session: Session, *, actor: Any, clarification_id: int, question: str,
                    answer: str, now: datetime) -> Clarification:
    """Publish an answer for everyone; the editor may reword the question so it names nobody."""
    clarification = session.get(Clarification, clarification_id)
    if clarification is None:
        raise NotFound("clarification")
    challenge = _authorised(session, actor, Permission.CLARIFICATION_ANSWER,
                            clarification.challenge_id)
    if clarification.published_at is not None:
        raise RuleViolation({"answer": "already_answered"})
    question, answer = _text(question), _text(answer)
    errors = {}
    if not question:
        errors["question"] = "question_missing"
    elif len(question) > MAX_QUESTION:
        errors["question"] = "too_long"
    if not answer:
        errors["answer"] = "answer_missing"
    elif len(answer) > MAX_ANSWER:
        errors["answer"] = "too_long"
    if errors:
        raise RuleViolation(errors)
    clarification.question, clarification.answer = question, answer
    clarification.answered_by_id, clarification.published_at = actor.id, now
    _record(session, clarification, "clarification.answered", actor, now)
    if clarification.asked_by is not None and not clarification.asked_by.is_disabled:
        recipients.tell(session, [clarification.asked_by],
                        key=f"question-answered:{clarification.id}", template="question_answered",
                        challenge=challenge, now=now, question=question, answer=answer)
    session.commit()
    return clarification


def publish_clarification(session: Session, *, actor: Any, challenge_id: int, question: str,
                          answer: str, now: datetime) -> Clarification:
    """An editor publishes a clarification nobody asked for (a heading and the text)."""
    challenge = _authorised(session, actor, Permission.CLARIFICATION_ANSWER, challenge_id)
    question, answer = _text(question), _text(answer)
    errors = {}
    if not question:
        errors["question"] = "subject_missing"
    elif len(question) > MAX_QUESTION:
        errors["question"] = "too_long"
    if not answer:
        errors["answer"] = "answer_missing"
    elif len(answer) > MAX_ANSWER:
        errors["answer"] = "too_long"
    if errors:
        raise RuleViolation(errors)
    clarification = Clarification(challenge_id=challenge.id, asked_by_id=None, question=question,
                                  answer=answer, asked_at=now, answered_by_id=actor.id,
                                  published_at=now)
    session.add(clarification)
    session.flush()
    _record(session, clarification, "clarification.published", actor, now)
    session.commit()
    return clarification


def published(session: Session, challenge_id: int) -> list[Clarification]:
    """Answered questions and clarifications, oldest first, for everyone to read."""
    return list(session.execute(
        select(Clarification).where(Clarification.challenge_id == challenge_id,
                                    Clarification.published_at.is_not(None))
        .order_by(Clarification.published_at, Clarification.id)
    ).scalars())


def pending(session: Session, *, actor: Any, challenge_id: int) -> list[Clarification]:
    """Questions waiting for an answer: the lead's members see them all, a supplier its own."""
    challenge = load_challenge(session, challenge_id)
    stmt = select(Clarification).where(Clarification.challenge_id == challenge_id,
                                       Clarification.published_at.is_(None))
    if not can(actor, Permission.CLARIFICATION_READ_PENDING, challenge):
        if getattr(actor, "id", None) is None:
            return []
        stmt = stmt.where(Clarification.asked_by_id == actor.id)
    return list(session.execute(stmt.order_by(Clarification.asked_at, Clarification.id)).scalars())


def get_pending(session: Session, *, actor: Any, clarification_id: int) -> Clarification:
    """One unanswered question, for the lead's editors to answer."""
    clarification = session.get(Clarification, clarification_id)
    if clarification is None:
        raise NotFound("clarification")
    challenge = load_challenge(session, clarification.challenge_id)
    if not can(actor, Permission.CLARIFICATION_READ_PENDING, challenge) \
            or clarification.published_at is not None:
        raise NotFound("clarification")
    if not can(actor, Permission.CLARIFICATION_ANSWER, challenge):
        raise NotPermitted(str(Permission.CLARIFICATION_ANSWER))
    return clarification
