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


def _entry(name: str) -> zipfile.ZipInfo:
    """A zip entry with a fixed date, so the same file has the same bytes whenever it is made
    (test ids built from them must match on every xdist worker)."""
    return zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))


def docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr(_entry("[Content_Types].xml"), '<Types><Override PartName="/word/document.xml" '
                   'ContentType="application/vnd.openxmlformats-officedocument.'
                   'wordprocessingml.document.main+xml"/></Types>')
        z.writestr(_entry("word/document.xml"), "<w:document/>")
    return buffer.getvalue()


def odt() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr(_entry("mimetype"), "application/vnd.oasis.opendocument.text")
        z.writestr(_entry("content.xml"), "<office:document-content/>")
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


# --- more files, and what the tests look at ---------------------------------------------------

def png() -> bytes:
    """A whole 1×1 PNG image (signature, header, data and end chunks)."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


# Start of image, a JFIF header and end of image.
JPEG = (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
        b"\xff\xdb\x00\x43\x00" + bytes(range(1, 65)) + b"\xff\xd9")


def zip_of(parts: dict[str, str]) -> bytes:
    """A zip archive holding these parts, by name."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, text in parts.items():
            z.writestr(_entry(name), text)
    return buffer.getvalue()


def stored_files(folder) -> list:
    """Every file under the upload folder."""
    from pathlib import Path

    return sorted(p for p in Path(folder).rglob("*") if p.is_file())


def stored_proposal(db, proposal_id: int):
    """The proposal as the database holds it (anything a refused call changed is discarded)."""
    db.rollback()
    db.expire_all()
    return services._load(db, proposal_id)


def started(db, now: datetime, phase, supplier):
    return services.start_proposal(db, actor=supplier, phase_id=phase.id, now=now)


def submitted(db, now: datetime, phase, supplier, *, marker: str = ""):
    """A supplier's complete proposal submitted at ``now``; returns (proposal, receipt)."""
    proposal = complete(db, now, started(db, now, phase, supplier), supplier, marker=marker)
    receipt = services.submit_proposal(db, actor=supplier, proposal_id=proposal.id, clock=lambda: now)
    return proposal, receipt
