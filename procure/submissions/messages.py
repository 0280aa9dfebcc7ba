"""What each error code the proposal services raise means, in the reader's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from procure.challenges.messages import ERROR_MESSAGES as CHALLENGE_MESSAGES

ERROR_MESSAGES = {
    **CHALLENGE_MESSAGES,
    "too_long": _l("This is too long; shorten it"),
    "summary_missing": _l("Enter a public summary of your proposal"),
    "response_missing": _l("Answer this criterion"),
    "team_missing": _l("Describe your team"),
    "timeline_missing": _l("Enter your timeline"),
    "price_missing": _l("Enter your price in pounds"),
    "price_invalid": _l("Enter a price of at least £0.01"),
    "price_above_maximum": _l("Your price cannot be more than the phase's maximum contract value"),
    "declaration_missing": _l("You must confirm this declaration to submit"),
    "file_missing": _l("Select a file"),
    "file_empty": _l("The selected file is empty"),
    "file_too_big": _l("The selected file must be smaller than 10 MB"),
    "file_type": _l("The selected file must be a PDF, ODT, DOCX, PNG or JPEG"),
    "file_type_mismatch": _l(
        "The file's name does not match what it contains; check it is the right file and its "
        "name ends in .pdf, .odt, .docx, .png, .jpg or .jpeg as it should"),
    "filename_path": _l("The file name must not include folder names; rename the file"),
    "filename_control": _l("The file name contains characters that cannot be used; rename the file"),
    "filename_too_long": _l("The file name must be 150 characters or fewer; rename the file"),
    "too_many_files": _l("You can upload up to 5 files; remove one first"),
    "phase_not_open": _l("This phase is not open for proposals yet"),
    "phase_closed": _l("The deadline for this phase has passed"),
    "phase_not_accepting": _l("This phase is not taking proposals"),
    "already_started": _l("Your organisation already has a proposal for this phase"),
    "digest_invalid": _l("Enter the 64 letters and digits of the receipt code"),
}
