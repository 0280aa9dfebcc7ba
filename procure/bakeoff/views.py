"""Bake-off pages for entrants: the entrants page, inviting them, and each entrant's reports."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import format_date, format_decimal, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_required

from procure.bakeoff import forms, services
from procure.bakeoff.blueprint import bp
from procure.bakeoff.messages import ERROR_MESSAGES
from procure.bakeoff.models import BakeOffEntrant
from procure.challenges import rules as challenge_rules
from procure.challenges.lifecycle import accepting_proposals
from procure.challenges.messages import ERROR_MESSAGES as CHALLENGE_MESSAGES
from procure.challenges.models import OutcomeMeasure, Phase
from procure.clock import utc_to_london
from procure.db import get_session, utcnow
from procure.errors import NotFound, NotPermitted, RuleViolation
from procure.forms import add_errors, london_datetime
from procure.permissions import Permission, can
from procure.submissions import rules as file_rules
from procure.submissions import services as submissions


def _folder() -> Path:
    return Path(current_app.config["UPLOAD_DIR"])


@bp.app_template_filter("measure_value")
def measure_value(value: Decimal | None) -> str:
    """A measured value as people read it: "1,250.5" (no trailing zeros); "–" for none."""
    if value is None:
        return "–"
    return str(format_decimal(Decimal(value), format="#,##0.####"))


@bp.app_template_filter("day_month_year")
def day_month_year(day: date | None) -> str:
    """A calendar date as people read it: "4 January 2027"; "" for none."""
    return str(format_date(day, "d MMMM yyyy")) if day is not None else ""


def _plain(value: Decimal | None) -> str:
    """A stored value as a form shows it again: "1250.5"."""
    if value is None:
        return ""
    text = format(Decimal(value), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


# --- the authorities: the entrants and inviting them --------------------------------------------

def _entrants_phase(challenge_id: int, phase_id: int) -> Phase:
    """The phase with its entrants; 404 for anyone who is not of the lead or a partner authority
    (suppliers learn of an entry from their invitation, not from this page)."""
    try:
        return services.entrants(get_session(), actor=current_user, challenge_id=challenge_id,
                                 phase_id=phase_id)
    except NotPermitted:
        raise NotFound("phase") from None


def _invite_data(phase: Phase, now: datetime) -> dict[str, Any]:
    """What the invitation form shows first: each contract as recorded (its value the phase's
    maximum to begin with) and the phase's closing time, if that is still ahead."""
    data: dict[str, Any] = {}
    for entrant in phase.entrants:
        value, starts_on, ends_on = forms.field_names(entrant.id)
        if entrant.contract_value_pence is not None:
            data[value] = challenge_rules.format_money(entrant.contract_value_pence)
        data[starts_on], data[ends_on] = entrant.contract_starts_on, entrant.contract_ends_on
    if phase.closes_at is not None and phase.closes_at > now:
        local = utc_to_london(phase.closes_at)
        data["closes_at"], data["closes_time"] = local.date(), local.strftime("%H:%M")
    return data


def _entrants_page(phase: Phase, form: Any, status: int = 200):
    now = utcnow()
    return render_template(
        "bakeoff/entrants.html", phase=phase, challenge=phase.challenge, form=form,
        may_invite=can(current_user, Permission.BAKE_OFF_INVITE, phase),
        field_names=forms.field_names, now=now,
        open_now=accepting_proposals(phase.status, phase.opens_at, phase.closes_at, now)), status


@bp.get("/challenges/<int:challenge_id>/phases/<int:phase_id>/entrants")
@login_required
def show_entrants(challenge_id: int, phase_id: int):
    """The suppliers shortlisted into the phase, their contracts, and (for the lead's editors,
    before the bake-off opens) the form to invite them."""
    phase = _entrants_phase(challenge_id, phase_id)
    form = None
    if can(current_user, Permission.BAKE_OFF_INVITE, phase):
        form = forms.invite_form(phase.entrants, formdata=None, data=_invite_data(phase, utcnow()))
    return _entrants_page(phase, form)


def _has_error(form: Any, key: str) -> bool:
    """Whether the field already says what is wrong (a value that could not be read, which the
    service sees as missing)."""
    names = ("closes_at", "closes_time") if key == "closes_at" else (key,)
    return any(getattr(form, n, None) is not None and getattr(form, n).errors for n in names)


@bp.post("/challenges/<int:challenge_id>/phases/<int:phase_id>/entrants")
@login_required
def invite_entrants(challenge_id: int, phase_id: int):
    """Record each entrant's contract, open the bake-off to them until its deadline, tell them."""
    db = get_session()
    phase = services.authorised_phase(db, current_user, Permission.BAKE_OFF_INVITE,
                                      challenge_id=challenge_id, phase_id=phase_id)
    form = forms.invite_form(phase.entrants)
    form.validate()  # then the service too, so every mistake is listed at once
    if not form.csrf_token.errors:
        closes_at = london_datetime(form.closes_at, form.closes_time, CHALLENGE_MESSAGES)
        contracts = {}
        for entrant in phase.entrants:
            value, starts_on, ends_on = (form[n] for n in forms.field_names(entrant.id))
            contracts[entrant.id] = (value.pence, starts_on.data, ends_on.data)
        try:
            services.invite_entrants(db, actor=current_user, challenge_id=challenge_id,
                                     phase_id=phase_id, contracts=contracts, closes_at=closes_at,
                                     now=utcnow())
        except RuleViolation as e:
            db.rollback()
            add_errors(form, {k: v for k, v in e.errors.items() if not _has_error(form, k)},
                       ERROR_MESSAGES)
        else:
            flash(ngettext("The bake-off is open. We have told %(num)s entrant.",
                           "The bake-off is open. We have told the %(num)s entrants.",
                           len(contracts)), "success")
            return redirect(url_for(".show_entrants", challenge_id=challenge_id,
                                    phase_id=phase_id))
    phase = _entrants_phase(challenge_id, phase_id)
    return _entrants_page(phase, form, 400)


# --- the entrant ----------------------------------------------------------------------------------

def _entry(entrant_id: int) -> BakeOffEntrant:
    return services.own_entry(get_session(), actor=current_user, entrant_id=entrant_id)


def _may_report(entrant: BakeOffEntrant, now: datetime) -> bool:
    phase = entrant.phase
    return (can(current_user, Permission.BAKE_OFF_REPORT, entrant)
            and accepting_proposals(phase.status, phase.opens_at, phase.closes_at, now))


def _measure(entrant: BakeOffEntrant, measure_id: int) -> OutcomeMeasure:
    measure = next((m for m in entrant.phase.measures if m.id == measure_id), None)
    if measure is None:
        raise NotFound("measure")
    return measure


@bp.get("/bake-off/<int:entrant_id>")
@login_required
def show_entry(entrant_id: int):
    """The supplier's place in a bake-off: its contract, the deadline, its demonstration
    proposal and what it has reported on each outcome measure."""
    db = get_session()
    now = utcnow()
    entrant = _entry(entrant_id)
    phase = entrant.phase
    open_now = accepting_proposals(phase.status, phase.opens_at, phase.closes_at, now)
    proposal = submissions.proposal_of(db, organisation_id=entrant.organisation_id,
                                       phase_id=phase.id)
    return render_template(
        "bakeoff/entry.html", entrant=entrant, phase=phase, challenge=phase.challenge,
        proposal=proposal, open_now=open_now, may_report=_may_report(entrant, now), now=now,
        may_start=proposal is None and open_now
        and can(current_user, Permission.PROPOSAL_START, phase),
        action_form=forms.ActionForm(formdata=None))


def _report_page(entrant: BakeOffEntrant, measure: OutcomeMeasure, form: Any, *,
                 upload_error: str | None = None, status: int = 200):
    now = utcnow()
    return render_template(
        "bakeoff/report.html", entrant=entrant, measure=measure, phase=entrant.phase,
        challenge=entrant.phase.challenge, report=entrant.report_for(measure.id), form=form,
        upload_form=forms.UploadForm(formdata=None), action_form=forms.ActionForm(formdata=None),
        upload_error=upload_error, may_report=_may_report(entrant, now),
        open_now=accepting_proposals(entrant.phase.status, entrant.phase.opens_at,
                                     entrant.phase.closes_at, now),
        max_files=services.MAX_EVIDENCE_FILES), status


@bp.route("/bake-off/<int:entrant_id>/measures/<int:measure_id>", methods=["GET", "POST"])
@login_required
def report_measure(entrant_id: int, measure_id: int):
    """Report (or change, until the deadline) what the prototype achieved on one measure."""
    db = get_session()
    entrant = _entry(entrant_id)
    measure = _measure(entrant, measure_id)
    report = entrant.report_for(measure.id)
    data = {"value": _plain(report.value), "evidence": report.evidence} if report else None
    form = forms.ReportForm(data=data if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            services.report_measurement(db, actor=current_user, entrant_id=entrant.id,
                                        measure_id=measure.id, value_text=form.value.data,
                                        evidence=form.evidence.data, now=utcnow())
        except RuleViolation as e:
            db.rollback()
            add_errors(form, e.errors, ERROR_MESSAGES)
        else:
            flash(_("Your result for %(measure)s is saved.", measure=measure.name), "success")
            return redirect(url_for(".show_entry", entrant_id=entrant.id))
        entrant = _entry(entrant_id)
        measure = _measure(entrant, measure_id)
    return _report_page(entrant, measure, form, status=400 if form.errors else 200)


@bp.post("/bake-off/<int:entrant_id>/measures/<int:measure_id>/evidence")
@login_required
def add_evidence(entrant_id: int, measure_id: int):
    """Attach a file of evidence to a reported measurement (one at a time)."""
    db = get_session()
    entrant = _entry(entrant_id)
    measure = _measure(entrant, measure_id)
    if not forms.UploadForm().validate_on_submit():
        error = _("The form expired; try again")
    else:
        upload = request.files.get("file")
        filename = (upload.filename or "") if upload is not None else ""
        data = upload.read(file_rules.MAX_FILE_BYTES + 1) if upload is not None and filename \
            else b""
        try:
            evidence = services.add_evidence(db, actor=current_user, entrant_id=entrant.id,
                                             measure_id=measure.id, filename=filename, data=data,
                                             now=utcnow(), folder=_folder())
        except RuleViolation as e:
            db.rollback()
            if "file" not in e.errors:  # the bake-off has closed: nothing to fix in the file
                for code in e.errors.values():
                    flash(str(ERROR_MESSAGES.get(code, code)), "error")
                return redirect(url_for(".report_measure", entrant_id=entrant.id,
                                        measure_id=measure.id))
            error = str(ERROR_MESSAGES.get(e.errors["file"], e.errors["file"]))
        else:
            flash(_("%(name)s is uploaded.", name=evidence.filename), "success")
            return redirect(url_for(".report_measure", entrant_id=entrant.id,
                                    measure_id=measure.id))
        entrant = _entry(entrant_id)
        measure = _measure(entrant, measure_id)
    return _report_page(entrant, measure, forms.ReportForm(formdata=None, data=_report_data(
        entrant, measure)), upload_error=error, status=400)


def _report_data(entrant: BakeOffEntrant, measure: OutcomeMeasure) -> dict[str, Any] | None:
    report = entrant.report_for(measure.id)
    return {"value": _plain(report.value), "evidence": report.evidence} if report else None


@bp.post("/bake-off/<int:entrant_id>/evidence/<int:file_id>/remove")
@login_required
def remove_evidence(entrant_id: int, file_id: int):
    """Remove a file of evidence, until the deadline."""
    db = get_session()
    entrant = _entry(entrant_id)
    evidence = next((f for r in entrant.reports for f in r.files if f.id == file_id), None)
    if evidence is None:
        raise NotFound("file")
    back = url_for(".report_measure", entrant_id=entrant.id, measure_id=evidence.report.measure_id)
    if not forms.ActionForm().validate_on_submit():
        abort(400)
    try:
        services.remove_evidence(db, actor=current_user, entrant_id=entrant.id, file_id=file_id,
                                 now=utcnow(), folder=_folder())
    except RuleViolation as e:
        db.rollback()
        for code in e.errors.values():
            flash(str(ERROR_MESSAGES.get(code, code)), "error")
        return redirect(back)
    flash(_("The file is removed."), "success")
    return redirect(back)


@bp.get("/bake-off/evidence/<int:file_id>")
@login_required
def download_evidence(file_id: int):
    """A file of evidence, to the entrant or (after the deadline) the authorities; always as a
    download."""
    evidence, path = services.evidence_for_download(get_session(), actor=current_user,
                                                    file_id=file_id, now=utcnow(),
                                                    folder=_folder())
    if not path.is_file():
        raise NotFound("file")
    return send_file(path, mimetype=evidence.content_type, as_attachment=True,
                     download_name=evidence.filename, max_age=0, conditional=False, etag=False)
