"""Pure rules of delivery: retry back-off and when a message is dead-lettered."""

from __future__ import annotations

from datetime import datetime, timedelta


def next_attempt(now: datetime, attempts: int) -> datetime:
    """Exponential back-off after a failed attempt: 1, 2, 4 … minutes, at most an hour."""
    return now + timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


def is_dead(attempts: int, max_attempts: int) -> bool:
    """A message that failed ``max_attempts`` times stops retrying and is shown to admins."""
    return attempts >= max_attempts


def message_id(idempotency_key: str, domain: str) -> str:
    """A stable Message-ID: a retried e-mail is recognisably the same e-mail."""
    safe = "".join(c if c.isalnum() or c in "-._" else "-" for c in idempotency_key)
    return f"<{safe}@{domain}>"
