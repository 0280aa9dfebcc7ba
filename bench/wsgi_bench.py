"""The app as the load benchmark serves it: ``gunicorn --pythonpath bench wsgi_bench:app``.

The production configuration (``PROCURE_ENV=production`` and the other settings come from the
environment, as for ``wsgi:app``), with one difference: Flask-Limiter's per-address limits are
off (``RATELIMIT_ENABLED=False``, given to the app factory), because every request of the
benchmark comes from one address on loopback and would otherwise be refused after the first
few dozen. There is no ``PROCURE_*`` setting for this, on purpose: production always limits.
"""

from procure import create_app

app = create_app("production", RATELIMIT_ENABLED=False)
