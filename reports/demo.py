"""Demo reports: last quarter's bulletin, published by the demo staff member, and this quarter's notices.

Both run in-process through the Celery tasks (``apply``), so the demo's job list shows their
runs, whether or not a broker is configured. Idempotent: a published bulletin is left alone
and notices already sent for the quarter are not sent again, so a second run creates nothing.
"""

from django.utils import timezone

from branches.demo import COMMITTEE_CODE
from branches.models import Organization, User

from .models import Bulletin, BulletinStatus, Notice
from .quarters import previous_quarter, quarter_of
from .services.bulletins import publish_bulletin
from .tasks import generate_bulletin_task, send_quarterly_notices_task

DEMO_PUBLISHER = "dangwu"


def load_demo() -> dict[str, int]:
    """Generate and publish the demo committee's last bulletin, send this quarter's notices."""
    committee = Organization.objects.get(code=COMMITTEE_CODE)
    today = timezone.localdate()
    created = {"bulletins": 0, "notices": 0}

    year, quarter = previous_quarter(*quarter_of(today))
    bulletin = Bulletin.objects.filter(committee=committee, year=year, quarter=quarter).first()
    if bulletin is None or bulletin.status != BulletinStatus.PUBLISHED:
        generate_bulletin_task.apply(args=(committee.pk, year, quarter))
        bulletin = Bulletin.objects.get(committee=committee, year=year, quarter=quarter)
        if bulletin.status != BulletinStatus.DRAFT:
            raise RuntimeError(f"The demo bulletin could not be generated: {bulletin.error}")
        publish_bulletin(bulletin=bulletin, actor=User.objects.get(username=DEMO_PUBLISHER))
        created["bulletins"] = 1

    year, quarter = quarter_of(today)
    if not Notice.objects.filter(committee=committee, year=year, quarter=quarter).exists():
        created["notices"] = send_quarterly_notices_task.apply(args=(committee.pk, year, quarter)).get()
    return created
