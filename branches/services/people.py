"""Writes to people's accounts and roles, with separation of duties.

Nobody grants or removes a role of their own; only a superuser grants or removes the
committee approver, or party-affairs staff held on a working committee; otherwise the actor
must be a superuser or hold the staff role on the organization or above it. ``actor=None``
is the command line (a system operator) and may do everything. Every change is one row of
the audit trail; a password never is.
"""

import os
import re
import secrets
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models.functions import Upper
from django.utils.translation import gettext as _

from ..audit import AuditAction, changes_between, committee_of, record, snapshot
from ..errors import RoleGrantRefused
from ..hashers import hash_one_time_password
from ..models import ROLE_ORG_KINDS, AuditEntry, Organization, OrgKind, RoleAssignment, User
from ..roles import Role
from ..selectors import has_role_on
from .organizations import BULK_WRITE_BATCH, BulkRowsRefused, chunked_values

PERSON_EDITABLE_FIELDS = ("real_name", "phone", "email")
PERSON_AUDITED_FIELDS = ("username", *PERSON_EDITABLE_FIELDS, "is_active")
# Letters and digits that cannot be mistaken for one another when read out or copied by hand.
ONE_TIME_PASSWORD_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"  # noqa: S105
ONE_TIME_PASSWORD_LENGTH = 12
PHONE_PATTERN = re.compile(r"^[0-9+\-() ]*$")


def generate_one_time_password(user: User | None = None) -> str:
    """A random password that passes the site's password validators."""
    while True:
        candidate = "".join(
            secrets.choice(ONE_TIME_PASSWORD_ALPHABET) for _i in range(ONE_TIME_PASSWORD_LENGTH)
        )
        try:
            validate_password(candidate, user)
        except ValidationError:
            continue
        return candidate


def _set_one_time_password(user: User, one_time: str) -> None:
    """Like ``set_password`` with the cheap one-time hasher; changed at the first sign-in."""
    user.password = hash_one_time_password(one_time)
    user._password = one_time
    user.must_change_password = True


def person_audit_committee(actor: User | None, user: User) -> Organization | None:
    """The committee whose staff read a row about ``user``: where they hold a role, else the actor's."""
    for person in (user, actor):
        if person is None or person.pk is None:
            continue
        assignment = RoleAssignment.objects.filter(user_id=person.pk).select_related("organization").first()
        if assignment is not None:
            return committee_of(assignment.organization)
    return None


def _clean_person_fields(fields: dict) -> dict:
    cleaned = {name: (value or "").strip() for name, value in fields.items()}
    errors = {}
    if cleaned.get("email"):
        try:
            validate_email(cleaned["email"])
        except ValidationError:
            errors["email"] = _("Enter a valid e-mail address.")
    if cleaned.get("phone") and not PHONE_PATTERN.match(cleaned["phone"]):
        errors["phone"] = _("A phone number holds only digits, spaces and + - ( ).")
    for name, limit in (("real_name", 50), ("phone", 30), ("email", 254)):
        if len(cleaned.get(name, "")) > limit:
            errors[name] = _("At most %(limit)d characters.") % {"limit": limit}
    if errors:
        raise ValidationError(errors)
    return cleaned


def may_manage_person(actor: User | None, user: User) -> bool:
    """Whether ``actor`` may change ``user``'s account (deactivate, reset the password, edit).

    Only someone who may grant and remove every role the person holds: otherwise resetting a
    password would hand over roles the actor could never grant. Nobody manages their own
    account here, and only a superuser a superuser's.
    """
    if actor is None:
        return True
    if not actor.is_authenticated or not actor.is_active or actor.pk == user.pk:
        return False
    if actor.is_superuser:
        return True
    if user.is_superuser or not _holds_role_anywhere(actor, Role.STAFF):
        return False
    assignments = RoleAssignment.objects.filter(user_id=user.pk).select_related("organization")
    return all(may_grant(actor, a.role, a.organization) for a in assignments)


def _holds_role_anywhere(user: User, role: str) -> bool:
    return RoleAssignment.objects.filter(user_id=user.pk, role=role).exists()


def _check_may_manage_person(actor: User | None, user: User) -> None:
    if may_manage_person(actor, user):
        return
    if actor is not None and actor.pk == user.pk:
        raise RoleGrantRefused(_("Nobody may make this change to their own account here."))
    if user.is_superuser:
        raise RoleGrantRefused(_("Only a system administrator may change a system administrator's account."))
    raise RoleGrantRefused(
        _(
            "You may change only the accounts of people whose every role you may grant; "
            "ask a system administrator."
        )
    )


@transaction.atomic
def create_person(
    *,
    actor: User | None,
    username: str,
    real_name: str = "",
    phone: str = "",
    email: str = "",
    password: str | None = None,
) -> tuple[User, str | None]:
    """A new account; without ``password``, a one-time password returned to be shown once.

    A one-time password must be changed at the first sign-in (``must_change_password``).
    """
    username = (username or "").strip()
    fields = _clean_person_fields({"real_name": real_name, "phone": phone, "email": email})
    user = User(username=username, **fields)
    errors = {}
    try:
        user.full_clean(exclude=["password"], validate_unique=False)
    except ValidationError as error:
        errors.update(error.message_dict)
    if username and User.objects.filter(username__iexact=username).exists():
        errors["username"] = [_("The user name “%(username)s” is already taken.") % {"username": username}]
    if password:
        try:
            validate_password(password, user)
        except ValidationError as error:
            errors["password"] = error.messages
    if errors:
        raise ValidationError(errors)
    one_time = None
    if password:
        user.set_password(password)
    else:
        one_time = generate_one_time_password(user)
        _set_one_time_password(user, one_time)
    user.save()
    record(
        actor=actor,
        action=AuditAction.CREATE,
        target=user,
        target_label=person_audit_label(user),
        committee=person_audit_committee(actor, user),
        changes={name: [None, value] for name, value in snapshot(user, PERSON_AUDITED_FIELDS).items()},
    )
    return user, one_time


def person_audit_label(user: User) -> str:
    return f"{user.real_name} ({user.username})" if user.real_name else user.username


@transaction.atomic
def update_person(*, actor: User | None, user: User, **fields) -> User:
    """Change a person's name, phone or e-mail; unchanged → nothing written or recorded."""
    unknown = set(fields) - set(PERSON_EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"update_person() cannot change {sorted(unknown)}")
    _check_may_manage_person(actor, user)
    user = User.objects.select_for_update().get(pk=user.pk)
    cleaned = _clean_person_fields(fields)
    before = snapshot(user, PERSON_AUDITED_FIELDS)
    for name, value in cleaned.items():
        setattr(user, name, value)
    changes = changes_between(before, snapshot(user, PERSON_AUDITED_FIELDS))
    if not changes:
        return user
    user.save(update_fields=list(cleaned))
    record(
        actor=actor,
        action=AuditAction.UPDATE,
        target=user,
        target_label=person_audit_label(user),
        committee=person_audit_committee(actor, user),
        changes=changes,
    )
    return user


@transaction.atomic
def set_person_active(*, actor: User | None, user: User, active: bool) -> User:
    """Deactivate (the person can no longer sign in; roles are kept) or reactivate an account."""
    _check_may_manage_person(actor, user)
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_active == active:
        return user
    user.is_active = active
    user.save(update_fields=["is_active"])
    record(
        actor=actor,
        action=AuditAction.REACTIVATE if active else AuditAction.DEACTIVATE,
        target=user,
        target_label=person_audit_label(user),
        committee=person_audit_committee(actor, user),
        changes={"is_active": [not active, active]},
    )
    return user


@transaction.atomic
def reset_password(*, actor: User | None, user: User) -> str:
    """A new one-time password (returned to be shown once), to be changed at the next sign-in."""
    _check_may_manage_person(actor, user)
    user = User.objects.select_for_update().get(pk=user.pk)
    one_time = generate_one_time_password(user)
    _set_one_time_password(user, one_time)
    user.save(update_fields=["password", "must_change_password"])
    record(
        actor=actor,
        action=AuditAction.RESET_PASSWORD,
        target=user,
        target_label=person_audit_label(user),
        committee=person_audit_committee(actor, user),
        changes={"must_change_password": [False, True]},
    )
    return one_time


# ---------------------------------------------------------------------------- roles


def role_needs_superuser(role: str, organization: Organization) -> bool:
    """The grants only a superuser makes: the committee approver, staff on a working committee."""
    return role == Role.COMMITTEE_APPROVER or (role == Role.STAFF and organization.kind == OrgKind.COMMITTEE)


def may_grant(actor: User | None, role: str, organization: Organization) -> bool:
    """Whether ``actor`` may grant or remove ``role`` on ``organization`` (for someone else)."""
    if actor is None:
        return True
    if not actor.is_authenticated or not actor.is_active:
        return False
    if actor.is_superuser:
        return True
    if role_needs_superuser(role, organization):
        return False
    return has_role_on(actor, Role.STAFF, organization)


def _check_may_grant(actor: User | None, user: User, role: str, organization: Organization) -> None:
    if actor is not None and actor.pk == user.pk:
        raise RoleGrantRefused(_("Nobody may grant or remove a role of their own."))
    if may_grant(actor, role, organization):
        return
    if role_needs_superuser(role, organization):
        raise RoleGrantRefused(
            _("Only a system administrator may grant or remove the role “%(role)s” on a working committee.")
            % {"role": Role(role).label}
        )
    raise RoleGrantRefused(
        _("You may grant or remove roles only in the organizations where you are party-affairs staff.")
    )


def _role_changes(role: str, organization: Organization, *, granted: bool) -> dict:
    """``{"role": [old, new], "organization": [old, new]}``: the role and the organization's code."""
    held = {"role": role, "organization": organization.code}
    return {name: [None, value] if granted else [value, None] for name, value in held.items()}


@transaction.atomic
def grant_role(*, actor: User | None, user: User, role: str, organization: Organization) -> RoleAssignment:
    """Give ``user`` the ``role`` on ``organization``; one already held is returned, nothing recorded."""
    _check_may_grant(actor, user, role, organization)
    assignment = RoleAssignment(user=user, role=role, organization=organization)
    assignment.full_clean(validate_unique=False, validate_constraints=False)
    if not Organization.objects.filter(pk=organization.pk, is_active=True).exists():
        raise ValidationError({"organization": _("A role cannot be granted on a deactivated organization.")})
    existing = RoleAssignment.objects.filter(user=user, role=role, organization=organization).first()
    if existing is not None:
        return existing
    assignment.save()
    record(
        actor=actor,
        action=AuditAction.GRANT_ROLE,
        target=user,
        target_label=person_audit_label(user),
        committee=committee_of(organization),
        changes=_role_changes(role, organization, granted=True),
    )
    return assignment


@transaction.atomic
def revoke_role(*, actor: User | None, assignment: RoleAssignment) -> None:
    """Remove a role assignment (the person keeps their account and other roles)."""
    assignment = RoleAssignment.objects.select_related("user", "organization").get(pk=assignment.pk)
    _check_may_grant(actor, assignment.user, assignment.role, assignment.organization)
    assignment.delete()
    record(
        actor=actor,
        action=AuditAction.REVOKE_ROLE,
        target=assignment.user,
        target_label=person_audit_label(assignment.user),
        committee=committee_of(assignment.organization),
        changes=_role_changes(assignment.role, assignment.organization, granted=False),
    )


# ---------------------------------------------------------------------------- in bulk


def _recorded(actor: User | None) -> User | None:
    return actor if actor is not None and actor.is_authenticated else None


def _hash_all(passwords: list[str]) -> list[str]:
    """Hash many one-time passwords; PBKDF2 releases the GIL, so threads use every core."""
    workers = max(1, min(4, os.cpu_count() or 1))
    if len(passwords) < 2 * workers:
        return [hash_one_time_password(password) for password in passwords]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(hash_one_time_password, passwords, chunksize=64))


def _existing_usernames(usernames: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for chunk in chunked_values(sorted(set(usernames))):
        found.update(
            User.objects.annotate(uname=Upper("username"))
            .filter(uname__in=chunk)
            .values_list("uname", flat=True)
        )
    return found


@transaction.atomic
def create_people_bulk(rows: Sequence[dict], *, actor: User | None) -> list[tuple[User, str]]:
    """Create many accounts with one-time passwords, as ``create_person`` would one by one.

    Each row has ``username`` and optionally ``real_name``, ``phone``, ``email``. Everything is
    checked first (in memory, plus one lookup of the user names already taken); any refused
    row → ``BulkRowsRefused`` and nothing written. Returns ``(user, one-time password)`` in
    the order of ``rows``; each account leaves one row of the audit trail.
    """
    rows = list(rows)
    errors: dict[int, list[str]] = {}
    users: list[User] = []
    seen: dict[str, int] = {}
    for index, row in enumerate(rows):
        username = (row.get("username") or "").strip()
        try:
            fields = _clean_person_fields({name: row.get(name, "") for name in PERSON_EDITABLE_FIELDS})
        except ValidationError as error:
            errors.setdefault(index, []).extend(error.messages)
            fields = {}
        user = User(username=username, **fields)
        try:
            user.full_clean(exclude=["password"], validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            errors.setdefault(index, []).extend(error.messages)
        if username.upper() in seen:
            errors.setdefault(index, []).append(
                _("The user name “%(username)s” appears twice.") % {"username": username}
            )
        elif username:
            seen[username.upper()] = index
        users.append(user)
    for uname in _existing_usernames(list(seen)):
        index = seen[uname]
        errors.setdefault(index, []).append(
            _("The user name “%(username)s” is already taken.") % {"username": users[index].username}
        )
    if errors:
        raise BulkRowsRefused(errors)
    passwords = [generate_one_time_password(user) for user in users]
    for user, hashed in zip(users, _hash_all(passwords), strict=True):
        user.password = hashed
        user.must_change_password = True
    User.objects.bulk_create(users, batch_size=BULK_WRITE_BATCH)
    # A new account holds no role yet: its row goes to the committee of the actor.
    committee = person_audit_committee(actor, User())
    AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                actor=_recorded(actor),
                committee=committee,
                action=AuditAction.CREATE,
                target_type=User._meta.model_name,
                target_id=str(user.pk),
                target_label=person_audit_label(user)[:200],
                changes={
                    name: [None, value] for name, value in snapshot(user, PERSON_AUDITED_FIELDS).items()
                },
            )
            for user in users
        ],
        batch_size=BULK_WRITE_BATCH,
    )
    return list(zip(users, passwords, strict=True))


class _GrantScope:
    """Where ``actor`` may grant, read once: ``may_grant`` without a query per row."""

    def __init__(self, actor: User | None):
        self.actor = actor
        self.everywhere = actor is None or (actor.is_authenticated and actor.is_active and actor.is_superuser)
        self.active = actor is None or (actor.is_authenticated and actor.is_active)
        self.staff_org_ids: set[int] = set()
        if self.active and not self.everywhere:
            self.staff_org_ids = set(
                RoleAssignment.objects.filter(user_id=actor.pk, role=Role.STAFF).values_list(
                    "organization_id", flat=True
                )
            )

    def may_grant(self, role: str, organization: Organization) -> bool:
        if self.everywhere:
            return True
        if not self.active or role_needs_superuser(role, organization):
            return False
        return bool(self.staff_org_ids.intersection(organization.ancestor_ids))

    def refusal(self, user: User, role: str, organization: Organization) -> str | None:
        """``_check_may_grant``'s message, or None when the grant is allowed."""
        if self.actor is not None and self.actor.pk == user.pk:
            return _("Nobody may grant or remove a role of their own.")
        if self.may_grant(role, organization):
            return None
        if role_needs_superuser(role, organization):
            return _(
                "Only a system administrator may grant or remove the role “%(role)s” on a working committee."
            ) % {"role": Role(role).label}
        return _("You may grant or remove roles only in the organizations where you are party-affairs staff.")


@transaction.atomic
def grant_roles_bulk(
    rows: Sequence[tuple[User, str, Organization]], *, actor: User | None
) -> list[RoleAssignment]:
    """Grant many roles at once, as ``grant_role`` would one by one.

    ``rows`` are ``(user, role, organization)``. Checked first: separation of duties, the kind
    of organization a role may be held on, an active organization (one query for all); a role
    already held (one lookup) or given twice is returned as it is, nothing recorded. Any
    refused row → ``RoleGrantRefused`` or ``BulkRowsRefused`` (naming the rows) and nothing
    written. Returns the assignments in the order of ``rows``.
    """
    rows = list(rows)
    scope = _GrantScope(actor)
    errors: dict[int, list[str]] = {}
    refused: list[str] = []
    org_ids = sorted({organization.pk for _user, _role, organization in rows})
    active: set[int] = set()
    for chunk in chunked_values(org_ids):
        active.update(Organization.objects.filter(pk__in=chunk, is_active=True).values_list("pk", flat=True))
    for index, (user, role, organization) in enumerate(rows):
        refusal = scope.refusal(user, role, organization) if role in Role.values else None
        if refusal:
            refused.append(refusal)
            errors.setdefault(index, []).append(refusal)
            continue
        if role not in Role.values:
            errors.setdefault(index, []).append(_("Unknown role “%(role)s”.") % {"role": role})
        elif organization.kind not in ROLE_ORG_KINDS[role]:
            errors.setdefault(index, []).append(
                _("The role “%(role)s” cannot be held on a %(kind)s.")
                % {"role": Role(role).label, "kind": OrgKind(organization.kind).label}
            )
        elif organization.pk not in active:
            errors.setdefault(index, []).append(_("A role cannot be granted on a deactivated organization."))
    if errors:
        if len(refused) == sum(len(messages) for messages in errors.values()):
            raise RoleGrantRefused(refused[0])
        raise BulkRowsRefused(errors)

    held: dict[tuple[int, str, int], RoleAssignment] = {}
    user_ids = sorted({user.pk for user, _role, _org in rows})
    for chunk in chunked_values(user_ids):
        for assignment in RoleAssignment.objects.filter(user_id__in=chunk, organization_id__in=org_ids):
            held[(assignment.user_id, assignment.role, assignment.organization_id)] = assignment
    result: list[RoleAssignment] = []
    new: list[tuple[RoleAssignment, User, Organization]] = []
    for user, role, organization in rows:
        key = (user.pk, role, organization.pk)
        if key not in held:
            held[key] = RoleAssignment(user=user, role=role, organization=organization)
            new.append((held[key], user, organization))
        result.append(held[key])
    RoleAssignment.objects.bulk_create(
        [assignment for assignment, _u, _o in new], batch_size=BULK_WRITE_BATCH
    )
    AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                actor=_recorded(actor),
                committee_id=organization.ancestor_ids[0],
                action=AuditAction.GRANT_ROLE,
                target_type=User._meta.model_name,
                target_id=str(user.pk),
                target_label=person_audit_label(user)[:200],
                changes=_role_changes(assignment.role, organization, granted=True),
            )
            for assignment, user, organization in new
        ],
        batch_size=BULK_WRITE_BATCH,
    )
    return result
