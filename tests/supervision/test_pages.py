"""The pages of supervision: home sections, lists, forms, exports, query counts."""

import datetime
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from branches.models import BranchStage, StageChange
from branches.roles import Role
from supervision.models import ApplicationStatus, LiaisonAssignment, StageApplication, SupervisionVisit
from tests.factories import make_sized_committee, make_user

from .helpers import PNG, liaise, photo, visit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(private_media):
    return private_media


def test_a_liaison_branch_without_a_visit_shows_on_the_members_home_and_leaves_after_a_visit(client, world):
    reviewer = world.reviewers[0]
    liaise(world, reviewer, world.branch, world.sibling_branch)
    client.force_login(reviewer)
    home = client.get(reverse("home"))
    section = home.context["sections"]["supervision"]
    assert [row.branch for row in section.unvisited] == [world.branch, world.sibling_branch]
    assert world.branch.name in home.content.decode()
    visit(world, branch=world.branch)
    section = client.get(reverse("home")).context["sections"]["supervision"]
    assert [row.branch for row in section.unvisited] == [world.sibling_branch]
    visit(world, branch=world.sibling_branch)
    page = client.get(reverse("home"))
    assert page.context["sections"]["supervision"].unvisited == []
    assert "liaison-all-visited" in page.content.decode()


def test_the_committees_coverage_shows_on_the_approvers_home(client, world):
    liaise(world, world.reviewers[0], world.branch, world.sibling_branch)
    visit(world, branch=world.branch)
    client.force_login(world.approver)
    (coverage,) = client.get(reverse("home")).context["sections"]["supervision"].coverage
    assert (coverage.committee, coverage.visited, coverage.liaison_branches) == (world.committee, 1, 2)


def test_a_visit_is_recorded_through_the_form_with_a_photo(client, world):
    client.force_login(world.reviewers[0])
    url = reverse("supervision:visit_new") + f"?branch={world.branch.pk}"
    assert client.get(url).context["form"].initial["branch"] == world.branch.pk
    response = client.post(
        url,
        {
            "branch": world.branch.pk,
            "visited_on": datetime.date.today().isoformat(),
            "members": [world.reviewers[0].pk, world.approver.pk],
            "others": "党委组织委员",
            "checked": "查阅“三会一课”记录",
            "findings": "记录不全",
            "photos": [photo()],
        },
    )
    made = SupervisionVisit.objects.get()
    assert response.status_code == 302 and response.url == reverse("supervision:visit_detail", args=[made.pk])
    assert set(made.members.all()) == {world.reviewers[0], world.approver}
    photo_url = reverse("supervision:visit_photo", args=[made.photos.get().pk])
    client.force_login(world.secretary)  # the branch reads its visits
    assert photo_url in client.get(response.url).content.decode()
    download = client.get(photo_url)
    assert b"".join(download.streaming_content) == PNG and download["Content-Type"] == "image/png"
    # Shown on its own, only the image and the browser's own styling of it are allowed.
    policy = download["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy


def test_a_refused_visit_form_keeps_what_was_typed(client, world):
    client.force_login(world.reviewers[0])
    response = client.post(
        reverse("supervision:visit_new"),
        {
            "branch": world.branch.pk,
            "visited_on": "2999-01-01",
            "members": [world.reviewers[0].pk],
            "checked": "查阅党费收缴台账",
        },
    )
    assert response.status_code == 400
    assert "查阅党费收缴台账" in response.content.decode()
    assert not SupervisionVisit.objects.exists()


def test_the_visit_list_filters_and_exports(client, world):
    visit(world, on=datetime.date(2025, 2, 1))
    recent = visit(world, by=world.approver, branch=world.sibling_branch, findings='=HYPERLINK("x")')
    client.force_login(world.staff)
    listed = client.get(reverse("supervision:visit_list"), {"year": recent.year, "quarter": recent.quarter})
    assert [v.pk for v in listed.context["page"]] == [recent.pk]
    by_member = client.get(reverse("supervision:visit_list"), {"member": world.approver.pk})
    assert [v.pk for v in by_member.context["page"]] == [recent.pk]
    by_branch = client.get(reverse("supervision:visit_list"), {"branch": world.branch.pk})
    assert by_branch.context["page"].paginator.count == 1
    export = client.get(reverse("supervision:visit_list_export"), {"member": world.approver.pk})
    sheet = load_workbook(io.BytesIO(b"".join(export.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][2] == world.sibling_branch.name
    assert rows[1][7] == '=HYPERLINK("x")' and sheet.cell(2, 8).data_type == "s"  # data, not a formula


def test_the_visit_list_names_only_visits_in_scope(client, world):
    visit(world, branch=world.branch)
    visit(world, branch=world.sibling_branch)
    client.force_login(world.secretary)
    assert client.get(reverse("supervision:visit_list")).context["page"].paginator.count == 1
    client.force_login(world.other_approver)
    assert client.get(reverse("supervision:visit_list")).context["page"].paginator.count == 0


def _visits(sized, count, member):
    for index in range(count):
        visit_row = SupervisionVisit.objects.create(
            committee=sized.committee,
            branch=sized.branches[index % len(sized.branches)],
            visited_on=datetime.date(2026, 1, 1) + datetime.timedelta(days=index % 300),
            checked="查阅记录",
            findings="发现问题",
            recorded_by=member,
        )
        visit_row.members.set([member])


def test_the_visit_list_asks_as_many_queries_for_200_visits_as_for_10(client, django_assert_num_queries):
    counts = []
    for prefix, size in (("S", 10), ("L", 200)):
        sized = make_sized_committee(prefix, 20, party_committees=2)
        member = make_user(f"{prefix}-staff", roles=((Role.STAFF, sized.committee),))
        _visits(sized, size, member)
        client.force_login(member)
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse("supervision:visit_list"))
        assert response.status_code == 200
        assert response.context["page"].paginator.count == size
        counts.append(len(captured))
    assert counts[0] == counts[1], counts
    with django_assert_num_queries(counts[1]):
        client.get(reverse("supervision:visit_list"))


def test_a_manager_gives_several_branches_through_the_page_and_removes_one(client, world):
    client.force_login(world.staff)
    page = client.get(reverse("supervision:liaison_assign"), {"parent": world.party_committee.pk})
    assert {b.pk for b in page.context["form"].fields["branches"].queryset} == {
        world.branch.pk,
        world.sibling_branch.pk,
    }
    response = client.post(
        reverse("supervision:liaison_assign"),
        {
            "committee": world.committee.pk,
            "member": world.reviewers[1].pk,
            "branches": [world.branch.pk, world.sibling_branch.pk],
        },
    )
    assert response.status_code == 302
    assert LiaisonAssignment.objects.filter(member=world.reviewers[1]).count() == 2
    listed = client.get(reverse("supervision:liaison_list"), {"member": world.reviewers[1].pk})
    assert listed.context["page"].paginator.count == 2
    row = LiaisonAssignment.objects.get(branch=world.branch)
    assert client.get(reverse("supervision:liaison_remove", args=[row.pk])).status_code == 200
    assert client.post(reverse("supervision:liaison_remove", args=[row.pk])).status_code == 302
    assert LiaisonAssignment.objects.filter(member=world.reviewers[1]).count() == 1


def test_a_member_sees_their_own_liaison_branches_but_cannot_manage_them(client, world):
    (row,) = liaise(world, world.reviewers[0], world.branch)
    liaise(world, world.reviewers[1], world.sibling_branch)
    client.force_login(world.reviewers[0])
    page = client.get(reverse("supervision:liaison_list"))
    assert [r.pk for r in page.context["page"]] == [row.pk] and not page.context["can_manage"]
    assert client.get(reverse("supervision:liaison_assign")).status_code == 403
    assert client.post(reverse("supervision:liaison_remove", args=[row.pk])).status_code == 403


def test_a_stage_application_through_the_pages(client, world):
    client.force_login(world.secretary)
    response = client.post(
        reverse("supervision:stage_apply"),
        {"branch": world.branch.pk, "name": "红色课堂", "description": "每月一次", "files": []},
    )
    application = StageApplication.objects.get()
    assert response.status_code == 302
    client.force_login(world.approver)
    listed = client.get(reverse("supervision:stage_list"))
    assert [a.pk for a in listed.context["page"]] == [application.pk]
    assert client.get(reverse("home")).context["sections"]["supervision"].pending_applications == 1
    decided = client.post(
        reverse("supervision:stage_decide", args=[application.pk]), {"decision": "approve", "reason": "同意"}
    )
    assert decided.status_code == 302
    application.refresh_from_db()
    world.branch.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED and world.branch.stage == BranchStage.DISTINCTIVE
    assert StageChange.objects.filter(branch=world.branch).count() == 1
    branch_page = client.get(reverse("reviews:branch_detail", args=[world.branch.pk]))
    assert any(entry.kind == "stage" for entry in branch_page.context["timeline"])
    # Deciding again: the state refuses it.
    again = client.post(
        reverse("supervision:stage_decide", args=[application.pk]), {"decision": "reject", "reason": "改判"}
    )
    assert again.status_code == 409


def test_a_second_application_in_a_decided_year_shows_the_message_on_the_form(client, world, english):
    from supervision.services.stages import decide_stage_application, submit_stage_application

    application = submit_stage_application(
        branch=world.branch, actor=world.secretary, name="品牌", description="说明"
    )
    decide_stage_application(application=application, actor=world.approver, approve=False, reason="材料不足")
    client.force_login(world.secretary)
    response = client.post(
        reverse("supervision:stage_apply"),
        {"branch": world.branch.pk, "name": "再次申请", "description": "补充"},
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "once a year" in text and "再次申请" in text


def test_the_stage_list_puts_pending_applications_first(world):
    from supervision.selectors import application_list_for
    from supervision.services.stages import decide_stage_application, submit_stage_application

    first = submit_stage_application(
        branch=world.branch, actor=world.secretary, name="甲", description="说明"
    )
    decide_stage_application(application=first, actor=world.approver, approve=False, reason="材料不足")
    pending = submit_stage_application(
        branch=world.sibling_branch, actor=world.sibling_secretary, name="乙", description="说明"
    )
    assert next(a.pk for a in application_list_for(world.approver)) == pending.pk


def test_the_supervision_section_of_the_home_page_asks_as_many_queries_at_any_size():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from supervision.selectors import supervision_home_for
    from supervision.services.liaisons import assign_liaisons

    counts = []
    for prefix, size in (("S", 12), ("L", 60)):
        sized = make_sized_committee(prefix, size, party_committees=3)
        approver = make_user(f"{prefix}-approver", roles=((Role.COMMITTEE_APPROVER, sized.committee),))
        assign_liaisons(committee=sized.committee, member=approver, branches=sized.branches, actor=approver)
        _visits(sized, size // 2, approver)
        approver = type(approver).objects.get(pk=approver.pk)  # a fresh request's user
        with CaptureQueriesContext(connection) as captured:
            home = supervision_home_for(approver)
        assert home.liaison_count == size and home.coverage[0].liaison_branches == size
        counts.append(len(captured))
    assert counts[0] == counts[1], counts


def test_the_liaison_form_says_which_branches_the_member_already_has(client, world, english):
    liaise(world, world.reviewers[0], world.branch)
    client.force_login(world.staff)
    page = client.get(reverse("supervision:liaison_assign"), {"member": world.reviewers[0].pk})
    assert page.context["form"].initial["member"] == world.reviewers[0].pk
    assert "already has 1 liaison branch" in page.content.decode()


def test_the_home_section_reads_in_english_too(client, world, english):
    liaise(world, world.reviewers[0], world.branch)
    client.force_login(world.reviewers[0])
    text = client.get(reverse("home")).content.decode()
    assert "1 of your liaison branches has no visit in Q" in text
