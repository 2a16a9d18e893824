"""Ship the default standard, 党支部建设星级管理考核细则 version 1, published and global.

The data is written out here rather than imported from application code, so this migration
keeps creating exactly the same standard however the code changes later. Source:
shared/design/default_standard.md (dimensions and items of seed 001, guidance from seed 004).

``evidence_required`` is set for the items whose evidence is a record the branch must keep
anyway — a ledger (台账), a record book (记录簿), a file (档案) or minutes/records (记录) —
so asking for it costs the branch nothing but a scan. Items shown by photos, case write-ups,
lists or results of other bodies leave attaching evidence to the branch's judgement.
"""

from decimal import Decimal

from django.db import migrations
from django.utils import timezone

NAME = "党支部建设星级管理考核细则"
VERSION = 1

# (stars, minimum total): ≥95 ★★★★★, ≥90 ★★★★, ≥80 ★★★, ≥70 ★★, below 70 ★.
THRESHOLDS = [(5, "95"), (4, "90"), (3, "80"), (2, "70"), (1, "0")]

# (code, title, points, items); item: (code, title, points, guidance, evidence hint, evidence required)
DIMENSIONS = [
    (
        "1",
        "班子建设",
        "25",
        [
            ("1.1", "支部设置合理", "5", "按照党章规定设置党支部；按期进行换届选举；支委缺额及时增补；支委分工明确。", "选举批复、分工文件", False),
            ("1.2", "班子团结", "5", "坚持民主集中制；每半年召开一次组织生活会，认真开展批评和自我批评。", "会议记录", True),
            ("1.3", "活动经常", "5", "落实“三会一课”制度：支委会每月召开，党员大会和党课每季度开展。", "会议记录簿", True),
            ("1.4", "经费落实", "5", "党支部活动经费列入预算，并按计划使用。", "经费台账", True),
            ("1.5", "党务公开", "5", "党务按时公开。", "公开栏照片、公开记录", True),
        ],
    ),
    (
        "2",
        "党员队伍建设",
        "25",
        [
            ("2.1", "学习教育", "5", "每月至少组织一次集体学习，做到计划、时间、效果落实。", "学习记录", True),
            ("2.2", "组织活动", "5", "按计划开展主题党日和主题活动。", "活动记录、照片", True),
            ("2.3", "党员管理", "5", "每年开展民主评议党员；党员档案资料齐全。", "评议材料", False),
            ("2.4", "发展党员", "5", "每季度与入党积极分子谈心谈话；按程序发展党员并进行公示。", "发展档案", True),
            ("2.5", "缴纳党费", "5", "党员按时足额缴纳党费。", "党费收缴台账", True),
        ],
    ),
    (
        "3",
        "制度建设",
        "15",
        [
            ("3.1", "各项制度健全", "5", "学习、会议、请示报告、评议等制度形成书面文件。", "制度汇编", False),
            ("3.2", "工作机制完善", "5", "每年有工作计划和总结；按时报送工作信息。", "计划、总结", False),
            ("3.3", "责任落实到位", "5", "制定支部书记和支委委员的责任清单。", "责任清单", False),
        ],
    ),
    (
        "4",
        "工作业绩",
        "20",
        [
            ("4.1", "创新工作思路", "6", "形成有特色的工作做法或党建品牌（特色亮点）。", "案例材料", False),
            ("4.2", "发挥党员作用", "7", "设立党员示范岗、党员责任区；党员在本单位主要工作中带头。", "岗位名单、事迹", False),
            ("4.3", "出色完成任务", "7", "圆满完成本单位中心工作任务。", "年度考核结果", False),
        ],
    ),
    (
        "5",
        "群众满意",
        "15",
        [
            ("5.1", "树立服务意识", "5", "向群众公开服务承诺。", "承诺书", False),
            ("5.2", "为群众办实事好事", "5", "为群众或职工办实事好事，并记录在案。", "办实事台账", True),
            ("5.3", "得到群众认可", "5", "开展群众满意度测评，群众认可度高。", "测评表", False),
        ],
    ),
]


def create_default_standard(apps, schema_editor):
    Standard = apps.get_model("scoring", "Standard")
    StarThreshold = apps.get_model("scoring", "StarThreshold")
    Dimension = apps.get_model("scoring", "Dimension")
    Item = apps.get_model("scoring", "Item")

    if Standard.objects.filter(name=NAME, version=VERSION).exists():
        return
    standard = Standard.objects.create(
        name=NAME,
        version=VERSION,
        status="published",
        max_score=Decimal("100"),
        committee=None,
        bonus_cap=None,
        allow_total_above_max=False,
        published_at=timezone.now(),
    )
    StarThreshold.objects.bulk_create(
        StarThreshold(standard=standard, stars=stars, min_score=Decimal(min_score)) for stars, min_score in THRESHOLDS
    )
    for order, (code, title, points, items) in enumerate(DIMENSIONS, start=1):
        dimension = Dimension.objects.create(
            standard=standard, order=order, code=code, title=title, max_score=Decimal(points)
        )
        Item.objects.bulk_create(
            Item(
                dimension=dimension,
                order=item_order,
                code=item_code,
                title=item_title,
                max_score=Decimal(item_points),
                guidance=guidance,
                evidence_hint=evidence_hint,
                evidence_required=evidence_required,
                kind="normal",
                veto_star_cap=None,
            )
            for item_order, (item_code, item_title, item_points, guidance, evidence_hint, evidence_required) in enumerate(
                items, start=1
            )
        )


def remove_default_standard(apps, schema_editor):
    # Cascades to thresholds, dimensions and items. Once rows of other apps point at the
    # standard their PROTECT makes this fail, which is right for a standard in use.
    Standard = apps.get_model("scoring", "Standard")
    Standard.objects.filter(name=NAME, version=VERSION).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("scoring", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create_default_standard, remove_default_standard),
    ]
