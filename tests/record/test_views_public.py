"""The open record's public pages through the client: a record's page and the editors' preview,
reusing a record, registering interest in adopting its solution, and the shared-values view,
in English and in Welsh."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from procure.challenges import services as challenges
from procure.challenges.models import Challenge
from procure.record.models import AdoptionInterest
from tests.bakeoff import builders as bb
from tests.challenges import service_builders as sb
from tests.challenges.builders import field_error, location, text_of
from tests.conftest import post_form, sign_in
from tests.record import builders as rb


@pytest.fixture
def world(app, db, now):
    with app.app_context():
        return rb.concluded_world(db, now)


@pytest.fixture
def published(app, db, world):
    with app.app_context():
        return rb.publish(db, world)


def organisation_name(user) -> str:
    return user.membership.organisation.name


def winner_of(world, record):
    """The supplier editor whose organisation won the award."""
    winners = {c["organisation_id"] for p in record.content["phases"] for c in p["contracts"]}
    return next(s for s in world.suppliers if s.membership.organisation_id in winners)


def _sign_out(client) -> None:
    with client.session_transaction() as session:
        session.clear()


def _record_path(world) -> str:
    return f"/records/{world.challenge.id}"


# --- a record's page ----------------------------------------------------------------------------

def test_the_record_page_tells_the_story_at_a_glance(client, world, published):
    response = client.get(_record_path(world))
    text = text_of(response)
    assert response.status_code == 200
    assert "<h1 class=\"govuk-heading-l\">Warmer homes, tested</h1>" in text
    assert "Older homes in the valleys lose heat" in text                       # the problem
    assert organisation_name(world.lead) in text and organisation_name(world.partner) in text
    assert "£60,000" in text and "£50,000" in text and "£10,000" in text         # who gave what
    winner = organisation_name(winner_of(world, published))
    assert f"{winner}, £40,000" in text                                          # the award
    assert "Phase 1: Proof of concept (feasibility)" in text
    assert "Phase 2: Bake-off (competitive prototypes)" in text
    assert "22 November 2026, 09:00" in text                                     # phase dates
    assert "3 in phase 1" in text                                                # proposals
    assert "Technical feasibility" in text and "Innovation" in text              # criteria
    assert "Median total" in text and "90.00%" in text                           # statistics
    assert "100.00%, 90.00%, 25.00%" in text                                     # distribution
    assert 'role="img"' in text and "record-chart-2-title" in text               # the chart
    assert "Homes fixed (homes)" in text and "Cost per home (pounds)" in text    # outcomes
    assert "This decision departs from the ranking." in text
    assert "The best results in the bake-off" in text                            # rationale
    assert rb.WORKED in text and rb.NOT_WORKED in text                           # lessons
    assert 'href="https://example.org/code"' in text and "MIT License" in text   # assets
    assert "Sensors in every bin M0" in text                                     # consented summary
    assert "Open Government Licence v3.0" in text
    assert "This record has been reused 0 times." in text
    cid = world.challenge.id
    assert f'href="/api/v1/ocds/records/ocds-procur-CH-{cid}"' in text
    assert f'href="/api/v1/challenges/{cid}"' in text and 'href="/data/catalogue.csv"' in text
    # Nobody signed in: nothing to do but read.
    assert "Reuse this challenge" not in text and "Register interest in adopting" not in text


def test_the_record_page_names_the_winners_but_no_unsuccessful_supplier_and_no_person(
        client, world, published):
    text = text_of(client.get(_record_path(world)))
    for supplier in world.shortlisted:
        assert organisation_name(supplier) in text
    assert organisation_name(world.outsider) not in text
    people = [world.lead, world.partner, *world.suppliers, *world.assessors,
              *world.bake_off_assessors]
    for person in people:
        assert person.name not in text and person.email not in text


def test_the_record_page_shows_the_scores_per_criterion_of_each_named_supplier(
        client, world, published):
    text = text_of(client.get(_record_path(world)))
    table = re.search(r"Scores of the shortlisted and winning suppliers in phase 1.*?</table>",
                      text, re.S).group(0)
    first, second = (organisation_name(s) for s in world.shortlisted)
    rows = re.findall(r"<th scope=\"row\" class=\"govuk-table__header\">([^<]+)</th>(.*?)</tr>",
                      table, re.S)
    cells = {name: re.findall(r">\s*([\d.]+%?)\s*<", rest) for name, rest in rows}
    assert cells[first] == ["4.00", "4.00", "100.00%", "1"]
    assert cells[second] == ["4.00", "3.00", "90.00%", "2"]


def test_the_record_page_is_in_welsh_with_the_welsh_title_and_criteria(app, client, db, world):
    with app.app_context():
        world.challenge.title_cy = "Cartrefi cynhesach, wedi'u profi"
        db.commit()
        rb.publish(db, world)
    welsh = text_of(client.get(f"{_record_path(world)}?lang=cy"))
    assert '<html lang="cy"' in welsh
    assert "Cartrefi cynhesach, wedi'u profi" in welsh
    assert "technical_feasibility" in welsh  # the criterion's Welsh name in the test framework
    english = text_of(client.get(f"{_record_path(world)}?lang=en"))
    assert "Warmer homes, tested" in english and "technical_feasibility" not in english


def test_a_record_not_published_or_not_there_is_not_found(client, db, world):
    assert client.get(_record_path(world)).status_code == 404  # concluded, not yet published
    assert client.get("/records/999999").status_code == 404
    sign_in(client, db, world.lead)
    assert client.get(_record_path(world)).status_code == 404  # not even for its editors


def test_a_record_without_an_award_says_why(app, client, db, now):
    with app.app_context():
        world = rb.concluded_world(db, now, award=False)
        rb.publish(db, world)
    text = text_of(client.get(_record_path(world)))
    assert "This challenge ended without an award." in text
    assert "Reason: Neither prototype met the targets" in text
    # Nothing to adopt: another authority may reuse the record but not register interest.
    sign_in(client, db, sb.editor())
    text = text_of(client.get(_record_path(world)))
    assert "Reuse this challenge" in text and "Register interest in adopting" not in text
    assert client.get(f"{_record_path(world)}/interest").status_code == 403


def test_a_cancelled_record_gives_the_public_reason(app, client, db, now):
    with app.app_context():
        # As rb.cancelled_world, with the time of the cancellation given.
        world = bb.bake_off_world(db, now, suppliers=2, partner=False)
        at = world.decided_at + bb.DAY
        challenges.cancel_challenge(db, actor=world.lead, challenge_id=world.challenge.id,
                                    reason="The service was taken over by the health board",
                                    now=at)
        rb.publish(db, world, at=at + bb.DAY)
    response = client.get(_record_path(world))
    text = text_of(response)
    assert response.status_code == 200
    assert "This challenge was cancelled on" in text
    assert "Reason: The service was taken over by the health board" in text


# --- the editors' preview -------------------------------------------------------------------------

def test_the_lead_editors_preview_the_record_before_it_is_public(app, client, db, world):
    with app.app_context():
        rb.write_lessons(db, world)
    path = f"/challenges/{world.challenge.id}/record/preview"
    sign_in(client, db, world.lead)
    response = client.get(path)
    text = text_of(response)
    assert response.status_code == 200
    assert "This is a preview: the public cannot see it yet" in text
    assert f'href="/challenges/{world.challenge.id}/record"' in text  # back to the editing page
    assert rb.WORKED in text and "Warmer homes, tested" in text
    assert organisation_name(world.outsider) not in text
    assert "Reuse this challenge" not in text
    welsh = client.get(f"{path}?lang=cy")
    assert welsh.status_code == 200 and '<html lang="cy"' in text_of(welsh)


def test_only_the_lead_editors_may_preview(client, db, now, world):
    path = f"/challenges/{world.challenge.id}/record/preview"
    assert location(client.get(path)).startswith("/sign-in")
    for outsider in (world.partner, world.suppliers[0], sb.editor()):
        sign_in(client, db, outsider)
        assert client.get(path).status_code == 403
    assert client.get("/challenges/999999/record/preview").status_code == 404
    draft = sb.new_draft(db, now, sb.editor())
    sign_in(client, db, world.suppliers[0])
    assert client.get(f"/challenges/{draft.id}/record/preview").status_code == 404


def test_a_published_record_has_no_preview_any_more(client, db, world, published):
    sign_in(client, db, world.lead)
    # The record's state, not the person, rules it out.
    assert client.get(f"/challenges/{world.challenge.id}/record/preview").status_code == 409


# --- reuse ------------------------------------------------------------------------------------------

def test_another_authority_reuses_the_record_as_a_draft_derived_from_it(client, db, world,
                                                                          published):
    other = sb.editor()
    sign_in(client, db, other)
    page = _record_path(world)
    assert "Reuse this challenge" in text_of(client.get(page))
    response = post_form(client, f"{page}/reuse", {}, token_from=page)
    assert response.status_code == 302
    draft = db.execute(select(Challenge).where(
        Challenge.derived_from_id == world.challenge.id)).scalar_one()
    assert location(response) == f"/challenges/{draft.id}/edit"
    assert draft.status == "draft"
    assert draft.lead_organisation_id == other.membership.organisation_id
    assert draft.problem_statement == world.challenge.problem_statement
    original = world.challenge.phases
    assert [[(pc.criterion_id, pc.weight) for pc in p.criteria] for p in draft.phases] == [
        [(pc.criterion_id, pc.weight) for pc in p.criteria] for p in original]
    assert [(m.name, m.baseline, m.target, m.weight) for m in draft.phases[1].measures] == [
        (m.name, m.baseline, m.target, m.weight) for m in original[1].measures]
    assert "Your draft challenge has been started from the open record." in text_of(
        client.get(location(response)))

    _sign_out(client)
    text = text_of(client.get(page))
    assert "This record has been reused 1 time." in text
    # Who is preparing a draft is theirs to say: not named until the draft is opened.
    assert organisation_name(other) not in text
    assert "Reused" in text and "1 time" in text


def test_reuse_is_for_verified_authority_editors_of_a_published_record(app, client, db, world):
    page = _record_path(world)
    sign_in(client, db, sb.editor())
    assert post_form(client, f"{page}/reuse", {}, token_from="/sign-in").status_code == 404
    with app.app_context():
        rb.publish(db, world)
    for refused in (world.suppliers[0], sb.editor(sb.authority(verified=False)),
                    sb.viewer(sb.authority())):
        sign_in(client, db, refused)
        assert "Reuse this challenge" not in text_of(client.get(page))
        assert post_form(client, f"{page}/reuse", {}, token_from="/sign-in").status_code == 403
    _sign_out(client)
    assert location(post_form(client, f"{page}/reuse", {}, token_from="/sign-in")
                    ).startswith("/sign-in")
    sign_in(client, db, sb.editor())
    assert client.post(f"{page}/reuse").status_code == 400  # no CSRF token
    assert db.execute(select(Challenge).where(
        Challenge.derived_from_id == world.challenge.id)).first() is None


# --- registering interest in adopting -------------------------------------------------------------

def test_another_authority_registers_interest_and_the_lead_and_the_winner_are_told(
        client, db, world, published):
    other = sb.editor()
    sign_in(client, db, other)
    page = _record_path(world)
    assert "Register interest in adopting" in text_of(client.get(page))
    form = f"{page}/interest"
    response = client.get(form)
    assert response.status_code == 200
    assert organisation_name(winner_of(world, published)) in text_of(response)

    response = post_form(client, form, {"message": "We would like to try it in Conwy."})
    assert response.status_code == 302 and location(response) == page
    assert "Your interest has been registered." in text_of(client.get(page))
    told = sb.recipients(db, "adoption_interest")
    assert world.lead.email in told and winner_of(world, published).email in told
    assert world.outsider.email not in told and other.email not in told
    assert all("We would like to try it in Conwy." in m.body
               for m in sb.outbox(db, "adoption_interest"))

    assert "Your authority registered an interest on" in text_of(client.get(form))
    again = post_form(client, form, {"message": "Again"})
    assert again.status_code == 400
    assert field_error(again, "message") == ("Your authority has already registered an interest "
                                             "in adopting this solution")
    assert len(db.execute(select(AdoptionInterest)).all()) == 1


def test_an_interest_message_may_be_2000_characters(client, db, world, published):
    sign_in(client, db, sb.editor())
    form = f"{_record_path(world)}/interest"
    response = post_form(client, form, {"message": "x" * 2001})
    assert response.status_code == 400
    assert field_error(response, "message") == "Your message must be 2,000 characters or fewer"
    assert "x" * 2001 in text_of(response)  # what was typed is kept
    assert sb.recipients(db, "adoption_interest") == []
    assert post_form(client, form, {"message": "x" * 2000}).status_code == 302


def test_interest_is_for_other_verified_authorities(client, db, world, published):
    form = f"{_record_path(world)}/interest"
    assert location(client.get(form)).startswith("/sign-in")
    for refused in (world.lead, sb.viewer(world.lead.membership.organisation), world.partner,
                    world.suppliers[0], sb.editor(sb.authority(verified=False))):
        sign_in(client, db, refused)
        assert client.get(form).status_code == 403
        assert post_form(client, form, {"message": "Hello"}, token_from="/sign-in"
                         ).status_code == 403
    assert client.get("/records/999999/interest").status_code == 404
    assert sb.recipients(db, "adoption_interest") == []


def test_interest_in_an_unpublished_record_is_not_found(client, db, world):
    sign_in(client, db, sb.editor())
    assert client.get(f"{_record_path(world)}/interest").status_code == 404


# --- the service's navigation ---------------------------------------------------------------------

def test_every_page_links_to_the_catalogue_the_shared_values_and_the_feeds(client):
    for path in ("/", "/challenges", "/catalogue?lang=cy"):
        text = text_of(client.get(path))
        assert 'href="/catalogue"' in text and 'href="/shared-values"' in text
        assert '<link rel="alternate" type="application/atom+xml" href="/feeds/records.atom"' in text
        assert ('<link rel="alternate" type="application/atom+xml" href="/feeds/challenges.atom"'
                in text)
    english = text_of(client.get("/shared-values?lang=en"))
    assert re.search(r'<li class="govuk-service-navigation__item govuk-service-navigation__item--active">'
                     r'\s*<a class="govuk-service-navigation__link" href="/shared-values"', english)


# --- the shared-values view ---------------------------------------------------------------------------

def test_the_shared_values_view_shows_use_weight_and_achievement_per_criterion(
        client, world, published):
    response = client.get("/shared-values")
    text = text_of(response)
    assert response.status_code == 200
    table = re.search(r"How the criteria of solution-quality v1 were used.*?</table>", text,
                      re.S).group(0)
    row = re.search(r"Technical feasibility</a></th>(.*?)</tr>", table, re.S).group(1)
    # One record, two phases, weight 60 in each, two verified measurements (30 and 50 homes
    # of 10 → 50: 50 % and 100 %).
    assert re.findall(r">\s*([\d.]+%?)\s*<", row) == ["1", "2", "60.0%", "2", "75.0%"]
    assert 'href="/catalogue?criterion=solution-quality.technical_feasibility"' in table
    assert re.search(r'<svg[^>]*role="img"[^>]*aria-labelledby="values-chart-1-title '
                     r'values-chart-1-desc"', text)
    assert "Technical feasibility: 75.0%." in text
    assert "style=" not in text.split("<main", 1)[1]


def test_the_shared_values_view_is_in_welsh_and_works_with_no_records(client, db, now):
    sb.framework(db, now, code="wellbeing")
    welsh = client.get("/shared-values?lang=cy")
    text = text_of(welsh)
    assert welsh.status_code == 200 and '<html lang="cy"' in text
    assert "wellbeing f1" in text  # the framework's Welsh name
    assert "technical_feasibility" in text
