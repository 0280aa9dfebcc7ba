"""``bench/results.md`` is shared by the benchmarks and by the notes written beside them: each
benchmark replaces only its own section (from its ``# `` heading to the next one), so a run of
one keeps the others' figures and the hand-written findings."""

from __future__ import annotations

import re
from pathlib import Path


def replace_section(path: Path, heading: str, section: str, *, drop: tuple[str, ...] = ()) -> None:
    """Put ``section`` (which starts with ``heading``) in place of the section with that
    heading, or at the end; sections headed by any of ``drop`` are removed."""
    existing = path.read_text(encoding="utf-8") if path.exists() else ""
    parts = re.split(r"(?m)^(?=# )", existing)
    kept: list[str] = []
    placed = False
    for part in parts:
        if not part.strip():
            continue
        title = part.splitlines()[0].strip()
        if title == heading:
            if not placed:
                kept.append(section)
                placed = True
            continue
        if title in drop:
            continue
        kept.append(part)
    if not placed:
        kept.append(section)
    path.write_text("\n\n".join(p.strip("\n") for p in kept) + "\n", encoding="utf-8")
