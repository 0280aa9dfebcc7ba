"""Writing a draft challenge from a task list: details, funding, phases, criteria, publishing."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from procure.challenges import authoring_forms as forms
from procure.challenges import funding, queries, rules, services
from procure.challenges.lifecycle import ChallengeStatus
from procure.challenges.messages import ERROR_MESSAGES
from procure.challenges.models import Challenge, FunderRole, Phase, PhaseKind
from procure.clock import utc_to_london
from procure.db import get_session, utcnow
from procure.errors import NotFound, NotPermitted, RuleViolation
from procure.forms import add_errors, london_datetime
from procure.permissions import Permission, can, require
from procure.web import format_pounds

bp = Blueprint("authoring", __name__, url_prefix="/challenges")

_PHASE_KEY = re.compile(r"^phase-(\d+)-(\w+)$")


@bp.before_request
@login_required
def _signed_in_only() -> None:
    """Every page here is for signed-in members of public authorities."""


# --- loading --------------------------------------------------------------------------------------

def _challenge(challenge_id: int, permission: Permission = Permission.CHALLENGE_EDIT) -> Challenge:
    """The challenge, if the user may see it (else 404) and do ``permission`` to it (else 403)."""
    challenge = services.get_challenge(get_session(), actor=current_user, challenge_id=challenge_id)
    require(current_user, permission, challenge)
    return challenge


def _phase(challenge: Challenge, phase_id: int) -> Phase:
    phase = next((p for p in challenge.phases if p.id == phase_id), None)
    if phase is None:
        raise NotFound("phase")
    return phase


def _bake_off(challenge: Challenge, phase_id: int) -> Phase:
    """A phase with outcome measures; other kinds have no measures pages."""
    phase = _phase(challenge, phase_id)
    if phase.kind != PhaseKind.BAKE_OFF:
        raise NotFound("measures")
    return phase


def _lang() -> str:
    return str(get_locale() or "en")


def _task_list_url(challenge: Challenge) -> str:
    return url_for("authoring.show_task_list", challenge_id=challenge.id)


def _saved(challenge: Challenge, message: str):
    flash(message, "success")
    return redirect(_task_list_url(challenge))


# --- your challenges ------------------------------------------------------------------------------

@bp.get("/mine")
def list_my_challenges():
    """The challenges your authority leads or funds, and drafts others would welcome partners for."""
    membership = current_user.active_membership
    if membership is None or membership.organisation.kind != "authority":
        raise NotPermitted("authority members only")
    db = get_session()
    mine = queries.challenges_of(db, membership.organisation_id)
    mine_ids = {c.id for c in mine}
    others = [c for c in queries.drafts_seeking_partners(
        db, exclude_organisation_id=membership.organisation_id)
        if c.id not in mine_ids and can(current_user, Permission.CHALLENGE_VIEW, c)]
    from procure.bakeoff import services as bakeoff

    return render_template(
        "authoring/mine.html", organisation=membership.organisation, challenges=mine,
        others=others, can_create=can(current_user, Permission.CHALLENGE_CREATE),
        editable={c.id for c in mine if can(current_user, Permission.CHALLENGE_EDIT, c)},
        check_ins=bakeoff.check_in_tasks(db, actor=current_user))


@bp.route("/new", methods=["GET", "POST"])
def create_challenge():
    """Start a draft with its title; everything else is filled in from the task list."""
    require(current_user, Permission.CHALLENGE_CREATE)
    form = forms.CreateForm()
    if form.validate_on_submit():
        try:
            challenge = services.create_challenge(get_session(), actor=current_user,
                                                  title=form.title.data or "", now=utcnow())
        except RuleViolation as e:
            add_errors(form, e.errors, ERROR_MESSAGES)
        else:
            flash(_("Your draft challenge is created. Complete each section, then publish it."),
                  "success")
            return redirect(_task_list_url(challenge))
    return render_template("authoring/new.html", form=form), 400 if form.errors else 200


# --- the task list --------------------------------------------------------------------------------

def _status(problem: bool, started: bool) -> str:
    if not started:
        return "not_started"
    return "incomplete" if problem else "completed"


def _task_list(challenge: Challenge, problems: dict[str, str]) -> list[dict[str, Any]]:
    """The sections of the task list, each item with its link and status."""
    cid = challenge.id

    def item(title: str, endpoint: str, status: str, hint: str = "", **values: Any) -> dict:
        return {"title": title, "href": url_for(f"authoring.{endpoint}", challenge_id=cid, **values),
                "status": status, "hint": hint}

    detail_keys = ("title", "summary", "problem_statement", "outcomes_sought")
    details_started = any((getattr(challenge, k) or "").strip() for k in (
        "summary", "problem_statement", "context", "affected", "outcomes_sought"))
    about = [
        item(_("Details"), "edit_details",
             _status(any(k in problems for k in detail_keys), details_started),
             _("Title, summary, problem statement, context, who is affected, outcomes sought")),
        item(_("Tags"), "edit_tags", "completed" if challenge.tags else "optional"),
        item(_("Welsh title and summary"), "edit_welsh",
             "completed" if challenge.title_cy or challenge.summary_cy else "optional"),
        item(_("Lead contact"), "edit_contact",
             _status("contact" in problems, bool(challenge.contact_name or challenge.contact_email))),
        item(_("Deadline for questions"), "edit_clarification_deadline",
             _status("clarification_deadline" in problems,
                     challenge.clarification_deadline is not None)),
    ]
    budget_short = any(k.endswith("-budget") for k in problems)
    money = [item(_("Pledges and partners"), "show_funding",
                  _status(budget_short, challenge.budget_pence > 0 or len(challenge.funders) > 1),
                  _("Budget: %(budget)s", budget=format_pounds(challenge.budget_pence)))]
    phases = []
    for phase in challenge.phases:
        n = phase.position
        key = f"phase-{n}-"
        kind = _kind_label(phase.kind)
        started = phase.opens_at is not None or phase.contracts is not None
        phases.append(item(_("Phase %(number)s: %(kind)s", number=n, kind=kind), "edit_phase",
                           _status(f"{key}dates" in problems or f"{key}details" in problems, started),
                           _("Dates, contracts and assessment"), phase_id=phase.id))
        phases.append(item(_("Phase %(number)s: criteria and weights", number=n), "edit_criteria",
                           _status(f"{key}criteria" in problems, bool(phase.criteria)),
                           phase_id=phase.id))
        if phase.kind == PhaseKind.BAKE_OFF:
            phases.append(item(_("Phase %(number)s: outcome measures", number=n), "list_measures",
                               _status(f"{key}measures" in problems, bool(phase.measures)),
                               phase_id=phase.id))
    phases.append(item(_("Add a phase"), "add_phase",
                       "optional" if challenge.phases else "not_started"))
    publish = [item(_("Check and publish"), "check_challenge",
                    "incomplete" if problems else "not_started")]
    return [{"title": _("About the challenge"), "items": about},
            {"title": _("Funding"), "items": money},
            {"title": _("Phases"), "items": phases},
            {"title": _("Publish"), "items": publish}]


def _kind_label(kind: str) -> str:
    return {"feasibility": _("Feasibility (proof of concept)"), "bake_off": _("Bake-off (prototype)"),
            "deployment": _("Deployment")}.get(kind, kind)


@bp.get("/<int:challenge_id>/edit")
def show_task_list(challenge_id: int):
    """What is done and what is left before the draft can be published."""
    challenge = _challenge(challenge_id)
    problems = services.publish_problems(challenge, utcnow())
    lead_problem = ERROR_MESSAGES[problems["lead"]] if "lead" in problems else None
    return render_template("authoring/task_list.html", challenge=challenge,
                           sections=_task_list(challenge, problems), lead_problem=lead_problem)


# --- about the challenge --------------------------------------------------------------------------

def _simple_page(challenge_id: int, form_class: type, template: str, save, message: str):
    """A page of one form that one service saves: shown filled in, 400 with errors, or saved."""
    challenge = _challenge(challenge_id)
    form = form_class(obj=challenge if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            save(form)
        except RuleViolation as e:
            add_errors(form, e.errors, ERROR_MESSAGES)
        else:
            return _saved(challenge, message)
    return render_template(template, challenge=challenge, form=form), 400 if form.errors else 200


@bp.route("/<int:challenge_id>/details", methods=["GET", "POST"])
def edit_details(challenge_id: int):
    """The title, summary, problem statement, context, who is affected and outcomes sought."""
    def save(form):
        services.update_details(
            get_session(), actor=current_user, challenge_id=challenge_id, now=utcnow(),
            **{k: form[k].data or "" for k in services.DETAIL_FIELDS})
    return _simple_page(challenge_id, forms.DetailsForm, "authoring/details.html", save,
                        _("The details are saved."))


@bp.route("/<int:challenge_id>/tags", methods=["GET", "POST"])
def edit_tags(challenge_id: int):
    """The topics suppliers follow (comma-separated)."""
    challenge = _challenge(challenge_id)
    form = forms.TagsForm(data={"tags": ", ".join(challenge.tag_names)}
                          if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            services.set_tags(get_session(), actor=current_user, challenge_id=challenge_id,
                              tags_text=form.tags.data or "", now=utcnow())
        except RuleViolation as e:
            add_errors(form, e.errors, ERROR_MESSAGES)
        else:
            return _saved(challenge, _("The tags are saved."))
    return (render_template("authoring/tags.html", challenge=challenge, form=form),
            400 if form.errors else 200)


@bp.route("/<int:challenge_id>/welsh", methods=["GET", "POST"])
def edit_welsh(challenge_id: int):
    """The optional Welsh title and summary."""
    def save(form):
        services.update_welsh(get_session(), actor=current_user, challenge_id=challenge_id,
                              title_cy=form.title_cy.data or "", summary_cy=form.summary_cy.data or "",
                              now=utcnow())
    return _simple_page(challenge_id, forms.WelshForm, "authoring/welsh.html", save,
                        _("The Welsh title and summary are saved."))


@bp.route("/<int:challenge_id>/contact", methods=["GET", "POST"])
def edit_contact(challenge_id: int):
    """The lead contact suppliers see."""
    def save(form):
        services.update_contact(get_session(), actor=current_user, challenge_id=challenge_id,
                                contact_name=form.contact_name.data or "",
                                contact_email=form.contact_email.data or "", now=utcnow())
    return _simple_page(challenge_id, forms.ContactForm, "authoring/contact.html", save,
                        _("The lead contact is saved."))


@bp.route("/<int:challenge_id>/clarification-deadline", methods=["GET", "POST"])
def edit_clarification_deadline(challenge_id: int):
    """When suppliers must have asked their questions by (London time)."""
    challenge = _challenge(challenge_id)
    data = None
    if request.method == "GET" and challenge.clarification_deadline is not None:
        local = utc_to_london(challenge.clarification_deadline)
        data = {"clarification_deadline": local.date(),
                "clarification_time": local.strftime("%H:%M")}
    form = forms.DeadlineForm(data=data)
    if form.validate_on_submit():
        deadline = london_datetime(form.clarification_deadline, form.clarification_time,
                                   ERROR_MESSAGES)
        if deadline is not None:
            try:
                services.set_clarification_deadline(get_session(), actor=current_user,
                                                    challenge_id=challenge_id, deadline=deadline,
                                                    now=utcnow())
            except RuleViolation as e:
                add_errors(form, e.errors, ERROR_MESSAGES)
            else:
                return _saved(challenge, _("The deadline for questions is saved."))
    first_close = challenge.phases[0].closes_at if challenge.phases else None
    return (render_template("authoring/deadline.html", challenge=challenge, form=form,
                            first_close=first_close),
            400 if form.errors else 200)


# --- funding --------------------------------------------------------------------------------------

def _funding_page(challenge: Challenge, *, pledge_form=None, invite_form=None, failed=None,
                  status: int = 200):
    lead = next(f for f in challenge.funders if f.role == FunderRole.LEAD)
    if pledge_form is None:
        pledge = rules.format_money(lead.pledge_pence) if lead.pledge_pence else ""
        pledge_form = forms.LeadPledgeForm(formdata=None, data={"pledge": pledge})
    if invite_form is None:
        invite_form = forms.InviteForm(formdata=None)
    invitable = funding.invitable_authorities(get_session(), challenge)
    invite_form.organisation_id.choices = [("", _("Select an authority"))] + [
        (o.id, o.name) for o in invitable]
    needs = [(p, (p.contracts or 0) * (p.max_value_pence or 0)) for p in challenge.phases]
    return render_template(
        "authoring/funding.html", challenge=challenge, lead=lead, pledge_form=pledge_form,
        invite_form=invite_form, form=failed, invitable=invitable, needs=needs,
        is_draft=challenge.status == ChallengeStatus.DRAFT), status


@bp.get("/<int:challenge_id>/funding")
def show_funding(challenge_id: int):
    """Who funds the challenge and with how much; invite partners and answer offers."""
    challenge = _challenge(challenge_id, Permission.CHALLENGE_MANAGE_PARTNERS)
    return _funding_page(challenge)


@bp.post("/<int:challenge_id>/funding/pledge")
def set_lead_pledge(challenge_id: int):
    """What the lead authority itself puts in."""
    db = get_session()
    challenge = _challenge(challenge_id, Permission.CHALLENGE_MANAGE_PARTNERS)
    form = forms.LeadPledgeForm()
    if form.validate_on_submit():
        try:
            funding.set_lead_pledge(db, actor=current_user, challenge_id=challenge_id,
                                    pledge_pence=form.pledge.pence, now=utcnow())
        except RuleViolation as e:
            db.rollback()  # the pledge may already be changed in memory: show what is saved
            challenge = _challenge(challenge_id, Permission.CHALLENGE_MANAGE_PARTNERS)
            add_errors(form, e.errors, ERROR_MESSAGES)
        else:
            flash(_("Your pledge is saved."), "success")
            return redirect(url_for("authoring.show_funding", challenge_id=challenge_id))
    return _funding_page(challenge, pledge_form=form, failed=form, status=400)


@bp.post("/<int:challenge_id>/funding/invitations")
def invite_partner(challenge_id: int):
    """Ask another verified authority to co-fund; its editors are e-mailed."""
    challenge = _challenge(challenge_id, Permission.CHALLENGE_MANAGE_PARTNERS)
    form = forms.InviteForm()
    if form.validate_on_submit():
        try:
            row = funding.invite_partner(get_session(), actor=current_user, challenge_id=challenge_id,
                                         organisation_id=form.organisation_id.data or 0,
                                         message=form.message.data or "", now=utcnow())
        except RuleViolation as e:
            add_errors(form, e.errors, ERROR_MESSAGES)
        else:
            flash(_("%(name)s is invited to co-fund the challenge.", name=row.organisation.name),
                  "success")
            return redirect(url_for("authoring.show_funding", challenge_id=challenge_id))
    return _funding_page(challenge, invite_form=form, failed=form, status=400)


@bp.post("/<int:challenge_id>/funding/<int:funder_id>/decision")
def decide_join_request(challenge_id: int, funder_id: int):
    """Accept or decline an authority's offer to co-fund."""
    _challenge(challenge_id, Permission.CHALLENGE_MANAGE_PARTNERS)
    form = forms.DecisionForm()
    if not form.validate_on_submit() or form.decision.data not in ("accept", "decline"):
        abort(400)
    accept = form.decision.data == "accept"
    row = funding.decide_join_request(get_session(), actor=current_user, challenge_id=challenge_id,
                                      funder_id=funder_id, accept=accept, now=utcnow())
    flash(_("%(name)s is now a partner.", name=row.organisation.name) if accept
          else _("You declined the offer from %(name)s.", name=row.organisation.name), "success")
    return redirect(url_for("authoring.show_funding", challenge_id=challenge_id))


@bp.post("/<int:challenge_id>/funding/<int:funder_id>/withdraw")
def withdraw_invitation(challenge_id: int, funder_id: int):
    """Take back an invitation not yet answered."""
    _challenge(challenge_id, Permission.CHALLENGE_MANAGE_PARTNERS)
    if not forms.ActionForm().validate_on_submit():
        abort(400)
    funding.withdraw_invitation(get_session(), actor=current_user, challenge_id=challenge_id,
                                funder_id=funder_id, now=utcnow())
    flash(_("The invitation is withdrawn."), "success")
    return redirect(url_for("authoring.show_funding", challenge_id=challenge_id))


# --- phases ---------------------------------------------------------------------------------------

@bp.route("/<int:challenge_id>/phases", methods=["GET", "POST"])
def add_phase(challenge_id: int):
    """Add a phase at the end: feasibility, bake-off or deployment."""
    challenge = _challenge(challenge_id)
    form = forms.AddPhaseForm()
    if form.validate_on_submit():
        try:
            phase = services.add_phase(get_session(), actor=current_user, challenge_id=challenge_id,
                                       kind=form.kind.data or "", now=utcnow())
        except RuleViolation as e:
            add_errors(form, e.errors, ERROR_MESSAGES)
        else:
            flash(_("Phase %(number)s is added. Now set its dates and contracts.",
                    number=phase.position), "success")
            return redirect(url_for("authoring.edit_phase", challenge_id=challenge_id,
                                    phase_id=phase.id))
    return (render_template("authoring/add_phase.html", challenge=challenge, form=form),
            400 if form.errors else 200)


def _phase_data(phase: Phase) -> dict[str, Any]:
    """The stored phase as the form shows it: London dates and times, pounds."""
    data: dict[str, Any] = {
        "kind": phase.kind, "contracts": phase.contracts, "duration_months": phase.duration_months,
        "min_assessments": phase.min_assessments, "threshold_percent": phase.threshold_percent,
        "outcome_share_percent": phase.outcome_share_percent,
        "max_value": rules.format_money(phase.max_value_pence) if phase.max_value_pence else ""}
    for name, value in (("opens", phase.opens_at), ("closes", phase.closes_at)):
        if value is not None:
            local = utc_to_london(value)
            data[f"{name}_at"], data[f"{name}_time"] = local.date(), local.strftime("%H:%M")
    return data


@bp.route("/<int:challenge_id>/phases/<int:phase_id>", methods=["GET", "POST"])
def edit_phase(challenge_id: int, phase_id: int):
    """A phase's kind, dates, contracts, money, duration and assessment settings."""
    challenge = _challenge(challenge_id)
    phase = _phase(challenge, phase_id)
    form = forms.PhaseForm(data=_phase_data(phase) if request.method == "GET" else None)
    if form.is_submitted():
        form.validate()  # then the times too, so every mistake is listed at once
        opens = london_datetime(form.opens_at, form.opens_time, ERROR_MESSAGES)
        closes = london_datetime(form.closes_at, form.closes_time, ERROR_MESSAGES)
        if form.kind.data != PhaseKind.BAKE_OFF:
            # The share only counts in a bake-off; a hidden box must not block saving.
            form.outcome_share_percent.errors = []
            form.outcome_share_percent.data = phase.outcome_share_percent
        elif form.outcome_share_percent.data is None and not form.outcome_share_percent.errors:
            form.outcome_share_percent.errors = [str(ERROR_MESSAGES["outcome_share_invalid"])]
        if not form.errors:
            try:
                services.update_phase(
                    get_session(), actor=current_user, challenge_id=challenge_id, phase_id=phase_id,
                    now=utcnow(), kind=form.kind.data or "", opens_at=opens, closes_at=closes,
                    contracts=form.contracts.data, max_value_pence=form.max_value.pence,
                    duration_months=form.duration_months.data,
                    min_assessments=form.min_assessments.data,
                    threshold_percent=form.threshold_percent.data,
                    outcome_share_percent=form.outcome_share_percent.data)
            except RuleViolation as e:
                add_errors(form, e.errors, ERROR_MESSAGES)
            else:
                return _saved(challenge, _("Phase %(number)s is saved.", number=phase.position))
    return (render_template("authoring/phase.html", challenge=challenge, phase=phase, form=form,
                            kind_label=_kind_label(phase.kind)),
            400 if form.errors else 200)


@bp.post("/<int:challenge_id>/phases/<int:phase_id>/remove")
def remove_phase(challenge_id: int, phase_id: int):
    """Delete a phase; the ones after it move up."""
    challenge = _challenge(challenge_id)
    position = _phase(challenge, phase_id).position
    if not forms.ActionForm().validate_on_submit():
        abort(400)
    services.remove_phase(get_session(), actor=current_user, challenge_id=challenge_id,
                          phase_id=phase_id, now=utcnow())
    return _saved(challenge, _("Phase %(number)s is removed.", number=position))


# --- criteria -------------------------------------------------------------------------------------

@bp.route("/<int:challenge_id>/phases/<int:phase_id>/criteria", methods=["GET", "POST"])
def edit_criteria(challenge_id: int, phase_id: int):
    """Choose the phase's criteria from the shared frameworks and weigh the scored ones."""
    db = get_session()
    challenge = _challenge(challenge_id)
    phase = _phase(challenge, phase_id)
    frameworks = services.selectable_criteria(db, challenge)
    chosen = {pc.criterion_id: pc.weight for pc in phase.criteria}
    form = forms.criteria_form(frameworks, lang=_lang(),
                               chosen=chosen if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            services.set_phase_criteria(db, actor=current_user, challenge_id=challenge_id,
                                        phase_id=phase_id, weights=forms.chosen_weights(form, frameworks),
                                        now=utcnow())
        except RuleViolation as e:
            add_errors(form, e.errors, ERROR_MESSAGES)
        else:
            if phase.kind == PhaseKind.BAKE_OFF:
                flash(_("The criteria of phase %(number)s are saved. Now set its outcome measures.",
                        number=phase.position), "success")
                return redirect(url_for("authoring.list_measures", challenge_id=challenge_id,
                                        phase_id=phase_id))
            return _saved(challenge, _("The criteria of phase %(number)s are saved.",
                                       number=phase.position))
    total = sum(form[forms.weight_field_name(c.id)].data or 0
                for fw in frameworks for c in fw.criteria if not c.is_gate)
    return (render_template("authoring/criteria.html", challenge=challenge, phase=phase, form=form,
                            frameworks=frameworks, total=total,
                            weight_name=forms.weight_field_name, gate_name=forms.gate_field_name),
            400 if form.errors else 200)


# --- outcome measures -----------------------------------------------------------------------------

@bp.get("/<int:challenge_id>/phases/<int:phase_id>/measures")
def list_measures(challenge_id: int, phase_id: int):
    """A bake-off's outcome measures, what each evidences and its weight."""
    challenge = _challenge(challenge_id)
    phase = _bake_off(challenge, phase_id)
    problem = services.publish_problems(challenge, utcnow()).get(f"phase-{phase.position}-measures")
    return render_template("authoring/measures.html", challenge=challenge, phase=phase,
                           problem=ERROR_MESSAGES.get(problem) if problem else None,
                           total=sum(m.weight for m in phase.measures), plain=_plain)


def _measure_page(challenge_id: int, phase_id: int, measure_id: int | None):
    challenge = _challenge(challenge_id)
    phase = _bake_off(challenge, phase_id)
    measure = None
    if measure_id is not None:
        measure = next((m for m in phase.measures if m.id == measure_id), None)
        if measure is None:
            raise NotFound("measure")
    data = None
    if request.method == "GET" and measure is not None:
        data = {"name": measure.name, "unit": measure.unit, "direction": measure.direction,
                "baseline": _plain(measure.baseline), "target": _plain(measure.target),
                "criterion_id": measure.criterion_id, "weight": measure.weight}
    form = forms.MeasureForm(data=data)
    lang = _lang()
    scored = [pc.criterion for pc in phase.criteria if not pc.criterion.is_gate]
    form.criterion_id.choices = [("", _("Select a criterion"))] + [
        (c.id, c.name_cy if lang == "cy" else c.name_en) for c in scored]
    if form.validate_on_submit():
        try:
            services.save_measure(
                get_session(), actor=current_user, challenge_id=challenge_id, phase_id=phase_id,
                measure_id=measure_id, name=form.name.data or "", unit=form.unit.data or "",
                direction=form.direction.data or "", baseline=form.baseline.number,
                target=form.target.number, criterion_id=form.criterion_id.data or 0,
                weight=form.weight.data, now=utcnow())
        except RuleViolation as e:
            add_errors(form, e.errors, ERROR_MESSAGES)
        else:
            flash(_("The outcome measure is saved."), "success")
            return redirect(url_for("authoring.list_measures", challenge_id=challenge_id,
                                    phase_id=phase_id))
    return (render_template("authoring/measure.html", challenge=challenge, phase=phase,
                            measure=measure, form=form, has_criteria=bool(scored)),
            400 if form.errors else 200)


def _plain(number: Any) -> str:
    """A stored decimal as typed: 12.5000 -> "12.5", 30.0000 -> "30"."""
    return format(number.normalize(), "f")


@bp.route("/<int:challenge_id>/phases/<int:phase_id>/measures/new", methods=["GET", "POST"])
def new_measure(challenge_id: int, phase_id: int):
    """Add an outcome measure to a bake-off."""
    return _measure_page(challenge_id, phase_id, None)


@bp.route("/<int:challenge_id>/phases/<int:phase_id>/measures/<int:measure_id>",
          methods=["GET", "POST"])
def edit_measure(challenge_id: int, phase_id: int, measure_id: int):
    """Change an outcome measure."""
    return _measure_page(challenge_id, phase_id, measure_id)


@bp.post("/<int:challenge_id>/phases/<int:phase_id>/measures/<int:measure_id>/remove")
def remove_measure(challenge_id: int, phase_id: int, measure_id: int):
    """Delete an outcome measure."""
    challenge = _challenge(challenge_id)
    _bake_off(challenge, phase_id)
    if not forms.ActionForm().validate_on_submit():
        abort(400)
    services.remove_measure(get_session(), actor=current_user, challenge_id=challenge_id,
                            phase_id=phase_id, measure_id=measure_id, now=utcnow())
    flash(_("The outcome measure is removed."), "success")
    return redirect(url_for("authoring.list_measures", challenge_id=challenge_id, phase_id=phase_id))


# --- check and publish ----------------------------------------------------------------------------

def _problem_list(challenge: Challenge, problems: dict[str, str]) -> list[dict[str, str]]:
    """Each reason the draft cannot be published, as an error summary entry linking to its fix."""
    cid = challenge.id
    by_position = {p.position: p for p in challenge.phases}
    links = {
        "lead": url_for("organisations.show_organisation"),
        "contact": url_for("authoring.edit_contact", challenge_id=cid) + "#contact_name",
        "clarification_deadline": url_for("authoring.edit_clarification_deadline",
                                          challenge_id=cid) + "#clarification_deadline",
        "phases": url_for("authoring.add_phase", challenge_id=cid),
    }
    phase_pages = {"dates": ("edit_phase", "#opens_at"), "details": ("edit_phase", "#contracts"),
                   "criteria": ("edit_criteria", ""), "measures": ("list_measures", "")}
    entries = []
    for key, code in problems.items():
        text = str(ERROR_MESSAGES.get(code, code))
        match = _PHASE_KEY.match(key)
        if match:
            number, part = int(match.group(1)), match.group(2)
            text = _("Phase %(number)s: %(message)s", number=number, message=text)
            phase = by_position.get(number)
            if part == "budget" or phase is None:
                href = url_for("authoring.show_funding", challenge_id=cid) + "#pledge"
            else:
                endpoint, anchor = phase_pages.get(part, ("edit_phase", ""))
                href = url_for(f"authoring.{endpoint}", challenge_id=cid, phase_id=phase.id) + anchor
        else:
            href = links.get(key) or url_for("authoring.edit_details", challenge_id=cid) + f"#{key}"
        entries.append({"text": text, "href": href})
    return entries


def _check_page(challenge: Challenge, problems: dict[str, str], *, refused: bool = False):
    return render_template(
        "authoring/check.html", challenge=challenge, problems=_problem_list(challenge, problems),
        refused=refused, kind_label=_kind_label, plain=_plain), 400 if refused else 200


@bp.get("/<int:challenge_id>/publish")
def check_challenge(challenge_id: int):
    """Everything the draft says, to check before publishing it."""
    challenge = _challenge(challenge_id, Permission.CHALLENGE_PUBLISH)
    return _check_page(challenge, services.publish_problems(challenge, utcnow()))


@bp.post("/<int:challenge_id>/publish")
def publish_challenge(challenge_id: int):
    """Open the challenge to suppliers."""
    challenge = _challenge(challenge_id, Permission.CHALLENGE_PUBLISH)
    if not forms.ActionForm().validate_on_submit():
        abort(400)
    try:
        services.publish_challenge(get_session(), actor=current_user, challenge_id=challenge_id,
                                   now=utcnow())
    except RuleViolation as e:
        return _check_page(challenge, e.errors, refused=True)
    flash(_("Your challenge is published. Suppliers can now read it and send proposals."), "success")
    return redirect(url_for("challenges.show_challenge", challenge_id=challenge_id))
