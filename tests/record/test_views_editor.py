"""The editors' side of the open record through the test client: the record's page in each of
its states for the lead's editors, its viewers and everyone else; writing the lessons; adding
and removing reusable assets; asking for publication and following it; the links to the
record from the challenge's page and from "Your challenges"; the page in Welsh."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from procure.challenges import services as challenges
from procure.record import compose, rules
from procure.record import services as record_services
from procure.record.models import ChallengeRecord, RecordAsset
from procure.record.rules import RecordStatus
from procure.record.services import MAX_ATTEMPTS, PUBLISH_TASK
from tests.challenges import service_builders as sb
from tests.challenges.builders import field_error, location, text_of
from tests.conftest import post_form, sign_in
from tests.record import builders as rb
from tests.record.test_services import ended_world

WORKED = "Two prototypes side by side showed which one residents would use."
NOT_WORKED = "Measuring cost per home took longer than planned."


@pytest.fixture
def world(app, db, now):
    """A challenge cancelled after opening (quick to build): its record is written as a
    concluded one's is."""
    with app.app_context():
        return ended_world(db, now)


@pytest.fixture
def concluded(app, db, now):
    with app.app_context():
        return rb.concluded_world(db, now)


def _people(world) -> dict:
    lead_org = world.lead.membership.organisation
    return {"lead editor": world.lead, "lead viewer": sb.viewer(lead_org),
            "partner editor": world.partner, "supplier": world.suppliers[0],
            "other authority": sb.editor()}


@pytest.fixture
def people(world):
    return _people(world)


def _paths(world):
    base = f"/challenges/{world.challenge.id}/record"
    return {"page": base, "assets": f"{base}/assets", "publish": f"{base}/publish",
            "challenge": f"/challenges/{world.challenge.id}"}


def _sign_out(client) -> None:
    with client.session_transaction() as session:
        session.clear()


def _as(client, db, user) -> None:
    _sign_out(client)
    if user is not None:
        sign_in(client, db, user)


def _html(response) -> str:
    """The page's text, once checked for what axe would catch first: one h1, no id twice."""
    html = text_of(response)
    if response.status_code in (200, 400, 409):
        ids = re.findall(r'\sid="([^"]+)"', html)
        assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
        assert html.count("<h1") == 1
    return html


def _record(db, world) -> ChallengeRecord | None:
    db.expire_all()
    return db.execute(select(ChallengeRecord).where(
        ChallengeRecord.challenge_id == world.challenge.id)).scalar_one_or_none()


def _status(html: str) -> str:
    return re.search(r'data-record-status="([^"]+)"', html).group(1)


def _write(app, db, world, **kwargs):
    with app.app_context():
        return rb.write_lessons(db, world, **kwargs)


# --- the page in each state, by who reads it --------------------------------------------------

def test_the_lead_editor_sees_what_to_do_and_the_forms(client, db, world, people):
    sign_in(client, db, world.lead)
    response = client.get(_paths(world)["page"])
    html = _html(response)
    assert response.status_code == 200
    assert _status(html) == "not_started" and "Not started" in html
    assert "What to do next" in html
    assert 'name="lessons_worked"' in html and 'name="lessons_not_worked"' in html
    assert "What worked" in html and "What did not work" in html
    for code, (name, _) in rules.LICENCES.items():   # each licence offered, by its name
        assert f'value="{code}"' in html and name in html, code
    assert f'action="{_paths(world)["assets"]}"' in html
    assert f'action="{_paths(world)["publish"]}"' in html and "Publish the record" in html
    assert f'href="{_paths(world)["page"]}/preview">Preview the record' in html
    assert "No reusable assets are listed yet." in html
    assert "Publishing: this takes a moment" not in html and "setTimeout" not in html


def test_the_lead_viewer_reads_the_record_but_changes_nothing(client, app, db, world, people):
    _write(app, db, world)
    with app.app_context():
        record_services.add_asset(db, actor=world.lead, challenge_id=world.challenge.id,
                                  title="Survey results", url="https://example.org/survey",
                                  licence="OGL-UK-3.0", description="Raw answers", now=world.after)
    sign_in(client, db, people["lead viewer"])
    response = client.get(_paths(world)["page"])
    html = _html(response)
    assert response.status_code == 200
    assert _status(html) == "draft" and "Being written" in html
    assert rb.WORKED in html and rb.NOT_WORKED in html
    assert "Survey results" in html and 'href="https://example.org/survey"' in html
    assert "Open Government Licence v3.0" in html
    assert "<textarea" not in html and "Publish the record" not in html
    assert "/remove" not in html and _paths(world)["assets"] not in html
    assert "editors are writing the lessons learned" in html
    # And the viewer cannot change anything by posting.
    for path, data in ((_paths(world)["page"], {"lessons_worked": "x", "lessons_not_worked": "y"}),
                       (_paths(world)["assets"], {"title": "t", "url": "https://example.org",
                                                  "licence": "MIT"}),
                       (_paths(world)["publish"], {})):
        assert post_form(client, path, data, token_from=_paths(world)["page"]).status_code == 403
    assert _record(db, world).lessons_worked == rb.WORKED
    assert _record(db, world).status == RecordStatus.DRAFT


@pytest.mark.parametrize("who", ["partner editor", "supplier", "other authority"])
def test_anyone_outside_the_lead_may_not_open_or_change_the_record(client, db, world, people,
                                                                    who):
    sign_in(client, db, people[who])
    paths = _paths(world)
    assert client.get(paths["page"]).status_code == 403
    for path in (paths["page"], paths["assets"], paths["publish"]):
        assert post_form(client, path, {"lessons_worked": "x", "title": "t"},
                         token_from=paths["challenge"]).status_code == 403
    assert _record(db, world) is None


def test_visitors_are_asked_to_sign_in_and_guessed_ids_are_not_found(client, db, world, now):
    paths = _paths(world)
    response = client.get(paths["page"])
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    sign_in(client, db, world.lead)
    assert client.get("/challenges/999999/record").status_code == 404
    assert post_form(client, "/challenges/999999/record/publish", {},
                     token_from=paths["page"]).status_code == 404
    assert post_form(client, f"{paths['assets']}/999999/remove", {},
                     token_from=paths["page"]).status_code == 404
    # Another authority's draft is not known to a supplier at all.
    draft = sb.new_draft(db, now, sb.editor(), title="A draft")
    _as(client, db, world.suppliers[0])
    assert client.get(f"/challenges/{draft.id}/record").status_code == 404


def test_a_challenge_still_running_has_no_record_to_write(client, app, db, now):
    lead = sb.editor()
    with app.app_context():
        challenge = sb.open_challenge(db, now, lead, sb.framework(db, now, code="running"))
    sign_in(client, db, lead)
    paths = {"page": f"/challenges/{challenge.id}/record",
             "challenge": f"/challenges/{challenge.id}"}
    assert client.get(paths["page"]).status_code == 403
    assert post_form(client, paths["page"], {"lessons_worked": WORKED},
                     token_from=paths["challenge"]).status_code == 403
    html = _html(client.get(paths["challenge"]))
    assert paths["page"] not in html


# --- the lessons learned ------------------------------------------------------------------------

def test_saving_the_lessons(client, db, world):
    sign_in(client, db, world.lead)
    path = _paths(world)["page"]
    response = post_form(client, path, {"lessons_worked": f"  {WORKED}\r\nAgain.  ",
                                        "lessons_not_worked": ""})
    assert response.status_code == 302 and location(response) == path
    html = _html(client.get(path))
    assert "The lessons learned are saved." in html
    assert f"{WORKED}\nAgain.</textarea>" in html
    record = _record(db, world)
    assert (record.status, record.lessons_worked, record.lessons_not_worked) == (
        RecordStatus.DRAFT, f"{WORKED}\nAgain.", "")


def test_lessons_that_are_too_long_are_refused_with_what_was_typed_kept(client, db, world):
    sign_in(client, db, world.lead)
    path = _paths(world)["page"]
    too_long = "x" * (rules.MAX_LESSONS + 1)
    response = post_form(client, path, {"lessons_worked": too_long, "lessons_not_worked": NOT_WORKED})
    html = _html(response)
    assert response.status_code == 400
    assert "<title>Error:" in html and "There is a problem" in html
    assert 'href="#lessons_worked"' in html
    assert field_error(response, "lessons_worked") == (
        "This is too long: use 10,000 characters or fewer")
    assert field_error(response, "lessons_not_worked") is None
    assert too_long in html and NOT_WORKED in html      # what was typed is kept
    assert _record(db, world) is None                   # nothing saved


def test_the_form_counts_characters_as_the_service_does(client, db, world):
    """A browser sends CRLF line ends: text at the limit once they are LF is accepted."""
    sign_in(client, db, world.lead)
    text = ("y" * 99 + "\r\n") * 100          # 10,100 characters sent, 10,000 kept
    response = post_form(client, _paths(world)["page"], {"lessons_worked": text,
                                                         "lessons_not_worked": ""})
    assert response.status_code == 302
    assert len(_record(db, world).lessons_worked) == rules.MAX_LESSONS - 1   # the last LF goes


# --- reusable assets ----------------------------------------------------------------------------

def test_adding_and_removing_an_asset(client, db, world):
    sign_in(client, db, world.lead)
    paths = _paths(world)
    response = post_form(client, paths["assets"], {
        "title": "Prototype source code", "url": "https://example.org/code",
        "licence": "Apache-2.0", "description": "What the winner built"},
        token_from=paths["page"])
    assert response.status_code == 302 and location(response) == paths["page"]
    assert response.headers["Location"].endswith("#assets")
    html = _html(client.get(paths["page"]))
    assert "“Prototype source code” is added to the reusable assets." in html
    assert 'href="https://example.org/code"' in html and "Apache License 2.0" in html
    assert "What the winner built" in html
    (asset,) = _record(db, world).assets
    remove = f"{paths['assets']}/{asset.id}/remove"
    assert f'action="{remove}"' in html

    response = post_form(client, remove, {}, token_from=paths["page"])
    assert response.status_code == 302
    html = _html(client.get(paths["page"]))
    assert "“Prototype source code” is removed from the reusable assets." in html
    assert 'href="https://example.org/code"' not in html
    assert _record(db, world).assets == []
    assert post_form(client, remove, {}, token_from=paths["page"]).status_code == 404


def test_an_asset_with_mistakes_is_refused_with_every_mistake_shown(client, db, world):
    sign_in(client, db, world.lead)
    paths = _paths(world)
    response = post_form(client, paths["assets"], {
        "title": "  ", "url": "javascript:alert(document.cookie)", "licence": "WTFPL",
        "description": "d" * (rules.MAX_ASSET_DESCRIPTION + 1)}, token_from=paths["page"])
    html = _html(response)
    assert response.status_code == 400
    assert field_error(response, "title") == "Enter what the asset is"
    assert field_error(response, "url").startswith("Enter a full web address starting with https://")
    assert field_error(response, "licence") == "Choose the licence the asset is published under"
    assert field_error(response, "description") == (
        "The description must be 1,000 characters or fewer")
    for anchor in ("title", "url", "licence", "description"):
        assert f'href="#{anchor}"' in html, anchor
    assert 'value="javascript:alert(document.cookie)"' in html         # kept, never linked
    assert 'href="javascript:' not in html
    assert _record(db, world) is None


def test_a_full_list_of_assets_takes_no_more(client, app, db, world):
    with app.app_context():
        for n in range(rules.MAX_ASSETS):
            record_services.add_asset(db, actor=world.lead, challenge_id=world.challenge.id,
                                      title=f"Asset {n}", url=f"https://example.org/{n}",
                                      licence="MIT", description="", now=world.after)
    sign_in(client, db, world.lead)
    paths = _paths(world)
    response = post_form(client, paths["assets"], {"title": "One more", "licence": "MIT",
                                                   "url": "https://example.org/more"},
                         token_from=paths["page"])
    assert response.status_code == 400
    assert field_error(response, "title") == (
        "A record can list up to 20 reusable assets; remove one first")
    assert 'value="One more"' in _html(response)
    assert db.scalar(select(func.count()).select_from(RecordAsset)) == rules.MAX_ASSETS


# --- publishing ---------------------------------------------------------------------------------

def test_publishing_needs_both_lessons(client, app, db, world, jobs):
    _write(app, db, world, worked="", not_worked="")
    sign_in(client, db, world.lead)
    paths = _paths(world)
    response = post_form(client, paths["publish"], {}, token_from=paths["page"])
    html = _html(response)
    assert response.status_code == 400
    assert "There is a problem" in html
    assert 'href="#lessons_worked"' in html and 'href="#lessons_not_worked"' in html
    assert field_error(response, "lessons_worked") == "Write what worked before publishing the record"
    assert field_error(response, "lessons_not_worked") == (
        "Write what did not work before publishing the record")
    assert _record(db, world).status == RecordStatus.DRAFT
    assert jobs == []


def test_publishing_queues_the_job_and_the_page_follows_it(client, app, db, world, jobs):
    _write(app, db, world)
    sign_in(client, db, world.lead)
    paths = _paths(world)
    response = post_form(client, paths["publish"], {}, token_from=paths["page"])
    assert response.status_code == 302 and location(response) == paths["page"]
    record = _record(db, world)
    assert record.status == RecordStatus.QUEUED
    assert jobs == [(PUBLISH_TASK, (record.id,))]

    response = client.get(paths["page"])
    html = _html(response)
    assert "Publication of the record has been asked for." in html
    assert _status(html) == "queued" and "Publishing: this takes a moment." in html
    assert "Publication was asked for on" in html
    assert f'<a class="govuk-link" href="{paths["page"]}">Refresh the page</a>' in html
    # The page looks again every few seconds (a script allowed by the page's CSP nonce).
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    assert f'<script type="module" nonce="{nonce}">' in html and "setTimeout" in html
    assert '<meta http-equiv="refresh"' not in html
    # Nothing can be changed while the job runs: the state forbids it (409), not the person.
    assert "<textarea" not in html and "Publish the record</button>" not in html
    assert post_form(client, paths["page"], {"lessons_worked": "late"},
                     token_from=paths["challenge"]).status_code == 409
    assert post_form(client, paths["assets"], {"title": "late", "url": "https://example.org",
                                               "licence": "MIT"},
                     token_from=paths["challenge"]).status_code == 409

    # A second editor who still had the page open asks again: told, nothing changes.
    second = sb.editor(world.lead.membership.organisation)
    _as(client, db, second)
    response = post_form(client, paths["publish"], {}, token_from=paths["challenge"])
    html = _html(response)
    assert response.status_code == 409
    assert "Someone else has already asked for this record to be published" in html
    assert jobs == [(PUBLISH_TASK, (record.id,))]

    # The job runs: the page shows the published record, and polls no more.
    with app.app_context():
        assert record_services.publish_record(db, record.id, now=world.after)
    _as(client, db, world.lead)
    response = client.get(paths["page"])
    html = _html(response)
    assert _status(html) == "published" and "Published on" in html
    assert f'href="/records/{world.challenge.id}"' in html and "Read the open record" in html
    assert "setTimeout" not in html and "<textarea" not in html
    assert rb.WORKED in html                            # shown, read-only
    for path in (paths["page"], paths["assets"]):
        assert post_form(client, path, {"lessons_worked": "after"},
                         token_from=paths["challenge"]).status_code == 409
    assert post_form(client, paths["publish"], {}, token_from=paths["challenge"]).status_code \
        == 409
    assert _record(db, world).lessons_worked == rb.WORKED


def test_a_failed_publication_says_so_and_can_be_tried_again(client, app, db, world, jobs,
                                                             monkeypatch):
    _write(app, db, world)
    with app.app_context():
        record = record_services.request_publication(db, actor=world.lead,
                                                     challenge_id=world.challenge.id,
                                                     now=world.after)

        def broken(*_args, **_kwargs):
            raise RuntimeError("the disk is full")

        monkeypatch.setattr(compose, "compose", broken)
        for _ in range(MAX_ATTEMPTS):
            assert record_services.publish_record(db, record.id, now=world.after) is False
    sign_in(client, db, world.lead)
    paths = _paths(world)
    html = _html(client.get(paths["page"]))
    assert _status(html) == "failed" and "Not published" in html
    assert "The record could not be published." in html
    assert "Something went wrong on our side while publishing the record." in html
    assert "RuntimeError" not in html and "the disk is full" not in html
    assert "Try publishing again</button>" in html and "<textarea" in html
    response = post_form(client, paths["publish"], {}, token_from=paths["page"])
    assert response.status_code == 302
    assert _record(db, world).status == RecordStatus.QUEUED
    assert jobs[-1] == (PUBLISH_TASK, (record.id,))


# --- links to the record elsewhere --------------------------------------------------------------

def test_the_challenge_page_links_to_the_record(client, app, db, concluded):
    world, people = concluded, _people(concluded)
    paths = _paths(world)
    link = f'href="{paths["page"]}"'
    sign_in(client, db, world.lead)
    html = _html(client.get(paths["challenge"]))
    assert link in html and "Write the open record" in html
    _as(client, db, people["lead viewer"])
    html = _html(client.get(paths["challenge"]))
    assert link in html and ">The open record<" in html
    for who in ("partner editor", "supplier", "other authority"):
        _as(client, db, people[who])
        assert link not in _html(client.get(paths["challenge"])), who

    with app.app_context():
        rb.publish(db, world)
    for who in (None, "supplier", "lead editor"):
        _as(client, db, people.get(who))
        html = _html(client.get(paths["challenge"]))
        assert f'href="/records/{world.challenge.id}"' in html and "Read the open record" in html
    html = _html(client.get(paths["challenge"]))       # the lead editor: read, not write
    assert ">The open record<" in html and "Write the open record" not in html


def test_your_challenges_says_where_each_record_stands(client, app, db, world, jobs):
    sign_in(client, db, world.lead)
    paths = _paths(world)
    html = _html(client.get("/challenges/mine"))
    assert f'href="{paths["page"]}">Awaits writing' in html
    _write(app, db, world)
    with app.app_context():
        queued = record_services.request_publication(db, actor=world.lead,
                                                     challenge_id=world.challenge.id,
                                                     now=world.after)
    html = _html(client.get("/challenges/mine"))
    assert f'href="{paths["page"]}">Publishing' in html
    with app.app_context():
        record_services.publish_record(db, queued.id, now=world.after)
    html = _html(client.get("/challenges/mine"))
    assert f'href="/records/{world.challenge.id}">Read the open record' in html
    assert "Awaits writing" not in html
    # A partner sees the published record too.
    _as(client, db, world.partner)
    assert f'href="/records/{world.challenge.id}"' in _html(client.get("/challenges/mine"))


def test_a_draft_cancelled_unseen_leaves_nothing_to_write(client, db, now):
    lead = sb.editor()
    draft = sb.new_draft(db, now, lead, title="Never opened")
    challenges.cancel_challenge(db, actor=lead, challenge_id=draft.id, reason="Not needed",
                                now=now)
    sign_in(client, db, lead)
    assert client.get(f"/challenges/{draft.id}/record").status_code == 403
    html = _html(client.get("/challenges/mine"))
    assert f"/challenges/{draft.id}/record" not in html and "Awaits writing" not in html


# --- in Welsh -----------------------------------------------------------------------------------

def test_the_page_in_welsh(client, app, db, world):
    _write(app, db, world)
    sign_in(client, db, world.lead)
    response = client.get(_paths(world)["page"] + "?lang=cy")
    html = _html(response)
    assert response.status_code == 200
    assert '<html lang="cy"' in html
    assert rb.WORKED in html
    # The language switch leads back to the English page.
    assert f'href="{_paths(world)["page"]}?lang=en"' in html
