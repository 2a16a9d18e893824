"""``Organization.order_key`` holds ``branch_order``: (parent's sort number, code, own sort number, code).

It is written on every save and by the bulk writers, and a parent's new number or code rewrites
its children's keys; sorting by it gives the order the tuple gives.
"""

import pytest

from branches.models import Organization, OrgKind, order_key_of
from branches.services.organizations import (
    create_organization,
    create_organizations_bulk,
    update_organization,
)


def tuple_order(orgs):
    return sorted(orgs, key=lambda o: (o.parent.sort_order, o.parent.code, o.sort_order, o.code))


@pytest.mark.django_db
def test_the_key_sorts_as_the_tuple_does_whatever_the_numbers_and_codes(world):
    committee = world.committee
    parents = [
        create_organization(
            name=f"党委{code}", code=code, kind=OrgKind.PARTY_COMMITTEE, parent=committee, sort_order=n
        )
        for code, n in [("OK-PA", 2), ("OK-PB", -5), ("OK-PA-2", 2), ("OK-P", 2), ("OK-P中", 0)]
    ]
    branches = [
        create_organization(name=f"支部{i}", code=code, kind=OrgKind.BRANCH, parent=parent, sort_order=n)
        for i, (code, n, parent) in enumerate(
            [
                ("OK-B1", 0, parents[0]),
                ("OK-B10", 0, parents[0]),
                ("OK-B", 0, parents[0]),
                ("OK-B2", -1, parents[0]),
                ("OK-X", 7, parents[1]),
                ("OK-A", 2147483647, parents[2]),
                ("OK-AA", -2147483648, parents[3]),
                ("OK-支部甲", 1, parents[4]),
                ("OK-支部", 1, parents[4]),
            ]
        )
    ]
    stored = Organization.objects.filter(pk__in=[b.pk for b in branches]).select_related("parent")
    assert list(stored.order_by("order_key")) == tuple_order(list(stored))


@pytest.mark.django_db
def test_a_parent_renumbered_or_recoded_moves_its_children_and_a_move_rewrites_the_key(world):
    committee = world.committee
    first = create_organization(
        name="一", code="P-1", kind=OrgKind.PARTY_COMMITTEE, parent=committee, sort_order=1
    )
    second = create_organization(
        name="二", code="P-2", kind=OrgKind.PARTY_COMMITTEE, parent=committee, sort_order=2
    )
    a = create_organization(name="甲", code="A-1", kind=OrgKind.BRANCH, parent=first)
    b = create_organization(name="乙", code="B-1", kind=OrgKind.BRANCH, parent=second)

    def ours():
        return list(Organization.objects.filter(pk__in=[a.pk, b.pk]).order_by("order_key"))

    assert ours() == [a, b]

    update_organization(org=Organization.objects.get(pk=first.pk), actor=world.staff, sort_order=3)
    assert ours() == [b, a]
    assert Organization.objects.get(pk=a.pk).order_key == order_key_of(
        a, Organization.objects.get(pk=first.pk)
    )

    update_organization(
        org=Organization.objects.get(pk=b.pk), actor=world.staff, parent=Organization.objects.get(pk=first.pk)
    )
    moved = Organization.objects.get(pk=b.pk)
    assert moved.order_key == order_key_of(moved, Organization.objects.get(pk=first.pk))
    assert ours() == [a, b]  # both under the first now, by code


@pytest.mark.django_db
def test_bulk_created_organizations_get_their_keys(world):
    created = create_organizations_bulk(
        [
            {
                "name": "新党委",
                "code": "NP",
                "kind": OrgKind.PARTY_COMMITTEE,
                "parent": world.committee,
                "sort_order": 9,
            },
            {"name": "新支部乙", "code": "NB-2", "kind": OrgKind.BRANCH, "parent_code": "NP"},
            {"name": "新支部甲", "code": "NB-1", "kind": OrgKind.BRANCH, "parent_code": "NP"},
        ]
    )
    for org in Organization.objects.filter(pk__in=[o.pk for o in created]).select_related("parent"):
        assert org.order_key == order_key_of(org, org.parent)
    assert [o.code for o in Organization.objects.filter(code__startswith="NB-").order_by("order_key")] == [
        "NB-1",
        "NB-2",
    ]
