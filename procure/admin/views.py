"""Admin pages. Every view requires the admin permission; services check it again."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from procure.accounts import forms, services
from procure.audit import services as audit
from procure.audit.models import AuditEvent
from procure.db import get_session, utcnow
from procure.errors import InvalidTransition, NotFound, RuleViolation
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


@bp.get("/users")
def list_users():
    """Find accounts by e-mail address or name, to disable or re-enable them."""
    search = forms.UserSearchForm(request.args)
    query = search.q.data or "" if search.validate() else ""
    status = 200 if not search.errors else 400
    return render_template("admin/users.html", search=search, form=forms.ConfirmForm(),
                           users=services.find_users(get_session(), query=query),
                           query=query), status


def _set_disabled(user_id: int, disabled: bool):
    form = forms.ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        user = services.set_disabled(get_session(), actor=current_user, user_id=user_id,
                                     disabled=disabled, now=utcnow())
    except NotFound:
        abort(404)
    except RuleViolation as e:
        flash(str(forms.ERROR_MESSAGES.get(next(iter(e.errors.values())), "")), "important")
        return redirect(url_for("admin.list_users", q=request.args.get("q", "")))
    except InvalidTransition:
        return redirect(url_for("admin.list_users", q=request.args.get("q", "")))
    if disabled:
        flash(_("%(email)s is disabled and signed out everywhere.", email=user.email), "success")
    else:
        flash(_("%(email)s can sign in again.", email=user.email), "success")
    return redirect(url_for("admin.list_users", q=request.args.get("q", "")))


@bp.post("/users/<int:user_id>/disable")
def disable_user(user_id: int):
    """Disable an account: it cannot sign in and all its sessions end at once."""
    return _set_disabled(user_id, True)


@bp.post("/users/<int:user_id>/enable")
def enable_user(user_id: int):
    """Let a disabled account sign in again."""
    return _set_disabled(user_id, False)
