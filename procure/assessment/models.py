"""Assessors appointed to a phase, their conflict declarations and scores, moderators'
consensus, and the phase's decision with its partners' approvals."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from procure.accounts.models import Organisation, User
from procure.challenges.models import Phase, PhaseCriterion
from procure.db import Base
from procure.submissions.models import Proposal


class AppointmentStatus(StrEnum):
    INVITED = "invited"    # waiting for the assessor to accept
    ACCEPTED = "accepted"  # assessing
    DECLINED = "declined"  # the assessor said no
    REMOVED = "removed"    # the editors stood them down before they submitted anything


class AssessmentStatus(StrEnum):
    DRAFT = "draft"          # saved, can come back
    SUBMITTED = "submitted"  # locked


class DecisionKind(StrEnum):
    SHORTLIST = "shortlist"  # who goes on to the next phase
    AWARD = "award"          # who is selected for a contract


class DecisionStatus(StrEnum):
    AWAITING_APPROVAL = "awaiting_approval"  # recorded; partners approve before release
    RELEASED = "released"                    # suppliers have been told


class AssessorAppointment(Base):
    """A person appointed to assess one phase: a member of the lead or a partner authority, or
    an independent expert invited by e-mail who registers through the invitation."""

    __tablename__ = "assessor_appointments"
    __table_args__ = (UniqueConstraint("phase_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    phase_id: Mapped[int] = mapped_column(ForeignKey("phases.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    invited_email: Mapped[str] = mapped_column(String(254), default="")
    invited_name: Mapped[str] = mapped_column(String(200), default="")
    is_independent: Mapped[bool] = mapped_column(default=False)
    # Only the SHA-256 of the invitation link's token is kept.
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    token_expires_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(12))
    appointed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]

    phase: Mapped[Phase] = relationship(
        backref=backref("appointments", order_by="AssessorAppointment.id"))
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    declarations: Mapped[list[ConflictDeclaration]] = relationship(
        back_populates="appointment", order_by="ConflictDeclaration.id")
    assessments: Mapped[list[Assessment]] = relationship(
        back_populates="appointment", order_by="Assessment.id")

    @property
    def display_name(self) -> str:
        return self.user.name if self.user is not None else self.invited_name

    def declaration_for(self, organisation_id: int) -> ConflictDeclaration | None:
        return next((d for d in self.declarations if d.organisation_id == organisation_id), None)


class ConflictDeclaration(Base):
    """Before opening a proposal the assessor says whether they have a conflict with its supplier."""

    __tablename__ = "conflict_declarations"
    __table_args__ = (UniqueConstraint("appointment_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("assessor_appointments.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    conflicted: Mapped[bool]
    reason: Mapped[str] = mapped_column(Text, default="")
    declared_at: Mapped[datetime]

    appointment: Mapped[AssessorAppointment] = relationship(back_populates="declarations")
    organisation: Mapped[Organisation] = relationship()


class Assessment(Base):
    """One assessor's marks for one proposal: saved as a draft, then submitted and locked."""

    __tablename__ = "assessments"
    __table_args__ = (UniqueConstraint("appointment_id", "proposal_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("assessor_appointments.id"), index=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    status: Mapped[str] = mapped_column(String(10))
    started_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]

    appointment: Mapped[AssessorAppointment] = relationship(back_populates="assessments")
    proposal: Mapped[Proposal] = relationship()
    marks: Mapped[list[AssessmentMark]] = relationship(
        back_populates="assessment", cascade="all, delete-orphan", order_by="AssessmentMark.id")

    def mark_for(self, phase_criterion_id: int) -> AssessmentMark | None:
        return next((m for m in self.marks if m.phase_criterion_id == phase_criterion_id), None)


class AssessmentMark(Base):
    """A 0–4 score (scored criterion) or pass/fail (gate), with the assessor's justification."""

    __tablename__ = "assessment_marks"
    __table_args__ = (UniqueConstraint("assessment_id", "phase_criterion_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"), index=True)
    phase_criterion_id: Mapped[int] = mapped_column(ForeignKey("phase_criteria.id"))
    score: Mapped[int | None]
    passed: Mapped[bool | None]
    justification: Mapped[str] = mapped_column(Text, default="")

    assessment: Mapped[Assessment] = relationship(back_populates="marks")
    phase_criterion: Mapped[PhaseCriterion] = relationship()


class Moderation(Base):
    """A moderator's consensus on one criterion of one proposal, which overrides the mean."""

    __tablename__ = "moderations"
    __table_args__ = (UniqueConstraint("proposal_id", "phase_criterion_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    phase_criterion_id: Mapped[int] = mapped_column(ForeignKey("phase_criteria.id"))
    score: Mapped[Decimal | None] = mapped_column(Numeric(4, 2))
    passed: Mapped[bool | None]
    rationale: Mapped[str] = mapped_column(Text)
    moderated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    moderated_at: Mapped[datetime]


class Decision(Base):
    """Who goes on (or is selected), with the reason for any departure from the ranking. The
    ranking and statistics are frozen into it when it is recorded."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    phase_id: Mapped[int] = mapped_column(ForeignKey("phases.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20))
    selected_ids: Mapped[list[int]] = mapped_column(JSON)      # proposal ids
    default_ids: Mapped[list[int]] = mapped_column(JSON)       # what the ranking selected
    reason: Mapped[str] = mapped_column(Text, default="")      # required for a departure
    results: Mapped[list[dict]] = mapped_column(JSON)          # the frozen ranking
    statistics: Mapped[dict] = mapped_column(JSON)             # anonymous, for the open record
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime]
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    released_at: Mapped[datetime | None]

    phase: Mapped[Phase] = relationship(backref=backref("decision", uselist=False))
    approvals: Mapped[list[DecisionApproval]] = relationship(
        back_populates="decision", cascade="all, delete-orphan", order_by="DecisionApproval.id")

    @property
    def departs(self) -> bool:
        return sorted(self.selected_ids) != sorted(self.default_ids)

    def result_for(self, proposal_id: int) -> dict | None:
        return next((r for r in self.results if r["proposal_id"] == proposal_id), None)


class DecisionApproval(Base):
    """An editor of a partner authority approving the decision on its authority's behalf."""

    __tablename__ = "decision_approvals"
    __table_args__ = (UniqueConstraint("decision_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    approved_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime]

    decision: Mapped[Decision] = relationship(back_populates="approvals")
    organisation: Mapped[Organisation] = relationship()
