"""Following tags: suppliers hear when a challenge on a topic they follow opens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from procure.audit import services as audit
from procure.challenges import rules
from procure.challenges.models import TagFollow
from procure.errors import NotPermitted, RuleViolation
from procure.permissions import Permission, can

MAX_FOLLOWS = 50


def followed_tags(session: Session, user: Any) -> list[str]:
    return list(session.execute(
        select(TagFollow.tag).where(TagFollow.user_id == user.id).order_by(TagFollow.tag)
    ).scalars())


def follow_tags(session: Session, *, actor: Any, tags_text: str, now: datetime) -> list[str]:
    """Follow one or more tags (comma-separated); following one twice changes nothing."""
    if not can(actor, Permission.TAG_FOLLOW):
        raise NotPermitted(str(Permission.TAG_FOLLOW))
    try:
        tags = rules.normalise_tags(tags_text)
    except ValueError as e:
        raise RuleViolation({"tags": str(e)}) from None
    if not tags:
        raise RuleViolation({"tags": "tags_missing"})
    current = set(followed_tags(session, actor))
    new = [t for t in tags if t not in current]
    if len(current) + len(new) > MAX_FOLLOWS:
        raise RuleViolation({"tags": "too_many_follows"})
    for tag in new:
        session.add(TagFollow(user_id=actor.id, tag=tag, created_at=now))
    if new:
        audit.record(session, action="user.tags_followed", subject_type="user", subject_id=actor.id,
                     actor_id=actor.id, now=now, data={"tags": new})
    session.commit()
    return new


def unfollow_tag(session: Session, *, actor: Any, tag: str, now: datetime) -> None:
    """Stop following a tag."""
    if not can(actor, Permission.TAG_FOLLOW):
        raise NotPermitted(str(Permission.TAG_FOLLOW))
    tag = " ".join(tag.split()).casefold()
    result = session.execute(delete(TagFollow).where(TagFollow.user_id == actor.id,
                                                     TagFollow.tag == tag))
    if result.rowcount:
        audit.record(session, action="user.tag_unfollowed", subject_type="user",
                     subject_id=actor.id, actor_id=actor.id, now=now, data={"tag": tag})
    session.commit()


def set_notification_preferences(session: Session, *, actor: Any, notify_followed_tags: bool,
                                 now: datetime) -> None:
    """Whether to be e-mailed when a challenge with a followed tag opens."""
    if not can(actor, Permission.TAG_FOLLOW):
        raise NotPermitted(str(Permission.TAG_FOLLOW))
    user = session.merge(actor, load=True) if actor not in session else actor
    if user.notify_followed_tags != notify_followed_tags:
        user.notify_followed_tags = notify_followed_tags
        audit.record(session, action="user.preferences_changed", subject_type="user",
                     subject_id=actor.id, actor_id=actor.id, now=now,
                     data={"notify_followed_tags": notify_followed_tags})
    session.commit()
