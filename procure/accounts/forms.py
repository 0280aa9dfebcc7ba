"""Account and organisation forms: field shape only; the services enforce the rules."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, RadioField, SelectField, StringField, SubmitField
from wtforms.validators import Email, InputRequired, Length

from procure.forms import EmailInput, PasswordInput, RadioInput, Select, SubmitInput, TextInput

# Messages for the error codes the services raise (RuleViolation), by code.
ERROR_MESSAGES = {
    "password_too_short": _l("Password must be 12 characters or more"),
    "password_too_long": _l("Password must be 256 characters or fewer"),
    "password_common": _l("Password is too common; choose a longer phrase that is hard to guess"),
    "password_personal": _l("Password must not contain your name or e-mail address"),
    "password_wrong": _l("Your current password is not correct"),
    "locale_invalid": _l("Select a language"),
    "kind_invalid": _l("Select the type of organisation"),
    "organisation_exists": _l("An organisation with this name already exists; ask to join it"),
    "role_invalid": _l("Select a role"),
    "last_editor": _l("An organisation must keep at least one editor"),
    "token_invalid": _l("This link has expired or has already been used"),
    "code_wrong": _l("The code is not correct, has expired or has already been used"),
    "mfa_required": _l("Your role needs two-step sign-in, so it cannot be turned off"),
    "cannot_disable_self": _l("You cannot disable your own account"),
}


def _locale_choices():
    return [("en", "English"), ("cy", "Cymraeg")]


class RegisterForm(FlaskForm):
    name = StringField(_l("Full name"), widget=TextInput(), validators=[
        InputRequired(_l("Enter your full name")), Length(max=200, message=_l(
            "Full name must be 200 characters or fewer"))])
    email = StringField(_l("E-mail address"), widget=EmailInput(), validators=[
        InputRequired(_l("Enter your e-mail address")),
        Length(max=254, message=_l("E-mail address must be 254 characters or fewer")),
        Email(message=_l("Enter an e-mail address in the correct format, like name@example.com"),
              check_deliverability=False)])
    password = PasswordField(
        _l("Create a password"), widget=PasswordInput(),
        description=_l("At least 12 characters. A few random words make a good password."),
        validators=[InputRequired(_l("Enter a password"))])
    locale = RadioField(_l("Which language should we use for e-mails?"), widget=RadioInput(),
                        choices=_locale_choices(), default="en",
                        validators=[InputRequired(_l("Select a language"))])
    submit = SubmitField(_l("Create account"), widget=SubmitInput())


class ConfirmEmailForm(FlaskForm):
    submit = SubmitField(_l("Confirm my e-mail address"), widget=SubmitInput())


class SignInForm(FlaskForm):
    email = StringField(_l("E-mail address"), widget=EmailInput(), validators=[
        InputRequired(_l("Enter your e-mail address")), Length(max=254)])
    password = PasswordField(_l("Password"), widget=PasswordInput(), validators=[
        InputRequired(_l("Enter your password")), Length(max=1024)])
    submit = SubmitField(_l("Sign in"), widget=SubmitInput())


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), widget=PasswordInput(), validators=[
        InputRequired(_l("Enter your current password")), Length(max=1024)])
    new_password = PasswordField(
        _l("New password"), widget=PasswordInput(),
        description=_l("At least 12 characters. A few random words make a good password."),
        validators=[InputRequired(_l("Enter a new password"))])
    submit = SubmitField(_l("Change password"), widget=SubmitInput())


class ForgotPasswordForm(FlaskForm):
    email = StringField(_l("E-mail address"), widget=EmailInput(), validators=[
        InputRequired(_l("Enter your e-mail address")), Length(max=254)])
    submit = SubmitField(_l("Send me a link"), widget=SubmitInput())


class ResetPasswordForm(FlaskForm):
    new_password = PasswordField(
        _l("New password"), widget=PasswordInput(),
        description=_l("At least 12 characters. A few random words make a good password."),
        validators=[InputRequired(_l("Enter a new password"))])
    submit = SubmitField(_l("Set password"), widget=SubmitInput())


class LanguageForm(FlaskForm):
    locale = RadioField(_l("Language for pages and e-mails"), widget=RadioInput(),
                        choices=_locale_choices(),
                        validators=[InputRequired(_l("Select a language"))])
    submit = SubmitField(_l("Save language"), widget=SubmitInput())


class NewOrganisationForm(FlaskForm):
    name = StringField(_l("Name of the organisation"), widget=TextInput(), validators=[
        InputRequired(_l("Enter the name of the organisation")),
        Length(min=2, max=200, message=_l("Name must be between 2 and 200 characters"))])
    kind = RadioField(_l("What kind of organisation is it?"), widget=RadioInput(),
                      choices=[("authority", _l("A public authority (buyer)")),
                               ("supplier", _l("A supplier"))],
                      validators=[InputRequired(_l("Select the type of organisation"))])
    submit = SubmitField(_l("Create organisation"), widget=SubmitInput())


class JoinOrganisationForm(FlaskForm):
    organisation_id = SelectField(_l("Organisation"), widget=Select(), coerce=int,
                                  validators=[InputRequired(_l("Select an organisation"))])
    submit = SubmitField(_l("Ask to join"), widget=SubmitInput())


class MembershipDecisionForm(FlaskForm):
    decision = RadioField(_l("Decision"), widget=RadioInput(),
                          choices=[("editor", _l("Approve as editor")),
                                   ("viewer", _l("Approve as viewer")),
                                   ("decline", _l("Decline"))],
                          validators=[InputRequired(_l("Select a decision"))])
    submit = SubmitField(_l("Save decision"), widget=SubmitInput())


class RoleForm(FlaskForm):
    role = RadioField(_l("Role"), widget=RadioInput(),
                      choices=[("editor", _l("Editor")), ("viewer", _l("Viewer"))],
                      validators=[InputRequired(_l("Select a role"))])
    submit = SubmitField(_l("Change role"), widget=SubmitInput())


class ConfirmForm(FlaskForm):
    """A form with only a CSRF token and a button, for one-click actions."""

    submit = SubmitField(_l("Confirm"), widget=SubmitInput())


class CodeForm(FlaskForm):
    """The second step of signing in: a code from the authenticator app, or a recovery code."""

    code = StringField(
        _l("Security code"), widget=TextInput(),
        description=_l("The 6-digit code from your authenticator app, or one of your recovery codes"),
        validators=[InputRequired(_l("Enter the code from your authenticator app")),
                    Length(max=40, message=_l("Enter the code from your authenticator app"))])
    submit = SubmitField(_l("Continue"), widget=SubmitInput())


def _current_password():
    return PasswordField(_l("Current password"), widget=PasswordInput(), validators=[
        InputRequired(_l("Enter your current password")), Length(max=1024)])


def _current_code():
    return StringField(
        _l("Code from your authenticator app"), widget=TextInput(),
        description=_l("The 6-digit code your app shows now, or one of your recovery codes"),
        validators=[InputRequired(_l("Enter the code from your authenticator app")),
                    Length(max=40, message=_l("Enter the code from your authenticator app"))])


class EnrolForm(FlaskForm):
    """Set up an authenticator: the new app's code confirms it; on the account page the person
    also re-enters their password (and, when replacing one, a code from the old app)."""

    current_password = _current_password()
    current_code = _current_code()
    code = StringField(
        _l("Code from the new authenticator"), widget=TextInput(),
        description=_l("Enter the 6-digit code the app shows after you add the key"),
        validators=[InputRequired(_l("Enter the code from your authenticator app")),
                    Length(max=40, message=_l("Enter the code from your authenticator app"))])
    submit = SubmitField(_l("Turn on two-step sign-in"), widget=SubmitInput())


class ReauthenticateForm(FlaskForm):
    """Confirm it is you before a security change: the password and a current code."""

    current_password = _current_password()
    current_code = _current_code()
    submit = SubmitField(_l("Confirm"), widget=SubmitInput())


class UserSearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("E-mail address or name"), widget=TextInput(),
                    validators=[Length(max=254, message=_l(
                        "Search must be 254 characters or fewer"))])
    submit = SubmitField(_l("Search"), widget=SubmitInput())
