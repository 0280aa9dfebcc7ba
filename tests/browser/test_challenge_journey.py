"""A challenge's journey in real Chromium: a council editor writes a draft from the task list and
invites the health board, whose editor joins with a pledge; the council publishes; a supplier
asks a question and the council answers it in public without naming who asked; then the
council amends the challenge and everyone sees the change history."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

COUNCIL_EDITOR = "editor@council.example"
HEALTH_EDITOR = "editor@health.example"
SUPPLIER = "supplier@bright.example"
HEALTH_BOARD = "Bwrdd Iechyd Enghraifft / Example Health Board"

TITLE = "Safer crossings near rural schools"
PROBLEM = ("Children walk to several of our village schools along lanes with no pavement, and "
           "cross roads where drivers do not expect them. Parents tell us they drive their "
           "children the last half mile because the walk feels unsafe.")
QUESTION = "Can suppliers visit the schools during term time?"
ANSWER = "Yes: we will arrange visits with each head teacher in the first month of the contract."
NEW_SUMMARY = "Help children walk and cycle to village schools safely, on lanes with no pavement."
NOTE = "We made the summary clearer: cycling is in scope as well as walking."


def success(page: Page):
    return page.locator(".govuk-notification-banner--success")


def open_section(page: Page, name: str) -> None:
    """Follow a link on the task list (the section names are unique there)."""
    page.get_by_role("link", name=name, exact=True).click()


def save(page: Page, message: str) -> None:
    """Save and continue, back to the task list with a confirmation."""
    page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Prepare your challenge")
    expect(success(page)).to_contain_text(message)


def fill_date(page: Page, legend: str, day: str, month: str, year: str) -> None:
    group = page.get_by_role("group", name=legend)
    group.get_by_label("Day").fill(day)
    group.get_by_label("Month").fill(month)
    group.get_by_label("Year").fill(year)


def task_status(page: Page, name: str):
    return page.locator(".govuk-task-list__item", has=page.get_by_role("link", name=name, exact=True))


def write_draft(page: Page) -> None:
    """Create the draft and fill every section of its task list."""
    page.goto("/challenges/mine")
    page.get_by_role("button", name="Create a challenge").click()
    page.get_by_label("Title").fill(TITLE)
    page.get_by_role("button", name="Create challenge").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Prepare your challenge")
    expect(task_status(page, "Check and publish")).to_contain_text("Incomplete")

    open_section(page, "Details")
    page.get_by_label("Summary", exact=True).fill(
        "Help children walk to village schools safely, on lanes with no pavement.")
    page.get_by_label("Problem statement").fill(PROBLEM)
    page.get_by_label("Context").fill("We have tried painted crossings and lower speed limits.")
    page.get_by_label("Who is affected").fill("Pupils, their parents and people living nearby.")
    page.get_by_label("Outcomes sought").fill("More children walking to school, and no injuries.")
    save(page, "The details are saved.")
    expect(task_status(page, "Details")).to_contain_text("Completed")

    open_section(page, "Tags")
    page.get_by_label("Tags").fill("road safety, schools, rural")
    save(page, "The tags are saved.")

    open_section(page, "Welsh title and summary")
    page.get_by_label("Title in Welsh (optional)").fill("Croesfannau mwy diogel ger ysgolion gwledig")
    save(page, "The Welsh title and summary are saved.")

    open_section(page, "Lead contact")
    page.get_by_label("Name").fill("Road safety team")
    page.get_by_label("E-mail address").fill("road.safety@council.example")
    save(page, "The lead contact is saved.")

    open_section(page, "Deadline for questions")
    fill_date(page, "Deadline for questions", "15", "3", "2027")
    page.get_by_label("Time").fill("17:00")
    save(page, "The deadline for questions is saved.")

    open_section(page, "Add a phase")
    page.get_by_label("Feasibility (proof of concept)").check()
    page.get_by_role("button", name="Add phase").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Phase 1: Feasibility (proof of concept)")
    fill_date(page, "Opening date", "1", "3", "2027")
    page.get_by_label("Opening time").fill("09:00")
    fill_date(page, "Closing date", "31", "3", "2027")
    page.get_by_label("Closing time").fill("17:00")
    page.get_by_label("Number of contracts to award").fill("2")
    page.get_by_label("Maximum value of each contract").fill("40000")
    page.get_by_label("Duration of the contracts, in months").fill("3")
    save(page, "Phase 1 is saved.")
    expect(task_status(page, "Phase 1: Feasibility (proof of concept)")).to_contain_text("Completed")

    open_section(page, "Phase 1: criteria and weights")
    page.get_by_label("Technical feasibility", exact=True).fill("50")
    page.get_by_label("Value for money", exact=True).fill("30")
    page.get_by_label("Prevention", exact=True).fill("20")
    page.get_by_role("group", name="Eligibility (gate)").get_by_label("Use this gate").check()
    save(page, "The criteria of phase 1 are saved.")
    expect(task_status(page, "Phase 1: criteria and weights")).to_contain_text("Completed")

    # The budget (contracts × value = £80,000) is not covered yet: the lead pledges £60,000
    # and invites the health board to give the rest.
    open_section(page, "Pledges and partners")
    page.get_by_label("Your authority's pledge").fill("60000")
    page.get_by_role("button", name="Save pledge").click()
    expect(success(page)).to_contain_text("Your pledge is saved.")
    page.get_by_label("Authority", exact=True).select_option(label=HEALTH_BOARD)
    page.get_by_label("Message (optional)").fill("Safer walks to school mean healthier children.")
    page.get_by_role("button", name="Send invitation").click()
    expect(success(page)).to_contain_text(f"{HEALTH_BOARD} is invited to co-fund the challenge.")
    expect(page.locator("tr", has_text=HEALTH_BOARD)).to_contain_text("Invited")


def test_write_fund_publish_ask_answer_amend(new_context: Callable[..., BrowserContext]) -> None:
    council = new_context(as_user=COUNCIL_EDITOR).new_page()
    write_draft(council)

    # Not yet publishable: the pledged budget falls short of the phase's contracts.
    council.get_by_role("link", name="Back to the task list").click()
    open_section(council, "Check and publish")
    expect(council.locator(".govuk-error-summary")).to_contain_text(
        "The pledged budget does not cover this phase's contracts times their maximum value")
    expect(council.get_by_role("button", name="Publish challenge")).to_have_count(0)

    # The health board's editor finds the invitation and joins with £30,000.
    health = new_context(as_user=HEALTH_EDITOR).new_page()
    health.goto("/challenges/mine")
    health.get_by_role("link", name=TITLE).click()
    expect(health.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(health.locator("main")).to_contain_text(
        "Cyngor Sir Enghraifft / Example County Council invites your authority to co-fund")
    health.get_by_label("Your pledge in pounds").fill("30000")
    health.get_by_role("button", name="Accept and pledge").click()
    expect(success(health)).to_contain_text("You have joined the challenge as a co-funder.")
    expect(health.locator("tr", has_text=HEALTH_BOARD)).to_contain_text("£30,000")
    challenge_url = health.url

    # Now the council can publish.
    council.reload()
    expect(council.locator(".govuk-error-summary")).to_have_count(0)
    council.get_by_role("button", name="Publish challenge").click()
    expect(success(council)).to_contain_text("Your challenge is published.")
    expect(council).to_have_url(challenge_url)
    expect(council.locator("main .govuk-tag").first).to_have_text("Open")
    expect(council.locator("tr", has_text="Total budget")).to_contain_text("£90,000")

    # A supplier asks a question; only they see it waiting.
    supplier = new_context(as_user=SUPPLIER).new_page()
    supplier.goto("/challenges")
    supplier.get_by_role("link", name=TITLE).click()
    supplier.get_by_role("link", name="Ask a question").click()
    supplier.get_by_label("Your question").fill(QUESTION)
    supplier.get_by_role("button", name="Send question").click()
    expect(success(supplier)).to_contain_text("Your question has been sent.")
    expect(supplier.locator("main")).to_contain_text("Your questions awaiting an answer")
    expect(supplier.locator("main")).to_contain_text(QUESTION)

    # The council answers it.
    council.reload()
    council.get_by_role("link", name="Answer questions (1 waiting)").click()
    expect(council.locator("main")).to_contain_text(QUESTION)
    council.get_by_role("link", name=re.compile(r"^Answer the question asked")).click()
    expect(council.get_by_label("Question", exact=True)).to_have_value(QUESTION)
    council.get_by_label("Answer", exact=True).fill(ANSWER)
    council.get_by_role("button", name="Publish answer").click()
    expect(success(council)).to_contain_text("Your answer has been published")
    expect(council.locator("main")).to_contain_text("There are no questions waiting for an answer.")

    # A visitor reads the answer, and nothing says who asked.
    visitor = new_context().new_page()
    visitor.goto(challenge_url)
    expect(visitor.get_by_role("heading", level=1)).to_have_text(TITLE)
    answers = visitor.locator("main")
    expect(answers.get_by_role("heading", name=QUESTION)).to_be_visible()
    expect(answers).to_contain_text(ANSWER)
    for who in ("Siân Supplier", "Bright Ideas", SUPPLIER):
        expect(visitor.locator("body")).not_to_contain_text(who)

    # The council amends the summary with a change note; the visitor sees the history.
    council.goto(challenge_url)
    council.get_by_role("link", name="Amend the challenge").click()
    council.get_by_label("Summary", exact=True).fill(NEW_SUMMARY)
    council.get_by_label("Change note (published)").fill(NOTE)
    council.get_by_role("button", name="Publish amendment").click()
    expect(success(council)).to_contain_text("the challenge is now version 2")

    visitor.reload()
    expect(visitor.locator("main")).to_contain_text(NEW_SUMMARY)
    history = visitor.locator("ol", has=visitor.get_by_role("heading", name=re.compile(r"^Version 2, ")))
    expect(history).to_contain_text(NOTE)
    expect(history.get_by_role("listitem").filter(has_text=NOTE)).to_contain_text("Summary")
    expect(history).to_contain_text("First published.")
