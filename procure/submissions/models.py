"""A supplier's proposal for a phase, its answers, attachments and the receipts of submission."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from procure.accounts.models import Organisation
from procure.challenges.models import Phase, PhaseCriterion
from procure.db import Base


class ProposalStatus(StrEnum):
    DRAFT = "draft"          # never submitted, or started again after a withdrawal
    SUBMITTED = "submitted"  # the latest submission counts
    REOPENED = "reopened"    # being changed; the latest submission still counts until replaced
    WITHDRAWN = "withdrawn"  # nothing counts


class ReceiptKind(StrEnum):
    SUBMITTED = "submitted"
    WITHDRAWN = "withdrawn"


class Proposal(Base):
    """One per supplier organisation per phase. The live fields are the supplier's working
    copy; what the authority reads after the deadline is the latest submitted snapshot."""

    __tablename__ = "proposals"
    __table_args__ = (UniqueConstraint("phase_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    phase_id: Mapped[int] = mapped_column(ForeignKey("phases.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(12), index=True)
    summary: Mapped[str] = mapped_column(Text, default="")  # public once the phase is decided
    team: Mapped[str] = mapped_column(Text, default="")
    price_pence: Mapped[int | None] = mapped_column(BigInteger)
    timeline: Mapped[str] = mapped_column(Text, default="")
    declare_accurate: Mapped[bool] = mapped_column(default=False)
    declare_no_collusion: Mapped[bool] = mapped_column(default=False)
    declare_eligible: Mapped[bool] = mapped_column(default=False)
    consent_publish_summary: Mapped[bool] = mapped_column(default=False)
    # Set when the challenge is amended after this proposal was submitted: the submission no
    # longer counts until the supplier confirms it against the new version.
    must_reconfirm: Mapped[bool] = mapped_column(default=False)
    current_receipt_id: Mapped[int | None] = mapped_column(
        ForeignKey("receipts.id", use_alter=True))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    reminded_at: Mapped[datetime | None]

    phase: Mapped[Phase] = relationship()
    organisation: Mapped[Organisation] = relationship()
    responses: Mapped[list[ProposalResponse]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan")
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="proposal", order_by="Attachment.id")
    receipts: Mapped[list[Receipt]] = relationship(
        back_populates="proposal", foreign_keys="Receipt.proposal_id", order_by="Receipt.id")
    current_receipt: Mapped[Receipt | None] = relationship(foreign_keys=[current_receipt_id],
                                                           post_update=True)

    @property
    def live_attachments(self) -> list[Attachment]:
        return [a for a in self.attachments if a.removed_at is None]

    def response_to(self, phase_criterion_id: int) -> str:
        return next((r.text for r in self.responses if r.phase_criterion_id == phase_criterion_id), "")


class ProposalResponse(Base):
    """The supplier's answer to one of the phase's criteria."""

    __tablename__ = "proposal_responses"
    __table_args__ = (UniqueConstraint("proposal_id", "phase_criterion_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    phase_criterion_id: Mapped[int] = mapped_column(ForeignKey("phase_criteria.id"))
    text: Mapped[str] = mapped_column(Text, default="")

    proposal: Mapped[Proposal] = relationship(back_populates="responses")
    phase_criterion: Mapped[PhaseCriterion] = relationship()


class Attachment(Base):
    """An uploaded file, stored under a generated name outside the web root. Removing it from
    the working copy keeps the file while a submitted snapshot still refers to it."""

    __tablename__ = "proposal_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))   # as the supplier named it, checked
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime]
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    removed_at: Mapped[datetime | None]

    proposal: Mapped[Proposal] = relationship(back_populates="attachments")


class Receipt(Base):
    """Proof of a submission or a withdrawal: the server's time and the SHA-256 of the
    canonical manifest, which for a submission is the whole frozen proposal."""

    __tablename__ = "receipts"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    sequence: Mapped[int]  # 1, 2, ... per proposal
    received_at: Mapped[datetime]
    challenge_version: Mapped[int]
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    manifest: Mapped[dict] = mapped_column(JSON)
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    proposal: Mapped[Proposal] = relationship(back_populates="receipts", foreign_keys=[proposal_id])
