"""Settings for each environment, read from ``PROCURE_*`` environment variables.

Nothing is read at import time: ``load_config(name)`` reads the environment when the
app is created, so a test or a worker can set variables first.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent
INSTANCE = ROOT / "instance"


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _int(name: str, default: int) -> int:
    return int(_env(name, str(default)))


def _bool(name: str, default: bool) -> bool:
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs written the usual way."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _instance_secret() -> str:
    """A development secret kept under instance/ so restarts keep people signed in."""
    path = INSTANCE / "secret_key"
    if not path.exists():
        INSTANCE.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


@dataclass(frozen=True)
class Setting:
    """One documented setting: the README's configuration table is generated from these."""

    env: str
    default: str
    description: str


SETTINGS: tuple[Setting, ...] = (
    Setting("PROCURE_ENV", "development", "`development`, `production` or `testing`."),
    Setting("PROCURE_SECRET_KEY", "generated into `instance/secret_key` (not in production)",
            "Signs sessions and CSRF tokens. Required in production."),
    Setting("PROCURE_DATABASE_URL", "sqlite:///instance/procure.db",
            "SQLAlchemy URL. PostgreSQL in production: `postgresql://user@host/db`."),
    Setting("PROCURE_REDIS_URL", "(unset)",
            "Redis for the Celery broker, results and rate limits. Unset: an embedded "
            "file broker under `instance/` and in-memory rate limits."),
    Setting("PROCURE_PORT", "5000", "Port `make run` serves on."),
    Setting("PROCURE_BASE_URL", "http://127.0.0.1:5000", "Public address used in e-mail links."),
    Setting("PROCURE_MAIL_FROM", "Procure <no-reply@procure.example>", "Sender of e-mails."),
    Setting("PROCURE_MAIL_DIR", "instance/mail",
            "Where e-mails are written as `.eml` files when no SMTP host is set."),
    Setting("PROCURE_SMTP_HOST", "(unset)", "SMTP server; when set, e-mail is sent through it."),
    Setting("PROCURE_SMTP_PORT", "587", "SMTP port."),
    Setting("PROCURE_SMTP_USERNAME", "(unset)", "SMTP user name."),
    Setting("PROCURE_SMTP_PASSWORD", "(unset)", "SMTP password."),
    Setting("PROCURE_SMTP_STARTTLS", "true", "Use STARTTLS with the SMTP server."),
    Setting("PROCURE_UPLOAD_DIR", "instance/uploads",
            "Where proposal attachments are stored, outside the web root (share it between web "
            "hosts in production)."),
    Setting("PROCURE_OUTBOX_MAX_ATTEMPTS", "8",
            "Delivery attempts before an outbox message is dead-lettered for admins."),
    Setting("PROCURE_CELERY_VISIBILITY_TIMEOUT", "3600",
            "Seconds before Redis redelivers an unacknowledged task; the hard task time "
            "limit is kept below it."),
    Setting("PROCURE_SESSION_IDLE_MINUTES", "30", "Sign-out after this long without a request."),
    Setting("PROCURE_SESSION_MAX_HOURS", "12", "Sign-out this long after signing in, however active."),
    Setting("PROCURE_SIGNIN_LIMITS_ADDRESS", "20 per minute; 200 per hour",
            "Failed sign-ins allowed per network address."),
    Setting("PROCURE_SIGNIN_LIMITS_ACCOUNT", "5 per minute; 30 per hour",
            "Failed sign-ins allowed per account (slows guessing, never locks out for good)."),
    Setting("PROCURE_TRUSTED_PROXIES", "0",
            "How many reverse proxies in front set X-Forwarded-For/-Proto (for per-address "
            "rate limits and HTTPS detection)."),
    Setting("PROCURE_OCID_PREFIX", "ocds-procur",
            "The OCDS ocid prefix of this publisher: `ocds-` and six lower-case letters or "
            "digits, as registered with the Open Contracting Partnership."),
    Setting("PROCURE_PUBLISHER_NAME", "Procure",
            "The publisher named in open data packages and feeds."),
    Setting("PROCURE_TEST_DATABASE_URL", "(unset)",
            "Tests only: also run the suite on this PostgreSQL server."),
)


class Config:
    ENV_NAME = "development"
    DEBUG = False
    TESTING = False
    SECURE_COOKIES = False

    def __init__(self) -> None:
        self.SECRET_KEY = _env("PROCURE_SECRET_KEY") or _instance_secret()
        self.SQLALCHEMY_DATABASE_URL = normalise_database_url(
            _env("PROCURE_DATABASE_URL", f"sqlite:///{INSTANCE / 'procure.db'}")
        )
        self.REDIS_URL = _env("PROCURE_REDIS_URL")
        self.PORT = _int("PROCURE_PORT", 5000)
        self.BASE_URL = _env("PROCURE_BASE_URL", f"http://127.0.0.1:{self.PORT}").rstrip("/")
        self.MAIL_FROM = _env("PROCURE_MAIL_FROM", "Procure <no-reply@procure.example>")
        self.MAIL_DIR = Path(_env("PROCURE_MAIL_DIR", str(INSTANCE / "mail")))
        self.SMTP_HOST = _env("PROCURE_SMTP_HOST")
        self.SMTP_PORT = _int("PROCURE_SMTP_PORT", 587)
        self.SMTP_USERNAME = _env("PROCURE_SMTP_USERNAME")
        self.SMTP_PASSWORD = _env("PROCURE_SMTP_PASSWORD")
        self.SMTP_STARTTLS = _bool("PROCURE_SMTP_STARTTLS", True)
        self.UPLOAD_DIR = Path(_env("PROCURE_UPLOAD_DIR", str(INSTANCE / "uploads")))
        self.OUTBOX_MAX_ATTEMPTS = _int("PROCURE_OUTBOX_MAX_ATTEMPTS", 8)
        self.CELERY_VISIBILITY_TIMEOUT = _int("PROCURE_CELERY_VISIBILITY_TIMEOUT", 3600)
        self.BROKER_DIR = INSTANCE / "broker"
        self.SESSION_IDLE_MINUTES = _int("PROCURE_SESSION_IDLE_MINUTES", 30)
        self.SESSION_MAX_HOURS = _int("PROCURE_SESSION_MAX_HOURS", 12)
        self.SIGNIN_LIMITS_ADDRESS = _env(
            "PROCURE_SIGNIN_LIMITS_ADDRESS", "20 per minute; 200 per hour")
        self.SIGNIN_LIMITS_ACCOUNT = _env(
            "PROCURE_SIGNIN_LIMITS_ACCOUNT", "5 per minute; 30 per hour")
        self.TRUSTED_PROXIES = _int("PROCURE_TRUSTED_PROXIES", 0)
        self.OCID_PREFIX = _env("PROCURE_OCID_PREFIX", "ocds-procur")
        if not re.fullmatch(r"ocds-[a-z0-9]{6}", self.OCID_PREFIX):
            raise RuntimeError("PROCURE_OCID_PREFIX must be 'ocds-' and six lower-case letters "
                               "or digits")
        self.PUBLISHER_NAME = _env("PROCURE_PUBLISHER_NAME", "Procure")
        self.RECORD_JOBS = False  # tests record enqueued jobs instead of sending them

        # Framework settings derived from the above.
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = self.SECURE_COOKIES
        self.SESSION_COOKIE_NAME = "__Host-session" if self.SECURE_COOKIES else "session"
        self.PERMANENT_SESSION_LIFETIME = self.SESSION_MAX_HOURS * 3600
        self.REMEMBER_COOKIE_NAME = "__Host-remember" if self.SECURE_COOKIES else "remember_token"
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SECURE = self.SECURE_COOKIES
        self.REMEMBER_COOKIE_SAMESITE = "Lax"
        self.WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session it is bound to
        self.WTF_CSRF_SSL_STRICT = self.SECURE_COOKIES
        self.MAX_CONTENT_LENGTH = 12 * 1024 * 1024
        self.BABEL_DEFAULT_LOCALE = "en"
        self.BABEL_DEFAULT_TIMEZONE = "Europe/London"
        self.BABEL_TRANSLATION_DIRECTORIES = str(ROOT / "procure" / "translations")
        self.RATELIMIT_STORAGE_URI = self.REDIS_URL or "memory://"
        self.RATELIMIT_HEADERS_ENABLED = True
        self.RATELIMIT_STRATEGY = "moving-window"
        # If Redis is down, keep limiting in memory rather than failing the request.
        self.RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
        self.RATELIMIT_SWALLOW_ERRORS = True


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    DEBUG = False


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True

    def __init__(self) -> None:
        super().__init__()
        self.SECRET_KEY = "testing-secret-key-not-for-production"  # noqa: S105 - tests only
        self.RECORD_JOBS = True
        self.RATELIMIT_STORAGE_URI = "memory://"


class ProductionConfig(Config):
    ENV_NAME = "production"
    SECURE_COOKIES = True

    def __init__(self) -> None:
        super().__init__()
        if not _env("PROCURE_SECRET_KEY"):
            raise RuntimeError("PROCURE_SECRET_KEY must be set in production")


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def load_config(name: str | None = None) -> Config:
    """Build the settings object for ``name`` (default: ``PROCURE_ENV``) from the environment."""
    name = name or _env("PROCURE_ENV", "development")
    try:
        return CONFIGS[name]()
    except KeyError:
        raise RuntimeError(f"Unknown PROCURE_ENV {name!r}; use one of {sorted(CONFIGS)}") from None
