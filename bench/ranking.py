"""Benchmark of a phase's ranking: ``make bench``.

Builds, in a temporary SQLite database migrated by Alembic, a closed phase with 1,000
submitted proposals, 5 assessors and 10 scored criteria (plus one gate), inserting the rows
directly with SQLAlchemy core (going through the services for 1,000 proposals would take
far too long). Then it measures, each several times:

- baseline: a plain SELECT of the phase's submitted assessment_marks rows into Python tuples;
- pure: the ``scoring`` computation alone (score_proposal for every proposal, rank,
  default_selection, statistics) on inputs prepared beforehand;
- ranking: ``services.ranking(session, phase)`` end to end, in a fresh session each time,
  counting the SQL statements it issues.

Machines are noisy, so every figure is also given as a ratio to the baseline median measured
in the same run. Nothing here asserts a time; the results go to ``bench/results.md``.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import os
import platform
import random
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import event, insert, select, update
from sqlalchemy.orm import Session

import procure.models  # noqa: F401 - every mapper, so relationships resolve
from procure.accounts.models import Membership, Organisation, User
from procure.assessment import scoring, services
from procure.assessment.models import (
    Assessment,
    AssessmentMark,
    AssessorAppointment,
    ConflictDeclaration,
    Moderation,
)
from procure.challenges.models import Challenge, ChallengeFunder, Phase, PhaseCriterion
from procure.db import make_engine
from procure.submissions.models import Proposal, Receipt
from procure.values.models import ValueCriterion, ValueFramework

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
RESULTS = Path(__file__).resolve().parent / "results.md"


# --- the data ----------------------------------------------------------------------------------

def migrate(url: str) -> None:
    """The schema the only way production builds it: Alembic upgrade to head."""
    from alembic import command

    from procure.cli import alembic_config

    command.upgrade(alembic_config(url), "head")


def build(engine, *, proposals: int, assessors: int, scored: int, seed: int) -> dict[str, int]:
    """Insert a closed phase, its proposals, assessors, declarations, submitted marks and some
    moderations with bulk core inserts; returns the ids and counts the run needs."""
    rng = random.Random(seed)
    t = {name: model.__table__ for name, model in {
        "users": User, "orgs": Organisation, "members": Membership, "frameworks": ValueFramework,
        "criteria": ValueCriterion, "challenges": Challenge, "funders": ChallengeFunder,
        "phases": Phase, "phase_criteria": PhaseCriterion, "proposals": Proposal,
        "receipts": Receipt, "appointments": AssessorAppointment,
        "declarations": ConflictDeclaration, "assessments": Assessment, "marks": AssessmentMark,
        "moderations": Moderation}.items()}
    opened, closed = NOW - timedelta(days=40), NOW - timedelta(days=10)
    with engine.begin() as conn:
        def put(name: str, rows: list[dict]) -> None:
            # One executemany per shape of row: every row of a batch must name the same columns.
            shapes: dict[tuple[str, ...], list[dict]] = {}
            for row in rows:
                shapes.setdefault(tuple(row), []).append(row)
            for batch in shapes.values():
                conn.execute(insert(t[name]), batch)

        # People: the lead editor (id 1), the assessors (2…), one supplier user who submits.
        users = [{"id": i, "email": f"user{i}@bench.test", "name": f"User {i}",
                  "password_hash": "x", "created_at": opened, "email_confirmed_at": opened}
                 for i in range(1, assessors + 3)]
        put("users", users)
        lead_id, supplier_user = 1, assessors + 2
        assessor_users = list(range(2, assessors + 2))
        put("orgs", [{"id": 1, "name": "Bench Council", "name_key": "bench council",
                      "kind": "authority", "created_at": opened, "verified_at": opened}]
            + [{"id": 1 + n, "name": f"Supplier {n}", "name_key": f"supplier {n}",
                "kind": "supplier", "created_at": opened} for n in range(1, proposals + 1)])
        put("members", [{"user_id": u, "organisation_id": 1, "role": "editor" if u == 1 else "viewer",
                         "status": "active", "created_at": opened} for u in [lead_id, *assessor_users]]
            + [{"user_id": supplier_user, "organisation_id": 2, "role": "editor",
                "status": "active", "created_at": opened}])
        put("frameworks", [{"id": 1, "code": "solution-quality", "version": 1, "status": "published",
                            "name_en": "Solution quality", "name_cy": "Ansawdd", "created_at": opened,
                            "published_at": opened}])
        kinds = ["scored"] * scored + ["gate"]
        put("criteria", [{"id": i, "framework_id": 1, "code": f"c{i}", "kind": kind, "position": i,
                          "name_en": f"Criterion {i}", "name_cy": f"Maen prawf {i}",
                          "guidance_en": ["g"] * 5, "guidance_cy": ["g"] * 5}
                         for i, kind in enumerate(kinds, start=1)])
        put("challenges", [{"id": 1, "lead_organisation_id": 1, "created_by_id": lead_id,
                            "status": "in_progress", "title": "Bench challenge", "created_at": opened,
                            "updated_at": opened, "opened_at": opened, "in_progress_at": closed}])
        put("funders", [{"challenge_id": 1, "organisation_id": 1, "role": "lead",
                         "status": "accepted", "pledge_pence": 100_000_000, "created_at": opened}])
        put("phases", [{"id": 1, "challenge_id": 1, "position": 1, "kind": "feasibility",
                        "status": "closed", "opens_at": opened, "closes_at": closed,
                        "contracts": 5, "max_value_pence": 5_000_000, "duration_months": 3,
                        "min_assessments": 2, "threshold_percent": 60, "opened_at": opened,
                        "closed_at": closed}])
        weights = [100 // scored] * scored
        weights[0] += 100 - sum(weights)
        put("phase_criteria", [{"id": i, "phase_id": 1, "criterion_id": i, "position": i,
                                "weight": weights[i - 1] if kind == "scored" else None}
                               for i, kind in enumerate(kinds, start=1)])
        gate_id = scored + 1

        put("proposals", [{"id": n, "phase_id": 1, "organisation_id": 1 + n,
                           "created_by_id": supplier_user, "status": "submitted",
                           "summary": f"Proposal {n}", "price_pence": 1_000_000,
                           "created_at": opened, "updated_at": closed - timedelta(minutes=n % 600)}
                          for n in range(1, proposals + 1)])
        put("receipts", [{"id": n, "proposal_id": n, "kind": "submitted", "sequence": 1,
                          "received_at": closed - timedelta(minutes=n % 600), "challenge_version": 1,
                          "digest": hashlib.sha256(f"bench-{n}".encode()).hexdigest(),
                          "manifest": {"proposal": n}, "submitted_by_id": supplier_user}
                         for n in range(1, proposals + 1)])
        conn.execute(update(t["proposals"]).values(current_receipt_id=t["proposals"].c.id))

        put("appointments", [{"id": k, "phase_id": 1, "user_id": u, "status": "accepted",
                              "appointed_by_id": lead_id, "created_at": closed,
                              "decided_at": closed} for k, u in enumerate(assessor_users, start=1)])
        # The last assessor is conflicted with one supplier in fifty and leaves those to the
        # others: realistic, and it exercises the coverage rule.
        conflicted = {n for n in range(1, proposals + 1) if n % 50 == 0}
        last = assessors
        put("declarations", [{"appointment_id": k, "organisation_id": 1 + n,
                              "conflicted": k == last and n in conflicted,
                              "reason": "Former employer" if k == last and n in conflicted else "",
                              "declared_at": closed}
                             for k in range(1, assessors + 1) for n in range(1, proposals + 1)])
        assessments, marks, moderations = [], [], []
        justification = ("The proposal gives clear evidence against this criterion, with a "
                         "credible plan, named people and a costed timeline. ") * 2
        aid = 0
        for n in range(1, proposals + 1):
            quality = rng.uniform(0.5, 4.0)      # how good this proposal is, roughly
            given: dict[int, list[int]] = {}
            for k in range(1, assessors + 1):
                if k == last and n in conflicted:
                    continue
                aid += 1
                assessments.append({"id": aid, "appointment_id": k, "proposal_id": n,
                                    "status": "submitted", "started_at": closed,
                                    "updated_at": closed, "submitted_at": closed})
                for pc in range(1, scored + 1):
                    score = max(0, min(4, round(quality + rng.gauss(0, 0.8))))
                    given.setdefault(pc, []).append(score)
                    marks.append({"assessment_id": aid, "phase_criterion_id": pc, "score": score,
                                  "passed": None, "justification": justification})
                marks.append({"assessment_id": aid, "phase_criterion_id": gate_id, "score": None,
                              "passed": rng.random() > 0.01, "justification": justification})
            # A moderator settled the first flagged criterion of one proposal in ten.
            flagged = [pc for pc, s in given.items() if max(s) - min(s) >= 2]
            if flagged and n % 10 == 0:
                moderations.append({"proposal_id": n, "phase_criterion_id": flagged[0],
                                    "score": Decimal(round(sum(given[flagged[0]]) * 4
                                                           / len(given[flagged[0]]))) / 4,
                                    "rationale": "Agreed after discussion",
                                    "moderated_by_id": lead_id, "moderated_at": NOW})
        put("assessments", assessments)
        put("marks", marks)
        put("moderations", moderations)
    return {"phase_id": 1, "challenge_id": 1, "proposals": proposals, "assessors": assessors,
            "scored": scored, "assessments": len(assessments), "marks": len(marks),
            "moderations": len(moderations)}


# --- the measurements ---------------------------------------------------------------------------

def p95(samples: list[float]) -> float:
    """The 95th percentile by nearest rank (with few samples, close to the maximum)."""
    ordered = sorted(samples)
    return ordered[max(0, -(-95 * len(ordered) // 100) - 1)]


def timed(fn: Callable[[], object], repeats: int) -> list[float]:
    fn()  # warm up: import caches, statement caches, SQLite's page cache
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def baseline_select(engine, phase_id: int) -> Callable[[], list[tuple]]:
    marks, assessments, proposals = (AssessmentMark.__table__, Assessment.__table__,
                                     Proposal.__table__)
    stmt = (select(marks).join(assessments, assessments.c.id == marks.c.assessment_id)
            .join(proposals, proposals.c.id == assessments.c.proposal_id)
            .where(proposals.c.phase_id == phase_id, assessments.c.status == "submitted"))

    def run() -> list[tuple]:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(stmt)]
    return run


def scoring_inputs(engine, phase_id: int):
    """The pure module's inputs, read once, exactly as ``services.ranking`` builds them."""
    with Session(engine) as session:
        phase = services.load_phase(session, challenge_id=1, phase_id=phase_id)
        criteria = services._criteria(phase)
        by_proposal: dict[int, list[scoring.Assessment]] = {
            p.id: [] for p in services.counting_proposals(session, phase_id)}
        for a in session.execute(select(Assessment).where(Assessment.status == "submitted")
                                 .order_by(Assessment.id)).scalars():
            by_proposal[a.proposal_id].append(services._assessment_input(a))
        agreed: dict[int, list[scoring.Consensus]] = {}
        for m in session.execute(select(Moderation)).scalars():
            agreed.setdefault(m.proposal_id, []).append(services._consensus_input(m))
        return criteria, by_proposal, agreed, phase.contracts or 0, phase.threshold_percent


def pure(criteria, by_proposal, agreed, places: int, threshold: int) -> Callable[[], object]:
    def run():
        results = [scoring.score_proposal(i, criteria, a, agreed.get(i, ()))
                   for i, a in by_proposal.items()]
        ranked = scoring.rank(results)
        return (ranked, scoring.default_selection(ranked, places, threshold),
                scoring.statistics(criteria, ranked, threshold))
    return run


def end_to_end(engine, phase_id: int, counts: list[int], *,
               collect: bool = True) -> Callable[[], tuple[object, float]]:
    """``services.ranking`` in a fresh session, as a request makes it: the phase is loaded
    first (not timed), then the call is timed and its SQL statements counted. The previous
    run's garbage is collected first, so runs do not pay for each other. With ``collect``
    false the cyclic garbage collector is off during the call: a diagnostic, showing how much
    of the time is the collector walking the ORM objects the call creates."""
    def run():
        gc.collect()
        with Session(engine) as session:
            phase = services.load_phase(session, challenge_id=1, phase_id=phase_id)
            statements = []

            def record(*_args):
                statements.append(1)
            event.listen(engine, "before_cursor_execute", record)
            if not collect:
                gc.disable()
            start = time.perf_counter()
            try:
                board = services.ranking(session, phase)
            finally:
                elapsed = time.perf_counter() - start
                gc.enable()
                event.remove(engine, "before_cursor_execute", record)
            counts.append(len(statements))
            return board, elapsed
    return run


def timed_ranking(run: Callable[[], tuple[object, float]], repeats: int,
                  budget: float) -> tuple[object, list[float]]:
    """Up to ``repeats`` timed calls (no warm-up: one call is long enough to amortise the
    statement cache), stopping after ``budget`` seconds once three are in, so that ``make bench``
    stays short on a slow or busy machine."""
    samples: list[float] = []
    first = None
    started = time.perf_counter()
    while len(samples) < repeats:
        board, elapsed = run()
        first = first or board
        samples.append(elapsed)
        if len(samples) >= 3 and time.perf_counter() - started > budget:
            break
    return first, samples


# --- the report --------------------------------------------------------------------------------

def report(rows: list[tuple[str, list[float], str]], base: float, meta: dict[str, str],
           data: dict[str, int], check: str) -> str:
    ms = 1000
    lines = [
        "# Ranking benchmark",
        "",
        f"- command: `{meta['command']}`",
        f"- date: {meta['date']}",
        f"- machine: {meta['nproc']} CPUs (`nproc`), {meta['platform']}",
        f"- Python {meta['python']}, SQLite {meta['sqlite']}, SQLAlchemy {meta['sqlalchemy']}",
        f"- data: {data['proposals']:,} submitted proposals × {data['assessors']} assessors × "
        f"{data['scored']} scored criteria + 1 gate: {data['assessments']:,} submitted "
        f"assessments, {data['marks']:,} marks, {data['moderations']} moderations "
        "(one assessor conflicted with 1 supplier in 50)",
        f"- check: {check}",
        "",
        "| measurement | runs | median (ms) | p95 (ms) | median ÷ baseline | p95 ÷ baseline | SQL queries |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, samples, queries in rows:
        median = statistics.median(samples)
        lines.append(f"| {name} | {len(samples)} | {median * ms:.1f} | {p95(samples) * ms:.1f} | "
                     f"{median / base:.2f} | {p95(samples) / base:.2f} | {queries} |")
    lines += ["",
              "Baseline: a plain SELECT of the phase's submitted `assessment_marks` rows (every "
              "column) into Python tuples, on a fresh connection. p95 is by nearest rank, so with "
              "few runs it is close to the slowest. Ratios are to the baseline's median, measured in "
              "the same run, because absolute times depend on the machine and its load. Not a test: "
              "nothing asserts a time.",
              "",
              "The diagnostic row is not how the app runs: it shows what the cyclic garbage "
              "collector costs during the call. An earlier version loaded every assessment and "
              "mark as ORM objects (about 55,000 here) and spent half its time in the collector "
              "(25 × baseline, 19 queries); `services.ranking` now reads marks, consensus scores, "
              "accepted assessors and declarations as plain columns.",
              "",
              "SQL queries: the statements `services.ranking` sent, per run: one each for the "
              "proposals with their suppliers, the marks, the consensus scores, the accepted "
              "assessors and their declarations, whatever the size of the phase; "
              "`tests/assessment/test_queries.py` checks it is the same for 2 proposals as for 12.",
              ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--proposals", type=int, default=1000)
    parser.add_argument("--assessors", type=int, default=5)
    parser.add_argument("--criteria", type=int, default=10, help="scored criteria (plus one gate)")
    parser.add_argument("--repeats", type=int, default=15, help="runs of the fast measurements")
    parser.add_argument("--ranking-repeats", type=int, default=7, help="runs of services.ranking")
    parser.add_argument("--ranking-budget", type=float, default=45.0,
                        help="seconds after which no further services.ranking run starts "
                             "(at least 3 are made)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    import sqlite3

    import sqlalchemy

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="procure-bench-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        migrate(url)
        engine = make_engine(url)
        data = build(engine, proposals=args.proposals, assessors=args.assessors,
                     scored=args.criteria, seed=args.seed)
        built = time.perf_counter()
        print(f"built {data['proposals']} proposals, {data['marks']:,} marks in "
              f"{built - started:.1f}s (migration included)", flush=True)

        phase_id = data["phase_id"]
        base_run = baseline_select(engine, phase_id)
        assert len(base_run()) == data["marks"]
        base = timed(base_run, args.repeats)

        criteria, by_proposal, agreed, places, threshold = scoring_inputs(engine, phase_id)
        pure_run = pure(criteria, by_proposal, agreed, places, threshold)
        pure_samples = timed(pure_run, args.repeats)

        counts: list[int] = []
        board, ranking_samples = timed_ranking(end_to_end(engine, phase_id, counts),
                                               args.ranking_repeats, args.ranking_budget)
        _, no_gc_samples = timed_ranking(end_to_end(engine, phase_id, counts, collect=False),
                                         3, 0)
        # The two paths must agree, or comparing them means nothing.
        ranked, selection, stats = pure_run()
        assert [(r.proposal_id, r.total, r.rank) for r in ranked] == [
            (r.proposal_id, r.total, r.rank) for r in board.ranked]
        assert selection == board.selection and stats == board.statistics
        assert stats.received == data["proposals"]
        check = (f"both paths rank the same {stats.received} proposals; {stats.eligible} "
                 f"eligible, {stats.above_threshold} at or above {threshold} %, default "
                 f"selection {len(selection.default)} of {places} places"
                 + (f", {len(selection.tie_at_cutoff)} tied at the cut-off"
                    if selection.tie_at_cutoff else ""))
        engine.dispose()

    queries = sorted(set(counts))
    rows = [("baseline: SELECT marks → tuples", base, "1"),
            ("pure scoring (score_proposal × n, rank, default_selection, statistics)",
             pure_samples, "0"),
            ("services.ranking(session, phase)", ranking_samples,
             " / ".join(str(q) for q in queries)),
            ("diagnostic: the same with the garbage collector off during the call", no_gc_samples,
             " / ".join(str(q) for q in queries))]
    meta = {"command": " ".join(["make bench"] if os.environ.get("MAKELEVEL")
                                else [shlex.quote(a) for a in [sys.executable, *sys.argv]]),
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "nproc": str(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                         else os.cpu_count()), "platform": f"{platform.system()} {platform.machine()}",
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
            "sqlalchemy": sqlalchemy.__version__}
    text = report(rows, statistics.median(base), meta, data, check)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from results_file import replace_section

    replace_section(args.output, "# Ranking benchmark", text)
    print(text)
    print(f"written to {args.output} in {time.perf_counter() - started:.1f}s")


if __name__ == "__main__":
    main()
