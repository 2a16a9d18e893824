"""The shipped default routine-check standard (季度考核细则), written out as shipped data.

Not a migration (the loader skips names starting with "_"): the standard is created when a
committee first needs it (its first quarterly check, the demo) by
``scoring.services.defaults.ensure_default_check_standard``, so the certification paths and
their tests meet exactly the standards they did before. Like ``0002_default_standard`` it works
on the models it is given, and it writes the standard as shipped: published, global, no actor.

Seed 004's work standard for party branches: 30 items in 8 groups, 100 points. The points are
the project's own choice, documented in checks/default_check_standard.md.
"""

from decimal import Decimal

from django.utils import timezone

CHECK_STANDARD_NAME = "党支部工作季度考核细则"
CHECK_STANDARD_VERSION = 1

# (code, group, points, items); item: (code, title, points, guidance, evidence hint)
CHECK_STANDARD_GROUPS = [
    (
        "1",
        "促进生产经营",
        "15",
        [
            (
                "1.1",
                "参与生产（科研）计划",
                "5",
                "参与本单位生产（科研）计划的研究制定和组织协调，促进和保证任务全面完成。",
                "会议记录、计划",
            ),
            (
                "1.2",
                "参与经营管理",
                "5",
                "参与本单位经营方案的研究制定，精细管理、降本增效，成本指标控制在计划之内或经费不超。",
                "经营方案、成本报表",
            ),
            (
                "1.3",
                "安全生产",
                "5",
                "参与安全生产措施的制定和落实，教育党员、员工增强安全意识，确保安全生产无事故。",
                "安全教育记录",
            ),
        ],
    ),
    (
        "2",
        "班子自身建设",
        "18",
        [
            (
                "2.1",
                "按期换届、分工明确",
                "3",
                "按党章和上级要求按期换届选举；支委缺员及时增补；支委分工明确，发挥整体作用。",
                "选举批复、分工文件",
            ),
            (
                "2.2",
                "书记能力和威信",
                "3",
                "党支部书记政策理论水平较高、实际工作能力较强，群众威信较高，结合实际创造性地开展工作。",
                "工作记录",
            ),
            ("2.3", "班子理论学习", "3", "坚持支部班子政治理论学习制度，集中学习每月至少一次。", "学习记录"),
            (
                "2.4",
                "民主生活会",
                "3",
                "支部班子每半年召开一次民主生活会，交换意见，开展批评与自我批评。",
                "会议记录",
            ),
            (
                "2.5",
                "班子精神状态",
                "3",
                "领导班子精神状态良好，创新意识强，团结务实，能解决自身问题，战斗堡垒作用发挥得好。",
                "测评表",
            ),
            ("2.6", "向党员大会报告工作", "3", "党支部委员会每季度向支部党员大会报告工作一次。", "会议记录"),
        ],
    ),
    (
        "3",
        "党员教育管理",
        "18",
        [
            (
                "3.1",
                "党员学习教育",
                "3",
                "学习计划、学习时间、学习效果“三落实”，党员集中学习时间每月至少一次。",
                "学习计划、学习记录",
            ),
            (
                "3.2",
                "党员素质工程",
                "3",
                "确定党员教育的内容和主题，重大问题让党员先知道、先讨论、先行动，发挥先锋模范作用。",
                "活动记录",
            ),
            (
                "3.3",
                "三会一课",
                "3",
                "每季度至少召开一次支部党员大会、上一次党课；每月至少召开一次支委会、党小组会。",
                "会议记录簿",
            ),
            (
                "3.4",
                "创先争优和党员责任区",
                "3",
                "深化创先争优活动，坚持“党员责任区”制度，发挥先进典型的导向和示范作用。",
                "责任区名单、事迹",
            ),
            (
                "3.5",
                "民主评议党员",
                "3",
                "按照上级党组织统一部署，认真组织民主评议党员，严格程序，确保效果。",
                "评议材料",
            ),
            ("3.6", "党费收缴", "3", "按规定及时做好党费收缴工作。", "党费收缴台账"),
        ],
    ),
    (
        "4",
        "思想政治工作",
        "15",
        [
            (
                "4.1",
                "企业文化建设",
                "3",
                "引导员工培育和弘扬企业精神，践行经营理念，遵守和履行员工行为规范。",
                "活动记录",
            ),
            (
                "4.2",
                "化解矛盾、稳定队伍",
                "3",
                "把改革、发展、稳定中的难点和员工的思想热点作为重点，及时化解矛盾，确保员工队伍稳定。",
                "谈心记录",
            ),
            (
                "4.3",
                "思想政治工作网络",
                "2",
                "建立以党支部为主体、党政工团共同参与的思想政治工作网络。",
                "网络图、制度",
            ),
            (
                "4.4",
                "关心人才成长",
                "2",
                "重视人才培养，关心人才成长，尊重劳动、尊重知识、尊重人才、尊重创造。",
                "培养记录",
            ),
            (
                "4.5",
                "思想动态分析",
                "3",
                "每季度进行一次员工思想动态分析，找出原因，定出整改措施并抓好落实。",
                "分析报告",
            ),
            ("4.6", "后进员工转化", "2", "做好后进员工的转化工作，帮教措施具体，转化效果明显。", "帮教记录"),
        ],
    ),
    (
        "5",
        "党风廉政建设",
        "8",
        [
            (
                "5.1",
                "党风党纪教育",
                "4",
                "经常对党员进行党风党纪教育，遵纪守法，廉洁自律，自觉抵制腐败现象。",
                "教育记录",
            ),
            (
                "5.2",
                "廉政责任制",
                "4",
                "落实党风廉政建设责任制和党员干部廉政承诺制，定期检查，查出的问题及时纠正处理。",
                "承诺书、检查记录",
            ),
        ],
    ),
    (
        "6",
        "发展党员",
        "9",
        [
            (
                "6.1",
                "入党积极分子培养",
                "3",
                "入党积极分子队伍数量充足、质量较高；每季度同入党积极分子谈心至少一次，及时填写考察意见。",
                "培养考察记录",
            ),
            (
                "6.2",
                "按标准和程序发展",
                "3",
                "严格按标准和程序发展党员，做好预备党员的转正工作。",
                "发展档案",
            ),
            (
                "6.3",
                "发展党员公示",
                "3",
                "实行发展党员公示制，接受党内外群众监督，保证发展党员质量。",
                "公示记录",
            ),
        ],
    ),
    (
        "7",
        "工团组织",
        "6",
        [
            (
                "7.1",
                "领导工会、共青团工作",
                "3",
                "定期听取和研究工会、共青团工作，支持其按章程独立开展工作。",
                "会议记录",
            ),
            (
                "7.2",
                "创新创效",
                "3",
                "积极开展创新创效活动，组织员工提合理化建议，促进效益提高。",
                "建议台账",
            ),
        ],
    ),
    (
        "8",
        "基础工作",
        "11",
        [
            (
                "8.1",
                "制度健全、有计划有总结",
                "6",
                "各项制度健全，工作有标准、有计划、有总结，信息反馈及时。",
                "制度汇编、计划、总结",
            ),
            (
                "8.2",
                "基础资料规范",
                "5",
                "基础资料整洁规范，各种档案、资料健全，内容真实、符合要求。",
                "档案资料",
            ),
        ],
    ),
]


def create_default_check_standard(apps):
    Standard = apps.get_model("scoring", "Standard")
    StarThreshold = apps.get_model("scoring", "StarThreshold")
    Dimension = apps.get_model("scoring", "Dimension")
    Item = apps.get_model("scoring", "Item")

    existing = Standard.objects.filter(name=CHECK_STANDARD_NAME, version=CHECK_STANDARD_VERSION).first()
    if existing is not None:
        return existing
    standard = Standard.objects.create(
        name=CHECK_STANDARD_NAME,
        version=CHECK_STANDARD_VERSION,
        purpose="routine_check",
        status="published",
        max_score=Decimal("100"),
        committee=None,
        published_at=timezone.now(),
    )
    # The star bands of the certification standard: a quarterly score is compared with them
    # when it is far below the branch's certified star.
    StarThreshold.objects.bulk_create(
        StarThreshold(standard=standard, stars=stars, min_score=Decimal(minimum))
        for stars, minimum in [(5, "95"), (4, "90"), (3, "80"), (2, "70"), (1, "0")]
    )
    for order, (code, title, points, items) in enumerate(CHECK_STANDARD_GROUPS, start=1):
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
                evidence_hint=hint,
                evidence_required=False,
                kind="normal",
                veto_star_cap=None,
            )
            for item_order, (item_code, item_title, item_points, guidance, hint) in enumerate(items, start=1)
        )
    return standard
