"""Benchmark: subtree and scoping queries on a committee of N branches (prints figures).

Builds the tree inside a transaction that is rolled back, so it leaves nothing behind:
    manage.py bench_tree --branches 20000
"""

import time

from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from branches import selectors as scoping
from branches.models import Organization, OrgKind, RoleAssignment, User, order_key_of
from branches.roles import Role


class Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "Time subtree and scoping queries on a generated tree (rolled back afterwards)."

    def add_arguments(self, parser):
        parser.add_argument("--branches", type=int, default=20_000)
        parser.add_argument("--parents", type=int, default=100)

    def handle(self, *args, branches: int, parents: int, **options):
        try:
            with transaction.atomic():
                self.run(branches, parents)
                raise Rollback
        except Rollback:
            pass

    def timed(self, label, fn):
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            result = fn()
            elapsed = time.perf_counter() - start
        self.stdout.write(
            f"{label:<52} {elapsed * 1000:8.1f} ms  {len(ctx.captured_queries)} query  rows={result}"
        )

    def run(self, n_branches: int, n_parents: int):
        start = time.perf_counter()
        committee = Organization.objects.create(
            name="基准工委", code="BENCH-C", kind=OrgKind.COMMITTEE, path="/bench/"
        )
        committee.path, committee.committee_id = f"/{committee.pk}/", committee.pk
        committee.save(update_fields=["path", "committee"])
        parents = Organization.objects.bulk_create(
            Organization(
                name=f"党委{i}",
                code=f"BENCH-P{i}",
                kind=OrgKind.PARTY_COMMITTEE,
                parent=committee,
                committee=committee,
                path=f"/p{i}/",
            )
            for i in range(n_parents)
        )
        if parents[0].pk is None:  # backends that do not return ids from bulk_create
            parents = list(Organization.objects.filter(code__startswith="BENCH-P").order_by("pk"))
        for p in parents:
            p.path, p.depth = f"{committee.path}{p.pk}/", 1
            p.order_key = order_key_of(p, committee)
        Organization.objects.bulk_update(parents, ["path", "depth", "order_key"], batch_size=1000)
        objs = [
            Organization(
                name=f"支部{i}",
                code=f"BENCH-B{i}",
                kind=OrgKind.BRANCH,
                parent=parents[i % n_parents],
                committee=committee,
                stage="basic",
                path=f"/b{i}/",
                depth=2,
            )
            for i in range(n_branches)
        ]
        created = Organization.objects.bulk_create(objs, batch_size=2000)
        if created[0].pk is None:
            created = list(Organization.objects.filter(code__startswith="BENCH-B").select_related("parent"))
        for b in created:
            b.path = f"{b.parent.path}{b.pk}/"
            b.order_key = order_key_of(b, b.parent)
        Organization.objects.bulk_update(created, ["path", "order_key"], batch_size=2000)
        user = User.objects.create_user("bench-user", password=None)
        RoleAssignment.objects.create(user=user, role=Role.PARENT_REVIEWER, organization=parents[0])
        RoleAssignment.objects.create(user=user, role=Role.STAFF, organization=parents[1])
        approver = User.objects.create_user("bench-approver", password=None)
        RoleAssignment.objects.create(user=approver, role=Role.COMMITTEE_APPROVER, organization=committee)
        self.stdout.write(
            f"built {n_branches} branches under {n_parents} parents in {time.perf_counter() - start:.1f} s"
        )
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("ANALYZE branches_organization")

        sub = parents[0].path
        self.timed(
            "subtree of one party committee",
            lambda: Organization.objects.filter(path__startswith=sub).count(),
        )
        self.timed(
            "subtree of the committee (all branches)",
            lambda: Organization.objects.filter(path__startswith=committee.path, kind=OrgKind.BRANCH).count(),
        )
        self.timed("branches visible to a two-role user", lambda: scoping.branches_visible_to(user).count())
        self.timed(
            "branches visible to the committee approver",
            lambda: scoping.branches_visible_to(approver).count(),
        )
        self.timed(
            "first page (50) of the approver's branches",
            lambda: len(list(scoping.branches_visible_to(approver).order_by("path")[:50])),
        )
