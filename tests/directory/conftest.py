"""Fixtures of the directory's tests."""

import pytest

from branches.audit import AuditAction, record


@pytest.fixture
def outsider_recorded(world):
    """路人 as an account C1's staff created: role-less, and on C1's audit trail, so theirs to see."""
    record(actor=world.staff, action=AuditAction.CREATE, target=world.outsider, committee=world.committee)
    return world.outsider
