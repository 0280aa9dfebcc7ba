"""The read-only JSON API over published records, and its OpenAPI 3.1 document.

Everything the API answers, errors included, is JSON that any origin may read. Parameters are
validated against an allowlist (``openapi.LIST_PARAMETERS``): an unknown or repeated parameter,
or a value outside what the document allows, is a 400 naming the parameter — a typo such as
``?outcom=awarded`` must not quietly return every record. The one exception is ``lang``, the
site-wide language switch, which is accepted and ignored.

Records are shown from their frozen ``content`` only, so the API can show nothing the record
page does not; internal ids that mean nothing outside the platform (proposals, decisions,
contracts, phases) are left out, organisation ids are kept (the ``authority`` filter takes them).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from flask import Response, current_app, g, request
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from procure.api import openapi
from procure.api.blueprint import bp
from procure.bakeoff.models import AdoptionCheckIn
from procure.challenges.models import Challenge
from procure.db import get_session
from procure.errors import InvalidTransition, NotFound, NotPermitted, RuleViolation
from procure.extensions import limiter
from procure.record import ocds, queries
from procure.record import services as records
from procure.record.models import ChallengeRecord
from procure.record.queries import MAX_PER_PAGE, PER_PAGE, Filters
from procure.record.rules import SORTS

log = logging.getLogger(__name__)

JSON_TYPE = "application/json; charset=utf-8"
# Searching is the costly public call (TRUST: rate limited, 429 with Retry-After).
LIST_LIMIT = "120 per minute"
FILTER_PARAMETERS = ("criterion", "authority", "tag", "outcome", "year")
# A whole number; JSON Schema counts 4.0 as the integer 4, so clients may write it so.
_WHOLE = re.compile(r"([0-9]{1,10})(?:\.0{1,10})?")
_CRITERION = re.compile(openapi.CRITERION_PATTERN)


# --- JSON responses and errors ------------------------------------------------------------------

def json_response(payload: Any, status: int = 200) -> Response:
    """``payload`` as UTF-8 JSON (not ASCII-escaped: Welsh text stays readable)."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return Response(body, status=status, content_type=JSON_TYPE)


def error_response(status: int, title: str, errors: Mapping[str, str] | None = None) -> Response:
    return json_response({"status": status, "title": title, "errors": dict(errors or {})}, status)


@bp.after_request
def _readable_anywhere(response: Response) -> Response:
    # Open data: any web page may read it (nothing here depends on who asks).
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.errorhandler(NotFound)
def _not_found(_e: NotFound) -> Response:
    return error_response(404, _("Not found"))


@bp.errorhandler(NotPermitted)
def _forbidden(_e: NotPermitted) -> Response:
    return error_response(403, _("Forbidden"))


@bp.errorhandler(InvalidTransition)
def _conflict(_e: InvalidTransition) -> Response:
    return error_response(409, _("Conflict"))


@bp.errorhandler(RuleViolation)
def _bad_request(e: RuleViolation) -> Response:
    return error_response(400, _("The request is not valid"),
                          {k: str(v) for k, v in e.errors.items()})


@bp.errorhandler(HTTPException)
def http_error(e: HTTPException) -> Response:
    response = error_response(e.code or 500, e.name)
    # Keep what the error itself says about retrying (Retry-After) or methods (Allow).
    for name, value in e.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


@bp.errorhandler(Exception)
def _server_error(e: Exception) -> Response:
    # As the site's own handler does: log, roll back so nothing is half saved, say nothing more.
    log.exception("unhandled API error (request %s)", g.get("request_id"))
    try:
        get_session().rollback()
    except Exception:  # noqa: BLE001 - e.g. the database is down: still answer
        log.exception("rollback failed (request %s)", g.get("request_id"))
    # Plain English: translating would ask for the user, from a database that may be down.
    return error_response(500, f"Internal Server Error (reference {g.get('request_id') or ''})")


# --- absolute links -----------------------------------------------------------------------------

class PublicLinks:
    """Absolute addresses built from ``BASE_URL`` (the site's public address, as in e-mails and
    the OpenAPI ``servers``), whatever host the request came through."""

    def __init__(self) -> None:
        base = urlsplit(current_app.config["BASE_URL"])
        self._adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/",
                                                 url_scheme=base.scheme)
        self.prefix = current_app.config["OCID_PREFIX"]

    def url(self, endpoint: str, **values: Any) -> str:
        return self._adapter.build(endpoint, {k: v for k, v in values.items() if v is not None},
                                   force_external=True)

    def ocid(self, challenge_id: int) -> str:
        return ocds.ocid(self.prefix, challenge_id)

    def record(self, challenge_id: int) -> dict[str, str]:
        return {"self": self.url("api.get_challenge", challenge_id=challenge_id),
                "html": self.url("record.show_record", challenge_id=challenge_id),
                "ocds": self.url("api.ocds_record", ocid=self.ocid(challenge_id))}


# --- the catalogue's parameters -----------------------------------------------------------------

@dataclass(frozen=True)
class CatalogueQuery:
    filters: Filters
    sort: str
    page: int
    per_page: int
    args: dict[str, str]  # the parameters given, tidied, in documented order (for links)


def _printable(text: str) -> str:
    return "".join(ch for ch in text if ch.isprintable())


def _whole(text: str) -> int | None:
    match = _WHOLE.fullmatch(text)
    return int(match.group(1)) if match else None


def _choose(values: Sequence[str]) -> str:
    return _("Choose one of: %(values)s", values=", ".join(values))


def parse_catalogue(args: MultiDict, allowed: Sequence[str]) -> tuple[CatalogueQuery, dict[str, str]]:
    """The catalogue's filters, sort and page from query ``args``, accepting only ``allowed``
    parameters; with parameter → message for each one that is not acceptable."""
    errors: dict[str, str] = {}
    given: dict[str, str] = {}
    for name in args:
        if name in openapi.IGNORED_PARAMETERS:
            continue
        if name not in allowed:
            errors[name] = _("Unknown parameter. The parameters are: %(names)s",
                             names=", ".join(allowed))
        elif len(args.getlist(name)) > 1:
            errors[name] = _("Give this parameter once")
        elif args[name] != "":  # an empty value counts as not given (allowEmptyValue)
            given[name] = args[name]
    values: dict[str, Any] = {}
    tidied: dict[str, str] = {}

    def keep(name: str, value: Any) -> None:
        values[name] = value
        tidied[name] = str(value)

    if "q" in given:
        if len(given["q"]) > openapi.MAX_QUERY:
            errors["q"] = _("Search for %(max)s characters or fewer", max=openapi.MAX_QUERY)
        elif words := _printable(given["q"]).strip():
            keep("q", words)
    if "criterion" in given:
        if _CRITERION.fullmatch(given["criterion"]):
            keep("criterion", given["criterion"])
        else:
            errors["criterion"] = _("Give a criterion as <framework code>.<criterion code>, for "
                                    "example wellbeing-goals.healthier")
    if "authority" in given:
        number = _whole(given["authority"])
        if number is None or not 1 <= number <= openapi.MAX_ID:
            errors["authority"] = _("Give the authority's organisation id, a whole number")
        else:
            keep("authority", number)
    if "tag" in given:
        tag = " ".join(_printable(given["tag"]).split()).casefold()
        if len(given["tag"]) > openapi.MAX_TAG:
            errors["tag"] = _("A tag is %(max)s characters or fewer", max=openapi.MAX_TAG)
        elif tag:
            keep("tag", tag)
    if "outcome" in given:
        if given["outcome"] in openapi.OUTCOMES:
            keep("outcome", given["outcome"])
        else:
            errors["outcome"] = _choose(openapi.OUTCOMES)
    if "year" in given:
        year = _whole(given["year"])
        if year is None or not openapi.MIN_YEAR <= year <= openapi.MAX_YEAR:
            errors["year"] = _("Give a year as four digits, for example 2026")
        else:
            keep("year", year)
    if "sort" in given:
        if given["sort"] in SORTS:
            keep("sort", given["sort"])
        else:
            errors["sort"] = _choose(SORTS)
    if "page" in given:
        page = _whole(given["page"])
        if page is None or not 1 <= page <= openapi.MAX_PAGE:
            errors["page"] = _("Give a page number from 1 to %(max)s", max=openapi.MAX_PAGE)
        else:
            keep("page", page)
    if "per_page" in given:
        per_page = _whole(given["per_page"])
        if per_page is None or not 1 <= per_page <= MAX_PER_PAGE:
            errors["per_page"] = _("Give a number of results per page from 1 to %(max)s",
                                   max=MAX_PER_PAGE)
        else:
            keep("per_page", per_page)
    filters = Filters(query=values.get("q", ""), criterion=values.get("criterion", ""),
                      authority_id=values.get("authority"), tag=values.get("tag", ""),
                      outcome=values.get("outcome", ""), year=values.get("year"))
    ordered = {name: tidied[name] for name in openapi.LIST_PARAMETERS if name in tidied}
    query = CatalogueQuery(filters=filters, sort=values.get("sort", SORTS[0]),
                           page=values.get("page", 1), per_page=values.get("per_page", PER_PAGE),
                           args=ordered)
    return query, errors


def invalid_parameters(errors: Mapping[str, str]) -> Response:
    return error_response(400, _("Some parameters are not valid"), errors)


# --- shaping records for the public -------------------------------------------------------------

def money(pence: int | None) -> dict[str, Any] | None:
    """Integer pence as ``{"amount": pounds, "currency": "GBP"}`` (a whole number when it is)."""
    if pence is None:
        return None
    pounds, rest = divmod(int(pence), 100)
    return {"amount": pounds if rest == 0 else float(Decimal(int(pence)) / 100), "currency": "GBP"}


def _decimal(value: Any) -> str | None:
    if value is None:
        return None
    try:
        return format(Decimal(str(value)), "f")
    except InvalidOperation:
        return None


def _organisation(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": entry["organisation_id"], "name": entry["organisation"]}


def _when(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def summary_item(record: ChallengeRecord, lead_id: int | None, links: PublicLinks) -> dict[str, Any]:
    """A record as the catalogue lists it (from its columns, never its frozen content)."""
    return {
        "id": record.challenge_id, "ocid": links.ocid(record.challenge_id),
        "title": record.title, "title_cy": record.title_cy,
        "summary": record.summary, "summary_cy": record.summary_cy,
        "lead": {"id": lead_id, "name": record.lead_name},
        "outcome": record.outcome, "year": record.year,
        "budget": money(record.budget_pence),
        "published_at": _when(record.published_at),
        "links": links.record(record.challenge_id),
    }


def _phase(phase: Mapping[str, Any]) -> dict[str, Any]:
    decision = phase.get("decision")
    return {
        "position": phase["position"], "kind": phase["kind"], "status": phase["status"],
        "invitation_only": phase["invitation_only"],
        "opens_at": phase["opens_at"], "closes_at": phase["closes_at"],
        "opened_at": phase["opened_at"], "closed_at": phase["closed_at"],
        "planned_contracts": phase["planned_contracts"],
        "max_value": money(phase["max_value_pence"]),
        "duration_months": phase["duration_months"],
        "threshold_percent": phase["threshold_percent"],
        "outcome_share_percent": phase["outcome_share_percent"],
        "criteria": [{"id": c["id"], "framework": c["framework"],
                      "framework_version": c["framework_version"], "code": c["code"],
                      "kind": c["kind"], "name_en": c["name_en"], "name_cy": c["name_cy"],
                      "weight": c["weight"]} for c in phase["criteria"]],
        "measures": [{"id": m["id"], "name": m["name"], "unit": m["unit"],
                      "direction": m["direction"], "baseline": m["baseline"],
                      "target": m["target"], "framework": m["framework"], "code": m["code"],
                      "weight": m["weight"]} for m in phase["measures"]],
        "proposals_received": phase["proposals_received"],
        "statistics": phase["statistics"],
        "distribution": list(phase["distribution"]),
        "decision": None if decision is None else {
            "kind": decision["kind"], "recorded_at": decision["recorded_at"],
            "released_at": decision["released_at"], "reason": decision["reason"],
            "departs": decision["departs"], "selected": decision["selected"]},
        "ranked": [{"supplier": _organisation(r), "rank": r["rank"], "tied": r["tied"],
                    "total": r["total"], "eligible": r["eligible"], "finals": r["finals"],
                    "gates": r["gates"], "assessed": r.get("assessed"),
                    "outcome": r.get("outcome"), "selected": r["selected"],
                    "summary": r["summary"]} for r in phase["ranked"]],
        "entrants": [{"supplier": _organisation(e), "contract_value": money(e["contract_value_pence"]),
                      "starts_on": e["starts_on"], "ends_on": e["ends_on"],
                      "invited_at": e["invited_at"],
                      "results": [{"measure_id": r["measure_id"], "verified": r["verified"],
                                   "status": r["status"], "verified_at": r["verified_at"]}
                                  for r in e["results"]]} for e in phase["entrants"]],
        "contracts": [{"supplier": _organisation(c), "value": money(c["value_pence"]),
                       "starts_on": c["starts_on"], "ends_on": c["ends_on"],
                       "recorded_at": c["recorded_at"]} for c in phase["contracts"]],
    }


def _check_in(check_in: AdoptionCheckIn) -> dict[str, Any]:
    return {"months": check_in.months, "recorded_at": _when(check_in.recorded_at),
            "in_use": check_in.in_use, "used_by": check_in.used_by,
            "measure_values": {str(k): v for k, v in (
                (k, _decimal(v)) for k, v in (check_in.measure_values or {}).items())
                if v is not None}}


def public_record(content: Mapping[str, Any], *, check_ins: Iterable[AdoptionCheckIn],
                  reuse_count: int, links: PublicLinks) -> dict[str, Any]:
    """A record's frozen content as the API shows it (see the ``Challenge`` schema)."""
    c = content["challenge"]
    derived = c.get("derived_from")
    return {
        "id": c["id"], "ocid": links.ocid(c["id"]),
        "title": c["title"], "title_cy": c["title_cy"],
        "summary": c["summary"], "summary_cy": c["summary_cy"],
        "problem_statement": c["problem_statement"], "context": c["context"],
        "affected": c["affected"], "outcomes_sought": c["outcomes_sought"],
        "tags": list(c["tags"]), "outcome": content["outcome"], "version": c["version"],
        "opened_at": c["opened_at"], "in_progress_at": c["in_progress_at"],
        "concluded_at": c["concluded_at"], "cancelled_at": c["cancelled_at"],
        "cancel_reason": c["cancel_reason"],
        "derived_from": None if derived is None else {"id": derived["challenge_id"],
                                                      "title": derived["title"]},
        "lead": {"id": content["lead"]["organisation_id"], "name": content["lead"]["name"]},
        "funders": [{"id": f["organisation_id"], "name": f["name"], "role": f["role"],
                     "pledge": money(f["pledge_pence"])} for f in content["funders"]],
        "budget": money(content["budget_pence"]),
        "phases": [_phase(p) for p in content["phases"]],
        "clarifications": [{"question": q["question"], "answer": q["answer"],
                            "published_at": q["published_at"]} for q in content["clarifications"]],
        "amendments": [{"version": a["version"], "note": a["note"], "created_at": a["created_at"]}
                       for a in content["amendments"]],
        "lessons": {"worked": content["lessons"]["worked"],
                    "not_worked": content["lessons"]["not_worked"]},
        "assets": [{"title": a["title"], "url": a["url"], "licence": a["licence"],
                    "licence_name": a["licence_name"], "licence_url": a["licence_url"],
                    "description": a["description"]} for a in content["assets"]],
        "check_ins": [_check_in(ci) for ci in check_ins],
        "reuse_count": reuse_count,
        "published_at": content["published_at"],
        "licence": {"name": openapi.OGL_NAME, "url": openapi.OGL_URL,
                    "attribution": openapi.ATTRIBUTION},
        "links": links.record(c["id"]),
    }


# --- the endpoints ------------------------------------------------------------------------------

def _lead_ids(session: Any, challenge_ids: list[int]) -> dict[int, int]:
    if not challenge_ids:
        return {}
    return {cid: lead for cid, lead in session.execute(
        select(Challenge.id, Challenge.lead_organisation_id).where(Challenge.id.in_(challenge_ids)))}


@bp.get("/api/v1/challenges")
@limiter.limit(LIST_LIMIT)
def list_challenges():
    """The open catalogue as JSON: published records, filtered, searched, sorted, paginated."""
    query, errors = parse_catalogue(request.args, openapi.LIST_PARAMETERS)
    if errors:
        return invalid_parameters(errors)
    db = get_session()
    page = queries.catalogue(db, query.filters, sort=query.sort, page=query.page,
                             per_page=query.per_page)
    leads = _lead_ids(db, [r.challenge_id for r in page.items])
    links = PublicLinks()

    def at(number: int) -> str:
        args = {**query.args, "page": str(number)}
        return links.url("api.list_challenges",
                         **{name: args[name] for name in openapi.LIST_PARAMETERS if name in args})

    return json_response({
        "data": [summary_item(r, leads.get(r.challenge_id), links) for r in page.items],
        "meta": {"total": page.total, "page": page.page, "per_page": page.per_page,
                 "pages": page.pages},
        "links": {"self": links.url("api.list_challenges", **query.args),
                  "first": at(1), "last": at(page.pages),
                  "next": at(page.page + 1) if page.page < page.pages else None,
                  "prev": at(min(page.page - 1, page.pages)) if page.page > 1 else None},
    })


@bp.get("/api/v1/challenges/<int:challenge_id>")
def get_challenge(challenge_id: int):
    """One published record with its recorded adoption check-ins and how often it was reused."""
    db = get_session()
    record = records.published_record(db, challenge_id)
    check_ins = db.execute(
        select(AdoptionCheckIn).where(AdoptionCheckIn.challenge_id == challenge_id,
                                      AdoptionCheckIn.recorded_at.is_not(None))
        .order_by(AdoptionCheckIn.months)).scalars()
    return json_response(public_record(record.content, check_ins=list(check_ins),
                                       reuse_count=len(records.reuses(db, challenge_id)),
                                       links=PublicLinks()))


@bp.get("/api/v1/openapi.json", endpoint="openapi")
def openapi_document():
    """The OpenAPI 3.1 document describing this API."""
    return json_response(openapi.document(current_app.config["BASE_URL"]))


@bp.get("/api/<path:rest>")
def not_found(rest: str):
    """Any other address under /api/ is a JSON 404, not the site's HTML page."""
    return error_response(404, _("Not found"))
