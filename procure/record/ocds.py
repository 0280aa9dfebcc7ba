"""The OCDS 1.1 mapping of an open record (STANDARDS §1).

A challenge is a *planning* process (``<prefix>-CH-<id>``); each phase that opened is its own
contracting process (``…-CH-<id>-P<position>``) linked to the challenge (``planning``) and to
the phase before it (``prior``). Everything is built from the record's frozen ``content`` (see
``compose.py``), which already names only the suppliers a released decision selected, plus the
adoption check-ins recorded since. The mapping is pure — plain dicts in, dicts out — so it is
tested without a database; the thin loaders at the end read what it needs.

Releases never hold ``null`` (it would delete on merge), empty strings or empty lists; dates are
RFC 3339 in UTC; a release id is ``<ocid>-<what>-<digest of the release>``, so the same content
always gives the same id and different content never shares one.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import ocdsmerge
from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.routing import BuildError

from procure.assessment.scoring import MAX_SCORE
from procure.bakeoff.models import AdoptionCheckIn
from procure.notifications.services import external_url
from procure.record import queries
from procure.record.models import ChallengeRecord
from procure.record.rules import LICENCES

EXTENSION_DIR = Path(__file__).resolve().parent / "ocds_extension"
SCHEMA_DIR = EXTENSION_DIR / "schema"
OGL = LICENCES["OGL-UK-3.0"][1]
CURRENCY = "GBP"
VERSION = "1.1"
LONDON = ZoneInfo("Europe/London")
LOT = "1"
MAX_ID = 2**31 - 1  # ids are 4-byte integers

_REGISTRY = "https://raw.githubusercontent.com/open-contracting-extensions"
# The registry extensions the releases use: the schema patch shipped in ``schema/`` (a copy of
# the extension's release-schema.json at the commit in the OCDS reference files' extensions/SOURCES.csv)
# and the address of its extension.json, as the package declares it.
REGISTRY_EXTENSIONS: tuple[tuple[str, str], ...] = (
    ("bids.json", f"{_REGISTRY}/ocds_bid_extension/master/extension.json"),
    ("lots-v1.1.5.json", f"{_REGISTRY}/ocds_lots_extension/v1.1.5/extension.json"),
    ("awardCriteria.json", f"{_REGISTRY}/ocds_awardCriteria_extension/master/extension.json"),
    ("budget.json", f"{_REGISTRY}/ocds_budget_breakdown_extension/master/extension.json"),
    ("metrics.json", f"{_REGISTRY}/ocds_metrics_extension/1.1/extension.json"),
)
LOCAL_EXTENSION_PATH = "/ocds/extension.json"
# What the platform serves of its own extension, beside extension.json.
EXTENSION_FILES = {"release-schema.json": "application/json",
                   "codelists/wellbeingGoal.csv": "text/csv",
                   "codelists/wayOfWorking.csv": "text/csv"}
# Value frameworks whose criterion codes are codes of the local extension's codelists.
CODELIST_FRAMEWORKS = {"wellbeing-goals": ("wellbeingGoals", "wellbeingGoal.csv"),
                       "ways-of-working": ("waysOfWorking", "wayOfWorking.csv")}
PHASE_KINDS = {"feasibility": "feasibility", "bake_off": "bake-off", "deployment": "deployment"}


def ocid(prefix: str, challenge_id: int, phase_position: int | None = None) -> str:
    """The challenge's ocid (``<prefix>-CH-<id>``), or a phase's (``…-P<position>``)."""
    base = f"{prefix}-CH-{challenge_id}"
    return base if phase_position is None else f"{base}-P{phase_position}"


def parse_ocid(prefix: str, text: str) -> tuple[int, int | None] | None:
    """(challenge id, phase position or None) of one of our ocids; None for anything else."""
    found = re.fullmatch(re.escape(prefix) + r"-CH-([1-9][0-9]{0,9})(?:-P([1-9][0-9]{0,3}))?", text)
    if found is None or int(found.group(1)) > MAX_ID:
        return None
    return int(found.group(1)), int(found.group(2)) if found.group(2) else None


@dataclass(frozen=True)
class Publication:
    """Who publishes, where: everything the mapping needs besides the record."""

    prefix: str
    base_url: str
    publisher: str
    policy_url: str

    @property
    def extension_url(self) -> str:
        return self.base_url + LOCAL_EXTENSION_PATH

    @property
    def extensions(self) -> list[str]:
        return [url for _, url in REGISTRY_EXTENSIONS] + [self.extension_url]


# --- small conversions --------------------------------------------------------------------------

def _utc(text: str | None) -> str | None:
    """An RFC 3339 time in UTC to the second (one format, so that dates sort as text)."""
    if not text:
        return None
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:  # a bare date
        value = datetime.combine(value.date(), time(), LONDON)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _day(text: str | None, *, end: bool = False) -> str | None:
    """A calendar date (in Wales) as the start or the end of that day, with its UTC offset."""
    if not text:
        return None
    day = date.fromisoformat(text[:10])
    moment = datetime.combine(day, time(23, 59, 59) if end else time(), LONDON)
    return moment.isoformat(timespec="seconds")


def _later(*texts: str | None) -> str | None:
    found = [t for t in (_utc(x) for x in texts) if t]
    return max(found) if found else None


def _number(text: Any) -> int | float | None:
    """Decimal text (or a number) as a JSON number: whole numbers stay integers."""
    if text is None or text == "":
        return None
    value = Decimal(str(text))
    return int(value) if value == value.to_integral_value() else float(value)


def _money(pence: int | None) -> dict[str, Any] | None:
    if pence is None:
        return None
    amount = pence // 100 if pence % 100 == 0 else float(Decimal(pence) / 100)
    return {"amount": amount, "currency": CURRENCY}


def _period(start: str | None, end: str | None) -> dict[str, Any] | None:
    return {"startDate": _day(start), "endDate": _day(end, end=True)} if start or end else None


def prune(value: Any) -> Any:
    """``value`` without None, empty strings, empty lists or empty objects, at any depth."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            item = prune(item)
            if not _empty(item):
                out[key] = item
        return out
    if isinstance(value, list | tuple):
        return [item for item in map(prune, value) if not _empty(item)]
    return value


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _release(ocid_: str, what: str, when: str | None, tags: list[str],
             body: Mapping[str, Any]) -> dict[str, Any]:
    """A release: the common fields, ``body`` pruned, and an id from what it says."""
    rest = prune(dict(body))
    content = {"ocid": ocid_, "date": when, "tag": tags, **rest}
    return {"ocid": ocid_, "id": f"{ocid_}-{what}-{_digest(content)}", "date": when, "tag": tags,
            "initiationType": "tender", "language": "en", **rest}


@lru_cache(maxsize=2)
def codelist(name: str) -> tuple[str, ...]:
    """The codes of one of the local extension's codelists."""
    with (EXTENSION_DIR / "codelists" / name).open(encoding="utf-8", newline="") as f:
        return tuple(row["Code"] for row in csv.DictReader(f))


# --- the mapping --------------------------------------------------------------------------------

def _party_id(organisation_id: int) -> str:
    return f"PROCURE-ORG-{organisation_id}"


def _ref(organisation_id: int, name: str) -> dict[str, Any]:
    return {"id": _party_id(organisation_id), "name": name}


class _Mapping:
    """One record's releases, ocid by ocid."""

    def __init__(self, content: Mapping[str, Any], check_ins: Sequence[Mapping[str, Any]],
                 pub: Publication) -> None:
        self.content, self.check_ins, self.pub = content, check_ins, pub
        self.challenge = content["challenge"]
        self.cid = self.challenge["id"]
        self.ocid = ocid(pub.prefix, self.cid)
        self.phases = list(content["phases"])
        self.lead = content["lead"]
        self.buyer = _ref(self.lead["organisation_id"], self.lead["name"])
        self.releases: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.tender_release: dict[int, dict[str, Any]] = {}

    # parties
    def authorities(self) -> list[dict[str, Any]]:
        funders = self.content["funders"]
        lead_id = self.lead["organisation_id"]
        funding = {f["organisation_id"] for f in funders}
        lead_roles = ["buyer", "procuringEntity",
                      *(["funder", "sourceParty"] if lead_id in funding else []), "payer"]
        parties = [{**self.buyer, "roles": lead_roles}]
        parties += [{**_ref(f["organisation_id"], f["name"]), "roles": ["funder", "sourceParty"]}
                    for f in funders if f["organisation_id"] != lead_id]
        return parties

    def add(self, ocid_: str, what: str, when: str | None, tags: list[str],
            body: Mapping[str, Any]) -> dict[str, Any]:
        release = _release(ocid_, what, when, tags, body)
        self.releases[ocid_].append(release)
        return release

    def phase_ocid(self, phase: Mapping[str, Any]) -> str:
        return ocid(self.pub.prefix, self.cid, phase["position"])

    def tender_id(self, phase: Mapping[str, Any] | None = None) -> str:
        return f"CH-{self.cid}" if phase is None else f"CH-{self.cid}-P{phase['position']}"

    def following(self, phase: Mapping[str, Any]) -> Mapping[str, Any] | None:
        return next((p for p in self.phases if p["position"] == phase["position"] + 1), None)

    # the challenge: a planning process
    def planning(self) -> None:
        c = self.challenge
        page = f"{self.pub.base_url}/records/{self.cid}"
        funders = self.content["funders"]
        budget = {"id": f"CH-{self.cid}", "amount": _money(self.content["budget_pence"]),
                  "budgetBreakdown": [{
                      "id": f"PLEDGE-{f['organisation_id']}", "amount": _money(f["pledge_pence"]),
                      "sourceParty": _ref(f["organisation_id"], f["name"])} for f in funders]}
        documents = [
            {"id": "record-en", "documentType": "procurementPlan", "title": c["title"],
             "description": c["summary"], "url": page, "format": "text/html", "language": "en"},
            {"id": "record-cy", "documentType": "procurementPlan",
             "title": c["title_cy"] or c["title"], "description": c["summary_cy"],
             "url": f"{page}?lang=cy", "format": "text/html", "language": "cy"}]
        self.add(self.ocid, "planning", _utc(c["opened_at"] or c["created_at"]), ["planning"], {
            "parties": self.authorities(), "buyer": self.buyer,
            "planning": {"rationale": c["problem_statement"], "budget": budget,
                         "documents": documents},
            "tender": {"id": self.tender_id(), "status": "planning", "title": c["title"],
                       "title_cy": c["title_cy"], "description": c["summary"],
                       "description_cy": c["summary_cy"]}})

    # each phase that opened: a contracting process
    def phase_label(self, phase: Mapping[str, Any]) -> str:
        kind = PHASE_KINDS.get(phase["kind"], phase["kind"])
        return f"Phase {phase['position']} of {len(self.phases)}: {kind}"

    def related(self, phase: Mapping[str, Any]) -> list[dict[str, Any]]:
        related = [{"id": "1", "relationship": ["planning"], "scheme": "ocid",
                    "identifier": self.ocid, "title": self.challenge["title"]}]
        before = next((p for p in self.phases if p["position"] == phase["position"] - 1), None)
        if before is not None:
            related.append({
                "id": "2", "relationship": ["prior"], "scheme": "ocid",
                "identifier": self.phase_ocid(before),
                "title": f"Follows phase {before['position']} "
                         f"({PHASE_KINDS.get(before['kind'], before['kind'])}), "
                         f"whose shortlisted suppliers alone were invited"})
        return related

    def award_criteria(self, phase: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The lot's award criteria: each criterion's weight in the final score. In a bake-off
        the outcome measures carry the outcome share and the criteria the rest."""
        share = Decimal(phase["outcome_share_percent"] or 0) if phase["measures"] else Decimal(0)
        scored = [(c, Decimal(c["weight"]) * (100 - share) / 100) for c in phase["criteria"]
                  if c["weight"] is not None]
        measured = [(m, Decimal(m["weight"]) * share / 100) for m in phase["measures"]] if share else []
        total = sum((n for _, n in [*scored, *measured]), Decimal(0))
        weight = "percentageExact" if total == 100 else "pointsExact"
        criteria: list[dict[str, Any]] = [
            {"type": "quality", "name": c["name_en"],
             "numbers": [{"number": _number(n), "weight": weight}]} for c, n in scored]
        criteria += [{"type": "quality", "name": f"Verified outcome: {m['name']}",
                      "description": f"{m['direction'].capitalize()} is better; baseline "
                                     f"{m['baseline']} {m['unit']}, target {m['target']} {m['unit']}",
                      "numbers": [{"number": _number(n), "weight": weight}]} for m, n in measured]
        criteria += [{"type": "quality", "name": c["name_en"],
                      "description": "Pass or fail: a proposal that fails it is not eligible"}
                     for c in phase["criteria"] if c["weight"] is None]
        return criteria

    def assessment_criteria(self, phase: Mapping[str, Any]) -> list[dict[str, Any]]:
        criteria = []
        for c in phase["criteria"]:
            item: dict[str, Any] = {
                "id": str(c["id"]), "title": c["name_en"], "title_cy": c["name_cy"],
                "framework": c["framework"], "frameworkVersion": c["framework_version"],
                "code": c["code"], "gate": c["weight"] is None, "weight": c["weight"],
                "maxScore": MAX_SCORE if c["weight"] is not None else None}
            tagged = CODELIST_FRAMEWORKS.get(c["framework"])
            if tagged is not None and c["code"] in codelist(tagged[1]):
                item[tagged[0]] = [c["code"]]
            criteria.append(item)
        return criteria

    def details(self, phase: Mapping[str, Any]) -> str:
        text = (f"Each scored criterion is marked from 0 to {MAX_SCORE} by independent assessors; "
                f"the score is the weighted total as a percentage, and the quality threshold is "
                f"{phase['threshold_percent']}%.")
        share = phase["outcome_share_percent"]
        if phase["measures"] and share:
            text += (f" The final bake-off score is {100 - share}% the assessed score and "
                     f"{share}% the verified achievement of the outcome measures.")
        return text

    def tender(self, phase: Mapping[str, Any]) -> None:
        c = self.challenge
        value = (_money(phase["max_value_pence"] * phase["planned_contracts"])
                 if phase["max_value_pence"] is not None and phase["planned_contracts"] else None)
        opened = _utc(phase["opened_at"])
        criteria = self.award_criteria(phase)
        targets = [{"id": f"measure-{m['id']}", "title": m["name"],
                    "description": f"{m['direction'].capitalize()} is better",
                    "observations": [
                        {"id": "baseline", "measure": _number(m["baseline"]), "unit": {"name": m["unit"]}},
                        {"id": "target", "measure": _number(m["target"]), "unit": {"name": m["unit"]}}]}
                   for m in phase["measures"]]
        invited = phase["invitation_only"]
        method = (f"Invitation only: the suppliers shortlisted in phase {phase['position'] - 1}"
                  if invited else "Open to any supplier")
        self.tender_release[phase["position"]] = self.add(
            self.phase_ocid(phase), "tender", opened, ["tender"], {
                "parties": self.authorities(), "buyer": self.buyer,
                "relatedProcesses": self.related(phase),
                "tender": {
                    "id": self.tender_id(phase), "title": c["title"], "title_cy": c["title_cy"],
                    "description": self.phase_label(phase), "status": "active",
                    "procuringEntity": self.buyer,
                    "procurementMethod": "selective" if invited else "open",
                    "procurementMethodDetails": method, "mainProcurementCategory": "services",
                    "value": value, "awardCriteria": "ratedCriteria",
                    "awardCriteriaDetails": self.details(phase),
                    "submissionMethod": ["electronicSubmission"],
                    "tenderPeriod": {"startDate": opened, "endDate": _utc(phase["closes_at"])},
                    "lots": [{"id": LOT, "title": self.phase_label(phase), "status": "active",
                              "value": value,
                              "awardCriteria": {"criteria": criteria} if criteria else None}],
                    "assessmentCriteria": self.assessment_criteria(phase),
                    "targets": targets}})

    def amendments(self) -> None:
        """Published amendments of the challenge, on the first phase (or, if no phase opened,
        the challenge itself)."""
        first = self.tender_release.get(1)
        for amendment in self.content["amendments"]:
            when = _utc(amendment["created_at"])
            body_amendment = {"id": str(amendment["version"]), "date": when,
                              "description": amendment["note"]}
            if first is None:
                planned = self.releases[self.ocid][0]["date"]
                self.add(self.ocid, f"amendment-{amendment['version']}", max(when, planned),
                         ["planningUpdate"],
                         {"tender": {"id": self.tender_id(), "amendments": [body_amendment]}})
                continue
            phase_ocid = first["ocid"]
            previous = self.releases[phase_ocid][-1]
            self.add(phase_ocid, f"amendment-{amendment['version']}", max(when, first["date"]),
                     ["tenderAmendment"], {"tender": {
                         "id": first["tender"]["id"],
                         "amendments": [{**body_amendment, "amendsReleaseID": previous["id"]}]}})

    def bid(self, phase: Mapping[str, Any], entry: Mapping[str, Any],
            released: str | None) -> dict[str, Any]:
        finals, gates = entry["finals"], entry["gates"]
        scores = []
        for c in phase["criteria"]:
            key = str(c["id"])
            if key in finals:
                scores.append({"criterionID": key, "score": _number(finals[key])})
            elif key in gates:
                scores.append({"criterionID": key, "passed": bool(gates[key])})
        return {
            "id": f"bid-{entry['proposal_id']}",
            "status": "valid" if entry["eligible"] else "disqualified",
            "tenderers": [_ref(entry["organisation_id"], entry["organisation"])],
            "description": entry["summary"], "relatedLots": [LOT],
            "hasRank": entry["rank"] is not None, "rank": entry["rank"],
            "assessment": {"date": released, "totalScore": _number(entry["total"]),
                           "assessedScore": _number(entry.get("assessed")),
                           "outcomeScore": _number(entry.get("outcome")), "scores": scores}}

    def awards(self, phase: Mapping[str, Any], released: str | None) -> list[dict[str, Any]]:
        decision = phase["decision"]
        selected = [r for r in phase["ranked"] if r["selected"]]
        named = {r["proposal_id"] for r in phase["ranked"]}
        common = {"status": "active", "date": released, "description": decision["reason"],
                  "relatedLots": [LOT]}
        awards: list[dict[str, Any]] = []
        if decision["kind"] == "shortlist" and selected:
            following = self.following(phase)
            entrants = {e["organisation_id"]: e for e in (following or {}).get("entrants", ())}
            for r in selected:
                entrant = entrants.get(r["organisation_id"], {})
                awards.append({
                    "id": f"award-{r['proposal_id']}", **common,
                    "value": _money(entrant.get("contract_value_pence")),
                    "suppliers": [_ref(r["organisation_id"], r["organisation"])],
                    "relatedBids": [f"bid-{r['proposal_id']}"],
                    "contractPeriod": _period(entrant.get("starts_on"), entrant.get("ends_on"))})
        elif selected or phase["contracts"]:
            contracted = {c["proposal_id"] for c in phase["contracts"]}
            for c in phase["contracts"]:
                awards.append({
                    "id": f"award-{c['proposal_id']}", **common, "value": _money(c["value_pence"]),
                    "suppliers": [_ref(c["organisation_id"], c["organisation"])],
                    "relatedBids": [f"bid-{c['proposal_id']}"] if c["proposal_id"] in named else None,
                    "contractPeriod": _period(c["starts_on"], c["ends_on"])})
            awards += [{"id": f"award-{r['proposal_id']}", **common,
                        "suppliers": [_ref(r["organisation_id"], r["organisation"])],
                        "relatedBids": [f"bid-{r['proposal_id']}"]}
                       for r in selected if r["proposal_id"] not in contracted]
        else:
            awards.append({"id": "no-award", "status": "unsuccessful", "date": released,
                           "description": decision["reason"], "relatedLots": [LOT]})
        return awards

    def award(self, phase: Mapping[str, Any]) -> None:
        decision = phase["decision"]
        released = _utc(decision["released_at"] or decision["recorded_at"])
        awards = self.awards(phase, released)
        winners = {s["id"] for a in awards if a["status"] == "active" for s in a.get("suppliers", ())}
        suppliers: dict[str, dict[str, Any]] = {}
        for r in phase["ranked"]:
            suppliers[_party_id(r["organisation_id"])] = _ref(r["organisation_id"], r["organisation"])
        for c in phase["contracts"]:
            suppliers[_party_id(c["organisation_id"])] = _ref(c["organisation_id"], c["organisation"])
        parties = self.authorities() + [
            {**ref, "roles": ["tenderer", "supplier"] if pid in winners else ["tenderer"]}
            for pid, ref in suppliers.items()]
        status = "complete" if winners else "unsuccessful"
        statistics = [{"id": "1", "measure": "bids", "value": phase["proposals_received"],
                       "relatedLot": LOT}]
        eligible = (phase["statistics"] or {}).get("eligible")
        if eligible is not None:
            statistics.append({"id": "2", "measure": "validBids", "value": eligible,
                               "relatedLot": LOT})
        self.add(self.phase_ocid(phase), "award", released, ["award"], {
            "parties": parties, "buyer": self.buyer,
            "tender": {"id": self.tender_id(phase), "status": status,
                       "numberOfTenderers": phase["proposals_received"],
                       "lots": [{"id": LOT, "status": status}]},
            "bids": {"statistics": statistics,
                     "details": [self.bid(phase, r, released) for r in phase["ranked"]]},
            "awards": awards})

    def entrant_contracts(self, phase: Mapping[str, Any]) -> dict[int, dict[str, Any]]:
        """organisation id -> the bake-off contract (on this shortlisting phase's process) of each
        entrant of the next phase that was invited."""
        following = self.following(phase)
        if phase["decision"]["kind"] != "shortlist" or following is None:
            return {}
        chosen = {r["organisation_id"]: r for r in phase["ranked"] if r["selected"]}
        found = {}
        for e in following["entrants"]:
            r = chosen.get(e["organisation_id"])
            if r is not None and e["invited_at"]:
                found[e["organisation_id"]] = {
                    "entrant": e, "id": f"contract-{r['proposal_id']}",
                    "awardID": f"award-{r['proposal_id']}"}
        return found

    def contracts(self, phase: Mapping[str, Any]) -> None:
        phase_ocid = self.phase_ocid(phase)
        released = _utc(phase["decision"]["released_at"] or phase["decision"]["recorded_at"])
        entrants = self.entrant_contracts(phase)
        by_date: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for found in entrants.values():
            e = found["entrant"]
            by_date[_later(e["invited_at"], released) or ""].append({
                "id": found["id"], "awardID": found["awardID"], "status": "active",
                "value": _money(e["contract_value_pence"]),
                "period": _period(e["starts_on"], e["ends_on"])})
        for n, (when, contracts) in enumerate(sorted(by_date.items()), start=1):
            self.add(phase_ocid, f"bake-off-contracts-{n}", when, ["contract"],
                     {"contracts": contracts})
        if entrants:
            self.results(phase, entrants)
        if phase["contracts"]:
            when = _later(released, *(c["recorded_at"] for c in phase["contracts"]))
            self.add(phase_ocid, "contracts", when, ["contract"], {"contracts": [
                {"id": f"contract-{c['id']}", "awardID": f"award-{c['proposal_id']}",
                 "status": "active", "value": _money(c["value_pence"]),
                 "period": _period(c["starts_on"], c["ends_on"])} for c in phase["contracts"]]})

    def measures(self) -> dict[str, Mapping[str, Any]]:
        return {str(m["id"]): m for p in self.phases for m in p["measures"]}

    def results(self, phase: Mapping[str, Any], entrants: Mapping[int, Mapping[str, Any]]) -> None:
        """The bake-off's verified measurements, on the entrants' bake-off contracts."""
        measures = self.measures()
        contracts, dates = [], []
        for found in entrants.values():
            metrics = []
            for r in found["entrant"]["results"]:
                m = measures.get(str(r["measure_id"]))
                if m is None or r["verified"] is None or r["status"] == "reported":
                    continue
                dates.append(r["verified_at"])
                metrics.append({"id": f"measure-{m['id']}", "title": m["name"], "observations": [
                    {"id": "verified", "measure": _number(r["verified"]),
                     "unit": {"name": m["unit"]}}]})
            if metrics:
                contracts.append({"id": found["id"], "awardID": found["awardID"],
                                  "implementation": {"metrics": metrics}})
        if contracts:
            self.add(self.phase_ocid(phase), "bake-off-results", _later(*dates), ["implementation"],
                     {"contracts": contracts})

    def adoption(self) -> None:
        """Each recorded check-in after the award, on the award's contracts."""
        phase = next((p for p in reversed(self.phases)
                      if p["decision"] and p["decision"]["kind"] == "award" and p["contracts"]), None)
        if phase is None:
            return
        measures = self.measures()
        for check_in in self.check_ins:
            months, when = check_in["months"], _utc(check_in["recorded_at"])
            in_use = bool(check_in["in_use"])
            milestone = {"id": f"check-in-{months}",
                         "title": f"Adoption check-in {months} months after the award",
                         "type": "reporting", "status": "met", "dateMet": when, "inUse": in_use,
                         "description": (f"In use by: {check_in['used_by']}" if in_use
                                         else "Not in use")}
            metrics = []
            for key, value in sorted(check_in["measure_values"].items(), key=lambda kv: int(kv[0])):
                m = measures.get(str(key))
                if m is None:
                    continue
                metrics.append({"id": f"measure-{m['id']}", "title": m["name"], "observations": [
                    {"id": f"check-in-{months}", "measure": _number(value),
                     "unit": {"name": m["unit"]}, "period": {"endDate": when},
                     "relatedImplementationMilestone": {"id": milestone["id"],
                                                        "title": milestone["title"]}}]})
            self.add(self.phase_ocid(phase), f"check-in-{months}", when, ["implementation"], {
                "contracts": [{"id": f"contract-{c['id']}", "awardID": f"award-{c['proposal_id']}",
                               "implementation": {"milestones": [milestone], "metrics": metrics}}
                              for c in phase["contracts"]]})

    def ending(self) -> None:
        c = self.challenge
        if c["status"] == "cancelled":
            when, reason = _utc(c["cancelled_at"]), c["cancel_reason"]
            for phase in self.phases:
                if phase["position"] in self.tender_release and not phase["decision"]:
                    self.add(self.phase_ocid(phase), "cancellation", when, ["tenderCancellation"], {
                        "tender": {"id": self.tender_id(phase), "status": "cancelled",
                                   "statusDetails": reason,
                                   "lots": [{"id": LOT, "status": "cancelled"}]}})
            self.add(self.ocid, "cancellation", when, ["tenderCancellation"], {
                "tender": {"id": self.tender_id(), "status": "cancelled", "statusDetails": reason}})
        elif c["concluded_at"]:
            awarded = self.content["outcome"] == "awarded"
            self.add(self.ocid, "conclusion", _utc(c["concluded_at"]), ["planningUpdate"], {
                "tender": {"id": self.tender_id(), "status": "complete" if awarded else "unsuccessful",
                           "statusDetails": "Concluded with an award" if awarded
                           else "Concluded without an award"}})
        assets = self.content["assets"]
        if assets:
            self.add(self.ocid, "assets", _utc(self.content["published_at"]), ["planningUpdate"], {
                "planning": {"documents": [
                    {"id": f"asset-{n}", "title": a["title"], "description": a["description"],
                     "url": a["url"]} for n, a in enumerate(assets, start=1)]}})

    def build(self) -> dict[str, list[dict[str, Any]]]:
        self.planning()
        for phase in self.phases:
            if phase["opened_at"]:
                self.tender(phase)
        self.amendments()
        for phase in self.phases:
            if phase["decision"] and phase["position"] in self.tender_release:
                self.award(phase)
                self.contracts(phase)
        self.adoption()
        self.ending()
        ordered = {self.ocid: self.releases.pop(self.ocid)}
        for phase in self.phases:
            key = self.phase_ocid(phase)
            if key in self.releases:
                ordered[key] = self.releases.pop(key)
        # Oldest first (stable: within one moment, in the order the process went).
        return {k: sorted(v, key=lambda r: r["date"]) for k, v in ordered.items()}


def releases_by_ocid(content: Mapping[str, Any], check_ins: Sequence[Mapping[str, Any]],
                     pub: Publication) -> dict[str, list[dict[str, Any]]]:
    """Every release of one published record, by ocid (the challenge's first, then each phase
    that opened), oldest first. ``check_ins`` are the recorded adoption check-ins as plain dicts
    (months, recorded_at, in_use, used_by, measure_values)."""
    return _Mapping(content, check_ins, pub).build()


def releases(content: Mapping[str, Any], check_ins: Sequence[Mapping[str, Any]],
             pub: Publication) -> list[dict[str, Any]]:
    """The same releases, one list."""
    return [r for rs in releases_by_ocid(content, check_ins, pub).values() for r in rs]


# --- packages -----------------------------------------------------------------------------------

def _merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON Merge Patch."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = _merge_patch(out.get(key), value)
    return out


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def release_schema() -> dict[str, Any]:
    """The OCDS 1.1 release schema with every extension the releases use merged in (shipped
    with the app: nothing is fetched)."""
    schema = _load(SCHEMA_DIR / "release-schema.json")
    for name, _url in REGISTRY_EXTENSIONS:
        schema = _merge_patch(schema, _load(SCHEMA_DIR / name))
    return _merge_patch(schema, _load(EXTENSION_DIR / "release-schema.json"))


@lru_cache(maxsize=1)
def _merger() -> ocdsmerge.Merger:
    return ocdsmerge.Merger(schema=release_schema())


def compiled_release(ocid_releases: list[dict[str, Any]]) -> dict[str, Any]:
    return _merger().create_compiled_release(ocid_releases)


def envelope(pub: Publication, *, uri: str, published_date: str) -> dict[str, Any]:
    """What a release or record package says about itself."""
    return {"uri": uri, "version": VERSION, "publishedDate": published_date,
            "publisher": {"name": pub.publisher, "uri": pub.base_url}, "license": OGL,
            "publicationPolicy": pub.policy_url, "extensions": pub.extensions}


def release_package(pub: Publication, items: list[dict[str, Any]], *, uri: str,
                    published_date: str) -> dict[str, Any]:
    return {**envelope(pub, uri=uri, published_date=published_date), "releases": items}


def record(ocid_: str, ocid_releases: list[dict[str, Any]]) -> dict[str, Any]:
    """One contracting (or planning) process: its releases embedded and compiled."""
    return {"ocid": ocid_, "releases": ocid_releases,
            "compiledRelease": compiled_release(ocid_releases)}


def record_package(pub: Publication, records: list[dict[str, Any]], *, uri: str,
                   published_date: str) -> dict[str, Any]:
    return {**envelope(pub, uri=uri, published_date=published_date), "records": records}


def latest(items: Iterable[Mapping[str, Any]]) -> str | None:
    dates = [r["date"] for r in items if r.get("date")]
    return max(dates) if dates else None


def extension_metadata(base_url: str) -> dict[str, Any]:
    """The local extension's extension.json, its documentation links made absolute."""
    metadata = _load(EXTENSION_DIR / "extension.json")
    metadata["documentationUrl"] = {lang: base_url + path
                                    for lang, path in metadata["documentationUrl"].items()}
    return metadata


def extension_file(name: str) -> tuple[bytes, str] | None:
    """(content, media type) of a file of the local extension the platform serves, or None."""
    media = EXTENSION_FILES.get(name)
    if media is None:
        return None
    return (EXTENSION_DIR / name).read_bytes(), media


# --- loading ------------------------------------------------------------------------------------

def publication() -> Publication:
    """The current app's publication settings."""
    base = current_app.config["BASE_URL"].rstrip("/")
    try:
        policy = external_url("record.open_data")
    except BuildError:
        policy = base + "/open-data"
    return Publication(prefix=current_app.config["OCID_PREFIX"], base_url=base,
                       publisher=current_app.config["PUBLISHER_NAME"], policy_url=policy)


def check_ins(session: Session, challenge_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """challenge id -> its recorded adoption check-ins as plain dicts (one query)."""
    ids = sorted(set(challenge_ids))
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if not ids:
        return found
    c = AdoptionCheckIn
    for row in session.execute(
            select(c.challenge_id, c.months, c.recorded_at, c.in_use, c.used_by, c.measure_values)
            .where(c.challenge_id.in_(ids), c.recorded_at.is_not(None))
            .order_by(c.challenge_id, c.months)):
        found[row.challenge_id].append({
            "months": row.months, "recorded_at": row.recorded_at.isoformat(),
            "in_use": row.in_use, "used_by": row.used_by,
            "measure_values": dict(row.measure_values or {})})
    return found


def published_records(session: Session, challenge_ids: Iterable[int] | None = None, *,
                      after_id: int | None = None, limit: int | None = None) -> list[ChallengeRecord]:
    """Published records (by id): of these challenges, or from ``after_id`` on."""
    stmt = queries.published()
    if challenge_ids is not None:
        stmt = stmt.where(ChallengeRecord.challenge_id.in_(list(challenge_ids)))
    if after_id is not None:
        stmt = stmt.where(ChallengeRecord.id >= after_id)
    stmt = stmt.order_by(ChallengeRecord.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.execute(stmt).scalars())


def record_releases(rec: ChallengeRecord, found: Mapping[int, list[dict[str, Any]]],
                    pub: Publication) -> dict[str, list[dict[str, Any]]]:
    return releases_by_ocid(rec.content, found.get(rec.challenge_id, []), pub)


def load_record(session: Session, ocid_: str, pub: Publication) -> list[dict[str, Any]] | None:
    """The releases of one of our ocids, if its record is published and it has any (two
    queries)."""
    parsed = parse_ocid(pub.prefix, ocid_)
    if parsed is None:
        return None
    rows = published_records(session, [parsed[0]])
    if not rows:
        return None
    return record_releases(rows[0], check_ins(session, [parsed[0]]), pub).get(ocid_) or None


PAGE_BATCH_DIVISOR = 4  # a record has several releases: a page of 100 rarely needs more than 25


def page_of_releases(session: Session, pub: Publication, *, after: tuple[int, int] = (0, 0),
                     size: int = 100) -> tuple[list[dict[str, Any]], tuple[int, int] | None]:
    """Up to ``size`` releases, record by record (by id), from (record id, release index)
    ``after``; and where the next page starts, if there is more.

    The records come in small batches (a quarter of ``size``, each batch's check-ins in one
    query) until the page is full, so only the records the page shows are read and built:
    usually two queries, and a third (an id only) when the page ends exactly with a batch."""
    start, skip = after
    batch = max(1, size // PAGE_BATCH_DIVISOR)
    page: list[dict[str, Any]] = []
    from_id = start
    while True:
        rows = published_records(session, after_id=from_id, limit=batch)
        found = check_ins(session, [r.challenge_id for r in rows])
        for index, rec in enumerate(rows):
            items = [r for rs in record_releases(rec, found, pub).values() for r in rs]
            offset = skip if rec.id == start else 0
            room = size - len(page)
            page += items[offset:offset + room]
            if offset + room < len(items):
                return page, (rec.id, offset + room)
            if len(page) == size:
                if index + 1 < len(rows):
                    return page, (rows[index + 1].id, 0)
                if len(rows) < batch:
                    return page, None
                following = session.execute(
                    queries.published().with_only_columns(ChallengeRecord.id)
                    .where(ChallengeRecord.id > rec.id).order_by(ChallengeRecord.id).limit(1)).scalar()
                return page, ((following, 0) if following is not None else None)
        if len(rows) < batch:
            return page, None
        from_id = rows[-1].id + 1


def stream_releases(session: Session, pub: Publication, *, batch: int = 500) -> Iterator[dict[str, Any]]:
    """Every release of every published record, record by record, in flat memory: the records
    come in batches (``queries.stream``), each batch's check-ins in one query."""
    chunk: list[ChallengeRecord] = []
    for rec in queries.stream(session, batch=batch):
        chunk.append(rec)
        if len(chunk) == batch:
            yield from _chunk_releases(session, chunk, pub)
            chunk = []
    yield from _chunk_releases(session, chunk, pub)


def _chunk_releases(session: Session, chunk: list[ChallengeRecord],
                    pub: Publication) -> Iterator[dict[str, Any]]:
    if not chunk:
        return
    found = check_ins(session, [r.challenge_id for r in chunk])
    session.rollback()  # plain values from here on: hold no transaction while the client reads
    for rec in chunk:
        for items in record_releases(rec, found, pub).values():
            yield from items
