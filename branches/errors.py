"""Errors every app may raise and every view knows how to answer."""


class WorkflowError(Exception):
    """An action that the current state of a record does not allow (answered with HTTP 409)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


__all__ = ["WorkflowError"]
