"""The authority's bake-off pages through the test client: the measurements and their
verification, the results with the chart, the award's contracts, release, the public award,
and the adoption check-ins."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from procure.bakeoff import services as bakeoff
from procure.bakeoff.models import AdoptionCheckIn, AwardContract, MeasurementReport
from procure.challenges.models import Challenge
from tests.bakeoff import builders as bb
from tests.bakeoff.builders import bake_off_links  # noqa: F401 - a fixture
from tests.challenges import service_builders as sb
from tests.conftest import post_form, sign_in

pytestmark = pytest.mark.usefixtures("bake_off_links")


@pytest.fixture
def world(app, db, now):
    with app.app_context():
        return bb.bake_off_world(db, now, partner=True)


def _paths(world):
    base = f"/challenges/{world.challenge.id}/phases/{world.phase2.id}"
    return {"measurements": f"{base}/measurements", "results": f"{base}/results",
            "decision": f"{base}/decision", "overview": f"{base}/assessment"}


def _reported(app, db, world):
    """Invited, both entrants demonstrated and reported both measures; the bake-off closed
    and the demonstrations assessed — nothing verified yet."""
    with app.app_context():
        bb.invite(db, world)
        reports = []
        for supplier, (high, low) in zip(world.shortlisted, (("30", "800"), ("50", "500")),
                                         strict=True):
            bb.demonstrate(db, world, supplier)
            entrant = world.entrant_of(supplier)
            reports.append(bb.report(db, world, entrant, world.higher, high,
                                     evidence=f"Counted by {supplier.name}"))
            reports.append(bb.report(db, world, entrant, world.lower, low))
        bb.close_bake_off(db, world)
        bb.assess_bake_off(db, world)
    return reports


def _sign_out(client) -> None:
    with client.session_transaction() as session:
        session.clear()


def _html(response) -> str:
    """The page's text, once checked for what axe would catch first: one h1, no id twice."""
    html = response.get_data(as_text=True)
    if response.status_code in (200, 400):
        ids = re.findall(r'\sid="([^"]+)"', html)
        assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
        assert html.count("<h1") == 1
    return html


def _stored(db, report_id: int) -> MeasurementReport:
    db.expire_all()
    return db.get(MeasurementReport, report_id)


# --- the measurements --------------------------------------------------------------------------

def test_reports_are_sealed_until_the_bake_off_closes(client, db, world, app, time_machine):
    with app.app_context():
        bb.invite(db, world)
        entrant = world.entrants[0]
        bb.report(db, world, entrant, world.higher, "31", evidence="Secret evidence text")
    time_machine.move_to(bb.during(world), tick=False)
    paths = _paths(world)
    sign_in(client, db, world.lead)
    for name in ("measurements", "results"):
        response = client.get(paths[name])
        html = _html(response)
        assert response.status_code == 200, name
        assert "sealed until the bake-off closes" in html
        assert "Secret evidence text" not in html and ">31<" not in html
        assert world.entrants[0].organisation.name not in html
    _sign_out(client)
    sign_in(client, db, world.supplier_of(entrant))
    assert client.get(paths["measurements"]).status_code == 403


def test_the_lead_and_partners_read_every_report_after_the_deadline(client, db, world, app,
                                                                    time_machine):
    reports = _reported(app, db, world)
    time_machine.move_to(world.after, tick=False)
    paths = _paths(world)
    first, second = (e.organisation.name for e in world.entrants)

    sign_in(client, db, world.lead)
    response = client.get(paths["measurements"])
    html = _html(response)
    assert response.status_code == 200
    assert first in html and second in html
    assert f"Counted by {world.shortlisted[0].name}" in html
    assert "Waiting for verification" in html and "4 reports are waiting" in html
    assert f"{paths['measurements']}/{reports[0].id}" in html  # a Verify link

    _sign_out(client)
    sign_in(client, db, world.partner)
    html = _html(client.get(paths["measurements"]))
    assert "Counted by" in html
    assert f"{paths['measurements']}/{reports[0].id}" not in html  # partners do not verify
    assert client.get(f"{paths['measurements']}/{reports[0].id}").status_code == 403

    _sign_out(client)
    sign_in(client, db, world.supplier_of(world.entrants[0]))
    assert client.get(paths["measurements"]).status_code == 403
    assert client.get(f"{paths['measurements']}/{reports[0].id}").status_code == 403

    _sign_out(client)
    sign_in(client, db, sb.editor())  # another authority
    assert client.get(paths["measurements"]).status_code == 403
    assert client.get(paths["results"]).status_code == 403

    _sign_out(client)
    response = client.get(paths["measurements"])
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    sign_in(client, db, world.lead)
    phase1 = f"/challenges/{world.challenge.id}/phases/{world.phase1.id}"
    assert client.get(f"{phase1}/measurements").status_code == 404  # not a bake-off
    assert client.get(f"/challenges/{world.challenge.id}/phases/99999/measurements") \
        .status_code == 404
    assert client.get(f"{paths['measurements']}/99999").status_code == 404


def test_verifying_a_measurement(client, db, world, app, time_machine):
    reports = _reported(app, db, world)
    time_machine.move_to(world.after, tick=False)
    paths = _paths(world)
    sign_in(client, db, world.lead)
    path = f"{paths['measurements']}/{reports[0].id}"
    page = client.get(path)
    assert page.status_code == 200
    html = _html(page)
    assert "Accept the reported value" in html and "Correct it" in html
    assert 'data-aria-controls="conditional-outcome-2"' in html

    response = post_form(client, path, {"value": "", "reason": ""})
    assert response.status_code == 400
    assert "Select whether you accept the value or correct it" in _html(response)
    response = post_form(client, path, {"outcome": "correct", "value": "lots", "reason": ""})
    html = _html(response)
    assert response.status_code == 400
    assert "There is a problem" in html
    assert "Enter the value as a number" in html
    assert "Explain why you are correcting the value" in html
    assert 'value="lots"' in html
    assert _stored(db, reports[0].id).status == "reported"

    response = post_form(client, path, {"outcome": "correct", "value": "28",
                                        "reason": "Two homes were counted twice"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(paths["measurements"])
    stored = _stored(db, reports[0].id)
    assert stored.status == "corrected" and str(stored.verified_value.normalize()) == "28"
    assert stored.correction_reason == "Two homes were counted twice"

    # Accepting ignores whatever was typed under "Correct it".
    other = f"{paths['measurements']}/{reports[1].id}"
    response = post_form(client, other, {"outcome": "accept", "value": "nonsense",
                                         "reason": "x"})
    assert response.status_code == 302
    stored = _stored(db, reports[1].id)
    assert stored.status == "accepted" and stored.verified_value == stored.value
    assert stored.correction_reason == ""

    html = _html(client.get(paths["measurements"]))
    assert "You accepted the value of Cost per home" in html
    assert "Corrected" in html and "Accepted" in html and "Two homes were counted twice" in html
    assert "2 reports are waiting" in html


# --- the results ---------------------------------------------------------------------------------

def test_the_results_side_by_side_with_the_chart(client, db, world, app, time_machine):
    reports = _reported(app, db, world)
    time_machine.move_to(world.after, tick=False)
    paths = _paths(world)
    first, second = (e.organisation.name for e in world.entrants)
    sign_in(client, db, world.partner)

    html = _html(client.get(paths["results"]))
    assert "Waiting for verification" in html and "4 reports are waiting" in html

    with app.app_context():
        for r in reports:
            bb.verify(db, world, r)
    response = client.get(paths["results"])
    html = _html(response)
    assert response.status_code == 200
    # First: 30 of 10 → 50 and 800 of 1000 → 600 are both half way: outcome 50.00; assessed
    # 65.00; final 57.50. Second: both targets met: outcome 100.00, assessed 70.00, final 85.00.
    for text in (first, second, "57.50%", "85.00%", "65.00%", "70.00%", "100.00%", "50.00%",
                 "Homes fixed", "Baseline 10, target 50", "Cost per home"):
        assert text in html, text
    assert "<svg" in html and 'id="results-chart-title"' in html
    assert "final score = (1 − s) × assessed total + s × outcome score" in html
    assert "outcome share of this phase, 50%" in html
    table = html[html.index("Results side by side"):]
    assert table.index(second) < table.index(first)  # ranked by the final score
    assert "Awarded" not in table
    assert f"{paths['measurements']}" in html and f"{paths['decision']}" in html

    _sign_out(client)
    sign_in(client, db, world.supplier_of(world.entrants[0]))
    assert client.get(paths["results"]).status_code == 403


def test_an_entrant_without_a_report_is_shown_as_not_reported(client, db, world, app,
                                                              time_machine):
    with app.app_context():
        bb.invite(db, world)
        bb.demonstrate(db, world, world.shortlisted[0])
        bb.close_bake_off(db, world)
    time_machine.move_to(world.after, tick=False)
    sign_in(client, db, world.lead)
    paths = _paths(world)
    html = _html(client.get(paths["results"]))
    assert "Not reported" in html and "Being assessed" in html and "No proposal" in html
    assert "There are no bake-off results to show." in html  # nobody has a final score yet
    html = _html(client.get(paths["measurements"]))
    assert "Not reported" in html


# --- the award -----------------------------------------------------------------------------------

CONTRACT = {"value": "40,000", "starts_on-day": "1", "starts_on-month": "6",
            "starts_on-year": "2027", "ends_on-day": "31", "ends_on-month": "5",
            "ends_on-year": "2028"}


def test_the_award_contracts_release_and_the_public_page(client, db, world, app, time_machine):
    with app.app_context():
        bb.full_bake_off(db, world)
    time_machine.move_to(world.after, tick=False)
    paths = _paths(world)
    winner, loser = world.shortlisted[1], world.shortlisted[0]
    winning = world.demonstrations[winner.id]
    winner_name = world.entrant_of(winner).organisation.name
    loser_name = world.entrant_of(loser).organisation.name
    sign_in(client, db, world.lead)

    page = _html(client.get(paths["decision"]))
    assert "Why are you making this award, or no award?" in page
    assert ">Assessed<" in page and ">Outcome<" in page and ">Final<" in page
    assert "85.00%" in page and paths["results"] in page
    response = post_form(client, paths["decision"], {"selected": [str(winning.id)],
                                                     "reason": "Best outcomes"})
    assert response.status_code == 302

    page = _html(client.get(paths["decision"]))
    contract = f"{paths['decision']}/contracts/{winning.id}"
    assert "Not recorded yet" in page and contract in page and "Record the contract" in page
    assert "once every contract is recorded" in page
    assert "Release the decision" not in page

    form = _html(client.get(contract))
    assert 'value="25000"' in form  # the phase's maximum, to begin with

    bad = post_form(client, contract, {"value": "", "starts_on-day": "31",
                                       "starts_on-month": "2", "starts_on-year": "2027"})
    html = _html(bad)
    assert bad.status_code == 400
    assert "Enter the value of the contract" in html
    assert "Enter a real date" in html
    assert "Enter the date the contract ends" in html
    assert "Enter the date the contract starts" not in html  # its own message says it all
    too_much = post_form(client, contract, {**CONTRACT, "value": "70,000"})
    assert too_much.status_code == 400
    assert "must not be more than the challenge&#39;s budget" in _html(too_much)
    backwards = post_form(client, contract, {**CONTRACT, "ends_on-year": "2026"})
    assert backwards.status_code == 400
    assert "The contract must end on or after the day it starts" in _html(backwards)
    db.expire_all()
    assert db.execute(select(AwardContract)).first() is None

    good = post_form(client, contract, CONTRACT)
    assert good.status_code == 302 and good.headers["Location"].endswith(paths["decision"])
    page = _html(client.get(paths["decision"]))
    assert "£40,000" in page and "1 June 2027" in page and "31 May 2028" in page
    assert "Not recorded yet" not in page and "Change" in page
    assert "waiting for approval" in page and "Release the decision" not in page

    # Someone else may not record contracts.
    _sign_out(client)
    sign_in(client, db, world.partner)
    assert client.get(contract).status_code == 403
    assert post_form(client, paths["decision"] + "/approve", {},
                     token_from=paths["decision"]).status_code == 302
    _sign_out(client)
    sign_in(client, db, world.lead)
    other = f"{paths['decision']}/contracts/{world.demonstrations[loser.id].id}"
    assert client.get(other).status_code == 404  # not selected
    assert post_form(client, paths["decision"] + "/release", {},
                     token_from=paths["decision"]).status_code == 302

    page = _html(client.get(paths["decision"]))
    assert "the challenge is concluded" in page
    assert client.get(contract).status_code == 403  # released: no more changes
    db.expire_all()
    assert db.get(Challenge, world.challenge.id).status == "concluded"
    results = _html(client.get(paths["results"]))
    assert "Awarded" in results and "is a winner" in results

    _sign_out(client)
    public = _html(client.get(f"/challenges/{world.challenge.id}"))
    assert "The award" in public and winner_name in public and "£40,000" in public
    assert loser_name not in public
    assert "85.00" not in public and "57.50" not in public


def test_no_award_is_explained_on_the_public_page(client, db, world, app, time_machine):
    with app.app_context():
        bb.full_bake_off(db, world)
    time_machine.move_to(world.after, tick=False)
    paths = _paths(world)
    sign_in(client, db, world.lead)
    response = post_form(client, paths["decision"], {"reason": ""})
    assert response.status_code == 400
    assert "Explain why" in _html(response)
    response = post_form(client, paths["decision"],
                         {"reason": "Neither prototype met the safety standard"})
    assert response.status_code == 302
    page = _html(client.get(paths["decision"]))
    assert "No award: nobody is selected." in page and "Contracts" not in page
    _sign_out(client)
    sign_in(client, db, world.partner)
    assert post_form(client, paths["decision"] + "/approve", {},
                     token_from=paths["decision"]).status_code == 302
    _sign_out(client)
    sign_in(client, db, world.lead)
    assert post_form(client, paths["decision"] + "/release", {},
                     token_from=paths["decision"]).status_code == 302
    _sign_out(client)
    public = _html(client.get(f"/challenges/{world.challenge.id}"))
    assert "No award was made" in public
    assert "Neither prototype met the safety standard" in public
    for entrant in world.entrants:
        assert entrant.organisation.name not in public


def test_the_released_shortlist_links_to_inviting_the_entrants(client, db, world, time_machine):
    time_machine.move_to(world.decided_at + timedelta(hours=1), tick=False)
    c = world.challenge.id
    sign_in(client, db, world.lead)
    page = _html(client.get(f"/challenges/{c}/phases/{world.phase1.id}/decision"))
    assert "Invite the entrants into phase 2" in page
    assert f"/challenges/{c}/phases/{world.phase2.id}/entrants" in page
    overview = _html(client.get(_paths(world)["overview"]))
    assert _paths(world)["measurements"] in overview and _paths(world)["results"] in overview
    show = _html(client.get(f"/challenges/{c}"))
    assert _paths(world)["measurements"] in show and _paths(world)["results"] in show
    _sign_out(client)
    show = _html(client.get(f"/challenges/{c}"))
    assert _paths(world)["measurements"] not in show


# --- adoption check-ins --------------------------------------------------------------------------

@pytest.fixture
def awarded(app, db, world):
    with app.app_context():
        bb.full_bake_off(db, world)
        decision = bb.award(db, world)
        due = decision.released_at + timedelta(days=190)
        assert bakeoff.ask_for_check_ins(db, now=due) == 1
    return world, due


def test_the_check_in_task_and_recording_it(client, db, awarded, app, time_machine):
    world, due = awarded
    time_machine.move_to(due, tick=False)
    c = world.challenge.id
    path = f"/challenges/{c}/check-ins/6"
    sign_in(client, db, world.lead)
    mine = _html(client.get("/challenges/mine"))
    assert "Tasks" in mine
    assert "Record the 6-month adoption check-in for Warmer homes, tested" in mine
    assert path in mine

    page = client.get(path)
    html = _html(page)
    assert page.status_code == 200
    measure = world.higher
    assert f'name="value_{measure.id}"' in html and "Baseline 10, target 50" in html
    assert 'data-aria-controls="conditional-in_use"' in html

    bad = post_form(client, path, {"used_by": "", "notes": ""})
    assert bad.status_code == 400
    assert "Select whether the solution is in use" in _html(bad)
    bad = post_form(client, path, {"in_use": "yes", "used_by": "",
                                   f"value_{measure.id}": "many"})
    html = _html(bad)
    assert bad.status_code == 400
    assert "Say who uses the solution" in html and "Enter the value as a number" in html
    assert 'value="many"' in html
    db.expire_all()
    assert db.execute(select(AdoptionCheckIn)).scalar_one().recorded_at is None

    good = post_form(client, path, {"in_use": "yes", "used_by": "Housing repairs team",
                                    "notes": "Rolled out to two depots",
                                    f"value_{measure.id}": "1,200"})
    assert good.status_code == 302 and good.headers["Location"].endswith(f"/challenges/{c}")
    db.expire_all()
    stored = db.execute(select(AdoptionCheckIn)).scalar_one()
    assert stored.recorded_at is not None and stored.in_use is True
    assert stored.used_by == "Housing repairs team"
    assert stored.measure_values == {str(measure.id): "1200"}
    assert "Record the 6-month" not in _html(client.get("/challenges/mine"))
    again = _html(client.get(path))
    assert "Housing repairs team" in again and 'value="1200"' in again

    # A viewer of the lead authority reads it; others do not know of it.
    viewer = sb.viewer(world.lead.membership.organisation)
    _sign_out(client)
    sign_in(client, db, viewer)
    html = _html(client.get(path))
    assert "Housing repairs team" in html and "1,200 homes" in html
    assert 'name="in_use"' not in html
    assert post_form(client, path, {"in_use": "no"}, token_from="/challenges/mine") \
        .status_code == 403
    for person in (world.partner, world.supplier_of(world.entrants[0])):
        _sign_out(client)
        sign_in(client, db, person)
        assert client.get(path).status_code == 404
    _sign_out(client)
    sign_in(client, db, world.lead)
    assert client.get(f"/challenges/{c}/check-ins/12").status_code == 404


def test_the_check_in_email_links_to_its_page(db, awarded):
    world, _ = awarded
    messages = sb.outbox(db, "adoption_check_in_due")
    assert messages
    message = messages[0]
    assert "6-month check-in" in message.subject
    assert f"/challenges/{world.challenge.id}/check-ins/6" in message.body
