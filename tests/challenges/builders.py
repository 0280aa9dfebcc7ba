"""Challenges built through the services, as an authority would: a published value framework
and an open challenge with its phases, criteria, budget and question deadline.

Phases close in 2027 so that pages, which read the real clock, still see them open.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlsplit

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from procure.challenges import funding, services
from procure.challenges.models import Challenge
from procure.db import get_session
from procure.values.models import FrameworkStatus, ValueCriterion, ValueFramework

CLOSES_AT = datetime(2027, 3, 31, 11, 0, tzinfo=UTC)              # 12:00 in London (BST)
CLARIFICATION_DEADLINE = datetime(2027, 3, 15, 12, 0, tzinfo=UTC)  # 12:00 in London (GMT)
BAKE_OFF_OPENS_AT = datetime(2027, 5, 3, 8, 0, tzinfo=UTC)
BAKE_OFF_CLOSES_AT = datetime(2027, 7, 30, 11, 0, tzinfo=UTC)
CONTRACTS = 2
MAX_VALUE_PENCE = 50_000_00
PROBLEM = ("Families wait too long to hear whether they can have help with housing costs. "
           "Most of the wait is spent passing paper forms between teams, and nobody can see "
           "where an application has got to.")

SCORE_GUIDANCE = ["No evidence", "Poor evidence", "Acceptable evidence", "Good evidence",
                  "Excellent evidence"]
GATE_GUIDANCE = ["Does not meet the requirement", "Meets the requirement"]


def value_framework(db: Session, now: datetime, *, code: str = "solution-quality",
                    version: int = 1) -> ValueFramework:
    """A published framework with two scored criteria (feasibility, value) and one gate."""
    existing = db.execute(select(ValueFramework).where(
        ValueFramework.code == code, ValueFramework.version == version)).scalar_one_or_none()
    if existing is not None:
        return existing
    framework = ValueFramework(
        code=code, version=version, status=FrameworkStatus.PUBLISHED, position=0,
        name_en="Solution quality", name_cy="Ansawdd yr ateb",
        description_en="How good the proposed solution is.",
        description_cy="Pa mor dda yw'r ateb a gynigir.", created_at=now, published_at=now)
    framework.criteria = [
        ValueCriterion(code="feasibility", kind="scored", position=0,
                       name_en="Technical feasibility", name_cy="Dichonoldeb technegol",
                       description_en="Whether it can be built and run.",
                       description_cy="A ellir ei adeiladu a'i redeg.",
                       guidance_en=[f"Feasibility: {g}" for g in SCORE_GUIDANCE],
                       guidance_cy=[f"Dichonoldeb: {g}" for g in SCORE_GUIDANCE]),
        ValueCriterion(code="value", kind="scored", position=1,
                       name_en="Value for money", name_cy="Gwerth am arian",
                       description_en="What the public gets for what it pays.",
                       description_cy="Beth mae'r cyhoedd yn ei gael am yr hyn a dala.",
                       guidance_en=[f"Value: {g}" for g in SCORE_GUIDANCE],
                       guidance_cy=[f"Gwerth: {g}" for g in SCORE_GUIDANCE]),
        ValueCriterion(code="eligibility", kind="gate", position=2,
                       name_en="Eligibility", name_cy="Cymhwystra",
                       description_en="Whether the proposal may be considered at all.",
                       description_cy="A ellir ystyried y cynnig o gwbl.",
                       guidance_en=list(GATE_GUIDANCE), guidance_cy=list(GATE_GUIDANCE)),
    ]
    db.add(framework)
    db.flush()
    return framework


def _weights(framework: ValueFramework) -> dict[int, int | None]:
    scored = [c for c in framework.criteria if c.kind == "scored"]
    weights: dict[int, int | None] = {c.id: None for c in framework.criteria if c.kind == "gate"}
    weights[scored[0].id] = 60
    weights[scored[1].id] = 40
    return weights


def draft_challenge(db: Session, *, editor, now: datetime, tags: Sequence[str] = ("housing",),
                    title: str = "Faster help with housing costs", summary: str | None = None,
                    bake_off: bool = False, closes_at: datetime = CLOSES_AT,
                    clarification_deadline: datetime = CLARIFICATION_DEADLINE) -> Challenge:
    """A draft ready to publish, led by the editor's authority, with the budget pledged."""
    framework = value_framework(db, now)
    challenge = services.create_challenge(db, actor=editor, title=title, now=now)
    cid = challenge.id
    services.update_details(
        db, actor=editor, challenge_id=cid, now=now,
        summary=summary or f"{title}: a summary for the list of challenges.",
        problem_statement=PROBLEM, context="Three councils share the same paper process.",
        affected="Families who rent, and the officers who process their claims.",
        outcomes_sought="Decisions within **five working days**.")
    services.set_tags(db, actor=editor, challenge_id=cid, tags_text=", ".join(tags), now=now)
    phase = services.add_phase(db, actor=editor, challenge_id=cid, kind="feasibility", now=now)
    services.update_phase(db, actor=editor, challenge_id=cid, phase_id=phase.id, now=now,
                          kind="feasibility", opens_at=now - timedelta(hours=1),
                          closes_at=closes_at, contracts=CONTRACTS,
                          max_value_pence=MAX_VALUE_PENCE, duration_months=3, min_assessments=2,
                          threshold_percent=60, outcome_share_percent=50)
    services.set_phase_criteria(db, actor=editor, challenge_id=cid, phase_id=phase.id,
                                weights=_weights(framework), now=now)
    if bake_off:
        second = services.add_phase(db, actor=editor, challenge_id=cid, kind="bake_off", now=now)
        services.update_phase(db, actor=editor, challenge_id=cid, phase_id=second.id, now=now,
                              kind="bake_off", opens_at=BAKE_OFF_OPENS_AT,
                              closes_at=BAKE_OFF_CLOSES_AT, contracts=1,
                              max_value_pence=MAX_VALUE_PENCE, duration_months=6,
                              min_assessments=2, threshold_percent=60, outcome_share_percent=40)
        services.set_phase_criteria(db, actor=editor, challenge_id=cid, phase_id=second.id,
                                    weights=_weights(framework), now=now)
        feasibility = next(c for c in framework.criteria if c.code == "feasibility")
        services.save_measure(db, actor=editor, challenge_id=cid, phase_id=second.id,
                              measure_id=None, name="Days to a decision", unit="days",
                              direction="lower", baseline=Decimal("21"), target=Decimal("5"),
                              criterion_id=feasibility.id, weight=100, now=now)
    funding.set_lead_pledge(db, actor=editor, challenge_id=cid,
                            pledge_pence=CONTRACTS * MAX_VALUE_PENCE, now=now)
    services.set_clarification_deadline(db, actor=editor, challenge_id=cid,
                                        deadline=clarification_deadline, now=now)
    return services.load_challenge(db, cid)


def open_challenge(db: Session, *, editor, now: datetime, tags: Sequence[str] = ("housing",),
                   title: str = "Faster help with housing costs", **options) -> Challenge:
    """A published (open) challenge; ``options`` as for ``draft_challenge``."""
    challenge = draft_challenge(db, editor=editor, now=now, tags=tags, title=title, **options)
    return services.publish_challenge(db, actor=editor, challenge_id=challenge.id, now=now)


# --- reading pages --------------------------------------------------------------------------

def recently() -> datetime:
    """A moment just before the real clock, for building what pages (on the real clock) show."""
    return datetime.now(UTC) - timedelta(minutes=5)


def text_of(response) -> str:
    """The page's HTML with entities decoded, as a person would read the text."""
    return html.unescape(response.get_data(as_text=True))


def field_error(response, field: str) -> str | None:
    """The GOV.UK error message shown next to ``field``, if any."""
    match = re.search(rf'<p id="{field}-error" class="govuk-error-message">\s*'
                      r'<span class="govuk-visually-hidden">[^<]*</span>\s*(.*?)\s*</p>',
                      text_of(response), re.S)
    return match.group(1) if match else None


def location(response) -> str:
    """The redirect target as a path with its query."""
    parts = urlsplit(response.headers["Location"])
    return parts.path + (f"?{parts.query}" if parts.query else "")


class QueryCounter:
    """Counts the SQL statements the app sends while it is active (``with counter: ...``)."""

    def __init__(self, app) -> None:
        with app.app_context():
            bind = get_session().get_bind()
        self.engine = getattr(bind, "engine", bind)
        self.count = 0
        self.selects = 0  # of them, the queries that read (not BEGIN, SAVEPOINT…)

    def _seen(self, _conn, _cursor, statement, *_args) -> None:
        self.count += 1
        if statement.lstrip()[:6].upper() == "SELECT":
            self.selects += 1

    def __enter__(self) -> QueryCounter:
        self.count = self.selects = 0
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_exc) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)
