"""Load benchmark of the public site against a floor: ``make bench`` (after ``bench/ranking.py``).

At each size (1,000, 10,000 and 100,000 published challenges by default), on a PostgreSQL
database kept between runs (``bench/data.py``: built by ``flask --app wsgi demo generate``,
reused while its row count, Alembic revision and schema match; ``--fresh`` builds it again):

- the app is served by gunicorn as in production (``--workers 4``, sync workers; the
  production configuration, with per-address rate limits off: ``bench/wsgi_bench.py``), and
  beside it the floor (``bench/floor.py``: Flask + SQLAlchemy + Jinja listing 20 rows of
  ``challenge_records``, nothing else) with the same gunicorn settings;
- each page is warmed up, then loaded with ``wrk`` on loopback (``bench/report.lua`` prints
  requests/s, the latency percentiles and every response that was not 2xx); the floor is
  measured before and after the pages, and every page is given as a ratio to the floor's mean:
  throughput ÷ floor throughput (aim: at least 0.5) and p95 ÷ floor p95 (aim: at most 2);
- the bulk downloads (OCDS release package, catalogue CSV) are streamed through the app's
  test client, their throughput and memory measured as ``bench/open_record.py`` does.

A page that answered anything but 2xx is flagged in the table, never reported as fast.
Nothing asserts a time: the results are written to ``bench/results.md`` (this section only).
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

import data  # noqa: E402
from results_file import replace_section  # noqa: E402

RESULTS = BENCH / "results.md"
HEADING = "# Load benchmark"
OLD_HEADINGS = ("# Open record benchmark",)
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
LUA = BENCH / "report.lua"
MB = 1_000_000
COMMON, RARE = "council homes", "lighthouse"
CRITERION = "criterion=wellbeing-goals.healthier"  # a filter on another table
OUTCOME = "outcome=awarded"                        # a filter on the record's own row
RECORD_PAGES = 64  # distinct record pages the record-page run rotates over


@dataclass
class Target:
    label: str
    path: str
    rotate: list[str] = field(default_factory=list)  # paths wrk cycles through instead
    shown: str = ""                                    # the path as the table shows it


def targets(record_paths: list[str]) -> list[Target]:
    return [
        Target("home", "/"),
        Target("open challenges", "/challenges"),
        Target("catalogue, no search", "/catalogue"),
        Target("catalogue: common two words + outcome",
               f"/catalogue?q={COMMON.replace(' ', '+')}&{OUTCOME}"),
        Target("catalogue: common two words + criterion",
               f"/catalogue?q={COMMON.replace(' ', '+')}&{CRITERION}"),
        Target("catalogue: rare word + criterion", f"/catalogue?q={RARE}&{CRITERION}"),
        Target(f"record page ({len(record_paths)} records in turn)", record_paths[0],
               rotate=record_paths, shown="/records/<id>"),
        Target("API: GET /api/v1/challenges", "/api/v1/challenges"),
        Target("API: GET /api/v1/ocds/releases", "/api/v1/ocds/releases"),
    ]


@dataclass
class Run:
    label: str
    path: str
    status: int = 0          # of one request made before the load
    requests: int = 0
    seconds: float = 0.0
    rps: float = 0.0
    p50: float = 0.0
    p95: float = 0.0
    p99: float = 0.0
    non2xx: int = 0
    socket_errors: int = 0
    bytes: int = 0
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error and self.requests > 0 and self.non2xx == 0 \
            and self.socket_errors == 0 and 200 <= self.status < 300


# --- servers ------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A gunicorn master and its workers, in their own process group, stopped by its pid."""

    def __init__(self, module: str, env: dict[str, str], workers: int, log: Path) -> None:
        self.port = free_port()
        self.log = log
        self._out = log.open("wb")
        self.process = subprocess.Popen(
            [str(GUNICORN), "--workers", str(workers), "--bind", f"127.0.0.1:{self.port}",
             "--pythonpath", str(BENCH), "--chdir", str(ROOT), module],
            env=env, stdout=self._out, stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait(self, path: str = "/", timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn stopped; see {self.log}")
            if get(self.port, path) is not None:
                return
            time.sleep(0.3)
        raise RuntimeError(f"gunicorn did not answer within {timeout:.0f}s; see {self.log}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._out.close()


def get(port: int, path: str, timeout: float = 120) -> int | None:
    """The status of one GET on loopback (the body read and dropped); None if refused."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


# --- wrk ----------------------------------------------------------------------------------------

_LINE = re.compile(r"^BENCH (.*)$", re.M)


def wrk(base: str, target: Target, *, seconds: int, connections: int, threads: int) -> dict:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s",
               "-s", str(LUA), base + target.path]
    if target.rotate:
        command += ["--", *target.rotate]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    found = _LINE.search(done.stdout)
    if found is None:
        raise RuntimeError(f"wrk: {done.stderr.strip() or done.stdout.strip()}"[:300])
    return {k: float(v) for k, v in (item.split("=") for item in found.group(1).split())}


def measure(base: str, target: Target, *, warmup: int, seconds: int, connections: int,
            threads: int) -> Run:
    run = Run(target.label, target.shown or target.path)
    run.status = get(int(base.rsplit(':', 1)[1]), target.path) or 0
    try:
        if warmup:
            wrk(base, target, seconds=warmup, connections=connections, threads=threads)
        m = wrk(base, target, seconds=seconds, connections=connections, threads=threads)
    except RuntimeError as e:
        run.error = str(e)
        return run
    run.requests, run.seconds, run.rps = int(m["requests"]), m["seconds"], m["rps"]
    run.p50, run.p95, run.p99 = m["p50"], m["p95"], m["p99"]
    run.non2xx = int(m["non2xx"])
    run.socket_errors = int(m["connect"] + m["read"] + m["write"] + m["timeout"])
    run.bytes = int(m["bytes"])
    return run


# --- the exports --------------------------------------------------------------------------------

def measure_exports(url: str, size: int, *, trace: bool, log) -> list:
    """The bulk downloads through the app's test client (``bench/open_record.py``'s way)."""
    import open_record

    from procure import create_app

    with tempfile.TemporaryDirectory(prefix="procure-bench-") as tmp:
        app = create_app("testing", SQLALCHEMY_DATABASE_URL=url, RATELIMIT_ENABLED=False,
                         BASE_URL="http://procure.bench", MAIL_DIR=Path(tmp) / "mail",
                         UPLOAD_DIR=Path(tmp) / "uploads")
        client = app.test_client()
        exports = [open_record.measure_stream("baseline: stored content → JSON lines",
                                              "queries.stream", size,
                                              open_record.baseline_body(app), trace=False)]
        for label, path in open_record.EXPORTS:
            log(f"    {path}")
            exports.append(open_record.measure_stream(label, path, size,
                                                      open_record.client_body(client, path),
                                                      trace=trace))
        app.extensions["db_engine"].dispose()
    for e in exports:
        log(f"      {e.name}: {e.status} {e.bytes / MB:,.1f} MB in {e.seconds:.1f}s, traced peak "
            f"{e.traced_peak / MB:.1f} MB, RSS +{e.rss_growth / MB:.1f} MB {e.error}")
    return exports


# --- one size -----------------------------------------------------------------------------------

def record_paths(url: str, count: int) -> list[str]:
    """``count`` record pages spread evenly over the published records."""
    engine = create_engine(make_url(url))
    try:
        with engine.connect() as conn:
            ids = conn.execute(text(
                "SELECT min(challenge_id) FROM (SELECT challenge_id, ntile(:n) OVER "
                "(ORDER BY id) AS t FROM challenge_records WHERE status = 'published') s "
                "GROUP BY t ORDER BY 1"), {"n": count}).scalars().all()
    finally:
        engine.dispose()
    return [f"/records/{i}" for i in ids]


def content_mb(url: str) -> float:
    engine = create_engine(make_url(url))
    try:
        with engine.connect() as conn:
            return (conn.execute(text("SELECT sum(pg_column_size(content)) FROM challenge_records"))
                    .scalar_one() or 0) / MB
    finally:
        engine.dispose()


def bench_size(args: argparse.Namespace, size: int, work: Path, log) -> dict[str, Any]:
    log(f"{size:,} published challenges")
    url, built = data.ensure(args.database_url, size, args.seed, fresh=args.fresh, log=log)
    entry: dict[str, Any] = {"size": size, "database": make_url(url).database, "built": built,
                             "content_mb": content_mb(url)}
    env = {**os.environ, "PROCURE_ENV": "production", "PROCURE_DATABASE_URL": url,
           "PROCURE_SECRET_KEY": secrets.token_hex(32), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PROCURE_REDIS_URL", None)
    floor = Server("floor:app", env, args.workers, work / f"floor-{size}.log")
    app_port = free_port()
    app = None
    try:
        app_env = {**env, "PROCURE_BASE_URL": f"http://127.0.0.1:{app_port}"}
        app = Server("wsgi_bench:app", app_env, args.workers, work / f"app-{size}.log")
        floor.wait()
        app.wait()
        load = {"warmup": args.warmup, "seconds": args.duration,
                "connections": args.connections, "threads": args.threads}
        floor_label = "floor: Flask + SQLAlchemy + Jinja, 20 rows"
        floor_target = Target(floor_label, "/")
        log(f"  floor (before) {floor.base}/")
        runs = [measure(floor.base, floor_target, **load)]
        for target in targets(record_paths(url, RECORD_PAGES)):
            log(f"  {target.label}: {target.path}")
            runs.append(measure(app.base, target, **load))
            r = runs[-1]
            log(f"    {r.rps:,.0f} req/s, p95 {r.p95:.1f} ms, non-2xx {r.non2xx} "
                f"(first request {r.status}) {r.error}")
        log("  floor (after)")
        runs.append(measure(floor.base, Target(floor_label + " (again, after the pages)", "/"),
                            **load))
        entry["runs"] = runs
    finally:
        if app is not None:
            app.stop()
        floor.stop()
    if not args.no_exports:
        log("  exports")
        entry["exports"] = measure_exports(url, size, trace=size <= args.trace_up_to, log=log)
    return entry


# --- the report ---------------------------------------------------------------------------------

def _fmt_ratio(value: float) -> str:
    return f"{value:.2f}"


def pages_table(entry: dict[str, Any]) -> list[str]:
    runs: list[Run] = entry["runs"]
    floors = [runs[0], runs[-1]]
    good = [f for f in floors if f.ok]
    lines = ["| page | path | requests/s | p95 ms | p50 ms | KB / response | throughput ÷ floor "
             "| p95 ÷ floor | non-2xx | aim |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    if not good:
        return lines + ["| floor | | not measured | | | | | | | |"]
    floor_rps = sum(f.rps for f in good) / len(good)
    floor_p95 = sum(f.p95 for f in good) / len(good)
    for r in runs:
        is_floor = r in floors
        if r.error or not r.requests:
            lines.append(f"| {r.label} | `{r.path}` | **not measured: {r.error}** | | | | | | | |")
            continue
        bad = r.non2xx + r.socket_errors
        flag = "" if r.ok else (f" **FAILED: first request {r.status}, {r.non2xx:,} non-2xx, "
                                f"{r.socket_errors:,} socket errors**")
        tput, lat = r.rps / floor_rps, r.p95 / floor_p95
        aim = "floor" if is_floor else ("**failed**" if not r.ok else
                                        ("yes" if tput >= 0.5 and lat <= 2 else "**no**"))
        rps = f"{r.rps:,.0f}" if r.ok else f"~~{r.rps:,.0f}~~"
        lines.append(
            f"| {r.label}{flag} | `{r.path}` | {rps} | {r.p95:.1f} | {r.p50:.1f} | "
            f"{r.bytes / max(1, r.requests) / 1000:.1f} | {_fmt_ratio(tput)} | {_fmt_ratio(lat)} | "
            f"{bad:,} | {aim} |")
    return lines


def exports_table(sizes: list[dict[str, Any]]) -> list[str]:
    lines = ["| published | export | status | MB | seconds | records / s | MB / s | ÷ baseline | "
             "traced peak (MB) | RSS growth (MB) | RSS peak (MB) |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for s in sizes:
        exports = s.get("exports") or []
        if not exports:
            continue
        base = exports[0]
        for e in exports:
            if not e.ok:
                lines.append(f"| {s['size']:,} | {e.name} (`{e.path}`) | "
                             f"**{e.error or f'status {e.status}'}** | | | | | | | | |")
                continue
            traced = f"{e.traced_peak / MB:.1f}" if e.traced_peak else "not traced"
            lines.append(
                f"| {s['size']:,} | {e.name} (`{e.path}`) | {e.status} | {e.bytes / MB:,.1f} | "
                f"{e.seconds:.1f} | {e.records / e.seconds:,.0f} | {e.bytes / MB / e.seconds:.1f} | "
                f"{e.seconds / base.seconds:.2f} | {traced} | {e.rss_growth / MB:.1f} | "
                f"{e.rss_peak / MB:,.0f} |")
    return lines


def report(meta: dict[str, str], args: argparse.Namespace, sizes: list[dict[str, Any]],
           seconds: float) -> str:
    lines = [
        HEADING, "",
        f"- command: `{meta['command']}` ({seconds / 60:.1f} minutes)",
        f"- date: {meta['date']}",
        f"- machine: {meta['nproc']} CPUs (`nproc`), {meta['memory']} memory, {meta['platform']}; "
        f"load average {meta['load']} at the start",
        f"- Python {meta['python']}, PostgreSQL {meta['postgres']}, gunicorn {meta['gunicorn']} "
        f"(`--workers {args.workers}`, sync), {meta['wrk']}",
        f"- load: `wrk -t{args.threads} -c{args.connections} -d{args.duration}s` on loopback after "
        f"a {args.warmup} s warm-up, one page at a time; the app "
        "(`bench/wsgi_bench.py`: the production configuration with per-address rate limits "
        "off, `RATELIMIT_ENABLED=False` given to the app factory, as every request comes from "
        "one address) and the floor (`bench/floor.py`) served side by side with the same "
        "gunicorn settings",
        "- data: `flask --app wsgi demo generate --challenges N --seed "
        f"{args.seed}` into `procure_bench_N_s{args.seed}`, kept between runs "
        "(`bench/data.py`)",
        "",
        "Ratios are to the floor's mean of its two runs (before and after the pages) in the same "
        "run on the same data. Aim: throughput ÷ floor at least 0.50 and p95 ÷ floor at most "
        "2.00. A page with any response that was not 2xx (or a socket error) is marked FAILED "
        "and its throughput struck through. Not a test: nothing asserts a time.",
        "",
        "## Data", "",
        "| published challenges | database | built (s) | frozen content (MB) |",
        "|---:|---|---:|---:|",
    ]
    for s in sizes:
        built = f"{s['built']:.0f}" if s["built"] else "kept"
        lines.append(f"| {s['size']:,} | `{s['database']}` | {built} | {s['content_mb']:,.0f} |")
    for s in sizes:
        lines += ["", f"## Pages at {s['size']:,} published challenges", "", *pages_table(s)]
    ex = exports_table(sizes)
    if len(ex) > 2:
        lines += ["", "## Bulk downloads (streamed through the test client)", "",
                  f"Traced only up to {args.trace_up_to:,} records (the traced pass doubles the "
                  "time); the baseline is timed only.", "", *ex, "",
                  "Baseline: every published record's frozen content read in batches of 500 "
                  "(`queries.stream`) and serialised to JSON lines — the least an export must "
                  "do. Traced peak: the highest Python allocation (`tracemalloc`) above where "
                  "the pass started, in a second pass; RSS growth: the resident set's peak above "
                  "its size before the timed pass, sampled every 10 ms."]
    return "\n".join(lines) + "\n"


def _meta(args: argparse.Namespace) -> dict[str, str]:
    engine = create_engine(make_url(data.url_of(args.database_url, "postgres")))
    try:
        with engine.connect() as conn:
            postgres = conn.execute(text("SHOW server_version")).scalar_one()
    finally:
        engine.dispose()
    import gunicorn

    if os.environ.get("MAKELEVEL"):
        given = " ".join(shlex.quote(a) for a in sys.argv[1:])
        command = "make bench" + (f' BENCH_ARGS="{given}"' if given else "")
    else:
        command = " ".join(shlex.quote(a) for a in [sys.executable, *sys.argv])
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return {"command": command, "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "nproc": str(len(os.sched_getaffinity(0))), "memory": f"{pages / 2**30:.0f} GiB",
            "platform": f"{platform.system()} {platform.machine()}",
            "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
            "python": platform.python_version(), "postgres": postgres,
            "gunicorn": gunicorn.__version__,
            "wrk": (wrk_version.stdout or wrk_version.stderr).split(" [")[0].strip()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000",
                        help="published challenges to measure at, comma-separated")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--fresh", action="store_true", help="build the data again")
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per page")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per page")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (README)")
    parser.add_argument("--trace-up-to", type=int, default=10_000,
                        help="trace the exports' allocations up to this size")
    parser.add_argument("--no-exports", action="store_true", help="skip the bulk downloads")
    parser.add_argument("--database-url",
                        default=os.environ.get("PROCURE_BENCH_DATABASE_URL", data.DEFAULT_URL),
                        help="a PostgreSQL server; the benchmark's databases are made beside "
                             "its database (default $PROCURE_BENCH_DATABASE_URL)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    sizes = sorted({int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()})
    if not sizes or sizes[0] < 1:
        parser.error("--sizes needs positive numbers")
    if shutil.which("wrk") is None:
        parser.error("wrk is not installed (make bench installs it)")

    def log(message: str) -> None:
        print(message, flush=True)

    started = time.perf_counter()
    meta = _meta(args)
    results = []
    with tempfile.TemporaryDirectory(prefix="procure-load-") as tmp:
        for size in sizes:
            results.append(bench_size(args, size, Path(tmp), log))
    section = report(meta, args, results, time.perf_counter() - started)
    replace_section(args.output, HEADING, section, drop=OLD_HEADINGS)
    print(section)
    print(f"written to {args.output} in {time.perf_counter() - started:.0f}s")


if __name__ == "__main__":
    main()
