"""Drafting a challenge through its pages: the task list, each section, and publishing."""

from __future__ import annotations

import html as html_lib
import re
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from procure.challenges import funding, services
from procure.challenges.models import Challenge, ChallengeFunder, OutcomeMeasure
from procure.db import utcnow
from procure.values.models import CriterionKind, FrameworkStatus, ValueCriterion, ValueFramework
from tests.conftest import post_form, sign_in
from tests.factories import CREATED, OrganisationFactory, UserFactory, member

PROBLEM = ("Older homes in the valleys lose heat through solid walls, and tenants on low incomes "
           "pay for it every **winter**. We want ways to find and fix the worst homes first.")


# --- reading pages and setting up -------------------------------------------------------------

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
    parts = urlsplit(response.headers["Location"])
    return parts.path + (f"?{parts.query}" if parts.query else "")


def post(client: FlaskClient, path: str, data: dict | None = None):
    """POST as the signed-in browser would (the token is on every page, in the sign-out form)."""
    return post_form(client, path, data or {}, token_from="/")


def day(text: str) -> list[str]:
    """A GOV.UK date input's three boxes, from "31 3 2027"."""
    return text.split()


def framework(db, *, code: str = "solution-quality") -> ValueFramework:
    """A published framework: three scored criteria and one gate."""
    fw = ValueFramework(code=code, version=1, position=0, status=FrameworkStatus.PUBLISHED,
                        name_en="Solution quality", name_cy="Ansawdd yr ateb", created_at=CREATED,
                        published_at=CREATED)
    for n, (c, kind) in enumerate([("feasibility", "scored"), ("innovation", "scored"),
                                   ("value_for_money", "scored"), ("eligibility", "gate")]):
        fw.criteria.append(ValueCriterion(
            code=c, kind=CriterionKind(kind), position=n, name_en=c.replace("_", " ").capitalize(),
            name_cy=f"{c} (cy)", description_en=f"How well it does on {c}",
            description_cy=f"{c} disgrifiad", guidance_en=["g"] * 5, guidance_cy=["g"] * 5))
    db.add(fw)
    db.flush()
    return fw


def criterion(fw: ValueFramework, code: str) -> ValueCriterion:
    return next(c for c in fw.criteria if c.code == code)


def fresh(db, challenge_id: int) -> Challenge:
    db.expire_all()
    return db.execute(select(Challenge).where(Challenge.id == challenge_id)).scalar_one()


PHASE_1 = {"kind": "feasibility", "opens_at": day("1 3 2027"), "opens_time": "09:00",
           "closes_at": day("31 3 2027"), "closes_time": "17:00", "contracts": "2",
           "max_value": "£50,000", "duration_months": "3", "min_assessments": "2",
           "threshold_percent": "60", "outcome_share_percent": "50"}


@pytest.fixture
def lead(db):
    return OrganisationFactory(kind="authority", name="Valleys Council")


@pytest.fixture
def editor(db, lead):
    return member(lead, role="editor", name="Eira Editor")


@pytest.fixture
def fw(db):
    return framework(db)


@pytest.fixture
def draft(db, editor) -> Challenge:
    return services.create_challenge(db, actor=editor, title="Warmer homes", now=utcnow())


def add_phase(db, editor, challenge, kind: str = "feasibility"):
    return services.add_phase(db, actor=editor, challenge_id=challenge.id, kind=kind, now=utcnow())


# --- the whole journey --------------------------------------------------------------------------

def test_an_editor_drafts_every_section_and_publishes(client, db, editor, fw):
    sign_in(client, db, editor)
    mine = client.get("/challenges/mine")
    assert mine.status_code == 200
    assert "Create a challenge" in page(mine)

    response = post(client, "/challenges/new", {"title": "Warmer homes"})
    assert response.status_code == 302
    task_list = location(response)
    challenge_id = int(re.fullmatch(r"/challenges/(\d+)/edit", task_list).group(1))
    base = f"/challenges/{challenge_id}"
    text = page(client.get(task_list))
    assert "<title>Prepare your challenge" in text
    assert "Not yet started" in text and "Add a phase" in text

    steps = [
        (f"{base}/details", {"title": "Warmer homes", "summary": "Find and fix cold homes first.",
                             "problem_statement": PROBLEM, "context": "We tried grants.",
                             "affected": "Tenants on low incomes", "outcomes_sought": "Warmer homes"}),
        (f"{base}/tags", {"tags": "Housing, energy"}),
        (f"{base}/welsh", {"title_cy": "Cartrefi cynhesach", "summary_cy": "Dod o hyd i gartrefi oer."}),
        (f"{base}/contact", {"contact_name": "Housing team", "contact_email": "housing@example.org"}),
        (f"{base}/funding/pledge", {"pledge": "£100,000"}),
    ]
    for path, data in steps:
        response = post(client, path, data)
        assert response.status_code == 302, (path, field_error(response, next(iter(data))))

    response = post(client, f"{base}/phases", {"kind": "feasibility"})
    assert response.status_code == 302
    phase_1 = int(location(response).rsplit("/", 1)[1])
    response = post(client, f"{base}/phases/{phase_1}", PHASE_1)
    assert response.status_code == 302 and location(response) == task_list
    feasibility, innovation, value, gate = fw.criteria
    response = post(client, f"{base}/phases/{phase_1}/criteria",
                    {f"w_{feasibility.id}": "60", f"w_{innovation.id}": "40", f"g_{gate.id}": "y"})
    assert response.status_code == 302

    response = post(client, f"{base}/phases", {"kind": "bake_off"})
    phase_2 = int(location(response).rsplit("/", 1)[1])
    response = post(client, f"{base}/phases/{phase_2}", {
        **PHASE_1, "kind": "bake_off", "opens_at": day("1 5 2027"), "closes_at": day("30 6 2027"),
        "contracts": "1", "max_value": "100000", "outcome_share_percent": "40"})
    assert response.status_code == 302
    response = post(client, f"{base}/phases/{phase_2}/criteria",
                    {f"w_{value.id}": "100", f"g_{gate.id}": "y"})
    assert location(response) == f"{base}/phases/{phase_2}/measures"
    response = post(client, f"{base}/phases/{phase_2}/measures/new", {
        "name": "Homes at rating C", "unit": "homes", "direction": "higher", "baseline": "0",
        "target": "250", "criterion_id": str(value.id), "weight": "100"})
    assert response.status_code == 302

    response = post(client, f"{base}/clarification-deadline",
                    {"clarification_deadline": day("20 3 2027"), "clarification_time": "12:00"})
    assert response.status_code == 302

    text = page(client.get(task_list))
    assert "Not yet started" in text  # only "Check and publish" is left
    assert text.count("Completed") >= 8

    check = client.get(f"{base}/publish")
    assert check.status_code == 200
    text = page(check)
    assert "<title>Check and publish" in text
    assert "There is a problem" not in text and "You cannot publish" not in text
    assert '<div class="procure-markdown"><p>Older homes' in text and "<strong>winter</strong>" in text
    assert "31 March 2027, 17:00" in text  # London (summer) time, stored as 16:00 UTC
    assert "Publish challenge" in text
    assert "Homes at rating C: from 0 to 250 homes, weight 100" in text
    assert f'href="{base}/details#summary">Change<span class="govuk-visually-hidden"> summary</span>' in text

    response = post(client, f"{base}/publish")
    assert response.status_code == 302
    assert location(response) == f"/challenges/{challenge_id}"
    challenge = fresh(db, challenge_id)
    assert challenge.status == "open"
    assert challenge.budget_pence == 10_000_000
    assert challenge.tag_names == ["energy", "housing"]
    assert challenge.title_cy == "Cartrefi cynhesach"
    first, second = challenge.phases
    assert first.closes_at.isoformat() == "2027-03-31T16:00:00+00:00"
    assert first.opens_at.isoformat() == "2027-03-01T09:00:00+00:00"
    assert (first.contracts, first.max_value_pence, first.duration_months) == (2, 5_000_000, 3)
    assert {pc.criterion_id: pc.weight for pc in first.criteria} == {
        feasibility.id: 60, innovation.id: 40, gate.id: None}
    assert second.kind == "bake_off" and second.outcome_share_percent == 40
    [measure] = second.measures
    assert (measure.baseline, measure.target, measure.weight) == (Decimal(0), Decimal(250), 100)


def test_publishing_an_incomplete_draft_is_refused_with_each_problem(client, db, editor, draft, fw):
    phase = add_phase(db, editor, draft)
    add_phase(db, editor, draft)
    sign_in(client, db, editor)
    response = post(client, f"/challenges/{draft.id}/publish")
    assert response.status_code == 400
    text = page(response)
    assert "<title>Error: Check and publish" in text
    assert "There is a problem" in text
    assert f'href="/challenges/{draft.id}/details#summary">Enter a short summary</a>' in text
    assert "Describe the problem</a>" in text
    assert (f'href="/challenges/{draft.id}/clarification-deadline#clarification_deadline">'
            "Enter the deadline for clarification questions</a>") in text
    assert (f'href="/challenges/{draft.id}/phases/{phase.id}#opens_at">'
            "Phase 1: Enter when the phase opens and closes</a>") in text
    assert "Phase 2: Choose the criteria proposals will be judged on</a>" in text
    assert "Publish challenge" not in text
    assert fresh(db, draft.id).status == "draft"

    check = client.get(f"/challenges/{draft.id}/publish")
    assert check.status_code == 200
    assert "You cannot publish this challenge yet" in page(check)
    assert "Publish challenge" not in page(check)


def test_an_unverified_lead_is_told_it_cannot_publish(client, db):
    org = OrganisationFactory(kind="authority", verified_at=None)
    editor = member(org, role="editor")
    challenge = services.create_challenge(db, actor=editor, title="Potholes", now=utcnow())
    sign_in(client, db, editor)
    text = page(client.get(f"/challenges/{challenge.id}/edit"))
    assert "must be verified by an administrator" in text
    text = page(client.get(f"/challenges/{challenge.id}/publish"))
    assert 'href="/organisation">Your organisation must be verified' in text


# --- each form's mistakes ---------------------------------------------------------------------------

def test_weights_that_do_not_add_up_to_100_are_shown_above_the_criteria(client, db, editor, draft,
                                                                           fw):
    phase = add_phase(db, editor, draft)
    sign_in(client, db, editor)
    path = f"/challenges/{draft.id}/phases/{phase.id}/criteria"
    text = page(client.get(path))
    assert "Weights of scored criteria must add up to 100" in text
    assert "Solution quality" in text and "version 1" in text
    assert "How well it does on innovation" in text and "Use this gate" in text

    feasibility, innovation = fw.criteria[0], fw.criteria[1]
    response = post(client, path, {f"w_{feasibility.id}": "50", f"w_{innovation.id}": "40"})
    assert response.status_code == 400
    text = page(response)
    message = "The weights of the scored criteria must add up to 100"
    assert f'href="#w_{feasibility.id}">{message}</a>' in text
    assert 'id="criteria-error" class="govuk-error-message">' in text
    assert "The weights entered add up to 90." in text
    assert input_value(response, f"w_{feasibility.id}") == "50"
    assert phase.criteria == [] and fresh(db, draft.id).phases[0].criteria == []


def test_a_weight_that_is_not_a_number_is_shown_next_to_its_box(client, db, editor, draft, fw):
    phase = add_phase(db, editor, draft)
    sign_in(client, db, editor)
    feasibility = fw.criteria[0]
    response = post(client, f"/challenges/{draft.id}/phases/{phase.id}/criteria",
                    {f"w_{feasibility.id}": "sixty"})
    assert response.status_code == 400
    assert field_error(response, f"w_{feasibility.id}") == "Enter a whole number from 0 to 100"
    assert input_value(response, f"w_{feasibility.id}") == "sixty"


@pytest.mark.parametrize("changes, field, message", [
    ({"opens_at": day("31 3 2027"), "closes_at": day("1 3 2027")},
     "closes_at", "The closing time must be after the opening time"),
    ({"opens_at": day("31 2 2027")}, "opens_at", "Enter a real date, like 27 3 2027"),
    ({"opens_at": day("28 3 2027"), "opens_time": "01:30"}, "opens_time",
     "That time does not exist on that day because the clocks go forward; choose another"),
    ({"opens_time": "5pm"}, "opens_time", "Enter a time in 24-hour format, like 17:00"),
    ({"max_value": "abc"}, "max_value", "Enter an amount in pounds, like 50000 or 50,000.00"),
    ({"max_value": ""}, "max_value", "Enter an amount in pounds"),
    ({"contracts": "0"}, "contracts", "Enter a number of contracts from 1 to 100"),
    ({"contracts": "two"}, "contracts", "Enter a number of contracts from 1 to 100"),
    ({"closes_at": ["", "", ""]}, "closes_at", "Enter the date the phase closes"),
    ({"threshold_percent": "101"}, "threshold_percent", "Enter a percentage from 0 to 100"),
    ({"kind": ""}, "kind", "Select the kind of phase"),
])
def test_phase_mistakes_are_shown_with_the_input_kept(client, db, editor, draft, changes, field,
                                                      message):
    phase = add_phase(db, editor, draft)
    sign_in(client, db, editor)
    response = post(client, f"/challenges/{draft.id}/phases/{phase.id}", {**PHASE_1, **changes})
    assert response.status_code == 400
    text = page(response)
    assert "<title>Error: Phase 1" in text
    assert f'href="#{field}">{message}</a>' in text
    assert field_error(response, field) == message
    if field == "max_value":
        assert input_value(response, "max_value") == changes["max_value"]
    assert fresh(db, draft.id).phases[0].opens_at is None


def test_a_phase_shows_its_saved_values_in_london_time(client, db, editor, draft):
    phase = add_phase(db, editor, draft, kind="bake_off")
    sign_in(client, db, editor)
    assert post(client, f"/challenges/{draft.id}/phases/{phase.id}",
                {**PHASE_1, "kind": "bake_off", "max_value": "1250.5"}).status_code == 302
    response = client.get(f"/challenges/{draft.id}/phases/{phase.id}")
    assert input_value(response, "opens_at") == "01"  # the day box
    assert input_value(response, "closes_time") == "17:00"
    assert input_value(response, "max_value") == "1250.50"
    assert input_value(response, "outcome_share_percent") == "50"
    assert 'value="bake_off" checked' in page(response)


def test_a_clarification_deadline_that_is_not_a_real_date_is_refused(client, db, editor, draft):
    sign_in(client, db, editor)
    response = post(client, f"/challenges/{draft.id}/clarification-deadline",
                    {"clarification_deadline": day("31 2 2027"), "clarification_time": "12:00"})
    assert response.status_code == 400
    assert field_error(response, "clarification_deadline") == "Enter a real date, like 27 3 2027"
    response = post(client, f"/challenges/{draft.id}/clarification-deadline",
                    {"clarification_deadline": day("1 1 2020"), "clarification_time": "12:00"})
    assert response.status_code == 400
    assert field_error(response, "clarification_deadline") == (
        "The deadline for questions must be in the future")


@pytest.mark.parametrize("path, data, field, message", [
    ("details", {"title": " ", "summary": "x"}, "title", "Enter a title"),
    ("details", {"title": "T", "summary": "x" * 2001}, "summary", "This is too long; shorten it"),
    ("tags", {"tags": ", ".join(f"tag{n}" for n in range(11))}, "tags", "Enter no more than 10 tags"),
    ("contact", {"contact_name": "Team", "contact_email": "nope"}, "contact_email",
     "Enter an e-mail address in the correct format, like name@example.com"),
    ("contact", {"contact_name": "", "contact_email": "a@example.org"}, "contact_name",
     "Enter the lead contact's name"),
    ("welsh", {"title_cy": "T" * 201, "summary_cy": ""}, "title_cy", "This is too long; shorten it"),
    ("funding/pledge", {"pledge": "abc"}, "pledge", "Enter an amount in pounds, like 50000 or 50,000.00"),
    ("funding/invitations", {"organisation_id": "", "message": "Join us"}, "organisation_id",
     "Select a verified authority that is not already involved"),
    ("phases", {}, "kind", "Select the kind of phase"),
])
def test_section_mistakes_are_shown_next_to_the_field(client, db, editor, draft, path, data, field,
                                                      message):
    OrganisationFactory(kind="authority", name="Another council")
    sign_in(client, db, editor)
    response = post(client, f"/challenges/{draft.id}/{path}", data)
    assert response.status_code == 400
    text = page(response)
    assert "<title>Error:" in text
    assert f'href="#{field}">{message}</a>' in text
    assert field_error(response, field) == message


def test_creating_a_challenge_needs_a_title(client, db, editor):
    sign_in(client, db, editor)
    response = post(client, "/challenges/new", {"title": ""})
    assert response.status_code == 400
    assert field_error(response, "title") == "Enter a title"
    assert db.execute(select(Challenge)).first() is None


# --- the task list and the sections ----------------------------------------------------------------

def test_the_task_list_shows_what_is_done(client, db, editor, draft):
    sign_in(client, db, editor)
    text = page(client.get(f"/challenges/{draft.id}/edit"))
    for heading in ("About the challenge", "Funding", "Phases", "Publish", "Details", "Tags",
                    "Welsh title and summary", "Lead contact", "Deadline for questions",
                    "Pledges and partners", "Add a phase", "Check and publish"):
        assert heading in text, heading
    assert "Budget: £0" in text
    details = re.search(r'href="/challenges/\d+/details".*?govuk-task-list__status[^>]*>(.*?)</div>',
                        text, re.S).group(1)
    assert "Not yet started" in details
    post(client, f"/challenges/{draft.id}/details", {
        "title": "Warmer homes", "summary": "S", "problem_statement": PROBLEM,
        "outcomes_sought": "Warm homes"})
    text = page(client.get(f"/challenges/{draft.id}/edit"))
    details = re.search(r'href="/challenges/\d+/details".*?govuk-task-list__status[^>]*>(.*?)</div>',
                        text, re.S).group(1)
    assert "Completed" in details


def test_the_sections_show_what_is_saved(client, db, editor, draft):
    services.update_details(db, actor=editor, challenge_id=draft.id, now=utcnow(),
                            summary="A summary", problem_statement=PROBLEM)
    services.set_tags(db, actor=editor, challenge_id=draft.id, tags_text="housing, energy",
                      now=utcnow())
    sign_in(client, db, editor)
    assert input_value(client.get(f"/challenges/{draft.id}/details"), "title") == "Warmer homes"
    assert PROBLEM in page(client.get(f"/challenges/{draft.id}/details"))
    assert "You can use Markdown: **bold**, lists, links" in page(
        client.get(f"/challenges/{draft.id}/details"))
    assert input_value(client.get(f"/challenges/{draft.id}/tags"), "tags") == "energy, housing"
    contact = client.get(f"/challenges/{draft.id}/contact")
    assert input_value(contact, "contact_name") == "Eira Editor"
    welsh = page(client.get(f"/challenges/{draft.id}/welsh"))
    assert re.search(r'<input[^>]*name="title_cy"[^>]*lang="cy"|<input[^>]*lang="cy"[^>]*name="title_cy"',
                     welsh)
    assert re.search(r'<textarea[^>]*lang="cy"', welsh)


def test_a_phase_can_be_removed_and_the_rest_move_up(client, db, editor, draft):
    first = add_phase(db, editor, draft)
    add_phase(db, editor, draft, kind="bake_off")
    sign_in(client, db, editor)
    response = post(client, f"/challenges/{draft.id}/phases/{first.id}/remove")
    assert response.status_code == 302 and location(response) == f"/challenges/{draft.id}/edit"
    [left] = fresh(db, draft.id).phases
    assert (left.position, left.kind) == (1, "bake_off")


def test_outcome_measures_are_added_changed_and_removed(client, db, editor, draft, fw):
    phase = add_phase(db, editor, draft, kind="bake_off")
    value = criterion(fw, "value_for_money")
    services.set_phase_criteria(db, actor=editor, challenge_id=draft.id, phase_id=phase.id,
                                weights={value.id: 100}, now=utcnow())
    sign_in(client, db, editor)
    base = f"/challenges/{draft.id}/phases/{phase.id}/measures"
    assert "There are no outcome measures yet" in page(client.get(base))
    new = client.get(f"{base}/new")
    assert "Higher is better" in page(new) and "Value for money" in page(new)

    measure = {"name": "Days to fix", "unit": "days", "direction": "lower", "baseline": "30",
               "target": "abc", "criterion_id": str(value.id), "weight": "100"}
    response = post(client, f"{base}/new", measure)
    assert response.status_code == 400
    assert field_error(response, "target") == "Enter a number, like 12 or 3.5"
    response = post(client, f"{base}/new", {**measure, "target": "40"})
    assert response.status_code == 400
    assert field_error(response, "target") == (
        "When lower is better, the target must be below the baseline")
    response = post(client, f"{base}/new", {**measure, "target": "7.5"})
    assert response.status_code == 302 and location(response) == base
    [saved] = db.execute(select(OutcomeMeasure)).scalars()
    text = page(client.get(base))
    assert "Days to fix" in text and "7.5" in text and "Change" in text

    edit = client.get(f"{base}/{saved.id}")
    assert input_value(edit, "target") == "7.5"
    assert post(client, f"{base}/{saved.id}", {**measure, "target": "10"}).status_code == 302
    db.expire_all()
    assert db.get(OutcomeMeasure, saved.id).target == Decimal(10)
    assert post(client, f"{base}/{saved.id}/remove").status_code == 302
    assert db.execute(select(OutcomeMeasure)).first() is None


def test_measures_belong_to_bake_off_phases_only(client, db, editor, draft):
    phase = add_phase(db, editor, draft, kind="feasibility")
    sign_in(client, db, editor)
    assert client.get(f"/challenges/{draft.id}/phases/{phase.id}/measures").status_code == 404
    assert client.get(f"/challenges/{draft.id}/phases/{phase.id + 999}").status_code == 404


# --- funding ------------------------------------------------------------------------------------------

def test_the_lead_invites_a_partner_and_answers_an_offer(app, client, db, editor, draft):
    invited = OrganisationFactory(kind="authority", name="Coast Council")
    offering = OrganisationFactory(kind="authority", name="Hills Council")
    with app.app_context():  # the lead's editors are e-mailed
        funding.request_to_join(db, actor=member(offering), challenge_id=draft.id,
                                pledge_pence=2_500_000, message="We have the same problem",
                                now=utcnow())
    sign_in(client, db, editor)
    path = f"/challenges/{draft.id}/funding"
    text = page(client.get(path))
    assert "<title>Pledges and partners" in text
    assert "Asked to join" in text and "We have the same problem" in text and "£25,000" in text
    assert f'href="/challenges/{draft.id}/edit"' in text

    response = post(client, f"{path}/invitations",
                    {"organisation_id": str(invited.id), "message": "Join us"})
    assert response.status_code == 302
    text = page(client.get(path))
    assert "Invited" in text and "Withdraw invitation" in text

    [offer] = [f for f in fresh(db, draft.id).funders if f.organisation_id == offering.id]
    assert post(client, f"{path}/{offer.id}/decision", {"decision": "accept"}).status_code == 302
    assert post(client, f"{path}/pledge", {"pledge": "10000"}).status_code == 302
    challenge = fresh(db, draft.id)
    assert challenge.budget_pence == 3_500_000
    assert "£35,000" in page(client.get(path))

    [invitation] = [f for f in challenge.funders if f.organisation_id == invited.id]
    assert post(client, f"{path}/{invitation.id}/withdraw").status_code == 302
    db.expire_all()
    assert db.get(ChallengeFunder, invitation.id).status == "declined"


def test_the_funding_page_works_while_the_challenge_is_open(app, client, db, editor, draft, fw):
    _make_ready(db, editor, draft, fw)
    with app.app_context():
        services.publish_challenge(db, actor=editor, challenge_id=draft.id, now=utcnow())
    sign_in(client, db, editor)
    response = client.get(f"/challenges/{draft.id}/funding")
    assert response.status_code == 200
    text = page(response)
    assert f'href="/challenges/{draft.id}" class="govuk-back-link"' in text
    assert f"/challenges/{draft.id}/edit" not in text
    assert client.get(f"/challenges/{draft.id}/edit").status_code == 403
    # Once public, a pledge may not leave a phase short.
    response = post(client, f"/challenges/{draft.id}/funding/pledge", {"pledge": "1"})
    assert response.status_code == 400
    assert field_error(response, "pledge") == (
        "The budget would no longer cover every phase's contracts; pledge more")
    assert "£100,000" in page(response)  # the saved pledge, not the refused one


def _make_ready(db, editor, challenge, fw):
    """Bring a draft to where it can be published, through the services."""
    now = utcnow()
    services.update_details(db, actor=editor, challenge_id=challenge.id, now=now, summary="S",
                            problem_statement=PROBLEM, outcomes_sought="Warm homes")
    funding.set_lead_pledge(db, actor=editor, challenge_id=challenge.id, pledge_pence=10_000_000,
                            now=now)
    phase = add_phase(db, editor, challenge)
    from datetime import UTC, datetime

    services.update_phase(db, actor=editor, challenge_id=challenge.id, phase_id=phase.id, now=now,
                          kind="feasibility", opens_at=datetime(2027, 3, 1, 9, tzinfo=UTC),
                          closes_at=datetime(2027, 3, 31, 16, tzinfo=UTC), contracts=2,
                          max_value_pence=5_000_000, duration_months=3, min_assessments=2,
                          threshold_percent=60, outcome_share_percent=50)
    services.set_phase_criteria(db, actor=editor, challenge_id=challenge.id, phase_id=phase.id,
                                weights={fw.criteria[0].id: 100}, now=now)
    services.set_clarification_deadline(db, actor=editor, challenge_id=challenge.id,
                                        deadline=datetime(2027, 3, 20, 12, tzinfo=UTC), now=now)


# --- who may do what ------------------------------------------------------------------------------------

EDIT_PAGES = ["edit", "details", "tags", "welsh", "contact", "clarification-deadline", "funding",
              "phases", "publish"]


@pytest.mark.parametrize("who, status", [
    ("other verified editor", 403), ("lead viewer", 403), ("supplier", 404),
    ("unverified authority editor", 404),
])
def test_only_the_leads_editors_may_edit_a_draft(client, db, lead, draft, who, status):
    user = {
        "other verified editor": lambda: member(OrganisationFactory(kind="authority")),
        "lead viewer": lambda: member(lead, role="viewer"),
        "supplier": lambda: member(OrganisationFactory(kind="supplier")),
        "unverified authority editor": lambda: member(
            OrganisationFactory(kind="authority", verified_at=None)),
    }[who]()
    sign_in(client, db, user)
    for name in EDIT_PAGES:
        assert client.get(f"/challenges/{draft.id}/{name}").status_code == status, name
    response = post(client, f"/challenges/{draft.id}/details", {"title": "Taken over"})
    assert response.status_code == status
    assert post(client, f"/challenges/{draft.id}/publish").status_code == status
    assert fresh(db, draft.id).title == "Warmer homes"


def test_signed_out_visitors_are_sent_to_sign_in(client, db, draft):
    response = client.get(f"/challenges/{draft.id}/edit")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    assert client.get("/challenges/mine").status_code == 302


def test_creating_needs_an_authority_editor(client, db, lead):
    sign_in(client, db, member(lead, role="viewer"))
    assert client.get("/challenges/new").status_code == 403
    assert post(client, "/challenges/new", {"title": "Mine now"}).status_code == 403
    assert "Create a challenge" not in page(client.get("/challenges/mine"))


# --- your challenges ------------------------------------------------------------------------------------

def test_your_challenges_lists_your_own_and_other_authorities_drafts(client, db, editor, draft):
    other_editor = member(OrganisationFactory(kind="authority", name="Coast Council"))
    other = services.create_challenge(db, actor=other_editor, title="Cleaner beaches", now=utcnow())
    sign_in(client, db, editor)
    response = client.get("/challenges/mine")
    assert response.status_code == 200
    text = page(response)
    assert "<title>Your challenges" in text
    assert re.search(r'href="/challenges/mine" aria-current="true">\s*<strong[^>]*>Your challenges<',
                     text)  # in the menu, as the current page
    assert f'href="/challenges/{draft.id}/edit">Warmer homes</a>' in text
    assert re.search(r'govuk-tag--grey">\s*Draft\s*</strong>', text)
    assert "Drafts other authorities are preparing" in text
    assert f'href="/challenges/{other.id}">Cleaner beaches</a>' in text
    assert "Coast Council" in text


@pytest.mark.parametrize("kind", ["supplier", None])
def test_your_challenges_is_for_authority_members(client, db, kind):
    user = member(OrganisationFactory(kind=kind)) if kind else UserFactory()
    sign_in(client, db, user)
    response = client.get("/challenges/mine")
    assert response.status_code == 403
    assert 'href="/challenges/mine"' not in page(response)


def test_the_pages_are_in_welsh(client, db, editor, draft, fw):
    phase = add_phase(db, editor, draft)
    sign_in(client, db, editor)
    text = page(client.get(f"/challenges/{draft.id}/phases/{phase.id}/criteria?lang=cy"))
    assert 'lang="cy"' in text
    assert "Ansawdd yr ateb" in text and "innovation (cy)" in text
