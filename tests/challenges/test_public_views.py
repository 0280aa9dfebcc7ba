"""The public list and page of a challenge, amending, cancelling and co-funding, through the client."""

from __future__ import annotations

import html as html_lib
import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from procure.challenges import clarifications, services
from procure.challenges.models import Challenge, ChallengeFunder, FunderStatus
from procure.db import utcnow
from procure.notifications.models import OutboxMessage
from tests.challenges.builders import (
    CLOSES_AT,
    QueryCounter,
    draft_challenge,
    field_error,
    location,
    open_challenge,
    recently,
    text_of,
)
from tests.conftest import post_form, sign_in
from tests.factories import OrganisationFactory, member

FIVE_DAY_MESSAGE = "The deadline is less than 5 days away: extend it so at least 5 days remain"


@pytest.fixture
def lead(db):
    return OrganisationFactory(name="Cardiff Council", kind="authority")


@pytest.fixture
def editor(db, lead):
    return member(lead, role="editor", name="Eira Editor")


@pytest.fixture
def supplier(db):
    return member(OrganisationFactory(name="Widget Works Ltd", kind="supplier"), role="editor",
                  name="Sam Supplier")


def outbox(db, template: str) -> list[OutboxMessage]:
    return list(db.execute(select(OutboxMessage).where(OutboxMessage.template == template)
                           .order_by(OutboxMessage.id)).scalars())


# --- the list of open challenges -------------------------------------------------------------

def test_list_shows_open_challenges_with_authority_budget_tags_and_closing_time(client, db, editor):
    challenge = open_challenge(db, editor=editor, now=recently(), tags=("housing", "benefits"))
    partner = OrganisationFactory(name="Newport City Council")
    challenge.funders.append(ChallengeFunder(organisation_id=partner.id, role="partner",
                                             status=FunderStatus.ACCEPTED, pledge_pence=20_000_00,
                                             created_at=recently()))
    draft_challenge(db, editor=editor, now=recently(), title="A draft nobody may see")
    db.flush()

    response = client.get("/challenges")
    text = text_of(response)
    assert response.status_code == 200
    assert "Faster help with housing costs" in text
    assert "A draft nobody may see" not in text
    assert "Led by Cardiff Council" in text and "co-funded by Newport City Council" in text
    assert "£120,000" in text  # the lead's £100,000 and the partner's £20,000
    assert "31 March 2027, 12:00" in text  # 11:00 UTC is noon in London (summer time)
    assert 'href="/challenges?tag=benefits"' in text
    assert f'href="/challenges/{challenge.id}"' in text


def test_list_shows_welsh_title_and_summary_in_welsh(client, db, editor):
    challenge = open_challenge(db, editor=editor, now=recently())
    challenge.title_cy, challenge.summary_cy = "Help cyflymach gyda chostau tai", "Crynodeb"
    db.flush()
    welsh = text_of(client.get("/challenges?lang=cy"))
    assert "Help cyflymach gyda chostau tai" in welsh and "Crynodeb" in welsh
    english = text_of(client.get("/challenges?lang=en"))
    assert "Faster help with housing costs" in english
    assert "Help cyflymach gyda chostau tai" not in english


def test_list_filters_by_tag_and_by_authority(client, db, editor):
    open_challenge(db, editor=editor, now=recently(), tags=("housing",), title="Housing one")
    open_challenge(db, editor=editor, now=recently(), tags=("transport",), title="Transport one")
    other = member(OrganisationFactory(name="Swansea Council"), role="editor")
    open_challenge(db, editor=other, now=recently(), tags=("housing",), title="Swansea housing")

    by_tag = text_of(client.get("/challenges?tag=housing"))
    assert "Housing one" in by_tag and "Swansea housing" in by_tag
    assert "Transport one" not in by_tag
    assert "Open challenges found: 2" in by_tag

    by_authority = text_of(client.get(f"/challenges?authority={other.membership.organisation_id}"))
    assert "Swansea housing" in by_authority
    assert "Housing one" not in by_authority and "Transport one" not in by_authority

    both = text_of(client.get(
        f"/challenges?tag=transport&authority={editor.membership.organisation_id}"))
    assert "Transport one" in both and "Housing one" not in both

    # The filter form offers the tags and authorities of open challenges.
    page = text_of(client.get("/challenges"))
    assert '<option value="transport"' in page
    assert f'<option value="{other.membership.organisation_id}"' in page
    assert "Apply filters" in page


def test_list_paginates_twenty_to_a_page_newest_first(client, db, editor):
    start = recently() - timedelta(hours=1)
    for n in range(25):
        open_challenge(db, editor=editor, now=start + timedelta(minutes=n), title=f"Challenge {n:02d}")

    first = text_of(client.get("/challenges"))
    assert "Open challenges found: 25" in first
    assert "Challenge 24" in first and "Challenge 05" in first
    assert "Challenge 04" not in first
    assert first.index("Challenge 24") < first.index("Challenge 23")
    assert 'class="govuk-pagination' in first and 'href="/challenges?page=2"' in first

    second = text_of(client.get("/challenges?page=2"))
    assert all(f"Challenge {n:02d}" in second for n in range(5))
    assert "Challenge 05" not in second
    assert 'href="/challenges?page=1"' in second

    beyond = client.get("/challenges?page=3")
    assert beyond.status_code == 200
    assert "There are no challenges on page 3." in text_of(beyond)
    assert "Challenge 00" not in text_of(beyond)


def test_pagination_keeps_the_filters(client, db, editor):
    for n in range(21):
        open_challenge(db, editor=editor, now=recently(), tags=("roads",), title=f"Road {n}")
    text = text_of(client.get("/challenges?tag=roads"))
    assert 'href="/challenges?tag=roads&amp;page=2"' in client.get(
        "/challenges?tag=roads").get_data(as_text=True)
    assert "Open challenges found: 21" in text


@pytest.mark.parametrize("query", [
    "page=abc", "page=0", "page=-3", "page=99999999999999999999999", "page=1.5",
    "authority=abc", "authority=999999", "authority=99999999999999999999999", "authority=-1",
    "tag=" + "x" * 300, "tag=%00", "tag=nothing-like-it", "page=&tag=&authority=",
])
def test_bad_filters_never_fail(client, db, editor, query):
    open_challenge(db, editor=editor, now=recently())
    response = client.get(f"/challenges?{query}")
    assert response.status_code == 200
    assert "Open challenges" in text_of(response)


def test_unknown_filters_give_an_empty_list_with_a_message(client, db, editor):
    open_challenge(db, editor=editor, now=recently())
    for query in ("tag=nothing-like-it", "authority=999999", "authority=abc"):
        text = text_of(client.get(f"/challenges?{query}"))
        assert "No open challenges match these filters." in text
        assert "Faster help with housing costs" not in text
    # A page number that is not a number is ignored.
    assert "Faster help with housing costs" in text_of(client.get("/challenges?page=abc"))


def test_list_query_count_does_not_grow_with_the_number_of_challenges(app, client, db, editor):
    partner_org = OrganisationFactory(name="Partner Council")

    def add(n: int) -> None:
        for i in range(n):
            challenge = open_challenge(db, editor=editor, now=recently(), tags=(f"tag{i}", "common"),
                                       title=f"Counted {i}")
            challenge.funders.append(ChallengeFunder(
                organisation_id=partner_org.id, role="partner", status=FunderStatus.ACCEPTED,
                pledge_pence=100, created_at=recently()))
            db.flush()

    counter = QueryCounter(app)
    add(2)
    client.get("/challenges")  # warm up
    with counter:
        assert client.get("/challenges").status_code == 200
    few = counter.count
    add(18)
    with counter:
        text = text_of(client.get("/challenges"))
    assert "Counted 17" in text and "Partner Council" in text
    assert counter.count == few


# --- one challenge -----------------------------------------------------------------------------

def test_visitor_reads_an_open_challenge(client, db, editor):
    challenge = open_challenge(db, editor=editor, now=recently(), bake_off=True)
    challenge.problem_statement += "\n\n<script>alert(1)</script> and **bold** text"
    db.flush()
    response = client.get(f"/challenges/{challenge.id}")
    raw = response.get_data(as_text=True)
    text = text_of(response)
    assert response.status_code == 200
    assert "Faster help with housing costs" in text and "Open" in text
    assert '<div class="procure-markdown">' in raw
    assert "<strong>bold</strong>" in raw and "<script>" not in raw
    assert "<strong>five working days</strong>" in raw  # outcomes sought, in Markdown
    assert "Three councils share the same paper process." in text
    assert "Families who rent" in text
    assert "Eira Editor" in text  # the lead contact
    # Who gives what, and the budget.
    assert "Cardiff Council" in text and "£100,000" in text and "Total budget" in text
    # Phases: dates in London time, contracts, who may take part.
    assert "Phase 1: Proof of concept (feasibility)" in text
    assert "31 March 2027, 12:00" in text
    assert "2 × up to £50,000 each" in text and "3 months" in text
    assert "Open to any supplier" in text
    assert "Phase 2: Bake-off (competitive prototypes)" in text
    assert "By invitation: suppliers shortlisted in phase 1" in text
    # Criteria with the framework's name and version, weights, gates and the scale guidance.
    assert "Technical feasibility" in text and "60%" in text and "40%" in text
    assert "Solution quality (version 1)" in text
    assert "Gate (pass or fail)" in text
    assert "How this criterion is scored" in text and "Feasibility: Good evidence" in text
    assert "3 – good" in text and "Meets the requirement" in text
    # Outcome measures of the bake-off, and the share they carry.
    assert "Days to a decision" in text and "21" in text and "Lower" in text
    assert "Measured outcomes carry 40% of the final score" in text
    # Questions: the deadline, and a way in for suppliers.
    assert "Suppliers can ask questions until 15 March 2027, 12:00." in text
    assert "Sign in as a supplier to ask a question" in text
    assert "First published." in text
    # A visitor is offered no action.
    assert "What you can do" not in text and "Amend" not in text


def test_page_shows_welsh_title_and_summary_in_welsh(client, db, editor):
    challenge = open_challenge(db, editor=editor, now=recently())
    challenge.title_cy, challenge.summary_cy = "Help cyflymach gyda chostau tai", "Crynodeb Cymraeg"
    db.flush()
    welsh = text_of(client.get(f"/challenges/{challenge.id}?lang=cy"))
    assert "Help cyflymach gyda chostau tai" in welsh and "Crynodeb Cymraeg" in welsh
    assert "Dichonoldeb technegol" in welsh  # the criterion's Welsh name


def test_draft_is_not_found_for_visitors_and_suppliers(app, client, db, editor, supplier):
    challenge = draft_challenge(db, editor=editor, now=recently())
    assert client.get(f"/challenges/{challenge.id}").status_code == 404
    sign_in(client, db, supplier)
    assert client.get(f"/challenges/{challenge.id}").status_code == 404
    assert client.get("/challenges/999999").status_code == 404


def test_draft_is_shown_to_another_public_body_with_a_notice(client, db, editor):
    challenge = draft_challenge(db, editor=editor, now=recently())
    other = member(OrganisationFactory(name="Swansea Council"), role="viewer")
    sign_in(client, db, other)
    response = client.get(f"/challenges/{challenge.id}")
    assert response.status_code == 200
    assert "This is a draft; only public bodies can see it" in text_of(response)


def test_page_query_count_does_not_grow_with_clarifications_and_amendments(app, client, db, editor,
                                                                           supplier):
    challenge = open_challenge(db, editor=editor, now=recently(), bake_off=True)

    def add(n: int) -> None:
        with app.app_context():
            _add(n)

    def _add(n: int) -> None:
        for _ in range(n):
            i = len(db.get(Challenge, challenge.id).amendments)
            now = utcnow()
            asked = clarifications.ask_question(db, actor=supplier, challenge_id=challenge.id,
                                                question=f"Question {i}?", now=now)
            clarifications.answer_question(db, actor=editor, clarification_id=asked.id,
                                           question=f"Question {i}?", answer=f"Answer {i}.",
                                           now=now)
            clarifications.ask_question(db, actor=supplier, challenge_id=challenge.id,
                                        question=f"Waiting {i}?", now=now)
            services.amend_challenge(db, actor=editor, challenge_id=challenge.id,
                                     note=f"Change {i}", now=now, context=f"Context {i}")

    counter = QueryCounter(app)
    path = f"/challenges/{challenge.id}"
    add(1)
    sign_in(client, db, supplier)
    client.get(path)
    with counter:
        assert client.get(path).status_code == 200
    few = counter.count
    add(5)
    with counter:
        text = text_of(client.get(path))
    assert "Answer 4." in text and "Change 4" in text and "Waiting 4?" in text
    assert counter.count == few


# --- amending ------------------------------------------------------------------------------------

def _amend_data(client, path: str, **changes) -> dict:
    """The amendment form as the editor got it (prefilled), with ``changes``."""
    html = client.get(path).get_data(as_text=True)
    data: dict[str, str] = {}
    for name in ("summary", "problem_statement", "context", "affected", "outcomes_sought",
                 "summary_cy", "note"):
        match = re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>', html, re.S)
        data[name] = text_of_html(match.group(1)).lstrip("\n") if match else ""
    for name in ("title_cy", "closes_time", "clarification_time"):
        match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', html)
        data[name] = text_of_html(match.group(1)) if match else ""
    for name in ("closes_at", "clarification_deadline"):
        values = re.findall(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', html)
        data[name] = values
    data.update(changes)
    return data


def text_of_html(fragment: str) -> str:
    return html_lib.unescape(fragment)


def test_amend_form_is_prefilled_in_london_time(client, db, editor):
    challenge = open_challenge(db, editor=editor, now=recently())
    sign_in(client, db, editor)
    data = _amend_data(client, f"/challenges/{challenge.id}/amend")
    assert data["closes_at"] == ["31", "03", "2027"] and data["closes_time"] == "12:00"
    assert data["clarification_deadline"] == ["15", "03", "2027"]
    assert data["clarification_time"] == "12:00"
    assert data["problem_statement"].startswith("Families wait too long")
    text = text_of(client.get(f"/challenges/{challenge.id}/amend"))
    assert "within 5 days of the closing date" in text and "Days left before then:" in text


def test_amend_with_a_note_publishes_a_new_version_with_its_history(app, client, db, editor):
    challenge = open_challenge(db, editor=editor, now=recently())
    sign_in(client, db, editor)
    path = f"/challenges/{challenge.id}/amend"
    data = _amend_data(client, path, context="Four councils now share the process.",
                       closes_at=["14", "4", "2027"], closes_time="17:30",
                       note="More councils joined; more time to respond.")
    response = post_form(client, path, data)
    assert response.status_code == 302, field_error(response, "note")
    assert location(response) == f"/challenges/{challenge.id}"

    db.expire_all()
    saved = db.get(Challenge, challenge.id)
    assert saved.version == 2 and saved.context == "Four councils now share the process."
    [amendment] = saved.amendments
    assert [c["field"] for c in amendment.changes] == ["context", "closes_at"]  # nothing else
    assert saved.phases[0].closes_at.isoformat() == "2027-04-14T16:30:00+00:00"

    visitor = app.test_client()
    text = text_of(visitor.get(f"/challenges/{challenge.id}"))
    assert "Version 2" in text and "More councils joined; more time to respond." in text
    assert "Context" in text and "Four councils now share the process." in text
    assert ("Closing date of phase 1: 31 March 2027, 12:00 changed to 14 April 2027, 17:30"
            in text)


def test_amend_needs_a_note_and_a_change(client, db, editor):
    challenge = open_challenge(db, editor=editor, now=recently())
    sign_in(client, db, editor)
    path = f"/challenges/{challenge.id}/amend"
    no_note = post_form(client, path, _amend_data(client, path, context="Changed", note=""))
    assert no_note.status_code == 400
    assert field_error(no_note, "note") == "Explain what changed and why; suppliers read this note"
    unchanged = post_form(client, path, _amend_data(client, path, note="Nothing really"))
    assert unchanged.status_code == 400
    assert field_error(unchanged, "note") == "Change something before publishing an amendment"
    bad_time = post_form(client, path, _amend_data(client, path, closes_time="25:00",
                                                   note="A note"))
    assert bad_time.status_code == 400
    assert field_error(bad_time, "closes_time") == "Enter a time in 24-hour format, like 17:00"
    assert db.get(Challenge, challenge.id).version == 1


def test_amend_within_five_days_must_extend_the_deadline(client, db, editor):
    challenge = open_challenge(db, editor=editor, now=recently())
    path = f"/challenges/{challenge.id}/amend"
    with time_machine.travel(CLOSES_AT - timedelta(days=3), tick=False):
        sign_in(client, db, editor)
        data = _amend_data(client, path, context="A late change", note="Late change")
        refused = post_form(client, path, data)
        assert refused.status_code == 400
        assert field_error(refused, "closes_at") == FIVE_DAY_MESSAGE
        assert "Error:" in text_of(refused)
        assert db.get(Challenge, challenge.id).context != "A late change"
        data.update(closes_at=["12", "4", "2027"], closes_time="12:00")
        extended = post_form(client, path, data)
        assert extended.status_code == 302
    db.expire_all()
    assert db.get(Challenge, challenge.id).version == 2


def test_only_lead_editors_may_amend_or_cancel(client, db, editor, lead, supplier):
    challenge = open_challenge(db, editor=editor, now=recently())
    viewer = member(lead, role="viewer")
    for person in (supplier, viewer):
        sign_in(client, db, person)
        assert client.get(f"/challenges/{challenge.id}/amend").status_code == 403
        assert client.get(f"/challenges/{challenge.id}/cancel").status_code == 403
    anonymous = client.application.test_client()
    assert location(anonymous.get(f"/challenges/{challenge.id}/amend")).startswith("/sign-in")


# --- cancelling ---------------------------------------------------------------------------------

def test_cancel_needs_a_reason_and_shows_the_banner(app, client, db, editor):
    challenge = open_challenge(db, editor=editor, now=recently())
    sign_in(client, db, editor)
    path = f"/challenges/{challenge.id}/cancel"
    form = text_of(client.get(path))
    assert "Cancel challenge" in form and "govuk-button--warning" in form
    refused = post_form(client, path, {"reason": "  "})
    assert refused.status_code == 400
    assert field_error(refused, "reason") == "Give the reason for cancelling; it is published"
    assert db.get(Challenge, challenge.id).status == "open"

    done = post_form(client, path, {"reason": "The service is being replaced nationally."})
    assert done.status_code == 302
    text = text_of(app.test_client().get(f"/challenges/{challenge.id}"))
    assert "govuk-notification-banner" in text
    assert "This challenge was cancelled on" in text
    assert "Reason: The service is being replaced nationally." in text
    assert "Faster help with housing costs" not in text_of(app.test_client().get("/challenges"))
    again = post_form(client, path, {"reason": "Twice"})
    assert again.status_code == 403


# --- co-funding ---------------------------------------------------------------------------------

def _invite(db, challenge, organisation) -> None:
    challenge.funders.append(ChallengeFunder(organisation_id=organisation.id, role="partner",
                                             status=FunderStatus.INVITED, pledge_pence=0,
                                             created_at=recently()))
    db.flush()


def test_partner_accepts_the_invitation_with_a_pledge_and_the_budget_grows(app, client, db,
                                                                          editor):
    challenge = open_challenge(db, editor=editor, now=recently())
    partner_org = OrganisationFactory(name="Newport City Council")
    partner = member(partner_org, role="editor")
    _invite(db, challenge, partner_org)
    sign_in(client, db, partner)
    path = f"/challenges/{challenge.id}"
    page = text_of(client.get(path))
    assert "Invitation to co-fund" in page and "Accept and pledge" in page

    bad = post_form(client, f"{path}/invitation", {"pledge": "lots", "accept": "y"}, token_from=path)
    assert bad.status_code == 400
    assert field_error(bad, "pledge") == "Enter an amount in pounds, like 50000 or 50,000.00"
    assert "There is a problem" in text_of(bad)

    done = post_form(client, f"{path}/invitation", {"pledge": "£25,000", "accept": "y"},
                     token_from=path)
    assert done.status_code == 302
    text = text_of(app.test_client().get(path))
    assert "Newport City Council" in text and "£25,000" in text
    assert "£125,000" in text  # the total budget
    [mail] = outbox(db, "partner_responded")
    assert mail.recipient_id == editor.id


def test_partner_declines_the_invitation(client, db, editor):
    challenge = open_challenge(db, editor=editor, now=recently())
    partner_org = OrganisationFactory(name="Newport City Council")
    _invite(db, challenge, partner_org)
    sign_in(client, db, member(partner_org, role="editor"))
    path = f"/challenges/{challenge.id}"
    response = post_form(client, f"{path}/invitation", {"pledge": "", "decline": "y"},
                         token_from=path)
    assert response.status_code == 302
    db.expire_all()
    row = db.execute(select(ChallengeFunder).where(
        ChallengeFunder.organisation_id == partner_org.id)).scalar_one()
    assert row.status == FunderStatus.DECLINED


def test_accepted_partner_changes_its_pledge_but_not_below_the_contracts(client, db, editor):
    challenge = open_challenge(db, editor=editor, now=recently())
    partner_org = OrganisationFactory(name="Newport City Council")
    challenge.funders.append(ChallengeFunder(organisation_id=partner_org.id, role="partner",
                                             status=FunderStatus.ACCEPTED, pledge_pence=30_000_00,
                                             created_at=recently()))
    services.load_challenge(db, challenge.id).phases[0].max_value_pence = 60_000_00
    db.flush()
    sign_in(client, db, member(partner_org, role="editor"))
    path = f"/challenges/{challenge.id}"
    assert 'value="30000"' in client.get(path).get_data(as_text=True)
    short = post_form(client, f"{path}/pledge", {"pledge": "1000"}, token_from=path)
    assert short.status_code == 400
    assert field_error(short, "pledge") == (
        "The budget would no longer cover every phase's contracts; pledge more")
    assert "£130,000" in text_of(short)  # the refused pledge is not shown as if saved
    db.expire_all()
    assert db.get(ChallengeFunder, challenge.funders[-1].id).pledge_pence == 30_000_00
    raised = post_form(client, f"{path}/pledge", {"pledge": "40000"}, token_from=path)
    assert raised.status_code == 302
    assert "£140,000" in text_of(client.get(path))


def test_another_verified_authority_offers_to_co_fund(client, db, editor):
    challenge = open_challenge(db, editor=editor, now=recently())
    other_org = OrganisationFactory(name="Swansea Council")
    sign_in(client, db, member(other_org, role="editor"))
    path = f"/challenges/{challenge.id}"
    assert "Offer to co-fund" in text_of(client.get(path))
    missing = post_form(client, f"{path}/join", {"pledge": "", "message": ""}, token_from=path)
    assert missing.status_code == 400
    assert field_error(missing, "pledge") == "Enter an amount in pounds"
    response = post_form(client, f"{path}/join", {"pledge": "10000", "message": "We share it."},
                         token_from=path)
    assert response.status_code == 302
    row = db.execute(select(ChallengeFunder).where(
        ChallengeFunder.organisation_id == other_org.id)).scalar_one()
    assert row.status == FunderStatus.REQUESTED and row.pledge_pence == 10_000_00
    [mail] = outbox(db, "partner_requested")
    assert mail.recipient_id == editor.id
    text = text_of(client.get(path))
    assert "Your offer to co-fund (£10,000) is waiting for the lead authority's decision." in text
    assert "Offer to co-fund</h3>" not in client.get(path).get_data(as_text=True)


def test_unverified_authorities_and_suppliers_cannot_offer_to_co_fund(client, db, editor, supplier):
    challenge = open_challenge(db, editor=editor, now=recently())
    unverified = member(OrganisationFactory(name="New Council", verified_at=None), role="editor")
    path = f"/challenges/{challenge.id}"
    for person in (unverified, supplier):
        sign_in(client, db, person)
        assert "Offer to co-fund" not in text_of(client.get(path))
        response = post_form(client, f"{path}/join", {"pledge": "10"}, token_from=path)
        assert response.status_code == 403


def test_lead_editor_sees_the_actions_for_an_open_challenge(app, client, db, editor, supplier):
    challenge = open_challenge(db, editor=editor, now=recently())
    with app.app_context():
        for n in range(2):
            clarifications.ask_question(db, actor=supplier, challenge_id=challenge.id,
                                        question=f"Question {n}?", now=utcnow())
    sign_in(client, db, editor)
    text = text_of(client.get(f"/challenges/{challenge.id}"))
    assert "What you can do" in text
    assert "Amend" in text and "Answer questions (2 waiting)" in text
    assert "Publish a clarification" in text and "Funding and partners" in text
    assert "Cancel" in text
    assert "Offer to co-fund" not in text


def test_lead_editor_of_a_draft_is_sent_to_the_task_list(client, db, editor):
    challenge = draft_challenge(db, editor=editor, now=recently())
    sign_in(client, db, editor)
    response = client.get(f"/challenges/{challenge.id}")
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "This is a draft; only public bodies can see it" in text_of(response)
    assert f'href="/challenges/{challenge.id}/edit">Continue writing this challenge' in text
    assert f'href="/challenges/{challenge.id}/funding"' in text
    assert "Amend" not in text_of(response)
