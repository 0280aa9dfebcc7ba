"""Open data beyond OCDS: the catalogue as CSV, the Atom feeds of opened challenges and of
published records, and the open-data page (the publication policy) in English and Welsh."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET

import pytest

from procure.challenges import services as challenges
from procure.record.open_data_views import CSV_COLUMNS, safe_cell
from tests.bakeoff import builders as bb
from tests.challenges import service_builders as sb
from tests.record import builders as rb

BASE = "http://procure.test"
ATOM = "{http://www.w3.org/2005/Atom}"
ATTRIBUTION = ("Contains public sector information licensed under the Open Government Licence "
               "v3.0.")
OGL_EN = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
OGL_CY = "https://www.nationalarchives.gov.uk/doc/open-government-licence-cymraeg/version/3/"
FORMULA = '=HYPERLINK("https://evil.example/","Click")'


def _organisation(user):
    return user.membership.organisation


def _csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="procure-catalogue.csv"'
    text = response.get_data().decode("utf-8")
    assert text.startswith("id,ocid,")  # no byte-order mark
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert tuple(rows[0]) == CSV_COLUMNS
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


# --- the CSV ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "cell"), [
    ("=1+1", "'=1+1"), ("+44 29 2000 0000", "'+44 29 2000 0000"), ("-2", "'-2"),
    ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("Warmer homes", "Warmer homes"), ("a=b", "a=b"), (None, ""), (2027, "2027"),
])
def test_a_cell_a_spreadsheet_would_run_gets_an_apostrophe(value, cell):
    assert safe_cell(value) == cell


def test_the_catalogue_csv_has_one_row_per_published_record(app, client, db, now):
    with app.app_context():  # the services' e-mails link to the site
        awarded = bb.bake_off_world(db, now, code="csv-awarded", partner=True)
        # An authority whose name a spreadsheet would run as a formula.
        _organisation(awarded.lead).name = FORMULA
        db.commit()
        bb.full_bake_off(db, awarded)
        bb.award(db, awarded)
        rb.publish(db, awarded)
        cancelled = bb.bake_off_world(db, now, code="csv-cancelled", suppliers=2)
        challenges.cancel_challenge(db, actor=cancelled.lead, challenge_id=cancelled.challenge.id,
                                    reason="The service was taken over by the health board",
                                    now=cancelled.decided_at + rb.DAY)
        rb.publish(db, cancelled, at=cancelled.decided_at + 2 * rb.DAY)
        sb.new_draft(db, now, sb.editor(), title="A draft nobody may see")
    response = client.get("/data/catalogue.csv")
    assert response.is_streamed
    rows = _csv(response)
    assert [int(r["id"]) for r in rows] == [awarded.challenge.id, cancelled.challenge.id]

    row = rows[0]
    cid = awarded.challenge.id
    partner = _organisation(awarded.partner)
    assert row["lead_authority"] == "'" + FORMULA  # shown as text, never run
    assert row == {
        "id": str(cid), "ocid": f"ocds-procur-CH-{cid}", "title": "Warmer homes, tested",
        "title_cy": "", "summary": "Find and fix the coldest homes first.", "summary_cy": "",
        "lead_authority": "'" + FORMULA, "lead_authority_id": str(_organisation(awarded.lead).id),
        "funders": f"'{FORMULA}; {partner.name}", "outcome": "awarded", "year": "2027",
        "budget_gbp": "60000.00", "published_at": "2027-01-25T10:00:00+00:00",
        "tags": "energy; housing", "record_url": f"{BASE}/records/{cid}",
        "api_url": f"{BASE}/api/v1/challenges/{cid}",
        "ocds_url": f"{BASE}/api/v1/ocds/records/ocds-procur-CH-{cid}"}
    assert rows[1]["outcome"] == "cancelled"
    assert rows[1]["funders"] == _organisation(cancelled.lead).name

    body = response.get_data(as_text=True)
    assert _organisation(awarded.suppliers[2]).name not in body  # never shortlisted
    assert "A draft nobody may see" not in body

    # The catalogue's filters narrow it.
    lead_id = _organisation(awarded.lead).id
    assert [r["id"] for r in _csv(client.get("/data/catalogue.csv?outcome=cancelled"))] == [
        str(cancelled.challenge.id)]
    assert [r["id"] for r in _csv(client.get(f"/data/catalogue.csv?authority={lead_id}"))] == [
        str(cid)]
    assert [r["id"] for r in _csv(client.get(f"/data/catalogue.csv?authority={partner.id}"))] == [
        str(cid)]
    assert _csv(client.get("/data/catalogue.csv?year=2020&lang=cy")) == []
    assert len(_csv(client.get("/data/catalogue.csv?tag=housing"))) == 2


@pytest.mark.parametrize(("query", "named"), [
    ("outcome=won", "outcome"), ("year=soon", "year"), ("q=homes", "q"), ("page=2", "page"),
    ("tag=a&tag=b", "tag"),
])
def test_a_bad_csv_filter_is_a_400_that_names_it(client, query, named):
    response = client.get(f"/data/catalogue.csv?{query}")
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.get_data(as_text=True).startswith(f"{named}: ")


# --- the feeds ----------------------------------------------------------------------------------

def _feed(response) -> ET.Element:
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    feed = ET.fromstring(response.get_data())  # noqa: S314 - our own feed, in a test
    assert feed.tag == f"{ATOM}feed"
    assert feed.findtext(f"{ATOM}rights") == ATTRIBUTION
    assert feed.findtext(f"{ATOM}updated")
    return feed


def _entries(feed: ET.Element) -> list[dict[str, str]]:
    return [{"id": e.findtext(f"{ATOM}id"), "title": e.findtext(f"{ATOM}title"),
             "link": e.find(f"{ATOM}link").get("href"),
             "author": e.findtext(f"{ATOM}author/{ATOM}name"),
             "summary": e.findtext(f"{ATOM}summary"), "updated": e.findtext(f"{ATOM}updated"),
             "categories": [c.get("term") for c in e.findall(f"{ATOM}category")]}
            for e in feed.findall(f"{ATOM}entry")]


def test_the_feeds_list_opened_challenges_and_published_records_never_drafts(
        app, client, db, now):
    with app.app_context():
        world = rb.concluded_world(db, now)
        rb.publish(db, world)
        # Opened later: a challenge with a Welsh title.
        later = now + rb.DAY
        editor = sb.editor()
        fresh = sb.complete_draft(db, later, editor, sb.framework(db, later, code="feed-values"),
                                  title="Quieter streets", tags="transport")
        challenges.update_welsh(db, actor=editor, challenge_id=fresh.id,
                                title_cy="Strydoedd tawelach", summary_cy="", now=later)
        challenges.publish_challenge(db, actor=editor, challenge_id=fresh.id, now=later)
        sb.new_draft(db, now, sb.editor(), title="A draft nobody may see")

    opened = _feed(client.get("/feeds/challenges.atom"))
    assert opened.findtext(f"{ATOM}id") == f"{BASE}/feeds/challenges.atom"
    assert opened.findtext(f"{ATOM}title") == "Procure: newly opened challenges"
    links = {link.get("rel"): link.get("href") for link in opened.findall(f"{ATOM}link")}
    assert links == {"self": f"{BASE}/feeds/challenges.atom", "alternate": f"{BASE}/challenges"}
    entries = _entries(opened)
    assert [e["title"] for e in entries] == ["Quieter streets", "Warmer homes, tested"]
    newest = entries[0]
    assert newest["link"] == newest["id"] == f"{BASE}/challenges/{fresh.id}"
    assert newest["author"] == _organisation(editor).name
    assert newest["summary"] == ("Find and fix the coldest homes first.\n\n"
                                 "Welsh title: Strydoedd tawelach")
    assert newest["updated"].startswith(later.date().isoformat())
    assert newest["categories"] == ["transport"]
    assert entries[1]["author"] == _organisation(world.lead).name
    text = client.get("/feeds/challenges.atom").get_data(as_text=True)
    assert "A draft nobody may see" not in text

    records = _feed(client.get("/feeds/records.atom"))
    assert records.findtext(f"{ATOM}title") == "Procure: newly published records"
    assert _entries(records) == [{
        "id": f"{BASE}/records/{world.challenge.id}", "title": "Warmer homes, tested",
        "link": f"{BASE}/records/{world.challenge.id}",
        "author": _organisation(world.lead).name,
        "summary": "Find and fix the coldest homes first.",
        "updated": "2027-01-25T10:00:00+00:00", "categories": []}]


def test_an_empty_feed_is_still_a_valid_feed(client, db):
    feed = _feed(client.get("/feeds/records.atom"))
    assert feed.findall(f"{ATOM}entry") == []
    assert feed.findtext(f"{ATOM}author/{ATOM}name") == "Procure"


# --- the page -----------------------------------------------------------------------------------

def test_the_open_data_page_says_where_everything_is_and_under_which_licence(client, db):
    response = client.get("/open-data")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert '<html lang="en"' in body
    assert "<h1 class=\"govuk-heading-xl\">Open data</h1>" in body
    # An example of a record package's address, and a link to each of the others.
    assert f"{BASE}/api/v1/ocds/records/ocds-procur-CH-42" in body
    for address in ("/catalogue", "/api/v1/challenges", "/api/v1/openapi.json",
                    "/api/v1/ocds/releases",
                    "/data/ocds/releases.json", "/ocds/extension.json", "/data/catalogue.csv",
                    "/feeds/challenges.atom", "/feeds/records.atom", "/shared-values"):
        assert f'href="{BASE}{address}"' in body, address
    assert f'href="{OGL_EN}" rel="license"' in body
    assert ATTRIBUTION in body
    for policy in ("What is never published", "the names of suppliers that were not shortlisted",
                   "the names, scores or comments of individual assessors", "Report a problem"):
        assert policy in body


def test_the_welsh_open_data_page_links_to_the_welsh_licence(client, db):
    response = client.get("/open-data?lang=cy")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert '<html lang="cy"' in body
    assert f'href="{OGL_CY}" rel="license"' in body
    assert f'href="{OGL_EN}"' not in body
