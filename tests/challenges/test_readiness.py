"""Publish readiness: every reason a draft may not be published yet, keyed by task-list section.

Drafts are plain namespaces shaped like the models, so no database is needed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace as ns

import pytest

from procure.challenges.readiness import MIN_PROBLEM_LENGTH, phase_key, publish_problems

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
DAY = timedelta(days=1)

PROBLEM = ("Older homes in the valleys lose heat through solid walls, and tenants on low incomes pay "
           "for it every winter. We want ways to find and fix the worst homes first.")

SCORED_A, SCORED_B, GATE = 11, 12, 13


def criteria() -> list[ns]:
    return [
        ns(criterion=ns(kind="scored"), criterion_id=SCORED_A, weight=60),
        ns(criterion=ns(kind="scored"), criterion_id=SCORED_B, weight=40),
        ns(criterion=ns(kind="gate"), criterion_id=GATE, weight=None),
    ]


def complete_draft() -> ns:
    """A draft with nothing missing: a feasibility phase, then a bake-off by invitation."""
    feasibility = ns(position=1, kind="feasibility", opens_at=NOW + DAY, closes_at=NOW + 30 * DAY,
                     contracts=4, max_value_pence=2_500_000, duration_months=3, outcome_share_percent=50,
                     criteria=criteria(), measures=[])
    bake_off = ns(position=2, kind="bake_off", opens_at=NOW + 40 * DAY, closes_at=NOW + 70 * DAY,
                  contracts=2, max_value_pence=5_000_000, duration_months=6, outcome_share_percent=50,
                  criteria=criteria(),
                  measures=[
                      ns(weight=70, baseline=Decimal("120.0000"), target=Decimal("80.0000"),
                         criterion_id=SCORED_A),
                      ns(weight=30, baseline=Decimal("0"), target=Decimal("25"), criterion_id=SCORED_B),
                  ])
    return ns(title="Warmer homes in the valleys", summary="Find and fix the coldest homes first.",
              problem_statement=PROBLEM, outcomes_sought="Fewer cold homes; lower bills.",
              contact_name="Annwen Jones", contact_email="annwen@example.org",
              clarification_deadline=NOW + 20 * DAY, budget_pence=12_000_000,
              phases=[feasibility, bake_off])


def problems_of(draft: ns, *, lead_verified: bool = True) -> dict[str, str]:
    return publish_problems(draft, lead_verified=lead_verified, now=NOW)


# Mutations: each takes the draft and the keyword arguments of the call, and changes one thing.

def challenge(**attrs):
    def mutate(draft, call):
        for name, value in attrs.items():
            setattr(draft, name, value)
    return mutate


def phase(n, **attrs):
    def mutate(draft, call):
        for name, value in attrs.items():
            setattr(draft.phases[n - 1], name, value)
    return mutate


def criterion(n, i, *, kind=None, **attrs):
    def mutate(draft, call):
        chosen = draft.phases[n - 1].criteria[i]
        if kind is not None:
            chosen.criterion.kind = kind
        for name, value in attrs.items():
            setattr(chosen, name, value)
    return mutate


def measure(n, i, **attrs):
    def mutate(draft, call):
        for name, value in attrs.items():
            setattr(draft.phases[n - 1].measures[i], name, value)
    return mutate


def unverified_lead(draft, call):
    call["lead_verified"] = False


def only_scored(n, *weights):
    def mutate(draft, call):
        draft.phases[n - 1].criteria = [
            ns(criterion=ns(kind="scored"), criterion_id=SCORED_A + i, weight=w)
            for i, w in enumerate(weights)]
    return mutate


def only_gates(n):
    def mutate(draft, call):
        draft.phases[n - 1].criteria = [ns(criterion=ns(kind="gate"), criterion_id=GATE, weight=None)]
    return mutate


def dates(n, opens_in, closes_in):
    return phase(n, opens_at=None if opens_in is None else NOW + opens_in,
                 closes_at=None if closes_in is None else NOW + closes_in)


def case(mutate, expected, id):
    return pytest.param(mutate, expected, id=id)


P1, P2 = "phase-1-", "phase-2-"

CASES = [
    # The challenge itself.
    case(unverified_lead, {"lead": "lead_unverified"}, "lead-unverified"),
    case(challenge(title=""), {"title": "title_missing"}, "title-empty"),
    case(challenge(title="   \n"), {"title": "title_missing"}, "title-blank"),
    case(challenge(title=None), {"title": "title_missing"}, "title-none"),
    case(challenge(summary=""), {"summary": "summary_missing"}, "summary-empty"),
    case(challenge(summary=None), {"summary": "summary_missing"}, "summary-none"),
    case(challenge(problem_statement=""), {"problem_statement": "problem_missing"}, "problem-empty"),
    case(challenge(problem_statement=" \t "), {"problem_statement": "problem_missing"}, "problem-blank"),
    case(challenge(problem_statement=None), {"problem_statement": "problem_missing"}, "problem-none"),
    case(challenge(problem_statement="x" * (MIN_PROBLEM_LENGTH - 1)),
         {"problem_statement": "problem_too_short"}, "problem-one-short"),
    case(challenge(problem_statement="   " + "x" * (MIN_PROBLEM_LENGTH - 1) + "   "),
         {"problem_statement": "problem_too_short"}, "problem-short-once-trimmed"),
    case(challenge(problem_statement="x" * MIN_PROBLEM_LENGTH), {}, "problem-exactly-long-enough"),
    case(challenge(outcomes_sought=""), {"outcomes_sought": "outcomes_missing"}, "outcomes-empty"),
    case(challenge(outcomes_sought=None), {"outcomes_sought": "outcomes_missing"}, "outcomes-none"),
    case(challenge(contact_name=""), {"contact": "contact_missing"}, "contact-no-name"),
    case(challenge(contact_email=" "), {"contact": "contact_missing"}, "contact-no-email"),
    case(challenge(contact_name=None, contact_email=None), {"contact": "contact_missing"}, "contact-none"),
    case(challenge(phases=[]), {"phases": "phases_missing"}, "no-phases"),
    case(challenge(phases=[complete_draft().phases[0]]), {}, "one-phase-is-enough"),
    # Dates.
    case(dates(1, DAY, None), {P1 + "dates": "dates_missing"}, "p1-no-close"),
    case(dates(1, None, 30 * DAY), {P1 + "dates": "dates_missing"}, "p1-no-open"),
    case(dates(2, None, None), {P2 + "dates": "dates_missing"}, "p2-no-dates"),
    case(dates(1, 30 * DAY, 30 * DAY), {P1 + "dates": "dates_order"}, "p1-closes-as-it-opens"),
    case(dates(1, 30 * DAY, 25 * DAY), {P1 + "dates": "dates_order"}, "p1-closes-before-it-opens"),
    case(dates(2, 70 * DAY, 70 * DAY - SECOND), {P2 + "dates": "dates_order"}, "p2-dates-order"),
    case(dates(2, -10 * DAY, -SECOND), {P2 + "dates": "closes_in_past"}, "p2-closed-a-second-ago"),
    case(dates(2, -10 * DAY, timedelta(0)), {P2 + "dates": "closes_in_past"}, "p2-closes-now"),
    case(dates(1, -10 * DAY, SECOND), {"clarification_deadline": "clarification_deadline_after_close"},
         "p1-closes-in-a-second"),
    case(dates(1, -10 * DAY, timedelta(0)),
         {P1 + "dates": "closes_in_past", "clarification_deadline": "clarification_deadline_after_close"},
         "p1-closes-now"),
    case(dates(1, -DAY, 30 * DAY), {}, "p1-already-open"),
    case(dates(2, 30 * DAY - SECOND, 70 * DAY), {P2 + "dates": "opens_before_previous_closes"},
         "p2-opens-a-second-before-p1-closes"),
    case(dates(2, 2 * DAY, 70 * DAY), {P2 + "dates": "opens_before_previous_closes"}, "p2-overlaps-p1"),
    case(dates(2, 30 * DAY, 70 * DAY), {}, "p2-opens-as-p1-closes"),
    # Contracts, value, duration, budget.
    case(phase(1, contracts=None), {P1 + "details": "contracts_missing"}, "p1-contracts-none"),
    case(phase(2, contracts=0), {P2 + "details": "contracts_missing"}, "p2-contracts-zero"),
    case(phase(2, contracts=-1), {P2 + "details": "contracts_missing"}, "p2-contracts-negative"),
    case(phase(1, max_value_pence=None), {P1 + "details": "max_value_missing"}, "p1-max-value-none"),
    case(phase(2, max_value_pence=0), {P2 + "details": "max_value_missing"}, "p2-max-value-zero"),
    case(phase(1, duration_months=None), {P1 + "details": "duration_missing"}, "p1-duration-none"),
    case(phase(2, duration_months=0), {P2 + "details": "duration_missing"}, "p2-duration-zero"),
    case(phase(2, contracts=None, max_value_pence=None, duration_months=None),
         {P2 + "details": "contracts_missing"}, "p2-details-first-missing-reported"),
    case(phase(2, max_value_pence=6_000_001), {P2 + "budget": "budget_short"}, "p2-a-penny-over-budget"),
    case(phase(2, max_value_pence=6_000_000), {}, "p2-exactly-on-budget"),
    case(phase(1, contracts=5), {P1 + "budget": "budget_short"}, "p1-one-contract-too-many"),
    case(challenge(budget_pence=10_000_000), {}, "budget-exactly-covers-each-phase"),
    case(challenge(budget_pence=9_999_999), {P1 + "budget": "budget_short", P2 + "budget": "budget_short"},
         "budget-a-penny-short"),
    case(challenge(budget_pence=0), {P1 + "budget": "budget_short", P2 + "budget": "budget_short"},
         "no-budget"),
    # Criteria.
    case(phase(1, criteria=[]), {P1 + "criteria": "criteria_missing"}, "p1-no-criteria"),
    case(only_gates(1), {P1 + "criteria": "scored_criteria_missing"}, "p1-only-gates"),
    case(criterion(1, 2, weight=5), {P1 + "criteria": "gate_weighted"}, "p1-gate-weighted"),
    case(criterion(1, 2, weight=0), {}, "p1-gate-weight-zero"),
    case(criterion(1, 0, weight=None), {P1 + "criteria": "weight_missing"}, "p1-weight-none"),
    case(criterion(2, 1, weight=0), {P2 + "criteria": "weight_missing"}, "p2-weight-zero"),
    case(criterion(1, 0, weight=59), {P1 + "criteria": "weights_sum"}, "p1-weights-99"),
    case(criterion(2, 0, weight=61), {P2 + "criteria": "weights_sum"}, "p2-weights-101"),
    case(criterion(1, 1, kind="gate"), {P1 + "criteria": "gate_weighted"}, "p1-scored-made-gate"),
    case(only_scored(1, 100), {}, "p1-one-scored-criterion"),
    # Outcome measures of the bake-off.
    case(phase(2, measures=[]), {P2 + "measures": "measures_missing"}, "p2-no-measures"),
    case(measure(2, 0, weight=None), {P2 + "measures": "measure_weight_missing"}, "p2-measure-weight-none"),
    case(measure(2, 1, weight=0), {P2 + "measures": "measure_weight_missing"}, "p2-measure-weight-zero"),
    case(measure(2, 0, weight=69), {P2 + "measures": "measure_weights_sum"}, "p2-measure-weights-99"),
    case(measure(2, 0, target=Decimal("120")), {P2 + "measures": "measure_baseline_equals_target"},
         "p2-baseline-equals-target"),
    case(measure(2, 0, criterion_id=99), {P2 + "measures": "measure_criterion_not_in_phase"},
         "p2-measure-criterion-not-chosen"),
    case(phase(2, outcome_share_percent=-1), {P2 + "measures": "outcome_share_invalid"},
         "p2-share-below-0"),
    case(phase(2, outcome_share_percent=101), {P2 + "measures": "outcome_share_invalid"},
         "p2-share-over-100"),
    case(phase(2, outcome_share_percent=0), {}, "p2-share-0"),
    case(phase(2, outcome_share_percent=100), {}, "p2-share-100"),
    case(measure(2, 0, weight=None, target=Decimal("120"), criterion_id=99),
         {P2 + "measures": "measure_weight_missing"}, "p2-measures-first-problem-reported"),
    case(phase(1, measures=[ns(weight=None, baseline=1, target=1, criterion_id=99)],
               outcome_share_percent=500), {}, "p1-measures-ignored-outside-bake-off"),
    case(phase(1, kind="bake_off"), {P1 + "measures": "measures_missing"}, "p1-made-a-bake-off"),
    # The clarification deadline, against the first phase's close.
    case(challenge(clarification_deadline=None),
         {"clarification_deadline": "clarification_deadline_missing"}, "clarification-none"),
    case(challenge(clarification_deadline=NOW),
         {"clarification_deadline": "clarification_deadline_past"}, "clarification-now"),
    case(challenge(clarification_deadline=NOW - DAY),
         {"clarification_deadline": "clarification_deadline_past"}, "clarification-past"),
    case(challenge(clarification_deadline=NOW + SECOND), {}, "clarification-in-a-second"),
    case(challenge(clarification_deadline=NOW + 30 * DAY - SECOND), {},
         "clarification-just-before-p1-closes"),
    case(challenge(clarification_deadline=NOW + 30 * DAY),
         {"clarification_deadline": "clarification_deadline_after_close"}, "clarification-as-p1-closes"),
    case(challenge(clarification_deadline=NOW + 50 * DAY),
         {"clarification_deadline": "clarification_deadline_after_close"}, "clarification-after-p1-closes"),
    case(dates(1, DAY, None), {P1 + "dates": "dates_missing"}, "clarification-unchecked-without-p1-close"),
]

EVERY_CODE = {
    "lead_unverified", "title_missing", "summary_missing", "problem_missing", "problem_too_short",
    "outcomes_missing", "contact_missing", "phases_missing",
    "dates_missing", "dates_order", "closes_in_past", "opens_before_previous_closes",
    "contracts_missing", "max_value_missing", "duration_missing", "budget_short",
    "criteria_missing", "scored_criteria_missing", "gate_weighted", "weight_missing", "weights_sum",
    "measures_missing", "measure_weight_missing", "measure_weights_sum", "measure_baseline_equals_target",
    "measure_criterion_not_in_phase", "outcome_share_invalid",
    "clarification_deadline_missing", "clarification_deadline_past", "clarification_deadline_after_close",
}


def test_a_complete_draft_may_be_published():
    assert problems_of(complete_draft()) == {}


def test_the_table_covers_every_code():
    seen = {code for param in CASES for code in param.values[1].values()}
    assert seen == EVERY_CODE


def test_the_table_covers_each_phase_section_of_the_bake_off():
    keys = {key for param in CASES for key in param.values[1]}
    assert {P2 + part for part in ("dates", "details", "budget", "criteria", "measures")} <= keys


@pytest.mark.parametrize("mutate, expected", CASES)
def test_one_change_to_a_complete_draft(mutate, expected):
    draft = complete_draft()
    call = {"lead_verified": True}
    mutate(draft, call)
    assert publish_problems(draft, now=NOW, **call) == expected


def test_an_empty_draft_lists_everything_missing():
    draft = ns(title=None, summary=None, problem_statement=None, outcomes_sought=None, contact_name=None,
               contact_email=None, clarification_deadline=None, phases=[], budget_pence=0)
    assert problems_of(draft, lead_verified=False) == {
        "lead": "lead_unverified",
        "title": "title_missing",
        "summary": "summary_missing",
        "problem_statement": "problem_missing",
        "outcomes_sought": "outcomes_missing",
        "contact": "contact_missing",
        "phases": "phases_missing",
        "clarification_deadline": "clarification_deadline_missing",
    }


def test_an_empty_phase_lists_each_of_its_sections():
    draft = complete_draft()
    draft.phases[1] = ns(position=2, kind="bake_off", opens_at=None, closes_at=None, contracts=None,
                         max_value_pence=None, duration_months=None, outcome_share_percent=50,
                         criteria=[], measures=[])
    assert problems_of(draft) == {
        P2 + "dates": "dates_missing",
        P2 + "details": "contracts_missing",
        P2 + "criteria": "criteria_missing",
        P2 + "measures": "measures_missing",
    }


@pytest.mark.parametrize("opens_in, expected", [
    (30 * DAY - SECOND, {"phase-3-dates": "opens_before_previous_closes"}),
    (30 * DAY, {}),
])
def test_a_later_phase_is_checked_against_the_last_phase_with_a_close(opens_in, expected):
    draft = complete_draft()
    draft.phases[1].opens_at = draft.phases[1].closes_at = None          # phase 2 has no dates
    third = complete_draft().phases[0]
    third.position, third.kind = 3, "deployment"
    third.opens_at, third.closes_at = NOW + opens_in, NOW + 90 * DAY      # against phase 1's close
    draft.phases.append(third)
    assert problems_of(draft) == {P2 + "dates": "dates_missing"} | expected


@pytest.mark.parametrize("position, part, key", [
    (1, "dates", "phase-1-dates"),
    (2, "measures", "phase-2-measures"),
    (12, "budget", "phase-12-budget"),
])
def test_phase_key(position, part, key):
    assert phase_key(position, part) == key
