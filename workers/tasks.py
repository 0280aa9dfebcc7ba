"""Thin tasks: take ids and plain values, call one service inside an app context."""

from __future__ import annotations

from workers import celery


def _in_app(fn):
    """Run ``fn`` inside the Flask app context, with a fresh database session."""

    def wrapper(*args, **kwargs):
        with celery.flask_app.app_context():
            return fn(*args, **kwargs)

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper


@celery.task(name="procure.notifications.deliver")
@_in_app
def deliver(message_id: int) -> bool:
    """Deliver one outbox message (a no-op if it was already sent)."""
    from procure.db import get_session, utcnow
    from procure.notifications.services import deliver as deliver_message

    return deliver_message(get_session(), int(message_id), now=utcnow())


@celery.task(name="procure.notifications.sweep")
@_in_app
def sweep() -> int:
    """Deliver every pending message that is due (lost enqueues, earlier failures)."""
    from procure.db import get_session, utcnow
    from procure.notifications.services import sweep as sweep_outbox

    return sweep_outbox(get_session(), now=utcnow())


@celery.task(name="procure.audit.verify")
@_in_app
def verify_audit() -> str:
    """Check the audit chain; log loudly if a link is broken."""
    import logging

    from procure.audit.services import verify
    from procure.db import get_session

    broken = verify(get_session())
    if broken is not None:
        logging.getLogger("procure.audit").error("audit chain broken at %s: %s",
                                                 broken.seq, broken.reason)
        return f"broken at {broken.seq}"
    return "ok"


@celery.task(name="procure.challenges.advance_phases")
@_in_app
def advance_phases() -> int:
    """Open and close the phases whose times have come (compare-and-set; safe to repeat)."""
    from procure.challenges.services import advance_phases as advance
    from procure.db import get_session, utcnow

    return advance(get_session(), now=utcnow())


@celery.task(name="procure.submissions.remind")
@_in_app
def remind_unsubmitted() -> int:
    """Remind suppliers whose proposal is not in, 48 hours before the deadline (once each)."""
    from procure.db import get_session, utcnow
    from procure.submissions.services import remind_unsubmitted as remind

    return remind(get_session(), now=utcnow())


@celery.task(name="procure.bakeoff.check_ins")
@_in_app
def ask_for_check_ins() -> int:
    """Ask lead authorities for the adoption check-ins that have fallen due (once each)."""
    from procure.bakeoff.services import ask_for_check_ins as ask
    from procure.db import get_session, utcnow

    return ask(get_session(), now=utcnow())


@celery.task(name="procure.record.publish")
@_in_app
def publish_record(record_id: int) -> bool:
    """Freeze and publish one open record (a no-op unless it is queued)."""
    from procure.db import get_session, utcnow
    from procure.record.services import publish_record as publish

    return publish(get_session(), int(record_id), now=utcnow())


@celery.task(name="procure.record.sweep")
@_in_app
def sweep_publications() -> int:
    """Publish the queued records whose job was lost."""
    from procure.db import get_session, utcnow
    from procure.record.services import sweep_publications as sweep

    return sweep(get_session(), now=utcnow())
