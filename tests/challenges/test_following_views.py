"""Following tags and the e-mail preference, from the account pages and the challenge page."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from procure.accounts.models import User
from procure.challenges.models import TagFollow
from procure.notifications.models import OutboxMessage
from tests.challenges.builders import field_error, location, open_challenge, recently, text_of
from tests.conftest import post_form, sign_in
from tests.factories import OrganisationFactory, member

PAGE = "/account/notifications"


@pytest.fixture
def supplier(db):
    return member(OrganisationFactory(name="Widget Works Ltd", kind="supplier"), role="editor")


def text_of_html(page: str) -> str:
    return html.unescape(page)


def followed(db, user) -> list[str]:
    db.expire_all()
    return list(db.execute(select(TagFollow.tag).where(TagFollow.user_id == user.id)
                           .order_by(TagFollow.tag)).scalars())


def test_visitors_are_sent_to_sign_in(client, db):
    assert location(client.get(PAGE)).startswith("/sign-in")
    response = post_form(client, f"{PAGE}/follow", {"tags": "housing"}, token_from="/sign-in")
    assert location(response).startswith("/sign-in")


def test_account_page_links_to_the_notifications_page(client, db, supplier):
    sign_in(client, db, supplier)
    text = text_of(client.get("/account"))
    assert "E-mail notifications and followed tags" in text and f'href="{PAGE}"' in text


def test_follow_and_unfollow_tags(client, db, supplier):
    sign_in(client, db, supplier)
    assert "You do not follow any tags yet." in text_of(client.get(PAGE))
    response = post_form(client, f"{PAGE}/follow", {"tags": "Housing,  Social   Care, housing"})
    assert response.status_code == 302 and location(response) == PAGE
    assert followed(db, supplier) == ["housing", "social care"]
    text = text_of(client.get(PAGE))
    assert "You now follow: housing, social care" in text
    assert "Unfollow" in text and 'href="/challenges?tag=social+care"' in text

    again = post_form(client, f"{PAGE}/follow", {"tags": "housing"})
    assert again.status_code == 302
    assert "You already follow these tags." in text_of(client.get(PAGE))

    gone = post_form(client, f"{PAGE}/unfollow", {"tag": "housing"})
    assert gone.status_code == 302 and location(gone) == PAGE
    assert followed(db, supplier) == ["social care"]
    assert "You no longer follow housing." in text_of(client.get(PAGE))


@pytest.mark.parametrize("tags, message", [
    ("", "Enter at least one tag"),
    (" , ,", "Enter at least one tag"),
    ("x" * 51, "Each tag must be 50 characters or fewer"),
    (",".join(f"t{n}" for n in range(11)), "Enter no more than 10 tags"),
])
def test_follow_errors_are_shown_by_the_field(client, db, supplier, tags, message):
    sign_in(client, db, supplier)
    response = post_form(client, f"{PAGE}/follow", {"tags": tags})
    assert response.status_code == 400
    assert field_error(response, "tags") == message
    assert "There is a problem" in text_of(response)
    assert followed(db, supplier) == []


def test_e_mail_preference(client, db, supplier):
    sign_in(client, db, supplier)
    page = client.get(PAGE).get_data(as_text=True)
    assert re.search(r'value="yes"[^>]*checked', page)
    response = post_form(client, f"{PAGE}/preferences", {"notify": "no"})
    assert response.status_code == 302
    db.expire_all()
    assert db.get(User, supplier.id).notify_followed_tags is False
    page = client.get(PAGE).get_data(as_text=True)
    assert re.search(r'value="no"[^>]*checked', page)
    assert "Your e-mail preference is saved." in text_of_html(page)
    missing = post_form(client, f"{PAGE}/preferences", {})
    assert missing.status_code == 400
    assert field_error(missing, "notify") == "Select whether we should e-mail you"


def test_follow_a_tag_from_the_challenge_page_and_come_back(app, client, db, supplier):
    editor = member(OrganisationFactory(name="Cardiff Council"), role="editor")
    challenge = open_challenge(db, editor=editor, now=recently(), tags=("housing", "roads"))
    path = f"/challenges/{challenge.id}"
    assert "Follow" not in text_of(app.test_client().get(path)).split("Tags", 1)[1].split(
        "Lead contact")[0]  # visitors are offered no button
    sign_in(client, db, supplier)
    page = text_of(client.get(path))
    assert "Follow the tag housing" in re.sub(r"<[^>]+>", "", page)
    response = post_form(client, f"{PAGE}/follow", {"tags": "housing", "next": path},
                         token_from=path)
    assert response.status_code == 302 and location(response) == path
    assert followed(db, supplier) == ["housing"]
    assert "You follow this tag" in text_of(client.get(path))


@pytest.mark.parametrize("next_url", ["//evil.example/x", "https://evil.example/", "/\\evil", ""])
def test_follow_never_redirects_off_the_site(client, db, supplier, next_url):
    sign_in(client, db, supplier)
    response = post_form(client, f"{PAGE}/follow", {"tags": "housing", "next": next_url},
                         token_from=PAGE)
    assert response.status_code == 302 and location(response) == PAGE


def test_followers_are_told_when_a_challenge_with_their_tag_opens(app, client, db, supplier):
    quiet = member(OrganisationFactory(name="Quiet Ltd", kind="supplier"), role="editor")
    for person, preference in ((supplier, "yes"), (quiet, "no")):
        person_client = app.test_client()
        sign_in(person_client, db, person)
        assert post_form(person_client, f"{PAGE}/follow", {"tags": "housing"}).status_code == 302
        assert post_form(person_client, f"{PAGE}/preferences",
                         {"notify": preference}).status_code == 302
    editor = member(OrganisationFactory(name="Cardiff Council"), role="editor")
    with app.app_context():
        open_challenge(db, editor=editor, now=recently(), tags=("housing",))
    told = db.execute(select(OutboxMessage.recipient_id).where(
        OutboxMessage.template == "challenge_opened")).scalars().all()
    assert told == [supplier.id]


def test_nul_characters_are_dropped_not_stored(client, db, supplier):
    sign_in(client, db, supplier)
    assert post_form(client, f"{PAGE}/follow", {"tags": "hous\x00ing"}).status_code == 302
    assert followed(db, supplier) == ["housing"]
    assert post_form(client, f"{PAGE}/unfollow", {"tag": "hous\x00ing"}).status_code == 302
    assert followed(db, supplier) == []
