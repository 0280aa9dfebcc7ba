"""Two-step sign-in through the pages: the second step, its time limit and throttle, forced set-up
for those who must use it, the account page's changes, and disabled accounts' copied cookies."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from procure.accounts import services
from procure.audit.models import AuditEvent
from procure.db import utcnow
from procure.notifications.models import OutboxMessage
from tests.accounts.test_views import field_error, form_sign_in, location, page
from tests.conftest import post_form, sign_in
from tests.factories import PASSWORD, MembershipFactory, OrganisationFactory, UserFactory, member

STEP = timedelta(seconds=30)


def _actions(db) -> list[str]:
    return list(db.execute(select(AuditEvent.action).order_by(AuditEvent.seq)).scalars())


def _templates(db) -> list[str]:
    return list(db.execute(select(OutboxMessage.template).order_by(OutboxMessage.id)).scalars())


_APP: list = []


@pytest.fixture(autouse=True)
def _remember_app(app):
    _APP[:] = [app]


def _enrol(db, user) -> list[str]:
    """Set up an authenticator directly (the e-mail it queues needs an app context)."""
    now = utcnow() - 3 * STEP  # an earlier step, so the current code is still unused
    with _APP[0].app_context():
        secret = services.enrolment_key(db, user=user, now=now)
        return services.confirm_enrolment(db, user=user, code=services.totp_code(secret, now), now=now)


def _code(user) -> str:
    return services.totp_code(user.totp_secret, utcnow())


def _key_on(response) -> str:
    return re.search(r'data-testid="totp-key">([A-Z2-7 ]+)<', page(response)).group(1).replace(" ", "")


def test_enrolled_user_gives_a_code_after_the_password(client, db):
    user = member(OrganisationFactory(kind="supplier"), email="sam@example.org")
    _enrol(db, user)
    response = form_sign_in(client, "sam@example.org")
    assert location(response) == "/sign-in/code"
    assert location(client.get("/account")).startswith("/sign-in")  # not signed in yet
    wrong = post_form(client, "/sign-in/code", {"code": "12345"})
    assert wrong.status_code == 400
    assert field_error(wrong, "code") == "The code is not correct, has expired or has already been used"
    done = post_form(client, "/sign-in/code", {"code": _code(user)})
    assert done.status_code == 302 and location(done) == "/account"
    assert client.get("/account").status_code == 200
    assert "user.mfa_failed" in _actions(db)
    # The same code cannot sign in a second time.
    other = client.application.test_client()
    form_sign_in(other, "sam@example.org")
    assert post_form(other, "/sign-in/code", {"code": _code(user)}).status_code == 400


def test_a_recovery_code_signs_in_once(client, db):
    user = UserFactory(email="rhys@example.org")
    codes = _enrol(db, user)
    form_sign_in(client, "rhys@example.org")
    response = post_form(client, "/sign-in/code", {"code": codes[3]})
    assert response.status_code == 302
    assert "You have 9 left" in page(client.get("/account"))
    again = client.application.test_client()
    form_sign_in(again, "rhys@example.org")
    assert post_form(again, "/sign-in/code", {"code": codes[3]}).status_code == 400
    assert "mfa_recovery_code_used" in _templates(db)


def test_the_second_step_expires_after_five_minutes(client, db):
    user = UserFactory(email="ffion@example.org")
    _enrol(db, user)
    with time_machine.travel(utcnow(), tick=False) as traveller:
        form_sign_in(client, "ffion@example.org")
        traveller.shift(timedelta(minutes=5, seconds=30))
        response = post_form(client, "/sign-in/code", {"code": _code(user)}, token_from="/sign-in")
        assert location(response) == "/sign-in"
        assert "Your sign-in timed out" in page(client.get("/sign-in"))
        assert location(client.get("/account")).startswith("/sign-in")


def test_the_code_step_without_a_password_first_goes_back_to_sign_in(client):
    assert location(client.get("/sign-in/code")) == "/sign-in"
    assert location(client.get("/sign-in/set-up")) == "/sign-in"


def test_failed_codes_are_throttled_per_account_and_audited(app, client, db):
    user = UserFactory(email="owen@example.org")
    _enrol(db, user)
    form_sign_in(client, "owen@example.org")
    statuses = [post_form(client, "/sign-in/code", {"code": "000001"}).status_code
                for _ in range(6)]
    assert statuses[:5] == [400] * 5 and statuses[5] == 429
    assert post_form(client, "/sign-in/code", {"code": _code(user)}).status_code == 429
    assert "user.sign_in_throttled" in _actions(db)


def test_an_authority_member_sets_up_the_authenticator_while_signing_in(client, db):
    member(OrganisationFactory(kind="authority"), email="eira@example.org")
    response = form_sign_in(client, "eira@example.org", path="/sign-in?next=/challenges")
    assert location(response) == "/sign-in/set-up"
    setup = client.get("/sign-in/set-up")
    assert setup.status_code == 200 and "data:image/svg+xml" in page(setup)
    key = _key_on(setup)
    assert location(client.get("/account")).startswith("/sign-in")
    bad = post_form(client, "/sign-in/set-up", {"code": "99999"})
    assert bad.status_code == 400
    done = post_form(client, "/sign-in/set-up", {"code": services.totp_code(key, utcnow())})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([0-9a-f-]{14})</code></li>", page(done))
    assert len(codes) == 10 and 'href="/challenges"' in page(done)
    assert client.get("/account").status_code == 200
    assert "mfa_enabled" in _templates(db)


def test_a_supplier_is_offered_it_not_made_to(client, db):
    member(OrganisationFactory(kind="supplier"), email="sioned@example.org")
    assert location(form_sign_in(client, "sioned@example.org")) == "/account"
    account = page(client.get("/account"))
    assert "Set up two-step sign-in" in account
    assert client.get("/challenges").status_code == 200


def test_someone_who_becomes_an_authority_member_is_sent_to_set_it_up(client, db):
    user = UserFactory(email="gareth@example.org")
    assert location(form_sign_in(client, "gareth@example.org")) == "/account"
    org = OrganisationFactory(kind="authority")
    member_row = MembershipFactory(user=user, organisation=org)
    assert member_row.status == "active"
    db.refresh(user)
    assert location(client.get("/challenges")) == "/account/two-step/set-up"
    assert client.get("/").status_code == 200  # public pages still open
    setup = client.get("/account/two-step/set-up")
    key = _key_on(setup)
    wrong = post_form(client, "/account/two-step/set-up",
                      {"current_password": "wrong password!", "code": services.totp_code(key, utcnow())})
    assert wrong.status_code == 400
    assert field_error(wrong, "current_password") == "Your current password is not correct"
    done = post_form(client, "/account/two-step/set-up",
                     {"current_password": PASSWORD, "code": services.totp_code(key, utcnow())})
    assert done.status_code == 200 and "Save your recovery codes" in page(done)
    assert client.get("/challenges").status_code == 200


def test_enrolled_user_without_a_second_factor_in_the_session_confirms_a_code(client, db):
    user = member(OrganisationFactory(kind="authority"))
    _enrol(db, user)
    services.start_session(db, user=user, now=utcnow())  # no second factor in this session
    token = services.start_session(db, user=user, now=utcnow())
    with client.session_transaction() as s:
        s["_user_id"] = token
    assert location(client.get("/account")) == "/account/two-step/confirm"
    assert post_form(client, "/account/two-step/confirm", {"code": _code(user)}).status_code == 302
    assert client.get("/account").status_code == 200


def test_a_supplier_turns_it_off_with_password_and_code(client, db):
    user = member(OrganisationFactory(kind="supplier"))
    _enrol(db, user)
    sign_in(client, db, user)
    assert "Turn off two-step sign-in" in page(client.get("/account"))
    refused = post_form(client, "/account/two-step/turn-off",
                        {"current_password": PASSWORD, "current_code": "000000"})
    assert refused.status_code == 400 and field_error(refused, "current_code")
    done = post_form(client, "/account/two-step/turn-off",
                     {"current_password": PASSWORD, "current_code": _code(user)})
    assert location(done) == "/account"
    db.refresh(user)
    assert not user.mfa_enabled and "mfa_disabled" in _templates(db)


def test_a_required_user_may_not_turn_it_off_but_may_make_new_codes(client, db):
    user = member(OrganisationFactory(kind="authority"))
    _enrol(db, user)
    sign_in(client, db, user)
    account = page(client.get("/account"))
    assert "Turn off two-step sign-in" not in account and "cannot be turned off" in account
    assert location(client.get("/account/two-step/turn-off")) == "/account"
    assert "You have 10 unused recovery codes" in page(client.get("/account/two-step/recovery-codes"))
    done = post_form(client, "/account/two-step/recovery-codes",
                     {"current_password": PASSWORD, "current_code": _code(user)})
    assert done.status_code == 200
    assert len(re.findall(r"<li><code>", page(done))) == 10
    assert "user.recovery_codes_replaced" in _actions(db)


def test_replacing_the_authenticator_needs_the_old_code(client, db):
    user = member(OrganisationFactory(kind="authority"))
    _enrol(db, user)
    sign_in(client, db, user)
    setup = client.get("/account/two-step/set-up")
    key = _key_on(setup)
    assert key != user.totp_secret
    refused = post_form(client, "/account/two-step/set-up",
                        {"current_password": PASSWORD, "current_code": "",
                         "code": services.totp_code(key, utcnow())})
    assert refused.status_code == 400
    done = post_form(client, "/account/two-step/set-up",
                     {"current_password": PASSWORD, "current_code": _code(user),
                      "code": services.totp_code(key, utcnow())})
    assert done.status_code == 200
    db.refresh(user)
    assert user.totp_secret == key and "mfa_reset" in _templates(db)
