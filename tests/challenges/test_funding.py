"""Co-funding against the database: invitations, pledges, requests to join, and who is told."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from procure.challenges import funding, services
from procure.challenges.models import ChallengeFunder
from procure.errors import NotFound, NotPermitted, RuleViolation
from tests.challenges import service_builders as b
from tests.challenges.service_builders import HOUR


def _funders(db, challenge_id):
    """(organisation, role, status, pledge) of every funder row, as stored."""
    return [(f.organisation_id, f.role, f.status, f.pledge_pence)
            for f in b.reload(db, challenge_id).funders]


def _draft(db, now):
    lead = b.authority(name="Lead Council")
    editor = b.editor(lead)
    return lead, editor, b.new_draft(db, now, editor)


def _invite(db, now, editor, challenge, org, message=""):
    return funding.invite_partner(db, actor=editor, challenge_id=challenge.id, organisation_id=org.id,
                                  message=message, now=now)


# --- who may be invited ---------------------------------------------------------------------


def test_invitable_authorities_are_verified_and_not_already_involved(ctx, db, now):
    lead, editor, challenge = _draft(db, now)
    free = b.authority(name="Anglesey")
    invited = b.authority(name="Blaenau")
    requested = b.authority(name="Conwy")
    declined = b.authority(name="Denbighshire")
    b.authority(name="Unverified", verified=False)
    b.supplier_org()
    _invite(db, now, editor, challenge, invited)
    funding.request_to_join(db, actor=b.editor(requested), challenge_id=challenge.id, pledge_pence=100,
                            message="", now=now)
    _invite(db, now, editor, challenge, declined)
    funding.respond_to_invitation(db, actor=b.editor(declined), challenge_id=challenge.id, accept=False,
                                  pledge_pence=0, now=now)
    names = [o.name for o in funding.invitable_authorities(db, b.reload(db, challenge.id))]
    assert names == ["Anglesey", "Denbighshire"]
    assert free.id != lead.id


@pytest.mark.parametrize("target", ["lead", "supplier", "unverified", "already invited", "requested",
                                    "unknown"])
def test_inviting_someone_who_cannot_be_invited_is_refused(ctx, db, now, target):
    lead, editor, challenge = _draft(db, now)
    invited, requested = b.authority(), b.authority()
    b.editor(invited)
    _invite(db, now, editor, challenge, invited)
    funding.request_to_join(db, actor=b.editor(requested), challenge_id=challenge.id, pledge_pence=100,
                            message="", now=now)
    org_id = {"lead": lambda: lead.id, "supplier": lambda: b.supplier_org().id,
              "unverified": lambda: b.authority(verified=False).id, "already invited": lambda: invited.id,
              "requested": lambda: requested.id, "unknown": lambda: 999_999}[target]()
    before = _funders(db, challenge.id)
    with pytest.raises(RuleViolation) as e:
        funding.invite_partner(db, actor=editor, challenge_id=challenge.id, organisation_id=org_id,
                               message="Join us", now=now + HOUR)
    assert e.value.errors == {"organisation_id": "partner_invalid"}
    assert _funders(db, challenge.id) == before
    assert len(b.outbox(db, "partner_invited")) == 1


def test_an_invitation_message_may_not_be_too_long(ctx, db, now):
    _, editor, challenge = _draft(db, now)
    partner = b.authority()
    b.editor(partner)
    with pytest.raises(RuleViolation) as e:
        _invite(db, now, editor, challenge, partner, message="x" * 2001)
    assert e.value.errors == {"message": "too_long"}
    assert len(_funders(db, challenge.id)) == 1
    assert b.outbox(db, "partner_invited") == []


# --- invitations ----------------------------------------------------------------------------


def test_invitation_emails_the_partners_editors_only(ctx, db, now):
    lead, editor, challenge = _draft(db, now)
    partner = b.authority()
    partner_editor, other_editor = b.editor(partner), b.editor(partner, locale="cy")
    b.viewer(partner)
    b.person(partner, status="pending")
    b.editor(partner, is_disabled=True)
    b.editor(partner, email_confirmed_at=None)
    row = _invite(db, now, editor, challenge, partner, message="  Would you co-fund this?  ")
    assert _funders(db, challenge.id)[1] == (partner.id, "partner", "invited", 0)
    stored = db.get(ChallengeFunder, row.id)
    assert (stored.message, stored.created_at, stored.decided_at) == ("Would you co-fund this?", now,
                                                                       None)
    mails = b.outbox(db, "partner_invited")
    assert sorted(m.recipient_email for m in mails) == sorted([partner_editor.email, other_editor.email])
    assert {m.recipient_email: m.locale for m in mails}[other_editor.email] == "cy"
    english = next(m for m in mails if m.recipient_email == partner_editor.email)
    assert "Lead Council" in english.body and "Would you co-fund this?" in english.body
    [event] = b.events(db, "challenge.partner_invited")
    assert event.actor_id == editor.id and json.loads(event.data) == {"organisation": partner.id}


@pytest.mark.parametrize("who, error", [("lead viewer", NotPermitted), ("other authority", NotPermitted),
                                        ("supplier", NotFound)])
def test_only_lead_editors_invite(ctx, db, now, who, error):
    lead, editor, challenge = _draft(db, now)
    partner = b.authority()
    actor = {"lead viewer": lambda: b.viewer(lead), "other authority": lambda: b.editor(),
             "supplier": lambda: b.supplier()}[who]()
    with pytest.raises(error):
        _invite(db, now, actor, challenge, partner)
    assert len(_funders(db, challenge.id)) == 1


def test_partner_accepts_with_a_pledge_and_the_budget_is_the_sum(ctx, db, now):
    lead, editor, challenge = _draft(db, now)
    lead_editor_cy = b.editor(lead, locale="cy")
    b.viewer(lead)
    funding.set_lead_pledge(db, actor=editor, challenge_id=challenge.id, pledge_pence=3_000_000, now=now)
    first, second = b.authority(name="First Partner"), b.authority(name="Second Partner")
    first_editor, second_editor = b.editor(first), b.editor(second)
    _invite(db, now, editor, challenge, first)
    _invite(db, now, editor, challenge, second)
    later = now + HOUR
    row = funding.respond_to_invitation(db, actor=first_editor, challenge_id=challenge.id, accept=True,
                                        pledge_pence=1_250_050, now=later)
    assert (row.status, row.pledge_pence, row.decided_at) == ("accepted", 1_250_050, later)
    funding.respond_to_invitation(db, actor=second_editor, challenge_id=challenge.id, accept=True,
                                  pledge_pence=750_000, now=later)
    stored = b.reload(db, challenge.id)
    assert stored.budget_pence == 3_000_000 + 1_250_050 + 750_000
    assert [f.status for f in stored.funders] == ["accepted"] * 3
    responded = b.outbox(db, "partner_responded")
    assert sorted(m.recipient_email for m in responded) == sorted([editor.email, lead_editor_cy.email] * 2)
    assert any("First Partner" in m.body and "12500.50" in m.body for m in responded)
    assert b.actions(db).count("challenge.partner_accepted") == 2


def test_partner_declines_and_pledges_nothing(ctx, db, now):
    lead, editor, challenge = _draft(db, now)
    partner = b.authority(name="Powys")
    partner_editor = b.editor(partner)
    _invite(db, now, editor, challenge, partner)
    funding.respond_to_invitation(db, actor=partner_editor, challenge_id=challenge.id, accept=False,
                                  pledge_pence=900, now=now)
    assert _funders(db, challenge.id)[1] == (partner.id, "partner", "declined", 0)
    assert b.reload(db, challenge.id).budget_pence == 0
    [mail] = b.outbox(db, "partner_responded")
    assert mail.recipient_email == editor.email and "Powys" in mail.body
    assert "challenge.partner_declined" in b.actions(db)
    # a declined authority may be invited again
    _invite(db, now + HOUR, editor, challenge, partner)
    assert _funders(db, challenge.id)[1] == (partner.id, "partner", "invited", 0)
    assert len(b.reload(db, challenge.id).funders) == 2


@pytest.mark.parametrize("pledge", [0, -100, 100_000_000_001])
def test_accepting_needs_a_sensible_pledge(ctx, db, now, pledge):
    _, editor, challenge = _draft(db, now)
    partner = b.authority()
    partner_editor = b.editor(partner)
    _invite(db, now, editor, challenge, partner)
    with pytest.raises(RuleViolation) as e:
        funding.respond_to_invitation(db, actor=partner_editor, challenge_id=challenge.id, accept=True,
                                      pledge_pence=pledge, now=now)
    assert e.value.errors == {"pledge": "pledge_invalid"}
    assert _funders(db, challenge.id)[1] == (partner.id, "partner", "invited", 0)
    assert b.outbox(db, "partner_responded") == []


def test_only_an_invited_partners_editor_answers_and_only_once(ctx, db, now):
    lead, editor, challenge = _draft(db, now)
    partner = b.authority()
    partner_editor, partner_viewer = b.editor(partner), b.viewer(partner)
    _invite(db, now, editor, challenge, partner)
    with pytest.raises(NotPermitted):
        funding.respond_to_invitation(db, actor=partner_viewer, challenge_id=challenge.id, accept=True,
                                      pledge_pence=100, now=now)
    with pytest.raises(NotPermitted):  # verified authorities may read drafts, but were not asked
        funding.respond_to_invitation(db, actor=b.editor(), challenge_id=challenge.id, accept=True,
                                      pledge_pence=100, now=now)
    with pytest.raises(NotPermitted):
        funding.respond_to_invitation(db, actor=editor, challenge_id=challenge.id, accept=True,
                                      pledge_pence=100, now=now)
    with pytest.raises(NotFound):
        funding.respond_to_invitation(db, actor=b.supplier(), challenge_id=challenge.id, accept=True,
                                      pledge_pence=100, now=now)
    funding.respond_to_invitation(db, actor=partner_editor, challenge_id=challenge.id, accept=True,
                                  pledge_pence=100, now=now)
    with pytest.raises(NotPermitted):
        funding.respond_to_invitation(db, actor=partner_editor, challenge_id=challenge.id, accept=False,
                                      pledge_pence=0, now=now)
    assert _funders(db, challenge.id)[1] == (partner.id, "partner", "accepted", 100)


def test_an_invited_partner_reads_the_draft(ctx, db, now):
    lead, editor, challenge = _draft(db, now)
    partner = b.authority()
    partner_editor = b.editor(partner)
    _invite(db, now, editor, challenge, partner)
    assert services.get_challenge(db, actor=partner_editor, challenge_id=challenge.id).id == challenge.id


def test_withdrawing_an_invitation(ctx, db, now):
    lead, editor, challenge = _draft(db, now)
    partner = b.authority()
    partner_editor = b.editor(partner)
    row = _invite(db, now, editor, challenge, partner)
    later = now + HOUR
    funding.withdraw_invitation(db, actor=editor, challenge_id=challenge.id, funder_id=row.id, now=later)
    stored = b.reload(db, challenge.id).funders[1]
    assert (stored.status, stored.decided_at) == ("declined", later)
    [event] = b.events(db, "challenge.partner_invitation_withdrawn")
    assert json.loads(event.data) == {"organisation": partner.id}
    with pytest.raises(NotPermitted):  # nothing left to answer
        funding.respond_to_invitation(db, actor=partner_editor, challenge_id=challenge.id, accept=True,
                                      pledge_pence=100, now=later)
    with pytest.raises(NotFound):  # withdrawn already
        funding.withdraw_invitation(db, actor=editor, challenge_id=challenge.id, funder_id=row.id,
                                    now=later)


def test_only_unanswered_invitations_can_be_withdrawn(ctx, db, now):
    lead, editor, challenge = _draft(db, now)
    partner = b.authority()
    row = _invite(db, now, editor, challenge, partner)
    funding.respond_to_invitation(db, actor=b.editor(partner), challenge_id=challenge.id, accept=True,
                                  pledge_pence=500, now=now)
    lead_row = b.reload(db, challenge.id).funders[0]
    for funder_id in (row.id, lead_row.id, 999_999):
        with pytest.raises(NotFound):
            funding.withdraw_invitation(db, actor=editor, challenge_id=challenge.id, funder_id=funder_id,
                                        now=now)
    assert _funders(db, challenge.id)[1] == (partner.id, "partner", "accepted", 500)
    with pytest.raises(NotPermitted):
        funding.withdraw_invitation(db, actor=b.viewer(lead), challenge_id=challenge.id, funder_id=row.id,
                                    now=now)


# --- requests to join -----------------------------------------------------------------------


def test_a_verified_authority_asks_to_join_and_the_lead_accepts(ctx, db, now):
    lead, editor, challenge = _draft(db, now)
    joiner = b.authority(name="Gwynedd")
    joiner_editor, joiner_editor_two = b.editor(joiner), b.editor(joiner)
    b.viewer(joiner)
    row = funding.request_to_join(db, actor=joiner_editor, challenge_id=challenge.id,
                                  pledge_pence=2_000_000, message="  We share this problem. ", now=now)
    assert _funders(db, challenge.id)[1] == (joiner.id, "partner", "requested", 2_000_000)
    assert b.reload(db, challenge.id).budget_pence == 0  # not counted until accepted
    [asked] = b.outbox(db, "partner_requested")
    assert asked.recipient_email == editor.email
    assert "Gwynedd" in asked.body and "We share this problem." in asked.body and "20000" in asked.body
    assert "challenge.partner_requested" in b.actions(db)

    later = now + HOUR
    decided = funding.decide_join_request(db, actor=editor, challenge_id=challenge.id, funder_id=row.id,
                                          accept=True, now=later)
    assert (decided.status, decided.decided_at) == ("accepted", later)
    assert b.reload(db, challenge.id).budget_pence == 2_000_000
    assert b.recipients(db, "partner_decided") == sorted([joiner_editor.email, joiner_editor_two.email])
    assert "challenge.partner_request_accepted" in b.actions(db)
    with pytest.raises(NotFound):  # already decided
        funding.decide_join_request(db, actor=editor, challenge_id=challenge.id, funder_id=row.id,
                                    accept=False, now=later)


def test_the_lead_declines_a_request_and_the_authority_may_ask_again(ctx, db, now):
    lead, editor, challenge = _draft(db, now)
    joiner = b.authority()
    joiner_editor = b.editor(joiner)
    row = funding.request_to_join(db, actor=joiner_editor, challenge_id=challenge.id, pledge_pence=500,
                                  message="", now=now)
    funding.decide_join_request(db, actor=editor, challenge_id=challenge.id, funder_id=row.id,
                                accept=False, now=now)
    assert _funders(db, challenge.id)[1] == (joiner.id, "partner", "declined", 0)
    assert b.recipients(db, "partner_decided") == [joiner_editor.email]
    assert "challenge.partner_request_declined" in b.actions(db)
    again = funding.request_to_join(db, actor=joiner_editor, challenge_id=challenge.id, pledge_pence=800,
                                    message="", now=now + HOUR)
    assert again.id == row.id
    assert _funders(db, challenge.id)[1] == (joiner.id, "partner", "requested", 800)
    assert len(b.outbox(db, "partner_requested")) == 2


def test_requesting_to_join_an_open_challenge(ctx, db, now):
    fw = b.framework(db, now)
    editor = b.editor()
    challenge = b.open_challenge(db, now, editor, fw)
    joiner = b.authority()
    row = funding.request_to_join(db, actor=b.editor(joiner), challenge_id=challenge.id,
                                  pledge_pence=1_000, message="", now=now)
    funding.decide_join_request(db, actor=editor, challenge_id=challenge.id, funder_id=row.id,
                                accept=True, now=now)
    assert b.reload(db, challenge.id).budget_pence == 5_001_000


@pytest.mark.parametrize("who, error", [
    ("lead editor", NotPermitted),
    ("lead viewer", NotPermitted),
    ("authority viewer", NotPermitted),
    ("unverified authority editor", NotFound),  # may not even read the draft
    ("supplier", NotFound),
    ("visitor", NotFound),
    ("already invited", NotPermitted),
    ("already requested", NotPermitted),
])
def test_who_may_ask_to_join_a_draft(ctx, db, now, who, error):
    lead, editor, challenge = _draft(db, now)
    invited, requested = b.authority(), b.authority()
    invited_editor, requested_editor = b.editor(invited), b.editor(requested)
    _invite(db, now, editor, challenge, invited)
    funding.request_to_join(db, actor=requested_editor, challenge_id=challenge.id, pledge_pence=100,
                            message="", now=now)
    actor = {"lead editor": lambda: editor, "lead viewer": lambda: b.viewer(lead),
             "authority viewer": lambda: b.viewer(b.authority()),
             "unverified authority editor": lambda: b.editor(b.authority(verified=False)),
             "supplier": lambda: b.supplier(), "visitor": lambda: None,
             "already invited": lambda: invited_editor,
             "already requested": lambda: requested_editor}[who]()
    before = _funders(db, challenge.id)
    with pytest.raises(error):
        funding.request_to_join(db, actor=actor, challenge_id=challenge.id, pledge_pence=100, message="",
                                now=now + HOUR)
    assert _funders(db, challenge.id) == before
    assert len(b.outbox(db, "partner_requested")) == 1


def test_an_unverified_authority_cannot_ask_to_join_an_open_challenge(ctx, db, now):
    fw = b.framework(db, now)
    challenge = b.open_challenge(db, now, b.editor(), fw)
    with pytest.raises(NotPermitted):  # the challenge is public; joining is for verified bodies
        funding.request_to_join(db, actor=b.editor(b.authority(verified=False)), challenge_id=challenge.id,
                                pledge_pence=100, message="", now=now)
    assert len(_funders(db, challenge.id)) == 1


@pytest.mark.parametrize("pledge, message, errors", [
    (0, "", {"pledge": "pledge_invalid"}),
    (100_000_000_001, "", {"pledge": "pledge_invalid"}),
    (100, "x" * 2001, {"message": "too_long"}),
])
def test_a_request_needs_a_pledge_and_a_short_message(ctx, db, now, pledge, message, errors):
    _, _, challenge = _draft(db, now)
    with pytest.raises(RuleViolation) as e:
        funding.request_to_join(db, actor=b.editor(), challenge_id=challenge.id, pledge_pence=pledge,
                                message=message, now=now)
    assert e.value.errors == errors
    assert len(_funders(db, challenge.id)) == 1
    assert b.outbox(db, "partner_requested") == []


def test_deciding_needs_a_pending_request_and_a_lead_editor(ctx, db, now):
    lead, editor, challenge = _draft(db, now)
    invited = b.authority()
    invitation = _invite(db, now, editor, challenge, invited)
    joiner = b.authority()
    request = funding.request_to_join(db, actor=b.editor(joiner), challenge_id=challenge.id,
                                      pledge_pence=100, message="", now=now)
    with pytest.raises(NotFound):  # an invitation is not a request
        funding.decide_join_request(db, actor=editor, challenge_id=challenge.id, funder_id=invitation.id,
                                    accept=True, now=now)
    with pytest.raises(NotPermitted):
        funding.decide_join_request(db, actor=b.viewer(lead), challenge_id=challenge.id,
                                    funder_id=request.id, accept=True, now=now)
    with pytest.raises(NotPermitted):  # the asking authority cannot accept itself
        funding.decide_join_request(db, actor=b.editor(joiner), challenge_id=challenge.id,
                                    funder_id=request.id, accept=True, now=now)
    assert [f[2] for f in _funders(db, challenge.id)] == ["accepted", "invited", "requested"]
    assert b.outbox(db, "partner_decided") == []


# --- changing pledges -----------------------------------------------------------------------


def _open_with_partner(db, now):
    """An open challenge whose phase needs £50,000: the lead gives £30,000, a partner £20,000."""
    fw = b.framework(db, now)
    editor = b.editor()
    challenge = b.complete_draft(db, now, editor, fw, pledge_pence=3_000_000)
    partner = b.authority()
    partner_editor = b.editor(partner)
    _invite(db, now, editor, challenge, partner)
    funding.respond_to_invitation(db, actor=partner_editor, challenge_id=challenge.id, accept=True,
                                  pledge_pence=2_000_000, now=now)
    services.publish_challenge(db, actor=editor, challenge_id=challenge.id, now=now)
    return editor, partner_editor, challenge


def test_a_partner_raises_its_pledge(ctx, db, now):
    editor, partner_editor, challenge = _open_with_partner(db, now)
    funding.change_pledge(db, actor=partner_editor, challenge_id=challenge.id, pledge_pence=2_500_000,
                          now=now + HOUR)
    assert b.reload(db, challenge.id).budget_pence == 5_500_000
    [event] = [e for e in b.events(db, "challenge.pledge_changed") if e.actor_id == partner_editor.id]
    assert json.loads(event.data)["before"] == 2_000_000 and json.loads(event.data)["after"] == 2_500_000
    # lowering it again is fine while the phase is still covered
    funding.change_pledge(db, actor=partner_editor, challenge_id=challenge.id, pledge_pence=2_000_000,
                          now=now + HOUR)
    assert b.reload(db, challenge.id).budget_pence == 5_000_000


def test_a_pledge_may_not_leave_a_published_challenge_short(ctx, db, now):
    editor, partner_editor, challenge = _open_with_partner(db, now)
    with pytest.raises(RuleViolation) as e:
        funding.change_pledge(db, actor=partner_editor, challenge_id=challenge.id, pledge_pence=1_999_999,
                              now=now + HOUR)
    assert e.value.errors == {"pledge": "budget_would_fall_short"}
    assert b.reload(db, challenge.id).budget_pence == 5_000_000
    with pytest.raises(RuleViolation) as e:
        funding.set_lead_pledge(db, actor=editor, challenge_id=challenge.id, pledge_pence=2_999_999,
                                now=now + HOUR)
    assert e.value.errors == {"pledge": "budget_would_fall_short"}
    stored = b.reload(db, challenge.id)
    assert [f.pledge_pence for f in stored.funders] == [3_000_000, 2_000_000]
    assert stored.budget_pence == 5_000_000
    assert b.actions(db).count("challenge.pledge_changed") == 1  # only the lead's pledge in the draft


def test_a_draft_pledge_may_fall_short_and_publishing_then_says_so(ctx, db, now):
    fw = b.framework(db, now)
    editor = b.editor()
    challenge = b.complete_draft(db, now, editor, fw)
    funding.set_lead_pledge(db, actor=editor, challenge_id=challenge.id, pledge_pence=0, now=now)
    assert services.publish_problems(b.reload(db, challenge.id), now) == {"phase-1-budget": "budget_short"}


@pytest.mark.parametrize("pledge", [0, 100_000_000_001])
def test_a_changed_pledge_must_be_sensible(ctx, db, now, pledge):
    _, partner_editor, challenge = _open_with_partner(db, now)
    with pytest.raises(RuleViolation) as e:
        funding.change_pledge(db, actor=partner_editor, challenge_id=challenge.id, pledge_pence=pledge,
                              now=now)
    assert e.value.errors == {"pledge": "pledge_invalid"}
    assert b.reload(db, challenge.id).budget_pence == 5_000_000


def test_a_lead_pledge_must_be_sensible(ctx, db, now):
    _, editor, challenge = _draft(db, now)
    for pledge in (-1, 100_000_000_001):
        with pytest.raises(RuleViolation) as e:
            funding.set_lead_pledge(db, actor=editor, challenge_id=challenge.id, pledge_pence=pledge,
                                    now=now)
        assert e.value.errors == {"pledge": "pledge_invalid"}
    assert _funders(db, challenge.id)[0][3] == 0


def test_only_accepted_partners_change_their_pledge(ctx, db, now):
    lead, editor, challenge = _draft(db, now)
    invited = b.authority()
    invited_editor = b.editor(invited)
    _invite(db, now, editor, challenge, invited)
    for actor in (invited_editor, editor, b.editor()):
        with pytest.raises(NotPermitted):
            funding.change_pledge(db, actor=actor, challenge_id=challenge.id, pledge_pence=100, now=now)
    assert [f[3] for f in _funders(db, challenge.id)] == [0, 0]


def test_funding_is_fixed_once_the_challenge_is_under_way(ctx, db, now):
    editor, partner_editor, challenge = _open_with_partner(db, now)
    newcomer = b.authority()
    services.cancel_challenge(db, actor=editor, challenge_id=challenge.id, reason="Stopped", now=now)
    with pytest.raises(NotPermitted):
        funding.change_pledge(db, actor=partner_editor, challenge_id=challenge.id, pledge_pence=1,
                              now=now)
    with pytest.raises(NotPermitted):
        _invite(db, now, editor, challenge, newcomer)
    with pytest.raises(NotPermitted):
        funding.request_to_join(db, actor=b.editor(newcomer), challenge_id=challenge.id, pledge_pence=100,
                                message="", now=now)
    assert [f.pledge_pence for f in db.execute(
        select(ChallengeFunder).where(ChallengeFunder.challenge_id == challenge.id)
        .order_by(ChallengeFunder.id)).scalars()] == [3_000_000, 2_000_000]
