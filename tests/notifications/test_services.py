"""The outbox against the database: queueing, delivering once, retrying and dead-lettering."""

from __future__ import annotations

import email
import email.policy
from datetime import timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy import func, select

from procure.accounts import services as accounts
from procure.errors import RuleViolation
from procure.notifications import rules, services
from procure.notifications.models import OutboxMessage, OutboxStatus
from tests.factories import UserFactory

DELIVER = "procure.notifications.deliver"


class FailingTransport:
    """A mail server that is down."""

    def __init__(self) -> None:
        self.calls = 0

    def send(self, message: EmailMessage, key: str) -> None:
        self.calls += 1
        raise OSError("connection refused")


class RecordingTransport:
    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    def send(self, message: EmailMessage, key: str) -> None:
        self.sent.append(message)


def _queue(db, now, *, key="test:1", user=None, template="password_changed", sensitive=False,
           context=None):
    user = user or UserFactory()
    return services.queue_email(db, key=key, template=template, to_email=user.email,
                                locale=user.locale, recipient_id=user.id, now=now,
                                sensitive=sensitive, context=context or {"name": user.name})


def _emls(mail_dir):
    return sorted(mail_dir.glob("*.eml"))


def _read(path) -> EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def _count(db) -> int:
    return db.execute(select(func.count(OutboxMessage.id))).scalar_one()


def test_queue_email_is_idempotent_on_key(ctx, db, now, jobs):
    user = UserFactory()
    first = _queue(db, now, key="event:1", user=user)
    again = _queue(db, now + timedelta(minutes=5), key="event:1", user=user,
                   template="account_exists",
                   context={"name": user.name, "sign_in_url": "http://x"})
    db.commit()
    assert again.id == first.id and again.template == "password_changed"
    assert _count(db) == 1
    assert jobs == [(DELIVER, (first.id,))]


def test_queued_message_waits_for_commit(ctx, db, now, jobs):
    message = _queue(db, now)
    assert jobs == []  # not before the change is committed
    db.commit()
    assert jobs == [(DELIVER, (message.id,))]
    assert message.status == OutboxStatus.PENDING and message.next_attempt_at == now


def test_deliver_writes_one_eml_in_the_recipients_language(ctx, db, now, mail_dir):
    welsh = UserFactory(locale="cy", email="gwen@example.org")
    message = services.queue_email(
        db, key="welcome:gwen", template="welcome", to_email=welsh.email, locale=welsh.locale,
        recipient_id=welsh.id, now=now, sensitive=True,
        context={"name": "Gwen", "confirm_url": "http://procure.test/confirm-email/abc",
                 "hours": 24})
    db.commit()
    assert services.deliver(db, message.id, now=now) is True
    [path] = _emls(mail_dir)
    mail = _read(path)
    assert mail["To"] == "gwen@example.org"
    assert mail["Content-Language"] == "cy"
    assert mail["Message-ID"] == rules.message_id("welcome:gwen", "procure.test")
    assert mail["Subject"]
    assert "Gwen" in mail.get_content()
    assert "http://procure.test/confirm-email/abc" in mail.get_content()


def test_deliver_twice_sends_once(ctx, db, now, mail_dir):
    message = _queue(db, now)
    db.commit()
    assert services.deliver(db, message.id, now=now) is True
    assert services.deliver(db, message.id, now=now + timedelta(seconds=1)) is False
    assert len(_emls(mail_dir)) == 1
    db.refresh(message)
    assert message.status == OutboxStatus.SENT and message.attempts == 1
    assert message.sent_at == now


def test_retry_after_failure_keeps_the_same_message_id(ctx, db, now, mail_dir):
    message = _queue(db, now, key="retry:1")
    db.commit()
    recorder = RecordingTransport()

    class SendsThenFails(RecordingTransport):
        def send(self, m, key):  # the server took it, then the connection dropped
            recorder.sent.append(m)
            raise OSError("connection reset")

    assert services.deliver(db, message.id, now=now, transport=SendsThenFails()) is False
    later = now + timedelta(minutes=1)
    assert services.deliver(db, message.id, now=later) is True
    [path] = _emls(mail_dir)
    assert _read(path)["Message-ID"] == recorder.sent[0]["Message-ID"]


def test_failing_transport_backs_off_then_dead_letters(ctx, app, db, now, mail_dir):
    message = _queue(db, now)
    db.commit()
    transport = FailingTransport()
    max_attempts = app.config["OUTBOX_MAX_ATTEMPTS"]
    t = now
    for attempt in range(1, max_attempts):
        assert services.deliver(db, message.id, now=t, transport=transport) is False
        db.refresh(message)
        assert message.attempts == attempt
        assert message.status == OutboxStatus.PENDING
        assert message.next_attempt_at == rules.next_attempt(t, attempt) > t
        assert message.last_error == "OSError: connection refused"
        t = message.next_attempt_at
    assert services.deliver(db, message.id, now=t, transport=transport) is False
    db.refresh(message)
    assert message.status == OutboxStatus.DEAD and message.attempts == max_attempts
    assert [m.id for m in services.dead_letters(db)] == [message.id]
    # A dead message is never tried again, even by the sweeper.
    assert services.sweep(db, now=t + timedelta(days=1), transport=transport) == 0
    assert transport.calls == max_attempts
    assert _emls(mail_dir) == []


def test_sweep_delivers_due_messages_only(ctx, db, now, mail_dir):
    due = _queue(db, now, key="due:1")
    waiting = _queue(db, now, key="waiting:1")
    sent = _queue(db, now, key="sent:1")
    db.commit()
    services.deliver(db, sent.id, now=now)
    services.deliver(db, waiting.id, now=now, transport=FailingTransport())  # retry in 1 minute
    assert services.sweep(db, now=now + timedelta(seconds=30)) == 1
    db.refresh(due)
    db.refresh(waiting)
    assert due.status == OutboxStatus.SENT
    assert waiting.status == OutboxStatus.PENDING
    assert len(_emls(mail_dir)) == 2
    assert services.sweep(db, now=now + timedelta(minutes=1)) == 1
    db.refresh(waiting)
    assert waiting.status == OutboxStatus.SENT
    assert services.sweep(db, now=now + timedelta(hours=1)) == 0


def test_sensitive_body_is_wiped_after_sending(ctx, db, now, mail_dir):
    secret = _queue(db, now, key="secret:1", sensitive=True)
    plain = _queue(db, now, key="plain:1")
    db.commit()
    assert secret.body and plain.body
    services.deliver(db, secret.id, now=now)
    services.deliver(db, plain.id, now=now)
    db.refresh(secret)
    db.refresh(plain)
    assert secret.body == ""
    assert plain.body != ""
    # The e-mail itself still carried the body.
    bodies = [_read(p).get_content() for p in _emls(mail_dir)]
    assert all(b.strip() for b in bodies)


def test_sensitive_body_kept_until_delivered(ctx, db, now):
    message = _queue(db, now, sensitive=True)
    db.commit()
    services.deliver(db, message.id, now=now, transport=FailingTransport())
    db.refresh(message)
    assert message.body  # still needed for the retry


def test_nothing_is_queued_when_the_service_refuses(ctx, db, now, jobs):
    with pytest.raises(RuleViolation):
        accounts.register_user(db, name="Ann", email="ann@example.org", password="short",
                               locale="en", now=now)
    db.rollback()
    assert jobs == []
    assert _count(db) == 0


def test_nothing_is_sent_when_the_transaction_rolls_back(ctx, db, now, jobs):
    user = UserFactory()
    db.commit()
    _queue(db, now, key="rolled-back:1", user=user)
    db.rollback()
    assert _count(db) == 0
    # The session is used again for something else that commits: still nothing is sent.
    user.name = "Renamed"
    db.commit()
    assert jobs == []


def test_a_savepoint_commit_does_not_send_before_the_transaction_commits(ctx, db, now, jobs):
    UserFactory()
    with db.begin_nested():
        message = _queue(db, now)
    assert jobs == []
    db.commit()
    assert jobs == [(DELIVER, (message.id,))]
