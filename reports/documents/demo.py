"""Demo official documents: the committee's issuer, last quarter's bulletin issued as a 通报, the past
cycle's 表彰决定 issued, and its 认定结果通知 to each party committee left as drafts.

Idempotent: an existing document is found again by its source, an issued one is left alone.
"""

from branches.demo import COMMITTEE_CODE
from branches.models import Organization, User
from reviews.models import AssessmentStatus, Cycle

from ..models import Bulletin, BulletinKind, BulletinStatus, DocumentStatus
from ..services.documents import (
    create_bulletin_document,
    create_commendation,
    create_results_notices,
    issue_document,
    update_issuer,
)

DEMO_STAFF = "dangwu"
ORGAN_NAME = "中共滨江市直属机关工作委员会"
CODE = "滨直工委"


def load_demo() -> dict[str, int]:
    committee = Organization.objects.get(code=COMMITTEE_CODE)
    staff = User.objects.get(username=DEMO_STAFF)
    update_issuer(committee=committee, organ_name=ORGAN_NAME, code=CODE, actor=staff)
    made = {"documents": 0, "issued": 0}

    def keep(document, created, *, issue: bool) -> None:
        made["documents"] += created
        if issue and document.status == DocumentStatus.DRAFT:
            issue_document(document=document, actor=staff)
            made["issued"] += 1

    bulletin = (
        Bulletin.objects.filter(
            committee=committee, kind=BulletinKind.QUARTERLY, status=BulletinStatus.PUBLISHED
        )
        .order_by("-year", "-quarter")
        .first()
    )
    if bulletin is not None:
        keep(*create_bulletin_document(bulletin=bulletin, actor=staff), issue=True)
    cycle = (
        Cycle.objects.filter(committee=committee, assessments__status=AssessmentStatus.CERTIFIED)
        .order_by("opened_at")
        .distinct()
        .first()
    )
    if cycle is not None:
        keep(*create_commendation(cycle=cycle, actor=staff), issue=True)
        for document, created in create_results_notices(cycle=cycle, actor=staff):
            keep(document, created, issue=False)
    return made
