"""Every way a branch's stage changes leaves a StageChange: the service, an edit, the import, the admin."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from branches import timeline
from branches.models import BranchStage, StageChange
from branches.services.organizations import change_stage, update_organization
from branches.spreadsheets import Sheet, write_workbook
from directory.imports import apply_import_plan, plan_import_file
from directory.imports.workbook import ORG_HEADERS, PEOPLE_HEADERS

pytestmark = pytest.mark.django_db


def test_change_stage_writes_the_stage_and_a_stage_change(world):
    change = change_stage(
        branch=world.branch, to_stage=BranchStage.DISTINCTIVE, actor=world.approver, reason="特色亮点突出"
    )
    world.branch.refresh_from_db()
    assert world.branch.stage == BranchStage.DISTINCTIVE
    assert (change.from_stage, change.to_stage, change.actor, change.reason) == (
        BranchStage.BASIC,
        BranchStage.DISTINCTIVE,
        world.approver,
        "特色亮点突出",
    )


def test_change_stage_to_the_same_stage_writes_nothing(world):
    assert (
        change_stage(branch=world.branch, to_stage=BranchStage.BASIC, actor=world.approver, reason="") is None
    )
    assert not StageChange.objects.exists()


def test_change_stage_refuses_a_party_committee(world):
    with pytest.raises(ValidationError):
        change_stage(
            branch=world.party_committee, to_stage=BranchStage.MODEL, actor=world.approver, reason=""
        )


def test_an_edit_of_the_stage_leaves_a_stage_change_and_other_edits_none(world):
    update_organization(org=world.branch, actor=world.staff, name="教育局第一党支部（新）")
    assert not StageChange.objects.exists()
    update_organization(org=world.branch, actor=world.staff, stage=BranchStage.MODEL)
    change = StageChange.objects.get()
    assert (change.branch, change.from_stage, change.to_stage, change.actor) == (
        world.branch,
        BranchStage.BASIC,
        BranchStage.MODEL,
        world.staff,
    )


def test_the_stage_change_shows_on_the_branch_timeline(world):
    change_stage(
        branch=world.branch, to_stage=BranchStage.DISTINCTIVE, actor=world.approver, reason="经研究同意"
    )
    entries = [entry for entry in timeline.entries_for(world.branch, world.approver) if entry.kind == "stage"]
    assert len(entries) == 1 and entries[0].detail == "经研究同意"


def test_the_import_writes_the_changed_stages_in_bulk(world, tmp_path):
    path = tmp_path / "org.xlsx"
    rows = [
        ["C1", "市直机关工委", "工委", "", "", 0],
        ["P1", "市教育局机关党委", "党委", "C1", "", 0],
        ["B1", "教育局第一党支部", "党支部", "P1", "特色", 0],
        ["B2", "教育局第二党支部", "党支部", "P1", "示范", 0],
    ]
    write_workbook([Sheet("组织", list(ORG_HEADERS), rows), Sheet("人员", list(PEOPLE_HEADERS), [])], path)
    plan = plan_import_file(path, actor=world.staff)
    assert not plan.has_errors, [row.errors for row in plan.rows if row.errors]
    apply_import_plan(plan, actor=world.staff, file_name="org.xlsx")
    changes = {(c.branch.code, c.from_stage, c.to_stage, c.actor_id) for c in StageChange.objects.all()}
    assert changes == {
        ("B1", BranchStage.BASIC, BranchStage.DISTINCTIVE, world.staff.pk),
        ("B2", BranchStage.BASIC, BranchStage.MODEL, world.staff.pk),
    }
    # The same file again changes nothing and writes no stage change.
    apply_import_plan(plan_import_file(path, actor=world.staff), actor=world.staff, file_name="org.xlsx")
    assert StageChange.objects.count() == 2


def test_the_admin_writes_a_stage_change(client, world):
    from branches.models import User

    admin = User.objects.create_superuser("root", password="x")
    client.force_login(admin)
    branch = world.branch
    response = client.post(
        reverse("admin:branches_organization_change", args=[branch.pk]),
        {
            "name": branch.name,
            "code": branch.code,
            "sort_order": 0,
            "kind": "branch",
            "parent": branch.parent_id,
            "stage": BranchStage.DISTINCTIVE,
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    change = StageChange.objects.get()
    assert (change.from_stage, change.to_stage, change.actor) == (
        BranchStage.BASIC,
        BranchStage.DISTINCTIVE,
        admin,
    )
