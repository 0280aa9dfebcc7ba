"""Demonstration challenges in several states, made through the services like real ones."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from procure.accounts.models import Organisation, User
from procure.assessment import services as assessment
from procure.challenges import clarifications, following, funding, services
from procure.challenges.models import Challenge
from procure.submissions import lifecycle as proposal_lifecycle
from procure.submissions import services as submissions
from procure.values.services import current_frameworks, load_seed

DAY = timedelta(days=1)

BINS_PROBLEM = """Crews miss about one in forty collections on single-track rural lanes, where
lorries cannot turn and residents leave bins at the end of long tracks.

Each missed collection means a return trip, a complaint and, for older residents, a bin left out
for days. We want to learn:

- how crews could know in advance which lanes are passable that morning;
- how residents could tell us, simply, when a collection is missed;
- whether smaller vehicles or shared collection points would work better.

We do **not** want a new back-office system: whatever is tried must work with the route
planning we already use."""

DISCHARGE_PROBLEM = """Hundreds of people a month stay in hospital after they are well enough to go
home, because the support they need at home is not arranged in time.

We are looking for ways to see, earlier, who will need support, to match them with care that is
available, and to keep families informed. Solutions must work in Welsh and English and respect
people's choices about their care."""


def _user(session: Session, email: str) -> User:
    return session.execute(select(User).where(User.email == email)).scalar_one()


def _org(session: Session, name: str) -> Organisation:
    return session.execute(select(Organisation).where(Organisation.name == name)).scalar_one()


def _criteria(session: Session) -> dict[str, int]:
    """Criterion ids of the current frameworks, by code."""
    return {c.code: c.id for fw in current_frameworks(session) for c in fw.criteria}


def _phase(session: Session, editor: User, challenge: Challenge, now: datetime, *, kind: str,
           opens: timedelta, closes: timedelta, contracts: int, max_value_pence: int,
           months: int, weights: dict[str, int | None]) -> int:
    ids = _criteria(session)
    phase = services.add_phase(session, actor=editor, challenge_id=challenge.id, kind=kind, now=now)
    services.update_phase(session, actor=editor, challenge_id=challenge.id, phase_id=phase.id,
                          now=now, kind=kind, opens_at=now + opens, closes_at=now + closes,
                          contracts=contracts, max_value_pence=max_value_pence,
                          duration_months=months, min_assessments=2, threshold_percent=60,
                          outcome_share_percent=50)
    services.set_phase_criteria(session, actor=editor, challenge_id=challenge.id,
                                phase_id=phase.id,
                                weights={ids[code]: w for code, w in weights.items()}, now=now)
    return phase.id


def load_demo_challenges(session: Session, *, now: datetime) -> list[str]:
    """Create the demo challenges that are missing (matched by title); returns the titles made."""
    load_seed(session, now=now)  # the criteria they are judged on; loads nothing twice
    made: list[str] = []
    existing = set(session.execute(select(Challenge.title)).scalars())
    health = _org(session, "Bwrdd Iechyd Enghraifft / Example Health Board")
    eleri = _user(session, "editor@council.example")
    hana = _user(session, "editor@health.example")
    sian = _user(session, "supplier@bright.example")
    gwen = _user(session, "supplier@greenfield.example")
    if not following.followed_tags(session, gwen):
        following.follow_tags(session, actor=gwen, tags_text="data, health and care", now=now)

    title = "Fewer missed bin collections on rural lanes"
    if title not in existing:
        c = services.create_challenge(session, actor=eleri, title=title, now=now)
        services.update_details(
            session, actor=eleri, challenge_id=c.id, now=now,
            summary="Help crews and residents so that collections on single-track lanes are not missed.",
            problem_statement=BINS_PROBLEM,
            context="About 9,000 households are on lanes our standard lorries cannot reach safely.",
            affected="Rural residents, especially older and disabled people; collection crews.",
            outcomes_sought="Fewer missed collections, fewer return trips, and residents who can "
                            "report a problem in under a minute, in Welsh or English.")
        services.update_welsh(session, actor=eleri, challenge_id=c.id,
                              title_cy="Llai o gasgliadau biniau a gollir ar lonydd gwledig",
                              summary_cy="Helpu criwiau a thrigolion fel nad yw casgliadau ar "
                                         "lonydd cul yn cael eu colli.", now=now)
        services.set_tags(session, actor=eleri, challenge_id=c.id,
                          tags_text="waste, rural, route planning, data", now=now)
        _phase(session, eleri, c, now, kind="feasibility", opens=-2 * DAY, closes=35 * DAY,
               contracts=3, max_value_pence=5_000_000, months=3,
               weights={"technicalFeasibility": 30, "innovation": 15, "valueForMoney": 20,
                        "userCentredDesign": 15, "resilient": 10, "cohesiveCommunities": 10,
                        "eligibility": None, "dataProtectionSecurity": None})
        bake_off = _phase(session, eleri, c, now, kind="bake_off", opens=70 * DAY,
                          closes=160 * DAY, contracts=2, max_value_pence=20_000_000, months=6,
                          weights={"technicalFeasibility": 25, "scalabilityReuse": 25,
                                   "valueForMoney": 20, "cohesiveCommunities": 15,
                                   "globallyResponsible": 15, "eligibility": None,
                                   "dataProtectionSecurity": None})
        ids = _criteria(session)
        services.save_measure(session, actor=eleri, challenge_id=c.id, phase_id=bake_off,
                              measure_id=None, name="Missed collections per 1,000",
                              unit="per 1,000 collections", direction="lower",
                              baseline=Decimal("25"), target=Decimal("5"),
                              criterion_id=ids["cohesiveCommunities"], weight=60, now=now)
        services.save_measure(session, actor=eleri, challenge_id=c.id, phase_id=bake_off,
                              measure_id=None, name="Return trips avoided", unit="trips a month",
                              direction="higher", baseline=Decimal("0"), target=Decimal("120"),
                              criterion_id=ids["globallyResponsible"], weight=40, now=now)
        services.set_clarification_deadline(session, actor=eleri, challenge_id=c.id,
                                            deadline=now + 21 * DAY, now=now)
        funding.set_lead_pledge(session, actor=eleri, challenge_id=c.id, pledge_pence=35_000_000,
                                now=now)
        funding.invite_partner(session, actor=eleri, challenge_id=c.id, organisation_id=health.id,
                               message="Our crews visit many of your patients' homes.", now=now)
        funding.respond_to_invitation(session, actor=hana, challenge_id=c.id, accept=True,
                                      pledge_pence=20_000_000, now=now)
        services.publish_challenge(session, actor=eleri, challenge_id=c.id, now=now)
        q = clarifications.ask_question(
            session, actor=sian, challenge_id=c.id, now=now,
            question="Can suppliers have the list of lanes that are hard to reach?")
        clarifications.answer_question(
            session, actor=eleri, clarification_id=q.id, now=now, question=q.question,
            answer="Yes: suppliers taking part in the feasibility phase receive the list of "
                   "lanes and their access notes at the start of their contract.")
        clarifications.ask_question(session, actor=gwen, challenge_id=c.id, now=now,
                                    question="Is there a preferred format for the route data?")
        clarifications.publish_clarification(
            session, actor=eleri, challenge_id=c.id, now=now,
            question="Briefing event",
            answer="We will hold an online briefing for suppliers; the recording will be posted here.")
        services.amend_challenge(
            session, actor=eleri, challenge_id=c.id, now=now,
            note="We added who is affected: crews as well as residents.",
            affected="Rural residents, especially older and disabled people; collection crews and "
                     "the call centre who take missed-collection reports.")
        made.append(title)

    title = "Home from hospital sooner"
    if title not in existing:
        c = services.create_challenge(session, actor=hana, title=title, now=now)
        services.update_details(
            session, actor=hana, challenge_id=c.id, now=now,
            summary="Arrange support at home in time, so people can leave hospital when they are well.",
            problem_statement=DISCHARGE_PROBLEM,
            context="Delayed discharge costs the board beds and harms people's recovery.",
            affected="Older people leaving hospital, their families and carers, ward staff.",
            outcomes_sought="Fewer days spent in hospital after being medically fit to leave.")
        services.set_tags(session, actor=hana, challenge_id=c.id, tags_text="health and care, data",
                          now=now)
        _phase(session, hana, c, now, kind="feasibility", opens=-1 * DAY, closes=42 * DAY,
               contracts=4, max_value_pence=6_000_000, months=4,
               weights={"technicalFeasibility": 25, "userCentredDesign": 25, "healthier": 20,
                        "moreEqual": 10, "involvement": 10, "valueForMoney": 10,
                        "eligibility": None, "dataProtectionSecurity": None})
        services.set_clarification_deadline(session, actor=hana, challenge_id=c.id,
                                            deadline=now + 28 * DAY, now=now)
        funding.set_lead_pledge(session, actor=hana, challenge_id=c.id, pledge_pence=24_000_000,
                                now=now)
        services.publish_challenge(session, actor=hana, challenge_id=c.id, now=now)
        made.append(title)

    title = "Flood warnings that reach everyone"
    if title not in existing:
        c = services.create_challenge(session, actor=eleri, title=title, now=now)
        services.update_details(
            session, actor=eleri, challenge_id=c.id, now=now,
            summary="Make sure every household at risk hears a flood warning in time, in its language.",
            problem_statement="Warnings go out by text and app, but many people at risk have "
                              "neither, or do not read English easily.")
        services.set_tags(session, actor=eleri, challenge_id=c.id, tags_text="flooding, resilience",
                          now=now)
        funding.invite_partner(session, actor=eleri, challenge_id=c.id, organisation_id=health.id,
                               message="", now=now)
        made.append(title)

    title = "Library cards for every pupil"
    if title not in existing:
        c = services.create_challenge(session, actor=eleri, title=title, now=now)
        services.update_details(session, actor=eleri, challenge_id=c.id, now=now,
                                summary="Give every pupil a digital library card.")
        services.cancel_challenge(session, actor=eleri, challenge_id=c.id, now=now,
                                  reason="Welsh Government now provides this for every school, "
                                         "so we no longer need to buy it.")
        made.append(title)

    title = "Drier council homes: finding damp and mould early"
    if title not in existing:
        _damp_challenge(session, title, eleri=eleri, sian=sian, gwen=gwen, now=now)
        made.append(title)
    damp = session.execute(select(Challenge).where(Challenge.title == title)).scalar_one_or_none()
    if damp is not None:
        _damp_assessment(session, damp, eleri=eleri, now=now)

    bins = session.execute(select(Challenge).where(
        Challenge.title == "Fewer missed bin collections on rural lanes")).scalar_one_or_none()
    if bins is not None and bins.phases:
        phase = bins.phases[0]
        org_id = sian.active_membership.organisation_id
        if submissions.proposal_of(session, organisation_id=org_id, phase_id=phase.id) is None \
                and proposal_lifecycle.window_problem(
                    phase.status, phase.opens_at, phase.closes_at, now) is None:
            draft = submissions.start_proposal(session, actor=sian, phase_id=phase.id, now=now)
            submissions.update_fields(
                session, actor=sian, proposal_id=draft.id, now=now,
                summary="Crews see which lanes are passable before they set out, from "
                        "residents' reports and road sensors.")
    return made


DAMP_PROBLEM = """Damp and mould harm tenants' health, above all children's and older people's
lungs, and we usually learn of it only when a tenant complains — often months after it started.

We want to find homes at risk early, before mould takes hold, without putting sensors or
cameras in people's homes against their wishes, and to fix the cause rather than the symptom.
Solutions must respect tenants' privacy and work in Welsh and English."""

# What two demo suppliers sent: (user, price in pence, summary, team, timeline, answer).
DAMP_PROPOSALS = (
    ("supplier@bright.example", 4_500_000,
     "Low-cost humidity and temperature sensors, offered to tenants who choose them, with "
     "alerts to the repairs team when a home stays damp for a week.",
     "An engineer, a data analyst and a tenant-liaison officer who speaks Welsh.",
     "Month 1: recruit 40 homes. Months 2-3: measure and alert. Month 4: report.",
     "We measure conditions in the homes of tenants who opt in and alert the repairs team."),
    ("supplier@greenfield.example", 3_900_000,
     "Predict homes at risk of damp from repairs history, building age and weather, so "
     "surveyors visit the likeliest homes first — no devices in homes.",
     "Two data scientists and a chartered surveyor.",
     "Month 1: data sharing agreement. Month 2: model. Months 3-4: surveys to test it.",
     "We rank homes by risk using data the council already holds and test it with surveys."),
)


def _damp_challenge(session: Session, title: str, *, eleri: User, sian: User, gwen: User,
                    now: datetime) -> None:
    """A challenge whose first phase closed two days ago, with two proposals to read."""
    from flask import current_app

    then = now - 40 * DAY  # when it was written and published
    c = services.create_challenge(session, actor=eleri, title=title, now=then)
    services.update_details(
        session, actor=eleri, challenge_id=c.id, now=then,
        summary="Find council homes at risk of damp and mould before tenants fall ill.",
        problem_statement=DAMP_PROBLEM,
        context="About 9,000 council homes, many of solid-wall stone built before 1919.",
        affected="Tenants, especially children and older people; the repairs team.",
        outcomes_sought="Homes at risk found **months earlier**; fewer repeat repairs.")
    services.update_welsh(session, actor=eleri, challenge_id=c.id, now=then,
                          title_cy="Cartrefi cyngor sychach: canfod lleithder a llwydni'n gynnar",
                          summary_cy="Canfod cartrefi cyngor sydd mewn perygl o leithder a "
                                     "llwydni cyn i denantiaid fynd yn sâl.")
    services.set_tags(session, actor=eleri, challenge_id=c.id, tags_text="housing, health, data",
                      now=then)
    _phase(session, eleri, c, then, kind="feasibility", opens=1 * DAY, closes=38 * DAY,
           contracts=2, max_value_pence=5_000_000, months=4,
           weights={"healthier": 40, "moreEqual": 20, "technicalFeasibility": 25,
                    "valueForMoney": 15, "eligibility": None, "dataProtectionSecurity": None})
    services.set_clarification_deadline(session, actor=eleri, challenge_id=c.id,
                                        deadline=then + 20 * DAY, now=then)
    funding.set_lead_pledge(session, actor=eleri, challenge_id=c.id, pledge_pence=10_000_000,
                            now=then)
    services.publish_challenge(session, actor=eleri, challenge_id=c.id, now=then)
    phase = services.load_challenge(session, c.id).phases[0]
    folder = current_app.config["UPLOAD_DIR"]
    for n, (email, price, summary, team, timeline, answer) in enumerate(DAMP_PROPOSALS):
        user = sian if email == sian.email else gwen
        when = then + (10 + 5 * n) * DAY
        proposal = submissions.start_proposal(session, actor=user, phase_id=phase.id, now=when)
        submissions.update_fields(session, actor=user, proposal_id=proposal.id, now=when,
                                  summary=summary, consent_publish_summary=True, team=team,
                                  price_pence=price, price_given=True, timeline=timeline,
                                  declarations={d: True for d in submissions.DECLARATIONS})
        submissions.save_responses(session, actor=user, proposal_id=proposal.id, now=when,
                                   responses={pc.id: answer for pc in phase.criteria})
        submissions.add_attachment(session, actor=user, proposal_id=proposal.id,
                                   filename="method-statement.pdf", data=one_page_pdf(summary),
                                   now=when, folder=folder)
        submissions.submit_proposal(session, actor=user, proposal_id=proposal.id,
                                    clock=lambda when=when: when + timedelta(hours=2))
    services.advance_phases(session, now=now)  # the deadline has passed: the phase closes


# How the two demo assessors marked Bright's proposal on the damp challenge: criterion code ->
# (score or gate result, justification). They disagree on "A healthier Wales" by 2 points, so
# it is flagged for the moderator; Greenfield's proposal is still waiting to be assessed.
DAMP_MARKS = {
    "viewer@council.example": {
        "healthier": (3, "Tenants who opt in get an alert within a week of a home staying damp, "
                         "well before mould takes hold."),
        "moreEqual": (2, "Relies on tenants choosing a sensor; those least likely to complain "
                         "may also be least likely to opt in."),
        "technicalFeasibility": (3, "Proven sensors and a simple alert; a four-month pilot "
                                    "is realistic."),
        "valueForMoney": (2, "Reasonable for 40 homes, but the cost per home at scale is not "
                             "shown."),
        "eligibility": (True, "Meets every eligibility condition."),
        "dataProtectionSecurity": (True, "Data stays in the UK; consent is recorded per tenant."),
    },
    "assessor@expert.example": {
        "healthier": (1, "Measures humidity but says little about fixing the cause; the "
                         "health benefit is assumed rather than shown."),
        "moreEqual": (2, "Opt-in devices risk missing the tenants at greatest risk."),
        "technicalFeasibility": (3, "The hardware and alerting are well understood."),
        "valueForMoney": (3, "Low device cost and a short pilot keep the risk small."),
        "eligibility": (True, "Eligible."),
        "dataProtectionSecurity": (True, "A clear data protection impact assessment is "
                                         "included."),
    },
}
EXPERT = ("Dr Sian Morgan", "assessor@expert.example")


def _damp_assessment(session: Session, challenge: Challenge, *, eleri: User,
                     now: datetime) -> None:
    """Assessors on the closed damp phase, half-way through: Vijay Viewer (of the council) and
    an independent expert, both accepted; Bright's proposal assessed by both, with one
    criterion flagged; Greenfield's declared on by Vijay but not yet scored. Made once."""
    phase = challenge.phases[0] if challenge.phases else None
    if phase is None or phase.status != "closed" or phase.appointments \
            or getattr(phase, "decision", None) is not None:
        return
    when = max(now - DAY, phase.closes_at)  # the day after the deadline, or now
    vijay = _user(session, "viewer@council.example")
    expert = _user(session, EXPERT[1])
    appointment = assessment.appoint_member(session, actor=eleri, challenge_id=challenge.id,
                                            phase_id=phase.id, user_id=vijay.id, now=when)
    assessment.respond_to_appointment(session, actor=vijay, appointment_id=appointment.id,
                                      accept=True, now=when)
    _appointment, token = assessment.invite_expert(session, actor=eleri,
                                                   challenge_id=challenge.id, phase_id=phase.id,
                                                   name=EXPERT[0], email=EXPERT[1], now=when)
    assessment.accept_invitation(session, actor=expert, token=token, now=when)

    proposals = {p.organisation.name: p for p in assessment.counting_proposals(session, phase.id)}
    bright = proposals.get("Bright Ideas Ltd")
    greenfield = proposals.get("Greenfield Data Co-operative")
    criteria = {pc.criterion.code: pc for pc in phase.criteria}
    later = when + timedelta(hours=3)
    for person in (vijay, expert):
        if bright is None:
            break
        assessment.declare(session, actor=person, proposal_id=bright.id, conflicted=False,
                           reason="", now=later)
        marks = {}
        for code, (mark, why) in DAMP_MARKS[person.email].items():
            pc = criteria.get(code)
            if pc is not None:
                key = "passed" if pc.criterion.kind == "gate" else "score"
                marks[pc.id] = {key: mark, "justification": why}
        assessment.save_marks(session, actor=person, proposal_id=bright.id, marks=marks,
                              submit=True, now=later)
    if greenfield is not None:
        assessment.declare(session, actor=vijay, proposal_id=greenfield.id, conflicted=False,
                           reason="", now=later)


def one_page_pdf(text: str) -> bytes:
    """A one-page PDF with ``text`` on it (plain ASCII), as a supplier uploads: for the demo
    attachments and the browser tests."""
    line = text.encode("ascii", "replace")[:90].replace(b"(", b"[").replace(b")", b"]")
    stream = b"BT /F1 11 Tf 50 780 Td (" + line + b") Tj ET"
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream
               + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += (f"trailer << /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
            ).encode()
    return bytes(out)
