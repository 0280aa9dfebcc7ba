"""Synthetic published challenges in bulk, for load tests and benchmarks of the open record:
``flask --app wsgi demo generate --challenges N``.

Each challenge is written as the publication job would have left it — the challenge, its
funders, tags, phases, criteria weights and outcome measures, and its published record with
the frozen ``content`` in exactly the shape ``procure.record.compose`` gives it, the rows the
catalogue filters and the shared-values view read, and the search text — but with bulk
SQLAlchemy Core inserts (a few thousand challenges per transaction) instead of the services,
so that 100,000 take minutes rather than days.

The assessment itself is simulated with the pure rules (``assessment.scoring`` ranks, selects
and counts; ``bakeoff.outcomes`` scores the verified results), so totals, ranks, statistics
and the outcome of every record agree with each other. Proposals, assessors, decisions and
contracts are not written as rows: the record's content carries their public part, and the
ids it gives them are derived from the phase's id.

Every choice comes from a ``random.Random(seed)``: the same seed gives the same challenges.
The database assigns every id (``INSERT … RETURNING``), so generating again adds more without
clashing; organisations and the one user the challenges are created by are reused.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import Table, insert, select, text
from sqlalchemy.orm import Session

from procure.accounts.models import Organisation, User
from procure.assessment import scoring
from procure.bakeoff import outcomes
from procure.challenges.models import (
    Challenge,
    ChallengeFunder,
    ChallengeTag,
    OutcomeMeasure,
    Phase,
    PhaseCriterion,
)
from procure.record import compose, rules, search
from procure.record.models import ChallengeRecord, RecordAsset, RecordCriterion, RecordResult
from procure.values.services import current_frameworks

BATCH = 2_000
DAY = timedelta(days=1)
FIRST_YEAR, LAST_YEAR = 2021, 2026
GENERATOR_EMAIL = "generated-records@procure.example"

# --- word lists ---------------------------------------------------------------------------------

TITLES = [
    ("Fewer missed bin collections", "Llai o gasgliadau biniau a gollir"),
    ("Warmer council homes", "Cartrefi cyngor cynhesach"),
    ("Safer walking routes to school", "Llwybrau cerdded mwy diogel i'r ysgol"),
    ("Faster repairs to council homes", "Atgyweirio cartrefi cyngor yn gyflymach"),
    ("Fewer falls at home", "Llai o gwympiadau gartref"),
    ("Cleaner air near schools", "Aer glanach ger ysgolion"),
    ("Less food waste", "Llai o wastraff bwyd"),
    ("Reliable buses", "Bysiau dibynadwy"),
    ("Earlier help for carers", "Help cynharach i ofalwyr"),
    ("Quicker hospital discharge", "Gadael yr ysbyty yn gynt"),
    ("Fewer empty homes", "Llai o gartrefi gwag"),
    ("Flood warnings that reach everyone", "Rhybuddion llifogydd sy'n cyrraedd pawb"),
    ("Lower energy bills", "Biliau ynni is"),
    ("Fewer potholes", "Llai o dyllau yn y ffyrdd"),
    ("Busier libraries", "Llyfrgelloedd prysurach"),
    ("Less loneliness", "Llai o unigrwydd"),
    ("Cleaner rivers", "Afonydd glanach"),
    ("Safer streets at night", "Strydoedd mwy diogel gyda'r nos"),
    ("Better school meals", "Prydau ysgol gwell"),
    ("Fewer missed appointments", "Llai o apwyntiadau a gollir"),
    ("More people recycling", "Mwy o bobl yn ailgylchu"),
    ("Faster planning decisions", "Penderfyniadau cynllunio cyflymach"),
    ("Greener council vehicles", "Cerbydau cyngor gwyrddach"),
    ("Healthier journeys to work", "Teithiau iachach i'r gwaith"),
]
QUALIFIERS = [
    ("in rural villages", "mewn pentrefi gwledig"),
    ("in market towns", "mewn trefi marchnad"),
    ("on housing estates", "ar ystadau tai"),
    ("in the valleys", "yn y cymoedd"),
    ("along the coast", "ar hyd yr arfordir"),
    ("in town centres", "yng nghanol trefi"),
    ("for older people", "i bobl hŷn"),
    ("for young carers", "i ofalwyr ifanc"),
    ("for disabled people", "i bobl anabl"),
    ("for families on low incomes", "i deuluoedd ar incwm isel"),
    ("", ""),
]
SUMMARIES = [
    ("Find out what works, try it for real and measure the difference.",
     "Canfod beth sy'n gweithio, rhoi cynnig arno go iawn a mesur y gwahaniaeth."),
    ("Test new ideas with residents before we buy anything at scale.",
     "Profi syniadau newydd gyda thrigolion cyn i ni brynu dim ar raddfa fawr."),
    ("Help our staff and residents solve a problem that has lasted for years.",
     "Helpu ein staff a'n trigolion i ddatrys problem sydd wedi para ers blynyddoedd."),
    ("Try two or three solutions side by side and keep the one that works.",
     "Rhoi cynnig ar ddau neu dri ateb ochr yn ochr a chadw'r un sy'n gweithio."),
    ("Spend less and get better results, measured against a clear baseline.",
     "Gwario llai a chael canlyniadau gwell, wedi'u mesur yn erbyn llinell sylfaen glir."),
    ("Work with suppliers to design a service people will keep using.",
     "Gweithio gyda chyflenwyr i gynllunio gwasanaeth y bydd pobl yn dal i'w ddefnyddio."),
]
PROBLEM_SENTENCES = [
    "Residents tell us the current service does not meet their needs.",
    "The cost has risen every year for five years.",
    "Staff spend hours on work that could be done once.",
    "The people most affected are the least likely to complain.",
    "Data we already hold could show problems earlier.",
    "What works in cities rarely works in rural areas.",
    "Any solution must work in Welsh and English.",
    "We want to prevent problems rather than respond to them.",
    "Several authorities face the same problem and could share the answer.",
    "Winter makes the problem much worse.",
    "Previous attempts failed because people stopped using them.",
    "We need evidence before we commit to a long contract.",
]
# One challenge in a hundred mentions one of these: what a search for a rare word finds.
RARE_WORDS = ["otters", "lighthouse", "sheepdogs", "quarrymen", "heathland", "ferries",
              "orchards", "beekeepers", "harbourmaster", "slateworks"]
CONTEXTS = [
    "About {n:,} households are affected.", "The service costs about £{n:,} a year.",
    "{n:,} people used the service last year.", "Complaints have doubled since {y}.",
]
AFFECTED = ["Residents and the staff who serve them.", "Older people and their carers.",
            "Tenants, especially families with young children.",
            "People on low incomes.", "Pupils, parents and school staff.",
            "Disabled people and the services that support them."]
OUTCOMES_SOUGHT = ["Fewer complaints and lower costs.", "People helped sooner.",
                   "A service residents keep using.", "Less carbon, at no extra cost.",
                   "Problems found before they become emergencies."]
TAGS = ["housing", "health and care", "transport", "waste", "energy", "data", "schools",
        "older people", "flooding", "rural", "climate", "social care", "libraries", "roads",
        "air quality", "recycling", "community safety", "planning", "welsh language",
        "young people", "telecare", "active travel", "food", "water", "digital inclusion",
        "employment", "tourism", "leisure", "parks", "public health"]
MEASURES = [
    ("People helped", "people a month", "higher", 20, 100),
    ("Cost per case", "pounds", "lower", 400, 250),
    ("Complaints", "per 1,000 residents", "lower", 12, 6),
    ("Time to respond", "hours", "lower", 48, 12),
    ("People still using it after three months", "% of people who started", "higher", 40, 80),
    ("Carbon saved", "tonnes CO2e a year", "higher", 0, 50),
    ("Missed visits", "per 1,000 visits", "lower", 25, 5),
    ("Homes improved", "homes", "higher", 10, 60),
]
WORKED = ["Testing with residents early showed what they would really use.",
          "Running the prototypes side by side made the choice clear.",
          "Agreeing the data sharing before the challenge opened saved months.",
          "Small contracts let suppliers new to the public sector take part.",
          "Measuring against a baseline we trusted settled every argument."]
NOT_WORKED = ["The first phase was too short to see results.",
              "Suppliers found the criteria hard to understand at first.",
              "Reported results needed checking against our own records.",
              "Too few suppliers heard about the challenge in time.",
              "We underestimated how long the contracts would take to agree."]
SHORTLIST_REASONS = ["The strongest proposals", "The best proposals above the threshold"]
AWARD_REASONS = ["The best results in the bake-off.", "The highest final score.",
                 "The best value for money, with results residents could see."]
NO_AWARD_REASONS = ["No proposal reached the quality threshold.",
                    "Neither prototype met the targets we set.",
                    "The results did not justify a contract at this price."]
CANCEL_REASONS = ["Another public body now provides this service.",
                  "The budget was withdrawn after the council's spending review.",
                  "The problem is being solved by a national programme."]
SUPPLIER_SUMMARIES = ["Sensors and a simple alert for the team.",
                      "A data model that finds the people most at risk first.",
                      "A service designed with residents and run by local staff.",
                      "An app in Welsh and English, tested with the people who use it."]
ASSETS = [("Evaluation report", "OGL-UK-3.0", "How the prototypes were measured."),
          ("Source code", "MIT", "The winning prototype's code."),
          ("Survey results", "CC-BY-4.0", "What residents told us, anonymised.")]

PLACES_A = ["Aber", "Llan", "Pen", "Caer", "Tre", "Bryn", "Cwm", "Nant", "Pont", "Rhos",
            "Maes", "Glyn"]
PLACES_B = ["ddu", "fawr", "wen", "goch", "isaf", "uchaf", "glas", "hir", "llyn", "afon"]
AUTHORITY_KINDS = ["County Council", "Town Council"]
SUPPLIER_A = ["Bright", "Green", "Open", "Clear", "Steady", "Quick", "North", "Red", "Blue",
              "Silver"]
SUPPLIER_B = ["Data", "Labs", "Works", "Systems", "Design", "Care", "Energy", "Transport",
              "Homes", "Health"]
SUPPLIER_C = ["Ltd", "Co-operative", "CIC"]


@dataclass
class Generated:
    """What a run made and how long it took."""

    challenges: int = 0
    phases: int = 0
    criteria: int = 0
    results: int = 0
    seconds: float = 0.0
    outcomes: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Criterion:
    id: int
    framework: str
    framework_version: int
    code: str
    kind: str
    name_en: str
    name_cy: str


@dataclass
class _Org:
    id: int
    name: str


# --- helpers ------------------------------------------------------------------------------------

def _when(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _number(value: Decimal | None) -> str | None:
    return None if value is None else format(Decimal(value).normalize(), "f")


def _text(value: Decimal | None) -> str | None:
    return str(value) if value is not None else None


def _weights(rng: random.Random, k: int) -> list[int]:
    """k weights, multiples of 5, at least 10 each, summing to 100."""
    weights = [10] * k
    for _ in range((100 - 10 * k) // 5):
        weights[rng.randrange(k)] += 5
    return weights


def _insert(session: Session, table: Table, rows: list[dict[str, Any]], *,
            ids: bool = False) -> list[int]:
    if not rows:
        return []
    conn = session.connection()
    if not ids:
        conn.execute(insert(table), rows)
        return []
    stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(conn.execute(stmt, rows).scalars())


def organisations(session: Session, now: datetime) -> tuple[list[_Org], list[_Org]]:
    """The generated authorities and suppliers, made the first time and reused after."""
    wanted: list[tuple[str, str]] = []
    for a in PLACES_A:
        for b in PLACES_B:
            for kind in AUTHORITY_KINDS:
                wanted.append((f"{a}{b} {kind}", "authority"))
    for a in PLACES_A[:6]:
        wanted.append((f"{a}{PLACES_B[0]} Health Board", "authority"))
    for a in SUPPLIER_A:
        for b in SUPPLIER_B:
            for c in SUPPLIER_C:
                wanted.append((f"{a} {b} {c}", "supplier"))
    keys = {" ".join(name.casefold().split()): (name, kind) for name, kind in wanted}
    existing = dict(session.execute(select(Organisation.name_key, Organisation.id)
                                    .where(Organisation.name_key.in_(list(keys)))).all())
    missing = [{"name": name, "name_key": key, "kind": kind, "created_at": now,
                "verified_at": now, "verified_by_id": None}
               for key, (name, kind) in keys.items() if key not in existing]
    for key, new_id in zip([r["name_key"] for r in missing],
                           _insert(session, Organisation.__table__, missing, ids=True),
                           strict=True):
        existing[key] = new_id
    authorities, suppliers = [], []
    for key, (name, kind) in keys.items():
        (authorities if kind == "authority" else suppliers).append(_Org(existing[key], name))
    return authorities, suppliers


def _creator(session: Session, now: datetime) -> int:
    found = session.execute(select(User.id).where(User.email == GENERATOR_EMAIL)).scalar()
    if found is not None:
        return found
    return _insert(session, User.__table__, [{
        "email": GENERATOR_EMAIL, "name": "Generated records", "password_hash": "!",
        "locale": "en", "is_admin": False, "is_disabled": True, "created_at": now,
        "email_confirmed_at": None, "notify_followed_tags": False}], ids=True)[0]


def criteria(session: Session) -> dict[str, list[_Criterion]]:
    """The criteria of the current shared frameworks, by framework code."""
    found: dict[str, list[_Criterion]] = {}
    for fw in current_frameworks(session):
        found[fw.code] = [_Criterion(c.id, fw.code, fw.version, c.code, c.kind, c.name_en,
                                     c.name_cy) for c in fw.criteria]
    return found


# --- one challenge, planned from plain values ---------------------------------------------------

@dataclass
class _PhasePlan:
    position: int
    kind: str
    status: str
    opens_at: datetime
    closes_at: datetime
    opened_at: datetime | None
    closed_at: datetime | None
    contracts: int
    max_value_pence: int
    months: int
    criteria: list[tuple[_Criterion, int | None]]
    measures: list[tuple]              # (name, unit, direction, baseline, target, index, weight)
    received: int
    # (organisation, quality, passes its gates, consents to publish its summary, summary)
    proposals: list[tuple[_Org, float, bool, bool, str]]
    finals: list[list[Decimal]]        # per proposal, per scored criterion in order
    verified: list[list[Decimal]]      # bake-off: per proposal, per measure
    corrected: list[list[bool]]
    decision: str | None               # "shortlist", "award" or None
    award: bool                        # an award decision selects someone
    reason: str
    recorded_at: datetime | None
    released_at: datetime | None
    contract_value: int = 0
    contract_years: int = 1
    id: int = 0
    criterion_ids: list[int] = field(default_factory=list)
    measure_ids: list[int] = field(default_factory=list)


@dataclass
class _Plan:
    challenge: dict[str, Any]
    lead: _Org
    partners: list[tuple[_Org, int]]
    lead_pledge: int
    tags: list[str]
    phases: list[_PhasePlan]
    outcome: str
    ended: datetime
    published_at: datetime
    worked: str
    not_worked: str
    assets: list[tuple[str, str, str, str]]
    id: int = 0


def _finals(rng: random.Random, quality: float, scored: int) -> list[Decimal]:
    # The mean of two assessors' whole scores: a half-point step, clamped to 0…4.
    return [Decimal(max(0, min(8, round((quality + rng.gauss(0, 0.6)) * 2)))) / 2
            for _ in range(scored)]


def _ended(rng: random.Random, now: datetime) -> datetime:
    latest = now - 45 * DAY
    years = [y for y in range(FIRST_YEAR, LAST_YEAR + 1)
             if datetime(y, 1, 1, tzinfo=UTC) < latest]
    year = rng.choice(years or [latest.year])
    start = datetime(year, 1, 1, tzinfo=UTC)
    end = min(datetime(year + 1, 1, 1, tzinfo=UTC) - timedelta(hours=1), latest)
    span = max(1, int((end - start).total_seconds() // 3600))
    return start + timedelta(hours=rng.randrange(span))


def _plan(rng: random.Random, n: int, *, authorities: list[_Org], suppliers: list[_Org],
          frameworks: dict[str, list[_Criterion]], creator: int, now: datetime) -> _Plan:
    roll = rng.random()
    outcome = "awarded" if roll < 0.6 else "no_award" if roll < 0.85 else "cancelled"
    two_phases = rng.random() < (0.6 if outcome != "cancelled" else 0.4)
    ended = _ended(rng, now)
    published_at = ended + timedelta(days=rng.randint(3, 40), hours=rng.randint(0, 8))

    (title_en, title_cy), (qual_en, qual_cy) = rng.choice(TITLES), rng.choice(QUALIFIERS)
    summary_en, summary_cy = rng.choice(SUMMARIES)
    welsh = rng.random() < 0.6
    title = f"{title_en} {qual_en}".strip()
    sentences = rng.sample(PROBLEM_SENTENCES, 3)
    if rng.random() < 0.01:
        sentences.append(f"The work includes the {rng.choice(RARE_WORDS)} of the area.")
    lead = rng.choice(authorities)
    partners = [(org, rng.randint(2, 20) * 500_000) for org in rng.sample(authorities, 2)
                if org.id != lead.id][:rng.choice([0, 0, 1, 2])]
    lead_pledge = rng.randint(4, 60) * 1_000_000

    # Criteria: one or two well-being goals, perhaps a way of working, some solution quality.
    goals = frameworks.get("wellbeing-goals", [])
    ways = frameworks.get("ways-of-working", [])
    quality = [c for c in frameworks.get("solution-quality", []) if c.kind == "scored"]
    gates = [c for fw in frameworks.values() for c in fw if c.kind == "gate"]
    chosen = (rng.sample(goals, min(len(goals), rng.randint(1, 2)))
              + rng.sample(ways, min(len(ways), rng.randint(0, 1)))
              + rng.sample(quality, min(len(quality), rng.randint(1, 2))))
    if not chosen:
        chosen = [c for fw in frameworks.values() for c in fw if c.kind == "scored"][:1]
    weights = _weights(rng, len(chosen))
    weighted = list(zip(chosen, weights, strict=True)) + [(g, None) for g in gates[:1]]

    # The timeline, backwards from the end.
    length1, length2 = rng.randint(28, 56), rng.randint(60, 120)
    if outcome == "cancelled":
        opens1 = ended - rng.randint(5, length1 - 1) * DAY
    else:
        opens1 = ended - (length1 + 12 + ((3 + length2 + 12) if two_phases else 0)) * DAY
    closes1 = opens1 + length1 * DAY
    phases: list[_PhasePlan] = []
    kinds = ["feasibility", "bake_off"] if two_phases else ["feasibility"]
    for position, kind in enumerate(kinds, start=1):
        first = position == 1
        opens = opens1 if first else closes1 + 15 * DAY
        closes = closes1 if first else opens + length2 * DAY
        contracts = (rng.randint(2, 3) if first and two_phases else rng.randint(1, 2))
        max_value = (rng.randint(3, 10) * 1_000_000 if first else rng.randint(10, 60) * 1_000_000)
        measures = []
        if kind == "bake_off":
            for (name, unit, direction, baseline, target), weight in zip(
                    rng.sample(MEASURES, 2), (60, 40), strict=True):
                measures.append((name, unit, direction, Decimal(baseline), Decimal(target),
                                 rng.randrange(len(chosen)), weight))
        if outcome == "cancelled":
            status = "cancelled"
            proposals_received = rng.randint(0, 6) if first else 0
            phases.append(_PhasePlan(
                position, kind, status, opens, closes, opens if first else None, None,
                contracts, max_value, rng.randint(2, 6), weighted, measures, proposals_received,
                [], [], [], [], None, False, "", None, None))
            continue
        if first:
            count = rng.randint(3, 12)
            pool = rng.sample(suppliers, count)
            # Two strong proposals at least, so that a shortlist has someone to take.
            qualities = [rng.uniform(2.8, 3.9), rng.uniform(2.6, 3.8)] + [
                rng.uniform(0.8, 3.6) for _ in range(count - 2)]
            entries = [(org, q, rng.random() > 0.05 or i < 2, rng.random() < 0.7,
                        rng.choice(SUPPLIER_SUMMARIES))
                       for i, (org, q) in enumerate(zip(pool, qualities, strict=True))]
        else:
            entries = []  # the entrants: the phase before's shortlist, filled in later
        last = position == len(kinds)
        award = outcome == "awarded" if last else True
        decision = "award" if last else "shortlist"
        reason = (rng.choice(AWARD_REASONS if award else NO_AWARD_REASONS) if last
                  else rng.choice(SHORTLIST_REASONS))
        recorded = closes + 10 * DAY
        released = ended if last else closes + 12 * DAY
        phases.append(_PhasePlan(
            position, kind, "decided", opens, closes, opens, closes, contracts, max_value,
            rng.randint(2, 6), weighted, measures, len(entries), entries,
            [_finals(rng, e[1], len(chosen)) for e in entries], [], [], decision, award,
            reason, recorded, released, contract_value=rng.randint(5, 40) * 1_000_000,
            contract_years=rng.randint(1, 3)))
    if two_phases and outcome != "cancelled":
        # The bake-off's random draws are made now, for the entrants the shortlist will name;
        # at most three are shortlisted, so draw for three.
        bake = phases[1]
        bake.finals = [_finals(rng, rng.uniform(1.5, 3.9), len(chosen)) for _ in range(3)]
        for _ in range(3):
            values, corrected = [], []
            for _name, _unit, _direction, baseline, target, _i, _w in bake.measures:
                u = Decimal(str(round(rng.uniform(-0.1, 1.2), 2)))
                values.append((baseline + (target - baseline) * u).quantize(Decimal("0.1")))
                corrected.append(rng.random() < 0.1)
            bake.verified.append(values)
            bake.corrected.append(corrected)

    context = rng.choice(CONTEXTS).format(n=rng.randint(2, 90) * 100, y=ended.year - 3)
    challenge = {
        "lead_organisation_id": lead.id, "created_by_id": creator,
        "status": "cancelled" if outcome == "cancelled" else "published",
        "title": title, "title_cy": f"{title_cy} {qual_cy}".strip() if welsh else "",
        "summary": summary_en, "summary_cy": summary_cy if welsh else "",
        "problem_statement": f"{title}.\n\n" + " ".join(sentences),
        "context": context, "affected": rng.choice(AFFECTED),
        "outcomes_sought": rng.choice(OUTCOMES_SOUGHT), "contact_name": "", "contact_email": "",
        "clarification_deadline": opens1 + 14 * DAY, "version": 1,
        "created_at": opens1 - 14 * DAY, "updated_at": published_at,
        "opened_at": opens1 - 7 * DAY,
        "in_progress_at": closes1 if outcome != "cancelled" else None,
        "concluded_at": ended if outcome != "cancelled" else None,
        "published_at": published_at,
        "cancelled_at": ended if outcome == "cancelled" else None,
        "cancel_reason": rng.choice(CANCEL_REASONS) if outcome == "cancelled" else "",
        "derived_from_id": None,
    }
    assets = [(f"{name}: {title}"[:200], f"https://example.org/records/{n}/{i}", licence, text)
              for i, (name, licence, text) in enumerate(rng.sample(ASSETS, rng.randint(0, 2)),
                                                        start=1)]
    return _Plan(challenge, lead, partners, lead_pledge, rng.sample(TAGS, rng.randint(2, 4)),
                 phases, outcome, ended, published_at, rng.choice(WORKED), rng.choice(NOT_WORKED),
                 assets)


# --- the frozen content, as compose builds it ---------------------------------------------------

def _statistics(s: scoring.Statistics) -> dict[str, Any]:
    # As assessment.services freezes it into the decision.
    return {
        "received": s.received, "eligible": s.eligible, "above_threshold": s.above_threshold,
        "total_bands": s.total_bands, "total_min": _text(s.total_min),
        "total_median": _text(s.total_median), "total_max": _text(s.total_max),
        "criteria": {str(k): {"mean": _text(v["mean"]), "min": _text(v["min"]),
                              "max": _text(v["max"]), "counts": v["counts"]}
                     for k, v in s.criteria.items()}}


def _phase_content(phase: _PhasePlan, named: set[int],
                   shortlisted: list[_Org]) -> tuple[dict[str, Any], list[_Org]]:
    """One phase of the record, and the suppliers its decision selected."""
    scored = [(pc_id, c, w) for pc_id, (c, w) in zip(phase.criterion_ids, phase.criteria,
                                                     strict=True) if c.kind == "scored"]
    gate_ids = [pc_id for pc_id, (c, _w) in zip(phase.criterion_ids, phase.criteria,
                                                strict=True) if c.kind == "gate"]
    content: dict[str, Any] = {
        "id": phase.id, "position": phase.position, "kind": phase.kind, "status": phase.status,
        "invitation_only": phase.position > 1,
        "opens_at": _when(phase.opens_at), "closes_at": _when(phase.closes_at),
        "opened_at": _when(phase.opened_at), "closed_at": _when(phase.closed_at),
        "planned_contracts": phase.contracts, "max_value_pence": phase.max_value_pence,
        "duration_months": phase.months, "threshold_percent": 60,
        "outcome_share_percent": 50 if phase.kind == "bake_off" else None,
        "criteria": [{"id": pc_id, "criterion_id": c.id, "framework": c.framework,
                      "framework_version": c.framework_version, "code": c.code, "kind": c.kind,
                      "name_en": c.name_en, "name_cy": c.name_cy, "weight": w}
                     for pc_id, (c, w) in zip(phase.criterion_ids, phase.criteria, strict=True)],
        "measures": [{"id": m_id, "name": name, "unit": unit, "direction": direction,
                      "baseline": _number(baseline), "target": _number(target),
                      "criterion_id": phase.criteria[i][0].id,
                      "framework": phase.criteria[i][0].framework,
                      "code": phase.criteria[i][0].code, "weight": weight}
                     for m_id, (name, unit, direction, baseline, target, i, weight)
                     in zip(phase.measure_ids, phase.measures, strict=True)],
        "proposals_received": phase.received, "statistics": None, "distribution": [],
        "decision": None, "ranked": [], "entrants": [], "contracts": []}
    if phase.decision is None:
        return content, []

    bake_off = phase.kind == "bake_off"
    if bake_off:
        entries = [(org, 0.0, True, True, SUPPLIER_SUMMARIES[k % len(SUPPLIER_SUMMARIES)])
                   for k, org in enumerate(shortlisted[:3])]
        content["proposals_received"] = phase.received = len(entries)
    else:
        entries = phase.proposals
    rated = ([scoring.Criterion(pc_id, "scored", w) for pc_id, _c, w in scored]
             + [scoring.Criterion(g, "gate") for g in gate_ids])
    measures = [outcomes.Measure(id=m_id, direction=m[2], baseline=m[3], target=m[4],
                                 weight=m[6]) for m_id, m in zip(phase.measure_ids,
                                                                 phase.measures, strict=True)]
    proposal_ids = [phase.id * 100 + k for k in range(1, len(entries) + 1)]
    results, by_id = [], {}
    for k, (pid, entry) in enumerate(zip(proposal_ids, entries, strict=True)):
        finals = {pc_id: phase.finals[k][j].quantize(scoring.TWO_PLACES)
                  for j, (pc_id, _c, _w) in enumerate(scored)}
        gates = {g: entry[2] for g in gate_ids}
        assessed = scoring.weighted_total(rated, finals)
        if bake_off:
            verified = dict(zip(phase.measure_ids, phase.verified[k], strict=True))
            outcome = outcomes.outcome_score(measures, verified)
            total = outcomes.final_score(assessed, outcome, 50)
            result = scoring.Result(pid, finals, gates, total, all(gates.values()),
                                    assessed=assessed, outcome=outcome)
        else:
            result = scoring.Result(pid, finals, gates, assessed, all(gates.values()))
        results.append(result)
        by_id[pid] = entry
    ranked = scoring.rank(results)
    default = scoring.default_selection(ranked, phase.contracts, 60).default
    # An award (or shortlist) the ranking leaves empty goes to the best eligible proposal,
    # with a reason, as an editor may decide; "no award" selects nobody.
    selected = ((default or [r.proposal_id for r in ranked if r.eligible][:1]) if phase.award
                else [])
    stats = scoring.statistics(rated, ranked, 60)
    content["statistics"] = _statistics(stats)
    content["distribution"] = sorted((str(r.total) for r in ranked), key=Decimal, reverse=True)
    content["decision"] = {
        "id": phase.id, "kind": phase.decision, "recorded_at": _when(phase.recorded_at),
        "released_at": _when(phase.released_at), "reason": phase.reason,
        "departs": sorted(selected) != sorted(default), "selected": len(selected)}
    chosen = [by_id[i][0] for i in selected]
    named.update(org.id for org in chosen)
    content["ranked"] = [{
        "proposal_id": r.proposal_id, "organisation_id": by_id[r.proposal_id][0].id,
        "organisation": by_id[r.proposal_id][0].name, "rank": r.rank, "tied": r.tied,
        "total": str(r.total), "eligible": r.eligible,
        "finals": {str(k): str(v) for k, v in r.finals.items()},
        "gates": {str(k): v for k, v in r.gates.items()},
        "assessed": _text(r.assessed), "outcome": _text(r.outcome),
        "selected": r.proposal_id in selected,
        "summary": by_id[r.proposal_id][4] if by_id[r.proposal_id][3] else ""}
        for r in ranked if by_id[r.proposal_id][0].id in named]
    if bake_off:
        verified_at = _when(phase.closes_at + 2 * DAY)
        content["entrants"] = [{
            "organisation_id": org.id, "organisation": org.name,
            "contract_value_pence": phase.max_value_pence // max(1, len(entries)),
            "starts_on": _when(phase.opens_at.date()), "ends_on": _when(phase.closes_at.date()),
            "invited_at": _when(phase.opens_at),
            "results": [{"measure_id": m_id, "verified": _number(value),
                         "status": "corrected" if corrected else "accepted",
                         "verified_at": verified_at}
                        for m_id, value, corrected in zip(phase.measure_ids, phase.verified[k],
                                                          phase.corrected[k], strict=True)]}
            for k, (org, *_rest) in enumerate(entries)]
    if phase.decision == "award":
        starts = (phase.released_at + 14 * DAY).date()
        content["contracts"] = [{
            "id": phase.id * 10 + k, "proposal_id": pid, "organisation_id": by_id[pid][0].id,
            "organisation": by_id[pid][0].name, "value_pence": phase.contract_value,
            "starts_on": _when(starts),
            "ends_on": _when(starts + relativedelta(years=phase.contract_years, days=-1)),
            "recorded_at": _when(phase.recorded_at)} for k, pid in enumerate(selected, start=1)]
    return content, chosen


def content_of(plan: _Plan) -> dict[str, Any]:
    """The record's frozen content, with the ids the database gave the rows."""
    c = plan.challenge
    funders = [{"organisation_id": plan.lead.id, "name": plan.lead.name, "role": "lead",
                "pledge_pence": plan.lead_pledge}] + [
        {"organisation_id": org.id, "name": org.name, "role": "partner", "pledge_pence": pledge}
        for org, pledge in plan.partners]
    named: set[int] = set()
    phases, shortlisted = [], []
    for phase in plan.phases:
        content, chosen = _phase_content(phase, named, shortlisted)
        phases.append(content)
        if phase.decision == "shortlist":
            shortlisted = chosen
    return {
        "schema": compose.SCHEMA_VERSION,
        "challenge": {
            "id": plan.id, "title": c["title"], "title_cy": c["title_cy"],
            "summary": c["summary"], "summary_cy": c["summary_cy"],
            "problem_statement": c["problem_statement"], "context": c["context"],
            "affected": c["affected"], "outcomes_sought": c["outcomes_sought"],
            "tags": sorted(plan.tags),
            "status": "cancelled" if plan.outcome == "cancelled" else "concluded",
            "version": 1, "created_at": _when(c["created_at"]), "opened_at": _when(c["opened_at"]),
            "in_progress_at": _when(c["in_progress_at"]),
            "concluded_at": _when(c["concluded_at"]), "cancelled_at": _when(c["cancelled_at"]),
            "cancel_reason": c["cancel_reason"], "derived_from": None},
        "outcome": plan.outcome,
        "lead": {"organisation_id": plan.lead.id, "name": plan.lead.name},
        "funders": funders,
        "budget_pence": sum(f["pledge_pence"] for f in funders),
        "phases": phases,
        "clarifications": [],
        "amendments": [],
        "lessons": {"worked": plan.worked, "not_worked": plan.not_worked},
        "assets": [{"title": title, "url": url, "licence": licence,
                    "licence_name": rules.LICENCES[licence][0],
                    "licence_url": rules.LICENCES[licence][1], "description": description}
                   for title, url, licence, description in plan.assets],
        "licence": compose.OGL,
        "published_at": _when(plan.published_at),
    }


def _sha256(content: dict[str, Any]) -> str:
    # The same canonical form as the publication job's.
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# --- writing a batch ----------------------------------------------------------------------------

def _write(session: Session, plans: list[_Plan], creator: int, made: Generated) -> None:
    """Insert one batch of planned challenges and their records, in one transaction."""
    ids = _insert(session, Challenge.__table__, [p.challenge for p in plans], ids=True)
    for plan, challenge_id in zip(plans, ids, strict=True):
        plan.id = challenge_id
    _insert(session, ChallengeFunder.__table__, [
        {"challenge_id": p.id, "organisation_id": org.id, "role": role, "status": "accepted",
         "pledge_pence": pledge, "message": "", "created_at": p.challenge["created_at"],
         "decided_at": p.challenge["created_at"]}
        for p in plans for org, role, pledge in [(p.lead, "lead", p.lead_pledge)]
        + [(o, "partner", pl) for o, pl in p.partners]])
    _insert(session, ChallengeTag.__table__, [{"challenge_id": p.id, "tag": t}
                                              for p in plans for t in p.tags])
    phases = [(p, ph) for p in plans for ph in p.phases]
    phase_ids = _insert(session, Phase.__table__, [
        {"challenge_id": p.id, "position": ph.position, "kind": ph.kind, "status": ph.status,
         "opens_at": ph.opens_at, "closes_at": ph.closes_at, "contracts": ph.contracts,
         "max_value_pence": ph.max_value_pence, "duration_months": ph.months,
         "min_assessments": 2, "threshold_percent": 60, "outcome_share_percent": 50,
         "opened_at": ph.opened_at, "closed_at": ph.closed_at} for p, ph in phases], ids=True)
    for (_p, ph), phase_id in zip(phases, phase_ids, strict=True):
        ph.id = phase_id
    pc_rows = [(ph, {"phase_id": ph.id, "criterion_id": c.id, "weight": w, "position": k})
               for _p, ph in phases for k, (c, w) in enumerate(ph.criteria, start=1)]
    for (ph, _row), pc_id in zip(pc_rows, _insert(session, PhaseCriterion.__table__,
                                                  [r for _ph, r in pc_rows], ids=True),
                                 strict=True):
        ph.criterion_ids.append(pc_id)
    m_rows = [(ph, {"phase_id": ph.id, "position": k, "name": m[0], "unit": m[1],
                    "direction": m[2], "baseline": m[3], "target": m[4],
                    "criterion_id": ph.criteria[m[5]][0].id, "weight": m[6]})
              for _p, ph in phases for k, m in enumerate(ph.measures, start=1)]
    for (ph, _row), m_id in zip(m_rows, _insert(session, OutcomeMeasure.__table__,
                                                [r for _ph, r in m_rows], ids=True),
                                strict=True):
        ph.measure_ids.append(m_id)

    contents = [content_of(p) for p in plans]
    rows = []
    for plan, content in zip(plans, contents, strict=True):
        search_title, search_body = rules.search_text(content)
        c = plan.challenge
        rows.append({
            "challenge_id": plan.id, "status": rules.RecordStatus.PUBLISHED,
            "lessons_worked": plan.worked, "lessons_not_worked": plan.not_worked,
            "created_at": plan.ended + DAY, "updated_at": plan.published_at,
            "requested_at": plan.published_at, "requested_by_id": creator, "attempts": 0,
            "failure": "", "published_at": plan.published_at, "content": content,
            "content_sha256": _sha256(content), "outcome": plan.outcome, "year": plan.ended.year,
            "title": c["title"], "title_cy": c["title_cy"], "summary": c["summary"],
            "summary_cy": c["summary_cy"], "lead_name": plan.lead.name,
            "budget_pence": content["budget_pence"], "search_title": search_title,
            "search_body": search_body})
    record_ids = _insert(session, ChallengeRecord.__table__, rows, ids=True)
    criteria_rows, result_rows, asset_rows = [], [], []
    for plan, content, record_id in zip(plans, contents, record_ids, strict=True):
        for phase in content["phases"]:
            for c in phase["criteria"]:
                criteria_rows.append({"record_id": record_id, "phase_position": phase["position"],
                                      "criterion_id": c["criterion_id"], "weight": c["weight"]})
        for measure_id, criterion_id, achievement in compose.achievements(content):
            result_rows.append({"record_id": record_id, "measure_id": measure_id,
                                "criterion_id": criterion_id, "achievement": achievement})
        for k, (title, url, licence, description) in enumerate(plan.assets, start=1):
            asset_rows.append({"record_id": record_id, "position": k, "title": title, "url": url,
                               "licence": licence, "description": description})
        made.outcomes[plan.outcome] = made.outcomes.get(plan.outcome, 0) + 1
    _insert(session, RecordCriterion.__table__, criteria_rows)
    _insert(session, RecordResult.__table__, result_rows)
    _insert(session, RecordAsset.__table__, asset_rows)
    session.commit()
    made.challenges += len(plans)
    made.phases += len(phases)
    made.criteria += len(criteria_rows)
    made.results += len(result_rows)


_TABLES = [Challenge.__table__, ChallengeFunder.__table__, ChallengeTag.__table__,
           Phase.__table__, PhaseCriterion.__table__, OutcomeMeasure.__table__,
           ChallengeRecord.__table__, RecordCriterion.__table__, RecordResult.__table__,
           RecordAsset.__table__]


def generate(session: Session, *, challenges: int, seed: int, now: datetime,
             batch: int = BATCH,
             progress: Callable[[Generated], None] | None = None) -> Generated:
    """Create ``challenges`` synthetic published challenges with their open records, in
    batches of ``batch`` (one transaction each), then bring the search index up to date.
    The shared value frameworks must be loaded (``flask values load``)."""
    started = time.perf_counter()
    frameworks = criteria(session)
    if not any(c.kind == "scored" for fw in frameworks.values() for c in fw):
        raise ValueError("no shared value framework is loaded: run `flask values load` first")
    authorities, suppliers = organisations(session, now)
    creator = _creator(session, now)
    session.commit()
    rng = random.Random(seed)
    made = Generated()
    for start in range(0, challenges, batch):
        plans = [_plan(rng, n, authorities=authorities, suppliers=suppliers,
                       frameworks=frameworks, creator=creator, now=now)
                 for n in range(start, min(challenges, start + batch))]
        _write(session, plans, creator, made)
        if progress is not None:
            progress(made)
    search.rebuild(session)
    session.commit()
    # Fresh statistics for the planner, which otherwise still believes the tables nearly
    # empty and drives searches from the wrong index (measured: a rare word took seconds
    # instead of milliseconds at 100,000 records, on both engines).
    for table in _TABLES:
        session.execute(text(f"ANALYZE {table.name}"))
    session.commit()
    made.seconds = time.perf_counter() - started
    return made
