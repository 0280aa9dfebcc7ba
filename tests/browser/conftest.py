"""The browser tier: a live Procure server and Debian Chromium driven by Playwright.

Each pytest process (each xdist worker) gets its own server, on a fresh SQLite file and a
free port, and its own browser; every test gets a fresh browser context, so cookies and
language choices never leak between tests. People who must be signed in are signed in
once, through the real sign-in form, and their cookies reused (``storage_state``).
"""

from __future__ import annotations

import email
import email.policy
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright
from sqlalchemy.orm import object_session
from werkzeug.serving import BaseWSGIServer, make_server

from tests.conftest import migrate

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
DEMO_PASSWORD = "demo-procure-2026"

# People added beside the demo data, for states the demo does not have.
NEWCOMER = ("newcomer@example.org", "Nia Newcomer")  # confirmed, no organisation yet
JOINERS = [("joiner@example.org", "Jo Joiner"),  # both asked to join the health board
           ("joiner2@example.org", "Jac Joiner")]

# Beside the demo challenges: a draft of the county council's with a bake-off phase (criteria
# chosen, one measure weighing 60 of 100), for the phase, criteria and measures pages; and a
# draft version of a value framework, for the admin's criterion editing page.
BAKE_OFF_DRAFT = "Quieter gritting lorries at night"
DRAFT_FRAMEWORK = "ways-of-working"

# Beside the demo proposals (Bright's draft on the bins challenge, and the two submitted on the
# damp challenge, whose phase has closed): on "Home from hospital sooner", open until well after
# the tests, Bright's complete proposal, submitted, and Greenfield's, submitted then withdrawn;
# and a file on Bright's draft, for the attachments page.
BINS = "Fewer missed bin collections on rural lanes"
DAMP = "Drier council homes: finding damp and mould early"
HOME = "Home from hospital sooner"
BRIGHT = "supplier@bright.example"
GREENFIELD = "supplier@greenfield.example"

# Assessment. The demo's damp phase is half assessed: VIEWER and EXPERT accepted; Bright's
# proposal submitted by both, "A healthier Wales" flagged (3 and 1); Greenfield's declared on
# by VIEWER (no conflict, no marks yet), not by EXPERT. Beside it, three council challenges
# whose first phase has closed with proposals from Bright and Greenfield, each a step further:
# READY fully assessed and moderated, no decision yet (and an expert's invitation, unanswered);
# AWAITING co-funded by the health board, its decision recorded and waiting for the board's
# approval (and VIEWER appointed there, not yet answering); RELEASED decided and released.
# JOURNEY, co-funded by the health board, has closed with Bright's proposal alone and nobody
# appointed: the assessment journey runs on it.
LEAD = "editor@council.example"
VIEWER = "viewer@council.example"
PARTNER = "editor@health.example"
EXPERT = "assessor@expert.example"
INVITED = ("Rhian Rees", "rhian@expert.example")  # invited to READY, has no account
READY = "Safer crossings outside rural schools"
AWAITING = "Warmer bus shelters for older passengers"
RELEASED = "Street lights repaired within a week"
JOURNEY = "Cleaner rivers below storm overflows"
CRITERIA = {"healthier": 50, "technicalFeasibility": 30, "valueForMoney": 20, "eligibility": None}
# Scores per criterion (in the order of CRITERIA's scored ones), by proposal and assessor.
STAGED_MARKS = {
    BRIGHT: {"first": [4, 3, 3], "second": [2, 3, 3]},      # 4 and 2 on "healthier": flagged
    GREENFIELD: {"first": [2, 2, 3], "second": [2, 2, 3]},  # 55%: below the 60% threshold
}
# An award is always explained, and approved and released with each selected supplier's
# contract: AWAITING's and RELEASED's have theirs.
AWARD_REASON = "The ranking's choice: the best proposal above the quality threshold."
AWARD_CONTRACT = (4_000_000, date(2027, 6, 1), date(2028, 5, 31))

# Bake-offs. Council challenges in two phases, begun 90 days ago: feasibility (closed 52 days
# ago, both suppliers scoring 75%, shortlisted and released two days later), then a bake-off of
# one contract of up to £25,000, outcome share 50%, with the two MEASURES. Each a step further
# (named BAKE_OFF_<state>): JOURNEY's (co-funded by the health board) entrants are not invited
# yet: the bake-off journey runs on it; UNINVITED's neither; OPEN's are invited (the bake-off
# closes in 60 days) and Bright has reported the first measure, with a file; CLOSED's closed 10
# days ago, Bright having reported both measures (the first since accepted) and Greenfield the
# first; AWARDING's closed, every report verified (Greenfield's first corrected), the
# demonstrations assessed and the award to Bright recorded, without its contract yet. FALLS is
# the demo's, concluded.
BAKE_OFF_MAX = 2_500_000
MEASURES = [  # name, unit, direction, baseline, target, criterion, weight
    ("Repairs done within a week", "% of repairs", "higher", "40", "80", "healthier", 60),
    ("Repeat visits", "per 100 repairs", "lower", "30", "10", "technicalFeasibility", 40),
]
BAKE_OFF_JOURNEY = "Quicker repairs to council homes"
BAKE_OFF_UNINVITED = "Fewer empty council homes"
BAKE_OFF_OPEN = "Safer stairs in council tower blocks"
BAKE_OFF_CLOSED = "Warmer council homes this winter"
BAKE_OFF_AWARDING = "Cleaner air outside schools"
FALLS = "Fewer falls at home for older people"
BAKE_OFF_CONTRACT = (2_000_000, date(2027, 1, 4), date(2027, 3, 31))
SHORTLIST_MARKS = {a: {"first": [3, 3, 3], "second": [3, 3, 3]} for a in (BRIGHT, GREENFIELD)}
# The demonstrations: Bright's assessed 75%, Greenfield's 55%.
DEMONSTRATION_MARKS = {BRIGHT: {"first": [3, 3, 3], "second": [3, 3, 3]},
                       GREENFIELD: {"first": [2, 2, 3], "second": [2, 2, 3]}}
REPORTED = {BRIGHT: ("70", "15"), GREENFIELD: ("65", "20")}  # by measure, as MEASURES
CORRECTION = ("50", "The repairs log shows 15 of the 65 repairs counted took longer than a week.")

# Open records. Council challenges (feasibility only, assessed by VIEWER and EXPERT, their
# decision released: concluded), each a step further with its record, through the record
# services: RECORD_JOURNEY's is not started (the record journey writes and publishes it);
# RECORD_DRAFT's is being written, "what worked" saved and one asset listed, "what did not
# work" still empty; RECORD_QUEUED's publication is asked for and its job not run (the live
# server records jobs instead of sending them); RECORD_FAILED's job failed every try, as when
# something breaks on our side; RECORD_PUBLISHED's (an award to Bright) and RECORD_NO_AWARD's
# are published, and so is RECORD_BAKE_OFF's (a bake-off, as AWARDING's, its award released
# with the contract; see _add_bake_offs). Beside them, a verified authority of their own, VALLEY (its editor
# VALLEY_EDITOR), has published the records of challenges it cancelled, enough that the
# catalogue has more than one page. RECORD_NO_AWARD and RECORD_JOURNEY share the Welsh word
# SEARCH_WORD.
RECORD_JOURNEY = ("Safer footpaths after dark", "Llwybrau troed mwy diogel ar ôl iddi nosi")
RECORD_NO_AWARD = ("Footpaths cleared of snow sooner", "Llwybrau troed yn glir o eira yn gynt")
RECORD_PUBLISHED = ("Potholes filled within days of being reported",
                    "Tyllau yn y ffyrdd wedi'u llenwi o fewn dyddiau")
RECORD_DRAFT = "Bus stops that say when the bus is coming"
RECORD_BAKE_OFF = "Fewer leaking roofs on council estates"
RECORD_QUEUED = "Fewer bins left out on pavements"
RECORD_FAILED = "Quicker answers on the council's phone line"
SEARCH_WORD = "troed"
RECORD_LESSONS = ("Filling the holes the same week kept residents reporting them.",
                  "Photos sent by text were often too dark to judge the depth.")
RECORD_ASSET = ("Pothole reporting form", "https://example.org/pothole-form", "OGL-UK-3.0",
                "The questions residents answered, and why.")
NO_AWARD_REASON = "No proposal showed it could clear the footpaths before the morning rush."
VALLEY = "Example Valley Council"
VALLEY_EDITOR = ("editor@valley.example", "Vaughan Valley")
CANCEL_REASON = "The work passed to a regional partnership before any proposal came in."
_tokens: dict[str, str] = {}  # invitation tokens, kept only as hashes in the database

expect.set_options(timeout=10_000)


@dataclass
class LiveServer:
    app: Flask
    url: str
    mail_dir: Path

    def run(self, fn: Callable[[Any], Any]) -> Any:
        """Call ``fn(session)`` inside an app context on the live server's database."""
        from procure.db import get_session

        with self.app.app_context():
            return fn(get_session())

    def deliver_mail(self) -> None:
        """Deliver the outbox now (the testing config records jobs instead of sending them)."""
        from procure.db import utcnow
        from procure.notifications.services import sweep

        self.run(lambda s: sweep(s, now=utcnow()))

    def mail_to(self, address: str) -> list[email.message.EmailMessage]:
        """The delivered e-mails addressed to ``address``, oldest first."""
        self.deliver_mail()
        found = []
        for path in sorted(self.mail_dir.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns):
            msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if msg["To"] == address:
                found.append(msg)
        return found

    def link_in_mail(self, address: str, path_prefix: str) -> str:
        """The last link to ``path_prefix`` in the e-mails sent to ``address``."""
        links = [link for msg in self.mail_to(address)
                 for link in re.findall(r"https?://\S+", msg.get_content())
                 if link.startswith(self.url + path_prefix)]
        assert links, f"no e-mail to {address} links to {path_prefix}"
        return links[-1]


def _add_people(session) -> None:
    """A confirmed person with no organisation, and two whose requests to join are pending."""
    from sqlalchemy import select
    from werkzeug.security import generate_password_hash

    from procure.accounts import services
    from procure.accounts.models import Organisation, User
    from procure.db import utcnow

    now = utcnow()
    users = {}
    for address, name in (NEWCOMER, *JOINERS):
        user = User(email=address, name=name, password_hash=generate_password_hash(DEMO_PASSWORD),
                    locale="en", is_admin=False, is_disabled=False, created_at=now,
                    email_confirmed_at=now)
        session.add(user)
        users[address] = user
    session.commit()
    health = session.execute(select(Organisation).where(
        Organisation.name.like("%Example Health Board"))).scalar_one()
    for address, _name in JOINERS:
        services.request_membership(session, actor=users[address], organisation_id=health.id,
                                    now=now)


def _add_drafts(session) -> None:
    """A draft with a bake-off phase, and a draft version of a value framework."""
    from decimal import Decimal

    from sqlalchemy import select

    from procure.accounts.models import User
    from procure.challenges import services
    from procure.db import utcnow
    from procure.values.services import create_next_version, current_frameworks

    now = utcnow()
    editor = session.execute(select(User).where(User.email == "editor@council.example")).scalar_one()
    admin = session.execute(select(User).where(User.email == "admin@procure.example")).scalar_one()
    criteria = {c.code: c.id for fw in current_frameworks(session) for c in fw.criteria}
    draft = services.create_challenge(session, actor=editor, title=BAKE_OFF_DRAFT, now=now)
    phase = services.add_phase(session, actor=editor, challenge_id=draft.id, kind="bake_off", now=now)
    services.set_phase_criteria(
        session, actor=editor, challenge_id=draft.id, phase_id=phase.id, now=now,
        weights={criteria["technicalFeasibility"]: 50, criteria["prevention"]: 50,
                 criteria["eligibility"]: None})
    services.save_measure(session, actor=editor, challenge_id=draft.id, phase_id=phase.id,
                          measure_id=None, name="Complaints about noise", unit="a month",
                          direction="lower", baseline=Decimal("40"), target=Decimal("10"),
                          criterion_id=criteria["prevention"], weight=60, now=now)
    create_next_version(session, actor=admin, code=DRAFT_FRAMEWORK, now=now)


def small_pdf(text: str) -> bytes:
    """A one-page PDF with ``text`` on it, as a supplier uploads (the demo's own)."""
    from procure.demo_challenges import one_page_pdf

    return one_page_pdf(text)


def _add_proposals(session) -> None:
    """On the open hospital challenge: Bright's proposal submitted, Greenfield's withdrawn; a
    file on Bright's draft for the bins challenge."""
    from flask import current_app
    from sqlalchemy import select

    from procure.accounts.models import User
    from procure.challenges.models import Challenge
    from procure.db import utcnow
    from procure.submissions import services

    folder = current_app.config["UPLOAD_DIR"]
    bright = session.execute(select(User).where(User.email == BRIGHT)).scalar_one()
    bins = session.execute(select(Challenge).where(Challenge.title == BINS)).scalar_one().phases[0]
    draft = services.proposal_of(session, organisation_id=bright.active_membership.organisation_id,
                                 phase_id=bins.id)
    services.add_attachment(session, actor=bright, proposal_id=draft.id, filename="lanes.pdf",
                            data=small_pdf("Lanes we know"), now=utcnow(), folder=folder)

    phase = session.execute(select(Challenge).where(Challenge.title == HOME)).scalar_one().phases[0]
    for address in (BRIGHT, GREENFIELD):
        user = session.execute(select(User).where(User.email == address)).scalar_one()
        now = utcnow()
        proposal = services.start_proposal(session, actor=user, phase_id=phase.id, now=now)
        services.update_fields(
            session, actor=user, proposal_id=proposal.id, now=now,
            summary="A named coordinator arranges care at home before the ward says goodbye.",
            consent_publish_summary=True, team="A nurse, a social worker and a developer.",
            price_pence=5_500_000, price_given=True,
            timeline="Month 1: two wards. Months 2-4: every ward.",
            declarations={d: True for d in services.DECLARATIONS})
        services.save_responses(session, actor=user, proposal_id=proposal.id, now=now,
                                responses={pc.id: "We do this with the ward teams."
                                           for pc in phase.criteria})
        services.add_attachment(session, actor=user, proposal_id=proposal.id,
                                filename="plan.pdf", data=small_pdf("Our plan"), now=now,
                                folder=folder)
        services.submit_proposal(session, actor=user, proposal_id=proposal.id, clock=utcnow)
        if address == GREENFIELD:
            services.withdraw_proposal(session, actor=user, proposal_id=proposal.id,
                                       clock=utcnow)


def _user(session, address: str):
    from sqlalchemy import select

    from procure.accounts.models import User

    return session.execute(select(User).where(User.email == address)).scalar_one()


def _closed_challenge(session, title: str, *, partner: bool,
                      suppliers: tuple[str, ...] = (BRIGHT, GREENFIELD),
                      contracts: int = 1, then=None, bake_off: bool = False,
                      lead: str = LEAD, tags: str = "roads, safety",
                      title_cy: str = "") -> tuple[Any, Any]:
    """A council challenge (co-funded by the health board if ``partner``) written and published
    ``then`` (40 days ago unless given), whose feasibility phase took a proposal from each of
    ``suppliers`` and closed 38 days after it (two days ago). With ``bake_off``, a second
    phase follows: a bake-off with the two MEASURES, one contract of up to BAKE_OFF_MAX.
    ``lead`` names the editor writing it (of the council unless given), ``tags`` its tags (none
    if empty) and ``title_cy`` its Welsh title (and summary), if any."""
    from datetime import timedelta
    from decimal import Decimal

    from sqlalchemy import select

    from procure.accounts.models import Organisation
    from procure.assessment import services as assessment
    from procure.challenges import funding
    from procure.challenges import services as challenges
    from procure.db import utcnow
    from procure.values.services import current_frameworks

    day = timedelta(days=1)
    now = utcnow()
    then = then or now - 40 * day
    lead = _user(session, lead)
    c = challenges.create_challenge(session, actor=lead, title=title, now=then)
    challenges.update_details(
        session, actor=lead, challenge_id=c.id, now=then,
        summary=f"{title}: what would make the difference?",
        problem_statement="Residents tell us this goes wrong too often, and that we learn of it "
                          "too late: usually from a complaint, weeks after it started. We want "
                          "to find out sooner, fix the cause rather than the symptom, and "
                          "keep residents told, in Welsh and English, of what we are doing.",
        context="Across the county, in towns and villages.", affected="Residents and staff.",
        outcomes_sought="Fewer problems, found sooner.")
    if tags:
        challenges.set_tags(session, actor=lead, challenge_id=c.id, tags_text=tags, now=then)
    if title_cy:
        challenges.update_welsh(session, actor=lead, challenge_id=c.id, title_cy=title_cy,
                                summary_cy=f"{title_cy}: beth fyddai'n gwneud y gwahaniaeth?",
                                now=then)
    ids = {cr.code: cr.id for fw in current_frameworks(session) for cr in fw.criteria}
    phase = challenges.add_phase(session, actor=lead, challenge_id=c.id, kind="feasibility",
                                 now=then)
    challenges.update_phase(session, actor=lead, challenge_id=c.id, phase_id=phase.id, now=then,
                            kind="feasibility", opens_at=then + day, closes_at=then + 38 * day,
                            contracts=contracts, max_value_pence=5_000_000, duration_months=3,
                            min_assessments=2, threshold_percent=60, outcome_share_percent=50)
    challenges.set_phase_criteria(session, actor=lead, challenge_id=c.id, phase_id=phase.id,
                                  weights={ids[code]: w for code, w in CRITERIA.items()},
                                  now=then)
    challenges.set_clarification_deadline(session, actor=lead, challenge_id=c.id,
                                          deadline=then + 20 * day, now=then)
    funding.set_lead_pledge(session, actor=lead, challenge_id=c.id, pledge_pence=10_000_000,
                            now=then)
    if partner:
        health = session.execute(select(Organisation).where(
            Organisation.name.like("%Example Health Board"))).scalar_one()
        funding.invite_partner(session, actor=lead, challenge_id=c.id, organisation_id=health.id,
                               message="Your patients live along these roads.", now=then)
        funding.respond_to_invitation(session, actor=_user(session, PARTNER), challenge_id=c.id,
                                      accept=True, pledge_pence=5_000_000, now=then)
    if bake_off:
        second = challenges.add_phase(session, actor=lead, challenge_id=c.id, kind="bake_off",
                                      now=then)
        challenges.update_phase(session, actor=lead, challenge_id=c.id, phase_id=second.id,
                                now=then, kind="bake_off", opens_at=then + 45 * day,
                                closes_at=then + 80 * day, contracts=1,
                                max_value_pence=BAKE_OFF_MAX, duration_months=2,
                                min_assessments=2, threshold_percent=40, outcome_share_percent=50)
        challenges.set_phase_criteria(session, actor=lead, challenge_id=c.id,
                                      phase_id=second.id,
                                      weights={ids[code]: w for code, w in CRITERIA.items()},
                                      now=then)
        for name, unit, direction, baseline, target, code, weight in MEASURES:
            challenges.save_measure(session, actor=lead, challenge_id=c.id, phase_id=second.id,
                                    measure_id=None, name=name, unit=unit, direction=direction,
                                    baseline=Decimal(baseline), target=Decimal(target),
                                    criterion_id=ids[code], weight=weight, now=then)
    challenges.publish_challenge(session, actor=lead, challenge_id=c.id, now=then)
    phase = challenges.load_challenge(session, c.id).phases[0]
    for n, address in enumerate(suppliers):
        _submit_proposal(session, address, phase, then + (10 + n) * day)
    challenges.advance_phases(session, now=then + 38 * day + timedelta(hours=1) if bake_off
                              else now)
    return c, assessment.load_phase(session, challenge_id=c.id, phase_id=phase.id)


def fill_proposal(session, address: str, proposal_id: int, when) -> None:
    """Every section of a proposal, as its supplier would fill it in (a PDF attached)."""
    from flask import current_app

    from procure.submissions import services as submissions
    from procure.submissions.models import Proposal

    user = _user(session, address)
    phase = session.get(Proposal, proposal_id).phase
    submissions.update_fields(
        session, actor=user, proposal_id=proposal_id, now=when,
        summary=f"{user.active_membership.organisation.name} would try it on three roads.",
        consent_publish_summary=True, team="An engineer and a researcher.",
        price_pence=4_000_000 if phase.position == 1 else 2_000_000, price_given=True,
        timeline="Month 1: try. Month 2: report.",
        declarations={d: True for d in submissions.DECLARATIONS})
    submissions.save_responses(session, actor=user, proposal_id=proposal_id, now=when,
                               responses={pc.id: "We have done this before, with others."
                                          for pc in phase.criteria})
    submissions.add_attachment(session, actor=user, proposal_id=proposal_id,
                               filename="plan.pdf", data=small_pdf("Our plan"), now=when,
                               folder=current_app.config["UPLOAD_DIR"])


def _submit_proposal(session, address: str, phase, when):
    """The supplier starts, fills and submits its proposal for ``phase`` at ``when``."""
    from datetime import timedelta

    from procure.submissions import services as submissions

    user = _user(session, address)
    proposal = submissions.start_proposal(session, actor=user, phase_id=phase.id, now=when)
    fill_proposal(session, address, proposal.id, when)
    submissions.submit_proposal(session, actor=user, proposal_id=proposal.id,
                                clock=lambda: when + timedelta(hours=1))
    return proposal


def _appoint(session, challenge, phase, address: str, *, accept: bool = True,
             now=None) -> None:
    """Appoint an authority member (who accepts), or invite the expert (who accepts)."""
    from procure.assessment import services as assessment
    from procure.db import utcnow

    now = now or utcnow()
    lead, person = _user(session, LEAD), _user(session, address)
    if person.active_membership is None:
        _appointment, token = assessment.invite_expert(
            session, actor=lead, challenge_id=challenge.id, phase_id=phase.id, name=person.name,
            email=address, now=now)
        assessment.accept_invitation(session, actor=person, token=token, now=now)
        return
    appointment = assessment.appoint_member(session, actor=lead, challenge_id=challenge.id,
                                            phase_id=phase.id, user_id=person.id, now=now)
    if accept:
        assessment.respond_to_appointment(session, actor=person, appointment_id=appointment.id,
                                          accept=True, now=now)


def _assess_all(session, phase, assessors: tuple[str, str], marks_of: dict | None = None,
                now=None) -> None:
    """Both assessors declare no conflict and submit ``marks_of`` (by default STAGED_MARKS)
    for every proposal."""
    from procure.assessment import services as assessment
    from procure.db import utcnow

    marks_of = marks_of or STAGED_MARKS
    scored = [pc for pc in phase.criteria if pc.criterion.kind == "scored"]
    gates = [pc for pc in phase.criteria if pc.criterion.kind == "gate"]
    for proposal in assessment.counting_proposals(session, phase.id):
        supplier = next(a for a in marks_of if _user(session, a).active_membership
                        .organisation_id == proposal.organisation_id)
        for which, address in zip(("first", "second"), assessors, strict=True):
            person = _user(session, address)
            assessment.declare(session, actor=person, proposal_id=proposal.id, conflicted=False,
                               reason="", now=now or utcnow())
            marks = {pc.id: {"score": score, "justification": f"Scored {score}: see the plan."}
                     for pc, score in zip(scored, marks_of[supplier][which], strict=True)}
            marks |= {pc.id: {"passed": True, "justification": "Eligible."} for pc in gates}
            assessment.save_marks(session, actor=person, proposal_id=proposal.id, marks=marks,
                                  submit=True, now=now or utcnow())


def _moderate(session, phase, now=None):
    """The lead's editor agrees a score for every flagged criterion; returns the ranking."""
    from procure.assessment import services as assessment
    from procure.db import utcnow

    lead = _user(session, LEAD)
    board = assessment.ranking(session, phase)
    for proposal_id, flagged in board.flags.items():
        for pc_id in flagged:
            assessment.moderate(session, actor=lead, proposal_id=proposal_id,
                                phase_criterion_id=pc_id, score="3", passed=None,
                                rationale="Agreed at the moderation meeting: 3.",
                                now=now or utcnow())
    return assessment.ranking(session, phase)


def _record_contracts(session, challenge, phase, decision, now) -> None:
    """The lead's editor records the contract of every supplier an award selects."""
    from procure.bakeoff import services as bakeoff

    for proposal_id in decision.selected_ids:
        value, starts_on, ends_on = AWARD_CONTRACT
        bakeoff.record_contract(session, actor=_user(session, LEAD), challenge_id=challenge.id,
                                phase_id=phase.id, proposal_id=proposal_id, value_pence=value,
                                starts_on=starts_on, ends_on=ends_on, now=now)


def _add_assessments(session) -> None:
    """READY, AWAITING, RELEASED and JOURNEY (see above), through the services."""
    from procure.assessment import services as assessment
    from procure.db import utcnow

    lead = _user(session, LEAD)
    c, phase = _closed_challenge(session, READY, partner=False)
    _appoint(session, c, phase, VIEWER)
    _appoint(session, c, phase, EXPERT)
    _assess_all(session, phase, (VIEWER, EXPERT))
    _moderate(session, phase)
    _appointment, _tokens["invitation"] = assessment.invite_expert(
        session, actor=lead, challenge_id=c.id, phase_id=phase.id, name=INVITED[0],
        email=INVITED[1], now=utcnow())

    for title, partner, assessors in ((AWAITING, True, (PARTNER, EXPERT)),
                                      (RELEASED, False, (VIEWER, EXPERT))):
        c, phase = _closed_challenge(session, title, partner=partner)
        for address in assessors:
            _appoint(session, c, phase, address)
        _assess_all(session, phase, assessors)
        if title == AWAITING:
            _appoint(session, c, phase, VIEWER, accept=False)
        board = _moderate(session, phase)
        decision = assessment.record_decision(
            session, actor=lead, challenge_id=c.id, phase_id=phase.id,
            selected_ids=board.selection.default, reason=AWARD_REASON, now=utcnow())
        # An award is approved and released with its contracts.
        _record_contracts(session, c, phase, decision, utcnow())
        if title == RELEASED:
            assessment.release_decision(session, actor=lead, challenge_id=c.id,
                                        phase_id=phase.id, now=utcnow())

    _closed_challenge(session, JOURNEY, partner=True, suppliers=(BRIGHT,), contracts=2)


def _shortlisted(session, title: str, *, partner: bool = False, then=None):
    """A two-phase challenge (see MEASURES above) whose shortlist of Bright and Greenfield into
    the bake-off is released (two days after phase 1 closed): (challenge, the bake-off phase)."""
    from datetime import timedelta

    from procure.assessment import services as assessment
    from procure.db import utcnow

    day = timedelta(days=1)
    then = then or utcnow() - 90 * day
    c, phase = _closed_challenge(session, title, partner=partner, contracts=2, then=then,
                                 bake_off=True)
    for address in (VIEWER, EXPERT):
        _appoint(session, c, phase, address, now=then + 39 * day)
    _assess_all(session, phase, (VIEWER, EXPERT), SHORTLIST_MARKS, now=then + 39 * day)
    lead, at = _user(session, LEAD), then + 40 * day
    ids = {"challenge_id": c.id, "phase_id": phase.id}
    board = assessment.ranking(session, phase)
    assessment.record_decision(session, actor=lead, selected_ids=board.selection.default,
                               reason="", now=at, **ids)
    if partner:
        assessment.approve_decision(session, actor=_user(session, PARTNER), now=at, **ids)
    assessment.release_decision(session, actor=lead, now=at, **ids)
    return c, assessment.load_phase(session, challenge_id=c.id, phase_id=c.phases[1].id)


def _entrant(session, phase, address: str):
    from sqlalchemy import select

    from procure.bakeoff.models import BakeOffEntrant

    return session.execute(select(BakeOffEntrant).where(
        BakeOffEntrant.phase_id == phase.id,
        BakeOffEntrant.organisation_id == _user(session, address).active_membership
        .organisation_id)).scalar_one()


def _invite(session, c, phase, *, now, closes_at) -> None:
    from procure.bakeoff import services as bakeoff

    bakeoff.invite_entrants(session, actor=_user(session, LEAD), challenge_id=c.id,
                            phase_id=phase.id, closes_at=closes_at, now=now,
                            contracts={e.id: BAKE_OFF_CONTRACT for e in phase.entrants})


def _report(session, phase, address: str, measure, value: str, now, *, file: bool = False):
    from flask import current_app

    from procure.bakeoff import services as bakeoff

    entrant = _entrant(session, phase, address)
    report = bakeoff.report_measurement(
        session, actor=_user(session, address), entrant_id=entrant.id, measure_id=measure.id,
        value_text=value, evidence=f"Counted from our job sheets: {value} {measure.unit}.",
        now=now)
    if file:
        bakeoff.add_evidence(session, actor=_user(session, address), entrant_id=entrant.id,
                             measure_id=measure.id, filename="job-sheets.pdf",
                             data=small_pdf("Our job sheets"), now=now,
                             folder=current_app.config["UPLOAD_DIR"])
    return report


def assess_demonstrations(session, *, challenge_id: int, phase_id: int, now=None):
    """VIEWER and EXPERT are appointed to a closed bake-off and give every demonstration
    DEMONSTRATION_MARKS; returns the phase."""
    from procure.assessment import services as assessment

    phase = assessment.load_phase(session, challenge_id=challenge_id, phase_id=phase_id)
    for address in (VIEWER, EXPERT):
        _appoint(session, phase.challenge, phase, address, now=now)
    phase = assessment.load_phase(session, challenge_id=challenge_id, phase_id=phase_id)
    _assess_all(session, phase, (VIEWER, EXPERT), DEMONSTRATION_MARKS, now=now)
    return assessment.load_phase(session, challenge_id=challenge_id, phase_id=phase_id)


def accept_waiting_reports(session, *, challenge_id: int, phase_id: int) -> int:
    """The lead's editor accepts every report of a closed bake-off still waiting; how many."""
    from sqlalchemy import select

    from procure.bakeoff import services as bakeoff
    from procure.bakeoff.models import BakeOffEntrant, MeasurementReport, ReportStatus
    from procure.db import utcnow

    waiting = session.execute(select(MeasurementReport.id).join(BakeOffEntrant).where(
        BakeOffEntrant.phase_id == phase_id,
        MeasurementReport.status == ReportStatus.REPORTED)).scalars().all()
    for report_id in waiting:
        bakeoff.verify_measurement(session, actor=_user(session, LEAD), challenge_id=challenge_id,
                                   phase_id=phase_id, report_id=report_id, outcome="accept",
                                   value_text=None, reason="", now=utcnow())
    return len(waiting)


def _add_bake_offs(session) -> None:
    """JOURNEY, UNINVITED, OPEN, CLOSED and AWARDING's bake-offs (see above), and
    RECORD_BAKE_OFF's, through the services, the clock walked forward from 90 days ago."""
    from datetime import timedelta

    from procure.assessment import services as assessment
    from procure.bakeoff import services as bakeoff
    from procure.challenges import services as challenges
    from procure.db import utcnow

    day = timedelta(days=1)
    now = utcnow()
    then = now - 90 * day
    _shortlisted(session, BAKE_OFF_JOURNEY, partner=True, then=then)
    _shortlisted(session, BAKE_OFF_UNINVITED, then=then)

    c, phase = _shortlisted(session, BAKE_OFF_OPEN, then=then)
    _invite(session, c, phase, now=then + 41 * day, closes_at=now + 60 * day)
    _report(session, phase, BRIGHT, phase.measures[0], REPORTED[BRIGHT][0], then + 45 * day,
            file=True)

    lead = _user(session, LEAD)
    for title in (BAKE_OFF_CLOSED, BAKE_OFF_AWARDING, RECORD_BAKE_OFF):
        awarding = title != BAKE_OFF_CLOSED
        c, phase = _shortlisted(session, title, then=then)
        closes_at = then + 80 * day
        _invite(session, c, phase, now=then + 41 * day, closes_at=closes_at)
        first, second = phase.measures
        reports = {}
        for address in (BRIGHT, GREENFIELD):
            for measure, value in zip(phase.measures, REPORTED[address], strict=True):
                if not awarding and address == GREENFIELD and measure.id == second.id:
                    continue
                reports[address, measure.id] = _report(session, phase, address, measure, value,
                                                       then + 50 * day)
            if awarding:
                _submit_proposal(session, address, phase, then + 55 * day)
        challenges.advance_phases(session, now=closes_at + timedelta(hours=1))
        ids = {"challenge_id": c.id, "phase_id": phase.id}
        for (address, measure_id), report in reports.items():
            if not awarding and (address, measure_id) != (BRIGHT, first.id):
                continue
            corrected = (address, measure_id) == (GREENFIELD, first.id)
            bakeoff.verify_measurement(
                session, actor=lead, report_id=report.id, now=closes_at + day,
                outcome="correct" if corrected else "accept",
                value_text=CORRECTION[0] if corrected else None,
                reason=CORRECTION[1] if corrected else "", **ids)
        if awarding:
            phase = assess_demonstrations(session, now=closes_at + 2 * day, **ids)
            board = assessment.ranking(session, phase)
            decision = assessment.record_decision(
                session, actor=lead, selected_ids=board.selection.default,
                reason="The best final score, and the best outcomes.",
                now=closes_at + 3 * day, **ids)
        if title == RECORD_BAKE_OFF:  # the award's contract, and the award released
            for proposal_id in decision.selected_ids:
                bakeoff.record_contract(session, actor=lead, proposal_id=proposal_id,
                                        value_pence=BAKE_OFF_CONTRACT[0] + 400_000,
                                        starts_on=date(2027, 6, 1), ends_on=date(2028, 5, 31),
                                        now=closes_at + 3 * day, **ids)
            assessment.release_decision(session, actor=lead, now=closes_at + 4 * day, **ids)


def _concluded(session, title: tuple[str, str] | str, *, award: bool = True):
    """A council challenge (see ``_closed_challenge``) assessed by VIEWER and EXPERT, moderated,
    decided (an award to the ranking's choice, with its contracts, or no award) and released:
    concluded. ``title`` is the English title, or (English, Welsh)."""
    from procure.assessment import services as assessment
    from procure.db import utcnow

    english, welsh = (title, "") if isinstance(title, str) else title
    c, phase = _closed_challenge(session, english, partner=False, title_cy=welsh)
    for address in (VIEWER, EXPERT):
        _appoint(session, c, phase, address)
    _assess_all(session, phase, (VIEWER, EXPERT))
    board = _moderate(session, phase)
    ids = {"challenge_id": c.id, "phase_id": phase.id}
    decision = assessment.record_decision(
        session, actor=_user(session, LEAD), now=utcnow(), **ids,
        selected_ids=board.selection.default if award else [],
        reason=AWARD_REASON if award else NO_AWARD_REASON)
    if award:
        _record_contracts(session, c, phase, decision, utcnow())
    assessment.release_decision(session, actor=_user(session, LEAD), now=utcnow(), **ids)
    assert c.status == "concluded", c.status
    return c


def _write_record(session, c, address: str = LEAD, *, not_worked: bool = True,
                  asset: bool = True) -> None:
    """The lead's editor saves the lessons (only what worked, unless ``not_worked``) and lists
    RECORD_ASSET, through the record services."""
    from procure.db import utcnow
    from procure.record import services as record

    editor = _user(session, address)
    record.save_lessons(session, actor=editor, challenge_id=c.id, worked=RECORD_LESSONS[0],
                        not_worked=RECORD_LESSONS[1] if not_worked else "", now=utcnow())
    if asset:
        title, url, licence, description = RECORD_ASSET
        record.add_asset(session, actor=editor, challenge_id=c.id, title=title, url=url,
                         licence=licence, description=description, now=utcnow())


def _ask_publication(session, c, address: str = LEAD) -> int:
    """The lead's editor asks for the record to be published; the record's id."""
    from procure.db import utcnow
    from procure.record import services as record

    return record.request_publication(session, actor=_user(session, address), challenge_id=c.id,
                                      now=utcnow()).id


def run_publication(session, record_id: int) -> bool:
    """The publication job, as a worker runs it for a record whose publication was asked for."""
    from procure.db import utcnow
    from procure.record import services as record

    return record.publish_record(session, record_id, now=utcnow())


def _valley(session):
    """VALLEY, registered by its editor and verified by the admin; its editor."""
    from werkzeug.security import generate_password_hash

    from procure.accounts import services as accounts
    from procure.accounts.models import User
    from procure.db import utcnow

    now = utcnow()
    address, name = VALLEY_EDITOR
    editor = User(email=address, name=name, password_hash=generate_password_hash(DEMO_PASSWORD),
                  locale="en", is_admin=False, is_disabled=False, created_at=now,
                  email_confirmed_at=now)
    session.add(editor)
    session.commit()
    org = accounts.create_organisation(session, actor=editor, name=VALLEY, kind="authority",
                                       now=now)
    accounts.verify_organisation(session, actor=_user(session, "admin@procure.example"),
                                 organisation_id=org.id, now=now)
    return editor


def _add_records(session) -> None:
    """The open records (see RECORD_JOURNEY and the others above), through the services."""
    import logging
    from datetime import timedelta
    from unittest import mock

    from sqlalchemy import func, select

    from procure.challenges import services as challenges
    from procure.challenges.models import Challenge
    from procure.db import utcnow
    from procure.record import compose
    from procure.record import services as record
    from procure.record.models import ChallengeRecord
    from procure.record.queries import PER_PAGE

    _concluded(session, RECORD_JOURNEY)

    c = _concluded(session, RECORD_DRAFT)
    _write_record(session, c, not_worked=False)

    c = _concluded(session, RECORD_QUEUED)
    _write_record(session, c, asset=False)
    _ask_publication(session, c)

    c = _concluded(session, RECORD_FAILED)
    _write_record(session, c)
    record_id = _ask_publication(session, c)
    # Something on our side breaks every time the job tries: after the last try, it gives up.
    # (The job logs each failure with its traceback; that expected noise is kept quiet here.)
    quiet = mock.patch.object(logging.getLogger(record.__name__), "disabled", True)
    with quiet, mock.patch.object(compose, "compose", side_effect=RuntimeError("disk full")):
        for _attempt in range(record.MAX_ATTEMPTS):
            assert not run_publication(session, record_id)

    bake_off = session.execute(select(Challenge).where(Challenge.title == RECORD_BAKE_OFF)
                               ).scalar_one()
    for c in (_concluded(session, RECORD_PUBLISHED), _concluded(session, RECORD_NO_AWARD,
                                                               award=False), bake_off):
        _write_record(session, c)
        assert run_publication(session, _ask_publication(session, c))

    # VALLEY's cancelled challenges, each opened and cancelled before its phase closed.
    valley = _valley(session)
    published = session.execute(select(func.count()).select_from(ChallengeRecord).where(
        ChallengeRecord.status == "published")).scalar_one()
    for n in range(1, max(2, PER_PAGE + 2 - published) + 1):
        c, _phase = _closed_challenge(
            session, f"Valley trial {n}: a service stopped early", partner=False, suppliers=(),
            then=utcnow() - timedelta(days=10), lead=VALLEY_EDITOR[0], tags="")
        challenges.cancel_challenge(session, actor=valley, challenge_id=c.id,
                                    reason=CANCEL_REASON, now=utcnow())
        _write_record(session, c, VALLEY_EDITOR[0], asset=False)
        assert run_publication(session, _ask_publication(session, c, VALLEY_EDITOR[0]))


def record_ids(session) -> dict[str, int | str]:
    """The open records' ids: ``record_<state>`` (each the challenge's id, as the record's
    pages name them), ``record_cancelled`` (one of VALLEY's) and ``criterion_healthier`` (the
    catalogue's key of the criterion the council's challenges weigh most)."""
    from sqlalchemy import select

    from procure.challenges.models import Challenge
    from procure.record.queries import criterion_choices

    def challenge(title: str) -> int:
        return session.execute(select(Challenge.id).where(Challenge.title == title)).scalar_one()

    return {
        "record_journey": challenge(RECORD_JOURNEY[0]),
        "record_draft": challenge(RECORD_DRAFT),
        "record_queued": challenge(RECORD_QUEUED),
        "record_failed": challenge(RECORD_FAILED),
        "record_published": challenge(RECORD_PUBLISHED[0]),
        "record_no_award": challenge(RECORD_NO_AWARD[0]),
        "record_bake_off": challenge(RECORD_BAKE_OFF),
        "record_cancelled": challenge("Valley trial 1: a service stopped early"),
        "criterion_healthier": next(c.key for c in criterion_choices(session)
                                    if c.key.endswith(".healthier")),
    }


def find_ids(session) -> dict[str, int | str]:
    """The ids the pages under test need, found by title, e-mail address or code."""
    from sqlalchemy import select

    from procure.accounts.models import User
    from procure.assessment.models import AssessorAppointment
    from procure.challenges.models import Challenge, Clarification
    from procure.submissions.models import Proposal
    from procure.values.models import ValueFramework

    def challenge(title: str) -> Challenge:
        return session.execute(select(Challenge).where(Challenge.title == title)).scalar_one()

    def proposal(address: str, c: Challenge) -> Proposal:
        user = session.execute(select(User).where(User.email == address)).scalar_one()
        return session.execute(select(Proposal).where(
            Proposal.phase_id == c.phases[0].id,
            Proposal.organisation_id == user.active_membership.organisation_id)).scalar_one()

    bins = challenge(BINS)
    gritting = challenge(BAKE_OFF_DRAFT)
    pending = session.execute(
        select(Clarification).join(User, Clarification.asked_by_id == User.id)
        .where(Clarification.challenge_id == bins.id, Clarification.published_at.is_(None),
               User.email == "supplier@greenfield.example")).scalar_one()
    versions = {fw.version: fw for fw in session.execute(
        select(ValueFramework).where(ValueFramework.code == DRAFT_FRAMEWORK)).scalars()}
    draft_version = versions[max(versions)]
    assert not draft_version.is_published
    damp, home = challenge(DAMP), challenge(HOME)
    ready, awaiting, released = challenge(READY), challenge(AWAITING), challenge(RELEASED)
    journey = challenge(JOURNEY)

    def appointment(address: str, c: Challenge) -> int:
        return session.execute(select(AssessorAppointment.id).join(
            User, AssessorAppointment.user_id == User.id).where(
            User.email == address, AssessorAppointment.phase_id == c.phases[0].id)).scalar_one()

    def criterion(code: str, c: Challenge) -> int:
        return next(pc.id for pc in c.phases[0].criteria if pc.criterion.code == code)
    home_submitted, home_withdrawn = proposal(BRIGHT, home), proposal(GREENFIELD, home)
    damp_bright = proposal(BRIGHT, damp)
    return {
        "bins_phase": bins.phases[0].id,
        "bins_draft": proposal(BRIGHT, bins).id,
        "damp": damp.id,
        "damp_phase": damp.phases[0].id,
        "damp_bright": damp_bright.id,
        "damp_bright_receipt": damp_bright.current_receipt_id,
        "damp_bright_digest": damp_bright.current_receipt.digest,
        "damp_greenfield": proposal(GREENFIELD, damp).id,
        "home_submitted": home_submitted.id,
        "home_submitted_receipt": home_submitted.current_receipt_id,
        "home_withdrawn": home_withdrawn.id,
        "home_withdrawn_submission_receipt": home_withdrawn.receipts[0].id,
        "home_withdrawal_receipt": home_withdrawn.receipts[-1].id,
        "home_withdrawal_digest": home_withdrawn.receipts[-1].digest,
        "bins": bins.id,
        "home": challenge("Home from hospital sooner").id,
        "flood": challenge("Flood warnings that reach everyone").id,
        "library": challenge("Library cards for every pupil").id,
        "gritting": gritting.id,
        "gritting_phase": gritting.phases[0].id,
        "pending_question": pending.id,
        "framework": versions[min(versions)].id,
        "draft_framework": draft_version.id,
        "draft_criterion": draft_version.criteria[0].id,
        # Assessment (see READY, AWAITING and RELEASED above).
        "damp_expert_appointment": appointment(EXPERT, damp),
        "damp_viewer_appointment": appointment(VIEWER, damp),
        "damp_healthier": criterion("healthier", damp),
        "ready": ready.id,
        "ready_phase": ready.phases[0].id,
        "ready_bright": proposal(BRIGHT, ready).id,
        "invitation_token": _tokens["invitation"],
        "awaiting": awaiting.id,
        "awaiting_phase": awaiting.phases[0].id,
        "released": released.id,
        "released_phase": released.phases[0].id,
        "released_bright": proposal(BRIGHT, released).id,
        "released_greenfield": proposal(GREENFIELD, released).id,
        "journey": journey.id,
        "journey_phase": journey.phases[0].id,
        "journey_bright": proposal(BRIGHT, journey).id,
        # Bake-offs (see BAKE_OFF_JOURNEY and the others above), and the demo's concluded one.
        **bake_off_ids("bake_off_journey", challenge(BAKE_OFF_JOURNEY)),
        **bake_off_ids("uninvited", challenge(BAKE_OFF_UNINVITED)),
        **bake_off_ids("open", challenge(BAKE_OFF_OPEN)),
        **bake_off_ids("closed", challenge(BAKE_OFF_CLOSED)),
        **bake_off_ids("awarding", challenge(BAKE_OFF_AWARDING)),
        **bake_off_ids("falls", challenge(FALLS)),
        # Open records (see RECORD_JOURNEY and the others above).
        **record_ids(session),
    }


def bake_off_ids(key: str, c) -> dict[str, int]:
    """A bake-off challenge's ids: ``<key>``, ``<key>_phase`` (the bake-off), its measures
    ``<key>_measure_1`` and ``_2``, and for Bright and Greenfield (as ``bright`` and
    ``greenfield``) the entrant ``<key>_<who>``, each report ``<key>_<who>_report_<n>`` and the
    demonstration proposal ``<key>_<who>_demonstration``, where there are."""
    from sqlalchemy import select

    from procure.accounts.models import User
    from procure.bakeoff.models import BakeOffEntrant
    from procure.submissions.models import Proposal

    session = object_session(c)
    phase = next(p for p in c.phases if p.kind == "bake_off")
    found = {key: c.id, f"{key}_phase": phase.id}
    for n, measure in enumerate(phase.measures, start=1):
        found[f"{key}_measure_{n}"] = measure.id
    for who, address in (("bright", BRIGHT), ("greenfield", GREENFIELD)):
        organisation_id = session.execute(select(User).where(User.email == address)
                                          ).scalar_one().active_membership.organisation_id
        entrant = session.execute(select(BakeOffEntrant).where(
            BakeOffEntrant.phase_id == phase.id,
            BakeOffEntrant.organisation_id == organisation_id)).scalar_one_or_none()
        if entrant is None:
            continue
        found[f"{key}_{who}"] = entrant.id
        for n, measure in enumerate(phase.measures, start=1):
            report = entrant.report_for(measure.id)
            if report is not None:
                found[f"{key}_{who}_report_{n}"] = report.id
        demonstration = session.execute(select(Proposal.id).where(
            Proposal.phase_id == phase.id, Proposal.organisation_id == organisation_id)
        ).scalar_one_or_none()
        if demonstration is not None:
            found[f"{key}_{who}_demonstration"] = demonstration
    return found


def _buffered(app: Flask):
    """Read each response body fully, and close it, before the server starts sending it.

    Werkzeug's development server closes a response only after draining the socket, and
    skips the close when that drain fails because the browser reset the connection (as
    Chromium does when a test closes its context while the favicon is still loading). A
    static file's handle was then left to the garbage collector: a ResourceWarning, which
    `filterwarnings = error` turns into a failure of whichever test happens to be running.
    """
    def wsgi(environ, start_response):
        result = app(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return [body]

    return wsgi


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    from procure import create_app
    from procure.db import utcnow
    from procure.demo import load_demo
    from procure.demo_challenges import load_demo_challenges

    root = tmp_path_factory.mktemp("live")
    url = f"sqlite:///{root / 'procure.db'}"
    migrate(url)
    mail_dir = root / "mail"
    app = create_app("testing", SQLALCHEMY_DATABASE_URL=url, MAIL_DIR=mail_dir,
                     UPLOAD_DIR=root / "uploads", BASE_URL="http://127.0.0.1")
    # Port 0: the kernel picks a free port, so parallel workers never collide. Links in
    # e-mails need that port, and the app reads BASE_URL per request, so set it now,
    # before the first request.
    server: BaseWSGIServer = make_server("127.0.0.1", 0, _buffered(app), threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    app.config["BASE_URL"] = base_url
    live = LiveServer(app=app, url=base_url, mail_dir=mail_dir)
    live.run(lambda s: load_demo(s, now=utcnow()))
    live.run(lambda s: load_demo_challenges(s, now=utcnow()))
    live.run(_add_people)
    live.run(_add_drafts)
    live.run(_add_proposals)
    live.run(_add_assessments)
    live.run(_add_bake_offs)
    live.run(_add_records)

    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield live
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)
    app.extensions["db_engine"].dispose()


@pytest.fixture(scope="session")
def ids(live_server: LiveServer) -> dict[str, int | str]:
    """Ids of the demo challenges and the other records pages are opened on (see ``find_ids``)."""
    return live_server.run(find_ids)


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    # The limiter is a module-level singleton whose in-memory counts all apps in the
    # process share; start each test with none, as the unit tier's client fixture does.
    # (RATELIMIT_ENABLED=False is not used: Flask-Limiter copies it onto the singleton,
    # which would switch rate limiting off for unit tests later in the same worker.)
    from procure.extensions import limiter

    limiter.reset()


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def signed_in_state(browser: Browser, live_server: LiveServer) -> Callable[[str], dict]:
    """The cookies of a session signed in as ``address``, made once per person and reused."""
    states: dict[str, dict] = {}

    def get(address: str) -> dict:
        if address not in states:
            context = browser.new_context(base_url=live_server.url)
            page = context.new_page()
            sign_in(page, address)
            states[address] = context.storage_state()
            context.close()
        return states[address]

    return get


@pytest.fixture
def new_context(browser: Browser, live_server: LiveServer,
                signed_in_state: Callable[[str], dict]) -> Iterator[Callable[..., BrowserContext]]:
    """Make a fresh browser context, optionally already signed in as someone."""
    contexts: list[BrowserContext] = []

    def make(as_user: str | None = None) -> BrowserContext:
        context = browser.new_context(
            base_url=live_server.url,
            storage_state=signed_in_state(as_user) if as_user else None)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context: Callable[..., BrowserContext]) -> Page:
    return new_context().new_page()


def fill_date(page: Page, legend: str, day: date) -> None:
    """Type a date into the GOV.UK day, month and year boxes of the fieldset ``legend``."""
    group = page.get_by_role("group", name=legend, exact=True)
    group.get_by_label("Day").fill(str(day.day))
    group.get_by_label("Month").fill(str(day.month))
    group.get_by_label("Year").fill(str(day.year))


_last_steps: dict[str, int] = {}  # the last authenticator step each person used, per server
_keys: dict[str, str] = {}  # authenticator keys set up while signing in, by address


def totp_now(address: str) -> str:
    """An authenticator code for ``address`` that the server has not seen used yet (a code works
    once: a second sign-in within 30 seconds takes the next step's code, or waits for it). The
    demo people use the demo key; others the key they set up while signing in."""
    import time

    import pyotp

    from procure.demo import DEMO_TOTP_SECRET

    totp = pyotp.TOTP(_keys.get(address, DEMO_TOTP_SECRET))
    while True:
        current = totp.timecode(datetime.now(UTC))
        step = max(current, _last_steps.get(address, -1) + 1)
        if step <= current + 1:
            _last_steps[address] = step
            return totp.generate_otp(step)
        time.sleep(1)


def sign_in(page: Page, address: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the form, in English, and wait for the account page. People who use
    two-step sign-in give a code; those who must but have not set it up do so on the way.

    English is asked for (and so remembered) because some demo people read Welsh by default.
    """
    page.goto("/sign-in?lang=en")
    page.get_by_label("E-mail address").fill(address)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(
        re.compile("Your account|Enter your security code|Set up two-step sign-in"))
    if heading.inner_text() == "Set up two-step sign-in":
        set_up_two_step(page, address)
    elif heading.inner_text() == "Enter your security code":
        give_code(page, address)
    expect(heading).to_have_text("Your account")


def set_up_two_step(page: Page, address: str, password: str | None = None) -> None:
    """On the "Set up two-step sign-in" page: add the key shown to an authenticator, give its
    code (and, when already signed in, the password again), and say the recovery codes are
    saved."""
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-step sign-in")
    _keys[address] = page.get_by_test_id("totp-key").inner_text().replace(" ", "")
    _last_steps.pop(address, None)
    if password is not None:
        page.get_by_label("Current password").fill(password)
    page.get_by_label("Code from the new authenticator").fill(totp_now(address))
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    page.get_by_text("I have saved my codes").click()


def give_code(page: Page, address: str) -> None:
    """On the "Enter your security code" page: give the authenticator's current code."""
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your security code")
    page.get_by_label("Security code").fill(totp_now(address))
    page.get_by_role("button", name="Continue").click()
