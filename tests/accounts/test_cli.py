"""Account commands: an admin's reset of a lost authenticator, and the demo's authenticator key
and ``demo code``."""

from __future__ import annotations

import pyotp
from sqlalchemy import select

from procure.accounts import services
from procure.accounts.models import User
from procure.audit.models import AuditEvent
from procure.db import utcnow
from procure.demo import DEMO_TOTP_SECRET, MFA_USERS, SIGN_INS, USERS, load_demo
from tests.factories import OrganisationFactory, member


def test_reset_mfa_clears_the_authenticator_and_is_audited(app, db):
    user = member(OrganisationFactory(kind="authority"), email="lost@example.org")
    with app.app_context():
        secret = services.enrolment_key(db, user=user, now=utcnow())
        services.confirm_enrolment(db, user=user, code=services.totp_code(secret, utcnow()),
                                   now=utcnow())
    result = app.test_cli_runner().invoke(args=["accounts", "reset-mfa", "Lost@Example.org"])
    assert result.exit_code == 0, result.output
    assert "reset for lost@example.org" in result.output
    db.refresh(user)
    assert not user.mfa_enabled
    assert db.execute(select(AuditEvent.action).order_by(AuditEvent.seq.desc())).scalars().first() \
        == "user.mfa_reset_by_admin"
    missing = app.test_cli_runner().invoke(args=["accounts", "reset-mfa", "nobody@example.org"])
    assert missing.exit_code == 1 and "no account" in missing.output


def test_demo_code_prints_the_current_code_of_the_demo_key(app):
    result = app.test_cli_runner().invoke(args=["demo", "code"])
    assert result.exit_code == 0
    assert pyotp.TOTP(DEMO_TOTP_SECRET).verify(result.output.strip(), valid_window=1)


def test_demo_people_who_must_use_it_have_the_demo_key(app, db):
    with app.app_context():
        load_demo(db, now=utcnow())
        for email, *_rest in USERS:
            user = db.execute(select(User).where(User.email == email)).scalar_one()
            if email in MFA_USERS:
                assert user.mfa_enabled and user.totp_secret == DEMO_TOTP_SECRET, email
            else:
                assert not user.mfa_enabled, email
                assert not services.mfa_required_for(db, user), email
    assert MFA_USERS >= {"admin@procure.example", "editor@council.example",
                         "assessor@expert.example"}
    assert SIGN_INS["totp_key"] == DEMO_TOTP_SECRET
    assert all(what.startswith("* ") == (email in MFA_USERS) for email, what in SIGN_INS["accounts"])
