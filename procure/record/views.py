"""The public catalogue of open records and a record's page."""

from __future__ import annotations

from procure.record.blueprint import bp


@bp.get("/records/<int:challenge_id>")
def show_record(challenge_id: int):
    """A published record's public page."""
    raise NotImplementedError
