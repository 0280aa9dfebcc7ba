"""Builders for assessment tests: a closed phase with submitted proposals, assessors appointed
and accepted, and marks given — all through the services, as people would."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from procure.assessment import services
from procure.challenges import funding
from procure.challenges import services as challenge_services
from tests.challenges import service_builders as sb
from tests.submissions import builders as pb

DAY = timedelta(days=1)


@dataclass
class World:
    challenge: object
    phase: object
    lead: object                     # an editor of the lead authority
    proposals: list = field(default_factory=list)
    suppliers: list = field(default_factory=list)
    partner: object | None = None    # an editor of an accepted co-funder
    after: datetime | None = None    # a moment after the deadline


def closed_phase(db, now: datetime, *, suppliers: int = 3, partner: bool = False,
                 min_assessments: int = 2) -> World:
    """An open challenge whose phase took ``suppliers`` proposals and has now closed."""
    challenge, phase, lead = pb.open_phase(db, now)
    world = World(challenge=challenge, phase=phase, lead=lead)
    if partner:
        world.partner = sb.editor()
        funding.invite_partner(db, actor=lead, challenge_id=challenge.id,
                               organisation_id=world.partner.membership.organisation_id,
                               message="Join us", now=now)
        funding.respond_to_invitation(db, actor=world.partner, challenge_id=challenge.id,
                                      accept=True, pledge_pence=1_000_000, now=now)
    if min_assessments != 2:
        from procure.challenges.models import Phase
        db.get(Phase, phase.id).min_assessments = min_assessments
        db.commit()
    for n in range(suppliers):
        supplier = sb.supplier()
        proposal, _ = pb.submitted(db, now, phase, supplier, marker=f"M{n}")
        world.suppliers.append(supplier)
        world.proposals.append(proposal)
    challenge_services.advance_phases(db, now=phase.closes_at)
    world.after = phase.closes_at + DAY
    world.phase = services.load_phase(db, challenge_id=challenge.id, phase_id=phase.id)
    return world


def assessor(db, world: World, *, now: datetime | None = None, accept: bool = True):
    """A viewer of the lead authority appointed (and, by default, accepted) as an assessor."""
    now = now or world.after
    person = sb.viewer(world.lead.membership.organisation)
    appointment = services.appoint_member(db, actor=world.lead, challenge_id=world.challenge.id,
                                          phase_id=world.phase.id, user_id=person.id, now=now)
    if accept:
        services.respond_to_appointment(db, actor=person, appointment_id=appointment.id,
                                        accept=True, now=now)
    return person, appointment


def criteria(db, world: World):
    """The phase's criteria: (scored ones, gates)."""
    phase = services.load_phase(db, challenge_id=world.challenge.id, phase_id=world.phase.id)
    scored = [pc for pc in phase.criteria if pc.criterion.kind == "scored"]
    gates = [pc for pc in phase.criteria if pc.criterion.kind == "gate"]
    return scored, gates


def marks(db, world: World, scores: list[int], *, gate: bool = True, text: str = "Because"):
    """Marks for every criterion: ``scores`` in the order of the scored criteria."""
    scored, gates = criteria(db, world)
    out = {pc.id: {"score": s, "justification": f"{text} {s}"} for pc, s in zip(scored, scores, strict=True)}
    out.update({pc.id: {"passed": gate, "justification": f"{text} gate"} for pc in gates})
    return out


def assess(db, world: World, person, proposal, scores: list[int], *, gate: bool = True,
           submit: bool = True, now: datetime | None = None):
    """Declare no conflict (if not yet) and give these marks."""
    from procure.permissions import Permission, can

    now = now or world.after
    loaded = services.load_proposal(db, proposal.id)
    if can(person, Permission.ASSESSMENT_DECLARE, loaded, now=now):
        services.declare(db, actor=person, proposal_id=proposal.id, conflicted=False, reason="",
                         now=now)
    return services.save_marks(db, actor=person, proposal_id=proposal.id,
                               marks=marks(db, world, scores, gate=gate), submit=submit, now=now)


def award(db, world: World, selected: list[int], *, reason: str = "The best value for the council",
          now: datetime | None = None):
    """Record an award decision with its rationale, and a contract for each supplier selected
    (partners approve an award once its contracts are recorded)."""
    from datetime import date

    from procure.bakeoff import services as bakeoff

    at = now or world.after
    decision = services.record_decision(db, actor=world.lead, challenge_id=world.challenge.id,
                                        phase_id=world.phase.id, selected_ids=selected,
                                        reason=reason, now=at)
    for proposal_id in selected:
        bakeoff.record_contract(db, actor=world.lead, challenge_id=world.challenge.id,
                                phase_id=world.phase.id, proposal_id=proposal_id,
                                value_pence=2_000_000, starts_on=date(2027, 1, 4),
                                ends_on=date(2027, 6, 30), now=at)
    return decision
