"""Public challenge pages, clarification questions, amendments, cancellation and partners' replies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user, login_required

from procure.challenges import clarifications, following, forms, funding, queries, rules, services
from procure.challenges.lifecycle import ChallengeStatus
from procure.challenges.messages import ERROR_MESSAGES
from procure.challenges.models import Challenge, FunderRole, FunderStatus
from procure.clock import utc_to_london
from procure.db import get_session, utcnow
from procure.errors import NotFound, RuleViolation
from procure.forms import add_errors, london_datetime, whole_number
from procure.permissions import Permission, can, require

bp = Blueprint("challenges", __name__, url_prefix="/challenges")

MAX_PAGE = 100_000


def _iso(value: str | None) -> datetime | None:
    """A time kept as ISO text (in an amendment's record of changes)."""
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def _pence(field: Any) -> int | None:
    """Pounds typed in a field as pence; puts the message on the field when it is not money."""
    try:
        return rules.parse_money(field.data or "")
    except ValueError as e:
        field.errors = [*field.errors, str(ERROR_MESSAGES[str(e)])]
        return None


def _viewable(challenge_id: int) -> Challenge:
    """The challenge, if the person may read it (404 for a draft they may not know of)."""
    return services.get_challenge(get_session(), actor=current_user, challenge_id=challenge_id)


def _show_url(challenge: Challenge | int) -> str:
    challenge_id = challenge if isinstance(challenge, int) else challenge.id
    return url_for("challenges.show_challenge", challenge_id=challenge_id)


# --- the public list --------------------------------------------------------------------------

def _page_links(page: int, pages: int, args: dict[str, Any]) -> dict[str, Any]:
    """The GOV.UK pagination component's items: first, last, and the pages around this one."""
    def href(number: int) -> str:
        return url_for("challenges.list_challenges", **args, page=number)

    items: list[dict[str, Any]] = []
    shown = sorted({1, pages, page - 1, page, page + 1} & set(range(1, pages + 1)))
    previous = 0
    for number in shown:
        if number - previous > 1:
            items.append({"ellipsis": True})
        items.append({"number": number, "href": href(number), "current": number == page,
                      "visuallyHiddenText": _("Page %(number)s", number=number)})
        previous = number
    params: dict[str, Any] = {"items": items, "landmarkLabel": _("Pages of open challenges")}
    if 1 < page <= pages:
        params["previous"] = {"href": href(page - 1),
                              "html": _("Previous<span class=\"govuk-visually-hidden\"> page</span>")}
    if page < pages:
        params["next"] = {"href": href(page + 1),
                          "html": _("Next<span class=\"govuk-visually-hidden\"> page</span>")}
    return params


@bp.get("")
def list_challenges():
    """Open challenges, newest first, filtered by tag or authority, 20 to a page."""
    db = get_session()
    form = forms.FilterForm(request.args)
    tags = queries.open_tags(db)
    authorities = queries.open_authorities(db)
    form.tag.choices = [("", _("All tags"))] + [(t, t) for t in tags]
    form.authority.choices = [("", _("All authorities"))] + [(str(o.id), o.name) for o in authorities]

    typed = "".join(ch for ch in request.args.get("tag") or "" if ch.isprintable())
    tag = " ".join(typed.split()).casefold()[:rules.MAX_TAG_LENGTH] or None
    authority_text = (request.args.get("authority") or "").strip()
    authority_id = whole_number(authority_text)
    if authority_text and authority_id is None:
        authority_id = -1  # not an authority: nothing matches
    page_number = whole_number(request.args.get("page"), limit=MAX_PAGE) or 1

    page = queries.open_challenges(db, page=page_number, tag=tag, authority_id=authority_id)
    args = {k: v for k, v in (("tag", tag), ("authority", authority_text)) if v}
    return render_template(
        "challenges/list.html", filter_form=form, page=page, filtered=bool(args),
        pagination=_page_links(page.page, page.pages, args) if page.pages > 1 else None,
        beyond_end=page.page > page.pages, current_phase=services.current_phase,
        can_create=can(current_user, Permission.CHALLENGE_CREATE))


# --- one challenge ----------------------------------------------------------------------------

def _own_funder(challenge: Challenge) -> Any:
    membership = getattr(current_user, "active_membership", None) \
        if current_user.is_authenticated else None
    if membership is None:
        return None
    return next((f for f in challenge.funders if f.organisation_id == membership.organisation_id),
                None)


def _proposal_panel(challenge: Challenge, now) -> dict[str, Any]:
    """What the page offers about proposals: a supplier's own (or a button to start one) for
    each phase; to the authority, only how many are in until each phase closes."""
    from procure.submissions import lifecycle as proposal_lifecycle
    from procure.submissions import services as submissions

    db = get_session()
    user = current_user
    panel: dict[str, Any] = {"own": {}, "startable": [], "counts": {}}
    membership = user.active_membership if user.is_authenticated else None
    if membership is not None and membership.organisation.kind == "supplier":
        for phase in challenge.phases:
            own = submissions.proposal_of(db, organisation_id=membership.organisation_id,
                                          phase_id=phase.id)
            if own is not None:
                panel["own"][phase.id] = own
            elif can(user, Permission.PROPOSAL_START, phase) and proposal_lifecycle.window_problem(
                    phase.status, phase.opens_at, phase.closes_at, now) is None:
                panel["startable"].append(phase)
    if can(user, Permission.PROPOSAL_COUNT, challenge):
        panel["counts"] = submissions.counts_by_phase(db, [p.id for p in challenge.phases])
        panel["show_counts"] = True
    return panel


def _show(challenge: Challenge, *, status: int = 200, form: Any = None,
          invitation_form: Any = None, pledge_form: Any = None, join_form: Any = None):
    """The challenge page with the actions this person may take."""
    db = get_session()
    now = utcnow()
    user = current_user
    signed_in = user.is_authenticated
    allowed = {name: can(user, permission, challenge) for name, permission in {
        "edit": Permission.CHALLENGE_EDIT, "amend": Permission.CHALLENGE_AMEND,
        "cancel": Permission.CHALLENGE_CANCEL, "answer": Permission.CLARIFICATION_ANSWER,
        "read_pending": Permission.CLARIFICATION_READ_PENDING, "pledge": Permission.CHALLENGE_PLEDGE,
        "join": Permission.CHALLENGE_REQUEST_JOIN, "ask": Permission.CLARIFICATION_ASK,
        "follow": Permission.TAG_FOLLOW}.items()}
    questions_open = clarifications.questions_open(challenge, now)
    own_funder = _own_funder(challenge)
    waiting = clarifications.pending(db, actor=user, challenge_id=challenge.id) if signed_in else []
    if own_funder is not None and own_funder.role == FunderRole.PARTNER:
        pledge = rules.format_money(own_funder.pledge_pence) if own_funder.pledge_pence else ""
    else:
        pledge = ""
    return render_template(
        "challenges/show.html", challenge=challenge, form=form, now=now,
        proposals=_proposal_panel(challenge, now),
        phase=services.current_phase(challenge),
        answered=clarifications.published(db, challenge.id),
        allowed=allowed, questions_open=questions_open,
        is_lead_member=own_funder is not None and own_funder.role == FunderRole.LEAD,
        own_funder=own_funder, waiting=waiting,
        followed=set(following.followed_tags(db, user)) if allowed["follow"] else set(),
        invitation_form=invitation_form or forms.InvitationForm(formdata=None),
        pledge_form=pledge_form or forms.PledgeForm(formdata=None, pledge=pledge),
        join_form=join_form or forms.JoinForm(formdata=None),
        FunderStatus=FunderStatus, parse_iso=_iso, number=format_decimal), status


@bp.get("/<int:challenge_id>")
def show_challenge(challenge_id: int):
    """A challenge's public page (a draft only for public bodies)."""
    return _show(_viewable(challenge_id))


def _after_refusal(challenge_id: int) -> Challenge:
    """Undo anything a refused change left in the session and read the challenge again."""
    db = get_session()
    db.rollback()
    return _viewable(challenge_id)


@bp.post("/<int:challenge_id>/invitation")
@login_required
def respond_to_invitation(challenge_id: int):
    """A partner authority accepts the lead's invitation with a pledge, or declines it."""
    challenge = _viewable(challenge_id)
    require(current_user, Permission.CHALLENGE_PLEDGE, challenge)
    form = forms.InvitationForm()
    if form.validate_on_submit():
        accept = not form.decline.data
        pence = _pence(form.pledge) if accept else 0
        if pence is not None:
            try:
                funding.respond_to_invitation(get_session(), actor=current_user,
                                              challenge_id=challenge.id, accept=accept,
                                              pledge_pence=pence, now=utcnow())
            except RuleViolation as e:
                challenge = _after_refusal(challenge_id)
                add_errors(form, e.errors, ERROR_MESSAGES)
            else:
                flash(_("You have joined the challenge as a co-funder.") if accept
                      else _("You have declined the invitation."), "success")
                return redirect(_show_url(challenge_id))
    return _show(challenge, status=400, form=form, invitation_form=form)


@bp.post("/<int:challenge_id>/pledge")
@login_required
def change_pledge(challenge_id: int):
    """A partner authority changes what it gives."""
    challenge = _viewable(challenge_id)
    require(current_user, Permission.CHALLENGE_PLEDGE, challenge)
    form = forms.PledgeForm()
    if form.validate_on_submit():
        pence = _pence(form.pledge)
        if pence is not None:
            try:
                funding.change_pledge(get_session(), actor=current_user, challenge_id=challenge.id,
                                      pledge_pence=pence, now=utcnow())
            except RuleViolation as e:
                challenge = _after_refusal(challenge_id)
                add_errors(form, e.errors, ERROR_MESSAGES)
            else:
                flash(_("Your pledge has been changed."), "success")
                return redirect(_show_url(challenge_id))
    return _show(challenge, status=400, form=form, pledge_form=form)


@bp.post("/<int:challenge_id>/join")
@login_required
def request_to_join(challenge_id: int):
    """Another verified authority offers to co-fund; the lead authority decides."""
    challenge = _viewable(challenge_id)
    require(current_user, Permission.CHALLENGE_REQUEST_JOIN, challenge)
    form = forms.JoinForm()
    if form.validate_on_submit():
        pence = _pence(form.pledge)
        if pence is not None:
            try:
                funding.request_to_join(get_session(), actor=current_user, challenge_id=challenge.id,
                                        pledge_pence=pence, message=form.message.data or "",
                                        now=utcnow())
            except RuleViolation as e:
                challenge = _after_refusal(challenge_id)
                add_errors(form, e.errors, ERROR_MESSAGES)
            else:
                flash(_("Your offer to co-fund has been sent to the lead authority."), "success")
                return redirect(_show_url(challenge_id))
    return _show(challenge, status=400, form=form, join_form=form)


# --- clarification questions --------------------------------------------------------------------

@bp.route("/<int:challenge_id>/questions/new", methods=["GET", "POST"])
@login_required
def ask_question(challenge_id: int):
    """A supplier asks a question; the answer is published without naming who asked."""
    challenge = _viewable(challenge_id)
    require(current_user, Permission.CLARIFICATION_ASK, challenge)
    form = forms.QuestionForm()
    if form.validate_on_submit():
        try:
            clarifications.ask_question(get_session(), actor=current_user, challenge_id=challenge.id,
                                        question=form.question.data or "", now=utcnow())
        except RuleViolation as e:
            challenge = _after_refusal(challenge_id)
            add_errors(form, e.errors, ERROR_MESSAGES)
        else:
            flash(_("Your question has been sent. The answer will be published on this page "
                    "without naming you."), "success")
            return redirect(_show_url(challenge_id))
    status = 400 if form.errors else 200
    return render_template("challenges/ask_question.html", challenge=challenge, form=form,
                           questions_open=clarifications.questions_open(challenge, utcnow()),
                           closed_message=ERROR_MESSAGES["questions_closed"]), status


@bp.get("/<int:challenge_id>/questions")
@login_required
def list_questions(challenge_id: int):
    """Questions waiting for an answer, for the lead authority."""
    challenge = _viewable(challenge_id)
    require(current_user, Permission.CLARIFICATION_READ_PENDING, challenge)
    waiting = clarifications.pending(get_session(), actor=current_user, challenge_id=challenge.id)
    return render_template("challenges/questions.html", challenge=challenge, waiting=waiting,
                           can_answer=can(current_user, Permission.CLARIFICATION_ANSWER, challenge))


@bp.route("/<int:challenge_id>/questions/<int:clarification_id>/answer", methods=["GET", "POST"])
@login_required
def answer_question(challenge_id: int, clarification_id: int):
    """An editor answers in public, first removing anything that names who asked."""
    db = get_session()
    challenge = _viewable(challenge_id)
    clarification = clarifications.get_pending(db, actor=current_user,
                                               clarification_id=clarification_id)
    if clarification.challenge_id != challenge.id:
        raise NotFound("clarification")
    if request.method == "GET" and clarification.published_at is not None:
        raise NotFound("clarification")
    form = forms.AnswerForm(data={"question": clarification.question})
    if form.validate_on_submit():
        try:
            clarifications.answer_question(db, actor=current_user, clarification_id=clarification.id,
                                           question=form.question.data or "",
                                           answer=form.answer.data or "", now=utcnow())
        except RuleViolation as e:
            challenge = _after_refusal(challenge_id)
            add_errors(form, e.errors, ERROR_MESSAGES)
        else:
            flash(_("Your answer has been published on the challenge page."), "success")
            return redirect(url_for("challenges.list_questions", challenge_id=challenge_id))
    status = 400 if form.errors else 200
    return render_template("challenges/answer_question.html", challenge=challenge, form=form,
                           asked_at=clarification.asked_at), status


@bp.route("/<int:challenge_id>/clarifications/new", methods=["GET", "POST"])
@login_required
def publish_clarification(challenge_id: int):
    """An editor publishes a clarification nobody asked for."""
    challenge = _viewable(challenge_id)
    require(current_user, Permission.CLARIFICATION_ANSWER, challenge)
    form = forms.ClarificationForm()
    if form.validate_on_submit():
        try:
            clarifications.publish_clarification(
                get_session(), actor=current_user, challenge_id=challenge.id,
                question=form.question.data or "", answer=form.answer.data or "", now=utcnow())
        except RuleViolation as e:
            challenge = _after_refusal(challenge_id)
            add_errors(form, e.errors, ERROR_MESSAGES)
        else:
            flash(_("The clarification has been published on the challenge page."), "success")
            return redirect(_show_url(challenge_id))
    status = 400 if form.errors else 200
    return render_template("challenges/publish_clarification.html", challenge=challenge,
                           form=form), status


# --- amending and cancelling --------------------------------------------------------------------

def _same_minute(a: datetime | None, b: datetime | None) -> bool:
    """Whether a time typed to the minute is the one already saved."""
    if a is None or b is None:
        return a is b
    return a == b.replace(second=0, microsecond=0) or a == b


def _london_parts(instant: datetime | None) -> tuple[Any, str]:
    if instant is None:
        return None, ""
    local = utc_to_london(instant)
    return local.date(), local.strftime("%H:%M")


@bp.route("/<int:challenge_id>/amend", methods=["GET", "POST"])
@login_required
def amend_challenge(challenge_id: int):
    """Publish a change to an open challenge with a public note; the page keeps the history."""
    db = get_session()
    challenge = _viewable(challenge_id)
    require(current_user, Permission.CHALLENGE_AMEND, challenge)
    phase = services.current_phase(challenge)
    data: dict[str, Any] = {name: getattr(challenge, name) for name in services.AMENDABLE_FIELDS}
    data["closes_at"], data["closes_time"] = _london_parts(phase.closes_at if phase else None)
    data["clarification_deadline"], data["clarification_time"] = _london_parts(
        challenge.clarification_deadline)
    form = forms.AmendForm(data=data)
    if form.validate_on_submit():
        closes_at = london_datetime(form.closes_at, form.closes_time, ERROR_MESSAGES)
        deadline = london_datetime(form.clarification_deadline, form.clarification_time,
                                   ERROR_MESSAGES)
        if not form.errors:
            changes: dict[str, Any] = {name: getattr(form, name).data or ""
                                       for name in services.AMENDABLE_FIELDS}
            if phase is not None and not _same_minute(closes_at, phase.closes_at):
                changes["closes_at"] = closes_at
            if not _same_minute(deadline, challenge.clarification_deadline):
                changes["clarification_deadline"] = deadline
            try:
                amendment = services.amend_challenge(db, actor=current_user,
                                                     challenge_id=challenge.id,
                                                     note=form.note.data or "", now=utcnow(),
                                                     **changes)
            except RuleViolation as e:
                challenge = _after_refusal(challenge_id)
                phase = services.current_phase(challenge)
                add_errors(form, e.errors, ERROR_MESSAGES)
            else:
                flash(_("The amendment is published: the challenge is now version %(version)s.",
                        version=amendment.version), "success")
                return redirect(_show_url(challenge_id))
    status = 400 if form.errors else 200
    days_left = None
    if phase is not None and phase.closes_at is not None:
        days_left = max(0, int((phase.closes_at - utcnow()).total_seconds() // 86400))
    return render_template("challenges/amend.html", challenge=challenge, form=form, phase=phase,
                           days_left=days_left), status


@bp.route("/<int:challenge_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel_challenge(challenge_id: int):
    """Cancel the challenge with a public reason."""
    challenge = _viewable(challenge_id)
    require(current_user, Permission.CHALLENGE_CANCEL, challenge)
    form = forms.CancelForm()
    if form.validate_on_submit():
        try:
            services.cancel_challenge(get_session(), actor=current_user, challenge_id=challenge.id,
                                      reason=form.reason.data or "", now=utcnow())
        except RuleViolation as e:
            challenge = _after_refusal(challenge_id)
            add_errors(form, e.errors, ERROR_MESSAGES)
        else:
            flash(_("The challenge has been cancelled."), "success")
            return redirect(_show_url(challenge_id))
    status = 400 if form.errors else 200
    return render_template("challenges/cancel.html", challenge=challenge, form=form,
                           was_public=challenge.status != ChallengeStatus.DRAFT), status
