"""Demo supervision: liaison branches, visits this quarter and last, a finding followed up, stage applications.

The assessment team, the approver and the staff member each look after a few branches (联系点).
This quarter most were visited; 张伟 (kaohe1) still has two without a visit, so his home page
lists them and the committee's coverage is below 100 %. 张伟's visit to the demo secretary's
branch found a gap and opened a rectification task in one step, with photos. Last year the
committee approved that branch's move to the distinctive stage (the change is on its timeline);
this year it applied for the model stage with its brand, and the application waits for 赵志强 (shenpi).

Idempotent: nothing is added once the committee has liaison branches.
"""

import datetime
import struct
import zlib

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from branches.demo import COMMITTEE_CODE
from branches.models import BranchStage, Organization, StageChange, User

from .models import LiaisonAssignment, StageApplication, StageApplicationEvent, calendar_quarter
from .services.liaisons import assign_liaisons
from .services.stages import decide_stage_application, submit_stage_application
from .services.visits import open_task_from_finding, record_visit

LIAISONS = {
    "kaohe1": ["BJ-FGW-01", "BJ-FGW-02", "BJ-FGW-03", "BJ-CZJ-01"],
    "kaohe2": ["BJ-JYJ-01", "BJ-JYJ-02", "BJ-WJW-01", "BJ-WJW-02"],
    "kaohe3": ["BJ-SWJ-03", "BJ-SWJ-04"],
    "shenpi": ["BJ-SWJ-01", "BJ-SWJ-02"],
    "dangwu": ["BJ-CZJ-02", "BJ-CZJ-03"],
}
# (member, branch, days into the quarter, what was checked, findings); this quarter's
THIS_QUARTER = [
    (
        "kaohe1",
        "BJ-FGW-01",
        12,
        "查阅“三会一课”记录、党费收缴台账，与支部委员座谈。",
        "组织生活会会议记录不完整，10月支委会缺少记录；党员学习笔记个别不全。",
    ),
    ("kaohe1", "BJ-FGW-02", 20, "查看党员活动室和宣传栏，抽查两名党员的学习笔记。", ""),
    ("kaohe2", "BJ-JYJ-01", 8, "列席支部主题党日活动。", ""),
    ("kaohe2", "BJ-JYJ-02", 15, "查阅发展党员材料。", "一名入党积极分子培养考察记录未按季度填写。"),
    ("kaohe2", "BJ-WJW-01", 22, "与支部书记谈心谈话，了解支部建设情况。", ""),
    ("kaohe2", "BJ-WJW-02", 30, "查阅支部工作计划和总结。", ""),
    ("kaohe3", "BJ-SWJ-03", 18, "查看“三会一课”记录。", ""),
    ("kaohe3", "BJ-SWJ-04", 25, "抽查党费收缴台账。", ""),
    ("shenpi", "BJ-SWJ-01", 10, "参加支部组织生活会并点评。", ""),
    ("shenpi", "BJ-SWJ-02", 26, "查阅支部标准化建设台账。", ""),
    ("dangwu", "BJ-CZJ-02", 14, "核对党员信息和组织关系。", ""),
]
LAST_QUARTER = [
    ("kaohe1", "BJ-FGW-01", 20, "检查支部标准化建设台账。", ""),
    ("kaohe1", "BJ-FGW-03", 35, "查阅主题党日活动记录。", ""),
    ("kaohe1", "BJ-CZJ-01", 50, "与党员座谈。", ""),
    ("kaohe2", "BJ-JYJ-01", 40, "查看党员活动室。", ""),
    ("dangwu", "BJ-CZJ-03", 45, "核对党费收缴。", ""),
]


def _png(width: int = 240, height: int = 160, color: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    """A plain PNG drawn here (no image library needed): a coloured field with a light band."""
    rows = b""
    for y in range(height):
        band = height // 3 <= y < 2 * height // 3
        pixel = bytes((250, 240, 220)) if band else bytes(color)
        rows += b"\x00" + pixel * width

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _quarter_start(day: datetime.date) -> datetime.date:
    year, quarter = calendar_quarter(day)
    return datetime.date(year, 3 * (quarter - 1) + 1, 1)


def _visits(plan, start: datetime.date, until: datetime.date, users, branches, photos: bool) -> list:
    made = []
    for username, code, offset, checked, findings in plan:
        user = users[username]
        day = min(start + datetime.timedelta(days=offset), until)
        files = []
        if photos and findings:
            files = [
                SimpleUploadedFile("现场检查.png", _png(), content_type="image/png"),
                SimpleUploadedFile("座谈会.png", _png(color=(40, 90, 160)), content_type="image/png"),
            ]
        visit = record_visit(
            branch=branches[code],
            actor=user,
            visited_on=day,
            members=[user],
            others="党委组织委员" if findings else "",
            checked=checked,
            findings=findings,
            photos=files,
        )
        made.append(visit)
    return made


def load_demo() -> dict[str, int]:
    committee = Organization.objects.get(code=COMMITTEE_CODE)
    created = {"liaison branches": 0, "visits": 0, "stage applications": 0}
    if LiaisonAssignment.objects.filter(committee=committee).exists():
        return created
    users = {name: User.objects.get(username=name) for name in [*LIAISONS, "shuji"]}
    codes = {code for listed in LIAISONS.values() for code in listed}
    branches = {org.code: org for org in Organization.objects.filter(code__in=codes)}
    today = timezone.localdate()
    this_start = _quarter_start(today)
    last_start = _quarter_start(this_start - datetime.timedelta(days=1))
    with transaction.atomic():
        for username, listed in LIAISONS.items():
            made = assign_liaisons(
                committee=committee,
                member=users[username],
                branches=[branches[code] for code in listed],
                actor=users["dangwu"],
            )
            created["liaison branches"] += len(made)
        last = _visits(
            LAST_QUARTER, last_start, this_start - datetime.timedelta(days=1), users, branches, False
        )
        current = _visits(THIS_QUARTER, this_start, today, users, branches, True)
        created["visits"] += len(last) + len(current)
        found = current[0]  # 张伟 at the demo secretary's branch
        open_task_from_finding(
            visit=found,
            actor=users["kaohe1"],
            title="补齐组织生活会和支委会会议记录",
            requirement=found.findings,
            owner=users["shuji"],
            deadline=today + datetime.timedelta(days=20),
        )
        created["stage applications"] += _stage_applications(users, today)
    return created


def _stage_applications(users, today: datetime.date) -> int:
    """Last year: basic → distinctive approved (dated back a year); this year: → model, waiting."""
    branch = Organization.objects.get(code="BJ-FGW-01")
    if branch.stage != BranchStage.BASIC:
        return 0
    approved = submit_stage_application(
        branch=branch,
        actor=users["shuji"],
        name="“发改先锋”项目服务特色",
        description="支部党员组建项目服务队，结对服务重点项目 12 个，形成“一项目一党员”工作法。",
        files=[SimpleUploadedFile("特色亮点材料.png", _png(color=(180, 60, 30)), content_type="image/png")],
    )
    decide_stage_application(
        application=approved,
        actor=users["shenpi"],
        approve=True,
        reason="特色鲜明，成效明显，经工委会议研究同意。",
    )
    _back_a_year(approved)
    submit_stage_application(
        branch=branch,
        actor=users["shuji"],
        name="“发改先锋”服务品牌",
        description="在特色基础上形成服务品牌：项目服务队常态化运行，经验做法被市级媒体报道，其他支部来学习交流。",
        files=[SimpleUploadedFile("品牌创建材料.png", _png(color=(160, 30, 30)), content_type="image/png")],
    )
    return 2


def _back_a_year(application: StageApplication) -> None:
    """The demo's history: last year's decision, dated as of then (rows only, nothing decided anew)."""
    year_ago = datetime.timedelta(days=365)
    application.refresh_from_db()
    StageApplication.objects.filter(pk=application.pk).update(
        submitted_at=application.submitted_at - year_ago,
        decided_at=application.decided_at - year_ago,
        decided_year=timezone.localtime(application.decided_at - year_ago).year,
    )
    for event in StageApplicationEvent.objects.filter(application=application):
        StageApplicationEvent.objects.filter(pk=event.pk).update(at=event.at - year_ago)
    for change in StageChange.objects.filter(branch=application.branch):
        StageChange.objects.filter(pk=change.pk).update(at=change.at - year_ago)
