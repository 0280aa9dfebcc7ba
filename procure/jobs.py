"""Celery wiring and enqueueing by task name after commit.

``procure`` never imports ``workers``: it sends tasks by name. Tasks take ids and plain
values and are safe to run twice; the outbox and a beat sweeper make delivery reliable
even when the broker is down at commit time.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery, Task
from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)


def celery_settings(app: Flask) -> dict[str, Any]:
    """Celery configuration for at-least-once delivery (see the README's background work)."""
    cfg = app.config
    visibility = cfg["CELERY_VISIBILITY_TIMEOUT"]
    if visibility < 5:
        raise ValueError("PROCURE_CELERY_VISIBILITY_TIMEOUT must be at least 5 seconds")
    # The hard limit must stay below the visibility timeout, or Redis hands a still-running
    # task to a second worker. A margin of a fifth, at most a minute (3600 s: 3540 and 3480).
    margin = min(60, visibility // 5)
    settings: dict[str, Any] = {
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        # When the broker connection drops, let running tasks finish (Celery 5's default,
        # pinned before 6.0 turns it round): a delivery cut off mid-send would be sent again,
        # while one that finishes marks its row sent and its redelivery is a no-op.
        "worker_cancel_long_running_tasks_on_connection_loss": False,
        "worker_prefetch_multiplier": 1,
        "task_time_limit": visibility - margin,
        "task_soft_time_limit": visibility - 2 * margin,
        "task_ignore_result": True,
        "task_publish_retry": False,
        "broker_connection_timeout": 2,
        "broker_connection_retry_on_startup": True,
        "worker_hijack_root_logger": False,
        "timezone": "UTC",
        "beat_schedule": {
            "outbox-sweep": {"task": "procure.notifications.sweep", "schedule": 60.0},
            "audit-verify": {"task": "procure.audit.verify", "schedule": 3600.0},
            "phases-advance": {"task": "procure.challenges.advance_phases", "schedule": 60.0},
            "proposals-remind": {"task": "procure.submissions.remind", "schedule": 300.0},
            "adoption-check-ins": {"task": "procure.bakeoff.check_ins", "schedule": 3600.0},
            "records-sweep": {"task": "procure.record.sweep", "schedule": 60.0},
        },
    }
    if cfg["REDIS_URL"]:
        settings.update(
            broker_url=cfg["REDIS_URL"],
            result_backend=cfg["REDIS_URL"],
            broker_transport_options={
                "visibility_timeout": visibility,
                # Kombu looks for unacknowledged tasks of dead workers only every
                # interval x throttle seconds (10 x 10 by default, whatever the timeout):
                # look every tenth of the timeout (at most a minute) so a task held by a
                # killed worker comes back soon after the timeout, not minutes later.
                "unacked_restore_interval": max(1, min(60, visibility // 10)),
                "unacked_restore_throttle": 1,
                # A worker killed while restoring leaves this lock behind; it must not block
                # restoring for longer than one visibility timeout (default 300 s).
                "unacked_mutex_expire": min(300, visibility),
            },
            result_backend_transport_options={"visibility_timeout": visibility},
        )
    else:
        # Embedded default: a file-system broker under instance/, no Redis needed.
        broker_dir = cfg["BROKER_DIR"]
        for sub in ("out", "processed", "control"):
            (broker_dir / sub).mkdir(parents=True, exist_ok=True)
        settings.update(
            broker_url="filesystem://",
            broker_transport_options={
                "data_folder_in": str(broker_dir / "out"),
                "data_folder_out": str(broker_dir / "out"),
                "processed_folder": str(broker_dir / "processed"),
                "store_processed": False,
                # Broadcast messages (worker control), else kombu writes ./control.
                "control_folder": str(broker_dir / "control"),
            },
            beat_schedule_filename=str(broker_dir / "beat-schedule"),
        )
    return settings


def celery_init_app(app: Flask, celery: Celery | None = None) -> Celery:
    """Configure ``celery`` (or a new app) from the Flask settings; tasks run in an app context."""

    class FlaskTask(Task):
        def __call__(self, *args: object, **kwargs: object) -> object:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery = celery or Celery(app.import_name)
    celery.Task = FlaskTask
    celery.conf.update(celery_settings(app))
    app.extensions["celery"] = celery
    return celery


_PENDING = "procure_jobs_pending"


def enqueue_after_commit(session: Session, task_name: str, *args: Any) -> None:
    """Send ``task_name(*args)`` once the session's transaction commits (never if it rolls back)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if _PENDING not in session.info:
        session.info[_PENDING] = []
        event.listen(session, "after_commit", _send_pending)
        event.listen(session, "after_transaction_end", _forget_pending)
    session.info[_PENDING].append((app, task_name, args))


def _send_pending(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint: the outer transaction may still roll back
        return
    pending, session.info[_PENDING] = session.info[_PENDING], []
    for app, task_name, args in pending:
        send(app, task_name, *args)


def _forget_pending(session: Session, transaction: Any) -> None:
    # The transaction ended without committing (rolled back or closed): its jobs must not run,
    # even if the session is used again for a later transaction that commits.
    if transaction.parent is None:
        session.info[_PENDING] = []


def send(app: Flask, task_name: str, *args: Any) -> None:
    """Hand a task to the broker now. A failure is logged, not raised: the sweeper retries."""
    if app.config["RECORD_JOBS"]:
        app.extensions.setdefault("job_recorder", []).append((task_name, args))
        return
    try:
        # ignore_result: nobody reads task results, and asking for one makes send_task
        # subscribe to the result backend first, which blocks ~20 s when Redis is down.
        app.extensions["celery"].send_task(task_name, args=list(args), ignore_result=True)
    except Exception as exc:  # noqa: BLE001 - the broker may be down; the outbox keeps the work
        log.warning("could not enqueue %s (%s); the periodic sweep will pick it up", task_name,
                    exc)
