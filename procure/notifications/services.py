"""Queueing e-mails in the outbox and delivering them exactly once."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import Session

from procure import jobs
from procure.notifications import rules
from procure.notifications.mail import MailTransport, transport_for
from procure.notifications.models import OutboxMessage, OutboxStatus

DELIVER_TASK = "procure.notifications.deliver"
SWEEP_TASK = "procure.notifications.sweep"


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute link for an e-mail, built from PROCURE_BASE_URL without a request."""
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/",
                                       url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)


def render_email(template: str, locale: str, context: Mapping[str, Any]) -> tuple[str, str]:
    """Render ``templates/emails/<template>.txt`` in ``locale``: (subject, body)."""
    env = current_app.jinja_env
    tmpl = env.get_template(f"emails/{template}.txt")
    with force_locale(locale):
        ctx = tmpl.new_context(dict(context))
        subject = "".join(tmpl.blocks["subject"](ctx)).strip()
        body = "".join(tmpl.blocks["body"](ctx)).strip() + "\n"
    return subject, body


def queue_email(session: Session, *, key: str, template: str, to_email: str, locale: str,
                now: datetime, recipient_id: int | None = None,
                context: Mapping[str, Any] | None = None, sensitive: bool = False) -> OutboxMessage:
    """Write an e-mail to the outbox in the caller's transaction; it is sent after commit.

    ``key`` identifies the event: queueing the same key twice keeps the first message.
    """
    existing = session.execute(
        select(OutboxMessage).where(OutboxMessage.idempotency_key == key)
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    subject, body = render_email(template, locale, context or {})
    message = OutboxMessage(
        idempotency_key=key, template=template, locale=locale, recipient_id=recipient_id,
        recipient_email=to_email, subject=subject, body=body, sensitive=sensitive,
        status=OutboxStatus.PENDING, attempts=0, created_at=now, next_attempt_at=now,
    )
    session.add(message)
    session.flush()
    jobs.enqueue_after_commit(session, DELIVER_TASK, message.id)
    return message


def build_message(message: OutboxMessage, sender: str, domain: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.recipient_email
    email["Subject"] = message.subject
    email["Message-ID"] = rules.message_id(message.idempotency_key, domain)
    email["Date"] = format_datetime(message.created_at)
    email.set_content(message.body)
    # After set_content, which drops every Content-* header set before it.
    email["Content-Language"] = message.locale
    return email


def deliver(session: Session, message_id: int, *, now: datetime,
            transport: MailTransport | None = None) -> bool:
    """Send one pending message and mark it sent; True if this call sent it.

    The row is locked for the whole delivery, so two workers never send it at once; a sent
    row is never sent again. If the process dies mid-send the row stays pending and is sent
    again, under the same Message-ID and (for files) the same file name.
    """
    message = session.execute(
        select(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.PENDING)
        .with_for_update(skip_locked=True)
    ).scalar_one_or_none()
    if message is None:
        session.rollback()
        return False
    transport = transport or transport_for(current_app)
    domain = urlsplit(current_app.config["BASE_URL"]).hostname or "procure.local"
    try:
        transport.send(build_message(message, current_app.config["MAIL_FROM"], domain),
                       message.idempotency_key)
    except Exception as exc:  # noqa: BLE001 - any transport failure is retried later
        message.attempts += 1
        message.last_error = f"{type(exc).__name__}: {exc}"[:500]
        if rules.is_dead(message.attempts, current_app.config["OUTBOX_MAX_ATTEMPTS"]):
            message.status = OutboxStatus.DEAD
        else:
            message.next_attempt_at = rules.next_attempt(now, message.attempts)
        session.commit()
        return False
    message.attempts += 1
    message.status = OutboxStatus.SENT
    message.sent_at = now
    message.last_error = None
    if message.sensitive:
        message.body = ""
    session.commit()
    return True


def due_message_ids(session: Session, *, now: datetime, limit: int = 500) -> list[int]:
    """Pending messages whose next attempt is due: the sweeper's work list."""
    ids = session.execute(
        select(OutboxMessage.id)
        .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).scalars().all()
    session.rollback()
    return list(ids)


def sweep(session: Session, *, now: datetime, transport: MailTransport | None = None) -> int:
    """Deliver every due message (those whose enqueue was lost or which failed before)."""
    sent = 0
    for message_id in due_message_ids(session, now=now):
        sent += deliver(session, message_id, now=now, transport=transport)
    return sent


def dead_letters(session: Session) -> list[OutboxMessage]:
    """Messages that gave up, for admins to see."""
    return list(session.execute(
        select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.DEAD)
        .order_by(OutboxMessage.id.desc())
    ).scalars())
