"""Carrying out a plan without errors: every row or none, through the branches services.

The writes are the product's own services: new rows through the bulk ones
(``create_organizations_bulk``, ``create_people_bulk``, ``grant_roles_bulk``), changed rows
through ``update_organization`` and ``update_person``; they validate again and leave their
rows in the audit trail (the same rows as one by one); an unchanged row calls nothing, so importing the same file twice
writes nothing the second time. Everything runs in one transaction: if a service refuses a
row (the database changed since the preview), nothing stays and the row is named.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.functions import Upper
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from branches.audit import AuditAction, record
from branches.models import Organization, OrgKind, StageChange, User
from branches.services.organizations import (
    BULK_WRITE_BATCH,
    BulkRowsRefused,
    create_organizations_bulk,
    update_organization,
)
from branches.services.people import create_people_bulk, grant_roles_bulk, update_person
from branches.spreadsheets import Sheet

from .plan import ImportAction, ImportPlan, PlannedOrganization, PlannedPerson, PlannedRow, _chunks
from .workbook import ORG_SHEET

# New rows written per call of a bulk service; progress reported every so many rows.
APPLY_BATCH = 2000
PROGRESS_EVERY = 250
ProgressCallback = Callable[[int, int], None]


class ImportRefused(Exception):
    """The plan has errors, or a service refused a row while applying it (nothing was written)."""

    def __init__(self, message: str, row: PlannedRow | None = None):
        super().__init__(message)
        self.message = message
        self.row = row


@dataclass(frozen=True, slots=True)
class OneTimePassword:
    username: str
    real_name: str
    password: str


@dataclass
class ImportResult:
    organizations_created: int = 0
    organizations_updated: int = 0
    organizations_unchanged: int = 0
    accounts_created: int = 0
    accounts_updated: int = 0
    roles_granted: int = 0
    people_rows_unchanged: int = 0
    passwords: list[OneTimePassword] = field(default_factory=list)

    @property
    def changed_anything(self) -> bool:
        return bool(
            self.organizations_created
            or self.organizations_updated
            or self.accounts_created
            or self.accounts_updated
            or self.roles_granted
        )

    def as_dict(self) -> dict:
        """The counts as plain values (for a session or a message), without the passwords."""
        return {
            name: getattr(self, name)
            for name in (
                "organizations_created",
                "organizations_updated",
                "organizations_unchanged",
                "accounts_created",
                "accounts_updated",
                "roles_granted",
                "people_rows_unchanged",
            )
        }


def one_time_passwords_sheet(passwords: Iterable[OneTimePassword]) -> Sheet:
    """New people's one-time passwords as one sheet (the command's file and the site's download)."""
    return Sheet(
        _("One-time passwords"),
        [_("User name"), pgettext("person", "Name"), _("One-time password")],
        [[entry.username, entry.real_name, entry.password] for entry in passwords],
    )


def _refusal_text(error: ValidationError) -> str:
    return " ".join(error.messages)


def _organization_fields(row: PlannedOrganization, parent: Organization | None) -> dict:
    return {
        "name": row.name,
        "kind": row.kind,
        "parent": parent,
        "stage": row.stage if row.kind == OrgKind.BRANCH else "",
        "sort_order": row.sort_order,
    }


class _Applier:
    """Applies a plan: new rows in bulk (``*_bulk`` services), changed rows one by one.

    The rows are taken in the same order as one by one would; a run of new rows is kept
    pending and written in one go just before a changed row (whose service reads the
    database) or when the batch is full, so the result — rows, paths, audit trail — is the same.

    Memory stays flat in the size of the file: the applier keeps no model instance beyond
    the batch being written (its parents, people and organizations are read afresh for each
    batch, by code or primary key), only the primary keys of the accounts it created.
    """

    def __init__(self, plan: ImportPlan, actor: User | None, progress: ProgressCallback | None = None):
        self.plan = plan
        self.actor = actor
        self.result = ImportResult()
        self.committee_ids: set[int] = set()
        self.stage_changes: list[StageChange] = []  # the changed branches' stages, written in bulk
        self.progress = progress
        self.total = len(plan.organizations) + len(plan.people)
        self.done = 0
        self._reported = 0

    def _advance(self, rows: int = 1) -> None:
        self.done += rows
        if self.progress is not None and (
            self.done - self._reported >= PROGRESS_EVERY or self.done == self.total
        ):
            self._reported = self.done
            self.progress(self.done, self.total)

    @staticmethod
    def _organizations(ucodes: Iterable[str]) -> dict[str, Organization]:
        """The organizations with these (upper-case) codes, as they stand in the database now."""
        found: dict[str, Organization] = {}
        for chunk in _chunks(sorted(set(ucodes))):
            for org in Organization.objects.annotate(ucode=Upper("code")).filter(ucode__in=chunk):
                found[org.ucode] = org
        return found

    @staticmethod
    def _parent(row: PlannedOrganization, found: dict[str, Organization]) -> Organization:
        """The row's parent among ``found``; gone since the preview → the row is refused."""
        parent = found.get(row.parent_code.upper())
        if parent is None:
            raise ImportRefused(
                _(
                    "Unknown parent code “%(code)s”: it is neither in the sheet nor among the "
                    "organizations you manage."
                )
                % {"code": row.parent_code},
                row,
            )
        return parent

    def organizations(self) -> None:
        pending: list[PlannedOrganization] = []
        for row in sorted(self.plan.organizations, key=lambda r: (r.depth, r.number)):
            if row.action == ImportAction.UNCHANGED:
                self.result.organizations_unchanged += 1
                self._advance()
                continue
            if row.action == ImportAction.CREATE:
                pending.append(row)
                if len(pending) >= APPLY_BATCH:
                    self._create_organizations(pending)
                continue
            self._create_organizations(pending)
            parent = (
                self._parent(row, self._organizations([row.parent_code.upper()])) if row.parent_code else None
            )
            try:
                existing = Organization.objects.get(pk=row.existing.pk)
                org = update_organization(
                    org=existing,
                    actor=self.actor,
                    stage_changes=self.stage_changes,
                    **_organization_fields(row, parent),
                )
            except ValidationError as error:
                raise ImportRefused(_refusal_text(error), row) from None
            self.result.organizations_updated += 1
            self.committee_ids.add(org.ancestor_ids[0])
            self._advance()
        self._create_organizations(pending)
        StageChange.objects.bulk_create(self.stage_changes, batch_size=BULK_WRITE_BATCH)
        self.stage_changes.clear()

    def _create_organizations(self, pending: list[PlannedOrganization]) -> None:
        """Write the pending new organizations in one go (then forget them)."""
        if not pending:
            return
        in_batch = {row.ucode for row in pending}
        parents = self._organizations(
            {row.parent_code.upper() for row in pending if row.parent_code} - in_batch
        )
        specs = []
        for row in pending:
            spec = {"code": row.code, **_organization_fields(row, None)}
            parent_code = row.parent_code.upper() if row.parent_code else ""
            if parent_code in in_batch:
                spec["parent_code"] = row.parent_code
            else:
                spec["parent"] = self._parent(row, parents) if parent_code else None
            specs.append(spec)
        try:
            created = create_organizations_bulk(specs, actor=self.actor)
        except BulkRowsRefused as error:
            index, messages = next(iter(error.row_errors.items()))
            raise ImportRefused(" ".join(messages), pending[index]) from None
        self.committee_ids.update(org.ancestor_ids[0] for org in created)
        self.result.organizations_created += len(pending)
        self._advance(len(pending))
        pending.clear()

    def people(self) -> None:
        created_pks: dict[str, int] = {}  # the new accounts, by upper-case user name
        new = [row for row in self.plan.people if row.creates_account]
        for start in range(0, len(new), APPLY_BATCH):
            batch = new[start : start + APPLY_BATCH]
            specs = [
                {
                    "username": row.username,
                    **dict(zip(("real_name", "phone", "email"), row.account_values, strict=True)),
                }
                for row in batch
            ]
            try:
                created = create_people_bulk(specs, actor=self.actor)
            except BulkRowsRefused as error:
                index, messages = next(iter(error.row_errors.items()))
                raise ImportRefused(" ".join(messages), batch[index]) from None
            for user, password in created:
                created_pks[user.username.upper()] = user.pk
                self.result.passwords.append(OneTimePassword(user.username, user.real_name, password))
            self.result.accounts_created += len(batch)
            del created, specs
        pending: list[tuple[PlannedPerson, int]] = []
        for row in self.plan.people:
            uname = row.username.upper()
            if not (row.creates_account or row.account_changes or row.grants):
                self.result.people_rows_unchanged += 1
                self._advance()
                continue
            user_pk = row.existing_user.pk if row.existing_user is not None else created_pks[uname]
            if row.account_changes:
                self._grant_pending(pending)  # what one by one would have granted before
                try:
                    update_person(actor=self.actor, user=User.objects.get(pk=user_pk), **row.account_changes)
                except ValidationError as error:
                    raise ImportRefused(_refusal_text(error), row) from None
                self.result.accounts_updated += 1
            if row.grants:
                pending.append((row, user_pk))
                self.result.roles_granted += 1
                if len(pending) >= APPLY_BATCH:
                    self._grant_pending(pending)
                continue
            self._advance()
        self._grant_pending(pending)

    def _grant_pending(self, pending: list[tuple[PlannedPerson, int]]) -> None:
        """Grant the pending roles in one go, reading their people and organizations afresh."""
        if not pending:
            return
        users: dict[int, User] = {}
        pks = sorted({user_pk for _row, user_pk in pending})
        for chunk in _chunks(pks):
            users.update(User.objects.in_bulk(chunk))
        organizations = self._organizations(row.org_code.upper() for row, _user_pk in pending)
        for row, _user_pk in pending:
            if row.org_code.upper() not in organizations:  # gone since the preview
                raise ImportRefused(
                    _(
                        "Unknown organization code “%(code)s”: it is neither in the sheet “%(sheet)s” nor among the organizations you manage."
                    )
                    % {"code": row.org_code, "sheet": ORG_SHEET},
                    row,
                )
        grants = [(users[user_pk], row.role, organizations[row.org_code.upper()]) for row, user_pk in pending]
        try:
            grant_roles_bulk(grants, actor=self.actor)
        except BulkRowsRefused as error:
            index, messages = next(iter(error.row_errors.items()))
            raise ImportRefused(" ".join(messages), pending[index][0]) from None
        except ValidationError as error:  # RoleGrantRefused: the first row refused
            raise ImportRefused(_refusal_text(error), pending[0][0]) from None
        self.committee_ids.update(org.ancestor_ids[0] for org in organizations.values())
        self._advance(len(pending))
        pending.clear()

    def summary(self, file_name: str) -> None:
        """One audit row per committee touched, naming the file (the services recorded each change)."""
        if not self.result.changed_anything:
            return
        counts = self.result
        note = _(
            "%(file)s: %(orgs_created)d organizations created, %(orgs_updated)d updated; "
            "%(accounts)d accounts created, %(accounts_updated)d updated; %(roles)d roles granted."
        ) % {
            "file": file_name,
            "orgs_created": counts.organizations_created,
            "orgs_updated": counts.organizations_updated,
            "accounts": counts.accounts_created,
            "accounts_updated": counts.accounts_updated,
            "roles": counts.roles_granted,
        }
        for committee in Organization.objects.filter(pk__in=self.committee_ids).order_by("pk"):
            record(
                actor=self.actor,
                action=AuditAction.IMPORT,
                target_type="import",
                target_label=file_name,
                committee=committee,
                note=note,
            )


def apply_import_plan(
    plan: ImportPlan, *, actor: User | None, file_name: str = "", progress: ProgressCallback | None = None
) -> ImportResult:
    """Carry out ``plan`` (all rows or none); ImportRefused if it has errors or a service refuses a row.

    ``progress(rows done, rows in all)`` is called every ``PROGRESS_EVERY`` rows and at the end.
    """
    if plan.has_errors:
        raise ImportRefused(_("The file has errors; nothing was imported."))
    applier = _Applier(plan, actor, progress)
    with transaction.atomic():
        applier.organizations()
        applier.people()
        applier.summary(file_name)
    return applier.result
