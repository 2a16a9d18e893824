"""Errors every app may raise and every view knows how to answer."""

from django.core.exceptions import ValidationError


class WorkflowError(Exception):
    """An action that the current state of a record does not allow (answered with HTTP 409)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class RoleGrantRefused(ValidationError):
    """A grant or removal of a role that separation of duties does not allow (nothing is written)."""


__all__ = ["RoleGrantRefused", "WorkflowError"]
