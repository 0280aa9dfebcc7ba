"""Forms for the authority's bake-off pages: verifying a measurement, an award's contract and an
adoption check-in. Field shape only; the bake-off services enforce the rules."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import RadioField, StringField, SubmitField
from wtforms.utils import unset_value

from procure.challenges.authoring_forms import MoneyField, Text
from procure.forms import DayField, RadioInput, SubmitInput, TextInput

_PARTS = ("day", "month", "year")


def _submit(label: Any) -> SubmitField:
    return SubmitField(label, widget=SubmitInput())


class DateParts(DayField):
    """A day, month and year. The GOV.UK boxes send the field's name three times; a form
    posted with ``<name>-day``, ``<name>-month`` and ``<name>-year`` is read the same way."""

    def process(self, formdata: Any, data: Any = unset_value, extra_filters: Any = None) -> None:
        if formdata is not None and self.name not in formdata:
            parts = [formdata.get(f"{self.name}-{part}", "") for part in _PARTS]
            formdata = MultiDict([(self.name, p) for p in parts])
        super().process(formdata, data, extra_filters=extra_filters)


class VerificationForm(FlaskForm):
    outcome = RadioField(_l("Is the reported value right?"), choices=[
        ("accept", _l("Accept the reported value")), ("correct", _l("Correct it"))],
        widget=RadioInput(), validate_choice=False)
    # Shown when correcting: the label and hint (with the unit) are given by the page.
    value = StringField(_l("Corrected value"), widget=TextInput())
    reason = Text(_l("Why are you correcting it?"), description=_l(
        "The supplier is told, and the reason is kept with the result"))
    submit = _submit(_l("Save"))


class ContractForm(FlaskForm):
    # Not required here: a missing value is the service's error, with its own message.
    value = MoneyField(_l("Value of the contract"), required=False,
                       description=_l("In pounds, like 50000"))
    starts_on = DateParts(_l("Start date"), description=_l("For example, 4 1 2027"))
    ends_on = DateParts(_l("End date"), description=_l("For example, 30 6 2027"))
    submit = _submit(_l("Save the contract"))


def value_field(measure_id: int) -> str:
    """The name of a check-in's field for one measure's latest value (the service's key)."""
    return f"value_{measure_id}"


def check_in_form(measures: list[Any], number: Any,
                  data: dict[str, Any] | None = None) -> FlaskForm:
    """Whether the solution is in use, by whom, notes, and each measure's latest value.
    ``number`` formats a measure's baseline and target for the hint."""

    class CheckInForm(FlaskForm):
        in_use = RadioField(_l("Is the solution in use?"), choices=[
            ("yes", _l("Yes")), ("no", _l("No"))], widget=RadioInput(), validate_choice=False)
        used_by = Text(_l("Who uses it?"), description=_l(
            "For example, which teams, services or other authorities, and how widely"))
        notes = Text(_l("Notes (optional)"), description=_l(
            "Anything else: what has changed since the award, problems, plans"))

    for m in measures:
        setattr(CheckInForm, value_field(m.id), StringField(
            _("Latest value of %(name)s (%(unit)s) (optional)", name=m.name, unit=m.unit),
            widget=TextInput(),
            description=_("Baseline %(baseline)s, target %(target)s", baseline=number(m.baseline),
                          target=number(m.target))))
    CheckInForm.submit = _submit(_l("Save the check-in"))
    return CheckInForm(data=data)  # the request's form, once sent
