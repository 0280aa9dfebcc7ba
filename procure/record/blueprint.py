"""The open record's blueprint: its routes are in ``views.py`` (the public record and the
catalogue), ``editor_views.py`` (writing and publishing a record) and ``reuse_views.py``."""

from flask import Blueprint

bp = Blueprint("record", __name__)
