"""Forms of the open record's public pages: shape only; the record services enforce the rules."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, SubmitField
from wtforms.validators import Length

from procure.challenges.forms import Form, Text
from procure.forms import Select, SubmitInput, TextInput
from procure.record.messages import ERROR_MESSAGES
from procure.record.services import MAX_MESSAGE

MAX_QUERY = 200


class CatalogueForm(Form):
    """The catalogue's search, filters and order, sent by GET (no CSRF: it changes nothing).

    The view reads and cleans the request's values itself and gives the form what it kept, so
    the page shows exactly the search it ran."""

    class Meta:
        csrf = False

    q = StringField(_l("Search the open records"), widget=TextInput(),
                    description=_l("Words from the title, the problem, the outcomes, the lessons "
                                   "learned or the tags"))
    # Drawn by the template with its options grouped by framework.
    criterion = SelectField(_l("Well-being goal or other criterion"), widget=Select(),
                            validate_choice=False)
    authority = SelectField(_l("Authority"), widget=Select(), validate_choice=False)
    tag = SelectField(_l("Tag"), widget=Select(), validate_choice=False)
    outcome = SelectField(_l("Outcome"), widget=Select(), validate_choice=False)
    year = SelectField(_l("Year"), widget=Select(), validate_choice=False)
    sort = SelectField(_l("Sort by"), widget=Select(), validate_choice=False)


class InterestForm(Form):
    message = Text(_l("Message (optional)"), description=_l(
        "Tell them what your authority would like to do. The lead authority's editors and the "
        "winning supplier receive it with your name and e-mail address, so that they can reply."),
        validators=[Length(max=MAX_MESSAGE, message=ERROR_MESSAGES["interest_message_too_long"])])
    submit = SubmitField(_l("Register interest"), widget=SubmitInput())
