"""Demo reports: last quarter's bulletin and last year's year bulletin (年度通报), published by
the demo staff member, this quarter's notices and the reminders of this quarter's check.

They run in-process through the Celery tasks (``apply``), so the demo's job list shows their
runs, whether or not a broker is configured. Idempotent: a published bulletin is left alone
and notices already sent for the quarter are not sent again, so a second run creates nothing.
"""

from django.utils import timezone

from branches.demo import COMMITTEE_CODE
from branches.models import Organization, User
from checks.selectors import unpublished_check_quarters

from .documents.demo import load_demo as load_document_demo
from .models import Bulletin, BulletinKind, BulletinStatus, Notice, NoticeKind
from .quarters import previous_quarter, quarter_of
from .services.bulletins import publish_bulletin
from .tasks import (
    generate_bulletin_task,
    generate_year_bulletin_task,
    send_check_reminders_task,
    send_quarterly_notices_task,
)

DEMO_PUBLISHER = "dangwu"


def load_demo() -> dict[str, int]:
    """Generate and publish the demo committee's last bulletin, send this quarter's notices."""
    committee = Organization.objects.get(code=COMMITTEE_CODE)
    today = timezone.localdate()
    created = {"bulletins": 0, "notices": 0, "reminders": 0}
    publisher = User.objects.get(username=DEMO_PUBLISHER)

    year, quarter = previous_quarter(*quarter_of(today))
    created["bulletins"] += _generate_and_publish(
        Bulletin.objects.filter(committee=committee, kind=BulletinKind.QUARTERLY, year=year, quarter=quarter),
        generate_bulletin_task,
        (committee.pk, year, quarter),
        publisher,
    )
    # Last year's four quarterly checks are published (checks.demo): its year bulletin.
    if not unpublished_check_quarters(committee.pk, today.year - 1):
        created["bulletins"] += _generate_and_publish(
            Bulletin.objects.filter(committee=committee, kind=BulletinKind.YEAR, year=today.year - 1),
            generate_year_bulletin_task,
            (committee.pk, today.year - 1),
            publisher,
        )

    year, quarter = quarter_of(today)
    if not Notice.objects.filter(
        committee=committee, year=year, quarter=quarter, kind=NoticeKind.QUARTERLY
    ).exists():
        created["notices"] = send_quarterly_notices_task.apply(args=(committee.pk, year, quarter)).get()
    # The daily reminders of this quarter's check (its scoring is due in three days).
    created["reminders"] = send_check_reminders_task.apply(args=(committee.pk, year, quarter)).get() or 0
    # Official documents (公文): the bulletin and the past cycle's commendation, issued.
    created.update(load_document_demo())
    return created


def _generate_and_publish(rows, task, args: tuple, publisher: User) -> int:
    """Generate the bulletin through its task and publish it, unless it is published already."""
    bulletin = rows.first()
    if bulletin is not None and bulletin.status == BulletinStatus.PUBLISHED:
        return 0
    task.apply(args=args)
    bulletin = rows.get()
    if bulletin.status != BulletinStatus.DRAFT:
        raise RuntimeError(f"The demo bulletin {bulletin} could not be generated: {bulletin.error}")
    publish_bulletin(bulletin=bulletin, actor=publisher)
    return 1
