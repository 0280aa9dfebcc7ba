"""Shared fixtures: the app on each database backend, a rolled-back session per test,
a client, a sign-in helper, a frozen ``now`` and a recorder of enqueued jobs.

The schema is built once per backend by Alembic (never ``create_all``); each test runs
inside a transaction that is rolled back, the app's own commits becoming savepoints.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from config import normalise_database_url

PG_URL = os.environ.get("PROCURE_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("PROCURE_REDIS_URL")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def pytest_configure(config: pytest.Config) -> None:
    if IN_CI and not (PG_URL and REDIS_URL):
        raise pytest.UsageError(
            "CI=true needs PROCURE_TEST_DATABASE_URL and PROCURE_REDIS_URL: a missing service "
            "is a failure, not a skip")
    # The app must never pick up a developer's settings.
    for name in [k for k in os.environ if k.startswith("PROCURE_") and k not in {
            "PROCURE_TEST_DATABASE_URL", "PROCURE_REDIS_URL"}]:
        del os.environ[name]


def create_postgres_database(base_url: str, name: str) -> str:
    """A fresh, empty PostgreSQL database beside ``base_url``'s; returns its URL."""
    url = make_url(normalise_database_url(base_url))
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(base_url: str, name: str) -> None:
    url = make_url(normalise_database_url(base_url))
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def migrate(url: str) -> None:
    """Build the schema the only way production does: Alembic upgrade to head."""
    from alembic import command

    from procure.cli import alembic_config

    command.upgrade(alembic_config(url), "head")


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                 worker_id: str) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'procure.db'}"
        migrate(url)
        yield url
        return
    name = f"procure_test_{worker_id}_{uuid.uuid4().hex[:6]}"
    url = create_postgres_database(PG_URL, name)
    migrate(url)
    yield url
    drop_postgres_database(PG_URL, name)


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    from procure import create_app

    mail_dir = tmp_path_factory.mktemp("mail")
    return create_app("testing", SQLALCHEMY_DATABASE_URL=database_url, MAIL_DIR=mail_dir,
                      UPLOAD_DIR=tmp_path_factory.mktemp("uploads"),
                      BASE_URL="http://procure.test")


@pytest.fixture
def db(app: Flask) -> Iterator[Session]:
    """A session inside a transaction rolled back after the test; the app's sessions join it."""
    engine = app.extensions["db_engine"]
    connection = engine.connect()
    outer = connection.begin()
    maker = sessionmaker(bind=connection, join_transaction_mode="create_savepoint",
                         expire_on_commit=False)
    original = app.extensions["db_sessionmaker"]
    app.extensions["db_sessionmaker"] = maker
    session = maker()
    from tests import factories

    factories.bind(session)
    try:
        yield session
    finally:
        session.close()
        app.extensions["db_sessionmaker"] = original
        outer.rollback()
        connection.close()


@pytest.fixture
def ctx(app: Flask, db: Session) -> Iterator[Flask]:
    """An app context for calling services directly (not for use with the client)."""
    with app.app_context():
        yield app


@pytest.fixture
def jobs(app: Flask) -> list[tuple[str, tuple]]:
    """The tasks enqueued after commit during the test, as (name, args)."""
    recorder = app.extensions.setdefault("job_recorder", [])
    recorder.clear()
    return recorder


@pytest.fixture
def mail_dir(app: Flask) -> Path:
    directory = Path(app.config["MAIL_DIR"])
    for f in directory.glob("*.eml"):
        f.unlink()
    return directory


@pytest.fixture
def client(app: Flask, db: Session) -> FlaskClient:
    from procure.extensions import limiter

    limiter.reset()
    return app.test_client()


@pytest.fixture
def now() -> datetime:
    return NOW


def csrf_token(client: FlaskClient, path: str = "/sign-in") -> str:
    """The CSRF token of the client's session, read from a form page."""
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def post_form(client: FlaskClient, path: str, data: dict, *, token_from: str | None = None,
              **kwargs):
    """POST a form with the session's CSRF token, as a browser would."""
    payload = {"csrf_token": csrf_token(client, token_from or path), **data}
    return client.post(path, data=payload, **kwargs)


def sign_in(client: FlaskClient, db: Session, user) -> str:
    """Sign ``user`` in on ``client`` through a real server-side session; returns its token.

    The session counts as having given a second factor, as a sign-in with a code does.
    """
    from procure.accounts.services import start_session
    from procure.db import utcnow

    token = start_session(db, user=user, now=utcnow(), mfa=True)
    with client.session_transaction() as s:
        s["_user_id"] = token
        s["_fresh"] = True
    return token
