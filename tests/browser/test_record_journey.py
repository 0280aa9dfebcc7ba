"""An open record from the editors' first draft to its reuse, in real Chromium, on a council
challenge just concluded with an award to Bright: the lead's editor opens "Write the open
record" from the challenge's page and asks to publish it with no lessons written (the error
summary takes the focus and leads to the field); writes what worked and what did not, lists a
reusable asset, previews the record and publishes it. The page shows it publishing until the
job has run (the live server records the jobs it is given instead of sending them to a
broker: the test runs this one, as a worker would), then published, by itself. A visitor
switches to Welsh, searches the catalogue for a Welsh word of the title, narrows it down with
a well-being goal and the outcome, and opens the record. An editor of another verified
authority reuses it: a new draft, prefilled; the record counts it as reused (without naming
that authority while its challenge is an unpublished draft)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import (
    LEAD,
    RECORD_JOURNEY,
    RECORD_NO_AWARD,
    SEARCH_WORD,
    VALLEY,
    VALLEY_EDITOR,
    LiveServer,
    run_publication,
)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

TITLE, TITLE_CY = RECORD_JOURNEY
WORKED = "Walking the footpaths with residents after dark showed which lamps mattered most."
NOT_WORKED = "Asking for comments by letter reached too few of the people who walk at night."
ASSET = ("Lamp survey app", "https://example.org/lamp-survey",
         "The app residents used to mark dark stretches, with its source code.")
PUBLISH_TASK = "procure.record.publish"


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def success(page: Page):
    return page.locator(".govuk-notification-banner--success")


def status_tag(page: Page):
    return page.locator("#record-status .govuk-tag")


def results(page: Page):
    """The catalogue's results, one item a record."""
    return page.locator("main ul[aria-labelledby=result-count] > li")


def record_of(live_server: LiveServer, challenge_id: int) -> tuple[int, str]:
    """The challenge's record, as stored: (id, status)."""
    from sqlalchemy import select

    from procure.record.models import ChallengeRecord

    return live_server.run(lambda s: tuple(s.execute(
        select(ChallengeRecord.id, ChallengeRecord.status)
        .where(ChallengeRecord.challenge_id == challenge_id)).one()))


def derived_from(live_server: LiveServer, challenge_id: int) -> int | None:
    from procure.challenges.models import Challenge

    return live_server.run(lambda s: s.get(Challenge, challenge_id).derived_from_id)


def write_and_publish(lead: Page, live_server: LiveServer, c: int) -> None:
    """The lead's editor writes the record, previews it and asks for it to be published."""
    lead.goto(f"/challenges/{c}?lang=en")
    expect(heading(lead)).to_have_text(TITLE)
    lead.get_by_role("link", name="Write the open record").click()
    expect(heading(lead)).to_have_text("The open record")
    expect(status_tag(lead)).to_have_text("Not started")

    # Publishing with no lessons: the error summary takes the focus and leads to the field.
    lead.get_by_role("button", name="Publish the record").click()
    summary = lead.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(lead).to_have_title(re.compile("^Error: "))
    expect(summary).to_contain_text("Write what worked before publishing the record")
    expect(summary).to_contain_text("Write what did not work before publishing the record")
    summary.get_by_role("link", name="Write what worked before publishing the record").click()
    expect(lead.get_by_label("What worked", exact=True)).to_be_focused()
    expect(status_tag(lead)).to_have_text("Not started")

    # The lessons, then an asset another authority can reuse.
    lead.get_by_label("What worked", exact=True).fill(WORKED)
    lead.get_by_label("What did not work", exact=True).fill(NOT_WORKED)
    lead.get_by_role("button", name="Save the lessons").click()
    expect(success(lead)).to_contain_text("The lessons learned are saved.")
    expect(status_tag(lead)).to_have_text("Being written")
    expect(lead.get_by_label("What worked", exact=True)).to_have_value(WORKED)
    title, url, description = ASSET
    lead.get_by_label("What it is").fill(title)
    lead.get_by_label("Web address").fill(url)
    lead.get_by_label("MIT License").check()
    lead.get_by_label("Description (optional)").fill(description)
    lead.get_by_role("button", name="Add the asset").click()
    expect(success(lead)).to_contain_text(f"“{title}” is added to the reusable assets.")
    row = lead.locator("#assets ~ table tbody tr", has_text=title)
    expect(row).to_contain_text("MIT License")
    expect(row.get_by_role("link", name=title)).to_have_attribute("href", url)

    # The preview: the record as publishing would freeze it, not public yet.
    lead.get_by_role("link", name="Preview the record").click()
    expect(lead.locator(".govuk-notification-banner")).to_contain_text(
        "This is a preview: the public cannot see it yet")
    expect(heading(lead)).to_have_text(TITLE)
    main = lead.locator("main")
    for text in (WORKED, NOT_WORKED, title, "Bright Ideas Ltd"):
        expect(main).to_contain_text(text)
    expect(main).not_to_contain_text("Greenfield Data Co-operative")  # not selected: unnamed
    lead.get_by_role("link", name="Back to the open record").click()

    lead.get_by_role("button", name="Publish the record").click()
    expect(success(lead)).to_contain_text("Publication of the record has been asked for.")


def test_an_open_record_is_written_published_found_in_welsh_and_reused(
        new_context: Callable[..., BrowserContext], ids: dict[str, int | str],
        live_server: LiveServer) -> None:
    c = ids["record_journey"]
    lead = new_context(as_user=LEAD).new_page()
    visitor = new_context().new_page()
    jobs = live_server.app.extensions.setdefault("job_recorder", [])

    write_and_publish(lead, live_server, c)

    # Publishing: the job is given to the queue, and nothing is public until it has run.
    expect(status_tag(lead)).to_have_text("Publishing")
    expect(lead.get_by_role("status")).to_contain_text("Publishing: this takes a moment.")
    expect(lead.get_by_role("button", name="Publish the record")).to_have_count(0)
    record_id, status = record_of(live_server, c)
    assert status == "queued"
    assert (PUBLISH_TASK, (record_id,)) in jobs
    assert visitor.goto(f"/records/{c}?lang=en").status == 404

    # The worker runs the job; the editor's page sees it and shows the record published.
    assert live_server.run(lambda s: run_publication(s, record_id))
    expect(status_tag(lead)).to_have_text("Published", timeout=20_000)
    expect(lead.get_by_role("link", name="Read the open record")).to_be_visible()
    expect(lead.get_by_role("button", name="Publish the record")).to_have_count(0)
    lead.goto("/challenges/mine?lang=en")
    expect(lead.locator("main tbody tr", has_text=TITLE).get_by_role(
        "link", name=re.compile("^Read the open record"))).to_have_attribute("href", f"/records/{c}")

    # A visitor, in Welsh, finds it by a word of its Welsh title, a well-being goal and its
    # outcome (the other record with that word ended without an award).
    visitor.goto("/")
    visitor.locator("a[hreflang='cy']").click()
    expect(visitor.locator("html")).to_have_attribute("lang", "cy")
    visitor.get_by_role("link", name="Catalog", exact=True).click()
    expect(visitor).to_have_url(re.compile(r"/catalogue$"))
    expect(heading(visitor)).to_have_text("Cofnodion agored")  # "Open records"
    visitor.get_by_label("Chwilio'r cofnodion agored").fill(SEARCH_WORD)
    visitor.get_by_role("button", name="Chwilio", exact=True).click()  # "Search"
    expect(visitor).to_have_url(re.compile(rf"/catalogue\?q={SEARCH_WORD}"))
    for welsh in (TITLE_CY, RECORD_NO_AWARD[1]):
        expect(results(visitor).get_by_role("link", name=welsh, exact=True)).to_be_visible()
    visitor.get_by_label("Nod llesiant neu faen prawf arall").select_option(  # the goal
        str(ids["criterion_healthier"]))
    visitor.get_by_label("Deilliant").select_option("awarded")  # the outcome
    visitor.get_by_role("button", name="Defnyddio'r hidlyddion").click()  # "Apply filters"
    expect(visitor).to_have_url(re.compile(r"outcome=awarded"))
    expect(visitor.get_by_label("Chwilio'r cofnodion agored")).to_have_value(SEARCH_WORD)
    expect(results(visitor)).to_have_count(1)
    expect(results(visitor).first).to_contain_text(TITLE_CY)
    results(visitor).get_by_role("link", name=TITLE_CY, exact=True).click()
    expect(visitor).to_have_url(re.compile(rf"/records/{c}$"))
    expect(visitor.locator("html")).to_have_attribute("lang", "cy")
    expect(heading(visitor)).to_have_text(TITLE_CY)
    for text in (WORKED, NOT_WORKED, ASSET[0]):
        expect(visitor.locator("main")).to_contain_text(text)
    expect(visitor.locator("main form[action$='/reuse']")).to_have_count(0)  # signed out

    # Another verified authority's editor reuses it: a new draft, prefilled.
    other = new_context(as_user=VALLEY_EDITOR[0]).new_page()
    other.goto(f"/records/{c}?lang=en")
    expect(heading(other)).to_have_text(TITLE)
    expect(other.locator("main")).to_contain_text("This record has been reused 0 times.")
    other.get_by_role("button", name="Reuse this challenge").click()
    expect(heading(other)).to_have_text("Prepare your challenge")
    expect(success(other)).to_contain_text(
        "Your draft challenge has been started from the open record.")
    expect(other.locator("main .govuk-caption-l")).to_have_text(TITLE)
    draft = int(re.search(r"/challenges/(\d+)/edit$", other.url).group(1))
    assert draft != c and derived_from(live_server, draft) == c
    expect(other.get_by_role("link", name="Phase 1: criteria and weights")).to_be_visible()
    other.get_by_role("link", name="Details", exact=True).click()
    expect(other.get_by_label("Title", exact=True)).to_have_value(TITLE)
    expect(other.get_by_label("Problem statement")).to_have_value(
        re.compile("^Residents tell us this goes wrong too often"))

    # The record tells everyone it was reused; not yet by whom, while the new challenge is a
    # draft that authority has not made public.
    visitor.goto(f"/records/{c}?lang=en")
    expect(visitor.locator("main")).to_contain_text("This record has been reused 1 time.")
    expect(visitor.locator(".govuk-summary-list__row", has_text="Reused")).to_contain_text(
        "1 time")
    expect(visitor.locator("main")).not_to_contain_text(VALLEY)
