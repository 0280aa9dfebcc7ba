"""Assessment pages through the test client: what each person sees and can do."""

from __future__ import annotations

import pytest

from procure.assessment import services
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
