"""Builders for proposal tests: an open challenge with a supplier's proposal ready to submit."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime, timedelta

from procure.submissions import services
from tests.challenges import service_builders as sb

DAY = timedelta(days=1)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", '<Types><Override PartName="/word/document.xml" '
                   'ContentType="application/vnd.openxmlformats-officedocument.'
                   'wordprocessingml.document.main+xml"/></Types>')
        z.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def odt() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        z.writestr("content.xml", "<office:document-content/>")
    return buffer.getvalue()


def open_phase(db, now: datetime):
    """An open challenge (phase 1 opened an hour ago, closes in 30 days) and its lead editor."""
    fw = sb.framework(db, now)
    lead = sb.editor()
    challenge = sb.open_challenge(db, now - timedelta(hours=2), lead, fw,
                                  opens_at=now - timedelta(hours=1), closes_at=now + 30 * DAY)
    return challenge, challenge.phases[0], lead


def complete(db, now: datetime, proposal, supplier, *, price_pence: int = 1_000_000,
             marker: str = ""):
    """Fill every section so the proposal can be submitted."""
    services.update_fields(db, actor=supplier, proposal_id=proposal.id, now=now,
                           summary=f"Sensors in every bin {marker}".strip(),
                           consent_publish_summary=True, team=f"Two engineers {marker}".strip(),
                           price_pence=price_pence, price_given=True,
                           timeline=f"Three months {marker}".strip(),
                           declarations={name: True for name in services.DECLARATIONS})
    services.save_responses(db, actor=supplier, proposal_id=proposal.id, now=now, responses={
        pc.id: f"Our answer {marker}".strip() for pc in proposal.phase.criteria})
    return services._load(db, proposal.id)
