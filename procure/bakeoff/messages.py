"""What each error code the bake-off services raise means, in the reader's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from procure.submissions.messages import ERROR_MESSAGES as FILE_MESSAGES

ERROR_MESSAGES = {
    **{k: v for k, v in FILE_MESSAGES.items() if k.startswith(("file", "filename"))},
    "text_too_long": _l("This is too long; shorten it"),
    "value_missing": _l("Enter the measured value"),
    "value_invalid": _l("Enter the value as a number, like 1250 or 12.5"),
    "value_too_large": _l("Enter a value with 14 digits or fewer before the decimal point"),
    "value_too_precise": _l("Enter a value with up to 4 decimal places"),
    "evidence_missing": _l("Describe the evidence for this value"),
    "bake_off_closed": _l("The bake-off has closed, so results can no longer be reported"),
    "report_conflict": _l("Someone in your organisation reported this at the same moment; "
                          "check the value and try again"),
    "report_first": _l("Report the value before attaching evidence"),
    "too_many_evidence_files": _l("You can attach up to 3 files to each measurement; remove "
                                  "one first"),
    "verification_choice_missing": _l("Select whether you accept the value or correct it"),
    "correction_reason_missing": _l("Explain why you are correcting the value"),
    "contract_value_missing": _l("Enter the value of the contract"),
    "contract_value_invalid": _l("Enter the value in pounds, like 50000"),
    "contract_value_above_maximum": _l("The value must not be more than the phase's maximum "
                                       "value of a contract"),
    "contract_value_above_budget": _l("The value must not be more than the challenge's budget"),
    "contract_start_missing": _l("Enter the date the contract starts"),
    "contract_end_missing": _l("Enter the date the contract ends"),
    "contract_end_before_start": _l("The contract must end on or after the day it starts"),
    "close_missing": _l("Enter the date and time the bake-off closes"),
    "close_in_past": _l("The bake-off must close in the future"),
    "in_use_missing": _l("Select whether the solution is in use"),
    "used_by_missing": _l("Say who uses the solution"),
}
