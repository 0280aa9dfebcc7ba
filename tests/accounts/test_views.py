"""Account and organisation pages through the test client: what a person sees and what is saved."""

from __future__ import annotations

import html as html_lib
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.routing import IntegerConverter

from procure.accounts.models import Membership, Organisation, User
from procure.audit.models import AuditEvent
from procure.notifications.models import OutboxMessage
from tests.conftest import csrf_token, post_form, sign_in
from tests.factories import PASSWORD, OrganisationFactory, UserFactory, member

NEW_PASSWORD = "a brand new passphrase"


def page(response) -> str:
    return html_lib.unescape(response.get_data(as_text=True))


def field_error(response, field: str) -> str | None:
    """The GOV.UK error message shown next to ``field``, if any."""
    match = re.search(rf'<p id="{field}-error" class="govuk-error-message">\s*'
                      r'<span class="govuk-visually-hidden">[^<]*</span>\s*(.*?)\s*</p>',
                      page(response), re.S)
    return match.group(1) if match else None


def input_value(response, field: str) -> str | None:
    match = re.search(rf'<input[^>]*\bname="{field}"[^>]*\bvalue="([^"]*)"', page(response))
    return match.group(1) if match else None


def location(response) -> str:
    """The redirect target as a path with its query."""
    parts = urlsplit(response.headers["Location"])
    return parts.path + (f"?{parts.query}" if parts.query else "")


def outbox(db, template: str) -> list[OutboxMessage]:
    return list(db.execute(select(OutboxMessage).where(OutboxMessage.template == template)
                           .order_by(OutboxMessage.id)).scalars())


def audit_actions(db) -> list[str]:
    return list(db.execute(select(AuditEvent.action).order_by(AuditEvent.seq)).scalars())


def signed_in(client: FlaskClient, db, user) -> FlaskClient:
    sign_in(client, db, user)
    return client


def form_sign_in(client: FlaskClient, email: str, password: str = PASSWORD, path="/sign-in"):
    return post_form(client, path, {"email": email, "password": password})


# --- registration ---------------------------------------------------------------------------

def test_register_page_shows_the_form(client):
    response = client.get("/register")
    assert response.status_code == 200
    text = page(response)
    assert "Create an account" in text
    assert 'name="csrf_token"' in text
    assert "There is a problem" not in text


@pytest.mark.parametrize("data, field, message", [
    ({"name": "", "email": "", "password": ""}, "name", "Enter your full name"),
    ({"name": "", "email": "", "password": ""}, "email", "Enter your e-mail address"),
    ({"name": "", "email": "", "password": ""}, "password", "Enter a password"),
    ({"name": "Ann", "email": "not-an-address", "password": "a long enough passphrase"},
     "email", "Enter an e-mail address in the correct format, like name@example.com"),
    ({"name": "Ann", "email": "ann@example.org", "password": "short"},
     "password", "Password must be 12 characters or more"),
    ({"name": "Ann", "email": "ann@example.org", "password": "password1234"},
     "password", "Password is too common; choose a longer phrase that is hard to guess"),
    ({"name": "Ann", "email": "annwen@example.org", "password": "annwen's own secret"},
     "password", "Password must not contain your name or e-mail address"),
    ({"name": "A" * 201, "email": "ann@example.org", "password": "a long enough passphrase"},
     "name", "Full name must be 200 characters or fewer"),
])
def test_register_with_problems_shows_errors_and_keeps_input(client, db, data, field, message):
    response = post_form(client, "/register", {"locale": "en", **data})
    assert response.status_code == 400
    text = page(response)
    assert "There is a problem" in text
    assert f'href="#{field}">{message}</a>' in text  # in the error summary, linked to the field
    assert field_error(response, field) == message  # and next to the field
    assert "<title>Error:" in text
    if data["name"]:
        assert input_value(response, "name") == data["name"]
    if data["email"]:
        assert input_value(response, "email") == data["email"]
    assert db.execute(select(User)).first() is None


def test_register_success_redirects_to_check_email_and_sends_link(client, db, jobs):
    response = post_form(client, "/register", {"name": "Ann Jones", "email": "Ann@Example.org",
                                               "password": "a long enough passphrase",
                                               "locale": "cy"})
    assert response.status_code == 302
    assert location(response) == "/register/check-email"
    followed = client.get("/register/check-email")
    assert "ann@example.org" in page(followed)
    user = db.execute(select(User).where(User.email == "ann@example.org")).scalar_one()
    assert user.locale == "cy" and user.email_confirmed_at is None
    [mail] = outbox(db, "welcome")
    assert mail.recipient_id == user.id and mail.locale == "cy"
    assert any(name == "procure.notifications.deliver" for name, _ in jobs)


def _check_email_page(client, email: str) -> tuple[int, str, str]:
    response = post_form(client, "/register", {"name": "Someone", "email": email,
                                               "password": "a long enough passphrase",
                                               "locale": "en"})
    followed = client.get(location(response))
    text = page(followed).replace(email, "EMAIL")
    text = re.sub(r'nonce="[^"]+"', "", text)
    text = re.sub(r'name="csrf_token" value="[^"]+"', "", text)
    return response.status_code, location(response), text


def test_register_same_page_whether_or_not_the_account_exists(app, client, db):
    UserFactory(email="taken@example.org")
    taken = _check_email_page(client, "taken@example.org")
    fresh = _check_email_page(app.test_client(), "fresh@example.org")
    assert taken == fresh
    assert taken[:2] == (302, "/register/check-email")
    # The owner of the existing account is told by e-mail instead; nothing new is created.
    assert [m.recipient_email for m in outbox(db, "account_exists")] == ["taken@example.org"]
    assert len(db.execute(select(User).where(User.email == "taken@example.org")).all()) == 1


# --- confirming the address -----------------------------------------------------------------

def _register_and_get_token(client, db, email="ann@example.org") -> str:
    post_form(client, "/register", {"name": "Ann", "email": email,
                                    "password": "a long enough passphrase", "locale": "en"})
    body = outbox(db, "welcome")[-1].body
    return body.split("/confirm-email/")[1].split()[0]


def test_confirm_email_get_shows_a_button_and_changes_nothing(client, db):
    token = _register_and_get_token(client, db)
    response = client.get(f"/confirm-email/{token}")
    assert response.status_code == 200
    assert "Confirm my e-mail address" in page(response)
    assert 'type="submit"' in page(response) or "<button" in page(response)
    db.expire_all()
    user = db.execute(select(User).where(User.email == "ann@example.org")).scalar_one()
    assert user.email_confirmed_at is None


def test_confirm_email_post_confirms_and_reused_link_has_expired(client, db):
    token = _register_and_get_token(client, db)
    response = post_form(client, f"/confirm-email/{token}", {})
    assert response.status_code == 302 and location(response) == "/sign-in"
    assert "Your e-mail address is confirmed" in page(client.get("/sign-in"))
    db.expire_all()
    user = db.execute(select(User).where(User.email == "ann@example.org")).scalar_one()
    assert user.email_confirmed_at is not None
    assert form_sign_in(client, "ann@example.org", "a long enough passphrase").status_code == 302

    again = post_form(client, f"/confirm-email/{token}", {})
    assert again.status_code == 400
    assert "This link has expired" in page(again)


def test_confirm_email_unknown_token_has_expired(client):
    response = post_form(client, "/confirm-email/not-a-real-token", {})
    assert response.status_code == 400
    assert "This link has expired" in page(response)


# --- signing in and out ---------------------------------------------------------------------

def _normalised(response, email: str) -> str:
    text = page(response).replace(email, "EMAIL")
    text = re.sub(r'nonce="[^"]+"', "", text)
    return re.sub(r'name="csrf_token" value="[^"]+"', "", text)


def test_sign_in_wrong_password_and_unknown_email_look_the_same(client, db):
    UserFactory(email="known@example.org")
    UserFactory(email="new@example.org", email_confirmed_at=None)
    UserFactory(email="gone@example.org", is_disabled=True)
    wrong = form_sign_in(client, "known@example.org", "not the password")
    unknown = form_sign_in(client, "nobody@example.org", "not the password")
    unconfirmed_wrong = form_sign_in(client, "new@example.org", "not the password")
    disabled = form_sign_in(client, "gone@example.org", PASSWORD)
    for response in (wrong, unknown, unconfirmed_wrong, disabled):
        assert response.status_code == 400
        assert field_error(response, "email") == "Enter a correct e-mail address and password"
    expected = _normalised(unknown, "nobody@example.org")
    assert _normalised(wrong, "known@example.org") == expected
    assert _normalised(unconfirmed_wrong, "new@example.org") == expected
    assert _normalised(disabled, "gone@example.org") == expected
    assert outbox(db, "welcome") == []


def test_sign_in_before_confirming_resends_the_link(client, db):
    user = UserFactory(email="new@example.org", email_confirmed_at=None)
    response = form_sign_in(client, "new@example.org", PASSWORD)
    assert response.status_code == 200
    assert "You need to confirm your e-mail address before you can sign in" in page(response)
    assert [m.recipient_id for m in outbox(db, "welcome")] == [user.id]
    assert location(client.get("/account")).startswith("/sign-in")  # not signed in


def test_sign_in_empty_form(client):
    response = post_form(client, "/sign-in", {"email": "", "password": ""})
    assert response.status_code == 400
    assert field_error(response, "email") == "Enter your e-mail address"
    assert field_error(response, "password") == "Enter your password"


def test_sign_in_success_redirects_to_account_and_starts_a_session(client, db):
    user = UserFactory(email="ann@example.org", name="Ann Jones")
    response = form_sign_in(client, "ANN@example.org ")
    assert response.status_code == 302 and location(response) == "/account"
    account = client.get("/account")
    assert account.status_code == 200
    assert "Ann Jones" in page(account)
    assert account.headers["Cache-Control"] == "no-store"
    assert "user.signed_in" in audit_actions(db)
    assert user.id


def test_sign_in_gives_a_new_session(client, db):
    UserFactory(email="ann@example.org")
    with client.session_transaction() as s:  # whatever was in the session before (fixation)
        s["planted"] = "by someone else"
        s["_user_id"] = "a token the attacker knows"
    form_sign_in(client, "ann@example.org")
    with client.session_transaction() as s:
        assert "planted" not in s
        assert s["_user_id"] != "a token the attacker knows"


def test_idle_session_signs_out_after_30_minutes(client, db):
    UserFactory(email="ann@example.org")
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=False) as traveller:
        form_sign_in(client, "ann@example.org")
        traveller.shift(timedelta(minutes=29))
        assert client.get("/account").status_code == 200  # activity resets the idle clock
        traveller.shift(timedelta(minutes=29))
        assert client.get("/account").status_code == 200
        traveller.shift(timedelta(minutes=31))
        assert location(client.get("/account")).startswith("/sign-in")


def test_disabling_an_account_ends_its_sessions(client, db):
    user = UserFactory()
    signed_in(client, db, user)
    assert client.get("/account").status_code == 200
    user.is_disabled = True
    db.flush()
    assert location(client.get("/account")).startswith("/sign-in")


def test_password_reset_by_email_link(app, client, db):
    UserFactory(email="ann@example.org")
    known = post_form(client, "/password/forgot", {"email": "ann@example.org"})
    unknown = post_form(app.test_client(), "/password/forgot", {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 200
    assert _normalised(known, "ann@example.org") == _normalised(unknown, "nobody@example.org")
    [mail] = outbox(db, "password_reset")
    token = mail.body.split("/password/reset/")[1].split()[0]
    response = post_form(client, f"/password/reset/{token}", {"new_password": NEW_PASSWORD})
    assert response.status_code == 302 and location(response) == "/sign-in"
    assert form_sign_in(app.test_client(), "ann@example.org", NEW_PASSWORD).status_code == 302
    again = post_form(client, f"/password/reset/{token}", {"new_password": "another passphrase!"})
    assert again.status_code == 400 and "This link has expired" in page(again)


def test_account_needs_sign_in(client):
    response = client.get("/account")
    assert response.status_code == 302
    assert location(response).startswith("/sign-in")


def test_next_is_honoured_for_local_paths(client, db):
    UserFactory(email="ann@example.org")
    response = form_sign_in(client, "ann@example.org", path="/sign-in?next=/organisation")
    assert location(response) == "/organisation"


def test_login_required_round_trip_returns_to_the_page(client, db):
    UserFactory(email="ann@example.org")
    target = location(client.get("/account/password"))
    assert target.startswith("/sign-in?next=")
    response = form_sign_in(client, "ann@example.org", path=target)
    assert location(response) == "/account/password"


@pytest.mark.parametrize("next_url", [
    "//evil.example",
    "/\\evil.example",
    "https:evil.example",
    "https://evil.example",
    "http://evil.example/account",
    "///evil.example",
    "/\tevil.example",
    "javascript:alert(1)",
    "evil.example",
])
def test_next_refuses_other_sites(client, db, next_url):
    UserFactory(email="ann@example.org")
    from urllib.parse import quote

    response = form_sign_in(client, "ann@example.org", path=f"/sign-in?next={quote(next_url)}")
    assert response.status_code == 302
    assert response.headers["Location"] in ("/account", "http://localhost/account")
    assert location(response) == "/account"


def test_sign_out_is_post_only(client, db):
    signed_in(client, db, UserFactory())
    assert client.get("/sign-out").status_code == 405
    assert client.get("/account").status_code == 200  # still signed in


def test_sign_out_ends_the_session_for_a_copied_cookie(app, client, db):
    UserFactory(email="ann@example.org")
    assert form_sign_in(client, "ann@example.org").status_code == 302
    cookie = client.get_cookie("session")
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    assert thief.get("/account").status_code == 200  # the copy works while signed in

    response = post_form(client, "/sign-out", {}, token_from="/account")
    assert response.status_code == 302 and location(response) == "/"
    assert "You have signed out" in page(client.get("/"))
    assert location(client.get("/account")).startswith("/sign-in")
    stolen = thief.get("/account")
    assert stolen.status_code == 302
    assert location(stolen).startswith("/sign-in")
    assert "user.signed_out" in audit_actions(db)


# --- changing the password ------------------------------------------------------------------

def test_change_password_wrong_current_is_refused(client, db):
    signed_in(client, db, UserFactory())
    response = post_form(client, "/account/password", {"current_password": "not my password",
                                                       "new_password": NEW_PASSWORD})
    assert response.status_code == 400
    assert "There is a problem" in page(response)
    assert field_error(response, "current_password") == "Your current password is not correct"


def test_change_password_weak_new_password_is_refused(client, db):
    signed_in(client, db, UserFactory())
    response = post_form(client, "/account/password", {"current_password": PASSWORD,
                                                       "new_password": "password1234"})
    assert response.status_code == 400
    assert field_error(response, "new_password") == (
        "Password is too common; choose a longer phrase that is hard to guess")


def test_change_password_then_sign_in_with_the_new_one(app, client, db):
    user = UserFactory(email="ann@example.org")
    signed_in(client, db, user)
    response = post_form(client, "/account/password", {"current_password": PASSWORD,
                                                       "new_password": NEW_PASSWORD})
    assert response.status_code == 302 and location(response) == "/account"
    assert "Your password has been changed" in page(client.get("/account"))
    assert [m.recipient_id for m in outbox(db, "password_changed")] == [user.id]
    other = app.test_client()
    assert form_sign_in(other, "ann@example.org", PASSWORD).status_code == 400
    assert form_sign_in(other, "ann@example.org", NEW_PASSWORD).status_code == 302


# --- language -------------------------------------------------------------------------------

def test_language_switch_sets_cookie_and_is_remembered(client):
    english = client.get("/")
    assert '<html lang="en"' in page(english)
    welsh = client.get("/?lang=cy")
    assert '<html lang="cy"' in page(welsh)
    assert "procure_lang=cy" in welsh.headers["Set-Cookie"]
    assert client.get_cookie("procure_lang").value == "cy"
    again = client.get("/cookies")
    assert '<html lang="cy"' in page(again)
    assert 'hreflang="en"' in page(again)  # the link back to English
    back = client.get("/?lang=en")
    assert '<html lang="en"' in page(back)
    assert '<html lang="en"' in page(client.get("/"))


def test_unknown_language_is_ignored(client):
    response = client.get("/?lang=xx")
    assert '<html lang="en"' in page(response)
    assert client.get_cookie("procure_lang") is None


def test_account_language_saved_for_emails(client, db):
    user = UserFactory(locale="en")
    signed_in(client, db, user)
    response = post_form(client, "/account/language", {"locale": "cy"}, token_from="/account")
    assert response.status_code == 302
    assert location(response) == "/account?lang=cy"
    db.expire_all()
    assert db.get(User, user.id).locale == "cy"


# --- organisations --------------------------------------------------------------------------

def test_organisation_page_offers_create_or_join_without_membership(client, db):
    signed_in(client, db, UserFactory())
    response = client.get("/organisation")
    assert response.status_code == 200
    assert "Register a new organisation" in page(response)
    assert "Ask to join" in page(response)


def test_create_organisation_through_the_form(client, db):
    user = UserFactory()
    signed_in(client, db, user)
    response = post_form(client, "/organisation/new",
                         {"name": "  Ceredigion   Council ", "kind": "authority"})
    assert response.status_code == 302 and location(response) == "/organisation"
    shown = page(client.get("/organisation"))
    assert "Ceredigion Council" in shown and "Awaiting verification" in shown
    org = db.execute(select(Organisation)).scalar_one()
    assert org.kind == "authority" and not org.is_verified
    membership = db.execute(select(Membership).where(Membership.user_id == user.id)).scalar_one()
    assert (membership.role, membership.status) == ("editor", "active")
    # One organisation per person: the form is no longer offered.
    assert client.get("/organisation/new").status_code == 403


@pytest.mark.parametrize("data, field, message", [
    ({"name": "", "kind": "authority"}, "name", "Enter the name of the organisation"),
    ({"name": "Good name"}, "kind", "Select the type of organisation"),
    ({"name": "taken  ORGANISATION", "kind": "supplier"}, "name",
     "An organisation with this name already exists; ask to join it"),
])
def test_create_organisation_problems(client, db, data, field, message):
    OrganisationFactory(name="Taken Organisation")
    signed_in(client, db, UserFactory())
    response = post_form(client, "/organisation/new", data)
    assert response.status_code == 400
    assert "There is a problem" in page(response)
    assert field_error(response, field) == message
    assert db.execute(select(Membership)).first() is None


def test_join_decide_and_change_role_through_the_pages(app, client, db):
    org = OrganisationFactory(name="Bright Ideas Ltd", kind="supplier")
    editor = member(org, role="editor", name="Eve Editor")
    applicant = UserFactory(name="Ann Applicant")

    joiner = signed_in(app.test_client(), db, applicant)
    join_page = joiner.get("/organisation/join")
    assert "Bright Ideas Ltd" in page(join_page)
    response = post_form(joiner, "/organisation/join", {"organisation_id": str(org.id)})
    assert response.status_code == 302 and location(response) == "/organisation"
    assert "waiting for an editor" in page(joiner.get("/organisation"))
    [request_mail] = outbox(db, "membership_request")
    assert request_mail.recipient_id == editor.id

    signed_in(client, db, editor)
    members_page = page(client.get("/organisation"))
    assert "Ann Applicant" in members_page and "Asked to join" in members_page
    pending = db.execute(select(Membership).where(Membership.user_id == applicant.id)).scalar_one()
    response = post_form(client, f"/organisation/members/{pending.id}/decision",
                         {"decision": "viewer"}, token_from="/organisation")
    assert response.status_code == 302
    db.expire_all()
    pending = db.get(Membership, pending.id)
    assert (pending.status, pending.role) == ("active", "viewer")
    assert [m.recipient_id for m in outbox(db, "membership_approved")] == [applicant.id]
    assert "Decision saved" in page(client.get("/organisation"))

    response = post_form(client, f"/organisation/members/{pending.id}/role",
                         {"role": "editor"}, token_from="/organisation")
    assert response.status_code == 302
    db.expire_all()
    assert db.get(Membership, pending.id).role == "editor"
    assert "Role changed" in page(client.get("/organisation"))
    assert "membership.role_changed" in audit_actions(db)


def test_decline_a_request(client, db, now):
    from procure.accounts import services

    org = OrganisationFactory()
    editor = member(org)
    applicant = UserFactory()
    with client.application.app_context():
        pending = services.request_membership(db, actor=applicant, organisation_id=org.id,
                                              now=now)
    signed_in(client, db, editor)
    post_form(client, f"/organisation/members/{pending.id}/decision", {"decision": "decline"},
              token_from="/organisation")
    db.expire_all()
    assert db.get(Membership, pending.id).status == "declined"
    assert [m.recipient_id for m in outbox(db, "membership_declined")] == [applicant.id]


def test_join_without_choosing_an_organisation(client, db):
    OrganisationFactory()
    signed_in(client, db, UserFactory())
    response = post_form(client, "/organisation/join", {"organisation_id": "0"})
    assert response.status_code == 400
    assert field_error(response, "organisation_id") == "Select an organisation"


def test_last_editor_cannot_demote_themself(client, db):
    editor = member(role="editor")
    signed_in(client, db, editor)
    response = post_form(client, f"/organisation/members/{editor.membership.id}/role",
                         {"role": "viewer"}, token_from="/organisation")
    assert response.status_code == 302
    assert "An organisation must keep at least one editor" in page(client.get("/organisation"))
    db.expire_all()
    assert db.get(Membership, editor.membership.id).role == "editor"


def test_member_decisions_by_viewer_403_and_outsider_404(client, app, db, now):
    from procure.accounts import services

    org = OrganisationFactory()
    member(org, role="editor")
    viewer = member(org, role="viewer")
    outsider = member(role="editor")
    with app.app_context():
        pending = services.request_membership(db, actor=UserFactory(), organisation_id=org.id,
                                              now=now)
    path = f"/organisation/members/{pending.id}/decision"
    as_viewer = signed_in(app.test_client(), db, viewer)
    assert post_form(as_viewer, path, {"decision": "editor"},
                     token_from="/organisation").status_code == 403
    as_outsider = signed_in(app.test_client(), db, outsider)
    response = post_form(as_outsider, path, {"decision": "editor"}, token_from="/organisation")
    assert response.status_code == 404
    assert "Page not found" in page(response)
    db.expire_all()
    assert db.get(Membership, pending.id).status == "pending"


# --- admin ----------------------------------------------------------------------------------

def test_admin_verifies_an_organisation(client, db):
    org = OrganisationFactory(name="Example Town Council", verified_at=None)
    editor = member(org)
    signed_in(client, db, UserFactory(is_admin=True))
    listing = client.get("/admin/organisations")
    assert listing.status_code == 200 and "Example Town Council" in page(listing)
    response = post_form(client, f"/admin/organisations/{org.id}/verify", {},
                         token_from="/admin/organisations")
    assert response.status_code == 302 and location(response) == "/admin/organisations"
    assert "Example Town Council is verified" in page(client.get("/admin/organisations"))
    db.expire_all()
    assert db.get(Organisation, org.id).is_verified
    assert [m.recipient_id for m in outbox(db, "organisation_verified")] == [editor.id]


def test_admin_verify_refused_to_non_admins(client, db):
    org = OrganisationFactory(verified_at=None)
    editor = member(org)
    signed_in(client, db, editor)
    response = post_form(client, f"/admin/organisations/{org.id}/verify", {},
                         token_from="/account")
    assert response.status_code == 403
    assert "You do not have permission" in page(response)
    db.expire_all()
    assert not db.get(Organisation, org.id).is_verified


def test_admin_verify_unknown_organisation_is_404(client, db):
    signed_in(client, db, UserFactory(is_admin=True))
    response = post_form(client, "/admin/organisations/999999/verify", {},
                         token_from="/admin/organisations")
    assert response.status_code == 404


def test_admin_verify_twice_is_409(client, db):
    org = OrganisationFactory()  # already verified
    signed_in(client, db, UserFactory(is_admin=True))
    response = post_form(client, f"/admin/organisations/{org.id}/verify", {},
                         token_from="/admin/organisations")
    assert response.status_code == 409


# --- CSRF -----------------------------------------------------------------------------------

def _post_rules(app) -> list[str]:
    paths = []
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods:
            continue
        values = {arg: 1 if isinstance(rule._converters[arg], IntegerConverter)
                  else "dummy-token" for arg in rule.arguments}
        paths.append(rule.build(values)[1])
    return sorted(paths)


def test_every_post_route_is_listed(app):
    paths = _post_rules(app)
    assert "/sign-in" in paths and "/sign-out" in paths and "/register" in paths
    assert "/admin/organisations/1/verify" in paths


@pytest.mark.parametrize("as_user", [False, True], ids=["visitor", "signed-in admin"])
def test_every_post_without_csrf_token_is_refused(app, client, db, as_user):
    user = UserFactory(is_admin=True)
    if as_user:
        signed_in(client, db, user)
    csrf_token(client)  # the session has a token; the form just does not send it
    before = audit_actions(db)
    for path in _post_rules(app):
        response = client.post(path, data={"email": user.email, "password": PASSWORD,
                                           "decision": "editor", "role": "viewer",
                                           "locale": "cy", "name": "X Y", "kind": "supplier"})
        assert response.status_code == 400, path
        assert "Sorry, your form could not be sent" in page(response), path
    assert audit_actions(db) == before  # nothing happened


def test_post_with_a_wrong_csrf_token_is_refused(client, db):
    UserFactory(email="ann@example.org")
    csrf_token(client)
    response = client.post("/sign-in", data={"csrf_token": "forged", "email": "ann@example.org",
                                             "password": PASSWORD})
    assert response.status_code == 400
    assert "Sorry, your form could not be sent" in page(response)
