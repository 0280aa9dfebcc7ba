"""The bake-off pages' blueprint: the entrants' pages (``views``) and the authority's
verification, results, award contracts and check-ins (``award_views``) register on it."""

from flask import Blueprint

bp = Blueprint("bakeoff", __name__)
