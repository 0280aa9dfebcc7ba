"""Attachment files on disk, under generated names in a folder outside the web root."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def _path(folder: Path, stored_name: str) -> Path:
    if not stored_name.isalnum():  # generated names only: never a path from a request
        raise ValueError("not a stored name")
    return folder / stored_name[:2] / stored_name


def save(folder: Path, data: bytes) -> str:
    """Write ``data`` under a new random name (whole or not at all); return the name."""
    name = secrets.token_hex(20)
    path = _path(folder, name)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = path.with_name(name + ".part")
    with open(partial, "wb", opener=lambda p, f: os.open(p, f, 0o600)) as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(partial, path)
    return name


def path_of(folder: Path, stored_name: str) -> Path:
    return _path(folder, stored_name)


def delete(folder: Path, stored_name: str) -> None:
    try:
        _path(folder, stored_name).unlink()
    except FileNotFoundError:
        pass
