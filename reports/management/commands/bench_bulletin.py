"""Benchmark: the quarterly bulletin (data + HTML + PDF) against WeasyPrint alone on the same HTML,
then the whole generation job's files (main PDF, workbook, one PDF annex per party committee).

Builds a synthetic committee of N branches — certificates, star events, two cycles of
assessments — inside a transaction that is rolled back, so it leaves nothing behind:

    manage.py bench_bulletin --branches 1000 5000

Method. The data function runs in this process (it needs the uncommitted rows). The rendering
of the bulletin (HTML + PDF from the data) and WeasyPrint alone (the same HTML, the same fonts
and CSS) each run in a child forked from the same state, so neither inherits the other's
memory; each child resets its peak-RSS mark (/proc/self/clear_refs) when it starts and reports
its peak (VmHWM) at the end. The children never touch the database connection and leave with
``os._exit`` so the parent's session stays intact. Linux only (fork and /proc).

The job is measured the same way, in a child: the main PDF, the workbook and the annexes one at
a time, as ``reports.services.bulletins`` renders them; it reports the main document's pages,
the number of annexes and their largest, and the job's peak RSS (the target: under
``JOB_PEAK_TARGET_MB`` at 20,000 branches).
"""

import contextlib
import datetime
import gc
import json
import os
import re
import shutil
import sys
import tempfile
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path

from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from branches.models import CommitteePolicy, Organization, OrgKind, RoleAssignment, User, order_key_of
from branches.roles import Role
from reviews.models import (
    Assessment,
    AssessmentStatus,
    Certificate,
    CertificateStatus,
    Cycle,
    CycleStatus,
    StarEvent,
    StarEventKind,
)
from scoring.models import Standard

from ...bulletin.data import bulletin_data
from ...bulletin.html import bulletin_html
from ...bulletin.pdf import annex_pdf, bulletin_pdf
from ...bulletin.xlsx import bulletin_xlsx
from ...pdf import render_pdf
from ...quarters import previous_quarter, quarter_days, quarter_of

TARGET_RATIO = 1.2
MAIN_PAGES_TARGET = 40
JOB_PEAK_TARGET_MB = 600
# Share of branches per star level (the rest unrated), roughly a committee two years in.
STAR_MIX = [(5, 40), (4, 25), (3, 17), (2, 6), (1, 2)]  # percent; 10 % unrated
CURRENT_STATUSES = [
    AssessmentStatus.NOT_STARTED,
    AssessmentStatus.DRAFT,
    AssessmentStatus.SUBMITTED,
    AssessmentStatus.FORWARDED,
    AssessmentStatus.SCORING,
    AssessmentStatus.SCORED,
    AssessmentStatus.DECIDED,
]


class Rollback(Exception):
    pass


def _status_kb(key: str) -> int:
    match = re.search(rf"^{key}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.MULTILINE)
    return int(match.group(1)) if match else 0


def _reset_peak() -> None:
    # Without it the peak includes what the child inherited; the start RSS is reported too.
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _in_child(fn) -> dict:
    """Run ``fn`` in a forked child; returns its dict plus start and peak RSS in MB."""
    sys.stdout.flush()
    sys.stderr.flush()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read_fd)
        code = 0
        try:
            _reset_peak()
            start = _status_kb("VmRSS")
            result = fn()
            result.update(start_mb=start / 1024, peak_mb=_status_kb("VmHWM") / 1024)
        except BaseException as exc:
            result, code = {"error": f"{type(exc).__name__}: {exc}"}, 1
        with os.fdopen(write_fd, "w") as pipe:
            pipe.write(json.dumps(result))
        os._exit(code)  # no atexit, no finalizers: the parent's database session stays open
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        payload = pipe.read()
    os.waitpid(pid, 0)
    result = json.loads(payload)
    if "error" in result:
        raise RuntimeError(f"child failed: {result['error']}")
    return result


class Command(BaseCommand):
    help = "Time the quarterly bulletin against WeasyPrint alone on generated committees (rolled back)."

    def add_arguments(self, parser):
        parser.add_argument("--branches", type=int, nargs="+", default=[1000, 5000])
        parser.add_argument("--branches-per-parent", type=int, default=50)
        parser.add_argument(
            "--skip-job", action="store_true", help="Leave out the whole job (main PDF, workbook, annexes)."
        )
        parser.add_argument(
            "--keep",
            type=Path,
            default=None,
            help="A folder to copy each size's main PDF and first annex into, to look at them.",
        )
        parser.add_argument(
            "--repeat",
            type=int,
            default=2,
            help="Renderings of each kind, in alternating order; the fastest of each counts.",
        )

    def handle(
        self,
        *args,
        branches: list[int],
        branches_per_parent: int,
        repeat: int,
        skip_job: bool = False,
        keep: Path | None = None,
        **options,
    ):
        self.keep = keep
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
        if not hasattr(os, "fork") or not Path("/proc/self/status").exists():
            self.stderr.write("bench_bulletin needs Linux (fork and /proc).")
            return
        self.warm_up()

        self.stdout.write(
            f"database: {connection.vendor}; target: bulletin ≤ {TARGET_RATIO}× WeasyPrint alone"
        )
        for n in branches:
            try:
                with transaction.atomic():
                    self.run(n, max(2, n // branches_per_parent), max(1, repeat), job=not skip_job)
                    raise Rollback
            except Rollback:
                pass

    def warm_up(self) -> None:
        """Load WeasyPrint, Pango and the CJK fonts once, before forking: both children start warm."""
        with tempfile.TemporaryDirectory(prefix="bench-bulletin-warm-") as tmp:
            render_pdf(
                '<html lang="zh-CN"><body><p>预热 warm-up</p><svg width="10" height="10">'
                '<text x="0" y="9">字</text></svg><table><thead><tr><th>表</th></tr></thead></table></body></html>',
                Path(tmp) / "warm.pdf",
            )

    # --- synthetic committee ----------------------------------------------------------------

    def build(self, n_branches: int, n_parents: int, year: int, quarter: int) -> Organization:
        first_day, last_day = quarter_days(year, quarter)
        zone = timezone.get_default_timezone()

        def moment(day: datetime.date, hour: int = 10) -> datetime.datetime:
            return datetime.datetime.combine(day, datetime.time(hour), tzinfo=zone)

        committee = Organization.objects.create(
            name="基准测试机关工委", code="BENCH-BUL-C", kind=OrgKind.COMMITTEE, path="/bench-bulletin/"
        )
        committee.path, committee.committee_id = f"/{committee.pk}/", committee.pk
        committee.save(update_fields=["path", "committee"])
        CommitteePolicy.objects.update_or_create(
            committee=committee,
            defaults={
                "five_star_target_percent": Decimal("80"),
                "five_goods_min_percent": Decimal("50"),
                "target_deadline": datetime.date(year + 2, 12, 31),
            },
        )
        parents = Organization.objects.bulk_create(
            Organization(
                name=f"市直第{i + 1}单位机关党委",
                code=f"BENCH-BUL-P{i}",
                kind=OrgKind.PARTY_COMMITTEE,
                parent=committee,
                committee=committee,
                path=f"/bench-bulletin-p{i}/",
                depth=1,
            )
            for i in range(n_parents)
        )
        if parents[0].pk is None:
            parents = list(Organization.objects.filter(code__startswith="BENCH-BUL-P").order_by("pk"))
        for p in parents:
            p.path = f"{committee.path}{p.pk}/"
            p.order_key = order_key_of(p, committee)
        Organization.objects.bulk_update(parents, ["path", "order_key"], batch_size=1000)
        branches = Organization.objects.bulk_create(
            (
                Organization(
                    name=f"{parents[i % n_parents].name[2:-4]}第{i + 1}党支部",
                    code=f"BENCH-BUL-B{i}",
                    kind=OrgKind.BRANCH,
                    parent=parents[i % n_parents],
                    committee=committee,
                    stage="basic",
                    path=f"/bench-bulletin-b{i}/",
                    depth=2,
                )
                for i in range(n_branches)
            ),
            batch_size=2000,
        )
        if branches[0].pk is None:
            branches = list(
                Organization.objects.filter(code__startswith="BENCH-BUL-B")
                .select_related("parent")
                .order_by("pk")
            )
        for b in branches:
            b.path = f"{b.parent.path}{b.pk}/"
            b.order_key = order_key_of(b, b.parent)
        Organization.objects.bulk_update(branches, ["path", "order_key"], batch_size=2000)

        user = User.objects.create_user("bench-bulletin-staff", password=None)
        RoleAssignment.objects.create(user=user, role=Role.STAFF, organization=committee)
        standard = (
            Standard.objects.filter(status="published", purpose="certification").order_by("-version").first()
        )
        past = Cycle.objects.create(
            committee=committee,
            name="基准往期认定",
            standard=standard,
            self_assessment_deadline=first_day - datetime.timedelta(days=400),
            preliminary_deadline=first_day - datetime.timedelta(days=390),
            scoring_deadline=first_day - datetime.timedelta(days=380),
            status=CycleStatus.CLOSED,
            opened_by=user,
        )
        current = Cycle.objects.create(
            committee=committee,
            name="基准本期认定",
            standard=standard,
            self_assessment_deadline=last_day,
            preliminary_deadline=last_day,
            scoring_deadline=last_day,
            status=CycleStatus.OPEN,
            opened_by=user,
        )
        issued = moment(first_day - datetime.timedelta(days=365))
        Cycle.objects.filter(pk=past.pk).update(opened_at=issued - datetime.timedelta(days=90))
        Cycle.objects.filter(pk=current.pk).update(opened_at=moment(first_day - datetime.timedelta(days=30)))

        # Each branch's star level from its position: a fixed mix, 10 % unrated.
        levels = []
        for i in range(n_branches):
            slot, stars = (i * 37) % 100, None
            for level, share in STAR_MIX:
                if slot < share:
                    stars = level
                    break
                slot -= share
            levels.append(stars)
        decided = issued - datetime.timedelta(days=10)
        past_assessments = Assessment.objects.bulk_create(
            (
                Assessment(
                    cycle=past,
                    branch=b,
                    status=AssessmentStatus.CERTIFIED,
                    consolidated_score=Decimal(60 + (i * 7919) % 400 / 10).quantize(Decimal("0.1")),
                    decided_stars=levels[i],
                    decided_at=decided,
                )
                for i, b in enumerate(branches)
                if levels[i]
            ),
            batch_size=2000,
        )
        Assessment.objects.bulk_create(
            (
                Assessment(
                    cycle=current,
                    branch=b,
                    status=CURRENT_STATUSES[i % len(CURRENT_STATUSES)],
                    consolidated_score=Decimal("88.5") if i % len(CURRENT_STATUSES) == 6 else None,
                    decided_stars=4 if i % len(CURRENT_STATUSES) == 6 else None,
                    decided_at=moment(first_day + datetime.timedelta(days=20))
                    if i % len(CURRENT_STATUSES) == 6
                    else None,
                )
                for i, b in enumerate(branches)
            ),
            batch_size=2000,
        )
        certificates = Certificate.objects.bulk_create(
            (
                Certificate(
                    branch_id=a.branch_id,
                    assessment=a,
                    certified_stars=a.decided_stars,
                    stars=a.decided_stars,
                    issued_at=issued,
                    valid_until=last_day + datetime.timedelta(days=400),
                )
                for a in past_assessments
            ),
            batch_size=2000,
        )
        events = [
            StarEvent(
                branch_id=c.branch_id,
                certificate=c,
                kind=StarEventKind.CERTIFICATION,
                to_stars=c.stars,
                at=issued,
            )
            for c in certificates
        ]
        # Dynamic management inside the quarter: 2 % lowered, 0.5 % revoked.
        lowered, revoked = [], []
        for index, c in enumerate(certificates):
            when = moment(first_day + datetime.timedelta(days=index % 80))
            if index % 50 == 7 and c.stars > 1:
                events.append(
                    StarEvent(
                        branch_id=c.branch_id,
                        certificate=c,
                        kind=StarEventKind.DOWNGRADE,
                        from_stars=c.stars,
                        to_stars=c.stars - 1,
                        at=when,
                        reason="季度督导发现组织生活会记录不完整，经核实予以降星。",
                        violation="组织生活制度（三会一课）",
                    )
                )
                lowered.append(c.pk)
            elif index % 200 == 11:
                events.append(
                    StarEvent(
                        branch_id=c.branch_id,
                        certificate=c,
                        kind=StarEventKind.REVOCATION,
                        from_stars=c.stars,
                        at=when,
                        reason="党支部班子成员发生严重违纪问题，撤销星级。",
                        violation="廉洁纪律",
                    )
                )
                revoked.append(c.pk)
        StarEvent.objects.bulk_create(events, batch_size=2000)
        Certificate.objects.filter(pk__in=revoked).update(status=CertificateStatus.REVOKED)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for table in (
                    "branches_organization",
                    "reviews_certificate",
                    "reviews_starevent",
                    "reviews_assessment",
                ):
                    cursor.execute(f"ANALYZE {table}")
        return committee

    # --- measurement ------------------------------------------------------------------------

    def run(self, n_branches: int, n_parents: int, repeat: int, *, job: bool = True) -> None:
        year, quarter = previous_quarter(*quarter_of(timezone.localdate()))
        start = time.perf_counter()
        committee = self.build(n_branches, n_parents, year, quarter)
        self.stdout.write(
            f"\n{n_branches} branches under {n_parents} party committees, {year}Q{quarter}: "
            f"built in {time.perf_counter() - start:.1f} s"
        )

        with translation.override("zh-hans"):
            with CaptureQueriesContext(connection) as ctx:
                start = time.perf_counter()
                data = bulletin_data(committee=committee, year=year, quarter=quarter)
                data_seconds = time.perf_counter() - start
            # Memory separately: tracemalloc slows every allocation down several times.
            tracemalloc.start()
            bulletin_data(committee=committee, year=year, quarter=quarter)
            _current, data_peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        rows = {
            "commendation rows": sum(len(g["branches"]) for g in data["commendations"]),
            "change rows": len(data["changes"]["rows"]),
            "five-goods rows": len(data["five_goods"]),
        }
        self.stdout.write(
            f"  data            {data_seconds:7.2f} s   {len(ctx.captured_queries)} queries   "
            f"peak Python allocations {data_peak / 2**20:.1f} MB   "
            + ", ".join(f"{k} {v}" for k, v in rows.items())
        )

        with tempfile.TemporaryDirectory(prefix="bench-bulletin-") as tmp:
            folder = Path(tmp)

            def bulletin() -> dict:
                begin = time.perf_counter()
                html = bulletin_html(data)
                html_seconds = time.perf_counter() - begin
                (folder / "bulletin.html").write_text(html, encoding="utf-8")
                result = render_pdf(html, folder / "bulletin.pdf")
                return {
                    "html": html_seconds,
                    "total": time.perf_counter() - begin,
                    "pages": result.pages,
                    "notdef": len(result.notdef_warnings),
                    "html_kb": len(html.encode()) / 1024,
                }

            def weasyprint_alone() -> dict:
                if not (folder / "bulletin.html").exists():
                    (folder / "bulletin.html").write_text(bulletin_html(data), encoding="utf-8")
                html = (folder / "bulletin.html").read_text(encoding="utf-8")
                begin = time.perf_counter()
                result = render_pdf(html, folder / "alone.pdf")
                return {"total": time.perf_counter() - begin, "pages": result.pages}

            # Alternate the order (A B B A …) so neither kind always runs on a warmer machine;
            # other load on the machine only ever slows a run down, so the fastest counts.
            runs: dict[str, list[dict]] = {"ours": [], "alone": []}
            for index in range(repeat):
                order = [("ours", bulletin), ("alone", weasyprint_alone)]
                for kind, fn in order if index % 2 == 0 else order[::-1]:
                    runs[kind].append(_in_child(fn))
            ours = min(runs["ours"], key=lambda r: r["total"])
            alone = min(runs["alone"], key=lambda r: r["total"])
            if repeat > 1:
                self.stdout.write(
                    "  runs            bulletin HTML+PDF "
                    + " / ".join(f"{r['total']:.2f}" for r in runs["ours"])
                    + " s; WeasyPrint alone "
                    + " / ".join(f"{r['total']:.2f}" for r in runs["alone"])
                    + " s"
                )

        total = data_seconds + ours["total"]
        ratio = total / alone["total"]
        self.stdout.write(
            f"  bulletin        {total:7.2f} s   = data {data_seconds:.2f} + HTML {ours['html']:.2f} "
            f"+ PDF {ours['total'] - ours['html']:.2f}   {ours['pages']} pages   HTML {ours['html_kb']:.0f} kB   "
            f"peak RSS {ours['peak_mb']:.0f} MB (+{ours['peak_mb'] - ours['start_mb']:.0f} MB)   "
            f".notdef warnings {ours['notdef']}"
        )
        self.stdout.write(
            f"  WeasyPrint alone{alone['total']:7.2f} s   {alone['pages']} pages   "
            f"peak RSS {alone['peak_mb']:.0f} MB (+{alone['peak_mb'] - alone['start_mb']:.0f} MB)"
        )
        verdict = "within" if ratio <= TARGET_RATIO else "OVER"
        self.stdout.write(f"  ratio           {ratio:7.2f}   ({verdict} the {TARGET_RATIO}× target)")
        # The PDF step is the same WeasyPrint work in both, so the noise-free measure of what
        # the bulletin adds is data + HTML against WeasyPrint alone.
        overhead = data_seconds + ours["html"]
        self.stdout.write(
            f"  overhead        {overhead:7.2f} s   data + HTML = {overhead / alone['total'] * 100:.1f} % "
            f"of WeasyPrint alone → {(alone['total'] + overhead) / alone['total']:.3f}×"
        )
        if job:
            self.job(data, n_branches)

    def job(self, data: dict, n_branches: int) -> None:
        """The generation job's rendering as the service does it, in a child: main PDF, workbook,
        then each party committee's annex, one at a time, its scratch file removed before the next."""

        def whole_job() -> dict:
            begin = time.perf_counter()
            with tempfile.TemporaryDirectory(prefix="bench-bulletin-job-") as tmp:
                folder = Path(tmp)
                main = bulletin_pdf(data, folder / "bulletin.pdf")
                if self.keep is not None:
                    shutil.copyfile(folder / "bulletin.pdf", self.keep / f"bulletin-{n_branches}.pdf")
                gc.collect()
                main_seconds = time.perf_counter() - begin
                bulletin_xlsx(data, folder / "bulletin.xlsx")
                pages, largest, notdef = [], 0, len(main.notdef_warnings)
                for unit in data.get("units", []):
                    result = annex_pdf(data, unit, folder / "annex.pdf")
                    pages.append(result.pages)
                    largest = max(largest, unit["branches"])
                    notdef += len(result.notdef_warnings)
                    if self.keep is not None and len(pages) == 1:
                        shutil.copyfile(folder / "annex.pdf", self.keep / f"annex-{n_branches}.pdf")
                    (folder / "annex.pdf").unlink()
                    del result
                    gc.collect()
            return {
                "total": time.perf_counter() - begin,
                "main_seconds": main_seconds,
                "main_pages": main.pages,
                "annexes": len(pages),
                "annex_pages": sum(pages),
                "annex_max_pages": max(pages, default=0),
                "largest_unit": largest,
                "notdef": notdef,
            }

        result = _in_child(whole_job)
        pages_ok = "within" if result["main_pages"] <= MAIN_PAGES_TARGET else "OVER"
        memory_ok = "within" if result["peak_mb"] <= JOB_PEAK_TARGET_MB else "OVER"
        self.stdout.write(
            f"  job             {result['total']:7.2f} s   main PDF {result['main_pages']} pages in "
            f"{result['main_seconds']:.2f} s ({pages_ok} {MAIN_PAGES_TARGET})   {result['annexes']} annexes, "
            f"{result['annex_pages']} pages (largest {result['annex_max_pages']} pages, "
            f"{result['largest_unit']} branches)   peak RSS {result['peak_mb']:.0f} MB "
            f"(+{result['peak_mb'] - result['start_mb']:.0f} MB; {memory_ok} {JOB_PEAK_TARGET_MB} MB)   "
            f".notdef warnings {result['notdef']}"
        )
