"""Admin pages. Every view requires the admin permission; services check it again."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from procure.accounts import forms, services
from procure.audit import services as audit
from procure.audit.models import AuditEvent
from procure.db import get_session, utcnow
from procure.notifications.services import dead_letters
from procure.permissions import Permission, require

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def _admins_only():
    require(current_user, Permission.ADMIN_ACCESS)


@bp.get("")
def show_dashboard():
    """What needs an admin's attention."""
    db = get_session()
    return render_template("admin/dashboard.html",
                           unverified=services.list_organisations(db, verified=False),
                           dead=dead_letters(db))


@bp.get("/organisations")
def list_organisations():
    """Every organisation, those awaiting verification first."""
    db = get_session()
    return render_template("admin/organisations.html",
                           unverified=services.list_organisations(db, verified=False),
                           verified=services.list_organisations(db, verified=True),
                           form=forms.ConfirmForm())


@bp.post("/organisations/<int:organisation_id>/verify")
def verify_organisation(organisation_id: int):
    """Verify an organisation so it can act on the platform."""
    form = forms.ConfirmForm()
    if form.validate_on_submit():
        org = services.verify_organisation(get_session(), actor=current_user,
                                           organisation_id=organisation_id, now=utcnow())
        flash(_("%(name)s is verified.", name=org.name), "success")
    return redirect(url_for("admin.list_organisations"))


@bp.get("/audit")
def show_audit():
    """The latest audit events and whether the hash chain is intact."""
    require(current_user, Permission.AUDIT_READ)
    db = get_session()
    events = db.execute(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(100)).scalars()
    return render_template("admin/audit.html", events=list(events), broken=audit.verify(db),
                           head=audit.latest_hash(db))


@bp.get("/outbox")
def show_outbox():
    """E-mails that could not be delivered after every retry."""
    require(current_user, Permission.OUTBOX_READ)
    return render_template("admin/outbox.html", dead=dead_letters(get_session()))
