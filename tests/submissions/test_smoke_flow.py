"""The whole supplier journey through the services, end to end."""

from __future__ import annotations

from datetime import timedelta

import pytest

from procure.errors import NotFound, RuleViolation
from procure.submissions import receipts, services
from tests.challenges import service_builders as sb
from tests.submissions.builders import PNG, complete, open_phase


def test_start_fill_upload_submit_reopen_resubmit_withdraw(ctx, db, now, tmp_path):
    challenge, phase, lead = open_phase(db, now)
    supplier = sb.supplier()
    proposal = services.start_proposal(db, actor=supplier, phase_id=phase.id, now=now)
    proposal = complete(db, now, proposal, supplier)
    services.add_attachment(db, actor=supplier, proposal_id=proposal.id, filename="plan.png",
                            data=PNG, now=now, folder=tmp_path)
    first = services.submit_proposal(db, actor=supplier, proposal_id=proposal.id, clock=lambda: now)
    assert first.digest == receipts.digest(first.manifest)
    assert first.manifest["attachments"][0]["filename"] == "plan.png"
    assert services.count_submitted(db, phase.id) == 1
    with pytest.raises(NotFound):
        services.get_proposal(db, actor=lead, proposal_id=proposal.id, now=now)
    services.reopen_proposal(db, actor=supplier, proposal_id=proposal.id, now=now)
    assert services.count_submitted(db, phase.id) == 1
    second = services.submit_proposal(db, actor=supplier, proposal_id=proposal.id,
                                      clock=lambda: now + timedelta(minutes=1))
    assert second.digest != first.digest
    withdrawal = services.withdraw_proposal(db, actor=supplier, proposal_id=proposal.id,
                                            clock=lambda: now + timedelta(minutes=2))
    assert withdrawal.manifest["withdraws"] == second.digest
    assert services.count_submitted(db, phase.id) == 0
    assert services.verify_receipt(db, withdrawal.digest.upper()).kind == "withdrawn"


def test_submit_after_deadline_refused(ctx, db, now):
    challenge, phase, lead = open_phase(db, now)
    supplier = sb.supplier()
    proposal = services.start_proposal(db, actor=supplier, phase_id=phase.id, now=now)
    complete(db, now, proposal, supplier)
    with pytest.raises(RuleViolation) as e:
        services.submit_proposal(db, actor=supplier, proposal_id=proposal.id,
                                 clock=lambda: phase.closes_at)
    assert e.value.errors == {"proposal": "phase_closed"}
