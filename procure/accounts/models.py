"""Users, organisations, memberships, server-side sign-in sessions and one-time tokens."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from procure.db import Base


class OrganisationKind(StrEnum):
    AUTHORITY = "authority"
    SUPPLIER = "supplier"


class MemberRole(StrEnum):
    EDITOR = "editor"
    VIEWER = "viewer"


class MembershipStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    DECLINED = "declined"


class Locale(StrEnum):
    EN = "en"
    CY = "cy"


class TokenPurpose(StrEnum):
    CONFIRM_EMAIL = "confirm_email"
    RESET_PASSWORD = "reset_password"  # noqa: S105 - a purpose, not a secret


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200), unique=True)  # case-folded, for uniqueness
    kind: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime]
    verified_at: Mapped[datetime | None]
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="organisation", foreign_keys="Membership.organisation_id"
    )

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    locale: Mapped[str] = mapped_column(String(5), default=Locale.EN)
    is_admin: Mapped[bool] = mapped_column(default=False)
    is_disabled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    email_confirmed_at: Mapped[datetime | None]
    # E-mail me when a challenge with a tag I follow opens.
    notify_followed_tags: Mapped[bool] = mapped_column(default=True, server_default=true())
    # Two-step sign-in with an authenticator app (TOTP): the shared key once confirmed, a key
    # being set up and not yet confirmed, and the last time step accepted (so no code works twice).
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_pending_secret: Mapped[str | None] = mapped_column(String(64))
    totp_last_step: Mapped[int | None]
    mfa_enabled_at: Mapped[datetime | None]

    membership: Mapped[Membership | None] = relationship(
        back_populates="user", foreign_keys="Membership.user_id", uselist=False
    )

    # Set by the session loader: the server-side session this request runs under, and whether
    # that session was started or confirmed with a second factor.
    current_session_token = None  # not mapped
    current_session_mfa = False  # not mapped

    @property
    def mfa_enabled(self) -> bool:
        return self.totp_secret is not None and self.mfa_enabled_at is not None

    # Flask-Login's user protocol.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return not self.is_disabled and self.email_confirmed_at is not None

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str | None:
        return self.current_session_token

    @property
    def active_membership(self) -> Membership | None:
        m = self.membership
        return m if m is not None and m.status == MembershipStatus.ACTIVE else None


class Membership(Base):
    """A user's place in an organisation; a user belongs to at most one organisation."""

    __tablename__ = "memberships"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    user: Mapped[User] = relationship(back_populates="membership", foreign_keys=[user_id])
    organisation: Mapped[Organisation] = relationship(
        back_populates="memberships", foreign_keys=[organisation_id]
    )


class UserSession(Base):
    """A signed-in session held on the server, so signing out ends it for every copy of the cookie."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    # When a second factor was given in this session (at sign-in, or on setting it up).
    mfa_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class RecoveryCode(Base):
    """A single-use code for signing in without the authenticator app; only its hash is stored."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class AccountToken(Base):
    """A random, single-use, short-lived token sent by e-mail; only its hash is stored."""

    __tablename__ = "account_tokens"
    __table_args__ = (Index("ix_account_tokens_user_purpose", "user_id", "purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    purpose: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


__all__ = [
    "AccountToken",
    "Locale",
    "MemberRole",
    "Membership",
    "MembershipStatus",
    "Organisation",
    "OrganisationKind",
    "RecoveryCode",
    "TokenPurpose",
    "User",
    "UserSession",
]
