"""Alembic: one head; upgrade, downgrade and upgrade again; the models match the migrations."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

import procure.models  # noqa: F401 - registers every table on Base.metadata
from procure.cli import alembic_config
from procure.db import Base, make_engine
from procure.record.search import is_search_object
from tests.conftest import PG_URL, create_postgres_database, drop_postgres_database

BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


@pytest.fixture(params=BACKENDS)
def empty_database(request, tmp_path) -> Iterator[str]:
    """A fresh, empty database of each backend, private to this test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    name = f"procure_migrations_{uuid.uuid4().hex[:10]}"
    url = create_postgres_database(PG_URL, name)
    try:
        yield url
    finally:
        drop_postgres_database(PG_URL, name)


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return {t for t in inspect(engine).get_table_names() if not is_search_object(t)}
    finally:
        engine.dispose()


def _differences(url: str) -> list:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={
                "compare_type": True,
                "include_object": lambda obj, name, *_: not is_search_object(name)})
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def test_one_head():
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1
    # Every revision has a real downgrade: the chain walks back to base.
    revisions = list(script.walk_revisions())
    assert revisions[-1].down_revision is None


def test_upgrade_downgrade_upgrade(empty_database):
    cfg = alembic_config(empty_database)
    model_tables = set(Base.metadata.tables)

    command.upgrade(cfg, "head")
    assert _tables(empty_database) == model_tables | {"alembic_version"}

    command.downgrade(cfg, "base")
    assert _tables(empty_database) <= {"alembic_version"}

    command.upgrade(cfg, "head")
    assert _tables(empty_database) == model_tables | {"alembic_version"}
    engine = make_engine(empty_database)
    try:
        with engine.connect() as conn:
            head = conn.execute(text("SELECT id, seq, last_hash FROM audit_chain_head")).all()
    finally:
        engine.dispose()
    assert [tuple(row) for row in head] == [(1, 0, "0" * 64)]  # the chain starts at genesis


def test_models_match_migrations(empty_database):
    command.upgrade(alembic_config(empty_database), "head")
    assert _differences(empty_database) == []


def test_step_by_step_up_and_down(empty_database):
    cfg = alembic_config(empty_database)
    script = ScriptDirectory.from_config(cfg)
    steps = len(list(script.walk_revisions()))
    for _ in range(steps):
        command.upgrade(cfg, "+1")
    for _ in range(steps):
        command.downgrade(cfg, "-1")
    assert _tables(empty_database) <= {"alembic_version"}


def test_the_comparison_notices_a_model_change(empty_database):
    """Guard against a vacuous check: a column added to a model but not migrated is found."""
    from sqlalchemy import Column, Integer, MetaData

    command.upgrade(alembic_config(empty_database), "head")
    drifted = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.tables.values():
        table.to_metadata(drifted)
    drifted.tables["users"].append_column(Column("shoe_size", Integer))
    engine = make_engine(empty_database)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={
                "include_object": lambda obj, name, *_: not is_search_object(name)}), drifted)
    finally:
        engine.dispose()
    assert [d[0] for d in diff] == ["add_column"]
