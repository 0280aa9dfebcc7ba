"""The scheduled jobs around proposals: closing a phase (the authority learns how many arrived,
each supplier whether it is in) and the reminder 48 hours before the deadline."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from procure.audit.models import AuditEvent
from procure.challenges import funding
from procure.challenges import services as challenge_services
from procure.challenges.models import Phase
from procure.notifications.models import OutboxMessage
from procure.submissions import services
from tests.challenges import service_builders as sb
from tests.submissions.builders import DAY, complete, open_phase, started, stored_proposal, submitted

SECOND = timedelta(seconds=1)
HOUR = timedelta(hours=1)
MARKER = "MARK-0d7b44"
IN = "is in the competition"
OUT = "not in the competition"


def _partner(db, now, lead, challenge, *, accept: bool | None):
    """An authority editor invited to co-fund, who accepts, declines or has not answered."""
    editor = sb.editor()
    funding.invite_partner(db, actor=lead, challenge_id=challenge.id,
                           organisation_id=editor.membership.organisation_id, message="Join",
                           now=now)
    if accept is not None:
        funding.respond_to_invitation(db, actor=editor, challenge_id=challenge.id, accept=accept,
                                      pledge_pence=1_000_000 if accept else 0, now=now)
    return editor


def _amend(db, now, lead, challenge):
    challenge_services.amend_challenge(db, actor=lead, challenge_id=challenge.id,
                                       note="Clearer outcomes", now=now,
                                       outcomes_sought="Fewer cold homes by next winter.")


def _members(supplier):
    """The supplier editor and a viewer of the same organisation."""
    return [supplier, sb.viewer(supplier.membership.organisation)]


def _snapshot(db, phase_id):
    """Every queued e-mail, every audit event and the phase's state."""
    db.expire_all()
    stored = db.get(Phase, phase_id)
    return ([(m.idempotency_key, m.body) for m in db.execute(select(OutboxMessage)
                                                            .order_by(OutboxMessage.id)).scalars()],
            list(db.execute(select(AuditEvent.seq, AuditEvent.action).order_by(AuditEvent.seq))),
            (stored.status, stored.opened_at, stored.closed_at))


def test_closing_tells_the_authority_the_count_and_each_supplier_where_it_stands(ctx, db, now):
    challenge, phase, lead = open_phase(db, now)
    lead_viewer = sb.viewer(lead.membership.organisation)
    accepted = _partner(db, now, lead, challenge, accept=True)
    declined = _partner(db, now, lead, challenge, accept=False)
    invited = _partner(db, now, lead, challenge, accept=None)

    awaiting = _members(sb.supplier())     # submitted, then the challenge was amended
    waiting_proposal, _ = submitted(db, now, phase, awaiting[0], marker=MARKER)
    _amend(db, now, lead, challenge)
    counted = _members(sb.supplier())      # submitted after the amendment
    submitted(db, now, phase, counted[0], marker=MARKER)
    reopened = _members(sb.supplier())     # submitted, reopened: its submission still counts
    reopened_proposal, _ = submitted(db, now, phase, reopened[0], marker=MARKER)
    services.reopen_proposal(db, actor=reopened[0], proposal_id=reopened_proposal.id, now=now)
    drafting = _members(sb.supplier())     # never submitted
    complete(db, now, started(db, now, phase, drafting[0]), drafting[0], marker=MARKER)
    bystander = sb.supplier()

    assert challenge_services.advance_phases(db, now=phase.closes_at - SECOND) == 1  # opens only
    assert sb.outbox(db, "phase_closed_authority") == sb.outbox(db, "phase_closed_supplier") == []

    assert challenge_services.advance_phases(db, now=phase.closes_at) == 1
    db.expire_all()
    stored = sb.reload(db, challenge.id).phases[0]
    assert (stored.status, stored.closed_at) == ("closed", phase.closes_at)

    assert sb.recipients(db, "phase_closed_authority") == sorted([lead.email, accepted.email])
    for message in sb.outbox(db, "phase_closed_authority"):
        assert "2 proposals were submitted" in message.body
    told = {m.recipient_email: m.body for m in sb.outbox(db, "phase_closed_supplier")}
    assert sorted(told) == sorted(p.email for p in awaiting + counted + reopened + drafting)
    for person in counted + reopened:
        assert IN in told[person.email]
    for person in awaiting + drafting:
        assert OUT in told[person.email]
    everyone_told = {m.recipient_email for m in sb.outbox(db)
                     if m.template.startswith("phase_closed")}
    assert not everyone_told & {lead_viewer.email, declined.email, invited.email, bystander.email}
    for message in sb.outbox(db):
        if message.template.startswith("phase_closed"):
            assert MARKER not in message.subject + message.body
    assert stored_proposal(db, waiting_proposal.id).must_reconfirm is True


def test_closing_twice_queues_nothing_new_and_changes_nothing(ctx, db, now):
    challenge, phase, lead = open_phase(db, now)
    submitted(db, now, phase, sb.supplier())
    started(db, now, phase, sb.supplier())
    assert challenge_services.advance_phases(db, now=phase.closes_at) == 1
    before = _snapshot(db, phase.id)
    assert len([k for k, _ in before[0] if k.startswith("phase-closed")]) == 3

    assert challenge_services.advance_phases(db, now=phase.closes_at) == 0
    assert challenge_services.advance_phases(db, now=phase.closes_at + DAY) == 0
    assert _snapshot(db, phase.id) == before


def test_closing_with_no_proposal(ctx, db, now):
    challenge, phase, lead = open_phase(db, now)
    assert challenge_services.advance_phases(db, now=phase.closes_at + HOUR) == 1
    [message] = sb.outbox(db, "phase_closed_authority")
    assert message.recipient_email == lead.email
    assert "0 proposals were submitted" in message.body
    assert sb.outbox(db, "phase_closed_supplier") == []


def test_closing_with_one_proposal_says_one(ctx, db, now):
    challenge, phase, lead = open_phase(db, now)
    submitted(db, now, phase, sb.supplier())
    challenge_services.advance_phases(db, now=phase.closes_at)
    [message] = sb.outbox(db, "phase_closed_authority")
    assert "1 proposal was submitted" in message.body


# --- the 48-hour reminder -----------------------------------------------------------------------

def _reminded(db) -> list[str]:
    return sb.recipients(db, "proposal_reminder")


def test_a_draft_is_reminded_once_inside_48_hours(ctx, db, now):
    challenge, phase, lead = open_phase(db, now)
    drafting = _members(sb.supplier())
    draft = started(db, now, phase, drafting[0])
    submitted(db, now, phase, sb.supplier())
    window = phase.closes_at - timedelta(hours=48)

    assert services.remind_unsubmitted(db, now=window - SECOND) == 0
    assert _reminded(db) == []

    assert services.remind_unsubmitted(db, now=window) == 1
    assert _reminded(db) == sorted(p.email for p in drafting)
    message = sb.outbox(db, "proposal_reminder")[0]
    assert "has not been submitted" in message.body
    assert stored_proposal(db, draft.id).reminded_at == window
    [event] = sb.events(db, "proposal.reminded")
    assert (event.subject_id, event.actor_id) == (str(draft.id), None)

    for later in (window + HOUR, phase.closes_at - SECOND):
        assert services.remind_unsubmitted(db, now=later) == 0
    assert len(sb.outbox(db, "proposal_reminder")) == 2
    assert len(sb.events(db, "proposal.reminded")) == 1


def test_each_draft_is_reminded_on_its_own(ctx, db, now):
    challenge, phase, lead = open_phase(db, now)
    early, late = sb.supplier(), sb.supplier()
    started(db, now, phase, early)
    window = phase.closes_at - timedelta(hours=48)
    assert services.remind_unsubmitted(db, now=window) == 1
    started(db, window + HOUR, phase, late)  # started inside the last 48 hours
    assert services.remind_unsubmitted(db, now=window + 2 * HOUR) == 1
    assert _reminded(db) == sorted([early.email, late.email])
    assert services.remind_unsubmitted(db, now=window + 3 * HOUR) == 0


def test_no_reminder_after_the_deadline(ctx, db, now):
    challenge, phase, lead = open_phase(db, now)
    supplier = sb.supplier()
    started(db, now, phase, supplier)
    for moment in (phase.closes_at, phase.closes_at + SECOND, phase.closes_at + DAY):
        assert services.remind_unsubmitted(db, now=moment) == 0
    challenge_services.advance_phases(db, now=phase.closes_at)
    assert services.remind_unsubmitted(db, now=phase.closes_at + HOUR) == 0
    assert _reminded(db) == []


def test_no_reminder_for_a_submitted_proposal(ctx, db, now):
    challenge, phase, lead = open_phase(db, now)
    supplier = sb.supplier()
    submitted(db, now, phase, supplier)
    for moment in (phase.closes_at - timedelta(hours=48), phase.closes_at - HOUR):
        assert services.remind_unsubmitted(db, now=moment) == 0
    assert _reminded(db) == []


def test_a_submission_awaiting_confirmation_is_reminded(ctx, db, now):
    challenge, phase, lead = open_phase(db, now)
    supplier = sb.supplier()
    submitted(db, now, phase, supplier)
    _amend(db, now, lead, challenge)
    assert services.remind_unsubmitted(db, now=phase.closes_at - HOUR) == 1
    [message] = sb.outbox(db, "proposal_reminder")
    assert message.recipient_email == supplier.email
    assert "has not been confirmed again" in message.body
    assert services.remind_unsubmitted(db, now=phase.closes_at - HOUR) == 0
