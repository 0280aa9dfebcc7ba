"""The browser tier: a live Procure server and Debian Chromium driven by Playwright.

Each pytest process (each xdist worker) gets its own server, on a fresh SQLite file and a
free port, and its own browser; every test gets a fresh browser context, so cookies and
language choices never leak between tests. People who must be signed in are signed in
once, through the real sign-in form, and their cookies reused (``storage_state``).
"""

from __future__ import annotations

import email
import email.policy
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright
from werkzeug.serving import BaseWSGIServer, make_server

from tests.conftest import migrate

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
DEMO_PASSWORD = "demo-procure-2026"

# People added beside the demo data, for states the demo does not have.
NEWCOMER = ("newcomer@example.org", "Nia Newcomer")  # confirmed, no organisation yet
JOINERS = [("joiner@example.org", "Jo Joiner"),  # both asked to join the health board
           ("joiner2@example.org", "Jac Joiner")]

# Beside the demo challenges: a draft of the county council's with a bake-off phase (criteria
# chosen, one measure weighing 60 of 100), for the phase, criteria and measures pages; and a
# draft version of a value framework, for the admin's criterion editing page.
BAKE_OFF_DRAFT = "Quieter gritting lorries at night"
DRAFT_FRAMEWORK = "ways-of-working"

expect.set_options(timeout=10_000)


@dataclass
class LiveServer:
    app: Flask
    url: str
    mail_dir: Path

    def run(self, fn: Callable[[Any], Any]) -> Any:
        """Call ``fn(session)`` inside an app context on the live server's database."""
        from procure.db import get_session

        with self.app.app_context():
            return fn(get_session())

    def deliver_mail(self) -> None:
        """Deliver the outbox now (the testing config records jobs instead of sending them)."""
        from procure.db import utcnow
        from procure.notifications.services import sweep

        self.run(lambda s: sweep(s, now=utcnow()))

    def mail_to(self, address: str) -> list[email.message.EmailMessage]:
        """The delivered e-mails addressed to ``address``, oldest first."""
        self.deliver_mail()
        found = []
        for path in sorted(self.mail_dir.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns):
            msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if msg["To"] == address:
                found.append(msg)
        return found

    def link_in_mail(self, address: str, path_prefix: str) -> str:
        """The last link to ``path_prefix`` in the e-mails sent to ``address``."""
        links = [link for msg in self.mail_to(address)
                 for link in re.findall(r"https?://\S+", msg.get_content())
                 if link.startswith(self.url + path_prefix)]
        assert links, f"no e-mail to {address} links to {path_prefix}"
        return links[-1]


def _add_people(session) -> None:
    """A confirmed person with no organisation, and two whose requests to join are pending."""
    from sqlalchemy import select
    from werkzeug.security import generate_password_hash

    from procure.accounts import services
    from procure.accounts.models import Organisation, User
    from procure.db import utcnow

    now = utcnow()
    users = {}
    for address, name in (NEWCOMER, *JOINERS):
        user = User(email=address, name=name, password_hash=generate_password_hash(DEMO_PASSWORD),
                    locale="en", is_admin=False, is_disabled=False, created_at=now,
                    email_confirmed_at=now)
        session.add(user)
        users[address] = user
    session.commit()
    health = session.execute(select(Organisation).where(
        Organisation.name.like("%Example Health Board"))).scalar_one()
    for address, _name in JOINERS:
        services.request_membership(session, actor=users[address], organisation_id=health.id,
                                    now=now)


def _add_drafts(session) -> None:
    """A draft with a bake-off phase, and a draft version of a value framework."""
    from decimal import Decimal

    from sqlalchemy import select

    from procure.accounts.models import User
    from procure.challenges import services
    from procure.db import utcnow
    from procure.values.services import create_next_version, current_frameworks

    now = utcnow()
    editor = session.execute(select(User).where(User.email == "editor@council.example")).scalar_one()
    admin = session.execute(select(User).where(User.email == "admin@procure.example")).scalar_one()
    criteria = {c.code: c.id for fw in current_frameworks(session) for c in fw.criteria}
    draft = services.create_challenge(session, actor=editor, title=BAKE_OFF_DRAFT, now=now)
    phase = services.add_phase(session, actor=editor, challenge_id=draft.id, kind="bake_off", now=now)
    services.set_phase_criteria(
        session, actor=editor, challenge_id=draft.id, phase_id=phase.id, now=now,
        weights={criteria["technicalFeasibility"]: 50, criteria["prevention"]: 50,
                 criteria["eligibility"]: None})
    services.save_measure(session, actor=editor, challenge_id=draft.id, phase_id=phase.id,
                          measure_id=None, name="Complaints about noise", unit="a month",
                          direction="lower", baseline=Decimal("40"), target=Decimal("10"),
                          criterion_id=criteria["prevention"], weight=60, now=now)
    create_next_version(session, actor=admin, code=DRAFT_FRAMEWORK, now=now)


def find_ids(session) -> dict[str, int]:
    """The ids the pages under test need, found by title, e-mail address or code."""
    from sqlalchemy import select

    from procure.accounts.models import User
    from procure.challenges.models import Challenge, Clarification
    from procure.values.models import ValueFramework

    def challenge(title: str) -> Challenge:
        return session.execute(select(Challenge).where(Challenge.title == title)).scalar_one()

    bins = challenge("Fewer missed bin collections on rural lanes")
    gritting = challenge(BAKE_OFF_DRAFT)
    pending = session.execute(
        select(Clarification).join(User, Clarification.asked_by_id == User.id)
        .where(Clarification.challenge_id == bins.id, Clarification.published_at.is_(None),
               User.email == "supplier@greenfield.example")).scalar_one()
    versions = {fw.version: fw for fw in session.execute(
        select(ValueFramework).where(ValueFramework.code == DRAFT_FRAMEWORK)).scalars()}
    draft_version = versions[max(versions)]
    assert not draft_version.is_published
    return {
        "bins": bins.id,
        "home": challenge("Home from hospital sooner").id,
        "flood": challenge("Flood warnings that reach everyone").id,
        "library": challenge("Library cards for every pupil").id,
        "gritting": gritting.id,
        "gritting_phase": gritting.phases[0].id,
        "pending_question": pending.id,
        "framework": versions[min(versions)].id,
        "draft_framework": draft_version.id,
        "draft_criterion": draft_version.criteria[0].id,
    }


def _buffered(app: Flask):
    """Read each response body fully, and close it, before the server starts sending it.

    Werkzeug's development server closes a response only after draining the socket, and
    skips the close when that drain fails because the browser reset the connection (as
    Chromium does when a test closes its context while the favicon is still loading). A
    static file's handle was then left to the garbage collector: a ResourceWarning, which
    `filterwarnings = error` turns into a failure of whichever test happens to be running.
    """
    def wsgi(environ, start_response):
        result = app(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return [body]

    return wsgi


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    from procure import create_app
    from procure.db import utcnow
    from procure.demo import load_demo
    from procure.demo_challenges import load_demo_challenges

    root = tmp_path_factory.mktemp("live")
    url = f"sqlite:///{root / 'procure.db'}"
    migrate(url)
    mail_dir = root / "mail"
    app = create_app("testing", SQLALCHEMY_DATABASE_URL=url, MAIL_DIR=mail_dir,
                     BASE_URL="http://127.0.0.1")
    # Port 0: the kernel picks a free port, so parallel workers never collide. Links in
    # e-mails need that port, and the app reads BASE_URL per request, so set it now,
    # before the first request.
    server: BaseWSGIServer = make_server("127.0.0.1", 0, _buffered(app), threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    app.config["BASE_URL"] = base_url
    live = LiveServer(app=app, url=base_url, mail_dir=mail_dir)
    live.run(lambda s: load_demo(s, now=utcnow()))
    live.run(lambda s: load_demo_challenges(s, now=utcnow()))
    live.run(_add_people)
    live.run(_add_drafts)

    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield live
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)
    app.extensions["db_engine"].dispose()


@pytest.fixture(scope="session")
def ids(live_server: LiveServer) -> dict[str, int]:
    """Ids of the demo challenges and the other records pages are opened on (see ``find_ids``)."""
    return live_server.run(find_ids)


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    # The limiter is a module-level singleton whose in-memory counts all apps in the
    # process share; start each test with none, as the unit tier's client fixture does.
    # (RATELIMIT_ENABLED=False is not used: Flask-Limiter copies it onto the singleton,
    # which would switch rate limiting off for unit tests later in the same worker.)
    from procure.extensions import limiter

    limiter.reset()


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def signed_in_state(browser: Browser, live_server: LiveServer) -> Callable[[str], dict]:
    """The cookies of a session signed in as ``address``, made once per person and reused."""
    states: dict[str, dict] = {}

    def get(address: str) -> dict:
        if address not in states:
            context = browser.new_context(base_url=live_server.url)
            page = context.new_page()
            sign_in(page, address)
            states[address] = context.storage_state()
            context.close()
        return states[address]

    return get


@pytest.fixture
def new_context(browser: Browser, live_server: LiveServer,
                signed_in_state: Callable[[str], dict]) -> Iterator[Callable[..., BrowserContext]]:
    """Make a fresh browser context, optionally already signed in as someone."""
    contexts: list[BrowserContext] = []

    def make(as_user: str | None = None) -> BrowserContext:
        context = browser.new_context(
            base_url=live_server.url,
            storage_state=signed_in_state(as_user) if as_user else None)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context: Callable[..., BrowserContext]) -> Page:
    return new_context().new_page()


def sign_in(page: Page, address: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the form, in English, and wait for the account page.

    English is asked for (and so remembered) because some demo people read Welsh by default.
    """
    page.goto("/sign-in?lang=en")
    page.get_by_label("E-mail address").fill(address)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
