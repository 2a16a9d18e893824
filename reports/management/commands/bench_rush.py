"""Load benchmark: the deadline rush on the scale committee, against a running server on this machine.

    manage.py bench_rush --host http://127.0.0.1:8000 [--users 50 100 200] [--seconds 30] [--prefix SCALE]

Each virtual user is a thread with its own connection and session: it signs in with its
password (before the timed window; the sign-ins are reported on their own line), then repeats
its role's round until the window ends, pausing ``--think`` seconds (0.5× to 1.5×, at random)
between requests:

* 70 % branch secretaries whose self-assessment is still open: the home page, the
  self-assessment page, and a draft save (a POST of three item scores, answered by a redirect);
* 15 % assessment-team reviewers: the home page, the assigned list, a score sheet;
* 10 % parent reviewers: the home page, the preliminary list, a submission waiting there;
* 5 % the approver and staff: the home page, the cycle's assessment list, the decisions page
  (the approver) or the organizations (staff).

It prints, per number of users: requests, requests per second, p50 / p95 / p99 in
milliseconds, errors (any status but 200, or 302 for a save, and broken connections), and the
p95 per role. It is bounded (``--seconds`` per level and ``--max-requests`` in all) and talks
only to a loopback address. The draft saves write to the scale committee, as the users would.
"""

import random
import re
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError

from branches.models import Organization, User
from reviews.models import Assessment, AssessmentStatus, ReviewerAssignment
from reviews.workflow import EDITABLE_BY_BRANCH
from scoring.models import Item, ItemKind

from ._loopback import HttpSession, loopback_address
from .build_scale_committee import (
    DEFAULT_PREFIX,
    PASSWORD,
    clean_prefix,
    committee_code,
    current_cycle_name,
    username,
)

MIX = [("secretary", 0.70), ("reviewer", 0.15), ("parent", 0.10), ("manager", 0.05)]


@dataclass
class Target:
    """Who plays a role and what they open: the user name and the pages of their round."""

    user: str
    role: str
    pages: list[str]
    save: str = ""  # the self-assessment page a secretary saves a draft of


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter = field(default_factory=Counter)
    count: int = 0

    def add(self, role: str, ms: float, error: str | None) -> None:
        with self.lock:
            self.count += 1
            self.times[role].append(ms)
            if error:
                self.errors[error] += 1


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


class Command(BaseCommand):
    help = "Play the deadline rush (70 % secretaries …) against a server on this machine; print req/s and latency."

    def add_arguments(self, parser):
        parser.add_argument("--host", required=True, help="e.g. http://127.0.0.1:8000 (loopback only)")
        parser.add_argument("--users", type=int, nargs="+", default=[50, 100, 200])
        parser.add_argument("--seconds", type=float, default=30, help="Length of each level's timed window.")
        parser.add_argument("--think", type=float, default=1.0, help="Mean pause between a user's requests.")
        parser.add_argument("--max-requests", type=int, default=200000, help="Stop a level after this many.")
        parser.add_argument("--prefix", default=DEFAULT_PREFIX)
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument(
            "--sign-in-concurrency", type=int, default=8, help="Sign-ins under way at once before each level."
        )

    def handle(
        self, *args, host, users, seconds, think, max_requests, prefix, seed, sign_in_concurrency, **options
    ):
        loopback_address(host)  # refuses any other host before anything is sent
        prefix = clean_prefix(prefix)
        if not 0 < seconds <= 600 or any(not 1 <= n <= 1000 for n in users):
            raise CommandError("--seconds: up to 600; --users: 1 to 1000 each.")
        plan = self.targets(prefix)
        rng = random.Random(seed)  # noqa: S311 - a repeatable mix, not a secret
        self.stdout.write(
            f"deadline rush against {host}: {seconds:g} s per level, think {think:g} s; "
            f"mix {', '.join(f'{role} {share:.0%}' for role, share in MIX)}"
        )
        header = (
            f"{'users':>5} {'requests':>8} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
            f"{'errors':>6}  p95 by role (ms)"
        )
        pools, signed_in = self.sign_in_all(host, plan, users, sign_in_concurrency)
        self.stdout.write(signed_in)
        self.stdout.write(header)
        try:
            for n in users:
                self.level(n, pools, seconds, think, max_requests, rng)
        finally:
            for pool in pools.values():
                for _target, session in pool:
                    session.close()

    @staticmethod
    def counts(n: int) -> dict[str, int]:
        """The virtual users of each role among ``n``: its share (at least one each)."""
        counts = {role: max(1, round(n * share)) for role, share in MIX}
        counts["secretary"] = max(1, n - sum(c for role, c in counts.items() if role != "secretary"))
        return counts

    def sign_in_all(self, host, plan, users, concurrency):
        """Sign in, once for every level, as many users of each role as the largest level needs."""
        wanted = {role: max(self.counts(n)[role] for n in users) for role, _share in MIX}
        cast = [(role, plan[role][i % len(plan[role])]) for role, c in wanted.items() for i in range(c)]
        pools: dict[str, list] = {role: [] for role in wanted}
        failures: Counter = Counter()
        lock = threading.Lock()
        started = time.perf_counter()

        def sign_in(role: str, target: Target) -> None:
            session = HttpSession(host)
            try:
                session.sign_in(target.user, PASSWORD)
            except (CommandError, OSError) as error:
                session.close()
                with lock:
                    failures[str(error) if isinstance(error, CommandError) else type(error).__name__] += 1
                return
            with lock:
                pools[role].append((target, session))

        run_threads([lambda r=r, t=t: sign_in(r, t) for r, t in cast], limit=concurrency)
        line = f"sign-in: {len(cast)} virtual users in {time.perf_counter() - started:.1f} s"
        if failures:
            line += f" ({sum(failures.values())} failed: {failures.most_common(1)[0][0]})"
        return pools, line

    def targets(self, prefix: str) -> dict[str, list[Target]]:
        """The scale committee's people of each role, with the pages their round opens."""
        committee = Organization.objects.filter(code=committee_code(prefix)).first()
        if committee is None:
            raise CommandError(
                f"No committee {committee_code(prefix)}: run build_scale_committee --prefix {prefix}."
            )
        cycle = committee.cycles.filter(name=current_cycle_name(prefix)).first()
        if cycle is None:
            raise CommandError(f"No current cycle in {committee_code(prefix)}.")
        own = Assessment.objects.filter(cycle=cycle)
        secretaries = [
            Target(
                user=name,
                role="secretary",
                pages=["/", f"/assessments/{pk}/self/"],
                save=f"/assessments/{pk}/self/",
            )
            for pk, name in own.filter(
                status__in=EDITABLE_BY_BRANCH,
                branch__role_assignments__user__username__startswith=f"{prefix.lower()}-secretary-",
            )
            .order_by("pk")
            .values_list("pk", "branch__role_assignments__user__username")[:1000]
        ]
        reviewers = self._first_assignments(cycle)
        parents = []
        for name, org_path in (
            User.objects.filter(username__startswith=f"{prefix.lower()}-parent-")
            .order_by("username")
            .values_list("username", "role_assignments__organization__path")[:200]
        ):
            waiting = (
                own.filter(status=AssessmentStatus.SUBMITTED, branch__path__startswith=org_path)
                .values_list("pk", flat=True)
                .first()
            )
            pages = ["/", "/preliminary/"] + ([f"/preliminary/{waiting}/"] if waiting else [])
            parents.append(Target(user=name, role="parent", pages=pages))
        managers = [
            Target(
                user=username(prefix, "approver"),
                role="manager",
                pages=["/", f"/cycles/{cycle.pk}/", f"/cycles/{cycle.pk}/decisions/"],
            ),
            Target(
                user=username(prefix, "staff"),
                role="manager",
                pages=["/", f"/cycles/{cycle.pk}/", "/directory/organizations/"],
            ),
        ]
        items = list(
            Item.objects.filter(dimension__standard_id=cycle.standard_id)
            .exclude(kind__in=[ItemKind.VETO, ItemKind.DEDUCTION])
            .order_by("dimension__order", "order")
            .values_list("pk", "max_score")
        )
        self.items = items
        plan = {"secretary": secretaries, "reviewer": reviewers, "parent": parents, "manager": managers}
        for role, people in plan.items():
            if not people:
                raise CommandError(f"The scale committee has nobody to play the {role}s.")
        return plan

    def _first_assignments(self, cycle) -> list[Target]:
        # The score sheet's address names the assessment (the sheet is the reviewer's own).
        seen, targets = set(), []
        for pk, reviewer, name in (
            ReviewerAssignment.objects.filter(
                assessment__cycle=cycle, assessment__status=AssessmentStatus.SCORING
            )
            .order_by("reviewer_id", "pk")
            .values_list("assessment_id", "reviewer_id", "reviewer__username")
        ):
            if reviewer not in seen:
                seen.add(reviewer)
                targets.append(
                    Target(user=name, role="reviewer", pages=["/", "/scoring/", f"/scoring/{pk}/"])
                )
        return targets

    def level(self, n, pools, seconds, think, max_requests, rng) -> None:
        cast = [entry for role, c in self.counts(n).items() for entry in pools[role][:c]]
        rng.shuffle(cast)

        tally = Tally()
        stop = threading.Event()
        start = time.perf_counter()
        deadline = start + seconds
        items = self.items

        def user(target: Target, session: HttpSession, seed: int) -> None:
            local = random.Random(seed)  # noqa: S311 - think times, not a secret
            time.sleep(local.uniform(0, think))  # arrive spread over one think time
            step = 0
            while not stop.is_set() and time.perf_counter() < deadline:
                rounds = [*target.pages, "save"] if target.save else target.pages
                page = rounds[step % len(rounds)]
                step += 1
                begin = time.perf_counter()
                error = None
                try:
                    if page == "save":
                        status, _text = session.request(
                            "POST", target.save, self.draft(session, local, items)
                        )
                        error = None if status == 302 else f"HTTP {status} on a draft save"
                    else:
                        status, text = session.get(page)
                        session.last_page = text
                        error = None if status == 200 else f"HTTP {status} on {re.sub(r'[0-9]+', 'N', page)}"
                except OSError as failure:
                    error = type(failure).__name__
                tally.add(target.role, (time.perf_counter() - begin) * 1000, error)
                if tally.count >= max_requests:
                    stop.set()
                if think:
                    time.sleep(local.uniform(0.5 * think, 1.5 * think))

        run_threads([lambda t=t, c=c: user(t, c, rng.random()) for t, c in cast], limit=len(cast))
        elapsed = time.perf_counter() - start  # the window, and the requests under way at its end
        everything = [ms for values in tally.times.values() for ms in values]
        errors = sum(tally.errors.values())
        by_role = ", ".join(f"{role} {percentile(tally.times[role], 95):.0f}" for role, _s in MIX)
        self.stdout.write(
            f"{n:>5} {tally.count:>8} {tally.count / elapsed:>7.1f} {percentile(everything, 50):>8.0f} "
            f"{percentile(everything, 95):>8.0f} {percentile(everything, 99):>8.0f} {errors:>6}  {by_role}"
            + (f" (only {len(cast)} signed in)" if len(cast) < n else "")
        )
        for kind, count in tally.errors.most_common(5):
            self.stdout.write(f"        {count} × {kind}")

    @staticmethod
    def draft(session: HttpSession, rng: random.Random, items) -> dict:
        """Three item scores, as the self-assessment form posts them with its save button."""
        page = getattr(session, "last_page", "")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        body = {
            "csrfmiddlewaretoken": token.group(1) if token else session.cookies.get("csrftoken", ""),
            "action": "save",
        }
        for pk, max_score in rng.sample(items, k=min(3, len(items))):
            body[f"score_{pk}"] = str(max(max_score - rng.choice([0, 0, 1]) * Decimal("0.5"), Decimal("0")))
            body[f"explanation_{pk}"] = "已按要求落实，台账齐全。"
        return body


def run_threads(jobs, *, limit: int) -> None:
    """Run every job on its own thread, at most ``limit`` at a time; wait for all."""
    gate = threading.Semaphore(limit)

    def wrapped(job):
        with gate:
            job()

    threads = [threading.Thread(target=wrapped, args=(job,), daemon=True) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
