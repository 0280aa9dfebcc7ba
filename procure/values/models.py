"""Value frameworks and their criteria, versioned: a challenge pins the version it used."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from procure.db import Base

SCALE = (0, 1, 2, 3, 4)


class CriterionKind(StrEnum):
    SCORED = "scored"
    GATE = "gate"


class FrameworkStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class ValueFramework(Base):
    __tablename__ = "value_frameworks"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), index=True)
    version: Mapped[int]
    status: Mapped[str] = mapped_column(String(20), default=FrameworkStatus.DRAFT)
    position: Mapped[int] = mapped_column(default=0)
    name_en: Mapped[str] = mapped_column(String(200))
    name_cy: Mapped[str] = mapped_column(String(200))
    description_en: Mapped[str] = mapped_column(Text, default="")
    description_cy: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    published_at: Mapped[datetime | None]
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    criteria: Mapped[list[ValueCriterion]] = relationship(
        back_populates="framework", order_by="ValueCriterion.position",
        cascade="all, delete-orphan")

    @property
    def is_published(self) -> bool:
        return self.status == FrameworkStatus.PUBLISHED


class ValueCriterion(Base):
    __tablename__ = "value_criteria"
    __table_args__ = (UniqueConstraint("framework_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("value_frameworks.id"), index=True)
    code: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(10))
    position: Mapped[int] = mapped_column(default=0)
    name_en: Mapped[str] = mapped_column(String(200))
    name_cy: Mapped[str] = mapped_column(String(200))
    description_en: Mapped[str] = mapped_column(Text, default="")
    description_cy: Mapped[str] = mapped_column(Text, default="")
    # What each point of the 0-4 scale means for this criterion (pass/fail for a gate):
    # five strings per language, index = score.
    guidance_en: Mapped[list[str]] = mapped_column(JSON, default=list)
    guidance_cy: Mapped[list[str]] = mapped_column(JSON, default=list)

    framework: Mapped[ValueFramework] = relationship(back_populates="criteria")

    @property
    def is_gate(self) -> bool:
        return self.kind == CriterionKind.GATE
