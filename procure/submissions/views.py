"""Proposal pages: the supplier's task list, sections, uploads, check and submit, receipts; the
authority's count and, after the deadline, the submissions; the public receipt check."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from procure.bakeoff import services as bakeoff
from procure.challenges import rules as challenge_rules
from procure.challenges import services as challenges
from procure.challenges.models import Phase
from procure.db import get_session, utcnow
from procure.errors import NotFound, NotPermitted, RuleViolation
from procure.extensions import limiter
from procure.forms import add_errors
from procure.permissions import Permission, can, require
from procure.submissions import forms, lifecycle, receipts, rules, services
from procure.submissions.messages import ERROR_MESSAGES
from procure.submissions.models import Proposal, ProposalStatus, Receipt

bp = Blueprint("proposals", __name__)


def _folder():
    return current_app.config["UPLOAD_DIR"]


def _lang() -> str:
    return str(get_locale() or "en")


def _own(proposal_id: int) -> Proposal:
    return services.own_proposal(get_session(), actor=current_user, proposal_id=proposal_id)


def _show_url(proposal: Proposal) -> str:
    return url_for("proposals.show_proposal", proposal_id=proposal.id)


def _window(proposal: Proposal) -> str | None:
    phase = proposal.phase
    return lifecycle.window_problem(phase.status, phase.opens_at, phase.closes_at, utcnow())


def _may_edit(proposal: Proposal) -> bool:
    return (can(current_user, Permission.PROPOSAL_EDIT, proposal) and _window(proposal) is None
            and (proposal.status, lifecycle.ProposalAction.EDIT) in lifecycle.PROPOSAL_TRANSITIONS)


def _refused(e: RuleViolation, proposal_id: int) -> Any:
    """A refusal that is about the proposal as a whole: back to its page with the reason."""
    get_session().rollback()
    for code in e.errors.values():
        flash(str(ERROR_MESSAGES.get(code, code)), "error")
    return redirect(url_for("proposals.show_proposal", proposal_id=proposal_id))


def _editable_or_back(proposal: Proposal) -> Any:
    if not can(current_user, Permission.PROPOSAL_EDIT, proposal):
        raise NotPermitted(str(Permission.PROPOSAL_EDIT))
    if not _may_edit(proposal):
        return redirect(_show_url(proposal))
    return None


# --- the supplier's proposals -------------------------------------------------------------------

@bp.get("/proposals")
@login_required
def list_my_proposals():
    """Every proposal of the supplier's organisation, and the bake-offs it is invited into."""
    membership = current_user.active_membership
    if membership is None or membership.organisation.kind != "supplier":
        raise NotPermitted("supplier members only")
    db = get_session()
    proposals = services.proposals_of_organisation(db, membership.organisation_id)
    return render_template("proposals/mine.html", proposals=proposals,
                           entries=bakeoff.entries_of(db, membership.organisation_id),
                           organisation=membership.organisation, now=utcnow())


@bp.post("/challenges/<int:challenge_id>/phases/<int:phase_id>/proposal")
@login_required
def start_proposal(challenge_id: int, phase_id: int):
    """Start the organisation's proposal for an open phase (or go to the one it has)."""
    db = get_session()
    challenge = challenges.get_challenge(db, actor=current_user, challenge_id=challenge_id)
    phase = next((p for p in challenge.phases if p.id == phase_id), None)
    if phase is None:
        raise NotFound("phase")
    require(current_user, Permission.PROPOSAL_START, phase)
    if not forms.ActionForm().validate_on_submit():
        abort(400)
    existing = services.proposal_of(db, organisation_id=current_user.active_membership.organisation_id,
                                    phase_id=phase.id)
    if existing is not None:
        return redirect(_show_url(existing))
    try:
        proposal = services.start_proposal(db, actor=current_user, phase_id=phase.id, now=utcnow())
    except RuleViolation as e:
        db.rollback()
        for code in e.errors.values():
            flash(str(ERROR_MESSAGES.get(code, code)), "error")
        return redirect(url_for("challenges.show_challenge", challenge_id=challenge.id))
    flash(_("Your proposal is started. Complete each section, then check and submit it."),
          "success")
    return redirect(_show_url(proposal))


def _sections(proposal: Proposal) -> list[dict[str, Any]]:
    problems = services.submit_problems(proposal)
    pid = proposal.id

    def item(title: str, endpoint: str, keys: tuple[str, ...] | None, started: bool,
             hint: str = "") -> dict[str, Any]:
        bad = any(k in problems for k in keys) if keys is not None else \
            any(k.startswith("response-") for k in problems)
        status = "not_started" if not started else ("incomplete" if bad else "completed")
        return {"title": title, "href": url_for(f"proposals.{endpoint}", proposal_id=pid),
                "status": status, "hint": hint}

    answered = any(r.text for r in proposal.responses)
    return [
        item(_("Public summary"), "edit_summary", ("summary",), bool(proposal.summary)),
        item(_("Response to each criterion"), "edit_responses", None, answered,
             _("%(count)s criteria", count=len(proposal.phase.criteria))),
        item(_("Team, price and timeline"), "edit_team", ("team", "price", "timeline"),
             bool(proposal.team or proposal.price_pence or proposal.timeline)),
        {"title": _("Attachments"), "href": url_for("proposals.edit_attachments", proposal_id=pid),
         "status": "completed" if proposal.live_attachments else "optional",
         "hint": _("%(count)s of 5 files", count=len(proposal.live_attachments))},
        item(_("Declarations"), "edit_declarations", services.DECLARATIONS,
             any(getattr(proposal, d) for d in services.DECLARATIONS)),
    ]


@bp.get("/proposals/<int:proposal_id>")
@login_required
def show_proposal(proposal_id: int):
    """The supplier's proposal: where it stands, its sections, its receipts and what to do."""
    proposal = _own(proposal_id)
    window = _window(proposal)
    allowed = lifecycle.allowed_actions(proposal.status)
    may_act = can(current_user, Permission.PROPOSAL_EDIT, proposal) and window is None
    return render_template(
        "proposals/show.html", proposal=proposal, phase=proposal.phase,
        challenge=proposal.phase.challenge, sections=_sections(proposal), window=window,
        window_message=ERROR_MESSAGES.get(window) if window else None,
        may_edit=_may_edit(proposal),
        may_submit=may_act and lifecycle.ProposalAction.SUBMIT in allowed,
        may_reopen=may_act and bool(allowed & {lifecycle.ProposalAction.REOPEN,
                                               lifecycle.ProposalAction.RESTART}),
        may_withdraw=may_act and lifecycle.ProposalAction.WITHDRAW in allowed,
        counted=lifecycle.counts(proposal.status, proposal.current_receipt_id is not None,
                                 proposal.must_reconfirm),
        action_form=forms.ActionForm(formdata=None))


def _section_page(proposal_id: int, form: Any, template: str, save, **context: Any):
    proposal = _own(proposal_id)
    back = _editable_or_back(proposal)
    if back is not None:
        return back
    if form is None:
        form = context.pop("make_form")(proposal)
    if request.method == "POST" and form.validate_on_submit():
        try:
            save(form, proposal)
        except RuleViolation as e:
            get_session().rollback()
            if "proposal" in e.errors:
                return _refused(e, proposal_id)
            add_errors(form, {k.replace("-", "_"): v for k, v in e.errors.items()},
                          ERROR_MESSAGES)
        else:
            flash(_("Your changes are saved."), "success")
            return redirect(_show_url(proposal))
    return (render_template(template, proposal=proposal, form=form, **context),
            400 if form.errors else 200)


@bp.route("/proposals/<int:proposal_id>/summary", methods=["GET", "POST"])
@login_required
def edit_summary(proposal_id: int):
    def make(proposal):
        return forms.SummaryForm(obj=proposal if request.method == "GET" else None)

    def save(form, proposal):
        services.update_fields(get_session(), actor=current_user, proposal_id=proposal.id,
                               now=utcnow(), summary=form.summary.data or "",
                               consent_publish_summary=bool(form.consent_publish_summary.data))
    return _section_page(proposal_id, None, "proposals/summary.html", save, make_form=make)


@bp.route("/proposals/<int:proposal_id>/team", methods=["GET", "POST"])
@login_required
def edit_team(proposal_id: int):
    def make(proposal):
        if request.method == "GET":
            price = challenge_rules.format_money(proposal.price_pence) \
                if proposal.price_pence is not None else ""
            return forms.TeamForm(data={"team": proposal.team, "timeline": proposal.timeline,
                                        "price": price})
        return forms.TeamForm()

    def save(form, proposal):
        services.update_fields(get_session(), actor=current_user, proposal_id=proposal.id,
                               now=utcnow(), team=form.team.data or "",
                               timeline=form.timeline.data or "", price_pence=form.price.pence,
                               price_given=True)
    return _section_page(proposal_id, None, "proposals/team.html", save, make_form=make)


@bp.route("/proposals/<int:proposal_id>/declarations", methods=["GET", "POST"])
@login_required
def edit_declarations(proposal_id: int):
    def make(proposal):
        return forms.DeclarationsForm(obj=proposal if request.method == "GET" else None)

    def save(form, proposal):
        services.update_fields(get_session(), actor=current_user, proposal_id=proposal.id,
                               now=utcnow(), declarations={
                                   name: bool(form[name].data) for name in services.DECLARATIONS})
    return _section_page(proposal_id, None, "proposals/declarations.html", save, make_form=make)


@bp.route("/proposals/<int:proposal_id>/responses", methods=["GET", "POST"])
@login_required
def edit_responses(proposal_id: int):
    """A text box per criterion, with the criterion's guidance beside it."""
    proposal = _own(proposal_id)
    criteria = list(proposal.phase.criteria)
    if request.method == "GET":
        form = forms.responses_form(criteria, _lang(), data={
            f"response_{pc.id}": proposal.response_to(pc.id) for pc in criteria})
    else:
        form = forms.responses_form(criteria, _lang(), formdata=request.form)

    def save(form, proposal):
        services.save_responses(get_session(), actor=current_user, proposal_id=proposal.id,
                                now=utcnow(), responses={
                                    pc.id: form[f"response_{pc.id}"].data or "" for pc in criteria})
    return _section_page(proposal_id, form, "proposals/responses.html", save, criteria=criteria)


# --- attachments --------------------------------------------------------------------------------

@bp.route("/proposals/<int:proposal_id>/attachments", methods=["GET", "POST"])
@login_required
def edit_attachments(proposal_id: int):
    """Upload a file (one at a time) or remove one."""
    proposal = _own(proposal_id)
    back = _editable_or_back(proposal)
    if back is not None:
        return back
    form = forms.UploadForm()
    error = None
    if request.method == "POST" and form.validate_on_submit():
        upload = request.files.get("file")
        filename = (upload.filename or "") if upload is not None else ""
        data = upload.read(rules.MAX_FILE_BYTES + 1) if upload is not None and filename else b""
        try:
            attachment = services.add_attachment(
                get_session(), actor=current_user, proposal_id=proposal.id, filename=filename,
                data=data, now=utcnow(), folder=_folder())
        except RuleViolation as e:
            get_session().rollback()
            if "proposal" in e.errors:
                return _refused(e, proposal_id)
            error = str(ERROR_MESSAGES.get(e.errors["file"], e.errors["file"]))
        else:
            flash(_("%(name)s is uploaded.", name=attachment.filename), "success")
            return redirect(url_for("proposals.edit_attachments", proposal_id=proposal.id))
    elif request.method == "POST":
        error = _("The form expired; try again")
    proposal = _own(proposal_id)
    return (render_template("proposals/attachments.html", proposal=proposal, form=form,
                            error=error, action_form=forms.ActionForm(formdata=None),
                            max_files=rules.MAX_ATTACHMENTS),
            400 if error else 200)


@bp.post("/proposals/<int:proposal_id>/attachments/<int:attachment_id>/remove")
@login_required
def remove_attachment(proposal_id: int, attachment_id: int):
    proposal = _own(proposal_id)
    if not forms.ActionForm().validate_on_submit():
        abort(400)
    try:
        services.remove_attachment(get_session(), actor=current_user, proposal_id=proposal.id,
                                   attachment_id=attachment_id, now=utcnow(), folder=_folder())
    except RuleViolation as e:
        return _refused(e, proposal_id)
    flash(_("The file is removed."), "success")
    return redirect(url_for("proposals.edit_attachments", proposal_id=proposal.id))


@bp.get("/proposals/<int:proposal_id>/attachments/<int:attachment_id>")
@login_required
def download_attachment(proposal_id: int, attachment_id: int):
    """A file, to the supplier or (after the deadline) the authority; always as a download."""
    attachment, path = services.attachment_for_download(
        get_session(), actor=current_user, proposal_id=proposal_id, attachment_id=attachment_id,
        now=utcnow(), folder=_folder())
    if not path.is_file():
        raise NotFound("file")
    return send_file(path, mimetype=attachment.content_type, as_attachment=True,
                     download_name=attachment.filename, max_age=0, conditional=False,
                     etag=False)


# --- checking, submitting, reopening, withdrawing -------------------------------------------------

@bp.get("/proposals/<int:proposal_id>/check")
@login_required
def check_proposal(proposal_id: int):
    """Every answer on one page, each with a link to change it, and the submit button."""
    proposal = _own(proposal_id)
    problems = services.submit_problems(proposal)
    window = _window(proposal)
    allowed = lifecycle.allowed_actions(proposal.status)
    return render_template(
        "proposals/check.html", proposal=proposal, phase=proposal.phase, problems=problems,
        messages=ERROR_MESSAGES, window_message=ERROR_MESSAGES.get(window) if window else None,
        may_submit=(window is None and lifecycle.ProposalAction.SUBMIT in allowed
                    and can(current_user, Permission.PROPOSAL_EDIT, proposal)),
        may_edit=_may_edit(proposal), action_form=forms.ActionForm(formdata=None))


@bp.post("/proposals/<int:proposal_id>/submit")
@login_required
def submit_proposal(proposal_id: int):
    proposal = _own(proposal_id)
    if not forms.ActionForm().validate_on_submit():
        abort(400)
    try:
        receipt = services.submit_proposal(get_session(), actor=current_user,
                                           proposal_id=proposal.id, clock=utcnow)
    except RuleViolation as e:
        get_session().rollback()
        if "proposal" in e.errors:
            return _refused(e, proposal_id)
        flash(_("Your proposal is not complete: finish the sections marked below."), "error")
        return redirect(url_for("proposals.check_proposal", proposal_id=proposal_id))
    return redirect(url_for("proposals.show_receipt", proposal_id=proposal_id,
                            receipt_id=receipt.id))


@bp.post("/proposals/<int:proposal_id>/reopen")
@login_required
def reopen_proposal(proposal_id: int):
    proposal = _own(proposal_id)
    if not forms.ActionForm().validate_on_submit():
        abort(400)
    was_withdrawn = proposal.status == ProposalStatus.WITHDRAWN
    try:
        services.reopen_proposal(get_session(), actor=current_user, proposal_id=proposal.id,
                                 now=utcnow())
    except RuleViolation as e:
        return _refused(e, proposal_id)
    flash(_("You can change your proposal again. Submit it before the deadline to take part.")
          if was_withdrawn else
          _("You can change your proposal. Your last submission still counts until you submit "
            "again."), "success")
    return redirect(_show_url(proposal))


@bp.route("/proposals/<int:proposal_id>/withdraw", methods=["GET", "POST"])
@login_required
def withdraw_proposal(proposal_id: int):
    """Ask to confirm, then take the proposal out of the competition, with a receipt."""
    proposal = _own(proposal_id)
    if not can(current_user, Permission.PROPOSAL_EDIT, proposal):
        raise NotPermitted(str(Permission.PROPOSAL_EDIT))
    form = forms.ActionForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            receipt = services.withdraw_proposal(get_session(), actor=current_user,
                                                 proposal_id=proposal.id, clock=utcnow)
        except RuleViolation as e:
            return _refused(e, proposal_id)
        return redirect(url_for("proposals.show_receipt", proposal_id=proposal.id,
                                receipt_id=receipt.id))
    if lifecycle.ProposalAction.WITHDRAW not in lifecycle.allowed_actions(proposal.status):
        return redirect(_show_url(proposal))
    return render_template("proposals/withdraw.html", proposal=proposal, form=form)


@bp.get("/proposals/<int:proposal_id>/receipts/<int:receipt_id>")
@login_required
def show_receipt(proposal_id: int, receipt_id: int):
    """The receipt of a submission or withdrawal, with its code."""
    proposal, receipt = services.get_receipt(get_session(), actor=current_user,
                                             proposal_id=proposal_id, receipt_id=receipt_id)
    latest = proposal.receipts[-1].id == receipt.id
    return render_template("proposals/receipt.html", proposal=proposal, receipt=receipt,
                           latest=latest, challenge=proposal.phase.challenge)


@bp.get("/proposals/<int:proposal_id>/receipts/<int:receipt_id>/manifest.json")
@login_required
def download_manifest(proposal_id: int, receipt_id: int):
    """The exact bytes the receipt's SHA-256 is taken over, so anyone can check it."""
    _proposal, receipt = services.get_receipt(get_session(), actor=current_user,
                                              proposal_id=proposal_id, receipt_id=receipt_id)
    response = Response(receipts.canonical(receipt.manifest),
                        mimetype="application/json")
    response.headers["Content-Disposition"] = \
        f'attachment; filename="receipt-{receipt.digest[:12]}.json"'
    return response


# --- the authority ------------------------------------------------------------------------------

@bp.get("/challenges/<int:challenge_id>/phases/<int:phase_id>/proposals")
@login_required
def list_for_phase(challenge_id: int, phase_id: int):
    """Before the deadline the number submitted; after it, the submissions themselves."""
    db = get_session()
    challenge = challenges.get_challenge(db, actor=current_user, challenge_id=challenge_id)
    phase: Phase | None = next((p for p in challenge.phases if p.id == phase_id), None)
    if phase is None:
        raise NotFound("phase")
    require(current_user, Permission.PROPOSAL_COUNT, challenge)
    now = utcnow()
    from procure.submissions.sealing import phase_unsealed

    unsealed = phase_unsealed(phase.status, phase.closes_at, phase.closed_at, now)
    proposals = services.submitted_proposals(db, actor=current_user, phase=phase, now=now)
    return render_template("proposals/for_phase.html", challenge=challenge, phase=phase,
                           unsealed=unsealed, proposals=proposals,
                           count=services.count_submitted(db, phase.id))


@bp.get("/proposals/<int:proposal_id>/submitted")
@login_required
def show_submitted(proposal_id: int):
    """The submission that counts, exactly as frozen in its receipt (each read audited)."""
    proposal, receipt = services.read_submitted(get_session(), actor=current_user,
                                                proposal_id=proposal_id, now=utcnow())
    phase = proposal.phase
    criteria = {pc.id: pc for pc in phase.criteria}
    from procure.submissions.sealing import is_supplier_member

    return render_template("proposals/submitted.html", proposal=proposal, receipt=receipt,
                           manifest=receipt.manifest, criteria=criteria, phase=phase,
                           challenge=phase.challenge,
                           is_owner=is_supplier_member(current_user, proposal))


# --- anyone -------------------------------------------------------------------------------------

@bp.get("/receipts/verify")
@limiter.limit("30 per minute")
def verify_receipt():
    """Anyone can check a receipt code: it says whether a submission with it is held, and
    when it was received, and nothing else."""
    form = forms.VerifyForm(request.args)
    result: Receipt | None = None
    checked = False
    if request.args.get("digest") is not None:
        try:
            result = services.verify_receipt(get_session(), form.digest.data or "")
            checked = True
        except RuleViolation as e:
            add_errors(form, e.errors, ERROR_MESSAGES)
    return (render_template("proposals/verify.html", form=form, result=result, checked=checked),
            400 if form.errors else 200)
