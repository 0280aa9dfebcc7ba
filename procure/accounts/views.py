"""Registration, e-mail confirmation, sign-in and sign-out, and the account page."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_limiter import RequestLimit
from flask_login import current_user, login_required, login_user, logout_user

from procure.accounts import forms, services
from procure.accounts.models import User
from procure.accounts.rules import normalise_email, pending_expired
from procure.db import get_session, utcnow
from procure.errors import RuleViolation
from procure.extensions import limiter
from procure.forms import add_errors
from procure.security import is_safe_next

bp = Blueprint("accounts", __name__)


def _account_key() -> str:
    return "account:" + normalise_email(request.form.get("email", ""))[:254]


def _signin_failed(response) -> bool:
    # Only failed attempts count, so a real user signing in is never slowed down.
    return response.status_code != 302


def _throttled(scope: str):
    def on_breach(_limit: RequestLimit) -> None:
        services.record_sign_in_throttled(
            get_session(), email=request.form.get("email", "")[:254],
            address=request.remote_addr or "", scope=scope, now=utcnow())
    return on_breach


def _address_limits() -> str:
    return current_app.config["SIGNIN_LIMITS_ADDRESS"]


def _account_limits() -> str:
    return current_app.config["SIGNIN_LIMITS_ACCOUNT"]


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def register():
    """Create an account; the same confirmation page follows whether or not it already existed."""
    form = forms.RegisterForm()
    if form.validate_on_submit():
        try:
            services.register_user(get_session(), name=form.name.data, email=form.email.data,
                                   password=form.password.data, locale=form.locale.data,
                                   now=utcnow())
        except RuleViolation as e:
            add_errors(form, e.errors, forms.ERROR_MESSAGES)
        else:
            session["registered_email"] = normalise_email(form.email.data)
            return redirect(url_for("accounts.check_email"))
    status = 400 if form.errors else 200
    return render_template("accounts/register.html", form=form), status


@bp.get("/register/check-email")
def check_email():
    """Tell the person to follow the link we sent."""
    return render_template("accounts/check_email.html", email=session.get("registered_email"))


@bp.route("/confirm-email/<token>", methods=["GET", "POST"])
def confirm_email(token: str):
    """Confirm an address with a button press (a GET alone changes nothing: mail scanners follow links)."""
    form = forms.ConfirmEmailForm()
    if form.validate_on_submit():
        try:
            services.confirm_email(get_session(), token=token, now=utcnow())
        except RuleViolation:
            return render_template("accounts/link_expired.html"), 400
        flash(_("Your e-mail address is confirmed. You can now sign in."), "success")
        return redirect(url_for("accounts.sign_in"))
    return render_template("accounts/confirm_email.html", form=form)


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(_address_limits, methods=["POST"], deduct_when=_signin_failed,
               on_breach=_throttled("address"))
@limiter.limit(_account_limits, key_func=_account_key, methods=["POST"],
               deduct_when=_signin_failed, on_breach=_throttled("account"))
def sign_in():
    """Sign in with e-mail and password; one message for every failure, so nothing is revealed."""
    form = forms.SignInForm()
    next_url = request.args.get("next")
    if form.validate_on_submit():
        db = get_session()
        user = services.authenticate(db, email=form.email.data, password=form.password.data)
        if user is not None:
            session.clear()  # a new session on sign-in
            safe_next = next_url if is_safe_next(next_url) else None
            if user.mfa_enabled or services.mfa_required_for(db, user):
                # Half signed in: the password was right; the second factor comes next.
                session["mfa_pending"] = {"user_id": user.id, "at": utcnow().isoformat(),
                                          "next": safe_next}
                return redirect(url_for("accounts.sign_in_code" if user.mfa_enabled
                                        else "accounts.sign_in_set_up"))
            services.start_session(db, user=user, now=utcnow())
            login_user(user)
            return redirect(safe_next or url_for("accounts.show_account"))
        if services.resend_confirmation(db, email=form.email.data, password=form.password.data,
                                        now=utcnow()):
            return render_template("accounts/check_email.html",
                                   email=normalise_email(form.email.data), unconfirmed=True)
        form.email.errors = [_("Enter a correct e-mail address and password")]
    status = 400 if form.errors else 200
    return render_template("accounts/sign_in.html", form=form), status


@bp.post("/sign-out")
def sign_out():
    """End the session on the server and in the browser."""
    if current_user.is_authenticated and current_user.current_session_token:
        services.end_session(get_session(), token=current_user.current_session_token, now=utcnow())
    logout_user()
    session.clear()
    flash(_("You have signed out."), "success")
    return redirect(url_for("pages.show_home"))


@bp.get("/account")
@login_required
def show_account():
    """The signed-in person's details, organisation and preferences."""
    form = forms.LanguageForm(locale=current_user.locale)
    return render_template("accounts/account.html", form=form, **_account_context())


@bp.post("/account/language")
@login_required
def update_language():
    """Save the language for pages and e-mails."""
    form = forms.LanguageForm()
    if form.validate_on_submit():
        services.set_locale(get_session(), actor=current_user, locale=form.locale.data,
                            now=utcnow())
        flash(_("Your language preference is saved."), "success")
        return redirect(url_for("accounts.show_account", lang=form.locale.data))
    return render_template("accounts/account.html", form=form, **_account_context()), 400


def _account_context() -> dict:
    db = get_session()
    user = current_user._get_current_object()
    return {"mfa_required": services.mfa_required_for(db, user),
            "recovery_left": services.recovery_codes_left(db, user) if user.mfa_enabled else 0}


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change the password after entering the current one; other sessions end."""
    form = forms.ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(get_session(), actor=current_user,
                                     current_password=form.current_password.data,
                                     new_password=form.new_password.data, now=utcnow())
        except RuleViolation as e:
            add_errors(form, e.errors, forms.ERROR_MESSAGES)
        else:
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("accounts.show_account"))
    status = 400 if form.errors else 200
    return render_template("accounts/change_password.html", form=form), status


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit("5 per hour", methods=["POST"])
def forgot_password():
    """Send a reset link; the reply is the same whether or not the account exists."""
    form = forms.ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(get_session(), email=form.email.data, now=utcnow())
        return render_template("accounts/reset_sent.html")
    status = 400 if form.errors else 200
    return render_template("accounts/forgot_password.html", form=form), status


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Choose a new password from a single-use link."""
    form = forms.ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(get_session(), token=token,
                                    new_password=form.new_password.data, now=utcnow())
        except RuleViolation as e:
            if "token" in e.errors:
                return render_template("accounts/link_expired.html"), 400
            add_errors(form, e.errors, forms.ERROR_MESSAGES)
        else:
            flash(_("Your password has been set. You can now sign in."), "success")
            return redirect(url_for("accounts.sign_in"))
    status = 400 if form.errors else 200
    return render_template("accounts/reset_password.html", form=form), status


# --- two-step sign-in -----------------------------------------------------------------------

def _code_failed(response) -> bool:
    return response.status_code == 400


def _code_account_key() -> str:
    pending = session.get("mfa_pending") or {}
    user_id = pending.get("user_id") or getattr(current_user, "id", None)
    return f"mfa:{user_id}"


def _code_throttled(scope: str):
    def on_breach(_limit: RequestLimit) -> None:
        db = get_session()
        pending = session.get("mfa_pending") or {}
        user_id = pending.get("user_id") or getattr(current_user, "id", None)
        user = db.get(User, user_id) if isinstance(user_id, int) else None
        services.record_sign_in_throttled(db, email=user.email if user else "",
                                          address=request.remote_addr or "",
                                          scope=f"code:{scope}", now=utcnow())
    return on_breach


def _code_limits(view):
    """Failed codes count against the address and the account, as failed passwords do."""
    view = limiter.limit(_address_limits, methods=["POST"], deduct_when=_code_failed,
                         on_breach=_code_throttled("address"))(view)
    return limiter.limit(_account_limits, key_func=_code_account_key, methods=["POST"],
                         deduct_when=_code_failed, on_breach=_code_throttled("account"))(view)


def _pending_user() -> User | None:
    """The person between the password and the second factor, if that has not timed out."""
    pending = session.get("mfa_pending")
    if not isinstance(pending, dict):
        return None
    try:
        started = datetime.fromisoformat(pending["at"])
    except (KeyError, TypeError, ValueError):
        return None
    if pending_expired(started, utcnow()):
        session.pop("mfa_pending", None)
        return None
    user = get_session().get(User, pending.get("user_id"))
    return user if user is not None and user.is_active else None


def _sign_in_again():
    flash(_("Your sign-in timed out. Sign in again."), "important")
    return redirect(url_for("accounts.sign_in"))


def _finish_sign_in(user: User) -> str:
    """Start the fully signed-in session; where to go next."""
    next_url = (session.get("mfa_pending") or {}).get("next")
    session.clear()
    services.start_session(get_session(), user=user, now=utcnow(), mfa=True)
    login_user(user)
    return next_url if is_safe_next(next_url) else url_for("accounts.show_account")


def _qr(user: User, secret: str) -> dict:
    uri, qr = services.enrolment_qr(user, secret)
    grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    return {"qr": qr, "key": grouped}


@bp.route("/sign-in/code", methods=["GET", "POST"])
@_code_limits
def sign_in_code():
    """The second step of signing in: a code from the authenticator app or a recovery code."""
    user = _pending_user()
    if user is None or not user.mfa_enabled:
        return _sign_in_again()
    form = forms.CodeForm()
    if form.validate_on_submit():
        try:
            kind = services.verify_second_factor(get_session(), user=user, code=form.code.data,
                                                 now=utcnow())
        except RuleViolation as e:
            add_errors(form, e.errors, forms.ERROR_MESSAGES)
        else:
            target = _finish_sign_in(user)
            if kind == "recovery":
                flash(_("You used a recovery code. You have %(left)s left.",
                        left=services.recovery_codes_left(get_session(), user)), "important")
            return redirect(target)
    status = 400 if form.errors else 200
    return render_template("accounts/sign_in_code.html", form=form), status


@bp.route("/sign-in/set-up", methods=["GET", "POST"])
@_code_limits
def sign_in_set_up():
    """Someone who must use two-step sign-in sets up an authenticator as they sign in."""
    user = _pending_user()
    if user is None:
        return _sign_in_again()
    if user.mfa_enabled:
        return redirect(url_for("accounts.sign_in_code"))
    db = get_session()
    form = forms.EnrolForm()
    del form.current_password
    del form.current_code
    if form.validate_on_submit():
        try:
            codes = services.confirm_enrolment(db, user=user, code=form.code.data, now=utcnow())
        except RuleViolation as e:
            add_errors(form, e.errors, forms.ERROR_MESSAGES)
        else:
            target = _finish_sign_in(user)
            return render_template("accounts/recovery_codes.html", codes=codes, next_url=target)
    status = 400 if form.errors else 200
    return render_template("accounts/mfa_set_up.html", form=form, required=True, signing_in=True,
                           **_qr(user, services.enrolment_key(db, user=user, now=utcnow()))), status


@bp.route("/account/two-step/set-up", methods=["GET", "POST"])
@login_required
@_code_limits
def mfa_set_up():
    """Turn on two-step sign-in, or replace the authenticator, after re-entering the password
    (and a current code, when replacing)."""
    db = get_session()
    user = current_user._get_current_object()
    form = forms.EnrolForm()
    if not user.mfa_enabled:
        del form.current_code
    if form.validate_on_submit():
        now = utcnow()
        try:
            services.reauthenticate(db, actor=user, password=form.current_password.data,
                                    code=form.current_code.data if user.mfa_enabled else "", now=now)
            codes = services.confirm_enrolment(db, user=user, code=form.code.data, now=now)
        except RuleViolation as e:
            add_errors(form, e.errors, forms.ERROR_MESSAGES)
        else:
            return render_template("accounts/recovery_codes.html", codes=codes,
                                   next_url=url_for("accounts.show_account"))
    status = 400 if form.errors else 200
    return render_template("accounts/mfa_set_up.html", form=form,
                           required=services.mfa_required_for(db, user), signing_in=False,
                           **_qr(user, services.enrolment_key(db, user=user, now=utcnow()))), status


@bp.route("/account/two-step/confirm", methods=["GET", "POST"])
@login_required
@_code_limits
def mfa_verify():
    """Give a second factor in a session that started without one (someone whose role now needs
    two-step sign-in and who has an authenticator already)."""
    user = current_user._get_current_object()
    if not user.mfa_enabled:
        return redirect(url_for("accounts.mfa_set_up"))
    form = forms.CodeForm()
    if form.validate_on_submit():
        try:
            services.verify_second_factor(get_session(), user=user, code=form.code.data,
                                          now=utcnow(), stage="session")
        except RuleViolation as e:
            add_errors(form, e.errors, forms.ERROR_MESSAGES)
        else:
            return redirect(url_for("accounts.show_account"))
    status = 400 if form.errors else 200
    return render_template("accounts/mfa_verify.html", form=form), status


@bp.route("/account/two-step/turn-off", methods=["GET", "POST"])
@login_required
@_code_limits
def mfa_turn_off():
    """Someone who need not use two-step sign-in turns it off (password and a current code)."""
    db = get_session()
    user = current_user._get_current_object()
    if not user.mfa_enabled or services.mfa_required_for(db, user):
        return redirect(url_for("accounts.show_account"))
    form = forms.ReauthenticateForm()
    if form.validate_on_submit():
        now = utcnow()
        try:
            services.reauthenticate(db, actor=user, password=form.current_password.data,
                                    code=form.current_code.data, now=now)
            services.disable_mfa(db, actor=user, now=now)
        except RuleViolation as e:
            add_errors(form, e.errors, forms.ERROR_MESSAGES)
        else:
            flash(_("Two-step sign-in is turned off."), "success")
            return redirect(url_for("accounts.show_account"))
    status = 400 if form.errors else 200
    return render_template("accounts/mfa_turn_off.html", form=form), status


@bp.route("/account/two-step/recovery-codes", methods=["GET", "POST"])
@login_required
@_code_limits
def mfa_recovery_codes():
    """Make new recovery codes (password and a current code); the old ones stop working."""
    db = get_session()
    user = current_user._get_current_object()
    if not user.mfa_enabled:
        return redirect(url_for("accounts.show_account"))
    form = forms.ReauthenticateForm()
    if form.validate_on_submit():
        now = utcnow()
        try:
            services.reauthenticate(db, actor=user, password=form.current_password.data,
                                    code=form.current_code.data, now=now)
            codes = services.regenerate_recovery_codes(db, actor=user, now=now)
        except RuleViolation as e:
            add_errors(form, e.errors, forms.ERROR_MESSAGES)
        else:
            return render_template("accounts/recovery_codes.html", codes=codes,
                                   next_url=url_for("accounts.show_account"))
    status = 400 if form.errors else 200
    return render_template("accounts/mfa_new_codes.html", form=form,
                           left=services.recovery_codes_left(db, user)), status


# Pages a signed-in person who still owes a second factor may use: signing out, setting it up,
# and the public information pages.
_SECOND_FACTOR_EXEMPT = {"accounts.sign_out", "accounts.mfa_set_up", "accounts.mfa_verify",
                         "accounts.sign_in", "accounts.sign_in_code", "accounts.sign_in_set_up",
                         "static", "govuk_assets.static"}


@bp.before_app_request
def _require_second_factor():
    """Someone who must use two-step sign-in but whose session has not had a second factor
    (for example, they joined an authority while signed in) sets it up before anything else."""
    endpoint = request.endpoint or ""
    if (endpoint in _SECOND_FACTOR_EXEMPT or endpoint.startswith("pages.")
            or "_user_id" not in session):
        return None
    if not current_user.is_authenticated or current_user.current_session_mfa:
        return None
    user = current_user._get_current_object()
    if not services.mfa_required_for(get_session(), user):
        return None
    return redirect(url_for("accounts.mfa_verify" if user.mfa_enabled else "accounts.mfa_set_up"))
