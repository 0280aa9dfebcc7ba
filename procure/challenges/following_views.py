"""The tags a person follows and whether they are e-mailed about them (on the account pages)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("following", __name__, url_prefix="/account/notifications")
