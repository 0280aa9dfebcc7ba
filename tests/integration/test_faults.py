"""Faults in the services Procure stands on, with real processes: Redis stopped while people
work, and PostgreSQL restarted under traffic (TRUST.md, Background work). Nothing committed
is lost, nothing is sent twice, and the app recovers without being restarted.

The fault tests start servers of their own (``redis-server``, or a PostgreSQL cluster made by
initdb, on free ports in temporary directories) and never touch the shared ones.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from flask import Flask
from psycopg import errors as pg_errors
from sqlalchemy import exc

from tests import factories
from tests.challenges import service_builders as sb
from tests.conftest import migrate
from tests.integration.conftest import (
    PG_URL,
    REDIS_URL,
    SKIP_REASON,
    PrivatePostgres,
    broker_idle,
    build_app,
    dispose_app,
    message_id_for,
    register,
    wait_until,
)

if not (PG_URL and REDIS_URL):
    pytest.skip(SKIP_REASON, allow_module_level=True)

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("celery")]

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


# --- HTTP ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Answer:
    status: int
    body: str
    headers: dict[str, str]


def get(url: str, *, timeout: float = 15) -> Answer:
    request = urllib.request.Request(url, headers={"Accept-Language": "en"})  # noqa: S310 - local
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - local
            return Answer(response.status, response.read().decode(), dict(response.headers))
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.read().decode(errors="replace"), dict(error.headers))


def a_published_challenge(app: Flask) -> int:
    """A challenge published through the services, for its public page."""
    from procure.db import utcnow

    with app.app_context():
        session = app.extensions["db_sessionmaker"]()
        factories.bind(session)
        try:
            now = utcnow()
            fw = sb.framework(session, now - DAY, code=f"fault-{uuid.uuid4().hex[:8]}")
            lead = sb.editor()
            return sb.open_challenge(session, now - DAY, lead, fw, opens_at=now + DAY,
                                     closes_at=now + 30 * DAY).id
        finally:
            session.close()


class Traffic:
    """Threads asking for pages in a loop, each answer logged with the time it was sent."""

    def __init__(self, base: str, paths: list[str], threads: int = 3) -> None:
        self.base, self.paths = base, paths
        self.answers: list[tuple[float, float, str, int, str | None]] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(n,), daemon=True)
                         for n in range(threads)]

    def _run(self, n: int) -> None:
        i = n
        while not self._stop.is_set():
            path = self.paths[i % len(self.paths)]
            i += 1
            sent = time.monotonic()
            try:
                answer = get(self.base + path)
                status, retry_after = answer.status, answer.headers.get("Retry-After")
            except OSError:  # refused or timed out: the server itself is not answering
                status, retry_after = 0, None
            with self._lock:
                self.answers.append((sent, time.monotonic(), path, status, retry_after))
            time.sleep(0.02)

    def __enter__(self) -> Traffic:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_exc: Any) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)

    def since(self, moment: float) -> list[tuple[float, float, str, int, str | None]]:
        with self._lock:
            return [a for a in self.answers if a[0] >= moment]

    def between(self, start: float, end: float) -> list[tuple[float, float, str, int, str | None]]:
        with self._lock:
            return [a for a in self.answers if a[0] >= start and a[1] <= end]


# --- PostgreSQL restarted under traffic ---------------------------------------------------

def _wrapped(kind: type, orig: BaseException, **kwargs: Any) -> BaseException:
    return kind("SELECT 1", {}, orig, **kwargs)


@pytest.mark.parametrize(("error", "unavailable"), [
    pytest.param(_wrapped(exc.OperationalError, psycopg.OperationalError(
        "connection refused")), True, id="refused"),
    pytest.param(_wrapped(exc.OperationalError, pg_errors.AdminShutdown(
        "terminating connection due to administrator command")), True, id="admin shutdown"),
    pytest.param(_wrapped(exc.OperationalError, pg_errors.CannotConnectNow(
        "the database system is starting up")), True, id="starting up"),
    pytest.param(_wrapped(exc.InterfaceError, psycopg.InterfaceError(
        "the connection is closed")), True, id="connection closed"),
    pytest.param(exc.TimeoutError("QueuePool limit reached"), True, id="pool exhausted"),
    pytest.param(_wrapped(exc.DBAPIError, Exception("cut"), connection_invalidated=True),
                 True, id="invalidated"),
    pytest.param(_wrapped(exc.OperationalError, pg_errors.LockNotAvailable(
        "lock timeout")), False, id="lock timeout"),
    pytest.param(_wrapped(exc.IntegrityError, pg_errors.UniqueViolation(
        "duplicate key")), False, id="unique violation"),
    pytest.param(_wrapped(exc.OperationalError, sqlite3.OperationalError(
        "no such table: users")), False, id="sqlite no such table"),
    pytest.param(ValueError("a bug"), False, id="not the database"),
])
def test_which_errors_mean_the_database_is_out_of_reach(error, unavailable):
    from procure.db import database_unavailable

    assert database_unavailable(error) is unavailable
    try:  # the same, as the cause of another error
        raise RuntimeError("rendering failed") from error
    except RuntimeError as outer:
        assert database_unavailable(outer) is unavailable


def test_the_app_rides_out_a_postgresql_restart_without_being_restarted(
        private_postgres: PrivatePostgres, serve, live_redis_url: str, broker):
    from tests.conftest import create_postgres_database

    url = create_postgres_database(private_postgres.url, "procure")
    migrate(url)
    env = {
        "PROCURE_ENV": "development",
        "PROCURE_SECRET_KEY": "fault-test-secret-key-not-for-production",
        "PROCURE_DATABASE_URL": url,
        "PROCURE_BASE_URL": "http://procure.test",
        "PROCURE_REDIS_URL": live_redis_url,  # no worker here: its queue is emptied by the next test
    }
    seeding = build_app(env)
    try:
        challenge_id = a_published_challenge(seeding)
    finally:
        dispose_app(seeding)
    server = serve(env, workers=2, threads=4)
    pids = wait_until(lambda: len(found := server.worker_pids()) == 2 and found, timeout=30,
                      what="gunicorn's two workers")
    paths = ["/", f"/challenges/{challenge_id}", "/challenges", "/catalogue"]
    assert {p: get(server.url + p).status for p in paths} == {p: 200 for p in paths}

    with Traffic(server.url, paths, threads=3) as traffic:
        wait_until(lambda: len(traffic.since(0)) >= 40, timeout=30, what="some traffic")
        going_down = time.monotonic()
        private_postgres.stop()
        down = time.monotonic()
        wait_until(lambda: len(traffic.since(down)) >= 20, timeout=30,
                   what="requests while PostgreSQL is down")
        starting = time.monotonic()
        private_postgres.start()  # returns once it accepts connections (a little after)
        back = time.monotonic()
        wait_until(lambda: len(traffic.since(back)) >= 80, timeout=60,
                   what="requests once PostgreSQL is back")

    assert not {500, 0} & {a[3] for a in traffic.since(0)}, Counter(a[3] for a in traffic.since(0))
    before = traffic.between(0, going_down)
    while_down = traffic.between(down, starting)
    after = traffic.since(back)
    assert before and {a[3] for a in before} == {200}
    # While the database is away: a clear "service unavailable" with Retry-After, never a 500.
    # While the database is away the home page (which reads nothing from it) still works,
    # and the pages that need it say "try again" (503, Retry-After): never a 500.
    by_path = Counter((a[2], a[3]) for a in while_down)
    assert set(by_path) == {("/", 200)} | {(p, 503) for p in paths[1:]}, by_path
    assert all(a[4] for a in while_down if a[3] == 503)
    assert get(server.url + "/").status == 200
    # Once it is back, every request is answered normally by the same server processes.
    assert Counter(a[3] for a in after) == {200: len(after)}, Counter(a[3] for a in after)
    assert {a[2] for a in after} == set(paths)
    assert server.process.poll() is None
    assert "Error handling request" not in server.log()  # gunicorn's own 500, past Flask
    assert server.worker_pids() == pids  # no worker was restarted to get there


# --- Redis stopped while people work ------------------------------------------------------

SWEEP_TASK = "procure.notifications.sweep"
SIGN_IN_REFUSED = "Enter a correct e-mail address and password"


@dataclass(frozen=True)
class Work:
    """What people do while Redis is down: a supplier's submission and an award decision."""

    open_challenge_id: int
    supplier_id: int
    proposal_id: int
    decided_challenge_id: int
    decided_phase_id: int
    lead_id: int
    winner_id: int
    loser_id: int


def prepare_work(app: Flask) -> Work:
    """Through the services: a complete draft in an open phase, and a closed phase whose two
    proposals two assessors have marked (the same marks, so nothing needs moderating)."""
    from procure.assessment import services as assessment
    from procure.challenges import services as challenges
    from procure.db import utcnow
    from tests.assessment import builders as ab
    from tests.submissions import builders as pb

    def open_phase(session: Any, at: Any) -> tuple[Any, Any, Any]:
        fw = sb.framework(session, at - DAY, code=f"fault-{uuid.uuid4().hex[:8]}")
        lead = sb.editor()
        challenge = sb.open_challenge(session, at - DAY, lead, fw, opens_at=at - HOUR,
                                      closes_at=at + 30 * DAY)
        challenges.advance_phases(session, now=at)
        return challenge, challenge.phases[0], lead

    now = utcnow()
    with app.app_context():
        session = app.extensions["db_sessionmaker"]()
        factories.bind(session)
        try:
            challenge, phase, _lead = open_phase(session, now)
            supplier = sb.supplier()
            proposal = pb.complete(session, now, pb.started(session, now, phase, supplier),
                                   supplier, marker="while Redis is down")
            # As tests/assessment/builders.py's closed_phase, long ago (so the phase job of
            # other tests never finds it due) and with a framework of its own.
            at = now - 400 * DAY
            old, old_phase, lead = open_phase(session, at)
            world = ab.World(challenge=old, phase=old_phase, lead=lead)
            for n in range(2):
                person = sb.supplier()
                submitted, _ = pb.submitted(session, at, old_phase, person, marker=f"M{n}")
                world.suppliers.append(person)
                world.proposals.append(submitted)
            challenges.advance_phases(session, now=old_phase.closes_at)
            world.after = old_phase.closes_at + DAY
            world.phase = assessment.load_phase(session, challenge_id=old.id,
                                                phase_id=old_phase.id)
            winner, loser = world.proposals
            for _ in range(2):
                person, _ = ab.assessor(session, world)
                ab.assess(session, world, person, winner, [4, 4])
                ab.assess(session, world, person, loser, [2, 2])
            return Work(challenge.id, supplier.id, proposal.id, world.challenge.id,
                        world.phase.id, world.lead.id, winner.id, loser.id)
        finally:
            session.close()


def do_work_while_redis_is_down(app: Flask, work: Work) -> tuple[int, int]:
    """The supplier submits; the lead authority records the award, its contract, and releases
    it. Returns (receipt id, decision id)."""
    from datetime import date

    from procure.accounts.models import User
    from procure.assessment import services as assessment
    from procure.bakeoff import services as bakeoff
    from procure.db import utcnow
    from procure.submissions import services as submissions

    with app.app_context():
        session = app.extensions["db_sessionmaker"]()
        try:
            supplier = session.get(User, work.supplier_id)
            receipt = submissions.submit_proposal(session, actor=supplier,
                                                  proposal_id=work.proposal_id, clock=utcnow)
            lead = session.get(User, work.lead_id)
            ids = {"challenge_id": work.decided_challenge_id, "phase_id": work.decided_phase_id}
            now = utcnow()
            decision = assessment.record_decision(session, actor=lead, selected_ids=[work.winner_id],
                                                  reason="The best value for the council",
                                                  now=now, **ids)
            bakeoff.record_contract(session, actor=lead, proposal_id=work.winner_id,
                                    value_pence=2_000_000, starts_on=date(2027, 1, 4),
                                    ends_on=date(2027, 6, 30), now=now, **ids)
            assessment.release_decision(session, actor=lead, now=now, **ids)
            return receipt.id, decision.id
        finally:
            session.close()


def outbox_with_prefix(app: Flask, prefix: str) -> dict[str, dict[str, Any]]:
    from sqlalchemy import select

    from procure.notifications.models import OutboxMessage

    with app.extensions["db_sessionmaker"]() as session:
        rows = session.execute(select(OutboxMessage).where(
            OutboxMessage.idempotency_key.startswith(prefix))).scalars()
        return {r.idempotency_key: {"status": r.status, "attempts": r.attempts,
                                    "last_error": r.last_error} for r in rows}


class Browser:
    """A cookie-keeping client for the live server, enough to send a form with its CSRF token."""

    def __init__(self, base: str) -> None:
        import http.cookiejar

        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def _open(self, request: urllib.request.Request) -> Answer:
        try:
            with self.opener.open(request, timeout=15) as response:
                return Answer(response.status, response.read().decode(), dict(response.headers))
        except urllib.error.HTTPError as error:
            return Answer(error.code, error.read().decode(errors="replace"), dict(error.headers))

    def get(self, path: str) -> Answer:
        return self._open(urllib.request.Request(self.base + path))  # noqa: S310 - local

    def post_form(self, path: str, data: dict[str, str]) -> Answer:
        import re
        from urllib.parse import urlencode

        token = re.search(r'name="csrf_token" value="([^"]+)"', self.get(path).body)
        assert token, f"no CSRF token on {path}"
        body = urlencode({"csrf_token": token.group(1), **data}).encode()
        request = urllib.request.Request(self.base + path, data=body, method="POST")  # noqa: S310
        return self._open(request)


def test_work_done_while_redis_is_down_is_kept_and_each_email_sent_once_when_it_is_back(
        live_app, live_env, private_redis, serve, start_worker, broker, smtp_sink, caplog):
    """Redis (broker and rate-limit storage) stops while people work: pages keep working,
    rate-limited ones included; a submission and an award decision are saved with their
    e-mails in the outbox; when Redis is back (started again, empty, on the same port) the
    worker reconnects by itself and the sweep task delivers each e-mail once."""
    import logging

    import redis

    redis_url = private_redis.url(0)
    env = {**live_env, "PROCURE_REDIS_URL": redis_url}
    app = build_app(env)  # the test process's app, on the private Redis too
    worker = start_worker(smtp=smtp_sink, redis_url=redis_url)
    # One process, so the limits it falls back to keeping in memory are all in one place.
    server = serve({**env, "PROCURE_SIGNIN_LIMITS_ACCOUNT": "3 per minute"}, workers=1,
                   threads=4)
    try:
        work = prepare_work(app)
        pages = ["/", f"/challenges/{work.open_challenge_id}", "/catalogue", "/challenges"]
        browser = Browser(server.url)
        assert {p: browser.get(p).status for p in pages} == {p: 200 for p in pages}
        assert "X-RateLimit-Limit" in get(server.url + "/catalogue").headers  # limited on Redis

        private_redis.stop()
        down_at = time.monotonic()

        # Pages, the rate-limited catalogue and sign-in among them, still answer, and quickly.
        for path in pages:
            started = time.monotonic()
            answer = browser.get(path)
            assert (path, answer.status) == (path, 200)
            assert time.monotonic() - started < 5
        # Sign-in's limits still hold, kept in memory meanwhile: three failures for one
        # account are answered, the fourth is throttled.
        guesses = [browser.post_form("/sign-in", {"email": "nobody@example.com",
                                                  "password": f"not the password {n}"})
                   for n in range(4)]
        assert [g.status for g in guesses] == [400, 400, 400, 429]
        assert all(SIGN_IN_REFUSED in g.body for g in guesses[:3])

        # The supplier submits and the authority releases an award: saved, e-mails queued.
        with caplog.at_level(logging.WARNING, logger="procure.jobs"):
            started = time.monotonic()
            receipt_id, decision_id = do_work_while_redis_is_down(app, work)
            assert time.monotonic() - started < 30  # each failed enqueue gives up quickly
        assert any("could not enqueue procure.notifications.deliver" in r.getMessage()
                   for r in caplog.records)
        submitted = outbox_with_prefix(live_app, f"proposal-submitted:{receipt_id}:")
        released = outbox_with_prefix(live_app, f"decision_released:{decision_id}:")
        assert len(submitted) == 1 and len(released) == 2  # the supplier; winner and loser
        queued = {**submitted, **released}
        assert {k: r["status"] for k, r in queued.items()} == {k: "pending" for k in queued}
        assert browser.get(f"/challenges/{work.open_challenge_id}").status == 200
        assert worker.process.poll() is None  # the worker waits for its broker, it does not die
        down_for = time.monotonic() - down_at

        private_redis.start()  # the same port, and empty: whatever was queued there is gone
        client = redis.Redis.from_url(redis_url)
        try:
            wait_until(lambda: "Connected to redis://" in worker.log().split(
                "Connection to broker lost")[-1], timeout=60,
                what=lambda: f"the worker to reconnect\n{worker.log_tail()}")
            # Beat sends this every minute; here the test sends it itself, as beat would.
            wait_until(lambda: _send(app, SWEEP_TASK), timeout=30, what="the sweep to be sent")
            rows = {k: wait_until(lambda k=k: (r := outbox_with_prefix(live_app, k)[k])
                                  and r["status"] == "sent" and r, what=f"{k} to be sent")
                    for k in queued}
            wait_until(lambda: broker_idle(client), what="the sweep to finish")
            first_round = Counter(smtp_sink.completed)
            # A second sweep finds nothing more to send.
            assert _send(app, SWEEP_TASK)
            wait_until(lambda: sweeps_run(worker.log()) == 2 and broker_idle(client),
                       what="the second sweep to run")
            assert Counter(smtp_sink.completed) == first_round
            # And what commits now goes straight to the worker again, with no sweep.
            caplog.clear()
            with caplog.at_level(logging.WARNING, logger="procure.jobs"):
                _, welcome = register(app, f"after-{uuid.uuid4().hex[:8]}@example.com")
            assert not caplog.records
            wait_until(lambda: smtp_sink.completed[message_id_for(welcome)] == 1,
                       what="the welcome e-mail to be delivered")
            wait_until(lambda: broker_idle(client), what="its delivery to be acknowledged")
            assert sweeps_run(worker.log()) == 2
        finally:
            client.close()
        assert {k: (r["attempts"], r["last_error"]) for k, r in rows.items()} == {
            k: (1, None) for k in queued}
        mine = {message_id_for(k) for k in queued}
        assert {m: smtp_sink.completed[m] for m in mine} == {m: 1 for m in mine}
        assert set(smtp_sink.completed.values()) == {1}  # nothing at all was sent twice
        assert down_for < 60
    finally:
        dispose_app(app)


def sweeps_run(log: str) -> int:
    import re

    return len(re.findall(r"Task procure\.notifications\.sweep\[[^\]]+\] succeeded", log))


def _send(app: Flask, task: str) -> bool:
    """Send ``task`` through the app's own Celery connection: False if Redis refused it."""
    try:
        app.extensions["celery"].send_task(task, ignore_result=True)
    except Exception:  # noqa: BLE001 - the broker connection may need a retry after a restart
        return False
    return True
