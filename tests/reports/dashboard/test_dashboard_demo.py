"""The demo fills every chart of the dashboard (the committee's and a party committee's)."""

import io

import pytest
from django.core.management import call_command

from branches.demo import COMMITTEE_CODE
from branches.models import Organization, RoleAssignment
from branches.roles import Role
from reports.figures import dashboard_figures


@pytest.mark.django_db
def test_every_chart_of_the_demo_dashboards_has_something_to_show(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    call_command("load_demo", stdout=io.StringIO())
    committee = Organization.objects.get(code=COMMITTEE_CODE)
    data = dashboard_figures(scope=committee)
    assert data["stars"]["totals"]["rated"] > 0
    assert len(data["stars"]["rows"]) >= 4  # one bar per party committee
    assert any(point["five_star"] for point in data["trend"])
    assert sum(data["stages"]["totals"]["counts"][1:]) > 0  # distinctive or model branches
    assert data["funnel"] and data["funnel"]["total"] > 0
    assert data["check"] and data["check"]["top"] and (data["check"]["up"] or data["check"]["down"])
    assert data["rectification"]["totals"]["open"] > 0 and data["rectification"]["totals"]["overdue"] > 0
    assert 0 < data["supervision"]["visited"] < data["supervision"]["liaison_branches"]
    # The demo's preliminary reviewer (chushen) has a dashboard of its party committee with rows.
    unit = RoleAssignment.objects.get(user__username="chushen", role=Role.PARENT_REVIEWER).organization
    scoped = dashboard_figures(scope=unit)
    assert 0 < scoped["stars"]["totals"]["branches"] < data["stars"]["totals"]["branches"]
