"""Writing and publishing a challenge's open record: lessons, reusable assets, publication and its status."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from procure.challenges.models import Challenge
from procure.db import get_session, utcnow
from procure.errors import InvalidTransition, RuleViolation
from procure.forms import add_errors
from procure.permissions import Permission, can
from procure.record import editor_forms as forms
from procure.record import services
from procure.record.blueprint import bp
from procure.record.messages import ERROR_MESSAGES
from procure.record.models import ChallengeRecord


@bp.app_template_global()
def record_links(challenge: Challenge) -> dict[str, Any]:
    """What a challenge's pages say of its open record to the person reading: its status,
    whether they follow it (the lead's members) and whether they may write it."""
    record = getattr(challenge, "record", None)
    return {"status": record.status if record is not None else None,
            "prepare": can(current_user, Permission.RECORD_PREPARE, challenge),
            "edit": can(current_user, Permission.RECORD_EDIT, challenge)}


def _lessons(record: ChallengeRecord | None) -> dict[str, str]:
    if record is None:
        return {}
    return {"lessons_worked": record.lessons_worked, "lessons_not_worked": record.lessons_not_worked}


def _editing(challenge_id: int) -> Challenge:
    """The challenge whose record the person follows: 404 if they may not know of it, 403 if
    they are not a member of its lead authority or it can have no record."""
    return services.editing(get_session(), actor=current_user, challenge_id=challenge_id)


def _again(challenge_id: int) -> Challenge:
    """The challenge as stored, after a refused change (nothing it left in the session)."""
    db = get_session()
    db.rollback()
    db.expire_all()
    return _editing(challenge_id)


def _page(challenge: Challenge, *, lessons: Any = None, asset: Any = None, form: Any = None,
          status: int = 200, conflict: bool = False):
    """The record's page: its status, what to do next, and the forms for those who may edit."""
    record = challenge.record
    return render_template(
        "record/edit.html", challenge=challenge, record=record,
        record_status=record.status if record is not None else None,
        may_edit=can(current_user, Permission.RECORD_EDIT, challenge),
        lessons_form=lessons if lessons is not None else forms.LessonsForm(
            formdata=None, data=_lessons(record)),
        asset_form=asset if asset is not None else forms.AssetForm(formdata=None),
        form=form, conflict=conflict, licence_name=forms.licence_name), status


def _to_page(challenge_id: int, anchor: str | None = None):
    return redirect(url_for(".edit_record", challenge_id=challenge_id, _anchor=anchor))


@bp.route("/challenges/<int:challenge_id>/record", methods=["GET", "POST"])
@login_required
def edit_record(challenge_id: int):
    """The open record for the lead authority: its status and what to do next; its editors
    write what worked and what did not here."""
    challenge = _editing(challenge_id)
    form = forms.LessonsForm(data=_lessons(challenge.record))
    if not form.is_submitted():
        return _page(challenge, lessons=form)
    services.require_editable(current_user, challenge)
    if form.validate():
        try:
            services.save_lessons(get_session(), actor=current_user, challenge_id=challenge_id,
                                  worked=form.lessons_worked.data or "",
                                  not_worked=form.lessons_not_worked.data or "", now=utcnow())
        except RuleViolation as e:
            add_errors(form, e.errors, ERROR_MESSAGES)
        else:
            flash(_("The lessons learned are saved."), "success")
            return _to_page(challenge_id)
    return _page(_again(challenge_id), lessons=form, form=form, status=400)


@bp.post("/challenges/<int:challenge_id>/record/assets")
@login_required
def add_asset(challenge_id: int):
    """List something another authority can reuse: what it is, where, under which licence."""
    challenge = _editing(challenge_id)
    services.require_editable(current_user, challenge)
    form = forms.AssetForm()
    if form.validate():
        try:
            asset = services.add_asset(get_session(), actor=current_user,
                                       challenge_id=challenge_id, title=form.title.data or "",
                                       url=form.url.data or "", licence=form.licence.data or "",
                                       description=form.description.data or "", now=utcnow())
        except RuleViolation as e:
            add_errors(form, e.errors, ERROR_MESSAGES)
        else:
            flash(_("“%(title)s” is added to the reusable assets.", title=asset.title), "success")
            return _to_page(challenge_id, "assets")
    return _page(_again(challenge_id), asset=form, form=form, status=400)


@bp.post("/challenges/<int:challenge_id>/record/assets/<int:asset_id>/remove")
@login_required
def remove_asset(challenge_id: int, asset_id: int):
    """Take an asset off the list."""
    challenge = _editing(challenge_id)
    services.require_editable(current_user, challenge)
    asset = next((a for a in challenge.record.assets if a.id == asset_id), None) \
        if challenge.record is not None else None
    title = asset.title if asset is not None else ""
    services.remove_asset(get_session(), actor=current_user, challenge_id=challenge_id,
                          asset_id=asset_id, now=utcnow())
    flash(_("“%(title)s” is removed from the reusable assets.", title=title), "success")
    return _to_page(challenge_id, "assets")


@bp.post("/challenges/<int:challenge_id>/record/publish")
@login_required
def request_publication(challenge_id: int):
    """Ask for the record to be published: a background job freezes it, and this page shows
    how it is going. The service decides who may, and refuses a second request (409)."""
    _editing(challenge_id)
    try:
        services.request_publication(get_session(), actor=current_user,
                                     challenge_id=challenge_id, now=utcnow())
    except RuleViolation as e:
        challenge = _again(challenge_id)
        lessons = forms.LessonsForm(formdata=None, data=_lessons(challenge.record))
        add_errors(lessons, e.errors, ERROR_MESSAGES)
        return _page(challenge, lessons=lessons, form=lessons, status=400)
    except InvalidTransition:
        # Someone else asked first (or it is already published): say so on the page itself.
        return _page(_again(challenge_id), conflict=True, status=409)
    flash(_("Publication of the record has been asked for."), "success")
    return _to_page(challenge_id)
