"""Forms for writing a challenge's open record: the lessons learned and the reusable assets.

Each field is cleaned as the record services clean it (line ends, spaces at either end), so
the limits checked here are the very ones the services apply; the services check again."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, StopValidation

from procure.challenges.authoring_forms import Text
from procure.forms import RadioInput, SubmitInput, TextInput
from procure.record import rules
from procure.record.messages import ERROR_MESSAGES as M
from procure.record.messages import LICENCE_NAMES, licence_name  # noqa: F401 - used by the views


# The licences' names in the reader's language, in the order of ``rules.LICENCES``.
def _clean(value: Any) -> Any:
    """What the services keep of a text: no NUL, LF line ends, no spaces at either end."""
    if not isinstance(value, str):
        return value
    return value.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n").strip()


def _submit(label: Any) -> SubmitField:
    return SubmitField(label, widget=SubmitInput())


class _WebAddress:
    """A full http(s) address with nothing in it that could run as a script."""

    def __call__(self, _form: Any, field: Any) -> None:
        if field.data and not rules.is_web_address(field.data):
            raise StopValidation(str(M["asset_url_invalid"]))


class _Licence:
    """One of the licences offered."""

    def __call__(self, _form: Any, field: Any) -> None:
        if field.data not in rules.LICENCES:
            raise StopValidation(str(M["asset_licence_missing"]))


class ActionForm(FlaskForm):
    """A button that changes something (publish, remove an asset): only the CSRF token."""


class LessonsForm(FlaskForm):
    lessons_worked = Text(
        _l("What worked"), filters=[_clean],
        validators=[Length(max=rules.MAX_LESSONS, message=M["lessons_too_long"])],
        description=_l("What would you do again? What should another authority copy?"))
    lessons_not_worked = Text(
        _l("What did not work"), filters=[_clean],
        validators=[Length(max=rules.MAX_LESSONS, message=M["lessons_too_long"])],
        description=_l("What would you do differently? What should another authority avoid?"))
    save_lessons = _submit(_l("Save the lessons"))


class AssetForm(FlaskForm):
    title = StringField(
        _l("What it is"), widget=TextInput(), filters=[_clean],
        validators=[DataRequired(message=M["asset_title_missing"]),
                    Length(max=rules.MAX_ASSET_TITLE, message=M["asset_title_too_long"])],
        description=_l("For example, Source code of the winning prototype"))
    url = StringField(
        _l("Web address"), widget=TextInput(), filters=[_clean],
        validators=[DataRequired(message=M["asset_url_missing"]), _WebAddress()],
        description=_l("The full address, starting with https://"))
    licence = RadioField(
        _l("Licence"), widget=RadioInput(), validate_choice=False,
        choices=[(code, LICENCE_NAMES[code]) for code in rules.LICENCES],
        validators=[_Licence()],
        description=_l("The terms under which another authority may reuse it"))
    description = Text(
        _l("Description (optional)"), filters=[_clean],
        validators=[Length(max=rules.MAX_ASSET_DESCRIPTION,
                           message=M["asset_description_too_long"])],
        description=_l("What it does, and what someone needs to reuse it"))
    add_asset = _submit(_l("Add the asset"))
