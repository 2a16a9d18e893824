"""The dashboard's numbers against the database, its scope, its links and its query counts."""

import datetime

import pytest
from django.db.models import Count, Q
from django.urls import reverse

from branches.models import Organization, OrgKind
from rectification.models import RUNNING, RectificationTask, TaskStatus
from reports.figures import dashboard_figures
from reviews.models import Assessment, Certificate, CertificateStatus
from supervision.models import LiaisonAssignment, SupervisionVisit
from tests.reports.dashboard.dash_world import TODAY

pytestmark = pytest.mark.django_db


def certified_in_force(scope: Organization) -> dict[int, int]:
    """Stars → branches, straight from the certificates in force today."""
    return dict(
        Certificate.objects.filter(
            branch__path__startswith=scope.path,
            branch__is_active=True,
            status=CertificateStatus.VALID,
            valid_until__gte=TODAY,
        )
        .values_list("stars")
        .annotate(n=Count("pk"))
    )


def test_the_stars_per_party_committee_are_the_certificates_in_force(dash):
    w = dash.world
    data = dashboard_figures(scope=w.committee, today=TODAY)
    in_force = certified_in_force(w.committee)
    totals = data["stars"]["totals"]
    assert totals["counts"] == [in_force.get(n, 0) for n in (5, 4, 3, 2, 1)]
    assert (
        totals["branches"]
        == Organization.objects.filter(
            path__startswith=w.committee.path, kind=OrgKind.BRANCH, is_active=True
        ).count()
    )
    by_unit = {row["name"]: row for row in data["stars"]["rows"]}
    p1 = certified_in_force(w.party_committee)
    assert by_unit[w.party_committee.name]["counts"] == [p1.get(n, 0) for n in (5, 4, 3, 2, 1)]
    assert by_unit[w.second_party_committee.name]["five_star"] == 1
    # The branch directly under the committee forms its own group, listed last, unrated.
    assert data["stars"]["rows"][-1]["unit"] is None
    assert data["stars"]["rows"][-1]["unrated"] == 1
    assert totals["five_star_percent"] == "50.0"  # B1 and B4 of four branches


def test_the_stage_distribution_is_the_branches_stages(dash):
    w = dash.world
    data = dashboard_figures(scope=w.committee, today=TODAY)
    stages = dict(
        Organization.objects.filter(path__startswith=w.committee.path, kind=OrgKind.BRANCH, is_active=True)
        .values_list("stage")
        .annotate(n=Count("pk"))
    )
    assert data["stages"]["totals"]["counts"] == [stages.get(s, 0) for s in ("basic", "distinctive", "model")]
    assert data["stage_changes"]["total"] == 2


def test_rectification_open_and_overdue_are_the_tasks_of_the_committee(dash):
    w = dash.world
    data = dashboard_figures(scope=w.committee, today=TODAY)["rectification"]
    tasks = RectificationTask.objects.filter(branch__path__startswith=w.committee.path)
    assert data["totals"]["open"] == tasks.filter(status__in=RUNNING).count() == 2
    assert data["totals"]["overdue"] == tasks.filter(status__in=RUNNING, deadline__lt=TODAY).count() == 1
    assert data["totals"]["closed"] == tasks.filter(status=TaskStatus.ACCEPTED).count() == 1
    assert data["totals"]["opened"] == 3
    assert [row["branch"] for row in data["overdue_rows"]] == [w.branch.name]
    assert data["overdue_rows"][0]["days_overdue"] == (TODAY - datetime.date(2026, 11, 30)).days


def test_supervision_coverage_is_visited_liaison_branches_over_all(dash):
    w = dash.world
    data = dashboard_figures(scope=w.committee, today=TODAY)["supervision"]
    liaison = set(LiaisonAssignment.objects.filter(committee=w.committee).values_list("branch_id", flat=True))
    visited = set(
        SupervisionVisit.objects.filter(committee=w.committee, year=2026, quarter=4).values_list(
            "branch_id", flat=True
        )
    )
    assert data["liaison_branches"] == len(liaison) == 2
    assert data["visited"] == len(liaison & visited) == 1
    assert data["percent"] == "50.0"


def test_the_funnel_counts_the_cycles_assessments(dash):
    w = dash.world
    funnel = dashboard_figures(scope=w.committee, today=TODAY)["funnel"]
    counts = {stage["status"]: stage["count"] for stage in funnel["stages"]}
    assert counts["certified"] == Assessment.objects.filter(cycle=dash.cycle, status="certified").count() == 3
    assert counts["not_started"] == 1
    assert funnel["total"] == Assessment.objects.filter(cycle=dash.cycle).count()


def test_a_party_committees_dashboard_counts_only_its_subtree(dash):
    w = dash.world
    data = dashboard_figures(scope=w.party_committee, today=TODAY)
    assert data["stars"]["totals"]["branches"] == 2
    assert data["stars"]["totals"]["counts"] == [1, 1, 0, 0, 0]
    assert data["rectification"]["totals"] == {"opened": 2, "closed": 0, "open": 2, "overdue": 1}
    assert data["supervision"]["liaison_branches"] == 1
    assert data["funnel"]["total"] == 2
    # Its groups are its branches, directly under it.
    assert [row["unit"] for row in data["stars"]["rows"]] == [None]


def test_the_page_shows_the_numbers_and_links_each_chart_to_its_list(client, dash):
    w = dash.world
    client.force_login(w.approver)
    response = client.get(reverse("reports:dashboard", args=[w.committee.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="kpi-branches">4<' in html
    assert 'id="kpi-five-star">50.0%<' in html
    assert 'id="kpi-rect-open">2<' in html
    branches = reverse("reports:dashboard_branches", args=[w.committee.pk])
    assert f'href="{branches}?unit={w.party_committee.pk}&amp;stars=5"' in html
    assert f'href="{branches}?stars=5"' in html
    assert reverse("reviews:cycle_detail", args=[dash.cycle.pk]) + "?status=certified" in html
    assert reverse("rectification:task_list") + "?state=active&amp;overdue=1" in html
    assert reverse("supervision:visit_list") + "?year=2026&amp;quarter=4" in html


def test_the_branch_list_behind_a_bar_holds_the_bars_branches(client, dash):
    w = dash.world
    client.force_login(w.staff)
    url = reverse("reports:dashboard_branches", args=[w.committee.pk])
    response = client.get(url, {"unit": w.party_committee.pk, "stars": "5"})
    assert response.status_code == 200
    assert [row["name"] for row in response.context["page"].object_list] == [w.branch.name]
    everything = client.get(url, {"stars": "5"}).context["page"].object_list
    assert {row["name"] for row in everything} == {w.branch.name, w.cousin_branch.name}
    assert len(everything) == certified_in_force(w.committee)[5]
    unrated = client.get(url, {"unit": "direct", "stars": "unrated"}).context["page"].object_list
    assert [row["name"] for row in unrated] == [w.branch_under_committee.name]
    model = client.get(url, {"stage": "model"}).context["page"].object_list
    assert [row["name"] for row in model] == [w.cousin_branch.name]


@pytest.mark.parametrize(
    ("who", "scope", "expected"),
    [
        ("approver", "C1", 200),
        ("staff", "C1", 200),
        ("approver", "P1", 200),
        ("parent_reviewer", "P1", 200),
        ("parent_reviewer", "P2", 404),  # another party committee's subtree
        ("parent_reviewer", "C1", 404),  # above the reviewer's own subtree
        ("reviewer1", "C1", 403),  # a team reviewer: in scope, role too low
        ("secretary", "B1", 404),  # a branch has no dashboard
        ("secretary", "P1", 404),
        ("other_approver", "C1", 404),  # another committee
        ("other_approver", "C2", 200),
        ("outsider", "C1", 404),
    ],
)
def test_who_may_open_which_dashboard(client, dash, who, scope, expected):
    w = dash.world
    orgs = {**w.organizations}
    client.force_login(w.people[who])
    for name in ("reports:dashboard", "reports:dashboard_branches", "reports:dashboard_screen"):
        assert client.get(reverse(name, args=[orgs[scope].pk])).status_code == expected, name


def test_the_dashboard_entry_sends_each_role_to_its_own_dashboard(client, dash):
    w = dash.world
    entry = reverse("reports:dashboard_home")
    for who, scope in (("approver", w.committee), ("parent_reviewer", w.party_committee)):
        client.force_login(w.people[who])
        response = client.get(entry)
        assert response.status_code == 302
        assert response["Location"] == reverse("reports:dashboard", args=[scope.pk])
    for who in ("secretary", "reviewer1", "outsider"):
        client.force_login(w.people[who])
        assert client.get(entry).status_code == 403


def test_a_parent_reviewer_sees_only_the_subtree_on_the_page(client, dash):
    w = dash.world
    client.force_login(w.parent_reviewer)
    html = client.get(reverse("reports:dashboard", args=[w.party_committee.pk])).content.decode()
    assert w.cousin_branch.name not in html and w.second_party_committee.name not in html
    assert 'id="kpi-branches">2<' in html


def test_the_screen_refreshes_itself_and_has_no_script(client, dash):
    w = dash.world
    client.force_login(w.approver)
    html = client.get(reverse("reports:dashboard_screen", args=[w.committee.pk])).content.decode()
    assert '<meta http-equiv="refresh" content="300">' in html
    assert "<script" not in html
    assert 'class="dash-screen"' in html


def test_no_counted_row_is_another_committees(dash):
    """D1's task and certificate (C2) are in the database, never in C1's figures."""
    w = dash.world
    assert RectificationTask.objects.filter(Q(branch=w.other_branch)).exists()
    data = dashboard_figures(scope=w.committee, today=TODAY)
    assert w.other_branch.name not in str(data)


def test_the_export_holds_the_lists_rows_under_its_filters(client, dash):
    import io

    import openpyxl

    w = dash.world
    client.force_login(w.staff)
    url = reverse("reports:dashboard_branches_export", args=[w.committee.pk])
    response = client.get(url, {"stars": "5"})
    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(workbook.active.iter_rows(min_row=2, values_only=True))
    assert sorted(row[0] for row in rows) == sorted([w.branch.name, w.cousin_branch.name])
    assert {row[3] for row in rows} == {"5 星"}
