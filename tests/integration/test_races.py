"""Races on real PostgreSQL, each contender in its own thread and connection: a proposal
submitted twenty times at once is submitted once, and an open record published by two jobs
at once is published once (TRUST.md, Sealed bids and The open record).
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

from procure.accounts.models import User
from procure.audit.models import AuditEvent
from procure.db import utcnow
from procure.notifications.models import OutboxMessage
from procure.record import services as record
from procure.record.models import ChallengeRecord
from procure.record.rules import RecordStatus
from procure.submissions import services as submissions
from procure.submissions.models import Proposal, Receipt
from tests import factories
from tests.integration.conftest import PG_URL, REDIS_URL, SKIP_REASON, wait_until
from tests.integration.test_deadline import competition, own_session

if not (PG_URL and REDIS_URL):
    pytest.skip(SKIP_REASON, allow_module_level=True)

# The tests hold the tier's lock (through ``broker``): the app here sends real jobs to the
# tier's Redis database, which no other test's worker may pick up.
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("celery")]

DAY = timedelta(days=1)
CONTENDERS = 20
WAIT = 20.0


def outcome(error: BaseException | None) -> str:
    return "submitted" if error is None else type(error).__name__


def test_twenty_submits_of_one_proposal_at_once_make_one_submission(live_app: Flask, broker):
    now = utcnow()
    comp = competition(live_app, opens_at=now - DAY, closes_at=now + 30 * DAY, ready=("a",))
    user_id, proposal_id = comp.suppliers["a"]
    start = threading.Barrier(CONTENDERS)
    results: list[str] = []
    receipts: list[int] = []
    lock = threading.Lock()

    def submit() -> None:
        start.wait(WAIT)  # all twenty at once; the pool has fifteen connections, the rest queue
        error: BaseException | None = None
        try:
            with own_session(live_app) as (session, _pid):
                receipt = submissions.submit_proposal(session, actor=session.get(User, user_id),
                                                      proposal_id=proposal_id, clock=utcnow)
                with lock:
                    receipts.append(receipt.id)
        except Exception as exc:  # noqa: BLE001 - what each of the twenty was told
            error = exc
        with lock:
            results.append(outcome(error))

    threads = [threading.Thread(target=submit) for _ in range(CONTENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(3 * WAIT)
    assert not any(t.is_alive() for t in threads)

    # One submits; each of the others waits for it, then finds the proposal submitted and is
    # given that same receipt (nothing deadlocks, times out or fails).
    assert Counter(results) == {"submitted": CONTENDERS}
    receipt_id = receipts[0]
    assert receipts == [receipt_id] * CONTENDERS
    with live_app.extensions["db_sessionmaker"]() as session:
        assert session.execute(select(Receipt.id).where(Receipt.proposal_id == proposal_id)
                               ).scalars().all() == [receipt_id]
        proposal = session.get(Proposal, proposal_id)
        assert (proposal.status, proposal.current_receipt_id) == ("submitted", receipt_id)
        assert session.execute(select(func.count(AuditEvent.seq)).where(
            AuditEvent.action == "proposal.submitted",
            AuditEvent.subject_id == str(proposal_id))).scalar_one() == 1
        mails = session.execute(select(OutboxMessage.idempotency_key, OutboxMessage.recipient_id)
                                .where(OutboxMessage.template == "proposal_submitted",
                                       OutboxMessage.idempotency_key.startswith(
                                           f"proposal-submitted:{receipt_id}:"))).all()
        assert mails == [(f"proposal-submitted:{receipt_id}:{user_id}", user_id)]
        assert session.execute(select(func.count(OutboxMessage.id)).where(
            OutboxMessage.template == "proposal_submitted",
            OutboxMessage.recipient_id == user_id)).scalar_one() == 1


def _waiting_for_a_lock(app: Flask, pid: int | None) -> bool:
    if pid is None:
        return False
    with app.extensions["db_engine"].connect() as connection:
        return connection.execute(text(
            "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = :pid"),
            {"pid": pid}).scalar() is True


def test_two_publication_jobs_for_one_record_at_once_publish_it_once(live_app: Flask, broker):
    """The request is raced in tests/record/test_services.py; here the job itself is: two
    workers handed the same record (a redelivery, or the sweep beside the job). The first
    holds the challenge and record rows until it commits; the second waits, then finds the
    record published and does nothing."""
    from tests.record import builders as rb

    now = utcnow() - 500 * DAY  # long over, so the phase jobs of other tests never find it due
    with live_app.app_context():
        session = live_app.extensions["db_sessionmaker"]()
        factories.bind(session)
        try:
            world = rb.concluded_world(session, now, code=f"race-{uuid.uuid4().hex[:8]}")
            rb.write_lessons(session, world)
            queued = record.request_publication(session, actor=world.lead,
                                                challenge_id=world.challenge.id,
                                                now=world.after)
            record_id, challenge_id = queued.id, world.challenge.id
        finally:
            session.close()
    pids: dict[str, int] = {}
    results: dict[str, object] = {}
    first_holds_the_rows = threading.Event()

    def publish(name: str) -> None:
        with live_app.app_context(), live_app.extensions["db_engine"].connect() as connection:
            session = Session(bind=connection, expire_on_commit=False)
            try:
                pids[name] = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
                session.execute(text(f"SET lock_timeout = '{int(WAIT)}s'"))
                if name == "first":
                    @event.listens_for(session, "before_commit")
                    def _hold(_session: Session) -> None:
                        # Frozen and told, not yet committed: let the second job in, and
                        # commit only once it waits for this transaction's row locks.
                        if not first_holds_the_rows.is_set():
                            first_holds_the_rows.set()
                            wait_until(lambda: _waiting_for_a_lock(live_app, pids.get("second")),
                                       timeout=WAIT, what="the second job to wait for the lock")
                results[name] = record.publish_record(session, record_id, now=utcnow())
            except Exception as error:  # noqa: BLE001 - reported below
                results[name] = f"{type(error).__name__}: {error}"
            finally:
                session.close()

    first = threading.Thread(target=publish, args=("first",))
    second = threading.Thread(target=publish, args=("second",))
    first.start()
    assert first_holds_the_rows.wait(WAIT), results
    second.start()
    first.join(2 * WAIT)
    second.join(2 * WAIT)
    assert results == {"first": True, "second": False}

    with live_app.extensions["db_sessionmaker"]() as session:
        stored = session.get(ChallengeRecord, record_id)
        assert stored.status == RecordStatus.PUBLISHED and stored.content_sha256
        published = session.execute(select(AuditEvent).where(
            AuditEvent.action == "record.published",
            AuditEvent.subject_id == str(challenge_id))).scalars().all()
        assert len(published) == 1 and stored.content_sha256 in str(published[0].data)
        told = session.execute(select(OutboxMessage.idempotency_key).where(
            OutboxMessage.idempotency_key.startswith(f"record_published:{challenge_id}:"))
        ).scalars().all()
        assert told and len(told) == len(set(told))
        # The people told are each told once: one e-mail per funder editor and named supplier.
        recipients = session.execute(select(OutboxMessage.recipient_id).where(
            OutboxMessage.idempotency_key.startswith(f"record_published:{challenge_id}:"))
        ).scalars().all()
        assert Counter(recipients) == {r: 1 for r in recipients}
