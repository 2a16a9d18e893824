"""The audit trail of administration: services call ``record`` for every change they make.

``snapshot`` takes the fields of an object before a change, ``changes_between`` turns two
snapshots into ``{field: [old, new]}`` with only what differs, so a row says "from what to
what" in plain values that stay readable after the object itself is gone.
"""

import datetime
from collections.abc import Iterable
from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from .models import AuditEntry, Organization, User


class AuditAction(models.TextChoices):
    # The values are stored; keep them stable.
    CREATE = "create", _("Created")
    UPDATE = "update", _("Changed")
    MOVE = "move", _("Moved")
    DEACTIVATE = "deactivate", _("Deactivated")
    REACTIVATE = "reactivate", _("Reactivated")
    GRANT_ROLE = "grant_role", _("Role granted")
    REVOKE_ROLE = "revoke_role", _("Role removed")
    RESET_PASSWORD = "reset_password", _("Password reset")
    IMPORT = "import", _("Imported")
    PUBLISH = "publish", _("Published")


def _plain(value):
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.date | datetime.datetime | datetime.time):
        return value.isoformat()
    if isinstance(value, models.Model):
        return str(value)
    return str(value)


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict:
    """The named fields of ``obj`` as plain JSON values (a foreign key by its text)."""
    return {name: _plain(getattr(obj, name)) for name in fields}


def changes_between(before: dict, after: dict) -> dict:
    return {
        name: [before.get(name), after.get(name)]
        for name in sorted(set(before) | set(after))
        if before.get(name) != after.get(name)
    }


def committee_of(org: Organization | None) -> Organization | None:
    """The committee at the top of ``org``'s tree (one query, none for a committee itself)."""
    if org is None:
        return None
    if org.parent_id is None:
        return org
    return Organization.objects.filter(pk=org.ancestor_ids[0]).first()


def record(
    *,
    actor: User | None,
    action: str,
    target: models.Model | None = None,
    target_type: str = "",
    target_label: str = "",
    committee: Organization | None,
    changes: dict | None = None,
    note: str = "",
) -> AuditEntry:
    """Append one row to the audit trail."""
    if target is not None:
        target_type = target_type or target._meta.model_name
        target_label = target_label or str(target)
    return AuditEntry.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        committee=committee,
        action=action,
        target_type=target_type,
        target_id=str(target.pk) if target is not None and target.pk is not None else "",
        target_label=target_label[:200],
        changes=changes or {},
        note=note,
    )
