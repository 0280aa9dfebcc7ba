"""The catalogue through the client: search, filters, sorting and pages narrow and order the
published records; bad query strings never break it; and the catalogue and a record's page
send as many SQL statements with three records as with eight.

A published world takes a couple of seconds to build, so beside one real published record the
tests add cheap copies: a draft challenge (through the service) whose record is the real one's
frozen content, retitled, inserted as published and indexed for search."""

from __future__ import annotations

import copy
import re
from datetime import datetime, timedelta

import pytest

from procure.bakeoff import rules as bakeoff_rules
from procure.bakeoff import services as bakeoff
from procure.challenges import services as challenges
from procure.record import rules, search
from procure.record import services as record_services
from procure.record.models import ChallengeRecord, RecordCriterion
from procure.record.rules import RecordStatus
from tests.challenges import service_builders as sb
from tests.challenges.builders import QueryCounter, text_of
from tests.conftest import sign_in
from tests.record import builders as rb

DAY = timedelta(days=1)
CRITERION = "solution-quality.technical_feasibility"


@pytest.fixture
def world(app, db, now):
    with app.app_context():
        return rb.concluded_world(db, now)


@pytest.fixture
def published(app, db, world):
    with app.app_context():
        return rb.publish(db, world)


def copy_record(db, source: ChallengeRecord, *, title: str, at: datetime, lead=None,
                outcome: str | None = None, year: int | None = None, tags: str = "",
                budget_pence: int | None = None, criteria: bool = True,
                title_cy: str = "") -> ChallengeRecord:
    """A published record whose content is ``source``'s, for a new draft challenge."""
    lead = lead or sb.editor()
    draft = sb.new_draft(db, at, lead, title=title)
    if tags:
        challenges.set_tags(db, actor=lead, challenge_id=draft.id, tags_text=tags, now=at)
    organisation = lead.membership.organisation
    content = copy.deepcopy(source.content)
    content["challenge"].update(id=draft.id, title=title, title_cy=title_cy,
                                tags=draft.tag_names)
    content["outcome"] = outcome or source.outcome
    content["lead"] = {"organisation_id": organisation.id, "name": organisation.name}
    record = ChallengeRecord(
        challenge_id=draft.id, status=RecordStatus.PUBLISHED, created_at=at, updated_at=at,
        published_at=at, content=content, outcome=content["outcome"],
        year=year or source.year, title=title, title_cy=title_cy, summary=source.summary,
        summary_cy="", lead_name=organisation.name,
        budget_pence=source.budget_pence if budget_pence is None else budget_pence)
    record.search_title, record.search_body = rules.search_text(content)
    db.add(record)
    db.flush()
    if criteria:
        for rc in db.query(RecordCriterion).filter_by(record_id=source.id):
            db.add(RecordCriterion(record_id=record.id, phase_position=rc.phase_position,
                                   criterion_id=rc.criterion_id, weight=rc.weight))
    search.index_record(db, record)
    db.commit()
    return record


def titles(response) -> list[str]:
    """The records listed, in order."""
    return re.findall(r'<h3 class="govuk-heading-m govuk-!-margin-bottom-2"><a class="govuk-link"'
                      r' href="/records/\d+">([^<]+)</a></h3>', text_of(response))


# --- search, filters and order ----------------------------------------------------------------

def test_search_and_each_filter_narrow_the_catalogue(client, db, world, published):
    at = published.published_at
    river_lead = sb.editor()
    rivers = copy_record(db, published, title="Cleaner rivers", at=at + DAY, lead=river_lead,
                         tags="water", outcome="no_award", year=2025, budget_pence=100)
    copy_record(db, published, title="Quieter roads", at=at + 2 * DAY, criteria=False,
                tags="transport")
    original = "Warmer homes, tested"

    everything = client.get("/catalogue")
    assert everything.status_code == 200
    assert titles(everything) == ["Quieter roads", "Cleaner rivers", original]  # newest first
    assert "3 records found" in text_of(everything)

    assert titles(client.get("/catalogue?q=rivers")) == ["Cleaner rivers"]
    assert "1 record found" in text_of(client.get("/catalogue?q=rivers"))
    # A word of the problem all three share, and one of the lessons.
    assert len(titles(client.get("/catalogue?q=valleys"))) == 3
    assert len(titles(client.get("/catalogue?q=prototypes+residents"))) == 3
    assert titles(client.get("/catalogue?q=zzzunfindable")) == []
    assert "No open record matches your search." in text_of(client.get("/catalogue?q=zzz"))

    assert titles(client.get(f"/catalogue?criterion={CRITERION}")) == ["Cleaner rivers",
                                                                        original]
    authority = river_lead.membership.organisation_id
    assert titles(client.get(f"/catalogue?authority={authority}")) == ["Cleaner rivers"]
    partner = world.partner.membership.organisation_id
    assert titles(client.get(f"/catalogue?authority={partner}")) == [original]  # co-funded
    assert titles(client.get("/catalogue?tag=transport")) == ["Quieter roads"]
    assert titles(client.get("/catalogue?tag=Housing")) == [original]
    assert titles(client.get("/catalogue?outcome=no_award")) == ["Cleaner rivers"]
    assert titles(client.get("/catalogue?outcome=awarded&q=valleys")) == ["Quieter roads",
                                                                           original]
    assert titles(client.get("/catalogue?year=2025")) == ["Cleaner rivers"]
    assert titles(client.get(f"/catalogue?year=2025&tag=water&criterion={CRITERION}")) == [
        "Cleaner rivers"]

    assert titles(client.get("/catalogue?sort=title")) == ["Cleaner rivers", "Quieter roads",
                                                            original]
    assert titles(client.get("/catalogue?sort=oldest")) == [original, "Cleaner rivers",
                                                             "Quieter roads"]
    assert titles(client.get("/catalogue?sort=budget"))[-1] == "Cleaner rivers"
    # The best match first: the title counts more than the rest.
    assert titles(client.get("/catalogue?q=rivers+valleys"))[0] == "Cleaner rivers"
    assert rivers.outcome == "no_award"


def test_each_result_shows_its_title_summary_authority_outcome_year_and_budget(
        client, db, world, published):
    copy_record(db, published, title="Cleaner rivers", at=published.published_at + DAY,
                lead=sb.editor(sb.authority(name="Conwy County Borough Council")),
                outcome="cancelled", year=2025, budget_pence=12_345_600, title_cy="Afonydd glân")
    text = text_of(client.get("/catalogue?q=rivers"))
    item = text[text.index("Cleaner rivers"):]
    assert "Led by Conwy County Borough Council" in item
    assert "Find and fix the coldest homes first." in item
    assert "Cancelled" in item and "2025" in item and "£123,456" in item
    # The filters offer what the records hold.
    assert '<option value="water"' not in text and '<option value="housing"' in text
    assert "Conwy County Borough Council</option>" in text
    assert '<option value="2025">2025</option>' in text
    assert f'<option value="{CRITERION}"' in text

    welsh = text_of(client.get("/catalogue?q=rivers&lang=cy"))
    assert '<html lang="cy"' in welsh and "Afonydd glân" in welsh
    assert "technical_feasibility</option>" in welsh  # the criterion's Welsh name


def test_the_catalogue_pages_twenty_records_at_a_time(client, db, published):
    at = published.published_at
    for n in range(21):
        copy_record(db, published, title=f"Record {n:02d}", at=at + (n + 1) * DAY)
    first = client.get("/catalogue?q=valleys&sort=oldest")
    assert "22 records found" in text_of(first)
    assert len(titles(first)) == 20
    assert 'href="/catalogue?q=valleys&amp;sort=oldest&amp;page=2"' in first.get_data(as_text=True)
    second = client.get("/catalogue?sort=oldest&page=2")
    assert titles(second) == ["Record 19", "Record 20"]
    assert 'class="govuk-pagination"' in text_of(second)

    beyond = client.get("/catalogue?sort=oldest&page=3")
    assert beyond.status_code == 200
    assert "There are no records on page 3." in text_of(beyond)
    assert 'href="/catalogue?sort=oldest">Go to the first page' in text_of(beyond)


BAD_QUERIES = [
    "page=0", "page=-1", "page=abc", "page=99999999999999999999", "page=3",
    "authority=abc", "authority=999999", "authority=1e5", "year=abc", "year=99999",
    "sort=evil", "sort=relevance", "sort=", "criterion=nothing.here", "criterion=",
    "outcome=won", "tag=%00%01", "tag=" + "x" * 500, "q=%00", "q=%22%27%3B--", "q=((NEAR",
    "q=" + "word+" * 300, "q=*", "q=AND+OR+NOT", "q=%E2%80%8F", "lang=xx", "q=a&q=b",
    "q=valleys&page=%FF", "criterion=solution-quality.technical_feasibility.x",
]


def test_bad_query_strings_are_ignored_not_failed(client, published):
    for query in BAD_QUERIES:
        response = client.get(f"/catalogue?{query}")
        assert response.status_code == 200, query
        assert "Open records" in text_of(response)
    # What cannot be read is dropped: the record is still listed.
    for query in ("authority=abc", "year=abc", "sort=evil", "criterion=nothing.here",
                  "outcome=won", "page=abc", "sort=relevance"):
        assert titles(client.get(f"/catalogue?{query}")) == ["Warmer homes, tested"], query


def test_an_empty_catalogue_says_so(client):
    response = client.get("/catalogue")
    assert response.status_code == 200
    assert "No records have been published yet." in text_of(response)
    assert client.get("/catalogue?lang=cy").status_code == 200


# --- a constant number of queries -----------------------------------------------------------------

def _statements(app, client, path: str) -> int:
    counter = QueryCounter(app)
    with counter:
        response = client.get(path)
    assert response.status_code == 200, path
    return counter.count


def _pages(world) -> list[str]:
    return ["/catalogue", "/catalogue?q=valleys&sort=title",
            f"/catalogue?criterion={CRITERION}&outcome=awarded&tag=housing&year=2027",
            f"/records/{world.challenge.id}", "/shared-values"]


def test_the_catalogue_and_a_record_page_send_as_many_queries_for_3_records_as_for_8(
        app, client, db, world, published):
    at = published.published_at
    for n in range(2):
        copy_record(db, published, title=f"Copy {n}", at=at + (n + 1) * DAY, tags="housing")
    reader = sb.editor()
    for page in _pages(world):  # warm up anything loaded once per process
        client.get(page)
    few = {p: _statements(app, client, p) for p in _pages(world)}
    sign_in(client, db, reader)
    few_signed_in = {p: _statements(app, client, p) for p in _pages(world)}

    for n in range(2, 7):
        copy_record(db, published, title=f"Copy {n}", at=at + (n + 1) * DAY, tags="housing")
    # The record gains reuses and a recorded adoption check-in: still one query for each.
    with app.app_context():
        for _ in range(2):
            record_services.reuse_record(db, actor=sb.editor(), challenge_id=world.challenge.id,
                                         now=at + DAY)
        due = bakeoff_rules.check_in_due_at(world.decision.released_at, 6)
        bakeoff.ask_for_check_ins(db, now=due)
        bakeoff.record_check_in(db, actor=world.lead, challenge_id=world.challenge.id,
                                months=6, in_use=True, used_by="Valleys Housing", notes="",
                                values={world.higher.id: "45"}, now=due + DAY)
    assert db.query(ChallengeRecord).filter_by(status=RecordStatus.PUBLISHED).count() == 8
    text = text_of(client.get(f"/records/{world.challenge.id}"))
    assert "This record has been reused 2 times." in text and "After 6 months" in text
    assert "Latest value of Homes fixed" in text and "Valleys Housing" in text
    assert "8 records found" in text_of(client.get("/catalogue"))

    many_signed_in = {p: _statements(app, client, p) for p in _pages(world)}
    with client.session_transaction() as session:
        session.clear()
    many = {p: _statements(app, client, p) for p in _pages(world)}
    assert many == few
    assert many_signed_in == few_signed_in


def test_what_a_record_holds_is_shown_as_text_never_as_markup(client, db, published):
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    copy = copy_record(db, published, title=attack, at=published.published_at + DAY,
                       tags="housing")
    for path in ("/catalogue", f"/records/{copy.challenge_id}"):
        html = client.get(path).get_data(as_text=True)
        assert attack not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(" in html


# --- a bounded count --------------------------------------------------------------------------

def test_the_catalogue_counts_a_common_search_only_so_far(app, client, db, published,
                                                            monkeypatch):
    from procure.record import queries
    from procure.record import views as record_views

    at = published.published_at
    for n in range(3):
        copy_record(db, published, title=f"Copy {n}", at=at + (n + 1) * DAY)
    assert "4 records found" in text_of(client.get("/catalogue?q=valleys"))
    monkeypatch.setattr(queries, "RANKED_CANDIDATES", 2)
    monkeypatch.setattr(record_views, "CATALOGUE_COUNT_LIMIT", 2)
    for path in ("/catalogue", "/catalogue?q=valleys"):
        text = text_of(client.get(path))
        assert "More than 2 records found" in text and "4 records found" not in text
        assert len(titles(client.get(path))) == 4  # the page itself is whole
    assert "Wedi canfod mwy na 2 o gofnodion" in text_of(client.get("/catalogue?q=valleys&lang=cy"))
    with app.app_context():
        everything = queries.Filters()
        exact = queries.catalogue(db, everything, per_page=1)
        assert (exact.total, exact.pages, exact.more) == (4, 4, False)
        bounded = queries.catalogue(db, everything, per_page=1, count_limit=2)
        # Counted one past the limit, and only the limit offered in pages.
        assert (bounded.total, bounded.pages, bounded.more) == (3, 2, True)
        assert [r.id for r in bounded.items] == [r.id for r in exact.items]
        within = queries.catalogue(db, everything, per_page=1, count_limit=4)
        assert (within.total, within.pages, within.more) == (4, 4, False)


# --- the shared layout, kept between requests ---------------------------------------------------

def _layout(response) -> str:
    html = response.get_data(as_text=True)
    html = re.sub(r'nonce="[^"]+"', "", html)
    html = re.sub(r'name="csrf_token" value="[^"]+"', "", html)
    return html[:html.index('<main')] + html[html.index('<footer'):]


def test_the_kept_layout_follows_the_language_the_reader_and_the_page(app, client, db, published):
    english = _layout(client.get("/catalogue?lang=en"))
    welsh = _layout(client.get("/catalogue?lang=cy"))
    assert welsh != english and '<html lang="cy"' in welsh and "Cymraeg" in english
    assert "English" in welsh and "Skip to main content" not in welsh
    assert _layout(client.get("/catalogue?lang=en")) == english  # kept, and the same
    record = _layout(client.get(f"/records/{published.challenge_id}?lang=en&x=1"))
    assert f'href="/records/{published.challenge_id}?lang=cy&amp;x=1"' in record
    challenges_nav = _layout(client.get("/challenges?lang=en"))
    assert challenges_nav.count('aria-current="true"') == 1
    assert 'href="/challenges" aria-current="true"' in challenges_nav
    assert challenges_nav != _layout(client.get("/cookies?lang=en"))

    sign_in(client, db, sb.editor())
    signed_in = _layout(client.get("/catalogue?lang=en"))
    assert "Sign out" in signed_in and "Your account" in signed_in and "Sign in" not in signed_in
    with client.session_transaction() as session:
        session.clear()
    assert "Sign out" not in _layout(client.get("/catalogue?lang=en"))
