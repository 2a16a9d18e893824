"""GroupedRows pages a list sorted by a column of few values, then an order, one group at a time.

Every page must hold exactly the rows the single sorted query gives on that page.
"""

import pytest
from django.core.paginator import Paginator

from branches.models import Organization, OrgKind
from reviews.views.common import GroupedRows
from tests.factories import make_branch, make_party_committee


@pytest.mark.django_db
@pytest.mark.parametrize("per_page", [1, 7, 25, 100])
def test_every_page_holds_what_the_single_sorted_query_gives(world, per_page):
    parent = make_party_committee("分组党委", "GRP", parent=world.committee)
    for number in range(61):
        branch = make_branch(f"分组支部{number}", f"GRP-B{number:02d}", parent=parent)
        Organization.objects.filter(pk=branch.pk).update(sort_order=(number * 7) % 4)
    rows = Organization.objects.filter(kind=OrgKind.BRANCH, parent=parent)
    flat = list(rows.order_by("-sort_order", "code"))
    counts = {level: rows.filter(sort_order=level).count() for level in range(4)}
    grouped = GroupedRows(
        (rows.filter(sort_order=level).order_by("code"), counts[level]) for level in (3, 2, 1, 0)
    )

    paginator = Paginator(grouped, per_page)
    assert paginator.count == len(flat) == 61
    seen = []
    for number in paginator.page_range:
        page = paginator.page(number)
        assert list(page.object_list) == flat[(number - 1) * per_page : number * per_page]
        seen.extend(page.object_list)
    assert seen == flat
    assert grouped[0] == flat[0] and grouped[60] == flat[60]
    with pytest.raises(IndexError):
        grouped[61]


@pytest.mark.django_db
def test_empty_groups_are_skipped_and_an_empty_list_has_one_empty_page(world):
    grouped = GroupedRows([(Organization.objects.none(), 0)])
    page = Paginator(grouped, 25).get_page(1)
    assert grouped.count() == 0 and list(page.object_list) == []
