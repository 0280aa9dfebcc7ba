"""The Celery entry point: ``celery -A workers worker`` and ``celery -A workers beat``.

The Flask app is built lazily, when Celery first reads its configuration, not at import.
"""

from __future__ import annotations

import sys
from pathlib import Path

from celery import Celery

ROOT = Path(__file__).resolve().parent.parent


class ProcureCelery(Celery):
    def on_configure(self) -> None:
        """Build the Flask app and take Celery's settings from it.

        A method, not an ``on_configure`` signal receiver: Celery logs and swallows errors
        raised by signal receivers, and a worker whose app failed to build would then run on
        Celery's defaults (a broker at amqp://localhost) instead of stopping.
        """
        # config.py sits at the project root, outside the installed packages. The ``celery``
        # script puts the working directory on sys.path only while it looks up ``-A workers``,
        # so by the time the configuration is read ``import config`` would fail.
        if str(ROOT) not in sys.path:
            sys.path.insert(0, str(ROOT))
        from procure import create_app
        from procure.jobs import celery_settings

        flask_app = create_app()
        self.flask_app = flask_app
        self.config_from_object(celery_settings(flask_app))
        flask_app.extensions["celery"] = self


celery = ProcureCelery("procure", include=["workers.tasks"])
app = celery
