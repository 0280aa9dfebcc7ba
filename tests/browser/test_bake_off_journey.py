"""A two-supplier bake-off to an award, in real Chromium, on a co-funded challenge whose
feasibility shortlist of Bright and Greenfield has just been released: the lead's editor
records both bake-off contracts and the closing time and invites them (each is e-mailed);
each supplier follows its invitation, reports both outcome measures with evidence (and a PDF),
and starts and submits its demonstration proposal. The deadline passes (the clock is moved on
a few minutes: the live server runs in this process). The editor accepts one report and
corrects another with a reason; the demonstrations are assessed (through the services: the
assessment journey covers those pages); the editor reads the results side by side, with the
chart, records the award with its rationale and the winner's contract; the partner approves
it from the e-mail; the editor releases it. The public page names the winner, not the other
entrant, who reads the reason for the correction on its entry page."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

import pytest
import time_machine
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import (
    BAKE_OFF_JOURNEY,
    BRIGHT,
    CORRECTION,
    GREENFIELD,
    LEAD,
    MEASURES,
    PARTNER,
    REPORTED,
    LiveServer,
    accept_waiting_reports,
    assess_demonstrations,
    fill_date,
    fill_proposal,
    small_pdf,
)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

NAMES = {BRIGHT: "Bright Ideas Ltd", GREENFIELD: "Greenfield Data Co-operative"}
HEALTH = "Bwrdd Iechyd Enghraifft / Example Health Board"
WITHIN_A_WEEK, REPEATS = (m[0] for m in MEASURES)
AWARDED = "The best final score: most repairs done within a week, and fewest repeat visits."


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def success(page: Page):
    return page.locator(".govuk-notification-banner--success")


def invitation(live_server: LiveServer, address: str) -> str:
    """The link to the entry in the one invitation into this bake-off sent to ``address``."""
    subject = f"You are invited into the bake-off: {BAKE_OFF_JOURNEY}"
    mails = [m for m in live_server.mail_to(address) if m["Subject"] == subject]
    assert len(mails) == 1, [m["Subject"] for m in live_server.mail_to(address)]
    link = re.search(re.escape(live_server.url) + r"/bake-off/\d+", mails[0].get_content())
    assert link, mails[0].get_content()
    return link.group()


def take_part(page: Page, live_server: LiveServer, address: str, entrant_id: int) -> None:
    """From the invitation: report both measures (a PDF for the first), then start and submit
    the demonstration proposal (its sections filled through the services: the proposal
    journey covers them)."""
    from procure.db import utcnow

    entry_url = invitation(live_server, address)
    assert entry_url == f"{live_server.url}/bake-off/{entrant_id}"
    page.goto(entry_url + "?lang=en")
    expect(heading(page)).to_have_text("Your bake-off entry")
    expect(page.locator("main")).to_contain_text("£20,000")
    for measure, value in zip((WITHIN_A_WEEK, REPEATS), REPORTED[address], strict=True):
        page.get_by_role("link", name=f"Report {measure}").click()
        expect(heading(page)).to_have_text(f"Your result for {measure}")
        page.get_by_label("Measured value").fill(value)
        page.get_by_label("Evidence").fill(f"From our job sheets for March: {value}.")
        page.get_by_role("button", name="Save", exact=True).click()
        expect(success(page)).to_contain_text(f"Your result for {measure} is saved.")
    page.get_by_role("link", name=f"Change {WITHIN_A_WEEK}").click()
    page.get_by_label("Upload a file").set_input_files(files=[{
        "name": "job-sheets.pdf", "mimeType": "application/pdf",
        "buffer": small_pdf("Job sheets for March")}])
    page.get_by_role("button", name="Upload file").click()
    expect(success(page)).to_contain_text("job-sheets.pdf is uploaded.")
    page.get_by_role("link", name="Back to your bake-off entry").click()
    row = page.locator("main tbody tr", has=page.get_by_role("rowheader", name=re.compile(
        "^" + WITHIN_A_WEEK)))
    expect(row).to_contain_text(f"{REPORTED[address][0]} % of repairs")
    expect(row).to_contain_text("job-sheets.pdf")

    page.get_by_role("button", name="Start your demonstration proposal").click()
    expect(heading(page)).to_have_text("Your proposal")
    proposal_id = int(re.search(r"/proposals/(\d+)", page.url).group(1))
    live_server.run(lambda s: fill_proposal(s, address, proposal_id, utcnow()))
    page.goto(f"/proposals/{proposal_id}/check")
    page.get_by_role("button", name="Submit proposal").click()
    expect(page.locator(".govuk-panel--confirmation")).to_contain_text("Proposal submitted")
    page.goto(entry_url)
    expect(page.get_by_role("link", name="Continue your demonstration proposal")).to_be_visible()


def verify(page: Page, address: str, measure: str):
    """Open the verification of ``address``'s report of ``measure`` from the measurements."""
    card = page.locator(".govuk-summary-card", has=page.get_by_role("heading", name=re.compile(
        "^" + re.escape(measure))))
    card.get_by_role("link", name=f"Verify the value reported by {NAMES[address]}").click()
    expect(heading(page)).to_have_text(f"Verify {measure} for {NAMES[address]}")


def test_a_two_supplier_bake_off_to_an_award(
        new_context: Callable[..., BrowserContext], ids: dict[str, int | str],
        live_server: LiveServer) -> None:
    from procure.challenges import services as challenges
    from procure.clock import london_to_utc, utc_to_london
    from procure.db import utcnow

    c, p2 = ids["bake_off_journey"], ids["bake_off_journey_phase"]
    phase_path = f"/challenges/{c}/phases/{p2}"
    # Everyone is signed in now, before the clock moves (sessions are kept for other tests).
    lead = new_context(as_user=LEAD).new_page()
    suppliers = {a: new_context(as_user=a).new_page() for a in (BRIGHT, GREENFIELD)}
    partner = new_context(as_user=PARTNER).new_page()

    # The lead's editor invites both entrants, each under contract, until a few minutes ahead.
    lead.goto(f"/challenges/{c}?lang=en")
    lead.get_by_role("link", name="Entrants of phase 2").click()
    expect(heading(lead)).to_have_text("Entrants of the bake-off in phase 2")
    for name in NAMES.values():
        lead.get_by_label(f"Value of the contract with {name}").fill("20,000")
        fill_date(lead, f"Start date of the contract with {name}", date(2027, 1, 4))
        fill_date(lead, f"End date of the contract with {name}", date(2027, 3, 31))
    closes = (utc_to_london(utcnow()) + timedelta(minutes=6)).replace(second=0, microsecond=0)
    fill_date(lead, "Closing date of the bake-off", closes.date())
    lead.get_by_label("Closing time").fill(closes.strftime("%H:%M"))
    lead.get_by_role("button", name="Invite the entrants and open the bake-off").click()
    expect(success(lead)).to_contain_text("The bake-off is open. We have told the 2 entrants.")
    for name in NAMES.values():
        expect(lead.locator("main tbody tr", has_text=name)).to_contain_text("£20,000")
        expect(lead.locator("main tbody tr", has_text=name)).to_contain_text(
            "4 January 2027 to 31 March 2027")

    # Each entrant follows its invitation, reports, and demonstrates.
    for (address, page), who in zip(suppliers.items(), ("bright", "greenfield"), strict=True):
        take_part(page, live_server, address, ids[f"bake_off_journey_{who}"])

    # The deadline passes; the scheduled job closes the bake-off.
    closes_at = london_to_utc(closes.date(), closes.time())
    with time_machine.travel(closes_at + timedelta(seconds=5), tick=True):
        live_server.run(lambda s: challenges.advance_phases(s, now=utcnow()))

        # The lead's editor accepts Bright's first report and corrects Greenfield's.
        lead.goto(f"{phase_path}/measurements?lang=en")
        expect(heading(lead)).to_have_text("Measured outcomes in phase 2")
        expect(lead.locator("main")).to_contain_text("4 reports are waiting for verification.")
        verify(lead, BRIGHT, WITHIN_A_WEEK)
        expect(lead.locator("main")).to_contain_text("job-sheets.pdf")
        lead.get_by_label("Accept the reported value").check()
        lead.get_by_role("button", name="Save").click()
        expect(success(lead)).to_contain_text(
            f"You accepted the value of {WITHIN_A_WEEK} for {NAMES[BRIGHT]}.")
        verify(lead, GREENFIELD, WITHIN_A_WEEK)
        lead.get_by_label("Correct it").check()
        lead.get_by_label("Corrected value, in % of repairs").fill(CORRECTION[0])
        lead.get_by_label("Why are you correcting it?").fill(CORRECTION[1])
        lead.get_by_role("button", name="Save").click()
        expect(success(lead)).to_contain_text(
            f"You corrected the value of {WITHIN_A_WEEK} for {NAMES[GREENFIELD]}. "
            "They have been told.")
        expect(lead.locator("main")).to_contain_text("2 reports are waiting for verification.")
        # The other two accepted, and the demonstrations assessed, through the services.
        assert live_server.run(lambda s: accept_waiting_reports(s, challenge_id=c,
                                                                phase_id=p2)) == 2
        live_server.run(lambda s: assess_demonstrations(s, challenge_id=c, phase_id=p2))

        # The results side by side, with the chart.
        lead.reload()
        lead.get_by_role("link", name="The results side by side").click()
        expect(heading(lead)).to_have_text("Bake-off results for phase 2")
        expect(lead.locator("main svg[role=img]")).to_be_visible()
        table = lead.locator("main table", has=lead.get_by_text("Results side by side"))
        bright = table.locator("tbody tr", has_text=NAMES[BRIGHT])
        greenfield = table.locator("tbody tr", has_text=NAMES[GREENFIELD])
        expect(bright).to_contain_text("75.00%")       # outcome, assessed and final
        expect(greenfield).to_contain_text("35.00%")   # its outcome, on the corrected value
        expect(greenfield).to_contain_text("45.00%")   # its final score
        expect(table.locator("tbody tr").first).to_contain_text(NAMES[BRIGHT])

        # The award, with its rationale and the winner's contract.
        lead.get_by_role("link", name="Ranking and decision").click()
        expect(heading(lead)).to_have_text("Ranking and decision for phase 2")
        expect(lead.get_by_label(f"{NAMES[BRIGHT]} – 75.00%")).to_be_checked()
        expect(lead.get_by_label(f"{NAMES[GREENFIELD]} – 45.00%")).not_to_be_checked()
        lead.get_by_label("Why are you making this award, or no award?").fill(AWARDED)
        lead.get_by_role("button", name="Record decision").click()
        expect(success(lead)).to_contain_text("The decision is recorded.")
        lead.get_by_role("link", name=f"Record the contract with {NAMES[BRIGHT]}").click()
        expect(heading(lead)).to_have_text(f"The contract awarded to {NAMES[BRIGHT]}")
        lead.get_by_label("Value of the contract").fill("24,000")
        fill_date(lead, "Start date", date(2027, 6, 1))
        fill_date(lead, "End date", date(2028, 5, 31))
        lead.get_by_role("button", name="Save the contract").click()
        expect(success(lead)).to_contain_text(f"The contract with {NAMES[BRIGHT]} is recorded.")
        expect(lead.locator("main")).to_contain_text(AWARDED)

        # The partner approves from the e-mail; the lead's editor releases.
        partner.goto(live_server.link_in_mail(PARTNER, f"{phase_path}/decision") + "?lang=en")
        partner.get_by_role("button", name=f"Approve for {HEALTH}").click()
        expect(success(partner)).to_contain_text("You approved the decision for your authority.")
        lead.reload()
        lead.get_by_role("button", name="Release the decision to suppliers").click()
        expect(success(lead)).to_contain_text("The decision is released.")
        expect(lead.locator("main")).to_contain_text(
            "The award is released and the challenge is concluded.")

        # Anyone reads who won; the other entrant is not named.
        visitor = new_context().new_page()
        visitor.goto(f"/challenges/{c}?lang=en")
        award = visitor.locator("main table", has=visitor.get_by_text("The contracts awarded"))
        expect(award.locator("tbody tr")).to_have_count(1)
        expect(award.locator("tbody tr")).to_contain_text(NAMES[BRIGHT])
        expect(award.locator("tbody tr")).to_contain_text("£24,000")
        expect(visitor.locator("main")).not_to_contain_text(NAMES[GREENFIELD])

        # Greenfield reads why its value was corrected.
        greenfield_page = suppliers[GREENFIELD]
        greenfield_page.reload()
        row = greenfield_page.locator("main tbody tr", has=greenfield_page.get_by_role(
            "rowheader", name=re.compile("^" + WITHIN_A_WEEK)))
        expect(row).to_contain_text("Corrected")
        expect(row).to_contain_text(f"{CORRECTION[0]} % of repairs")
        expect(row).to_contain_text(CORRECTION[1])
