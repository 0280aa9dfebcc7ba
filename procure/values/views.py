"""Admin pages for the shared value frameworks: versions, criteria, drafts and publishing."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from procure.db import get_session, utcnow
from procure.errors import InvalidTransition, RuleViolation
from procure.forms import add_errors
from procure.permissions import Permission, require
from procure.values import forms, services

bp = Blueprint("values", __name__, url_prefix="/admin/values")


@bp.before_request
@login_required
def _curators_only():
    require(current_user, Permission.VALUES_MANAGE)


@bp.get("")
def list_frameworks():
    """Every framework with its versions and their status."""
    frameworks: dict[str, list] = {}
    for framework in services.list_frameworks(get_session()):
        frameworks.setdefault(framework.code, []).append(framework)
    return render_template("values/list.html", frameworks=list(frameworks.values()))


@bp.get("/<int:framework_id>")
def show_framework(framework_id: int):
    """One version: every criterion in both languages with its guidance for each point."""
    db = get_session()
    framework = services.get_framework(db, framework_id)
    versions = services.framework_versions(db, framework.code)
    draft = next((v for v in versions if not v.is_published), None)
    latest_published = next((v for v in versions if v.is_published), None)
    return render_template("values/show.html", framework=framework, versions=versions, draft=draft,
                           is_latest_published=latest_published is framework,
                           scale_labels=forms.SCALE_LABELS)


@bp.post("/<int:framework_id>/new-version")
def create_version(framework_id: int):
    """Copy the latest published version into a new draft."""
    db = get_session()
    framework = services.get_framework(db, framework_id)
    try:
        draft = services.create_next_version(db, actor=current_user, code=framework.code,
                                             now=utcnow())
    except RuleViolation as e:
        flash(str(forms.ERROR_MESSAGES.get(e.errors.get("framework", ""), "")), "error")
        return redirect(url_for("values.show_framework", framework_id=framework_id))
    flash(_("Version %(version)s has been created as a draft. Change its criteria, then publish it.",
            version=draft.version), "success")
    return redirect(url_for("values.show_framework", framework_id=draft.id))


@bp.post("/<int:framework_id>/publish")
def publish_version(framework_id: int):
    """Publish a draft: challenges choose from it from now on, and it can no longer change."""
    framework = services.publish_version(get_session(), actor=current_user,
                                         framework_id=framework_id, now=utcnow())
    flash(_("Version %(version)s is published.", version=framework.version), "success")
    return redirect(url_for("values.show_framework", framework_id=framework.id))


@bp.post("/<int:framework_id>/discard")
def discard_draft(framework_id: int):
    """Delete a draft version."""
    db = get_session()
    framework = services.get_framework(db, framework_id)
    version = framework.version
    services.discard_draft(db, actor=current_user, framework_id=framework_id, now=utcnow())
    flash(_("The draft of version %(version)s has been discarded.", version=version), "success")
    return redirect(url_for("values.list_frameworks"))


@bp.route("/<int:framework_id>/edit", methods=["GET", "POST"])
def edit_framework(framework_id: int):
    """Change a draft version's names and descriptions."""
    db = get_session()
    framework = services.get_framework(db, framework_id)
    if framework.is_published:
        raise InvalidTransition(framework.status, "edit")
    form = forms.FrameworkTextForm(data={f: getattr(framework, f) for f in (
        "name_en", "name_cy", "description_en", "description_cy")})
    if form.validate_on_submit():
        try:
            services.update_framework_text(
                db, actor=current_user, framework_id=framework.id, name_en=form.name_en.data,
                name_cy=form.name_cy.data, description_en=form.description_en.data,
                description_cy=form.description_cy.data, now=utcnow())
        except RuleViolation as e:
            add_errors(form, e.errors, forms.ERROR_MESSAGES)
        else:
            flash(_("Changes saved."), "success")
            return redirect(url_for("values.show_framework", framework_id=framework.id))
    status = 400 if form.errors else 200
    return render_template("values/edit_framework.html", framework=framework, form=form), status


@bp.route("/criteria/<int:criterion_id>/edit", methods=["GET", "POST"])
def edit_criterion(criterion_id: int):
    """Change a criterion of a draft version: names, descriptions and guidance for each point."""
    db = get_session()
    criterion = services.get_criterion(db, criterion_id)
    if criterion.framework.is_published:
        raise InvalidTransition(criterion.framework.status, "edit")
    form = forms.criterion_form(criterion)
    if form.validate_on_submit():
        try:
            services.update_criterion(
                db, actor=current_user, criterion_id=criterion.id, name_en=form.name_en.data,
                name_cy=form.name_cy.data, description_en=form.description_en.data,
                description_cy=form.description_cy.data, guidance_en=form.guidance("en"),
                guidance_cy=form.guidance("cy"), now=utcnow())
        except RuleViolation as e:
            add_errors(form, e.errors, forms.ERROR_MESSAGES)
        else:
            flash(_("Changes saved."), "success")
            return redirect(url_for("values.show_framework", framework_id=criterion.framework_id,
                                    _anchor=f"criterion-{criterion.code}"))
    status = 400 if form.errors else 200
    return render_template("values/edit_criterion.html", criterion=criterion,
                           framework=criterion.framework, form=form), status
