"""The pure hash-chain rules: a chain verifies, and each kind of tampering is found."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from procure.audit.chain import (
    GENESIS_HASH,
    EventContent,
    canonical_json,
    link_hash,
    verify_chain,
)

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def build_chain(n: int = 5) -> list[tuple[EventContent, str, str]]:
    rows = []
    prev = GENESIS_HASH
    for seq in range(1, n + 1):
        content = EventContent(seq=seq, occurred_at=T0 + timedelta(minutes=seq), actor_id=seq,
                               action="user.signed_in", subject_type="user",
                               subject_id=str(seq), data=canonical_json({"n": seq}))
        digest = link_hash(prev, content)
        rows.append((content, prev, digest))
        prev = digest
    return rows


def head_of(rows) -> dict:
    return {"seq": rows[-1][0].seq, "last_hash": rows[-1][2]}


def test_intact_chain_verifies():
    rows = build_chain()
    assert verify_chain(rows) is None
    assert verify_chain(rows, head_of(rows)) is None


def test_empty_chain_verifies_against_genesis_head():
    assert verify_chain([], {"seq": 0, "last_hash": GENESIS_HASH}) is None


def test_link_hash_is_sha256_of_previous_hash_and_canonical_row():
    content = build_chain(1)[0][0]
    expected = hashlib.sha256((GENESIS_HASH + content.canonical()).encode()).hexdigest()
    assert link_hash(GENESIS_HASH, content) == expected


def test_canonical_json_is_stable():
    assert canonical_json({"b": 1, "a": "é"}) == '{"a":"é","b":1}'


def _tamper_data(rows, i):
    content, prev, digest = rows[i]
    rows[i] = (dataclasses.replace(content, data=canonical_json({"n": 999})), prev, digest)


def _tamper_actor(rows, i):
    content, prev, digest = rows[i]
    rows[i] = (dataclasses.replace(content, actor_id=None), prev, digest)


def _tamper_time(rows, i):
    content, prev, digest = rows[i]
    rows[i] = (dataclasses.replace(content, occurred_at=content.occurred_at + timedelta(
        microseconds=1)), prev, digest)


def _tamper_prev_hash(rows, i):
    content, _prev, digest = rows[i]
    rows[i] = (content, "f" * 64, digest)


def _rehash_row(rows, i):
    """A forger who recomputes the tampered row's own hash still breaks the next link."""
    content, prev, _digest = rows[i]
    changed = dataclasses.replace(content, action="user.made_admin")
    rows[i] = (changed, prev, link_hash(prev, changed))


def _delete(rows, i):
    del rows[i]


@pytest.mark.parametrize("tamper, index, broken_seq", [
    (_tamper_data, 2, 3),
    (_tamper_data, 0, 1),
    (_tamper_actor, 4, 5),
    (_tamper_time, 1, 2),
    (_tamper_prev_hash, 3, 4),
    (_rehash_row, 1, 3),
    (_delete, 2, 3),       # a middle row
    (_delete, 0, 1),       # the first row
    (_delete, 4, 5),       # the last row: only the head can tell
])
def test_tampering_reports_first_broken_seq(tamper, index, broken_seq):
    rows = build_chain(5)
    head = head_of(rows)
    tamper(rows, index)
    broken = verify_chain(rows, head)
    assert broken is not None
    assert broken.seq == broken_seq
    assert broken.reason


def test_deleting_last_row_is_invisible_without_the_head():
    rows = build_chain(5)[:-1]
    assert verify_chain(rows) is None


def test_first_of_several_breaks_is_reported():
    rows = build_chain(6)
    head = head_of(rows)
    _tamper_data(rows, 4)
    _tamper_data(rows, 1)
    assert verify_chain(rows, head).seq == 2
