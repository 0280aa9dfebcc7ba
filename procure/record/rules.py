"""Pure rules of the open record: its states, what makes it publishable, reusable assets and
their licences, the catalogue's sort orders, and the text search reads. No database, no Flask."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit


class RecordStatus(StrEnum):
    DRAFT = "draft"          # the editors are writing the lessons and listing the assets
    QUEUED = "queued"        # publication asked for; the job will freeze the record
    PUBLISHED = "published"  # frozen and public
    FAILED = "failed"        # the job could not publish it; the editors may try again


class RecordOutcome(StrEnum):
    AWARDED = "awarded"      # an award was made
    NO_AWARD = "no_award"    # concluded without an award: a valid, publishable result
    CANCELLED = "cancelled"  # cancelled before the award, with a public reason


# Licences an asset can carry: code -> (name, address of the licence).
LICENCES: dict[str, tuple[str, str]] = {
    "OGL-UK-3.0": ("Open Government Licence v3.0",
                   "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"),
    "CC-BY-4.0": ("Creative Commons Attribution 4.0",
                  "https://creativecommons.org/licenses/by/4.0/"),
    "CC0-1.0": ("Creative Commons Zero 1.0", "https://creativecommons.org/publicdomain/zero/1.0/"),
    "MIT": ("MIT License", "https://opensource.org/license/mit"),
    "Apache-2.0": ("Apache License 2.0", "https://www.apache.org/licenses/LICENSE-2.0"),
    "GPL-3.0": ("GNU General Public License v3.0", "https://www.gnu.org/licenses/gpl-3.0.html"),
    "proprietary": ("Proprietary: ask the owner", ""),
}

MAX_LESSONS = 10_000
MAX_ASSETS = 20
MAX_ASSET_TITLE = 200
MAX_ASSET_URL = 500
MAX_ASSET_DESCRIPTION = 1_000

SORTS = ("relevance", "newest", "oldest", "title", "budget")


def record_outcome(challenge_status: str, awarded: bool) -> RecordOutcome:
    """How the challenge ended, for the record and the catalogue's status filter."""
    if challenge_status == "cancelled":
        return RecordOutcome.CANCELLED
    return RecordOutcome.AWARDED if awarded else RecordOutcome.NO_AWARD


def publishable(challenge_status: str, was_public: bool) -> bool:
    """Whether a challenge in this state can have an open record: concluded (award or not), or
    cancelled after it was opened to the public (a draft cancelled unseen leaves no record)."""
    return challenge_status == "concluded" or (challenge_status == "cancelled" and was_public)


def editable(record_status: str | None, challenge_status: str, was_public: bool) -> bool:
    """Whether the lessons and assets may be changed and publication asked for: a publishable
    challenge whose record is not yet queued or published (again after a failure)."""
    return (publishable(challenge_status, was_public)
            and record_status in (None, RecordStatus.DRAFT, RecordStatus.FAILED))


def lesson_problems(worked: str, not_worked: str) -> dict[str, str]:
    """Field → error code for the lessons learned."""
    problems: dict[str, str] = {}
    for name, value in (("lessons_worked", worked), ("lessons_not_worked", not_worked)):
        if len(value) > MAX_LESSONS:
            problems[name] = "lessons_too_long"
    return problems


def readiness(worked: str, not_worked: str) -> dict[str, str]:
    """Field → error code for what must be written before the record can be published."""
    problems = lesson_problems(worked, not_worked)
    if not worked.strip():
        problems.setdefault("lessons_worked", "lessons_worked_missing")
    if not not_worked.strip():
        problems.setdefault("lessons_not_worked", "lessons_not_worked_missing")
    return problems


def is_web_address(url: str) -> bool:
    """An absolute http(s) address with a host and nothing that could run as script."""
    if not url or len(url) > MAX_ASSET_URL or any(ch.isspace() or not ch.isprintable() for ch in url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("https", "http") and bool(parts.hostname) and "@" not in parts.netloc


def asset_problems(title: str, url: str, licence: str, description: str,
                   existing: int) -> dict[str, str]:
    """Field → error code for a reusable asset being added."""
    problems: dict[str, str] = {}
    if existing >= MAX_ASSETS:
        # Said first: nothing typed in the title could make a full list take one more.
        problems["title"] = "assets_too_many"
    elif not title.strip():
        problems["title"] = "asset_title_missing"
    elif len(title) > MAX_ASSET_TITLE:
        problems["title"] = "asset_title_too_long"
    if not url.strip():
        problems["url"] = "asset_url_missing"
    elif not is_web_address(url.strip()):
        problems["url"] = "asset_url_invalid"
    if licence not in LICENCES:
        problems["licence"] = "asset_licence_missing"
    if len(description) > MAX_ASSET_DESCRIPTION:
        problems["description"] = "asset_description_too_long"
    return problems


def _join(parts: Iterable[Any]) -> str:
    return "\n".join(str(p) for p in parts if p)


def fold(text: str) -> str:
    """Text without accents (ŵ → w, é → e), however it was typed (composed or not), so that
    "dwr" finds "dŵr" on every database engine alike."""
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed
                                                if not unicodedata.combining(ch)))


def search_text(content: Mapping[str, Any]) -> tuple[str, str]:
    """What full-text search reads from a frozen record: (title, everything else) — the
    problem, the outcomes sought and measured, the lessons, the tags, in both languages.
    Only what the record itself shows, so search can reveal nothing the record does not.
    Accents are folded away (see ``fold``); queries are folded the same way."""
    c = content["challenge"]
    title = _join([c.get("title"), c.get("title_cy")])
    measures = [m.get("name") for p in content.get("phases", ()) for m in p.get("measures", ())]
    body = _join([c.get("summary"), c.get("summary_cy"), c.get("problem_statement"),
                  c.get("context"), c.get("affected"), c.get("outcomes_sought"),
                  *measures, content.get("lessons", {}).get("worked"),
                  content.get("lessons", {}).get("not_worked"),
                  " ".join(c.get("tags", ())), content.get("lead", {}).get("name")])
    return fold(title), fold(body)
