"""Demonstration organisations and users, loaded idempotently by ``flask demo load``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from procure.accounts.models import (
    Membership,
    MembershipStatus,
    Organisation,
    User,
)
from procure.audit import services as audit

DEMO_PASSWORD = "demo-procure-2026"  # noqa: S105 - published demo sign-in
# The published authenticator key of the demo accounts that must use two-step sign-in.
DEMO_TOTP_SECRET = "DEMOPROCUREDEMOPROCUREDEMOPROCUR"  # noqa: S105 - published demo key

ORGANISATIONS = [
    # name, kind, verified
    ("Cyngor Sir Enghraifft / Example County Council", "authority", True),
    ("Bwrdd Iechyd Enghraifft / Example Health Board", "authority", True),
    ("Example Town Council", "authority", False),
    ("Bright Ideas Ltd", "supplier", True),
    ("Greenfield Data Co-operative", "supplier", True),
    ("Steady Steps Ltd", "supplier", True),
]

USERS = [
    # email, name, organisation index or None, role, locale, admin, description
    ("admin@procure.example", "Alex Admin", None, None, "en", True, "platform admin"),
    ("editor@council.example", "Eleri Editor", 0, "editor", "cy",  False,
     "authority editor, Example County Council (Welsh e-mails); moderates the damp challenge"),
    ("viewer@council.example", "Vijay Viewer", 0, "viewer", "en", False,
     "authority viewer, Example County Council; assessor of the damp challenge"),
    ("editor@health.example", "Hana Health", 1, "editor", "en", False,
     "authority editor, Example Health Board"),
    ("clerk@town.example", "Tomos Town", 2, "editor", "cy", False,
     "editor of an unverified authority"),
    ("supplier@bright.example", "Siân Supplier", 3, "editor", "en", False,
     "supplier editor, Bright Ideas Ltd"),
    ("supplier@greenfield.example", "Gwen Green", 4, "editor", "en", False,
     "supplier editor, Greenfield Data Co-operative"),
    ("assessor@expert.example", "Dr Sian Morgan", None, None, "en", False,
     "independent expert, assessor of the damp challenge (no organisation)"),
    ("supplier@steadysteps.example", "Steffan Steady", 5, "editor", "en", False,
     "supplier editor, Steady Steps Ltd (not shortlisted on the concluded falls challenge)"),
]

# Who signs in with the demo authenticator key: admins, authority members and the assessors.
MFA_USERS = {u[0] for u in USERS if u[5] or (u[2] is not None and ORGANISATIONS[u[2]][1] == "authority")
             } | {"assessor@expert.example"}

SIGN_INS = {
    "password": DEMO_PASSWORD,
    "totp_key": DEMO_TOTP_SECRET,
    "accounts": [(u[0], ("* " if u[0] in MFA_USERS else "") + u[6]) for u in USERS],
}


def load_demo(session: Session, *, now: datetime) -> None:
    """Create whatever demo organisations and users are missing; existing ones are left alone."""
    orgs: list[Organisation] = []
    for name, kind, verified in ORGANISATIONS:
        key = " ".join(name.casefold().split())
        org = session.execute(select(Organisation).where(Organisation.name_key == key)
                              ).scalar_one_or_none()
        if org is None:
            org = Organisation(name=name, name_key=key, kind=kind, created_at=now,
                               verified_at=now if verified else None)
            session.add(org)
            session.flush()
            audit.record(session, action="organisation.created", subject_type="organisation",
                         subject_id=org.id, actor_id=None, now=now, data={"demo": True})
        orgs.append(org)
    password_hash = generate_password_hash(DEMO_PASSWORD)
    for email, name, org_index, role, locale, is_admin, _desc in USERS:
        existing = session.execute(select(User).where(User.email == email)).scalar_one_or_none()
        if existing is not None:
            if email in MFA_USERS and existing.totp_secret is None:  # loaded before two-step sign-in
                existing.totp_secret, existing.mfa_enabled_at = DEMO_TOTP_SECRET, now
            continue
        mfa = email in MFA_USERS
        user = User(email=email, name=name, password_hash=password_hash, locale=locale,
                    is_admin=is_admin, is_disabled=False, created_at=now, email_confirmed_at=now,
                    totp_secret=DEMO_TOTP_SECRET if mfa else None,
                    mfa_enabled_at=now if mfa else None)
        session.add(user)
        session.flush()
        audit.record(session, action="user.registered", subject_type="user", subject_id=user.id,
                     actor_id=None, now=now, data={"demo": True})
        if org_index is not None:
            session.add(Membership(user_id=user.id, organisation_id=orgs[org_index].id,
                                   role=role, status=MembershipStatus.ACTIVE, created_at=now,
                                   decided_at=now))
    session.commit()
