"""``flask demo load`` on each database backend: what the demo's concluded challenge holds, the
open records published for it and for two challenges that ended otherwise (no award, cancelled
after opening), and that loading it again changes nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from sqlalchemy import func, inspect, select, text

FALLS = "Fewer falls at home for older people"


def falls_state(session) -> dict:
    """The concluded falls challenge as the tests check it: both phases' decisions, the
    award's contract, the bake-off's entrants and their verified reports, the check-ins."""
    from procure.accounts.models import User
    from procure.assessment import services as assessment
    from procure.bakeoff import services as bakeoff
    from procure.bakeoff.models import AdoptionCheckIn
    from procure.challenges.models import Challenge
    from procure.submissions.models import Proposal

    challenge = session.execute(select(Challenge).where(Challenge.title == FALLS)).scalar_one()
    feasibility, bake_off = challenge.phases
    lead = session.execute(select(User).where(User.email == "editor@council.example")).scalar_one()
    names = {p.id: p.organisation.name for p in session.execute(select(Proposal).where(
        Proposal.phase_id.in_([feasibility.id, bake_off.id]))).scalars()}
    award = bake_off.decision
    board = assessment.ranking(session, bake_off)
    return {
        "status": challenge.status,
        "funders": sorted((f.role, f.status) for f in challenge.funders),
        "phases": [(p.kind, p.status, p.outcome_share_percent) for p in challenge.phases],
        "measures": [(m.direction, m.weight, m.criterion.code) for m in bake_off.measures],
        "feasibility": {
            "proposals": len(assessment.counting_proposals(session, feasibility.id)),
            "assessors": sorted((a.user.email, a.status) for a in feasibility.appointments),
            "moderated": sum(len(v) for v in assessment.ranking(session, feasibility)
                             .moderated.values()),
            "shortlist": (feasibility.decision.kind, feasibility.decision.status,
                          sorted(names[i] for i in feasibility.decision.selected_ids)),
        },
        "entrants": {e.organisation.name: {
            "invited": e.invited_at is not None,
            "contract": (e.contract_value_pence, e.contract_starts_on is not None,
                         e.contract_ends_on is not None),
            "reports": {r.measure.name: (r.status, bool(r.evidence), len(r.files))
                        for r in e.reports},
        } for e in bake_off.entrants},
        "corrections": [(e.organisation.name, r.measure.name, r.value, r.verified_value,
                         bool(r.correction_reason))
                        for e in bake_off.entrants for r in e.reports if r.status == "corrected"],
        "demonstrations": sorted(names[i] for i in board.proposals),
        "bake_off_assessors": sorted((a.user.email, a.status) for a in bake_off.appointments),
        "bake_off_blockers": board.blockers,
        "award": (award.kind, award.status, [names[i] for i in award.selected_ids],
                  bool(award.reason.strip())),
        "contracts": [(c.organisation.name, c.value_pence, c.ends_on > c.starts_on)
                      for c in award.contracts],
        # Awarded to the entrant with the best final score, before the check-in fell due.
        "winner_ranked_first": board.ranked[0].proposal_id in award.selected_ids,
        "released_at": award.released_at,
        "check_ins": [(c.months, c.recorded_at) for c in session.execute(
            select(AdoptionCheckIn).where(AdoptionCheckIn.challenge_id == challenge.id)
            .order_by(AdoptionCheckIn.months)).scalars()],
        "lead_tasks": [(c.challenge.title, c.months) for c in bakeoff.check_in_tasks(
            session, actor=lead)],
    }


EXPECTED = {
    "status": "published",
    "funders": [("lead", "accepted"), ("partner", "accepted")],
    "phases": [("feasibility", "decided", 50), ("bake_off", "decided", 50)],
    "measures": [("lower", 60, "healthier"), ("higher", 40, "userCentredDesign")],
    "feasibility": {
        "proposals": 3,
        "assessors": [("assessor@expert.example", "accepted"),
                      ("viewer@council.example", "accepted")],
        "moderated": 1,
        "shortlist": ("shortlist", "released",
                      ["Bright Ideas Ltd", "Greenfield Data Co-operative"]),
    },
    "entrants": {
        "Greenfield Data Co-operative": {
            "invited": True, "contract": (6_000_000, True, True),
            "reports": {"Falls needing an ambulance": ("accepted", True, 1),
                        "People still taking part after three months": ("accepted", True, 0)}},
        "Bright Ideas Ltd": {
            "invited": True, "contract": (6_000_000, True, True),
            "reports": {"Falls needing an ambulance": ("accepted", True, 1),
                        "People still taking part after three months": ("corrected", True, 0)}},
    },
    "corrections": [("Bright Ideas Ltd", "People still taking part after three months",
                     Decimal("77.8"), Decimal("71.2"), True)],
    "demonstrations": ["Bright Ideas Ltd", "Greenfield Data Co-operative"],
    "bake_off_assessors": [("assessor@expert.example", "accepted"),
                           ("viewer@council.example", "accepted")],
    "bake_off_blockers": [],
    "award": ("award", "released", ["Greenfield Data Co-operative"], True),
    "contracts": [("Greenfield Data Co-operative", 24_000_000, True)],
    "winner_ranked_first": True,
    "check_ins": [(6, None)],
    "lead_tasks": [(FALLS, 6)],
}


def check_falls(session, now) -> None:
    state = falls_state(session)
    released = state.pop("released_at")
    assert state == EXPECTED
    # The award about 7 months ago: the 6-month check-in is due, the 12-month one is not.
    assert now - relativedelta(months=8) < released < now - relativedelta(months=6)


RURAL = "Getting to hospital from rural villages"
ROUTES = "Safer walking routes to school"


def records_state(session) -> dict:
    """The demo's published records as the catalogue and the open data show them."""
    from procure.challenges.models import Challenge
    from procure.record import queries

    state = {}
    for title in (FALLS, RURAL, ROUTES):
        challenge = session.execute(select(Challenge).where(Challenge.title == title)
                                    ).scalar_one()
        record = challenge.record
        content = record.content
        state[title] = {
            "challenge": challenge.status,
            "record": (record.status, record.outcome, record.title_cy != "",
                       record.summary_cy != ""),
            "lessons": (bool(record.lessons_worked), bool(record.lessons_not_worked)),
            "assets": [(a.licence, a.url.startswith("https://")) for a in record.assets],
            "named": sorted({r["organisation"] for p in content["phases"] for r in p["ranked"]}),
            "contracts": [(c["organisation"], c["value_pence"]) for p in content["phases"]
                          for c in p["contracts"]],
            "decisions": [(p["decision"]["kind"], p["decision"]["selected"])
                          for p in content["phases"] if p["decision"]],
            "cancel_reason": bool(content["challenge"]["cancel_reason"]),
            "outcome_filter": [r.title for r in queries.catalogue(
                session, queries.Filters(outcome=record.outcome)).items],
        }
    return state


EXPECTED_RECORDS = {
    FALLS: {
        "challenge": "published",
        "record": ("published", "awarded", True, True),
        "lessons": (True, True),
        "assets": [("MIT", True), ("OGL-UK-3.0", True)],
        # The shortlisted and the winner; Steady Steps, never shortlisted, is not named.
        "named": ["Bright Ideas Ltd", "Greenfield Data Co-operative"],
        "contracts": [("Greenfield Data Co-operative", 24_000_000)],
        "decisions": [("shortlist", 2), ("award", 1)],
        "cancel_reason": False,
        "outcome_filter": [FALLS],
    },
    RURAL: {
        "challenge": "published",
        "record": ("published", "no_award", True, True),
        "lessons": (True, True),
        "assets": [("OGL-UK-3.0", True)],
        "named": [],
        "contracts": [],
        "decisions": [("award", 0)],
        "cancel_reason": False,
        "outcome_filter": [RURAL],
    },
    ROUTES: {
        "challenge": "cancelled",
        "record": ("published", "cancelled", True, True),
        "lessons": (True, True),
        "assets": [("OGL-UK-3.0", True)],
        "named": [],
        "contracts": [],
        "decisions": [],
        "cancel_reason": True,
        "outcome_filter": [ROUTES],
    },
}


def check_records(session) -> None:
    """Each ended demo challenge has a published record the catalogue finds by its words and
    filters, in English and Welsh, and the shared-values view counts."""
    import json

    from procure.record import queries

    assert records_state(session) == EXPECTED_RECORDS
    catalogue = queries.catalogue(session, queries.Filters())
    assert sorted(r.title for r in catalogue.items) == sorted(EXPECTED_RECORDS)

    def found(**filters) -> list[str]:
        return sorted(r.title for r in queries.catalogue(session, queries.Filters(**filters)
                                                         ).items)

    assert found(query="hospital villages") == [RURAL]
    assert found(query="ysgol") == [ROUTES]          # the Welsh title is searched too
    assert found(query="falls telecare") == [FALLS]
    assert found(tag="transport") == sorted([RURAL, ROUTES])
    # The no-award challenge ended the year before the others.
    assert queries.year_choices(session) == [2026, 2025]
    assert found(year=2025) == [RURAL]
    assert found(criterion="wellbeing-goals.healthier") == sorted([FALLS, RURAL, ROUTES])
    assert found(criterion="solution-quality.scalabilityReuse") == [FALLS]
    uses = {u.key: u for u in queries.shared_values(session)}
    assert uses["wellbeing-goals.healthier"].records == 3
    # The bake-off's verified results evidence the measures' criteria: 2 entrants x 1 measure.
    assert uses["wellbeing-goals.healthier"].measurements == 2
    assert uses["solution-quality.userCentredDesign"].measurements == 2
    # No unsuccessful supplier is named anywhere in a record, nor anyone's e-mail address.
    contents = {r.title: json.dumps(r.content) for r in queries.stream(session)}
    assert sorted(contents) == sorted(EXPECTED_RECORDS)
    for dumped in contents.values():
        assert "Steady Steps" not in dumped and "@" not in dumped
    assert "Bright Ideas" not in contents[RURAL]


def _counts(session) -> dict[str, int]:
    tables = [t for t in inspect(session.connection()).get_table_names()
              if t != "alembic_version"]
    return {t: session.execute(select(func.count()).select_from(text(f'"{t}"'))).scalar_one()
            for t in sorted(tables)}


def test_the_demo_has_published_records_and_loads_once(ctx, db, now) -> None:
    from procure.audit import services as audit
    from procure.demo import load_demo
    from procure.demo_challenges import load_demo_challenges

    load_demo(db, now=now)
    made = load_demo_challenges(db, now=now)
    assert {FALLS, RURAL, ROUTES} <= set(made)
    check_falls(db, now)
    check_records(db)
    before = _counts(db)

    later = now + timedelta(hours=1)
    load_demo(db, now=later)
    assert load_demo_challenges(db, now=later) == []
    assert _counts(db) == before
    check_falls(db, now)
    check_records(db)
    assert audit.verify(db) is None
