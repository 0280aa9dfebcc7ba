"""Account services against the database: registration, sessions, organisations, memberships."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from procure.accounts import services
from procure.accounts.models import AccountToken, Membership, User
from procure.audit.models import AuditEvent
from procure.errors import InvalidTransition, NotFound, NotPermitted, RuleViolation
from procure.notifications.models import OutboxMessage
from tests.factories import PASSWORD, OrganisationFactory, UserFactory, member


def _actions(db) -> list[str]:
    return list(db.execute(select(AuditEvent.action).order_by(AuditEvent.seq)).scalars())


def _outbox(db, template: str) -> list[OutboxMessage]:
    return list(db.execute(select(OutboxMessage).where(OutboxMessage.template == template)).scalars())


def test_register_creates_unconfirmed_user_audit_and_welcome_email(ctx, db, now, jobs):
    user = services.register_user(db, name="Ann Jones", email=" Ann@Example.ORG ",
                                  password="a long enough passphrase", locale="cy", now=now)
    assert user.email == "ann@example.org"
    assert user.email_confirmed_at is None and not user.is_active
    assert "user.registered" in _actions(db)
    [mail] = _outbox(db, "welcome")
    assert mail.locale == "cy" and mail.recipient_email == "ann@example.org"
    assert "http://procure.test/confirm-email/" in mail.body
    assert ("procure.notifications.deliver", (mail.id,)) in jobs


def test_register_existing_email_creates_nothing_and_tells_the_owner(ctx, db, now):
    owner = UserFactory(email="taken@example.org")
    result = services.register_user(db, name="Other", email="TAKEN@example.org",
                                    password="a long enough passphrase", locale="en", now=now)
    assert result is None
    assert db.execute(select(User).where(User.email == "taken@example.org")).scalars().all() == [owner]
    [mail] = _outbox(db, "account_exists")
    assert mail.recipient_id == owner.id


@pytest.mark.parametrize("password, code", [
    ("short", "password_too_short"),
    ("password1234", "password_common"),
    ("x" * 257, "password_too_long"),
])
def test_register_refuses_weak_passwords_and_saves_nothing(ctx, db, now, password, code):
    with pytest.raises(RuleViolation) as e:
        services.register_user(db, name="Ann", email="ann@example.org", password=password,
                               locale="en", now=now)
    assert e.value.errors == {"password": code}
    assert services.get_user_by_email(db, "ann@example.org") is None


def test_confirm_token_is_single_use_and_expires(ctx, db, now):
    user = services.register_user(db, name="Ann", email="ann@example.org",
                                  password="a long enough passphrase", locale="en", now=now)
    body = _outbox(db, "welcome")[0].body
    token = body.split("/confirm-email/")[1].split()[0]
    confirmed = services.confirm_email(db, token=token, now=now + timedelta(hours=1))
    assert confirmed.id == user.id and confirmed.is_active
    with pytest.raises(RuleViolation):
        services.confirm_email(db, token=token, now=now + timedelta(hours=2))
    stored = db.execute(select(AccountToken.token_hash)).scalars().all()
    assert token not in stored  # only the hash is kept


def test_confirm_token_refused_after_24_hours(ctx, db, now):
    services.register_user(db, name="Ann", email="ann@example.org",
                           password="a long enough passphrase", locale="en", now=now)
    token = _outbox(db, "welcome")[0].body.split("/confirm-email/")[1].split()[0]
    with pytest.raises(RuleViolation):
        services.confirm_email(db, token=token, now=now + timedelta(hours=24, seconds=1))


def test_authenticate_same_answer_for_unknown_and_wrong(ctx, db):
    UserFactory(email="known@example.org")
    assert services.authenticate(db, email="known@example.org", password="wrong password!") is None
    assert services.authenticate(db, email="nobody@example.org", password="wrong password!") is None
    assert services.authenticate(db, email="KNOWN@example.org", password=PASSWORD) is not None


def test_session_ends_on_sign_out_and_times_out(ctx, db, now):
    user = UserFactory()
    token = services.start_session(db, user=user, now=now)
    assert services.load_session_user(db, token, now=now + timedelta(minutes=5)).id == user.id
    services.end_session(db, token=token, now=now + timedelta(minutes=6))
    assert services.load_session_user(db, token, now=now + timedelta(minutes=7)) is None
    idle = services.start_session(db, user=user, now=now)
    assert services.load_session_user(db, idle, now=now + timedelta(minutes=31)) is None


def test_absolute_timeout_even_when_active(ctx, db, now):
    user = UserFactory()
    token = services.start_session(db, user=user, now=now)
    t = now
    for _ in range(12 * 3):  # active every 20 minutes for 12 hours
        t += timedelta(minutes=20)
        assert services.load_session_user(db, token, now=t) is not None
    assert services.load_session_user(db, token, now=t + timedelta(minutes=20)) is None


def test_change_password_needs_current_and_ends_other_sessions(ctx, db, now):
    user = UserFactory()
    other = services.start_session(db, user=user, now=now)
    mine = services.start_session(db, user=user, now=now)
    with pytest.raises(RuleViolation) as e:
        services.change_password(db, actor=user, current_password="not it at all",
                                 new_password="a brand new passphrase", now=now)
    assert e.value.errors == {"current_password": "password_wrong"}
    services.change_password(db, actor=user, current_password=PASSWORD,
                             new_password="a brand new passphrase", now=now)
    assert services.load_session_user(db, other, now=now) is None
    assert services.load_session_user(db, mine, now=now) is not None
    assert services.authenticate(db, email=user.email, password="a brand new passphrase")


def test_create_organisation_makes_actor_editor_unverified(ctx, db, now):
    user = UserFactory()
    org = services.create_organisation(db, actor=user, name="  Ceredigion   Council ",
                                       kind="authority", now=now)
    assert org.name == "Ceredigion Council" and not org.is_verified
    assert user.active_membership.role == "editor"
    with pytest.raises(NotPermitted):  # one organisation per user
        services.create_organisation(db, actor=user, name="Another", kind="supplier", now=now)
    with pytest.raises(RuleViolation) as e:
        services.create_organisation(db, actor=UserFactory(), name="ceredigion council",
                                     kind="authority", now=now)
    assert e.value.errors == {"name": "organisation_exists"}


def test_membership_request_notifies_editors_and_editor_approves(ctx, db, now):
    org = OrganisationFactory()
    editor = member(org, role="editor", locale="cy")
    member(org, role="viewer")
    applicant = UserFactory()
    m = services.request_membership(db, actor=applicant, organisation_id=org.id, now=now)
    assert m.status == "pending"
    [request_mail] = _outbox(db, "membership_request")
    assert request_mail.recipient_id == editor.id and request_mail.locale == "cy"
    services.decide_membership(db, actor=editor, membership_id=m.id, approve=True, role="viewer",
                               now=now)
    assert db.get(Membership, m.id).status == "active"
    [approved] = _outbox(db, "membership_approved")
    assert approved.recipient_id == applicant.id
    with pytest.raises(InvalidTransition):
        services.decide_membership(db, actor=editor, membership_id=m.id, approve=False,
                                   role="viewer", now=now)


def test_membership_decisions_only_by_editors_of_that_organisation(ctx, db, now):
    org = OrganisationFactory()
    viewer = member(org, role="viewer")
    outsider = member(role="editor")
    pending = services.request_membership(db, actor=UserFactory(), organisation_id=org.id, now=now)
    with pytest.raises(NotPermitted):
        services.decide_membership(db, actor=viewer, membership_id=pending.id, approve=True,
                                   role="editor", now=now)
    with pytest.raises(NotFound):
        services.decide_membership(db, actor=outsider, membership_id=pending.id, approve=True,
                                   role="editor", now=now)


def test_last_editor_cannot_be_demoted(ctx, db, now):
    editor = member(role="editor")
    with pytest.raises(RuleViolation) as e:
        services.change_role(db, actor=editor, membership_id=editor.membership.id, role="viewer",
                             now=now)
    assert e.value.errors == {"role": "last_editor"}


def test_role_change_is_audited(ctx, db, now):
    org = OrganisationFactory()
    editor = member(org)
    viewer = member(org, role="viewer")
    services.change_role(db, actor=editor, membership_id=viewer.membership.id, role="editor",
                         now=now)
    assert "membership.role_changed" in _actions(db)


def test_verify_organisation_admin_only_notifies_editors(ctx, db, now):
    org = OrganisationFactory(verified_at=None)
    editor = member(org)
    admin = UserFactory(is_admin=True)
    with pytest.raises(NotPermitted):
        services.verify_organisation(db, actor=editor, organisation_id=org.id, now=now)
    services.verify_organisation(db, actor=admin, organisation_id=org.id, now=now)
    assert org.is_verified
    [mail] = _outbox(db, "organisation_verified")
    assert mail.recipient_id == editor.id
    with pytest.raises(InvalidTransition):
        services.verify_organisation(db, actor=admin, organisation_id=org.id, now=now)
    with pytest.raises(NotFound):
        services.verify_organisation(db, actor=admin, organisation_id=999_999, now=now)


def test_signing_in_before_confirming_resends_the_link_only_with_the_right_password(ctx, db, now):
    services.register_user(db, name="Ann", email="ann@example.org",
                           password="a long enough passphrase", locale="en", now=now)
    assert not services.resend_confirmation(db, email="ann@example.org",
                                            password="not the password", now=now)
    assert len(_outbox(db, "welcome")) == 1
    later = now + timedelta(minutes=5)
    assert services.resend_confirmation(db, email="ann@example.org",
                                        password="a long enough passphrase", now=later)
    fresh = _outbox(db, "welcome")[-1].body.split("/confirm-email/")[1].split()[0]
    assert services.confirm_email(db, token=fresh, now=later).is_active
    assert not services.resend_confirmation(db, email="ann@example.org",
                                            password="a long enough passphrase", now=later)
