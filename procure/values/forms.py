"""Value framework forms: field shape only; the services enforce the rules."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from procure.forms import SubmitInput, TextArea, TextInput
from procure.values.seed import DESCRIPTION_MAX, GUIDANCE_MAX, GUIDANCE_POINTS, NAME_MAX

# Messages for the error codes the services raise (RuleViolation), by code.
ERROR_MESSAGES = {
    "name_missing": _l("Enter a name in both languages"),
    "name_too_long": _l("Name must be 200 characters or fewer"),
    "description_too_long": _l("Description must be 2000 characters or fewer"),
    "guidance_missing": _l("Enter guidance for every point of the scale in both languages"),
    "guidance_too_long": _l("Guidance must be 1000 characters or fewer"),
    "guidance_count": _l("Enter guidance for every point of the scale in both languages"),
    "draft_exists": _l("A draft of this framework already exists: publish or discard it first"),
}

# What each point of the scale is called: the score and its meaning, or fail/pass for a gate.
SCALE_LABELS = {
    "scored": [_l("0 – unacceptable or no evidence"), _l("1 – poor"), _l("2 – acceptable"),
               _l("3 – good"), _l("4 – excellent")],
    "gate": [_l("Fail"), _l("Pass")],
}

_MISSING = {
    ("scored", "en"): [_l("Enter the English guidance for a score of %(score)s", score=n)
                       for n in range(5)],
    ("scored", "cy"): [_l("Enter the Welsh guidance for a score of %(score)s", score=n)
                       for n in range(5)],
    ("gate", "en"): [_l("Enter the English guidance for a fail"),
                     _l("Enter the English guidance for a pass")],
    ("gate", "cy"): [_l("Enter the Welsh guidance for a fail"),
                     _l("Enter the Welsh guidance for a pass")],
}


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _name(label: Any, missing: Any) -> StringField:
    return StringField(label, widget=TextInput(), filters=[_strip], validators=[
        DataRequired(missing),
        Length(max=NAME_MAX, message=_l("Name must be 200 characters or fewer"))])


def _description(label: Any) -> TextAreaField:
    return TextAreaField(label, widget=TextArea(), filters=[_strip], validators=[
        Length(max=DESCRIPTION_MAX, message=_l("Description must be 2000 characters or fewer"))])


_NAME_LABELS = {"en": (_l("Name in English"), _l("Enter the name in English")),
                "cy": (_l("Name in Welsh"), _l("Enter the name in Welsh"))}
_DESCRIPTION_LABELS = {"en": _l("Description in English"), "cy": _l("Description in Welsh")}


class FrameworkTextForm(FlaskForm):
    name_en = _name(*_NAME_LABELS["en"])
    description_en = _description(_DESCRIPTION_LABELS["en"])
    name_cy = _name(*_NAME_LABELS["cy"])
    description_cy = _description(_DESCRIPTION_LABELS["cy"])
    submit = SubmitField(_l("Save changes"), widget=SubmitInput())


class _CriterionForm(FlaskForm):
    kind = "scored"

    def guidance_fields(self, lang: str) -> list[Any]:
        return [self[f"guidance_{lang}_{n}"] for n in range(GUIDANCE_POINTS[self.kind])]

    def guidance(self, lang: str) -> list[str]:
        return [field.data or "" for field in self.guidance_fields(lang)]


def _criterion_form(kind: str) -> type[_CriterionForm]:
    """A criterion form with one guidance box per point of the scale, in each language.

    Fields are made in page order (English, then Welsh), so the error summary follows the page.
    """
    fields: dict[str, Any] = {"kind": kind}
    for lang in ("en", "cy"):
        fields[f"name_{lang}"] = _name(*_NAME_LABELS[lang])
        fields[f"description_{lang}"] = _description(_DESCRIPTION_LABELS[lang])
        for n, label in enumerate(SCALE_LABELS[kind]):
            fields[f"guidance_{lang}_{n}"] = TextAreaField(
                label, widget=TextArea(), filters=[_strip], validators=[
                    DataRequired(_MISSING[kind, lang][n]),
                    Length(max=GUIDANCE_MAX, message=_l("Guidance must be 1000 characters or fewer"))])
    fields["submit"] = SubmitField(_l("Save changes"), widget=SubmitInput())
    return type(f"{kind.title()}CriterionForm", (_CriterionForm,), fields)


CRITERION_FORMS = {kind: _criterion_form(kind) for kind in GUIDANCE_POINTS}


def criterion_form(criterion: Any) -> _CriterionForm:
    """The edit form for ``criterion``: what was posted, or else the criterion as it is."""
    form_class = CRITERION_FORMS[criterion.kind]
    data = {f: getattr(criterion, f) for f in ("name_en", "name_cy", "description_en", "description_cy")}
    for lang in ("en", "cy"):
        guidance = getattr(criterion, f"guidance_{lang}") or []
        for n in range(GUIDANCE_POINTS[criterion.kind]):
            data[f"guidance_{lang}_{n}"] = guidance[n] if n < len(guidance) else ""
    return form_class(data=data)
