"""A challenge, its funders, phases, criteria weights, outcome measures, questions and amendments."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from procure.accounts.models import Organisation, User
from procure.db import Base
from procure.values.models import ValueCriterion


class FunderRole(StrEnum):
    LEAD = "lead"
    PARTNER = "partner"


class FunderStatus(StrEnum):
    INVITED = "invited"      # the lead asked the partner
    REQUESTED = "requested"  # the partner asked the lead
    ACCEPTED = "accepted"
    DECLINED = "declined"


class Challenge(Base):
    __tablename__ = "challenges"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(20), index=True)
    title: Mapped[str] = mapped_column(String(200))
    title_cy: Mapped[str] = mapped_column(String(200), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    summary_cy: Mapped[str] = mapped_column(Text, default="")
    problem_statement: Mapped[str] = mapped_column(Text, default="")  # Markdown
    context: Mapped[str] = mapped_column(Text, default="")
    affected: Mapped[str] = mapped_column(Text, default="")
    outcomes_sought: Mapped[str] = mapped_column(Text, default="")
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    clarification_deadline: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)  # the public version; amendments add one
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    opened_at: Mapped[datetime | None] = mapped_column(index=True)
    in_progress_at: Mapped[datetime | None]
    concluded_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    # A challenge started by reusing another's open record.
    derived_from_id: Mapped[int | None] = mapped_column(ForeignKey("challenges.id"), index=True)

    lead_organisation: Mapped[Organisation] = relationship(foreign_keys=[lead_organisation_id])
    derived_from: Mapped[Challenge | None] = relationship(remote_side=[id],
                                                          foreign_keys=[derived_from_id])
    tags: Mapped[list[ChallengeTag]] = relationship(
        order_by="ChallengeTag.tag", cascade="all, delete-orphan")
    funders: Mapped[list[ChallengeFunder]] = relationship(
        back_populates="challenge", order_by="ChallengeFunder.id", cascade="all, delete-orphan")
    phases: Mapped[list[Phase]] = relationship(
        back_populates="challenge", order_by="Phase.position", cascade="all, delete-orphan")
    clarifications: Mapped[list[Clarification]] = relationship(
        back_populates="challenge", order_by="Clarification.id", cascade="all, delete-orphan")
    amendments: Mapped[list[Amendment]] = relationship(
        back_populates="challenge", order_by="Amendment.version", cascade="all, delete-orphan")

    @property
    def tag_names(self) -> list[str]:
        return [t.tag for t in self.tags]

    @property
    def accepted_funders(self) -> list[ChallengeFunder]:
        return [f for f in self.funders if f.status == FunderStatus.ACCEPTED]

    @property
    def budget_pence(self) -> int:
        """The sum of the accepted pledges."""
        return sum(f.pledge_pence for f in self.accepted_funders)


class ChallengeTag(Base):
    __tablename__ = "challenge_tags"

    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(50), primary_key=True, index=True)


class ChallengeFunder(Base):
    """The lead authority or a partner, and what it pledges (integer pence)."""

    __tablename__ = "challenge_funders"
    __table_args__ = (UniqueConstraint("challenge_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    role: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(12))
    pledge_pence: Mapped[int] = mapped_column(BigInteger, default=0)
    message: Mapped[str] = mapped_column(Text, default="")  # with an invitation or a request
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]

    challenge: Mapped[Challenge] = relationship(back_populates="funders")
    organisation: Mapped[Organisation] = relationship()


class PhaseKind(StrEnum):
    FEASIBILITY = "feasibility"
    BAKE_OFF = "bake_off"
    DEPLOYMENT = "deployment"


class Phase(Base):
    __tablename__ = "phases"
    __table_args__ = (UniqueConstraint("challenge_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"), index=True)
    position: Mapped[int]  # 1, 2, ...
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="planned")
    opens_at: Mapped[datetime | None]
    closes_at: Mapped[datetime | None] = mapped_column(index=True)
    contracts: Mapped[int | None]
    max_value_pence: Mapped[int | None] = mapped_column(BigInteger)
    duration_months: Mapped[int | None]
    min_assessments: Mapped[int] = mapped_column(default=2)
    threshold_percent: Mapped[int] = mapped_column(default=60)
    outcome_share_percent: Mapped[int] = mapped_column(default=50)  # bake-off only
    opened_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]

    challenge: Mapped[Challenge] = relationship(back_populates="phases")
    criteria: Mapped[list[PhaseCriterion]] = relationship(
        back_populates="phase", order_by="PhaseCriterion.position", cascade="all, delete-orphan")
    measures: Mapped[list[OutcomeMeasure]] = relationship(
        back_populates="phase", order_by="OutcomeMeasure.position", cascade="all, delete-orphan")

    @property
    def is_invitation_only(self) -> bool:
        return self.position > 1


class PhaseCriterion(Base):
    """A shared-value criterion (of a pinned framework version) chosen for a phase, with its weight."""

    __tablename__ = "phase_criteria"
    __table_args__ = (UniqueConstraint("phase_id", "criterion_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    phase_id: Mapped[int] = mapped_column(ForeignKey("phases.id"), index=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("value_criteria.id"), index=True)
    weight: Mapped[int | None]  # None for a gate
    position: Mapped[int] = mapped_column(default=0)

    phase: Mapped[Phase] = relationship(back_populates="criteria")
    criterion: Mapped[ValueCriterion] = relationship()


class MeasureDirection(StrEnum):
    HIGHER = "higher"
    LOWER = "lower"


class OutcomeMeasure(Base):
    """What a bake-off prototype is measured on: baseline, target, and the criterion it evidences."""

    __tablename__ = "outcome_measures"

    id: Mapped[int] = mapped_column(primary_key=True)
    phase_id: Mapped[int] = mapped_column(ForeignKey("phases.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(60))
    direction: Mapped[str] = mapped_column(String(10))
    baseline: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    target: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    criterion_id: Mapped[int] = mapped_column(ForeignKey("value_criteria.id"))
    weight: Mapped[int]

    phase: Mapped[Phase] = relationship(back_populates="measures")
    criterion: Mapped[ValueCriterion] = relationship()


class Clarification(Base):
    """A supplier's question and the editors' public answer, or a clarification posted unprompted."""

    __tablename__ = "clarifications"
    __table_args__ = (Index("ix_clarifications_challenge_published", "challenge_id", "published_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"))
    # Who asked is kept for the audit trail and to tell them of the answer; never shown.
    asked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text, default="")
    asked_at: Mapped[datetime]
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime | None]

    challenge: Mapped[Challenge] = relationship(back_populates="clarifications")
    asked_by: Mapped[User | None] = relationship(foreign_keys=[asked_by_id])


class Amendment(Base):
    """One published change to an open challenge: the note, what changed, and the version made."""

    __tablename__ = "challenge_amendments"
    __table_args__ = (UniqueConstraint("challenge_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"), index=True)
    version: Mapped[int]
    note: Mapped[str] = mapped_column(Text)
    changes: Mapped[list[dict]] = mapped_column(JSON, default=list)  # [{field, before, after}]
    created_at: Mapped[datetime]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    challenge: Mapped[Challenge] = relationship(back_populates="amendments")


class TagFollow(Base):
    """A user who wants to hear when a challenge with this tag opens."""

    __tablename__ = "tag_follows"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(50), primary_key=True, index=True)
    created_at: Mapped[datetime]
