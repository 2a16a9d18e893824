"""Cycles, bulletins and standards change status only inside their guarded move functions.

The source is read, not run: any assignment to a ``.status`` of one of these records, any
``update(status=...)`` of their rows, and any row created in a status other than its first
is a finding, unless it sits in the one move function of its model (migrations and tests
are not scanned).
"""

import ast
import re
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
SCANNED = ["branches", "scoring", "reviews", "reports", "home", "config"]

MODELS = {"Cycle", "Bulletin", "Standard", "Appeal"}
# Each status enum with the status its rows are created in: creating one so is not a move.
INITIAL = {
    "CycleStatus": "OPEN",
    "BulletinStatus": "GENERATING",
    "StandardStatus": "DRAFT",
    "AppealStatus": "SUBMITTED",
}
RECEIVER = re.compile(r"cycle|bulletin|standard|appeal", re.IGNORECASE)

# The one function that writes a status, and the move of each model, which goes through it.
MOVES = {("branches/workflow.py", "move_status")}
MODEL_MOVES = {
    ("reviews/services/core.py", "move"),
    ("reviews/services/core.py", "move_cycle"),
    ("reports/services/bulletins.py", "move_bulletin"),
    ("scoring/services/standards.py", "move_standard"),
    ("reviews/services/appeals.py", "move_appeal"),
}
# The benchmark builds a throwaway history in bulk (and rolls it back), such as a cycle
# certified last year; it may create rows in any status, but it moves none.
CREATES_HISTORY = {"reports/management/commands/bench_bulletin.py"}


def _aliases(tree: ast.Module) -> dict[str, str]:
    """Local name → model or enum name, following ``import ... as``."""
    names = {name: name for name in MODELS | set(INITIAL)}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name in names and alias.asname:
                    names[alias.asname] = alias.name
    return names


class _StatusWrites(ast.NodeVisitor):
    def __init__(self, path: str, aliases: dict[str, str], allowed: set[tuple[str, str]]):
        self.path, self.aliases, self.allowed = path, aliases, allowed
        self.functions: list[str] = []
        self.findings: list[str] = []

    # --- helpers

    def _inside_a_move(self) -> bool:
        return any((self.path, name) in self.allowed for name in self.functions)

    def _enum_members(self, node: ast.AST) -> list[tuple[str, str]]:
        return [
            (self.aliases[n.value.id], n.attr)
            for n in ast.walk(node)
            if isinstance(n, ast.Attribute)
            and isinstance(n.value, ast.Name)
            and self.aliases.get(n.value.id) in INITIAL
        ]

    def _names_a_model(self, node: ast.AST) -> bool:
        return any(isinstance(n, ast.Name) and self.aliases.get(n.id) in MODELS for n in ast.walk(node))

    def _report(self, node: ast.AST, what: str) -> None:
        if not self._inside_a_move():
            where = ".".join(self.functions) or "<module>"
            self.findings.append(f"{self.path}:{node.lineno} in {where}: {what}")

    # --- the visit

    def visit_FunctionDef(self, node):
        self.functions.append(node.name)
        self.generic_visit(node)
        self.functions.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def _targets(self, targets):
        for target in targets:
            if isinstance(target, ast.Tuple | ast.List):
                yield from self._targets(target.elts)
            else:
                yield target

    def _check_assignment(self, node, targets, value):
        for target in self._targets(targets):
            if not (isinstance(target, ast.Attribute) and target.attr == "status"):
                continue
            receiver = ast.unparse(target.value)
            if RECEIVER.search(receiver) or (value is not None and self._enum_members(value)):
                self._report(node, f"{receiver}.status = …")
        self.generic_visit(node)

    def visit_Assign(self, node):
        self._check_assignment(node, node.targets, node.value)

    def visit_AnnAssign(self, node):
        self._check_assignment(node, [node.target], node.value)

    def visit_AugAssign(self, node):
        self._check_assignment(node, [node.target], node.value)

    def visit_Call(self, node):
        status = next((kw.value for kw in node.keywords if kw.arg == "status"), None)
        func = node.func
        method = func.attr if isinstance(func, ast.Attribute) else None
        on_a_model = self._names_a_model(func.value) if isinstance(func, ast.Attribute) else False
        if status is not None and method in {"update", "update_or_create"}:
            if on_a_model or self._enum_members(status):
                self._report(node, f"{ast.unparse(func)}(status=…)")
        elif status is not None and (
            method in {"create", "get_or_create"}
            or (isinstance(func, ast.Name) and self.aliases.get(func.id) in MODELS)
        ):
            members = self._enum_members(status)
            constructs = on_a_model or isinstance(func, ast.Name)
            first = bool(members) and all(INITIAL[enum] == member for enum, member in members)
            if (members or constructs) and not first and self.path not in CREATES_HISTORY:
                self._report(node, f"{ast.unparse(func)}(status={ast.unparse(status)})")
        elif method == "bulk_update" and on_a_model and "'status'" in ast.unparse(node):
            self._report(node, f"{ast.unparse(func)}(…, ['status', …])")
        self.generic_visit(node)


def status_writes(source: str, path: str, allowed: set[tuple[str, str]] = MOVES) -> list[str]:
    tree = ast.parse(source)
    visitor = _StatusWrites(path, _aliases(tree), allowed)
    visitor.visit(tree)
    return visitor.findings


def source_files() -> list[Path]:
    return sorted(
        path for app in SCANNED for path in (ROOT / app).rglob("*.py") if "migrations" not in path.parts
    )


def findings_in(path: Path, allowed: set[tuple[str, str]] = MOVES) -> list[str]:
    return status_writes(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)), allowed)


def test_no_code_sets_a_cycle_bulletin_or_standard_status_outside_its_move():
    findings = [finding for path in source_files() for finding in findings_in(path)]
    assert findings == []


def _function(path: str, name: str) -> ast.FunctionDef:
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    return next(node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == name)


def test_the_one_move_is_where_a_status_is_written():
    (path, name), *_rest = MOVES
    writes = [
        node
        for node in ast.walk(_function(path, name))
        if isinstance(node, ast.Assign)
        and any(isinstance(target, ast.Attribute) and target.attr == "status" for target in node.targets)
    ]
    assert len(writes) == 1


@pytest.mark.parametrize(("path", "function"), sorted(MODEL_MOVES))
def test_each_models_move_goes_through_the_one_move(path, function):
    calls = [
        node
        for node in ast.walk(_function(path, function))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "move_status"
    ]
    assert len(calls) == 1


@pytest.mark.parametrize(
    "snippet",
    [
        "cycle.status = CycleStatus.CERTIFIED",
        "self.bulletin.status = 'published'",
        "stored.status = StandardStatus.PUBLISHED",
        "standard.status, standard.published_at = 'published', now",
        "Bulletin.objects.filter(pk=pk).update(status=BulletinStatus.PUBLISHED)",
        "Cycle.objects.filter(pk=pk).update(status='certified')",
        "rows.update(status=StandardStatus.PUBLISHED)",
        "Cycle.objects.create(committee=c, status=CycleStatus.PUBLICITY)",
        "Bulletin(committee=c, status=state)",
        "Standard.objects.bulk_update(rows, ['status'])",
        "from reviews.models import CycleStatus as C\nx.status = C.CERTIFIED",
    ],
)
def test_the_scan_finds_a_status_written_behind_the_moves_back(snippet):
    assert status_writes(f"def sneak():\n    {snippet.replace(chr(10), chr(10) + '    ')}\n", "x.py")


@pytest.mark.parametrize(
    "snippet",
    [
        "assessment.status = spec.target",
        "certificate.status = CertificateStatus.REVOKED",
        "Assessment.objects.filter(cycle_id=cycle.pk).update(status=spec.target)",
        "Cycle.objects.filter(status=CycleStatus.OPEN)",
        "Bulletin.objects.create(committee=c, year=y, quarter=q)",
        "Standard(name=n, status=StandardStatus.DRAFT)",
    ],
)
def test_the_scan_leaves_other_records_and_first_statuses_alone(snippet):
    assert status_writes(f"def fine():\n    {snippet}\n", "x.py") == []
