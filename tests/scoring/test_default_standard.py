"""The default standard shipped by the data migration matches default_standard.md exactly."""

from decimal import Decimal

import pytest

from scoring.arithmetic import star_for, total_score
from scoring.models import Item, ItemKind, StandardStatus
from scoring.selectors import rules_from_standard

pytestmark = pytest.mark.django_db

DIMENSIONS = [
    ("1", "班子建设", Decimal("25")),
    ("2", "党员队伍建设", Decimal("25")),
    ("3", "制度建设", Decimal("15")),
    ("4", "工作业绩", Decimal("20")),
    ("5", "群众满意", Decimal("15")),
]

ITEMS = [
    ("1", "1.1", "支部设置合理", "5", "选举批复、分工文件"),
    ("1", "1.2", "班子团结", "5", "会议记录"),
    ("1", "1.3", "活动经常", "5", "会议记录簿"),
    ("1", "1.4", "经费落实", "5", "经费台账"),
    ("1", "1.5", "党务公开", "5", "公开栏照片、公开记录"),
    ("2", "2.1", "学习教育", "5", "学习记录"),
    ("2", "2.2", "组织活动", "5", "活动记录、照片"),
    ("2", "2.3", "党员管理", "5", "评议材料"),
    ("2", "2.4", "发展党员", "5", "发展档案"),
    ("2", "2.5", "缴纳党费", "5", "党费收缴台账"),
    ("3", "3.1", "各项制度健全", "5", "制度汇编"),
    ("3", "3.2", "工作机制完善", "5", "计划、总结"),
    ("3", "3.3", "责任落实到位", "5", "责任清单"),
    ("4", "4.1", "创新工作思路", "6", "案例材料"),
    ("4", "4.2", "发挥党员作用", "7", "岗位名单、事迹"),
    ("4", "4.3", "出色完成任务", "7", "年度考核结果"),
    ("5", "5.1", "树立服务意识", "5", "承诺书"),
    ("5", "5.2", "为群众办实事好事", "5", "办实事台账"),
    ("5", "5.3", "得到群众认可", "5", "测评表"),
]


def items_of(standard):
    return list(
        Item.objects.filter(dimension__standard=standard)
        .select_related("dimension")
        .order_by("dimension__order", "order")
    )


def test_the_default_standard_is_published_for_every_committee(default_standard):
    assert default_standard.status == StandardStatus.PUBLISHED
    assert default_standard.published_at is not None
    assert default_standard.committee is None
    assert default_standard.max_score == Decimal("100")
    assert default_standard.bonus_cap is None
    assert default_standard.allow_total_above_max is False


def test_the_default_standard_has_the_five_dimensions_with_their_points(default_standard):
    dimensions = list(default_standard.dimensions.order_by("order").values_list("code", "title", "max_score"))

    assert dimensions == DIMENSIONS


def test_the_default_standard_has_the_nineteen_items_of_the_table(default_standard):
    items = [
        (item.dimension.code, item.code, item.title, str(item.max_score), item.evidence_hint)
        for item in items_of(default_standard)
    ]

    assert items == [
        (dim, code, title, f"{Decimal(points):.1f}", hint) for dim, code, title, points, hint in ITEMS
    ]


def test_the_default_items_are_all_normal_and_add_up_to_one_hundred(default_standard):
    items = items_of(default_standard)

    assert len(items) == 19
    assert {item.kind for item in items} == {ItemKind.NORMAL}
    assert sum(item.max_score for item in items) == Decimal("100")


def test_every_dimension_is_worth_the_points_of_its_items(default_standard):
    for dimension in default_standard.dimensions.prefetch_related("items"):
        assert dimension.max_score == sum(item.max_score for item in dimension.items.all())


def test_every_default_item_says_what_full_marks_needs_in_chinese(default_standard):
    for item in items_of(default_standard):
        assert item.guidance
        assert item.evidence_hint
        # Chinese text, not the English notes of the design table.
        assert any("\u4e00" <= char <= "\u9fff" for char in item.guidance)


def test_ledgers_and_record_books_are_required_evidence(default_standard):
    required = {item.code for item in items_of(default_standard) if item.evidence_required}

    assert {"1.3", "2.5"} <= required
    assert "4.3" not in required  # the result of the unit's own appraisal is not the branch's ledger


def test_the_default_thresholds_are_95_90_80_70_and_zero(default_standard):
    thresholds = dict(default_standard.thresholds.values_list("stars", "min_score"))

    assert thresholds == {
        5: Decimal("95"),
        4: Decimal("90"),
        3: Decimal("80"),
        2: Decimal("70"),
        1: Decimal("0"),
    }


def test_full_marks_on_the_default_standard_earn_five_stars(default_standard):
    rules = rules_from_standard(default_standard)
    scores = {item.code: item.max_score for item in rules.items}

    total = total_score(rules, scores)

    assert total == Decimal("100.0")
    assert star_for(rules, total) == 5


def test_one_tenth_of_a_point_short_of_95_on_the_default_standard_is_four_stars(default_standard):
    rules = rules_from_standard(default_standard)
    scores = {item.code: item.max_score for item in rules.items} | {"4.2": Decimal("1.9")}

    total = total_score(rules, scores)

    assert total == Decimal("94.9")
    assert star_for(rules, total) == 4
