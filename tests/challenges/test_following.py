"""Following tags against the database: normalised tags, no repeats, a limit, unfollowing, and
whether to be e-mailed at all."""

from __future__ import annotations

import json

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import func, select

from procure.accounts.models import User
from procure.challenges import following
from procure.challenges.models import TagFollow
from procure.errors import NotPermitted, RuleViolation
from tests.challenges import service_builders as b


def _follows(db) -> int:
    return db.execute(select(func.count()).select_from(TagFollow)).scalar_one()


def test_following_normalises_tags_and_never_repeats_one(ctx, db, now):
    user = b.supplier()
    new = following.follow_tags(db, actor=user, tags_text=" Social  Care, HOUSING,social care ,, ", now=now)
    assert new == ["social care", "housing"]
    assert following.followed_tags(db, user) == ["housing", "social care"]
    [event] = b.events(db, "user.tags_followed")
    assert (event.subject_type, event.subject_id, event.actor_id) == ("user", str(user.id), user.id)
    assert json.loads(event.data) == {"tags": ["social care", "housing"]}

    assert following.follow_tags(db, actor=user, tags_text="housing, Energy", now=now) == ["energy"]
    assert following.follow_tags(db, actor=user, tags_text="Housing", now=now) == []
    assert following.followed_tags(db, user) == ["energy", "housing", "social care"]
    assert len(b.events(db, "user.tags_followed")) == 2  # following nothing new writes nothing
    assert _follows(db) == 3


def test_anyone_signed_in_may_follow(ctx, db, now):
    for user in (b.editor(), b.viewer(b.authority()), b.no_org_user()):
        assert following.follow_tags(db, actor=user, tags_text="housing", now=now) == ["housing"]
    assert _follows(db) == 3


def test_each_persons_follows_are_their_own(ctx, db, now):
    ann, ben = b.supplier(), b.supplier()
    following.follow_tags(db, actor=ann, tags_text="housing", now=now)
    following.follow_tags(db, actor=ben, tags_text="energy", now=now)
    following.unfollow_tag(db, actor=ben, tag="housing", now=now)
    assert following.followed_tags(db, ann) == ["housing"]
    assert following.followed_tags(db, ben) == ["energy"]


@pytest.mark.parametrize("text, code", [
    ("", "tags_missing"),
    (" , ,", "tags_missing"),
    ("housing, " + "x" * 51, "tag_too_long"),
    (", ".join(f"topic {n}" for n in range(11)), "too_many_tags"),
])
def test_bad_tags_are_refused_and_nothing_followed(ctx, db, now, text, code):
    user = b.supplier()
    with pytest.raises(RuleViolation) as e:
        following.follow_tags(db, actor=user, tags_text=text, now=now)
    assert e.value.errors == {"tags": code}
    db.rollback()
    assert following.followed_tags(db, user) == []


def test_at_most_fifty_follows(ctx, db, now):
    user = b.supplier()
    for start in range(0, 50, 10):
        tags = ", ".join(f"topic {n}" for n in range(start, start + 10))
        following.follow_tags(db, actor=user, tags_text=tags, now=now)
    assert len(following.followed_tags(db, user)) == 50
    # following one already followed is still fine
    assert following.follow_tags(db, actor=user, tags_text="topic 3", now=now) == []
    with pytest.raises(RuleViolation) as e:
        following.follow_tags(db, actor=user, tags_text="topic 1, one more", now=now)
    assert e.value.errors == {"tags": "too_many_follows"}
    db.rollback()
    assert len(following.followed_tags(db, user)) == 50
    assert "one more" not in following.followed_tags(db, user)


def test_unfollowing(ctx, db, now):
    user = b.supplier()
    following.follow_tags(db, actor=user, tags_text="housing, energy", now=now)
    following.unfollow_tag(db, actor=user, tag="housing", now=now)
    assert following.followed_tags(db, user) == ["energy"]
    [event] = b.events(db, "user.tag_unfollowed")
    assert json.loads(event.data) == {"tag": "housing"}
    following.unfollow_tag(db, actor=user, tag="housing", now=now)  # not followed: nothing happens
    following.unfollow_tag(db, actor=user, tag="transport", now=now)
    assert following.followed_tags(db, user) == ["energy"]
    assert len(b.events(db, "user.tag_unfollowed")) == 1


def test_email_preference(ctx, db, now):
    user = b.supplier()
    assert user.notify_followed_tags is True  # on by default
    following.set_notification_preferences(db, actor=user, notify_followed_tags=False, now=now)
    db.expire_all()
    assert db.get(User, user.id).notify_followed_tags is False
    [event] = b.events(db, "user.preferences_changed")
    assert json.loads(event.data) == {"notify_followed_tags": False}
    following.set_notification_preferences(db, actor=user, notify_followed_tags=False, now=now)
    assert len(b.events(db, "user.preferences_changed")) == 1  # unchanged: nothing written
    following.set_notification_preferences(db, actor=user, notify_followed_tags=True, now=now)
    db.expire_all()
    assert db.get(User, user.id).notify_followed_tags is True
    assert len(b.events(db, "user.preferences_changed")) == 2


def test_email_preference_for_a_user_loaded_elsewhere(ctx, db, now):
    user = b.supplier()
    db.expunge(user)  # as a signed-in user loaded by another session would be
    following.set_notification_preferences(db, actor=user, notify_followed_tags=False, now=now)
    db.expire_all()
    assert db.get(User, user.id).notify_followed_tags is False


@pytest.mark.parametrize("who", ["visitor", "anonymous", "unconfirmed", "disabled"])
def test_visitors_cannot_follow(ctx, db, now, who):
    actor = {"visitor": lambda: None, "anonymous": lambda: AnonymousUserMixin(),
             "unconfirmed": lambda: b.no_org_user(email_confirmed_at=None),
             "disabled": lambda: b.no_org_user(is_disabled=True)}[who]()
    with pytest.raises(NotPermitted):
        following.follow_tags(db, actor=actor, tags_text="housing", now=now)
    with pytest.raises(NotPermitted):
        following.unfollow_tag(db, actor=actor, tag="housing", now=now)
    with pytest.raises(NotPermitted):
        following.set_notification_preferences(db, actor=actor, notify_followed_tags=False, now=now)
    db.rollback()
    assert _follows(db) == 0
    assert not any(a.startswith("user.") for a in b.actions(db))
