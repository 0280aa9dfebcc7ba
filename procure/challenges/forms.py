"""Forms for the public challenge pages: shape only; the challenge services enforce the rules."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, StopValidation

from procure.forms import DayField, RadioInput, Select, SubmitInput, TextArea, TextInput

TIME_HINT = _l("Use the 24-hour clock in UK time, like 17:00")


def clean_text(value: Any) -> Any:
    """Typed text as it is kept: no NUL characters (no database stores them), and LF line ends
    (browsers send CRLF, which would make unchanged text look changed)."""
    if not isinstance(value, str):
        return value
    return value.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")


class Form(FlaskForm):
    """A form whose every field's text is cleaned as ``clean_text`` says."""

    class Meta:
        def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Any:
            options["filters"] = [clean_text, *unbound_field.kwargs.get("filters", ())]
            return unbound_field.bind(form=form, **options)


class Text(TextAreaField):
    """A GOV.UK text area."""

    widget = TextArea()


class DateRequired:
    """A date must be given (a mistyped one already has its own message)."""

    def __init__(self, message: Any) -> None:
        self.message = message

    def __call__(self, _form: Any, field: Any) -> None:
        if field.data is None and not field.errors:
            raise StopValidation(str(self.message))


# --- the list of open challenges ---------------------------------------------------------------

class FilterForm(Form):
    """Filters for the public list, sent by GET (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    tag = SelectField(_l("Tag"), widget=Select(), validate_choice=False)
    authority = SelectField(_l("Authority"), widget=Select(), validate_choice=False)


# --- co-funding ---------------------------------------------------------------------------------

class InvitationForm(Form):
    pledge = StringField(_l("Your pledge in pounds"), widget=TextInput(),
                         description=_l("What your authority puts into the budget, like 25000"))
    accept = SubmitField(_l("Accept and pledge"), widget=SubmitInput())
    decline = SubmitField(_l("Decline the invitation"), widget=SubmitInput())


class PledgeForm(Form):
    pledge = StringField(_l("Your pledge in pounds"), widget=TextInput(),
                         description=_l("What your authority puts into the budget, like 25000"))
    submit = SubmitField(_l("Change pledge"), widget=SubmitInput())


class JoinForm(Form):
    pledge = StringField(_l("What would your authority pledge, in pounds?"), widget=TextInput(),
                         description=_l("For example, 25000"))
    message = Text(_l("Message to the lead authority (optional)"))
    submit = SubmitField(_l("Offer to co-fund"), widget=SubmitInput())


# --- clarification questions ---------------------------------------------------------------------

class QuestionForm(Form):
    question = Text(_l("Your question"), description=_l(
        "Do not include anything that identifies your organisation; questions and answers are "
        "published to everyone"))
    submit = SubmitField(_l("Send question"), widget=SubmitInput())


class AnswerForm(Form):
    question = Text(_l("Question"), description=_l("Remove anything that identifies who asked"))
    answer = Text(_l("Answer"), description=_l(
        "Published on the challenge page for everyone to read"))
    submit = SubmitField(_l("Publish answer"), widget=SubmitInput())


class ClarificationForm(Form):
    question = Text(_l("Heading"), description=_l("What the clarification is about, in a few words"))
    answer = Text(_l("Clarification"), description=_l(
        "Published on the challenge page for everyone to read"))
    submit = SubmitField(_l("Publish clarification"), widget=SubmitInput())


# --- amending and cancelling ---------------------------------------------------------------------

class AmendForm(Form):
    summary = Text(_l("Summary"), description=_l("One or two sentences shown in the list of challenges"))
    problem_statement = Text(_l("Problem statement"), description=_l(
        "You can use Markdown for headings, lists and links"))
    context = Text(_l("Context"))
    affected = Text(_l("Who is affected"))
    outcomes_sought = Text(_l("Outcomes sought"))
    title_cy = StringField(_l("Title in Welsh (optional)"), widget=TextInput())
    summary_cy = Text(_l("Summary in Welsh (optional)"))
    closes_at = DayField(_l("Closing date of the current phase"),
                         validators=[DateRequired(_l("Enter the closing date"))])
    closes_time = StringField(_l("Closing time"), widget=TextInput(), description=TIME_HINT)
    clarification_deadline = DayField(
        _l("Deadline for questions"),
        validators=[DateRequired(_l("Enter the deadline for clarification questions"))])
    clarification_time = StringField(_l("Time of the deadline for questions"), widget=TextInput(),
                                     description=TIME_HINT)
    note = Text(_l("Change note (published)"), description=_l(
        "Say what changed and why. Everyone reading the challenge sees this note."))
    submit = SubmitField(_l("Publish amendment"), widget=SubmitInput())


class CancelForm(Form):
    reason = Text(_l("Reason for cancelling (published)"), description=_l(
        "Suppliers, partners and the public read this reason"))
    submit = SubmitField(_l("Cancel challenge"), widget=SubmitInput())


# --- following tags --------------------------------------------------------------------------------

class FollowForm(Form):
    tags = StringField(_l("Tags to follow"), widget=TextInput(), description=_l(
        "Separate tags with commas, like: housing, social care"))
    next = HiddenField()
    submit = SubmitField(_l("Follow tags"), widget=SubmitInput())


class UnfollowForm(Form):
    tag = HiddenField()


class PreferencesForm(Form):
    notify = RadioField(
        _l("E-mail me when a challenge with a tag I follow opens"), widget=RadioInput(),
        description=_l("One e-mail for each challenge, when it opens"),
        choices=[("yes", _l("Yes, e-mail me")), ("no", _l("No, do not e-mail me"))],
        validators=[InputRequired(_l("Select whether we should e-mail you"))])
    submit = SubmitField(_l("Save preference"), widget=SubmitInput())
