"""Public information pages."""

from __future__ import annotations

from flask import Blueprint, render_template

from procure.audit.services import latest_hash
from procure.db import get_session

bp = Blueprint("pages", __name__)


@bp.get("/")
def show_home():
    """The start page: what Procure is and where to go next."""
    return render_template("pages/home.html")


@bp.get("/cookies")
def show_cookies():
    """The cookies we set (essential only) and why."""
    return render_template("pages/cookies.html")


@bp.get("/accessibility")
def show_accessibility():
    """The accessibility statement the 2018 regulations require."""
    return render_template("pages/accessibility.html")


@bp.get("/privacy")
def show_privacy():
    """What personal data we hold and why."""
    return render_template("pages/privacy.html")


@bp.get("/transparency")
def show_transparency():
    """The latest audit-chain hash, published so that tampering cannot be hidden."""
    return render_template("pages/transparency.html", head=latest_hash(get_session()))
