"""Benchmark of the open record's exports and search in process: ``python bench/open_record.py``.

``make bench`` runs ``bench/load.py``, which measures the public pages under load with wrk and
uses this module's export measurements (``measure_stream``, ``client_body``,
``baseline_body``); this script on its own still measures as it always did:

On a fresh PostgreSQL database (created beside ``PROCURE_BENCH_DATABASE_URL``'s, default
``postgresql://postgres@127.0.0.1:5432/postgres``, migrated by Alembic, the shared values
loaded, dropped at the end), ``procure.record.generate`` makes published challenges up to
each size (10,000 then 100,000 by default; each size adds to the one before). At each size,
through the app's test client:

- (a) the bulk OCDS download ``GET /data/ocds/releases.json`` and (b) the catalogue CSV
  ``GET /data/catalogue.csv``, the body streamed and its bytes counted: records a second,
  MB a second, and how much memory the process needed during the stream — the peak of the
  Python allocations traced by ``tracemalloc`` (in a second pass, since tracing slows every
  allocation) and the growth of the resident set sampled during the timed pass. Flat
  memory means the same figures at 10,000 as at 100,000;
- (c) catalogue search latency, median and p95, over a common two-word query, a rare word,
  each with and without a filter, and a filter alone: through ``queries.catalogue`` and
  through ``GET /catalogue``.

Every figure is also given as a ratio to a baseline measured in the same run, because the
machine is shared and noisy: for the exports, reading every published record's frozen
content in batches and serialising it to JSON (the least any export must do); for search, a
primary-key SELECT of one record (a database round trip). Nothing here asserts a time; the
results are appended to ``bench/results.md`` (replacing this benchmark's previous section).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import shlex
import statistics
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from config import normalise_database_url  # noqa: E402
from procure import create_app  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results.md"
HEADING = "# Open record benchmark"
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
MB = 1_000_000
EXPORTS = [("OCDS bulk release package", "/data/ocds/releases.json"),
           ("catalogue CSV", "/data/catalogue.csv")]
# (label, query, filters): what people type and pick on the catalogue page.
SEARCHES = [
    ("common two words", "council homes", {}),
    ("common two words + criterion", "council homes",
     {"criterion": "wellbeing-goals.healthier"}),
    ("rare word", "lighthouse", {}),
    ("rare word + outcome", "lighthouse", {"outcome": "awarded"}),
    ("filter only: criterion + year", "", {"criterion": "wellbeing-goals.healthier",
                                           "year": 2024}),
]


# --- the database -------------------------------------------------------------------------------

def create_database(base_url: str, name: str) -> str:
    """A fresh, empty PostgreSQL database beside ``base_url``'s; returns its URL."""
    url = make_url(normalise_database_url(base_url))
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def drop_database(base_url: str, name: str) -> None:
    admin = create_engine(make_url(normalise_database_url(base_url)), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def migrate(url: str) -> None:
    """The schema the only way production builds it: Alembic upgrade to head."""
    from alembic import command

    from procure.cli import alembic_config

    command.upgrade(alembic_config(url), "head")


# --- measuring ----------------------------------------------------------------------------------

def p95(samples: list[float]) -> float:
    """The 95th percentile by nearest rank."""
    ordered = sorted(samples)
    return ordered[max(0, -(-95 * len(ordered) // 100) - 1)]


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class RssSampler:
    """The resident set's growth over a block, sampled every 10 ms by a thread."""

    def __init__(self) -> None:
        self.start = self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, _rss())

    def __enter__(self) -> RssSampler:
        gc.collect()
        self.start = self.peak = _rss()
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())

    @property
    def growth(self) -> int:
        return self.peak - self.start


@dataclass
class Export:
    name: str
    path: str
    records: int
    status: int = 0
    content_type: str = ""
    bytes: int = 0
    lines: int = 0
    seconds: float = 0.0
    rss_growth: int = 0
    rss_peak: int = 0
    traced_peak: int = 0
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 200 and not self.error


def _drain(chunks: Iterable[bytes | str]) -> tuple[int, int]:
    size = lines = 0
    for chunk in chunks:
        if isinstance(chunk, str):
            chunk = chunk.encode("utf-8")
        size += len(chunk)
        lines += chunk.count(b"\n")
    return size, lines


def measure_stream(name: str, path: str, records: int,
                   body: Callable[[], tuple[int, str, Iterable[bytes | str], Callable[[], None]]],
                   *, trace: bool) -> Export:
    """Time one full pass over a streamed body (sampling RSS), then trace a second pass's
    allocations for their peak."""
    result = Export(name, path, records)
    try:
        with RssSampler() as rss:
            start = time.perf_counter()
            status, content_type, chunks, close = body()
            result.status, result.content_type = status, content_type
            if status == 200:
                result.bytes, result.lines = _drain(chunks)
            close()
            result.seconds = time.perf_counter() - start
        result.rss_growth, result.rss_peak = rss.growth, rss.peak
        if status == 200 and trace:
            gc.collect()
            tracemalloc.start()
            try:
                before = tracemalloc.get_traced_memory()[0]
                tracemalloc.reset_peak()
                status, _ct, chunks, close = body()
                _drain(chunks)
                close()
                result.traced_peak = tracemalloc.get_traced_memory()[1] - before
            finally:
                tracemalloc.stop()
    except Exception as error:  # an endpoint not built yet, or failing: report it, go on
        result.error = f"{type(error).__name__}: {error}"[:200]
    return result


def client_body(client: Any, path: str):
    def body():
        response = client.get(path, buffered=False)
        return (response.status_code, response.headers.get("Content-Type", ""),
                response.iter_encoded(), response.close)
    return body


def baseline_body(app: Any):
    """Every published record's frozen content, read in batches as the exports read it and
    serialised to JSON: what any export has to do at least."""
    from procure.record import queries

    def body():
        ctx = app.app_context()
        ctx.push()
        session = app.extensions["db_sessionmaker"]()

        def chunks():
            for record in queries.stream(session):
                yield json.dumps(record.content, ensure_ascii=False).encode("utf-8") + b"\n"

        def close():
            session.close()
            ctx.pop()
        return 200, "application/x-ndjson", chunks(), close
    return body


@dataclass
class Latency:
    label: str
    via: str
    samples: list[float] = field(default_factory=list)
    total: int | None = None
    error: str = ""


def measure_searches(app: Any, client: Any, repeats: int) -> tuple[list[float], list[Latency]]:
    from procure.record import queries
    from procure.record.models import ChallengeRecord

    session = app.extensions["db_sessionmaker"]()
    some_id = session.execute(select(ChallengeRecord.id).order_by(ChallengeRecord.id.desc())
                              .limit(1)).scalar_one()
    base = []
    for n in range(repeats + 1):
        start = time.perf_counter()
        session.execute(select(ChallengeRecord.id, ChallengeRecord.title)
                        .where(ChallengeRecord.id == some_id)).one()
        if n:
            base.append(time.perf_counter() - start)
        session.rollback()
    rows: list[Latency] = []
    for label, query, filters in SEARCHES:
        direct = Latency(label, "queries.catalogue")
        for n in range(repeats + 1):
            start = time.perf_counter()
            page = queries.catalogue(session, queries.Filters(query=query, **filters))
            if n:
                direct.samples.append(time.perf_counter() - start)
            direct.total = page.total
            session.rollback()
            session.expunge_all()
        rows.append(direct)
        web = Latency(label, "GET /catalogue")
        params = {"q": query, **{k: str(v) for k, v in filters.items()}}
        for n in range(repeats + 1):
            start = time.perf_counter()
            response = client.get("/catalogue", query_string=params)
            response.get_data()
            elapsed = time.perf_counter() - start
            if response.status_code != 200:
                web.error = f"status {response.status_code}"
                break
            if n:
                web.samples.append(elapsed)
        rows.append(web)
    session.close()
    return base, rows


# --- the report ---------------------------------------------------------------------------------

def _ms(value: float) -> str:
    return f"{value * 1000:.1f}"


def report(meta: dict[str, str], sizes: list[dict[str, Any]], notes: list[str]) -> str:
    lines = [
        HEADING, "",
        f"- command: `{meta['command']}`",
        f"- date: {meta['date']}",
        f"- machine: {meta['nproc']} CPUs (`nproc`), {meta['memory']} memory, {meta['platform']};"
        f" load average {meta['load']} at the start (the machine is shared)",
        f"- Python {meta['python']}, PostgreSQL {meta['postgres']}, SQLAlchemy "
        f"{meta['sqlalchemy']}, psycopg {meta['psycopg']}",
        "- data: `procure.record.generate` (seeded): published challenges of mixed outcome "
        "(about 60 % awarded, 25 % no award, 15 % cancelled), one or two phases, 3–12 "
        "proposals, 4–6 criteria; each size adds to the one before",
        "",
        "## Generating",
        "",
        "| published challenges | added | seconds | challenges / s | frozen content (MB) |",
        "|---:|---:|---:|---:|---:|",
    ]
    for s in sizes:
        lines.append(f"| {s['size']:,} | {s['added']:,} | {s['generate']:.1f} | "
                     f"{s['added'] / s['generate']:,.0f} | {s['content_mb']:,.0f} |")
    lines += ["", "## Exports (streamed through the test client)", "",
              "The baseline is timed only (no traced pass).", "",
              "| published | export | status | MB | seconds | records / s | MB / s | "
              "÷ baseline | traced peak (MB) | RSS growth (MB) | RSS peak (MB) |",
              "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for s in sizes:
        base = s["exports"][0]
        for e in s["exports"]:
            if not e.ok:
                detail = e.error or f"status {e.status}"
                lines.append(f"| {s['size']:,} | {e.name} (`{e.path}`) | {detail} | | | | | | | | |")
                continue
            traced = f"{e.traced_peak / MB:.1f}" if e.traced_peak else "not traced"
            lines.append(
                f"| {s['size']:,} | {e.name} (`{e.path}`) | {e.status} | {e.bytes / MB:,.1f} | "
                f"{e.seconds:.1f} | {e.records / e.seconds:,.0f} | {e.bytes / MB / e.seconds:.1f} "
                f"| {e.seconds / base.seconds:.2f} | "
                f"{traced} | {e.rss_growth / MB:.1f} | {e.rss_peak / MB:,.0f} |")
    lines += ["", "## Catalogue search (20 results a page)", "",
              "| published | search | via | matches | runs | median (ms) | p95 (ms) | "
              "median ÷ baseline | p95 ÷ baseline |",
              "|---:|---|---|---:|---:|---:|---:|---:|---:|"]
    for s in sizes:
        base = statistics.median(s["search_base"])
        lines.append(f"| {s['size']:,} | baseline: SELECT one record by id | SQL | 1 | "
                     f"{len(s['search_base'])} | {_ms(base)} | {_ms(p95(s['search_base']))} | "
                     f"1.00 | {p95(s['search_base']) / base:.2f} |")
        for row in s["searches"]:
            if row.error or not row.samples:
                lines.append(f"| {s['size']:,} | {row.label} | {row.via} | | | "
                             f"{row.error or 'not measured'} | | | |")
                continue
            median = statistics.median(row.samples)
            lines.append(
                f"| {s['size']:,} | {row.label} | {row.via} | "
                f"{row.total if row.total is not None else ''} | {len(row.samples)} | "
                f"{_ms(median)} | {_ms(p95(row.samples))} | {median / base:.1f} | "
                f"{p95(row.samples) / base:.1f} |")
    lines += ["", *notes, "",
              "Baselines: for the exports, every published record's frozen content read in "
              "batches of 500 (`queries.stream`) and serialised to JSON lines — the least an "
              "export must do; for search, a primary-key SELECT of one record. Traced peak: the "
              "highest Python allocation (`tracemalloc`) above where the pass started, in a "
              "second pass over the same body; RSS growth: the resident set's peak above its "
              "size before the timed pass, sampled every 10 ms (the allocator keeps what it "
              "took, so a later pass may grow less). p95 by nearest rank. Not a test: nothing "
              "asserts a time.", ""]
    return "\n".join(lines)


def write_results(path: Path, section: str) -> None:
    """Replace this benchmark's section of the results file (or add it), keeping the rest."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from results_file import replace_section

    replace_section(path, HEADING, section)


def _meta(engine: Any) -> dict[str, str]:
    import psycopg
    import sqlalchemy

    with engine.connect() as conn:
        postgres = conn.execute(text("SHOW server_version")).scalar_one()
    if os.environ.get("MAKELEVEL"):
        args = " ".join(shlex.quote(a) for a in sys.argv[1:])
        command = "make bench" + (f' BENCH_ARGS="{args}"' if args else "")
    else:
        command = " ".join(shlex.quote(a) for a in [sys.executable, *sys.argv])
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return {"command": command, "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "nproc": str(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                         else os.cpu_count()),
            "memory": f"{pages / 2**30:.0f} GiB",
            "platform": f"{platform.system()} {platform.machine()}",
            "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
            "python": platform.python_version(), "postgres": postgres,
            "sqlalchemy": sqlalchemy.__version__, "psycopg": psycopg.__version__}


# --- the run ------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000",
                        help="published challenges to measure at, ascending, comma-separated")
    parser.add_argument("--repeats", type=int, default=15, help="runs of each search")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--batch", type=int, default=2000, help="challenges per transaction")
    parser.add_argument("--database-url",
                        default=os.environ.get("PROCURE_BENCH_DATABASE_URL", DEFAULT_URL),
                        help="a PostgreSQL server (its database is left alone: a new one is "
                             "created beside it); default $PROCURE_BENCH_DATABASE_URL")
    parser.add_argument("--no-trace", action="store_true",
                        help="skip the tracemalloc pass of each export (halves their time)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    sizes = sorted({int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()})
    if not sizes or sizes[0] < 1:
        parser.error("--sizes needs positive numbers")

    from procure.record.generate import generate
    from procure.record.models import ChallengeRecord
    from procure.values.services import load_seed

    started = time.perf_counter()
    name = f"procure_bench_{os.getpid()}"
    url = create_database(args.database_url, name)
    print(f"database {name}: migrating", flush=True)
    notes: list[str] = []
    results: list[dict[str, Any]] = []
    engine = None
    try:
        migrate(url)
        with tempfile.TemporaryDirectory(prefix="procure-bench-") as tmp:
            app = create_app("testing", SQLALCHEMY_DATABASE_URL=url, RATELIMIT_ENABLED=False,
                             BASE_URL="http://procure.bench", MAIL_DIR=Path(tmp) / "mail",
                             UPLOAD_DIR=Path(tmp) / "uploads")
            engine = app.extensions["db_engine"]
            meta = _meta(engine)
            client = app.test_client()
            have = 0
            with app.app_context():
                session = app.extensions["db_sessionmaker"]()
                load_seed(session, now=NOW)
                session.commit()
                for size in sizes:
                    added = size - have
                    print(f"generating {added:,} (to {size:,})", flush=True)

                    def progress(m: Any, added: int = added) -> None:
                        if m.challenges % (args.batch * 10) == 0:
                            print(f"  {m.challenges:,} of {added:,}", flush=True)

                    made = generate(session, challenges=added, seed=args.seed + size, now=NOW,
                                    batch=args.batch, progress=progress)
                    have = size
                    with engine.connect() as conn:
                        conn.execute(text("ANALYZE"))
                        content = conn.execute(text(
                            "SELECT sum(pg_column_size(content)) FROM challenge_records")
                        ).scalar_one()
                    count = session.execute(select(func.count(ChallengeRecord.id)).where(
                        ChallengeRecord.status == "published")).scalar_one()
                    session.rollback()
                    entry: dict[str, Any] = {"size": size, "added": added,
                                             "generate": made.seconds,
                                             "content_mb": (content or 0) / MB}
                    print(f"  {count:,} published, {made.seconds:.1f}s; exports", flush=True)
                    exports = [measure_stream("baseline: stored content → JSON lines",
                                              "queries.stream", size, baseline_body(app),
                                              trace=False)]
                    for label, path in EXPORTS:
                        print(f"  {path}", flush=True)
                        exports.append(measure_stream(label, path, size,
                                                      client_body(client, path),
                                                      trace=not args.no_trace))
                    entry["exports"] = exports
                    for e in exports:
                        print(f"    {e.name}: {e.status} {e.bytes / MB:,.1f} MB in "
                              f"{e.seconds:.1f}s, traced peak {e.traced_peak / MB:.1f} MB, "
                              f"RSS +{e.rss_growth / MB:.1f} MB {e.error}", flush=True)
                    print("  searches", flush=True)
                    entry["search_base"], entry["searches"] = measure_searches(
                        app, client, args.repeats)
                    results.append(entry)
                session.close()
            missing = [e.path for s in results for e in s["exports"][1:] if not e.ok]
            if missing:
                notes.append("Not measured (the endpoint answered with an error or is not "
                             "there yet): " + ", ".join(f"`{p}`" for p in sorted(set(missing)))
                             + ".")
    finally:
        if engine is not None:
            engine.dispose()
        if not args.keep:
            drop_database(args.database_url, name)
    section = report(meta, results, notes)
    write_results(args.output, section)
    print(section)
    print(f"written to {args.output} in {time.perf_counter() - started:.0f}s")


if __name__ == "__main__":
    main()
