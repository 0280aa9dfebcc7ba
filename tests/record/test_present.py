"""What a record's page shows, made from frozen content: pure, no app, no database."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from procure.record import present

PUBLISHED = "2027-01-25T10:00:00+00:00"


def _criteria(first_id: int) -> list[dict]:
    return [
        {"id": first_id, "criterion_id": 1, "framework": "wellbeing", "framework_version": 2,
         "code": "healthier", "kind": "scored", "name_en": "A healthier Wales",
         "name_cy": "Cymru iachach", "weight": 60},
        {"id": first_id + 1, "criterion_id": 2, "framework": "wellbeing", "framework_version": 2,
         "code": "resilient", "kind": "scored", "name_en": "A resilient Wales",
         "name_cy": "Cymru gydnerth", "weight": 40},
        {"id": first_id + 2, "criterion_id": 3, "framework": "wellbeing", "framework_version": 2,
         "code": "eligible", "kind": "gate", "name_en": "Eligibility", "name_cy": "",
         "weight": None}]


def _ranked(proposal_id: int, org: str, rank: int, total: str, finals: dict, *,
            selected: bool, assessed: str | None = None, outcome: str | None = None,
            summary: str = "") -> dict:
    return {"proposal_id": proposal_id, "organisation_id": proposal_id + 100,
            "organisation": org, "rank": rank, "tied": False, "total": total, "eligible": True,
            "finals": finals, "gates": {}, "assessed": assessed, "outcome": outcome,
            "selected": selected, "summary": summary}


def content(*, outcome: str = "awarded") -> dict:
    """A two-phase record shaped as ``procure.record.compose`` freezes it."""
    award_selected = 1 if outcome == "awarded" else 0
    return {
        "schema": 1,
        "challenge": {
            "id": 7, "title": "Warmer homes", "title_cy": "Cartrefi cynhesach",
            "summary": "Fix the coldest homes.", "summary_cy": "",
            "problem_statement": "Homes *lose* heat.", "context": "", "affected": "",
            "outcomes_sought": "Fewer cold homes.", "tags": ["energy", "housing"],
            "status": "cancelled" if outcome == "cancelled" else "concluded",
            "opened_at": "2026-11-22T08:00:00+00:00",
            "concluded_at": None if outcome == "cancelled" else "2027-01-24T10:00:00+00:00",
            "cancelled_at": "2026-12-01T10:00:00+00:00" if outcome == "cancelled" else None,
            "cancel_reason": "Taken over by the health board" if outcome == "cancelled" else "",
            "derived_from": {"challenge_id": 3, "title": "Warm homes"}},
        "outcome": outcome,
        "lead": {"organisation_id": 1, "name": "Cardiff Council"},
        "funders": [{"organisation_id": 1, "name": "Cardiff Council", "role": "lead",
                     "pledge_pence": 5_000_000},
                    {"organisation_id": 2, "name": "Newport Council", "role": "partner",
                     "pledge_pence": 1_000_000}],
        "budget_pence": 6_000_000,
        "phases": [
            {"id": 11, "position": 1, "kind": "feasibility", "invitation_only": False,
             "opens_at": "2026-11-22T09:00:00+00:00", "closes_at": "2026-12-22T10:00:00+00:00",
             "planned_contracts": 2, "max_value_pence": 2_500_000, "duration_months": 3,
             "threshold_percent": 60, "outcome_share_percent": None,
             "criteria": _criteria(1), "measures": [], "proposals_received": 3,
             "statistics": {"received": 3, "eligible": 3, "above_threshold": 2,
                            "total_bands": [0, 0, 1, 0, 0, 0, 0, 0, 0, 2],
                            "total_min": "25.00", "total_median": "90.00",
                            "total_max": "100.00",
                            "criteria": {"1": {"mean": "3.00", "min": "1.00", "max": "4.00",
                                               "counts": [0, 1, 0, 0, 2]},
                                         "2": {"mean": "2.67", "min": "1.00", "max": "4.00",
                                               "counts": [0, 1, 0, 1, 1]}}},
             "distribution": ["100.00", "90.00", "25.00"],
             "decision": {"kind": "shortlist", "released_at": "2026-12-23T10:00:00+00:00",
                          "reason": "The strongest", "departs": False, "selected": 2},
             "ranked": [_ranked(1, "Bright Ltd", 1, "100.00", {"2": "4.00", "1": "4.00"},
                                selected=True, summary="Sensors in every home"),
                        _ranked(2, "Dim Ltd", 2, "90.00", {"1": "4.00", "2": "3.00"},
                                selected=True)],
             "entrants": [], "contracts": []},
            {"id": 12, "position": 2, "kind": "bake_off", "invitation_only": True,
             "opens_at": "2026-12-24T10:00:00+00:00", "closes_at": "2027-01-23T10:00:00+00:00",
             "planned_contracts": 1, "max_value_pence": 2_500_000, "duration_months": 3,
             "threshold_percent": 60, "outcome_share_percent": 50,
             "criteria": _criteria(4),
             "measures": [
                 {"id": 21, "name": "Homes fixed", "unit": "homes", "direction": "higher",
                  "baseline": "10", "target": "50", "criterion_id": 1, "framework": "wellbeing",
                  "code": "healthier", "weight": 60},
                 {"id": 22, "name": "Cost per home", "unit": "pounds", "direction": "lower",
                  "baseline": "1000", "target": "600", "criterion_id": 2,
                  "framework": "wellbeing", "code": "resilient", "weight": 40}],
             "proposals_received": 2, "statistics": None, "distribution": ["85.00", "57.50"],
             "decision": {"kind": "award", "released_at": "2027-01-24T10:00:00+00:00",
                          "reason": "Residents preferred it", "departs": True,
                          "selected": award_selected},
             "ranked": [_ranked(5, "Dim Ltd", 1, "85.00", {"4": "2.00", "5": "4.00"},
                                selected=False, assessed="70.00", outcome="100.00"),
                        _ranked(4, "Bright Ltd", 2, "57.50", {"4": "3.00", "5": "2.00"},
                                selected=bool(award_selected), assessed="65.00",
                                outcome="50.00")],
             "entrants": [
                 {"organisation_id": 101, "organisation": "Bright Ltd",
                  "contract_value_pence": 2_000_000, "starts_on": "2027-01-04",
                  "ends_on": "2027-03-31", "invited_at": "2026-12-24T10:00:00+00:00",
                  "results": [{"measure_id": 21, "verified": "30", "status": "accepted"},
                              {"measure_id": 22, "verified": "800", "status": "corrected"}]},
                 {"organisation_id": 102, "organisation": "Dim Ltd",
                  "contract_value_pence": 2_000_000, "starts_on": "2027-01-04",
                  "ends_on": "2027-03-31", "invited_at": "2026-12-24T10:00:00+00:00",
                  "results": [{"measure_id": 21, "verified": "70", "status": "accepted"},
                              {"measure_id": 22, "verified": "500", "status": "reported"}]}],
             "contracts": ([{"id": 1, "proposal_id": 4, "organisation_id": 101,
                             "organisation": "Bright Ltd", "value_pence": 4_000_000,
                             "starts_on": "2027-06-01", "ends_on": "2028-05-31"}]
                           if award_selected else [])}],
        "clarifications": [{"id": 1, "question": "Can we use sensors?", "answer": "Yes.",
                            "published_at": "2026-11-30T10:00:00+00:00"}],
        "amendments": [{"version": 2, "note": "Longer deadline",
                        "created_at": "2026-11-25T10:00:00+00:00"}],
        "lessons": {"worked": "Side by side trials.", "not_worked": "Slow measuring."},
        "assets": [{"title": "Code", "url": "https://example.org/code", "licence": "MIT",
                    "licence_name": "MIT License",
                    "licence_url": "https://opensource.org/license/mit", "description": ""}],
        "licence": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
        "published_at": PUBLISHED}


# --- reading frozen values ----------------------------------------------------------------------

def test_welsh_text_is_chosen_only_for_a_welsh_reader_and_only_when_there_is_some():
    assert present.pick("Warm", "Cynnes", "cy") == "Cynnes"
    assert present.pick("Warm", "Cynnes", "en") == "Warm"
    assert present.pick("Warm", "", "cy") == "Warm"
    assert present.pick("Warm", None, "cy") == "Warm"


@pytest.mark.parametrize("text", [None, "", "not a time", "2027-13-40T00:00:00+00:00"])
def test_a_missing_or_broken_time_reads_as_none(text):
    assert present.instant(text) is None
    assert present.day(text) is None


@pytest.mark.parametrize("text", [None, "", "abc", "NaN", "Infinity"])
def test_a_missing_or_broken_number_reads_as_none(text):
    assert present.number(text) is None


def test_frozen_times_dates_and_numbers_are_read_as_such():
    assert present.instant(PUBLISHED) == datetime(2027, 1, 25, 10, tzinfo=UTC)
    assert present.day("2027-06-01") == date(2027, 6, 1)
    assert present.number("72.50") == Decimal("72.50")


# --- a record -----------------------------------------------------------------------------------

def test_the_record_reads_the_challenge_its_funders_and_its_award():
    view = present.record(content(), "en")
    assert (view.challenge_id, view.title, view.lead) == (7, "Warmer homes", "Cardiff Council")
    assert [(f.name, f.role, f.pledge_pence) for f in view.funders] == [
        ("Cardiff Council", "lead", 5_000_000), ("Newport Council", "partner", 1_000_000)]
    assert [f.name for f in view.partners] == ["Newport Council"]
    assert view.budget_pence == 6_000_000
    assert [(c.organisation, c.value_pence, c.starts_on) for c in view.winners] == [
        ("Bright Ltd", 4_000_000, date(2027, 6, 1))]
    assert view.awarded_pence == 4_000_000
    assert view.no_award_reason == ""
    assert view.derived_from == (3, "Warm homes")
    assert view.published_at == datetime(2027, 1, 25, 10, tzinfo=UTC)
    assert [a.licence_name for a in view.assets] == ["MIT License"]
    assert view.clarifications[0].published_at == datetime(2026, 11, 30, 10, tzinfo=UTC)
    assert (view.lessons_worked, view.lessons_not_worked) == ("Side by side trials.",
                                                              "Slow measuring.")


def test_a_welsh_reader_gets_the_welsh_title_and_criteria_and_english_where_there_is_no_welsh():
    view = present.record(content(), "cy")
    assert view.title == "Cartrefi cynhesach"
    assert view.summary == "Fix the coldest homes."  # no Welsh summary was written
    assert [c.name for c in view.phases[0].criteria] == ["Cymru iachach", "Cymru gydnerth",
                                                         "Eligibility"]
    assert view.phases[1].measures[0].evidences == "Cymru iachach"


def test_each_named_supplier_has_its_final_score_per_scored_criterion_in_the_criteria_order():
    phase = present.record(content(), "en").phases[0]
    assert [c.name for c in phase.scored] == ["A healthier Wales", "A resilient Wales"]
    assert [c.name for c in phase.gates] == ["Eligibility"]
    bright, dim = phase.entries
    assert bright.organisation == "Bright Ltd" and bright.summary == "Sensors in every home"
    # The finals were frozen keyed by phase criterion id, in any order.
    assert bright.finals == (Decimal("4.00"), Decimal("4.00"))
    assert dim.finals == (Decimal("4.00"), Decimal("3.00"))
    assert [e.organisation for e in phase.selected] == ["Bright Ltd", "Dim Ltd"]
    assert not phase.is_award and phase.budget_pence == 5_000_000


def test_the_statistics_name_each_criterion_and_spread_the_totals_in_ten_bands():
    s = present.record(content(), "en").phases[0].statistics
    assert (s.received, s.eligible, s.above_threshold) == (3, 3, 2)
    assert (s.total_min, s.total_median, s.total_max) == (Decimal("25.00"), Decimal("90.00"),
                                                          Decimal("100.00"))
    assert [(c.name, c.mean, c.low, c.high) for c in s.criteria] == [
        ("A healthier Wales", Decimal("3.00"), Decimal("1.00"), Decimal("4.00")),
        ("A resilient Wales", Decimal("2.67"), Decimal("1.00"), Decimal("4.00"))]
    assert [(b.low, b.high, b.count) for b in s.bands][2] == (20, 30, 1)
    assert (s.bands[-1].low, s.bands[-1].high, s.bands[-1].count, s.bands[-1].last) == (
        90, 100, 2, True)
    assert len(s.bands) == 10 and sum(b.count for b in s.bands) == 3


def test_outcomes_show_each_entrants_verified_result_and_how_far_it_went_to_the_target():
    phase = present.record(content(), "en").phases[1]
    homes, cost = phase.measures
    assert (homes.baseline, homes.target, homes.direction) == (Decimal(10), Decimal(50), "higher")
    assert [(r.organisation, r.verified, r.achievement) for r in homes.results] == [
        ("Bright Ltd", Decimal(30), Decimal("50.0")),
        ("Dim Ltd", Decimal(70), Decimal("100.0"))]  # beyond the target counts as 100 %
    # Lower is better: 800 is half way from 1000 to 600. A value still waiting for
    # verification is not a result.
    assert [(r.verified, r.achievement) for r in cost.results] == [
        (Decimal(800), Decimal("50.0")), (None, None)]
    assert phase.has_results


def test_the_bake_off_chart_draws_each_named_entrant_and_highlights_the_winner():
    phase = present.record(content(), "en").phases[1]
    chart = phase.chart
    assert [g.label for g in chart.groups] == ["Dim Ltd", "Bright Ltd"]
    assert [g.highlight for g in chart.groups] == [False, True]
    dim = chart.groups[0]
    assert (dim.assessed, dim.outcome, dim.final) == (Decimal("70.00"), Decimal("100.00"),
                                                      Decimal("85.00"))
    assert chart.shares == ("50", "50")
    assert present.record(content(), "en").phases[0].chart is None  # not a bake-off


def test_the_chart_leaves_out_an_entrant_without_an_assessed_total():
    frozen = content()
    frozen["phases"][1]["ranked"][0]["assessed"] = None
    chart = present.record(frozen, "en").phases[1].chart
    assert [g.label for g in chart.groups] == ["Bright Ltd"]
    frozen["phases"][1]["ranked"][1]["assessed"] = None
    assert present.record(frozen, "en").phases[1].chart is None


def test_no_award_gives_the_reason_and_no_winner():
    view = present.record(content(outcome="no_award"), "en")
    assert view.outcome == "no_award"
    assert view.winners == () and view.awarded_pence == 0
    assert view.no_award_reason == "Residents preferred it"
    assert not any(g.highlight for g in view.phases[1].chart.groups)


def test_a_cancelled_record_carries_its_public_reason():
    view = present.record(content(outcome="cancelled"), "en")
    assert view.cancel_reason == "Taken over by the health board"
    assert view.cancelled_at == datetime(2026, 12, 1, 10, tzinfo=UTC)
    assert view.no_award_reason == ""


def test_only_summaries_the_suppliers_agreed_to_publish_are_listed():
    view = present.record(content(), "en")
    assert [(s.organisation, s.phase, s.text) for s in view.summaries] == [
        ("Bright Ltd", 1, "Sensors in every home")]


def test_a_record_missing_optional_parts_still_reads():
    frozen = copy.deepcopy(content())
    for key in ("clarifications", "amendments", "assets", "lessons"):
        del frozen[key]
    frozen["challenge"]["derived_from"] = None
    view = present.record(frozen, "en")
    assert view.clarifications == () and view.assets == () and view.derived_from is None
    assert view.lessons_worked == ""


# --- check-ins and reuses -------------------------------------------------------------------------

@dataclass
class Row:
    months: int
    recorded_at: datetime | None
    in_use: bool | None = True
    used_by: str = "Valleys Housing"
    notes: str = "Private: call Eira on 01234"
    measure_values: dict = field(default_factory=dict)


def test_check_ins_show_recorded_answers_in_order_with_the_measures_named_and_no_notes():
    at = datetime(2027, 8, 1, tzinfo=UTC)
    rows = [Row(12, at, in_use=False, used_by="ignored"),
            Row(6, at, measure_values={"21": "45", "22": "700", "999": "1"}),
            Row(24, None)]
    shown = present.check_ins(rows, content())
    assert [c.months for c in shown] == [6, 12]
    six, twelve = shown
    assert six.in_use and six.used_by == "Valleys Housing"
    assert [(v.name, v.unit, v.value) for v in six.values] == [
        ("Homes fixed", "homes", Decimal(45)), ("Cost per home", "pounds", Decimal(700))]
    assert twelve.in_use is False and twelve.used_by == ""
    assert not hasattr(six, "notes")


def test_reuses_keep_who_reused_it_in_order():
    assert [(r.challenge_id, r.authority) for r in present.reuses([(9, "Swansea"), (12, "Conwy")])] \
        == [(9, "Swansea"), (12, "Conwy")]


# --- the shared-values view --------------------------------------------------------------------------

def test_a_full_achievement_fills_the_plot_and_more_is_drawn_to_its_edge_only():
    chart = present.values_chart([("A", Decimal(100)), ("B", Decimal("50")),
                                  ("C", Decimal("120"))])
    full, half, over = chart.bars
    assert full.width == chart.plot_width and half.width == chart.plot_width / 2
    assert over.width == chart.plot_width and over.text == "120.0%"
    assert full.x == chart.plot_x and full.x + full.width <= chart.width
    assert half.y > full.y and chart.height > over.y + over.height
    assert [label for _x, label in chart.ticks] == ["0%", "25%", "50%", "75%", "100%"]
    assert present.values_chart([]).empty


def test_a_long_criterion_name_is_shortened_where_drawn_but_kept_whole():
    name = "A Wales of vibrant culture and thriving Welsh language"
    bar = present.values_chart([(name, Decimal(40))]).bars[0]
    assert bar.label == name and bar.display_label.endswith("…")
    assert len(bar.display_label) <= present.VALUE_LABEL_LIMIT


@dataclass
class Use:
    key: str
    framework_code: str
    framework_en: str
    framework_cy: str
    code: str
    name_en: str
    name_cy: str
    kind: str
    records: int = 0
    phases: int = 0
    average_weight: Decimal | None = None
    measurements: int = 0
    average_achievement: Decimal | None = None


def test_shared_values_are_grouped_by_framework_in_the_readers_language():
    uses = [Use("wg.healthier", "wg", "Well-being goals", "Nodau llesiant", "healthier",
                "A healthier Wales", "Cymru iachach", "scored", 2, 3, Decimal("45.0"), 4,
                Decimal("62.5")),
            Use("wg.resilient", "wg", "Well-being goals", "Nodau llesiant", "resilient",
                "A resilient Wales", "Cymru gydnerth", "scored"),
            Use("ways.longTerm", "ways", "Ways of working", "", "longTerm", "Long-term",
                "Hirdymor", "scored", 1, 1, Decimal("20.0"))]
    english = present.shared_values(uses, "en")
    welsh = present.shared_values(uses, "cy")
    assert [f.name for f in english] == ["Well-being goals", "Ways of working"]
    assert [f.name for f in welsh] == ["Nodau llesiant", "Ways of working"]
    assert [r.name for r in welsh[0].rows] == ["Cymru iachach", "Cymru gydnerth"]
    assert [(b.label, b.value) for b in english[0].chart.bars] == [
        ("A healthier Wales", Decimal("62.5"))]
    assert english[1].chart.empty and english[1].used
