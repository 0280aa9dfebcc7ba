"""Registration, e-mail confirmation, sign-in and sign-out, and the account page."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_limiter import RequestLimit
from flask_login import current_user, login_required, login_user, logout_user

from procure.accounts import forms, services
from procure.accounts.rules import normalise_email
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
            services.start_session(db, user=user, now=utcnow())
            login_user(user)
            return redirect(next_url if is_safe_next(next_url) else url_for("accounts.show_account"))
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
    return render_template("accounts/account.html", form=form)


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
    return render_template("accounts/account.html", form=form), 400


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
