"""Two-step sign-in services: who must use it, enrolment, codes (window, replay), recovery codes,
re-authentication before changes, the admin reset, and disabling accounts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from procure.accounts import services
from procure.accounts.models import RecoveryCode
from procure.assessment.models import AppointmentStatus, AssessorAppointment
from procure.audit.models import AuditEvent
from procure.errors import InvalidTransition, NotPermitted, RuleViolation
from procure.notifications.models import OutboxMessage
from tests.factories import PASSWORD, OrganisationFactory, UserFactory, member

STEP = timedelta(seconds=30)


def _actions(db) -> list[str]:
    return list(db.execute(select(AuditEvent.action).order_by(AuditEvent.seq)).scalars())


def _templates(db) -> list[str]:
    return list(db.execute(select(OutboxMessage.template).order_by(OutboxMessage.id)).scalars())


def enrolled(db, user, now) -> list[str]:
    """Set up an authenticator for ``user``; returns the recovery codes."""
    secret = services.enrolment_key(db, user=user, now=now)
    return services.confirm_enrolment(db, user=user, code=services.totp_code(secret, now), now=now)


def test_who_must_use_it(ctx, db, now):
    assert services.mfa_required_for(db, UserFactory(is_admin=True))
    assert services.mfa_required_for(db, member(OrganisationFactory(kind="authority"), role="viewer"))
    assert not services.mfa_required_for(db, member(OrganisationFactory(kind="supplier")))
    assert not services.mfa_required_for(db, member(OrganisationFactory(kind="authority"),
                                                    status="pending"))
    assert not services.mfa_required_for(db, UserFactory())


def test_an_accepted_assessor_must_use_it_but_not_one_only_invited(ctx, db, now):
    from tests.assessment.builders import closed_phase

    world = closed_phase(db, now, suppliers=1)
    expert, invited = UserFactory(), UserFactory()
    for person, status in ((expert, AppointmentStatus.ACCEPTED), (invited, AppointmentStatus.INVITED)):
        db.add(AssessorAppointment(phase_id=world.phase.id, user_id=person.id, is_independent=True,
                                   status=status, appointed_by_id=world.lead.id, created_at=now))
    db.commit()
    assert services.mfa_required_for(db, expert)
    assert not services.mfa_required_for(db, invited)


def test_enrolment_needs_a_current_code_from_the_new_key(ctx, db, now):
    user = UserFactory()
    secret = services.enrolment_key(db, user=user, now=now)
    assert services.enrolment_key(db, user=user, now=now) == secret  # kept until confirmed
    uri, qr = services.enrolment_qr(user, secret)
    assert uri.startswith("otpauth://totp/Procure:") and f"secret={secret}" in uri
    assert qr.startswith("data:image/svg+xml")
    with pytest.raises(RuleViolation) as e:
        services.confirm_enrolment(db, user=user, code="000000" if services.totp_code(secret, now)
                                   != "000000" else "111111", now=now)
    assert e.value.errors == {"code": "code_wrong"} and not user.mfa_enabled
    codes = services.confirm_enrolment(db, user=user, code=services.totp_code(secret, now), now=now)
    assert user.mfa_enabled and user.totp_secret == secret and user.totp_pending_secret is None
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = db.execute(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)).scalars()
    assert not set(codes) & set(stored)  # only hashes are kept
    assert "user.mfa_failed" in _actions(db) and "user.mfa_enabled" in _actions(db)
    assert "mfa_enabled" in _templates(db)


def test_codes_in_the_window_work_once_and_old_ones_never(ctx, db, now):
    user = UserFactory()
    enrolled(db, user, now)
    later = now + 10 * STEP
    secret = user.totp_secret
    for stale in (later - 2 * STEP, later + 2 * STEP):
        with pytest.raises(RuleViolation):
            services.verify_second_factor(db, user=user, code=services.totp_code(secret, stale), now=later)
    assert services.verify_second_factor(db, user=user, code=services.totp_code(secret, later - STEP),
                                         now=later) == "totp"
    code = services.totp_code(secret, later)
    assert services.verify_second_factor(db, user=user, code=code, now=later) == "totp"
    with pytest.raises(RuleViolation):  # the same code again: a replay
        services.verify_second_factor(db, user=user, code=code, now=later)
    with pytest.raises(RuleViolation):  # an earlier step after a later one
        services.verify_second_factor(db, user=user, code=services.totp_code(secret, later - STEP),
                                      now=later + STEP)
    assert services.verify_second_factor(db, user=user, code=services.totp_code(secret, later + STEP),
                                         now=later + STEP) == "totp"
    assert _actions(db).count("user.mfa_failed") == 4


def test_recovery_codes_are_single_use_and_tell_the_owner(ctx, db, now):
    user = UserFactory()
    codes = enrolled(db, user, now)
    assert services.verify_second_factor(db, user=user, code=codes[0].upper().replace("-", " "),
                                         now=now) == "recovery"
    with pytest.raises(RuleViolation):
        services.verify_second_factor(db, user=user, code=codes[0], now=now)
    assert services.recovery_codes_left(db, user) == 9
    assert "user.recovery_code_used" in _actions(db)
    assert "mfa_recovery_code_used" in _templates(db)
    other = UserFactory()
    enrolled(db, other, now)
    with pytest.raises(RuleViolation):  # one person's codes are no use to another
        services.verify_second_factor(db, user=other, code=codes[1], now=now)


def test_changes_need_the_password_and_a_current_code(ctx, db, now):
    user = member(OrganisationFactory(kind="supplier"))
    enrolled(db, user, now)
    later = now + 5 * STEP
    with pytest.raises(RuleViolation) as e:
        services.reauthenticate(db, actor=user, password="not the password",
                                code=services.totp_code(user.totp_secret, later), now=later)
    assert e.value.errors == {"current_password": "password_wrong"}
    with pytest.raises(RuleViolation) as e:
        services.reauthenticate(db, actor=user, password=PASSWORD, code="", now=later)
    assert e.value.errors == {"current_code": "code_wrong"}
    assert _actions(db).count("user.reauthentication_failed") == 2
    services.reauthenticate(db, actor=user, password=PASSWORD,
                            code=services.totp_code(user.totp_secret, later), now=later)
    services.disable_mfa(db, actor=user, now=later)
    assert not user.mfa_enabled and services.recovery_codes_left(db, user) == 0
    assert "user.mfa_disabled" in _actions(db) and "mfa_disabled" in _templates(db)
    with pytest.raises(InvalidTransition):
        services.disable_mfa(db, actor=user, now=later)


def test_someone_who_must_use_it_cannot_turn_it_off(ctx, db, now):
    user = member(OrganisationFactory(kind="authority"))
    enrolled(db, user, now)
    with pytest.raises(RuleViolation) as e:
        services.disable_mfa(db, actor=user, now=now)
    assert e.value.errors == {"mfa": "mfa_required"} and user.mfa_enabled


def test_replacing_the_authenticator_and_recovery_codes(ctx, db, now):
    user = member(OrganisationFactory(kind="authority"))
    old_codes = enrolled(db, user, now)
    old_secret = user.totp_secret
    services.enrolment_key(db, user=user, now=now)
    assert user.totp_secret == old_secret  # the old one works until the new one is confirmed
    later = now + STEP
    new_codes = services.confirm_enrolment(
        db, user=user, code=services.totp_code(user.totp_pending_secret, later), now=later)
    assert user.totp_secret != old_secret and "user.mfa_reset" in _actions(db)
    with pytest.raises(RuleViolation):
        services.verify_second_factor(db, user=user, code=old_codes[0], now=later)
    fresh = services.regenerate_recovery_codes(db, actor=user, now=later)
    assert not set(fresh) & set(new_codes)
    with pytest.raises(RuleViolation):
        services.verify_second_factor(db, user=user, code=new_codes[0], now=later)
    assert services.verify_second_factor(db, user=user, code=fresh[0], now=later) == "recovery"


def test_admin_reset_clears_the_authenticator_and_ends_sessions(ctx, db, now):
    user = member(OrganisationFactory(kind="authority"))
    enrolled(db, user, now)
    token = services.start_session(db, user=user, now=now, mfa=True)
    services.reset_mfa(db, email=user.email.upper(), now=now)
    assert not user.mfa_enabled and services.recovery_codes_left(db, user) == 0
    assert services.load_session_user(db, token, now=now) is None
    assert "user.mfa_reset_by_admin" in _actions(db) and "mfa_reset" in _templates(db)


def test_sessions_record_whether_a_second_factor_was_given(ctx, db, now):
    user = UserFactory()
    plain = services.start_session(db, user=user, now=now)
    assert services.load_session_user(db, plain, now=now).current_session_mfa is False
    strong = services.start_session(db, user=user, now=now, mfa=True)
    assert services.load_session_user(db, strong, now=now).current_session_mfa is True
    # Setting up an authenticator while signed in counts for that session.
    services.load_session_user(db, plain, now=now)
    enrolled(db, user, now)
    assert services.load_session_user(db, plain, now=now).current_session_mfa is True


def test_disabling_an_account_ends_its_sessions_at_once(ctx, db, now):
    admin, user = UserFactory(is_admin=True), UserFactory()
    tokens = [services.start_session(db, user=user, now=now) for _ in range(2)]
    services.set_disabled(db, actor=admin, user_id=user.id, disabled=True, now=now)
    assert all(services.load_session_user(db, t, now=now) is None for t in tokens)
    assert services.authenticate(db, email=user.email, password=PASSWORD) is None
    services.set_disabled(db, actor=admin, user_id=user.id, disabled=False, now=now)
    assert services.authenticate(db, email=user.email, password=PASSWORD) is not None
    assert services.load_session_user(db, tokens[0], now=now) is None  # ended sessions stay ended
    assert _actions(db)[-2:] == ["user.disabled", "user.enabled"]
    with pytest.raises(RuleViolation):
        services.set_disabled(db, actor=admin, user_id=admin.id, disabled=True, now=now)
    with pytest.raises(NotPermitted):
        services.set_disabled(db, actor=UserFactory(), user_id=user.id, disabled=True, now=now)
