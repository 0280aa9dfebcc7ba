"""GOV.UK form widgets with their hidden texts translated (the library's are English only)."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovPasswordInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)


class _TranslatedError:
    def map_gov_params(self, field: Any, **kwargs: Any) -> dict[str, Any]:
        params = super().map_gov_params(field, **kwargs)  # type: ignore[misc]
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


def add_errors(form: Any, errors: dict[str, str], messages: dict[str, Any]) -> None:
    """Show a service's RuleViolation codes next to the fields they belong to."""
    for field_name, code in errors.items():
        field = getattr(form, field_name, None)
        message = str(messages.get(code, code))
        if field is None:
            form.form_errors.append(message)
        else:
            field.errors = [*field.errors, message] if isinstance(field.errors, list) else [message]
