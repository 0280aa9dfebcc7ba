"""Writing a draft challenge from a task list: details, funding, phases, criteria, publishing."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("authoring", __name__, url_prefix="/challenges")
