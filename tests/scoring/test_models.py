"""The database itself refuses rows that break the model's rules, whoever writes them."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from scoring.models import Dimension, Item, ItemKind, Standard, StandardStatus, StarThreshold

pytestmark = pytest.mark.django_db

D = Decimal


def refused(create) -> bool:
    try:
        with transaction.atomic():
            create()
    except IntegrityError:
        return True
    return False


@pytest.fixture
def dimension(draft) -> Dimension:
    return draft.dimensions.get(code="1")


def test_a_name_and_version_exist_once(draft):
    assert refused(lambda: Standard.objects.create(name=draft.name, version=draft.version))


def test_a_published_standard_records_when_it_was_published():
    assert refused(lambda: Standard.objects.create(name="x", version=1, status=StandardStatus.PUBLISHED))
    assert refused(lambda: Standard.objects.create(name="y", version=1, published_at=timezone.now()))


def test_a_standard_is_worth_more_than_nothing():
    assert refused(lambda: Standard.objects.create(name="x", version=1, max_score=D("0")))


def test_a_version_starts_at_one():
    assert refused(lambda: Standard.objects.create(name="x", version=0))


def test_a_bonus_cap_cannot_be_negative():
    assert refused(lambda: Standard.objects.create(name="x", version=1, bonus_cap=D("-1")))


@pytest.mark.parametrize("stars", [0, 6])
def test_star_levels_run_from_one_to_five(draft, stars):
    assert refused(lambda: StarThreshold.objects.create(standard=draft, stars=stars, min_score=D("1")))


def test_a_star_level_has_one_threshold_per_standard(draft):
    assert refused(lambda: StarThreshold.objects.create(standard=draft, stars=5, min_score=D("19.5")))


def test_points_cannot_be_negative(draft, dimension):
    assert refused(lambda: StarThreshold.objects.filter(standard=draft, stars=1).update(min_score=D("-1")))
    assert refused(lambda: Dimension.objects.filter(pk=dimension.pk).update(max_score=D("-1")))
    assert refused(lambda: Item.objects.create(dimension=dimension, code="1.9", title="t", max_score=D("-1")))


def test_a_veto_item_must_name_its_star_cap(dimension):
    assert refused(
        lambda: Item.objects.create(
            dimension=dimension, code="V9", title="t", max_score=D("0"), kind=ItemKind.VETO
        )
    )


def test_a_veto_cap_lies_between_one_and_five_stars(dimension):
    assert refused(
        lambda: Item.objects.create(
            dimension=dimension, code="V9", title="t", max_score=D("0"), kind=ItemKind.VETO, veto_star_cap=6
        )
    )


def test_only_a_veto_item_has_a_star_cap(dimension):
    assert refused(
        lambda: Item.objects.create(
            dimension=dimension, code="1.9", title="t", max_score=D("1"), veto_star_cap=1
        )
    )


def test_a_veto_item_carries_no_points(dimension):
    assert refused(
        lambda: Item.objects.create(
            dimension=dimension, code="V9", title="t", max_score=D("1"), kind=ItemKind.VETO, veto_star_cap=1
        )
    )


def test_item_codes_are_unique_within_a_dimension(dimension):
    assert refused(lambda: Item.objects.create(dimension=dimension, code="1.1", title="t", max_score=D("1")))


def test_a_valid_veto_item_is_accepted(dimension):
    assert not refused(
        lambda: Item.objects.create(
            dimension=dimension, code="V9", title="t", max_score=D("0"), kind=ItemKind.VETO, veto_star_cap=2
        )
    )


def test_a_standard_reads_as_its_name_and_version(default_standard):
    assert "党支部建设星级管理考核细则" in str(default_standard)
    assert "1" in str(default_standard)
