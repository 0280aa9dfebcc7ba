"""Security behaviour seen from outside: headers, cookies, sign-in throttling, error pages."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select

from procure.audit.models import AuditEvent
from tests.conftest import NOW, post_form, sign_in
from tests.factories import PASSWORD, UserFactory


def assert_security_headers(response) -> None:
    h = response.headers
    csp = h["Content-Security-Policy"]
    directives = {d.strip().split(" ", 1)[0]: d.strip() for d in csp.split(";")}
    assert directives["object-src"] == "object-src 'none'"
    assert directives["base-uri"] == "base-uri 'none'"
    assert directives["frame-ancestors"] == "frame-ancestors 'none'"
    assert "'unsafe-inline'" not in csp
    assert h["Strict-Transport-Security"].startswith("max-age=")
    assert int(re.search(r"max-age=(\d+)", h["Strict-Transport-Security"]).group(1)) >= 31536000
    assert h["X-Content-Type-Options"] == "nosniff"
    # Keeps same-origin referrers, sends only the origin elsewhere, nothing on downgrade.
    assert h["Referrer-Policy"] in ("strict-origin-when-cross-origin", "same-origin")


@pytest.mark.parametrize("path, status", [
    ("/", 200),
    ("/sign-in", 200),
    ("/register", 200),
    ("/transparency", 200),
    ("/no-such-page", 404),
    ("/static/css/procure.css", 200),
    ("/static/govuk/govuk-frontend.min.js", 200),
    ("/assets/images/favicon.ico", 200),
    ("/admin", 302),
])
def test_security_headers_on_every_kind_of_response(client, path, status):
    with client.get(path) as response:  # static files are streamed: close the file
        assert response.status_code == status
        assert_security_headers(response)
        if status == 404:
            assert "Page not found" in response.get_data(as_text=True)


def test_security_headers_on_method_not_allowed_and_csrf_error(client):
    assert_security_headers(client.get("/sign-out"))
    response = client.post("/sign-in", data={})
    assert response.status_code == 400
    assert_security_headers(response)


def test_script_nonce_matches_the_policy(client):
    response = client.get("/")
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    html = response.get_data(as_text=True)
    assert f'nonce="{nonce}"' in html
    assert client.get("/").headers["Content-Security-Policy"] != response.headers[
        "Content-Security-Policy"]  # a fresh nonce per response


def test_no_store_on_signed_in_pages_only(client, db):
    assert "no-store" not in client.get("/").headers.get("Cache-Control", "")
    sign_in(client, db, UserFactory())
    for path in ("/", "/account", "/organisation", "/no-such-page"):
        response = client.get(path)
        assert response.headers.get("Cache-Control") == "no-store", path
        assert_security_headers(response)


def _production_app(monkeypatch, tmp_path) -> Flask:
    from procure import create_app

    monkeypatch.setenv("PROCURE_SECRET_KEY", "a-production-secret-for-this-test-only")
    monkeypatch.setenv("PROCURE_DATABASE_URL", f"sqlite:///{tmp_path / 'prod.db'}")
    monkeypatch.setenv("PROCURE_MAIL_DIR", str(tmp_path / "mail"))
    return create_app("production")


def test_production_refuses_to_start_without_a_secret_key(monkeypatch):
    from procure import create_app

    monkeypatch.delenv("PROCURE_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="PROCURE_SECRET_KEY"):
        create_app("production")


def test_production_session_cookie_is_host_prefixed_secure_httponly_lax(monkeypatch, tmp_path):
    app = _production_app(monkeypatch, tmp_path)
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-session"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_HTTPONLY"] is True
    assert app.config["REMEMBER_COOKIE_SAMESITE"] == "Lax"
    assert app.config["DEBUG"] is False and app.config["TESTING"] is False

    client = app.test_client()
    response = client.get("/sign-in", base_url="https://procure.example")
    assert response.status_code == 200
    [cookie] = [c for c in response.headers.getlist("Set-Cookie")
                if c.startswith("__Host-session=")]
    attributes = {a.strip().split("=")[0].lower() for a in cookie.split(";")[1:]}
    assert {"secure", "httponly", "path"} <= attributes
    assert "samesite=lax" in cookie.lower()
    assert "path=/" in cookie.lower()
    assert "domain" not in attributes  # a __Host- cookie must not name a domain
    # The language cookie is Secure in production too.
    response = client.get("/?lang=cy", base_url="https://procure.example")
    [lang] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("procure_lang=")]
    assert "Secure" in lang and "HttpOnly" in lang


def test_development_cookie_works_over_plain_http(app):
    assert app.config["SESSION_COOKIE_NAME"] == "session"
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


# --- sign-in throttling ---------------------------------------------------------------------

WRONG = "not the password"


def _attempt(client, email, password=WRONG):
    return post_form(client, "/sign-in", {"email": email, "password": password})


def _throttled_events(db) -> list[AuditEvent]:
    return list(db.execute(select(AuditEvent).where(AuditEvent.action == "user.sign_in_throttled")
                           ).scalars())


def test_sixth_failed_attempt_for_an_account_is_throttled(app, client, db):
    assert app.config["SIGNIN_LIMITS_ACCOUNT"].startswith("5 per minute")
    user = UserFactory(email="target@example.org")
    with time_machine.travel(NOW, tick=False) as traveller:
        for _ in range(5):
            assert _attempt(client, "target@example.org").status_code == 400
        assert _throttled_events(db) == []
        response = _attempt(client, "Target@Example.org")  # same account, other spelling
        assert response.status_code == 429
        assert "Too many attempts" in response.get_data(as_text=True)
        retry_after = response.headers["Retry-After"]
        assert retry_after.isdigit() and 0 < int(retry_after) <= 61  # within the minute
        assert_security_headers(response)
        [event] = _throttled_events(db)
        assert event.subject_id == str(user.id)
        assert '"scope":"account"' in event.data
        assert "password" not in event.data  # no secrets in the log
        # Even the right password waits: that is what slows a guesser down...
        assert _attempt(client, "target@example.org", PASSWORD).status_code == 429
        # ...but only for a while: nobody is locked out for good.
        traveller.shift(timedelta(seconds=61))
        assert _attempt(client, "target@example.org", PASSWORD).status_code == 302


def test_throttling_is_per_account(client, db):
    UserFactory(email="target@example.org")
    other = UserFactory(email="other@example.org")
    with time_machine.travel(NOW, tick=False):
        for _ in range(6):
            _attempt(client, "target@example.org")
        assert _attempt(client, other.email, PASSWORD).status_code == 302


def test_successful_sign_ins_are_not_counted(client, db):
    UserFactory(email="busy@example.org")
    with time_machine.travel(NOW, tick=False):
        for _ in range(8):
            assert _attempt(client, "busy@example.org", PASSWORD).status_code == 302
        for _ in range(5):
            assert _attempt(client, "busy@example.org").status_code == 400
        assert _attempt(client, "busy@example.org").status_code == 429
    assert len(_throttled_events(db)) == 1


# --- error pages ----------------------------------------------------------------------------

@pytest.mark.parametrize("config_name", ["testing", "production"])
def test_500_page_has_a_reference_and_no_traceback(monkeypatch, tmp_path, caplog, config_name):
    from procure import create_app

    if config_name == "production":
        app = _production_app(monkeypatch, tmp_path)
        base_url = "https://procure.example"
    else:
        app = create_app("testing", SQLALCHEMY_DATABASE_URL=f"sqlite:///{tmp_path / 't.db'}",
                         MAIL_DIR=tmp_path / "mail")
        base_url = "http://localhost"

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret detail: password=hunter2")

    client = app.test_client()
    response = client.get("/boom", base_url=base_url)
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "Sorry, there is a problem with the service" in html
    reference = re.search(r"quote the reference ([0-9a-f]{32})", html)
    assert reference, html
    for leak in ("Traceback", "RuntimeError", "secret detail", "hunter2", "boom()"):
        assert leak not in html
    assert_security_headers(response)
    # The reference leads to the logged error.
    assert any(reference.group(1) in r.getMessage() for r in caplog.records)

    given = client.get("/boom", base_url=base_url, headers={"X-Request-Id": "req-<b>42</b>"})
    assert given.status_code == 500
    assert "req-&lt;b&gt;42&lt;/b&gt;" in given.get_data(as_text=True)
    assert "<b>42</b>" not in given.get_data(as_text=True)


def test_error_page_still_answers_when_the_error_template_itself_fails(tmp_path, monkeypatch):
    """If the database is gone, the 500 page cannot load the user; a plain page still says sorry."""
    from procure import create_app

    broken = create_app("testing", SQLALCHEMY_DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}",
                        PROPAGATE_EXCEPTIONS=False)

    @broken.get("/boom")
    def boom():
        raise RuntimeError("boom")

    def failing_render(*_args, **_kwargs):
        raise RuntimeError("template failed")

    monkeypatch.setattr("procure.web.render_template", failing_render)
    response = broken.test_client().get("/boom", headers={"X-Request-Id": "ref-123"})
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "problem with the service" in body and "ref-123" in body
    assert "Traceback" not in body and "boom" not in body
    assert "object-src 'none'" in response.headers["Content-Security-Policy"]


def test_database_out_of_reach_is_a_503_with_retry_after_and_the_security_headers(tmp_path):
    """A restarting database is a temporary state: 503 with Retry-After, never a 500."""
    import psycopg
    from sqlalchemy import exc as sa_exc

    from procure import create_app

    app = create_app("testing", SQLALCHEMY_DATABASE_URL=f"sqlite:///{tmp_path / 'd.db'}",
                     PROPAGATE_EXCEPTIONS=False)

    @app.get("/reads-the-database")
    def reads_the_database():
        refused = psycopg.OperationalError("connection refused")  # no SQLSTATE: never answered
        raise sa_exc.OperationalError("SELECT 1", {}, refused)

    response = app.test_client().get("/reads-the-database")
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert "problem with the service" in response.get_data(as_text=True)
    assert "connection refused" not in response.get_data(as_text=True)
    assert_security_headers(response)
