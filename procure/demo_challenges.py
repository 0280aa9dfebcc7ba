"""Demonstration challenges in several states, made through the services like real ones."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import select
from sqlalchemy.orm import Session

from procure.accounts.models import Organisation, User
from procure.assessment import services as assessment
from procure.bakeoff import services as bakeoff
from procure.bakeoff.models import AdoptionCheckIn
from procure.challenges import clarifications, following, funding, services
from procure.challenges.models import Challenge
from procure.record import services as records
from procure.record.rules import RecordStatus, editable
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

    if FALLS not in existing:
        _falls_challenge(session, eleri=eleri, hana=hana, now=now)
        made.append(FALLS)
    falls = session.execute(select(Challenge).where(Challenge.title == FALLS)).scalar_one_or_none()
    if falls is not None and falls.status in ("concluded", "published") and session.execute(
            select(AdoptionCheckIn.id).where(AdoptionCheckIn.challenge_id == falls.id)).first() \
            is None:
        # Its award was released 7 months ago: the 6-month adoption check-in is due, and the
        # lead's editors are asked for it (as the scheduled job would).
        bakeoff.ask_for_check_ins(session, now=now)

    if RURAL not in existing:
        _rural_challenge(session, eleri=eleri, now=now)
        made.append(RURAL)
    if ROUTES not in existing:
        _routes_challenge(session, eleri=eleri, gwen=gwen, now=now)
        made.append(ROUTES)
    publish_demo_records(session, eleri=eleri, now=now)

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


# --- A concluded challenge: a feasibility phase, then a bake-off, an award and its check-in ------

FALLS = "Fewer falls at home for older people"

FALLS_PROBLEM = """Every month about a hundred older people in the county fall at home badly enough
to need an ambulance. Many had fallen before, and many lay on the floor for hours before anyone
knew.

The council's telecare service and the health board's falls clinics each see part of the
picture. We want to learn:

- how to find, earlier, the people most likely to fall;
- how to get help to someone who has fallen within minutes, not hours;
- what people will actually keep using, in Welsh or English, at home.

Whatever is tried must respect people's choices and work with the telecare alarm service we
already run."""

# What each supplier sent to the feasibility phase: (price in pence, summary, team, timeline,
# answer to every criterion).
FALLS_PROPOSALS = {
    "supplier@bright.example": (
        3_600_000,
        "Fall detectors, worn or fixed to the wall, that call the telecare team within two "
        "minutes of a fall, with a home hazard check when they are fitted.",
        "An engineer, a telecare installer and an occupational therapist who speaks Welsh.",
        "Month 1: fit 60 homes. Months 2-3: measure falls and response times. Month 3: report.",
        "Detectors send an alert to the existing telecare platform; installers check each home "
        "for trip hazards when they fit them."),
    "supplier@greenfield.example": (
        3_200_000,
        "Find the people most likely to fall from telecare, social care and falls-clinic "
        "records (with their consent) and offer them an occupational therapist's visit first.",
        "Two data scientists, an information governance lead and an occupational therapist.",
        "Month 1: data sharing agreement. Month 2: risk model. Month 3: visits to test it.",
        "We rank people by their risk of falling using records the council and the health "
        "board already hold, and test the ranking with home visits."),
    "supplier@steadysteps.example": (
        2_400_000,
        "A strength-and-balance exercise programme by video, in Welsh and English, with a "
        "weekly phone call to keep people going.",
        "A physiotherapist, two exercise instructors and a video producer.",
        "Month 1: film the programme. Months 2-3: 50 people follow it. Month 3: report.",
        "People follow short exercise videos at home and an instructor phones them each week."),
}

# How the two assessors marked the feasibility proposals: supplier -> criterion code ->
# ((score by Vijay Viewer, score by the expert), justification, or one for each). They are 2
# apart on Greenfield's "A healthier Wales", which the lead's editor moderates to 3.
FALLS_FEASIBILITY_MARKS = {
    "supplier@bright.example": {
        "healthier": ((3, 3), "Faster help after a fall is shown to reduce harm; fewer falls "
                              "is hoped for rather than shown."),
        "prevention": ((2, 2), "Mostly responds to falls; the hazard check is the only "
                               "preventive part."),
        "userCentredDesign": ((3, 3), "Offers a choice of worn or fixed detector, tested with "
                                      "residents of a sheltered housing scheme."),
        "technicalFeasibility": ((4, 3), "Proven detectors that already work with our telecare "
                                         "platform."),
        "valueForMoney": ((3, 3), "A fair price for 60 homes; the cost at scale is shown."),
        "eligibility": (True, "Meets every eligibility condition."),
        "dataProtectionSecurity": (True, "Alerts carry no health data; data stays in the UK."),
    },
    "supplier@greenfield.example": {
        "healthier": ((4, 2), ("Targets the people most likely to fall, where a visit does the "
                               "most good.",
                               "A risk score alone prevents nothing; the benefit depends on "
                               "the visits, which are only outlined.")),
        "prevention": ((4, 3), "Finds people before their first serious fall: prevention at "
                               "its heart."),
        "userCentredDesign": ((2, 3), "Consent is well thought through, but residents were not "
                                      "involved in the design yet."),
        "technicalFeasibility": ((3, 3), "The data exist; the data sharing agreement is the main "
                                         "risk, and it is planned for."),
        "valueForMoney": ((3, 4), "Uses records we already hold; little new equipment."),
        "eligibility": (True, "Eligible."),
        "dataProtectionSecurity": (True, "A thorough data protection impact assessment is "
                                         "included."),
    },
    "supplier@steadysteps.example": {
        "healthier": ((2, 2), "Exercise reduces falls, but only for the people who keep it up."),
        "prevention": ((3, 2), "Preventive, though it reaches only people already motivated."),
        "userCentredDesign": ((2, 1), "Videos suit few of the people most at risk; no plan for "
                                      "people without a smart television or tablet."),
        "technicalFeasibility": ((2, 2), "Simple to deliver; the weekly calls are not costed."),
        "valueForMoney": ((2, 3), "Cheap, but the benefit for the price is uncertain."),
        "eligibility": (True, "Eligible."),
        "dataProtectionSecurity": (True, "Collects little personal data."),
    },
}

# What the two entrants sent as their demonstration proposals in the bake-off.
FALLS_DEMONSTRATIONS = {
    "supplier@bright.example": (
        6_000_000,
        "410 people in three towns with fall detectors linked to the telecare team, and a "
        "hazard check in every home.",
        "An engineer, three installers and an occupational therapist who speaks Welsh.",
        "Weeks 1-4: fit 410 homes. Weeks 5-16: measure. Week 17: report.",
        "The detectors alerted the telecare team after each fall; see our measured results."),
    "supplier@greenfield.example": (
        6_000_000,
        "390 people found by the risk model, each visited by an occupational therapist who "
        "agreed a plan with them and their family.",
        "Two data scientists, four occupational therapists and an information governance lead.",
        "Weeks 1-3: rank and contact people. Weeks 4-16: visits and follow-up. Week 17: report.",
        "The risk model chose whom to visit first; see our measured results."),
}

# How the two assessors marked the demonstrations: as above, no criterion flagged.
FALLS_DEMONSTRATION_MARKS = {
    "supplier@bright.example": {
        "healthier": ((3, 3), "Help arrived within minutes after most falls; fewer falls than "
                              "before, but not as many fewer as hoped."),
        "userCentredDesign": ((3, 3), "Most people kept their detector on; some found the "
                                      "wrist-worn one uncomfortable at night."),
        "scalabilityReuse": ((3, 2), "Works with our telecare platform; fitting every home "
                                     "county-wide would take a year."),
        "valueForMoney": ((3, 3), "Devices are cheap; installation is most of the cost."),
        "eligibility": (True, "Still eligible."),
        "dataProtectionSecurity": (True, "No concerns found in the demonstration."),
    },
    "supplier@greenfield.example": {
        "healthier": ((3, 4), "Visits led to real changes at home, and fewer falls among the "
                              "people visited."),
        "userCentredDesign": ((3, 3), "People and families agreed their own plans, and most "
                                      "stayed with them."),
        "scalabilityReuse": ((4, 3), "The model runs on records every Welsh council and health "
                                     "board hold; easy to reuse."),
        "valueForMoney": ((3, 3), "Visits are costly, but aimed where they do the most good."),
        "eligibility": (True, "Still eligible."),
        "dataProtectionSecurity": (True, "The data sharing agreement worked as planned."),
    },
}

# The entrants' measured results: supplier -> measure name -> (value, evidence). The editors
# accept each one but Bright's take-up, which they correct (FALLS_CORRECTION).
FALLS_REPORTS = {
    "supplier@bright.example": {
        "Falls needing an ambulance": (
            "8.5", "Over the four months, 14 falls among the 410 people taking part needed an "
                   "ambulance: 8.5 per 1,000 people a month (14 / 410 / 4 x 1,000). Source: "
                   "the ambulance service's call-out records for the trial addresses."),
        "People still taking part after three months": (
            "77.8", "319 of the 410 people who started still had their detector at three "
                    "months (77.8%), from our installation records."),
    },
    "supplier@greenfield.example": {
        "Falls needing an ambulance": (
            "9.6", "15 falls among the 390 people visited needed an ambulance over the four "
                   "months: 9.6 per 1,000 people a month. Source: the ambulance service's "
                   "call-out records, matched by the health board."),
        "People still taking part after three months": (
            "84.9", "331 of the 390 people visited were still following their plan at the "
                    "three-month call (84.9%), from the occupational therapists' notes."),
    },
}
FALLS_CORRECTION = (
    "supplier@bright.example", "People still taking part after three months", "71.2",
    "The telecare logs show 27 of the 319 detectors sent no signal in the last four weeks: "
    "those people had stopped using them. Counting them as no longer taking part, 292 of 410 "
    "is 71.2%.")


def _falls_submit(session: Session, user: User, phase: Any, text: tuple, when: datetime,
                  folder: Path, filename: str) -> None:
    """A supplier starts, fills in, attaches a file to and submits its proposal on ``when``."""
    price, summary, team, timeline, answer = text
    proposal = submissions.start_proposal(session, actor=user, phase_id=phase.id, now=when)
    submissions.update_fields(session, actor=user, proposal_id=proposal.id, now=when,
                              summary=summary, consent_publish_summary=True, team=team,
                              price_pence=price, price_given=True, timeline=timeline,
                              declarations={d: True for d in submissions.DECLARATIONS})
    submissions.save_responses(session, actor=user, proposal_id=proposal.id, now=when,
                               responses={pc.id: answer for pc in phase.criteria})
    submissions.add_attachment(session, actor=user, proposal_id=proposal.id, filename=filename,
                               data=one_page_pdf(summary), now=when, folder=folder)
    submissions.submit_proposal(session, actor=user, proposal_id=proposal.id,
                                clock=lambda: when + timedelta(hours=1))


def _falls_assessors(session: Session, eleri: User, challenge_id: int, phase_id: int,
                     when: datetime) -> tuple[User, User]:
    """Vijay Viewer appointed and accepting, the independent expert invited and accepting."""
    vijay, expert = _user(session, "viewer@council.example"), _user(session, EXPERT[1])
    appointment = assessment.appoint_member(session, actor=eleri, challenge_id=challenge_id,
                                            phase_id=phase_id, user_id=vijay.id, now=when)
    assessment.respond_to_appointment(session, actor=vijay, appointment_id=appointment.id,
                                      accept=True, now=when + timedelta(hours=2))
    _appointment, token = assessment.invite_expert(session, actor=eleri, challenge_id=challenge_id,
                                                   phase_id=phase_id, name=EXPERT[0],
                                                   email=EXPERT[1], now=when)
    assessment.accept_invitation(session, actor=expert, token=token,
                                 now=when + timedelta(hours=4))
    return vijay, expert


def _falls_assess(session: Session, phase: Any, assessors: tuple[User, User],
                  marks_by_supplier: dict, start: datetime) -> None:
    """Both assessors declare no conflict and submit their marks, a day per proposal."""
    criteria = {pc.criterion.code: pc for pc in phase.criteria}
    emails = {_user(session, e).active_membership.organisation_id: e for e in marks_by_supplier}
    for n, proposal in enumerate(assessment.counting_proposals(session, phase.id)):
        email = emails[proposal.organisation_id]
        when = start + n * DAY
        for which, person in enumerate(assessors):
            assessment.declare(session, actor=person, proposal_id=proposal.id, conflicted=False,
                               reason="", now=when)
            marks = {}
            for code, (mark, why) in marks_by_supplier[email].items():
                pc = criteria[code]
                if pc.criterion.kind == "gate":
                    marks[pc.id] = {"passed": mark, "justification": why}
                else:
                    marks[pc.id] = {"score": mark[which],
                                    "justification": why if isinstance(why, str) else why[which]}
            assessment.save_marks(session, actor=person, proposal_id=proposal.id, marks=marks,
                                  submit=True, now=when + timedelta(hours=3 + which))


def _falls_challenge(session: Session, *, eleri: User, hana: User, now: datetime) -> None:
    """The whole story, about 14 months long, through the services with the clock walked
    forward: three proposals assessed, moderated and two shortlisted; the bake-off's entrants
    invited under contract, reporting both measures with evidence; every report verified (one
    corrected); the demonstrations assessed; the award, its contract, the health board's
    approval and the release, 215 days before ``now`` — so the 6-month check-in is due."""
    from flask import current_app

    folder = current_app.config["UPLOAD_DIR"]
    start = (now - 418 * DAY).replace(hour=9, minute=0, second=0, microsecond=0)

    def day(n: int, hour: int = 10) -> datetime:
        return start + n * DAY + timedelta(hours=hour - 9)

    def load(phase_id: int) -> Any:
        return assessment.load_phase(session, challenge_id=c.id, phase_id=phase_id)

    health = _org(session, "Bwrdd Iechyd Enghraifft / Example Health Board")
    suppliers = {email: _user(session, email) for email in FALLS_PROPOSALS}

    # Day 0: written, co-funded by the health board and published.
    then = day(0)
    c = services.create_challenge(session, actor=eleri, title=FALLS, now=then)
    services.update_details(
        session, actor=eleri, challenge_id=c.id, now=then,
        summary="Find older people at risk of falling at home, and get help to them in minutes.",
        problem_statement=FALLS_PROBLEM,
        context="About 14,000 people over 75 live in the county; 3,200 have a telecare alarm.",
        affected="Older people living at home, their families and carers; telecare and "
                 "ambulance crews; the health board's falls clinics.",
        outcomes_sought="Fewer falls needing an ambulance, and help that people keep using.")
    services.update_welsh(session, actor=eleri, challenge_id=c.id, now=then,
                          title_cy="Llai o bobl hŷn yn cwympo gartref",
                          summary_cy="Canfod pobl hŷn sydd mewn perygl o gwympo gartref, a "
                                     "chael help atyn nhw o fewn munudau.")
    services.set_tags(session, actor=eleri, challenge_id=c.id,
                      tags_text="health and care, older people, telecare", now=then)
    feasibility = _phase(session, eleri, c, then, kind="feasibility", opens=1 * DAY,
                         closes=42 * DAY, contracts=2, max_value_pence=4_000_000, months=3,
                         weights={"healthier": 30, "prevention": 20, "userCentredDesign": 20,
                                  "technicalFeasibility": 15, "valueForMoney": 15,
                                  "eligibility": None, "dataProtectionSecurity": None})
    bake_off = _phase(session, eleri, c, then, kind="bake_off", opens=70 * DAY, closes=190 * DAY,
                      contracts=1, max_value_pence=6_000_000, months=4,
                      weights={"healthier": 35, "userCentredDesign": 25, "scalabilityReuse": 20,
                               "valueForMoney": 20, "eligibility": None,
                               "dataProtectionSecurity": None})
    ids = _criteria(session)
    services.save_measure(session, actor=eleri, challenge_id=c.id, phase_id=bake_off,
                          measure_id=None, name="Falls needing an ambulance",
                          unit="per 1,000 people a month", direction="lower",
                          baseline=Decimal("12"), target=Decimal("6"),
                          criterion_id=ids["healthier"], weight=60, now=then)
    services.save_measure(session, actor=eleri, challenge_id=c.id, phase_id=bake_off,
                          measure_id=None, name="People still taking part after three months",
                          unit="% of people who started", direction="higher",
                          baseline=Decimal("40"), target=Decimal("80"),
                          criterion_id=ids["userCentredDesign"], weight=40, now=then)
    services.set_clarification_deadline(session, actor=eleri, challenge_id=c.id,
                                        deadline=then + 21 * DAY, now=then)
    funding.set_lead_pledge(session, actor=eleri, challenge_id=c.id, pledge_pence=30_000_000,
                            now=then)
    funding.invite_partner(session, actor=eleri, challenge_id=c.id, organisation_id=health.id,
                           message="Falls are a third of our emergency admissions of older "
                                   "people.", now=then)
    funding.respond_to_invitation(session, actor=hana, challenge_id=c.id, accept=True,
                                  pledge_pence=15_000_000, now=then + timedelta(hours=5))
    services.publish_challenge(session, actor=eleri, challenge_id=c.id, now=day(1))

    # Days 8-16: three suppliers send proposals; day 42 the deadline passes.
    for n, (email, text) in enumerate(FALLS_PROPOSALS.items()):
        _falls_submit(session, suppliers[email], load(feasibility), text, day(8 + 4 * n),
                      folder, "feasibility-proposal.pdf")
    services.advance_phases(session, now=day(42, hour=12))

    # Days 43-52: two assessors, a day per proposal; the flagged criterion moderated.
    assessors = _falls_assessors(session, eleri, c.id, feasibility, day(43))
    phase = load(feasibility)
    _falls_assess(session, phase, assessors, FALLS_FEASIBILITY_MARKS, day(45))
    board = assessment.ranking(session, phase)
    for proposal_id, flagged in board.flags.items():
        for pc_id in flagged:
            assessment.moderate(session, actor=eleri, proposal_id=proposal_id,
                                phase_criterion_id=pc_id, score="3", passed=None,
                                rationale="Agreed at the moderation meeting: targeting the "
                                          "people most at risk is promising, but the benefit "
                                          "depends on visits still to be designed.",
                                now=day(52))

    # Days 53-56: the shortlist of two, approved by the health board and released.
    board = assessment.ranking(session, phase)
    assessment.record_decision(session, actor=eleri, challenge_id=c.id, phase_id=feasibility,
                               selected_ids=board.selection.default, reason="", now=day(53))
    assessment.approve_decision(session, actor=hana, challenge_id=c.id, phase_id=feasibility,
                                now=day(55))
    assessment.release_decision(session, actor=eleri, challenge_id=c.id, phase_id=feasibility,
                                now=day(56))

    # Day 60: the two entrants invited under contract; the bake-off open until day 190.
    phase = bakeoff.entrants(session, actor=eleri, challenge_id=c.id, phase_id=bake_off)
    starts, ends = day(61).date(), day(190).date()
    bakeoff.invite_entrants(
        session, actor=eleri, challenge_id=c.id, phase_id=bake_off,
        contracts={e.id: (6_000_000, starts, ends) for e in phase.entrants},
        closes_at=day(190, hour=12), now=day(60))
    entrants = {e.organisation_id: e.id for e in phase.entrants}
    measures = {m.name: m.id for m in phase.measures}

    # Days 176-183: each entrant reports both measures with evidence (and a file of ambulance
    # call-outs for the falls), then submits its demonstration proposal; day 190 it closes.
    for n, email in enumerate(FALLS_DEMONSTRATIONS):
        user = suppliers[email]
        entrant_id = entrants[user.active_membership.organisation_id]
        for name, (value, evidence) in FALLS_REPORTS[email].items():
            when = day(176 + n, hour=11 + 2 * list(FALLS_REPORTS[email]).index(name))
            bakeoff.report_measurement(session, actor=user, entrant_id=entrant_id,
                                       measure_id=measures[name], value_text=value,
                                       evidence=evidence, now=when)
            if name == "Falls needing an ambulance":
                bakeoff.add_evidence(session, actor=user, entrant_id=entrant_id,
                                     measure_id=measures[name],
                                     filename="ambulance-call-outs.pdf",
                                     data=one_page_pdf(evidence), now=when, folder=folder)
        _falls_submit(session, user, load(bake_off), FALLS_DEMONSTRATIONS[email],
                      day(182 + n), folder, "demonstration-report.pdf")
    services.advance_phases(session, now=day(190, hour=13))

    # Days 191-196: the editors verify every report (correcting one); two assessors.
    phase = bakeoff.entrants(session, actor=eleri, challenge_id=c.id, phase_id=bake_off)
    who, corrected_measure, corrected_value, reason = FALLS_CORRECTION
    corrected_org = suppliers[who].active_membership.organisation_id
    for entrant in phase.entrants:
        for report in entrant.reports:
            correct = (entrant.organisation_id == corrected_org
                       and report.measure_id == measures[corrected_measure])
            bakeoff.verify_measurement(
                session, actor=eleri, challenge_id=c.id, phase_id=bake_off,
                report_id=report.id, outcome="correct" if correct else "accept",
                value_text=corrected_value if correct else None,
                reason=reason if correct else "", now=day(191))
    assessors = _falls_assessors(session, eleri, c.id, bake_off, day(191, hour=14))
    _falls_assess(session, load(bake_off), assessors, FALLS_DEMONSTRATION_MARKS, day(193))

    # Days 198-203: the award to the entrant with the best final score, its contract, the
    # health board's approval and the release: the challenge is concluded.
    results = bakeoff.results(session, actor=eleri, challenge_id=c.id, phase_id=bake_off,
                              now=day(198))
    best = results.rows[0]
    runner_up = results.rows[1]
    award = (f"{best.entrant.organisation.name} had the best final score ({best.final}, "
             f"against {runner_up.final}). {runner_up.entrant.organisation.name}'s detectors "
             f"did better on the measured outcomes ({runner_up.outcome} against {best.outcome}), "
             f"but {best.entrant.organisation.name}'s demonstration was assessed higher "
             f"({best.assessed} against {runner_up.assessed}), and its way of finding the "
             f"people most at risk can be reused by every council and health board in Wales.")
    assessment.record_decision(session, actor=eleri, challenge_id=c.id, phase_id=bake_off,
                               selected_ids=[best.proposal_id], reason=award, now=day(198))
    contract_starts = day(217).date()
    bakeoff.record_contract(session, actor=eleri, challenge_id=c.id, phase_id=bake_off,
                            proposal_id=best.proposal_id, value_pence=24_000_000,
                            starts_on=contract_starts,
                            ends_on=contract_starts + relativedelta(years=2, days=-1),
                            now=day(199))
    assessment.approve_decision(session, actor=hana, challenge_id=c.id, phase_id=bake_off,
                                now=day(201))
    assessment.release_decision(session, actor=eleri, challenge_id=c.id, phase_id=bake_off,
                                now=day(203))


# --- Published open records: an award, no award, and a challenge cancelled after it opened ---------

RURAL = "Getting to hospital from rural villages"

RURAL_PROBLEM = """People in our rural villages who do not drive miss about one hospital appointment
in eight, because there is no bus at the right time and a taxi costs more than they can pay.

We want to learn how people without a car could get to and from their appointments on time,
whatever the weather, in Welsh or English, without a new service that only works while a grant
lasts."""

# What two suppliers sent to the one phase: (price in pence, summary, team, timeline, answer).
RURAL_PROPOSALS = {
    "supplier@bright.example": (
        2_800_000,
        "An app that matches patients with volunteer drivers from their own village, booked "
        "when the appointment letter arrives.",
        "Two developers and a volunteer coordinator.",
        "Month 1: build the app. Months 2-3: recruit drivers and run it in two villages.",
        "Patients book a volunteer driver in the app when their appointment is made."),
    "supplier@steadysteps.example": (
        2_200_000,
        "A minibus that collects people from several villages on clinic days, with a phone "
        "line to book a seat.",
        "A transport planner, two drivers and a booking assistant who speaks Welsh.",
        "Month 1: plan the routes. Months 2-3: run the minibus on clinic days.",
        "A shared minibus runs on the days the clinics that most villagers attend are held."),
}

# Both assessors mark both proposals below the 60 % threshold, never more than a point apart.
RURAL_MARKS = {
    "supplier@bright.example": {
        "healthier": ((2, 2), "Fewer missed appointments if drivers can be found; nothing shows "
                              "they can be in winter."),
        "userCentredDesign": ((2, 3), "Easy for people with a smartphone; many who need it "
                                      "have none."),
        "technicalFeasibility": ((3, 2), "The app is simple; recruiting drivers is the risk."),
        "valueForMoney": ((2, 2), "Cheap to run, if the volunteers stay."),
        "eligibility": (True, "Meets every eligibility condition."),
        "dataProtectionSecurity": (True, "Appointment details are not shared with drivers."),
    },
    "supplier@steadysteps.example": {
        "healthier": ((2, 1), "Reaches some appointments, but clinics are not held on the same "
                              "days each week."),
        "userCentredDesign": ((2, 2), "A phone line suits older people; the bus takes hours."),
        "technicalFeasibility": ((2, 2), "Workable, but the routes are not yet planned."),
        "valueForMoney": ((1, 2), "A minibus and two drivers cost a lot for few passengers."),
        "eligibility": (True, "Eligible."),
        "dataProtectionSecurity": (True, "Collects only names and phone numbers."),
    },
}

RURAL_NO_AWARD = ("Neither proposal reached the quality threshold of 60 %. Both relied on drivers "
                  "or routes we could not show would be there through the winter, when most "
                  "appointments are missed. We will write a new challenge with the health board.")

ROUTES = "Safer walking routes to school"

ROUTES_PROBLEM = """Fewer than a third of our primary pupils walk or cycle to school, and parents tell
us the reason is the traffic at the school gate and the roads without pavements on the way.

We want to find which routes worry parents most, try changes that make them safer, and see
whether more children walk or cycle as a result."""

# What each published record says it learned, and what another authority can reuse.
RECORDS = {
    FALLS: {
        "worked": "Running two different ideas side by side in the bake-off, with the same "
                  "two measures for both, showed which one older people kept using: the "
                  "visits, not the detectors. Agreeing the data sharing with the health board "
                  "before the challenge opened saved months.",
        "not_worked": "One supplier's take-up figure counted detectors that had been switched "
                      "off; we now check reported results against the telecare logs before "
                      "we accept them. Three months was too short to see fewer falls: the "
                      "next bake-off should run for six.",
        "assets": [
            ("Falls risk model: source code and guide", "https://example.org/falls/risk-model",
             "MIT", "Ranks people by their risk of falling from telecare, social care and "
                    "falls-clinic records; runs on data every council and health board holds."),
            ("Bake-off evaluation report", "https://example.org/falls/evaluation",
             "OGL-UK-3.0", "How both prototypes were measured, the results and the "
                           "corrections, with the measures' definitions."),
        ],
    },
    RURAL: {
        "worked": "Asking people who miss appointments how they travel, before writing the "
                  "challenge, gave us a problem statement suppliers understood.",
        "not_worked": "One phase was too little for an idea that depends on volunteers: both "
                      "proposals needed a trial before anyone could say if it would last the "
                      "winter. We should have invited the health board as a partner from the "
                      "start.",
        "assets": [
            ("Survey of how patients travel to hospital", "https://example.org/rural/survey",
             "OGL-UK-3.0", "Answers from 412 people in 18 villages, anonymised."),
        ],
    },
    ROUTES: {
        "worked": "Walking the routes with parents and pupils before writing the challenge "
                  "found problems no traffic count shows.",
        "not_worked": "We opened the challenge before checking what the Welsh Government's "
                      "active travel fund would pay for; it now pays for the same work, so we "
                      "cancelled it.",
        "assets": [
            ("Map of the routes parents worry about", "https://example.org/routes/map",
             "OGL-UK-3.0", "Every route walked with parents, with what worried them on each."),
        ],
    },
}


def _rural_challenge(session: Session, *, eleri: User, now: datetime) -> None:
    """A one-phase challenge concluded without an award: two proposals, both assessed below
    the quality threshold, and the decision to award nothing released, 21 months ago."""
    from flask import current_app

    folder = current_app.config["UPLOAD_DIR"]
    start = (now - 686 * DAY).replace(hour=9, minute=0, second=0, microsecond=0)

    def day(n: int, hour: int = 10) -> datetime:
        return start + n * DAY + timedelta(hours=hour - 9)

    then = day(0)
    c = services.create_challenge(session, actor=eleri, title=RURAL, now=then)
    services.update_details(
        session, actor=eleri, challenge_id=c.id, now=then,
        summary="Help people without a car get to their hospital appointments from rural "
                "villages, on time.",
        problem_statement=RURAL_PROBLEM,
        context="About 6,000 people over 70 live in villages with fewer than two buses a day.",
        affected="People without a car in rural villages, their families and carers; the "
                 "health board's outpatient clinics.",
        outcomes_sought="Fewer missed appointments, at a cost per journey we can keep paying.")
    services.update_welsh(session, actor=eleri, challenge_id=c.id, now=then,
                          title_cy="Cyrraedd yr ysbyty o bentrefi gwledig",
                          summary_cy="Helpu pobl heb gar i gyrraedd eu hapwyntiadau ysbyty o "
                                     "bentrefi gwledig, mewn pryd.")
    services.set_tags(session, actor=eleri, challenge_id=c.id,
                      tags_text="transport, rural, health and care", now=then)
    phase_id = _phase(session, eleri, c, then, kind="feasibility", opens=1 * DAY,
                      closes=40 * DAY, contracts=2, max_value_pence=3_000_000, months=3,
                      weights={"healthier": 30, "userCentredDesign": 25,
                               "technicalFeasibility": 25, "valueForMoney": 20,
                               "eligibility": None, "dataProtectionSecurity": None})
    services.set_clarification_deadline(session, actor=eleri, challenge_id=c.id,
                                        deadline=then + 20 * DAY, now=then)
    funding.set_lead_pledge(session, actor=eleri, challenge_id=c.id, pledge_pence=6_000_000,
                            now=then)
    services.publish_challenge(session, actor=eleri, challenge_id=c.id, now=day(1))

    def load() -> Any:
        return assessment.load_phase(session, challenge_id=c.id, phase_id=phase_id)

    for n, (email, text) in enumerate(RURAL_PROPOSALS.items()):
        _falls_submit(session, _user(session, email), load(), text, day(10 + 4 * n), folder,
                      "proposal.pdf")
    services.advance_phases(session, now=day(40, hour=12))
    assessors = _falls_assessors(session, eleri, c.id, phase_id, day(41))
    _falls_assess(session, load(), assessors, RURAL_MARKS, day(42))
    assessment.record_decision(session, actor=eleri, challenge_id=c.id, phase_id=phase_id,
                               selected_ids=[], reason=RURAL_NO_AWARD, now=day(46))
    assessment.release_decision(session, actor=eleri, challenge_id=c.id, phase_id=phase_id,
                                now=day(47))


def _routes_challenge(session: Session, *, eleri: User, gwen: User, now: datetime) -> None:
    """A challenge opened to suppliers, asked about, then cancelled with a public reason
    before its deadline, about half a year ago."""
    then = (now - 200 * DAY).replace(hour=9, minute=0, second=0, microsecond=0)
    c = services.create_challenge(session, actor=eleri, title=ROUTES, now=then)
    services.update_details(
        session, actor=eleri, challenge_id=c.id, now=then,
        summary="Make the walk to school safer, so that more children walk or cycle.",
        problem_statement=ROUTES_PROBLEM,
        context="62 primary schools; 40 of them on roads with no pavement for part of the way.",
        affected="Pupils and their parents; people living near the schools.",
        outcomes_sought="More pupils walking or cycling to school, and fewer near misses "
                        "reported at the gate.")
    services.update_welsh(session, actor=eleri, challenge_id=c.id, now=then,
                          title_cy="Llwybrau cerdded mwy diogel i'r ysgol",
                          summary_cy="Gwneud y daith i'r ysgol yn fwy diogel, fel bod mwy o "
                                     "blant yn cerdded neu'n beicio.")
    services.set_tags(session, actor=eleri, challenge_id=c.id,
                      tags_text="transport, schools, active travel", now=then)
    _phase(session, eleri, c, then, kind="feasibility", opens=2 * DAY, closes=50 * DAY,
           contracts=3, max_value_pence=2_500_000, months=3,
           weights={"cohesiveCommunities": 30, "healthier": 20, "involvement": 20,
                    "technicalFeasibility": 15, "valueForMoney": 15, "eligibility": None})
    services.set_clarification_deadline(session, actor=eleri, challenge_id=c.id,
                                        deadline=then + 30 * DAY, now=then)
    funding.set_lead_pledge(session, actor=eleri, challenge_id=c.id, pledge_pence=7_500_000,
                            now=then)
    services.publish_challenge(session, actor=eleri, challenge_id=c.id, now=then)
    q = clarifications.ask_question(session, actor=gwen, challenge_id=c.id,
                                    now=then + 5 * DAY,
                                    question="Can we use the council's pupil travel survey?")
    clarifications.answer_question(
        session, actor=eleri, clarification_id=q.id, now=then + 6 * DAY, question=q.question,
        answer="Yes: the 2025 survey is on our open data page, by school.")
    services.cancel_challenge(
        session, actor=eleri, challenge_id=c.id, now=then + 24 * DAY,
        reason="The Welsh Government's active travel fund now pays for safer routes to every "
               "school in the county, and our road safety team will do the work with the "
               "schools, so we no longer need to buy it.")


def _record_time(challenge: Challenge, now: datetime) -> datetime:
    """A month after the challenge ended (its award released, or its cancellation), or now."""
    ended = challenge.cancelled_at or challenge.concluded_at or now
    return min(now, ended + 30 * DAY)


def publish_demo_records(session: Session, *, eleri: User, now: datetime) -> list[str]:
    """Write the lessons and assets of each ended demo challenge, ask for its record to be
    published and run the publication job inline, so the open record is there at once rather
    than when a worker gets to it. Safe to run again: a published record is left alone, and a
    record left half-way (lessons saved, publication queued) is finished."""
    published = []
    for title, story in RECORDS.items():
        challenge = session.execute(select(Challenge).where(Challenge.title == title)
                                    ).scalar_one_or_none()
        if challenge is None:
            continue
        record = challenge.record
        status = record.status if record is not None else None
        if status == RecordStatus.PUBLISHED:
            continue
        when = _record_time(challenge, now)
        if status != RecordStatus.QUEUED:
            if not editable(status, challenge.status, challenge.opened_at is not None):
                continue
            if record is None or not (record.lessons_worked and record.lessons_not_worked):
                records.save_lessons(session, actor=eleri, challenge_id=challenge.id,
                                     worked=story["worked"], not_worked=story["not_worked"],
                                     now=when)
            listed = {a.url for a in challenge.record.assets}
            for asset_title, url, licence, description in story["assets"]:
                if url not in listed:
                    records.add_asset(session, actor=eleri, challenge_id=challenge.id,
                                      title=asset_title, url=url, licence=licence,
                                      description=description, now=when)
            record = records.request_publication(session, actor=eleri,
                                                 challenge_id=challenge.id, now=when)
        # The job, run here: the record may already be published by an in-process worker.
        records.publish_record(session, record.id, now=when)
        published.append(title)
    return published


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
