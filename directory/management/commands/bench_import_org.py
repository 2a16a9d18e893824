"""Benchmark: preview and import generated committees (prints figures; not a test).

    manage.py bench_import_org                       # 830 branches in 8 party committees, 1,000 people
    manage.py bench_import_org --branches 20000      # and any other size

For each size: write the file, read and preview it (the plan of every row, parsed as it is
read), import it, then preview and import the same file again (which must change nothing). Each step prints its
seconds and the process's peak memory so far. Everything runs in a transaction that is rolled
back at the end, so the database is left as it was.

New people's one-time passwords are hashed with the cheap one-time hasher
(``branches.hashers``, PBKDF2 at 10,000 iterations); new rows are written by the bulk
services, changed rows one by one. CPU seconds are printed beside the wall clock: on a busy
machine the wall clock says more about the other processes (and the database server's own
time is not in this process's CPU). The peak memory is the process's high-water mark, so
each line shows the most the process has held up to the end of that step.
"""

import os
import resource
import tempfile
import time
from pathlib import Path

from django.contrib.auth.hashers import identify_hasher
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.test.utils import override_settings

from branches.hashers import hash_one_time_password
from branches.models import AuditEntry
from directory.imports import apply_import_plan, plan_import_file
from directory.imports.samples import write_generated_committee


class _RolledBack(Exception):
    pass


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


class Command(BaseCommand):
    help = "Time the preview and import of generated committees (rolled back afterwards)."

    def add_arguments(self, parser):
        parser.add_argument("--branches", type=int, nargs="+", default=[830])
        parser.add_argument(
            "--people", type=int, default=None, help="People per file (default: 1,000 per 830 branches)."
        )
        parser.add_argument("--party-committees", type=int, default=None)

    def handle(self, *args, branches, people, party_committees, **options):
        vendor = connection.vendor
        hash_seconds = self._hash_cost()
        self.stdout.write(f"load average: {' '.join(f'{n:.1f}' for n in os.getloadavg())}")
        self.stdout.write(
            f"database: {vendor}; one one-time password hash "
            f"({identify_hasher(hash_one_time_password('x')).algorithm}): "
            f"{hash_seconds * 1000:.0f} ms cpu"
        )
        for size in branches:
            persons = people if people is not None else round(size * 1000 / 830)
            parents = party_committees or (8 if size <= 1000 else max(8, size // 100))
            self.bench(size, parents, persons, hash_seconds)

    @staticmethod
    def _hash_cost() -> float:
        """CPU seconds of one password hash (the mean of three)."""
        start = time.process_time()
        for _ in range(3):
            hash_one_time_password("benchmark-password")
        return (time.process_time() - start) / 3

    def step(self, label: str, fn, *args, **kwargs):
        start, cpu = time.perf_counter(), time.process_time()
        value = fn(*args, **kwargs)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        # CPU seconds of this process beside the wall clock: on a busy machine the wall clock
        # says more about the other processes (the database server's own time is not in it).
        self.stdout.write(f"  {label:<34} {elapsed:9.2f} s  cpu {cpu:8.2f} s   peak {_peak_mb():7.0f} MB")
        self.cpu_total += cpu
        return value, elapsed

    def bench(self, branches: int, parents: int, people: int, hash_seconds: float) -> None:
        self.stdout.write(f"\n{branches:,} branches in {parents} party committees, {people:,} people")
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "committee.xlsx"
            self.cpu_total = 0.0
            self.step(
                "write the file",
                lambda: write_generated_committee(
                    path, prefix="BENCH", branches=branches, party_committees=parents, people=people
                ),
            )
            self.stdout.write(f"  file size {path.stat().st_size / 1024:,.0f} kB")
            try:
                # Without DEBUG's log of every query's text (production runs without it), which
                # would otherwise hold the last 9,000 statements, bulk INSERTs included.
                with override_settings(DEBUG=False), transaction.atomic():
                    self.run(path, hash_seconds)
                    raise _RolledBack
            except _RolledBack:
                pass

    def run(self, path: Path, hash_seconds: float) -> None:
        # As on the site, nothing outlives its step: the preview's plan is dropped once shown,
        # and the import plans afresh and drops its plan and result when done.
        total = 0.0
        self.cpu_total = 0.0
        plan, seconds = self.step("read and plan every row (preview)", plan_import_file, path, actor=None)
        total += seconds
        counts = plan.organization_counts, plan.people_counts
        self.stdout.write(f"  planned: organizations {counts[0]}, people rows {counts[1]}")
        result, seconds = self.step("import", apply_import_plan, plan, actor=None, file_name=path.name)
        total += seconds
        del plan
        self.stdout.write(f"  imported: {result.as_dict()}")
        self.stdout.write(
            f"  read + preview + import: {total:.1f} s (cpu {self.cpu_total:.1f} s), of which about "
            f"{result.accounts_created * hash_seconds:.1f} s cpu hashing {result.accounts_created:,} one-time passwords"
        )
        del result
        audit_rows = AuditEntry.objects.count()
        again, _seconds = self.step("preview again (same file)", plan_import_file, path, actor=None)
        self.stdout.write(
            f"  planned: organizations {again.organization_counts}, people rows {again.people_counts}"
        )
        second, _seconds = self.step(
            "import again", lambda: apply_import_plan(again, actor=None, file_name=path.name)
        )
        self.stdout.write(
            f"  changed anything: {second.changed_anything}; new audit rows: {AuditEntry.objects.count() - audit_rows}"
        )
