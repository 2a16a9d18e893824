"""Benchmark: the committee's cycle-wide operations at scale, each timed and its queries counted.

Builds a committee of N branches (the tree and people of ``build_scale_committee``) inside a
transaction that is rolled back, so it leaves nothing behind, and runs through the services:

    manage.py bench_bulk [--branches 20000] [--party-committees 100] [--reviewers 30]

1. opening a cycle (one assessment per branch);
2. the automatic reviewer assignment of N forwarded assessments (three reviewers each);
3. publishing N decided results as a notice batch;
4. certifying that batch (certificates and star events);
5. the committee's quarterly notices (one per secretary), measured while the cycle is open.

Between the steps the assessments are put into the state the next one starts from with one
UPDATE each (not measured): the scoring itself is not what is measured here. Each step prints
its seconds and its number of queries.
"""

import datetime
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from reviews.models import AssessmentStatus, NoticeBatch
from reviews.services.cycles import open_cycle
from reviews.services.decision import certify_batch, publicize_cycle
from reviews.services.scoring import auto_assign
from scoring.models import Standard
from scoring.services.defaults import ensure_default_standard

from ...quarters import quarter_of
from ...services.notices import send_quarterly_notices
from .build_scale_committee import Built, _people, _tree

PREFIX = "BENCHBULK"


class Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "Time the automatic assignment, publishing, certifying, opening a cycle and the notices at scale."

    def add_arguments(self, parser):
        parser.add_argument("--branches", type=int, default=20000)
        parser.add_argument("--party-committees", type=int, default=100)
        parser.add_argument("--reviewers", type=int, default=30)

    def handle(self, *args, branches, party_committees, reviewers, **options):
        if branches < 1 or party_committees < 1 or party_committees > branches or reviewers < 3:
            raise CommandError("Need a branch per party committee and at least three reviewers.")
        ensure_default_standard()
        standard = (
            Standard.objects.filter(status="published", purpose="certification", committee__isnull=True)
            .order_by("-version")
            .first()
        )
        self.rows: list[tuple[str, float, int]] = []
        started = time.perf_counter()
        try:
            with transaction.atomic():
                self.run(standard, branches, party_committees, reviewers, started)
                raise Rollback
        except Rollback:
            pass
        self.stdout.write(f"\n{branches} branches on {connection.vendor} (rolled back):")
        for name, seconds, queries in self.rows:
            self.stdout.write(f"  {name:<28} {seconds:8.2f} s {queries:6d} queries")

    def measure(self, name: str, call):
        # Counted by a wrapper, not CaptureQueriesContext: that one formats every statement with
        # its parameters, which for a bulk insert of thousands of rows costs more than running it.
        count = [0]

        def counter(execute, sql, params, many, context):
            count[0] += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counter):
            begun = time.perf_counter()
            result = call()
            seconds = time.perf_counter() - begun
        self.rows.append((name, seconds, count[0]))
        self.stdout.write(f"  {name}: {seconds:.2f} s, {count[0]} queries")
        return result

    def run(self, standard, n_branches, n_parents, n_reviewers, started) -> None:
        built = Built(counts={})
        committee, parents, branch_ids = _tree(PREFIX, n_branches, n_parents, built)
        people = _people(PREFIX, committee, parents, branch_ids, n_reviewers, built)
        self.stdout.write(f"built {n_branches} branches in {time.perf_counter() - started:.1f} s")
        approver = people.approver
        today = timezone.localdate()

        cycle = self.measure(
            "open a cycle",
            lambda: open_cycle(
                committee=committee,
                actor=approver,
                name=f"{PREFIX} 星级认定",
                standard=standard,
                self_assessment_deadline=today + datetime.timedelta(days=10),
                preliminary_deadline=today + datetime.timedelta(days=20),
                scoring_deadline=today + datetime.timedelta(days=30),
            ),
        )
        year, quarter = quarter_of(today)
        sent = self.measure(
            "quarterly notices",
            lambda: send_quarterly_notices(committee_id=committee.pk, year=year, quarter=quarter),
        )
        self.stdout.write(f"    ({sent} notices)")
        cycle.assessments.update(status=AssessmentStatus.FORWARDED)
        result = self.measure("automatic assignment", lambda: auto_assign(cycle=cycle, actor=approver))
        if result["assigned"] != n_branches:  # pragma: no cover - a bench on a broken tree
            raise CommandError(f"assigned {result['assigned']} of {n_branches}")

        cycle.assessments.update(status=AssessmentStatus.DECIDED, decided_stars=4, proposed_stars=4)
        batch = self.measure("publish the notice", lambda: publicize_cycle(cycle=cycle, actor=approver))
        # The notice period over (set-up, not measured).
        NoticeBatch.objects.filter(pk=batch.pk).update(ends_at=timezone.now() - datetime.timedelta(minutes=1))
        batch.refresh_from_db()
        self.measure("certify the batch", lambda: certify_batch(batch=batch, actor=approver))
