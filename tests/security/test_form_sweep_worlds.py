"""The hostile-input sweep over worlds the demo does not hold: a draft with phases, criteria and
measures ready to publish; a challenge whose phase is assessed and awaits its decision; a
decision awaiting a partner's approval; a bake-off under way; a concluded challenge whose record
is still a draft; and the requests people wait on (memberships, funding invitations and join
requests, assessor appointments, a disabled account, a draft framework version).

Each world is built through the real services (the feature tests' builders), the clock is set
to its moment, and each person in it crawls every page they can reach exactly as the demo sweep
does (tests/security/web.py). Every form found for a route the demo cannot offer is posted with
the same hostile values and the same checks: never a 5xx, a 400 always shows the GOV.UK error
summary, and afterwards no page the person reaches carries an injected script."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pyotp
import pytest
from flask import current_app

from tests.conftest import sign_in
from tests.security import test_form_sweep as sweep
from tests.security import web

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
EXAMPLES = 3  # per form: these routes are many, the demo sweep's values are the same


def _folder() -> Path:
    return Path(current_app.config["UPLOAD_DIR"])


def _draft_world(db, now):
    """A draft ready to publish (a feasibility phase and a bake-off with a measure), a partner
    invited and not yet answered, someone asking to join the lead's authority, an open
    challenge with a supplier's complete draft (with a file) and another's submitted proposal,
    a follower of a tag, a supplier with two-step sign-in on, a disabled account, and a draft
    version of a framework."""
    from procure.accounts import services as accounts
    from procure.challenges import funding
    from procure.submissions import services as submissions
    from procure.values import services as values
    from tests.challenges import service_builders as sb
    from tests.submissions import builders as pb

    fw = sb.framework(db, now)
    lead = sb.editor()
    draft = sb.complete_draft(db, now, lead, fw, bake_off=True)
    invited = sb.editor()
    funding.invite_partner(db, actor=lead, challenge_id=draft.id,
                           organisation_id=invited.membership.organisation_id,
                           message="Join us", now=now)
    newcomer = sb.no_org_user()
    accounts.request_membership(db, actor=newcomer, organisation_id=lead.membership.organisation_id,
                                now=now)
    open_lead = sb.editor()
    challenge = sb.open_challenge(db, now - 2 * HOUR, open_lead, fw, title="Warmer homes, open",
                                  opens_at=now - HOUR, closes_at=now + 30 * DAY)
    phase = challenge.phases[0]
    drafting = sb.supplier()
    proposal = pb.complete(db, now, pb.started(db, now, phase, drafting), drafting)
    submissions.add_attachment(db, actor=drafting, proposal_id=proposal.id, filename="plan.pdf",
                               data=pb.PDF, now=now, folder=_folder())
    submitted = sb.supplier()
    pb.submitted(db, now, phase, submitted)
    joiner = sb.editor()  # another authority, who may ask to co-fund the open challenge
    requester = sb.editor()  # and one who has asked, awaiting the lead's answer
    partner = sb.editor()  # a co-funder of the open challenge, who may change its pledge
    funding.invite_partner(db, actor=open_lead, challenge_id=challenge.id,
                           organisation_id=partner.membership.organisation_id, message="", now=now)
    funding.respond_to_invitation(db, actor=partner, challenge_id=challenge.id, accept=True,
                                  pledge_pence=1_000_000, now=now)
    funding.request_to_join(db, actor=requester, challenge_id=challenge.id, pledge_pence=1_000_000,
                            message="We can help", now=now)
    follower = sb.follower(db, now, "housing, energy")
    two_step = sb.supplier(totp_secret=pyotp.random_base32(), mfa_enabled_at=now)  # may turn it off
    admin = sb.no_org_user(is_admin=True)
    disabled = sb.supplier()
    accounts.set_disabled(db, actor=admin, user_id=disabled.id, disabled=True, now=now)
    values.create_next_version(db, actor=admin, code=fw.code, now=now)
    db.commit()
    return now, {"lead": lead, "invited partner": invited, "drafting supplier": drafting,
                 "submitted supplier": submitted, "other authority": joiner,
                 "open lead": open_lead, "open partner": partner,
                 "follower": follower, "two-step supplier": two_step, "admin": admin}


def _assessed_world(db, now):
    """Phase 1 of a co-funded challenge assessed, its decision still to make, and an assessor
    appointed who has not answered."""
    from procure.assessment import services as assessment
    from tests.bakeoff import builders as bb
    from tests.challenges import service_builders as sb

    world = bb.bake_off_world(db, now, partner=True, decided=False)
    at = world.phase1_closes + HOUR
    pending = sb.viewer(world.lead.membership.organisation)
    assessment.appoint_member(db, actor=world.lead, challenge_id=world.challenge.id,
                              phase_id=world.phase1.id, user_id=pending.id, now=at)
    db.commit()
    return at, {"lead": world.lead, "partner": world.partner, "pending assessor": pending,
                "assessor": world.assessors[0]}


def _recorded_world(db, now):
    """Phase 1's shortlist recorded, awaiting the partner's approval."""
    from procure.assessment import services as assessment
    from tests.bakeoff import builders as bb

    world = bb.bake_off_world(db, now, partner=True, decided=False)
    at = world.decided_at
    assessment.record_decision(db, actor=world.lead, challenge_id=world.challenge.id,
                               phase_id=world.phase1.id,
                               selected_ids=[p.id for p in world.proposals[:2]],
                               reason="The strongest proposals", now=at)
    db.commit()
    return at, {"lead": world.lead, "partner": world.partner}


def _approved_world(db, now):
    """Phase 1's shortlist recorded and approved, for the lead to release."""
    from procure.assessment import services as assessment
    from tests.bakeoff import builders as bb

    world = bb.bake_off_world(db, now, partner=True, decided=False)
    at = world.decided_at
    ids = dict(challenge_id=world.challenge.id, phase_id=world.phase1.id)
    assessment.record_decision(db, actor=world.lead, selected_ids=[p.id for p in world.proposals[:2]],
                               reason="The strongest proposals", now=at, **ids)
    assessment.approve_decision(db, actor=world.partner, now=at, **ids)
    db.commit()
    return at, {"lead": world.lead}


def _shortlisted_world(db, now):
    """The shortlist released, the entrants not yet invited."""
    from tests.bakeoff import builders as bb

    world = bb.bake_off_world(db, now)
    db.commit()
    return world.decided_at + HOUR, {"lead": world.lead}


def _bake_off_world(db, now):
    """A bake-off under way: one entrant has reported a measure with an evidence file."""
    from procure.bakeoff import services as bakeoff
    from tests.bakeoff import builders as bb
    from tests.submissions import builders as pb

    world = bb.bake_off_world(db, now)
    bb.invite(db, world)
    entrant = world.entrants[0]
    supplier = world.supplier_of(entrant)
    bb.report(db, world, entrant, world.higher, "30")
    bakeoff.add_evidence(db, actor=supplier, entrant_id=entrant.id, measure_id=world.higher.id,
                         filename="count.pdf", data=pb.PDF, now=bb.during(world), folder=_folder())
    db.commit()
    return bb.during(world), {"lead": world.lead, "entrant": supplier}


def _closed_world(db, now):
    """A bake-off closed with one reported value still to verify."""
    from tests.bakeoff import builders as bb

    world = bb.bake_off_world(db, now)
    bb.invite(db, world)
    entrant = world.entrants[0]
    bb.demonstrate(db, world, world.supplier_of(entrant))
    bb.report(db, world, entrant, world.higher, "30")
    bb.close_bake_off(db, world)
    db.commit()
    return world.after, {"lead": world.lead}


def _awarding_world(db, now):
    """The bake-off assessed, its award recorded without its contracts."""
    from tests.bakeoff import builders as bb

    world = bb.bake_off_world(db, now)
    bb.full_bake_off(db, world)
    bb.award(db, world, contracts=False, release=False)
    db.commit()
    return world.after, {"lead": world.lead}


def _concluded_world(db, now):
    """A concluded challenge whose record is a draft with an asset listed; and one published
    (for interest in it to be registered)."""
    from procure.record import services as record
    from tests.record import builders as rb

    world = rb.concluded_world(db, now, partner=False)
    at = world.after + DAY
    rb.write_lessons(db, world, at=at)
    record.add_asset(db, actor=world.lead, challenge_id=world.challenge.id, title="Code",
                     url="https://example.org/code", licence="MIT", description="The code", now=at)
    published = rb.concluded_world(db, now, partner=False, code="published-quality")
    rb.publish(db, published, at=at)
    db.commit()
    return at, {"lead": world.lead, "supplier": world.suppliers[2]}


WORLDS = {"draft": _draft_world, "assessed": _assessed_world, "recorded": _recorded_world,
          "approved": _approved_world, "shortlisted": _shortlisted_world,
          "bake-off": _bake_off_world, "closed": _closed_world,
          "awarding": _awarding_world, "concluded": _concluded_world}

# What each world's sweep must reach, by the person who is offered the form.
EXPECTED = {
    "draft": {
        "authoring.edit_phase", "authoring.edit_criteria", "authoring.new_measure",
        "authoring.edit_measure", "authoring.remove_measure", "authoring.remove_phase",
        "authoring.publish_challenge", "authoring.invite_partner",
        "challenges.respond_to_invitation", "challenges.request_to_join",
        "authoring.decide_join_request", "proposals.reopen_proposal", "challenges.change_pledge",
        "organisations.decide_membership", "proposals.submit_proposal",
        "proposals.remove_attachment", "proposals.withdraw_proposal", "following.unfollow_tag",
        "accounts.mfa_turn_off",
        "admin.enable_user", "values.discard_draft", "values.edit_criterion",
        "values.edit_framework", "values.publish_version"},
    "assessed": {"assessment.record_decision", "assessment.remove_assessor", "assessment.respond",
                 "assessment.moderate"},
    "recorded": {"assessment.approve_decision"},
    "approved": {"assessment.release_decision"},
    "shortlisted": {"bakeoff.invite_entrants"},
    "bake-off": {"bakeoff.report_measure", "bakeoff.add_evidence", "bakeoff.remove_evidence"},
    "closed": {"bakeoff.verify_measurement"},
    "awarding": {"bakeoff.record_contract"},
    "concluded": {"record.edit_record", "record.add_asset", "record.remove_asset",
                  "record.request_publication", "record.register_interest"},
}
SWEPT = set().union(*EXPECTED.values())


# Forms whose success takes others' away (the draft published, the phase removed, the version
# discarded, the assessor stood down, the decision made again): posted after every other form
# of their world, in this order.
LAST = ("authoring.remove_measure", "authoring.remove_phase", "authoring.publish_challenge",
        "assessment.remove_assessor", "assessment.record_decision", "values.publish_version",
        "values.discard_draft")


def _rank(endpoint: str) -> int:
    return LAST.index(endpoint) + 1 if endpoint in LAST else 0


def _reached(app, client) -> tuple[list[web.Page], dict[str, list[web.Form]]]:
    """The pages the client's person reaches, and the forms on them for the routes swept here
    (account forms included: the follower's tag is one)."""
    pages = list(web.crawl(app, client))
    forms = sweep._forms_to_post(app, "supplier editor", pages)
    return pages, {e: f for e, f in forms.items() if e in SWEPT}


# Worlds whose forms are mostly free text, swept on every backend (PostgreSQL alone refuses a
# NUL character in text); the others, mostly choices, numbers and dates, on SQLite only.
TEXT_HEAVY = ("draft", "assessed", "concluded")


@pytest.mark.parametrize("world", TEXT_HEAVY)
def test_every_form_of_each_text_heavy_world_survives_hostile_input(app, db, now, time_machine,
                                                                    world, monkeypatch):
    _sweep_world(app, db, now, time_machine, world, monkeypatch)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("world", [w for w in WORLDS if w not in TEXT_HEAVY])
def test_every_form_of_each_other_world_survives_hostile_input(app, db, now, time_machine, world,
                                                               monkeypatch):
    _sweep_world(app, db, now, time_machine, world, monkeypatch)


def _sweep_world(app, db, now, time_machine, world: str, monkeypatch) -> None:
    with app.app_context():
        moment, people = WORLDS[world](db, now)
    time_machine.move_to(moment, tick=False)
    monkeypatch.setattr(sweep, "EXAMPLES", EXAMPLES)
    # Everyone reads their pages before anyone posts: one person's posts may take away
    # another's form (a removed appointment, a withdrawn invitation).
    crawled = []
    for user in people.values():
        client = app.test_client()
        sign_in(client, db, user)
        db.commit()
        crawled.append((client, *_reached(app, client)))
    reached = set().union(*(forms for _client, _pages, forms in crawled))
    assert EXPECTED[world] <= reached, f"{world} reached no form for {EXPECTED[world] - reached}"
    posts = [(_rank(endpoint), endpoint, n, client, form)
             for n, (client, _pages, forms) in enumerate(crawled)
             for endpoint, endpoint_forms in forms.items() for form in endpoint_forms]
    for post in sorted(posts, key=lambda p: p[:3]):
        sweep._sweep(*post[3:])
    # Nothing posted comes back as script: every page each person reached, read again.
    for client, pages, _forms in crawled:
        for page in pages:
            if page.status != 200:
                continue
            again = web.fetch(client, page.path)
            assert again.status < 500, f"{again.status} from GET {page.path} after the sweep"
            for marker in sweep.INJECTED:
                assert not marker.search(again.html), f"{marker.pattern} stored, shown on {page.path}"
