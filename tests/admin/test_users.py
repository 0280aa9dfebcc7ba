"""Admin account pages: finding accounts, disabling (every session ends, so a copied cookie
stops working) and re-enabling them; admins only, and never oneself."""

from __future__ import annotations

from sqlalchemy import select

from procure.audit.models import AuditEvent
from tests.accounts.test_views import form_sign_in, location, page
from tests.conftest import post_form, sign_in
from tests.factories import UserFactory


def _actions(db) -> list[str]:
    return list(db.execute(select(AuditEvent.action).order_by(AuditEvent.seq)).scalars())


def test_a_copied_cookie_stops_working_when_an_admin_disables_the_account(app, client, db):
    admin = UserFactory(is_admin=True)
    user = UserFactory(email="carys@example.org")
    assert location(form_sign_in(client, "carys@example.org")) == "/account"
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    assert thief.get("/account").status_code == 200
    admin_client = app.test_client()
    sign_in(admin_client, db, admin)
    listing = admin_client.get("/admin/users?q=carys")
    assert listing.status_code == 200 and "carys@example.org" in page(listing)
    response = post_form(admin_client, f"/admin/users/{user.id}/disable", {},
                         token_from="/admin/users")
    assert response.status_code == 302
    assert "is disabled and signed out everywhere" in page(admin_client.get("/admin/users"))
    assert location(thief.get("/account")).startswith("/sign-in")
    assert location(client.get("/account")).startswith("/sign-in")
    assert form_sign_in(app.test_client(), "carys@example.org").status_code == 400
    post_form(admin_client, f"/admin/users/{user.id}/enable", {}, token_from="/admin/users")
    assert location(thief.get("/account")).startswith("/sign-in")  # the old session stays ended
    assert form_sign_in(app.test_client(), "carys@example.org").status_code == 302
    assert "user.disabled" in _actions(db) and "user.enabled" in _actions(db)


def test_admin_pages_for_accounts_are_for_admins_only_and_not_for_oneself(app, client, db):
    admin = UserFactory(is_admin=True)
    sign_in(client, db, admin)
    assert post_form(client, "/admin/users/999999/disable", {},
                     token_from="/admin/users").status_code == 404
    post_form(client, f"/admin/users/{admin.id}/disable", {}, token_from="/admin/users")
    db.refresh(admin)
    assert not admin.is_disabled
    assert client.get("/admin/users?q=" + "x" * 300).status_code == 400
    other = app.test_client()
    sign_in(other, db, UserFactory())
    assert other.get("/admin/users").status_code == 403
