"""Open data beyond OCDS: the catalogue as CSV, the Atom feeds, and the open-data page.

The CSV is UTF-8 without a byte-order mark (RFC 4180, CRLF line ends): what data tools expect;
the open-data page tells spreadsheet users how to open it as UTF-8. Cells that a spreadsheet
would run as a formula get a leading apostrophe. The feeds are in English (a Welsh title, where
there is one, goes into the summary)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from feedgen.feed import FeedGenerator
from flask import Response, current_app, render_template, request, stream_with_context
from sqlalchemy import select
from sqlalchemy.orm import load_only, selectinload

from procure.api import openapi
from procure.api.views import FILTER_PARAMETERS, PublicLinks, parse_catalogue
from procure.challenges.lifecycle import PUBLIC_STATUSES
from procure.challenges.models import Challenge
from procure.db import get_session, utcnow
from procure.extensions import limiter
from procure.record import queries
from procure.record.blueprint import bp
from procure.record.models import ChallengeRecord

CSV_COLUMNS = ("id", "ocid", "title", "title_cy", "summary", "summary_cy", "lead_authority",
               "lead_authority_id", "funders", "outcome", "year", "budget_gbp", "published_at",
               "tags", "record_url", "api_url", "ocds_url")
CSV_TYPE = "text/csv; charset=utf-8"
CSV_LIMIT = "30 per minute"
FLUSH_AT = 64 * 1024          # bytes of CSV sent at a time
FEED_SIZE = 50
ATOM_TYPE = "application/atom+xml; charset=utf-8"
# A spreadsheet runs a cell starting with one of these as a formula (OWASP: CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
EXAMPLE_CHALLENGE = 42       # the open-data page's example of an ocid


# --- the catalogue as CSV -----------------------------------------------------------------------

def safe_cell(value: Any) -> str:
    """The cell's text, with a leading apostrophe if a spreadsheet would run it as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _pounds(pence: int) -> str:
    pounds, rest = divmod(int(pence), 100)
    return f"{pounds}.{rest:02d}"


def csv_row(record: ChallengeRecord, links: PublicLinks) -> list[str]:
    """One published record as a CSV row: its columns and what its frozen content holds."""
    content = record.content or {}
    lead = content.get("lead", {})
    cid = record.challenge_id
    row = [cid, links.ocid(cid), record.title, record.title_cy, record.summary,
           record.summary_cy, record.lead_name, lead.get("organisation_id"),
           "; ".join(f["name"] for f in content.get("funders", ())), record.outcome,
           record.year, _pounds(record.budget_pence),
           record.published_at.isoformat() if record.published_at else "",
           "; ".join(content.get("challenge", {}).get("tags", ())),
           links.url("record.show_record", challenge_id=cid),
           links.url("api.get_challenge", challenge_id=cid),
           links.url("api.ocds_record", ocid=links.ocid(cid))]
    return [safe_cell(v) for v in row]


@bp.get("/data/catalogue.csv")
@limiter.limit(CSV_LIMIT)
def catalogue_csv():
    """Every published record as CSV (optionally filtered as the catalogue is), streamed in
    batches so that memory stays flat however many records there are."""
    query, errors = parse_catalogue(request.args, FILTER_PARAMETERS)
    if errors:
        text = "".join(f"{name}: {message}\n" for name, message in errors.items())
        return Response(text, status=400, content_type="text/plain; charset=utf-8")
    links = PublicLinks()

    def rows() -> Iterator[str]:
        # The session is taken here, in the context the stream runs in (the view's own context
        # has been torn down by the time the body is sent), and closed when the stream ends.
        db = get_session()
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        try:
            for record in queries.stream(db, query.filters):
                writer.writerow(csv_row(record, links))
                if buffer.tell() >= FLUSH_AT:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
            yield buffer.getvalue()
        finally:
            db.close()

    response = Response(stream_with_context(rows()), content_type=CSV_TYPE)
    response.headers["Content-Disposition"] = 'attachment; filename="procure-catalogue.csv"'
    return response


# --- the Atom feeds -----------------------------------------------------------------------------

def _summary(summary: str, title_cy: str) -> str:
    return f"{summary}\n\nWelsh title: {title_cy}" if title_cy else summary


def _feed(links: PublicLinks, *, endpoint: str, title: str, subtitle: str,
          alternate: str, entries: list[dict[str, Any]]) -> Response:
    own = links.url(endpoint)
    publisher = current_app.config["PUBLISHER_NAME"]
    fg = FeedGenerator()
    fg.id(own)
    fg.title(f"{publisher}: {title}")
    fg.subtitle(subtitle)
    fg.link(href=own, rel="self", type="application/atom+xml")
    fg.link(href=alternate, rel="alternate", type="text/html")
    fg.author({"name": publisher, "uri": links.url("pages.show_home")})
    fg.rights(openapi.ATTRIBUTION)
    fg.language("en")
    updated: datetime | None = None
    for e in entries:
        fe = fg.add_entry(order="append")
        fe.id(e["url"])
        fe.title(e["title"])
        fe.summary(e["summary"])
        fe.link(href=e["url"], rel="alternate", type="text/html")
        fe.author({"name": e["author"]})
        fe.published(e["when"])
        fe.updated(e["when"])
        fe.rights(openapi.ATTRIBUTION)
        for tag in e.get("tags", ()):
            fe.category(term=tag)
        updated = max(updated, e["when"]) if updated else e["when"]
    fg.updated(updated or utcnow())
    return Response(fg.atom_str(pretty=True), content_type=ATOM_TYPE)


@bp.get("/feeds/challenges.atom")
def challenges_feed():
    """The 50 challenges opened most recently (never a draft), newest first."""
    challenges = get_session().execute(
        select(Challenge).where(Challenge.opened_at.is_not(None),
                                Challenge.status.in_(sorted(PUBLIC_STATUSES)))
        .options(selectinload(Challenge.lead_organisation), selectinload(Challenge.tags))
        .order_by(Challenge.opened_at.desc(), Challenge.id.desc()).limit(FEED_SIZE)).scalars()
    links = PublicLinks()
    entries = [{"url": links.url("challenges.show_challenge", challenge_id=c.id),
                "title": c.title, "summary": _summary(c.summary, c.title_cy),
                "author": c.lead_organisation.name, "when": c.opened_at, "tags": c.tag_names}
               for c in challenges]
    return _feed(links, endpoint="record.challenges_feed", title="newly opened challenges",
                 subtitle="Challenges public authorities have opened to proposals",
                 alternate=links.url("challenges.list_challenges"), entries=entries)


@bp.get("/feeds/records.atom")
def records_feed():
    """The 50 open records published most recently, newest first."""
    published = get_session().execute(
        queries.published().options(load_only(*queries.LISTING_COLUMNS))
        .order_by(ChallengeRecord.published_at.desc(), ChallengeRecord.id.desc())
        .limit(FEED_SIZE)).scalars()
    links = PublicLinks()
    entries = [{"url": links.url("record.show_record", challenge_id=r.challenge_id),
                "title": r.title, "summary": _summary(r.summary, r.title_cy),
                "author": r.lead_name, "when": r.published_at} for r in published]
    return _feed(links, endpoint="record.records_feed", title="newly published records",
                 subtitle="The open records of concluded and cancelled challenges",
                 alternate=links.url("record.catalogue"), entries=entries)


# --- the open-data page -------------------------------------------------------------------------

@bp.get("/open-data")
def open_data():
    """What is published, in which formats and where, under which licence, and when (the
    publication policy OCDS packages point to)."""
    links = PublicLinks()
    addresses = {
        "catalogue": links.url("record.catalogue"),
        "api": links.url("api.list_challenges"),
        "openapi": links.url("api.openapi"),
        "ocds_record": links.url("api.ocds_record", ocid=links.ocid(EXAMPLE_CHALLENGE)),
        "ocds_releases": links.url("api.ocds_releases"),
        "ocds_bulk": links.url("api.ocds_bulk"),
        "ocds_extension": links.url("api.ocds_extension"),
        "csv": links.url("record.catalogue_csv"),
        "challenges_feed": links.url("record.challenges_feed"),
        "records_feed": links.url("record.records_feed"),
        "shared_values": links.url("record.shared_values"),
    }
    return render_template("record/open_data.html", addresses=addresses,
                           ocid_prefix=links.prefix, example_challenge=EXAMPLE_CHALLENGE,
                           csv_columns=CSV_COLUMNS, feed_size=FEED_SIZE)
