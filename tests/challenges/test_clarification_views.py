"""Clarification questions through the client: suppliers ask, editors answer in public, nobody is named."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from procure.challenges import clarifications
from procure.challenges.models import Clarification
from procure.db import utcnow
from procure.notifications.models import OutboxMessage
from tests.challenges.builders import (
    CLARIFICATION_DEADLINE,
    draft_challenge,
    field_error,
    location,
    open_challenge,
    recently,
    text_of,
)
from tests.conftest import post_form, sign_in
from tests.factories import OrganisationFactory, member

HINT = ("Do not include anything that identifies your organisation; questions and answers are "
        "published to everyone")


@pytest.fixture
def lead(db):
    return OrganisationFactory(name="Cardiff Council", kind="authority")


@pytest.fixture
def editor(db, lead):
    return member(lead, role="editor", name="Eira Editor")


@pytest.fixture
def supplier(db):
    organisation = OrganisationFactory(name="Widget Works Ltd", kind="supplier")
    return member(organisation, role="editor", name="Sam Supplier", email="sam@widgetworks.example")


@pytest.fixture
def challenge(db, editor):
    return open_challenge(db, editor=editor, now=recently())


def outbox(db, template: str) -> list[OutboxMessage]:
    return list(db.execute(select(OutboxMessage).where(OutboxMessage.template == template)
                           .order_by(OutboxMessage.id)).scalars())


def questions(db, challenge) -> list[Clarification]:
    db.expire_all()
    return list(db.execute(select(Clarification).where(Clarification.challenge_id == challenge.id)
                           .order_by(Clarification.id)).scalars())


def ask(app, db, challenge, supplier, text: str) -> Clarification:
    with app.app_context():
        return clarifications.ask_question(db, actor=supplier, challenge_id=challenge.id,
                                           question=text, now=utcnow())


def test_supplier_asks_editor_answers_and_everyone_reads_it_without_the_asker(
        app, client, db, editor, supplier, challenge):
    sign_in(client, db, supplier)
    path = f"/challenges/{challenge.id}"
    page = text_of(client.get(path))
    assert "Ask a question" in page

    form = text_of(client.get(f"{path}/questions/new"))
    assert HINT in form
    response = post_form(client, f"{path}/questions/new", {
        "question": "Widget Works Ltd asks: must the system run on premises?"})
    assert response.status_code == 302 and location(response) == path
    [stored] = questions(db, challenge)
    assert stored.asked_by_id == supplier.id and stored.published_at is None
    [mail] = outbox(db, "question_asked")
    assert mail.recipient_id == editor.id and mail.recipient_email == editor.email
    assert "must the system run on premises?" in mail.body

    # Until it is answered only the supplier itself sees it, and nobody else.
    assert "Your questions awaiting an answer" in text_of(client.get(path))
    visitor = app.test_client()
    assert "must the system run on premises?" not in text_of(visitor.get(path))

    editor_client = app.test_client()
    sign_in(editor_client, db, editor)
    listing = text_of(editor_client.get(f"{path}/questions"))
    assert "must the system run on premises?" in listing
    assert "Sam Supplier" not in listing and "sam@widgetworks.example" not in listing
    answer_path = f"{path}/questions/{stored.id}/answer"
    assert "Remove anything that identifies who asked" in text_of(editor_client.get(answer_path))
    answered = post_form(editor_client, answer_path, {
        "question": "Must the system run on premises?",
        "answer": "No. A hosted service is fine if the data stays in the UK."})
    assert answered.status_code == 302
    [reply] = outbox(db, "question_answered")
    assert reply.recipient_id == supplier.id

    text = text_of(visitor.get(path))
    assert "Must the system run on premises?" in text
    assert "A hosted service is fine if the data stays in the UK." in text
    for identifying in ("Sam Supplier", "sam@widgetworks.example", "Widget Works"):
        assert identifying not in text
    assert "No questions have been answered yet." not in text


def test_a_question_is_required(client, db, supplier, challenge):
    sign_in(client, db, supplier)
    response = post_form(client, f"/challenges/{challenge.id}/questions/new", {"question": " "})
    assert response.status_code == 400
    assert field_error(response, "question") == "Enter your question"
    assert questions(db, challenge) == []


def test_questions_are_refused_after_the_deadline(client, db, supplier, challenge):
    path = f"/challenges/{challenge.id}/questions/new"
    with time_machine.travel(CLARIFICATION_DEADLINE + timedelta(minutes=1), tick=False):
        sign_in(client, db, supplier)
        page = client.get(path)
        assert page.status_code == 200
        assert "The deadline for questions has passed" in text_of(page)
        assert 'name="question"' not in text_of(page)
        refused = post_form(client, path, {"question": "Is it too late?"},
                            token_from=f"/challenges/{challenge.id}")
        assert refused.status_code == 400
        assert field_error(refused, "question") == "The deadline for questions has passed"
        assert "Is it too late?" in text_of(refused)  # the input is kept
        shown = text_of(client.get(f"/challenges/{challenge.id}"))
        assert "The deadline for questions was 15 March 2027, 12:00." in shown
        assert "Ask a question" not in shown
    assert questions(db, challenge) == []


def test_only_signed_in_suppliers_may_ask(app, client, db, lead, challenge):
    path = f"/challenges/{challenge.id}/questions/new"
    assert location(client.get(path)).startswith("/sign-in")
    sign_in(client, db, member(OrganisationFactory(name="Swansea Council"), role="editor"))
    assert client.get(path).status_code == 403
    assert post_form(client, path, {"question": "Hello?"},
                     token_from=f"/challenges/{challenge.id}").status_code == 403


def test_no_questions_about_a_draft(client, db, editor, supplier):
    draft = draft_challenge(db, editor=editor, now=recently())
    sign_in(client, db, supplier)
    assert client.get(f"/challenges/{draft.id}/questions/new").status_code == 404


def test_each_supplier_sees_only_its_own_waiting_questions(app, client, db, supplier, challenge):
    ask(app, db, challenge, supplier, "Our own question?")
    other = member(OrganisationFactory(name="Rival Ltd", kind="supplier"), role="editor")
    sign_in(client, db, other)
    text = text_of(client.get(f"/challenges/{challenge.id}"))
    assert "Our own question?" not in text
    assert "Your questions awaiting an answer" not in text


def test_waiting_questions_are_for_the_lead_authority(app, client, db, lead, editor, supplier,
                                                      challenge):
    ask(app, db, challenge, supplier, "First?")
    ask(app, db, challenge, supplier, "Second?")
    path = f"/challenges/{challenge.id}/questions"

    sign_in(client, db, editor)
    text = text_of(client.get(path))
    assert "First?" in text and "Second?" in text
    assert text.count(">Answer<") == 2

    viewer = app.test_client()
    sign_in(viewer, db, member(lead, role="viewer"))
    viewed = text_of(viewer.get(path))
    assert "First?" in viewed and ">Answer<" not in viewed

    for person in (supplier, member(OrganisationFactory(name="Swansea Council"), role="editor")):
        other = app.test_client()
        sign_in(other, db, person)
        assert other.get(path).status_code == 403
    assert location(app.test_client().get(path)).startswith("/sign-in")


def test_answer_needs_a_question_and_an_answer(app, client, db, editor, supplier, challenge):
    asked = ask(app, db, challenge, supplier, "Can we partner?")
    sign_in(client, db, editor)
    path = f"/challenges/{challenge.id}/questions/{asked.id}/answer"
    response = post_form(client, path, {"question": "", "answer": ""})
    assert response.status_code == 400
    assert field_error(response, "question") == "Enter your question"
    assert field_error(response, "answer") == "Enter the answer"
    assert questions(db, challenge)[0].published_at is None


def test_answering_twice_is_refused(app, client, db, editor, supplier, challenge):
    asked = ask(app, db, challenge, supplier, "Once?")
    sign_in(client, db, editor)
    path = f"/challenges/{challenge.id}/questions/{asked.id}/answer"
    token_page = f"/challenges/{challenge.id}/questions"
    assert post_form(client, path, {"question": "Once?", "answer": "Yes."},
                     token_from=token_page).status_code == 302
    assert client.get(path).status_code == 404
    # an answered question is no longer waiting: answering it again finds nothing
    again = post_form(client, path, {"question": "Once?", "answer": "Again."}, token_from=token_page)
    assert again.status_code == 404
    db.expire_all()
    assert db.get(Clarification, asked.id).answer == "Yes."


def test_a_question_of_another_challenge_is_not_found(app, client, db, editor, supplier, challenge):
    other = open_challenge(db, editor=editor, now=recently(), title="Another challenge")
    asked = ask(app, db, other, supplier, "About the other one?")
    sign_in(client, db, editor)
    assert client.get(f"/challenges/{challenge.id}/questions/{asked.id}/answer").status_code == 404
    assert client.get(f"/challenges/{challenge.id}/questions/999999/answer").status_code == 404
    stranger = member(OrganisationFactory(name="Swansea Council"), role="editor")
    sign_in(client, db, stranger)
    assert client.get(f"/challenges/{other.id}/questions/{asked.id}/answer").status_code == 404


def test_editor_publishes_a_clarification_nobody_asked_for(app, client, db, editor, challenge):
    sign_in(client, db, editor)
    path = f"/challenges/{challenge.id}/clarifications/new"
    empty = post_form(client, path, {"question": "", "answer": ""})
    assert empty.status_code == 400
    assert field_error(empty, "question") == "Enter a heading for the clarification"
    assert field_error(empty, "answer") == "Enter the answer"
    done = post_form(client, path, {"question": "Site visits",
                                     "answer": "There will be an open day on **5 January**."})
    assert done.status_code == 302
    page = app.test_client().get(f"/challenges/{challenge.id}")
    assert "Site visits" in text_of(page)
    assert "<strong>5 January</strong>" in page.get_data(as_text=True)


def test_suppliers_may_not_publish_clarifications(client, db, supplier, challenge):
    sign_in(client, db, supplier)
    assert client.get(f"/challenges/{challenge.id}/clarifications/new").status_code == 403


def test_nul_characters_in_a_question_are_dropped(client, db, supplier, challenge):
    sign_in(client, db, supplier)
    response = post_form(client, f"/challenges/{challenge.id}/questions/new",
                         {"question": "Is\x00 it\r\nhosted?"})
    assert response.status_code == 302
    assert [q.question for q in questions(db, challenge)] == ["Is it\nhosted?"]
