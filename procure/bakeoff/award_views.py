"""Bake-off pages for the authority: verification, results, award contracts, check-ins."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user, login_required

from procure.assessment import services as assessment
from procure.bakeoff import award_forms as forms
from procure.bakeoff import services
from procure.bakeoff.blueprint import bp
from procure.bakeoff.chart import ChartRow, bake_off_chart
from procure.bakeoff.messages import ERROR_MESSAGES
from procure.bakeoff.models import MeasurementReport, ReportStatus
from procure.challenges import rules as challenge_rules
from procure.challenges.models import Phase, PhaseKind
from procure.db import get_session, utcnow
from procure.errors import NotFound, NotPermitted, RuleViolation
from procure.forms import add_errors
from procure.permissions import Permission, can


def _number(value: Decimal | None) -> str:
    """A measure's value as people read it: "1,250.5"; "–" for none."""
    if value is None:
        return "–"
    return str(format_decimal(Decimal(value), format="#,##0.####"))


def _plain(value: Decimal | None) -> str:
    """A stored value as a form shows it again: "1250.5"."""
    if value is None:
        return ""
    text = format(Decimal(value), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _posted(form: Any) -> bool:
    """A form sent with a good CSRF token; its fields are checked (each one's own errors are
    read by the caller, and the service is asked too, so every mistake is listed at once)."""
    form.validate()
    if form.csrf_token.errors:
        abort(400)
    return True


def _without_field_errors(form: Any, errors: dict[str, str]) -> dict[str, str]:
    """The service's errors for fields that do not already say what is wrong (a value that
    could not be read, which the service sees as missing)."""
    return {k: v for k, v in errors.items()
            if getattr(form, k, None) is None or not getattr(form, k).errors}


def _sealed_phase(challenge_id: int, phase_id: int) -> Phase:
    """A bake-off the authority may not read yet (before its deadline): the phase, to say so;
    a refusal for anyone who would not be let in after the deadline either."""
    phase = assessment.authorised_phase(get_session(), current_user,
                                        Permission.ASSESSMENT_OVERVIEW,
                                        challenge_id=challenge_id, phase_id=phase_id)
    if phase.kind != PhaseKind.BAKE_OFF:
        raise NotFound("phase")
    return phase


# --- the measurements and their verification ----------------------------------------------------

@bp.get("/challenges/<int:challenge_id>/phases/<int:phase_id>/measurements")
@login_required
def show_measurements(challenge_id: int, phase_id: int):
    """Every invited entrant's report of every measure, its evidence and its verification, for
    the lead and partner authorities once the bake-off has closed."""
    try:
        phase = services.read_reports(get_session(), actor=current_user,
                                      challenge_id=challenge_id, phase_id=phase_id, now=utcnow())
    except NotPermitted:
        phase = _sealed_phase(challenge_id, phase_id)
        return render_template("bakeoff/measurements.html", phase=phase,
                               challenge=phase.challenge, sealed=True)
    entrants = [e for e in phase.entrants if e.invited_at is not None]
    waiting = sum(1 for e in entrants for r in e.reports if r.status == ReportStatus.REPORTED)
    return render_template("bakeoff/measurements.html", phase=phase, challenge=phase.challenge,
                           sealed=False, entrants=entrants, waiting=waiting, number=_number,
                           may_verify=can(current_user, Permission.BAKE_OFF_VERIFY, phase))


def _report_in(phase: Phase, report_id: int) -> MeasurementReport:
    report = next((r for e in phase.entrants for r in e.reports if r.id == report_id), None)
    if report is None or report.entrant.invited_at is None:
        raise NotFound("report")
    return report


@bp.route("/challenges/<int:challenge_id>/phases/<int:phase_id>/measurements/<int:report_id>",
          methods=["GET", "POST"])
@login_required
def verify_measurement(challenge_id: int, phase_id: int, report_id: int):
    """Accept a reported value, or correct it with a reason."""
    db = get_session()
    phase = services.authorised_phase(db, current_user, Permission.BAKE_OFF_VERIFY,
                                      challenge_id=challenge_id, phase_id=phase_id)
    report = _report_in(phase, report_id)
    data: dict[str, Any] = {}
    if report.status != ReportStatus.REPORTED:
        data = {"outcome": "accept" if report.status == ReportStatus.ACCEPTED else "correct",
                "value": _plain(report.verified_value)
                if report.status == ReportStatus.CORRECTED else "",
                "reason": report.correction_reason}
    form = forms.VerificationForm(data=data)
    status = 200
    if form.is_submitted() and _posted(form):
        outcome = form.outcome.data if form.outcome.data in ("accept", "correct") else None
        correcting = outcome == "correct"
        try:
            verified = services.verify_measurement(
                db, actor=current_user, challenge_id=challenge_id, phase_id=phase_id,
                report_id=report_id, outcome=outcome,
                # What is typed under "Correct it" counts only when correcting.
                value_text=form.value.data if correcting else None,
                reason=form.reason.data if correcting else "", now=utcnow())
        except RuleViolation as e:
            db.rollback()
            add_errors(form, _without_field_errors(form, e.errors), ERROR_MESSAGES)
            status = 400
            phase = services.authorised_phase(db, current_user, Permission.BAKE_OFF_VERIFY,
                                              challenge_id=challenge_id, phase_id=phase_id)
            report = _report_in(phase, report_id)
        else:
            name = verified.entrant.organisation.name
            if verified.status == ReportStatus.CORRECTED:
                flash(_("You corrected the value of %(measure)s for %(supplier)s. They have been "
                        "told.", measure=verified.measure.name, supplier=name), "success")
            else:
                flash(_("You accepted the value of %(measure)s for %(supplier)s.",
                        measure=verified.measure.name, supplier=name), "success")
            return redirect(url_for(".show_measurements", challenge_id=challenge_id,
                                    phase_id=phase_id))
    return render_template("bakeoff/verify.html", form=form, phase=phase,
                           challenge=phase.challenge, report=report,
                           measure=report.measure, entrant=report.entrant,
                           number=_number), status


# --- the results --------------------------------------------------------------------------------

def _chart(results: Any) -> Any:
    rows = [ChartRow(label=r.entrant.organisation.name, assessed=r.assessed, outcome=r.outcome,
                     final=r.final, highlight=r.awarded)
            for r in results.rows if r.final is not None]
    return bake_off_chart(rows, outcome_share=Decimal(results.phase.outcome_share_percent))


@bp.get("/challenges/<int:challenge_id>/phases/<int:phase_id>/results")
@login_required
def show_results(challenge_id: int, phase_id: int):
    """Every entrant side by side: each measure, the outcome score, the assessed total and the
    final score, with the chart."""
    try:
        results = services.results(get_session(), actor=current_user, challenge_id=challenge_id,
                                   phase_id=phase_id, now=utcnow())
    except NotPermitted:
        phase = _sealed_phase(challenge_id, phase_id)
        return render_template("bakeoff/results.html", phase=phase, challenge=phase.challenge,
                               sealed=True)
    phase = results.phase
    return render_template("bakeoff/results.html", phase=phase, challenge=phase.challenge,
                           sealed=False, results=results, chart=_chart(results), number=_number)


# --- the award's contracts ----------------------------------------------------------------------

def _award(challenge_id: int, phase_id: int, proposal_id: int) -> tuple[Phase, Any, str]:
    """The phase, its award decision and the selected supplier's name, if the person may
    record its contract (as the service decides: 404, then 403)."""
    phase = assessment.load_phase(get_session(), challenge_id=challenge_id, phase_id=phase_id)
    decision = phase.decision
    if not can(current_user, Permission.CHALLENGE_VIEW, phase.challenge) or decision is None:
        raise NotFound("decision")
    if not can(current_user, Permission.AWARD_CONTRACT, decision):
        raise NotPermitted(str(Permission.AWARD_CONTRACT))
    if proposal_id not in decision.selected_ids:
        raise NotFound("proposal")
    result = decision.result_for(proposal_id) or {}
    return phase, decision, result.get("organisation", "")


@bp.route("/challenges/<int:challenge_id>/phases/<int:phase_id>/decision/contracts/"
          "<int:proposal_id>", methods=["GET", "POST"])
@login_required
def record_contract(challenge_id: int, phase_id: int, proposal_id: int):
    """The contract awarded to one selected supplier: its value, start and end."""
    db = get_session()
    phase, decision, supplier = _award(challenge_id, phase_id, proposal_id)
    contract = next((c for c in decision.contracts if c.proposal_id == proposal_id), None)
    if contract is not None:
        data = {"value": challenge_rules.format_money(contract.value_pence),
                "starts_on": contract.starts_on, "ends_on": contract.ends_on}
    else:
        data = {"value": challenge_rules.format_money(phase.max_value_pence)
                if phase.max_value_pence else ""}
    form = forms.ContractForm(data=data)
    status = 200
    if form.is_submitted() and _posted(form):
        try:
            services.record_contract(
                db, actor=current_user, challenge_id=challenge_id, phase_id=phase_id,
                proposal_id=proposal_id, value_pence=form.value.pence,
                starts_on=form.starts_on.data if not form.starts_on.errors else None,
                ends_on=form.ends_on.data if not form.ends_on.errors else None, now=utcnow())
        except RuleViolation as e:
            db.rollback()
            add_errors(form, _without_field_errors(form, e.errors), ERROR_MESSAGES)
            status = 400
            phase, decision, supplier = _award(challenge_id, phase_id, proposal_id)
        else:
            flash(_("The contract with %(supplier)s is recorded.", supplier=supplier), "success")
            return redirect(url_for("assessment.show_decision", challenge_id=challenge_id,
                                    phase_id=phase_id))
    return render_template("bakeoff/contract.html", form=form, phase=phase,
                           challenge=phase.challenge, decision=decision, supplier=supplier,
                           contract=contract), status


# --- adoption check-ins -------------------------------------------------------------------------

def _check_in_data(check_in: Any, measures: list[Any]) -> dict[str, Any]:
    if check_in.recorded_at is None:
        return {}
    data: dict[str, Any] = {"in_use": {True: "yes", False: "no"}.get(check_in.in_use),
                            "used_by": check_in.used_by, "notes": check_in.notes}
    for m in measures:
        text = (check_in.measure_values or {}).get(str(m.id))
        if text is not None:
            data[forms.value_field(m.id)] = _plain(Decimal(text))
    return data


@bp.route("/challenges/<int:challenge_id>/check-ins/<int:months>", methods=["GET", "POST"])
@login_required
def show_check_in(challenge_id: int, months: int):
    """The lead authority's answer, some months after the award: is the solution in use, by
    whom, and the latest value of each outcome measure. Its editors record it."""
    db = get_session()
    check_in = services.get_check_in(db, actor=current_user, challenge_id=challenge_id,
                                     months=months)
    measures = services.check_in_measures(check_in)
    form = forms.check_in_form(measures, _number, data=_check_in_data(check_in, measures))
    status = 200
    if form.is_submitted() and _posted(form):
        in_use = {"yes": True, "no": False}.get(form.in_use.data or "")
        values = {m.id: form[forms.value_field(m.id)].data or "" for m in measures}
        try:
            services.record_check_in(db, actor=current_user, challenge_id=challenge_id,
                                     months=months, in_use=in_use,
                                     used_by=form.used_by.data if in_use else "",
                                     notes=form.notes.data, values=values, now=utcnow())
        except RuleViolation as e:
            db.rollback()
            add_errors(form, _without_field_errors(form, e.errors), ERROR_MESSAGES)
            status = 400
            check_in = services.get_check_in(db, actor=current_user, challenge_id=challenge_id,
                                             months=months)
            measures = services.check_in_measures(check_in)
        else:
            flash(_("The %(months)s-month check-in is recorded. Thank you.", months=months),
                  "success")
            return redirect(url_for("challenges.show_challenge", challenge_id=challenge_id))
    return render_template("bakeoff/check_in.html", form=form, check_in=check_in,
                           challenge=check_in.challenge, measures=measures, number=_number,
                           may_record=can(current_user, Permission.CHECK_IN_RECORD, check_in)), \
        status
