"""Who sees which standards, and turning a standard into arithmetic rules in fixed queries."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from scoring.arithmetic import ItemRule
from scoring.models import Dimension, Item
from scoring.selectors import (
    can_edit_standard,
    get_standard_for_user_or_404,
    published_standards_for,
    rules_from_standard,
    standards_editable_by,
    standards_visible_to,
)
from scoring.services import standards as services
from tests.factories import make_draft_standard

pytestmark = pytest.mark.django_db


@pytest.fixture
def standards(world, default_standard):
    ours = make_draft_standard(name="本工委细则", committee=world.committee)
    theirs = make_draft_standard(name="他工委细则", committee=world.other_committee)
    global_draft = make_draft_standard(name="通用草稿")
    return {"default": default_standard, "ours": ours, "theirs": theirs, "global_draft": global_draft}


def names(queryset) -> set[str]:
    return set(queryset.values_list("name", flat=True))


def test_a_superuser_sees_every_standard(superuser, standards):
    assert names(standards_visible_to(superuser)) == {s.name for s in standards.values()}


def test_committee_staff_see_their_committees_standards_and_the_global_ones(committee_staff, standards):
    assert names(standards_visible_to(committee_staff)) == {
        "党支部建设星级管理考核细则",
        "本工委细则",
        "通用草稿",
    }


def test_someone_without_a_role_sees_only_the_global_standards(outsider, standards):
    assert names(standards_visible_to(outsider)) == {"党支部建设星级管理考核细则", "通用草稿"}


def test_an_anonymous_visitor_sees_no_standard(standards):
    assert not standards_visible_to(AnonymousUser()).exists()


def test_a_branch_secretary_does_not_see_the_committees_own_standards(world, standards):
    assert "本工委细则" not in names(standards_visible_to(world.secretary))


def test_committee_staff_may_edit_only_their_committees_drafts(committee_staff, standards):
    assert names(standards_editable_by(committee_staff)) == {"本工委细则"}
    assert can_edit_standard(committee_staff, standards["ours"])
    assert not can_edit_standard(committee_staff, standards["global_draft"])
    assert not can_edit_standard(committee_staff, standards["theirs"])


def test_nobody_may_edit_a_published_standard(superuser, committee_staff, standards):
    services.publish_standard(standard=standards["ours"], actor=superuser)

    assert not can_edit_standard(committee_staff, standards["ours"])
    assert not can_edit_standard(superuser, standards["default"])


def test_a_superuser_may_edit_global_drafts(superuser, standards):
    assert can_edit_standard(superuser, standards["global_draft"])


def test_another_committees_standard_answers_404(committee_staff, standards):
    with pytest.raises(Http404):
        get_standard_for_user_or_404(committee_staff, standards["theirs"].pk)
    with pytest.raises(Http404):
        get_standard_for_user_or_404(committee_staff, 999_999)
    assert get_standard_for_user_or_404(committee_staff, standards["ours"].pk) == standards["ours"]


def test_a_committee_runs_cycles_with_its_own_and_the_global_published_standards(world, superuser, standards):
    services.publish_standard(standard=standards["ours"], actor=superuser)
    services.publish_standard(standard=standards["theirs"], actor=superuser)

    assert names(published_standards_for(world.committee)) == {"党支部建设星级管理考核细则", "本工委细则"}


def test_rules_carry_the_standards_numbers(draft):
    rules = rules_from_standard(draft)

    assert rules.max_score == Decimal("20")
    assert rules.bonus_cap == Decimal("2")
    assert rules.allow_total_above_max is False
    assert rules.thresholds[0] == (5, Decimal("19"))
    assert [item.code for item in rules.items] == ["1.1", "1.2", "2.1", "B1", "V1"]
    assert rules.item("V1") == ItemRule(code="V1", max_score=Decimal("0"), kind="veto", veto_star_cap=1)


def test_rules_are_read_in_two_queries_however_large_the_standard(
    default_standard, django_assert_num_queries
):
    copy = services.copy_standard_to_new_draft(standard=default_standard)
    extra = services.save_dimension(
        dimension=Dimension(standard=copy, order=9, code="9", title="加分项", max_score=Decimal("0"))
    )
    for n in range(30):
        Item.objects.create(
            dimension=extra, code=f"9.{n}", title="加分", max_score=Decimal("1"), kind="bonus"
        )

    with django_assert_num_queries(2):
        small = rules_from_standard(default_standard)
    with django_assert_num_queries(2):
        large = rules_from_standard(copy)

    assert len(small.items) == 19
    assert len(large.items) == 49
