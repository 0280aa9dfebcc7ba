"""Permissions named ``resource:action`` and one pure answer: ``can(user, permission, obj)``.

No database, no Flask: the caller passes the user (or None for a visitor) and the object
already loaded. Views call ``require()``; services call ``can()`` again.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from procure.errors import NotPermitted


class Permission(StrEnum):
    ADMIN_ACCESS = "admin:access"
    AUDIT_READ = "audit:read"
    OUTBOX_READ = "outbox:read"
    ORGANISATION_CREATE = "organisation:create"
    ORGANISATION_JOIN = "organisation:join"
    ORGANISATION_VERIFY = "organisation:verify"
    ORGANISATION_VIEW_MEMBERS = "organisation:view_members"
    ORGANISATION_MANAGE_MEMBERS = "organisation:manage_members"


def _signed_in(user: Any) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and user.is_active


def _membership(user: Any) -> Any:
    return getattr(user, "active_membership", None) if _signed_in(user) else None


def _is_admin(user: Any) -> bool:
    return _signed_in(user) and bool(getattr(user, "is_admin", False))


def _member_of(user: Any, organisation: Any, role: str | None = None) -> bool:
    m = _membership(user)
    if m is None or organisation is None or m.organisation_id != organisation.id:
        return False
    return role is None or m.role == role


def can(user: Any, permission: Permission, obj: Any = None) -> bool:
    """Whether ``user`` may do ``permission`` to ``obj``."""
    match permission:
        case Permission.ADMIN_ACCESS | Permission.AUDIT_READ | Permission.OUTBOX_READ:
            return _is_admin(user)
        case Permission.ORGANISATION_VERIFY:
            return _is_admin(user) and obj is not None and not obj.is_verified
        case Permission.ORGANISATION_CREATE | Permission.ORGANISATION_JOIN:
            # One organisation per user: only someone with no membership (or a declined one).
            if not _signed_in(user):
                return False
            m = getattr(user, "membership", None)
            return m is None or m.status == "declined"
        case Permission.ORGANISATION_VIEW_MEMBERS:
            return _member_of(user, obj) or _is_admin(user)
        case Permission.ORGANISATION_MANAGE_MEMBERS:
            return _member_of(user, obj, role="editor")
    return False


def require(user: Any, permission: Permission, obj: Any = None) -> None:
    """Raise NotPermitted unless ``can(user, permission, obj)``."""
    if not can(user, permission, obj):
        raise NotPermitted(str(permission))
