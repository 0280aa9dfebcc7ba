"""Building blocks for the challenge service tests: a published value framework, authorities,
suppliers, and challenges brought to each state through the services themselves.

Frameworks are written directly (two or three scored criteria and one gate); everything a
user does is done by calling the services, so each test starts where a person could be.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from procure.accounts.models import Organisation, User
from procure.audit.models import AuditEvent
from procure.challenges import following, funding, services
from procure.challenges.models import Challenge, Phase
from procure.notifications.models import OutboxMessage
from procure.values.models import CriterionKind, FrameworkStatus, ValueCriterion, ValueFramework
from tests.factories import CREATED, OrganisationFactory, UserFactory, member

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)

PROBLEM = ("Older homes in the valleys lose heat through solid walls, and tenants on low incomes pay "
           "for it every winter. We want ways to find and fix the worst homes first.")

SCORED = ("technical_feasibility", "innovation", "value_for_money")
GATES = ("eligibility",)


# --- value frameworks -----------------------------------------------------------------------

def framework(db, now: datetime, *, code: str = "solution-quality", version: int = 1,
              position: int = 0, published: bool = True, scored: tuple[str, ...] = SCORED,
              gates: tuple[str, ...] = GATES) -> ValueFramework:
    """A framework version with scored criteria and gates, published unless told otherwise."""
    fw = ValueFramework(
        code=code, version=version, position=position,
        status=FrameworkStatus.PUBLISHED if published else FrameworkStatus.DRAFT,
        name_en=f"{code} v{version}", name_cy=f"{code} f{version}", created_at=now,
        published_at=now if published else None)
    for n, c in enumerate([*scored, *gates]):
        fw.criteria.append(ValueCriterion(
            code=c, kind=CriterionKind.GATE if c in gates else CriterionKind.SCORED, position=n,
            name_en=c.replace("_", " ").capitalize(), name_cy=c, guidance_en=["g"] * 5,
            guidance_cy=["g"] * 5))
    db.add(fw)
    db.commit()
    return fw


def crit(fw: ValueFramework, code: str) -> ValueCriterion:
    """The criterion of ``fw`` with this code."""
    return next(c for c in fw.criteria if c.code == code)


def default_weights(fw: ValueFramework) -> dict[int, int | None]:
    """Two scored criteria at 60 and 40, and the gate."""
    return {crit(fw, SCORED[0]).id: 60, crit(fw, SCORED[1]).id: 40, crit(fw, GATES[0]).id: None}


# --- people and organisations ---------------------------------------------------------------
# Each is committed, so rolling back a refused call (see ``reload``) keeps them.

def _saved(obj):
    OrganisationFactory._meta.sqlalchemy_session.commit()
    return obj


def authority(*, verified: bool = True, name: str | None = None) -> Organisation:
    fields = {"name": name} if name else {}
    return _saved(OrganisationFactory(kind="authority", verified_at=CREATED if verified else None,
                                      **fields))


def supplier_org() -> Organisation:
    return _saved(OrganisationFactory(kind="supplier"))


def person(org: Organisation, *, role: str = "editor", status: str = "active", **user_fields) -> User:
    return _saved(member(org, role=role, status=status, **user_fields))


def editor(org: Organisation | None = None, **user_fields) -> User:
    """An active editor of ``org`` (a new verified authority if None)."""
    return person(org or authority(), **user_fields)


def viewer(org: Organisation, **user_fields) -> User:
    return person(org, role="viewer", **user_fields)


def supplier(org: Organisation | None = None, **user_fields) -> User:
    """An active member of a supplier organisation."""
    return person(org or supplier_org(), **user_fields)


def no_org_user(**user_fields) -> User:
    return _saved(UserFactory(**user_fields))


def follower(db, now: datetime, tags: str, **user_fields) -> User:
    """A confirmed supplier member following ``tags`` (comma-separated)."""
    user = supplier(**user_fields)
    following.follow_tags(db, actor=user, tags_text=tags, now=now)
    return user


# --- challenges -----------------------------------------------------------------------------

def phase_values(now: datetime, **overrides) -> dict:
    """Valid update_phase arguments for a feasibility phase opening tomorrow for a month."""
    values = dict(kind="feasibility", opens_at=now + DAY, closes_at=now + 30 * DAY, contracts=2,
                  max_value_pence=2_500_000, duration_months=3, min_assessments=2,
                  threshold_percent=60, outcome_share_percent=50)
    values.update(overrides)
    return values


def new_draft(db, now: datetime, lead_editor: User, *, title: str = "Warmer homes") -> Challenge:
    return services.create_challenge(db, actor=lead_editor, title=title, now=now)


def add_configured_phase(db, now: datetime, lead_editor: User, challenge: Challenge,
                         fw: ValueFramework, **overrides) -> Phase:
    """A phase with dates, money, criteria and (for a bake-off) one measure of weight 100."""
    values = phase_values(now, **overrides)
    phase = services.add_phase(db, actor=lead_editor, challenge_id=challenge.id, kind=values["kind"],
                               now=now)
    services.update_phase(db, actor=lead_editor, challenge_id=challenge.id, phase_id=phase.id,
                          now=now, **values)
    services.set_phase_criteria(db, actor=lead_editor, challenge_id=challenge.id, phase_id=phase.id,
                                weights=default_weights(fw), now=now)
    if values["kind"] == "bake_off":
        services.save_measure(db, actor=lead_editor, challenge_id=challenge.id, phase_id=phase.id,
                              measure_id=None, name="Homes fixed", unit="homes", direction="higher",
                              baseline=Decimal("10"), target=Decimal("50"),
                              criterion_id=crit(fw, SCORED[0]).id, weight=100, now=now)
    return phase


def complete_draft(db, now: datetime, lead_editor: User, fw: ValueFramework, *,
                   title: str = "Warmer homes", tags: str = "housing, energy",
                   opens_at: datetime | None = None, closes_at: datetime | None = None,
                   clarification_deadline: datetime | None = None, bake_off: bool = False,
                   pledge_pence: int = 5_000_000) -> Challenge:
    """A draft with nothing missing: one feasibility phase (and a bake-off after it if asked).

    Phase 1 opens tomorrow and closes in 30 days unless told; questions close before it does;
    the lead pledges enough for every phase.
    """
    opens_at = opens_at if opens_at is not None else now + DAY
    closes_at = closes_at if closes_at is not None else now + 30 * DAY
    challenge = new_draft(db, now, lead_editor, title=title)
    services.update_details(db, actor=lead_editor, challenge_id=challenge.id, now=now,
                            summary="Find and fix the coldest homes first.",
                            problem_statement=PROBLEM, context="Valleys housing stock.",
                            affected="Tenants on low incomes.",
                            outcomes_sought="Fewer cold homes; lower bills.")
    if tags:
        services.set_tags(db, actor=lead_editor, challenge_id=challenge.id, tags_text=tags, now=now)
    funding.set_lead_pledge(db, actor=lead_editor, challenge_id=challenge.id,
                            pledge_pence=pledge_pence, now=now)
    add_configured_phase(db, now, lead_editor, challenge, fw, opens_at=opens_at, closes_at=closes_at)
    if bake_off:
        add_configured_phase(db, now, lead_editor, challenge, fw, kind="bake_off",
                             opens_at=closes_at + 10 * DAY, closes_at=closes_at + 40 * DAY,
                             contracts=1)
    deadline = clarification_deadline if clarification_deadline is not None \
        else opens_at + (closes_at - opens_at) / 2
    services.set_clarification_deadline(db, actor=lead_editor, challenge_id=challenge.id,
                                        deadline=deadline, now=now)
    return challenge


def open_challenge(db, now: datetime, lead_editor: User, fw: ValueFramework, **kwargs) -> Challenge:
    """A complete draft published at ``now``."""
    challenge = complete_draft(db, now, lead_editor, fw, **kwargs)
    return services.publish_challenge(db, actor=lead_editor, challenge_id=challenge.id, now=now)


# --- what a user would notice ---------------------------------------------------------------

def reload(db, challenge_id: int) -> Challenge:
    """The challenge as stored: whatever a failed call changed in memory is rolled back first."""
    db.rollback()
    db.expire_all()
    return services.load_challenge(db, challenge_id)


def actions(db) -> list[str]:
    """Every audit action written so far, in order."""
    return list(db.execute(select(AuditEvent.action).order_by(AuditEvent.seq)).scalars())


def events(db, action: str) -> list[AuditEvent]:
    return list(db.execute(select(AuditEvent).where(AuditEvent.action == action)
                           .order_by(AuditEvent.seq)).scalars())


def outbox(db, template: str | None = None) -> list[OutboxMessage]:
    stmt = select(OutboxMessage).order_by(OutboxMessage.id)
    if template is not None:
        stmt = stmt.where(OutboxMessage.template == template)
    return list(db.execute(stmt).scalars())


def recipients(db, template: str) -> list[str]:
    """The e-mail addresses a template was queued for, sorted."""
    return sorted(m.recipient_email for m in outbox(db, template))
