"""The API blueprint: the JSON API's routes are in ``views.py``, the OCDS ones in ``ocds_views.py``."""

from flask import Blueprint

bp = Blueprint("api", __name__)
