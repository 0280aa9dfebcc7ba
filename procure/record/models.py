"""The open record of a challenge: the editors' lessons and reusable assets, the publication
job's status, the frozen public record, and the tables the catalogue filters and the
shared-values view read (written once, when the record is published)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from procure.accounts.models import Organisation, User
from procure.challenges.models import Challenge
from procure.db import Base
from procure.values.models import ValueCriterion


class ChallengeRecord(Base):
    """One challenge's open record: drafted by the editors, then frozen by the publication job.

    The row is also the job's persisted status (``draft → queued → published``, or ``failed``
    with the reason), so the page can show how publication is going."""

    __tablename__ = "challenge_records"
    __table_args__ = (Index("ix_challenge_records_status_published", "status", "published_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"), unique=True)
    status: Mapped[str] = mapped_column(String(12))
    lessons_worked: Mapped[str] = mapped_column(Text, default="")
    lessons_not_worked: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    requested_at: Mapped[datetime | None]
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    attempts: Mapped[int] = mapped_column(default=0)
    failure: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime | None]
    # Frozen by the publication job, never changed afterwards.
    content: Mapped[dict | None] = mapped_column(JSON)
    content_sha256: Mapped[str] = mapped_column(String(64), default="")
    outcome: Mapped[str] = mapped_column(String(12), default="", index=True)
    year: Mapped[int | None] = mapped_column(index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    title_cy: Mapped[str] = mapped_column(String(200), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    summary_cy: Mapped[str] = mapped_column(Text, default="")
    lead_name: Mapped[str] = mapped_column(String(200), default="")
    budget_pence: Mapped[int] = mapped_column(BigInteger, default=0)
    # What full-text search reads: the title (weighted highest) and everything else.
    search_title: Mapped[str] = mapped_column(Text, default="")
    search_body: Mapped[str] = mapped_column(Text, default="")

    challenge: Mapped[Challenge] = relationship(
        backref=backref("record", uselist=False), foreign_keys=[challenge_id])
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])
    assets: Mapped[list[RecordAsset]] = relationship(
        back_populates="record", order_by="RecordAsset.position", cascade="all, delete-orphan")


class RecordAsset(Base):
    """Something another authority can reuse: a link, what it is and its licence."""

    __tablename__ = "record_assets"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("challenge_records.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(500))
    licence: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(Text, default="")

    record: Mapped[ChallengeRecord] = relationship(back_populates="assets")


class RecordCriterion(Base):
    """A criterion a published challenge used, in one phase, with its weight (None: a gate)."""

    __tablename__ = "record_criteria"
    __table_args__ = (UniqueConstraint("record_id", "phase_position", "criterion_id"),
                      Index("ix_record_criteria_criterion_record", "criterion_id", "record_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("challenge_records.id"), index=True)
    phase_position: Mapped[int]
    criterion_id: Mapped[int] = mapped_column(ForeignKey("value_criteria.id"))
    weight: Mapped[int | None]

    criterion: Mapped[ValueCriterion] = relationship()


class RecordResult(Base):
    """One verified outcome measurement of a published bake-off (no supplier named), as the
    achievement (0…1) of the measure, and the criterion the measure evidences."""

    __tablename__ = "record_results"
    __table_args__ = (Index("ix_record_results_criterion", "criterion_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("challenge_records.id"), index=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("outcome_measures.id"))
    criterion_id: Mapped[int] = mapped_column(ForeignKey("value_criteria.id"))
    achievement: Mapped[Decimal] = mapped_column(Numeric(6, 4))


class AdoptionInterest(Base):
    """An authority telling the original authority and the winner that it would like to adopt
    the winning solution."""

    __tablename__ = "adoption_interests"
    __table_args__ = (UniqueConstraint("record_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("challenge_records.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]

    record: Mapped[ChallengeRecord] = relationship(
        backref=backref("interests", order_by="AdoptionInterest.id"))
    organisation: Mapped[Organisation] = relationship()
