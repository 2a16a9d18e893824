"""The audit trail of administration: services call ``record`` for every change they make.

``snapshot`` takes the fields of an object before a change, ``changes_between`` turns two
snapshots into ``{field: [old, new]}`` with only what differs, so a row says "from what to
what" in plain values that stay readable after the object itself is gone.

Retention: rows are kept at least 180 days (等保 2.0 asks six months of logs). Nothing in the
product deletes or edits them (``AuditEntry`` refuses both); a purge of rows older than that,
if a deployment ever wants one, is a database administrator's job outside the product.
"""

import datetime
import logging
from collections.abc import Iterable
from decimal import Decimal

from django import forms
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import AuditEntry, Organization, User
from .roles import Role

logger = logging.getLogger("audit")


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
    DELETE = "delete", _("Deleted")


def _plain(value):
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        return timezone.localtime(value).isoformat()  # one instant, one text, whatever its zone
    if isinstance(value, datetime.date | datetime.datetime | datetime.time):
        return value.isoformat()
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, models.QuerySet | list | tuple | set | frozenset):
        return "、".join(sorted(str(item) for item in value))
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


def _initial_value(form, name: str):
    """A form field's initial value as the object it names (a model form keeps a key's pk there)."""
    value = form.initial.get(name)
    field = form.fields.get(name)
    if value in (None, "") or field is None:
        return value
    if isinstance(field, forms.ModelMultipleChoiceField):
        return list(field.queryset.filter(pk__in=[getattr(item, "pk", item) for item in value]))
    if isinstance(field, forms.ModelChoiceField) and not isinstance(value, models.Model):
        return field.queryset.filter(pk=value).first() or value
    return value


def form_changes(form) -> dict:
    """``{field: [old, new]}`` of what a bound, valid Django form changed (the admin's forms)."""
    changes = {}
    for name in form.changed_data:
        if name not in form.cleaned_data or name in ("password", "password1", "password2"):
            continue
        old, new = _plain(_initial_value(form, name)), _plain(form.cleaned_data[name])
        if old != new:
            changes[name] = [old, new]
    return changes


def committee_of_actor(actor: User | None) -> Organization | None:
    """The committee whose staff read a row about something with no committee of its own (a
    schedule): the first committee where ``actor`` is staff; none for a superuser or the system."""
    if actor is None or not actor.is_authenticated or actor.is_superuser:
        return None
    assignment = (
        actor.role_assignments.filter(role=Role.STAFF).select_related("organization").order_by("pk").first()
    )
    return committee_of(assignment.organization) if assignment is not None else None


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
    entry = AuditEntry.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        committee=committee,
        action=action,
        target_type=target_type,
        target_id=str(target.pk) if target is not None and target.pk is not None else "",
        target_label=target_label[:200],
        changes=changes or {},
        note=note,
    )
    # In the log too, with the request's id (config/logs.py).
    line = {"event": "audit", "action": action, "target": f"{entry.target_type}:{entry.target_id}"}
    logger.info("audit entry %s: %s %s", entry.pk, action, target_label, extra=line)
    return entry
