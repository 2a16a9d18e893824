"""The Content-Security-Policy holds on every page: no inline script, no inline style.

The header (config/settings.py, CONTENT_SECURITY_POLICY) allows scripts and styles from the site's
own files only. A page that still carried a ``style="…"`` attribute, a ``<style>`` block, an inline
``<script>`` or an ``onclick=`` would lose that part in the browser, and Chromium says so on the
console ("Refused to apply inline style …"); every such refusal fails the test.

The walk signs in as each demo role and follows every link from its home page, one page per URL
pattern and set of query keys (a branch page stands for all branch pages), downloads left out;
the superuser walks the admin the same way. The import preview and result, the self-assessment
with a typed score, and the 400, 403, 404, 500 and CSRF pages are visited on purpose, since no
link leads to them. A probe page with an inline style and an inline script checks that refusals
are seen at all.
"""

import re
from collections import deque
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import Resolver404, get_resolver, resolve, reverse

from branches.models import Organization, OrgKind
from branches.spreadsheets import Sheet, write_workbook
from directory.imports.workbook import ORG_HEADERS, PEOPLE_HEADERS
from reviews.models import Assessment, Certificate, CertificateStatus
from tests.browser.helpers import DemoBrowser, screenshot_taker

ROOT = Path(__file__).resolve().parents[2]
ROLES = ("shuji", "chushen", "kaohe1", "shenpi", "dangwu", "admin")
PAGES_PER_ROLE = 150
ADMIN_PAGES = 200
# Answers that are files, not pages (Excel, PDF, evidence, the import's template and passwords).
DOWNLOADS = re.compile(r"(_export|_pdf|_xlsx|_download|_file|import_template|import_passwords)$")
# Pages of every kind the walk must reach, lest a change of links hide a template from it.
MUST_SHOW = {
    "home",
    "reviews:self_assessment",
    "reviews:assessment_detail",
    "reviews:score",
    "reviews:branch_detail",
    "reviews:cycle_detail",
    "reviews:cycle_publicity",
    "reviews:appeal_detail",
    "reviews:preliminary_review",
    "reports:bulletin_detail",
    "reports:notice_detail",
    "reports:job_list",
    "checks:round_detail",
    "checks:sheet_score",
    "checks:entry_detail",
    "directory:org_tree",
    "directory:org_detail",
    "directory:person_detail",
    "directory:audit",
    "admin:index",
}


def site_pages(patterns=None, namespace="") -> list[str]:
    """Every named URL of the site outside the admin, downloads left out (printed, for the record)."""
    names = []
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if hasattr(pattern, "url_patterns"):
            if pattern.namespace != "admin":
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                names += site_pages(pattern.url_patterns, inner)
        elif pattern.name and not DOWNLOADS.search(pattern.name):
            names.append(namespace + pattern.name)
    return names


# Reports CSP refusals of the page to the console in one searchable line, besides Chromium's own.
LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP-VIOLATION ${event.effectiveDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`);
});
"""


def policy_of(response) -> str:
    return response.headers.get("content-security-policy", "")  # Playwright's names are lower case


@pytest.mark.django_db
def test_every_answer_carries_the_policy_without_unsafe_inline(client, world):
    client.force_login(world.secretary)
    for path in ("/accounts/login/", reverse("home"), "/no-such-page/", "/admin/login/"):
        policy = policy_of(client.get(path))
        assert "unsafe-inline" not in policy, path
        assert "unsafe-eval" not in policy, path
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
        assert directives == {
            "default-src": "'self'",
            "script-src": "'self'",
            "style-src": "'self'",
            "img-src": "'self' data:",
            "object-src": "'none'",
            "base-uri": "'self'",
            "frame-ancestors": "'none'",
            "form-action": "'self'",
        }, path


@pytest.mark.django_db
def test_a_crash_and_a_refused_form_carry_the_policy_too(world, settings):
    settings.ROOT_URLCONF = "tests.test_error_pages"
    crashing = Client(raise_request_exception=False)
    assert "style-src 'self'" in policy_of(crashing.get("/test-crash/"))
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(world.secretary)
    refused = strict.post(reverse("password_change"), {})
    assert refused.status_code == 403
    assert "script-src 'self'" in policy_of(refused)


# Rendered only for WeasyPrint, which reads its styles from the document; no browser shows them.
PDF_ONLY_TEMPLATES = {
    "reports/bulletin/pdf.html",
    "reports/branch/assessment_report.html",
    "reports/branch/certificate.html",
}
INLINE = {
    "style attribute": re.compile(r"<[^>]*\sstyle\s*=", re.IGNORECASE),
    "style element": re.compile(r"<style\b", re.IGNORECASE),
    "inline script": re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>\s*[^<\s]", re.IGNORECASE),
    "event handler": re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE),
    "javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
}


def test_no_template_a_browser_shows_has_anything_inline():
    """Also the templates the walk below does not reach (a form's error state, a rare status)."""
    found = []
    folder = ROOT / "templates"
    for path in sorted(folder.rglob("*.html")):
        name = path.relative_to(folder).as_posix()
        if name in PDF_ONLY_TEMPLATES:
            continue
        text = path.read_text(encoding="utf-8")
        found += [f"{name}: {what}" for what, pattern in INLINE.items() if pattern.search(text)]
    # Markup written by Python: widget attributes, format_html, the charts.
    python_style = re.compile(r"""["']style["']\s*:|\sstyle=|<style\b""")
    for path in sorted(ROOT.glob("*/**/*.py")):
        parts = path.relative_to(ROOT).parts
        if parts[0] in {".venv", "tests", "staticfiles", "node_modules"} or "migrations" in parts:
            continue
        if python_style.search(path.read_text(encoding="utf-8")):
            found.append(f"{path.relative_to(ROOT)}: style in generated markup")
    assert not found, "inline code or style, which the Content-Security-Policy refuses:\n" + "\n".join(found)
    # The guard itself: each kind is caught.
    samples = [
        '<p style="x">',
        "<style>p{}</style>",
        "<script>go()</script>",
        '<a onclick="go()">',
        '<a href="javascript:go()">',
    ]
    assert all(any(pattern.search(sample) for pattern in INLINE.values()) for sample in samples)
    assert not any(pattern.search('<script src="/static/js/a.js"></script>') for pattern in INLINE.values())


class Violations:
    """Collects the CSP refusals and the server errors of every page a browser context shows."""

    def __init__(self, context):
        self.found: list[str] = []
        self.current = ""
        context.add_init_script(LISTENER)
        context.on("console", self._console)

    def _console(self, message) -> None:
        # Both the listener's lines (directive, source and line) and Chromium's own, once each.
        if message.text.startswith("CSP-VIOLATION") or "Content Security Policy" in message.text:
            line = f"{self.current}: {message.text}"
            if line not in self.found:
                self.found.append(line)


def _key(path: str, query: str):
    """One visit per URL pattern and set of query keys."""
    try:
        match = resolve(path)
    except Resolver404:
        return None
    if DOWNLOADS.search(match.url_name or "") or match.url_name in {"logout", "set_language"}:
        return None
    if match.app_name == "admin":
        # The admin's filters and orderings show the same templates: one visit per pattern.
        return None if match.url_name in {"logout", "view_on_site"} else (match.route, frozenset())
    return (match.route, frozenset(name for name, _value in parse_qsl(query)))


def crawl(
    demo: DemoBrowser, violations: Violations, start: list[str], limit: int, seen: set
) -> tuple[list[str], list[str]]:
    """Visit pages breadth-first from ``start``; return the paths visited and the 5xx answers."""
    page, base = demo.page, demo.base
    queue, visited, errors = deque(start), [], []
    while queue and len(visited) < limit:
        target = queue.popleft()
        parts = urlsplit(target)
        key = _key(parts.path, parts.query)
        if key is None or key in seen:
            continue
        seen.add(key)
        violations.current = target
        try:
            response = page.goto(base + target)
        except Exception as error:  # a link that starts a download
            if "Download is starting" in str(error):
                continue
            raise
        visited.append(target)
        if response is not None and response.status >= 500:
            errors.append(f"{target}: HTTP {response.status}")
        if not (response and "text/html" in response.headers.get("content-type", "")):
            continue
        # An SVG chart's <a> has no string .href: resolve the attribute against the page.
        script = "links => links.map((link) => new URL(link.getAttribute('href'), document.baseURI).href)"
        for href in page.eval_on_selector_all("a[href]", script):
            link = urlsplit(href)
            if f"{link.scheme}://{link.netloc}" == base and link.path:
                queue.append(link.path + (f"?{link.query}" if link.query else ""))
    return visited, errors


def _import_file(path) -> str:
    parent = Organization.objects.filter(kind=OrgKind.PARTY_COMMITTEE).order_by("path").first()
    organizations = [["CSP-01", "新建测试党支部", "党支部", parent.code, "", 99]]
    people = [["csp_test", "测试用户", "13700000000", "csp@example.cn", "支部书记", "CSP-01"]]
    write_workbook(
        [Sheet("组织", list(ORG_HEADERS), organizations), Sheet("人员", list(PEOPLE_HEADERS), people)], path
    )
    return str(path)


def _visit_on_purpose(demo: DemoBrowser, violations: Violations, username: str, tmp_path, take) -> int:
    """The pages no link leads to; returns how many were shown."""
    page, shown = demo.page, 0
    if username == "shuji":
        assessment = Assessment.objects.filter(branch__code="BJ-FGW-01").order_by("-cycle__opened_at").first()
        violations.current = "self-assessment, typing a score"
        page.goto(demo.url("reviews:self_assessment", assessment.pk))
        field = page.locator("input.score-input").first
        field.fill("1")
        field.press("Tab")
        page.wait_for_timeout(300)
        take(page, "self-assessment")
        shown += 1
    if username == "dangwu":
        violations.current = "import upload → preview → result"
        demo.goto("directory:import")
        page.locator("input[type=file][name=file]").set_input_files(_import_file(tmp_path / "import.xlsx"))
        page.locator("#import-upload").click()
        page.locator("#import-rows").wait_for()
        take(page, "import-preview")
        page.once("dialog", lambda dialog: dialog.accept())
        page.locator("#import-confirm").click()
        page.wait_for_url(re.compile(r"/result/$"))
        take(page, "import-result")
        shown += 2
    if username == "dangwu":
        violations.current = "search"
        assert page.goto(demo.url("directory:search") + "?q=党支部").status == 200
        shown += 1
    if username == "shenpi":
        certificate = Certificate.objects.filter(status=CertificateStatus.VALID).order_by("pk").first()
        for name in ("reviews:branch_downgrade", "reviews:branch_revoke"):
            violations.current = name
            assert page.goto(demo.url(name, certificate.branch_id)).status == 200
        violations.current = "certificate verification"
        assert page.goto(demo.url("reports:verify_code", certificate.verification_code)).status == 200
        assert page.goto(demo.url("reports:verify")).status == 200
        shown += 4
    violations.current = "404"
    assert page.goto(f"{demo.base}/no-such-page/").status == 404
    if username == "shuji":
        violations.current = "403"
        branch = Assessment.objects.filter(branch__code="BJ-FGW-01").first().branch
        assert page.goto(demo.url("reviews:branch_downgrade", branch.pk)).status == 403
        shown += 1
    return shown + 1


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_no_page_of_any_demo_role_is_refused_anything_by_the_policy(browser, live_server, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("load_demo", verbosity=0)
    report, errors, counts, shown = [], [], {}, set()
    admin_index = (resolve("/admin/").route, frozenset())
    take = screenshot_taker(ROOT, "csp")
    for username in ROLES:
        context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
        violations = Violations(context)
        demo = DemoBrowser(context.new_page(), live_server)
        demo.sign_in(username)
        take(demo.page, f"{username}-home")
        # Staff with admin access see part of the admin: the superuser walks all of it, once.
        visited, failed = crawl(demo, violations, [reverse("home")], PAGES_PER_ROLE, {admin_index})
        if username == "admin":
            more, failed_admin = crawl(demo, violations, ["/admin/"], ADMIN_PAGES, set())
            visited += more
            failed += failed_admin
        counts[username] = len(visited) + _visit_on_purpose(demo, violations, username, tmp_path, take)
        shown |= {resolve(urlsplit(path).path).view_name for path in visited}
        report += violations.found
        errors += [f"{username} {line}" for line in failed]
        context.close()
    print("pages shown per role:", counts)
    print("site pages never shown:", sorted(name for name in site_pages() if name not in shown))
    assert counts["shuji"] >= 10 and counts["dangwu"] >= 30 and counts["admin"] >= 60, counts
    assert shown >= MUST_SHOW, f"the walk no longer reaches {sorted(MUST_SHOW - shown)}"
    assert not report, "the Content-Security-Policy refused:\n" + "\n".join(report)
    assert not errors, "server errors:\n" + "\n".join(errors)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.urls("tests.test_error_pages")
def test_the_error_pages_and_the_sign_in_page_need_nothing_inline(browser, live_server, world):
    context = browser.new_context(locale="zh-CN")
    violations = Violations(context)
    page = context.new_page()
    for path, status in (("/test-crash/", 500), ("/test-suspicious/", 400), ("/accounts/login/", 200)):
        violations.current = path
        assert page.goto(live_server.url + path).status == status
    # The CSRF page: the sign-in form sent after its token was spoilt.
    page.locator("main input[name=csrfmiddlewaretoken]").evaluate(
        "field => { field.value = 'x'.repeat(64); }"
    )
    context.clear_cookies()
    violations.current = "CSRF refusal"
    page.get_by_label("用户名").fill("nobody")
    page.get_by_label("密码").fill("nothing")
    with page.expect_response(lambda response: response.request.method == "POST") as answer:
        page.locator("main form button[type=submit]").click()
    assert answer.value.status == 403
    assert not violations.found, "\n".join(violations.found)
    context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_page_with_inline_style_and_script_is_caught(browser, live_server):
    """The watch itself: a page under the same policy with a style attribute, a <style> block and an
    inline script is reported three times."""
    context = browser.new_context(locale="zh-CN")
    violations = Violations(context)
    page = context.new_page()
    policy = policy_of(page.goto(f"{live_server.url}/accounts/login/"))
    assert policy
    probe = f"{live_server.url}/csp-probe/"
    body = "<!doctype html><p style='color: red'>x</p><style>p { color: blue; }</style><script>1;</script>"
    page.route(
        probe,
        lambda route: route.fulfill(
            status=200, body=body, headers={"Content-Type": "text/html", "Content-Security-Policy": policy}
        ),
    )
    page.goto(probe)
    page.wait_for_timeout(200)
    assert len([line for line in violations.found if "CSP-VIOLATION" in line]) == 3, violations.found
    context.close()
