"""Proposal services against the database: starting, filling in, uploading, submitting with a
receipt, reopening, withdrawing, amendments of the challenge, and the sealed reads."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from procure.challenges import funding
from procure.challenges import services as challenge_services
from procure.errors import InvalidTransition, NotFound, NotPermitted, RuleViolation
from procure.submissions import services
from procure.submissions.models import Attachment, Proposal, Receipt
from procure.submissions.rules import MAX_FILE_BYTES
from tests.challenges import service_builders as sb
from tests.submissions.builders import (
    DAY,
    JPEG,
    PDF,
    PNG,
    complete,
    docx,
    open_phase,
    started,
    stored_files,
    stored_proposal,
    submitted,
)

SECOND = timedelta(seconds=1)
MARKER = "MARK-5c2e91"  # in every part of a proposal: it must never leave the supplier early
DECLARED = {name: True for name in services.DECLARATIONS}


def _canonical_sha256(manifest: dict) -> str:
    """The receipt code, recomputed as anyone holding the manifest would."""
    return hashlib.sha256(json.dumps(manifest, sort_keys=True, separators=(",", ":"),
                                     ensure_ascii=False).encode("utf-8")).hexdigest()


def _receipts(db, proposal_id: int) -> list[Receipt]:
    return list(db.execute(select(Receipt).where(Receipt.proposal_id == proposal_id)
                           .order_by(Receipt.sequence)).scalars())


def _attachment_rows(db, proposal_id: int) -> list[Attachment]:
    return list(db.execute(select(Attachment).where(Attachment.proposal_id == proposal_id)
                           .order_by(Attachment.id)).scalars())


def _data(event) -> dict:
    return json.loads(event.data)


def _add(db, now, proposal, supplier, folder, filename="plan.pdf", data=PDF):
    return services.add_attachment(db, actor=supplier, proposal_id=proposal.id, filename=filename,
                                   data=data, now=now, folder=folder)


# --- starting ------------------------------------------------------------------------------------

def test_a_supplier_editor_starts_a_draft(ctx, db, now):
    _, phase, _ = open_phase(db, now)
    supplier = sb.supplier()
    proposal = started(db, now, phase, supplier)
    stored = stored_proposal(db, proposal.id)
    assert (stored.status, stored.organisation_id, stored.phase_id, stored.created_by_id) == (
        "draft", supplier.membership.organisation_id, phase.id, supplier.id)
    assert (stored.current_receipt_id, stored.must_reconfirm) == (None, False)
    [event] = sb.events(db, "proposal.started")
    assert (event.actor_id, event.subject_id) == (supplier.id, str(proposal.id))


def test_one_proposal_per_organisation_per_phase(ctx, db, now):
    _, phase, _ = open_phase(db, now)
    first = sb.supplier()
    colleague = sb.supplier(first.membership.organisation)
    started(db, now, phase, first)
    for person in (first, colleague):
        with pytest.raises(RuleViolation) as refused:
            started(db, now, phase, person)
        assert refused.value.errors == {"proposal": "already_started"}
    other = started(db, now, phase, sb.supplier())  # another organisation may
    assert other.status == "draft"
    assert db.execute(select(func.count(Proposal.id)).where(Proposal.phase_id == phase.id)).scalar() == 2


def test_a_phase_not_yet_open_cannot_be_started(ctx, db, now):
    lead = sb.editor()
    challenge = sb.open_challenge(db, now, lead, sb.framework(db, now))  # phase 1 opens tomorrow
    phase = challenge.phases[0]
    supplier = sb.supplier()
    with pytest.raises(RuleViolation) as refused:
        started(db, phase.opens_at - SECOND, phase, supplier)
    assert refused.value.errors == {"proposal": "phase_not_open"}
    assert started(db, phase.opens_at, phase, supplier).status == "draft"


@pytest.mark.parametrize("after", [timedelta(0), SECOND, DAY])
def test_a_closed_phase_cannot_be_started(ctx, db, now, after):
    _, phase, _ = open_phase(db, now)
    with pytest.raises(RuleViolation) as refused:
        started(db, phase.closes_at + after, phase, sb.supplier())
    assert refused.value.errors == {"proposal": "phase_closed"}
    assert sb.events(db, "proposal.started") == []


@pytest.mark.parametrize("who", ["lead editor", "unrelated authority editor", "supplier viewer",
                                 "admin"])
def test_only_a_supplier_editor_may_start(ctx, db, now, who):
    _, phase, lead = open_phase(db, now)
    person = {"lead editor": lead, "unrelated authority editor": sb.editor(),
              "supplier viewer": sb.viewer(sb.supplier_org()),
              "admin": sb.no_org_user(is_admin=True)}[who]
    with pytest.raises(NotPermitted):
        started(db, now, phase, person)
    assert db.execute(select(func.count(Proposal.id))).scalar() == 0


def test_the_phase_of_a_draft_challenge_does_not_exist_for_a_supplier(ctx, db, now):
    lead = sb.editor()
    draft = sb.complete_draft(db, now - DAY, lead, sb.framework(db, now),
                              opens_at=now - timedelta(hours=1), closes_at=now + 30 * DAY)
    with pytest.raises(NotFound):
        started(db, now, draft.phases[0], sb.supplier())
    with pytest.raises(NotFound):
        services.start_proposal(db, actor=sb.supplier(), phase_id=10**9, now=now)


# --- filling in ----------------------------------------------------------------------------------

def test_sections_are_saved(ctx, db, now):
    _, phase, _ = open_phase(db, now)
    supplier = sb.supplier()
    proposal = started(db, now, phase, supplier)
    services.update_fields(db, actor=supplier, proposal_id=proposal.id, now=now + SECOND,
                           summary="  Sensors\r\nin bins  ", team="Two", price_pence=2_500_000,
                           price_given=True, declarations={"declare_accurate": True})
    stored = stored_proposal(db, proposal.id)
    assert (stored.summary, stored.team, stored.price_pence, stored.declare_accurate) == (
        "Sensors\nin bins", "Two", 2_500_000, True)
    assert (stored.timeline, stored.declare_eligible, stored.updated_at) == ("", False, now + SECOND)
    assert _data(sb.events(db, "proposal.changed")[-1])["fields"] == [
        "summary", "team", "price", "declare_accurate"]


def test_a_price_above_the_maximum_saves_nothing(ctx, db, now):
    _, phase, _ = open_phase(db, now)
    supplier = sb.supplier()
    proposal = started(db, now, phase, supplier)
    with pytest.raises(RuleViolation) as refused:
        services.update_fields(db, actor=supplier, proposal_id=proposal.id, now=now,
                               summary="A new summary", team="A team",
                               price_pence=phase.max_value_pence + 1, price_given=True,
                               declarations=DECLARED)
    assert refused.value.errors == {"price": "price_above_maximum"}
    stored = stored_proposal(db, proposal.id)
    assert (stored.summary, stored.team, stored.price_pence, stored.declare_accurate) == (
        "", "", None, False)
    assert sb.events(db, "proposal.changed") == []


@pytest.mark.parametrize(("price", "code"), [(0, "price_invalid"), (-5, "price_invalid")])
def test_a_price_that_is_not_a_price(ctx, db, now, price, code):
    _, phase, _ = open_phase(db, now)
    supplier = sb.supplier()
    proposal = started(db, now, phase, supplier)
    with pytest.raises(RuleViolation) as refused:
        services.update_fields(db, actor=supplier, proposal_id=proposal.id, now=now,
                               price_pence=price, price_given=True)
    assert refused.value.errors == {"price": code}
    assert stored_proposal(db, proposal.id).price_pence is None


def test_a_supplier_viewer_reads_but_does_not_change(ctx, db, now):
    _, phase, _ = open_phase(db, now)
    supplier = sb.supplier()
    viewer = sb.viewer(supplier.membership.organisation)
    proposal = started(db, now, phase, supplier)
    assert services.own_proposal(db, actor=viewer, proposal_id=proposal.id).id == proposal.id
    with pytest.raises(NotPermitted):
        services.update_fields(db, actor=viewer, proposal_id=proposal.id, now=now, summary="Mine")
    assert stored_proposal(db, proposal.id).summary == ""


def test_another_supplier_cannot_find_the_proposal(ctx, db, now):
    _, phase, _ = open_phase(db, now)
    proposal = started(db, now, phase, sb.supplier())
    rival = sb.supplier()
    with pytest.raises(NotFound):
        services.update_fields(db, actor=rival, proposal_id=proposal.id, now=now, summary="Ha")
    assert stored_proposal(db, proposal.id).summary == ""
    [refused] = sb.events(db, "proposal.read_refused")
    assert (refused.actor_id, refused.subject_id) == (rival.id, str(proposal.id))


def test_a_section_cannot_be_changed_after_the_deadline(ctx, db, now):
    _, phase, _ = open_phase(db, now)
    supplier = sb.supplier()
    proposal = started(db, now, phase, supplier)
    with pytest.raises(RuleViolation) as refused:
        services.update_fields(db, actor=supplier, proposal_id=proposal.id, now=phase.closes_at,
                               summary="Too late")
    assert refused.value.errors == {"proposal": "phase_closed"}
    assert stored_proposal(db, proposal.id).summary == ""


def test_responses_are_saved_per_criterion(ctx, db, now):
    _, phase, _ = open_phase(db, now)
    supplier = sb.supplier()
    proposal = started(db, now, phase, supplier)
    first, second = [pc.id for pc in phase.criteria][:2]
    services.save_responses(db, actor=supplier, proposal_id=proposal.id, now=now,
                            responses={first: "One", second: "Two"})
    services.save_responses(db, actor=supplier, proposal_id=proposal.id, now=now,
                            responses={first: "One, again"})
    stored = stored_proposal(db, proposal.id)
    assert (stored.response_to(first), stored.response_to(second)) == ("One, again", "Two")
    assert len(stored.responses) == 2


def test_a_response_to_an_unknown_criterion_saves_nothing(ctx, db, now):
    _, phase, _ = open_phase(db, now)
    supplier = sb.supplier()
    proposal = started(db, now, phase, supplier)
    known = phase.criteria[0].id
    elsewhere = sb.open_challenge(db, now - DAY, sb.editor(), sb.framework(db, now, code="other"),
                                  opens_at=now - timedelta(hours=1), closes_at=now + 30 * DAY)
    for unknown in (10**9, elsewhere.phases[0].criteria[0].id):
        with pytest.raises(NotFound):
            services.save_responses(db, actor=supplier, proposal_id=proposal.id, now=now,
                                    responses={known: "Fine", unknown: "Unknown"})
    assert stored_proposal(db, proposal.id).responses == []
    assert sb.events(db, "proposal.changed") == []


# --- attachments ---------------------------------------------------------------------------------

def test_an_upload_is_stored_under_a_generated_name(ctx, db, now, tmp_path):
    _, phase, _ = open_phase(db, now)
    supplier = sb.supplier()
    proposal = started(db, now, phase, supplier)
    attachment = _add(db, now, proposal, supplier, tmp_path, filename="Cynllun ŵ.pdf")
    [row] = _attachment_rows(db, proposal.id)
    assert (row.filename, row.content_type, row.size, row.sha256) == (
        "Cynllun ŵ.pdf", "application/pdf", len(PDF), hashlib.sha256(PDF).hexdigest())
    [path] = stored_files(tmp_path)
    assert path.read_bytes() == PDF
    assert path.name == attachment.stored_name and "Cynllun" not in str(path)
    assert _data(sb.events(db, "proposal.attachment_added")[0]) == {"attachment": attachment.id}


def test_the_same_name_twice_is_kept_distinct(ctx, db, now, tmp_path):
    _, phase, _ = open_phase(db, now)
    supplier = sb.supplier()
    proposal = started(db, now, phase, supplier)
    for data in (PDF, PDF + b"\n", PDF + b"\n\n"):
        _add(db, now, proposal, supplier, tmp_path, filename="plan.pdf", data=data)
    assert [a.filename for a in _attachment_rows(db, proposal.id)] == [
        "plan.pdf", "plan (2).pdf", "plan (3).pdf"]


@pytest.mark.parametrize(("filename", "data", "code"), [
    ("empty.pdf", b"", "file_empty"),
    ("big.pdf", PDF + b"%" * MAX_FILE_BYTES, "file_too_big"),
    ("photo.pdf", PNG, "file_type_mismatch"),
    ("plan.docx", PDF, "file_type_mismatch"),
    ("page.pdf", b"<!DOCTYPE html><html><script>alert(1)</script></html>", "file_type"),
    ("setup.pdf", b"MZ\x90\x00\x03" + b"\x00" * 64, "file_type"),
    ("../plan.pdf", PDF, "filename_path"),
    ("C:\\x\\plan.pdf", PDF, "filename_path"),
    ("plan\u202efdp.pdf", PDF, "filename_control"),
    ("plan\n.pdf", PDF, "filename_control"),
    ("x" * 200 + ".pdf", PDF, "filename_too_long"),
    ("", PDF, "file_missing"),
], ids=["empty", "too-big", "png-as-pdf", "pdf-as-docx", "html", "exe", "dotdot", "windows-path",
        "rtl-override", "newline", "long-name", "no-name"])
def test_a_bad_file_leaves_no_row_and_no_file(ctx, db, now, tmp_path, filename, data, code):
    _, phase, _ = open_phase(db, now)
    supplier = sb.supplier()
    proposal = started(db, now, phase, supplier)
    with pytest.raises(RuleViolation) as refused:
        _add(db, now, proposal, supplier, tmp_path, filename=filename, data=data)
    assert refused.value.errors == {"file": code}
    assert _attachment_rows(db, proposal.id) == []
    assert stored_files(tmp_path) == []
    assert sb.events(db, "proposal.attachment_added") == []


def test_every_accepted_type_is_taken(ctx, db, now, tmp_path):
    _, phase, _ = open_phase(db, now)
    supplier = sb.supplier()
    proposal = started(db, now, phase, supplier)
    for name, data in (("a.pdf", PDF), ("b.png", PNG), ("c.JPG", JPEG), ("d.docx", docx()),
                       ("e.jpeg", JPEG + b"\x00")):
        _add(db, now, proposal, supplier, tmp_path, filename=name, data=data)
    assert [a.content_type for a in _attachment_rows(db, proposal.id)] == [
        "application/pdf", "image/png", "image/jpeg",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "image/jpeg"]


def test_a_sixth_file_is_refused(ctx, db, now, tmp_path):
    _, phase, _ = open_phase(db, now)
    supplier = sb.supplier()
    proposal = started(db, now, phase, supplier)
    first = [_add(db, now, proposal, supplier, tmp_path, filename=f"part-{n}.pdf",
                  data=PDF + str(n).encode()) for n in range(5)][0]
    with pytest.raises(RuleViolation) as refused:
        _add(db, now, proposal, supplier, tmp_path, filename="sixth.pdf", data=PDF + b"6")
    assert refused.value.errors == {"file": "too_many_files"}
    assert len(_attachment_rows(db, proposal.id)) == 5
    assert len(stored_files(tmp_path)) == 5
    # Taking one out makes room again.
    services.remove_attachment(db, actor=supplier, proposal_id=proposal.id, attachment_id=first.id,
                               now=now, folder=tmp_path)
    assert _add(db, now, proposal, supplier, tmp_path, filename="sixth.pdf", data=PDF).filename == "sixth.pdf"


def test_removing_a_file_a_receipt_refers_to_keeps_it_on_disk(ctx, db, now, tmp_path):
    _, phase, _ = open_phase(db, now)
    supplier = sb.supplier()
    proposal = complete(db, now, started(db, now, phase, supplier), supplier)
    kept = _add(db, now, proposal, supplier, tmp_path, filename="kept.pdf")
    receipt = services.submit_proposal(db, actor=supplier, proposal_id=proposal.id, clock=lambda: now)
    services.reopen_proposal(db, actor=supplier, proposal_id=proposal.id, now=now)
    extra = _add(db, now, proposal, supplier, tmp_path, filename="extra.png", data=PNG)
    kept_path = next(p for p in stored_files(tmp_path) if p.name == kept.stored_name)

    services.remove_attachment(db, actor=supplier, proposal_id=proposal.id, attachment_id=kept.id,
                               now=now + SECOND, folder=tmp_path)
    services.remove_attachment(db, actor=supplier, proposal_id=proposal.id, attachment_id=extra.id,
                               now=now + SECOND, folder=tmp_path)

    assert stored_files(tmp_path) == [kept_path]
    assert kept_path.read_bytes() == PDF
    [row] = _attachment_rows(db, proposal.id)
    assert (row.id, row.removed_at) == (kept.id, now + SECOND)
    stored = stored_proposal(db, proposal.id)
    assert stored.live_attachments == []
    assert stored.current_receipt.manifest["attachments"][0]["sha256"] == row.sha256
    assert stored.current_receipt_id == receipt.id
    # The supplier still downloads the file its submission holds.
    attachment, path = services.attachment_for_download(
        db, actor=supplier, proposal_id=proposal.id, attachment_id=kept.id, now=now, folder=tmp_path)
    assert path == kept_path
    with pytest.raises(NotFound):  # removed twice
        services.remove_attachment(db, actor=supplier, proposal_id=proposal.id,
                                   attachment_id=kept.id, now=now, folder=tmp_path)


def test_a_submitted_proposal_is_reopened_before_it_changes(ctx, db, now, tmp_path):
    _, phase, _ = open_phase(db, now)
    supplier = sb.supplier()
    proposal, _ = submitted(db, now, phase, supplier)
    with pytest.raises(InvalidTransition):
        services.update_fields(db, actor=supplier, proposal_id=proposal.id, now=now, summary="New")
    with pytest.raises(InvalidTransition):
        _add(db, now, proposal, supplier, tmp_path)
    assert stored_files(tmp_path) == []
    assert stored_proposal(db, proposal.id).summary == "Sensors in every bin"


# --- submitting ------------------------------------------------------------------------------------

def test_an_incomplete_proposal_is_refused_field_by_field(ctx, db, now):
    _, phase, _ = open_phase(db, now)
    supplier = sb.supplier()
    proposal = started(db, now, phase, supplier)
    with pytest.raises(RuleViolation) as refused:
        services.submit_proposal(db, actor=supplier, proposal_id=proposal.id, clock=lambda: now)
    expected = {"summary": "summary_missing", "team": "team_missing", "price": "price_missing",
                "timeline": "timeline_missing", "declare_accurate": "declaration_missing",
                "declare_no_collusion": "declaration_missing",
                "declare_eligible": "declaration_missing"}
    expected.update({f"response-{pc.id}": "response_missing" for pc in phase.criteria})
    assert refused.value.errors == expected
    assert len(phase.criteria) == 3
    assert _receipts(db, proposal.id) == []
    assert stored_proposal(db, proposal.id).status == "draft"
    assert services.count_submitted(db, phase.id) == 0
    assert sb.outbox(db, "proposal_submitted") == []


def test_one_missing_answer_is_named(ctx, db, now):
    _, phase, _ = open_phase(db, now)
    supplier = sb.supplier()
    proposal = complete(db, now, started(db, now, phase, supplier), supplier)
    last = phase.criteria[-1].id
    services.save_responses(db, actor=supplier, proposal_id=proposal.id, now=now,
                            responses={last: "   "})
    with pytest.raises(RuleViolation) as refused:
        services.submit_proposal(db, actor=supplier, proposal_id=proposal.id, clock=lambda: now)
    assert refused.value.errors == {f"response-{last}": "response_missing"}


def test_the_deadline_is_read_from_the_clock_at_submission(ctx, db, now):
    _, phase, _ = open_phase(db, now)
    on_time, late = sb.supplier(), sb.supplier()
    first = complete(db, now, started(db, now, phase, on_time), on_time)
    second = complete(db, now, started(db, now, phase, late), late)

    receipt = services.submit_proposal(db, actor=on_time, proposal_id=first.id,
                                       clock=lambda: phase.closes_at - SECOND)
    assert receipt.received_at == phase.closes_at - SECOND
    assert receipt.manifest["received_at"] == (phase.closes_at - SECOND).isoformat()
    for moment in (phase.closes_at, phase.closes_at + SECOND):
        with pytest.raises(RuleViolation) as refused:
            services.submit_proposal(db, actor=late, proposal_id=second.id, clock=lambda m=moment: m)
        assert refused.value.errors == {"proposal": "phase_closed"}
    assert stored_proposal(db, second.id).status == "draft"
    assert _receipts(db, second.id) == []
    assert services.count_submitted(db, phase.id) == 1


def test_the_receipt_is_the_sha256_of_the_frozen_proposal(ctx, db, now, tmp_path):
    challenge, phase, _ = open_phase(db, now)
    supplier = sb.supplier()
    proposal = complete(db, now, started(db, now, phase, supplier), supplier, marker=MARKER)
    _add(db, now, proposal, supplier, tmp_path, filename="plan.pdf", data=PDF)
    _add(db, now, proposal, supplier, tmp_path, filename="photo.png", data=PNG)
    at = now + timedelta(minutes=5)
    receipt = services.submit_proposal(db, actor=supplier, proposal_id=proposal.id, clock=lambda: at)

    db.expire_all()
    [stored] = _receipts(db, proposal.id)
    assert stored.digest == receipt.digest == _canonical_sha256(stored.manifest)
    assert (stored.kind, stored.sequence, stored.received_at, stored.submitted_by_id) == (
        "submitted", 1, at, supplier.id)
    manifest = stored.manifest
    assert (manifest["proposal"], manifest["challenge"], manifest["phase"], manifest["organisation"],
            manifest["challenge_version"], manifest["sequence"]) == (
        proposal.id, challenge.id, phase.id, supplier.membership.organisation_id, challenge.version, 1)
    assert manifest["fields"] == {
        "summary": f"Sensors in every bin {MARKER}", "team": f"Two engineers {MARKER}",
        "price_pence": 1_000_000, "timeline": f"Three months {MARKER}", "declare_accurate": True,
        "declare_no_collusion": True, "declare_eligible": True, "consent_publish_summary": True}
    assert [r["text"] for r in manifest["responses"]] == [f"Our answer {MARKER}"] * 3
    assert {r["criterion"] for r in manifest["responses"]} == {pc.criterion.code for pc in phase.criteria}
    assert [(a["filename"], a["content_type"], a["size"], a["sha256"]) for a in manifest["attachments"]] == [
        ("plan.pdf", "application/pdf", len(PDF), hashlib.sha256(PDF).hexdigest()),
        ("photo.png", "image/png", len(PNG), hashlib.sha256(PNG).hexdigest())]
    assert len(manifest["nonce"]) >= 32

    proposal = stored_proposal(db, proposal.id)
    assert (proposal.status, proposal.current_receipt_id) == ("submitted", receipt.id)
    assert services.count_submitted(db, phase.id) == 1
    assert services.verify_receipt(db, receipt.digest).id == receipt.id
    [event] = sb.events(db, "proposal.submitted")
    assert _data(event) == {"receipt": receipt.digest, "sequence": 1, "resubmission": False}


def test_the_receipt_is_emailed_to_every_active_member_without_the_proposal(ctx, db, now, tmp_path):
    _, phase, _ = open_phase(db, now)
    supplier = sb.supplier()
    org = supplier.membership.organisation
    viewer = sb.viewer(org)
    colleague = sb.supplier(org)
    sb.person(org, status="pending")
    sb.supplier(org, is_disabled=True)
    sb.supplier(org, email_confirmed_at=None)
    sb.supplier()  # another organisation
    proposal = complete(db, now, started(db, now, phase, supplier), supplier, marker=MARKER)
    _add(db, now, proposal, supplier, tmp_path, filename=f"plan-{MARKER}.pdf")
    receipt = services.submit_proposal(db, actor=supplier, proposal_id=proposal.id, clock=lambda: now)

    assert sb.recipients(db, "proposal_submitted") == sorted(
        [supplier.email, viewer.email, colleague.email])
    for message in sb.outbox(db, "proposal_submitted"):
        assert receipt.digest in message.body
        assert MARKER not in message.subject + message.body
        assert "Sensors" not in message.body and "Two engineers" not in message.body


def test_nothing_of_the_proposal_reaches_the_audit_trail(ctx, db, now, tmp_path):
    _, phase, _ = open_phase(db, now)
    supplier = sb.supplier()
    proposal = complete(db, now, started(db, now, phase, supplier), supplier, marker=MARKER)
    _add(db, now, proposal, supplier, tmp_path, filename=f"plan-{MARKER}.pdf")
    services.submit_proposal(db, actor=supplier, proposal_id=proposal.id, clock=lambda: now)
    trail = " ".join(e.data for e in sb.events(db, "proposal.changed")
                     + sb.events(db, "proposal.attachment_added") + sb.events(db, "proposal.submitted"))
    assert trail and MARKER not in trail
    assert hashlib.sha256(PDF).hexdigest() not in trail


def test_reopening_keeps_the_old_receipt_counting(ctx, db, now):
    _, phase, _ = open_phase(db, now)
    supplier = sb.supplier()
    proposal, first = submitted(db, now, phase, supplier)
    services.reopen_proposal(db, actor=supplier, proposal_id=proposal.id, now=now + SECOND)
    services.update_fields(db, actor=supplier, proposal_id=proposal.id, now=now + SECOND,
                           summary="Working on it")
    stored = stored_proposal(db, proposal.id)
    assert (stored.status, stored.current_receipt_id, stored.summary) == (
        "reopened", first.id, "Working on it")
    assert stored.current_receipt.manifest["fields"]["summary"] == "Sensors in every bin"
    assert services.count_submitted(db, phase.id) == 1
    assert services.proposals_exist(db, phase.id)
    assert [e.subject_id for e in sb.events(db, "proposal.reopened")] == [str(proposal.id)]


def test_resubmitting_gives_a_new_receipt_and_the_latest_counts(ctx, db, now):
    _, phase, _ = open_phase(db, now)
    supplier = sb.supplier()
    proposal, first = submitted(db, now, phase, supplier)
    services.reopen_proposal(db, actor=supplier, proposal_id=proposal.id, now=now)
    services.update_fields(db, actor=supplier, proposal_id=proposal.id, now=now, summary="Better")
    second = services.submit_proposal(db, actor=supplier, proposal_id=proposal.id,
                                      clock=lambda: now + DAY)
    assert (second.sequence, second.received_at) == (2, now + DAY)
    assert second.digest != first.digest
    assert second.manifest["fields"]["summary"] == "Better"
    stored = stored_proposal(db, proposal.id)
    assert (stored.status, stored.current_receipt_id) == ("submitted", second.id)
    assert [r.id for r in _receipts(db, proposal.id)] == [first.id, second.id]
    assert _receipts(db, proposal.id)[0].manifest["fields"]["summary"] == "Sensors in every bin"
    assert services.count_submitted(db, phase.id) == 1
    assert services.verify_receipt(db, first.digest).id == first.id  # the old one is still held
    assert _data(sb.events(db, "proposal.submitted")[-1])["resubmission"] is True
    assert len(sb.outbox(db, "proposal_submitted")) == 2


def test_withdrawing_gives_a_receipt_naming_what_was_withdrawn(ctx, db, now):
    _, phase, _ = open_phase(db, now)
    supplier = sb.supplier()
    viewer = sb.viewer(supplier.membership.organisation)
    proposal, submission = submitted(db, now, phase, supplier)
    withdrawal = services.withdraw_proposal(db, actor=supplier, proposal_id=proposal.id,
                                            clock=lambda: now + SECOND)
    assert (withdrawal.kind, withdrawal.sequence, withdrawal.received_at) == (
        "withdrawn", 2, now + SECOND)
    assert withdrawal.manifest["withdraws"] == submission.digest
    assert withdrawal.digest == _canonical_sha256(withdrawal.manifest)
    stored = stored_proposal(db, proposal.id)
    assert (stored.status, stored.current_receipt_id) == ("withdrawn", None)
    assert services.count_submitted(db, phase.id) == 0
    assert not services.proposals_exist(db, phase.id)
    assert services.verify_receipt(db, withdrawal.digest.upper()).kind == "withdrawn"
    assert sb.recipients(db, "proposal_withdrawn") == sorted([supplier.email, viewer.email])
    assert all(withdrawal.digest in m.body for m in sb.outbox(db, "proposal_withdrawn"))
    assert _data(sb.events(db, "proposal.withdrawn")[0]) == {"receipt": withdrawal.digest}


def test_a_reopened_proposal_withdrawn_names_its_last_submission(ctx, db, now):
    _, phase, _ = open_phase(db, now)
    supplier = sb.supplier()
    proposal, submission = submitted(db, now, phase, supplier)
    services.reopen_proposal(db, actor=supplier, proposal_id=proposal.id, now=now)
    withdrawal = services.withdraw_proposal(db, actor=supplier, proposal_id=proposal.id,
                                            clock=lambda: now)
    assert withdrawal.manifest["withdraws"] == submission.digest
    assert services.count_submitted(db, phase.id) == 0


def test_a_draft_cannot_be_withdrawn_nor_anything_after_the_deadline(ctx, db, now):
    _, phase, _ = open_phase(db, now)
    supplier = sb.supplier()
    draft = started(db, now, phase, supplier)
    with pytest.raises(InvalidTransition):
        services.withdraw_proposal(db, actor=supplier, proposal_id=draft.id, clock=lambda: now)
    assert _receipts(db, draft.id) == []
    other = sb.supplier()
    proposal, _ = submitted(db, now, phase, other)
    with pytest.raises(RuleViolation) as refused:
        services.withdraw_proposal(db, actor=other, proposal_id=proposal.id,
                                   clock=lambda: phase.closes_at)
    assert refused.value.errors == {"proposal": "phase_closed"}
    with pytest.raises(RuleViolation):
        services.reopen_proposal(db, actor=other, proposal_id=proposal.id, now=phase.closes_at)
    stored = stored_proposal(db, proposal.id)
    assert stored.status == "submitted" and len(_receipts(db, proposal.id)) == 1
    assert services.count_submitted(db, phase.id) == 1


def test_a_withdrawn_proposal_starts_again_and_is_submitted_anew(ctx, db, now):
    _, phase, _ = open_phase(db, now)
    supplier = sb.supplier()
    proposal, first = submitted(db, now, phase, supplier)
    services.withdraw_proposal(db, actor=supplier, proposal_id=proposal.id, clock=lambda: now)
    with pytest.raises(RuleViolation) as refused:  # still one per organisation
        started(db, now, phase, supplier)
    assert refused.value.errors == {"proposal": "already_started"}
    restarted = services.reopen_proposal(db, actor=supplier, proposal_id=proposal.id, now=now)
    assert (restarted.status, restarted.current_receipt_id) == ("draft", None)
    assert services.count_submitted(db, phase.id) == 0
    assert [e.subject_id for e in sb.events(db, "proposal.restarted")] == [str(proposal.id)]
    again = services.submit_proposal(db, actor=supplier, proposal_id=proposal.id,
                                     clock=lambda: now + SECOND)
    assert again.sequence == 3 and again.digest != first.digest
    assert stored_proposal(db, proposal.id).status == "submitted"
    assert services.count_submitted(db, phase.id) == 1


def test_verify_receipt(ctx, db, now):
    _, phase, _ = open_phase(db, now)
    _, receipt = submitted(db, now, phase, sb.supplier())
    spaced = " ".join(receipt.digest[i:i + 4] for i in range(0, 64, 4)).upper()
    assert services.verify_receipt(db, spaced).id == receipt.id
    assert services.verify_receipt(db, "0" * 64) is None
    for typed in (receipt.digest[:63], receipt.digest + "0", "z" * 64, ""):
        with pytest.raises(RuleViolation) as refused:
            services.verify_receipt(db, typed)
        assert refused.value.errors == {"digest": "digest_invalid"}


def test_a_receipt_is_read_only_by_its_supplier(ctx, db, now):
    _, phase, lead = open_phase(db, now)
    supplier = sb.supplier()
    proposal, receipt = submitted(db, now, phase, supplier)
    viewer = sb.viewer(supplier.membership.organisation)
    assert services.get_receipt(db, actor=viewer, proposal_id=proposal.id,
                                receipt_id=receipt.id)[1].digest == receipt.digest
    for outsider in (lead, sb.supplier()):
        with pytest.raises(NotFound):
            services.get_receipt(db, actor=outsider, proposal_id=proposal.id, receipt_id=receipt.id)
    with pytest.raises(NotFound):
        services.get_receipt(db, actor=supplier, proposal_id=proposal.id, receipt_id=10**9)


# --- amendments of the challenge -----------------------------------------------------------------

def _amend(db, now, lead, challenge, **changes):
    return challenge_services.amend_challenge(db, actor=lead, challenge_id=challenge.id,
                                              note="Clearer outcomes", now=now, **changes)


def test_an_amendment_asks_for_submitted_proposals_to_be_confirmed(ctx, db, now):
    challenge, phase, lead = open_phase(db, now)
    done = sb.supplier()
    done_viewer = sb.viewer(done.membership.organisation)
    drafting = sb.supplier()
    proposal, first = submitted(db, now, phase, done)
    draft = started(db, now, phase, drafting)
    assert services.count_submitted(db, phase.id) == 1

    _amend(db, now + SECOND, lead, challenge, outcomes_sought="Fewer cold homes by next winter.")

    assert stored_proposal(db, proposal.id).must_reconfirm is True
    assert stored_proposal(db, draft.id).must_reconfirm is False
    assert services.count_submitted(db, phase.id) == 0
    assert sb.recipients(db, "proposal_challenge_amended") == sorted(
        [done.email, done_viewer.email, drafting.email])
    by_email = {m.recipient_email: m.body for m in sb.outbox(db, "proposal_challenge_amended")}
    assert "confirm it by submitting it again" in by_email[done.email]
    assert "confirm it by submitting it again" not in by_email[drafting.email]
    # Suppliers are told once, with what it means for their proposal.
    assert not {done.email, drafting.email} & set(sb.recipients(db, "challenge_amended"))
    [event] = sb.events(db, "proposal.reconfirmation_required")
    assert event.subject_id == str(proposal.id)

    again = services.submit_proposal(db, actor=done, proposal_id=proposal.id,
                                     clock=lambda: now + DAY)
    stored = stored_proposal(db, proposal.id)
    assert (stored.must_reconfirm, stored.current_receipt_id, stored.status) == (
        False, again.id, "submitted")
    assert again.sequence == 2 and again.challenge_version == first.challenge_version + 1
    assert again.manifest["challenge_version"] == first.challenge_version + 1
    assert services.count_submitted(db, phase.id) == 1


def test_an_amendment_while_reopened_asks_for_confirmation_too(ctx, db, now):
    challenge, phase, lead = open_phase(db, now)
    supplier = sb.supplier()
    proposal, _ = submitted(db, now, phase, supplier)
    services.reopen_proposal(db, actor=supplier, proposal_id=proposal.id, now=now)
    _amend(db, now, lead, challenge, outcomes_sought="Fewer cold homes by next winter.")
    assert stored_proposal(db, proposal.id).must_reconfirm is True
    assert services.count_submitted(db, phase.id) == 0
    services.submit_proposal(db, actor=supplier, proposal_id=proposal.id, clock=lambda: now)
    assert services.count_submitted(db, phase.id) == 1


def test_the_deadline_is_never_brought_forward_once_a_proposal_is_submitted(ctx, db, now):
    challenge, phase, lead = open_phase(db, now)
    closes_at = phase.closes_at
    submitted(db, now, phase, sb.supplier())
    with pytest.raises(RuleViolation) as refused:
        _amend(db, now, lead, challenge, closes_at=closes_at - DAY)
    assert refused.value.errors == {"closes_at": "deadline_shortened"}
    stored = sb.reload(db, challenge.id)
    assert (stored.phases[0].closes_at, stored.version) == (closes_at, challenge.version)
    # Extending it is fine.
    _amend(db, now, lead, challenge, closes_at=closes_at + DAY)
    assert sb.reload(db, challenge.id).phases[0].closes_at == closes_at + DAY


def test_the_deadline_is_not_brought_forward_while_a_proposal_awaits_confirmation(ctx, db, now):
    """TRUST: never shortened once proposals exist. A submission waiting to be confirmed after
    an earlier amendment still exists: its supplier is working to that deadline."""
    challenge, phase, lead = open_phase(db, now)
    closes_at = phase.closes_at
    proposal, _ = submitted(db, now, phase, sb.supplier())
    _amend(db, now, lead, challenge, outcomes_sought="Fewer cold homes by next winter.")
    assert stored_proposal(db, proposal.id).must_reconfirm is True
    with pytest.raises(RuleViolation) as refused:
        _amend(db, now, lead, sb.reload(db, challenge.id), closes_at=closes_at - DAY)
    assert refused.value.errors == {"closes_at": "deadline_shortened"}
    assert sb.reload(db, challenge.id).phases[0].closes_at == closes_at


# --- sealed reads --------------------------------------------------------------------------------

def _world(db, now):
    """An open phase with a supplier's proposal submitted; the lead has a viewer too and an
    accepted co-funder."""
    challenge, phase, lead = open_phase(db, now)
    partner = sb.editor()
    funding.invite_partner(db, actor=lead, challenge_id=challenge.id,
                           organisation_id=partner.membership.organisation_id, message="Join",
                           now=now)
    funding.respond_to_invitation(db, actor=partner, challenge_id=challenge.id, accept=True,
                                  pledge_pence=1_000_000, now=now)
    supplier = sb.supplier()
    return challenge, phase, lead, sb.viewer(lead.membership.organisation), partner, supplier


def test_before_the_deadline_the_lead_is_refused_and_the_refusal_audited(ctx, db, now):
    _, phase, lead, lead_viewer, partner, supplier = _world(db, now)
    proposal, _ = submitted(db, now, phase, supplier)
    admin = sb.no_org_user(is_admin=True)
    for n, person in enumerate((lead, lead_viewer, partner, admin, sb.supplier()), start=1):
        with pytest.raises(NotFound):
            services.get_proposal(db, actor=person, proposal_id=proposal.id,
                                  now=phase.closes_at - SECOND)
        refused = sb.events(db, "proposal.read_refused")
        assert len(refused) == n
        assert (refused[-1].actor_id, refused[-1].subject_type, refused[-1].subject_id) == (
            person.id, "proposal", str(proposal.id))
    with pytest.raises(NotFound):
        services.read_submitted(db, actor=lead, proposal_id=proposal.id, now=now)
    assert sb.events(db, "proposal.read") == []
    # The authority is told only how many.
    assert services.count_submitted(db, phase.id) == 1
    assert services.submitted_proposals(db, actor=lead, phase=phase, now=now) == []


def test_a_proposal_that_does_not_exist_looks_the_same(ctx, db, now):
    _, phase, lead, *_ = _world(db, now)
    with pytest.raises(NotFound):
        services.get_proposal(db, actor=lead, proposal_id=10**9, now=phase.closes_at)


def test_after_the_deadline_the_lead_reads_the_frozen_submission_audited(ctx, db, now):
    _, phase, lead, lead_viewer, partner, supplier = _world(db, now)
    proposal, receipt = submitted(db, now, phase, supplier, marker="as submitted")
    services.reopen_proposal(db, actor=supplier, proposal_id=proposal.id, now=now)
    services.update_fields(db, actor=supplier, proposal_id=proposal.id, now=now,
                           summary="A later edit never submitted")

    for person in (lead_viewer, partner):
        read, frozen = services.read_submitted(db, actor=person, proposal_id=proposal.id,
                                               now=phase.closes_at)
        assert (read.id, frozen.id, frozen.digest) == (proposal.id, receipt.id, receipt.digest)
        assert frozen.manifest["fields"]["summary"] == "Sensors in every bin as submitted"
        assert "later edit" not in json.dumps(frozen.manifest)
    reads = sb.events(db, "proposal.read")
    assert [(e.actor_id, e.subject_id, _data(e)) for e in reads] == [
        (lead_viewer.id, str(proposal.id), {"receipt": receipt.digest}),
        (partner.id, str(proposal.id), {"receipt": receipt.digest})]
    # The supplier reads its own without an audit event.
    services.read_submitted(db, actor=supplier, proposal_id=proposal.id, now=phase.closes_at)
    assert len(sb.events(db, "proposal.read")) == 2
    assert [p.id for p in services.submitted_proposals(db, actor=lead, phase=phase,
                                                       now=phase.closes_at)] == [proposal.id]


def test_after_the_deadline_others_are_still_refused(ctx, db, now):
    _, phase, lead, _, _, supplier = _world(db, now)
    proposal, _ = submitted(db, now, phase, supplier)
    rival, unrelated, admin = sb.supplier(), sb.editor(), sb.no_org_user(is_admin=True)
    for person in (rival, unrelated, admin):
        with pytest.raises(NotFound):
            services.read_submitted(db, actor=person, proposal_id=proposal.id,
                                    now=phase.closes_at + DAY)
    assert [e.actor_id for e in sb.events(db, "proposal.read_refused")] == [
        rival.id, unrelated.id, admin.id]
    with pytest.raises(NotPermitted):
        services.submitted_proposals(db, actor=rival, phase=phase, now=phase.closes_at)


@pytest.mark.parametrize("state", ["draft", "withdrawn", "must_reconfirm"])
def test_after_the_deadline_a_proposal_that_does_not_count_stays_sealed(ctx, db, now, state):
    challenge, phase, lead, *_ = _world(db, now)
    supplier = sb.supplier()
    if state == "draft":
        proposal = complete(db, now, started(db, now, phase, supplier), supplier)
    else:
        proposal, _ = submitted(db, now, phase, supplier)
        if state == "withdrawn":
            services.withdraw_proposal(db, actor=supplier, proposal_id=proposal.id, clock=lambda: now)
        else:
            _amend(db, now, lead, challenge, outcomes_sought="Fewer cold homes by next winter.")
    with pytest.raises(NotFound):
        services.get_proposal(db, actor=lead, proposal_id=proposal.id, now=phase.closes_at)
    assert [e.actor_id for e in sb.events(db, "proposal.read_refused")] == [lead.id]
    assert services.submitted_proposals(db, actor=lead, phase=phase, now=phase.closes_at) == []
    # Its own organisation still reads it.
    assert services.get_proposal(db, actor=supplier, proposal_id=proposal.id,
                                 now=phase.closes_at).id == proposal.id


def test_after_the_deadline_only_the_files_of_the_counted_submission_download(ctx, db, now, tmp_path):
    _, phase, lead, _, _, supplier = _world(db, now)
    proposal = complete(db, now, started(db, now, phase, supplier), supplier)
    kept = _add(db, now, proposal, supplier, tmp_path, filename="submitted.pdf")
    services.submit_proposal(db, actor=supplier, proposal_id=proposal.id, clock=lambda: now)
    services.reopen_proposal(db, actor=supplier, proposal_id=proposal.id, now=now)
    services.remove_attachment(db, actor=supplier, proposal_id=proposal.id, attachment_id=kept.id,
                               now=now, folder=tmp_path)
    later = _add(db, now, proposal, supplier, tmp_path, filename="never-submitted.png", data=PNG)

    with pytest.raises(NotFound):  # sealed before the deadline
        services.attachment_for_download(db, actor=lead, proposal_id=proposal.id,
                                         attachment_id=kept.id, now=phase.closes_at - SECOND,
                                         folder=tmp_path)
    attachment, path = services.attachment_for_download(
        db, actor=lead, proposal_id=proposal.id, attachment_id=kept.id, now=phase.closes_at,
        folder=tmp_path)
    assert (attachment.filename, path.read_bytes()) == ("submitted.pdf", PDF)
    with pytest.raises(NotFound):
        services.attachment_for_download(db, actor=lead, proposal_id=proposal.id,
                                         attachment_id=later.id, now=phase.closes_at,
                                         folder=tmp_path)
    [event] = sb.events(db, "proposal.attachment_read")
    assert (event.actor_id, _data(event)) == (
        lead.id, {"attachment": kept.id, "sha256": hashlib.sha256(PDF).hexdigest()})
    # The supplier downloads its working copy's file.
    assert services.attachment_for_download(db, actor=supplier, proposal_id=proposal.id,
                                            attachment_id=later.id, now=phase.closes_at,
                                            folder=tmp_path)[1].read_bytes() == PNG


def test_counts_by_phase(ctx, db, now):
    _, phase, _ = open_phase(db, now)
    for _ in range(2):
        submitted(db, now, phase, sb.supplier())
    started(db, now, phase, sb.supplier())
    assert services.counts_by_phase(db, [phase.id, 10**9]) == {phase.id: 2}
    assert services.counts_by_phase(db, []) == {}
