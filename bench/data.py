"""The benchmark's data: one PostgreSQL database per size and seed, built once and kept.

``procure_bench_<size>_s<seed>`` beside ``PROCURE_BENCH_DATABASE_URL``'s database is made the way
an operator would: ``flask --app wsgi db upgrade`` then ``flask --app wsgi demo generate
--challenges <size> --seed <seed>``, under a temporary name that is renamed only once the data is
complete (an interrupted build is never reused), then vacuumed and analysed. It is reused while
it has exactly ``size`` published records and its Alembic revision is the head (a database
behind the head is upgraded in place first, as production would be); a schema that differs from
the models (Alembic's comparison, as ``tests/test_migrations.py`` makes it) is reported.
``fresh=True`` builds it again.

Run on its own to build (or check) the data ahead of a benchmark:
``python bench/data.py --sizes 1000,10000,100000``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from config import normalise_database_url  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
FLASK = [str(ROOT / ".venv" / "bin" / "flask"), "--app", "wsgi"]


def _admin(base_url: str):
    return create_engine(make_url(normalise_database_url(base_url)), isolation_level="AUTOCOMMIT")


def url_of(base_url: str, name: str) -> str:
    url = make_url(normalise_database_url(base_url))
    return url.set(database=name).render_as_string(hide_password=False)


def name_of(size: int, seed: int) -> str:
    return f"procure_bench_{size}_s{seed}"


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    from procure.cli import alembic_config

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


@dataclass
class State:
    exists: bool = False
    revision: str | None = None
    published: int | None = None
    drift: int = 0          # differences between the schema and the models

    def describe(self) -> str:
        if not self.exists:
            return "absent"
        return (f"revision {self.revision}, {self.published} published records, "
                f"{self.drift} schema differences")


def _exists(base_url: str, name: str) -> bool:
    admin = _admin(base_url)
    try:
        with admin.connect() as conn:
            return conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                {"n": name}).first() is not None
    finally:
        admin.dispose()


def _drift(url: str) -> int:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    import procure.models  # noqa: F401 - registers every table
    from procure.db import Base, make_engine
    from procure.record.search import is_search_object

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={
                "compare_type": True,
                "include_object": lambda obj, name, *_: not is_search_object(name)})
            return len(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def state(base_url: str, name: str) -> State:
    if not _exists(base_url, name):
        return State()
    found = State(exists=True)
    engine = create_engine(make_url(url_of(base_url, name)))
    try:
        with engine.connect() as conn:
            try:
                found.revision = conn.execute(text("SELECT version_num FROM alembic_version")
                                              ).scalar()
                found.published = conn.execute(text(
                    "SELECT count(*) FROM challenge_records WHERE status = 'published'")
                ).scalar_one()
            except Exception:  # noqa: BLE001 - a half-made database: not reusable
                return found
    finally:
        engine.dispose()
    found.drift = _drift(url_of(base_url, name))
    return found


def drop(base_url: str, name: str) -> None:
    admin = _admin(base_url)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def _flask(url: str, *args: str, log) -> None:
    env = {**os.environ, "PROCURE_DATABASE_URL": url, "PROCURE_ENV": "development"}
    log(f"    $ flask --app wsgi {' '.join(args)}")
    subprocess.run([*FLASK, *args], cwd=ROOT, env=env, check=True)


def _vacuum(url: str) -> None:
    engine = create_engine(make_url(url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("VACUUM (ANALYZE)"))
    finally:
        engine.dispose()


def ensure(base_url: str, size: int, seed: int, *, fresh: bool = False, log=print) -> tuple[str, float]:
    """The URL of a database holding ``size`` published challenges from ``seed``, and the
    seconds spent building it (0 when the kept one was reused)."""
    name = name_of(size, seed)
    head = head_revision()
    if not fresh:
        found = state(base_url, name)
        log(f"  {name}: {found.describe()} (head {head})")
        if found.exists and found.published == size and found.revision not in (None, head):
            log(f"  {name}: upgrading to {head}")
            _flask(url_of(base_url, name), "db", "upgrade", log=log)
            _vacuum(url_of(base_url, name))
            found = state(base_url, name)
            log(f"  {name}: {found.describe()}")
        if found.exists and found.published == size and found.revision == head:
            if found.drift:
                # Not rebuilt for this: building again from the same migrations would give the
                # same schema. Pages that then fail show as non-2xx in the results.
                log(f"  {name}: warning: the schema differs from the models in {found.drift} "
                    "ways (a migration not written yet?); --fresh builds it again")
            return url_of(base_url, name), 0.0
    started = time.perf_counter()
    building = f"{name}_building"
    drop(base_url, building)
    drop(base_url, name)
    admin = _admin(base_url)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{building}"'))
    finally:
        admin.dispose()
    url = url_of(base_url, building)
    log(f"  {name}: building {size:,} challenges (seed {seed})")
    _flask(url, "db", "upgrade", log=log)
    _flask(url, "demo", "generate", "--challenges", str(size), "--seed", str(seed), log=log)
    _vacuum(url)
    admin = _admin(base_url)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{building}" RENAME TO "{name}"'))
    finally:
        admin.dispose()
    return url_of(base_url, name), time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Build or check the benchmark's databases.")
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--fresh", action="store_true", help="build again even if kept")
    parser.add_argument("--database-url",
                        default=os.environ.get("PROCURE_BENCH_DATABASE_URL", DEFAULT_URL))
    args = parser.parse_args(argv)
    for size in sorted({int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()}):
        url, seconds = ensure(args.database_url, size, args.seed, fresh=args.fresh)
        print(f"{make_url(url).database}: ready" + (f" (built in {seconds:.0f}s)" if seconds
                                                    else " (kept)"), flush=True)


if __name__ == "__main__":
    main()
