"""The bake-off results, and the ranking of a bake-off phase, cost a fixed number of SQL
queries however many entrants, reports and files of evidence there are."""

from __future__ import annotations

import pytest

from procure.accounts.models import User
from procure.assessment import services as assessment
from procure.bakeoff import services as bakeoff
from procure.demo_challenges import one_page_pdf
from tests.assessment.test_queries import recording
from tests.bakeoff import builders as bb


def run_bake_off(db, now, folder, *, entrants: int, code: str):
    """A bake-off of ``entrants`` entrants, each demonstrating, reporting both measures with a
    file of evidence for each, assessed by two assessors and every report verified (one in
    each entrant corrected)."""
    world = bb.bake_off_world(db, now, suppliers=entrants, shortlist=entrants, partner=True,
                              code=code)
    bb.invite(db, world)
    reports = []
    for n, supplier in enumerate(world.shortlisted):
        bb.demonstrate(db, world, supplier)
        entrant = world.entrant_of(supplier)
        for measure, value in ((world.higher, str(20 + n)), (world.lower, str(900 - 50 * n))):
            reports.append(bb.report(db, world, entrant, measure, value))
            bakeoff.add_evidence(db, actor=supplier, entrant_id=entrant.id,
                                 measure_id=measure.id, filename="readings.pdf",
                                 data=one_page_pdf(f"Readings {n}"), now=bb.during(world),
                                 folder=folder)
    bb.close_bake_off(db, world)
    bb.assess_bake_off(db, world)
    for n, report in enumerate(reports):
        if n % 2:
            bb.verify(db, world, report, "correct", "850", "Recounted")
        else:
            bb.verify(db, world, report)
    world.lead_id = world.lead.id
    world.ids_ = world.ids()
    return world


def _fresh_lead(db, world):
    """Nothing left in the identity map to hide a query; the signed-in user loaded as a
    request loads it."""
    lead_id = world.lead_id
    db.expunge_all()
    lead = db.get(User, lead_id)
    assert lead.active_membership.organisation is not None
    return lead


def queries_for_results(db, world):
    lead = _fresh_lead(db, world)
    with recording(db) as statements:
        board = bakeoff.results(db, actor=lead, now=world.after, **world.ids_)
        # What the results page reads of each row.
        for row in board.rows:
            _ = row.entrant.organisation.name
            for cell in row.measures:
                _ = (cell.measure.name, cell.measure.unit, cell.measure.criterion_id)
                if cell.report is not None:
                    _ = (cell.report.status, cell.report.evidence,
                         [f.filename for f in cell.report.files])
    return board, statements


def queries_for_ranking(db, world):
    _fresh_lead(db, world)
    phase = assessment.load_phase(db, **world.ids_)
    with recording(db) as statements:
        board = assessment.ranking(db, phase)
    return board, statements


@pytest.fixture
def worlds(ctx, db, now, app):
    folder = app.config["UPLOAD_DIR"]
    return (run_bake_off(db, now, folder, entrants=2, code="small-values"),
            run_bake_off(db, now, folder, entrants=5, code="large-values"))


def _explain(small, large) -> str:
    return "\n\n".join(["small:", *small, "large:", *large])


def test_the_results_issue_the_same_queries_for_2_entrants_as_for_5(db, worlds):
    small, large = worlds
    small_board, small_queries = queries_for_results(db, small)
    large_board, large_queries = queries_for_results(db, large)

    # The results are real: every entrant shown, assessed, with both reports and evidence.
    assert len(small_board.rows) == 2 and len(large_board.rows) == 5
    assert all(r.final is not None and r.rank is not None for r in large_board.rows)
    assert all(m.report is not None and len(m.report.files) == 1 and m.verified is not None
               for r in large_board.rows for m in r.measures)
    assert large_board.waiting == 0 and large_board.blockers == []

    assert len(large_queries) == len(small_queries), _explain(small_queries, large_queries)
    # The phase with everything the page shows (about twenty loads), the ranking, and the
    # audit event of the reading.
    assert 0 < len(small_queries) <= 35, _explain(small_queries, large_queries)


def test_the_ranking_of_a_bake_off_issues_the_same_queries_for_2_entrants_as_for_5(db, worlds):
    small, large = worlds
    small_board, small_queries = queries_for_ranking(db, small)
    large_board, large_queries = queries_for_ranking(db, large)

    assert len(small_board.ranked) == 2 and len(large_board.ranked) == 5
    assert all(r.outcome is not None and r.assessed is not None for r in large_board.ranked)

    assert len(large_queries) == len(small_queries), _explain(small_queries, large_queries)
    # The plain ranking's queries, and the outcome scores: two more.
    assert 0 < len(small_queries) <= 10, _explain(small_queries, large_queries)
