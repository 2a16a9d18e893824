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
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from branches.audit import AuditAction, record
from branches.models import Organization, OrgKind, User
from branches.services.organizations import BulkRowsRefused, create_organizations_bulk, update_organization
from branches.services.people import create_people_bulk, grant_roles_bulk, update_person
from branches.spreadsheets import Sheet

from .plan import ImportAction, ImportPlan, PlannedOrganization, PlannedPerson, PlannedRow

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


@dataclass(frozen=True)
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
    database) or at the end, so the result — rows, paths, audit trail — is the same.
    """

    def __init__(self, plan: ImportPlan, actor: User | None, progress: ProgressCallback | None = None):
        self.plan = plan
        self.actor = actor
        self.result = ImportResult()
        self.orgs: dict[str, Organization] = {}  # by upper-case code, as they stand now
        self.committee_ids: set[int] = set()
        self.moved = False
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

    def _organization(self, ucode: str) -> Organization:
        org = self.orgs.get(ucode)
        if org is None or self.moved:
            # After a move, paths below it changed in the database: read the row afresh.
            org = Organization.objects.get(code__iexact=ucode)
            self.orgs[ucode] = org
        return org

    def _remember(self, row: PlannedOrganization, org: Organization) -> None:
        self.orgs[row.ucode] = org
        self.committee_ids.add(org.ancestor_ids[0])

    def organizations(self) -> None:
        for row in self.plan.organizations:
            if row.existing is not None:
                self.orgs[row.ucode] = row.existing
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
            parent = self._organization(row.parent_code.upper()) if row.parent_code else None
            try:
                old_parent_id = row.existing.parent_id
                org = update_organization(
                    org=row.existing, actor=self.actor, **_organization_fields(row, parent)
                )
            except ValidationError as error:
                raise ImportRefused(_refusal_text(error), row) from None
            self.moved = self.moved or org.parent_id != old_parent_id
            self.result.organizations_updated += 1
            self._remember(row, org)
            self._advance()
        self._create_organizations(pending)

    def _create_organizations(self, pending: list[PlannedOrganization]) -> None:
        """Write the pending new organizations in one go (then forget them)."""
        if not pending:
            return
        in_batch = {row.ucode for row in pending}
        specs = []
        for row in pending:
            spec = {"code": row.code, **_organization_fields(row, None)}
            parent_code = row.parent_code.upper() if row.parent_code else ""
            if parent_code in in_batch:
                spec["parent_code"] = row.parent_code
            else:
                spec["parent"] = self._organization(parent_code) if parent_code else None
            specs.append(spec)
        try:
            created = create_organizations_bulk(specs, actor=self.actor)
        except BulkRowsRefused as error:
            index, messages = next(iter(error.row_errors.items()))
            raise ImportRefused(" ".join(messages), pending[index]) from None
        for row, org in zip(pending, created, strict=True):
            self._remember(row, org)
        self.result.organizations_created += len(pending)
        self._advance(len(pending))
        pending.clear()

    def people(self) -> None:
        users: dict[str, User] = {}
        new = [row for row in self.plan.people if row.creates_account]
        for start in range(0, len(new), APPLY_BATCH):
            batch = new[start : start + APPLY_BATCH]
            specs = [
                {
                    "username": row.username,
                    **{
                        name: self._value(row.username.upper(), name)
                        for name in ("real_name", "phone", "email")
                    },
                }
                for row in batch
            ]
            try:
                created = create_people_bulk(specs, actor=self.actor)
            except BulkRowsRefused as error:
                index, messages = next(iter(error.row_errors.items()))
                raise ImportRefused(" ".join(messages), batch[index]) from None
            for user, password in created:
                users[user.username.upper()] = user
                self.result.passwords.append(OneTimePassword(user.username, user.real_name, password))
            self.result.accounts_created += len(batch)
        pending: list[tuple[PlannedPerson, User, Organization]] = []
        for row in self.plan.people:
            uname = row.username.upper()
            if not (row.creates_account or row.account_changes or row.grants):
                self.result.people_rows_unchanged += 1
                self._advance()
                continue
            user = users.get(uname) or row.existing_user
            users[uname] = user
            if row.account_changes:
                self._grant_pending(pending)  # what one by one would have granted before
                try:
                    users[uname] = update_person(actor=self.actor, user=user, **row.account_changes)
                except ValidationError as error:
                    raise ImportRefused(_refusal_text(error), row) from None
                self.result.accounts_updated += 1
            if row.grants:
                organization = self._organization(row.org_code.upper())
                pending.append((row, users[uname], organization))
                self.committee_ids.add(organization.ancestor_ids[0])
                self.result.roles_granted += 1
                if len(pending) >= APPLY_BATCH:
                    self._grant_pending(pending)
                continue
            self._advance()
        self._grant_pending(pending)

    def _grant_pending(self, pending: list[tuple[PlannedPerson, User, Organization]]) -> None:
        if not pending:
            return
        try:
            grant_roles_bulk([(user, row.role, org) for row, user, org in pending], actor=self.actor)
        except BulkRowsRefused as error:
            index, messages = next(iter(error.row_errors.items()))
            raise ImportRefused(" ".join(messages), pending[index][0]) from None
        except ValidationError as error:  # RoleGrantRefused: the first row refused
            raise ImportRefused(_refusal_text(error), pending[0][0]) from None
        self._advance(len(pending))
        pending.clear()

    def _value(self, uname: str, name: str) -> str:
        """The person's value of ``name``: the first row of theirs that gives one."""
        for row in self._rows_of(uname):
            if getattr(row, name):
                return getattr(row, name)
        return ""

    def _rows_of(self, uname: str) -> list[PlannedPerson]:
        if not hasattr(self, "_people_by_username"):
            self._people_by_username: dict[str, list[PlannedPerson]] = {}
            for row in self.plan.people:
                self._people_by_username.setdefault(row.username.upper(), []).append(row)
        return self._people_by_username[uname]

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
