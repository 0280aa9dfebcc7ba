"""Procure: challenge-based public procurement scored against shared public values."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(config_name: str | None = None, **overrides: object) -> Flask:
    """Build the app: settings, database, extensions, web layer, jobs, commands."""
    from config import load_config
    from procure import cli, db, jobs, web
    from procure.i18n import init_i18n
    from procure.security import init_security

    app = Flask(__name__, template_folder=str(ROOT / "templates"),
                static_folder="static", instance_path=str(ROOT / "instance"))
    app.config.from_object(load_config(config_name))
    app.config.update(overrides)

    db.init_db(app)
    init_i18n(app)
    init_security(app)
    web.init_web(app)
    jobs.celery_init_app(app)
    cli.init_cli(app)
    return app
