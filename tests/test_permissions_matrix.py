"""Every permission against every role (pure), and every URL rule walked as every role."""

from __future__ import annotations

import pytest
from flask_login import AnonymousUserMixin

from procure.errors import NotPermitted
from procure.permissions import Permission, can, require
from tests.conftest import sign_in
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory, member

# The objects permissions are asked about: an unverified authority (the object's
# organisation in most rows), an unverified supplier, and an already verified authority.
AUTHORITY = OrganisationFactory.build(id=1, name="Authority", kind="authority", verified_at=None)
SUPPLIER = OrganisationFactory.build(id=2, name="Supplier", kind="supplier", verified_at=None)
VERIFIED = OrganisationFactory.build(id=3, name="Verified", kind="authority")
OTHER = OrganisationFactory.build(id=4, name="Other", kind="authority")
OBJECTS = {"none": None, "authority": AUTHORITY, "supplier": SUPPLIER, "verified": VERIFIED}


def _user(**fields):
    return UserFactory.build(id=fields.pop("id", None), **fields)


def _member_of(org, role="editor", status="active", **fields):
    user = _user(**fields)
    MembershipFactory.build(user=user, organisation=org, organisation_id=org.id, role=role,
                            status=status)
    return user


ROLES = {
    "visitor (None)": lambda: None,
    "visitor (anonymous)": AnonymousUserMixin,
    "unconfirmed user": lambda: _user(email_confirmed_at=None),
    "unconfirmed editor": lambda: _member_of(AUTHORITY, email_confirmed_at=None),
    "disabled editor": lambda: _member_of(AUTHORITY, is_disabled=True),
    "disabled admin": lambda: _user(is_admin=True, is_disabled=True),
    "no organisation": lambda: _user(),
    "pending member": lambda: _member_of(AUTHORITY, role="viewer", status="pending"),
    "declined member": lambda: _member_of(AUTHORITY, role="viewer", status="declined"),
    "supplier viewer": lambda: _member_of(SUPPLIER, role="viewer"),
    "supplier editor": lambda: _member_of(SUPPLIER, role="editor"),
    "authority viewer": lambda: _member_of(AUTHORITY, role="viewer"),
    "authority editor": lambda: _member_of(AUTHORITY, role="editor"),
    "editor of another organisation": lambda: _member_of(OTHER, role="editor"),
    "admin": lambda: _user(is_admin=True),
    "admin who is an editor": lambda: _member_of(SUPPLIER, role="editor", is_admin=True),
}

P = Permission
ANY = tuple(OBJECTS)  # the permission does not depend on the object
ADMIN_ONLY = {(p, o) for p in (P.ADMIN_ACCESS, P.AUDIT_READ, P.OUTBOX_READ) for o in ANY}
MAY_JOIN = {(p, o) for p in (P.ORGANISATION_CREATE, P.ORGANISATION_JOIN) for o in ANY}
ADMIN_VIEWS_MEMBERS = {(P.ORGANISATION_VIEW_MEMBERS, o) for o in ANY}  # of any organisation

# role -> every (permission, object) it is allowed; everything else is refused.
ALLOWED: dict[str, set[tuple[Permission, str]]] = {
    "visitor (None)": set(),
    "visitor (anonymous)": set(),
    "unconfirmed user": set(),
    "unconfirmed editor": set(),
    "disabled editor": set(),
    "disabled admin": set(),
    "no organisation": MAY_JOIN,
    "pending member": set(),
    "declined member": MAY_JOIN,
    "supplier viewer": {(P.ORGANISATION_VIEW_MEMBERS, "supplier")},
    "supplier editor": {(P.ORGANISATION_VIEW_MEMBERS, "supplier"),
                        (P.ORGANISATION_MANAGE_MEMBERS, "supplier")},
    "authority viewer": {(P.ORGANISATION_VIEW_MEMBERS, "authority")},
    "authority editor": {(P.ORGANISATION_VIEW_MEMBERS, "authority"),
                         (P.ORGANISATION_MANAGE_MEMBERS, "authority")},
    "editor of another organisation": set(),
    "admin": ADMIN_ONLY | MAY_JOIN | {
        (P.ORGANISATION_VERIFY, "authority"), (P.ORGANISATION_VERIFY, "supplier"),
        *ADMIN_VIEWS_MEMBERS},
    "admin who is an editor": ADMIN_ONLY | {
        (P.ORGANISATION_VERIFY, "authority"), (P.ORGANISATION_VERIFY, "supplier"),
        *ADMIN_VIEWS_MEMBERS, (P.ORGANISATION_MANAGE_MEMBERS, "supplier")},
}

MATRIX = [(role, permission, obj) for role in ROLES for permission in Permission
          for obj in OBJECTS]


def test_table_covers_every_role_and_every_permission_is_granted_to_someone():
    assert set(ALLOWED) == set(ROLES)
    granted = {p for pairs in ALLOWED.values() for p, _ in pairs}
    assert granted == set(Permission), "add rows for a new permission"


@pytest.mark.parametrize("role, permission, obj", MATRIX,
                         ids=[f"{r}-{p}-{o}" for r, p, o in MATRIX])
def test_permission_matrix(role, permission, obj):
    user = ROLES[role]()
    expected = (permission, obj) in ALLOWED[role]
    assert can(user, permission, OBJECTS[obj]) is expected
    if expected:
        require(user, permission, OBJECTS[obj])
    else:
        with pytest.raises(NotPermitted):
            require(user, permission, OBJECTS[obj])


# --- every URL as every role ----------------------------------------------------------------

WALK_ROLES = ["visitor", "supplier editor", "authority editor", "admin"]


@pytest.fixture
def world(db):
    authority = OrganisationFactory(kind="authority", verified_at=None)
    supplier = OrganisationFactory(kind="supplier")
    authority_editor = member(authority, role="editor")
    supplier_editor = member(supplier, role="editor")
    pending = MembershipFactory(organisation=authority, role="viewer", status="pending",
                                decided_at=None)
    admin = UserFactory(is_admin=True)
    return {
        "users": {"visitor": None, "supplier editor": supplier_editor,
                  "authority editor": authority_editor, "admin": admin},
        "ids": {"organisation_id": authority.id, "membership_id": pending.id},
    }


def _paths(app, ids) -> list[tuple[str, bool, str]]:
    """(rule, answers GET, path) for every URL rule, with real ids or a dummy string."""
    out = []
    for rule in app.url_map.iter_rules():
        values = {}
        for arg in rule.arguments:
            converter = type(rule._converters[arg]).__name__
            values[arg] = ids.get(arg, 1) if converter == "IntegerConverter" else "dummy-token"
        out.append((rule.rule, "GET" in rule.methods, rule.build(values)[1]))
    return sorted(out)


@pytest.mark.parametrize("role", WALK_ROLES)
def test_every_url_as_every_role_never_fails(app, client, db, world, role):
    user = world["users"][role]
    if user is not None:
        sign_in(client, db, user)
    paths = _paths(app, world["ids"])
    assert sum(1 for _, get, p in paths if get and p.startswith("/admin")) >= 4
    for rule, answers_get, path in paths:
        response = client.get(path)
        response.close()
        status = response.status_code
        assert status < 500, (rule, path, status)
        if not answers_get:
            assert status == 405, (rule, path, status)  # a POST-only action: GET changes nothing
        elif path.startswith("/admin"):
            if role == "visitor":
                assert status == 302, path
                assert "/sign-in" in response.headers["Location"], path
            elif role == "admin":
                assert status == 200, path
            else:
                assert status == 403, path
                assert "You do not have permission" in response.get_data(as_text=True)
