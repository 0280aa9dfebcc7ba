"""The OpenAPI 3.1 document of the JSON API: the public contract of its parameters (names,
limits, allowed values — the views validate against these very constants) and of its
responses. OpenAPI 3.1 schemas are JSON Schema 2020-12, so a client (or a test) can check a
response with any JSON Schema validator.

Every object is closed (``additionalProperties: false``) and lists every property as required:
a field the API sends is documented, and a field documented is always sent (``null`` when there
is nothing to say)."""

from __future__ import annotations

from typing import Any

from procure.assessment.models import DecisionKind
from procure.bakeoff.models import ReportStatus
from procure.challenges.lifecycle import PhaseStatus
from procure.challenges.models import FunderRole, MeasureDirection, PhaseKind
from procure.record.queries import MAX_PER_PAGE, PER_PAGE
from procure.record.rules import LICENCES, SORTS, RecordOutcome
from procure.values.models import CriterionKind

API_VERSION = "1.0.0"
OGL_NAME, OGL_URL = LICENCES["OGL-UK-3.0"]
ATTRIBUTION = "Contains public sector information licensed under the Open Government Licence v3.0."
OCDS_DOCS = "https://standard.open-contracting.org/1.1/en/"
OCDS_RECORD_PACKAGE = "https://standard.open-contracting.org/1.1/en/schema/record_package/"
OCDS_RELEASE_PACKAGE = "https://standard.open-contracting.org/1.1/en/schema/release_package/"

# The catalogue's parameters, in the order they are documented and put into links.
LIST_PARAMETERS = ("q", "criterion", "authority", "tag", "outcome", "year", "sort", "page",
                   "per_page")
# Accepted anywhere on the site (the language switch) and otherwise ignored.
IGNORED_PARAMETERS = frozenset({"lang"})
MAX_QUERY = 200
MAX_TAG = 50
MAX_PAGE = 10_000
MAX_ID = 2**31 - 1  # ids are 4-byte integers
MIN_YEAR, MAX_YEAR = 1000, 9999
CRITERION_PATTERN = r"^[A-Za-z0-9_-]{1,60}\.[A-Za-z0-9_-]{1,60}$"
# An OCDS page's cursor: the record id and release position the page starts after.
# The id is a 4-byte integer (up to 2147483647), spelt out digit by digit.
_MAX_ID_DIGITS = (r"[1-9][0-9]{0,8}|1[0-9]{9}|20[0-9]{8}|21[0-3][0-9]{7}|214[0-6][0-9]{6}"
                  r"|2147[0-3][0-9]{5}|21474[0-7][0-9]{4}|214748[0-2][0-9]{3}|2147483[0-5][0-9]{2}"
                  r"|21474836[0-3][0-9]|214748364[0-7]")
CURSOR_PATTERN = rf"^({_MAX_ID_DIGITS})\.([0-9]{{1,6}})$"
OUTCOMES = tuple(o.value for o in RecordOutcome)

ref = "#/components/schemas/{}".format


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": ref(name)}


def _or_null(schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    return {**schema, "type": [schema["type"], "null"]}


def _object(properties: dict[str, Any], description: str = "") -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties,
                              "required": list(properties), "additionalProperties": False}
    if description:
        schema["description"] = description
    return schema


def _array(items: dict[str, Any], description: str = "") -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "array", "items": items}
    if description:
        schema["description"] = description
    return schema


def _enum(values: Any, description: str = "") -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "enum": [str(v) for v in values]}
    if description:
        schema["description"] = description
    return schema


TEXT = {"type": "string"}
INTEGER = {"type": "integer"}
BOOLEAN = {"type": "boolean"}
URL = {"type": "string", "format": "uri"}
TIME = {"type": "string", "format": "date-time",
        "description": "RFC 3339, with its time zone"}
DATE = {"type": "string", "format": "date"}
DECIMAL = {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$",
           "description": "A decimal number written as text, so that no precision is lost"}
ID_KEY = r"^[0-9]+$"


def _schemas() -> dict[str, Any]:
    by_criterion = ("Keyed by the phase criterion's `id` (see the phase's `criteria`)")
    return {
        "Money": _object({
            "amount": {"type": "number", "minimum": 0, "description": "In pounds"},
            "currency": {"const": "GBP"}}, "A sum of money"),
        "Organisation": _object({
            "id": {**INTEGER, "description": "The organisation's id on this platform, as the "
                                             "`authority` parameter takes it"},
            "name": TEXT}),
        "RecordLinks": _object({
            "self": {**URL, "description": "This record in the JSON API"},
            "html": {**URL, "description": "The record's public page"},
            "ocds": {**URL, "description": "The challenge's OCDS record package"}}),
        "ChallengeSummary": _object({
            "id": {**INTEGER, "description": "The challenge's id"},
            "ocid": {**TEXT, "description": "The challenge's Open Contracting ID"},
            "title": TEXT, "title_cy": {**TEXT, "description": "Welsh title, or empty"},
            "summary": TEXT, "summary_cy": {**TEXT, "description": "Welsh summary, or empty"},
            "lead": {**_ref("Organisation"), "description": "The lead authority"},
            "outcome": _enum(OUTCOMES),
            "year": {**_or_null(INTEGER), "description": "The year the challenge ended"},
            "budget": {**_ref("Money"), "description": "Every funder's pledge together"},
            "published_at": TIME,
            "links": _ref("RecordLinks")}, "A published record, as the catalogue lists it"),
        "PageMeta": _object({
            "total": {**INTEGER, "minimum": 0, "description": "Records matching, on every page"},
            "page": {**INTEGER, "minimum": 1},
            "per_page": {**INTEGER, "minimum": 1, "maximum": MAX_PER_PAGE},
            "pages": {**INTEGER, "minimum": 1}}),
        "PageLinks": _object({
            "self": URL, "first": URL, "last": URL,
            "next": {**_or_null(URL), "description": "null on the last page"},
            "prev": {**_or_null(URL), "description": "null on the first page"}}),
        "ChallengeList": _object({
            "data": _array(_ref("ChallengeSummary")),
            "meta": _ref("PageMeta"),
            "links": _ref("PageLinks")}),
        "Funder": _object({
            "id": INTEGER, "name": TEXT, "role": _enum(FunderRole),
            "pledge": _ref("Money")}, "An authority that funded the challenge"),
        "Criterion": _object({
            "id": {**INTEGER, "description": "The phase criterion's id: the key of `finals`, "
                                             "`gates` and `statistics.criteria`"},
            "framework": {**TEXT, "description": "The shared value framework's code"},
            "framework_version": INTEGER,
            "code": {**TEXT, "description": "The criterion's code in its framework; "
                                            "`<framework>.<code>` is the `criterion` filter"},
            "kind": _enum(CriterionKind),
            "name_en": TEXT, "name_cy": TEXT,
            "weight": {**_or_null(INTEGER), "description": "Percent; null for a pass/fail gate"}}),
        "Measure": _object({
            "id": {**INTEGER, "description": "The key of results and check-in values"},
            "name": TEXT, "unit": TEXT, "direction": _enum(MeasureDirection),
            "baseline": _or_null(DECIMAL), "target": _or_null(DECIMAL),
            "framework": TEXT, "code": TEXT,
            "weight": {**_or_null(INTEGER), "description": "Percent of the outcome score"}},
            "An outcome measure of a bake-off"),
        "CriterionStatistics": _object({
            "mean": _or_null(DECIMAL), "min": _or_null(DECIMAL), "max": _or_null(DECIMAL),
            "counts": _array({**INTEGER, "minimum": 0},
                             "How many final scores fell on 0, 1, 2, 3 and 4")}),
        "Statistics": _object({
            "received": {**INTEGER, "minimum": 0}, "eligible": {**INTEGER, "minimum": 0},
            "above_threshold": {**INTEGER, "minimum": 0},
            "total_bands": _array({**INTEGER, "minimum": 0},
                                  "How many totals fell in each tenth of 0–100"),
            "total_min": _or_null(DECIMAL), "total_median": _or_null(DECIMAL),
            "total_max": _or_null(DECIMAL),
            "criteria": {"type": "object", "description": by_criterion,
                         "propertyNames": {"pattern": ID_KEY},
                         "additionalProperties": _ref("CriterionStatistics")}},
            "The assessment's anonymous statistics"),
        "Decision": _object({
            "kind": _enum(DecisionKind), "recorded_at": _or_null(TIME),
            "released_at": _or_null(TIME),
            "reason": {**TEXT, "description": "The rationale, including any departure from the "
                                              "ranking"},
            "departs": {**BOOLEAN, "description": "Whether the choice departs from the ranking"},
            "selected": {**INTEGER, "minimum": 0, "description": "How many were selected"}}),
        "RankedSupplier": _object({
            "supplier": _ref("Organisation"),
            "rank": INTEGER, "tied": BOOLEAN, "total": DECIMAL, "eligible": BOOLEAN,
            "finals": {"type": "object", "description": "Final score per criterion. " + by_criterion,
                       "propertyNames": {"pattern": ID_KEY},
                       "additionalProperties": DECIMAL},
            "gates": {"type": "object", "description": "Gate passed? " + by_criterion,
                      "propertyNames": {"pattern": ID_KEY},
                      "additionalProperties": {"type": ["boolean", "null"]}},
            "assessed": {**_or_null(DECIMAL), "description": "Bake-off: the assessed part"},
            "outcome": {**_or_null(DECIMAL), "description": "Bake-off: the measured part"},
            "selected": BOOLEAN,
            "summary": {**TEXT, "description": "The supplier's public summary, if it agreed to "
                                               "publish it; otherwise empty"}},
            "A shortlisted or winning supplier's result (other suppliers are never named)"),
        "MeasuredResult": _object({
            "measure_id": INTEGER, "verified": _or_null(DECIMAL), "status": _enum(ReportStatus),
            "verified_at": _or_null(TIME)}),
        "Entrant": _object({
            "supplier": _ref("Organisation"), "contract_value": _or_null(_ref("Money")),
            "starts_on": _or_null(DATE), "ends_on": _or_null(DATE),
            "invited_at": _or_null(TIME),
            "results": _array(_ref("MeasuredResult"))}, "A bake-off entrant"),
        "Contract": _object({
            "supplier": _ref("Organisation"), "value": _ref("Money"),
            "starts_on": _or_null(DATE), "ends_on": _or_null(DATE),
            "recorded_at": _or_null(TIME)}, "An award contract"),
        "Phase": _object({
            "position": {**INTEGER, "minimum": 1}, "kind": _enum(PhaseKind),
            "status": _enum(PhaseStatus), "invitation_only": BOOLEAN,
            "opens_at": _or_null(TIME), "closes_at": _or_null(TIME),
            "opened_at": _or_null(TIME), "closed_at": _or_null(TIME),
            "planned_contracts": _or_null(INTEGER), "max_value": _or_null(_ref("Money")),
            "duration_months": _or_null(INTEGER), "threshold_percent": _or_null(INTEGER),
            "outcome_share_percent": _or_null(INTEGER),
            "criteria": _array(_ref("Criterion")), "measures": _array(_ref("Measure")),
            "proposals_received": {**INTEGER, "minimum": 0},
            "statistics": _or_null(_ref("Statistics")),
            "distribution": _array(DECIMAL, "Every proposal's total, highest first, anonymous"),
            "decision": _or_null(_ref("Decision")),
            "ranked": _array(_ref("RankedSupplier")),
            "entrants": _array(_ref("Entrant")),
            "contracts": _array(_ref("Contract"))}),
        "Clarification": _object({"question": TEXT, "answer": TEXT,
                                  "published_at": _or_null(TIME)}),
        "Amendment": _object({"version": INTEGER, "note": TEXT, "created_at": _or_null(TIME)}),
        "Lessons": _object({"worked": TEXT, "not_worked": TEXT}),
        "Asset": _object({
            "title": TEXT, "url": URL, "licence": _enum(LICENCES), "licence_name": TEXT,
            "licence_url": {**TEXT, "description": "Empty for a proprietary licence"},
            "description": TEXT}, "Something another authority can reuse"),
        "CheckIn": _object({
            "months": {**INTEGER, "description": "Months after the award"},
            "recorded_at": TIME, "in_use": _or_null(BOOLEAN), "used_by": TEXT,
            "measure_values": {"type": "object",
                               "description": "The latest value of each outcome measure, keyed "
                                              "by the measure's `id`",
                               "propertyNames": {"pattern": ID_KEY},
                               "additionalProperties": DECIMAL}},
            "The lead authority's answer, some months after the award: is the solution in use?"),
        "Licence": _object({"name": {"const": OGL_NAME}, "url": {"const": OGL_URL},
                            "attribution": {"const": ATTRIBUTION}}),
        "DerivedFrom": _object({"id": INTEGER, "title": TEXT},
                               "The challenge this one reused"),
        "Challenge": _object({
            "id": INTEGER, "ocid": TEXT,
            "title": TEXT, "title_cy": TEXT, "summary": TEXT, "summary_cy": TEXT,
            "problem_statement": {**TEXT, "description": "Markdown"},
            "context": TEXT, "affected": TEXT, "outcomes_sought": TEXT,
            "tags": _array(TEXT),
            "outcome": _enum(OUTCOMES),
            "version": {**INTEGER, "description": "The public version: amendments add one"},
            "opened_at": _or_null(TIME), "in_progress_at": _or_null(TIME),
            "concluded_at": _or_null(TIME), "cancelled_at": _or_null(TIME),
            "cancel_reason": TEXT,
            "derived_from": _or_null(_ref("DerivedFrom")),
            "lead": _ref("Organisation"),
            "funders": _array(_ref("Funder")),
            "budget": _ref("Money"),
            "phases": _array(_ref("Phase")),
            "clarifications": _array(_ref("Clarification")),
            "amendments": _array(_ref("Amendment")),
            "lessons": _ref("Lessons"),
            "assets": _array(_ref("Asset")),
            "check_ins": _array(_ref("CheckIn"), "Adoption check-ins recorded so far"),
            "reuse_count": {**INTEGER, "minimum": 0,
                            "description": "How many challenges reused this record"},
            "published_at": TIME,
            "licence": _ref("Licence"),
            "links": _ref("RecordLinks")},
            "A challenge's open record, frozen when it was published"),
        "Error": _object({
            "status": INTEGER, "title": TEXT,
            "errors": {"type": "object", "additionalProperties": TEXT,
                       "description": "Parameter name → what is wrong with it (400); empty "
                                      "otherwise"}}),
    }


def _parameters() -> dict[str, Any]:
    def query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
        return {"name": name, "in": "query", "required": False, "allowEmptyValue": True,
                "schema": schema, "description": description}

    return {
        "q": query("q", {"type": "string", "maxLength": MAX_QUERY},
                   "Words to search for in the title, problem, outcomes, lessons and tags. "
                   "With `sort=relevance` (the default) the best matches come first."),
        "criterion": query("criterion", {"type": "string", "pattern": CRITERION_PATTERN},
                           "Records that used this criterion of a shared value framework, as "
                           "`<framework code>.<criterion code>` (any version of the framework), "
                           "e.g. `wellbeing-goals.healthier`."),
        "authority": query("authority", {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                           "Records an authority led or co-funded: its organisation id."),
        "tag": query("tag", {"type": "string", "maxLength": MAX_TAG},
                     "Records with this tag (case and spacing do not matter)."),
        "outcome": query("outcome", _enum(OUTCOMES), "How the challenge ended."),
        "year": query("year", {"type": "integer", "minimum": MIN_YEAR, "maximum": MAX_YEAR},
                      "The year the challenge ended."),
        "sort": query("sort", {**_enum(SORTS), "default": SORTS[0]},
                      "`relevance` (best match first when searching, otherwise newest first), "
                      "`newest` or `oldest` published, `title` (A–Z), `budget` (largest "
                      "first)."),
        "page": query("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE,
                               "default": 1}, "The page of results."),
        "per_page": query("per_page", {"type": "integer", "minimum": 1,
                                       "maximum": MAX_PER_PAGE, "default": PER_PAGE},
                          "Results per page."),
        "challenge_id": {"name": "challenge_id", "in": "path", "required": True,
                         "schema": {"type": "integer", "minimum": 1},
                         "description": "The challenge's id"},
        "cursor": {"name": "cursor", "in": "query", "required": False, "allowEmptyValue": True,
                   "schema": {"type": "string", "pattern": CURSOR_PATTERN},
                   "description": "Where the page starts: leave it out for the first page, "
                                  "then use the address in `links.next`"},
        "ocid": {"name": "ocid", "in": "path", "required": True, "schema": {"type": "string"},
                 "description": "An ocid this platform published: a challenge's "
                                "(`<prefix>-CH-<id>`) or, where there is one, a phase's "
                                "(`<prefix>-CH-<id>-P<position>`)"},
    }


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


def _ocds(description: str, schema_url: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {
                "type": "object", "description": "Valid against the OCDS 1.1 schema",
                "externalDocs": {"url": schema_url}}}}}


def document(base_url: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the API served at ``base_url``."""
    parameter = "#/components/parameters/{}".format
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Procure open data API",
            "version": API_VERSION,
            "summary": "Published challenge records: the catalogue, each record, and OCDS.",
            "description": (
                "Read-only JSON over the open records of challenges whose lead authority has "
                "published them. Nothing here is secret: proposal content, assessors' scores "
                "and comments, unsuccessful suppliers' names and personal data are never "
                "published.\n\n"
                "Every response is `application/json` in UTF-8 and may be read from any "
                "origin (`Access-Control-Allow-Origin: *`). A parameter the operation does "
                "not define is refused with 400 naming it (only `lang`, the site's language "
                "switch, is accepted and ignored); so is a parameter given twice, or one whose "
                "value is not allowed (values are taken as given: no spaces around them). An "
                "empty value counts as not given (`allowEmptyValue`). Errors are JSON "
                "too (`Error`).\n\n"
                f"The data is licensed under the {OGL_NAME}: when you use it, say "
                f"\"{ATTRIBUTION}\""),
            "license": {"name": OGL_NAME, "url": OGL_URL},
        },
        "externalDocs": {"description": "What is published, when, and the licence",
                         "url": f"{base_url}/open-data"},
        "servers": [{"url": base_url}],
        "tags": [{"name": "records", "description": "Published challenge records"},
                 {"name": "ocds", "description": "The same records as Open Contracting Data "
                                                 "Standard 1.1",
                  "externalDocs": {"url": OCDS_DOCS}},
                 {"name": "meta", "description": "This document"}],
        "paths": {
            "/api/v1/challenges": {"get": {
                "operationId": "listChallenges", "tags": ["records"],
                "summary": "The catalogue of published records",
                "description": "Published records, filtered, searched, sorted and a page at a "
                               "time. The filters combine (all must match).",
                "parameters": [{"$ref": parameter(p)} for p in LIST_PARAMETERS],
                "responses": {
                    "200": _json(_ref("ChallengeList"), "A page of published records"),
                    "400": _error("A parameter is unknown, repeated or not allowed"),
                    "429": _error("Too many requests: wait as long as `Retry-After` says"),
                }}},
            "/api/v1/challenges/{challenge_id}": {"get": {
                "operationId": "getChallenge", "tags": ["records"],
                "summary": "One published record",
                "description": "The record as frozen at publication, with the adoption "
                               "check-ins recorded since and how often it was reused.",
                "parameters": [{"$ref": parameter("challenge_id")}],
                "responses": {
                    "200": _json(_ref("Challenge"), "The published record"),
                    "404": _error("No published record for this challenge"),
                }}},
            "/api/v1/openapi.json": {"get": {
                "operationId": "getOpenAPI", "tags": ["meta"],
                "summary": "This OpenAPI 3.1 document",
                "responses": {"200": _json({"type": "object"}, "The document")}}},
            "/api/v1/ocds/records/{ocid}": {"get": {
                "operationId": "getOCDSRecord", "tags": ["ocds"],
                "summary": "The OCDS record package of one contracting or planning process",
                "description": "An OCDS 1.1 record package: the releases published for the "
                               "ocid and their compiled release.",
                "externalDocs": {"url": OCDS_RECORD_PACKAGE},
                "parameters": [{"$ref": parameter("ocid")}],
                "responses": {
                    "200": _ocds("An OCDS 1.1 record package", OCDS_RECORD_PACKAGE),
                    "404": _error("This platform published no such ocid"),
                }}},
            "/api/v1/ocds/releases": {"get": {
                "operationId": "listOCDSReleases", "tags": ["ocds"],
                "summary": "Published OCDS releases, a page at a time",
                "description": "An OCDS 1.1 release package; follow `links.next` for the "
                               "next page.",
                "externalDocs": {"url": OCDS_RELEASE_PACKAGE},
                "parameters": [{"$ref": parameter("cursor")}],
                "responses": {
                    "200": _ocds("An OCDS 1.1 release package", OCDS_RELEASE_PACKAGE),
                    "400": _error("A parameter is unknown, or the cursor is not one of ours"),
                }}},
        },
        "components": {"schemas": _schemas(), "parameters": _parameters()},
    }
