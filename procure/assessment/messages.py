"""What each error code the assessment services raise means, in the reader's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

ERROR_MESSAGES = {
    "text_too_long": _l("This is too long; shorten it to 5,000 characters or fewer"),
    "assessor_not_eligible": _l(
        "Choose a member of the lead or a co-funding authority who is not already appointed"),
    "expert_name_missing": _l("Enter the expert's full name"),
    "expert_email_invalid": _l("Enter an email address in the correct format, like name@example.com"),
    "expert_is_supplier": _l("This person belongs to a supplier, so they cannot assess"),
    "expert_already_appointed": _l("This person is already appointed to assess this phase"),
    "invitation_other_address": _l(
        "This invitation was sent to another email address. Sign in with the address it was "
        "sent to"),
    "assessor_has_submitted": _l(
        "This assessor has submitted an assessment, so their marks stand and they cannot be "
        "removed"),
    "conflict_choose": _l("Select whether you have a conflict of interest with this supplier"),
    "conflict_reason_missing": _l("Explain your conflict of interest"),
    "score_missing": _l("Select a score from 0 to 4"),
    "score_invalid": _l("Select a score from 0 to 4"),
    "gate_missing": _l("Select pass or fail"),
    "gate_invalid": _l("Select pass or fail"),
    "justification_missing": _l("Explain your mark"),
    "consensus_missing": _l("Enter the agreed score"),
    "consensus_invalid": _l("Enter an agreed score from 0 to 4, in steps of 0.25, like 2.5"),
    "rationale_missing": _l("Explain how the moderators agreed this"),
    "assessments_incomplete": _l(
        "Every proposal must have all its assessments in before the decision can be recorded"),
    "moderation_outstanding": _l(
        "Every flagged criterion must have an agreed score before the decision can be recorded"),
    "no_proposals": _l("No proposals were submitted in this phase"),
    "selected_ineligible": _l("A proposal that failed a gate cannot be selected"),
    "reason_missing": _l(
        "Explain why your selection is different from the one the ranking gives"),
    "award_reason_missing": _l("Explain why you are making this award"),
    "shortlist_empty": _l("Select at least one supplier to go on to the next phase. If none "
                          "should, cancel the challenge and give the reason"),
    "no_award_reason_missing": _l("Explain why you are making no award"),
    "verification_outstanding": _l(
        "Every reported measurement must be verified before the award can be recorded"),
}

# The same for one criterion's mark on the scoring page, naming the criterion.
CRITERION_MESSAGES = {
    "score_missing": _l("Select a score from 0 to 4 for %(criterion)s"),
    "score_invalid": _l("Select a score from 0 to 4 for %(criterion)s"),
    "gate_missing": _l("Select pass or fail for %(criterion)s"),
    "gate_invalid": _l("Select pass or fail for %(criterion)s"),
    "justification_missing": _l("Explain your mark for %(criterion)s"),
    "text_too_long": _l("Shorten your explanation for %(criterion)s to 5,000 characters or fewer"),
}
