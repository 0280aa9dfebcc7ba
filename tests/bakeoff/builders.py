"""Builders for bake-off tests: a two-phase challenge (feasibility, then a bake-off with two
outcome measures) brought, through the real services, to a released shortlist — and the steps
people take after it: inviting the entrants, reporting, demonstrating, closing, assessing,
verifying and awarding.

Every step is a service call as a person would make it; ``now`` is always passed in, so a world
is the same on every run. The default world:

- phase 1 (feasibility) opens an hour before ``now`` and closes 30 days after it; two contracts;
- phase 2 (bake-off) takes one contract of up to £25,000, outcome share 50 %, and two measures:
  "Homes fixed" (higher is better, 10 → 50, weight 60, evidences the first scored criterion)
  and "Cost per home" (lower is better, 1000 → 600, weight 40, the second scored criterion);
- ``suppliers`` suppliers submit in phase 1; two assessors give supplier 0 [4, 4] (100.00),
  supplier 1 [4, 3] (90.00) and the others [1, 1] (25.00) — the shortlist is suppliers 0 and 1
  (or, with ``shortlist=n``, the first n, the others of them scoring [3, 3]);
- the shortlist is recorded and (after the partner approves, if there is one) released a day
  after phase 1 closed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from procure.assessment import services as assessment
from procure.bakeoff import services as bakeoff
from procure.bakeoff.models import BakeOffEntrant, MeasurementReport
from procure.challenges import funding
from procure.challenges import services as challenges
from procure.submissions import services as submissions
from procure.submissions.models import Proposal
from tests.assessment import builders as ab
from tests.challenges import service_builders as sb
from tests.submissions import builders as pb

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
BAKE_OFF_MAX = 2_500_000           # £25,000: the bake-off phase's maximum contract value
CONTRACT = (2_000_000, date(2027, 1, 4), date(2027, 3, 31))   # a valid bake-off contract
AWARD_CONTRACT = (4_000_000, date(2027, 6, 1), date(2028, 5, 31))
PHASE_1_SCORES = ([4, 4], [4, 3])  # suppliers 0 and 1; the others get [1, 1]


@dataclass
class World:
    challenge: object
    phase1: object                  # feasibility
    phase2: object                  # the bake-off (invitation only)
    lead: object                    # an editor of the lead authority
    framework: object
    measures: list = field(default_factory=list)      # [higher is better, lower is better]
    suppliers: list = field(default_factory=list)     # every phase-1 supplier (editors)
    proposals: list = field(default_factory=list)     # their phase-1 proposals, same order
    shortlisted: list = field(default_factory=list)   # the suppliers shortlisted (0 and 1)
    entrants: list = field(default_factory=list)      # their BakeOffEntrant rows, same order
    assessors: list = field(default_factory=list)     # phase-1 assessors (lead viewers)
    partner: object | None = None   # an editor of an accepted co-funder
    # Times
    published_at: datetime | None = None
    phase1_closes: datetime | None = None
    decided_at: datetime | None = None        # the shortlist recorded and released
    invited_at: datetime | None = None        # set by invite()
    closes_at: datetime | None = None         # the bake-off's deadline, set by invite()
    after: datetime | None = None             # a moment after the bake-off closed
    demonstrations: dict = field(default_factory=dict)  # supplier id -> phase-2 proposal
    bake_off_assessors: list = field(default_factory=list)
    decision: object | None = None            # the bake-off's decision, set by award()

    @property
    def higher(self):
        return self.measures[0]

    @property
    def lower(self):
        return self.measures[1]

    @property
    def outsider(self):
        """A supplier of phase 1 who was not shortlisted (needs ``suppliers`` >= 3)."""
        return next(s for s in self.suppliers if s not in self.shortlisted)

    def ids(self, phase=None) -> dict:
        return {"challenge_id": self.challenge.id, "phase_id": (phase or self.phase2).id}

    def supplier_of(self, entrant):
        """The supplier editor whose organisation holds ``entrant`` (an entrant or its id)."""
        org_id = entrant.organisation_id if not isinstance(entrant, int) else next(
            e.organisation_id for e in self.entrants if e.id == entrant)
        return next(s for s in self.suppliers if s.membership.organisation_id == org_id)

    def entrant_of(self, supplier) -> BakeOffEntrant:
        return next(e for e in self.entrants
                    if e.organisation_id == supplier.membership.organisation_id)

    def as_assessment_world(self, phase=None) -> ab.World:
        """The same challenge as the assessment builders see it, for one phase."""
        phase = phase or self.phase2
        bake_off = phase.id == self.phase2.id
        return ab.World(challenge=self.challenge, phase=phase, lead=self.lead,
                        suppliers=list(self.shortlisted if bake_off else self.suppliers),
                        proposals=list(self.demonstrations.values() if bake_off
                                       else self.proposals),
                        partner=self.partner,
                        after=self.after if bake_off else self.decided_at)


# --- the world up to the released shortlist ---------------------------------------------------

def bake_off_world(db, now: datetime, *, suppliers: int = 3, partner: bool = False,
                   code: str = "solution-quality", outcome_share: int = 50,
                   shortlist: int = 2, decided: bool = True) -> World:
    """A two-phase challenge whose feasibility phase is decided: the ``shortlist`` best
    suppliers (default two) are shortlisted into the bake-off (their entrants recorded, not
    yet invited). Shortlisted suppliers after the first two score [3, 3] (75.00) in phase 1.

    ``code`` names the value framework: give each world of one test its own."""
    assert 2 <= shortlist <= suppliers, "the shortlist takes at least two of the suppliers"
    fw = sb.framework(db, now, code=code)
    lead = sb.editor()
    drafted = now - 2 * HOUR
    phase1_opens, phase1_closes = now - HOUR, now + 30 * DAY
    challenge = sb.new_draft(db, drafted, lead, title="Warmer homes, tested")
    cid = challenge.id
    challenges.update_details(db, actor=lead, challenge_id=cid, now=drafted,
                              summary="Find and fix the coldest homes first.",
                              problem_statement=sb.PROBLEM, context="Valleys housing stock.",
                              affected="Tenants on low incomes.",
                              outcomes_sought="Fewer cold homes; lower bills.")
    challenges.set_tags(db, actor=lead, challenge_id=cid, tags_text="housing, energy",
                        now=drafted)
    funding.set_lead_pledge(db, actor=lead, challenge_id=cid,
                            pledge_pence=max(5_000_000, shortlist * 2_500_000), now=drafted)
    weights = sb.default_weights(fw)
    first, second = sb.crit(fw, sb.SCORED[0]), sb.crit(fw, sb.SCORED[1])

    phase1 = challenges.add_phase(db, actor=lead, challenge_id=cid, kind="feasibility",
                                  now=drafted)
    challenges.update_phase(db, actor=lead, challenge_id=cid, phase_id=phase1.id, now=drafted,
                            **sb.phase_values(drafted, opens_at=phase1_opens,
                                              closes_at=phase1_closes, contracts=shortlist))
    challenges.set_phase_criteria(db, actor=lead, challenge_id=cid, phase_id=phase1.id,
                                  weights=weights, now=drafted)

    phase2 = challenges.add_phase(db, actor=lead, challenge_id=cid, kind="bake_off", now=drafted)
    challenges.update_phase(db, actor=lead, challenge_id=cid, phase_id=phase2.id, now=drafted,
                            **sb.phase_values(drafted, kind="bake_off",
                                              opens_at=phase1_closes + 10 * DAY,
                                              closes_at=phase1_closes + 40 * DAY, contracts=1,
                                              max_value_pence=BAKE_OFF_MAX,
                                              outcome_share_percent=outcome_share))
    challenges.set_phase_criteria(db, actor=lead, challenge_id=cid, phase_id=phase2.id,
                                  weights=weights, now=drafted)
    higher = challenges.save_measure(
        db, actor=lead, challenge_id=cid, phase_id=phase2.id, measure_id=None,
        name="Homes fixed", unit="homes", direction="higher", baseline=Decimal("10"),
        target=Decimal("50"), criterion_id=first.id, weight=60, now=drafted)
    lower = challenges.save_measure(
        db, actor=lead, challenge_id=cid, phase_id=phase2.id, measure_id=None,
        name="Cost per home", unit="pounds", direction="lower", baseline=Decimal("1000"),
        target=Decimal("600"), criterion_id=second.id, weight=40, now=drafted)
    challenges.set_clarification_deadline(db, actor=lead, challenge_id=cid,
                                          deadline=now + 15 * DAY, now=drafted)

    partner_editor = None
    if partner:
        partner_editor = sb.editor()
        funding.invite_partner(db, actor=lead, challenge_id=cid,
                               organisation_id=partner_editor.membership.organisation_id,
                               message="Join us", now=drafted)
        funding.respond_to_invitation(db, actor=partner_editor, challenge_id=cid, accept=True,
                                      pledge_pence=1_000_000, now=drafted)

    challenges.publish_challenge(db, actor=lead, challenge_id=cid, now=drafted)
    world = World(challenge=challenge, phase1=phase1, phase2=phase2, lead=lead, framework=fw,
                  measures=[higher, lower], partner=partner_editor, published_at=drafted,
                  phase1_closes=phase1_closes, decided_at=phase1_closes + DAY)

    # Phase 1: every supplier submits; the phase closes by the clock.
    for n in range(suppliers):
        supplier = sb.supplier()
        proposal, _ = pb.submitted(db, now, phase1, supplier, marker=f"M{n}")
        world.suppliers.append(supplier)
        world.proposals.append(proposal)
    challenges.advance_phases(db, now=phase1_closes)

    # Two assessors (lead viewers) agree on every proposal: no flags, nothing to moderate.
    view = world.as_assessment_world(phase1)
    view.phase = assessment.load_phase(db, challenge_id=cid, phase_id=phase1.id)
    world.assessors = [ab.assessor(db, view)[0] for _ in range(2)]
    for n, proposal in enumerate(world.proposals):
        scores = PHASE_1_SCORES[n] if n < len(PHASE_1_SCORES) else [3, 3] if n < shortlist \
            else [1, 1]
        for person in world.assessors:
            ab.assess(db, view, person, proposal, list(scores))

    if not decided:  # phase 1 assessed, its decision still to make
        return world
    decide(db, world, world.phase1, [p.id for p in world.proposals[:shortlist]],
           reason="The strongest proposals", at=world.decided_at)
    world.shortlisted = world.suppliers[:shortlist]
    world.entrants = load_entrants(db, world)
    refresh(db, world)
    return world


def decide(db, world: World, phase, selected: list[int], *, reason: str, at: datetime,
           release: bool = True):
    """Record a decision, have the partner approve it (if any) and release it."""
    ids = world.ids(phase)
    decision = assessment.record_decision(db, actor=world.lead, selected_ids=selected,
                                          reason=reason, now=at, **ids)
    if release:
        if world.partner is not None:
            assessment.approve_decision(db, actor=world.partner, now=at, **ids)
        decision = assessment.release_decision(db, actor=world.lead, now=at, **ids)
    return decision


def load_entrants(db, world: World) -> list[BakeOffEntrant]:
    """The bake-off's entrants, in the order of the shortlisted suppliers."""
    from sqlalchemy import select

    rows = list(db.execute(select(BakeOffEntrant).where(
        BakeOffEntrant.phase_id == world.phase2.id).order_by(BakeOffEntrant.id)).scalars())
    orgs = [s.membership.organisation_id for s in world.shortlisted]
    return sorted(rows, key=lambda e: orgs.index(e.organisation_id)
                  if e.organisation_id in orgs else len(orgs))


def refresh(db, world: World) -> World:
    """Reload the challenge, phases, measures and entrants as stored."""
    db.expire_all()
    world.challenge = challenges.load_challenge(db, world.challenge.id)
    world.phase1 = assessment.load_phase(db, challenge_id=world.challenge.id,
                                         phase_id=world.phase1.id)
    world.phase2 = assessment.load_phase(db, challenge_id=world.challenge.id,
                                         phase_id=world.phase2.id)
    world.measures = list(world.phase2.measures)
    if world.entrants:
        world.entrants = load_entrants(db, world)
    return world


# --- the bake-off -------------------------------------------------------------------------------

def contracts_for(world: World, contract=CONTRACT) -> dict:
    return {e.id: contract for e in world.entrants}


def invite(db, world: World, now: datetime | None = None, *, contracts: dict | None = None,
           closes_at: datetime | None = None):
    """The lead invites every entrant, each under a valid contract; the bake-off opens at
    ``now`` (default: a day after the shortlist) and closes 30 days later."""
    now = now or world.decided_at + DAY
    closes_at = closes_at or now + 30 * DAY
    phase = bakeoff.invite_entrants(db, actor=world.lead, contracts=contracts or contracts_for(world),
                                    closes_at=closes_at, now=now, **world.ids())
    world.invited_at, world.closes_at, world.after = now, closes_at, closes_at + DAY
    refresh(db, world)
    return phase


def during(world: World) -> datetime:
    """A moment while the bake-off is open."""
    return world.invited_at + DAY


def report(db, world: World, entrant, measure, value: str, evidence: str = "Counted on site",
           *, now: datetime | None = None, actor=None) -> MeasurementReport:
    """The entrant's supplier reports ``value`` for ``measure`` while the bake-off is open."""
    return bakeoff.report_measurement(
        db, actor=actor or world.supplier_of(entrant), entrant_id=entrant.id,
        measure_id=measure.id, value_text=value, evidence=evidence,
        now=now or during(world))


def demonstrate(db, world: World, supplier, *, now: datetime | None = None,
                price_pence: int = 1_000_000) -> Proposal:
    """The supplier starts, fills and submits its phase-2 (demonstration) proposal."""
    now = now or during(world)
    proposal = submissions.start_proposal(db, actor=supplier, phase_id=world.phase2.id, now=now)
    proposal = pb.complete(db, now, proposal, supplier, price_pence=price_pence,
                           marker=f"demo {supplier.id}")
    submissions.submit_proposal(db, actor=supplier, proposal_id=proposal.id, clock=lambda: now)
    world.demonstrations[supplier.id] = proposal
    return proposal


def close_bake_off(db, world: World, *, now: datetime | None = None):
    """The scheduled job closes the bake-off at its deadline."""
    challenges.advance_phases(db, now=now or world.closes_at)
    refresh(db, world)
    return world.phase2


def assess_bake_off(db, world: World, scores: dict | None = None, *, assessors: int = 2):
    """Two (new) assessors give every demonstration the same marks: ``scores`` maps a supplier
    (or its id) to its [first, second] scores (default: [3, 2] for the first entrant, 65.00;
    [2, 4] for the second, 70.00; [2, 2] for any other, 50.00)."""
    defaults = {world.shortlisted[0].id: [3, 2]}
    if len(world.shortlisted) > 1:
        defaults[world.shortlisted[1].id] = [2, 4]
    chosen = {(k if isinstance(k, int) else k.id): v for k, v in (scores or {}).items()}
    view = world.as_assessment_world()
    view.phase = assessment.load_phase(db, challenge_id=world.challenge.id,
                                       phase_id=world.phase2.id)
    people = [ab.assessor(db, view)[0] for _ in range(assessors)]
    world.bake_off_assessors.extend(people)
    for supplier_id, proposal in world.demonstrations.items():
        marks = chosen.get(supplier_id, defaults.get(supplier_id, [2, 2]))
        for person in people:
            ab.assess(db, view, person, proposal, list(marks))
    refresh(db, world)
    return people


def verify(db, world: World, report_: MeasurementReport, outcome: str = "accept",
           value: str | None = None, reason: str = "", *, now: datetime | None = None,
           actor=None) -> MeasurementReport:
    """The lead's editor accepts (or corrects) a report after the bake-off closed."""
    return bakeoff.verify_measurement(db, actor=actor or world.lead, report_id=report_.id,
                                      outcome=outcome, value_text=value, reason=reason,
                                      now=now or world.after, **world.ids())


def results(db, world: World, *, actor=None, now: datetime | None = None):
    db.expire_all()
    return bakeoff.results(db, actor=actor or world.lead, now=now or world.after, **world.ids())


def record_contract(db, world: World, proposal_id: int, contract=AWARD_CONTRACT, *,
                    now: datetime | None = None, actor=None):
    value, starts_on, ends_on = contract
    return bakeoff.record_contract(db, actor=actor or world.lead, proposal_id=proposal_id,
                                   value_pence=value, starts_on=starts_on, ends_on=ends_on,
                                   now=now or world.after, **world.ids())


def award(db, world: World, selected: list[int] | None = None, *,
          reason: str = "The best results in the bake-off", contracts: bool = True,
          release: bool = True, now: datetime | None = None):
    """Record the award (default: the first demonstration), a contract for each supplier
    selected, the partner's approval (if any), and release it."""
    at = now or world.after
    if selected is None:
        selected = [next(iter(world.demonstrations.values())).id]
    ids = world.ids()
    decision = assessment.record_decision(db, actor=world.lead, selected_ids=selected,
                                          reason=reason, now=at, **ids)
    if contracts:
        for proposal_id in selected:
            record_contract(db, world, proposal_id, now=at)
    if release:
        if world.partner is not None:
            assessment.approve_decision(db, actor=world.partner, now=at, **ids)
        decision = assessment.release_decision(db, actor=world.lead, now=at, **ids)
    world.decision = decision
    refresh(db, world)
    return decision


def full_bake_off(db, world: World, values: dict | None = None):
    """Invite, have every entrant demonstrate and report both measures, close, assess and
    accept every report. ``values`` maps a supplier to its (higher, lower) values (default:
    ("30", "800") and ("50", "500"))."""
    invite(db, world)
    defaults = {world.shortlisted[0].id: ("30", "800")}
    if len(world.shortlisted) > 1:
        defaults[world.shortlisted[1].id] = ("50", "500")
    chosen = {(k if isinstance(k, int) else k.id): v for k, v in (values or {}).items()}
    reports = []
    for supplier in world.shortlisted:
        demonstrate(db, world, supplier)
        high, low = chosen.get(supplier.id, defaults.get(supplier.id, ("20", "900")))
        entrant = world.entrant_of(supplier)
        reports.append(report(db, world, entrant, world.higher, high))
        reports.append(report(db, world, entrant, world.lower, low))
    close_bake_off(db, world)
    assess_bake_off(db, world)
    for r in reports:
        verify(db, world, r)
    refresh(db, world)
    return reports



# --- for tests written while the bake-off pages were being written ------------------------------

import pytest  # noqa: E402


@pytest.fixture
def bake_off_links(app, monkeypatch):
    """E-mail links to bake-off pages that are not registered resolve to a placeholder, and
    e-mail templates not written render as a placeholder; whatever exists is used for real
    (so, with every page and template in place, this changes nothing)."""
    from jinja2 import TemplateNotFound

    from procure.bakeoff import services as module
    from procure.notifications import services as notifications
    from procure.notifications.services import external_url

    def link(endpoint, **values):
        if endpoint in app.view_functions:
            return external_url(endpoint, **values)
        return f"http://procure.test/unbuilt/{endpoint}"

    render = notifications.render_email

    def rendered(template, locale, context):
        try:
            return render(template, locale, context)
        except TemplateNotFound:
            return f"[unwritten] {template}", f"{template}: {sorted(context)}"

    monkeypatch.setattr(module, "external_url", link)
    monkeypatch.setattr(notifications, "render_email", rendered)
