"""Sealed bids, end to end: a proposal whose every part carries a marker, and every page of the
site walked as every kind of person, before and after the deadline.

Until the phase closes nothing of the proposal — text, answers, file names or file contents —
reaches anyone outside the supplier's organisation, on any page, download, header, error page,
e-mail or audit record: not an assessor either. After the deadline the lead and accepted
co-funders read it, and so do the phase's assessors who have declared no conflict with the
supplier; an assessor who has declared a conflict, or not yet declared, never does, even one
from the lead authority; nobody else ever does.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select, update
from werkzeug.routing import IntegerConverter

from procure.assessment import services as assessment_services
from procure.audit.models import AuditEvent
from procure.challenges import funding
from procure.challenges import services as challenge_services
from procure.extensions import limiter
from procure.notifications.models import OutboxMessage, OutboxStatus
from procure.submissions import services
from tests.challenges import service_builders as sb
from tests.conftest import sign_in
from tests.submissions.builders import PDF, PNG, complete

MARKER = "SEALED-7f3a9c"  # letters, digits and a hyphen: no encoding (HTML, URL, JSON) alters it
START = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
CLOSES_AT = START + timedelta(days=30)
AFTER = CLOSES_AT + timedelta(minutes=1)

INSIDERS = ("supplier editor", "supplier viewer")
READERS_AFTER = ("lead editor", "lead viewer", "partner editor")
# Appointed and accepted before the deadline; they declare (or not) once the phase has closed.
# The three "assessor"s are viewers of the lead; the expert belongs to no organisation.
ASSESSORS_READING = ("assessor, no conflict", "independent expert, no conflict")
ASSESSORS_NOT_READING = ("assessor, conflict", "assessor, nothing declared")
ASSESSORS = ASSESSORS_READING + ASSESSORS_NOT_READING
NEVER = ("visitor", "rival supplier", "unrelated authority editor", "admin")
ROLES = INSIDERS + READERS_AFTER + ASSESSORS + NEVER


@pytest.fixture
def traveller():
    """Pages read the real clock: stop it at START, and move it on when the test says."""
    with time_machine.travel(START, tick=False) as t:
        yield t


@pytest.fixture
def world(app, db, traveller):
    with app.app_context():  # e-mails written along the way link to the site
        now = START
        lead = sb.editor()
        lead_org = lead.membership.organisation
        partner = sb.editor()
        challenge = sb.open_challenge(db, now - timedelta(hours=2), lead, sb.framework(db, now),
                                      opens_at=now - timedelta(hours=1), closes_at=CLOSES_AT)
        funding.invite_partner(db, actor=lead, challenge_id=challenge.id,
                               organisation_id=partner.membership.organisation_id, message="Join us",
                               now=now)
        funding.respond_to_invitation(db, actor=partner, challenge_id=challenge.id, accept=True,
                                      pledge_pence=1_000_000, now=now)
        phase = challenge.phases[0]
        supplier = sb.supplier()
        rival = sb.supplier()
        people = {
            "visitor": None,
            "supplier editor": supplier,
            "supplier viewer": sb.viewer(supplier.membership.organisation),
            "rival supplier": rival,
            "lead editor": lead,
            "lead viewer": sb.viewer(lead_org),
            "partner editor": partner,
            "unrelated authority editor": sb.editor(),
            "admin": sb.no_org_user(is_admin=True),
        }
        folder = app.config["UPLOAD_DIR"]
        sealed = services.start_proposal(db, actor=supplier, phase_id=phase.id, now=now)
        complete(db, now, sealed, supplier, marker=MARKER)
        pdf = services.add_attachment(
            db, actor=supplier, proposal_id=sealed.id, filename=f"plan-{MARKER}.pdf", now=now,
            folder=folder, data=PDF.replace(b"%%EOF", f"% {MARKER}\n%%EOF".encode()))
        png = services.add_attachment(db, actor=supplier, proposal_id=sealed.id, now=now,
                                      filename=f"photo-{MARKER}.png", folder=folder,
                                      data=PNG + MARKER.encode())
        own = services.start_proposal(db, actor=rival, phase_id=phase.id, now=now)
        complete(db, now, own, rival)
        receipt = services.submit_proposal(db, actor=supplier, proposal_id=sealed.id,
                                           clock=lambda: now)
        rival_receipt = services.submit_proposal(db, actor=rival, proposal_id=own.id,
                                                 clock=lambda: now)
        appointments = {}
        for role in ("assessor, no conflict", "assessor, conflict", "assessor, nothing declared"):
            people[role] = sb.viewer(lead_org)
            appointment = assessment_services.appoint_member(
                db, actor=lead, challenge_id=challenge.id, phase_id=phase.id,
                user_id=people[role].id, now=now)
            assessment_services.respond_to_appointment(db, actor=people[role],
                                                       appointment_id=appointment.id,
                                                       accept=True, now=now)
            appointments[role] = appointment.id
        expert = people["independent expert, no conflict"] = sb.no_org_user()
        _, token = assessment_services.invite_expert(
            db, actor=lead, challenge_id=challenge.id, phase_id=phase.id, name=expert.name,
            email=expert.email, now=now)
        appointments["independent expert, no conflict"] = assessment_services.accept_invitation(
            db, actor=expert, token=token, now=now).id
        # An invitation nobody has taken up yet: its page is public.
        _, open_token = assessment_services.invite_expert(
            db, actor=lead, challenge_id=challenge.id, phase_id=phase.id, name="Someone",
            email="someone@example.org", now=now)
    scored = next(pc for pc in phase.criteria if pc.criterion.kind == "scored")
    ids = {"challenge_id": challenge.id, "phase_id": phase.id, "proposal_id": sealed.id,
           "attachment_id": pdf.id, "receipt_id": receipt.id,
           "organisation_id": supplier.membership.organisation_id,
           "appointment_id": appointments["assessor, no conflict"], "criterion_id": scored.id,
           "token": open_token}
    p = f"/proposals/{sealed.id}"
    a = f"/assessments/proposals/{sealed.id}"
    return {
        "people": people, "ids": ids, "appointments": appointments,
        "pages": {"check": f"{p}/check", "submitted": f"{p}/submitted",
                  "pdf": f"{p}/attachments/{pdf.id}", "png": f"{p}/attachments/{png.id}",
                  "manifest": f"{p}/receipts/{receipt.id}/manifest.json"},
        # The pages of the sealed proposal under assessment, and every assessor's own list.
        "assessment": {"score": a, "declare": f"{a}/declare", "marks": f"{a}/marks",
                       "moderate": f"{a}/moderate/{scored.id}", "feedback": f"{p}/feedback",
                       **{f"work of {role}": f"/assessments/{i}"
                          for role, i in appointments.items()},
                       **{f"{page} of the phase": f"/challenges/{challenge.id}/phases/{phase.id}/{page}"
                          for page in ("assessment", "assessors", "decision", "proposals")}},
        "extra": [
            "/challenges", f"/challenges?authority={lead_org.id}", "/challenges?tag=housing",
            f"/receipts/verify?digest={receipt.digest}",
            f"/receipts/verify?digest={receipt.digest.upper()}",
            f"/receipts/verify?digest={rival_receipt.digest}",
            f"/proposals/{own.id}", f"/proposals/{own.id}/check", f"/proposals/{own.id}/submitted",
            f"/proposals/{own.id}/receipts/{rival_receipt.id}",
        ],
    }


def _get_paths(app, ids: dict[str, int | str]) -> list[str]:
    """Every URL rule that answers GET, with the world's ids (1, or a dummy string, where the
    world has none)."""
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        values = {arg: ids.get(arg, 1) if isinstance(rule._converters[arg], IntegerConverter)
                  else ids.get(arg, "dummy-token") for arg in rule.arguments}
        paths.append(rule.build(values)[1])
    return sorted(paths)


def _walk(app, db, user, paths, proposal_id) -> dict[str, tuple[int, bytes, str]]:
    """GET each path as ``user`` on a fresh browser: path -> (status, body, headers as text)."""
    limiter.reset()
    client = app.test_client()
    if user is not None:
        sign_in(client, db, user)
    seen = {}
    for path in paths:
        response = client.get(path)
        seen[path] = (response.status_code, response.get_data(),
                      "\n".join(f"{k}: {v}" for k, v in response.headers.items()))
        response.close()
    # Error pages: a file that does not exist, and a method the page does not take.
    for method, path in (("GET", f"/proposals/{proposal_id}/attachments/999999"),
                         ("POST", f"/proposals/{proposal_id}/submitted")):
        response = client.open(path, method=method)
        seen[f"{method} {path}"] = (response.status_code, response.get_data(),
                                    "\n".join(f"{k}: {v}" for k, v in response.headers.items()))
    return seen


def _leaks(seen) -> list[str]:
    return [path for path, (_, body, headers) in seen.items()
            if MARKER.encode() in body or MARKER in headers]


def _error_statuses(seen) -> dict[str, int]:
    return {path: status for path, (status, _, _) in seen.items() if status >= 500}


def _all_paths(app, world) -> list[str]:
    return [*world["pages"].values(), *world["assessment"].values(),
            *_get_paths(app, world["ids"]), *world["extra"]]


def _mark_every_email_undelivered(db):
    """So the admins' page of undelivered e-mails lists every message written."""
    db.execute(update(OutboxMessage).values(status=OutboxStatus.DEAD, last_error="refused"))
    db.flush()


def _assert_no_marker_in_emails_or_audit(db):
    messages = list(db.execute(select(OutboxMessage)).scalars())
    assert {m.template for m in messages} >= {"proposal_submitted"}
    assert [m.id for m in messages if MARKER in m.subject or MARKER in m.body] == []
    events = list(db.execute(select(AuditEvent)).scalars())
    assert {"proposal.submitted", "proposal.attachment_added"} <= {e.action for e in events}
    assert [e.action for e in events if MARKER in (e.data or "") or MARKER in str(e.subject_id)] == []


def test_before_the_deadline_only_the_suppliers_organisation_sees_any_part(
        app, db, world, caplog):
    caplog.set_level(logging.INFO)
    _mark_every_email_undelivered(db)
    paths = _all_paths(app, world)
    assert any(p.startswith("/admin/audit") for p in paths)
    assert any(p.startswith("/admin/outbox") for p in paths)
    pages = world["pages"]
    for role in ROLES:
        seen = _walk(app, db, world["people"][role], paths, world["ids"]["proposal_id"])
        assert _error_statuses(seen) == {}, role
        missing = seen[f"GET /proposals/{world['ids']['proposal_id']}/attachments/999999"][0]
        assert missing == (302 if role == "visitor" else 404), role
        assert seen[f"POST {pages['submitted']}"][0] == 405
        if role in INSIDERS:
            # The marker is there to be found: the supplier reads its own proposal everywhere.
            assert set(pages.values()) <= set(_leaks(seen)), role
            status, body, headers = seen[pages["pdf"]]
            assert status == 200 and f"plan-{MARKER}.pdf" in headers
        else:
            assert _leaks(seen) == [], role
            for name in ("submitted", "pdf", "png", "check", "manifest"):
                assert seen[pages[name]][0] in (302, 404), (role, name)  # sign in, or no such page
        if role == "admin":  # the admin's pages do list what happened to the proposal
            assert b"<code>proposal." in seen["/admin/audit"][1]
            assert b"Receipt for your proposal" in seen["/admin/outbox"][1]
        if role in ASSESSORS:
            _assert_assessor_waits(world, role, seen)
    assert MARKER not in caplog.text
    _assert_no_marker_in_emails_or_audit(db)
    # Every refused look at the sealed proposal is on record.
    refused = db.execute(select(AuditEvent).where(AuditEvent.action == "proposal.read_refused",
                                                  AuditEvent.subject_id == str(
                                                      world["ids"]["proposal_id"]))).scalars()
    actors = {e.actor_id for e in refused}
    assert {world["people"][r].id
            for r in ("lead editor", "partner editor", "admin", *ASSESSORS)} <= actors


def _assert_assessor_waits(world, role, seen):
    """Before the deadline an assessor has their list, which says the proposals are sealed, and
    the pages of a proposal under assessment do not exist."""
    pages = world["assessment"]
    status, body, _ = seen[pages[f"work of {role}"]]
    assert status == 200 and b"sealed until the deadline" in body, role
    for other in ASSESSORS:
        if other != role:
            assert seen[pages[f"work of {other}"]][0] == 404, (role, other)
    for name in ("score", "declare", "marks", "moderate", "feedback"):
        assert seen[pages[name]][0] == 404, (role, name)


def _declare(app, db, world):
    """Once the phase has closed, the assessors say whether they have a conflict with the
    supplier of the sealed proposal; one of them has not yet."""
    people, proposal_id = world["people"], world["ids"]["proposal_id"]
    with app.app_context():  # a conflict may ask the editors for another assessor
        for role, conflicted in (("assessor, no conflict", False),
                                 ("independent expert, no conflict", False),
                                 ("assessor, conflict", True)):
            assessment_services.declare(db, actor=people[role], proposal_id=proposal_id,
                                        conflicted=conflicted,
                                        reason="I advised them last year" if conflicted else "",
                                        now=AFTER)


def test_after_the_deadline_the_lead_and_partners_read_it_and_nobody_else_ever_does(
        app, db, world, traveller, caplog):
    caplog.set_level(logging.INFO)
    traveller.move_to(AFTER)
    with app.app_context():  # the scheduled job closes the phase and tells everyone
        assert challenge_services.advance_phases(db, now=AFTER) == 1
    assert {"phase_closed_authority", "phase_closed_supplier"} <= {
        m.template for m in db.execute(select(OutboxMessage)).scalars()}
    _declare(app, db, world)
    _mark_every_email_undelivered(db)
    pages = world["pages"]
    assessment = world["assessment"]
    for role in READERS_AFTER + ASSESSORS_READING:
        seen = _walk(app, db, world["people"][role],
                     [*pages.values(), *assessment.values()], world["ids"]["proposal_id"])
        assert _error_statuses(seen) == {}, role
        if role in ASSESSORS_READING:  # the proposal in view while scoring it
            status, body, _ = seen[assessment["score"]]
            assert status == 200 and MARKER.encode() in body, role
            status, body, _ = seen[assessment[f"work of {role}"]]
            assert status == 200 and b"sealed until the deadline" not in body, role
        status, body, _ = seen[pages["submitted"]]
        assert status == 200 and MARKER.encode() in body, role
        assert body.count(MARKER.encode()) >= 6  # summary, team, timeline, answers, file names
        for name, mime in (("pdf", "application/pdf"), ("png", "image/png")):
            status, body, headers = seen[pages[name]]
            assert status == 200 and MARKER.encode() in body, (role, name)
            assert f"Content-Type: {mime}" in headers
            assert "attachment;" in headers and f"-{MARKER}." in headers
        assert seen[pages["check"]][0] == 404  # the working copy stays the supplier's own
    paths = _all_paths(app, world)
    for role in ASSESSORS_NOT_READING + NEVER:
        seen = _walk(app, db, world["people"][role], paths, world["ids"]["proposal_id"])
        assert _error_statuses(seen) == {}, role
        assert _leaks(seen) == [], role
        for name in ("submitted", "pdf", "png", "check", "manifest"):
            assert seen[pages[name]][0] in (302, 404), (role, name)
        if role == "assessor, conflict":  # never to see it: no page to score it on
            assert seen[assessment["score"]][0] == 404
            assert seen[assessment["declare"]][0] == 404
        if role == "assessor, nothing declared":  # asked to declare first
            status, _, headers = seen[assessment["score"]]
            assert status == 302 and f"Location: {assessment['declare']}" in headers
            assert seen[assessment["declare"]][0] == 200
    assert MARKER not in caplog.text
    _assert_no_marker_in_emails_or_audit(db)
    reads = db.execute(select(AuditEvent).where(AuditEvent.action.in_(
        ["proposal.read", "proposal.attachment_read"]))).scalars()
    assert {e.actor_id for e in reads} == {world["people"][r].id
                                           for r in READERS_AFTER + ASSESSORS_READING}



BIDDER_NAME = "Bidder NAME-91c2"  # who has bid is sealed too: the authority sees only how many
# Pages that list every organisation, bidding or not: to join one, and the admins' register.
DIRECTORIES = ("/organisation/join", "/admin/organisations")


def test_before_the_deadline_nobody_outside_learns_who_has_bid(app, db, world):
    supplier = world["people"]["supplier editor"].membership.organisation
    supplier.name = BIDDER_NAME
    db.flush()
    paths = [p for p in _all_paths(app, world) if not p.startswith(DIRECTORIES)]
    named = {}
    for role in ROLES:
        if role in INSIDERS:
            continue
        seen = _walk(app, db, world["people"][role], paths, world["ids"]["proposal_id"])
        assert _error_statuses(seen) == {}, role
        named[role] = [p for p, (_, body, _) in seen.items() if BIDDER_NAME.encode() in body]
    assert named == {role: [] for role in named}
