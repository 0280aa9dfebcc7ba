"""Writing audit events inside the caller's transaction, and verifying the chain."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from procure.audit.chain import ChainBreak, EventContent, canonical_json, link_hash, verify_chain
from procure.audit.models import AuditChainHead, AuditEvent


def record(session: Session, *, action: str, subject_type: str, subject_id: object,
           actor_id: int | None, now: datetime, data: dict[str, Any] | None = None) -> AuditEvent:
    """Append an event to the chain in the caller's transaction (committed with the change)."""
    # Bump the head first: the UPDATE takes the row lock (PostgreSQL) or the write lock
    # (SQLite), so concurrent writers queue here and each sees the previous one's hash.
    session.execute(update(AuditChainHead).where(AuditChainHead.id == 1)
                    .values(seq=AuditChainHead.seq + 1))
    head = session.execute(
        select(AuditChainHead).where(AuditChainHead.id == 1).execution_options(populate_existing=True)
    ).scalar_one()
    content = EventContent(
        seq=head.seq,
        occurred_at=now.astimezone(UTC),
        actor_id=actor_id,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        data=canonical_json(_clean(data or {})),
    )
    digest = link_hash(head.last_hash, content)
    event = AuditEvent(
        seq=content.seq,
        occurred_at=content.occurred_at,
        actor_id=actor_id,
        action=action,
        subject_type=subject_type,
        subject_id=content.subject_id,
        data=content.data,
        prev_hash=head.last_hash,
        hash=digest,
    )
    head.last_hash = digest
    session.add(event)
    session.flush()
    return event


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    """Keep audit data to plain values and strip line breaks so user text cannot forge entries."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, str):
            value = value.replace("\r", " ").replace("\n", " ")[:500]
        out[str(key)] = value
    return out


def verify(session: Session) -> ChainBreak | None:
    """Check every link of the chain; None when intact."""
    head = session.get(AuditChainHead, 1)
    rows = session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars()

    def contents():
        for e in rows:
            yield (
                EventContent(e.seq, e.occurred_at, e.actor_id, e.action, e.subject_type,
                             e.subject_id, e.data),
                e.prev_hash,
                e.hash,
            )

    return verify_chain(contents(), {"seq": head.seq, "last_hash": head.last_hash} if head else None)


def latest_hash(session: Session) -> str:
    """The head of the chain, shown publicly so tampering cannot be hidden."""
    head = session.get(AuditChainHead, 1)
    return head.last_hash if head else ""
