"""Receipts: the canonical manifest of a submission and its SHA-256.

The manifest is JSON with sorted keys, no spaces and UTF-8 text, so anyone holding it can
recompute the digest (``sha256sum`` of the downloaded file). It carries a random nonce so that
the digest reveals nothing about a proposal to someone guessing its contents. Pure.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from typing import Any

MANIFEST_FORMAT = "procure-receipt/1"
_DIGEST = re.compile(r"^[0-9a-f]{64}$")


def canonical(manifest: dict[str, Any]) -> bytes:
    """The bytes the digest is taken over."""
    return json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def digest(manifest: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(manifest)).hexdigest()


def normalise_digest(text: str) -> str | None:
    """A digest as someone typed or pasted it (spaces, capitals); None if it is not one."""
    cleaned = "".join((text or "").split()).lower()
    return cleaned if _DIGEST.match(cleaned) else None


def submission_manifest(*, proposal_id: int, challenge_id: int, challenge_version: int,
                        phase_id: int, organisation_id: int, sequence: int,
                        received_at: datetime, nonce: str, fields: dict[str, Any],
                        responses: list[dict[str, Any]],
                        attachments: list[dict[str, Any]]) -> dict[str, Any]:
    """Everything a submission is: the proposal's fields, its answers and its files' hashes."""
    return {"format": MANIFEST_FORMAT, "kind": "submitted", "proposal": proposal_id,
            "challenge": challenge_id, "challenge_version": challenge_version, "phase": phase_id,
            "organisation": organisation_id, "sequence": sequence,
            "received_at": received_at.isoformat(), "nonce": nonce, "fields": fields,
            "responses": responses, "attachments": attachments}


def withdrawal_manifest(*, proposal_id: int, phase_id: int, organisation_id: int, sequence: int,
                        received_at: datetime, nonce: str,
                        withdrawn_digest: str | None) -> dict[str, Any]:
    """A withdrawal: which submission it takes back, and when."""
    return {"format": MANIFEST_FORMAT, "kind": "withdrawn", "proposal": proposal_id,
            "phase": phase_id, "organisation": organisation_id, "sequence": sequence,
            "received_at": received_at.isoformat(), "nonce": nonce,
            "withdraws": withdrawn_digest}
