"""Benchmark: every role's home and list pages on the scale committee against the demo committee.

    manage.py build_scale_committee --branches 2000 --party-committees 10   # once
    manage.py load_demo                                                     # once
    manage.py bench_pages [--prefix SCALE] [--rounds 15]

For each page it signs in as a user of the role on the committee built by
``build_scale_committee`` and as the demo's user of that role, and requests the page in
rounds. Every request of a page is preceded by one of a trivial view (``--trivial``, by default
``/favicon.ico``: the middleware and the session, no page), so a change of load on the machine
hits both alike; the ratio to the trivial view is the page's median over the trivial view's.
It prints per page: the queries (demo / scale), the median milliseconds (demo / scale), the
ratio scale / demo and the ratio scale / trivial view, as a reload finds the page (kept,
branches/kept.py); then, with KEEP_PAGES on, the median of the page drawn anew, requested right
after every kept page was let go (over HTTP the command must share the server's CACHE_URL).
Then, on PostgreSQL, ``EXPLAIN ANALYZE`` of every query of the main scoped pages (``EXPLAINED``:
the reviewer's assigned list, the approver's assessment list and home, the parent reviewer's
list and home, the staff's organizations and people) at scale: the two slowest plans in full, and for every query its time,
buffers and its plan's estimated against actual rows, with the worst node and how many are more
than ``ESTIMATE_TOLERANCE`` times off (nodes a LIMIT or a merge join stops early left out).

By default the pages are requested in this process with Django's test client (``--base-url``
sends real HTTP to a running server instead, loopback only, signing in with the password). The
first round warms up and counts the queries; it is not timed.
"""

import re
import statistics
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from branches.demo import COMMITTEE_CODE as DEMO_COMMITTEE
from branches.demo import DEMO_PASSWORD
from branches.kept import redraw_pages
from branches.models import Organization, User
from reviews.demo import CURRENT_CYCLE as DEMO_CURRENT
from reviews.demo import PAST_CYCLE as DEMO_PAST
from reviews.models import Cycle

from ._loopback import HttpSession
from .build_scale_committee import (
    DEFAULT_PREFIX,
    PASSWORD,
    clean_prefix,
    committee_code,
    current_cycle_name,
    past_cycle_name,
    username,
)

# (role, page label, path); {current} and {past} are the committee's cycles. Exports excluded.
PAGES = [
    ("secretary", "home", "/"),
    ("secretary", "notices", "/notices/"),
    ("secretary", "public notice", "/public-notice/"),
    ("secretary", "quarterly checks", "/checks/"),
    ("parent", "home", "/"),
    ("parent", "preliminary list", "/preliminary/"),
    ("parent", "quarterly checks", "/checks/"),
    ("parent", "monthly checks", "/checks/monthly/"),
    ("parent", "notices", "/notices/"),
    ("reviewer", "home", "/"),
    ("reviewer", "assigned list", "/scoring/"),
    ("reviewer", "notices", "/notices/"),
    ("approver", "home", "/"),
    ("approver", "cycles", "/cycles/"),
    ("approver", "assessment list", "/cycles/{current}/"),
    ("approver", "decisions", "/cycles/{current}/decisions/"),
    ("approver", "public notice (past)", "/cycles/{past}/publicity/"),
    ("approver", "team overview", "/team/cycles/{current}/"),
    ("approver", "appeals", "/appeals/"),
    ("approver", "quarterly checks", "/checks/"),
    ("approver", "downgrade proposals", "/checks/proposals/"),
    ("approver", "year results", "/checks/years/"),
    ("approver", "bulletins", "/bulletins/"),
    ("staff", "home", "/"),
    ("staff", "assessment list", "/cycles/{current}/"),
    ("staff", "organizations", "/directory/organizations/"),
    ("staff", "people", "/directory/people/"),
    ("staff", "search", "/directory/search/?q=党支部"),
    ("staff", "audit trail", "/directory/audit/"),
    ("staff", "bulletins", "/bulletins/"),
    ("staff", "jobs", "/jobs/"),
]

# The scoped queries worth an EXPLAIN: (role, path, what it shows).
EXPLAINED = [
    ("reviewer", "/scoring/", "the team reviewer's assigned list"),
    ("approver", "/cycles/{current}/", "the approver's assessment list"),
    ("approver", "/", "the approver's home"),
    ("parent", "/preliminary/", "branches visible to a parent reviewer"),
    ("parent", "/", "the parent reviewer's home"),
    ("staff", "/directory/organizations/", "the staff's organizations"),
    ("staff", "/directory/people/", "the staff's people"),
]

# A plan node as EXPLAIN ANALYZE prints it: the estimate, then the actual rows per loop.
PLAN_NODE = re.compile(
    r"^\s*(?:->\s+)?(?P<node>[^(]+?)\s+\(cost=[^ ]+ rows=(?P<estimate>\d+) width=\d+\)"
    r" \(actual time=[^ ]+ rows=(?P<actual>\d+) loops=(?P<loops>\d+)\)"
)
# Nodes that read all their input before they return a row: a LIMIT above them cuts their
# output short, not their input.
BLOCKING = ("Sort", "Hash", "HashAggregate", "Aggregate", "Incremental Sort", "WindowAgg")
# The plans of each explained page shown in full (the others in one line each).
SHOWN_PLANS = 2
# Off by more than this factor (either way) is an unstable plan, the "100× off".
ESTIMATE_TOLERANCE = 10

DEMO_USERS = {
    "secretary": "shuji",
    "parent": "chushen",
    "reviewer": "kaohe1",
    "approver": "shenpi",
    "staff": "dangwu",
}


@dataclass
class Side:
    """One committee's users, cycles and a signed-in client per role."""

    name: str
    users: dict[str, str]
    cycles: dict[str, int]
    password: str
    clients: dict[str, object] = field(default_factory=dict)


@dataclass
class Sample:
    status: int = 0
    queries: int | None = None
    times: list[float] = field(default_factory=list)
    trivial: list[float] = field(default_factory=list)
    # Drawn again: requested right after every kept page was let go (branches/kept.py).
    drawn: list[float] = field(default_factory=list)
    drawn_trivial: list[float] = field(default_factory=list)
    captured: list[dict] = field(default_factory=list)


class Command(BaseCommand):
    help = "Time every role's home and list pages on the scale committee against the demo (read only)."

    def add_arguments(self, parser):
        parser.add_argument("--prefix", default=DEFAULT_PREFIX)
        parser.add_argument("--rounds", type=int, default=15, help="Timed rounds (after one warm-up round).")
        parser.add_argument(
            "--trivial", default="/favicon.ico", help="The trivial view each page is paired with."
        )
        parser.add_argument(
            "--base-url", default="", help="Real HTTP to a running server, e.g. http://127.0.0.1:8000"
        )
        parser.add_argument("--no-demo", action="store_true", help="Measure the scale committee only.")
        parser.add_argument("--role", action="append", default=[], help="Only these roles (repeatable).")

    def handle(self, *args, prefix, rounds, trivial, base_url, no_demo, role, **options):
        prefix = clean_prefix(prefix)
        # The test client's requests name a host the settings allow.
        self.host = next((h for h in settings.ALLOWED_HOSTS if h and h[0] not in ".*"), "localhost")
        sides = [self.scale_side(prefix)]
        if not no_demo:
            demo = self.demo_side()
            if demo is None:
                self.stdout.write("The demo committee is not loaded (manage.py load_demo): scale only.")
            else:
                sides.insert(0, demo)
        pages = [p for p in PAGES if not role or p[0] in role]
        if base_url:
            for side in sides:
                for r in {p[0] for p in pages}:
                    session = HttpSession(base_url)
                    session.sign_in(side.users[r], side.password)
                    side.clients[r] = session
        else:
            for side in sides:
                for r in {p[0] for p in pages}:
                    client = Client()
                    client.force_login(User.objects.get(username=side.users[r]))
                    side.clients[r] = client

        results: dict[tuple[str, str, str], Sample] = {}
        started = time.perf_counter()
        for number in range(rounds + 1):
            for r, label, path in pages:
                for side in sides:
                    url = path.format(**side.cycles)
                    sample = results.setdefault((side.name, r, label), Sample())
                    client = side.clients[r]
                    begin = time.perf_counter()
                    self.get(client, trivial)
                    trivial_ms = (time.perf_counter() - begin) * 1000
                    if number == 0:  # warm-up: count the queries, keep them for EXPLAIN
                        with CaptureQueriesContext(connection) as ctx:
                            sample.status = self.get(client, url)
                        sample.queries = None if base_url else len(ctx.captured_queries)
                        sample.captured = list(ctx.captured_queries)
                        continue
                    if settings.KEEP_PAGES:
                        # First the page after a write: every kept page is drawn anew (figures
                        # kept under the status version stay, as after a draft is saved)…
                        redraw_pages()
                        begin = time.perf_counter()
                        self.get(client, url)
                        sample.drawn.append((time.perf_counter() - begin) * 1000)
                        sample.drawn_trivial.append(trivial_ms)
                        begin = time.perf_counter()
                        self.get(client, trivial)
                        trivial_ms = (time.perf_counter() - begin) * 1000
                    # …then the same page again, as a reload finds it.
                    begin = time.perf_counter()
                    sample.status = self.get(client, url)
                    sample.times.append((time.perf_counter() - begin) * 1000)
                    sample.trivial.append(trivial_ms)
        self.report(sides, pages, results, rounds, time.perf_counter() - started, trivial, base_url)
        for side in sides:
            for client in side.clients.values():
                if isinstance(client, HttpSession):
                    client.close()
        if not base_url:
            self.explain(sides[-1], results)

    def get(self, client, url: str) -> int:
        if isinstance(client, HttpSession):
            return client.get(url)[0]
        return client.get(url, HTTP_HOST=self.host).status_code

    # --- the two committees

    def scale_side(self, prefix: str) -> Side:
        committee = Organization.objects.filter(code=committee_code(prefix)).first()
        if committee is None:
            raise CommandError(
                f"No committee {committee_code(prefix)}: run build_scale_committee --prefix {prefix}."
            )
        cycles = dict(Cycle.objects.filter(committee=committee).values_list("name", "pk"))
        current = cycles.get(current_cycle_name(prefix))
        past = cycles.get(past_cycle_name(prefix), current)
        # The secretary of a branch whose self-assessment is a draft: the rush's typical user.
        draft = (
            User.objects.filter(
                username__startswith=f"{prefix.lower()}-secretary-",
                role_assignments__organization__assessments__cycle_id=current,
                role_assignments__organization__assessments__status="draft",
            )
            .order_by("username")
            .values_list("username", flat=True)
            .first()
        )
        users = {r: username(prefix, r) for r in DEMO_USERS}
        users["secretary"] = draft or users["secretary"]
        return Side(name="scale", users=users, cycles={"current": current, "past": past}, password=PASSWORD)

    def demo_side(self) -> Side | None:
        committee = Organization.objects.filter(code=DEMO_COMMITTEE).first()
        if committee is None:
            return None
        cycles = dict(Cycle.objects.filter(committee=committee).values_list("name", "pk"))
        if DEMO_CURRENT not in cycles or DEMO_PAST not in cycles:
            return None
        return Side(
            name="demo",
            users=dict(DEMO_USERS),
            cycles={"current": cycles[DEMO_CURRENT], "past": cycles[DEMO_PAST]},
            password=DEMO_PASSWORD,
        )

    # --- output

    def report(self, sides, pages, results, rounds, seconds, trivial, base_url) -> None:
        names = [s.name for s in sides]
        how = f"HTTP {base_url}" if base_url else "test client"
        self.stdout.write(
            f"{connection.vendor}, {how}, {rounds} rounds in {seconds:.0f} s; trivial view {trivial}; "
            f"committees: {' / '.join(names)}"
        )
        header = (
            f"{'page':<22} {'role':<10} {'queries':>11} {'median ms':>17} {'scale/demo':>10} "
            f"{'÷ trivial':>9} {'trivial ms':>10} {'drawn ms':>17} {'÷ trivial':>9}  status"
        )
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        for r, label, _path in pages:
            cells = [results[(name, r, label)] for name in names]
            queries = " / ".join("—" if c.queries is None else str(c.queries) for c in cells)
            medians = [statistics.median(c.times) if c.times else float("nan") for c in cells]
            trivial_ms = statistics.median(cells[-1].trivial) if cells[-1].trivial else float("nan")
            ratio = f"{medians[-1] / medians[0]:.2f}" if len(cells) == 2 and medians[0] else "—"
            drawn = [statistics.median(c.drawn) if c.drawn else float("nan") for c in cells]
            drawn_trivial = (
                statistics.median(cells[-1].drawn_trivial) if cells[-1].drawn_trivial else float("nan")
            )
            self.stdout.write(
                f"{label:<22} {r:<10} {queries:>11} {' / '.join(f'{m:.1f}' for m in medians):>17} {ratio:>10} "
                f"{medians[-1] / trivial_ms:>9.1f} {trivial_ms:>10.2f} "
                f"{' / '.join(f'{m:.1f}' for m in drawn):>17} {drawn[-1] / drawn_trivial:>9.1f}  "
                + " / ".join(str(c.status) for c in cells)
            )

    def explain(self, side: Side, results) -> None:
        if connection.vendor != "postgresql":
            self.stdout.write("\nEXPLAIN ANALYZE needs PostgreSQL; skipped.")
            return
        labels = {(r, path): label for r, label, path in PAGES}
        for r, path, what in EXPLAINED:
            sample = results.get((side.name, r, labels.get((r, path), "")))
            if sample is None or not sample.captured:
                continue
            selects = [q for q in sample.captured if q["sql"].lstrip().upper().startswith("SELECT")]
            self.stdout.write(f"\n=== {what}: {path.format(**side.cycles)} as {side.users[r]} ===")
            # Every SELECT of the page is explained; the plans shown in full are those that
            # took longest in EXPLAIN itself (the page's own timings move with the machine's load).
            plans = []
            for query in selects:
                with connection.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
                    lines = [line for (line,) in cursor.fetchall()]
                plans.append((self.execution_ms(lines), query["sql"], lines))
            plans.sort(key=lambda plan: plan[0], reverse=True)
            for ms, sql, lines in plans[:SHOWN_PLANS]:
                self.stdout.write(f"\n-- {ms:.2f} ms in EXPLAIN ANALYZE:\n{sql}\n")
                for line in lines:
                    self.stdout.write(f"  {line}")
                self.stdout.write(self.estimates(lines))
            self.stdout.write(f"\n-- every query of the page ({len(plans)}), slowest first:")
            for ms, sql, lines in plans:
                buffers = next((line.split("shared")[-1].strip() for line in lines if "Buffers:" in line), "")
                self.stdout.write(f"  {ms:8.2f} ms {buffers:<20} {sql[:60]}…")
                self.stdout.write(f"  {'':<11}{self.estimates(lines).strip()}")

    @staticmethod
    def execution_ms(lines: list[str]) -> float:
        for line in reversed(lines):
            if "Execution Time:" in line:
                return float(line.split(":")[1].split()[0])
        return 0.0

    @staticmethod
    def estimates(lines: list[str]) -> str:
        """One line: the plan nodes' estimated against actual rows, and the worst of them.

        A node that a LIMIT or a merge join stops early (the nodes under it down to the first
        one that reads all its input, such as a sort) is left out: its actual count says
        nothing about its estimate.
        """
        worst, nodes, off, limited = None, 0, 0, 0
        open_nodes: list[tuple[int, bool]] = []  # (indentation, whether its input is cut short)
        for line in lines:
            match = PLAN_NODE.search(line)
            if match is None:
                continue
            indent = len(line) - len(line.lstrip())
            while open_nodes and open_nodes[-1][0] >= indent:
                open_nodes.pop()
            name = match["node"].strip()
            cut_short = bool(open_nodes) and open_nodes[-1][1]
            stops_early = name == "Limit" or name.startswith("Merge")  # a merge stops with either side
            open_nodes.append((indent, stops_early or (cut_short and not name.startswith(BLOCKING))))
            if cut_short:
                limited += 1
                continue
            if match["loops"] == "0":
                continue
            nodes += 1
            estimate, actual = int(match["estimate"]), int(match["actual"])
            # Both at least 1: PostgreSQL never estimates 0, and a node that found nothing is
            # judged on the estimate alone.
            factor = max(estimate, 1) / max(actual, 1)
            factor = max(factor, 1 / factor)
            if factor > ESTIMATE_TOLERANCE:
                off += 1
            if worst is None or factor > worst[0]:
                worst = (factor, match["node"].strip(), estimate, actual)
        if worst is None:
            return "  estimates: no plan node to compare"
        factor, node, estimate, actual = worst
        verdict = "all within" if not off else f"{off} beyond"
        return (
            f"  estimates vs actual rows: {nodes} nodes ({limited} stopped early by a LIMIT or merge left out), {verdict} "
            f"{ESTIMATE_TOLERANCE}×; worst {node}: estimated {estimate}, actual {actual} per loop "
            f"({factor:.1f}×)"
        )
