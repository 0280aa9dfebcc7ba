"""Co-funding: the lead invites partner authorities, others ask to join, each pledges (pence)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from procure.accounts.models import Organisation
from procure.challenges import recipients, rules
from procure.challenges.lifecycle import ChallengeStatus
from procure.challenges.models import Challenge, ChallengeFunder, FunderRole, FunderStatus
from procure.challenges.services import _audit, _authorised, _text, _touch
from procure.errors import NotFound, NotPermitted, RuleViolation
from procure.permissions import Permission

MAX_MESSAGE = 2_000


def _check_pledge(pledge_pence: int, field: str = "pledge") -> None:
    if not 1 <= pledge_pence <= rules.MAX_PENCE:
        raise RuleViolation({field: "pledge_invalid"})


def _check_budget_still_covers(challenge: Challenge, row: ChallengeFunder, pledge_pence: int) -> None:
    """Once public, a smaller pledge may not leave a phase short of money (checked before changing)."""
    if challenge.status == ChallengeStatus.DRAFT:
        return
    budget = challenge.budget_pence - row.pledge_pence + pledge_pence
    for phase in challenge.phases:
        if (phase.contracts or 0) * (phase.max_value_pence or 0) > budget:
            raise RuleViolation({"pledge": "budget_would_fall_short"})


def _own_row(challenge: Challenge, actor: Any) -> ChallengeFunder | None:
    org_id = actor.active_membership.organisation_id
    return next((f for f in challenge.funders if f.organisation_id == org_id), None)


def invitable_authorities(session: Session, challenge: Challenge) -> list[Organisation]:
    """Verified authorities the lead could invite: not already funding or asked."""
    taken = {f.organisation_id for f in challenge.funders
             if f.status in (FunderStatus.INVITED, FunderStatus.REQUESTED, FunderStatus.ACCEPTED)}
    orgs = session.execute(
        select(Organisation).where(Organisation.kind == "authority",
                                   Organisation.verified_at.is_not(None))
        .order_by(Organisation.name)
    ).scalars()
    return [o for o in orgs if o.id not in taken]


def set_lead_pledge(session: Session, *, actor: Any, challenge_id: int, pledge_pence: int,
                    now: datetime) -> ChallengeFunder:
    """What the lead authority itself puts in."""
    challenge = _authorised(session, actor, Permission.CHALLENGE_MANAGE_PARTNERS, challenge_id)
    if not 0 <= pledge_pence <= rules.MAX_PENCE:
        raise RuleViolation({"pledge": "pledge_invalid"})
    lead = next(f for f in challenge.funders if f.role == FunderRole.LEAD)
    _check_budget_still_covers(challenge, lead, pledge_pence)
    before = lead.pledge_pence
    lead.pledge_pence = pledge_pence
    _touch(challenge, now)
    _audit(session, challenge, "challenge.pledge_changed", actor, now,
           organisation=lead.organisation_id, before=before, after=pledge_pence)
    session.commit()
    return lead


def invite_partner(session: Session, *, actor: Any, challenge_id: int, organisation_id: int,
                   message: str, now: datetime) -> ChallengeFunder:
    """Ask another verified authority to co-fund; its editors are e-mailed."""
    challenge = _authorised(session, actor, Permission.CHALLENGE_MANAGE_PARTNERS, challenge_id)
    if organisation_id not in {o.id for o in invitable_authorities(session, challenge)}:
        raise RuleViolation({"organisation_id": "partner_invalid"})
    message = _text(message)
    if len(message) > MAX_MESSAGE:
        raise RuleViolation({"message": "too_long"})
    row = next((f for f in challenge.funders if f.organisation_id == organisation_id), None)
    if row is None:
        row = ChallengeFunder(organisation_id=organisation_id, role=FunderRole.PARTNER,
                              created_at=now, pledge_pence=0)
        challenge.funders.append(row)
    row.status, row.message, row.decided_at, row.pledge_pence = FunderStatus.INVITED, message, None, 0
    _touch(challenge, now)
    session.flush()
    _audit(session, challenge, "challenge.partner_invited", actor, now,
           organisation=organisation_id)
    recipients.tell(session, recipients.editors_of(session, organisation_id),
                    key=f"partner-invited:{row.id}:{now.isoformat()}", template="partner_invited",
                    challenge=challenge, now=now, inviter=challenge.lead_organisation.name,
                    message=message)
    session.commit()
    return row


def respond_to_invitation(session: Session, *, actor: Any, challenge_id: int, accept: bool,
                          pledge_pence: int, now: datetime) -> ChallengeFunder:
    """A partner's editor accepts with a pledge, or declines; the lead's editors are told."""
    challenge = _authorised(session, actor, Permission.CHALLENGE_PLEDGE, challenge_id)
    row = _own_row(challenge, actor)
    if row is None or row.status != FunderStatus.INVITED:
        raise NotPermitted(str(Permission.CHALLENGE_PLEDGE))
    if accept:
        _check_pledge(pledge_pence)
        row.status, row.pledge_pence = FunderStatus.ACCEPTED, pledge_pence
    else:
        row.status, row.pledge_pence = FunderStatus.DECLINED, 0
    row.decided_at = now
    _touch(challenge, now)
    _audit(session, challenge, "challenge.partner_accepted" if accept else "challenge.partner_declined",
           actor, now, organisation=row.organisation_id, pledge_pence=row.pledge_pence)
    recipients.tell(session, recipients.editors_of(session, challenge.lead_organisation_id),
                    key=f"partner-responded:{row.id}:{now.isoformat()}",
                    template="partner_responded", challenge=challenge, now=now,
                    partner=row.organisation.name, accepted=accept,
                    pledge=rules.format_money(row.pledge_pence))
    session.commit()
    return row


def change_pledge(session: Session, *, actor: Any, challenge_id: int, pledge_pence: int,
                  now: datetime) -> ChallengeFunder:
    """An accepted partner changes what it gives (never leaving a public challenge short)."""
    challenge = _authorised(session, actor, Permission.CHALLENGE_PLEDGE, challenge_id)
    row = _own_row(challenge, actor)
    if row is None or row.status != FunderStatus.ACCEPTED:
        raise NotPermitted(str(Permission.CHALLENGE_PLEDGE))
    _check_pledge(pledge_pence)
    _check_budget_still_covers(challenge, row, pledge_pence)
    before = row.pledge_pence
    row.pledge_pence = pledge_pence
    _touch(challenge, now)
    _audit(session, challenge, "challenge.pledge_changed", actor, now,
           organisation=row.organisation_id, before=before, after=pledge_pence)
    session.commit()
    return row


def request_to_join(session: Session, *, actor: Any, challenge_id: int, pledge_pence: int,
                    message: str, now: datetime) -> ChallengeFunder:
    """A verified authority offers to co-fund a draft or open challenge; the lead decides."""
    challenge = _authorised(session, actor, Permission.CHALLENGE_REQUEST_JOIN, challenge_id)
    _check_pledge(pledge_pence)
    message = _text(message)
    if len(message) > MAX_MESSAGE:
        raise RuleViolation({"message": "too_long"})
    org_id = actor.active_membership.organisation_id
    row = _own_row(challenge, actor)
    if row is None:
        row = ChallengeFunder(organisation_id=org_id, role=FunderRole.PARTNER, created_at=now)
        challenge.funders.append(row)
    row.status, row.pledge_pence, row.message, row.decided_at = (
        FunderStatus.REQUESTED, pledge_pence, message, None)
    _touch(challenge, now)
    session.flush()
    session.refresh(row, ["organisation"])
    _audit(session, challenge, "challenge.partner_requested", actor, now, organisation=org_id,
           pledge_pence=pledge_pence)
    recipients.tell(session, recipients.editors_of(session, challenge.lead_organisation_id),
                    key=f"partner-requested:{row.id}:{now.isoformat()}",
                    template="partner_requested", challenge=challenge, now=now,
                    partner=row.organisation.name, pledge=rules.format_money(pledge_pence),
                    message=message)
    session.commit()
    return row


def decide_join_request(session: Session, *, actor: Any, challenge_id: int, funder_id: int,
                        accept: bool, now: datetime) -> ChallengeFunder:
    """The lead accepts or declines an authority's offer to co-fund; its editors are told."""
    challenge = _authorised(session, actor, Permission.CHALLENGE_MANAGE_PARTNERS, challenge_id)
    row = next((f for f in challenge.funders if f.id == funder_id), None)
    if row is None or row.status != FunderStatus.REQUESTED:
        raise NotFound("request")
    row.status = FunderStatus.ACCEPTED if accept else FunderStatus.DECLINED
    if not accept:
        row.pledge_pence = 0
    row.decided_at = now
    _touch(challenge, now)
    _audit(session, challenge,
           "challenge.partner_request_accepted" if accept else "challenge.partner_request_declined",
           actor, now, organisation=row.organisation_id)
    recipients.tell(session, recipients.editors_of(session, row.organisation_id),
                    key=f"partner-decided:{row.id}:{now.isoformat()}", template="partner_decided",
                    challenge=challenge, now=now, accepted=accept)
    session.commit()
    return row


def withdraw_invitation(session: Session, *, actor: Any, challenge_id: int, funder_id: int,
                        now: datetime) -> None:
    """The lead takes back an invitation not yet answered."""
    challenge = _authorised(session, actor, Permission.CHALLENGE_MANAGE_PARTNERS, challenge_id)
    row = next((f for f in challenge.funders if f.id == funder_id), None)
    if row is None or row.status != FunderStatus.INVITED:
        raise NotFound("invitation")
    row.status, row.decided_at = FunderStatus.DECLINED, now
    _touch(challenge, now)
    _audit(session, challenge, "challenge.partner_invitation_withdrawn", actor, now,
           organisation=row.organisation_id)
    session.commit()
