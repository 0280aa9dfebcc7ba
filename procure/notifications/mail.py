"""Mail transports: .eml files under the instance folder, or SMTP when configured."""

from __future__ import annotations

import os
import smtplib
import tempfile
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from flask import Flask


class MailTransport(Protocol):
    def send(self, message: EmailMessage, key: str) -> None: ...


class FileTransport:
    """Writes each e-mail to ``<dir>/<key>.eml``; a retry overwrites the same file, never adds one."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path_for(self, key: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "-._" else "_" for c in key)
        return self.directory / f"{safe}.eml"

    def send(self, message: EmailMessage, key: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.path_for(key)
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".eml")
        with os.fdopen(fd, "wb") as fh:
            fh.write(bytes(message))
        os.replace(tmp, target)


class SmtpTransport:
    def __init__(self, host: str, port: int, username: str | None, password: str | None,
                 starttls: bool) -> None:
        self.host, self.port = host, port
        self.username, self.password, self.starttls = username, password, starttls

    def send(self, message: EmailMessage, key: str) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=30) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(message)


def transport_for(app: Flask) -> MailTransport:
    """The transport the settings ask for."""
    cfg = app.config
    if cfg["SMTP_HOST"]:
        return SmtpTransport(cfg["SMTP_HOST"], cfg["SMTP_PORT"], cfg["SMTP_USERNAME"],
                             cfg["SMTP_PASSWORD"], cfg["SMTP_STARTTLS"])
    return FileTransport(Path(cfg["MAIL_DIR"]))
