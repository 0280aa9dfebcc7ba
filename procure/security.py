"""Sign-in sessions, security headers, CSP, CSRF and rate limits for every response."""

from __future__ import annotations

import secrets
from urllib.parse import unquote, urlsplit

from flask import Flask, g, request
from flask_login import current_user

from procure.db import get_session, utcnow
from procure.extensions import csrf, limiter, login_manager


def is_safe_next(target: str | None) -> bool:
    """Only this site's own paths: '/x' is fine; '//evil', '/\\evil', 'https:evil' are not,
    nor any of them percent-encoded (a proxy or browser may decode them on the way)."""
    if not target:
        return False
    return _is_own_path(target) and _is_own_path(unquote(target))


def _is_own_path(target: str) -> bool:
    if not target.startswith("/") or target.startswith(("//", "/\\")):
        return False
    if "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def _csp() -> str:
    return "; ".join([
        "default-src 'self'",
        f"script-src 'self' 'nonce-{csp_nonce()}'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ])


def init_security(app: Flask) -> None:
    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    login_manager.init_app(app)
    login_manager.login_view = "accounts.sign_in"
    login_manager.login_message = None
    login_manager.session_protection = None  # the server-side session is the protection

    @login_manager.user_loader
    def _load_user(token: str):
        from procure.accounts.services import load_session_user

        return load_session_user(get_session(), token, now=utcnow())

    csrf.init_app(app)
    limiter.init_app(app)
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.after_request
    def _headers(response):
        h = response.headers
        h["Content-Security-Policy"] = _csp()
        h["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        h["X-Content-Type-Options"] = "nosniff"
        h["X-Frame-Options"] = "DENY"
        h["Referrer-Policy"] = "strict-origin-when-cross-origin"
        h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), interest-cohort=()"
        h["Cross-Origin-Opener-Policy"] = "same-origin"
        signed_in = _user_loaded() and getattr(current_user, "is_authenticated", False)
        if signed_in or request.method == "POST":
            h["Cache-Control"] = "no-store"
        return response


def _user_loaded() -> bool:
    """Whether the request already looked up its user (the header hook should not trigger it)."""
    return "_login_user" in g
