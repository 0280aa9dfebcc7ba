"""What each error code the open-record services raise means, in the reader's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

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
