"""Domain errors. Services raise them; views turn them into 400, 403, 404 or 409."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the domain layer raises on purpose."""


class NotFound(DomainError):
    """The object does not exist, or the actor may not know that it does (404)."""


class NotPermitted(DomainError):
    """The actor may see the object but may not do this to it (403)."""


class InvalidTransition(DomainError):
    """The object's state does not allow this action (409)."""

    def __init__(self, current: str, action: str) -> None:
        super().__init__(f"cannot {action} from {current}")
        self.current = current
        self.action = action


class RuleViolation(DomainError):
    """The input breaks a rule; ``errors`` maps a field name to a message or error code (400)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors
