"""Demo rectification tasks (整改任务), after the checks' demo (whose published rounds proposed tasks
for the items the branches lost) and the reviews' demo (whose past downgrade opened one).

* The tasks proposed by last year's first three quarterly checks are dismissed by their parent
  reviewer ("handled in the year's rectification"); those of the last published check wait for
  confirmation (proposed).
* The reviews demo's downgrade opened its task (open; its branch has no secretary yet).
* On the demo branch (``shuji``'s 办公室党支部): one item loss confirmed by ``chushen``, reported
  with evidence, sent back once and reported again (waiting for acceptance); one confirmed,
  reported and accepted (closed); one opened by hand a month ago and now overdue.

Idempotent: nothing is done when the demo branch already has a hand-opened task.
"""

import datetime

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from branches.demo import COMMITTEE_CODE
from branches.models import Organization, RoleAssignment, User

from .models import RectificationEvent, RectificationTask, SourceKind, TaskStatus
from .services import accept, confirm_proposed, dismiss, open_task, report_progress, send_back

DEMO_BRANCH = "BJ-FGW-01"
# A one-page PDF, enough to be evidence.
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def _evidence(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def _redate(task: RectificationTask, opened: datetime.date, deadline: datetime.date) -> None:
    """The demo's history: the task and its events as of the day it was opened."""
    at = timezone.make_aware(datetime.datetime.combine(opened, datetime.time(9, 30)))
    RectificationTask.objects.filter(pk=task.pk).update(created_at=at, opened_on=opened, deadline=deadline)
    RectificationEvent.objects.filter(task=task, action__in=["open", "propose"]).update(at=at)


def _proposed_on(branch, committee, actor, count: int) -> list[RectificationTask]:
    """``count`` more proposals for the demo branch: its weakest items of its last published check."""
    from checks.models import CheckScore, CheckSheet

    sheet = (
        CheckSheet.objects.filter(branch=branch, round__status="published")
        .order_by("-round__year", "-round__quarter")
        .first()
    )
    if sheet is None or count <= 0:
        return []
    scores = CheckScore.objects.filter(sheet=sheet, item__max_score__gt=0).select_related("item")
    weakest = sorted(scores, key=lambda score: (score.score / score.item.max_score, score.item.code))
    made = []
    for score in weakest:
        if len(made) == count:
            break
        if RectificationTask.objects.filter(source_id=sheet.pk, item=score.item).exists():
            continue
        made.append(
            open_task(
                committee=committee,
                branch=branch,
                title=f"失分项整改：{score.item.code} {score.item.title}"[:200],
                requirement=f"{score.item.code} {score.item.title}：得 {score.score} 分（满分 {score.item.max_score} 分），请查找原因并整改。",
                owner=None,
                deadline=None,
                source_kind=SourceKind.CHECK_ITEM,
                source=sheet,
                item=score.item,
                actor=actor,
                proposed=True,
            )
        )
    return made


def load_demo() -> dict[str, int]:
    committee = Organization.objects.get(code=COMMITTEE_CODE)
    branch = Organization.objects.get(code=DEMO_BRANCH)
    if RectificationTask.objects.filter(branch=branch, source_kind=SourceKind.MANUAL).exists():
        return {"rectification tasks": 0}
    chushen = User.objects.get(username="chushen")
    shuji = User.objects.get(username="shuji")
    shenpi = User.objects.get(username="shenpi")
    today = timezone.localdate()
    made = 0
    with transaction.atomic():
        proposed = RectificationTask.objects.filter(
            committee=committee, source_kind=SourceKind.CHECK_ITEM, status=TaskStatus.PROPOSED
        ).select_related("branch")
        rounds = sorted({task.source.round for task in proposed}, key=lambda r: (r.year, r.quarter))
        latest = rounds[-1].pk if rounds else None
        own = list(proposed.filter(branch=branch).order_by("-pk")[:2])
        own += _proposed_on(branch, committee, chushen, 2 - len(own))
        reviewers: dict[int, User] = {}
        for task in proposed:
            if task.source.round_id == latest or task in own:
                continue
            parent_id = task.branch.parent_id
            if parent_id not in reviewers:
                row = RoleAssignment.objects.filter(organization_id=parent_id, role="parent_reviewer").first()
                reviewers[parent_id] = row.user if row else shenpi
            dismiss(task=task, actor=reviewers[parent_id], reason="已在年度整改中一并处理。")

        if len(own) == 2:
            sent_back, closed = own
            for task in own:
                confirm_proposed(
                    task=task,
                    actor=chushen,
                    owner=shuji,
                    deadline=today + datetime.timedelta(days=20),
                    requirement=f"{task.requirement}\n请支部书记牵头，对照考核细则逐项整改，按时报送整改情况和佐证材料。",
                )
            report_progress(
                task=sent_back,
                actor=shuji,
                text="已召开支委会分析失分原因，制定整改方案。",
                files=[_evidence("整改方案.pdf")],
            )
            send_back(task=sent_back, actor=chushen, reason="只有方案，缺少落实情况，请补充会议记录。")
            report_progress(
                task=sent_back,
                actor=shuji,
                text="已按方案落实，补充了两次支委会会议记录。",
                files=[_evidence("支委会会议记录.pdf")],
            )
            report_progress(
                task=closed, actor=shuji, text="已完成整改。", files=[_evidence("整改情况报告.pdf")]
            )
            accept(task=closed, actor=chushen, note="整改到位。")
            made += 2
        late = open_task(
            committee=committee,
            branch=branch,
            title="党费收缴台账整改",
            requirement="按月收缴党费并登记台账，补齐上半年缺失的记录。",
            owner=shuji,
            deadline=today + datetime.timedelta(days=1),
            source_kind=SourceKind.MANUAL,
            actor=chushen,
        )
        _redate(late, today - datetime.timedelta(days=35), today - datetime.timedelta(days=5))
        made += 1
    return {"rectification tasks": made}
