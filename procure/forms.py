"""GOV.UK form widgets with their hidden texts translated (the library's are English only)."""

from __future__ import annotations

import re
from datetime import datetime, time
from typing import Any

from flask_babel import gettext
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovDateInput,
    GovPasswordInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import DateField

from procure.clock import london_to_utc


class _TranslatedError:
    def map_gov_params(self, field: Any, **kwargs: Any) -> dict[str, Any]:
        params = super().map_gov_params(field, **kwargs)  # type: ignore[misc]
        # A template that styles the legend replaces the library's whole legend; keep its text.
        legend = (params.get("fieldset") or {}).get("legend")
        if isinstance(legend, dict) and not legend.get("text") and not legend.get("html"):
            legend["text"] = field.label.text
        if params.get("errorMessage"):
            params["errorMessage"]["visuallyHiddenText"] = gettext("Error")
        return params


class TextInput(_TranslatedError, GovTextInput):
    pass


class EmailInput(TextInput):
    input_type = "email"

    def map_gov_params(self, field: Any, **kwargs: Any) -> dict[str, Any]:
        params = super().map_gov_params(field, **kwargs)
        params.setdefault("autocomplete", "email")
        params.setdefault("spellcheck", False)
        return params


class TextArea(_TranslatedError, GovTextArea):
    pass


class Select(_TranslatedError, GovSelect):
    pass


class RadioInput(_TranslatedError, GovRadioInput):
    pass


class CheckboxInput(_TranslatedError, GovCheckboxInput):
    pass


class DateInput(_TranslatedError, GovDateInput):
    """Day, month and year boxes with their labels in the page's language."""

    def map_gov_params(self, field: Any, **kwargs: Any) -> dict[str, Any]:
        if field.raw_data is not None and len(field.raw_data) != 3:
            # A request may leave boxes out (or send more): show what came, box by box.
            field.raw_data = [*field.raw_data, "", "", ""][:3]
        params = super().map_gov_params(field, **kwargs)
        labels = (gettext("Day"), gettext("Month"), gettext("Year"))
        for item, label in zip(params["items"], labels, strict=True):
            item["label"] = label
        return params


class SubmitInput(GovSubmitInput):
    pass


class PasswordInput(_TranslatedError, GovPasswordInput):
    def map_gov_params(self, field: Any, **kwargs: Any) -> dict[str, Any]:
        params = super().map_gov_params(field, **kwargs)
        params.update({
            "showPasswordText": gettext("Show"),
            "hidePasswordText": gettext("Hide"),
            "showPasswordAriaLabelText": gettext("Show password"),
            "hidePasswordAriaLabelText": gettext("Hide password"),
            "passwordShownAnnouncementText": gettext("Your password is visible"),
            "passwordHiddenAnnouncementText": gettext("Your password is hidden"),
        })
        return params


MAX_ID = 2**31 - 1  # identifiers are 4-byte integers


def whole_number(text: str | None, *, limit: int = MAX_ID) -> int | None:
    """A positive whole number from a query string (ASCII digits only), or None for anything else."""
    text = (text or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    number = int(text)
    return number if 1 <= number <= limit else None


def add_errors(form: Any, errors: dict[str, str], messages: dict[str, Any]) -> None:
    """Show a service's RuleViolation codes next to the fields they belong to."""
    for field_name, code in errors.items():
        field = getattr(form, field_name, None)
        message = str(messages.get(code, code))
        if field is None:
            form.form_errors.append(message)
        else:
            field.errors = [*field.errors, message] if isinstance(field.errors, list) else [message]


_TIME = re.compile(r"^(\d{1,2})[:.](\d{2})$")


def parse_time(text: str | None) -> time:
    """A 24-hour time as typed ("17:00", "9.30"); ValueError if it is not one."""
    match = _TIME.match((text or "").strip())
    if not match:
        raise ValueError("time_invalid")
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        raise ValueError("time_invalid")
    return time(hour, minute)


def london_datetime(date_field: Any, time_field: Any, messages: dict[str, Any]) -> datetime | None:
    """The UTC instant of a date field and a time field read as London time.

    Puts a message on the time field (and returns None) when the time is not a real one.
    """
    if date_field.errors or date_field.data is None:
        return None
    try:
        return london_to_utc(date_field.data, parse_time(time_field.data))
    except ValueError as e:
        code = str(e) if str(e) == "time_invalid" else "time_skipped"
        time_field.errors = [*time_field.errors, str(messages[code])]
        return None


class DayField(DateField):
    """A GOV.UK date input (day, month, year) giving a ``date``, with a plain-language error."""

    widget = DateInput()

    def __init__(self, label: Any = None, validators: Any = None, **kwargs: Any) -> None:
        super().__init__(label, validators, format="%d %m %Y", **kwargs)

    def process_formdata(self, valuelist: list[str]) -> None:
        parts = [v.strip() for v in valuelist]
        if not any(parts):
            self.data = None
            return
        try:
            super().process_formdata([" ".join(parts)])
        except ValueError:
            self.data = None
            raise ValueError(gettext("Enter a real date, like 27 3 2027")) from None
