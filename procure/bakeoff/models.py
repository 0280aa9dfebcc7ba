"""Bake-off entrants and their contracts, measurement reports and their evidence, the award's
contracts, and the adoption check-ins after an award."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from procure.accounts.models import Organisation
from procure.assessment.models import Decision
from procure.challenges.models import Challenge, OutcomeMeasure, Phase
from procure.db import Base
from procure.submissions.models import Proposal


class BakeOffEntrant(Base):
    """A supplier shortlisted into an invitation-only phase, holding a bake-off contract.
    Created when the shortlist is released; invited (and the phase opened) by the editors."""

    __tablename__ = "bake_off_entrants"
    __table_args__ = (UniqueConstraint("phase_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    phase_id: Mapped[int] = mapped_column(ForeignKey("phases.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    shortlisted_proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"))
    contract_value_pence: Mapped[int | None] = mapped_column(BigInteger)
    contract_starts_on: Mapped[date | None]
    contract_ends_on: Mapped[date | None]
    created_at: Mapped[datetime]
    invited_at: Mapped[datetime | None]
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    phase: Mapped[Phase] = relationship(backref=backref("entrants", order_by="BakeOffEntrant.id"))
    organisation: Mapped[Organisation] = relationship()
    shortlisted_proposal: Mapped[Proposal] = relationship()
    reports: Mapped[list[MeasurementReport]] = relationship(
        back_populates="entrant", order_by="MeasurementReport.id")

    def report_for(self, measure_id: int) -> MeasurementReport | None:
        return next((r for r in self.reports if r.measure_id == measure_id), None)


class ReportStatus(StrEnum):
    REPORTED = "reported"    # waiting for the editors to verify it
    ACCEPTED = "accepted"    # verified as reported
    CORRECTED = "corrected"  # verified with the editors' value and reason


class MeasurementReport(Base):
    """What an entrant measured for one outcome measure, its evidence, and the verification."""

    __tablename__ = "measurement_reports"
    __table_args__ = (UniqueConstraint("entrant_id", "measure_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entrant_id: Mapped[int] = mapped_column(ForeignKey("bake_off_entrants.id"), index=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("outcome_measures.id"), index=True)
    value: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    evidence: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10))
    verified_value: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    correction_reason: Mapped[str] = mapped_column(Text, default="")
    reported_at: Mapped[datetime]
    reported_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    verified_at: Mapped[datetime | None]
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    entrant: Mapped[BakeOffEntrant] = relationship(back_populates="reports")
    measure: Mapped[OutcomeMeasure] = relationship()
    files: Mapped[list[EvidenceFile]] = relationship(
        back_populates="report", order_by="EvidenceFile.id", cascade="all, delete-orphan")

    @property
    def counted_value(self) -> Decimal | None:
        """The verified value (None while waiting for verification)."""
        from procure.bakeoff.outcomes import verified_value

        return verified_value(self.status, self.value, self.verified_value)


class EvidenceFile(Base):
    """A file of evidence for a measurement, stored like proposal attachments."""

    __tablename__ = "measurement_evidence_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("measurement_reports.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime]
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    report: Mapped[MeasurementReport] = relationship(back_populates="files")


class AwardContract(Base):
    """The contract awarded to one selected supplier: value and dates."""

    __tablename__ = "award_contracts"
    __table_args__ = (UniqueConstraint("decision_id", "proposal_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"), index=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    value_pence: Mapped[int] = mapped_column(BigInteger)
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    recorded_at: Mapped[datetime]
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    decision: Mapped[Decision] = relationship(
        backref=backref("contracts", order_by="AwardContract.id", cascade="all, delete-orphan"))
    organisation: Mapped[Organisation] = relationship()


class AdoptionCheckIn(Base):
    """The lead authority's answer, 6, 12 or 24 months after the award, to: is the solution in
    use, by whom, and what is the latest value of each outcome measure?"""

    __tablename__ = "adoption_check_ins"
    __table_args__ = (UniqueConstraint("challenge_id", "months"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"), index=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"))
    months: Mapped[int]
    due_at: Mapped[datetime]
    asked_at: Mapped[datetime]
    recorded_at: Mapped[datetime | None] = mapped_column(index=True)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    in_use: Mapped[bool | None]
    used_by: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    # measure id (as text) -> the latest value (as text), for the measures they gave
    measure_values: Mapped[dict] = mapped_column(JSON, default=dict)

    challenge: Mapped[Challenge] = relationship(
        backref=backref("check_ins", order_by="AdoptionCheckIn.months"))
    decision: Mapped[Decision] = relationship()
