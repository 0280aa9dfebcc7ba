"""Assessment pages: appointing assessors, the assessor's dashboard, declarations and scoring,
moderation, the ranking and decision, partners' approval, release, and suppliers' feedback."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from procure.assessment import forms, services
from procure.assessment.messages import CRITERION_MESSAGES, ERROR_MESSAGES
from procure.db import get_session, utcnow
from procure.errors import NotFound, RuleViolation
from procure.extensions import limiter
from procure.forms import add_errors
from procure.permissions import Permission, can
from procure.submissions import sealing

bp = Blueprint("assessment", __name__)
SCORE_DIGITS = frozenset("01234")  # a score as typed; anything else is refused by the rules


def _lang() -> str:
    return str(get_locale() or "en")


def _refused(e: RuleViolation, to: str) -> Any:
    get_session().rollback()
    for code in e.errors.values():
        flash(str(ERROR_MESSAGES.get(code, code)), "error")
    return redirect(to)


# --- the editors: appointing --------------------------------------------------------------------

def _assessors_page(phase, member_form, expert_form, status=200):
    db = get_session()
    candidates = services.candidate_assessors(db, phase) if can(
        current_user, Permission.ASSESSOR_APPOINT, phase) else []
    member_form.user_id.choices = [("", _("Choose a person"))] + [
        (str(u.id), f"{u.name} ({u.membership.organisation.name})") for u in candidates]
    board = services.board(db, phase, utcnow())
    return render_template("assessment/assessors.html", phase=phase, challenge=phase.challenge,
                           member_form=member_form, expert_form=expert_form,
                           may_appoint=can(current_user, Permission.ASSESSOR_APPOINT, phase),
                           candidates=candidates, board=board,
                           form=member_form if member_form.errors else expert_form), status


@bp.get("/challenges/<int:challenge_id>/phases/<int:phase_id>/assessors")
@login_required
def list_assessors(challenge_id: int, phase_id: int):
    """Who is appointed to assess the phase, who has accepted, and appointing more."""
    phase = services.authorised_phase(get_session(), current_user, Permission.ASSESSMENT_OVERVIEW,
                                      challenge_id=challenge_id, phase_id=phase_id)
    return _assessors_page(phase, forms.AppointMemberForm(), forms.InviteExpertForm())


@bp.post("/challenges/<int:challenge_id>/phases/<int:phase_id>/assessors/members")
@login_required
def appoint_member(challenge_id: int, phase_id: int):
    """Appoint a member of the lead or a partner authority."""
    db = get_session()
    phase = services.authorised_phase(db, current_user, Permission.ASSESSOR_APPOINT,
                                      challenge_id=challenge_id, phase_id=phase_id)
    form = forms.AppointMemberForm()
    if form.validate_on_submit():
        try:
            user_id = int(form.user_id.data or "")
        except ValueError:
            user_id = None
        try:
            if user_id is None:
                raise RuleViolation({"user_id": "assessor_not_eligible"})
            appointment = services.appoint_member(db, actor=current_user, challenge_id=challenge_id,
                                                  phase_id=phase_id, user_id=user_id, now=utcnow())
            flash(_("%(name)s is appointed. They will be asked to accept.",
                    name=appointment.display_name), "success")
            return redirect(url_for(".list_assessors", challenge_id=challenge_id,
                                    phase_id=phase_id))
        except RuleViolation as e:
            db.rollback()
            add_errors(form, e.errors, ERROR_MESSAGES)
            phase = services.authorised_phase(db, current_user, Permission.ASSESSOR_APPOINT,
                                              challenge_id=challenge_id, phase_id=phase_id)
    return _assessors_page(phase, form, forms.InviteExpertForm(formdata=None), 400)


@bp.post("/challenges/<int:challenge_id>/phases/<int:phase_id>/assessors/experts")
@login_required
def invite_expert(challenge_id: int, phase_id: int):
    """Invite an independent expert by e-mail."""
    db = get_session()
    phase = services.authorised_phase(db, current_user, Permission.ASSESSOR_APPOINT,
                                      challenge_id=challenge_id, phase_id=phase_id)
    form = forms.InviteExpertForm()
    if form.validate_on_submit():
        try:
            appointment, _token = services.invite_expert(
                db, actor=current_user, challenge_id=challenge_id, phase_id=phase_id,
                name=form.name.data or "", email=form.email.data or "", now=utcnow())
            flash(_("We have sent an invitation to %(email)s.", email=appointment.invited_email),
                  "success")
            return redirect(url_for(".list_assessors", challenge_id=challenge_id,
                                    phase_id=phase_id))
        except RuleViolation as e:
            db.rollback()
            add_errors(form, e.errors, ERROR_MESSAGES)
            phase = services.authorised_phase(db, current_user, Permission.ASSESSOR_APPOINT,
                                              challenge_id=challenge_id, phase_id=phase_id)
    return _assessors_page(phase, forms.AppointMemberForm(formdata=None), form, 400)


@bp.post("/challenges/<int:challenge_id>/phases/<int:phase_id>/assessors/<int:appointment_id>/remove")
@login_required
def remove_assessor(challenge_id: int, phase_id: int, appointment_id: int):
    """Stand an assessor down before they have submitted anything."""
    if not forms.ActionForm().validate_on_submit():
        abort(400)
    back = url_for(".list_assessors", challenge_id=challenge_id, phase_id=phase_id)
    try:
        appointment = services.remove_appointment(
            get_session(), actor=current_user, challenge_id=challenge_id, phase_id=phase_id,
            appointment_id=appointment_id, now=utcnow())
    except RuleViolation as e:
        return _refused(e, back)
    flash(_("%(name)s is no longer an assessor for this phase.", name=appointment.display_name),
          "success")
    return redirect(back)


# --- an independent expert's invitation ---------------------------------------------------------

@bp.get("/assessor-invitations/<token>")
@limiter.limit("30 per minute")
def show_invitation(token: str):
    """The invitation: sign in (or create an account) with the invited address, then accept."""
    appointment = services.invitation(get_session(), token, utcnow())
    return render_template("assessment/invitation.html", appointment=appointment,
                           challenge=appointment.phase.challenge, token=token,
                           form=forms.ActionForm())


@bp.post("/assessor-invitations/<token>")
@login_required
def accept_invitation(token: str):
    """Take up the invitation as the signed-in person."""
    db = get_session()
    form = forms.ActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        appointment = services.accept_invitation(db, actor=current_user, token=token, now=utcnow())
    except RuleViolation as e:
        return _refused(e, url_for(".show_invitation", token=token))
    flash(_("You are an assessor for this phase."), "success")
    return redirect(url_for(".show_work", appointment_id=appointment.id))


# --- the assessor -------------------------------------------------------------------------------

@bp.get("/assessments")
@login_required
def dashboard():
    """The assessor's appointments and progress."""
    db = get_session()
    appointments = services.my_appointments(db, actor=current_user)
    return render_template("assessment/dashboard.html", appointments=appointments,
                           form=forms.ActionForm(), now=utcnow())


@bp.post("/assessments/<int:appointment_id>/respond")
@login_required
def respond(appointment_id: int):
    """Accept or decline an appointment."""
    form = forms.ActionForm()
    if not form.validate_on_submit():
        abort(400)
    accept = request.form.get("answer") == "accept"
    appointment = services.respond_to_appointment(get_session(), actor=current_user,
                                                  appointment_id=appointment_id, accept=accept,
                                                  now=utcnow())
    if accept:
        phase = appointment.phase
        if sealing.phase_unsealed(phase.status, phase.closes_at, phase.closed_at, utcnow()):
            flash(_("You accepted. Declare any conflict of interest, then assess each proposal."),
                  "success")
        else:
            flash(_("You accepted. You can assess proposals once the phase has closed."),
                  "success")
        return redirect(url_for(".show_work", appointment_id=appointment.id))
    flash(_("You declined the appointment."), "success")
    return redirect(url_for(".dashboard"))


@bp.get("/assessments/<int:appointment_id>")
@login_required
def show_work(appointment_id: int):
    """The proposals of the assessor's phase: declare, then score each one."""
    appointment, items = services.workload(get_session(), actor=current_user,
                                           appointment_id=appointment_id, now=utcnow())
    phase = appointment.phase
    unsealed = sealing.phase_unsealed(phase.status, phase.closes_at, phase.closed_at, utcnow())
    return render_template("assessment/work.html", appointment=appointment, items=items,
                           phase=phase, challenge=phase.challenge, unsealed=unsealed)


@bp.route("/assessments/proposals/<int:proposal_id>/declare", methods=["GET", "POST"])
@login_required
def declare(proposal_id: int):
    """Before opening a proposal: a conflict of interest with its supplier, or none."""
    db = get_session()
    now = utcnow()
    proposal = services.authorised_proposal(db, current_user, Permission.ASSESSMENT_DECLARE,
                                      proposal_id, now)
    appointment = sealing.appointment_of(current_user, proposal.phase)
    form = forms.DeclarationForm()
    if form.validate_on_submit():
        choice = {"yes": True, "no": False}.get(form.conflicted.data or "")
        try:
            declared = services.declare(db, actor=current_user, proposal_id=proposal_id,
                                        conflicted=choice, reason=form.reason.data or "", now=now)
        except RuleViolation as e:
            db.rollback()
            add_errors(form, e.errors, ERROR_MESSAGES)
        else:
            if declared.conflicted:
                flash(_("Thank you. You will not see this proposal; another assessor will assess "
                        "it."), "success")
                return redirect(url_for(".show_work", appointment_id=appointment.id))
            return redirect(url_for(".score", proposal_id=proposal_id))
    return render_template("assessment/declare.html", form=form, proposal=proposal,
                           appointment=appointment, challenge=proposal.phase.challenge), \
        400 if form.errors else 200


def _marks_from(form: Any, phase: Any) -> dict[int, dict[str, Any]]:
    marks: dict[int, dict[str, Any]] = {}
    for pc in phase.criteria:
        raw = (getattr(form, f"mark_{pc.id}").data or "").strip()
        mark: dict[str, Any] = {"justification": getattr(form, f"justification_{pc.id}").data or ""}
        if pc.criterion.kind == "gate":
            mark["passed"] = {"pass": True, "fail": False}.get(raw, None if not raw else raw)
        else:
            mark["score"] = int(raw) if raw in SCORE_DIGITS else (raw or None)
        marks[pc.id] = mark
    return marks


def _naming_criteria(errors: dict[str, str], phase: Any) -> dict[str, str]:
    """Each mark's message names its criterion, so the error summary says which one."""
    names = {pc.id: (pc.criterion.name_cy if _lang() == "cy" and pc.criterion.name_cy
                     else pc.criterion.name_en) for pc in phase.criteria}
    out = {}
    for field_name, code in errors.items():
        pc_id = int(field_name.rsplit("_", 1)[1])
        template = CRITERION_MESSAGES.get(code)
        out[field_name] = (str(template) % {"criterion": names.get(pc_id, "")} if template
                           else str(ERROR_MESSAGES.get(code, code)))
    return out


def _marks_data(assessment: Any, phase: Any) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if assessment is None:
        return data
    for pc in phase.criteria:
        m = assessment.mark_for(pc.id)
        if m is None:
            continue
        if m.passed is not None:
            data[f"mark_{pc.id}"] = "pass" if m.passed else "fail"
        elif m.score is not None:
            data[f"mark_{pc.id}"] = str(m.score)
        data[f"justification_{pc.id}"] = m.justification
    return data


@bp.route("/assessments/proposals/<int:proposal_id>", methods=["GET", "POST"])
@login_required
def score(proposal_id: int):
    """Score each criterion 0–4 (pass or fail a gate) with the guidance in view; save, then
    submit. A submitted assessment is locked and shows the others' marks."""
    db = get_session()
    now = utcnow()
    proposal = services.load_proposal(db, proposal_id)
    appointment = sealing.appointment_of(current_user, proposal.phase)
    if (appointment is not None and appointment.status == "accepted"
            and can(current_user, Permission.ASSESSMENT_DECLARE, proposal, now=now)):
        return redirect(url_for(".declare", proposal_id=proposal_id))
    proposal, assessment = services.open_assessment(db, actor=current_user,
                                                    proposal_id=proposal_id, now=now)
    phase = proposal.phase
    submitted = assessment is not None and assessment.status == "submitted"
    form = forms.marks_form(phase.criteria, _lang(),
                            formdata=None if request.method == "GET" or submitted else request.form,
                            data=_marks_data(assessment, phase))
    status = 200
    if request.method == "POST" and not submitted:
        if not form.validate_on_submit():
            abort(400)
        finishing = bool(form.submit.data)
        try:
            services.save_marks(db, actor=current_user, proposal_id=proposal_id,
                                marks=_marks_from(form, phase), submit=finishing, now=now)
        except RuleViolation as e:
            db.rollback()
            add_errors(form, _naming_criteria(e.errors, phase), {})
            status = 400
        else:
            if finishing:
                flash(_("Your assessment is submitted."), "success")
                return redirect(url_for(".show_marks", proposal_id=proposal_id))
            flash(_("Your marks are saved. You can come back to them."), "success")
            return redirect(url_for(".show_work", appointment_id=appointment.id))
    receipt = proposal.current_receipt
    return render_template("assessment/score.html", form=form, proposal=proposal, phase=phase,
                           challenge=phase.challenge, appointment=appointment,
                           assessment=assessment, submitted=submitted, manifest=receipt.manifest,
                           criteria={pc.id: pc for pc in phase.criteria}), status


@bp.get("/assessments/proposals/<int:proposal_id>/marks")
@login_required
def show_marks(proposal_id: int):
    """Every assessor's submitted marks for a proposal, the flags and any consensus."""
    db = get_session()
    now = utcnow()
    marks = services.proposal_marks(db, actor=current_user, proposal_id=proposal_id, now=now)
    proposal = marks.proposal
    may_moderate = can(current_user, Permission.ASSESSMENT_MODERATE, proposal, now=now) \
        and marks.complete
    phase = proposal.phase
    appointment = sealing.appointment_of(current_user, phase)
    back_url = (url_for(".show_work", appointment_id=appointment.id) if appointment is not None
                else url_for(".show_overview", challenge_id=phase.challenge_id, phase_id=phase.id))
    return render_template("assessment/marks.html", marks=marks, proposal=proposal, phase=phase,
                           challenge=phase.challenge, may_moderate=may_moderate,
                           back_url=back_url)


@bp.route("/assessments/proposals/<int:proposal_id>/moderate/<int:criterion_id>",
          methods=["GET", "POST"])
@login_required
def moderate(proposal_id: int, criterion_id: int):
    """Record the moderators' agreed score for one criterion, with its rationale."""
    db = get_session()
    now = utcnow()
    marks = services.proposal_marks(db, actor=current_user, proposal_id=proposal_id, now=now,
                                    permission=Permission.ASSESSMENT_MODERATE)
    phase = marks.proposal.phase
    pc = next((c for c in phase.criteria if c.id == criterion_id), None)
    if pc is None:
        raise NotFound("criterion")
    existing = marks.moderations.get(pc.id)
    data = {}
    if existing is not None:
        data = {"score": str(existing.score) if existing.score is not None else "",
                "passed": ("pass" if existing.passed else "fail") if existing.passed is not None
                else None, "rationale": existing.rationale}
    form = forms.ConsensusForm(data=data)
    if form.validate_on_submit():
        passed = {"pass": True, "fail": False}.get(form.passed.data or "")
        try:
            services.moderate(db, actor=current_user, proposal_id=proposal_id,
                              phase_criterion_id=pc.id, score=form.score.data, passed=passed,
                              rationale=form.rationale.data or "", now=now)
        except RuleViolation as e:
            db.rollback()
            add_errors(form, e.errors, ERROR_MESSAGES)
        else:
            flash(_("The agreed score is recorded."), "success")
            return redirect(url_for(".show_marks", proposal_id=proposal_id))
    return render_template("assessment/moderate.html", form=form, marks=marks, pc=pc,
                           proposal=marks.proposal, challenge=phase.challenge, phase=phase), \
        400 if form.errors else 200


# --- the overview, ranking and decision ---------------------------------------------------------

@bp.get("/challenges/<int:challenge_id>/phases/<int:phase_id>/assessment")
@login_required
def show_overview(challenge_id: int, phase_id: int):
    """Each proposal's assessments, what needs another assessor, and what needs moderating."""
    phase, board = services.phase_board(get_session(), actor=current_user,
                                        challenge_id=challenge_id, phase_id=phase_id,
                                        now=utcnow())
    return render_template("assessment/overview.html", phase=phase, challenge=phase.challenge,
                           board=board)


def _decision_page(phase: Any, board: Any, form: Any, status: int = 200):
    from procure.assessment import rules
    from procure.bakeoff import services as bakeoff

    decision = phase.decision
    criteria = {pc.id: pc for pc in phase.criteria}
    if decision is not None and not form.is_submitted():
        form.selected.data = [str(i) for i in decision.selected_ids]
        form.reason.data = decision.reason
    elif not form.is_submitted():
        form.selected.data = [str(i) for i in board.selection.default]
    partners = [f for f in phase.challenge.funders if f.role == "partner" and f.status == "accepted"]
    approved = {a.organisation_id: a for a in decision.approvals} if decision else {}
    following = next((p for p in phase.challenge.phases if p.position == phase.position + 1), None)
    kind = decision.kind if decision is not None else rules.decision_kind(
        phase.position, len(phase.challenge.phases), following.kind if following else None)
    if kind == "award":
        # An award is always explained, and so is making no award.
        form.reason.label.text = _("Why are you making this award, or no award?")
        form.reason.description = _(
            "Always needed for an award. To make no award, tick nobody and explain why. It is "
            "published in the open record.")
    contracts = []
    if decision is not None and decision.kind == "award":
        recorded = {c.proposal_id: c for c in decision.contracts}
        contracts = [(pid, board.proposals[pid].organisation.name if pid in board.proposals
                      else (decision.result_for(pid) or {}).get("organisation", ""),
                      recorded.get(pid)) for pid in decision.selected_ids]
    # A released shortlist into an invitation-only phase: its entrants are invited next.
    entrants_of = following if (
        decision is not None and decision.status == "released" and decision.kind == "shortlist"
        and following is not None and following.is_invitation_only) else None
    return render_template(
        "assessment/decision.html", phase=phase, challenge=phase.challenge, board=board,
        form=form, decision=decision, criteria=criteria, partners=partners, approved=approved,
        kind=kind, contracts=contracts, entrants_of=entrants_of,
        contracts_complete=decision is not None and bakeoff.contracts_complete(decision),
        may_record=can(current_user, Permission.DECISION_RECORD, phase),
        may_approve=decision is not None and can(current_user, Permission.DECISION_APPROVE,
                                                 decision),
        may_release=decision is not None and can(current_user, Permission.DECISION_RELEASE,
                                                 decision),
        may_contract=decision is not None and can(current_user, Permission.AWARD_CONTRACT,
                                                  decision),
        may_invite=entrants_of is not None and can(current_user, Permission.BAKE_OFF_INVITE,
                                                   entrants_of),
        action_form=forms.ActionForm()), status


@bp.get("/challenges/<int:challenge_id>/phases/<int:phase_id>/decision")
@login_required
def show_decision(challenge_id: int, phase_id: int):
    """The ranking, the threshold, the default selection, and the decision."""
    phase, board = services.phase_board(get_session(), actor=current_user,
                                        challenge_id=challenge_id, phase_id=phase_id,
                                        now=utcnow())
    return _decision_page(phase, board, forms.DecisionForm(formdata=None))


@bp.post("/challenges/<int:challenge_id>/phases/<int:phase_id>/decision")
@login_required
def record_decision(challenge_id: int, phase_id: int):
    """Record the decision (a departure from the ranking needs a reason)."""
    db = get_session()
    services.authorised_phase(db, current_user, Permission.DECISION_RECORD, challenge_id=challenge_id,
                        phase_id=phase_id)
    form = forms.DecisionForm()
    if form.validate_on_submit():
        try:
            selected = [int(v) for v in form.selected.data or []
                        if str(v).isascii() and str(v).isdigit()]
            services.record_decision(db, actor=current_user, challenge_id=challenge_id,
                                     phase_id=phase_id, selected_ids=selected,
                                     reason=form.reason.data or "", now=utcnow())
        except RuleViolation as e:
            db.rollback()
            errors = dict(e.errors)
            if "decision" in errors:
                form.form_errors.append(str(ERROR_MESSAGES.get(errors.pop("decision"))))
            add_errors(form, errors, ERROR_MESSAGES)
        else:
            flash(_("The decision is recorded."), "success")
            return redirect(url_for(".show_decision", challenge_id=challenge_id, phase_id=phase_id))
    phase, board = services.phase_board(db, actor=current_user, challenge_id=challenge_id,
                                        phase_id=phase_id, now=utcnow())
    return _decision_page(phase, board, form, 400)


def _decision_step(step: Any, message: str, challenge_id: int, phase_id: int) -> Any:
    """Press a decision button (approve, release): the service checks who may."""
    if not forms.ActionForm().validate_on_submit():
        abort(400)
    step(get_session(), actor=current_user, challenge_id=challenge_id, phase_id=phase_id,
         now=utcnow())
    flash(message, "success")
    return redirect(url_for(".show_decision", challenge_id=challenge_id, phase_id=phase_id))


@bp.post("/challenges/<int:challenge_id>/phases/<int:phase_id>/decision/approve")
@login_required
def approve_decision(challenge_id: int, phase_id: int):
    """A partner's editor approves the decision for their authority."""
    return _decision_step(services.approve_decision,
                          _("You approved the decision for your authority."), challenge_id,
                          phase_id)


@bp.post("/challenges/<int:challenge_id>/phases/<int:phase_id>/decision/release")
@login_required
def release_decision(challenge_id: int, phase_id: int):
    """Release the decision: every supplier is told and can read its feedback."""
    return _decision_step(services.release_decision,
                          _("The decision is released. Every supplier has been told."),
                          challenge_id, phase_id)


# --- the supplier -------------------------------------------------------------------------------

@bp.get("/proposals/<int:proposal_id>/feedback")
@login_required
def show_feedback(proposal_id: int):
    """The supplier's result: its final score per criterion, rank band and comments."""
    db = get_session()
    proposal = services.load_proposal(db, proposal_id)
    if sealing.is_supplier_member(current_user, proposal) and not can(
            current_user, Permission.FEEDBACK_READ, proposal):
        flash(_("The result of this phase has not been released yet."), "success")
        return redirect(url_for("proposals.show_proposal", proposal_id=proposal_id))
    fb = services.feedback(db, actor=current_user, proposal_id=proposal_id)
    phase = fb.proposal.phase
    return render_template("assessment/feedback.html", fb=fb, proposal=fb.proposal, phase=phase,
                           challenge=phase.challenge, criteria={pc.id: pc for pc in phase.criteria})
