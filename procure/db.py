"""The declarative base, engine and session setup, and UTC time helpers."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from flask import Flask, g
from sqlalchemy import DateTime, MetaData, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

log = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC. Only callers at the edge (views, tasks) use it."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC timestamp on every database (SQLite keeps no zone, so add it back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


def _prepare_sqlite(engine: Engine) -> None:
    """Let SQLAlchemy, not pysqlite, manage transactions so savepoints and locks behave."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 15000")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock up front: the web server and the worker share the
        # file, and a deferred read-then-write transaction could otherwise fail with "locked".
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url`` with the settings each backend needs."""
    if url.startswith("sqlite"):
        engine = create_engine(url, **kwargs)
        _prepare_sqlite(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


# SQLSTATE classes of a lost or refused connection: 08 (connection exception) and 57P
# (operator intervention: admin or crash shutdown, "cannot connect now" while starting up).
_UNAVAILABLE_SQLSTATES = ("08", "57P")


def database_unavailable(error: BaseException) -> bool:
    """Whether ``error`` (or what caused it) means the database could not be reached, as when
    it is restarting: no connection, a connection cut, or no free connection in the pool."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sa_exc.TimeoutError):  # the pool had no connection to give
            return True
        if isinstance(current, sa_exc.DBAPIError):
            if current.connection_invalidated:
                return True
            orig = current.orig
            if isinstance(current, (sa_exc.OperationalError, sa_exc.InterfaceError)) and (
                    type(orig).__module__.split(".")[0] == "psycopg"):
                sqlstate = getattr(orig, "sqlstate", None)
                # No SQLSTATE: the server never answered (refused, reset, closed).
                return sqlstate is None or sqlstate.startswith(_UNAVAILABLE_SQLSTATES)
        current = current.__cause__ or current.__context__
    return False


def init_db(app: Flask) -> None:
    """Create the engine and session factory for ``app`` and close the session after each request."""
    url = app.config["SQLALCHEMY_DATABASE_URL"]
    if url.startswith("sqlite:///"):
        from pathlib import Path

        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url)
    app.extensions["db_engine"] = engine
    app.extensions["db_sessionmaker"] = sessionmaker(bind=engine, expire_on_commit=False)

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is None:
            return
        try:
            session.close()
        except sa_exc.DBAPIError as error:
            # The connection was cut after the work was done (the database restarting): the
            # answer is already made, and ending the transaction there cannot fail it. Drop
            # the connection instead of returning it to the pool.
            if not database_unavailable(error):
                raise
            log.warning("database connection lost while closing the session: %s", error)
            session.invalidate()


def get_session() -> Session:
    """The session of the current app context (one per request or task)."""
    if "db_session" not in g:
        from flask import current_app

        g.db_session = current_app.extensions["db_sessionmaker"]()
    return g.db_session
