"""Forms for drafting a challenge: field shape only; the challenge services enforce the rules."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import StopValidation, ValidationError

from procure.challenges import rules
from procure.challenges.messages import ERROR_MESSAGES
from procure.forms import DayField, EmailInput, RadioInput, Select, SubmitInput, TextArea, TextInput

TIME_HINT = _l("Use the 24-hour clock in UK time, like 17:00")
MARKDOWN_HINT = _l("You can use Markdown: **bold**, lists, links")
LARGEST_WHOLE_NUMBER = 1_000_000
LARGEST_MEASURE = Decimal("1e14")  # what a measure's baseline or target column can hold


def _unix_newlines(value: Any) -> Any:
    """Browsers send text areas with CRLF line ends: keep LF, so unchanged text stays unchanged."""
    return value.replace("\r\n", "\n").replace("\r", "\n") if isinstance(value, str) else value


class Text(TextAreaField):
    """A GOV.UK text area whose line ends are the same as when it was saved."""

    widget = TextArea()

    def __init__(self, label: Any = None, validators: Any = None, **kwargs: Any) -> None:
        kwargs["filters"] = [_unix_newlines, *kwargs.get("filters", ())]
        super().__init__(label, validators, **kwargs)


class Given:
    """The field must have a value (one that could not be read already has its own message)."""

    def __init__(self, message: Any) -> None:
        self.message = message

    def __call__(self, _form: Any, field: Field) -> None:
        if field.data is None and not field.errors:
            raise StopValidation(str(self.message))


class WholeNumberField(Field):
    """A whole number typed in a text box; the text is kept when it is not one."""

    widget = TextInput()

    def __init__(self, label: Any = None, validators: Any = None, *, invalid: Any,
                 low: int = 0, high: int = LARGEST_WHOLE_NUMBER, **kwargs: Any) -> None:
        super().__init__(label, validators, **kwargs)
        self.invalid, self.low, self.high = invalid, low, high

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else str(self.data)

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = None
        text = valuelist[0].strip() if valuelist else ""
        if not text:
            return
        if not (text.isascii() and text.isdigit()) or not self.low <= int(text) <= self.high:
            raise ValueError(str(self.invalid))
        self.data = int(text)


class MoneyField(StringField):
    """Pounds as typed ("£50,000"), read into whole pence as ``pence``."""

    widget = TextInput()

    def __init__(self, label: Any = None, validators: Any = None, *, required: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(label, validators, **kwargs)
        self.required = required
        self.pence: int | None = None

    def pre_validate(self, form: Any) -> None:
        self.pence = None
        text = (self.data or "").strip()
        if not text and not self.required:
            return
        try:
            self.pence = rules.parse_money(text)
        except ValueError as e:
            raise ValidationError(str(ERROR_MESSAGES[str(e)])) from None


class NumberField(StringField):
    """A decimal number as typed ("12", "3.5", "-0.25"), read into ``number``."""

    widget = TextInput()

    def __init__(self, label: Any = None, validators: Any = None, **kwargs: Any) -> None:
        super().__init__(label, validators, **kwargs)
        self.number: Decimal | None = None

    def pre_validate(self, form: Any) -> None:
        self.number = None
        text = (self.data or "").strip().replace(",", "")
        try:
            number = Decimal(text)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite() or abs(number) >= LARGEST_MEASURE:
            raise ValidationError(str(ERROR_MESSAGES["number_invalid"]))
        self.number = number


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _submit(label: Any) -> SubmitField:
    return SubmitField(label, widget=SubmitInput())


SAVE = _l("Save and continue")


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token is sent."""


class DecisionForm(FlaskForm):
    decision = StringField()


# --- the challenge --------------------------------------------------------------------------------

class CreateForm(FlaskForm):
    title = StringField(_l("Title"), widget=TextInput(), description=_l(
        "Name the problem, not a solution, in a few words: for example, Cutting energy bills "
        "in older council homes"))
    submit = _submit(_l("Create challenge"))


class DetailsForm(FlaskForm):
    title = StringField(_l("Title"), widget=TextInput())
    summary = Text(_l("Summary"), description=_l(
        "One or two sentences shown in the list of challenges"))
    problem_statement = Text(_l("Problem statement"), description=MARKDOWN_HINT)
    context = Text(_l("Context"), description=_l(
        "What has been tried already, and anything suppliers need to know"))
    affected = Text(_l("Who is affected"))
    outcomes_sought = Text(_l("Outcomes sought"), description=_l(
        "What would be better if the problem were solved"))
    submit = _submit(SAVE)


class TagsForm(FlaskForm):
    tags = StringField(_l("Tags"), widget=TextInput(), description=_l(
        "Topics suppliers follow, separated by commas, like: housing, energy, social care"))
    submit = _submit(SAVE)


class WelshForm(FlaskForm):
    title_cy = StringField(_l("Title in Welsh (optional)"), widget=TextInput())
    summary_cy = Text(_l("Summary in Welsh (optional)"))
    submit = _submit(SAVE)


class ContactForm(FlaskForm):
    contact_name = StringField(_l("Name"), widget=TextInput(), description=_l(
        "A team or role is better than a person, for example Procurement team"))
    contact_email = StringField(_l("E-mail address"), widget=EmailInput())
    submit = _submit(SAVE)


class DeadlineForm(FlaskForm):
    clarification_deadline = DayField(
        _l("Deadline for questions"),
        description=_l("Suppliers can ask questions until then. For example, 27 3 2027"),
        validators=[Given(_l("Enter the deadline for clarification questions"))])
    clarification_time = StringField(_l("Time"), widget=TextInput(), description=TIME_HINT,
                                     default="17:00")
    submit = _submit(SAVE)


# --- funding --------------------------------------------------------------------------------------

class LeadPledgeForm(FlaskForm):
    pledge = MoneyField(_l("Your authority's pledge"), description=_l(
        "What your authority puts into the budget, in pounds, like 50000"))
    submit = _submit(_l("Save pledge"))


class InviteForm(FlaskForm):
    organisation_id = SelectField(_l("Authority"), widget=Select(), coerce=_int_or_none,
                                  validate_choice=False)
    message = Text(_l("Message (optional)"), description=_l(
        "Sent with the invitation, for example why this problem matters to them too"))
    submit = _submit(_l("Send invitation"))


# --- phases ---------------------------------------------------------------------------------------

def _kind_choices() -> list[tuple[str, Any]]:
    return [("feasibility", _l("Feasibility (proof of concept)")),
            ("bake_off", _l("Bake-off (prototype)")),
            ("deployment", _l("Deployment"))]


class AddPhaseForm(FlaskForm):
    kind = RadioField(_l("What kind of phase is it?"), widget=RadioInput(), choices=_kind_choices(),
                      validate_choice=False)
    submit = _submit(_l("Add phase"))


class PhaseForm(FlaskForm):
    kind = RadioField(_l("Kind of phase"), widget=RadioInput(), choices=_kind_choices(),
                      validate_choice=False)
    # Shown under the bake-off choice, so listed with it.
    outcome_share_percent = WholeNumberField(
        _l("Share of the final score from outcome measures"), description=_l(
            "As a percentage; the rest comes from the assessors' scores"),
        invalid=ERROR_MESSAGES["outcome_share_invalid"], high=100, default=50)
    opens_at = DayField(_l("Opening date"), description=_l("For example, 1 3 2027"),
                        validators=[Given(_l("Enter the date the phase opens"))])
    opens_time = StringField(_l("Opening time"), widget=TextInput(), description=TIME_HINT,
                             default="09:00")
    closes_at = DayField(_l("Closing date"), description=_l("UK time. For example, 31 3 2027"),
                         validators=[Given(_l("Enter the date the phase closes"))])
    closes_time = StringField(_l("Closing time"), widget=TextInput(), description=TIME_HINT,
                              default="17:00")
    contracts = WholeNumberField(
        _l("Number of contracts to award"), invalid=ERROR_MESSAGES["contracts_invalid"],
        validators=[Given(ERROR_MESSAGES["contracts_missing"])])
    max_value = MoneyField(_l("Maximum value of each contract"),
                           description=_l("In pounds, like 50000"))
    duration_months = WholeNumberField(
        _l("Duration of the contracts, in months"), invalid=ERROR_MESSAGES["duration_invalid"],
        validators=[Given(ERROR_MESSAGES["duration_missing"])])
    min_assessments = WholeNumberField(
        _l("Minimum number of assessments of each proposal"),
        description=_l("Independent assessors who score each proposal"),
        invalid=ERROR_MESSAGES["min_assessments_invalid"], default=2,
        validators=[Given(ERROR_MESSAGES["min_assessments_invalid"])])
    threshold_percent = WholeNumberField(
        _l("Quality threshold"), description=_l(
            "The lowest total score, as a percentage, a proposal needs to be selected"),
        invalid=ERROR_MESSAGES["percent_invalid"], high=100, default=60,
        validators=[Given(ERROR_MESSAGES["percent_invalid"])])
    submit = _submit(SAVE)


# --- criteria -------------------------------------------------------------------------------------

class CriteriaForm(FlaskForm):
    """The weight boxes and gate checkboxes are added per request (see ``criteria_form``)."""

    # Never shown as an input: carries the errors about the choice as a whole, and its id is
    # set to the first weight box so the error summary links there.
    criteria = StringField()
    submit = _submit(SAVE)


def weight_field_name(criterion_id: int) -> str:
    return f"w_{criterion_id}"


def gate_field_name(criterion_id: int) -> str:
    return f"g_{criterion_id}"


def criteria_form(frameworks: list[Any], *, lang: str, chosen: dict[int, int | None] | None = None
                  ) -> CriteriaForm:
    """A form with a weight box per scored criterion and a checkbox per gate of ``frameworks``.

    ``chosen`` (criterion id to weight) fills it in when it is first shown.
    """

    class Form(CriteriaForm):
        pass

    first_weight = first_gate = None
    data: dict[str, Any] = {}
    for framework in frameworks:
        for criterion in framework.criteria:
            name = criterion.name_cy if lang == "cy" else criterion.name_en
            description = criterion.description_cy if lang == "cy" else criterion.description_en
            if criterion.is_gate:
                field_name = gate_field_name(criterion.id)
                setattr(Form, field_name, BooleanField(name, description=description))
                if chosen is not None:
                    data[field_name] = criterion.id in chosen
                first_gate = first_gate or field_name
            else:
                field_name = weight_field_name(criterion.id)
                setattr(Form, field_name, WholeNumberField(
                    name, description=description, high=100,
                    invalid=_l("Enter a whole number from 0 to 100")))
                if chosen is not None and criterion.id in chosen:
                    data[field_name] = chosen[criterion.id]
                first_weight = first_weight or field_name
    form = Form(data=data)
    form.criteria.id = first_weight or first_gate or "criteria"
    return form


def chosen_weights(form: CriteriaForm, frameworks: list[Any]) -> dict[int, int | None]:
    """Criterion id to weight for every scored criterion given one, and None for each gate used."""
    weights: dict[int, int | None] = {}
    for framework in frameworks:
        for criterion in framework.criteria:
            if criterion.is_gate:
                if form[gate_field_name(criterion.id)].data:
                    weights[criterion.id] = None
            else:
                weight = form[weight_field_name(criterion.id)].data
                if weight is not None:
                    weights[criterion.id] = weight
    return weights


# --- outcome measures -----------------------------------------------------------------------------

class MeasureForm(FlaskForm):
    name = StringField(_l("Name of the measure"), widget=TextInput(), description=_l(
        "What is measured, for example Homes brought to energy rating C"))
    unit = StringField(_l("Unit"), widget=TextInput(), description=_l(
        "For example: homes, kWh per year, days, per cent"))
    direction = RadioField(_l("Which is better?"), widget=RadioInput(), validate_choice=False,
                           choices=[("higher", _l("Higher is better")),
                                    ("lower", _l("Lower is better"))])
    baseline = NumberField(_l("Baseline"), description=_l("The value today, before the prototype"))
    target = NumberField(_l("Target"), description=_l("The value that would count as full success"))
    criterion_id = SelectField(_l("Shared-value criterion it evidences"), widget=Select(),
                               coerce=_int_or_none, validate_choice=False)
    weight = WholeNumberField(
        _l("Weight"), description=_l("The weights of the phase's outcome measures must add up to 100"),
        invalid=ERROR_MESSAGES["weight_invalid"], high=100,
        validators=[Given(ERROR_MESSAGES["weight_invalid"])])
    submit = _submit(_l("Save measure"))
