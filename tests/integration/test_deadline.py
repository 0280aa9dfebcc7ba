"""The deadline on real PostgreSQL: submissions and the close job racing for the phase row in
separate connections and threads, the close job run twice, and the beat tasks that close
phases and remind suppliers run by a real Celery worker (SPEC 3.3, TRUST.md Sealed bids).

A submission locks the phase row FOR SHARE and only then reads its clock; the close job locks
it FOR UPDATE. Whichever takes the row first, the other waits for it: a submission holding
the row when the job arrives is judged by its own clock and, if in time, is in the count the
authority is sent; a submission waiting behind the close never lands after it.
"""

from __future__ import annotations

import itertools
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, func, inspect, select, text
from sqlalchemy.orm import Session

from procure.accounts.models import User
from procure.audit.models import AuditEvent
from procure.challenges import services as challenge_services
from procure.challenges.models import Challenge, Phase
from procure.errors import RuleViolation
from procure.notifications.models import OutboxMessage
from procure.submissions import services
from procure.submissions.models import Proposal, Receipt
from tests import factories
from tests.challenges import service_builders as sb
from tests.integration.conftest import (
    PG_URL,
    REDIS_URL,
    SKIP_REASON,
    broker_idle,
    wait_for_status,
    wait_until,
)
from tests.submissions.builders import complete

if not (PG_URL and REDIS_URL):
    pytest.skip(SKIP_REASON, allow_module_level=True)

# The tests hold the tier's lock (through ``broker``): the app here sends real jobs to the
# tier's Redis database, which no other test's worker may pick up.
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("celery")]

CLOSE_TASK = "procure.challenges.advance_phases"
REMIND_TASK = "procure.submissions.remind"
SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
WAIT = 20.0  # seconds to wait for another thread or connection; lock_timeout is the same
ONE_SUBMITTED = "The deadline for phase 1 has passed. 1 proposal was submitted."
COUNTED = "proposal is in the competition"
NOT_COUNTED = "so it is not in the competition"

# Each test of the races closes its phase at a deadline of its own, two months before the
# previous test's, so a phase left open by a failed test is never due when a later one runs.
_ANCHOR = datetime.now(UTC).replace(microsecond=0) - 7 * DAY
_deadlines = itertools.count()


def a_deadline() -> datetime:
    return _ANCHOR - next(_deadlines) * 60 * DAY


# --- building a competition ---------------------------------------------------------------

@dataclass(frozen=True)
class Competition:
    challenge_id: int
    phase_id: int
    lead_id: int
    suppliers: dict[str, tuple[int, int]]  # name: (user id, proposal id)


def competition(app: Flask, *, opens_at: datetime, closes_at: datetime,
                ready: tuple[str, ...] = ("a", "b"), drafts: tuple[str, ...] = ()) -> Competition:
    """A published challenge whose phase 1 the job opened at ``opens_at``, with one supplier per
    name: complete proposals (not yet submitted) for ``ready``, bare drafts for ``drafts``."""
    with app.app_context():
        session = app.extensions["db_sessionmaker"]()
        factories.bind(session)
        try:
            fw = sb.framework(session, opens_at - DAY, code=f"it-{uuid.uuid4().hex[:10]}")
            lead = sb.editor()
            challenge = sb.open_challenge(session, opens_at - DAY, lead, fw, opens_at=opens_at,
                                          closes_at=closes_at)
            phase = challenge.phases[0]
            challenge_services.advance_phases(session, now=opens_at)
            session.refresh(phase)
            assert phase.status == "open"
            suppliers = {}
            for name in (*ready, *drafts):
                user = sb.supplier()
                proposal = services.start_proposal(session, actor=user, phase_id=phase.id,
                                                   now=opens_at + SECOND)
                if name in ready:
                    complete(session, opens_at + SECOND, proposal, user, marker=name)
                suppliers[name] = (user.id, proposal.id)
            return Competition(challenge.id, phase.id, lead.id, suppliers)
        finally:
            session.close()


# --- separate connections, in threads -----------------------------------------------------

@contextmanager
def own_session(app: Flask) -> Iterator[tuple[Session, int]]:
    """A session on a connection of its own, in an app context, and its backend's pid.

    The transaction it opens is the one the service then works in; a lock wait longer than
    ``WAIT`` fails instead of hanging the test.
    """
    with app.app_context(), app.extensions["db_engine"].connect() as connection:
        session = Session(bind=connection, expire_on_commit=False)
        try:
            pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
            session.execute(text(f"SET LOCAL lock_timeout = '{int(WAIT)}s'"))
            yield session, pid
        finally:
            session.close()


def submit(app: Flask, who: tuple[int, int], clock: Callable[[], datetime],
           pids: dict[str, int], name: str) -> int | RuleViolation:
    """``submit_proposal`` in its own connection: the receipt's id, or the refusal."""
    user_id, proposal_id = who
    with own_session(app) as (session, pid):
        pids[name] = pid
        actor = session.get(User, user_id)
        try:
            return services.submit_proposal(session, actor=actor, proposal_id=proposal_id,
                                            clock=clock).id
        except RuleViolation as refused:
            return refused


def close_job(app: Flask, now: datetime, pids: dict[str, int], name: str, *,
              hold: tuple[int, threading.Event, threading.Event] | None = None) -> int:
    """``advance_phases`` in its own connection. With ``hold=(phase id, holding, go)`` it stops
    just before committing the close of that phase — the row still locked FOR UPDATE — sets
    ``holding`` and waits for ``go``."""
    with own_session(app) as (session, pid):
        pids[name] = pid
        if hold is not None:
            phase_id, holding, go = hold

            def pause(session: Session) -> None:
                closing = any(isinstance(o, Phase) and o.id == phase_id and o.status == "closed"
                              for o in session.identity_map.values())
                if closing and not holding.is_set():
                    holding.set()
                    go.wait(WAIT)

            event.listen(session, "before_commit", pause)
        return challenge_services.advance_phases(session, now=now)


class HeldClock:
    """A clock that, when read (the phase row already locked by the submission), says so and
    gives its time only once released."""

    def __init__(self, at: datetime) -> None:
        self.at = at
        self.reading = threading.Event()
        self.go = threading.Event()

    def __call__(self) -> datetime:
        self.reading.set()
        self.go.wait(WAIT)
        return self.at


@contextmanager
def lock_watch(app: Flask) -> Iterator[Callable[[int | None], set[int]]]:
    """``blockers(pid)``: the backends the given one is waiting for (empty if not waiting)."""
    with app.extensions["db_engine"].connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")

        def blockers(pid: int | None) -> set[int]:
            if pid is None:
                return set()
            return set(connection.execute(text("SELECT pg_blocking_pids(:pid)"),
                                          {"pid": pid}).scalar_one())

        yield blockers


def waiting(blockers: Callable[[int | None], set[int]], pids: dict[str, int], name: str) -> set[int]:
    return wait_until(lambda: blockers(pids.get(name)), timeout=WAIT,
                      what=f"{name} to wait for a lock on the phase")


def submit_in_time(app: Flask, who: tuple[int, int], at: datetime) -> int:
    outcome = submit(app, who, lambda: at, {}, "on its own")
    assert isinstance(outcome, int), outcome
    return outcome


def run_job(app: Flask, now: datetime) -> int:
    return close_job(app, now, {}, "on its own")


# --- what the database holds --------------------------------------------------------------

def columns(obj: Any) -> dict[str, Any]:
    return {c.key: getattr(obj, c.key) for c in inspect(type(obj)).mapper.column_attrs}


def stored(app: Flask) -> Session:
    return app.extensions["db_sessionmaker"]()


def receipts_of(session: Session, proposal_id: int) -> list[Receipt]:
    return list(session.execute(select(Receipt).where(Receipt.proposal_id == proposal_id)
                                .order_by(Receipt.id)).scalars())


def mails(session: Session, key_prefix: str) -> list[OutboxMessage]:
    return list(session.execute(select(OutboxMessage)
                                .where(OutboxMessage.idempotency_key.startswith(key_prefix))
                                .order_by(OutboxMessage.id)).scalars())


def audited(session: Session, action: str, subject_id: int) -> int:
    return session.execute(select(func.count(AuditEvent.seq)).where(
        AuditEvent.action == action, AuditEvent.subject_id == str(subject_id))).scalar_one()


def everything(app: Flask, comp: Competition) -> dict[str, Any]:
    """The competition's rows, and how many audit events and e-mails exist at all."""
    with stored(app) as session:
        proposal_ids = [p for _, p in comp.suppliers.values()]
        return {
            "audit": session.execute(select(func.count(AuditEvent.seq),
                                            func.max(AuditEvent.seq))).one(),
            "outbox": session.execute(select(func.count(OutboxMessage.id),
                                             func.max(OutboxMessage.id))).one(),
            "phase": columns(session.get(Phase, comp.phase_id)),
            "challenge": columns(session.get(Challenge, comp.challenge_id)),
            "proposals": [columns(session.get(Proposal, p)) for p in proposal_ids],
            "receipts": [[columns(r) for r in receipts_of(session, p)] for p in proposal_ids],
        }


# --- the race -----------------------------------------------------------------------------

def test_submissions_holding_the_phase_when_the_close_job_comes_are_judged_by_their_clock(
        live_app, broker):
    deadline = a_deadline()
    comp = competition(live_app, opens_at=deadline - 30 * DAY, closes_at=deadline)
    in_time, too_late = HeldClock(deadline - SECOND), HeldClock(deadline + SECOND)
    pids: dict[str, int] = {}

    with ThreadPoolExecutor(3) as pool, lock_watch(live_app) as blockers:
        try:
            a = pool.submit(submit, live_app, comp.suppliers["a"], in_time, pids, "a")
            b = pool.submit(submit, live_app, comp.suppliers["b"], too_late, pids, "b")
            # Both hold the phase row (FOR SHARE) and are reading their clocks...
            assert in_time.reading.wait(WAIT) and too_late.reading.wait(WAIT)
            # ...when the close job, at the deadline, wants the row FOR UPDATE.
            job = pool.submit(close_job, live_app, deadline, pids, "job")
            assert waiting(blockers, pids, "job") <= {pids["a"], pids["b"]}
            assert not job.done()
        finally:
            in_time.go.set()
            too_late.go.set()
        a_receipt, b_refused, moved = a.result(WAIT), b.result(WAIT), job.result(WAIT)

    assert isinstance(b_refused, RuleViolation)
    assert b_refused.errors == {"proposal": "phase_closed"}
    assert moved == 1
    (a_user, a_id), (b_user, b_id) = comp.suppliers["a"], comp.suppliers["b"]
    with stored(live_app) as session:
        (receipt,) = receipts_of(session, a_id)
        assert receipt.id == a_receipt
        assert receipt.received_at == deadline - SECOND
        proposal = session.get(Proposal, a_id)
        assert (proposal.status, proposal.current_receipt_id) == ("submitted", a_receipt)
        assert receipts_of(session, b_id) == []
        assert session.get(Proposal, b_id).status == "draft"
        phase = session.get(Phase, comp.phase_id)
        assert (phase.status, phase.closed_at) == ("closed", deadline)
        assert services.count_submitted(session, comp.phase_id) == 1
        # The job waited for A's submission, so the authority is told it arrived.
        (authority,) = mails(session, f"phase-closed:{comp.phase_id}:")
        assert authority.template == "phase_closed_authority"
        assert authority.recipient_id == comp.lead_id
        assert ONE_SUBMITTED in authority.body
        (told_a,) = mails(session, f"phase-closed-supplier:{comp.phase_id}:{a_id}:")
        (told_b,) = mails(session, f"phase-closed-supplier:{comp.phase_id}:{b_id}:")
        assert (told_a.recipient_id, told_b.recipient_id) == (a_user, b_user)
        assert COUNTED in told_a.body and NOT_COUNTED in told_b.body


def test_submissions_waiting_behind_the_close_job_never_land_after_it(live_app, broker):
    """The job has closed the phase (a submission made a minute earlier counted) and still holds
    the row when A and B submit; they wait, and read their clocks only once it has let go.

    A's clock says a second before the deadline although it was read after the close — as a
    server whose clock is behind the worker's would. Landing then would put a proposal in the
    competition that the authority was told was not there.
    """
    deadline = a_deadline()
    comp = competition(live_app, opens_at=deadline - 30 * DAY, closes_at=deadline,
                       ready=("early", "a", "b"))
    submit_in_time(live_app, comp.suppliers["early"], deadline - MINUTE)
    holding, go = threading.Event(), threading.Event()
    read_after_the_job_let_go: list[bool] = []

    def clock(at: datetime) -> Callable[[], datetime]:
        def read() -> datetime:
            read_after_the_job_let_go.append(go.is_set())
            return at
        return read

    pids: dict[str, int] = {}
    with ThreadPoolExecutor(3) as pool, lock_watch(live_app) as blockers:
        try:
            job = pool.submit(close_job, live_app, deadline, pids, "job",
                              hold=(comp.phase_id, holding, go))
            assert holding.wait(WAIT)
            a = pool.submit(submit, live_app, comp.suppliers["a"], clock(deadline - SECOND),
                            pids, "a")
            b = pool.submit(submit, live_app, comp.suppliers["b"], clock(deadline + SECOND),
                            pids, "b")
            assert waiting(blockers, pids, "a") <= {pids["job"], pids["b"]}
            assert waiting(blockers, pids, "b") <= {pids["job"], pids["a"]}
            assert not a.done() and not b.done()
        finally:
            go.set()
        moved, a_outcome, b_outcome = job.result(WAIT), a.result(WAIT), b.result(WAIT)

    assert moved == 1
    assert read_after_the_job_let_go == [True, True]
    assert isinstance(b_outcome, RuleViolation)
    assert b_outcome.errors == {"proposal": "phase_closed"}
    with stored(live_app) as session:
        (authority,) = mails(session, f"phase-closed:{comp.phase_id}:")
        assert ONE_SUBMITTED in authority.body
        landed = receipts_of(session, comp.suppliers["a"][1])
        assert isinstance(a_outcome, RuleViolation) and not landed, (
            f"A's submission landed after the phase had closed (receipt at "
            f"{[r.received_at for r in landed]}); the authority was told: {authority.body!r}")
        assert a_outcome.errors == {"proposal": "phase_closed"}
        assert receipts_of(session, comp.suppliers["b"][1]) == []
        assert services.count_submitted(session, comp.phase_id) == 1
        assert session.get(Phase, comp.phase_id).status == "closed"


# --- the close job run twice --------------------------------------------------------------

def test_the_close_job_run_a_second_time_changes_nothing(live_app, broker):
    deadline = a_deadline()
    comp = competition(live_app, opens_at=deadline - 30 * DAY, closes_at=deadline)
    submit_in_time(live_app, comp.suppliers["a"], deadline - HOUR)

    first = run_job(live_app, deadline)
    before = everything(live_app, comp)
    second = run_job(live_app, deadline)
    after = everything(live_app, comp)

    assert (first, second) == (1, 0)
    assert after == before  # no audit event, no e-mail, no change to any row
    assert before["phase"]["status"] == "closed"
    assert before["challenge"]["status"] == "in_progress"
    with stored(live_app) as session:
        assert audited(session, "phase.close", comp.phase_id) == 1
        assert len(mails(session, f"phase-closed:{comp.phase_id}:")) == 1
        assert len(mails(session, f"phase-closed-supplier:{comp.phase_id}:")) == 2


def test_two_close_jobs_at_once_close_the_phase_once(live_app, broker):
    """Two runs overlapping (a slow run and the next minute's): both find the phase due, both
    wait for its row, and the one that gets it second finds it already closed."""
    deadline = a_deadline()
    comp = competition(live_app, opens_at=deadline - 30 * DAY, closes_at=deadline)
    submit_in_time(live_app, comp.suppliers["a"], deadline - HOUR)
    pids: dict[str, int] = {}

    with ThreadPoolExecutor(2) as pool, lock_watch(live_app) as blockers, \
            own_session(live_app) as (holder, holder_pid):
        holder.execute(select(Phase.id).where(Phase.id == comp.phase_id).with_for_update())
        try:
            runs = [pool.submit(close_job, live_app, deadline, pids, name)
                    for name in ("first", "second")]
            # Both runs wait (each registers its pid once it has a connection); only then
            # can each be checked to be waiting for nothing but the holder and the other run.
            blocked = {name: waiting(blockers, pids, name) for name in ("first", "second")}
            for by in blocked.values():
                assert by <= {holder_pid, pids["first"], pids["second"]}
        finally:
            holder.rollback()
        moved = sorted(run.result(WAIT) for run in runs)

    assert moved == [0, 1]
    with stored(live_app) as session:
        assert session.get(Phase, comp.phase_id).status == "closed"
        assert audited(session, "phase.close", comp.phase_id) == 1
        assert audited(session, "challenge.started", comp.challenge_id) == 1
        (authority,) = mails(session, f"phase-closed:{comp.phase_id}:")
        assert ONE_SUBMITTED in authority.body
        assert len(mails(session, f"phase-closed-supplier:{comp.phase_id}:")) == 2


# --- the beat tasks on a real worker ------------------------------------------------------

def task_results(log: str, task: str) -> list[int]:
    """What each run of ``task`` returned, in order, as the worker logged it."""
    return [int(n) for n in re.findall(rf"Task {re.escape(task)}\[[0-9a-f-]+\] succeeded in "
                                       rf"[0-9.e-]+s: (\d+)", log)]


def test_the_worker_runs_the_beat_tasks_that_close_phases_and_remind_suppliers(
        live_app, start_worker, broker, tmp_path):
    celery = live_app.extensions["celery"]
    assert {CLOSE_TASK, REMIND_TASK} <= {e["task"] for e in celery.conf.beat_schedule.values()}
    now = datetime.now(UTC).replace(microsecond=0)
    # Closed a minute ago by the clock, open by its status: the job has not run since.
    due = competition(live_app, opens_at=now - 2 * HOUR, closes_at=now - MINUTE, ready=("in",),
                      drafts=("draft",))
    submit_in_time(live_app, due.suppliers["in"], now - 30 * MINUTE)
    # Closes tomorrow: a supplier with only a draft is reminded, once.
    soon = competition(live_app, opens_at=now - 2 * HOUR, closes_at=now + DAY, ready=(),
                       drafts=("late",))
    late_user, late_proposal = soon.suppliers["late"]
    worker = start_worker(mail_dir=tmp_path / "mail")

    celery.send_task(CLOSE_TASK, ignore_result=True)
    wait_until(lambda: task_results(worker.log(), CLOSE_TASK), what="the close task to run")
    celery.send_task(REMIND_TASK, ignore_result=True)
    celery.send_task(REMIND_TASK, ignore_result=True)
    reminded = wait_until(lambda: len(found := task_results(worker.log(), REMIND_TASK)) == 2 and found,
                          what=lambda: f"both reminder runs\n{worker.log_tail()}")
    closing_mail = wait_for_status(live_app, f"phase-closed:{due.phase_id}:{due.lead_id}", "sent")
    reminder = wait_for_status(live_app, f"proposal-reminder:{late_proposal}:{late_user}", "sent")
    wait_until(lambda: broker_idle(broker), what="the broker queue to drain")

    assert task_results(worker.log(), CLOSE_TASK) == [1]
    assert reminded == [1, 0]
    assert ONE_SUBMITTED in closing_mail["body"]
    assert reminder["recipient_email"]
    with stored(live_app) as session:
        phase = session.get(Phase, due.phase_id)
        assert phase.status == "closed"
        assert now <= phase.closed_at <= datetime.now(UTC)  # closed by the worker's clock
        assert session.get(Challenge, due.challenge_id).status == "in_progress"
        assert session.get(Phase, soon.phase_id).status == "open"
        assert len(mails(session, f"proposal-reminder:{late_proposal}:")) == 1
        assert audited(session, "proposal.reminded", late_proposal) == 1
        assert session.get(Proposal, late_proposal).reminded_at is not None
        # The closed phase's draft is past reminding; nothing else was reminded either.
        assert mails(session, f"proposal-reminder:{due.suppliers['draft'][1]}:") == []
        assert session.execute(select(func.count(OutboxMessage.id)).where(
            OutboxMessage.template == "proposal_reminder")).scalar_one() == 1
