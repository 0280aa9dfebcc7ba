"""The demo's world built once per test process and backend (migrated, then filled by
``flask demo load``'s own functions), and a fresh copy of it for each test that asks for
``demo_app``: a file copy on SQLite, ``CREATE DATABASE … TEMPLATE`` on PostgreSQL."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from config import normalise_database_url
from tests.conftest import BACKENDS, PG_URL, create_postgres_database, drop_postgres_database, migrate


def _app(url: str, base: Path) -> Flask:
    from procure import create_app

    return create_app("testing", SQLALCHEMY_DATABASE_URL=url, MAIL_DIR=base / "mail",
                      UPLOAD_DIR=base / "uploads", BASE_URL="http://procure.test")


@pytest.fixture(scope="session", params=BACKENDS)
def demo_template(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                  worker_id: str) -> Iterator[tuple[str, Path]]:
    from procure.db import get_session, utcnow
    from procure.demo import load_demo
    from procure.demo_challenges import load_demo_challenges

    base = tmp_path_factory.mktemp("demo-template")
    if request.param == "sqlite":
        url = f"sqlite:///{base / 'procure.db'}"
    else:
        url = create_postgres_database(PG_URL, f"procure_demo_{worker_id}_{uuid.uuid4().hex[:6]}")
    migrate(url)
    app = _app(url, base)
    with app.app_context():
        session = get_session()
        load_demo(session, now=utcnow())
        load_demo_challenges(session, now=utcnow())
        session.commit()
    app.extensions["db_engine"].dispose()
    yield url, base
    if request.param != "sqlite":
        drop_postgres_database(PG_URL, make_url(url).database)


@pytest.fixture
def demo_app(demo_template: tuple[str, Path], tmp_path: Path) -> Iterator[Flask]:
    """An app over its own copy of the demo database and uploaded files."""
    from procure.extensions import limiter

    template_url, base = demo_template
    if template_url.startswith("sqlite"):
        shutil.copy(base / "procure.db", tmp_path / "procure.db")
        url = f"sqlite:///{tmp_path / 'procure.db'}"
    else:
        template = make_url(template_url).database
        name = f"{template}_{uuid.uuid4().hex[:6]}"
        admin = create_engine(make_url(normalise_database_url(PG_URL)), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        admin.dispose()
        url = make_url(template_url).set(database=name).render_as_string(hide_password=False)
    if (base / "uploads").exists():
        shutil.copytree(base / "uploads", tmp_path / "uploads")
    app = _app(url, tmp_path)
    limiter.reset()
    yield app
    app.extensions["db_engine"].dispose()
    if not url.startswith("sqlite"):
        drop_postgres_database(PG_URL, make_url(url).database)
