"""A proposal's journey in real Chromium: a supplier starts a proposal on an open challenge,
fills every section, uploads a PDF, checks and submits it and gets a receipt; changes the price
and submits again for a new receipt, the latest counting; a visitor checks the receipt code.
The authority sees only a count while the phase is open, and reads the proposals (each read
audited) once its deadline has passed."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import BINS, DAMP, LiveServer, small_pdf

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

COUNCIL_EDITOR = "editor@council.example"  # leads the bins and damp challenges
SUPPLIER = "supplier@greenfield.example"  # has no proposal on the open bins challenge
DIGEST = re.compile(r"^[0-9a-f]{64}$")

SUMMARY = "Residents report a blocked lane by text or app, in Welsh or English; crews see it first."
TEAM = "A route planner, a developer and a Welsh-speaking user researcher."
TIMELINE = "Month 1: map the lanes. Month 2: try it with two crews. Month 3: report."


def success(page: Page):
    return page.locator(".govuk-notification-banner--success")


def open_section(page: Page, name: str) -> None:
    page.get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)


def save(page: Page) -> None:
    """Save and continue: back to the proposal's task list, with a confirmation."""
    page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your proposal")
    expect(success(page)).to_contain_text("Your changes are saved.")


def task(page: Page, name: str):
    return page.locator(".govuk-task-list__item", has=page.get_by_role("link", name=name, exact=True))


def submit(page: Page) -> str:
    """From the task list: check the answers, submit, and return the receipt code."""
    page.get_by_role("link", name=re.compile(r"^Check and (submit|confirm again)$")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Check your answers before submitting your proposal")
    expect(page.locator(".govuk-error-summary")).to_have_count(0)
    page.get_by_role("button", name="Submit proposal").click()
    panel = page.locator(".govuk-panel--confirmation")
    expect(panel.get_by_role("heading", level=1)).to_have_text("Proposal submitted")
    code = panel.locator(".procure-digest").inner_text().strip()
    assert DIGEST.match(code), code
    return code


def fill_proposal(page: Page) -> None:
    """Every section of the task list, each marked completed once saved."""
    open_section(page, "Public summary")
    page.get_by_label("Public summary", exact=True).fill(SUMMARY)
    page.get_by_label("I consent to this summary being published in the open record").check()
    save(page)
    expect(task(page, "Public summary")).to_contain_text("Completed")

    open_section(page, "Response to each criterion")
    boxes = page.locator("main form textarea")
    assert boxes.count() >= 2  # one per criterion of the phase
    for n in range(boxes.count()):
        boxes.nth(n).fill(f"How we meet this criterion, point {n + 1}: with the crews.")
    save(page)
    expect(task(page, "Response to each criterion")).to_contain_text("Completed")

    open_section(page, "Team, price and timeline")
    page.get_by_label("Your team").fill(TEAM)
    page.get_by_label("Price, excluding VAT").fill("42,000")
    page.get_by_label("Timeline", exact=True).fill(TIMELINE)
    save(page)
    expect(task(page, "Team, price and timeline")).to_contain_text("Completed")

    open_section(page, "Attachments")
    page.get_by_label("Upload a file").set_input_files(files=[{
        "name": "method-statement.pdf", "mimeType": "application/pdf",
        "buffer": small_pdf("Our method for rural lanes")}])
    page.get_by_role("button", name="Upload file").click()
    expect(success(page)).to_contain_text("method-statement.pdf is uploaded.")
    expect(page.locator("main .govuk-summary-list")).to_contain_text("method-statement.pdf")
    page.get_by_role("link", name="Continue").click()
    expect(task(page, "Attachments")).to_contain_text("Completed")

    open_section(page, "Declarations")
    page.get_by_label("The information in this proposal is accurate and complete").check()
    page.get_by_label("We have not colluded with any other supplier").check()
    page.get_by_label("None of the grounds for exclusion in the Procurement Act 2023").check()
    save(page)
    expect(task(page, "Declarations")).to_contain_text("Completed")


def test_start_fill_submit_change_resubmit_and_verify(
        new_context: Callable[..., BrowserContext], ids: dict[str, int | str]) -> None:
    supplier = new_context(as_user=SUPPLIER).new_page()
    supplier.goto("/challenges?lang=en")
    supplier.get_by_role("link", name=BINS).click()
    expect(supplier.get_by_role("heading", level=1)).to_have_text(BINS)
    supplier.get_by_role("button", name="Start a proposal for phase 1").click()
    expect(supplier.get_by_role("heading", level=1)).to_have_text("Your proposal")
    expect(success(supplier)).to_contain_text("Your proposal is started.")
    expect(supplier.locator("main .govuk-tag").first).to_have_text("Draft")
    proposal_url = supplier.url

    fill_proposal(supplier)
    first = submit(supplier)

    # Back to the proposal: submitted, and it can be changed until the deadline.
    supplier.locator(".govuk-back-link").click()
    expect(supplier).to_have_url(proposal_url)
    expect(supplier.locator("main .govuk-tag").first).to_have_text("Submitted")
    supplier.get_by_role("button", name="Change your proposal").click()
    expect(success(supplier)).to_contain_text("Your last submission still counts until you submit again.")
    expect(supplier.locator("main .govuk-tag").first).to_have_text("Being changed")

    open_section(supplier, "Team, price and timeline")
    expect(supplier.get_by_label("Price, excluding VAT")).to_have_value("42000")
    supplier.get_by_label("Price, excluding VAT").fill("38,500")
    save(supplier)
    second = submit(supplier)
    assert second != first

    # Both receipts are listed, newest first; only the latest counts.
    supplier.locator(".govuk-back-link").click()
    receipts = supplier.locator("main table", has=supplier.get_by_role("columnheader", name="Receipt"))
    rows = receipts.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text(second[:12])
    expect(rows.nth(0)).to_contain_text("(counts)")
    expect(rows.nth(1)).to_contain_text(first[:12])
    expect(rows.nth(1)).not_to_contain_text("counts")

    # The frozen copy that counts has the new price.
    supplier.goto(proposal_url + "/submitted?lang=en")
    expect(supplier.locator("main .procure-digest")).to_have_text(second)
    expect(supplier.locator("main")).to_contain_text("£38,500")

    # Anyone can check the code, and learns only that it matches and when.
    visitor = new_context().new_page()
    visitor.goto("/receipts/verify?lang=en")
    visitor.get_by_label("Receipt code (SHA-256)").fill(second)
    visitor.get_by_role("button", name="Check receipt").click()
    panel = visitor.locator(".govuk-panel")
    expect(panel).to_contain_text("This receipt matches a submission we hold")
    expect(panel).to_contain_text("Received")
    for secret in (SUMMARY, TEAM, "38,500", "Greenfield"):
        expect(visitor.locator("main")).not_to_contain_text(secret)

    # A code nobody was given matches nothing.
    visitor.get_by_label("Receipt code (SHA-256)").fill(second[::-1])
    visitor.get_by_role("button", name="Check receipt").click()
    expect(visitor.locator("main")).to_contain_text("No match")
    expect(visitor.locator(".govuk-panel")).to_have_count(0)

    # The authority sees that one proposal is in, and nothing of it.
    council = new_context(as_user=COUNCIL_EDITOR).new_page()
    council.goto(f"/challenges/{ids['bins']}?lang=en")
    council.get_by_role("link", name="Phase 1: 1 proposal submitted").click()
    expect(council.get_by_role("heading", level=1)).to_have_text("Proposals for phase 1")
    expect(council.locator("main")).to_contain_text("1 proposal submitted so far.")
    expect(council.locator("main")).to_contain_text("Proposals are sealed until the deadline")
    expect(council.locator("main table")).to_have_count(0)
    for secret in ("Greenfield", "Bright", SUMMARY, second[:12]):
        expect(council.locator("main")).not_to_contain_text(secret)


def audit_actions(live_server: LiveServer, address: str, proposal_id: int | str) -> list[str]:
    """What the audit log records ``address`` doing to the proposal, oldest first."""
    def query(session) -> list[str]:
        from sqlalchemy import select

        from procure.accounts.models import User
        from procure.audit.models import AuditEvent

        return list(session.execute(
            select(AuditEvent.action).join(User, AuditEvent.actor_id == User.id)
            .where(User.email == address, AuditEvent.subject_type == "proposal",
                   AuditEvent.subject_id == str(proposal_id)).order_by(AuditEvent.seq)).scalars())

    return live_server.run(query)


def test_council_sees_only_a_count_while_the_phase_is_open(
        new_context: Callable[..., BrowserContext], ids: dict[str, int | str],
        live_server: LiveServer) -> None:
    council = new_context(as_user=COUNCIL_EDITOR).new_page()
    council.goto(f"/challenges/{ids['bins']}?lang=en")
    count = council.get_by_role("link", name=re.compile(r"^Phase 1: \d+ proposals? submitted$"))
    expect(count).to_be_visible()
    count.click()
    expect(council.get_by_role("heading", level=1)).to_have_text("Proposals for phase 1")
    expect(council.locator("main")).to_contain_text("Proposals are sealed until the deadline")
    expect(council.locator("main a[href^='/proposals/']")).to_have_count(0)

    # Even the address of a proposal on the open phase shows nothing, and the try is recorded.
    before = audit_actions(live_server, COUNCIL_EDITOR, ids["bins_draft"])
    response = council.goto(f"/proposals/{ids['bins_draft']}/submitted?lang=en")
    assert response is not None and response.status == 404
    after = audit_actions(live_server, COUNCIL_EDITOR, ids["bins_draft"])
    assert after == [*before, "proposal.read_refused"]


def test_council_reads_proposals_after_the_deadline(
        new_context: Callable[..., BrowserContext], ids: dict[str, int | str],
        live_server: LiveServer) -> None:
    council = new_context(as_user=COUNCIL_EDITOR).new_page()
    council.goto(f"/challenges/{ids['damp']}?lang=en")
    expect(council.get_by_role("heading", level=1)).to_have_text(DAMP)
    council.get_by_role("link", name="Phase 1: 2 proposals submitted").click()
    expect(council.get_by_role("heading", level=1)).to_have_text("Proposals for phase 1")
    table = council.locator("main table")
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(table).to_contain_text("Bright Ideas Ltd")

    # Opening a proposal and one of its files: each is a read the audit log records.
    before = audit_actions(live_server, COUNCIL_EDITOR, ids["damp_greenfield"])
    table.get_by_role("link", name="Greenfield Data Co-operative").click()
    expect(council.get_by_role("heading", level=1)).to_have_text(
        "Proposal from Greenfield Data Co-operative")
    main = council.locator("main")
    expect(main).to_contain_text("Predict homes at risk of damp from repairs history")
    expect(main).to_contain_text("£39,000")
    expect(main).to_contain_text("Two data scientists and a chartered surveyor.")
    code = main.locator(".procure-digest").inner_text().strip()
    assert DIGEST.match(code), code

    with council.expect_download() as download:
        main.get_by_role("link", name="method-statement.pdf").click()
    assert download.value.suggested_filename == "method-statement.pdf"
    assert download.value.path().read_bytes().startswith(b"%PDF-")
    after = audit_actions(live_server, COUNCIL_EDITOR, ids["damp_greenfield"])
    assert after == [*before, "proposal.read", "proposal.attachment_read"]
