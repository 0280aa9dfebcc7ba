"""Read-only lists of challenges: the public list with filters, and an authority's own."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from procure.accounts.models import Organisation
from procure.challenges.lifecycle import ChallengeStatus
from procure.challenges.models import Challenge, ChallengeFunder, ChallengeTag, FunderStatus

PER_PAGE = 20


@dataclass(frozen=True)
class Page:
    items: list[Challenge]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _listing_options():
    return (selectinload(Challenge.lead_organisation), selectinload(Challenge.tags),
            selectinload(Challenge.phases),
            selectinload(Challenge.funders).selectinload(ChallengeFunder.organisation))


def open_challenges(session: Session, *, page: int = 1, tag: str | None = None,
                    authority_id: int | None = None, per_page: int = PER_PAGE) -> Page:
    """Open challenges, newest first, optionally with a tag or from one authority (lead or partner)."""
    stmt = select(Challenge).where(Challenge.status == ChallengeStatus.OPEN)
    if tag:
        stmt = stmt.where(Challenge.id.in_(select(ChallengeTag.challenge_id)
                                           .where(ChallengeTag.tag == tag)))
    if authority_id:
        stmt = stmt.where(Challenge.id.in_(
            select(ChallengeFunder.challenge_id).where(
                ChallengeFunder.organisation_id == authority_id,
                ChallengeFunder.status == FunderStatus.ACCEPTED)))
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    page = max(1, page)
    items = list(session.execute(
        stmt.options(*_listing_options())
        .order_by(Challenge.opened_at.desc(), Challenge.id.desc())
        .limit(per_page).offset((page - 1) * per_page)
    ).scalars())
    return Page(items=items, total=total, page=page, per_page=per_page)


def open_tags(session: Session) -> list[str]:
    """Every tag on an open challenge, for the filter."""
    return list(session.execute(
        select(ChallengeTag.tag).join(Challenge).where(Challenge.status == ChallengeStatus.OPEN)
        .distinct().order_by(ChallengeTag.tag)
    ).scalars())


def open_authorities(session: Session) -> list[Organisation]:
    """Authorities leading or funding an open challenge, for the filter."""
    return list(session.execute(
        select(Organisation).where(Organisation.id.in_(
            select(ChallengeFunder.organisation_id).join(Challenge).where(
                Challenge.status == ChallengeStatus.OPEN,
                ChallengeFunder.status == FunderStatus.ACCEPTED)))
        .order_by(Organisation.name)
    ).scalars())


def challenges_of(session: Session, organisation_id: int) -> list[Challenge]:
    """Every challenge an authority leads or is involved in funding, newest change first."""
    return list(session.execute(
        select(Challenge).where(
            (Challenge.lead_organisation_id == organisation_id)
            | Challenge.id.in_(select(ChallengeFunder.challenge_id).where(
                ChallengeFunder.organisation_id == organisation_id,
                ChallengeFunder.status.in_([FunderStatus.INVITED, FunderStatus.REQUESTED,
                                            FunderStatus.ACCEPTED]))))
        .options(*_listing_options())
        .order_by(Challenge.updated_at.desc(), Challenge.id.desc())
    ).scalars())


def drafts_seeking_partners(session: Session, *, exclude_organisation_id: int) -> list[Challenge]:
    """Drafts other authorities are preparing, so a public body can offer to co-fund one."""
    return list(session.execute(
        select(Challenge).where(Challenge.status == ChallengeStatus.DRAFT,
                                Challenge.lead_organisation_id != exclude_organisation_id)
        .options(*_listing_options())
        .order_by(Challenge.updated_at.desc(), Challenge.id.desc()).limit(50)
    ).scalars())

