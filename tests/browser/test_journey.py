"""A newcomer's journey in real Chromium: register, confirm, register an organisation,
have an admin verify it, sign in again, switch to Welsh, sign out."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveServer, set_up_two_step, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PASSWORD = "copper kettle lantern meadow"


def sign_out(page: Page) -> None:
    page.locator("form[action='/sign-out'] button").click()


def test_register_verify_sign_in_welsh_sign_out(page: Page, live_server: LiveServer):
    address = f"journey-{uuid.uuid4().hex[:8]}@example.org"
    org_name = f"Cyngor Cymuned Taith {uuid.uuid4().hex[:6]}"

    # Register.
    page.goto("/")
    page.get_by_role("link", name="Create an account").first.click()
    page.get_by_label("Full name").fill("Jên Journey")
    page.get_by_label("E-mail address").fill(address)
    page.get_by_label("Create a password").fill(PASSWORD)
    page.get_by_label("Cymraeg").check()
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your e-mail")
    expect(page.locator("main")).to_contain_text(address)

    # The confirmation e-mail is in Welsh, as chosen; its link confirms the address.
    [welcome] = live_server.mail_to(address)
    assert welcome["Content-Language"] == "cy"
    page.goto(live_server.link_in_mail(address, "/confirm-email/"))
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".govuk-notification-banner--success")).to_be_visible()

    # Sign in and register a new organisation; it awaits verification.
    page.goto("/sign-in?lang=en")
    sign_in(page, address, PASSWORD)
    page.get_by_role("link", name="Your organisation").first.click()
    page.get_by_role("link", name="Register a new organisation").click()
    page.get_by_label("Name of the organisation").fill(org_name)
    page.get_by_label("A public authority (buyer)").check()
    page.get_by_role("button", name="Create organisation").click()
    # A member of a public authority must use two-step sign-in: it is set up before going on.
    set_up_two_step(page, address, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    page.get_by_role("link", name="Your organisation").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(org_name)
    expect(page.locator("main")).to_contain_text("Awaiting verification")
    sign_out(page)
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("signed out")

    # An admin verifies it.
    sign_in(page, "admin@procure.example")
    page.get_by_role("link", name="Admin").click()
    page.get_by_role("link", name="Organisations").click()
    row = page.locator("tr", has_text=org_name)
    row.get_by_role("button", name=re.compile("Verify")).click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(org_name)
    sign_out(page)

    # The editor was told, and sees the organisation verified.
    assert any("/organisation" in m.get_content() for m in live_server.mail_to(address)[1:])
    sign_in(page, address, PASSWORD)
    page.get_by_role("link", name="Your organisation").first.click()
    expect(page.locator("main")).to_contain_text("Verified")

    # Switch to Welsh: the same page in Welsh, and the choice is remembered.
    page.locator("a[hreflang='cy']").click()
    expect(page.locator("html")).to_have_attribute("lang", "cy")
    expect(page).to_have_url(re.compile(r"/organisation\?lang=cy$"))
    expect(page.locator("main")).to_contain_text("Wedi")  # "Wedi'i ddilysu": verified
    page.goto("/account")
    expect(page.locator("html")).to_have_attribute("lang", "cy")
    expect(page.get_by_role("heading", level=1)).to_have_text("Eich cyfrif")

    # Sign out (in Welsh); the account page then asks to sign in.
    sign_out(page)
    expect(page.locator(".govuk-notification-banner--success")).to_be_visible()
    page.goto("/account")
    expect(page).to_have_url(re.compile(r"/sign-in"))
    expect(page.locator("html")).to_have_attribute("lang", "cy")
