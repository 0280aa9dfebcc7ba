"""An axe-core sweep of every page and state, in English and in Welsh (WCAG 2.2 AA tags).

Each case opens a fresh browser context (signed in as the right person where needed),
brings the page to its state the way a person would, then runs axe in the page with the
site's Content-Security-Policy still in force, so what is checked is what people get.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import NEWCOMER

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

AXE_JS = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

ADMIN = "admin@procure.example"
VIEWER = "viewer@council.example"  # English-speaking viewer of the county council
HEALTH_EDITOR = "editor@health.example"  # has Jo Joiner's request to decide


def submit(page: Page) -> None:
    """Press the main form's button; found by place, not by name, so it works in Welsh."""
    page.locator("main form button[type=submit]").first.click()


def submit_empty(page: Page) -> None:
    """Send the form as it is and wait for the error summary, which takes the focus."""
    submit(page)
    expect(page.locator(".govuk-error-summary")).to_be_focused()


def register_someone(page: Page) -> None:
    page.locator("#name").fill("Rhys Register")
    page.locator("#email").fill(f"rhys-{uuid.uuid4().hex[:8]}@example.org")
    page.locator("#password").fill("copper kettle lantern meadow")
    submit(page)
    expect(page).to_have_url(re.compile(r"/register/check-email$"))


def ask_for_reset(page: Page) -> None:
    page.locator("#email").fill(VIEWER)
    submit(page)
    expect(page.locator("main h1")).to_be_visible()
    expect(page.locator("main form")).to_have_count(0)


def confirm_with_bad_token(page: Page) -> None:
    submit(page)
    expect(page.locator("main a[href='/password/forgot']")).to_be_visible()


def submit_forged_form(page: Page) -> None:
    """A form whose CSRF token does not match the session, as after a session expires."""
    page.locator("main input[name=csrf_token]").evaluate("el => el.value = 'forged'")
    page.locator("#email").fill(VIEWER)
    page.locator("#password").fill("whatever it is")
    submit(page)
    expect(page.locator("main form")).to_have_count(0)


@dataclass(frozen=True)
class Case:
    path: str
    user: str | None = None
    status: int = 200
    then: Callable[[Page], None] | None = field(default=None, compare=False)


CASES: dict[str, Case] = {
    "home": Case("/"),
    "cookies": Case("/cookies"),
    "accessibility": Case("/accessibility"),
    "privacy": Case("/privacy"),
    "transparency": Case("/transparency"),
    "register": Case("/register"),
    "register-errors": Case("/register", then=submit_empty),
    "check-email": Case("/register", then=register_someone),
    "confirm-email": Case("/confirm-email/not-a-real-token"),
    "link-expired": Case("/confirm-email/not-a-real-token", then=confirm_with_bad_token),
    "sign-in": Case("/sign-in"),
    "sign-in-errors": Case("/sign-in", then=submit_empty),
    "forgot-password": Case("/password/forgot"),
    "forgot-password-errors": Case("/password/forgot", then=submit_empty),
    "reset-sent": Case("/password/forgot", then=ask_for_reset),
    "account": Case("/account", user=VIEWER),
    "change-password": Case("/account/password", user=VIEWER),
    "change-password-errors": Case("/account/password", user=VIEWER, then=submit_empty),
    "organisation-choose": Case("/organisation", user=NEWCOMER[0]),
    "organisation-new": Case("/organisation/new", user=NEWCOMER[0]),
    "organisation-new-errors": Case("/organisation/new", user=NEWCOMER[0], then=submit_empty),
    "organisation-join": Case("/organisation/join", user=NEWCOMER[0]),
    "organisation-join-errors": Case("/organisation/join", user=NEWCOMER[0],
                                     then=submit_empty),
    "organisation-show-pending-request": Case("/organisation", user=HEALTH_EDITOR),
    "admin-dashboard": Case("/admin", user=ADMIN),
    "admin-organisations": Case("/admin/organisations", user=ADMIN),
    "admin-audit": Case("/admin/audit", user=ADMIN),
    "admin-outbox": Case("/admin/outbox", user=ADMIN),
    "403": Case("/admin", user=VIEWER, status=403),
    "404": Case("/no-such-page", status=404),
    "csrf-failure": Case("/sign-in", then=submit_forged_form),
}

RUN_AXE = """async (tags) => {
  const results = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
  return results.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => n.target.join(' ') + '\\n      ' + n.failureSummary.replace(/\\n/g, ' ')),
  }));
}"""


@pytest.fixture(scope="module")
def axe_source() -> str:
    return AXE_JS.read_text(encoding="utf-8")


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']}")
        lines.extend(f"    {node}" for node in v["nodes"])
    return "\n".join(lines)


@pytest.mark.parametrize("lang", ["en", "cy"])
@pytest.mark.parametrize("name", list(CASES))
def test_page_has_no_axe_violations(name: str, lang: str, new_context, axe_source: str) -> None:
    case = CASES[name]
    page = new_context(as_user=case.user).new_page()
    url = case.path + ("?lang=cy" if lang == "cy" else "")

    response = page.goto(url)
    assert response is not None and response.status == case.status, response and response.status
    if case.then:
        case.then(page)
    expect(page.locator("html")).to_have_attribute("lang", lang)

    page.evaluate(axe_source)
    violations = page.evaluate(RUN_AXE, AXE_TAGS)
    assert not violations, (
        f"axe found {len(violations)} violation(s) on {page.url}:\n{describe(violations)}")
