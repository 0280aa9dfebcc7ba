"""factory_boy factories for the models; bound to the test's session by the ``db`` fixture."""

from __future__ import annotations

from datetime import UTC, datetime

import factory
from factory.alchemy import SQLAlchemyModelFactory
from werkzeug.security import generate_password_hash

from procure.accounts.models import Membership, Organisation, User

PASSWORD = "correct horse battery staple"
_HASH = generate_password_hash(PASSWORD)
CREATED = datetime(2026, 1, 1, tzinfo=UTC)


class _Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_persistence = "flush"


class OrganisationFactory(_Base):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Organisation {n}")
    name_key = factory.LazyAttribute(lambda o: " ".join(o.name.casefold().split()))
    kind = "authority"
    created_at = CREATED
    verified_at = CREATED


class UserFactory(_Base):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    name = factory.Sequence(lambda n: f"Person {n}")
    password_hash = _HASH
    locale = "en"
    is_admin = False
    is_disabled = False
    created_at = CREATED
    email_confirmed_at = CREATED


class MembershipFactory(_Base):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    role = "editor"
    status = "active"
    created_at = CREATED
    decided_at = CREATED


def member(organisation: Organisation | None = None, *, role: str = "editor",
           status: str = "active", **user_fields) -> User:
    """A user who is a member of ``organisation`` (a new one if None)."""
    org = organisation or OrganisationFactory()
    user = UserFactory(**user_fields)
    MembershipFactory(user=user, organisation=org, role=role, status=status)
    user.membership  # noqa: B018 - load the relationship
    session = UserFactory._meta.sqlalchemy_session
    session.refresh(user)
    return user


def bind(session) -> None:
    for f in (OrganisationFactory, UserFactory, MembershipFactory):
        f._meta.sqlalchemy_session = session
