"""TRUST's input, session and audit requirements proven across the whole site, on the demo's
world: CSRF on every state-changing route (JSON bodies included) for every role; the security
headers on errors and downloads; ``next`` only to this site's paths; no remember-me cookie; 429
with its headers; and ``flask audit verify`` run for real against a migrated database whose
chain is then broken with raw SQL. (No state change on GET, and the headers on every page, are
proven by the form sweep's crawl, before it posts anything.)"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from werkzeug.routing import IntegerConverter

from procure.extensions import limiter
from procure.security import is_safe_next
from tests.conftest import migrate, post_form
from tests.factories import PASSWORD, UserFactory
from tests.security import web
from tests.test_security import assert_security_headers

# The demo's world on SQLite: refusals and headers do not depend on the database.
on_sqlite = pytest.mark.parametrize("demo_template", ["sqlite"], indirect=True)
CSRF_REFUSED = ("Sorry, your form could not be sent",  # the demo's council editor reads Welsh:
                "Mae'n ddrwg gennym, nid oedd modd anfon eich ffurflen")


def _refused(response) -> bool:
    body = response.get_data(as_text=True).replace("&#39;", "'")
    return response.status_code == 400 and any(text in body for text in CSRF_REFUSED)


def _state_changing_paths(app) -> list[tuple[str, str]]:
    """Every (method, path) of a state-changing rule, its ids those of real demo objects
    (the demo's ids start at 1) and its tokens made up."""
    out = []
    for rule in app.url_map.iter_rules():
        values = {arg: 1 if isinstance(rule._converters[arg], IntegerConverter) else "made-up"
                  for arg in rule.arguments}
        path = rule.build(values)[1]
        out += [(method, path) for method in sorted(rule.methods & web.STATE_CHANGING)]
    return sorted(out)


@on_sqlite
@pytest.mark.parametrize("role", list(web.ROLES))
def test_every_state_changing_request_without_a_token_is_refused_and_changes_nothing(
        demo_app, role):
    app = demo_app
    client = app.test_client()
    web.act_as(app, client, role)
    assert client.get("/sign-in").status_code in (200, 302)  # the session holds a token
    routes = _state_changing_paths(app)
    assert ("POST", "/sign-in") in routes and ("POST", "/challenges/1/publish") in routes
    before, seq = web.row_counts(app), web.last_audit_seq(app)
    for method, path in routes:
        for body in ({"data": {"email": "editor@council.example", "password": PASSWORD,
                               "title": "Changed", "decision": "approve"}},
                     {"json": {"title": "Changed", "csrf_token": "forged"}},
                     {"data": {"csrf_token": "forged", "title": "Changed"}}):
            response = client.open(path, method=method, **body)
            assert _refused(response), (method, path, body)
            assert_security_headers(response)
    assert web.row_counts(app) == before
    assert web.audit_actions_since(app, seq) == []


@on_sqlite
def test_a_token_from_another_session_is_refused(demo_app):
    app = demo_app
    thief, victim = app.test_client(), app.test_client()
    web.act_as(app, thief, "supplier editor")
    web.act_as(app, victim, "authority editor")
    stolen = web.parse_page("/account", thief.get("/account").get_data(as_text=True))[1][0].token
    before = web.row_counts(app)
    response = victim.post("/challenges/new", data={"csrf_token": stolen, "title": "Forged"})
    assert _refused(response)
    assert web.row_counts(app) == before


@on_sqlite
def test_downloads_of_sealed_files_carry_the_headers(demo_app):
    """The lead's editor reads a proposal's file and a bake-off entrant's evidence after the
    deadline: attachments, nosniff, no-store and the rest."""
    app = demo_app
    client = app.test_client()
    web.act_as(app, client, "authority editor")
    downloads = [p for p in web.crawl(app, client, per_endpoint=8)
                 if web.endpoint_of(app, p.path) in ("proposals.download_attachment",
                                                     "bakeoff.download_evidence")
                 and p.status == 200]
    assert {web.endpoint_of(app, p.path) for p in downloads} == {
        "proposals.download_attachment", "bakeoff.download_evidence"}
    for page in downloads:
        assert page.headers["Content-Disposition"].startswith("attachment")
        assert page.headers["X-Content-Type-Options"] == "nosniff"
        assert page.headers["Cache-Control"] == "no-store"
        assert "object-src 'none'" in page.headers["Content-Security-Policy"]


def test_error_responses_carry_the_headers(client, db):
    limiter.reset()
    responses = {
        404: client.get("/challenges/2147483647"),
        405: client.get("/sign-out"),
        413: client.post("/sign-in", data={"x": "y" * (13 * 1024 * 1024)}),
        400: client.post("/sign-in", data={}),  # no CSRF token
    }
    for _ in range(10):
        client.get("/data/ocds/releases.json").get_data()
    responses[429] = client.get("/data/ocds/releases.json")
    for status, response in responses.items():
        assert response.status_code == status
        assert_security_headers(response)
    assert int(responses[429].headers["Retry-After"]) > 0


# --- redirects after sign-in -------------------------------------------------------------------

HOSTILE_NEXT = ["//evil.example", "/\\evil.example", "https:evil.example", "https://evil.example",
                "/%2F%2Fevil.example", "/%2f%2fevil.example", "\t//evil.example",
                " //evil.example", "/\t/evil.example", "/%09/evil.example",
                "javascript:alert(1)", "JAVASCRIPT:alert(1)", "data:text/html,x", "\\\\evil.example",
                "///evil.example", "/\\/evil.example", "//evil.example/%2e%2e", "http:/evil",
                "%2F%2Fevil.example", "/%5Cevil.example", "\x00//evil.example", "\r\n//evil"]


@pytest.mark.parametrize("target", [
    *HOSTILE_NEXT, "evil.example", "", None, "/account\r\nLocation: //evil"])
def test_is_safe_next_refuses_everything_but_this_sites_paths(target):
    assert is_safe_next(target) is False


@pytest.mark.parametrize("target", ["/account", "/challenges/1?tab=phases", "/records/2#lessons",
                                    "/catalogue?q=d%C5%B5r"])
def test_is_safe_next_accepts_this_sites_paths(target):
    assert is_safe_next(target) is True


def test_signing_in_with_a_hostile_next_lands_on_this_site(client, db):
    """Through the real sign-in form, every hostile ``next`` ends on the account page."""
    UserFactory(email="ann@example.org")
    for target in HOSTILE_NEXT:
        fresh = client.application.test_client()
        response = post_form(fresh, f"/sign-in?next={quote(target)}",
                             {"email": "ann@example.org", "password": PASSWORD})
        assert response.status_code == 302, target
        location = response.headers["Location"]
        assert location in ("/account", "http://localhost/account"), (target, location)
        limiter.reset()


def test_signing_in_sets_no_remember_me_cookie(client, db):
    """There is no long-lived cookie to steal: only the session cookie."""
    UserFactory(email="ann@example.org")
    response = post_form(client, "/sign-in", {"email": "ann@example.org", "password": PASSWORD})
    assert response.status_code == 302
    names = {c.split("=", 1)[0] for c in response.headers.getlist("Set-Cookie")}
    assert "session" in names and "remember_token" not in names


# --- rate limits -------------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "allowed"), [("/api/v1/challenges", 120), ("/catalogue", 120)])
def test_the_unfiltered_catalogue_is_rate_limited_too(client, path, allowed):
    for _ in range(allowed):
        assert client.get(path).status_code == 200
    refused = client.get(path)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert_security_headers(refused)


# --- the audit chain, verified by the real command ---------------------------------------------

def _flask(url: str, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROCURE_")}
    env.update(PROCURE_DATABASE_URL=url, PYTHONWARNINGS="ignore")
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args],
                          cwd=Path(__file__).resolve().parents[2], env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def test_audit_verify_command_finds_a_row_changed_with_raw_sql(tmp_path):
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    migrate(url)
    loaded = _flask(url, "values", "load")  # real events: each shared framework loaded
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    with sqlite3.connect(tmp_path / "audit.db") as conn:
        count, = conn.execute("SELECT count(*) FROM audit_events").fetchone()
    assert count >= 3

    intact = _flask(url, "audit", "verify")
    assert intact.returncode == 0, intact.stderr[-2000:]
    assert intact.stdout.startswith("OK")

    with sqlite3.connect(tmp_path / "audit.db") as conn:
        seq, = conn.execute("SELECT seq FROM audit_events ORDER BY seq LIMIT 1 OFFSET 1").fetchone()
        conn.execute("UPDATE audit_events SET subject_id = 'someone else' WHERE seq = ?", (seq,))
    broken = _flask(url, "audit", "verify")
    assert broken.returncode != 0
    assert f"BROKEN at event {seq}:" in broken.stderr
    assert "OK" not in broken.stdout
