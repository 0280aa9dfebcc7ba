"""Pure proposal rules: what a proposal needs before it is submitted, prices, file names and
file types read from the content. No Flask, no SQLAlchemy, no clock.
"""

from __future__ import annotations

import io
import unicodedata
import zipfile
from collections.abc import Iterable
from typing import Any

import filetype

MAX_ATTACHMENTS = 5
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_FILENAME = 150
MAX_SUMMARY = 2_000
MAX_TEXT = 20_000

# What may be uploaded: the type read from the content, and the name endings it may carry.
ALLOWED_TYPES = {
    "application/pdf": (".pdf",),
    "application/vnd.oasis.opendocument.text": (".odt",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (".docx",),
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg"),
}
_ODT = b"application/vnd.oasis.opendocument.text"
_DOCX_MAIN = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
_ZIP_PART_LIMIT = 256 * 1024  # the parts read to tell documents apart are small


def price_problem(price_pence: int | None, max_value_pence: int | None) -> str | None:
    if price_pence is None:
        return "price_missing"
    if price_pence <= 0:
        return "price_invalid"
    if max_value_pence is not None and price_pence > max_value_pence:
        return "price_above_maximum"
    return None


def submit_problems(*, summary: str, team: str, price_pence: int | None,
                    max_value_pence: int | None, timeline: str,
                    responses: dict[int, str], criterion_ids: Iterable[int],
                    declarations: dict[str, bool]) -> dict[str, str]:
    """Why the proposal cannot be submitted yet, by field (empty when it can)."""
    problems: dict[str, str] = {}
    if not summary.strip():
        problems["summary"] = "summary_missing"
    for cid in criterion_ids:
        if not (responses.get(cid) or "").strip():
            problems[f"response-{cid}"] = "response_missing"
    if not team.strip():
        problems["team"] = "team_missing"
    price = price_problem(price_pence, max_value_pence)
    if price:
        problems["price"] = price
    if not timeline.strip():
        problems["timeline"] = "timeline_missing"
    for name, given in declarations.items():
        if not given:
            problems[name] = "declaration_missing"
    return problems


def filename_problem(name: str) -> str | None:
    """A file name as the browser sent it: no folders, no control characters, a sane length."""
    if not name or not name.strip():
        return "file_missing"
    if "/" in name or "\\" in name or name.strip() in (".", ".."):
        return "filename_path"
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in name):
        return "filename_control"
    if len(name) > MAX_FILENAME:
        return "filename_too_long"
    return None


def clean_filename(name: str) -> str:
    return unicodedata.normalize("NFC", name.strip())


def _zip_part(data: bytes, part: str) -> bytes | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            info = archive.getinfo(part)
            if info.file_size > _ZIP_PART_LIMIT:
                return None
            return archive.read(info)
    except (KeyError, zipfile.BadZipFile, ValueError, OSError, NotImplementedError, RuntimeError):
        return None


def detect_type(data: bytes) -> str | None:
    """The content type read from the bytes themselves, if it is one we accept."""
    kind = filetype.guess(data[:8192])
    mime = kind.mime if kind else None
    if mime in ("application/pdf", "image/png", "image/jpeg"):
        return mime
    if data[:4] != b"PK\x03\x04":
        return None
    # Office documents are zip archives: look inside rather than trust the first bytes.
    mimetype = _zip_part(data, "mimetype")
    if mimetype is not None and mimetype.strip() == _ODT:
        return "application/vnd.oasis.opendocument.text"
    types = _zip_part(data, "[Content_Types].xml")
    if types is not None and _DOCX_MAIN in types:
        return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    return None


def file_problem(name: str, data: bytes) -> tuple[str | None, str | None]:
    """``(error code, content type)`` for an upload: its name, size and type from the content."""
    problem = filename_problem(name)
    if problem:
        return problem, None
    if not data:
        return "file_empty", None
    if len(data) > MAX_FILE_BYTES:
        return "file_too_big", None
    mime = detect_type(data)
    if mime is None:
        return "file_type", None
    if not name.lower().endswith(ALLOWED_TYPES[mime]):
        return "file_type_mismatch", None
    return None, mime


def attachments_problem(count: int) -> str | None:
    return "too_many_files" if count >= MAX_ATTACHMENTS else None


def deduplicate_name(name: str, taken: Iterable[str]) -> str:
    """``report.pdf`` again becomes ``report (2).pdf`` so every file keeps a distinct name."""
    taken = {t.casefold() for t in taken}
    if name.casefold() not in taken:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    n = 2
    while True:
        candidate = f"{stem} ({n}){'.' + ext if ext else ''}"
        if candidate.casefold() not in taken:
            return candidate
        n += 1


def snapshot_fields(proposal: Any) -> dict[str, Any]:
    """The fields of a proposal frozen into a submission."""
    return {"summary": proposal.summary, "team": proposal.team,
            "price_pence": proposal.price_pence, "timeline": proposal.timeline,
            "declare_accurate": proposal.declare_accurate,
            "declare_no_collusion": proposal.declare_no_collusion,
            "declare_eligible": proposal.declare_eligible,
            "consent_publish_summary": proposal.consent_publish_summary}
