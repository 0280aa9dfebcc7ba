"""Assessment pages through the test client: what each person sees and can do."""

from __future__ import annotations

import pytest

from tests.assessment import builders as ab
from tests.conftest import post_form, sign_in


@pytest.fixture
def world(db, now, app):
    with app.app_context():
        return ab.closed_phase(db, now, suppliers=2, partner=True)


def test_pages_render_through_a_whole_assessment(client, db, world, app, time_machine):
    time_machine.move_to(world.after, tick=False)
    c, p = world.challenge.id, world.phase.id
    sign_in(client, db, world.lead)
    page = client.get(f"/challenges/{c}/phases/{p}/assessors")
    assert page.status_code == 200, page.get_data(as_text=True)
    with app.app_context():
        one, appointment = ab.assessor(db, world, accept=False)
    response = post_form(client, f"/challenges/{c}/phases/{p}/assessors/experts",
                         {"name": "Ann Expert", "email": "ann@expert.example"},
                         token_from=f"/challenges/{c}/phases/{p}/assessors")
    assert response.status_code == 302
    assert "Ann Expert" in client.get(f"/challenges/{c}/phases/{p}/assessors").get_data(as_text=True)
    assert client.get(f"/challenges/{c}/phases/{p}/assessment").status_code == 200
    assert client.get(f"/challenges/{c}/phases/{p}/decision").status_code == 200

    client.get("/sign-out")
    sign_in(client, db, one)
    assert "Accept" in client.get("/assessments").get_data(as_text=True)
    response = post_form(client, f"/assessments/{appointment.id}/respond", {"answer": "accept"},
                         token_from="/assessments")
    assert response.status_code == 302
    work = client.get(f"/assessments/{appointment.id}")
    assert work.status_code == 200
    proposal = world.proposals[0]
    assert client.get(f"/assessments/proposals/{proposal.id}").status_code == 302  # declare first
    declare = f"/assessments/proposals/{proposal.id}/declare"
    assert client.get(declare).status_code == 200
    assert post_form(client, declare, {"conflicted": "no", "reason": ""}).status_code == 302
    score = client.get(f"/assessments/proposals/{proposal.id}")
    assert score.status_code == 200 and "M0" in score.get_data(as_text=True)
    scored, gates = ab.criteria(db, world)
    data = {f"mark_{pc.id}": "3" for pc in scored} | {f"mark_{g.id}": "pass" for g in gates}
    data |= {f"justification_{pc.id}": "Solid" for pc in scored + gates}
    bad = post_form(client, f"/assessments/proposals/{proposal.id}",
                    {**data, f"justification_{scored[0].id}": "", "submit": "Submit"})
    assert bad.status_code == 400 and "Explain your mark" in bad.get_data(as_text=True)
    ok = post_form(client, f"/assessments/proposals/{proposal.id}", {**data, "submit": "Submit"})
    assert ok.status_code == 302
    assert client.get(f"/assessments/proposals/{proposal.id}/marks").status_code == 200
    assert client.get(f"/proposals/{proposal.id}/feedback").status_code == 404


def _accepted(db, world, app):
    with app.app_context():
        return ab.assessor(db, world)


def test_visitors_are_sent_to_sign_in_and_suppliers_may_not_see_the_assessment(client, db, world,
                                                                              time_machine):
    time_machine.move_to(world.after, tick=False)
    c, p = world.challenge.id, world.phase.id
    response = client.get("/assessments")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    sign_in(client, db, world.suppliers[0])
    for path in (f"/challenges/{c}/phases/{p}/assessors", f"/challenges/{c}/phases/{p}/assessment",
                 f"/challenges/{c}/phases/{p}/decision"):
        assert client.get(path).status_code == 403, path
    proposal = world.proposals[1]  # another supplier's
    for path in (f"/assessments/proposals/{proposal.id}",
                 f"/assessments/proposals/{proposal.id}/declare",
                 f"/assessments/proposals/{proposal.id}/marks",
                 f"/proposals/{proposal.id}/feedback", "/assessments/99999"):
        assert client.get(path).status_code == 404, path


def test_a_bad_invitation_is_shown_next_to_its_field(client, db, world, time_machine):
    time_machine.move_to(world.after, tick=False)
    c, p = world.challenge.id, world.phase.id
    sign_in(client, db, world.lead)
    page = f"/challenges/{c}/phases/{p}/assessors"
    response = post_form(client, f"{page}/experts", {"name": "", "email": "nope"}, token_from=page)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "There is a problem" in html and "Enter the expert" in html
    assert "Enter an email address in the correct format" in html
    assert 'value="nope"' in html  # the input is kept


def test_an_expert_accepts_an_invitation_after_signing_in(client, db, world, app, time_machine):
    time_machine.move_to(world.after, tick=False)
    with app.app_context():
        from procure.assessment import services as s

        _, token = s.invite_expert(db, actor=world.lead, name="Ann Expert",
                                   email="ann@expert.example", now=world.after,
                                   challenge_id=world.challenge.id, phase_id=world.phase.id)
    page = client.get(f"/assessor-invitations/{token}")
    assert page.status_code == 200 and "Ann Expert" in page.get_data(as_text=True)
    assert client.get("/assessor-invitations/made-up").status_code == 404
    from tests.challenges import service_builders as sb

    expert = sb.no_org_user(email="ann@expert.example")
    sign_in(client, db, expert)
    response = post_form(client, f"/assessor-invitations/{token}", {})
    assert response.status_code == 302 and "/assessments/" in response.headers["Location"]
    assert "phase 1" in client.get("/assessments").get_data(as_text=True)


def test_declaring_a_conflict_needs_a_reason(client, db, world, app, time_machine):
    time_machine.move_to(world.after, tick=False)
    person, _ = _accepted(db, world, app)
    sign_in(client, db, person)
    declare = f"/assessments/proposals/{world.proposals[0].id}/declare"
    response = post_form(client, declare, {"conflicted": "yes", "reason": ""})
    assert response.status_code == 400
    assert "Explain your conflict of interest" in response.get_data(as_text=True)
    response = post_form(client, declare, {"conflicted": "yes", "reason": "I advise them"})
    assert response.status_code == 302
    assert client.get(f"/assessments/proposals/{world.proposals[0].id}").status_code == 404


def test_the_decision_page_asks_for_a_reason_for_a_departure(client, db, world, app,
                                                            time_machine):
    time_machine.move_to(world.after, tick=False)
    with app.app_context():
        one, _ = ab.assessor(db, world)
        two, _ = ab.assessor(db, world)
        a, b = world.proposals
        for person in (one, two):
            ab.assess(db, world, person, a, [3, 3])
            ab.assess(db, world, person, b, [2, 2])
    c, p = world.challenge.id, world.phase.id
    sign_in(client, db, world.lead)
    path = f"/challenges/{c}/phases/{p}/decision"
    page = client.get(path).get_data(as_text=True)
    assert "Default selection" in page and "75.00%" in page
    response = post_form(client, path, {"selected": [str(b.id)], "reason": ""})
    assert response.status_code == 400
    assert "Explain why your selection is different" in response.get_data(as_text=True)
    response = post_form(client, path, {"selected": [str(a.id)], "reason": ""})
    assert response.status_code == 400
    assert "Explain why you are making this award" in response.get_data(as_text=True)
    response = post_form(client, path, {"selected": [str(a.id)], "reason": "Best value"})
    assert response.status_code == 302
    contract = f"{path}/contracts/{a.id}"
    response = post_form(client, contract, {"value": "20,000", "starts_on-day": "4",
                                            "starts_on-month": "1", "starts_on-year": "2027",
                                            "ends_on-day": "30", "ends_on-month": "6",
                                            "ends_on-year": "2027"}, token_from=path)
    assert response.status_code == 302
    page = client.get(path).get_data(as_text=True)
    assert "waiting for approval" in page
    assert "Release the decision" not in page
    client.get("/sign-out")
    sign_in(client, db, world.partner)
    assert post_form(client, path + "/approve", {}, token_from=path).status_code == 302
    client.get("/sign-out")
    sign_in(client, db, world.lead)
    assert post_form(client, path + "/release", {}, token_from=path).status_code == 302
    client.get("/sign-out")
    sign_in(client, db, world.suppliers[1])
    feedback = client.get(f"/proposals/{b.id}/feedback").get_data(as_text=True)
    assert "50.00%" in feedback and "Because 2" in feedback
    assert one.name not in feedback and two.name not in feedback
    assert "Read your result" in client.get(f"/proposals/{b.id}").get_data(as_text=True)


def test_the_lead_removes_an_assessor_from_the_assessors_page(client, db, world, app,
                                                             time_machine):
    time_machine.move_to(world.after, tick=False)
    with app.app_context():
        person, appointment = ab.assessor(db, world, accept=False)
    c, p = world.challenge.id, world.phase.id
    page = f"/challenges/{c}/phases/{p}/assessors"
    sign_in(client, db, world.lead)
    assert "Remove" in client.get(page).get_data(as_text=True)
    response = post_form(client, f"{page}/{appointment.id}/remove", {}, token_from=page)
    assert response.status_code == 302
    html = client.get(page).get_data(as_text=True)
    assert f"{person.name} is no longer an assessor" in html and "Removed" in html
