"""Creating and joining an organisation, and managing its members."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from procure.accounts import forms, services
from procure.db import get_session, utcnow
from procure.errors import RuleViolation
from procure.forms import add_errors
from procure.permissions import Permission, can, require

bp = Blueprint("organisations", __name__, url_prefix="/organisation")


@bp.get("")
@login_required
def show_organisation():
    """Your organisation and its members, or the choice to create or join one."""
    membership = current_user.membership
    if membership is None or membership.status == "declined":
        return render_template("organisations/choose.html", membership=membership)
    org = membership.organisation
    members = (services.members_of(get_session(), org)
               if can(current_user, Permission.ORGANISATION_VIEW_MEMBERS, org) else [])
    return render_template(
        "organisations/show.html", org=org, membership=membership, members=members,
        can_manage=can(current_user, Permission.ORGANISATION_MANAGE_MEMBERS, org),
        decision_form=forms.MembershipDecisionForm(), role_form=forms.RoleForm())


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create_organisation():
    """Register a new organisation; an admin verifies it before it can act as a buyer."""
    require(current_user, Permission.ORGANISATION_CREATE)
    form = forms.NewOrganisationForm()
    if form.validate_on_submit():
        try:
            services.create_organisation(get_session(), actor=current_user, name=form.name.data,
                                         kind=form.kind.data, now=utcnow())
        except RuleViolation as e:
            add_errors(form, e.errors, forms.ERROR_MESSAGES)
        else:
            flash(_("Your organisation is registered. An administrator will verify it."),
                  "success")
            return redirect(url_for("organisations.show_organisation"))
    status = 400 if form.errors else 200
    return render_template("organisations/new.html", form=form), status


@bp.route("/join", methods=["GET", "POST"])
@login_required
def join_organisation():
    """Ask to join an existing organisation; one of its editors approves."""
    require(current_user, Permission.ORGANISATION_JOIN)
    form = forms.JoinOrganisationForm()
    orgs = services.list_organisations(get_session())
    form.organisation_id.choices = [(0, _("Select an organisation"))] + [
        (o.id, o.name) for o in orgs]
    if form.validate_on_submit():
        if form.organisation_id.data == 0:
            form.organisation_id.errors = [_("Select an organisation")]
        else:
            services.request_membership(get_session(), actor=current_user,
                                        organisation_id=form.organisation_id.data, now=utcnow())
            flash(_("Your request has been sent to the organisation's editors."), "success")
            return redirect(url_for("organisations.show_organisation"))
    status = 400 if form.errors else 200
    return render_template("organisations/join.html", form=form), status


@bp.post("/members/<int:membership_id>/decision")
@login_required
def decide_membership(membership_id: int):
    """Approve (as editor or viewer) or decline a request to join."""
    form = forms.MembershipDecisionForm()
    if form.validate_on_submit():
        approve = form.decision.data != "decline"
        services.decide_membership(get_session(), actor=current_user, membership_id=membership_id,
                                   approve=approve,
                                   role=form.decision.data if approve else "viewer", now=utcnow())
        flash(_("Decision saved."), "success")
    else:
        flash(_("Select a decision"), "error")
    return redirect(url_for("organisations.show_organisation"))


@bp.post("/members/<int:membership_id>/role")
@login_required
def change_role(membership_id: int):
    """Make a member an editor or a viewer."""
    form = forms.RoleForm()
    if form.validate_on_submit():
        try:
            services.change_role(get_session(), actor=current_user, membership_id=membership_id,
                                 role=form.role.data, now=utcnow())
        except RuleViolation as e:
            flash(str(forms.ERROR_MESSAGES.get(e.errors.get("role", ""), "")), "error")
        else:
            flash(_("Role changed."), "success")
    else:
        flash(_("Select a role"), "error")
    return redirect(url_for("organisations.show_organisation"))
