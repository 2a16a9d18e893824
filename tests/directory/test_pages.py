"""The directory's pages: the organization tree, people, roles, search, the audit trail, exports."""

import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from branches.audit import AuditAction
from branches.models import AuditEntry, Organization, OrgKind, RoleAssignment, User
from branches.roles import Role
from reviews.models import AssessmentStatus, CycleStatus
from tests.factories import (
    certify_branch,
    make_assessment,
    make_branch,
    make_cycle,
    make_user,
)

pytestmark = pytest.mark.django_db


def sheet_rows(response):
    # Reading the whole stream closes the response as a WSGI server would (the test client's
    # wrapper); closing it again would fire request_finished and close the database connection.
    content = b"".join(response.streaming_content)
    workbook = load_workbook(io.BytesIO(content))
    return [[cell.value for cell in row] for row in workbook.worksheets[0].iter_rows()]


# ---------------------------------------------------------------------------- the tree


def test_the_tree_counts_branches_and_stars_in_force_up_the_tree(client, world):
    certify_branch(world, world.branch, 5)
    certify_branch(world, world.cousin_branch, 3)
    client.force_login(world.staff)
    response = client.get(reverse("directory:org_tree"))
    assert response.status_code == 200
    nodes = {node.org.code: node for node in response.context["nodes"]}
    assert set(nodes) == {"C1", "P1", "P2"}  # the other committee is not theirs
    assert nodes["C1"].branch_count == 4 and nodes["C1"].star_counts == {5: 1, 3: 1}
    assert nodes["P1"].branch_count == 2 and nodes["P1"].star_counts == {5: 1} and nodes["P1"].unrated == 1
    assert nodes["P2"].star_counts == {3: 1}
    assert [node.level for node in response.context["nodes"]] == [0, 1, 1]


def test_staff_of_a_party_committee_see_only_its_subtree(client, world):
    local = make_user("jiaoyu", roles=((Role.STAFF, world.party_committee),))
    client.force_login(local)
    nodes = client.get(reverse("directory:org_tree")).context["nodes"]
    assert [node.org.code for node in nodes] == ["P1"]
    assert client.get(reverse("directory:org_detail", args=[world.cousin_branch.pk])).status_code == 404
    # C1 is above their subtree: outside their scope.
    assert client.get(reverse("directory:org_detail", args=[world.committee.pk])).status_code == 404


def test_the_tree_search_finds_by_name_or_code_within_scope(client, world):
    client.force_login(world.staff)
    found = client.get(reverse("directory:org_tree"), {"q": "b4"}).context["page"]
    assert [org.code for org in found] == ["B4"]
    found = client.get(reverse("directory:org_tree"), {"q": "第一党支部"}).context["page"]
    assert {org.code for org in found} == {"B1", "B4"}  # not D1 (区第一党支部) of the other committee


def test_an_organizations_page_lists_its_branches_with_the_star_in_force(client, world):
    certify_branch(world, world.branch, 4)
    client.force_login(world.staff)
    page = client.get(reverse("directory:org_detail", args=[world.party_committee.pk])).context["page"]
    assert [(branch.code, branch.star) for branch in page] == [("B1", 4), ("B2", None)]


def test_a_branch_page_in_the_directory_lists_who_holds_roles_on_it(client, world):
    client.force_login(world.staff)
    response = client.get(reverse("directory:org_detail", args=[world.branch.pk]))
    holders = {(a.user.username, a.role) for a in response.context["holders"]}
    assert ("zhangwei", Role.BRANCH_SECRETARY) in holders
    assert ("chenchushen", Role.PARENT_REVIEWER) in holders
    assert ("liuyang", Role.BRANCH_SECRETARY) not in holders


def test_the_reviews_branch_page_shows_people_and_roles_and_links_staff_to_edit(client, world):
    client.force_login(world.staff)
    text = client.get(reverse("reviews:branch_detail", args=[world.branch.pk])).content.decode()
    assert "张伟" in text and reverse("directory:org_edit", args=[world.branch.pk]) in text
    client.force_login(world.secretary)
    text = client.get(reverse("reviews:branch_detail", args=[world.branch.pk])).content.decode()
    assert "张伟" in text and reverse("directory:org_edit", args=[world.branch.pk]) not in text


# ---------------------------------------------------------------------------- create / edit / move


def test_staff_create_a_branch_and_it_is_recorded(client, world):
    client.force_login(world.staff)
    response = client.post(
        reverse("directory:org_create"),
        {
            "name": "新建党支部",
            "code": "B9",
            "kind": OrgKind.BRANCH,
            "parent": world.party_committee.pk,
            "stage": "basic",
            "sort_order": "3",
        },
    )
    assert response.status_code == 302
    org = Organization.objects.get(code="B9")
    assert org.path.startswith(world.party_committee.path)
    assert (
        AuditEntry.objects.filter(action=AuditAction.CREATE, target_id=str(org.pk), actor=world.staff).count()
        == 1
    )


def test_staff_cannot_create_a_working_committee(client, world):
    client.force_login(world.staff)
    response = client.post(
        reverse("directory:org_create"),
        {"name": "新工委", "code": "C9", "kind": OrgKind.COMMITTEE, "sort_order": "0"},
    )
    assert response.status_code == 400
    assert not Organization.objects.filter(code="C9").exists()


def test_a_bad_create_keeps_what_was_typed_and_says_why(client, world):
    client.force_login(world.staff)
    response = client.post(
        reverse("directory:org_create"),
        {
            "name": "重复编码支部",
            "code": "b1",
            "kind": OrgKind.BRANCH,
            "parent": world.party_committee.pk,
            "sort_order": "0",
        },
    )
    assert response.status_code == 400
    assert "重复编码支部" in response.content.decode()
    assert response.context["form"].errors


def test_moving_a_party_committee_rewrites_its_subtree(client, world):
    client.force_login(world.staff)
    response = client.post(
        reverse("directory:org_edit", args=[world.second_party_committee.pk]),
        {
            "name": world.second_party_committee.name,
            "code": "P2",
            "kind": OrgKind.PARTY_COMMITTEE,
            "parent": world.party_committee.pk,
            "sort_order": "0",
        },
    )
    assert response.status_code == 302
    cousin = Organization.objects.get(pk=world.cousin_branch.pk)
    assert cousin.path.startswith(Organization.objects.get(pk=world.party_committee.pk).path)
    assert cousin.depth == 3
    assert AuditEntry.objects.filter(action=AuditAction.MOVE).count() == 1


def test_the_parent_choice_shows_paths_and_never_the_own_subtree(client, world):
    client.force_login(world.staff)
    form = client.get(reverse("directory:org_edit", args=[world.party_committee.pk])).context["form"]
    choices = {label for _value, label in form.fields["parent"].choices}
    assert "市直机关工委" in choices
    assert not any("市教育局机关党委" in label for label in choices)
    assert "市直机关工委 › 市卫健委机关党委" in choices


def test_moving_under_its_own_subtree_is_refused(client, world):
    general = make_branch("x", "X1", parent=world.committee)  # a branch is never a parent choice
    client.force_login(world.staff)
    response = client.post(
        reverse("directory:org_edit", args=[world.party_committee.pk]),
        {
            "name": "市教育局机关党委",
            "code": "P1",
            "kind": OrgKind.PARTY_COMMITTEE,
            "parent": general.pk,
            "sort_order": "0",
        },
    )
    assert response.status_code == 400
    assert Organization.objects.get(pk=world.party_committee.pk).parent_id == world.committee.pk


def test_saving_an_unchanged_form_records_nothing(client, world):
    client.force_login(world.staff)
    before = AuditEntry.objects.count()
    response = client.post(
        reverse("directory:org_edit", args=[world.branch.pk]),
        {
            "name": world.branch.name,
            "code": "B1",
            "kind": OrgKind.BRANCH,
            "parent": world.party_committee.pk,
            "stage": world.branch.stage,
            "sort_order": "0",
        },
    )
    assert response.status_code == 302
    assert AuditEntry.objects.count() == before


# ---------------------------------------------------------------------------- deactivate


def test_deactivating_a_branch_with_an_assessment_in_flight_is_refused_with_the_reason(client, world):
    cycle = make_cycle(world.committee, opened_by=world.approver)
    make_assessment(cycle, world.branch, status=AssessmentStatus.SUBMITTED)
    client.force_login(world.staff)
    before = AuditEntry.objects.count()
    response = client.post(reverse("directory:org_deactivate", args=[world.party_committee.pk]))
    assert response.status_code == 409
    assert "教育局第一党支部" in response.content.decode()
    assert Organization.objects.get(pk=world.branch.pk).is_active
    assert AuditEntry.objects.count() == before


def test_a_final_assessment_or_a_closed_cycle_does_not_block_deactivation(client, world):
    open_cycle = make_cycle(world.committee, opened_by=world.approver)
    make_assessment(open_cycle, world.branch, status=AssessmentStatus.CERTIFIED)
    closed = make_cycle(world.committee, opened_by=world.approver, name="旧", status=CycleStatus.CLOSED)
    make_assessment(closed, world.sibling_branch, status=AssessmentStatus.DRAFT)
    client.force_login(world.staff)
    response = client.post(reverse("directory:org_deactivate", args=[world.party_committee.pk]))
    assert response.status_code == 302
    assert not Organization.objects.filter(
        path__startswith=world.party_committee.path, is_active=True
    ).exists()
    assert AuditEntry.objects.filter(action=AuditAction.DEACTIVATE).count() == 3  # P1, B1, B2


def test_reactivating_needs_an_active_parent(client, world):
    client.force_login(world.staff)
    client.post(reverse("directory:org_deactivate", args=[world.party_committee.pk]))
    assert client.post(reverse("directory:org_reactivate", args=[world.branch.pk])).status_code == 409
    assert (
        client.post(reverse("directory:org_reactivate", args=[world.party_committee.pk])).status_code == 302
    )
    assert Organization.objects.get(pk=world.party_committee.pk).is_active


def test_deactivate_is_a_confirmed_post(client, world):
    client.force_login(world.staff)
    text = client.get(reverse("directory:org_detail", args=[world.branch.pk])).content.decode()
    assert f'action="{reverse("directory:org_deactivate", args=[world.branch.pk])}"' in text
    assert "data-confirm=" in text
    assert client.get(reverse("directory:org_deactivate", args=[world.branch.pk])).status_code == 405


# ---------------------------------------------------------------------------- people


def test_the_people_list_filters_by_text_role_organization_and_state(client, world):
    client.force_login(world.staff)
    url = reverse("directory:person_list")
    names = lambda **q: {p.username for p in client.get(url, q).context["page"]}  # noqa: E731
    assert "zhenggongwei" not in names()  # the other committee's approver
    assert "luren" not in names()  # no role, and no committee's audit trail names them
    assert names(q="张") == {"zhangwei"}
    assert names(role=Role.BRANCH_SECRETARY) == {"zhangwei", "liuyang"}
    assert names(organization=world.party_committee.pk) == {"zhangwei", "liuyang", "chenchushen"}
    world.secretary.is_active = False
    world.secretary.save()
    assert names(active="no") == {"zhangwei"}


def test_creating_a_person_shows_the_one_time_password_once(client, world):
    client.force_login(world.staff)
    response = client.post(reverse("directory:person_create"), {"username": "xinren", "real_name": "新人"})
    person = User.objects.get(username="xinren")
    assert response.status_code == 302 and response.url == reverse(
        "directory:person_detail", args=[person.pk]
    )
    shown = client.get(response.url).context["one_time_password"]
    assert shown and person.check_password(shown) and person.must_change_password
    assert client.get(response.url).context["one_time_password"] is None


def test_a_taken_user_name_is_refused_and_the_form_kept(client, world):
    client.force_login(world.staff)
    response = client.post(reverse("directory:person_create"), {"username": "ZHANGWEI", "real_name": "重名"})
    assert response.status_code == 400
    assert "重名" in response.content.decode()


def test_resetting_a_password_shows_it_once_and_forces_a_change(client, world):
    client.force_login(world.staff)
    response = client.post(reverse("directory:person_reset_password", args=[world.secretary.pk]))
    shown = client.get(response.url).context["one_time_password"]
    secretary = User.objects.get(pk=world.secretary.pk)
    assert secretary.check_password(shown) and secretary.must_change_password


def test_staff_cannot_manage_the_account_of_the_committee_approver(client, world):
    client.force_login(world.staff)
    assert client.get(reverse("directory:person_detail", args=[world.approver.pk])).status_code == 200
    for name in ("directory:person_reset_password", "directory:person_deactivate"):
        assert client.post(reverse(name, args=[world.approver.pk])).status_code == 403
    assert client.get(reverse("directory:person_edit", args=[world.approver.pk])).status_code == 403
    assert User.objects.get(pk=world.approver.pk).is_active


def test_granting_offers_only_what_the_actor_may_grant_and_labels_duplicates(
    client, world, outsider_recorded
):
    make_branch("教育局第一党支部", "B7", parent=world.second_party_committee)
    client.force_login(world.staff)
    form = client.get(reverse("directory:role_grant", args=[world.outsider.pk])).context["form"]
    assert Role.COMMITTEE_APPROVER not in dict(form.fields["role"].choices)
    labels = [label for _value, label in form.fields["organization"].choices]
    assert (
        "教育局第一党支部（市教育局机关党委）" in labels and "教育局第一党支部（市卫健委机关党委）" in labels
    )
    assert not any("区" in label for label in labels)


def test_granting_a_role_through_the_page(client, world, outsider_recorded):
    client.force_login(world.staff)
    response = client.post(
        reverse("directory:role_grant", args=[world.outsider.pk]),
        {"role": Role.BRANCH_SECRETARY, "organization": world.cousin_branch.pk},
    )
    assert response.status_code == 302
    assert RoleAssignment.objects.filter(user=world.outsider, organization=world.cousin_branch).exists()
    assert AuditEntry.objects.filter(action=AuditAction.GRANT_ROLE, actor=world.staff).count() == 1


def test_staff_granting_staff_on_the_committee_gets_the_form_back(client, world, outsider_recorded):
    client.force_login(world.staff)
    response = client.post(
        reverse("directory:role_grant", args=[world.outsider.pk]),
        {"role": Role.STAFF, "organization": world.committee.pk},
    )
    assert response.status_code == 400
    assert not RoleAssignment.objects.filter(user=world.outsider).exists()


def test_nobody_grants_themselves_a_role_through_the_page(client, world):
    client.force_login(world.staff)
    response = client.post(
        reverse("directory:role_grant", args=[world.staff.pk]),
        {"role": Role.PARENT_REVIEWER, "organization": world.party_committee.pk},
    )
    assert response.status_code == 403
    assert not RoleAssignment.objects.filter(user=world.staff, role=Role.PARENT_REVIEWER).exists()


def test_removing_a_role_is_a_confirmed_post_and_recorded(client, world):
    assignment = RoleAssignment.objects.get(user=world.secretary)
    client.force_login(world.staff)
    text = client.get(reverse("directory:person_detail", args=[world.secretary.pk])).content.decode()
    assert reverse("directory:role_revoke", args=[assignment.pk]) in text and "data-confirm" in text
    response = client.post(reverse("directory:role_revoke", args=[assignment.pk]))
    assert response.status_code == 302
    assert not RoleAssignment.objects.filter(pk=assignment.pk).exists()
    assert AuditEntry.objects.filter(action=AuditAction.REVOKE_ROLE).count() == 1


def test_staff_cannot_remove_the_approver_role(client, world):
    assignment = RoleAssignment.objects.get(user=world.approver)
    client.force_login(world.staff)
    assert client.post(reverse("directory:role_revoke", args=[assignment.pk])).status_code == 403
    assert RoleAssignment.objects.filter(pk=assignment.pk).exists()


# ---------------------------------------------------------------------------- the forced change


def test_a_one_time_password_sends_the_person_to_change_it_and_the_change_clears_the_flag(client, world):
    from branches.services.people import reset_password

    one_time = reset_password(actor=world.staff, user=world.secretary)
    signed_in = client.post(reverse("login"), {"username": "zhangwei", "password": one_time})
    assert signed_in.status_code == 302
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response.url == reverse("password_change")
    assert client.get(reverse("password_change")).status_code == 200
    response = client.post(
        reverse("password_change"),
        {
            "old_password": one_time,
            "new_password1": "Another-good-pass-2026",
            "new_password2": "Another-good-pass-2026",
        },
    )
    assert response.status_code == 302
    assert not User.objects.get(pk=world.secretary.pk).must_change_password
    assert client.get(reverse("home")).status_code == 200


def test_signing_out_stays_possible_with_a_one_time_password(client, world):
    from branches.services.people import reset_password

    one_time = reset_password(actor=world.staff, user=world.secretary)
    client.post(reverse("login"), {"username": "zhangwei", "password": one_time})
    assert client.get(reverse("home")).status_code == 302
    response = client.post(reverse("logout"))
    assert response.status_code == 302 and response.url != reverse("password_change")


# ---------------------------------------------------------------------------- search


def test_search_finds_branches_within_scope_for_a_parent_reviewer(client, world):
    client.force_login(world.parent_reviewer)
    found = client.get(reverse("directory:search"), {"q": "党支部"}).context["page"]
    assert {b.code for b in found} == {"B1", "B2"}
    text = client.get(reverse("directory:search"), {"q": "B1"}).content.decode()
    assert reverse("reviews:branch_detail", args=[world.branch.pk]) in text


def test_the_navbar_search_box_is_for_staff_approvers_and_parent_reviewers(client, world):
    for person, shown in (
        (world.staff, True),
        (world.approver, True),
        (world.parent_reviewer, True),
        (world.secretary, False),
        (world.outsider, False),
    ):
        client.force_login(person)
        text = client.get(reverse("home")).content.decode()
        assert ('id="nav-search"' in text) is shown, person.username
    client.force_login(world.secretary)
    assert client.get(reverse("directory:search"), {"q": "B"}).status_code == 403


# ---------------------------------------------------------------------------- the audit trail


def test_the_audit_trail_shows_the_committees_rows_with_from_and_to(client, world):
    from branches.services.organizations import update_organization

    update_organization(org=world.branch, actor=world.staff, name="改名支部")
    update_organization(org=world.other_branch, actor=None, name="外委改名")
    client.force_login(world.staff)
    response = client.get(reverse("directory:audit"), {"action": AuditAction.UPDATE})
    rows = response.context["rows"]
    assert [entry.target_label for entry, *_rest in rows] == ["改名支部"]
    text = response.content.decode()
    assert "教育局第一党支部" in text and "改名支部" in text and "外委改名" not in text


def test_the_audit_trail_filters_by_actor_and_dates(client, world):
    from branches.services.organizations import update_organization

    update_organization(org=world.branch, actor=world.staff, name="改名支部")
    client.force_login(world.staff)
    url = reverse("directory:audit")
    assert len(client.get(url, {"actor": "wudangwu"}).context["rows"]) == 1
    assert len(client.get(url, {"actor": "nobody"}).context["rows"]) == 0
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    assert len(client.get(url, {"actor": "wudangwu", "since": tomorrow}).context["rows"]) == 0


def test_the_audit_trail_is_not_for_other_roles(client, world):
    for person in (
        world.approver,
        world.secretary,
        make_user("pstaff", roles=((Role.STAFF, world.party_committee),)),
    ):
        client.force_login(person)
        assert client.get(reverse("directory:audit")).status_code == 403


# ---------------------------------------------------------------------------- exports


def test_the_branch_export_honours_scope_and_search_and_writes_no_formula(client, world):
    make_branch('=HYPERLINK("http://x","点我")', "B8", parent=world.party_committee)
    certify_branch(world, world.branch, 5)
    client.force_login(world.staff)
    rows = sheet_rows(client.get(reverse("directory:org_export"), {"org": world.party_committee.pk}))
    codes = [row[0] for row in rows[1:]]
    assert sorted(codes) == ["B1", "B2", "B8"]
    b1 = rows[1 + codes.index("B1")]
    assert b1[:3] == ["B1", "教育局第一党支部", "市教育局机关党委"]
    assert "5" in str(b1[4])
    response = client.get(reverse("directory:org_export"), {"q": "B8"})
    # Reading the whole stream closes the response as a WSGI server would (the test client's
    # wrapper); closing it again would fire request_finished and close the database connection.
    content = b"".join(response.streaming_content)
    workbook = load_workbook(io.BytesIO(content))
    for row in workbook.worksheets[0].iter_rows():
        for cell in row:
            assert cell.data_type != "f"


def test_the_people_export_has_a_row_per_role_and_honours_filters(client, world):
    client.force_login(world.staff)
    rows = sheet_rows(client.get(reverse("directory:person_export"), {"role": Role.BRANCH_SECRETARY}))
    assert sorted(row[0] for row in rows[1:]) == ["liuyang", "zhangwei"]


def test_the_audit_export_lists_the_rows_of_the_page(client, world):
    from branches.services.organizations import update_organization

    update_organization(org=world.branch, actor=world.staff, name="改名支部")
    client.force_login(world.staff)
    rows = sheet_rows(client.get(reverse("directory:audit_export"), {"action": AuditAction.UPDATE}))
    assert len(rows) == 2 and rows[1][5] == "改名支部"


def test_a_search_matching_more_than_the_limit_lists_the_first_and_asks_for_more(client, world, monkeypatch):
    from directory.views import search as search_view

    monkeypatch.setattr(search_view, "SEARCH_LIMIT", 2)
    client.force_login(world.staff)
    response = client.get(reverse("directory:search"), {"q": "党支部"})  # the four branches of C1
    page = response.context["page"]
    assert response.context["more"] and page.paginator.count == 2 and len(page.object_list) == 2
    assert "仅列出前 2 个" in response.content.decode()
    # In list order (under the parent, both by sort number and code), parents read with the page.
    assert [b.code for b in page] == ["B3", "B1"] and [b.parent.code for b in page] == ["C1", "P1"]
    narrow = client.get(reverse("directory:search"), {"q": "第一党支部"})
    assert not narrow.context["more"] and "仅列出" not in narrow.content.decode()
