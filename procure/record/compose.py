"""Compose a challenge's public record: the one place that decides what the open record holds.

SPEC §3.7: the problem, the funders and what each gave, the phases with dates and budgets,
how many proposals each phase had, the shortlisted and winning suppliers, the award values,
the final per-criterion scores of shortlisted and winning proposals, the anonymous
distribution of all totals, each outcome measure with baseline, target and verified results,
the assessment statistics, the decisions' rationales (a departure from the ranking included),
the published clarifications, the lessons learned, the reusable assets, and suppliers' public
summaries where they consented.

Never: what a proposal says (beyond a consented summary), any assessor's name, score or
comment, an unsuccessful supplier's name, a contact person's name or address. A supplier is
named only if a released decision selected it (shortlisted or awarded): everything below
filters through ``named``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from procure.bakeoff import outcomes
from procure.challenges.models import Challenge, FunderStatus, Phase
from procure.record.models import ChallengeRecord
from procure.record.rules import LICENCES, record_outcome
from procure.submissions.models import Proposal
from procure.submissions.services import counts_by_phase

SCHEMA_VERSION = 1
OGL = LICENCES["OGL-UK-3.0"][1]


def _when(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _number(value: Decimal | None) -> str | None:
    return None if value is None else format(Decimal(value).normalize(), "f")


def _released(phase: Phase) -> Any:
    decision = getattr(phase, "decision", None)
    return decision if decision is not None and decision.status == "released" else None


def named_organisations(phases: Iterable[Phase]) -> set[int]:
    """Suppliers the record may name: those a released decision selected."""
    named: set[int] = set()
    for phase in phases:
        decision = _released(phase)
        if decision is None:
            continue
        for result in decision.results:
            if result["proposal_id"] in decision.selected_ids:
                named.add(result["organisation_id"])
    return named


def _criteria(phase: Phase) -> list[dict[str, Any]]:
    return [{"id": pc.id, "criterion_id": pc.criterion_id,
             "framework": pc.criterion.framework.code,
             "framework_version": pc.criterion.framework.version,
             "code": pc.criterion.code, "kind": pc.criterion.kind,
             "name_en": pc.criterion.name_en, "name_cy": pc.criterion.name_cy,
             "weight": pc.weight} for pc in phase.criteria]


def _measures(phase: Phase) -> list[dict[str, Any]]:
    return [{"id": m.id, "name": m.name, "unit": m.unit, "direction": m.direction,
             "baseline": _number(m.baseline), "target": _number(m.target),
             "criterion_id": m.criterion_id, "framework": m.criterion.framework.code,
             "code": m.criterion.code, "weight": m.weight} for m in phase.measures]


def _ranked(decision: Any, named: set[int], summaries: dict[int, str]) -> list[dict[str, Any]]:
    """The named suppliers' results: rank, total and final score per criterion."""
    entries = []
    for r in decision.results:
        if r["organisation_id"] not in named:
            continue
        entries.append({
            "proposal_id": r["proposal_id"], "organisation_id": r["organisation_id"],
            "organisation": r["organisation"], "rank": r["rank"], "tied": r["tied"],
            "total": r["total"], "eligible": r["eligible"], "finals": r["finals"],
            "gates": r["gates"], "assessed": r.get("assessed"), "outcome": r.get("outcome"),
            "selected": r["proposal_id"] in decision.selected_ids,
            "summary": summaries.get(r["proposal_id"], "")})
    return entries


def _entrants(phase: Phase) -> list[dict[str, Any]]:
    entrants = []
    for e in getattr(phase, "entrants", ()):
        if e.invited_at is None:
            continue
        entrants.append({
            "organisation_id": e.organisation_id, "organisation": e.organisation.name,
            "contract_value_pence": e.contract_value_pence,
            "starts_on": _when(e.contract_starts_on), "ends_on": _when(e.contract_ends_on),
            "invited_at": _when(e.invited_at),
            "results": [{"measure_id": r.measure_id, "verified": _number(r.counted_value),
                         "status": r.status, "verified_at": _when(r.verified_at)}
                        for r in e.reports]})
    return entrants


def _phase(phase: Phase, received: int, named: set[int],
           summaries: dict[int, str]) -> dict[str, Any]:
    decision = _released(phase)
    content: dict[str, Any] = {
        "id": phase.id, "position": phase.position, "kind": phase.kind, "status": phase.status,
        "invitation_only": phase.is_invitation_only,
        "opens_at": _when(phase.opens_at), "closes_at": _when(phase.closes_at),
        "opened_at": _when(phase.opened_at), "closed_at": _when(phase.closed_at),
        "planned_contracts": phase.contracts, "max_value_pence": phase.max_value_pence,
        "duration_months": phase.duration_months, "threshold_percent": phase.threshold_percent,
        "outcome_share_percent": phase.outcome_share_percent if phase.kind == "bake_off" else None,
        "criteria": _criteria(phase), "measures": _measures(phase),
        "proposals_received": received, "statistics": None, "distribution": [],
        "decision": None, "ranked": [], "entrants": _entrants(phase), "contracts": []}
    if decision is not None:
        content["statistics"] = decision.statistics
        content["distribution"] = sorted((r["total"] for r in decision.results), key=Decimal,
                                         reverse=True)
        content["decision"] = {
            "id": decision.id, "kind": decision.kind, "recorded_at": _when(decision.recorded_at),
            "released_at": _when(decision.released_at), "reason": decision.reason,
            "departs": decision.departs, "selected": len(decision.selected_ids)}
        content["ranked"] = _ranked(decision, named, summaries)
        content["contracts"] = [{
            "id": c.id, "proposal_id": c.proposal_id, "organisation_id": c.organisation_id,
            "organisation": c.organisation.name, "value_pence": c.value_pence,
            "starts_on": _when(c.starts_on), "ends_on": _when(c.ends_on),
            "recorded_at": _when(c.recorded_at)} for c in getattr(decision, "contracts", ())]
    return content


def _consented_summaries(session: Session, phases: list[Phase], named: set[int]) -> dict[int, str]:
    """Summaries of the named suppliers' proposals whose suppliers agreed to publish them."""
    ids = [r["proposal_id"] for p in phases if (d := _released(p)) is not None
           for r in d.results if r["organisation_id"] in named]
    if not ids:
        return {}
    return {pid: summary for pid, summary in session.execute(
        select(Proposal.id, Proposal.summary).where(
            Proposal.id.in_(ids), Proposal.consent_publish_summary.is_(True)))}


def compose(session: Session, challenge: Challenge, record: ChallengeRecord, *,
            now: datetime) -> dict[str, Any]:
    """The frozen public record of ``challenge`` with the editors' ``record`` draft, as plain
    JSON-ready values (times as RFC 3339 text, money in pence, scores as decimal text)."""
    phases = list(challenge.phases)
    named = named_organisations(phases)
    summaries = _consented_summaries(session, phases, named)
    received = counts_by_phase(session, [p.id for p in phases])
    award = next((d for p in reversed(phases) if (d := _released(p)) is not None
                  and d.kind == "award"), None)
    funders = [{"organisation_id": f.organisation_id, "name": f.organisation.name,
                "role": f.role, "pledge_pence": f.pledge_pence}
               for f in challenge.funders if f.status == FunderStatus.ACCEPTED]
    derived = challenge.derived_from
    return {
        "schema": SCHEMA_VERSION,
        "challenge": {
            "id": challenge.id, "title": challenge.title, "title_cy": challenge.title_cy,
            "summary": challenge.summary, "summary_cy": challenge.summary_cy,
            "problem_statement": challenge.problem_statement, "context": challenge.context,
            "affected": challenge.affected, "outcomes_sought": challenge.outcomes_sought,
            "tags": challenge.tag_names, "status": challenge.status,
            "version": challenge.version, "created_at": _when(challenge.created_at),
            "opened_at": _when(challenge.opened_at),
            "in_progress_at": _when(challenge.in_progress_at),
            "concluded_at": _when(challenge.concluded_at),
            "cancelled_at": _when(challenge.cancelled_at),
            "cancel_reason": challenge.cancel_reason,
            "derived_from": ({"challenge_id": derived.id, "title": derived.title}
                             if derived is not None else None)},
        "outcome": str(record_outcome(challenge.status,
                                      award is not None and bool(award.selected_ids))),
        "lead": {"organisation_id": challenge.lead_organisation_id,
                 "name": challenge.lead_organisation.name},
        "funders": funders,
        "budget_pence": sum(f["pledge_pence"] for f in funders),
        "phases": [_phase(p, received.get(p.id, 0), named, summaries) for p in phases],
        "clarifications": [{"id": c.id, "question": c.question, "answer": c.answer,
                            "published_at": _when(c.published_at)}
                           for c in challenge.clarifications if c.published_at is not None],
        "amendments": [{"version": a.version, "note": a.note, "created_at": _when(a.created_at)}
                       for a in challenge.amendments],
        "lessons": {"worked": record.lessons_worked, "not_worked": record.lessons_not_worked},
        "assets": [{"title": a.title, "url": a.url, "licence": a.licence,
                    "licence_name": LICENCES[a.licence][0], "licence_url": LICENCES[a.licence][1],
                    "description": a.description} for a in record.assets],
        "licence": OGL,
        "published_at": _when(now),
    }


def achievements(content: dict[str, Any]) -> list[tuple[int, int, Decimal]]:
    """(measure id, criterion id, achievement 0…1) for every verified measurement in the
    record's bake-off phases — the figures the shared-values view averages."""
    found = []
    for phase in content["phases"]:
        measures = {m["id"]: m for m in phase["measures"]}
        for entrant in phase["entrants"]:
            for result in entrant["results"]:
                m = measures.get(result["measure_id"])
                if m is None or result["verified"] is None or result["status"] == "reported":
                    continue
                measure = outcomes.Measure(id=m["id"], direction=m["direction"],
                                           baseline=Decimal(m["baseline"]),
                                           target=Decimal(m["target"]), weight=m["weight"])
                value = outcomes.achievement(measure, Decimal(result["verified"]))
                if value is not None:
                    found.append((m["id"], m["criterion_id"], value))
    return found
