"""Language selection (English and Welsh) and the translated form widgets."""

from __future__ import annotations

from flask import Flask, g, request
from flask_babel import get_locale

from procure.extensions import babel

LANGUAGES = ("en", "cy")
LANG_COOKIE = "procure_lang"


def select_locale() -> str:
    """?lang= on the link, then the remembered choice, then the account's, then English."""
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        g.remember_lang = asked
        return asked
    remembered = request.cookies.get(LANG_COOKIE)
    if remembered in LANGUAGES:
        return remembered
    from flask_login import current_user

    locale = getattr(current_user, "locale", None) if current_user else None
    if locale in LANGUAGES:
        return locale
    return request.accept_languages.best_match(LANGUAGES, default="en") or "en"


def init_i18n(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)

    @app.after_request
    def _remember_language(response):
        lang = g.pop("remember_lang", None)
        if lang:
            response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600,
                                secure=app.config["SESSION_COOKIE_SECURE"],
                                httponly=True, samesite="Lax")
        return response

    @app.context_processor
    def _language_context() -> dict[str, object]:
        return {"current_lang": str(get_locale() or "en")}
