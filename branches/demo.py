"""A believable demo committee: organizations, one user for every role, a known password.

Idempotent: organizations are found by code and users by user name, so running it again
creates nothing new and changes nothing (passwords are set only when a user is created).
"""

import datetime
from dataclasses import dataclass

from axes.models import AccessFailureLog, AccessLog
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils import timezone

from .models import Organization, OrgKind, User
from .roles import Role
from .services.organizations import assign_role, create_organization
from .services.people import grant_role

DEMO_PASSWORD = "Demo@2026"  # noqa: S105 - published demo password, shown in the README
COMMITTEE_CODE = "BJ-GW"
COMMITTEE_NAME = "滨江市直机关工委"

# (code, name, kind, branch names)
PARENT_ORGS: list[tuple[str, str, str, list[str]]] = [
    (
        "BJ-FGW",
        "市发展和改革委员会机关党委",
        OrgKind.PARTY_COMMITTEE,
        [
            "办公室党支部",
            "综合规划处党支部",
            "固定资产投资处党支部",
            "价格监督检查党支部",
            "能源发展处党支部",
            "重点项目办党支部",
            "离退休干部党支部",
            "信息中心党支部",
        ],
    ),
    (
        "BJ-CZJ",
        "市财政局机关党委",
        OrgKind.PARTY_COMMITTEE,
        [
            "预算处党支部",
            "国库处党支部",
            "税政处党支部",
            "会计处党支部",
            "政府采购处党支部",
            "财政监督局党支部",
            "机关后勤党支部",
            "离退休干部党支部",
        ],
    ),
    (
        "BJ-JYJ",
        "市教育局机关党委",
        OrgKind.PARTY_COMMITTEE,
        [
            "基础教育处党支部",
            "职业教育处党支部",
            "高等教育处党支部",
            "教师工作处党支部",
            "督导室党支部",
            "招生考试院党支部",
            "教育装备中心党支部",
            "机关第一党支部",
        ],
    ),
    (
        "BJ-WJW",
        "市卫生健康委员会机关党委",
        OrgKind.PARTY_COMMITTEE,
        [
            "医政医管处党支部",
            "疾病预防控制处党支部",
            "基层卫生处党支部",
            "妇幼健康处党支部",
            "卫生监督所党支部",
            "机关第一党支部",
            "机关第二党支部",
        ],
    ),
    (
        "BJ-SWJ",
        "市机关事务管理局党总支",
        OrgKind.GENERAL_BRANCH,
        ["公务用车服务中心党支部", "机关食堂党支部", "物业管理科党支部", "节能监管科党支部", "综合科党支部"],
    ),
]


@dataclass(frozen=True)
class DemoUser:
    username: str
    real_name: str
    role: str
    org_code: str
    is_staff: bool = False


DEMO_USERS: list[DemoUser] = [
    DemoUser("shuji", "王红梅", Role.BRANCH_SECRETARY, "BJ-FGW-01"),
    DemoUser("chushen", "李建国", Role.PARENT_REVIEWER, "BJ-FGW"),
    DemoUser("kaohe1", "张伟", Role.ASSESSMENT_REVIEWER, COMMITTEE_CODE),
    DemoUser("kaohe2", "刘洋", Role.ASSESSMENT_REVIEWER, COMMITTEE_CODE),
    DemoUser("kaohe3", "陈静", Role.ASSESSMENT_REVIEWER, COMMITTEE_CODE),
    DemoUser("shenpi", "赵志强", Role.COMMITTEE_APPROVER, COMMITTEE_CODE),
    DemoUser("dangwu", "孙丽", Role.STAFF, COMMITTEE_CODE, is_staff=True),
]

STAFF_GROUP = "党务工作者"
STAFF_PERMISSION_MODELS = {
    "branches": ["organization", "roleassignment", "user", "committeepolicy"],
    "scoring": ["standard", "dimension", "item", "starthreshold"],
    "django_celery_beat": ["periodictask", "crontabschedule"],  # the quarterly schedule
}
# The status histories are read-only: staff see who moved what, nobody edits it.
STAFF_VIEW_MODELS = {
    "scoring": ["standardevent"],
    "reviews": ["cycleevent"],
    "reports": ["bulletinevent"],
}


def _org(code: str, name: str, kind: str, parent: Organization | None, **extra) -> Organization:
    existing = Organization.objects.filter(code=code).first()
    if existing is not None:
        return existing
    return create_organization(code=code, name=name, kind=kind, parent=parent, **extra)


def _staff_group() -> Group:
    group, _created = Group.objects.get_or_create(name=STAFF_GROUP)
    perms = Permission.objects.filter(
        content_type__app_label__in=STAFF_PERMISSION_MODELS.keys() | STAFF_VIEW_MODELS.keys(),
    ).select_related("content_type")
    wanted = [
        p
        for p in perms
        if p.content_type.model in STAFF_PERMISSION_MODELS.get(p.content_type.app_label, ())
        or (
            p.content_type.model in STAFF_VIEW_MODELS.get(p.content_type.app_label, ())
            and p.codename.startswith("view_")
        )
    ]
    missing = set(wanted) - set(group.permissions.all())
    if missing:
        group.permissions.add(*missing)
    return group


# Where the demo people signed in from before (an intranet address), and where the two failed
# attempts with the secretary's name came from since.
DEMO_PREVIOUS_ADDRESS = "10.8.1.23"
DEMO_FAILED_ADDRESS = "10.8.7.41"


def _sign_in_history(users: dict[str, User]) -> None:
    """A previous sign-in for each demo person (yesterday) and, for the secretary, two failed
    attempts since, so that the first sign-in to the demo shows what the line after signing in
    says. Rows of django-axes' own logs; made once."""
    now = timezone.now()
    for username in users:
        if AccessLog.objects.filter(username=username).exists():
            continue
        row = AccessLog.objects.create(
            username=username,
            ip_address=DEMO_PREVIOUS_ADDRESS,
            user_agent="Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
            http_accept="text/html",
            path_info="/accounts/login/",
        )
        # attempt_time is auto_now_add: the past time is written afterwards.
        AccessLog.objects.filter(pk=row.pk).update(attempt_time=now - datetime.timedelta(days=1, hours=2))
        if username != "shuji":
            continue
        for minutes in (180, 178):
            failure = AccessFailureLog.objects.create(
                username=username,
                ip_address=DEMO_FAILED_ADDRESS,
                user_agent="Mozilla/5.0 (X11; Linux x86_64)",
                http_accept="text/html",
                path_info="/accounts/login/",
            )
            AccessFailureLog.objects.filter(pk=failure.pk).update(
                attempt_time=now - datetime.timedelta(minutes=minutes)
            )


@transaction.atomic
def load_demo() -> dict[str, int]:
    """Build (or find) the demo committee; returns counts of what was created."""
    before_orgs = Organization.objects.count()
    before_users = User.objects.count()

    committee = _org(COMMITTEE_CODE, COMMITTEE_NAME, OrgKind.COMMITTEE, None)
    stages = ["basic", "basic", "distinctive", "basic", "model", "distinctive"]
    for p_index, (code, name, kind, branch_names) in enumerate(PARENT_ORGS):
        # Sort numbers in tens (room to slot one in): the parents are listed as declared here.
        parent = _org(code, name, kind, committee, sort_order=(p_index + 1) * 10)
        for b_index, branch_name in enumerate(branch_names, start=1):
            _org(
                f"{code}-{b_index:02d}",
                branch_name,
                OrgKind.BRANCH,
                parent,
                stage=stages[(p_index + b_index) % len(stages)],
            )

    if not User.objects.filter(username="admin").exists():
        User.objects.create_superuser("admin", password=DEMO_PASSWORD, real_name="系统管理员")
    group = _staff_group()
    users = {}
    for spec in DEMO_USERS:
        user = User.objects.filter(username=spec.username).first()
        if user is None:
            user = User.objects.create_user(
                spec.username, password=DEMO_PASSWORD, real_name=spec.real_name, is_staff=spec.is_staff
            )
            if spec.is_staff:
                user.groups.add(group)
        users[spec.username] = user
    _sign_in_history(users)
    # The committee's staff and approver are the system's to appoint; the staff member 孙丽
    # then grants the other roles, as she would in the site (so the audit trail has her rows).
    appointed = (Role.STAFF, Role.COMMITTEE_APPROVER)
    for spec in sorted(DEMO_USERS, key=lambda spec: spec.role not in appointed):
        organization = Organization.objects.get(code=spec.org_code)
        if spec.role in appointed:
            assign_role(user=users[spec.username], role=spec.role, organization=organization)
        else:
            grant_role(
                actor=users["dangwu"], user=users[spec.username], role=spec.role, organization=organization
            )

    return {
        "organizations": Organization.objects.count() - before_orgs,
        "users": User.objects.count() - before_users,
    }
