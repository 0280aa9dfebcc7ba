"""The OCDS 1.1 mapping of an open record (STANDARDS §1)."""

from __future__ import annotations


def ocid(prefix: str, challenge_id: int, phase_position: int | None = None) -> str:
    """The challenge's ocid (``<prefix>-CH-<id>``), or a phase's (``…-P<position>``)."""
    base = f"{prefix}-CH-{challenge_id}"
    return base if phase_position is None else f"{base}-P{phase_position}"
