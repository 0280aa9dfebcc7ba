"""Proposal forms: field shape only; the proposal services enforce the rules."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, SubmitField

from procure.challenges.authoring_forms import MoneyField, Text
from procure.forms import CheckboxInput, SubmitInput, TextInput

SAVE = _l("Save and continue")


def _submit(label: Any) -> SubmitField:
    return SubmitField(label, widget=SubmitInput())


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token is sent."""


class SummaryForm(FlaskForm):
    summary = Text(_l("Public summary"), description=_l(
        "Up to 2,000 characters. Written for anyone to read: if you consent below, it is "
        "published in the open record once the phase is decided."))
    consent_publish_summary = BooleanField(
        _l("I consent to this summary being published in the open record"),
        widget=CheckboxInput())
    submit = _submit(SAVE)


class TeamForm(FlaskForm):
    team = Text(_l("Your team"), description=_l(
        "Who will do the work, their roles and relevant experience"))
    price = MoneyField(_l("Price, excluding VAT"), required=False, description=_l(
        "In pounds. It cannot be more than the phase's maximum contract value."))
    timeline = Text(_l("Timeline"), description=_l("The main steps and when each will be done"))
    submit = _submit(SAVE)


class DeclarationsForm(FlaskForm):
    declare_accurate = BooleanField(
        _l("The information in this proposal is accurate and complete"), widget=CheckboxInput())
    declare_no_collusion = BooleanField(
        _l("We have not colluded with any other supplier or discussed our price with them"),
        widget=CheckboxInput())
    declare_eligible = BooleanField(
        _l("None of the grounds for exclusion in the Procurement Act 2023 applies to us"),
        widget=CheckboxInput())
    submit = _submit(SAVE)


class UploadForm(FlaskForm):
    submit = _submit(_l("Upload file"))


class VerifyForm(FlaskForm):
    class Meta:
        csrf = False  # a read-only lookup by GET

    digest = StringField(_l("Receipt code (SHA-256)"), widget=TextInput(), description=_l(
        "The 64 letters and digits on the receipt"))
    submit = _submit(_l("Check receipt"))


def responses_form(criteria: list[Any], locale: str, formdata: Any = None,
                   data: dict[str, str] | None = None) -> FlaskForm:
    """A form with a text box per criterion of the phase, named ``response_<phase criterion>``."""

    class ResponsesForm(FlaskForm):
        pass

    for pc in criteria:
        name = pc.criterion.name_cy if locale == "cy" and pc.criterion.name_cy else pc.criterion.name_en
        setattr(ResponsesForm, f"response_{pc.id}", Text(name))
    ResponsesForm.submit = _submit(SAVE)
    return ResponsesForm(formdata=formdata, data=data)
