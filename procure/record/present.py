"""What the open record's pages show, made from the frozen record.

Pure: the frozen content (plain JSON values), the reader's language and, for the live parts of
a record (its adoption check-ins, who reused it), plain rows in; frozen dataclasses out. No
request, no database, no clock. A record's page is built from its content alone, so it can
show nothing the content does not hold.

Times stay timezone-aware UTC (the templates show them in London time), calendar dates are
``date``, money is pence, scores and measured values are ``Decimal``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from procure.bakeoff import outcomes
from procure.bakeoff.chart import Chart, ChartRow, bake_off_chart, truncate

HUNDRED = Decimal(100)
ONE_PLACE = Decimal("0.1")
BANDS = 10


# --- reading the frozen values ----------------------------------------------------------------

def pick(english: str | None, welsh: str | None, lang: str) -> str:
    """The Welsh text for a Welsh reader when there is one, otherwise the English."""
    return (welsh or "") if lang == "cy" and welsh else (english or "")


def instant(text: str | None) -> datetime | None:
    """A frozen RFC 3339 time; None for none (or for text that is not one)."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None


def day(text: str | None) -> date | None:
    """A frozen calendar date ("2027-06-01"); None for none."""
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        return None


def number(text: Any) -> Decimal | None:
    """A frozen decimal ("72.50"); None for none."""
    if text is None or text == "":
        return None
    try:
        value = Decimal(str(text))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _percent(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(ONE_PLACE, rounding=ROUND_HALF_UP)


# --- a record ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Criterion:
    id: int                  # the phase criterion's id (what scores are keyed by)
    criterion_id: int        # the shared value criterion's id
    name: str
    framework: str           # the framework's code
    framework_version: int | None
    kind: str                # "scored" | "gate"
    weight: int | None

    @property
    def is_gate(self) -> bool:
        return self.kind == "gate"


@dataclass(frozen=True)
class Result:
    """One entrant's verified result for one outcome measure."""

    organisation: str
    verified: Decimal | None      # None: not reported, or not verified
    achievement: Decimal | None   # 0…100 %, to one place


@dataclass(frozen=True)
class Measure:
    id: int
    name: str
    unit: str
    direction: str
    baseline: Decimal | None
    target: Decimal | None
    weight: int | None
    evidences: str                # the criterion's name, in the reader's language
    results: tuple[Result, ...]


@dataclass(frozen=True)
class Entry:
    """A named supplier's result in a phase: its rank, total and final score per criterion."""

    organisation: str
    rank: int | None
    tied: bool
    total: Decimal | None
    eligible: bool
    finals: tuple[Decimal | None, ...]   # in the order of the phase's scored criteria
    assessed: Decimal | None             # bake-off: the assessed total
    outcome: Decimal | None              # bake-off: the outcome score
    selected: bool
    summary: str


@dataclass(frozen=True)
class Band:
    low: int
    high: int          # exclusive, except the last band's 100
    count: int
    last: bool


@dataclass(frozen=True)
class CriterionStatistics:
    name: str
    mean: Decimal | None
    low: Decimal | None
    high: Decimal | None


@dataclass(frozen=True)
class Statistics:
    received: int
    eligible: int
    above_threshold: int
    total_min: Decimal | None
    total_median: Decimal | None
    total_max: Decimal | None
    bands: tuple[Band, ...]
    criteria: tuple[CriterionStatistics, ...]


@dataclass(frozen=True)
class Decision:
    kind: str                 # "shortlist" | "award"
    released_at: datetime | None
    reason: str
    departs: bool
    selected: int


@dataclass(frozen=True)
class Contract:
    organisation: str
    value_pence: int | None
    starts_on: date | None
    ends_on: date | None


@dataclass(frozen=True)
class Phase:
    position: int
    kind: str
    invitation_only: bool
    opens_at: datetime | None
    closes_at: datetime | None
    planned_contracts: int | None
    max_value_pence: int | None
    duration_months: int | None
    threshold_percent: int | None
    outcome_share_percent: int | None
    criteria: tuple[Criterion, ...]
    measures: tuple[Measure, ...]
    received: int
    statistics: Statistics | None
    distribution: tuple[Decimal, ...]
    decision: Decision | None
    entries: tuple[Entry, ...]
    contracts: tuple[Contract, ...]          # the award's contracts
    entrant_contracts: tuple[Contract, ...]  # a bake-off's contracts with its entrants
    chart: Chart | None                      # a bake-off's results chart

    @property
    def scored(self) -> tuple[Criterion, ...]:
        return tuple(c for c in self.criteria if not c.is_gate)

    @property
    def gates(self) -> tuple[Criterion, ...]:
        return tuple(c for c in self.criteria if c.is_gate)

    @property
    def selected(self) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if e.selected)

    @property
    def is_award(self) -> bool:
        return self.decision is not None and self.decision.kind == "award"

    @property
    def budget_pence(self) -> int | None:
        """What the phase planned to spend at most: its contracts × their maximum value."""
        if not self.planned_contracts or self.max_value_pence is None:
            return None
        return self.planned_contracts * self.max_value_pence

    @property
    def has_results(self) -> bool:
        return any(r.verified is not None for m in self.measures for r in m.results)


@dataclass(frozen=True)
class Funder:
    name: str
    role: str            # "lead" | "partner"
    pledge_pence: int


@dataclass(frozen=True)
class Clarification:
    question: str
    answer: str
    published_at: datetime | None


@dataclass(frozen=True)
class Amendment:
    version: int
    note: str
    created_at: datetime | None


@dataclass(frozen=True)
class Asset:
    title: str
    url: str
    licence: str
    licence_name: str
    licence_url: str
    description: str


@dataclass(frozen=True)
class SupplierSummary:
    organisation: str
    phase: int
    text: str


@dataclass(frozen=True)
class Record:
    challenge_id: int
    title: str
    summary: str
    problem_statement: str
    context: str
    affected: str
    outcomes_sought: str
    tags: tuple[str, ...]
    outcome: str                 # "awarded" | "no_award" | "cancelled"
    opened_at: datetime | None
    concluded_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str
    derived_from: tuple[int, str] | None   # (challenge id, title)
    lead: str
    funders: tuple[Funder, ...]
    budget_pence: int
    phases: tuple[Phase, ...]
    clarifications: tuple[Clarification, ...]
    amendments: tuple[Amendment, ...]
    lessons_worked: str
    lessons_not_worked: str
    assets: tuple[Asset, ...]
    licence: str
    published_at: datetime | None

    @property
    def award_phase(self) -> Phase | None:
        """The phase whose released decision was the award (the last one)."""
        return next((p for p in reversed(self.phases) if p.is_award), None)

    @property
    def winners(self) -> tuple[Contract, ...]:
        phase = self.award_phase
        return phase.contracts if phase is not None else ()

    @property
    def awarded_pence(self) -> int:
        return sum(c.value_pence or 0 for c in self.winners)

    @property
    def no_award_reason(self) -> str:
        """Why nothing was awarded, when the award decision selected nobody."""
        phase = self.award_phase
        if self.outcome != "no_award" or phase is None or phase.decision is None:
            return ""
        return phase.decision.reason

    @property
    def partners(self) -> tuple[Funder, ...]:
        return tuple(f for f in self.funders if f.role != "lead")

    @property
    def summaries(self) -> tuple[SupplierSummary, ...]:
        """The public summaries the named suppliers agreed to publish, phase by phase."""
        return tuple(SupplierSummary(e.organisation, p.position, e.summary)
                     for p in self.phases for e in p.entries if e.summary.strip())


def _criteria(phase: Mapping[str, Any], lang: str) -> tuple[Criterion, ...]:
    return tuple(Criterion(id=c["id"], criterion_id=c["criterion_id"],
                           name=pick(c.get("name_en"), c.get("name_cy"), lang),
                           framework=c.get("framework", ""),
                           framework_version=c.get("framework_version"),
                           kind=c.get("kind", "scored"), weight=c.get("weight"))
                 for c in phase.get("criteria", ()))


def _achievement(measure: Mapping[str, Any], verified: Decimal | None) -> Decimal | None:
    baseline, target = number(measure.get("baseline")), number(measure.get("target"))
    if verified is None or baseline is None or target is None or baseline == target:
        return None
    value = outcomes.achievement(
        outcomes.Measure(id=measure["id"], direction=measure.get("direction", "higher"),
                         baseline=baseline, target=target, weight=measure.get("weight") or 0),
        verified)
    return _percent(value * HUNDRED) if value is not None else None


def _measures(phase: Mapping[str, Any], criteria: Sequence[Criterion]) -> tuple[Measure, ...]:
    names = {c.criterion_id: c.name for c in criteria}
    verified: dict[tuple[int, int], Decimal | None] = {}
    entrants = phase.get("entrants", ())
    for index, entrant in enumerate(entrants):
        for r in entrant.get("results", ()):
            counted = r.get("status") != "reported"
            verified[(index, r["measure_id"])] = number(r.get("verified")) if counted else None
    found = []
    for m in phase.get("measures", ()):
        results = tuple(
            Result(organisation=e.get("organisation", ""),
                   verified=(value := verified.get((i, m["id"]))),
                   achievement=_achievement(m, value))
            for i, e in enumerate(entrants))
        found.append(Measure(id=m["id"], name=m.get("name", ""), unit=m.get("unit", ""),
                             direction=m.get("direction", "higher"),
                             baseline=number(m.get("baseline")), target=number(m.get("target")),
                             weight=m.get("weight"),
                             evidences=names.get(m.get("criterion_id"), m.get("code", "")),
                             results=results))
    return tuple(found)


def _entries(phase: Mapping[str, Any], scored: Sequence[Criterion]) -> tuple[Entry, ...]:
    return tuple(
        Entry(organisation=r.get("organisation", ""), rank=r.get("rank"),
              tied=bool(r.get("tied")), total=number(r.get("total")),
              eligible=bool(r.get("eligible")),
              finals=tuple(number((r.get("finals") or {}).get(str(c.id))) for c in scored),
              assessed=number(r.get("assessed")), outcome=number(r.get("outcome")),
              selected=bool(r.get("selected")), summary=r.get("summary") or "")
        for r in phase.get("ranked", ()))


def _bands(counts: Sequence[int]) -> tuple[Band, ...]:
    width = 100 // BANDS
    return tuple(Band(low=i * width, high=100 if i == BANDS - 1 else (i + 1) * width,
                      count=int(n), last=i == BANDS - 1)
                 for i, n in enumerate(list(counts)[:BANDS]))


def _statistics(raw: Mapping[str, Any] | None,
                scored: Sequence[Criterion]) -> Statistics | None:
    if not raw:
        return None
    per = raw.get("criteria") or {}
    return Statistics(
        received=int(raw.get("received") or 0), eligible=int(raw.get("eligible") or 0),
        above_threshold=int(raw.get("above_threshold") or 0),
        total_min=number(raw.get("total_min")), total_median=number(raw.get("total_median")),
        total_max=number(raw.get("total_max")), bands=_bands(raw.get("total_bands") or ()),
        criteria=tuple(CriterionStatistics(name=c.name, mean=number(s.get("mean")),
                                           low=number(s.get("min")), high=number(s.get("max")))
                       for c in scored if (s := per.get(str(c.id))) is not None))


def _decision(raw: Mapping[str, Any] | None) -> Decision | None:
    if not raw:
        return None
    return Decision(kind=raw.get("kind", ""), released_at=instant(raw.get("released_at")),
                    reason=raw.get("reason") or "", departs=bool(raw.get("departs")),
                    selected=int(raw.get("selected") or 0))


def chart_rows(phase: Mapping[str, Any]) -> list[ChartRow]:
    """The bake-off chart's rows: each named entrant whose assessed total, outcome score and
    final score the record holds, in rank order; a winner of the award highlighted."""
    award = (phase.get("decision") or {}).get("kind") == "award"
    rows = []
    for r in phase.get("ranked", ()):
        assessed, outcome, final = (number(r.get("assessed")), number(r.get("outcome")),
                                    number(r.get("total")))
        if assessed is None or outcome is None or final is None:
            continue
        rows.append(ChartRow(label=r.get("organisation", ""), assessed=assessed, outcome=outcome,
                             final=final, highlight=award and bool(r.get("selected"))))
    return rows


def _chart(phase: Mapping[str, Any]) -> Chart | None:
    if phase.get("kind") != "bake_off":
        return None
    rows = chart_rows(phase)
    if not rows:
        return None
    share = phase.get("outcome_share_percent")
    return bake_off_chart(rows, outcome_share=Decimal(share) if share is not None else None)


def _phase(raw: Mapping[str, Any], lang: str) -> Phase:
    criteria = _criteria(raw, lang)
    scored = tuple(c for c in criteria if not c.is_gate)
    return Phase(
        position=raw.get("position", 0), kind=raw.get("kind", ""),
        invitation_only=bool(raw.get("invitation_only")),
        opens_at=instant(raw.get("opens_at")), closes_at=instant(raw.get("closes_at")),
        planned_contracts=raw.get("planned_contracts"), max_value_pence=raw.get("max_value_pence"),
        duration_months=raw.get("duration_months"), threshold_percent=raw.get("threshold_percent"),
        outcome_share_percent=raw.get("outcome_share_percent"),
        criteria=criteria, measures=_measures(raw, criteria),
        received=int(raw.get("proposals_received") or 0),
        statistics=_statistics(raw.get("statistics"), scored),
        distribution=tuple(v for t in raw.get("distribution", ()) if (v := number(t)) is not None),
        decision=_decision(raw.get("decision")), entries=_entries(raw, scored),
        contracts=tuple(Contract(c.get("organisation", ""), c.get("value_pence"),
                                 day(c.get("starts_on")), day(c.get("ends_on")))
                        for c in raw.get("contracts", ())),
        entrant_contracts=tuple(Contract(e.get("organisation", ""), e.get("contract_value_pence"),
                                         day(e.get("starts_on")), day(e.get("ends_on")))
                                for e in raw.get("entrants", ())),
        chart=_chart(raw))


def record(content: Mapping[str, Any], lang: str) -> Record:
    """The record's page, in ``lang`` ("en" or "cy"), from its frozen ``content``."""
    c = content["challenge"]
    derived = c.get("derived_from")
    lessons = content.get("lessons") or {}
    return Record(
        challenge_id=c["id"], title=pick(c.get("title"), c.get("title_cy"), lang),
        summary=pick(c.get("summary"), c.get("summary_cy"), lang),
        problem_statement=c.get("problem_statement") or "", context=c.get("context") or "",
        affected=c.get("affected") or "", outcomes_sought=c.get("outcomes_sought") or "",
        tags=tuple(c.get("tags") or ()), outcome=content.get("outcome", ""),
        opened_at=instant(c.get("opened_at")), concluded_at=instant(c.get("concluded_at")),
        cancelled_at=instant(c.get("cancelled_at")), cancel_reason=c.get("cancel_reason") or "",
        derived_from=(derived["challenge_id"], derived.get("title", "")) if derived else None,
        lead=(content.get("lead") or {}).get("name", ""),
        funders=tuple(Funder(f.get("name", ""), f.get("role", ""), f.get("pledge_pence") or 0)
                      for f in content.get("funders", ())),
        budget_pence=content.get("budget_pence") or 0,
        phases=tuple(_phase(p, lang) for p in content.get("phases", ())),
        clarifications=tuple(Clarification(q.get("question", ""), q.get("answer", ""),
                                           instant(q.get("published_at")))
                             for q in content.get("clarifications", ())),
        amendments=tuple(Amendment(a.get("version", 0), a.get("note", ""),
                                   instant(a.get("created_at")))
                         for a in content.get("amendments", ())),
        lessons_worked=lessons.get("worked") or "", lessons_not_worked=lessons.get("not_worked") or "",
        assets=tuple(Asset(a.get("title", ""), a.get("url", ""), a.get("licence", ""),
                           a.get("licence_name", ""), a.get("licence_url", ""),
                           a.get("description", "")) for a in content.get("assets", ())),
        licence=content.get("licence", ""), published_at=instant(content.get("published_at")))


# --- the live parts: adoption check-ins and reuses -----------------------------------------------

@dataclass(frozen=True)
class CheckInValue:
    name: str
    unit: str
    value: Decimal


@dataclass(frozen=True)
class CheckIn:
    months: int
    recorded_at: datetime | None
    in_use: bool | None
    used_by: str
    values: tuple[CheckInValue, ...]


def check_ins(rows: Iterable[Any], content: Mapping[str, Any]) -> tuple[CheckIn, ...]:
    """The recorded adoption check-ins (rows with ``months``, ``recorded_at``, ``in_use``,
    ``used_by`` and ``measure_values``), earliest first, each latest value named by the
    record's own outcome measure. A value for a measure the record does not hold is left out,
    and so are the editors' private notes."""
    measures = {str(m["id"]): m for p in content.get("phases", ()) for m in p.get("measures", ())}
    found = []
    for row in sorted((r for r in rows if r.recorded_at is not None), key=lambda r: r.months):
        values = []
        for key, m in measures.items():
            value = number((row.measure_values or {}).get(key))
            if value is not None:
                values.append(CheckInValue(m.get("name", ""), m.get("unit", ""), value))
        found.append(CheckIn(months=row.months, recorded_at=row.recorded_at, in_use=row.in_use,
                             used_by=(row.used_by or "") if row.in_use else "",
                             values=tuple(values)))
    return tuple(found)


@dataclass(frozen=True)
class Reuse:
    challenge_id: int
    authority: str


def reuses(rows: Iterable[tuple[int, str]]) -> tuple[Reuse, ...]:
    return tuple(Reuse(challenge_id, authority) for challenge_id, authority in rows)


# --- the shared-values view ---------------------------------------------------------------------

VALUE_LABEL_SHARE = 0.4
VALUE_BAR_HEIGHT = 20
VALUE_BAR_GAP = 12
VALUE_TOP = 8
VALUE_AXIS = 28
VALUE_ROOM = 56
VALUE_LABEL_LIMIT = 34
TICKS = (0, 25, 50, 75, 100)


def _r(value: float) -> float:
    return round(value, 2)


@dataclass(frozen=True)
class ValueBar:
    label: str          # the criterion's full name
    value: Decimal      # 0…100, as given (drawn clamped)
    y: float
    width: float
    height: float
    x: float

    @property
    def display_label(self) -> str:
        return truncate(self.label, VALUE_LABEL_LIMIT)

    @property
    def text(self) -> str:
        return f"{self.value.quantize(ONE_PLACE, rounding=ROUND_HALF_UP)}%"

    @property
    def number(self) -> str:
        return str(self.value.quantize(ONE_PLACE, rounding=ROUND_HALF_UP))

    @property
    def text_x(self) -> float:
        return _r(self.x + self.width + 6)

    @property
    def text_y(self) -> float:
        return _r(self.y + self.height - 5)


@dataclass(frozen=True)
class ValuesChart:
    """A horizontal bar chart of each criterion's average verified achievement, 0 to 100 %."""

    width: int
    height: float
    label_width: float
    plot_x: float
    plot_width: float
    plot_top: float
    plot_bottom: float
    axis_y: float
    bars: tuple[ValueBar, ...]
    ticks: tuple[tuple[float, str], ...]

    @property
    def empty(self) -> bool:
        return not self.bars


def values_chart(rows: Sequence[tuple[str, Decimal]], *, width: int = 640) -> ValuesChart:
    """The chart's geometry for (criterion name, average achievement %) ``rows``, in order."""
    label_width = float(round(width * VALUE_LABEL_SHARE))
    plot_x = label_width + 12
    plot_width = float(width - plot_x - VALUE_ROOM)
    pitch = VALUE_BAR_HEIGHT + VALUE_BAR_GAP
    plot_bottom = VALUE_TOP + pitch * len(rows)
    bars = []
    for index, (label, value) in enumerate(rows):
        value = Decimal(value)
        drawn = min(HUNDRED, max(Decimal(0), value))
        bars.append(ValueBar(label=label, value=value,
                             y=_r(VALUE_TOP + VALUE_BAR_GAP / 2 + pitch * index),
                             width=_r(plot_width * float(drawn) / 100), height=VALUE_BAR_HEIGHT,
                             x=plot_x))
    return ValuesChart(width=width, height=float(plot_bottom + VALUE_AXIS) if rows else 0.0,
                       label_width=label_width, plot_x=plot_x, plot_width=plot_width,
                       plot_top=float(VALUE_TOP), plot_bottom=float(plot_bottom),
                       axis_y=float(plot_bottom + 18), bars=tuple(bars),
                       ticks=tuple((_r(plot_x + plot_width * t / 100), f"{t}%") for t in TICKS))


@dataclass(frozen=True)
class ValueRow:
    key: str
    name: str
    kind: str
    records: int
    phases: int
    average_weight: Decimal | None
    measurements: int
    average_achievement: Decimal | None

    @property
    def is_gate(self) -> bool:
        return self.kind == "gate"


@dataclass(frozen=True)
class FrameworkValues:
    code: str
    name: str
    rows: tuple[ValueRow, ...]
    chart: ValuesChart

    @property
    def used(self) -> bool:
        return any(r.records for r in self.rows)


def shared_values(uses: Iterable[Any], lang: str) -> tuple[FrameworkValues, ...]:
    """The shared-values view: one table (and chart) per framework, in the order given, from
    ``queries.shared_values``'s criterion uses."""
    groups: dict[str, tuple[str, list[ValueRow]]] = {}
    for u in uses:
        name = pick(u.framework_en, u.framework_cy, lang)
        _, rows = groups.setdefault(u.framework_code, (name, []))
        rows.append(ValueRow(key=u.key, name=pick(u.name_en, u.name_cy, lang), kind=u.kind,
                             records=u.records, phases=u.phases,
                             average_weight=u.average_weight, measurements=u.measurements,
                             average_achievement=u.average_achievement))
    return tuple(
        FrameworkValues(code=code, name=name, rows=tuple(rows),
                        chart=values_chart([(r.name, r.average_achievement) for r in rows
                                            if r.average_achievement is not None]))
        for code, (name, rows) in groups.items())
