"""Assessment forms: field shape only; the assessment services enforce the rules."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, SelectMultipleField, StringField, SubmitField

from procure.challenges.authoring_forms import Text
from procure.forms import CheckboxInput, EmailInput, RadioInput, Select, SubmitInput, TextInput


def _submit(label: Any) -> SubmitField:
    return SubmitField(label, widget=SubmitInput())


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token is sent."""


class AppointMemberForm(FlaskForm):
    user_id = SelectField(_l("Person"), coerce=str, widget=Select(), validate_choice=False,
                          description=_l("A member of the lead or a co-funding authority"))
    submit = _submit(_l("Appoint"))


class InviteExpertForm(FlaskForm):
    name = StringField(_l("Full name"), widget=TextInput())
    email = StringField(_l("Email address"), widget=EmailInput(), description=_l(
        "We will send them a link to create an account (or sign in) and accept"))
    submit = _submit(_l("Send invitation"))


class DeclarationForm(FlaskForm):
    conflicted = RadioField(_l("Do you have a conflict of interest with this supplier?"),
                            choices=[("no", _l("No, I have no conflict of interest")),
                                     ("yes", _l("Yes, I have a conflict of interest"))],
                            widget=RadioInput(), validate_choice=False)
    reason = Text(_l("If you have a conflict, what is it?"), description=_l(
        "For example, you worked for them, own shares in them or are related to someone there. "
        "Another assessor will assess this proposal instead of you."))
    submit = _submit(_l("Continue"))


def marks_form(criteria: list[Any], locale: str, formdata: Any = None,
               data: dict[str, Any] | None = None) -> FlaskForm:
    """A form with a mark (0–4, or pass/fail for a gate) and a justification per criterion."""

    class MarksForm(FlaskForm):
        pass

    for pc in criteria:
        c = pc.criterion
        name = c.name_cy if locale == "cy" and c.name_cy else c.name_en
        guidance = (c.guidance_cy if locale == "cy" and c.guidance_cy else c.guidance_en) or []
        if c.kind == "gate":
            choices = [("pass", _l("Pass")), ("fail", _l("Fail"))]
        else:
            choices = [(str(n), f"{n} – {guidance[n]}" if n < len(guidance) else str(n))
                       for n in range(5)]
        setattr(MarksForm, f"mark_{pc.id}", RadioField(name, choices=choices, widget=RadioInput(),
                                                       validate_choice=False))
        setattr(MarksForm, f"justification_{pc.id}", Text(_l("Why this mark?")))
    MarksForm.save = _submit(_l("Save and come back later"))
    MarksForm.submit = _submit(_l("Submit assessment"))
    return MarksForm(formdata=formdata, data=data)


class ConsensusForm(FlaskForm):
    score = StringField(_l("Agreed score"), widget=TextInput(), description=_l(
        "From 0 to 4, in steps of 0.25"))
    passed = RadioField(_l("Agreed result"), choices=[("pass", _l("Pass")), ("fail", _l("Fail"))],
                        widget=RadioInput(), validate_choice=False)
    rationale = Text(_l("Rationale"), description=_l(
        "How the moderators reached this score; it is kept in the audit log"))
    submit = _submit(_l("Record agreed score"))


class DecisionForm(FlaskForm):
    selected = SelectMultipleField(_l("Selected proposals"), coerce=str, widget=CheckboxInput(),
                                   validate_choice=False)
    reason = Text(_l("Reason for departing from the ranking"), description=_l(
        "Needed if your selection is not the one the ranking gives. It is published in the "
        "open record."))
    submit = _submit(_l("Record decision"))
