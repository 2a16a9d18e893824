"""The shape of the code: imports run one way, and every shared concept has one definition."""

import ast
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
# An app may import only from the apps before it.
ORDER = [
    "branches",
    "scoring",
    "reviews",
    "checks",
    "rectification",
    "supervision",
    "reports",
    "directory",
    "home",
]


def source_files(app: str) -> list[Path]:
    return [p for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts]


def imported_apps(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names & set(ORDER)


@pytest.mark.parametrize("app", ORDER)
def test_an_app_imports_only_from_the_apps_before_it(app):
    allowed = set(ORDER[: ORDER.index(app) + 1])
    upward = {
        str(path.relative_to(ROOT)): sorted(imported_apps(path) - allowed)
        for path in source_files(app)
        if imported_apps(path) - allowed
    }
    assert upward == {}


@pytest.mark.parametrize(
    "app",
    ["branches", "scoring", "reviews", "checks", "rectification", "supervision", "reports", "directory"],
)
def test_every_app_has_the_same_shape(app):
    folder = ROOT / app
    for part in ("models.py", "selectors.py", "admin.py", "services/__init__.py"):
        assert (folder / part).is_file(), f"{app}/{part}"
    assert not list(folder.glob("services_*.py")) and not list(folder.glob("forms_*.py"))
    if (folder / "views").is_dir():
        views = {p.stem for p in (folder / "views").glob("*.py")} - {"__init__", "common"}
        forms = {p.stem for p in (folder / "forms").glob("*.py")} - {"__init__", "widgets"}
        assert forms <= views, "every forms module mirrors a views module"


def definitions() -> dict[str, list[str]]:
    """Every top-level class, function and constant of the apps, with where it is defined."""
    found: dict[str, list[str]] = {}
    for app in ORDER:
        for path in source_files(app):
            for node in ast.parse(path.read_text(encoding="utf-8")).body:
                if isinstance(node, ast.ClassDef | ast.FunctionDef):
                    names = [node.name]
                elif isinstance(node, ast.Assign):
                    names = [t.id for t in node.targets if isinstance(t, ast.Name)]
                else:
                    continue
                for name in names:
                    found.setdefault(name, []).append(str(path.relative_to(ROOT)))
    return found


SHARED = {
    "Role": "branches/roles.py",
    "COMMITTEE_MANAGERS": "branches/roles.py",
    "APPROVERS": "branches/roles.py",
    "WorkflowError": "branches/errors.py",
    "require_role": "branches/selectors.py",
    "VETO_APPLIES": "scoring/arithmetic.py",
    "VETO_DOES_NOT_APPLY": "scoring/arithmetic.py",
    "veto_applies": "scoring/arithmetic.py",
    "ScoreEntry": "scoring/arithmetic.py",
    "is_disagreement": "scoring/arithmetic.py",
    "star_label": "scoring/templatetags/stars.py",
    "stars_text": "scoring/templatetags/stars.py",
    "ReviewerTotal": "reviews/selectors.py",
    "team_scores_visibility": "reviews/selectors.py",
    "self_assessment_data": "reviews/selectors.py",
    "quarter_of": "reports/quarters.py",
    "quarter_days": "reports/quarters.py",
    "check_quarter": "reports/quarters.py",
}


@pytest.mark.parametrize(("name", "home"), SHARED.items())
def test_a_shared_concept_is_defined_once(name, home):
    assert definitions().get(name) == [home]


def test_every_browser_test_module_is_marked_to_run_last():
    """Unmarked, a module's Playwright session would start among the other tests (see
    tests/browser/conftest.py: the browser tests run last)."""
    unmarked = [
        path.name
        for path in sorted((ROOT / "tests" / "browser").glob("test_*.py"))
        if "pytest.mark.browser" not in path.read_text(encoding="utf-8")
    ]
    assert unmarked == []
