"""Proposal pages through the client: the supplier's journey from the challenge page to a
receipt, every bad input answered next to its field with nothing saved, downloads, guessed
ids, a viewer's limits, the authority's count and the public receipt check."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import time_machine
from sqlalchemy import func, select

from procure.submissions import services
from procure.submissions.models import Proposal
from tests.challenges import service_builders as sb
from tests.challenges.builders import field_error, location, recently, text_of
from tests.conftest import csrf_token, post_form, sign_in
from tests.submissions.builders import PDF, PNG, complete, docx, open_phase

MB = 1024 * 1024
PRICE_ABOVE_MAXIMUM = "Your price cannot be more than the phase's maximum contract value"
MONEY_INVALID = "Enter an amount in pounds, like 50000 or 50,000.00"
DIGEST_INVALID = "Enter the 64 letters and digits of the receipt code"


@pytest.fixture
def world(app, db):
    """An open challenge on the real clock (phase 1 closes in 30 days, at most £25,000 a
    contract), an editor and a viewer of a supplier, and an editor of a rival supplier."""
    with app.app_context():
        challenge, phase, lead = open_phase(db, recently())
    supplier = sb.supplier()
    org = supplier.membership.organisation
    return SimpleNamespace(app=app, challenge=challenge, phase=phase, lead=lead,
                           supplier=supplier, viewer=sb.viewer(org), colleague=sb.editor(org),
                           rival=sb.supplier(), folder=Path(app.config["UPLOAD_DIR"]))


def _proposal(db, world, actor, *, submitted=False, files=(("plan.pdf", PDF),)):
    """A complete proposal of ``actor``'s organisation with files, submitted if asked."""
    now = recently()
    with world.app.app_context():
        proposal = services.start_proposal(db, actor=actor, phase_id=world.phase.id, now=now)
        complete(db, now, proposal, actor)
        attachments = [services.add_attachment(db, actor=actor, proposal_id=proposal.id,
                                               filename=name, data=data, now=now,
                                               folder=world.folder) for name, data in files]
        receipt = services.submit_proposal(db, actor=actor, proposal_id=proposal.id,
                                           clock=lambda: now) if submitted else None
    return proposal, attachments, receipt


def _stored(db, proposal_id) -> Proposal:
    db.expire_all()
    return db.get(Proposal, proposal_id)


def _files_on_disk(world) -> int:
    return sum(1 for p in world.folder.rglob("*") if p.is_file())


def _upload(client, path, name, data):
    """Upload a file as a browser would, with a multipart body written by hand so the file name
    reaches the server exactly as sent (only quoted, as HTTP requires)."""
    token = csrf_token(client, path)
    boundary = "procure-boundary-1234"
    quoted = name.replace("\\", "\\\\").replace('"', '\\"')
    body = b"".join([
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
        f"{token}\r\n".encode(),
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{quoted}\"\r\n"
        f"Content-Type: application/octet-stream\r\n\r\n".encode(),
        data, f"\r\n--{boundary}--\r\n".encode()])
    return client.post(path, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def _get(client, path):
    """GET ``path`` and read the whole answer, closing any file it was sent from."""
    response = client.get(path)
    response.get_data()
    response.close()
    return response


def _proposal_count(db, world, org_id=None) -> int:
    org_id = org_id or world.supplier.membership.organisation_id
    return db.execute(select(func.count(Proposal.id)).where(
        Proposal.organisation_id == org_id, Proposal.phase_id == world.phase.id)).scalar_one()


# --- the supplier's journey ---------------------------------------------------------------------

def test_supplier_journey_from_the_challenge_page_to_a_receipt_then_reopen_resubmit_withdraw(
        client, db, world):
    sign_in(client, db, world.supplier)
    challenge_page = f"/challenges/{world.challenge.id}"
    page = text_of(client.get(challenge_page))
    start = f"/challenges/{world.challenge.id}/phases/{world.phase.id}/proposal"
    assert f'action="{start}"' in page and "Start a proposal" in page

    started = post_form(client, start, {}, token_from=challenge_page)
    assert started.status_code == 302
    path = location(started)
    proposal_id = int(re.fullmatch(r"/proposals/(\d+)", path).group(1))
    task_list = text_of(client.get(path))
    assert "Your proposal is started" in task_list and "Not yet started" in task_list

    criteria = world.phase.criteria
    steps = [
        ("summary", {"summary": "Sensors in every bin", "consent_publish_summary": "y"}),
        ("responses", {f"response_{pc.id}": f"Answer on {pc.criterion.code}" for pc in criteria}),
        ("team", {"team": "Two engineers", "price": "£12,500.50", "timeline": "Three months"}),
        ("declarations", {name: "y" for name in services.DECLARATIONS}),
    ]
    for section, data in steps:
        saved = post_form(client, f"{path}/{section}", data)
        assert saved.status_code == 302 and location(saved) == path, section
    uploaded = _upload(client, f"{path}/attachments", "plan.pdf", PDF)
    assert uploaded.status_code == 302
    assert "plan.pdf is uploaded" in text_of(client.get(f"{path}/attachments"))
    assert "Completed" in text_of(client.get(path))

    check = text_of(client.get(f"{path}/check"))
    for shown in ("Sensors in every bin", "Two engineers", "£12,500.50", "Three months", "plan.pdf",
                  *(f"Answer on {pc.criterion.code}" for pc in criteria), "Submit proposal"):
        assert shown in check, shown
    assert check.count("Confirmed") == 3 and "Not confirmed" not in check
    assert "You cannot submit your proposal yet" not in check

    submitted = post_form(client, f"{path}/submit", {}, token_from=f"{path}/check")
    assert submitted.status_code == 302
    first = _stored(db, proposal_id).current_receipt
    assert location(submitted) == f"{path}/receipts/{first.id}"
    receipt_page = text_of(client.get(location(submitted)))
    assert "Proposal submitted" in receipt_page and first.digest in receipt_page
    assert _stored(db, proposal_id).status == "submitted"

    reopened = post_form(client, f"{path}/reopen", {}, token_from=path)
    assert location(reopened) == path
    assert _stored(db, proposal_id).status == "reopened"
    assert "still counts until you submit again" in text_of(client.get(path))
    post_form(client, f"{path}/summary", {"summary": "Sensors in every bin, now solar"})
    again = post_form(client, f"{path}/submit", {}, token_from=f"{path}/check")
    second = _stored(db, proposal_id).current_receipt
    assert location(again) == f"{path}/receipts/{second.id}" and second.digest != first.digest
    assert second.manifest["fields"]["summary"] == "Sensors in every bin, now solar"
    assert "earlier receipt" in text_of(client.get(f"{path}/receipts/{first.id}"))

    confirm = client.get(f"{path}/withdraw")
    assert confirm.status_code == 200 and "Withdraw proposal" in text_of(confirm)
    assert _stored(db, proposal_id).status == "submitted"  # asking is not withdrawing
    withdrawn = post_form(client, f"{path}/withdraw", {})
    stored = _stored(db, proposal_id)
    assert stored.status == "withdrawn" and stored.current_receipt_id is None
    last = stored.receipts[-1]
    assert (last.kind, last.manifest["withdraws"]) == ("withdrawn", second.digest)
    assert location(withdrawn) == f"{path}/receipts/{last.id}"
    assert "Proposal withdrawn" in text_of(client.get(location(withdrawn)))
    assert services.count_submitted(db, world.phase.id) == 0


def test_submitting_an_incomplete_proposal_lists_what_is_missing(client, db, world):
    sign_in(client, db, world.supplier)
    proposal = services.start_proposal(db, actor=world.supplier, phase_id=world.phase.id,
                                       now=recently())
    path = f"/proposals/{proposal.id}"
    check = text_of(client.get(f"{path}/check"))
    assert "You cannot submit your proposal yet" in check
    assert "Enter a public summary of your proposal" in check and 'href="#summary"' in check
    refused = post_form(client, f"{path}/submit", {}, token_from=f"{path}/check")
    assert location(refused) == f"{path}/check"
    assert _stored(db, proposal.id).receipts == []


# --- bad input: a message next to the field, status 400, nothing saved ---------------------------

def test_files_keep_distinct_names_and_a_sixth_is_refused(client, db, world):
    proposal, attachments, _ = _proposal(db, world, world.supplier, files=[("plan.pdf", PDF)] * 5)
    assert [a.filename for a in attachments] == [
        "plan.pdf", "plan (2).pdf", "plan (3).pdf", "plan (4).pdf", "plan (5).pdf"]
    sign_in(client, db, world.supplier)
    path = f"/proposals/{proposal.id}/attachments"
    page = text_of(client.get(path))
    assert "plan (5).pdf" in page and 'type="file"' not in page  # no upload box when full
    before = _files_on_disk(world)
    refused = _upload(client, path, "extra.pdf", PDF)
    assert refused.status_code == 400
    assert "You can upload up to 5 files; remove one first" in text_of(refused)
    assert len(_stored(db, proposal.id).attachments) == 5
    assert _files_on_disk(world) == before


@pytest.mark.parametrize("name, data, message", [
    ("big.pdf", PDF + b"0" * (10 * MB), "The selected file must be smaller than 10 MB"),
    ("photo.pdf", PNG, "The file's name does not match what it contains"),
    ("notes.pdf", b"Just some text, not a PDF at all\n" * 10,
     "The selected file must be a PDF, ODT, DOCX, PNG or JPEG"),
    ("empty.pdf", b"", "The selected file is empty"),
], ids=["over 10 MB", "PNG named .pdf", "text named .pdf", "empty"])
def test_a_bad_upload_is_refused_next_to_the_field_and_nothing_is_stored(
        client, db, world, name, data, message):
    proposal = services.start_proposal(db, actor=world.supplier, phase_id=world.phase.id,
                                       now=recently())
    sign_in(client, db, world.supplier)
    before = _files_on_disk(world)
    response = _upload(client, f"/proposals/{proposal.id}/attachments", name, data)
    assert response.status_code == 400
    assert message in (field_error(response, "file") or "")
    page = text_of(response)
    assert "There is a problem" in page and 'href="#file"' in page and "Error:" in page
    assert _stored(db, proposal.id).attachments == []
    assert _files_on_disk(world) == before


@pytest.mark.parametrize("name, message", [
    ("../../etc/passwd.pdf", "The file name must not include folder names; rename the file"),
    ("..\\..\\plan.pdf", "The file name must not include folder names; rename the file"),
    ("plan\x07.pdf", "The file name contains characters that cannot be used; rename the file"),
    ("plan\u202egnp.pdf", "The file name contains characters that cannot be used; rename the file"),
], ids=["slash path", "backslash path", "control character", "right-to-left override"])
def test_a_file_name_with_folders_or_control_characters_is_refused(client, db, world, name,
                                                                     message):
    proposal = services.start_proposal(db, actor=world.supplier, phase_id=world.phase.id,
                                       now=recently())
    sign_in(client, db, world.supplier)
    before = _files_on_disk(world)
    response = _upload(client, f"/proposals/{proposal.id}/attachments", name, PDF)
    assert response.status_code == 400
    assert field_error(response, "file") == message
    assert _stored(db, proposal.id).attachments == []
    assert _files_on_disk(world) == before


def test_a_request_over_12_mb_gets_the_too_large_page_and_nothing_is_stored(client, db, world):
    proposal = services.start_proposal(db, actor=world.supplier, phase_id=world.phase.id,
                                       now=recently())
    sign_in(client, db, world.supplier)
    before = _files_on_disk(world)
    response = _upload(client, f"/proposals/{proposal.id}/attachments", "huge.pdf",
                       PDF + b"0" * (12 * MB))
    assert response.status_code == 413
    assert "The file is too large" in text_of(response)
    assert _stored(db, proposal.id).attachments == []
    assert _files_on_disk(world) == before


@pytest.mark.parametrize("price, message", [
    ("12k", MONEY_INVALID),
    ("£25,000.01", PRICE_ABOVE_MAXIMUM),
    ("1000000", PRICE_ABOVE_MAXIMUM),
], ids=["letters", "a penny above the maximum", "far above the maximum"])
def test_a_bad_price_is_refused_next_to_the_field_and_nothing_is_saved(client, db, world, price,
                                                                        message):
    proposal = services.start_proposal(db, actor=world.supplier, phase_id=world.phase.id,
                                       now=recently())
    sign_in(client, db, world.supplier)
    response = post_form(client, f"/proposals/{proposal.id}/team",
                         {"team": "Two engineers", "price": price, "timeline": "Soon"})
    assert response.status_code == 400
    assert field_error(response, "price") == message
    page = text_of(response)
    assert "There is a problem" in page and 'href="#price"' in page
    assert 'value="Two engineers"' in page or ">Two engineers<" in page  # what was typed is kept
    stored = _stored(db, proposal.id)
    assert (stored.team, stored.price_pence, stored.timeline) == ("", None, "")


@pytest.mark.parametrize("section, field, limit", [
    ("summary", "summary", 2_000), ("team", "team", 20_000), ("team", "timeline", 20_000),
    ("responses", "response", 20_000)])
def test_text_over_its_limit_is_refused_next_to_the_field_and_nothing_is_saved(
        client, db, world, section, field, limit):
    proposal = services.start_proposal(db, actor=world.supplier, phase_id=world.phase.id,
                                       now=recently())
    first = world.phase.criteria[0].id
    data = {"summary": {"summary": "Short"},
            "team": {"team": "Short", "price": "100", "timeline": "Short"},
            "responses": {f"response_{pc.id}": "Short" for pc in world.phase.criteria}}[section]
    name = f"response_{first}" if field == "response" else field
    data[name] = "x" * (limit + 1)
    sign_in(client, db, world.supplier)
    response = post_form(client, f"/proposals/{proposal.id}/{section}", data)
    assert response.status_code == 400
    assert field_error(response, name) == "This is too long; shorten it"
    assert f'href="#{name}"' in text_of(response)
    stored = _stored(db, proposal.id)
    assert (stored.summary, stored.team, stored.timeline, stored.price_pence, stored.responses) == \
        ("", "", "", None, [])


def test_the_maximum_price_itself_is_accepted(client, db, world):
    proposal = services.start_proposal(db, actor=world.supplier, phase_id=world.phase.id,
                                       now=recently())
    sign_in(client, db, world.supplier)
    response = post_form(client, f"/proposals/{proposal.id}/team",
                         {"team": "Two engineers", "price": "£25,000", "timeline": "Soon"})
    assert response.status_code == 302
    assert _stored(db, proposal.id).price_pence == world.phase.max_value_pence == 2_500_000


# --- when a phase does not take proposals ----------------------------------------------------------

def test_a_phase_not_yet_open_offers_no_start_and_refuses_one(client, db, world):
    lead = sb.editor()
    now = recently()
    with world.app.app_context():  # phase 1 opens tomorrow
        challenge = sb.open_challenge(db, now, lead, sb.framework(db, now, code="later"))
    phase = challenge.phases[0]
    sign_in(client, db, world.supplier)
    page = text_of(client.get(f"/challenges/{challenge.id}"))
    assert "Start a proposal" not in page
    start = f"/challenges/{challenge.id}/phases/{phase.id}/proposal"
    refused = post_form(client, start, {}, token_from=f"/challenges/{challenge.id}")
    assert location(refused) == f"/challenges/{challenge.id}"
    assert "This phase is not open for proposals yet" in text_of(client.get(location(refused)))
    assert db.execute(select(func.count(Proposal.id)).where(Proposal.phase_id == phase.id)
                      ).scalar_one() == 0


def test_after_the_deadline_nothing_can_be_started_changed_or_submitted(client, db, world):
    draft = services.start_proposal(db, actor=world.supplier, phase_id=world.phase.id,
                                    now=recently())
    complete(db, recently(), draft, world.supplier)
    page_of_challenge = f"/challenges/{world.challenge.id}"
    with time_machine.travel(world.phase.closes_at + timedelta(seconds=1), tick=False):
        sign_in(client, db, world.supplier)
        path = f"/proposals/{draft.id}"
        assert "The deadline for this phase has passed" in text_of(client.get(path))
        assert "Submit proposal" not in text_of(client.get(f"{path}/check"))
        changed = post_form(client, f"{path}/team", {"team": "Late", "price": "1", "timeline": "x"},
                            token_from=path)
        assert location(changed) == path
        submitted = post_form(client, f"{path}/submit", {}, token_from=path)
        assert location(submitted) == path
        assert "The deadline for this phase has passed" in text_of(client.get(path))

        sign_in(client, db, world.rival)
        assert "Start a proposal" not in text_of(client.get(page_of_challenge))
        start = f"/challenges/{world.challenge.id}/phases/{world.phase.id}/proposal"
        refused = post_form(client, start, {}, token_from=page_of_challenge)
        assert location(refused) == page_of_challenge
        assert "The deadline for this phase has passed" in text_of(client.get(page_of_challenge))
    stored = _stored(db, draft.id)
    assert (stored.status, stored.team, stored.receipts) == ("draft", "Two engineers", [])
    assert _proposal_count(db, world, world.rival.membership.organisation_id) == 0


def test_a_second_start_by_the_same_organisation_goes_to_its_proposal(client, db, world):
    proposal = services.start_proposal(db, actor=world.supplier, phase_id=world.phase.id,
                                       now=recently())
    sign_in(client, db, world.colleague)
    challenge_page = f"/challenges/{world.challenge.id}"
    page = text_of(client.get(challenge_page))
    assert "Start a proposal" not in page and f'href="/proposals/{proposal.id}"' in page
    start = f"/challenges/{world.challenge.id}/phases/{world.phase.id}/proposal"
    again = post_form(client, start, {}, token_from=challenge_page)
    assert location(again) == f"/proposals/{proposal.id}"
    assert _proposal_count(db, world) == 1


# --- downloads ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, data, mime", [
    ("plan.pdf", PDF, "application/pdf"),
    ("photo.png", PNG, "image/png"),
    ("bid.docx", docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
], ids=["pdf", "png", "docx"])
def test_a_download_is_an_attachment_with_its_name_and_type_and_no_sniffing(client, db, world,
                                                                            name, data, mime):
    proposal, [attachment], _ = _proposal(db, world, world.supplier, files=[(name, data)])
    sign_in(client, db, world.supplier)
    response = _get(client, f"/proposals/{proposal.id}/attachments/{attachment.id}")
    assert response.status_code == 200
    assert response.get_data() == data
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert f"filename={name}" in response.headers["Content-Disposition"]
    assert response.mimetype == mime
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_file_name_that_needs_encoding_is_still_offered_under_its_name(client, db, world):
    proposal, [attachment], _ = _proposal(db, world, world.supplier,
                                          files=[('Cynllun "terfynol" – ŵ.pdf', PDF)])
    sign_in(client, db, world.supplier)
    disposition = _get(
        client, f"/proposals/{proposal.id}/attachments/{attachment.id}").headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''Cynllun%20%22terfynol%22%20%E2%80%93%20%C5%B5.pdf" in disposition
    assert "\n" not in disposition and "\r" not in disposition


def test_the_receipt_record_downloads_as_the_bytes_its_code_is_taken_over(client, db, world):
    proposal, _, receipt = _proposal(db, world, world.supplier, submitted=True)
    sign_in(client, db, world.supplier)
    response = client.get(f"/proposals/{proposal.id}/receipts/{receipt.id}/manifest.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == \
        f'attachment; filename="receipt-{receipt.digest[:12]}.json"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    import hashlib

    assert hashlib.sha256(response.get_data()).hexdigest() == receipt.digest


# --- guessed ids, and what a viewer may do ------------------------------------------------------

def test_guessed_ids_of_another_organisation_are_not_found(client, db, world):
    theirs, [their_file], their_receipt = _proposal(db, world, world.rival, submitted=True)
    mine, [my_file], my_receipt = _proposal(db, world, world.supplier, submitted=True)
    sign_in(client, db, world.supplier)
    guesses = [
        f"/proposals/{theirs.id}", f"/proposals/{theirs.id}/check",
        f"/proposals/{theirs.id}/submitted", f"/proposals/{theirs.id}/withdraw",
        f"/proposals/{theirs.id}/attachments/{their_file.id}",
        f"/proposals/{mine.id}/attachments/{their_file.id}",  # their file under my proposal
        f"/proposals/{theirs.id}/attachments/{my_file.id}",
        f"/proposals/{theirs.id}/receipts/{their_receipt.id}",
        f"/proposals/{mine.id}/receipts/{their_receipt.id}",  # their receipt under my proposal
        f"/proposals/{mine.id}/receipts/{their_receipt.id}/manifest.json",
        f"/proposals/{theirs.id}/receipts/{their_receipt.id}/manifest.json",
        f"/proposals/{theirs.id}/summary",
    ]
    for path in guesses:
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Page not found" in text_of(response)
    for path in (f"/proposals/{theirs.id}/reopen", f"/proposals/{theirs.id}/withdraw"):
        assert post_form(client, path, {}, token_from=f"/proposals/{mine.id}").status_code == 404
    assert _stored(db, theirs.id).status == "submitted"
    # The real ones, for contrast.
    assert _get(client, f"/proposals/{mine.id}/attachments/{my_file.id}").status_code == 200
    assert client.get(f"/proposals/{mine.id}/receipts/{my_receipt.id}").status_code == 200


def test_a_supplier_viewer_reads_the_proposal_but_cannot_change_it(client, db, world):
    proposal, [attachment], receipt = _proposal(db, world, world.supplier, submitted=True)
    sign_in(client, db, world.viewer)
    path = f"/proposals/{proposal.id}"
    for readable in (path, f"{path}/check", f"{path}/submitted", f"{path}/receipts/{receipt.id}",
                     f"{path}/attachments/{attachment.id}"):
        assert _get(client, readable).status_code == 200, readable
    page = text_of(client.get(path))
    assert "Change your proposal" not in page and "Withdraw your proposal" not in page
    for refused in (f"{path}/summary", f"{path}/attachments", f"{path}/withdraw"):
        assert client.get(refused).status_code == 403, refused
    token = csrf_token(client, path)
    for action, data in ((f"{path}/reopen", {}), (f"{path}/withdraw", {}), (f"{path}/submit", {}),
                         (f"{path}/summary", {"summary": "Changed by a viewer"}),
                         (f"{path}/attachments/{attachment.id}/remove", {})):
        response = client.post(action, data={"csrf_token": token, **data})
        assert response.status_code == 403, action
        assert "You do not have permission" in text_of(response)
    stored = _stored(db, proposal.id)
    assert (stored.status, stored.summary, len(stored.receipts)) == \
        ("submitted", "Sensors in every bin", 1)
    assert stored.live_attachments[0].id == attachment.id
    start = f"/challenges/{world.challenge.id}/phases/{world.phase.id}/proposal"
    assert client.post(start, data={"csrf_token": token}).status_code == 403


# --- the authority before the deadline, and anyone checking a receipt --------------------------

def test_before_the_deadline_the_authority_sees_only_how_many_are_in(client, db, world):
    proposal, _, _ = _proposal(db, world, world.supplier, submitted=True)
    _proposal(db, world, world.rival)  # a draft does not count
    supplier_name = world.supplier.membership.organisation.name
    sign_in(client, db, world.lead)
    page = text_of(client.get(f"/challenges/{world.challenge.id}"))
    assert "Phase 1: 1 proposal submitted" in page
    assert supplier_name not in page and "Sensors in every bin" not in page
    listing = text_of(client.get(
        f"/challenges/{world.challenge.id}/phases/{world.phase.id}/proposals"))
    assert "1 proposal submitted so far." in listing and "sealed until the deadline" in listing
    assert supplier_name not in listing and f"/proposals/{proposal.id}" not in listing
    assert client.get(f"/proposals/{proposal.id}/submitted").status_code == 404


def test_after_the_deadline_the_lead_reads_the_last_submission_not_later_changes(
        client, db, world):
    proposal, [attachment], receipt = _proposal(db, world, world.supplier, submitted=True)
    _proposal(db, world, world.rival)  # a draft: never read by the authority
    now = recently()
    services.reopen_proposal(db, actor=world.supplier, proposal_id=proposal.id, now=now)
    services.update_fields(db, actor=world.supplier, proposal_id=proposal.id, now=now,
                           summary="A change never submitted")
    services.remove_attachment(db, actor=world.supplier, proposal_id=proposal.id,
                               attachment_id=attachment.id, now=now, folder=world.folder)
    listing_path = f"/challenges/{world.challenge.id}/phases/{world.phase.id}/proposals"
    with time_machine.travel(world.phase.closes_at + timedelta(minutes=1), tick=False):
        sign_in(client, db, world.lead)
        listing = text_of(client.get(listing_path))
        assert world.supplier.membership.organisation.name in listing
        assert world.rival.membership.organisation.name not in listing
        assert f'href="/proposals/{proposal.id}/submitted"' in listing and receipt.digest[:12] in listing
        page = text_of(client.get(f"/proposals/{proposal.id}/submitted"))
        assert "Sensors in every bin" in page and "A change never submitted" not in page
        assert receipt.digest in page
        download = _get(client, f"/proposals/{proposal.id}/attachments/{attachment.id}")
        assert download.status_code == 200 and download.get_data() == PDF
        assert client.get(f"/proposals/{proposal.id}").status_code == 404  # the working copy
    reads = [(e.action, e.actor_id) for e in sb.events(db, "proposal.read")
             + sb.events(db, "proposal.attachment_read")]
    assert reads == [("proposal.read", world.lead.id), ("proposal.attachment_read", world.lead.id)]


def test_a_valid_receipt_code_says_when_it_was_received_and_nothing_else(client, db, world):
    proposal, _, receipt = _proposal(db, world, world.supplier, submitted=True)
    spaced = " ".join(receipt.digest.upper()[i:i + 8] for i in range(0, 64, 8))
    for typed in (receipt.digest, spaced):
        response = client.get("/receipts/verify", query_string={"digest": typed})
        assert response.status_code == 200
        page = text_of(response)
        assert "This receipt matches a submission we hold" in page
        assert re.search(r"Received \d{1,2} \w+ \d{4}, \d\d:\d\d:\d\d", page)
        for secret in (world.challenge.title, world.supplier.membership.organisation.name,
                       "Sensors in every bin", f"/proposals/{proposal.id}"):
            assert secret not in page, secret


def test_an_unknown_receipt_code_is_no_match_and_garbage_is_a_field_error(client, db, world):
    unknown = client.get("/receipts/verify", query_string={"digest": "0" * 64})
    assert unknown.status_code == 200 and "No match" in text_of(unknown)
    for garbage in ("not a receipt", "0" * 63, "g" * 64, "<script>"):
        response = client.get("/receipts/verify", query_string={"digest": garbage})
        assert response.status_code == 400, garbage
        assert field_error(response, "digest") == DIGEST_INVALID
        page = text_of(response)
        assert "There is a problem" in page and "No match" not in page
