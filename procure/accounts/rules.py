"""Pure account rules: the password policy, e-mail normalisation and session timeouts."""

from __future__ import annotations

import gzip
from datetime import datetime, timedelta
from functools import cache
from importlib import resources

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256


@cache
def common_passwords() -> frozenset[str]:
    """The list of common and breached passwords shipped with the product."""
    data = resources.files("procure").joinpath("data/common-passwords.txt.gz").read_bytes()
    return frozenset(gzip.decompress(data).decode("utf-8").split())


def normalise_email(email: str) -> str:
    return email.strip().lower()


def password_problem(password: str, *, email: str = "", name: str = "") -> str | None:
    """The first reason ``password`` is refused, as an error code, or None if it is acceptable.

    No composition rules: length, a common-password list, and not the user's own details.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return "password_too_short"
    if len(password) > MAX_PASSWORD_LENGTH:
        return "password_too_long"
    lowered = password.lower()
    if lowered in common_passwords() or len(set(lowered)) <= 2:
        return "password_common"
    local = normalise_email(email).split("@")[0]
    if (local and len(local) >= 4 and local in lowered) or (name and lowered == name.strip().lower()):
        return "password_personal"
    return None


def session_expired(*, created_at: datetime, last_seen_at: datetime, now: datetime,
                    idle: timedelta, absolute: timedelta) -> bool:
    """A session ends after ``idle`` without a request or ``absolute`` after sign-in."""
    return now - last_seen_at > idle or now - created_at > absolute


def should_touch(last_seen_at: datetime, now: datetime) -> bool:
    """Record activity at most once a minute, so every page view does not write."""
    return now - last_seen_at > timedelta(minutes=1)


# --- two-step sign-in (TOTP) -----------------------------------------------------------------

TOTP_STEP_SECONDS = 30
TOTP_DRIFT_STEPS = 1  # a code from the step before or after is accepted (clock drift)
RECOVERY_CODE_COUNT = 10
MFA_PENDING_LIFETIME = timedelta(minutes=5)


def mfa_required(*, is_admin: bool, authority_member: bool, accepted_assessor: bool) -> bool:
    """Who must sign in with a second factor: admins, active members of an authority, and anyone
    assessing (including independent experts). Everyone else (suppliers) may choose to."""
    return is_admin or authority_member or accepted_assessor


def totp_step_acceptable(step: int, *, current_step: int, last_used_step: int | None) -> bool:
    """A code's time step is accepted within the drift window, and only if it is later than the
    last step already used, so a code seen over someone's shoulder cannot be replayed."""
    if abs(step - current_step) > TOTP_DRIFT_STEPS:
        return False
    return last_used_step is None or step > last_used_step


def normalise_code(code: str) -> str:
    """What a person typed as a code, without spaces or dashes, in lower case."""
    return "".join(c for c in code.lower() if c.isalnum())


def pending_expired(started_at: datetime, now: datetime) -> bool:
    """The half-signed-in state between the password and the code lasts a few minutes."""
    return now - started_at > MFA_PENDING_LIFETIME
