"""Bake-off forms for the entrants' pages: field shape only; the bake-off services enforce the
rules."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField

from procure.challenges.authoring_forms import TIME_HINT, MoneyField, Text
from procure.forms import DayField, SubmitInput, TextInput


def _submit(label: Any) -> SubmitField:
    return SubmitField(label, widget=SubmitInput())


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token is sent."""


def field_names(entrant_id: int) -> tuple[str, str, str]:
    """The names of an entrant's contract fields: value, start date, end date. They are the
    keys of the errors ``services.invite_entrants`` raises."""
    prefix = f"entrant_{entrant_id}_"
    return f"{prefix}value", f"{prefix}starts_on", f"{prefix}ends_on"


def invite_form(entrants: list[Any], **kwargs: Any) -> FlaskForm:
    """Each entrant's bake-off contract (value, start and end), and when the bake-off closes.
    ``kwargs`` go to the form (``formdata=None, data=...`` to show stored values)."""

    class InviteForm(FlaskForm):
        pass

    for entrant in entrants:
        name = entrant.organisation.name
        value, starts_on, ends_on = field_names(entrant.id)
        # Not required here: a missing value is the service's error, with its own message.
        setattr(InviteForm, value, MoneyField(
            _("Value of the contract with %(name)s", name=name), required=False,
            description=_l("In pounds, like 50000")))
        setattr(InviteForm, starts_on, DayField(
            _("Start date of the contract with %(name)s", name=name),
            description=_l("For example, 4 1 2027")))
        setattr(InviteForm, ends_on, DayField(
            _("End date of the contract with %(name)s", name=name),
            description=_l("For example, 30 6 2027")))
    InviteForm.closes_at = DayField(_l("Closing date of the bake-off"),
                                    description=_l("UK time. For example, 31 3 2027"))
    InviteForm.closes_time = StringField(_l("Closing time"), widget=TextInput(),
                                         description=TIME_HINT, default="17:00")
    InviteForm.submit = _submit(_l("Invite the entrants and open the bake-off"))
    return InviteForm(**kwargs)


class ReportForm(FlaskForm):
    # The label and hint (with the measure's unit) are given by the page.
    value = StringField(_l("Measured value"), widget=TextInput())
    evidence = Text(_l("Evidence"), description=_l(
        "How you measured it, over what period, and where the figures come from. You can "
        "attach files once the value is saved."))
    submit = _submit(_l("Save"))


class UploadForm(FlaskForm):
    # Not ``submit``: the report form on the same page has that button (ids must differ).
    upload = _submit(_l("Upload file"))
