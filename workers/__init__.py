"""The Celery entry point: ``celery -A workers worker`` and ``celery -A workers beat``.

The Flask app is built lazily, when Celery first reads its configuration, not at import.
"""

from __future__ import annotations

from celery import Celery

celery = Celery("procure", include=["workers.tasks"])


@celery.on_configure.connect
def _configure(sender: Celery, **_kwargs: object) -> None:
    from procure import create_app
    from procure.jobs import celery_settings

    flask_app = create_app()
    sender.flask_app = flask_app
    sender.config_from_object(celery_settings(flask_app))
    flask_app.extensions["celery"] = sender


app = celery
