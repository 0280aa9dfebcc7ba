"""The pure scoring rules (SPEC §3.4): moderation flags, final scores, weighted totals, ranks,
the default selection, departures, rank bands and the phase statistics. No database.

Every expected number below is worked out by hand from the rule in ``scoring``'s docstring:
a final is the consensus if there is one, else the mean, to 2 places half up; the total is
Σ weight × final / 4 over the scored criteria, to 2 places half up.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from procure.assessment import scoring
from procure.assessment.scoring import Assessment, Consensus, Criterion, Result

D = Decimal

# Two scored criteria weighted 60/40 and one gate: the shape the builders give a phase.
S1, S2, GATE = 1, 2, 3
CRITERIA = [Criterion(S1, "scored", 60), Criterion(S2, "scored", 40), Criterion(GATE, "gate")]


def marks(assessor: int, s1: int | None = None, s2: int | None = None,
          gate: bool | None = None) -> Assessment:
    scores = {k: v for k, v in ((S1, s1), (S2, s2)) if v is not None}
    return Assessment(assessor, scores=scores, gates={GATE: gate} if gate is not None else {})


def result(proposal_id: int, total: str, eligible: bool = True, **finals: str) -> Result:
    return Result(proposal_id=proposal_id, finals={int(k[1:]): D(v) for k, v in finals.items()},
                  gates={}, total=D(total), eligible=eligible)


# --- moderation flags ---------------------------------------------------------------------------

@pytest.mark.parametrize(("s1_scores", "gates", "flagged"), [
    ([4, 2], [True, True], [S1]),            # spread 2: flagged
    ([0, 4], [True, True], [S1]),            # spread 4
    ([4, 3, 2], [True, True, True], [S1]),   # spread 2 across three assessors
    ([3, 2], [True, True], []),              # spread 1: not flagged
    ([3, 3], [True, True], []),
    ([2], [True], []),                       # a single assessor never disagrees
    ([3, 3], [True, False], [GATE]),         # assessors disagree on a gate
    ([3, 3], [False, False], []),            # agreeing that it fails is no disagreement
    ([4, 2], [False, True], [S1, GATE]),     # both, in the criteria's order
], ids=["spread-2", "spread-4", "spread-2-of-3", "spread-1", "same", "single", "gate-split",
        "gate-both-fail", "score-and-gate"])
def test_flags(s1_scores, gates, flagged):
    assessments = [marks(n, s1=s, s2=2, gate=g) for n, (s, g) in enumerate(zip(s1_scores, gates,
                                                                            strict=True))]
    assert scoring.flags(CRITERIA, assessments) == flagged


def test_flags_ignore_criteria_an_assessor_left_unmarked():
    assessments = [marks(1, s1=4, s2=1), marks(2, s1=None, s2=1), marks(3, s1=3, s2=None)]
    assert scoring.flags(CRITERIA, assessments) == []


def test_no_assessments_no_flags():
    assert scoring.flags(CRITERIA, []) == []


# --- final score of a criterion -------------------------------------------------------------------

@pytest.mark.parametrize(("scores", "consensus", "expected"), [
    ([3, 3, 4], None, "3.33"),          # 10/3 = 3.333…
    ([2, 3], None, "2.50"),
    ([1, 2, 2], None, "1.67"),          # 5/3 = 1.666…
    ([2, 2, 3], None, "2.33"),          # 7/3 = 2.333…
    ([4], None, "4.00"),                # a single assessor
    ([0, 0], None, "0.00"),
    ([2, 2, 2, 3, 3, 3, 3, 3], None, "2.63"),   # 21/8 = 2.625: half up, not half even (2.62)
    ([1, 1, 1, 1, 1, 1, 1, 2], None, "1.13"),   # 9/8 = 1.125: half up, not half even (1.12)
    ([], None, "0.00"),                 # nothing marked yet
    ([4, 2], D("3.5"), "3.50"),         # the consensus overrides the mean (3.00)
    ([4, 4], D("0"), "0.00"),           # a consensus of zero still overrides
    ([1, 3], D("2.25"), "2.25"),
    ([], D("1.75"), "1.75"),
])
def test_final_score(scores, consensus, expected):
    final = scoring.final_score(scores, consensus)
    assert final == D(expected)
    assert str(final) == expected       # always exactly two places


@pytest.mark.parametrize(("results", "consensus", "passed"), [
    ([True, True], None, True),
    ([True, False], None, False),       # one fail fails the gate
    ([False, False], None, False),
    ([], None, False),                  # nobody passed it
    ([True, False], True, True),        # the moderator's consensus decides
    ([True, True], False, False),
])
def test_final_gate(results, consensus, passed):
    assert scoring.final_gate(results, consensus) is passed


# --- weighted total --------------------------------------------------------------------------------

@pytest.mark.parametrize(("criteria", "finals", "total"), [
    ([(1, "scored", 60), (2, "scored", 40)], {1: "4.00", 2: "4.00"}, "100.00"),
    ([(1, "scored", 60), (2, "scored", 40)], {1: "0.00", 2: "0.00"}, "0.00"),
    ([(1, "scored", 60), (2, "scored", 40)], {1: "3.00", 2: "3.00"}, "75.00"),
    # (60 × 3.33 + 40 × 2.50) / 4 = 299.80 / 4 = 74.95
    ([(1, "scored", 60), (2, "scored", 40)], {1: "3.33", 2: "2.50"}, "74.95"),
    # 34 × 3.33 / 4 = 28.305 → 28.31 (half up; half even would give 28.30)
    ([(1, "scored", 34), (2, "scored", 66)], {1: "3.33", 2: "0.00"}, "28.31"),
    ([(1, "scored", 100)], {1: "1.67"}, "41.75"),
    # (50 × 3.5 + 25 × 2 + 25 × 1) / 4 = 250 / 4
    ([(1, "scored", 50), (2, "scored", 25), (3, "scored", 25)],
     {1: "3.50", 2: "2.00", 3: "1.00"}, "62.50"),
    # Gates carry no weight: None, 0, or even a stray number, they never count.
    ([(1, "scored", 60), (2, "scored", 40), (3, "gate", None)], {1: "2.00", 2: "2.00"}, "50.00"),
    ([(1, "scored", 60), (2, "scored", 40), (3, "gate", 0)], {1: "2.00", 2: "2.00"}, "50.00"),
    ([(1, "scored", 60), (2, "scored", 40), (3, "gate", 50)], {1: "2.00", 2: "2.00", 3: "4.00"},
     "50.00"),
    # A scored criterion weighted 0 (or None) adds nothing.
    ([(1, "scored", 100), (2, "scored", 0)], {1: "2.00", 2: "4.00"}, "50.00"),
    ([(1, "scored", 100), (2, "scored", None)], {1: "2.00", 2: "4.00"}, "50.00"),
    # A scored criterion with no final yet counts as 0.
    ([(1, "scored", 60), (2, "scored", 40)], {1: "4.00"}, "60.00"),
], ids=["all-4", "all-0", "all-3", "means", "half-up", "single", "three", "gate-none", "gate-zero",
        "gate-weighted", "scored-zero", "scored-none", "missing-final"])
def test_weighted_total(criteria, finals, total):
    got = scoring.weighted_total([Criterion(*c) for c in criteria],
                                 {k: D(v) for k, v in finals.items()})
    assert got == D(total)
    assert str(got) == total


# --- one proposal --------------------------------------------------------------------------------

@pytest.mark.parametrize(("assessments", "consensus", "finals", "gate", "total"), [
    # Means 10/3 → 3.33 and 8/3 → 2.67: (60 × 3.33 + 40 × 2.67) / 4 = 306.60 / 4 = 76.65.
    ([marks(1, 3, 2, True), marks(2, 3, 3, True), marks(3, 4, 3, True)], [],
     {S1: "3.33", S2: "2.67"}, True, "76.65"),
    ([marks(1, 3, 2, True), marks(2, 2, 3, True)], [], {S1: "2.50", S2: "2.50"}, True, "62.50"),
    # A single assessor: their marks are the finals.
    ([marks(1, 3, 2, True)], [], {S1: "3.00", S2: "2.00"}, True, "65.00"),
    # 4 and 2 average 3, but the moderator agreed 3.5: (60 × 3.5 + 40 × 3) / 4 = 82.50.
    ([marks(1, 4, 3, True), marks(2, 2, 3, True)], [Consensus(S1, score=D("3.5"))],
     {S1: "3.50", S2: "3.00"}, True, "82.50"),
    # One assessor failed the gate: ineligible, but the total is still worked out.
    ([marks(1, 1, 1, True), marks(2, 1, 1, False)], [], {S1: "1.00", S2: "1.00"}, False, "25.00"),
    # ...unless the moderator's consensus passes it.
    ([marks(1, 1, 1, True), marks(2, 1, 1, False)], [Consensus(GATE, passed=True)],
     {S1: "1.00", S2: "1.00"}, True, "25.00"),
    # ...and a consensus can fail a gate every assessor passed.
    ([marks(1, 4, 4, True), marks(2, 4, 4, True)], [Consensus(GATE, passed=False)],
     {S1: "4.00", S2: "4.00"}, False, "100.00"),
], ids=["three-assessors", "two-assessors", "single-assessor", "consensus", "gate-failed",
        "gate-consensus-pass", "gate-consensus-fail"])
def test_score_proposal(assessments, consensus, finals, gate, total):
    r = scoring.score_proposal(7, CRITERIA, assessments, consensus)
    assert r.proposal_id == 7
    assert r.finals == {k: D(v) for k, v in finals.items()}
    assert r.gates == {GATE: gate}
    assert r.eligible is gate
    assert r.total == D(total)
    assert r.rank is None and r.tied is False       # ranking comes later


def test_a_proposal_without_gates_is_eligible():
    r = scoring.score_proposal(1, [Criterion(1, "scored", 100)], [Assessment(1, scores={1: 2})])
    assert (r.eligible, r.gates, r.total) == (True, {}, D("50.00"))


# --- ranking ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("given_", "expected"), [
    # (id, total, eligible) in → (id, rank, tied) out
    ([(1, "90", True), (2, "80", True), (3, "80", True), (4, "70", True)],
     [(1, 1, False), (2, 2, True), (3, 2, True), (4, 4, False)]),
    # The same, given in another order: ties ordered by proposal id.
    ([(4, "70", True), (3, "80", True), (1, "90", True), (2, "80", True)],
     [(1, 1, False), (2, 2, True), (3, 2, True), (4, 4, False)]),
    ([(1, "50", True), (2, "50", True), (3, "50", True)],
     [(1, 1, True), (2, 1, True), (3, 1, True)]),
    ([(5, "60.01", True), (6, "60.00", True)], [(5, 1, False), (6, 2, False)]),
    # Ineligible proposals come after every eligible one, whatever their total, with no rank,
    # and an ineligible total equal to an eligible one is no tie.
    ([(1, "95", False), (2, "40", True), (3, "40", False), (4, "30", True)],
     [(2, 1, False), (4, 2, False), (1, None, False), (3, None, False)]),
    # Everyone failed a gate: no ranks at all.
    ([(1, "90", False), (2, "80", False), (3, "80", False)],
     [(1, None, False), (2, None, False), (3, None, False)]),
    ([], []),
], ids=["1-2-2-4", "1-2-2-4-shuffled", "all-tied", "one-hundredth", "ineligible-last",
        "all-ineligible", "none"])
def test_rank(given_, expected):
    ranked = scoring.rank(result(i, t, e) for i, t, e in given_)
    assert [(r.proposal_id, r.rank, r.tied) for r in ranked] == expected
    assert all(r.eligible is (r.rank is not None) for r in ranked)


def test_rank_keeps_each_proposals_scores():
    r = result(3, "74.95", s1="3.33", s2="2.50")
    [ranked] = scoring.rank([r])
    assert (ranked.finals, ranked.total, ranked.rank) == (r.finals, r.total, 1)


# --- the default selection --------------------------------------------------------------------------

@pytest.mark.parametrize(("given_", "places", "threshold", "default", "tie_at_cutoff"), [
    ([(1, "90"), (2, "80"), (3, "70")], 2, 60, [1, 2], []),
    ([(1, "90"), (2, "80"), (3, "70")], 5, 60, [1, 2, 3], []),     # fewer than the places
    ([(1, "90"), (2, "80"), (3, "70")], 0, 60, [], []),
    # A tie straddling the cut-off (ranks 1, 2, 2 for two places) is left to the editor.
    ([(1, "90"), (2, "80"), (3, "80"), (4, "70")], 2, 60, [1], [2, 3]),
    ([(1, "90"), (2, "80"), (3, "80"), (4, "70")], 3, 60, [1, 2, 3], []),  # the tie fits
    ([(1, "90"), (2, "80"), (3, "80"), (4, "70")], 1, 60, [1], []),        # the tie is below
    ([(1, "80"), (2, "80")], 1, 60, [], [1, 2]),
    ([(1, "80"), (2, "80"), (3, "80")], 2, 60, [], [1, 2, 3]),
    # The threshold: at it is in, a hundredth below is out, even with places to spare.
    ([(1, "90"), (2, "60.00"), (3, "59.99")], 3, 60, [1, 2], []),
    ([(1, "59.99"), (2, "10")], 2, 60, [], []),
    # A tie below the threshold never straddles anything.
    ([(1, "90"), (2, "50"), (3, "50")], 2, 60, [1], []),
], ids=["top-2", "fewer-than-places", "no-places", "tie-straddles", "tie-fits", "tie-below",
        "two-way-tie-for-one", "three-way-tie-for-two", "threshold", "none-above", "tie-under"])
def test_default_selection(given_, places, threshold, default, tie_at_cutoff):
    ranked = scoring.rank(result(i, t) for i, t in given_)
    selection = scoring.default_selection(ranked, places, threshold)
    assert selection.default == default
    assert selection.tie_at_cutoff == tie_at_cutoff


def test_default_selection_never_picks_an_ineligible_proposal():
    ranked = scoring.rank([result(1, "99", eligible=False), result(2, "70"), result(3, "65")])
    assert scoring.default_selection(ranked, 1, 60) == scoring.Selection(default=[2],
                                                                         tie_at_cutoff=[])


def test_everyone_ineligible_selects_no_one():
    results = [scoring.score_proposal(i, CRITERIA, [marks(1, 4, 4, False), marks(2, 4, 4, True)])
               for i in (1, 2, 3)]
    ranked = scoring.rank(results)
    assert [r.rank for r in ranked] == [None, None, None]
    selection = scoring.default_selection(ranked, 2, 60)
    assert (selection.default, selection.tie_at_cutoff) == ([], [])
    stats = scoring.statistics(CRITERIA, ranked, 60)
    assert (stats.received, stats.eligible, stats.above_threshold) == (3, 0, 0)


# --- departures from the ranking --------------------------------------------------------------------

SELECTION = scoring.Selection(default=[1, 2], tie_at_cutoff=[])
TIED = scoring.Selection(default=[1], tie_at_cutoff=[2, 3])


@pytest.mark.parametrize(("chosen", "selection", "reason", "problem"), [
    ([1, 2], SELECTION, "", None),                # as ranked: no reason needed
    ([2, 1], SELECTION, "", None),                # order does not matter
    ([1, 3], SELECTION, "", "reason_missing"),
    ([1, 3], SELECTION, "   \n ", "reason_missing"),
    ([1, 3], SELECTION, "Supplier 2 withdrew", None),
    ([1], SELECTION, "", "reason_missing"),       # selecting fewer is a departure too
    ([1, 2, 3], SELECTION, "", "reason_missing"),
    ([], SELECTION, "No one offers value", None),
    ([1], TIED, "", None),
    ([1, 2], TIED, "", "reason_missing"),          # breaking a tie is the editor's, with reasons
    ([1, 2], TIED, "Lower price of the tied two", None),
])
def test_departure_problem(chosen, selection, reason, problem):
    assert scoring.departure_problem(chosen, selection, reason) == problem


# --- rank bands ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("rank", "eligible", "band"), [
    (1, 4, "first_quarter"), (2, 4, "second_quarter"), (3, 4, "third_quarter"),
    (4, 4, "fourth_quarter"),
    (1, 8, "first_quarter"), (2, 8, "first_quarter"), (3, 8, "second_quarter"),
    (4, 8, "second_quarter"), (5, 8, "third_quarter"), (6, 8, "third_quarter"),
    (7, 8, "fourth_quarter"), (8, 8, "fourth_quarter"),
    (1, 1, "first_quarter"),
    (1, 2, "first_quarter"), (2, 2, "fourth_quarter"),     # the last is always the bottom
    (2, 3, "third_quarter"), (3, 3, "fourth_quarter"),
    (3, 10, "first_quarter"), (4, 10, "second_quarter"), (10, 10, "fourth_quarter"),
    (2, 4, "second_quarter"),    # a shared rank 2 (1, 2, 2, 4) is in the second quarter
    (None, 4, "ineligible"), (None, 0, "ineligible"), (1, 0, "ineligible"),
])
def test_rank_band(rank, eligible, band):
    assert scoring.rank_band(rank, eligible) == band


# --- statistics -----------------------------------------------------------------------------------

def test_statistics():
    ranked = scoring.rank([
        result(1, "100.00", s1="4.00", s2="4.00"),
        result(2, "74.95", s1="3.33", s2="2.50"),
        result(3, "60.00", s1="2.50", s2="3.00"),
        result(4, "59.99", s1="2.49", s2="1.00"),
        result(5, "10.00", eligible=False, s1="0.00", s2="1.00"),
        result(6, "9.99", eligible=False, s1="0.50", s2="0.00"),
    ])
    stats = scoring.statistics(CRITERIA, ranked, 60)
    assert stats.received == 6
    assert stats.eligible == 4
    assert stats.above_threshold == 3                  # 100, 74.95 and 60.00; not 59.99
    #                        0–9 10–  20– 30– 40– 50– 60– 70– 80– 90–100
    assert stats.total_bands == [1, 1, 0, 0, 0, 1, 1, 1, 0, 1]
    assert (stats.total_min, stats.total_max) == (D("9.99"), D("100.00"))
    assert stats.total_median == D("60.00")            # (59.99 + 60.00) / 2, half up
    assert set(stats.criteria) == {S1, S2}             # the gate has no scores
    # S1 finals 4, 3.33, 2.5, 2.49, 0, 0.5: mean 12.82/6 = 2.1366… → 2.14; the counts round
    # each final to the nearest point, half up (2.5 → 3, 0.5 → 1, 2.49 → 2).
    assert stats.criteria[S1] == {"mean": D("2.14"), "min": D("0.00"), "max": D("4.00"),
                                  "counts": [1, 1, 1, 2, 1]}
    # S2 finals 4, 2.5, 3, 1, 1, 0: mean 11.5/6 = 1.9166… → 1.92.
    assert stats.criteria[S2] == {"mean": D("1.92"), "min": D("0.00"), "max": D("4.00"),
                                  "counts": [1, 2, 0, 2, 1]}


@pytest.mark.parametrize(("totals", "median"), [
    (["10", "20", "30"], "20"),
    (["10.00", "20.01"], "15.01"),         # 15.005 half up
    (["40.00"], "40.00"),
    (["70", "10", "50", "30"], "40.00"),   # sorted first
])
def test_statistics_median(totals, median):
    stats = scoring.statistics(CRITERIA, [result(i, t) for i, t in enumerate(totals)], 60)
    assert stats.total_median == D(median)


def test_statistics_of_nothing():
    stats = scoring.statistics(CRITERIA, [], 60)
    assert (stats.received, stats.eligible, stats.above_threshold) == (0, 0, 0)
    assert stats.total_bands == [0] * 10
    assert (stats.total_min, stats.total_median, stats.total_max) == (None, None, None)
    assert stats.criteria == {S1: {"mean": None, "min": None, "max": None, "counts": [0] * 5},
                              S2: {"mean": None, "min": None, "max": None, "counts": [0] * 5}}


# --- properties -----------------------------------------------------------------------------------

@st.composite
def weights_summing_to_100(draw) -> list[int]:
    """1–8 non-negative integer weights summing to exactly 100 (cut points on 0…100)."""
    count = draw(st.integers(min_value=1, max_value=8))
    cuts = sorted(draw(st.lists(st.integers(0, 100), min_size=count - 1, max_size=count - 1)))
    edges = [0, *cuts, 100]
    return [b - a for a, b in zip(edges, edges[1:], strict=False)]


@st.composite
def phase_marks(draw):
    weights = draw(weights_summing_to_100())
    criteria = [Criterion(i, "scored", w) for i, w in enumerate(weights, start=1)]
    criteria.append(Criterion(99, "gate", draw(st.sampled_from([None, 0]))))
    assessors = draw(st.integers(min_value=1, max_value=6))
    assessments = [Assessment(n, scores={c.id: draw(st.integers(0, 4)) for c in criteria[:-1]},
                              gates={99: draw(st.booleans())}) for n in range(assessors)]
    quarter = st.integers(0, 16).map(lambda q: D(q) / 4)
    consensus = [Consensus(c.id, score=draw(quarter)) for c in criteria[:-1] if draw(st.booleans())]
    return criteria, assessments, consensus


@given(phase_marks())
def test_total_is_always_a_percentage_to_two_places(case):
    criteria, assessments, consensus = case
    r = scoring.score_proposal(1, criteria, assessments, consensus)
    assert D(0) <= r.total <= D(100)
    assert r.total == r.total.quantize(D("0.01"))
    assert all(D(0) <= f <= D(4) for f in r.finals.values())


@given(weights_summing_to_100())
def test_full_marks_make_100_and_none_make_0(weights):
    criteria = [Criterion(i, "scored", w) for i, w in enumerate(weights)]
    assert scoring.weighted_total(criteria, {c.id: D(4) for c in criteria}) == D("100.00")
    assert scoring.weighted_total(criteria, {c.id: D(0) for c in criteria}) == D("0.00")


# Few distinct totals, so that ties are common.
results_strategy = st.lists(
    st.tuples(st.sampled_from(["0.00", "25.50", "60.00", "60.01", "74.95", "100.00"]),
              st.booleans()),
    max_size=12,
).map(lambda rows: [result(i, t, e) for i, (t, e) in enumerate(rows, start=1)])


@given(results_strategy.flatmap(lambda rs: st.tuples(st.just(rs), st.permutations(rs))))
def test_rank_does_not_depend_on_the_order_given(pair):
    results, shuffled = pair
    assert scoring.rank(shuffled) == scoring.rank(results)


@given(results_strategy)
def test_rank_is_one_more_than_the_number_of_better_eligible_totals(results):
    ranked = scoring.rank(results)
    eligible = [r for r in ranked if r.eligible]
    assert ranked[:len(eligible)] == eligible            # eligible first
    for r in eligible:
        assert r.rank == 1 + sum(1 for o in eligible if o.total > r.total)
        assert r.tied is (sum(1 for o in eligible if o.total == r.total) > 1)
    assert all(r.rank is None and not r.tied for r in ranked[len(eligible):])


@given(results_strategy, st.integers(0, 5), st.sampled_from([0, 50, 60, 100]))
def test_default_selection_respects_places_and_threshold(results, places, threshold):
    ranked = scoring.rank(results)
    selection = scoring.default_selection(ranked, places, threshold)
    by_id = {r.proposal_id: r for r in ranked}
    assert len(selection.default) <= places
    assert not set(selection.default) & set(selection.tie_at_cutoff)
    for i in selection.default + selection.tie_at_cutoff:
        assert by_id[i].eligible and by_id[i].total >= threshold
    # Nothing left out ranks above anything chosen.
    chosen_totals = [by_id[i].total for i in selection.default]
    for r in ranked:
        if r.proposal_id not in selection.default and r.eligible and chosen_totals:
            assert r.total <= min(chosen_totals)
