"""Pure rules of the hash chain: the canonical form of an event and how links are checked."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

GENESIS_HASH = "0" * 64


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces, so the same data always hashes the same."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class EventContent:
    seq: int
    occurred_at: datetime
    actor_id: int | None
    action: str
    subject_type: str
    subject_id: str
    data: str  # canonical JSON

    def canonical(self) -> str:
        return canonical_json(
            {
                "seq": self.seq,
                "occurred_at": self.occurred_at.isoformat(timespec="microseconds"),
                "actor_id": self.actor_id,
                "action": self.action,
                "subject_type": self.subject_type,
                "subject_id": self.subject_id,
                "data": self.data,
            }
        )


def link_hash(prev_hash: str, content: EventContent) -> str:
    """hash = SHA-256(previous hash ‖ canonical row)."""
    return hashlib.sha256((prev_hash + content.canonical()).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    reason: str


def verify_chain(events: Iterable[tuple[EventContent, str, str]],
                 head: Mapping[str, Any] | None = None) -> ChainBreak | None:
    """Walk (content, prev_hash, hash) in order; return the first broken link, or None if intact."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    last_seq = 0
    for content, prev_hash, stored_hash in events:
        if content.seq != expected_seq:
            return ChainBreak(expected_seq, "missing event")
        if prev_hash != expected_prev:
            return ChainBreak(content.seq, "previous hash does not match")
        if link_hash(prev_hash, content) != stored_hash:
            return ChainBreak(content.seq, "content does not match its hash")
        expected_prev = stored_hash
        expected_seq += 1
        last_seq = content.seq
    if head is not None and (head["seq"] != last_seq or head["last_hash"] != expected_prev):
        return ChainBreak(last_seq + 1, "events after the last one are missing")
    return None
