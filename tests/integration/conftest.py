"""The integration tier: a fresh PostgreSQL database, a dedicated Redis database, the app
built the way production builds it, a local SMTP sink and real Celery worker processes.

The worker runs exactly as deployed (``celery -A workers worker`` from the project root)
and gets its settings only through ``PROCURE_*`` environment variables; the app in the
test process is built from the same variables, so both sides agree on the database, the
broker and the mail transport.
"""

from __future__ import annotations

import asyncio
import email
import fcntl
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from flask import Flask

from tests.conftest import create_postgres_database, drop_postgres_database, migrate

PG_URL = os.environ.get("PROCURE_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("PROCURE_REDIS_URL")
SKIP_REASON = (
    "the integration tier needs PROCURE_TEST_DATABASE_URL (PostgreSQL) and PROCURE_REDIS_URL "
    "(Redis); set both to run it (with CI=true their absence is an error, not a skip)")

ROOT = Path(__file__).resolve().parents[2]
CELERY = ROOT / ".venv" / "bin" / "celery"
REDIS_DB = 15  # a database of its own, flushed before each test, so runs never share a queue
VISIBILITY_TIMEOUT = 10  # seconds: a task held by a killed worker comes back within a test
DEADLINE = 60.0  # seconds to wait for anything the worker does


def wait_until(predicate: Callable[[], Any], *, timeout: float = DEADLINE, interval: float = 0.1,
               what: str | Callable[[], str] = "condition") -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for "
                                 f"{what() if callable(what) else what}")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def with_redis_db(url: str, db: int) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{db}"))


# --- services -----------------------------------------------------------------------------

@pytest.fixture(scope="session")
def live_database_url() -> Iterator[str]:
    """A fresh PostgreSQL database built by Alembic, dropped at the end."""
    if not (PG_URL and REDIS_URL):
        pytest.skip(SKIP_REASON)
    name = f"procure_it_{uuid.uuid4().hex[:8]}"
    url = create_postgres_database(PG_URL, name)
    try:
        migrate(url)
        yield url
    finally:
        drop_postgres_database(PG_URL, name)


@pytest.fixture(scope="session")
def live_redis_url() -> str:
    if not (PG_URL and REDIS_URL):
        pytest.skip(SKIP_REASON)
    return with_redis_db(REDIS_URL, REDIS_DB)


@pytest.fixture
def tier_lock(live_redis_url: str) -> Iterator[None]:
    """Hold an exclusive lock on the tier's Redis database for the whole test.

    Every test empties that database and starts workers that take any task in it, so two
    of these tests must never run at once: not in two xdist processes (``--dist loadgroup``
    keeps the "celery" group in one process, but pytest-xdist 3.8 on pytest 9.2 silently
    stops grouping, pytest-dev/pytest-xdist#1386) and not in two test runs on one machine.
    """
    digest = hashlib.sha256(live_redis_url.encode()).hexdigest()[:12]
    path = Path(tempfile.gettempdir()) / f"procure-integration-{digest}.lock"
    with open(path, "w") as fh:
        wait_until(lambda: _try_lock(fh), timeout=300, interval=0.2,
                   what=f"the integration lock {path} (another run holds it)")
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _try_lock(fh: Any) -> bool:
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@pytest.fixture
def broker(live_redis_url: str, tier_lock: None) -> Iterator[Any]:
    """A client on the tier's own Redis database, emptied before the test."""
    import redis

    client = redis.Redis.from_url(live_redis_url)
    client.flushdb()
    yield client
    client.close()


def broker_idle(client: Any) -> bool:
    """No task waiting in the queue and none delivered but unacknowledged."""
    return client.llen("celery") == 0 and client.hlen("unacked") == 0


# --- settings and the app in the test process ---------------------------------------------

@pytest.fixture(scope="session")
def live_env(live_database_url: str, live_redis_url: str) -> dict[str, str]:
    """The ``PROCURE_*`` settings shared by the test process and every worker."""
    return {
        "PROCURE_ENV": "development",
        "PROCURE_SECRET_KEY": "integration-secret-key-not-for-production",
        "PROCURE_DATABASE_URL": live_database_url,
        "PROCURE_REDIS_URL": live_redis_url,
        "PROCURE_BASE_URL": "http://procure.test",
        "PROCURE_CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
    }


def build_app(env: dict[str, str]) -> Flask:
    """``create_app("development")`` with exactly ``env`` as its environment.

    Settings are read from the environment when the app is created (some, like the rate
    limit storage, are derived there), so set the variables rather than only overriding
    ``app.config`` afterwards; the overrides just make the important ones explicit.
    """
    from procure import create_app

    with pytest.MonkeyPatch.context() as mp:
        for name in [k for k in os.environ if k.startswith("PROCURE_")]:
            mp.delenv(name)
        for name, value in env.items():
            mp.setenv(name, value)
        # RATELIMIT_STORAGE_URI: Flask-Limiter's ``limiter`` is one object shared by every
        # app in this process and keeps the storage of the app initialised last; other tests
        # run in this process too, so it must not be left pointing at this tier's Redis.
        app = create_app("development", SQLALCHEMY_DATABASE_URL=env["PROCURE_DATABASE_URL"],
                         REDIS_URL=env["PROCURE_REDIS_URL"], RATELIMIT_STORAGE_URI="memory://")
    assert app.config["RECORD_JOBS"] is False  # jobs really go to the broker
    return app


def dispose_app(app: Flask) -> None:
    app.extensions["db_engine"].dispose()
    app.extensions["celery"].close()


@pytest.fixture(scope="session")
def live_app(live_env: dict[str, str]) -> Iterator[Flask]:
    app = build_app(live_env)
    yield app
    dispose_app(app)


# --- the SMTP sink ------------------------------------------------------------------------

@dataclass
class SmtpSink:
    """A local SMTP server that counts messages by Message-ID.

    ``arrived`` counts every DATA received; ``completed`` only transactions answered with
    250 on a connection that was still open, i.e. messages the sender knows were accepted.
    ``hold_next()`` makes the next DATA wait, with the sender blocked for its reply, until
    ``release()``: the window in which a test kills the process that is sending.
    """

    host: str = "127.0.0.1"
    port: int = 0
    arrived: Counter = field(default_factory=Counter)
    completed: Counter = field(default_factory=Counter)
    aborted: Counter = field(default_factory=Counter)
    held: str | None = None
    _hold: bool = False
    _release: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self._lock:
            self.arrived.clear()
            self.completed.clear()
            self.aborted.clear()
            self.held, self._hold = None, False
            self._release.clear()

    def hold_next(self) -> None:
        with self._lock:
            self.held, self._hold = None, True
            self._release.clear()

    def release(self) -> None:
        self._release.set()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message_id = email.message_from_bytes(envelope.content)["Message-ID"]
        with self._lock:
            self.arrived[message_id] += 1
            hold = self._hold
            if hold:
                self.held, self._hold = message_id, False
        if hold:
            try:
                while not self._release.is_set():
                    await asyncio.sleep(0.02)
            except asyncio.CancelledError:  # aiosmtpd cancels the handler when the peer goes
                with self._lock:
                    self.aborted[message_id] += 1
                raise
        if server.transport is None or server.transport.is_closing():
            with self._lock:
                self.aborted[message_id] += 1
            return "421 Connection lost before the reply"
        with self._lock:
            self.completed[message_id] += 1
        return "250 Message accepted for delivery"


@pytest.fixture(scope="session")
def _smtp_server() -> Iterator[SmtpSink]:
    from aiosmtpd.controller import Controller

    sink = SmtpSink(port=free_port())
    controller = Controller(sink, hostname=sink.host, port=sink.port)
    controller.start()
    yield sink
    sink.release()
    controller.stop()


@pytest.fixture
def smtp_sink(_smtp_server: SmtpSink) -> Iterator[SmtpSink]:
    _smtp_server.reset()
    yield _smtp_server
    _smtp_server.release()  # never leave a handler waiting


# --- real Celery workers ------------------------------------------------------------------

class Worker:
    """One ``celery -A workers worker`` process (prefork, one pool process) and its log."""

    def __init__(self, env: dict[str, str], log_path: Path, name: str) -> None:
        self.env, self.log_path, self.name = env, log_path, name
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, timeout: float = 30.0) -> Worker:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("PROCURE_")}
        environ.update(self.env, PYTHONUNBUFFERED="1")
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [str(CELERY), "-A", "workers", "worker", "--pool=prefork", "--concurrency=1",
                 "--loglevel=INFO", "--without-gossip", "--without-mingle",
                 "--without-heartbeat", "-n", f"{self.name}@%h"],
                cwd=ROOT, env=environ, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: killpg takes the pool too
            )
        ready = re.compile(rf"{re.escape(self.name)}@\S+ ready\.")

        def is_ready() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"worker exited with {self.process.returncode}\n"
                                     f"{self.log_tail()}")
            return bool(ready.search(self.log()))

        wait_until(is_ready, timeout=timeout,
                   what=lambda: f"worker {self.name} to be ready\n{self.log_tail()}")
        wait_until(self.pool_pids, timeout=timeout, what="the worker's pool process")
        assert "transport:   redis://" in self.log(), self.log_tail()
        return self

    def pool_pids(self) -> list[int]:
        """The pool (child) processes of the worker's main process."""
        try:
            import psutil
        except ImportError:
            out = subprocess.run(["pgrep", "-P", str(self.pid)], capture_output=True, text=True)
            return [int(p) for p in out.stdout.split()]
        try:
            return [p.pid for p in psutil.Process(self.pid).children()]
        except psutil.NoSuchProcess:
            return []

    def kill_pool_process(self) -> int:
        (child,) = self.pool_pids()
        os.kill(child, signal.SIGKILL)
        return child

    def kill(self) -> None:
        """SIGKILL the whole worker at once: main process and pool, no chance to clean up."""
        with suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # warm shutdown
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        with suppress(ProcessLookupError):  # nothing of it may outlive the test
            os.killpg(self.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log().splitlines()[-lines:])


@pytest.fixture
def start_worker(live_env: dict[str, str], broker: Any, tmp_path: Path,
                 ) -> Iterator[Callable[..., Worker]]:
    """Start real workers; each is stopped (and killed if need be) when the test ends.

    ``start_worker(mail_dir=path)`` writes e-mails as .eml files; ``start_worker(smtp=sink)``
    sends them to the SMTP sink; ``redis_url=`` gives it another broker.
    """
    started: list[Worker] = []

    def start(*, mail_dir: Path | None = None, smtp: SmtpSink | None = None,
              redis_url: str | None = None) -> Worker:
        env = dict(live_env)
        if redis_url is not None:  # a broker of the test's own (its private redis-server)
            env["PROCURE_REDIS_URL"] = redis_url
        if smtp is not None:
            env.update(PROCURE_SMTP_HOST=smtp.host, PROCURE_SMTP_PORT=str(smtp.port),
                       PROCURE_SMTP_STARTTLS="false")
        else:
            assert mail_dir is not None
            env["PROCURE_MAIL_DIR"] = str(mail_dir)
        name = f"procure-it-{len(started) + 1}-{uuid.uuid4().hex[:6]}"
        worker = Worker(env, tmp_path / f"{name}.log", name)
        started.append(worker)
        return worker.start()

    yield start
    for worker in started:
        worker.stop()
    for worker in started:  # shown by pytest only when the test failed
        print(f"----- log of {worker.name} -----\n{worker.log_tail(200)}")


# --- working with the app -----------------------------------------------------------------

def register(app: Flask, email_address: str) -> tuple[int, str]:
    """Register an account through the real service, which commits its welcome e-mail to
    the outbox and enqueues its delivery after commit. Returns (user id, outbox key)."""
    from procure.accounts.services import register_user
    from procure.db import get_session, utcnow

    with app.app_context():
        user = register_user(get_session(), name="Integration Tester", email=email_address,
                             password="a long enough passphrase for tests", locale="en",
                             now=utcnow())
        assert user is not None
        return user.id, f"welcome:{user.id}"


def outbox_row(app: Flask, key: str) -> dict[str, Any] | None:
    """The outbox row for ``key`` as the database holds it now."""
    from sqlalchemy import select

    from procure.notifications.models import OutboxMessage

    with app.extensions["db_sessionmaker"]() as session:
        row = session.execute(
            select(OutboxMessage).where(OutboxMessage.idempotency_key == key)
        ).scalar_one_or_none()
        if row is None:
            return None
        return {c: getattr(row, c) for c in ("id", "status", "attempts", "last_error",
                                             "sent_at", "recipient_email", "body")}


def wait_for_status(app: Flask, key: str, status: str, timeout: float = DEADLINE,
                    ) -> dict[str, Any]:
    return wait_until(lambda: (row := outbox_row(app, key)) and row["status"] == status and row,
                      timeout=timeout,
                      what=lambda: f"outbox {key} to be {status!r}; now {outbox_row(app, key)}")


def message_id_for(key: str) -> str:
    from procure.notifications import rules

    return rules.message_id(key, "procure.test")


# --- private servers for the fault tests ----------------------------------------------------

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
REDIS_SERVER = Path("/usr/bin/redis-server")
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"


def need(available: bool, what: str) -> None:
    """Skip a fault test whose server program is not installed; with CI=true, fail instead."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is needed by the fault tests (with CI=true its absence is an error)")
    pytest.skip(f"{what} is needed by the fault tests")


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


class PrivateRedis:
    """A ``redis-server`` of the test's own on a free port, never the shared one: stopped and
    started again on the same port, with nothing kept on disk (a restart starts empty)."""

    def __init__(self, directory: Path) -> None:
        self.directory, self.port = directory, free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> PrivateRedis:
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / "redis.log", "ab") as log:
            self.process = subprocess.Popen(
                [str(REDIS_SERVER), "--port", str(self.port), "--bind", "127.0.0.1",
                 "--dir", str(self.directory), "--save", "", "--appendonly", "no",
                 "--protected-mode", "no"],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_until(self.ping, timeout=15, what=f"redis-server on port {self.port}")
        return self

    def ping(self) -> bool:
        import redis

        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False
        finally:
            client.close()

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None
        wait_until(lambda: not _port_open(self.port), timeout=10, what="redis to stop listening")


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    need(REDIS_SERVER.exists(), str(REDIS_SERVER))
    server = PrivateRedis(tmp_path / "redis").start()
    yield server
    server.stop()


def _postgres_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return found[-1].parent if found else None


class PrivatePostgres:
    """A PostgreSQL cluster of the test's own (initdb in a temporary directory, on a free port),
    run as the ``postgres`` OS user when the tests run as root, since initdb refuses root."""

    def __init__(self, bindir: Path, directory: Path) -> None:
        self.bindir, self.directory, self.port = bindir, directory, free_port()
        self.data = directory / "data"
        self.as_root = os.geteuid() == 0

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 60) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              cwd=self.directory)
        assert done.returncode == 0, f"{' '.join(command)}\n{done.stdout}\n{done.stderr}"

    def init(self) -> PrivatePostgres:
        self.directory.mkdir(parents=True, exist_ok=True)
        if self.as_root:
            import pwd

            user = pwd.getpwnam("postgres")
            os.chown(self.directory, user.pw_uid, user.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--no-sync")
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                       f"unix_socket_directories = '{self.directory}'\nfsync = off\n"
                       "max_connections = 60\n")
        return self

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.directory / "server.log"),
                  "-w", "-t", "30", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "30", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def log(self) -> str:
        path = self.directory / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    bindir = _postgres_bin()
    need(bindir is not None, "PostgreSQL's server programs (/usr/lib/postgresql/*/bin)")
    # Not under pytest's tmp_path: pytest keeps its base directory 0700 (and resets it when
    # another run starts), so the postgres user could not reach a cluster inside it.
    directory = Path(tempfile.mkdtemp(prefix="procure-pg-"))
    try:
        server = PrivatePostgres(bindir, directory).init()
        server.start()
        try:
            yield server
        finally:
            if server.running():
                with suppress(AssertionError, subprocess.TimeoutExpired):
                    server.stop()
            print(f"----- log of PostgreSQL on {server.port} -----\n{server.log()[-10000:]}")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


class LiveServer:
    """The app served by gunicorn, as in production (README), from ``PROCURE_*`` settings."""

    def __init__(self, env: dict[str, str], log_path: Path, *, workers: int = 2,
                 threads: int = 4) -> None:
        self.env, self.log_path = env, log_path
        self.workers, self.threads, self.port = workers, threads, free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LiveServer:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("PROCURE_")}
        environ.update(self.env, PYTHONUNBUFFERED="1")
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [str(GUNICORN), "--workers", str(self.workers), "--threads", str(self.threads),
                 "--bind", f"127.0.0.1:{self.port}", "--timeout", "60", "wsgi:app"],
                cwd=ROOT, env=environ, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)

        def up() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"gunicorn exited with {self.process.returncode}\n"
                                     f"{self.log()}")
            return _port_open(self.port)

        wait_until(up, timeout=30, what="gunicorn to listen")
        return self

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def worker_pids(self) -> set[int]:
        """gunicorn's worker processes (children of its arbiter)."""
        out = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True,
                             text=True)
        return {int(p) for p in out.stdout.split()}

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """Start gunicorn on the given settings; stopped (and killed if need be) after the test."""
    started: list[LiveServer] = []

    def start(env: dict[str, str], **kwargs: Any) -> LiveServer:
        server = LiveServer(env, tmp_path / f"gunicorn-{len(started) + 1}.log", **kwargs)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()
    for server in started:
        print(f"----- log of gunicorn on {server.port} -----\n{server.log()[-20000:]}")
