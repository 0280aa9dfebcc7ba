"""The outbox on real PostgreSQL, Redis and Celery worker processes: every committed e-mail
is delivered exactly once, whether a pool process dies mid-send, the whole worker dies
mid-send, or Redis is unreachable when the change commits (TRUST.md, Background work).
"""

from __future__ import annotations

import email
import email.policy
import logging
import time
import uuid
from pathlib import Path

import pytest

from tests.integration.conftest import (
    PG_URL,
    REDIS_URL,
    SKIP_REASON,
    VISIBILITY_TIMEOUT,
    broker_idle,
    build_app,
    dispose_app,
    free_port,
    message_id_for,
    outbox_row,
    register,
    wait_for_status,
    wait_until,
    with_redis_db,
)

if not (PG_URL and REDIS_URL):
    pytest.skip(SKIP_REASON, allow_module_level=True)

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("celery")]

SWEEP_TASK = "procure.notifications.sweep"


def an_address() -> str:
    return f"it-{uuid.uuid4().hex[:10]}@example.com"


def test_committed_email_is_delivered_once_by_the_worker(live_app, start_worker, broker,
                                                         tmp_path: Path):
    mail_dir = tmp_path / "mail"
    start_worker(mail_dir=mail_dir)
    address = an_address()

    user_id, key = register(live_app, address)

    row = wait_for_status(live_app, key, "sent")
    wait_until(lambda: broker_idle(broker), what="the broker queue to drain")
    files = sorted(p.name for p in mail_dir.iterdir())
    assert files == [f"welcome_{user_id}.eml"]  # one file, no temporary left behind
    message = email.message_from_bytes((mail_dir / files[0]).read_bytes(),
                                       policy=email.policy.default)
    assert message["To"] == address
    assert message["Message-ID"] == message_id_for(key)
    assert "confirm" in message.get_content().lower()
    assert row["attempts"] == 1
    assert row["sent_at"] is not None and row["last_error"] is None
    assert row["body"] == ""  # the confirmation link is not kept once sent


BATCH = 12


def test_pool_process_then_whole_worker_killed_mid_delivery_each_of_a_batch_sent_once(
        live_app, start_worker, broker, smtp_sink):
    """A batch of e-mails, two deaths in the middle of sending, every message delivered once.

    The pool process dies first: task_acks_late + task_reject_on_worker_lost make the
    worker's main process, which survives and starts a new pool process, put the task back on
    the queue at once. Then the whole worker dies mid-send: its task was never acknowledged,
    so Redis hands it to the restarted worker once the visibility timeout has passed
    (PROCURE_CELERY_VISIBILITY_TIMEOUT=10 here). No sweep runs."""
    first = start_worker(smtp=smtp_sink)
    smtp_sink.hold_next()

    keys = [register(live_app, an_address())[1] for _ in range(BATCH)]
    message_ids = [message_id_for(k) for k in keys]
    assert len(set(message_ids)) == BATCH

    # 1. The pool process dies while the sink holds its first message, before replying.
    held_by_pool = wait_until(lambda: smtp_sink.held, what="an e-mail to reach the SMTP sink")
    assert held_by_pool == message_ids[0]
    killed = first.kill_pool_process()
    wait_until(lambda: smtp_sink.aborted[held_by_pool] == 1, timeout=10,
               what="the sink to see the pool process's connection drop")
    # 2. Hold the next message the (surviving) worker sends, and kill the whole worker then.
    smtp_sink.hold_next()
    held_by_worker = wait_until(lambda: smtp_sink.held,
                                what="the worker's new pool process to send again")
    assert first.process.poll() is None and killed not in first.pool_pids()
    assert "WorkerLostError" in first.log()
    aborted_before = smtp_sink.aborted[held_by_worker]
    ((_, delivered_at),) = broker.zrange("unacked_index", 0, -1, withscores=True)
    first.kill()
    wait_until(lambda: smtp_sink.aborted[held_by_worker] == aborted_before + 1, timeout=10,
               what="the sink to see the worker's connection drop")
    smtp_sink.release()
    # The in-flight task is stranded, unacknowledged; the rest still wait in the queue.
    sent_so_far = [k for k in keys if outbox_row(live_app, k)["status"] == "sent"]
    assert broker.hlen("unacked") == 1
    assert broker.llen("celery") == BATCH - len(sent_so_far) - 1

    second = start_worker(smtp=smtp_sink)

    rows = {k: wait_for_status(live_app, k, "sent") for k in keys}
    wait_until(lambda: broker_idle(broker), what="the stranded task to be redelivered and acked")
    # Each message accepted by the sink exactly once, under its own Message-ID; the two
    # interrupted sends never completed.
    assert smtp_sink.completed == {m: 1 for m in message_ids}
    assert sum(smtp_sink.arrived.values()) == BATCH + 2
    assert sum(smtp_sink.aborted.values()) == 2
    assert {k: (r["attempts"], r["last_error"]) for k, r in rows.items()} == {
        k: (1, None) for k in keys}  # neither killed attempt committed anything
    # The stranded one came back through the visibility timeout, not earlier.
    stranded = keys[message_ids.index(held_by_worker)]
    assert rows[stranded]["sent_at"].timestamp() >= delivered_at + VISIBILITY_TIMEOUT
    assert second.process.poll() is None


def test_enqueue_while_redis_is_down_still_commits_and_the_sweep_delivers(
        live_app, live_env, start_worker, broker, tmp_path: Path, caplog):
    """The change commits and nothing raises when the broker is unreachable; the row waits in
    the outbox until the sweep task ("procure.notifications.sweep", run every minute by beat)
    delivers it. Here the test sends the sweep task itself instead of waiting for beat."""
    mail_dir = tmp_path / "mail"
    start_worker(mail_dir=mail_dir)
    unreachable = with_redis_db(f"redis://127.0.0.1:{free_port()}", 15)  # nothing listens
    down_app = build_app({**live_env, "PROCURE_REDIS_URL": unreachable})
    try:
        started = time.monotonic()
        with caplog.at_level(logging.WARNING, logger="procure.jobs"):
            user_id, key = register(down_app, an_address())
        elapsed = time.monotonic() - started
    finally:
        dispose_app(down_app)

    assert elapsed < 10  # the failed enqueue does not hang the request
    assert any("could not enqueue procure.notifications.deliver" in r.getMessage()
               for r in caplog.records)
    assert outbox_row(live_app, key)["status"] == "pending"  # committed, waiting
    assert broker_idle(broker)  # nothing reached the real broker
    assert not mail_dir.exists() or not any(mail_dir.iterdir())

    live_app.extensions["celery"].send_task(SWEEP_TASK, ignore_result=True)

    row = wait_for_status(live_app, key, "sent")
    wait_until(lambda: broker_idle(broker), what="the sweep task to finish")
    # (The sweep also sends anything an earlier failed test left pending, hence "in".)
    assert f"welcome_{user_id}.eml" in {p.name for p in mail_dir.iterdir()}
    assert row["attempts"] == 1
    sent = email.message_from_bytes((mail_dir / f"welcome_{user_id}.eml").read_bytes())
    assert sent["Message-ID"] == message_id_for(key)
