"""An assessment's journey in real Chromium, on a co-funded challenge whose phase has closed
with Bright's proposal: the lead's editor appoints a colleague and invites an independent
expert, who signs in through the e-mailed link and accepts; each assessor declares no conflict
and scores on their own, without seeing the other's marks, and they disagree by 2 points on one
criterion; the editor, as moderator, records an agreed score, then the award the ranking gives
with its reason, and the contract; the partner authority's editor approves it from the e-mail;
the lead's editor releases it; and the supplier reads its total and the assessors' comments,
with no assessor named."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import (
    BRIGHT,
    DEMO_PASSWORD,
    EXPERT,
    JOURNEY,
    LEAD,
    PARTNER,
    VIEWER,
    LiveServer,
    fill_date,
    give_code,
)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

COUNCIL = "Cyngor Sir Enghraifft / Example County Council"
HEALTH = "Bwrdd Iechyd Enghraifft / Example Health Board"
SUPPLIER = "Bright Ideas Ltd"
HEALTHIER, FEASIBILITY, VALUE = "A healthier Wales", "Technical feasibility", "Value for money"
# What each assessor gives (score, justification) per scored criterion; both pass the gate.
VIJAYS = {HEALTHIER: (4, "Named coordinators cut the days older people wait to go home."),
          FEASIBILITY: (3, "The plan is realistic for three roads."),
          VALUE: (3, "The price is in line with what we pay now.")}
EXPERTS = {HEALTHIER: (2, "The health benefit is asserted rather than measured."),
           FEASIBILITY: (3, "Sensors of this kind are proven."),
           VALUE: (2, "Running costs after the pilot are not given.")}
AGREED = "The moderators agreed 3: the benefit is plausible but not yet measured."
AWARDED = "The only proposal, and above the threshold: a realistic plan at a fair price."


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def success(page: Page):
    return page.locator(".govuk-notification-banner--success")


def assess(page: Page, marks: dict[str, tuple[int, str]], *, unseen: tuple[str, ...] = ()
           ) -> None:
    """From the assessor's list of proposals: declare no conflict, score and submit. While
    scoring, none of ``unseen`` (another assessor's marks) is on the page."""
    page.get_by_role("link", name=SUPPLIER).click()
    expect(heading(page)).to_have_text(f"Conflict of interest: {SUPPLIER}")
    expect(page.locator("main")).not_to_contain_text("would try it on three roads")
    page.get_by_label("No, I have no conflict of interest").check()
    page.get_by_role("button", name="Continue").click()

    expect(heading(page)).to_have_text(f"Assess the proposal from {SUPPLIER}")
    expect(page.locator("main")).to_contain_text(f"{SUPPLIER} would try it on three roads.")
    for text in unseen:
        expect(page.locator("main")).not_to_contain_text(text)
    for criterion, (score, why) in marks.items():
        page.get_by_role("group", name=f"Your mark for {criterion}").get_by_label(
            re.compile(rf"(^|\s){score} – ")).check()
        page.get_by_label(f"Why this mark? – {criterion}").fill(why)
    page.get_by_role("group", name="Your mark for Eligibility").get_by_label(
        "Pass", exact=True).check()
    page.get_by_label("Why this mark? – Eligibility").fill("Meets every requirement.")
    page.get_by_role("button", name="Submit assessment").click()

    expect(heading(page)).to_have_text(f"Marks for the proposal from {SUPPLIER}")
    expect(success(page)).to_contain_text("Your assessment is submitted.")


def row(page: Page, criterion: str):
    return page.locator("main tbody tr", has=page.get_by_role("rowheader", name=re.compile(
        "^" + re.escape(criterion))))


def test_two_assessors_moderation_approval_release_and_feedback(
        new_context: Callable[..., BrowserContext], ids: dict[str, int | str],
        live_server: LiveServer) -> None:
    decision_path = f"/challenges/{ids['journey']}/phases/{ids['journey_phase']}/decision"

    # The lead's editor finds the assessment from the challenge, and appoints two assessors.
    lead = new_context(as_user=LEAD).new_page()
    lead.goto(f"/challenges/{ids['journey']}?lang=en")
    lead.get_by_role("link", name="Assessment of phase 1").click()
    expect(heading(lead)).to_have_text("Assessment of phase 1")
    expect(lead.locator("main")).to_contain_text("0 assessors have accepted.")
    lead.get_by_role("link", name="Assessors", exact=True).click()
    expect(heading(lead)).to_have_text("Assessors for phase 1")
    expect(lead.locator("main")).to_contain_text("Nobody is appointed yet.")

    lead.get_by_label("Person").select_option(label=f"Vijay Viewer ({COUNCIL})")
    lead.get_by_role("button", name="Appoint").click()
    expect(success(lead)).to_contain_text("Vijay Viewer is appointed. They will be asked to accept.")
    lead.get_by_label("Full name").fill("Dr Sian Morgan")
    lead.get_by_label("Email address").fill(EXPERT)
    lead.get_by_role("button", name="Send invitation").click()
    expect(success(lead)).to_contain_text(f"We have sent an invitation to {EXPERT}.")
    appointed = lead.locator("main table", has=lead.get_by_text("Appointed", exact=True))
    expect(appointed.locator("tbody tr", has_text="Vijay Viewer")).to_contain_text("Invited")
    expect(appointed.locator("tbody tr", has_text="Dr Sian Morgan")).to_contain_text(
        "Independent expert")

    # The expert follows the e-mailed link, signs in with the invited address and accepts.
    expert = new_context().new_page()
    expert.goto(live_server.link_in_mail(EXPERT, "/assessor-invitations/") + "?lang=en")
    expect(heading(expert)).to_have_text("Invitation to assess")
    expect(expert.locator("main")).to_contain_text(
        f"{COUNCIL} invites Dr Sian Morgan to assess phase 1 of the challenge “{JOURNEY}” "
        "as an independent expert.")
    expert.locator("main").get_by_role("link", name="Sign in", exact=True).click()
    expert.get_by_label("E-mail address").fill(EXPERT)
    expert.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    expert.get_by_role("button", name="Sign in").click()
    give_code(expert, EXPERT)  # the demo expert already uses two-step sign-in
    expect(heading(expert)).to_have_text("Invitation to assess")
    expert.get_by_role("button", name="Accept the invitation").click()
    expect(heading(expert)).to_have_text("Proposals to assess")
    expect(success(expert)).to_contain_text("You are an assessor for this phase.")

    # The colleague accepts on their assessments page.
    vijay = new_context(as_user=VIEWER).new_page()
    vijay.goto("/assessments?lang=en")
    vijay.get_by_role("button", name=f"Accept – {JOURNEY}").click()
    expect(heading(vijay)).to_have_text("Proposals to assess")
    expect(vijay.locator("main tbody tr", has_text=SUPPLIER)).to_contain_text("Declare first")

    # Each scores on their own. Vijay, first, sees only his own marks so far.
    assess(vijay, VIJAYS)
    main = vijay.locator("main")
    expect(main).to_contain_text("Not every assessment is in yet.")
    expect(main).to_contain_text(VIJAYS[HEALTHIER][1])
    expect(main).not_to_contain_text("Dr Sian Morgan")

    assess(expert, EXPERTS, unseen=tuple(why for _score, why in VIJAYS.values()))
    main = expert.locator("main")
    expect(main).to_contain_text("1 criterion is flagged")
    expect(main).to_contain_text(VIJAYS[HEALTHIER][1])  # now both assessors' marks are shown
    expect(row(expert, HEALTHIER)).to_contain_text("Flagged")
    expect(row(expert, FEASIBILITY)).not_to_contain_text("Flagged")

    # The lead's editor moderates the flagged criterion.
    lead.goto(f"/challenges/{ids['journey']}/phases/{ids['journey_phase']}/assessment?lang=en")
    expect(lead.locator("main tbody tr", has_text=SUPPLIER)).to_contain_text("To moderate")
    lead.get_by_role("link", name=SUPPLIER).click()
    expect(heading(lead)).to_have_text(f"Marks for the proposal from {SUPPLIER}")
    expect(row(lead, HEALTHIER)).to_contain_text("Flagged")
    expect(row(lead, HEALTHIER).locator("td").nth(3)).to_have_text("3.00")  # mean of 4 and 2
    lead.get_by_role("link", name=f"Agree a score – {HEALTHIER}").click()
    expect(heading(lead)).to_have_text(f"Agree a score: {HEALTHIER}")
    expect(lead.locator("main")).to_contain_text("Vijay Viewer: 4")
    expect(lead.locator("main")).to_contain_text("Dr Sian Morgan: 2")
    lead.get_by_role("button", name="Record agreed score").click()  # nothing filled in yet
    expect(lead.locator(".govuk-error-summary")).to_be_focused()
    expect(lead.locator(".govuk-error-summary")).to_contain_text("Enter the agreed score")
    lead.get_by_label("Agreed score").fill("3")
    lead.get_by_label("Rationale").fill(AGREED)
    lead.get_by_role("button", name="Record agreed score").click()
    expect(success(lead)).to_contain_text("The agreed score is recorded.")
    expect(row(lead, HEALTHIER)).to_contain_text(AGREED)
    expect(lead.locator("main")).to_contain_text("Weighted total so far: 72.50%")

    # The ranking gives the default selection, ticked; recording it asks the partner.
    lead.goto(decision_path + "?lang=en")
    expect(heading(lead)).to_have_text("Ranking and decision for phase 1")
    ranking = lead.locator("main table", has=lead.get_by_text("Ranking", exact=True))
    expect(ranking.locator("tbody tr", has_text=SUPPLIER)).to_contain_text("72.50%")
    expect(ranking.locator("tbody tr", has_text=SUPPLIER)).to_contain_text("Default selection")
    expect(lead.get_by_label(f"{SUPPLIER} – 72.50%")).to_be_checked()
    lead.get_by_role("button", name="Record decision").click()  # an award is always explained
    expect(lead.locator(".govuk-error-summary")).to_be_focused()
    lead.get_by_label("Why are you making this award, or no award?").fill(AWARDED)
    lead.get_by_role("button", name="Record decision").click()
    expect(success(lead)).to_contain_text("The decision is recorded.")
    expect(lead.locator("main")).to_contain_text(f"{HEALTH}: waiting for approval")
    expect(lead.get_by_role("button", name="Release the decision to suppliers")).to_have_count(0)

    # The partner approves the award with its contract: the lead's editor records it first.
    contracts = lead.locator("main table", has=lead.get_by_role("columnheader", name="Starts"))
    expect(contracts.locator("tbody tr", has_text=SUPPLIER)).to_contain_text("Not recorded yet")
    lead.get_by_role("link", name=f"Record the contract with {SUPPLIER}").click()
    expect(heading(lead)).to_have_text(f"The contract awarded to {SUPPLIER}")
    lead.get_by_label("Value of the contract").fill("45,000")
    fill_date(lead, "Start date", date(2027, 6, 1))
    fill_date(lead, "End date", date(2027, 8, 31))
    lead.get_by_role("button", name="Save the contract").click()
    expect(success(lead)).to_contain_text(f"The contract with {SUPPLIER} is recorded.")
    expect(contracts.locator("tbody tr", has_text=SUPPLIER)).to_contain_text("£45,000")
    expect(contracts.locator("tbody tr", has_text=SUPPLIER)).to_contain_text("1 June 2027")

    # The partner's editor approves from the e-mail.
    partner = new_context(as_user=PARTNER).new_page()
    partner.goto(live_server.link_in_mail(PARTNER, decision_path) + "?lang=en")
    expect(heading(partner)).to_have_text("Ranking and decision for phase 1")
    partner.get_by_role("button", name=f"Approve for {HEALTH}").click()
    expect(success(partner)).to_contain_text("You approved the decision for your authority.")
    expect(partner.locator("main")).to_contain_text(f"{HEALTH}: approved on")

    # The lead's editor releases it.
    lead.reload()
    lead.get_by_role("button", name="Release the decision to suppliers").click()
    expect(success(lead)).to_contain_text("The decision is released. Every supplier has been told.")
    expect(lead.locator(".govuk-panel")).to_contain_text("Decision released")

    # The supplier follows the e-mail to its result: its total and the comments, unnamed.
    supplier = new_context(as_user=BRIGHT).new_page()
    supplier.goto(live_server.link_in_mail(BRIGHT, f"/proposals/{ids['journey_bright']}/feedback")
                  + "?lang=en")
    expect(heading(supplier)).to_have_text("Your result")
    main = supplier.locator("main")
    expect(supplier.locator(".govuk-panel")).to_contain_text("Selected for award")
    expect(main).to_contain_text("Your weighted total is 72.50%; the quality threshold was 60%.")
    scores = supplier.locator("main .govuk-summary-list__row", has_text=HEALTHIER)
    expect(scores).to_contain_text("3.00 out of 4")
    expect(scores).to_contain_text("Assessor 1:")
    expect(scores).to_contain_text(VIJAYS[HEALTHIER][1])
    expect(scores).to_contain_text(EXPERTS[HEALTHIER][1])
    expect(scores).to_contain_text(AGREED)
    expect(supplier.locator("main .govuk-summary-list__row", has_text=VALUE)).to_contain_text(
        "2.50 out of 4")
    for name in ("Vijay Viewer", "Dr Sian Morgan", "Eleri Editor", VIEWER, EXPERT):
        expect(main).not_to_contain_text(name)
