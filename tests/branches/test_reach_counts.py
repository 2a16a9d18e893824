"""The branches each role reaches (home page): counted once, kept until the tree changes."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from branches.models import OrgKind
from branches.selectors import reach_counts, roles_with_reach
from branches.services.organizations import create_organization, create_organizations_bulk


def branches_under(org) -> int:
    return type(org).objects.filter(kind=OrgKind.BRANCH, path__startswith=org.path).count()


@pytest.mark.django_db
def test_counts_are_counted_once_then_kept_and_recounted_after_a_change(
    world, django_capture_on_commit_callbacks
):
    committee, party = world.committee, world.branch.parent
    roots = [(committee.pk, committee.path), (party.pk, party.path)]
    first = reach_counts(roots)
    assert first == {committee.pk: branches_under(committee), party.pk: branches_under(party)}
    with CaptureQueriesContext(connection) as queries:
        assert reach_counts(roots) == first
    assert len(queries) == 0

    with django_capture_on_commit_callbacks(execute=True):
        create_organization(name="新支部", code="NEW-B", kind=OrgKind.BRANCH, parent=party)
    assert reach_counts(roots) == {committee.pk: first[committee.pk] + 1, party.pk: first[party.pk] + 1}

    with django_capture_on_commit_callbacks(execute=True):
        create_organizations_bulk(
            [
                {"name": f"批量支部{n}", "code": f"BULK-{n}", "kind": OrgKind.BRANCH, "parent": party}
                for n in range(3)
            ]
        )
    assert reach_counts(roots)[committee.pk] == first[committee.pk] + 4


@pytest.mark.django_db
def test_the_home_page_roles_carry_the_counts(world):
    rows = {row.organization_id: row.branch_count for row in roles_with_reach(world.staff)}
    assert rows == {world.committee.pk: branches_under(world.committee)}
    parent = world.branch.parent
    assert {row.organization_id: row.branch_count for row in roles_with_reach(world.parent_reviewer)} == {
        parent.pk: branches_under(parent)
    }
    assert branches_under(parent) < branches_under(world.committee)  # the two counts differ
