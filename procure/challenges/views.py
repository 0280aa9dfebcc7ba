"""Public challenge pages, clarification questions, amendments, cancellation and partners' replies."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from procure.challenges import services
from procure.db import get_session

bp = Blueprint("challenges", __name__, url_prefix="/challenges")


@bp.get("/<int:challenge_id>")
def show_challenge(challenge_id: int):
    """A challenge's public page."""
    challenge = services.get_challenge(get_session(), actor=current_user, challenge_id=challenge_id)
    return render_template("challenges/show.html", challenge=challenge)
