"""The ranking of a phase costs a fixed number of SQL queries, however many proposals and
assessors it has (no query per proposal, per assessment or per mark)."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event, update

from procure.assessment import services
from procure.values.models import ValueFramework
from tests.assessment import builders as ab


@contextmanager
def recording(db):
    """Every SQL statement sent through the test's connection while the block runs."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    bind = db.get_bind()
    event.listen(bind, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(bind, "before_cursor_execute", record)


def assessed_phase(db, now, *, suppliers: int, assessors: int, conflict: bool = False):
    """A closed phase with every proposal assessed by every (unconflicted) assessor and one
    flagged criterion moderated."""
    world = ab.closed_phase(db, now, suppliers=suppliers)
    people = [ab.assessor(db, world)[0] for _ in range(assessors)]
    if conflict:  # the last assessor is conflicted with the first supplier
        services.declare(db, actor=people[-1], proposal_id=world.proposals[0].id, conflicted=True,
                         reason="Former employer", now=world.after)
    for n, proposal in enumerate(world.proposals):
        for k, person in enumerate(people):
            if conflict and n == 0 and k == len(people) - 1:
                continue
            ab.assess(db, world, person, proposal, [(n + k) % 5, (n * k) % 5], gate=n % 4 != 3)
    scored, _ = ab.criteria(db, world)
    first = world.proposals[0]
    services.moderate(db, actor=world.lead, proposal_id=first.id, phase_criterion_id=scored[0].id,
                      score="2.5", passed=None, rationale="Agreed", now=world.after)
    # The builders seed the same framework code and version for every phase; rename this one
    # so that a second phase can be built in the same test (its criteria keep their ids).
    db.execute(update(ValueFramework).where(ValueFramework.code == "solution-quality")
               .values(code=f"solution-quality-{world.challenge.id}"))
    db.commit()
    return world


def queries_for_ranking(db, world):
    """The statements ``ranking`` issues for a phase loaded afresh, as a request would."""
    db.expunge_all()   # nothing left in the identity map to hide a query
    phase = services.load_phase(db, challenge_id=world.challenge.id, phase_id=world.phase.id)
    with recording(db) as statements:
        board = services.ranking(db, phase)
    return board, statements


def test_ranking_issues_the_same_queries_for_2_proposals_as_for_12(ctx, db, now):
    small = assessed_phase(db, now, suppliers=2, assessors=2)
    large = assessed_phase(db, now, suppliers=12, assessors=3, conflict=True)

    small_board, small_queries = queries_for_ranking(db, small)
    large_board, large_queries = queries_for_ranking(db, large)

    # The rankings are real: every proposal ranked, fully assessed, and the moderation counted.
    assert len(small_board.ranked) == 2 and len(large_board.ranked) == 12
    assert all(c.complete for c in small_board.coverage.values())
    assert all(c.complete for c in large_board.coverage.values())
    assert large_board.coverage[large.proposals[0].id].available == 2    # one of three conflicted
    assert small_board.moderated == {small.proposals[0].id: {ab.criteria(db, small)[0][0].id}}
    assert sum(1 for r in large_board.ranked if not r.eligible) == 3     # gate failed: n = 3, 7, 11

    assert len(large_queries) == len(small_queries), "\n\n".join(
        ["small:", *small_queries, "large:", *large_queries])
    assert 0 < len(small_queries) <= 10
