"""axe-core over the main pages of every demo role, on a desktop (1280 × 800) and a phone (390 × 844).

axe-core comes from npm (``./dev test`` installs it into .venv/node_modules when npm is there)
and is injected by Playwright into each page; any violation of impact "serious" or "critical"
fails the test, and every one found is printed with its rule, the elements and axe's advice.
Without axe-core the test is skipped locally and fails in CI (CI=true).

The pages: every role's home page and its main list or work page; the secretary's
self-assessment sheet and the staff's bulletin as well. The favicon is checked here too.
"""

import os
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from reports.models import Bulletin
from reviews.models import Assessment
from tests.browser.helpers import DemoBrowser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
AXE_PATH = Path(os.environ.get("AXE_CORE_PATH", ROOT / ".venv" / "node_modules" / "axe-core" / "axe.min.js"))
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
FAILING_IMPACTS = ("serious", "critical")


def _axe_script() -> Path:
    if not AXE_PATH.exists():
        message = (
            f"axe-core not found at {AXE_PATH}: run ./dev test, or npm install --prefix .venv axe-core@4"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return AXE_PATH


def pages_of(username: str) -> list[str]:
    """URL paths of the role's main pages, home first."""
    home = reverse("home")
    if username == "shuji":
        assessment = Assessment.objects.filter(branch__code="BJ-FGW-01").order_by("-cycle__opened_at").first()
        return [
            home,
            reverse("reports:notice_list"),
            reverse("reviews:self_assessment", args=[assessment.pk]),
        ]
    if username == "chushen":
        return [home, reverse("reviews:preliminary_queue")]
    if username == "kaohe1":
        return [home, reverse("reviews:my_assignments")]
    if username in {"shenpi", "admin"}:
        return [home, reverse("reviews:cycle_list")]
    if username == "dangwu":
        bulletin = Bulletin.objects.order_by("-year", "-quarter").first()
        paths = [home, reverse("reports:bulletin_list")]
        return paths + ([reverse("reports:bulletin_detail", args=[bulletin.pk])] if bulletin else [])
    raise AssertionError(username)


ROLES = ("shuji", "chushen", "kaohe1", "shenpi", "dangwu", "admin")


def describe(path: str, size: str, violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{size} {path}: [{violation['impact']}] {violation['id']}: {violation['help']}")
        for node in violation["nodes"][:8]:
            lines.append(
                f"    {' '.join(node['target'])}: {node.get('failureSummary', '').splitlines()[-1:]}"
            )
        if len(violation["nodes"]) > 8:
            lines.append(f"    … and {len(violation['nodes']) - 8} more")
    return "\n".join(lines)


def test_no_serious_or_critical_violation_on_the_main_pages_of_every_role(
    browser, live_server, settings, tmp_path
):
    axe = _axe_script()
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("load_demo", verbosity=0)
    report, audited = [], 0
    for username in ROLES:
        paths = pages_of(username)
        for size, viewport in SIZES.items():
            # axe-core is injected as an inline script, which the site's Content-Security-Policy
            # refuses (tests/browser/test_csp.py checks the policy): this context bypasses it.
            context = browser.new_context(
                viewport=viewport, locale="zh-CN", reduced_motion="reduce", bypass_csp=True
            )
            demo = DemoBrowser(context.new_page(), live_server)
            demo.sign_in(username)
            for path in paths:
                demo.page.goto(live_server.url + path)
                demo.page.add_script_tag(path=str(axe))
                result = demo.page.evaluate(
                    "async () => await axe.run(document, {resultTypes: ['violations']})"
                )
                bad = [v for v in result["violations"] if v["impact"] in FAILING_IMPACTS]
                audited += 1
                if bad:
                    report.append(f"{username} " + describe(path, size, bad))
            context.close()
    assert audited >= 2 * 2 * len(ROLES)
    assert not report, "axe-core found serious or critical violations:\n" + "\n".join(report)


def test_the_favicon_is_linked_from_every_page_and_served_at_the_root(page, live_server):
    """No 404 for the icon: the layout links the SVG and ICO files, and /favicon.ico (asked for
    by browsers on pages without the links, such as the admin's) redirects to the ICO file."""
    page.goto(f"{live_server.url}/accounts/login/")
    icons = page.eval_on_selector_all("link[rel=icon]", "links => links.map((link) => link.href)")
    assert len(icons) == 2
    for url in [*icons, f"{live_server.url}/favicon.ico"]:
        response = page.request.get(url)
        assert response.status == 200, url
        assert response.headers["content-type"].startswith("image/"), url
