"""What an import file would do, row by row, before anything is written (the preview).

Every row of both sheets gets an action — new, update, unchanged or error — and, for an
error, every reason in the importer's language. Organizations are matched by code (without
regard to case), people by user name. Parents may come later in the file than their children:
codes are resolved over the whole file and the database first, then the rows are ordered so
that every parent comes before its children (``depth``).

The importer's scope is the trees of the working committees where they are party-affairs
staff; a superuser, and the command line without ``--actor``, reach everything. Whatever is
outside the scope is treated as unknown, except a code that is already taken there, which
has to be named because codes are unique across the whole site.

A plan stays small whatever the file's size: its rows are slotted records of the cells' texts,
what will happen and why, and the organizations and people already in the database are held
as light records of the few fields the plan compares (``KnownOrganization``, ``KnownPerson``),
never as model instances.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.db.models.functions import Upper
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from branches.models import (
    ALLOWED_CHILDREN,
    ROLE_ORG_KINDS,
    BranchStage,
    Organization,
    OrgKind,
    RoleAssignment,
    User,
)
from branches.roles import Role
from branches.selectors import committees_for_role
from branches.services.people import PHONE_PATTERN, may_grant

from .workbook import (
    KIND_WORDS,
    ORG_CODE,
    ORG_KIND,
    ORG_NAME,
    ORG_ORDER_HEADER,
    ORG_PARENT,
    ORG_SHEET,
    ORG_STAGE,
    PEOPLE_SHEET,
    PERSON_EMAIL,
    PERSON_NAME,
    PERSON_ORG,
    PERSON_PHONE,
    PERSON_ROLE,
    PERSON_USERNAME,
    ROLE_WORDS,
    STAGE_WORDS,
    WORD_OF_KIND,
    WORD_OF_ROLE,
    WORD_OF_STAGE,
    ImportFileError,
    ImportWorkbook,
    read_import_workbook,
)

# Lookups by a list of values go in slices, within every database's limit on parameters.
LOOKUP_CHUNK = 900
USERNAME_MAX_LENGTH = 150
ORG_CODE_MAX_LENGTH = 40
ORG_NAME_MAX_LENGTH = 100
PERSON_FIELD_LIMITS = {"real_name": 50, "phone": 30, "email": 254}


class ImportAction(models.TextChoices):
    # The words of the preview's action column (新建 / 更新 / 不变 / 错误).
    CREATE = "create", pgettext_lazy("import action", "New")
    UPDATE = "update", pgettext_lazy("import action", "Update")
    UNCHANGED = "unchanged", pgettext_lazy("import action", "Unchanged")
    ERROR = "error", pgettext_lazy("import action", "Error")


@dataclass(slots=True)
class KnownOrganization:
    """The fields of an existing organization that planning reads."""

    pk: int
    code: str
    name: str
    kind: str
    parent_id: int | None
    path: str
    stage: str
    sort_order: int
    is_active: bool

    FIELDS = ("pk", "code", "name", "kind", "parent_id", "path", "stage", "sort_order", "is_active")

    @property
    def ancestor_ids(self) -> list[int]:
        return [int(part) for part in self.path.strip("/").split("/") if part]

    def as_probe(self) -> Organization:
        """An unsaved organization standing for this one (for the rules that take a model)."""
        return Organization(pk=self.pk, code=self.code, kind=self.kind, path=self.path)


@dataclass(slots=True)
class KnownPerson:
    """The fields of an existing account that planning reads."""

    pk: int
    username: str
    real_name: str
    phone: str
    email: str
    is_superuser: bool

    FIELDS = ("pk", "username", "real_name", "phone", "email", "is_superuser")


@dataclass(slots=True)
class PlannedRow:
    """One row of the file as the preview shows it."""

    sheet: str
    number: int
    key: str  # the organization's code or the person's user name, as written
    label: str  # the name
    action: str = ""
    # Empty tuples until the first message: most rows of a large file have no error.
    errors: list[str] | tuple = ()
    notes: list[str] | tuple = ()  # what will happen, for a reader

    @property
    def action_label(self) -> str:
        return ImportAction(self.action).label

    def fail(self, message: str) -> None:
        if message not in self.errors:
            self.errors = [*self.errors, message]

    def note(self, message: str, *, first: bool = False) -> None:
        self.notes = [message, *self.notes] if first else [*self.notes, message]


@dataclass(slots=True)
class PlannedOrganization(PlannedRow):
    code: str = ""
    name: str = ""
    kind: str = ""
    parent_code: str = ""
    stage: str = ""
    sort_order: int = 0
    order_given: bool = False
    existing: KnownOrganization | None = None
    depth: int | None = 0

    @property
    def ucode(self) -> str:
        return self.code.upper()


@dataclass(slots=True)
class PlannedPerson(PlannedRow):
    username: str = ""
    real_name: str = ""
    phone: str = ""
    email: str = ""
    role: str = ""
    org_code: str = ""
    creates_account: bool = False  # the first row of a new person
    account_changes: dict[str, str] | None = None  # the first row of a changed person
    grants: bool = False  # the role is not held yet (and not by an earlier row)
    existing_user: KnownPerson | None = None
    # The first row of a new person: (name, phone, e-mail), from whichever of their rows gives each.
    account_values: tuple[str, str, str] | None = None


@dataclass
class ImportCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: int = 0


COUNT_OF_ACTION = {
    ImportAction.CREATE: "created",
    ImportAction.UPDATE: "updated",
    ImportAction.UNCHANGED: "unchanged",
    ImportAction.ERROR: "errors",
}


@dataclass
class ImportPlan:
    organizations: list[PlannedOrganization] = field(default_factory=list)
    people: list[PlannedPerson] = field(default_factory=list)
    file_errors: list[str] = field(default_factory=list)

    @property
    def rows(self) -> list[PlannedRow]:
        return [*self.organizations, *self.people]

    @property
    def has_errors(self) -> bool:
        return bool(self.file_errors) or any(row.errors for row in self.rows)

    @property
    def has_changes(self) -> bool:
        return any(row.action in (ImportAction.CREATE, ImportAction.UPDATE) for row in self.rows)

    def counts(self, sheet: str) -> ImportCounts:
        counts = ImportCounts()
        for row in self.organizations if sheet == ORG_SHEET else self.people:
            name = COUNT_OF_ACTION[row.action]
            setattr(counts, name, getattr(counts, name) + 1)
        return counts

    @property
    def organization_counts(self) -> ImportCounts:
        return self.counts(ORG_SHEET)

    @property
    def people_counts(self) -> ImportCounts:
        return self.counts(PEOPLE_SHEET)

    @property
    def new_accounts(self) -> int:
        return sum(1 for row in self.people if row.creates_account and not row.errors)

    @property
    def new_roles(self) -> int:
        return sum(1 for row in self.people if row.grants and not row.errors)

    def rows_errors_first(self) -> list[PlannedRow]:
        """Every row, those with errors first, each group in the file's order."""
        return sorted(self.rows, key=lambda row: (not row.errors, row.sheet != ORG_SHEET, row.number))


# ---------------------------------------------------------------------------- scope


class ImporterScope:
    """Which organizations the importer reaches: the trees of their committees, or everything."""

    def __init__(self, actor: User | None):
        self.actor = actor
        self.everything = actor is None or actor.is_superuser
        self.committee_ids = (
            set()
            if self.everything
            else set(committees_for_role(actor, Role.STAFF).values_list("pk", flat=True))
        )

    def reaches(self, org: KnownOrganization) -> bool:
        return self.everything or org.ancestor_ids[0] in self.committee_ids


# ---------------------------------------------------------------------------- reading rows


def _chunks(values: Iterable, size: int = LOOKUP_CHUNK):
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _organizations_by_code(codes: Iterable[str]) -> dict[str, KnownOrganization]:
    found: dict[str, KnownOrganization] = {}
    for chunk in _chunks(sorted(set(codes))):
        rows = (
            Organization.objects.annotate(ucode=Upper("code"))
            .filter(ucode__in=chunk)
            .values_list("ucode", *KnownOrganization.FIELDS)
        )
        for ucode, *values in rows:
            found[ucode] = KnownOrganization(*values)
    return found


def _organizations_by_pk(pks: Iterable[int]) -> dict[int, KnownOrganization]:
    found: dict[int, KnownOrganization] = {}
    for chunk in _chunks(sorted(set(pks))):
        for values in Organization.objects.filter(pk__in=chunk).values_list(*KnownOrganization.FIELDS):
            found[values[0]] = KnownOrganization(*values)
    return found


def _parse_organization(number: int, cells: dict[str, str]) -> PlannedOrganization:
    row = PlannedOrganization(
        sheet=ORG_SHEET,
        number=number,
        key=cells[ORG_CODE],
        label=cells[ORG_NAME],
        code=cells[ORG_CODE],
        name=cells[ORG_NAME],
        parent_code=cells[ORG_PARENT],
    )
    if not row.code:
        row.fail(_("The organization code is empty."))
    elif len(row.code) > ORG_CODE_MAX_LENGTH:
        row.fail(
            _("The organization code is longer than %(limit)d characters.") % {"limit": ORG_CODE_MAX_LENGTH}
        )
    if not row.name:
        row.fail(_("The organization name is empty."))
    elif len(row.name) > ORG_NAME_MAX_LENGTH:
        row.fail(
            _("The organization name is longer than %(limit)d characters.") % {"limit": ORG_NAME_MAX_LENGTH}
        )
    kind_word = cells[ORG_KIND]
    row.kind = KIND_WORDS.get(kind_word, "")
    if not row.kind:
        row.fail(
            _("Unknown organization kind “%(word)s”: write one of %(words)s.")
            % {"word": kind_word, "words": "、".join(KIND_WORDS)}
        )
    stage_word = cells[ORG_STAGE]
    if stage_word:
        row.stage = STAGE_WORDS.get(stage_word, "")
        if not row.stage:
            row.fail(
                _("Unknown stage “%(word)s”: write one of %(words)s.")
                % {"word": stage_word, "words": "、".join(STAGE_WORDS)}
            )
        elif row.kind and row.kind != OrgKind.BRANCH:
            row.fail(_("Only a party branch has a stage; leave the stage empty for this organization."))
    order_text = cells[ORG_ORDER_HEADER]
    if order_text:
        try:
            row.sort_order = int(order_text)
        except ValueError:
            row.fail(_("The order “%(value)s” is not a whole number.") % {"value": order_text})
        else:
            if abs(row.sort_order) > 2**31 - 1:
                row.fail(_("The order “%(value)s” is too large.") % {"value": order_text})
    row.order_given = bool(order_text)
    return row


def _parse_person(number: int, cells: dict[str, str]) -> PlannedPerson:
    row = PlannedPerson(
        sheet=PEOPLE_SHEET,
        number=number,
        key=cells[PERSON_USERNAME],
        label=cells[PERSON_NAME],
        username=cells[PERSON_USERNAME],
        real_name=cells[PERSON_NAME],
        phone=cells[PERSON_PHONE],
        email=cells[PERSON_EMAIL],
        org_code=cells[PERSON_ORG],
    )
    if not row.username:
        row.fail(_("The user name is empty."))
    else:
        try:
            UnicodeUsernameValidator()(row.username)
        except ValidationError:
            row.fail(_("The user name may hold only letters, digits and @ . + - _."))
        if len(row.username) > USERNAME_MAX_LENGTH:
            row.fail(_("The user name is longer than %(limit)d characters.") % {"limit": USERNAME_MAX_LENGTH})
    if row.phone and not PHONE_PATTERN.match(row.phone):
        row.fail(
            _("The phone number “%(value)s” may hold only digits, spaces and + - ( ).") % {"value": row.phone}
        )
    if row.email:
        try:
            validate_email(row.email)
        except ValidationError:
            row.fail(_("“%(value)s” is not a valid e-mail address.") % {"value": row.email})
    for name, limit in PERSON_FIELD_LIMITS.items():
        if len(getattr(row, name)) > limit:
            row.fail(
                _("“%(value)s” is longer than %(limit)d characters.")
                % {"value": getattr(row, name), "limit": limit}
            )
    role_word = cells[PERSON_ROLE]
    row.role = ROLE_WORDS.get(role_word, "")
    if not row.role:
        row.fail(
            _("Unknown role “%(word)s”: write one of %(words)s.")
            % {"word": role_word, "words": "、".join(ROLE_WORDS)}
        )
    if not row.org_code:
        row.fail(_("The organization code is empty."))
    return row


def _where(row: PlannedRow) -> dict:
    return {"sheet": row.sheet, "row": row.number}


# ---------------------------------------------------------------------------- organizations


def _final_depths(codes: Iterable[str], parent_of: Callable[[str], str | None]) -> dict[str, int | None]:
    """Each code's depth in the tree the import leaves behind; None on or under a loop of parents."""
    depth: dict[str, int | None] = {}
    for start in codes:
        chain: list[str] = []
        on_chain: set[str] = set()
        current: str | None = start
        while current is not None and current not in depth and current not in on_chain:
            chain.append(current)
            on_chain.add(current)
            current = parent_of(current)
        base: int | None = -1 if current is None else depth.get(current) if current in depth else None
        for code in reversed(chain):
            if base is not None:
                base += 1
            depth[code] = base
    return depth


class _OrganizationPlanner:
    def __init__(self, rows: list[PlannedOrganization], scope: ImporterScope, extra_codes: Iterable[str]):
        self.rows = rows
        self.scope = scope
        self.in_file: dict[str, list[PlannedOrganization]] = defaultdict(list)
        for row in rows:
            if row.code:
                self.in_file[row.ucode].append(row)
        codes = set(self.in_file) | {row.parent_code.upper() for row in rows if row.parent_code}
        self.existing = _organizations_by_code(codes | {code.upper() for code in extra_codes})
        ancestor_ids = {pk for org in self.existing.values() for pk in org.ancestor_ids}
        self.by_pk = {org.pk: org for org in self.existing.values()}
        self.by_pk.update(_organizations_by_pk(ancestor_ids - set(self.by_pk)))

    def file_row(self, ucode: str) -> PlannedOrganization | None:
        rows = self.in_file.get(ucode)
        return rows[0] if rows else None

    def known(self, ucode: str) -> KnownOrganization | None:
        """An existing organization the importer reaches, by code."""
        org = self.existing.get(ucode)
        return org if org is not None and self.scope.reaches(org) else None

    def kind_of(self, ucode: str) -> str:
        row = self.file_row(ucode)
        if row is not None:
            return row.kind
        org = self.known(ucode)
        return org.kind if org is not None else ""

    def parent_of(self, ucode: str) -> str | None:
        row = self.file_row(ucode)
        if row is not None:
            parent = row.parent_code.upper()
            return parent if parent and (parent in self.in_file or self.known(parent)) else None
        org = self.existing.get(ucode)
        if org is None or org.parent_id is None or org.parent_id not in self.by_pk:
            return None
        return self.by_pk[org.parent_id].code.upper()

    def plan(self) -> None:
        for rows in self.in_file.values():
            if len(rows) > 1:
                numbers = "、".join(str(row.number) for row in rows)
                for row in rows:
                    row.fail(
                        _("The code “%(code)s” appears in more than one row (rows %(rows)s).")
                        % {"code": row.code, "rows": numbers}
                    )
        for row in self.rows:
            if row.code:
                self._check(row)
        self._check_kind_changes()
        depths = _final_depths(self.in_file, self.parent_of)
        for row in self.rows:
            row.depth = depths.get(row.ucode, 0) if row.code else 0
            if row.depth is None:
                row.fail(_("The parent codes form a loop: this organization would end up under itself."))
        # Parents first, so that a parent's error reaches every row below it in one pass.
        for row in sorted(self.rows, key=lambda r: r.depth if r.depth is not None else -1):
            parent_row = self.file_row(row.parent_code.upper()) if row.parent_code else None
            if parent_row is not None and parent_row is not row and parent_row.errors:
                row.fail(
                    _("Its parent organization (sheet “%(sheet)s”, row %(row)s) has an error.")
                    % _where(parent_row)
                )
        for row in self.rows:
            self._decide(row)

    def _check(self, row: PlannedOrganization) -> None:
        existing = self.existing.get(row.ucode)
        if existing is not None and not self.scope.reaches(existing):
            row.fail(
                _("The code “%(code)s” is already used by an organization outside your scope.")
                % {"code": row.code}
            )
            return
        row.existing = existing
        if (
            existing is not None
            and existing.kind == OrgKind.COMMITTEE
            and row.kind
            and row.kind != OrgKind.COMMITTEE
        ):
            row.fail(_("A working committee cannot become another kind of organization."))
        if row.kind == OrgKind.COMMITTEE:
            if row.parent_code:
                row.fail(_("A working committee is the top of its tree: leave the parent code empty."))
            if existing is None and not self.scope.everything:
                row.fail(_("Only a system administrator may create a working committee."))
            return
        if not row.parent_code:
            if row.kind:
                row.fail(_("The parent organization code is empty."))
            return
        parent = row.parent_code.upper()
        if parent == row.ucode:
            row.fail(_("An organization cannot be its own parent."))
            return
        parent_org = self.known(parent)
        if parent not in self.in_file and parent_org is None:
            row.fail(
                _(
                    "Unknown parent code “%(code)s”: it is neither in the sheet nor among the "
                    "organizations you manage."
                )
                % {"code": row.parent_code}
            )
            return
        if parent not in self.in_file and not parent_org.is_active:
            row.fail(_("The parent organization “%(name)s” is deactivated.") % {"name": parent_org.name})
        parent_kind = self.kind_of(parent)
        if row.kind and parent_kind and row.kind not in ALLOWED_CHILDREN[parent_kind]:
            row.fail(
                _("A %(kind)s cannot be placed under a %(parent_kind)s.")
                % {"kind": OrgKind(row.kind).label, "parent_kind": OrgKind(parent_kind).label}
            )

    def _check_kind_changes(self) -> None:
        changing = {
            row.existing.pk: row
            for row in self.rows
            if row.existing is not None and row.kind and row.kind != row.existing.kind and not row.errors
        }
        if not changing:
            return
        with_children: set[int] = set()
        for chunk in _chunks(changing):
            with_children.update(
                Organization.objects.filter(parent_id__in=chunk)
                .values_list("parent_id", flat=True)
                .distinct()
            )
        for pk in with_children:
            changing[pk].fail(_("The kind of an organization with sub-organizations cannot be changed."))

    def _decide(self, row: PlannedOrganization) -> None:
        existing = row.existing
        if row.kind == OrgKind.BRANCH and not row.stage:
            kept = existing is not None and existing.kind == OrgKind.BRANCH and existing.stage
            row.stage = existing.stage if kept else BranchStage.BASIC
        if existing is not None and not row.order_given:
            row.sort_order = existing.sort_order
        if row.errors:
            row.action = ImportAction.ERROR
            return
        if existing is None:
            row.action = ImportAction.CREATE
            where = (
                _("under %(parent)s") % {"parent": row.parent_code}
                if row.parent_code
                else _("at the top of a new tree")
            )
            row.note(_("New %(kind)s, %(where)s.") % {"kind": OrgKind(row.kind).label, "where": where})
            return
        old_parent = self.by_pk[existing.parent_id].code if existing.parent_id in self.by_pk else ""
        compared = [
            (_("name"), existing.name, row.name),
            (_("kind"), WORD_OF_KIND.get(existing.kind, existing.kind), WORD_OF_KIND[row.kind]),
            (_("parent"), old_parent.upper(), row.parent_code.upper()),
            (_("stage"), WORD_OF_STAGE.get(existing.stage, ""), WORD_OF_STAGE.get(row.stage, "")),
            (_("order"), str(existing.sort_order), str(row.sort_order)),
        ]
        changed = [(label, old, new) for label, old, new in compared if old != new]
        row.action = ImportAction.UPDATE if changed else ImportAction.UNCHANGED
        for label, old, new in changed:
            row.note(f"{label}: {old or '—'} → {new or '—'}")


# ---------------------------------------------------------------------------- people


def _users_by_username(usernames: Iterable[str]) -> dict[str, KnownPerson]:
    found: dict[str, KnownPerson] = {}
    for chunk in _chunks(sorted(set(usernames))):
        rows = (
            User.objects.annotate(uname=Upper("username"))
            .filter(uname__in=chunk)
            .values_list("uname", *KnownPerson.FIELDS)
        )
        for uname, *values in rows:
            found[uname] = KnownPerson(*values)
    return found


class _PeoplePlanner:
    def __init__(self, rows: list[PlannedPerson], orgs: _OrganizationPlanner, scope: ImporterScope):
        self.rows = rows
        self.orgs = orgs
        self.scope = scope
        self.users = _users_by_username(row.username.upper() for row in rows if row.username)
        self.held: set[tuple[int, str, int]] = set()
        self.outside_scope: set[int] = set()  # people holding a role the importer does not reach
        user_ids = [user.pk for user in self.users.values()]
        for chunk in _chunks(user_ids):
            assignments = RoleAssignment.objects.filter(user_id__in=chunk).values_list(
                "user_id", "role", "organization_id", "organization__path"
            )
            for user_id, role, org_id, path in assignments:
                self.held.add((user_id, role, org_id))
                committee_id = int(path.strip("/").split("/")[0])
                if not scope.everything and committee_id not in scope.committee_ids:
                    self.outside_scope.add(user_id)
        self.grant_allowed: dict[tuple[str, str, str], bool] = {}

    def _organization(self, row: PlannedPerson) -> tuple[str, KnownOrganization | None] | None:
        """The kind and (if it exists) the organization the role is held on; None: an error was noted."""
        ucode = row.org_code.upper()
        file_row = self.orgs.file_row(ucode)
        if file_row is not None:
            if file_row.errors:
                row.fail(
                    _("The organization “%(code)s” (sheet “%(sheet)s”, row %(row)s) has an error.")
                    % {"code": row.org_code, **_where(file_row)}
                )
                return None
            return file_row.kind, file_row.existing
        org = self.orgs.known(ucode)
        if org is None:
            row.fail(
                _(
                    "Unknown organization code “%(code)s”: it is neither in the sheet “%(sheet)s” nor among the organizations you manage."
                )
                % {"code": row.org_code, "sheet": ORG_SHEET}
            )
            return None
        return org.kind, org

    def _nearest_existing(self, ucode: str) -> KnownOrganization | None:
        """The organization itself if it exists, else its nearest existing ancestor in the planned tree."""
        seen = set()
        while ucode and ucode not in seen:
            seen.add(ucode)
            row = self.orgs.file_row(ucode)
            if row is not None and row.existing is not None:
                return row.existing
            if row is None:
                return self.orgs.known(ucode)
            ucode = row.parent_code.upper()
        return None

    def _may_grant(self, role: str, kind: str, ucode: str) -> bool:
        anchor = self._nearest_existing(ucode)
        if anchor is None:  # a new committee: only who may create one reaches it
            return self.scope.everything
        key = (role, kind, anchor.path)
        if key not in self.grant_allowed:
            # A new organization is reached through its ancestors: ask the rule about an
            # organization of its kind at the place of the nearest existing one.
            probe = (
                anchor.as_probe()
                if anchor.kind == kind and anchor.code.upper() == ucode
                else Organization(kind=kind, path=anchor.path)
            )
            self.grant_allowed[key] = may_grant(self.scope.actor, role, probe)
        return self.grant_allowed[key]

    def plan(self) -> None:
        by_username: dict[str, list[PlannedPerson]] = defaultdict(list)
        for row in self.rows:
            if row.username:
                by_username[row.username.upper()].append(row)
        for uname, rows in by_username.items():
            self._plan_person(self.users.get(uname), rows)
        for row in self.rows:
            if not row.username:
                row.action = ImportAction.ERROR

    def _plan_person(self, user: KnownPerson | None, rows: list[PlannedPerson]) -> None:
        first = rows[0]
        values: dict[str, tuple[str, PlannedPerson]] = {}
        for row in rows:
            for name in ("real_name", "phone", "email"):
                value = getattr(row, name)
                if not value:
                    continue
                if name in values and values[name][0] != value:
                    row.fail(
                        _(
                            "The user name “%(username)s” has a different %(field)s in row %(row)s (“%(value)s”)."
                        )
                        % {
                            "username": row.username,
                            "field": User._meta.get_field(name).verbose_name,
                            "row": values[name][1].number,
                            "value": values[name][0],
                        }
                    )
                values.setdefault(name, (value, row))
        details = {name: value for name, (value, _row) in values.items()}
        actor = self.scope.actor
        if user is None:
            first.creates_account = True
            first.account_values = tuple(details.get(name, "") for name in ("real_name", "phone", "email"))
            if not details.get("real_name"):
                first.fail(_("A new person needs a name."))
        else:
            changes = {name: value for name, value in details.items() if getattr(user, name) != value}
            if changes:
                if user.is_superuser and not self.scope.everything:
                    first.fail(_("Only a system administrator may change a system administrator's account."))
                elif user.pk in self.outside_scope:
                    first.fail(
                        _(
                            "“%(username)s” also holds roles outside your scope; their name, phone and e-mail cannot be changed here."
                        )
                        % {"username": user.username}
                    )
                first.account_changes = changes
        seen: dict[tuple[str, str], PlannedPerson] = {}
        for row in rows:
            row.existing_user = user
            self._plan_role(row, user, seen, actor)

    def _plan_role(
        self, row: PlannedPerson, user: KnownPerson | None, seen: dict, actor: User | None
    ) -> None:
        found = self._organization(row) if row.org_code else None
        if found is not None and row.role:
            kind, org = found
            ucode = row.org_code.upper()
            if kind not in ROLE_ORG_KINDS[row.role]:
                row.fail(
                    _("The role “%(role)s” cannot be held on a %(kind)s.")
                    % {"role": WORD_OF_ROLE[row.role], "kind": OrgKind(kind).label}
                )
            elif (row.role, ucode) in seen:
                row.note(_("The same as row %(row)s.") % {"row": seen[(row.role, ucode)].number})
            elif user is not None and org is not None and (user.pk, row.role, org.pk) in self.held:
                row.note(_("Already holds this role."))
            else:
                seen[(row.role, ucode)] = row
                if actor is not None and row.username.upper() == actor.username.upper():
                    row.fail(_("Nobody may grant a role to themselves."))
                elif not self._may_grant(row.role, kind, ucode):
                    if row.role == Role.COMMITTEE_APPROVER or (
                        row.role == Role.STAFF and kind == OrgKind.COMMITTEE
                    ):
                        row.fail(
                            _(
                                "Only a system administrator may grant the role “%(role)s” on a working committee."
                            )
                            % {"role": WORD_OF_ROLE[row.role]}
                        )
                    else:
                        row.fail(_("You may not grant roles on this organization."))
                elif org is not None and not org.is_active:
                    row.fail(_("A role cannot be granted on a deactivated organization."))
                else:
                    row.grants = True
        self._decide(row)

    def _decide(self, row: PlannedPerson) -> None:
        if row.errors:
            row.action = ImportAction.ERROR
            return
        if row.creates_account:
            row.note(_("New account, with a one-time password."), first=True)
        if row.account_changes:
            labels = "、".join(str(User._meta.get_field(name).verbose_name) for name in row.account_changes)
            row.note(_("Changes the account: %(fields)s.") % {"fields": labels}, first=True)
        if row.grants:
            row.note(
                _("Grants the role “%(role)s” on %(code)s.")
                % {"role": WORD_OF_ROLE[row.role], "code": row.org_code}
            )
        if row.creates_account or row.grants:
            row.action = ImportAction.CREATE
        elif row.account_changes:
            row.action = ImportAction.UPDATE
        else:
            row.action = ImportAction.UNCHANGED


# ---------------------------------------------------------------------------- the plan


def build_import_plan(workbook: ImportWorkbook, *, actor: User | None) -> ImportPlan:
    """Every row of ``workbook`` with what importing it as ``actor`` would do (nothing is written)."""
    sheets = workbook.organizations, workbook.people
    organizations = [_parse_organization(number, sheets[0].cells(texts)) for number, texts in sheets[0].rows]
    people = [_parse_person(number, sheets[1].cells(texts)) for number, texts in sheets[1].rows]
    return _plan_rows(organizations, people, actor=actor)


def _parse_row(sheet: str, number: int, cells: dict[str, str]) -> PlannedRow:
    return _parse_organization(number, cells) if sheet == ORG_SHEET else _parse_person(number, cells)


def _plan_rows(
    organizations: list[PlannedOrganization], people: list[PlannedPerson], *, actor: User | None
) -> ImportPlan:
    scope = ImporterScope(actor)
    org_planner = _OrganizationPlanner(organizations, scope, (row.org_code for row in people if row.org_code))
    org_planner.plan()
    _PeoplePlanner(people, org_planner, scope).plan()
    return ImportPlan(organizations=organizations, people=people)


def plan_import_file(source, *, actor: User | None) -> ImportPlan:
    """The plan for a file (a path or a binary file object); a file that cannot be read has file_errors."""
    try:
        # Each row is parsed as it is read: the file's texts are not held beside the plan.
        workbook = read_import_workbook(source, parse=_parse_row)
    except ImportFileError as error:
        return ImportPlan(file_errors=error.messages)
    return _plan_rows(workbook.organizations.rows, workbook.people.rows, actor=actor)
