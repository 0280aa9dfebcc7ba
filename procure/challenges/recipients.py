"""Who hears about a challenge: editors of an authority, people who asked, tag followers."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from procure.accounts.models import Membership, User
from procure.challenges.models import Challenge, Clarification, TagFollow
from procure.notifications.services import external_url, queue_email


def editors_of(session: Session, organisation_id: int) -> list[User]:
    """The active, confirmed editors of an organisation."""
    return list(session.execute(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.organisation_id == organisation_id, Membership.status == "active",
               Membership.role == "editor", User.is_disabled.is_(False),
               User.email_confirmed_at.is_not(None))
        .order_by(User.id)
    ).scalars())


def askers_of(session: Session, challenge_id: int) -> list[User]:
    """Everyone who asked a question about the challenge."""
    return list(session.execute(
        select(User).where(User.id.in_(
            select(Clarification.asked_by_id).where(Clarification.challenge_id == challenge_id)),
            User.is_disabled.is_(False))
        .order_by(User.id)
    ).scalars())


def followers_of(session: Session, tags: Iterable[str]) -> list[User]:
    """People following any of ``tags`` who asked to be e-mailed about them."""
    tags = list(tags)
    if not tags:
        return []
    return list(session.execute(
        select(User).where(User.id.in_(select(TagFollow.user_id).where(TagFollow.tag.in_(tags))),
                           User.notify_followed_tags.is_(True), User.is_disabled.is_(False),
                           User.email_confirmed_at.is_not(None))
        .order_by(User.id)
    ).scalars())


def challenge_context(challenge: Challenge, user: User) -> dict[str, Any]:
    """What every challenge e-mail mentions: the person, the challenge and its public page."""
    title = challenge.title_cy if user.locale == "cy" and challenge.title_cy else challenge.title
    return {"name": user.name, "title": title,
            "authority": challenge.lead_organisation.name,
            "challenge_url": external_url("challenges.show_challenge", challenge_id=challenge.id)}


def tell(session: Session, users: Iterable[User], *, key: str, template: str,
         challenge: Challenge, now: datetime, **context: Any) -> int:
    """Queue one e-mail per person (each keyed by ``key`` and their id, so never twice)."""
    count = 0
    seen: set[int] = set()
    for user in users:
        if user.id in seen:
            continue
        seen.add(user.id)
        queue_email(session, key=f"{key}:{user.id}", template=template, to_email=user.email,
                    locale=user.locale, recipient_id=user.id, now=now,
                    context={**challenge_context(challenge, user), **context})
        count += 1
    return count
