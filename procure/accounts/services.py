"""Account use cases: registration, sign-in sessions, organisations and memberships.

Each service checks permission itself, writes the audit event and outbox messages, and
commits; callers (views, CLI, tests) pass ``actor=`` and ``now=``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

import pyotp
import segno
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload
from werkzeug.security import check_password_hash, generate_password_hash

from procure.accounts import rules
from procure.accounts.models import (
    AccountToken,
    Locale,
    MemberRole,
    Membership,
    MembershipStatus,
    Organisation,
    OrganisationKind,
    RecoveryCode,
    TokenPurpose,
    User,
    UserSession,
)
from procure.audit import services as audit
from procure.errors import InvalidTransition, NotFound, NotPermitted, RuleViolation
from procure.notifications.services import external_url, queue_email
from procure.permissions import Permission, can

CONFIRM_TOKEN_LIFETIME = timedelta(hours=24)
RESET_TOKEN_LIFETIME = timedelta(hours=1)


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


_DUMMY_HASH: str | None = None


def _dummy_hash() -> str:
    """A real hash to check against when the account does not exist, so timing reveals nothing."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = generate_password_hash(secrets.token_urlsafe(16))
    return _DUMMY_HASH


def _check_password(password: str, email: str = "", name: str = "", field: str = "password") -> None:
    problem = rules.password_problem(password, email=email, name=name)
    if problem:
        raise RuleViolation({field: problem})


def _issue_token(session: Session, user: User, purpose: TokenPurpose, now: datetime,
                 lifetime: timedelta) -> str:
    token = secrets.token_urlsafe(32)
    session.add(AccountToken(token_hash=_hash_token(token), user_id=user.id, purpose=purpose,
                             created_at=now, expires_at=now + lifetime))
    return token


def _consume_token(session: Session, token: str, purpose: TokenPurpose, now: datetime) -> User:
    row = session.execute(
        select(AccountToken).where(AccountToken.token_hash == _hash_token(token),
                                   AccountToken.purpose == purpose)
        .with_for_update()
    ).scalar_one_or_none()
    if row is None or row.used_at is not None or row.expires_at <= now:
        raise RuleViolation({"token": "token_invalid"})
    row.used_at = now
    return row.user


def get_user_by_email(session: Session, email: str) -> User | None:
    return session.execute(
        select(User).where(User.email == rules.normalise_email(email))
    ).scalar_one_or_none()


# --- registration and sign-in ---------------------------------------------------------------

def register_user(session: Session, *, name: str, email: str, password: str, locale: str,
                  now: datetime) -> User | None:
    """Create an unconfirmed account and e-mail a confirmation link.

    If the address is already registered nothing is created and the owner is told by
    e-mail instead; the caller shows the same page either way, so nobody can probe
    which addresses have accounts.
    """
    email = rules.normalise_email(email)
    _check_password(password, email=email, name=name)
    if locale not in set(Locale):
        raise RuleViolation({"locale": "locale_invalid"})
    existing = get_user_by_email(session, email)
    password_hash = generate_password_hash(password)  # on both paths, so timing tells nothing
    if existing is not None:
        queue_email(session, key=f"account-exists:{existing.id}:{now.isoformat()}",
                    template="account_exists", to_email=existing.email, locale=existing.locale,
                    recipient_id=existing.id, now=now,
                    context={"name": existing.name, "sign_in_url": external_url("accounts.sign_in")})
        session.commit()
        return None
    user = User(email=email, name=name.strip(), password_hash=password_hash, locale=locale,
                is_admin=False, is_disabled=False, created_at=now)
    session.add(user)
    try:
        session.flush()
    except IntegrityError:  # registered concurrently
        session.rollback()
        return None
    audit.record(session, action="user.registered", subject_type="user", subject_id=user.id,
                 actor_id=user.id, now=now)
    _send_confirmation(session, user, now, key=f"welcome:{user.id}")
    session.commit()
    return user


def _send_confirmation(session: Session, user: User, now: datetime, key: str) -> None:
    token = _issue_token(session, user, TokenPurpose.CONFIRM_EMAIL, now, CONFIRM_TOKEN_LIFETIME)
    queue_email(session, key=key, template="welcome", to_email=user.email,
                locale=user.locale, recipient_id=user.id, now=now, sensitive=True,
                context={"name": user.name,
                         "confirm_url": external_url("accounts.confirm_email", token=token),
                         "hours": int(CONFIRM_TOKEN_LIFETIME.total_seconds() // 3600)})


def resend_confirmation(session: Session, *, email: str, password: str, now: datetime) -> bool:
    """Send a fresh confirmation link to someone who signs in before confirming their address.

    Only with the right password, so it tells a stranger nothing.
    """
    user = get_user_by_email(session, email)
    if (user is None or user.email_confirmed_at is not None or user.is_disabled
            or not check_password_hash(user.password_hash, password)):
        return False
    _send_confirmation(session, user, now, key=f"welcome:{user.id}:{now.isoformat()}")
    session.commit()
    return True


def confirm_email(session: Session, *, token: str, now: datetime) -> User:
    """Confirm the address behind a single-use link; the account can then sign in."""
    user = _consume_token(session, token, TokenPurpose.CONFIRM_EMAIL, now)
    if user.email_confirmed_at is None:
        user.email_confirmed_at = now
        audit.record(session, action="user.email_confirmed", subject_type="user",
                     subject_id=user.id, actor_id=user.id, now=now)
    session.commit()
    return user


def authenticate(session: Session, *, email: str, password: str) -> User | None:
    """The active user with these credentials, or None. Costs the same whether or not it exists."""
    user = get_user_by_email(session, email)
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.is_active:
        return None
    return user


def start_session(session: Session, *, user: User, now: datetime, mfa: bool = False) -> str:
    """Open a server-side session; the returned token goes into the signed cookie.

    ``mfa`` records that the person gave a second factor (an authenticator or recovery code)
    as they signed in; without it, someone who must use one is sent to do so first.
    """
    token = secrets.token_urlsafe(32)
    session.add(UserSession(token_hash=_hash_token(token), user_id=user.id, created_at=now,
                            last_seen_at=now, mfa_at=now if mfa else None))
    audit.record(session, action="user.signed_in", subject_type="user", subject_id=user.id,
                 actor_id=user.id, now=now, data={"mfa": True} if mfa else None)
    session.commit()
    user.current_session_token = token
    user.current_session_mfa = mfa
    return token


def load_session_user(session: Session, token: str, *, now: datetime) -> User | None:
    """The user of a live session, or None if it ended or timed out (then it is ended)."""
    row = session.execute(
        select(UserSession).where(UserSession.token_hash == _hash_token(token))
        .options(selectinload(UserSession.user).selectinload(User.membership)
                 .selectinload(Membership.organisation))
    ).scalar_one_or_none()
    if row is None or row.ended_at is not None:
        return None
    cfg = current_app.config
    if rules.session_expired(created_at=row.created_at, last_seen_at=row.last_seen_at, now=now,
                             idle=timedelta(minutes=cfg["SESSION_IDLE_MINUTES"]),
                             absolute=timedelta(hours=cfg["SESSION_MAX_HOURS"])):
        row.ended_at = now
        session.commit()
        return None
    if not row.user.is_active:
        return None
    if rules.should_touch(row.last_seen_at, now):
        row.last_seen_at = now
        session.commit()
    row.user.current_session_token = token
    row.user.current_session_mfa = row.mfa_at is not None
    return row.user


def end_session(session: Session, *, token: str, now: datetime) -> None:
    """Sign out: the session ends on the server, so any copy of the cookie stops working."""
    row = session.execute(
        select(UserSession).where(UserSession.token_hash == _hash_token(token))
    ).scalar_one_or_none()
    if row is not None and row.ended_at is None:
        row.ended_at = now
        audit.record(session, action="user.signed_out", subject_type="user",
                     subject_id=row.user_id, actor_id=row.user_id, now=now)
        session.commit()


def _end_all_sessions(session: Session, user: User, now: datetime, keep: str | None = None) -> None:
    keep_hash = _hash_token(keep) if keep else None
    for row in session.execute(
        select(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    ).scalars():
        if row.token_hash != keep_hash:
            row.ended_at = now


def record_sign_in_throttled(session: Session, *, email: str, address: str, scope: str,
                             now: datetime) -> None:
    """Audit a refused sign-in attempt after too many failures (the throttle, not a lock-out)."""
    user = get_user_by_email(session, email) if email else None
    audit.record(session, action="user.sign_in_throttled", subject_type="user",
                 subject_id=user.id if user else "-", actor_id=None, now=now,
                 data={"scope": scope, "address": address})
    session.commit()


def change_password(session: Session, *, actor: User, current_password: str, new_password: str,
                    now: datetime) -> None:
    """Change the password after re-entering the current one; other sessions end."""
    if not check_password_hash(actor.password_hash, current_password):
        raise RuleViolation({"current_password": "password_wrong"})
    _check_password(new_password, email=actor.email, name=actor.name, field="new_password")
    actor.password_hash = generate_password_hash(new_password)
    _end_all_sessions(session, actor, now, keep=actor.current_session_token)
    audit.record(session, action="user.password_changed", subject_type="user",
                 subject_id=actor.id, actor_id=actor.id, now=now)
    queue_email(session, key=f"password-changed:{actor.id}:{now.isoformat()}",
                template="password_changed", to_email=actor.email, locale=actor.locale,
                recipient_id=actor.id, now=now, context={"name": actor.name})
    session.commit()


def request_password_reset(session: Session, *, email: str, now: datetime) -> None:
    """E-mail a single-use reset link if the account exists; say nothing either way."""
    user = get_user_by_email(session, email)
    if user is None or user.is_disabled:
        return
    token = _issue_token(session, user, TokenPurpose.RESET_PASSWORD, now, RESET_TOKEN_LIFETIME)
    queue_email(session, key=f"reset:{user.id}:{now.isoformat()}", template="password_reset",
                to_email=user.email, locale=user.locale, recipient_id=user.id, now=now,
                sensitive=True,
                context={"name": user.name,
                         "reset_url": external_url("accounts.reset_password", token=token),
                         "minutes": int(RESET_TOKEN_LIFETIME.total_seconds() // 60)})
    session.commit()


def reset_password(session: Session, *, token: str, new_password: str, now: datetime) -> User:
    """Set a new password from a reset link; every session of the account ends."""
    user = _consume_token(session, token, TokenPurpose.RESET_PASSWORD, now)
    _check_password(new_password, email=user.email, name=user.name, field="new_password")
    user.password_hash = generate_password_hash(new_password)
    if user.email_confirmed_at is None:
        user.email_confirmed_at = now  # the link proves the address
    _end_all_sessions(session, user, now)
    audit.record(session, action="user.password_reset", subject_type="user", subject_id=user.id,
                 actor_id=user.id, now=now)
    session.commit()
    return user


def set_locale(session: Session, *, actor: User, locale: str, now: datetime) -> None:
    """Record the language for pages and e-mails."""
    if locale not in set(Locale):
        raise RuleViolation({"locale": "locale_invalid"})
    if actor.locale != locale:
        actor.locale = locale
        audit.record(session, action="user.locale_changed", subject_type="user",
                     subject_id=actor.id, actor_id=actor.id, now=now, data={"locale": locale})
    session.commit()


def create_admin(session: Session, *, email: str, name: str, password: str, now: datetime) -> User:
    """Make a platform admin (from the command line), or promote an existing account."""
    email = rules.normalise_email(email)
    user = get_user_by_email(session, email)
    if user is None:
        _check_password(password, email=email, name=name)
        user = User(email=email, name=name, password_hash=generate_password_hash(password),
                    locale=Locale.EN, is_admin=True, is_disabled=False, created_at=now,
                    email_confirmed_at=now)
        session.add(user)
        session.flush()
    else:
        user.is_admin = True
    audit.record(session, action="user.made_admin", subject_type="user", subject_id=user.id,
                 actor_id=None, now=now)
    session.commit()
    return user


# --- organisations and memberships ----------------------------------------------------------

def _org_key(name: str) -> str:
    return " ".join(name.casefold().split())


def list_organisations(session: Session, *, kind: str | None = None,
                       verified: bool | None = None) -> list[Organisation]:
    query = select(Organisation).order_by(Organisation.name)
    if kind:
        query = query.where(Organisation.kind == kind)
    if verified is not None:
        query = query.where(Organisation.verified_at.is_not(None) if verified
                            else Organisation.verified_at.is_(None))
    return list(session.execute(query).scalars())


def get_organisation(session: Session, organisation_id: int) -> Organisation:
    org = session.get(Organisation, organisation_id)
    if org is None:
        raise NotFound("organisation")
    return org


def _editors(session: Session, organisation_id: int) -> list[User]:
    return list(session.execute(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.organisation_id == organisation_id,
               Membership.status == MembershipStatus.ACTIVE,
               Membership.role == MemberRole.EDITOR)
        .order_by(User.id)
    ).scalars())


def create_organisation(session: Session, *, actor: User, name: str, kind: str,
                        now: datetime) -> Organisation:
    """Create an (unverified) organisation with the actor as its first editor."""
    if not can(actor, Permission.ORGANISATION_CREATE):
        raise NotPermitted("organisation:create")
    if kind not in set(OrganisationKind):
        raise RuleViolation({"kind": "kind_invalid"})
    name = " ".join(name.split())
    if session.execute(select(Organisation.id).where(Organisation.name_key == _org_key(name))
                       ).first():
        raise RuleViolation({"name": "organisation_exists"})
    org = Organisation(name=name, name_key=_org_key(name), kind=kind, created_at=now)
    session.add(org)
    session.flush()
    _replace_membership(session, actor, org, MemberRole.EDITOR, MembershipStatus.ACTIVE, now)
    audit.record(session, action="organisation.created", subject_type="organisation",
                 subject_id=org.id, actor_id=actor.id, now=now, data={"kind": kind})
    session.commit()
    return org


def _replace_membership(session: Session, user: User, org: Organisation, role: str,
                        status: str, now: datetime) -> Membership:
    if user.membership is not None:  # a declined request is replaced by the new one
        session.delete(user.membership)
        session.flush()
    m = Membership(user_id=user.id, organisation_id=org.id, role=role, status=status,
                   created_at=now, decided_at=now if status == MembershipStatus.ACTIVE else None)
    session.add(m)
    session.flush()
    session.refresh(user)
    return m


def request_membership(session: Session, *, actor: User, organisation_id: int,
                       now: datetime) -> Membership:
    """Ask to join an organisation; its editors are told and one of them decides."""
    if not can(actor, Permission.ORGANISATION_JOIN):
        raise NotPermitted("organisation:join")
    org = get_organisation(session, organisation_id)
    membership = _replace_membership(session, actor, org, MemberRole.VIEWER,
                                     MembershipStatus.PENDING, now)
    audit.record(session, action="membership.requested", subject_type="membership",
                 subject_id=membership.id, actor_id=actor.id, now=now,
                 data={"organisation_id": org.id})
    for editor in _editors(session, org.id):
        queue_email(session, key=f"membership-request:{membership.id}:{editor.id}",
                    template="membership_request", to_email=editor.email, locale=editor.locale,
                    recipient_id=editor.id, now=now,
                    context={"name": editor.name, "requester": actor.name,
                             "requester_email": actor.email, "organisation": org.name,
                             "members_url": external_url("organisations.show_organisation")})
    session.commit()
    return membership


def _load_membership_for(session: Session, actor: User, membership_id: int) -> Membership:
    m = session.get(Membership, membership_id)
    if m is None or not can(actor, Permission.ORGANISATION_VIEW_MEMBERS, m.organisation):
        raise NotFound("membership")
    if not can(actor, Permission.ORGANISATION_MANAGE_MEMBERS, m.organisation):
        raise NotPermitted("organisation:manage_members")
    return m


def decide_membership(session: Session, *, actor: User, membership_id: int, approve: bool,
                      role: str, now: datetime) -> Membership:
    """An editor approves (with a role) or declines a pending request to join."""
    m = _load_membership_for(session, actor, membership_id)
    if m.status != MembershipStatus.PENDING:
        raise InvalidTransition(m.status, "decide")
    if role not in set(MemberRole):
        raise RuleViolation({"role": "role_invalid"})
    m.status = MembershipStatus.ACTIVE if approve else MembershipStatus.DECLINED
    m.role = role if approve else m.role
    m.decided_at = now
    m.decided_by_id = actor.id
    audit.record(session, action="membership.approved" if approve else "membership.declined",
                 subject_type="membership", subject_id=m.id, actor_id=actor.id, now=now,
                 data={"role": m.role} if approve else {})
    queue_email(session, key=f"membership-decided:{m.id}", recipient_id=m.user.id,
                template="membership_approved" if approve else "membership_declined",
                to_email=m.user.email, locale=m.user.locale, now=now,
                context={"name": m.user.name, "organisation": m.organisation.name,
                         "role": m.role, "sign_in_url": external_url("accounts.sign_in")})
    session.commit()
    return m


def change_role(session: Session, *, actor: User, membership_id: int, role: str,
                now: datetime) -> Membership:
    """An editor changes a member's role; an organisation always keeps at least one editor."""
    m = _load_membership_for(session, actor, membership_id)
    if m.status != MembershipStatus.ACTIVE:
        raise InvalidTransition(m.status, "change_role")
    if role not in set(MemberRole):
        raise RuleViolation({"role": "role_invalid"})
    if m.role == role:
        return m
    if m.role == MemberRole.EDITOR and len(_editors(session, m.organisation_id)) <= 1:
        raise RuleViolation({"role": "last_editor"})
    old = m.role
    m.role = role
    audit.record(session, action="membership.role_changed", subject_type="membership",
                 subject_id=m.id, actor_id=actor.id, now=now, data={"from": old, "to": role})
    session.commit()
    return m


def verify_organisation(session: Session, *, actor: User, organisation_id: int,
                        now: datetime) -> Organisation:
    """An admin verifies an organisation; its editors are told."""
    org = session.execute(
        select(Organisation).where(Organisation.id == organisation_id).with_for_update()
    ).scalar_one_or_none()
    if org is None:
        raise NotFound("organisation")
    if org.is_verified:
        raise InvalidTransition("verified", "verify")
    if not can(actor, Permission.ORGANISATION_VERIFY, org):
        raise NotPermitted("organisation:verify")
    org.verified_at = now
    org.verified_by_id = actor.id
    audit.record(session, action="organisation.verified", subject_type="organisation",
                 subject_id=org.id, actor_id=actor.id, now=now)
    for editor in _editors(session, org.id):
        queue_email(session, key=f"organisation-verified:{org.id}:{editor.id}",
                    template="organisation_verified", to_email=editor.email,
                    locale=editor.locale, recipient_id=editor.id, now=now,
                    context={"name": editor.name, "organisation": org.name,
                             "kind": org.kind,
                             "organisation_url": external_url("organisations.show_organisation")})
    session.commit()
    return org


def members_of(session: Session, organisation: Organisation) -> list[Membership]:
    return list(session.execute(
        select(Membership).where(Membership.organisation_id == organisation.id)
        .options(selectinload(Membership.user))
        .order_by(Membership.status, Membership.created_at)
    ).scalars())


def count_users(session: Session) -> int:
    return session.execute(select(func.count(User.id))).scalar_one()


# --- two-step sign-in (TOTP) and account disabling -------------------------------------------

TOTP_ISSUER = "Procure"


def mfa_required_for(session: Session, user: User) -> bool:
    """Whether ``user`` must sign in with a second factor (see ``rules.mfa_required``)."""
    from procure.assessment.models import AppointmentStatus, AssessorAppointment

    m = user.active_membership
    authority = m is not None and m.organisation.kind == OrganisationKind.AUTHORITY
    # The assessor look-up is only needed when nothing else already decides it.
    assessing = not (user.is_admin or authority) and session.execute(
        select(AssessorAppointment.id).where(AssessorAppointment.user_id == user.id,
                                             AssessorAppointment.status == AppointmentStatus.ACCEPTED)
        .limit(1)
    ).first() is not None
    return rules.mfa_required(is_admin=user.is_admin, authority_member=authority,
                              accepted_assessor=assessing)


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, interval=rules.TOTP_STEP_SECONDS)


def _matching_step(secret: str, code: str, now: datetime, last_used_step: int | None) -> int | None:
    """The time step whose code is ``code``, if it is acceptable now and not used before."""
    code = rules.normalise_code(code)
    if len(code) != 6 or not code.isdigit():
        return None
    totp = _totp(secret)
    current = totp.timecode(now)
    for step in range(current - rules.TOTP_DRIFT_STEPS, current + rules.TOTP_DRIFT_STEPS + 1):
        if (hmac.compare_digest(totp.generate_otp(step), code)
                and rules.totp_step_acceptable(step, current_step=current,
                                               last_used_step=last_used_step)):
            return step
    return None


def totp_code(secret: str, now: datetime) -> str:
    """The current code for ``secret`` (for the demo command and tests)."""
    return _totp(secret).at(now)


def enrolment_key(session: Session, *, user: User, now: datetime) -> str:
    """The new authenticator key being set up for ``user``: made once, kept until confirmed."""
    if user.totp_pending_secret is None:
        user.totp_pending_secret = pyotp.random_base32()
        session.commit()
    return user.totp_pending_secret


def enrolment_qr(user: User, secret: str) -> tuple[str, str]:
    """The ``otpauth://`` address of a key and its QR code as an SVG ``data:`` URI."""
    uri = _totp(secret).provisioning_uri(name=user.email, issuer_name=TOTP_ISSUER)
    return uri, segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


def _recovery_hash(user_id: int, code: str) -> str:
    return _hash_token(f"{user_id}:{rules.normalise_code(code)}")


def _new_recovery_codes(session: Session, user: User, now: datetime) -> list[str]:
    """Replace the user's recovery codes; the codes are returned once and only hashes kept."""
    for old in session.execute(select(RecoveryCode).where(RecoveryCode.user_id == user.id)).scalars():
        session.delete(old)
    session.flush()
    codes = []
    for _ in range(rules.RECOVERY_CODE_COUNT):
        raw = secrets.token_hex(6)
        code = f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"
        session.add(RecoveryCode(user_id=user.id, code_hash=_recovery_hash(user.id, code),
                                 created_at=now))
        codes.append(code)
    return codes


def recovery_codes_left(session: Session, user: User) -> int:
    return session.execute(
        select(func.count(RecoveryCode.id)).where(RecoveryCode.user_id == user.id,
                                                  RecoveryCode.used_at.is_(None))
    ).scalar_one()


def _mfa_email(session: Session, user: User, template: str, now: datetime, **context) -> None:
    queue_email(session, key=f"{template}:{user.id}:{now.isoformat()}", template=template,
                to_email=user.email, locale=user.locale, recipient_id=user.id, now=now,
                context={"name": user.name, "account_url": external_url("accounts.show_account"),
                         **context})


def _mark_session_mfa(session: Session, token: str | None, now: datetime) -> None:
    if not token:
        return
    row = session.execute(
        select(UserSession).where(UserSession.token_hash == _hash_token(token))
    ).scalar_one_or_none()
    if row is not None and row.ended_at is None:
        row.mfa_at = now


def confirm_enrolment(session: Session, *, user: User, code: str, now: datetime) -> list[str]:
    """Switch on (or replace) the authenticator once a current code from the new key is given.

    Returns the new recovery codes, to be shown once. The signed-in session, if any, counts
    as having given a second factor.
    """
    secret = user.totp_pending_secret
    step = _matching_step(secret, code, now, None) if secret else None
    if step is None:
        audit.record(session, action="user.mfa_failed", subject_type="user", subject_id=user.id,
                     actor_id=user.id, now=now, data={"stage": "enrolment"})
        session.commit()
        raise RuleViolation({"code": "code_wrong"})
    replacing = user.mfa_enabled
    user.totp_secret = secret
    user.totp_pending_secret = None
    user.totp_last_step = step
    user.mfa_enabled_at = now
    codes = _new_recovery_codes(session, user, now)
    _mark_session_mfa(session, user.current_session_token, now)
    user.current_session_mfa = user.current_session_token is not None
    audit.record(session, action="user.mfa_reset" if replacing else "user.mfa_enabled",
                 subject_type="user", subject_id=user.id, actor_id=user.id, now=now)
    _mfa_email(session, user, "mfa_reset" if replacing else "mfa_enabled", now)
    session.commit()
    return codes


def _use_second_factor(session: Session, user: User, code: str, now: datetime) -> str | None:
    """Check an authenticator or recovery code and use it up; which kind it was, or None."""
    if not user.mfa_enabled:
        return None
    step = _matching_step(user.totp_secret, code, now, user.totp_last_step)
    if step is not None:
        user.totp_last_step = step
        return "totp"
    if len(rules.normalise_code(code)) != 12:
        return None
    row = session.execute(
        select(RecoveryCode).where(RecoveryCode.user_id == user.id,
                                   RecoveryCode.code_hash == _recovery_hash(user.id, code),
                                   RecoveryCode.used_at.is_(None)).with_for_update()
    ).scalar_one_or_none()
    if row is None:
        return None
    row.used_at = now
    session.flush()
    audit.record(session, action="user.recovery_code_used", subject_type="user",
                 subject_id=user.id, actor_id=user.id, now=now)
    _mfa_email(session, user, "mfa_recovery_code_used", now,
               left=recovery_codes_left(session, user))
    return "recovery"


def verify_second_factor(session: Session, *, user: User, code: str, now: datetime,
                         stage: str = "sign_in") -> str:
    """The second step of signing in (or confirming an existing session): a current code from
    the authenticator, not used before, or an unused recovery code. Failures are audited."""
    kind = _use_second_factor(session, user, code, now)
    if kind is None:
        audit.record(session, action="user.mfa_failed", subject_type="user", subject_id=user.id,
                     actor_id=user.id, now=now, data={"stage": stage})
        session.commit()
        raise RuleViolation({"code": "code_wrong"})
    if stage == "session":
        _mark_session_mfa(session, user.current_session_token, now)
        user.current_session_mfa = True
    session.commit()
    return kind


def reauthenticate(session: Session, *, actor: User, password: str, code: str,
                   now: datetime) -> None:
    """Prove it is still the account holder before a security change: the current password and,
    once two-step sign-in is on, a current code. Failures are audited."""
    errors = {}
    if not check_password_hash(actor.password_hash, password):
        errors["current_password"] = "password_wrong"  # noqa: S105 - an error code
    elif actor.mfa_enabled and _use_second_factor(session, actor, code, now) is None:
        errors["current_code"] = "code_wrong"
    if errors:
        session.rollback()
        audit.record(session, action="user.reauthentication_failed", subject_type="user",
                     subject_id=actor.id, actor_id=actor.id, now=now)
        session.commit()
        raise RuleViolation(errors)
    session.commit()


def disable_mfa(session: Session, *, actor: User, now: datetime) -> None:
    """Switch two-step sign-in off; only for someone who need not use it (after re-authenticating)."""
    if mfa_required_for(session, actor):
        raise RuleViolation({"mfa": "mfa_required"})
    if not actor.mfa_enabled:
        raise InvalidTransition("off", "disable_mfa")
    _clear_mfa(session, actor)
    audit.record(session, action="user.mfa_disabled", subject_type="user", subject_id=actor.id,
                 actor_id=actor.id, now=now)
    _mfa_email(session, actor, "mfa_disabled", now)
    session.commit()


def regenerate_recovery_codes(session: Session, *, actor: User, now: datetime) -> list[str]:
    """New recovery codes (after re-authenticating); the old ones stop working."""
    if not actor.mfa_enabled:
        raise InvalidTransition("off", "regenerate_recovery_codes")
    codes = _new_recovery_codes(session, actor, now)
    audit.record(session, action="user.recovery_codes_replaced", subject_type="user",
                 subject_id=actor.id, actor_id=actor.id, now=now)
    session.commit()
    return codes


def _clear_mfa(session: Session, user: User) -> None:
    user.totp_secret = None
    user.totp_pending_secret = None
    user.mfa_enabled_at = None
    for row in session.execute(select(RecoveryCode).where(RecoveryCode.user_id == user.id)).scalars():
        session.delete(row)


def reset_mfa(session: Session, *, email: str, now: datetime) -> User:
    """An admin clears a lost authenticator (from the command line): the key and recovery codes
    go, every session ends, and the person sets up a new authenticator when they next sign in."""
    user = get_user_by_email(session, email)
    if user is None:
        raise NotFound("user")
    _clear_mfa(session, user)
    _end_all_sessions(session, user, now)
    audit.record(session, action="user.mfa_reset_by_admin", subject_type="user",
                 subject_id=user.id, actor_id=None, now=now)
    _mfa_email(session, user, "mfa_reset", now)
    session.commit()
    return user


def find_users(session: Session, *, query: str = "", limit: int = 50) -> list[User]:
    """Accounts whose e-mail address or name contains ``query``, for the admin pages."""
    q = select(User).options(selectinload(User.membership).selectinload(Membership.organisation))
    text = query.strip().lower()
    if text:
        like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        q = q.where((User.email.like(like, escape="\\")) | (func.lower(User.name).like(like, escape="\\")))
    return list(session.execute(q.order_by(User.email).limit(limit)).scalars())


def set_disabled(session: Session, *, actor: User, user_id: int, disabled: bool,
                 now: datetime) -> User:
    """An admin disables (or re-enables) an account; disabling ends all its sessions at once,
    so a copied cookie stops working."""
    if not can(actor, Permission.ADMIN_ACCESS):
        raise NotPermitted("admin:access")
    user = session.execute(select(User).where(User.id == user_id).with_for_update()
                           ).scalar_one_or_none()
    if user is None:
        raise NotFound("user")
    if user.id == actor.id:
        raise RuleViolation({"user": "cannot_disable_self"})
    if user.is_disabled == disabled:
        raise InvalidTransition("disabled" if disabled else "enabled",
                                "disable" if disabled else "enable")
    user.is_disabled = disabled
    if disabled:
        _end_all_sessions(session, user, now)
    audit.record(session, action="user.disabled" if disabled else "user.enabled",
                 subject_type="user", subject_id=user.id, actor_id=actor.id, now=now)
    session.commit()
    return user
