"""Receipts: the canonical bytes of a manifest, their SHA-256, and a digest as a person types it."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest

from procure.submissions.receipts import (
    MANIFEST_FORMAT,
    canonical,
    digest,
    normalise_digest,
    submission_manifest,
    withdrawal_manifest,
)

RECEIVED = datetime(2026, 12, 1, 9, 30, 15, tzinfo=UTC)
HEX = "0123456789abcdef" * 4


def _manifest(**overrides) -> dict:
    values = dict(proposal_id=3, challenge_id=7, challenge_version=2, phase_id=11, organisation_id=5,
                  sequence=1, received_at=RECEIVED, nonce="a1" * 16,
                  fields={"summary": "Synwyryddion ym mhob bin — ŵ ŷ", "price_pence": 1_000_000},
                  responses=[{"phase_criterion": 1, "criterion": "innovation", "text": "Yes"}],
                  attachments=[{"id": 9, "filename": "cynllun.pdf", "content_type": "application/pdf",
                                "size": 10, "sha256": HEX}])
    values.update(overrides)
    return submission_manifest(**values)


def test_canonical_is_sorted_compact_utf8():
    assert canonical({"b": 1, "a": {"d": [1, 2], "c": "ŵ"}}) == '{"a":{"c":"ŵ","d":[1,2]},"b":1}'.encode()


def test_canonical_does_not_depend_on_key_order():
    assert canonical({"a": 1, "b": 2}) == canonical({"b": 2, "a": 1})


def test_canonical_keeps_text_as_utf8_not_escapes():
    data = canonical({"t": "café ŵ 日本 \u202e"})
    assert b"\\u" not in data
    assert data.decode("utf-8") == '{"t":"café ŵ 日本 \u202e"}'


def test_canonical_refuses_what_json_cannot_carry():
    with pytest.raises(ValueError):
        canonical({"price": float("nan")})


def test_digest_is_the_sha256_of_the_canonical_bytes():
    manifest = _manifest()
    expected = hashlib.sha256(json.dumps(manifest, sort_keys=True, separators=(",", ":"),
                                         ensure_ascii=False).encode("utf-8")).hexdigest()
    assert digest(manifest) == expected == hashlib.sha256(canonical(manifest)).hexdigest()
    assert len(digest(manifest)) == 64 and normalise_digest(digest(manifest)) == digest(manifest)


def test_same_input_same_digest():
    assert digest(_manifest()) == digest(_manifest())
    assert digest(json.loads(canonical(_manifest()))) == digest(_manifest())


@pytest.mark.parametrize("change", [
    {"nonce": "b2" * 16},
    {"sequence": 2},
    {"received_at": RECEIVED.replace(second=16)},
    {"challenge_version": 3},
    {"fields": {"summary": "Synwyryddion ym mhob bin — ŵ ŷ", "price_pence": 1_000_001}},
    {"attachments": [{"id": 9, "filename": "cynllun.pdf", "content_type": "application/pdf",
                      "size": 10, "sha256": "f" + HEX[1:]}]},
], ids=["nonce", "sequence", "time", "version", "price", "file-hash"])
def test_any_change_changes_the_digest(change):
    assert digest(_manifest(**change)) != digest(_manifest())


def test_submission_manifest_holds_the_whole_submission():
    manifest = _manifest()
    assert manifest["format"] == MANIFEST_FORMAT
    assert manifest["kind"] == "submitted"
    assert (manifest["proposal"], manifest["challenge"], manifest["challenge_version"],
            manifest["phase"], manifest["organisation"], manifest["sequence"]) == (3, 7, 2, 11, 5, 1)
    assert manifest["received_at"] == "2026-12-01T09:30:15+00:00"
    assert manifest["attachments"][0]["sha256"] == HEX
    assert manifest["fields"]["price_pence"] == 1_000_000
    assert manifest["responses"][0]["text"] == "Yes"


def test_withdrawal_manifest_names_the_submission_it_takes_back():
    manifest = withdrawal_manifest(proposal_id=3, phase_id=11, organisation_id=5, sequence=2,
                                   received_at=RECEIVED, nonce="c3" * 16, withdrawn_digest=HEX)
    assert (manifest["kind"], manifest["withdraws"], manifest["sequence"]) == ("withdrawn", HEX, 2)
    assert manifest["format"] == MANIFEST_FORMAT
    assert "fields" not in manifest and "attachments" not in manifest
    assert digest(manifest) != digest({**manifest, "nonce": "d4" * 16})


@pytest.mark.parametrize(("typed", "expected"), [
    (HEX, HEX),
    (HEX.upper(), HEX),
    (f"  {HEX}  ", HEX),
    (" ".join(HEX[i:i + 8] for i in range(0, 64, 8)), HEX),   # pasted in groups
    (f"{HEX[:32]}\n{HEX[32:]}", HEX),
    (f"{HEX[:32]}\t{HEX[32:].upper()}", HEX),
])
def test_normalise_digest_accepts(typed, expected):
    assert normalise_digest(typed) == expected


@pytest.mark.parametrize("typed", [
    HEX[:63],
    HEX + "0",
    HEX[:63] + "g",
    HEX[:63] + "-",
    "0x" + HEX[:62],
    "",
    "   ",
    None,
    "é" * 64,
    "٠" * 64,  # Arabic-Indic digits are digits, not hex
])
def test_normalise_digest_refuses(typed):
    assert normalise_digest(typed) is None
