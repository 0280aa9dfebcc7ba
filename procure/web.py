"""The web layer: blueprints, template helpers and the error pages."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from flask import Blueprint, Flask, g, render_template, request
from flask_babel import format_datetime, get_locale
from flask_wtf.csrf import CSRFError
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader
from markupsafe import Markup, escape
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from procure.errors import InvalidTransition, NotFound, NotPermitted
from procure.markdown import render_markdown

log = logging.getLogger(__name__)

ERROR_TEMPLATES = {400: "errors/400.html", 403: "errors/403.html", 404: "errors/404.html",
                   405: "errors/405.html", 409: "errors/409.html", 413: "errors/413.html",
                   429: "errors/429.html"}
RETRY_AFTER_SECONDS = 30  # what a 503 tells clients while the database is out of reach


def init_web(app: Flask) -> None:
    app.jinja_loader = ChoiceLoader([
        app.jinja_loader,
        PrefixLoader({
            "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
            "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
        }),
    ])
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.filters["london"] = lambda dt, fmt="d MMMM yyyy, HH:mm": (
        format_datetime(dt, fmt) if dt else "")
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["money"] = format_pounds
    LayoutCache(app).install(app.jinja_env)
    WTFormsHelpers(app)
    # Identifiers in paths fit the database's integer: a larger one is simply not found
    # (SQLite would otherwise overflow with a 500).
    app.url_map.converters["int"] = DatabaseId

    # GOV.UK Frontend's fonts and images, copied from npm by `make assets`.
    app.register_blueprint(Blueprint("govuk_assets", __name__,
                                     static_folder="static/govuk/assets",
                                     static_url_path="/assets"))

    from procure.accounts.organisation_views import bp as organisations_bp
    from procure.accounts.views import bp as accounts_bp
    from procure.admin.views import bp as admin_bp
    from procure.api import ocds_views  # noqa: F401 - its routes, on api_bp
    from procure.api import views as api_views  # noqa: F401 - its routes, on api_bp
    from procure.api.blueprint import bp as api_bp
    from procure.assessment.views import bp as assessment_bp
    from procure.bakeoff import award_views, views  # noqa: F401 - their routes, on bakeoff_bp
    from procure.bakeoff.blueprint import bp as bakeoff_bp
    from procure.challenges.authoring_views import bp as authoring_bp
    from procure.challenges.following_views import bp as following_bp
    from procure.challenges.views import bp as challenges_bp
    from procure.pages.views import bp as pages_bp
    from procure.record import editor_views, open_data_views  # noqa: F401 - their routes, on record_bp
    from procure.record import views as record_views  # noqa: F401 - its routes, on record_bp
    from procure.record.blueprint import bp as record_bp
    from procure.submissions.views import bp as proposals_bp
    from procure.values.views import bp as values_bp

    for bp in (pages_bp, accounts_bp, organisations_bp, admin_bp, challenges_bp, authoring_bp,
               following_bp, values_bp, proposals_bp, assessment_bp, bakeoff_bp, record_bp, api_bp):
        app.register_blueprint(bp)

    @app.before_request
    def _request_id() -> None:
        g.request_id = request.headers.get("X-Request-Id", "")[:64] or uuid.uuid4().hex

    @app.errorhandler(NotFound)
    def _not_found(_e: NotFound):
        return render_template(ERROR_TEMPLATES[404]), 404

    @app.errorhandler(NotPermitted)
    def _forbidden(_e: NotPermitted):
        return render_template(ERROR_TEMPLATES[403]), 403

    @app.errorhandler(InvalidTransition)
    def _conflict(_e: InvalidTransition):
        return render_template(ERROR_TEMPLATES[409]), 409

    @app.errorhandler(CSRFError)
    def _csrf(_e: CSRFError):
        return render_template("errors/csrf.html"), 400

    @app.errorhandler(HTTPException)
    def _http(e: HTTPException):
        if request.path.startswith("/api/"):
            # Refused while routing (a wrong method), before the API blueprint's own handlers.
            from procure.api.views import http_error

            return http_error(e)
        template = ERROR_TEMPLATES.get(e.code or 500)
        if template is None:
            return e
        response = e.get_response()
        response.set_data(render_template(template))
        response.content_type = "text/html; charset=utf-8"
        return response

    @app.errorhandler(Exception)
    def _server_error(e: Exception):
        from procure.db import database_unavailable, get_session

        request_id = g.get("request_id")
        # The database cannot be reached (restarting, failing over, no free connection): a
        # temporary state, so 503 with Retry-After, not a 500. The pool pings each connection
        # before use, so the first request after it is back is served normally.
        status, headers = 500, {}
        if database_unavailable(e):
            log.warning("database unavailable (request %s): %s", request_id, e)
            status, headers = 503, {"Retry-After": str(RETRY_AFTER_SECONDS)}
        else:
            log.exception("unhandled error (request %s)", request_id)
        # Roll back so nothing is half saved, and show a page with no detail.
        try:
            get_session().rollback()
            return render_template("errors/500.html", request_id=request_id), status, headers
        except Exception:  # noqa: BLE001 - e.g. the database is down: still answer plainly
            if status == 500:
                log.exception("error page failed (request %s)", request_id)
            return (f"<!DOCTYPE html><html lang=\"en\"><title>Service error</title>"
                    f"<h1>Sorry, there is a problem with the service</h1>"
                    f"<p>Try again later. Nothing you sent has been half saved.</p>"
                    f"<p>Reference: {escape(request_id or '')}</p></html>", status, headers)


class LayoutCache:
    """The shared layout's GOV.UK components (header, service navigation, phase banner, footer),
    rendered once per language and inputs rather than on every request: their macros cost far
    more than the markup they make. ``base.html`` asks ``layout_cached(name, *inputs)`` first
    and only renders (and keeps, with ``layout_keep``) on a miss. The key holds the language,
    the script root (the links are relative to it) and whatever else the component is given;
    with templates reloading (debug) nothing is kept, so edits show at once."""

    LIMIT = 256  # a few languages x a few navigation states: a bound, never reached in use
    SLOT = Markup("<!--procure-layout-slot-->")  # where per-request markup goes in a kept component

    def __init__(self, app: Flask) -> None:
        self._app = app
        self._kept: dict[tuple[Any, ...], Markup] = {}

    def install(self, env: Any) -> None:
        env.globals.update(layout_cached=self.cached, layout_keep=self.keep, layout_slot=self.SLOT)

    def _key(self, name: str, inputs: tuple[Any, ...]) -> tuple[Any, ...] | None:
        if self._app.jinja_env.auto_reload:
            return None
        return (name, str(get_locale() or ""), request.script_root,
                json.dumps(inputs, sort_keys=True, default=str))

    def cached(self, name: str, *inputs: Any) -> Markup | None:
        key = self._key(name, inputs)
        return self._kept.get(key) if key is not None else None

    def keep(self, html: Markup, name: str, *inputs: Any) -> Markup:
        key = self._key(name, inputs)
        if key is not None:
            if len(self._kept) >= self.LIMIT:
                self._kept.clear()
            self._kept[key] = html
        return html


class DatabaseId(IntegerConverter):
    """``<int:…>`` in a route: a whole number from 0 to 2³¹ − 1."""

    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


def format_pounds(pence: int | None) -> str:
    """Integer pence as a sum of money for people: 5000000 -> "£50,000", 125050 -> "£1,250.50"."""
    if pence is None:
        return ""
    pounds, rest = divmod(int(pence), 100)
    return f"£{pounds:,}" if rest == 0 else f"£{pounds:,}.{rest:02d}"
