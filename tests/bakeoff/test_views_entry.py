"""The entrants' bake-off pages through the client: the authorities' list of entrants and the
invitation, the supplier's entry, its reports and their files of evidence, and the deadline."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import pytest
from sqlalchemy import func, select

from procure.bakeoff.models import BakeOffEntrant, EvidenceFile, MeasurementReport
from procure.challenges.models import Phase
from procure.notifications.models import OutboxMessage
from procure.submissions import storage
from tests.bakeoff import builders as bb
from tests.challenges import service_builders as sb
from tests.challenges.builders import field_error, location, text_of
from tests.conftest import post_form, sign_in
from tests.submissions.builders import PNG

HOUR = timedelta(hours=1)


@pytest.fixture
def world(app, db, now):
    """Two suppliers shortlisted into the bake-off (not yet invited); no partner."""
    with app.app_context():
        return bb.bake_off_world(db, now, suppliers=2)


@pytest.fixture
def invited(app, db, world):
    """The same, the entrants invited: the bake-off is open for 30 days."""
    with app.app_context():
        bb.invite(db, world)
    return world


def _entrants_path(world) -> str:
    return f"/challenges/{world.challenge.id}/phases/{world.phase2.id}/entrants"


def _invitation_data(world, **changes) -> dict:
    """A valid invitation of every entrant (the phase maximum, January to March 2027), closing
    at 17:00 thirty days after the shortlist was released; ``changes`` replace fields."""
    closes = (world.decided_at + 30 * bb.DAY).date()
    data: dict = {"closes_at": [str(closes.day), str(closes.month), str(closes.year)],
                  "closes_time": "17:00"}
    for e in world.entrants:
        data |= {f"entrant_{e.id}_value": "25,000", f"entrant_{e.id}_starts_on": ["4", "1", "2027"],
                 f"entrant_{e.id}_ends_on": ["31", "3", "2027"]}
    return data | changes


def _invitations(db) -> int:
    return db.execute(select(func.count(OutboxMessage.id))
                      .where(OutboxMessage.template == "bake_off_invited")).scalar_one()


def _stored_entrants(db, world) -> list[BakeOffEntrant]:
    db.expire_all()
    return list(db.execute(select(BakeOffEntrant).where(BakeOffEntrant.phase_id == world.phase2.id)
                           .order_by(BakeOffEntrant.id)).scalars())


def _reports(db) -> list[MeasurementReport]:
    db.expire_all()
    return list(db.execute(select(MeasurementReport).order_by(MeasurementReport.id)).scalars())


def _value_of(html: str, name: str) -> str | None:
    """The value of the (first) input named ``name``."""
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', html)
    return match.group(1) if match else None


def _sound(response) -> str:
    """The page's text, once checked for what axe would catch first: one h1, no id twice."""
    html = text_of(response)
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert html.count("<h1") == 1
    return html


def _upload(client, path, name, data, token_from):
    return post_form(client, path, {"file": (BytesIO(data), name)}, token_from=token_from,
                     content_type="multipart/form-data")


# --- the entrants page ----------------------------------------------------------------------------

def test_the_lead_and_a_partner_see_the_entrants_and_only_the_lead_may_invite(app, db, client, now,
                                                                             time_machine):
    with app.app_context():
        world = bb.bake_off_world(db, now, suppliers=2, partner=True)
    time_machine.move_to(world.decided_at + bb.DAY, tick=False)
    sign_in(client, db, world.lead)
    page = client.get(_entrants_path(world))
    assert page.status_code == 200, page.get_data(as_text=True)
    html = _sound(page)
    for supplier in world.shortlisted:
        assert supplier.membership.organisation.name in html
    assert "Invite the entrants and open the bake-off" in html
    first = world.entrants[0].id
    assert _value_of(html, f"entrant_{first}_value") == "25000"  # the phase's maximum
    closes = world.phase2.closes_at  # still ahead: offered as the closing time
    assert _value_of(html, "closes_at") == closes.strftime("%d")
    assert _value_of(html, "closes_time") == closes.strftime("%H:%M")  # London is on GMT
    assert f'href="/proposals/{world.proposals[0].id}/submitted"' in html

    client.get("/sign-out")
    sign_in(client, db, world.partner)
    page = client.get(_entrants_path(world))
    assert page.status_code == 200
    assert world.shortlisted[0].membership.organisation.name in text_of(page)
    assert "Invite the entrants" not in text_of(page)
    assert post_form(client, _entrants_path(world), _invitation_data(world)).status_code == 403
    assert _invitations(db) == 0


def test_suppliers_and_other_authorities_do_not_find_the_entrants_page(db, client, world,
                                                                       time_machine):
    time_machine.move_to(world.decided_at + bb.DAY, tick=False)
    for person in (world.shortlisted[0], sb.editor()):
        sign_in(client, db, person)
        assert client.get(_entrants_path(world)).status_code == 404
        client.get("/sign-out")
    # Not an invitation-only phase: there are no entrants to list.
    sign_in(client, db, world.lead)
    path = f"/challenges/{world.challenge.id}/phases/{world.phase1.id}/entrants"
    assert client.get(path).status_code == 404


def test_inviting_with_mistakes_shows_each_by_its_field_and_changes_nothing(db, client, world,
                                                                          time_machine):
    time_machine.move_to(world.decided_at + bb.DAY, tick=False)
    sign_in(client, db, world.lead)
    one, two = (e.id for e in world.entrants)
    past = (world.decided_at - bb.DAY).date()
    response = post_form(client, _entrants_path(world), _invitation_data(
        world, **{f"entrant_{one}_value": "30000", f"entrant_{one}_starts_on": ["", "", ""],
                  f"entrant_{two}_value": "lots", f"entrant_{two}_starts_on": ["1", "4", "2027"],
                  "closes_at": [str(past.day), str(past.month), str(past.year)]}))
    assert response.status_code == 400
    assert "more than the phase's maximum value of a contract" in field_error(
        response, f"entrant_{one}_value")
    assert field_error(response, f"entrant_{one}_starts_on") == \
        "Enter the date the contract starts"
    assert field_error(response, f"entrant_{two}_value") == \
        "Enter an amount in pounds, like 50000 or 50,000.00"
    assert field_error(response, f"entrant_{two}_ends_on") == \
        "The contract must end on or after the day it starts"
    assert field_error(response, "closes_at") == "The bake-off must close in the future"
    html = _sound(response)
    assert "There is a problem" in html
    assert _value_of(html, f"entrant_{two}_value") == "lots"  # the input is kept
    assert html.count("Enter an amount in pounds") == 2  # by the field and in the summary

    missing = post_form(client, _entrants_path(world), _invitation_data(
        world, **{f"entrant_{one}_value": "", "closes_time": "25:00"}))
    assert missing.status_code == 400
    assert field_error(missing, f"entrant_{one}_value") == "Enter the value of the contract"
    assert field_error(missing, "closes_time") == "Enter a time in 24-hour format, like 17:00"
    assert field_error(missing, "closes_at") is None  # the time says what is wrong

    assert all(e.invited_at is None for e in _stored_entrants(db, world))
    assert db.get(Phase, world.phase2.id).status == "planned"
    assert _invitations(db) == 0


def test_inviting_opens_the_bake_off_and_tells_every_entrant(db, client, world, time_machine):
    moment = world.decided_at + bb.DAY
    time_machine.move_to(moment, tick=False)
    sign_in(client, db, world.lead)
    one = world.entrants[0].id
    response = post_form(client, _entrants_path(world), _invitation_data(
        world, **{f"entrant_{one}_value": "20,000.50"}))
    assert response.status_code == 302, text_of(response)
    assert location(response) == _entrants_path(world)
    page = _sound(client.get(_entrants_path(world)))
    assert "The bake-off is open. We have told the 2 entrants." in page
    assert "£20,000.50" in page and "4 January 2027 to 31 March 2027" in page
    assert "Invite the entrants and open the bake-off" not in page

    entrants = _stored_entrants(db, world)
    assert [e.contract_value_pence for e in entrants] == [2_000_050, 2_500_000]
    assert all(e.invited_at is not None for e in entrants)
    phase = db.get(Phase, world.phase2.id)
    assert phase.status == "open"
    assert _invitations(db) == 2
    body = db.execute(select(OutboxMessage.body).where(
        OutboxMessage.template == "bake_off_invited",
        OutboxMessage.recipient_id == world.shortlisted[0].id)).scalar_one()
    assert f"http://procure.test/bake-off/{one}" in body and "£20,000.50" in body


# --- the supplier's entry ---------------------------------------------------------------------------

def test_the_entrant_sees_its_entry_and_others_do_not(db, client, invited, time_machine):
    world = invited
    time_machine.move_to(bb.during(world), tick=False)
    entrant, other = world.entrants
    sign_in(client, db, world.shortlisted[0])
    page = client.get(f"/bake-off/{entrant.id}")
    assert page.status_code == 200, page.get_data(as_text=True)
    html = _sound(page)
    assert "Warmer homes, tested" in html and "£20,000" in html
    assert "4 January 2027 to 31 March 2027" in html
    assert "Homes fixed" in html and "Cost per home" in html
    assert "Higher is better" in html and "Lower is better" in html
    assert "Start your demonstration proposal" in html
    assert html.count(f'href="/bake-off/{entrant.id}/measures/') == 2  # a Report link each
    assert client.get(f"/bake-off/{other.id}").status_code == 404
    assert client.get("/bake-off/999999").status_code == 404
    mine = _sound(client.get("/proposals"))
    assert "Your bake-offs" in mine and f'href="/bake-off/{entrant.id}"' in mine

    # Starting the demonstration proposal from the entry page.
    start = f"/challenges/{world.challenge.id}/phases/{world.phase2.id}/proposal"
    started = post_form(client, start, {}, token_from=f"/bake-off/{entrant.id}")
    assert started.status_code == 302 and location(started).startswith("/proposals/")
    assert "Continue your demonstration proposal" in text_of(client.get(f"/bake-off/{entrant.id}"))

    client.get("/sign-out")
    sign_in(client, db, world.shortlisted[1])
    assert client.get(f"/bake-off/{entrant.id}").status_code == 404
    assert client.get(f"/bake-off/{entrant.id}/measures/{world.higher.id}").status_code == 404


# --- reporting --------------------------------------------------------------------------------------

def test_reporting_a_value_shows_mistakes_by_their_fields_then_saves_it(db, client, invited,
                                                                      time_machine):
    world = invited
    time_machine.move_to(bb.during(world), tick=False)
    entrant = world.entrants[0]
    path = f"/bake-off/{entrant.id}/measures/{world.higher.id}"
    sign_in(client, db, world.shortlisted[0])
    form = client.get(path)
    assert form.status_code == 200 and "In homes" in text_of(form)
    bad = post_form(client, path, {"value": "12 homes", "evidence": "  "})
    assert bad.status_code == 400 and "There is a problem" in _sound(bad)
    assert field_error(bad, "value") == "Enter the value as a number, like 1250 or 12.5"
    assert field_error(bad, "evidence") == "Describe the evidence for this value"
    assert _value_of(_sound(bad), "value") == "12 homes"
    assert _reports(db) == []

    ok = post_form(client, path, {"value": "1,250.5", "evidence": "Counted on site"})
    assert ok.status_code == 302 and location(ok) == f"/bake-off/{entrant.id}"
    page = _sound(client.get(f"/bake-off/{entrant.id}"))
    assert "Your result for Homes fixed is saved." in page
    assert "1,250.5 homes" in page and "Counted on site" in page and "Change" in page
    [report] = _reports(db)
    assert report.value == Decimal("1250.5") and report.status == "reported"
    again = _sound(client.get(path))
    assert _value_of(again, "value") == "1250.5" and "Upload a file" in again  # change it, attach files


def test_evidence_files_upload_download_and_remove(app, db, client, invited, time_machine):
    world = invited
    time_machine.move_to(bb.during(world), tick=False)
    entrant = world.entrants[0]
    with app.app_context():
        bb.report(db, world, entrant, world.higher, "30")
    page = f"/bake-off/{entrant.id}/measures/{world.higher.id}"
    upload = f"{page}/evidence"
    sign_in(client, db, world.shortlisted[0])

    refused = _upload(client, upload, "notes.txt", b"just some words", token_from=page)
    assert refused.status_code == 400
    assert "There is a problem" in _sound(refused)
    assert field_error(refused, "file") is not None
    assert db.execute(select(func.count(EvidenceFile.id))).scalar_one() == 0

    response = _upload(client, upload, "meter.png", PNG, token_from=page)
    assert response.status_code == 302 and location(response) == page
    [evidence] = db.execute(select(EvidenceFile)).scalars().all()
    file_id, stored = evidence.id, storage.path_of(Path(app.config["UPLOAD_DIR"]),
                                                   evidence.stored_name)
    assert stored.read_bytes() == PNG
    assert "meter.png" in _sound(client.get(page))
    entry = _sound(client.get(f"/bake-off/{entrant.id}"))
    assert f'href="/bake-off/evidence/{file_id}"' in entry

    download = client.get(f"/bake-off/evidence/{file_id}")
    assert download.status_code == 200
    assert download.get_data() == PNG
    assert download.mimetype == "image/png"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "filename=meter.png" in download.headers["Content-Disposition"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Cache-Control"] == "no-store"
    download.close()

    client.get("/sign-out")
    for person in (world.shortlisted[1], world.lead):  # the lead: not before the deadline
        sign_in(client, db, person)
        assert client.get(f"/bake-off/evidence/{file_id}").status_code == 404
        client.get("/sign-out")

    sign_in(client, db, world.shortlisted[0])
    removed = post_form(client, f"/bake-off/{entrant.id}/evidence/{file_id}/remove", {},
                        token_from=page)
    assert removed.status_code == 302 and location(removed) == page
    assert "The file is removed." in _sound(client.get(page))
    assert db.execute(select(func.count(EvidenceFile.id))).scalar_one() == 0
    assert not stored.exists()
    assert client.get(f"/bake-off/evidence/{file_id}").status_code == 404


def test_after_the_deadline_the_report_form_refuses_and_nothing_is_saved(app, db, client,
                                                                         invited, time_machine):
    world = invited
    entrant = world.entrants[0]
    with app.app_context():
        bb.report(db, world, entrant, world.higher, "30")
    path = f"/bake-off/{entrant.id}/measures/{world.higher.id}"
    time_machine.move_to(world.closes_at + HOUR, tick=False)  # before the closing job has run
    sign_in(client, db, world.shortlisted[0])
    refused = post_form(client, path, {"value": "45", "evidence": "A late count"})
    assert refused.status_code == 400
    assert field_error(refused, "value") == \
        "The bake-off has closed, so results can no longer be reported"
    [report] = _reports(db)
    assert report.value == Decimal("30") and report.evidence == "Counted on site"
    page = _sound(client.get(f"/bake-off/{entrant.id}"))
    assert f'href="{path}"' not in page  # no Report or Change link
    assert "Waiting for verification" in page

    closed = _sound(client.get(path))
    assert "The bake-off has closed, so results can no longer be reported" in closed
    assert 'name="value"' not in closed and "Upload a file" not in closed


def test_a_viewer_of_the_entrant_reads_the_entry_but_may_not_report(app, db, client, invited,
                                                                    time_machine):
    world = invited
    time_machine.move_to(bb.during(world), tick=False)
    entrant = world.entrants[0]
    viewer = sb.viewer(world.shortlisted[0].membership.organisation)
    path = f"/bake-off/{entrant.id}/measures/{world.higher.id}"
    sign_in(client, db, viewer)
    page = _sound(client.get(f"/bake-off/{entrant.id}"))
    assert "Homes fixed" in page and f'href="{path}"' not in page
    assert "Start your demonstration proposal" not in page
    assert "Only an editor of your organisation can report results." in _sound(client.get(path))
    assert post_form(client, path, {"value": "30", "evidence": "Counted"}).status_code == 403
    assert _reports(db) == []


def test_after_verification_the_entry_shows_the_verified_value_and_the_reason(app, db, client,
                                                                              invited,
                                                                              time_machine):
    world = invited
    entrant = world.entrants[0]
    with app.app_context():
        high = bb.report(db, world, entrant, world.higher, "30")
        low = bb.report(db, world, entrant, world.lower, "800")
        bb.close_bake_off(db, world)
        bb.verify(db, world, high)
        bb.verify(db, world, low, "correct", "850", "The invoices show £850 a home")
    time_machine.move_to(world.after + HOUR, tick=False)
    sign_in(client, db, world.shortlisted[0])
    page = _sound(client.get(f"/bake-off/{entrant.id}"))
    assert "Accepted" in page and "Corrected" in page
    assert "850 pounds" in page and "The invoices show £850 a home" in page
    assert f'href="/bake-off/{entrant.id}/measures/' not in page  # nothing more to report
    verified = db.execute(select(OutboxMessage.body).where(
        OutboxMessage.template == "measurement_verified",
        OutboxMessage.recipient_id == world.shortlisted[0].id)).scalars().all()
    assert len(verified) == 2 and any("corrected it" in body for body in verified)
