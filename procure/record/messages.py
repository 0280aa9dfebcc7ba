"""What each error code the open-record services raise means, in the reader's language."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

ERROR_MESSAGES = {
    "lessons_too_long": _l("This is too long: use 10,000 characters or fewer"),
    "lessons_worked_missing": _l("Write what worked before publishing the record"),
    "lessons_not_worked_missing": _l("Write what did not work before publishing the record"),
    "assets_too_many": _l("A record can list up to 20 reusable assets; remove one first"),
    "asset_title_missing": _l("Enter what the asset is"),
    "asset_title_too_long": _l("The name must be 200 characters or fewer"),
    "asset_url_missing": _l("Enter the web address of the asset"),
    "asset_url_invalid": _l("Enter a full web address starting with https://, like "
                            "https://example.org/code"),
    "asset_licence_missing": _l("Choose the licence the asset is published under"),
    "asset_description_too_long": _l("The description must be 1,000 characters or fewer"),
    "interest_message_too_long": _l("Your message must be 2,000 characters or fewer"),
    "interest_already_registered": _l("Your authority has already registered an interest in "
                                      "adopting this solution"),
}

# The licences an asset can carry (procure/record/rules.py LICENCES), named for people.
LICENCE_NAMES: dict[str, Any] = {
    "OGL-UK-3.0": lazy_pgettext("licence name", "Open Government Licence v3.0"),
    "CC-BY-4.0": _l("Creative Commons Attribution 4.0"),
    "CC0-1.0": _l("Creative Commons Zero 1.0"),
    "MIT": _l("MIT License"),
    "Apache-2.0": _l("Apache License 2.0"),
    "GPL-3.0": _l("GNU General Public License v3.0"),
    "proprietary": _l("Proprietary: ask the owner"),
}


def licence_name(code: str, default: str = "") -> Any:
    """A licence's name in the reader's language (``default``, else the code, for one no
    longer offered)."""
    return LICENCE_NAMES.get(code, default or code)
