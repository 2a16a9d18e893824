from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.module_loading import import_string

from branches.demo import DEMO_PASSWORD, DEMO_USERS

# Each app adds its own demo data; run in this order, each idempotent.
DEMO_LOADERS = [
    "branches.demo.load_demo",
    "reviews.demo.load_demo",
    "checks.demo.load_demo",
    "rectification.demo.load_demo",
    "supervision.demo.load_demo",
    "reports.demo.load_demo",
]


class Command(BaseCommand):
    help = "Create the demo committee, its organizations and one user for every role (idempotent)."

    def handle(self, *args, **options):
        for path in DEMO_LOADERS:
            created = import_string(path)()
            summary = ", ".join(f"{k} +{v}" for k, v in created.items())
            self.stdout.write(f"{path}: {summary}")
        self.stdout.write("")
        self.stdout.write(
            f"Open {settings.SITE_URL}/ and sign in (password for every demo user: {DEMO_PASSWORD})"
        )
        self.stdout.write(f"  {'admin':<8} superuser")
        for spec in DEMO_USERS:
            self.stdout.write(f"  {spec.username:<8} {spec.real_name} — {spec.role} @ {spec.org_code}")
