"""The Excel import of organizations and people: the file, the plan of every row, the command.

The site's pages over the same import are in test_import_views.py.
"""

import io
import zipfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation
from openpyxl import load_workbook

from branches.audit import AuditAction
from branches.models import AuditEntry, BranchStage, Organization, OrgKind, RoleAssignment, User
from branches.roles import Role
from branches.services.organizations import create_organization
from branches.spreadsheets import Sheet, write_workbook
from directory.imports import (
    ImportAction,
    ImportRefused,
    apply_import_plan,
    plan_import_file,
    read_import_workbook,
)
from directory.imports import workbook as import_workbook
from directory.imports.samples import write_generated_committee
from directory.imports.workbook import ORG_HEADERS, PEOPLE_HEADERS, ImportFileError
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def write_file(
    path: Path, organizations=(), people=(), *, org_headers=ORG_HEADERS, people_headers=PEOPLE_HEADERS
):
    write_workbook(
        [
            Sheet("组织", list(org_headers), list(organizations)),
            Sheet("人员", list(people_headers), list(people)),
        ],
        path,
    )
    return path


def run_import(path, *args):
    """The command's output, errors and whether it failed, in English."""
    out, err = io.StringIO(), io.StringIO()
    failed = None
    with translation.override("en"):
        try:
            call_command("import_org", str(path), *args, stdout=out, stderr=err)
        except CommandError as error:
            failed = str(error)
    return out.getvalue(), err.getvalue(), failed


def plan_of(path, actor=None):
    with translation.override("en"):
        return plan_import_file(path, actor=actor)


def row(plan, sheet, number):
    return next(r for r in plan.rows if r.sheet == sheet and r.number == number)


def snapshot():
    return (
        Organization.objects.count(),
        User.objects.count(),
        RoleAssignment.objects.count(),
        AuditEntry.objects.count(),
    )


# ---------------------------------------------------------------------------- a whole committee


@pytest.fixture(scope="module")
def committee_file(tmp_path_factory):
    """A generated committee: 830 branches in 8 party committees, 1,000 people (built once)."""
    path = tmp_path_factory.mktemp("import") / "committee.xlsx"
    write_generated_committee(path, prefix="S", branches=830, party_committees=8, people=1000)
    return path


def test_the_command_imports_a_generated_committee_and_a_second_run_changes_nothing(committee_file, tmp_path):
    passwords = tmp_path / "passwords.xlsx"
    out, err, failed = run_import(committee_file, "--passwords", str(passwords))

    assert failed is None and err == ""
    committee = Organization.objects.get(code="SGW")
    tree = Organization.objects.filter(path__startswith=committee.path)
    assert tree.filter(kind=OrgKind.BRANCH).count() == 830
    assert tree.filter(kind=OrgKind.PARTY_COMMITTEE).count() == 8
    assert set(tree.filter(kind=OrgKind.BRANCH).values_list("parent__kind", flat=True)) == {
        OrgKind.PARTY_COMMITTEE
    }
    people = User.objects.filter(username__startswith="suser")
    assert people.count() == 1000 and not people.filter(must_change_password=False).exists()
    assert RoleAssignment.objects.filter(user__in=people).count() == 1008
    assert "839 new, 0 updated, 0 unchanged, 0 errors" in out
    assert "1000 new accounts, 1008 roles to grant" in out
    # The passwords file: one row per new person, and each password signs that person in.
    sheet = load_workbook(passwords, read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 1000
    username, _name, password = rows[0]
    assert User.objects.get(username=username).check_password(password)
    audit_rows = AuditEntry.objects.count()

    again, err, failed = run_import(committee_file)

    assert failed is None and err == ""
    assert "0 new, 0 updated, 839 unchanged, 0 errors" in again
    assert "0 new, 0 updated, 1008 unchanged, 0 errors" in again
    assert "Nothing to change" in again
    assert AuditEntry.objects.count() == audit_rows


# ---------------------------------------------------------------------------- the template


def test_the_template_has_both_sheets_with_their_headers_an_example_and_notes(tmp_path):
    path = tmp_path / "template.xlsx"
    with translation.override("en"):
        call_command("import_org", "--template", str(path), stdout=io.StringIO())
    book = load_workbook(path, read_only=True)
    assert book.sheetnames == ["组织", "人员", "说明"]
    orgs, people, notes = (list(book[name].iter_rows(values_only=True)) for name in book.sheetnames)
    assert orgs[0] == ORG_HEADERS and len(orgs) == 2
    assert people[0] == PEOPLE_HEADERS and len(people) == 2
    explained = {(sheet, column) for sheet, column, *_rest in notes[1:]}
    assert {("组织", header) for header in ORG_HEADERS} | {
        ("人员", header) for header in PEOPLE_HEADERS
    } <= explained
    assert read_import_workbook(path).people.rows[0][1][PEOPLE_HEADERS.index("角色")] == "支部书记"


# ---------------------------------------------------------------------------- rows and their errors


BAD_ORGANIZATIONS = [
    ["X1", "未知上级党支部", "党支部", "NOPE", "", ""],  # row 2: unknown parent
    ["P1", "重复编码党委", "党委", "C1", "", ""],  # row 3: P1 is the world's own: an update, fine
    ["X2", "甲党支部", "党支部", "P1", "", ""],  # row 4
    ["X2", "乙党支部", "党支部", "P1", "", ""],  # row 5: duplicate code
    ["X3", "类型错误", "支部", "P1", "", ""],  # row 6: unknown kind
    ["X4", "阶段错误", "党支部", "P1", "高级", ""],  # row 7: unknown stage
    ["X5", "支部下的支部", "党支部", "B1", "", ""],  # row 8: a branch under a branch
    ["X6", "排序错误", "党支部", "P1", "", "第一"],  # row 9: order not a number
]
BAD_PEOPLE = [
    ["newbie", "新人", "138-0000", "newbie@example.cn", "书记", "B1"],  # row 2: unknown role
    ["newbie2", "新人二", "电话", "", "支部书记", "B2"],  # row 3: bad phone
    ["newbie3", "新人三", "", "not-an-email", "支部书记", "B2"],  # row 4: bad e-mail
    ["newbie4", "新人四", "", "", "支部书记", "P1"],  # row 5: a secretary on a party committee
    ["newbie5", "新人五", "", "", "初审人", "NOPE"],  # row 6: unknown organization
    ["newbie6", "新人六", "", "", "初审人", "P1"],  # row 7
    ["newbie6", "另一个名字", "", "", "初审人", "P2"],  # row 8: same user name, another name
]


def test_a_file_with_bad_rows_imports_nothing_and_names_each_bad_row(world, tmp_path):
    path = write_file(tmp_path / "bad.xlsx", BAD_ORGANIZATIONS, BAD_PEOPLE)
    before = snapshot()

    _out, err, failed = run_import(path, "--passwords", str(tmp_path / "pw.xlsx"))

    assert failed is not None and "nothing was imported" in failed
    assert snapshot() == before
    assert not (tmp_path / "pw.xlsx").exists()
    expected = [
        ("组织", 2, "Unknown parent code “NOPE”"),
        ("组织", 4, "appears in more than one row (rows 4、5)"),
        ("组织", 5, "appears in more than one row (rows 4、5)"),
        ("组织", 6, "Unknown organization kind “支部”"),
        ("组织", 7, "Unknown stage “高级”"),
        ("组织", 8, "cannot be placed under"),
        ("组织", 9, "The order “第一” is not a whole number"),
        ("人员", 2, "Unknown role “书记”"),
        ("人员", 3, "The phone number “电话”"),
        ("人员", 4, "“not-an-email” is not a valid e-mail address"),
        ("人员", 5, "cannot be held on a"),
        ("人员", 6, "Unknown organization code “NOPE”"),
        ("人员", 8, "has a different real name in row 7"),
    ]
    lines = err.splitlines()
    for sheet, number, message in expected:
        assert any(
            line.startswith(f"Sheet “{sheet}”, row {number}: ") and message in line for line in lines
        ), (
            sheet,
            number,
            message,
        )
    assert not any(line.startswith(("Sheet “组织”, row 3:", "Sheet “人员”, row 7:")) for line in lines)


def test_parents_may_come_after_their_branches_in_the_sheet(world, tmp_path):
    path = write_file(
        tmp_path / "order.xlsx",
        [
            ["N1", "新第一党支部", "党支部", "NP", "特色", 2],
            ["NG", "新党总支", "党总支", "NP", "", 1],
            ["N2", "新第二党支部", "党支部", "NG", "", ""],
            ["NP", "新机关党委", "党委", "C1", "", 9],
        ],
    )
    plan = plan_of(path, world.staff)
    assert not plan.has_errors and [r.action for r in plan.organizations] == [ImportAction.CREATE] * 4

    apply_import_plan(plan, actor=world.staff, file_name="order.xlsx")

    first, second = Organization.objects.get(code="N1"), Organization.objects.get(code="N2")
    assert first.parent.code == "NP" and first.parent.parent == world.committee
    assert (first.stage, first.sort_order) == (BranchStage.DISTINCTIVE, 2)
    assert second.parent.code == "NG" and second.stage == BranchStage.BASIC
    assert second.path.startswith(world.committee.path)


def test_a_loop_of_parent_codes_is_an_error(world, tmp_path):
    path = write_file(
        tmp_path / "loop.xlsx",
        [["L1", "甲党委", "党委", "L2", "", ""], ["L2", "乙党委", "党委", "L1", "", ""]],
    )
    plan = plan_of(path, world.staff)
    for number in (2, 3):
        assert any("form a loop" in message for message in row(plan, "组织", number).errors)


def test_a_changed_row_updates_by_code_and_an_equal_row_is_unchanged(world, tmp_path):
    path = write_file(
        tmp_path / "update.xlsx",
        [
            ["B1", "教育局第一党支部（新名）", "党支部", "P1", "示范", ""],
            ["b2", world.sibling_branch.name, "党支部", "p1", "", ""],  # codes match whatever the case
            ["B4", world.cousin_branch.name, "党支部", "P1", "", ""],  # moved to the other party committee
        ],
    )
    plan = plan_of(path, world.staff)
    assert [r.action for r in plan.organizations] == [
        ImportAction.UPDATE,
        ImportAction.UNCHANGED,
        ImportAction.UPDATE,
    ]
    assert "stage: 基础 → 示范" in row(plan, "组织", 2).notes
    before = AuditEntry.objects.count()

    apply_import_plan(plan, actor=world.staff, file_name="update.xlsx")

    world.branch.refresh_from_db()
    world.cousin_branch.refresh_from_db()
    assert (world.branch.name, world.branch.stage) == ("教育局第一党支部（新名）", BranchStage.MODEL)
    assert world.cousin_branch.parent == world.party_committee
    assert world.cousin_branch.path.startswith(world.party_committee.path)
    actions = list(AuditEntry.objects.order_by("pk").values_list("action", flat=True)[before:])
    assert sorted(actions) == sorted([AuditAction.UPDATE, AuditAction.MOVE, AuditAction.IMPORT])
    assert not plan_of(path, world.staff).has_changes


def test_a_person_already_holding_the_role_is_unchanged_not_an_error(world, tmp_path):
    path = write_file(tmp_path / "held.xlsx", people=[["zhangwei", "张伟", "", "", "支部书记", "B1"]])
    plan = plan_of(path, world.staff)
    person = row(plan, "人员", 2)
    assert (person.action, list(person.errors)) == (ImportAction.UNCHANGED, [])
    assert "Already holds this role." in person.notes


def test_one_person_on_several_rows_gets_one_account_and_every_role(world, tmp_path):
    path = write_file(
        tmp_path / "roles.xlsx",
        people=[
            ["Sun", "孙初审", "13900000000", "sun@example.cn", "初审人", "P1"],
            ["sun", "", "", "", "支部书记", "B2"],
            ["sun", "孙初审", "", "", "初审人", "P1"],  # the same role again: nothing more to do
        ],
    )
    plan = plan_of(path, world.staff)
    assert [r.action for r in plan.people] == [
        ImportAction.CREATE,
        ImportAction.CREATE,
        ImportAction.UNCHANGED,
    ]

    result = apply_import_plan(plan, actor=world.staff, file_name="roles.xlsx")

    person = User.objects.get(username="Sun")
    assert (person.real_name, person.phone, person.must_change_password) == ("孙初审", "13900000000", True)
    held = set(RoleAssignment.objects.filter(user=person).values_list("role", "organization__code"))
    assert held == {(Role.PARENT_REVIEWER, "P1"), (Role.BRANCH_SECRETARY, "B2")}
    assert [entry.username for entry in result.passwords] == ["Sun"]


def test_an_existing_persons_changed_details_are_an_update(world, tmp_path):
    path = write_file(tmp_path / "phone.xlsx", people=[["zhangwei", "", "13911112222", "", "支部书记", "B1"]])
    plan = plan_of(path, world.staff)
    assert row(plan, "人员", 2).action == ImportAction.UPDATE

    apply_import_plan(plan, actor=world.staff, file_name="phone.xlsx")

    world.secretary.refresh_from_db()
    assert (world.secretary.real_name, world.secretary.phone) == ("张伟", "13911112222")


# ---------------------------------------------------------------------------- scope and separation of duties


def test_staff_of_one_committee_cannot_import_into_another(world, tmp_path):
    path = write_file(
        tmp_path / "other.xlsx",
        [
            ["Y1", "区新党支部", "党支部", "C2", "", ""],  # C2 is outside C1's staff's scope
            ["D1", "区第一党支部（改）", "党支部", "C2", "", ""],  # C2's branch, by its code
            ["Y2", "新工委", "工委", "", "", ""],  # a new committee needs a superuser
        ],
        [["quxin", "区新人", "", "", "考核组成员", "C2"], ["quxin", "区新人", "", "", "支部书记", "D1"]],
    )
    plan = plan_of(path, world.staff)
    assert "Unknown parent code “C2”" in row(plan, "组织", 2).errors[0]
    assert "already used by an organization outside your scope" in row(plan, "组织", 3).errors[0]
    assert "Only a system administrator may create a working committee." in row(plan, "组织", 4).errors
    assert "Unknown organization code “C2”" in row(plan, "人员", 2).errors[0]
    assert "The organization “D1” (sheet “组织”, row 3) has an error." in row(plan, "人员", 3).errors
    with pytest.raises(ImportRefused):
        apply_import_plan(plan, actor=world.staff)

    # The same file from the other committee's side is refused only what C2 cannot do either.
    c2_staff = make_user("c2staff", "区党务", roles=((Role.STAFF, world.other_committee),))
    other_side = plan_of(path, c2_staff)
    assert [r.action for r in other_side.organizations][:2] == [ImportAction.CREATE, ImportAction.UPDATE]


@pytest.mark.parametrize(
    ("person", "message"),
    [
        (
            ["newapprover", "新审批", "", "", "工委审批人", "C1"],
            "Only a system administrator may grant the role “工委审批人”",
        ),
        (
            ["newstaff", "新党务", "", "", "党务工作者", "C1"],
            "Only a system administrator may grant the role “党务工作者”",
        ),
        (["wudangwu", "吴党务", "", "", "初审人", "P1"], "Nobody may grant a role to themselves."),
    ],
)
def test_separation_of_duties_holds_in_the_import(world, tmp_path, person, message):
    path = write_file(tmp_path / "duties.xlsx", people=[person])
    before = snapshot()
    plan = plan_of(path, world.staff)
    assert any(message in error for error in row(plan, "人员", 2).errors)
    with pytest.raises(ImportRefused):
        apply_import_plan(plan, actor=world.staff)
    assert snapshot() == before


def test_staff_may_grant_the_other_roles_in_their_committee_and_a_superuser_the_approver(world, tmp_path):
    path = write_file(
        tmp_path / "grants.xlsx",
        people=[
            ["newstaff", "新党务", "", "", "党务工作者", "P1"],  # staff on a party committee: staff may
            ["newreviewer", "新考核", "", "", "考核组成员", "C1"],
        ],
    )
    assert not plan_of(path, world.staff).has_errors
    root = User.objects.create_superuser("root", password="x-very-long-secret-1")
    approver = write_file(
        tmp_path / "approver.xlsx", people=[["newapprover", "新审批", "", "", "工委审批人", "C1"]]
    )
    assert not plan_of(approver, root).has_errors


# ---------------------------------------------------------------------------- the command


def test_new_people_need_a_passwords_file_except_in_a_dry_run(world, tmp_path):
    path = write_file(tmp_path / "new.xlsx", people=[["newbie", "新人", "", "", "支部书记", "B2"]])
    before = snapshot()

    _out, _err, failed = run_import(path)
    assert "--passwords" in failed and snapshot() == before

    out, _err, failed = run_import(path, "--dry-run")
    assert failed is None and "Dry run: nothing was written." in out and snapshot() == before

    existing = tmp_path / "taken.xlsx"
    existing.write_bytes(b"keep me")
    _out, _err, failed = run_import(path, "--passwords", str(existing))
    assert "already exists" in failed and existing.read_bytes() == b"keep me" and snapshot() == before


def test_the_command_imports_as_the_actor_in_their_scope(world, tmp_path):
    path = write_file(tmp_path / "actor.xlsx", [["Y1", "区新党支部", "党支部", "C2", "", ""]])
    _out, err, failed = run_import(path, "--actor", "wudangwu")
    assert failed and "Sheet “组织”, row 2: Unknown parent code “C2”" in err
    _out, _err, failed = run_import(path)  # the command line itself reaches every committee
    assert failed is None and Organization.objects.get(code="Y1").parent == world.other_committee
    _out, _err, failed = run_import(path, "--actor", "nobody")
    assert "No active user" in failed


def test_a_refusal_while_applying_rolls_back_every_row(world, tmp_path):
    path = write_file(
        tmp_path / "race.xlsx",
        [["R1", "甲党支部", "党支部", "P1", "", ""], ["R2", "乙党支部", "党支部", "P1", "", ""]],
    )
    plan = plan_of(path, world.staff)
    assert not plan.has_errors
    # Between the preview and the confirmation someone else takes the second code.
    create_organization(name="别人的党支部", code="R2", kind=OrgKind.BRANCH, parent=world.party_committee)
    before = snapshot()

    with translation.override("en"), pytest.raises(ImportRefused) as refused:
        apply_import_plan(plan, actor=world.staff)

    assert refused.value.row.number == 3
    assert snapshot() == before and not Organization.objects.filter(code="R1").exists()


# ---------------------------------------------------------------------------- files that are not imports


def _zip_without_workbook() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr("hello.txt", "not a workbook")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"%PDF-1.4 not a workbook", "is not an Excel workbook"),
        (_zip_without_workbook(), "is not an Excel workbook"),
        (b"PK\x03\x04" + b"\x00" * 200, "is not an Excel workbook"),
    ],
)
def test_a_file_that_is_not_a_workbook_is_refused_with_a_clear_message(tmp_path, content, message):
    path = tmp_path / "upload.xlsx"
    path.write_bytes(content)
    with translation.override("en"), pytest.raises(ImportFileError) as refused:
        read_import_workbook(path)
    assert message in refused.value.messages[0]


def test_a_damaged_workbook_is_refused(tmp_path):
    good = write_file(tmp_path / "good.xlsx", [["A", "甲", "党委", "C1", "", ""]])
    damaged = tmp_path / "damaged.xlsx"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(damaged, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            target.writestr(item, data[: len(data) // 2] if item.filename.endswith("sheet1.xml") else data)
    with translation.override("en"), pytest.raises(ImportFileError) as refused:
        read_import_workbook(damaged)
    assert "could not be read" in refused.value.messages[0]


def test_a_missing_or_unknown_header_is_named(tmp_path):
    path = write_file(
        tmp_path / "headers.xlsx",
        org_headers=["组织编码", "组织名称", "组织类别", "上级组织编码", "阶段", "排序"],
        people_headers=["用户名", "姓名", "手机", "邮箱", "角色"],
    )
    with translation.override("en"), pytest.raises(ImportFileError) as refused:
        read_import_workbook(path)
    messages = refused.value.messages
    assert "Sheet “组织”: the column “组织类型” is missing from the first row." in messages
    assert any("the column “组织类别” is not one of" in message for message in messages)
    assert "Sheet “人员”: the column “组织编码” is missing from the first row." in messages


def test_too_many_rows_or_too_large_a_file_is_refused(tmp_path, monkeypatch):
    path = write_file(tmp_path / "rows.xlsx", [[f"K{i}", "甲", "党委", "C1", "", ""] for i in range(6)])
    monkeypatch.setattr(import_workbook, "IMPORT_MAX_ROWS", 5)
    with translation.override("en"), pytest.raises(ImportFileError) as refused:
        read_import_workbook(path)
    assert "has more than 5 rows" in refused.value.messages[0]
    monkeypatch.setattr(import_workbook, "IMPORT_MAX_BYTES", 1024)
    with translation.override("en"), pytest.raises(ImportFileError) as refused:
        read_import_workbook(path)
    assert "larger than" in refused.value.messages[0]


def test_numbers_typed_as_numbers_are_read_as_the_text_they_show(world, tmp_path):
    path = write_file(tmp_path / "numbers.xlsx", [[1001, "数字编码党支部", "党支部", "P1", "", 3.0]])
    sheet = read_import_workbook(path).organizations
    organization = sheet.cells(sheet.rows[0][1])
    assert (organization["组织编码"], organization["排序"]) == ("1001", "3")


def test_an_organization_gone_since_the_preview_refuses_its_row_and_nothing_is_written(world, tmp_path):
    path = write_file(
        tmp_path / "gone.xlsx",
        [["W1", "新建党支部", "党支部", "P2", "", 1]],
        [["xinren", "新人", "", "", "支部书记", "B4"]],
    )
    plan = plan_of(path, world.staff)
    assert not plan.has_errors
    before = snapshot()
    # Between the preview and the import, P2 gets another code.
    Organization.objects.filter(code="P2").update(code="P2X")
    with translation.override("en"), pytest.raises(ImportRefused) as refused:
        apply_import_plan(plan, actor=world.staff)
    assert "Unknown parent code “P2”" in refused.value.message
    assert (refused.value.row.sheet, refused.value.row.number) == ("组织", 2)
    assert snapshot() == before

    # A role's organization likewise.
    Organization.objects.filter(code="P2X").update(code="P2")
    plan = plan_of(
        write_file(tmp_path / "gone3.xlsx", people=[["xinren", "新人", "", "", "支部书记", "B4"]]),
        world.staff,
    )
    Organization.objects.filter(code="B4").update(code="B4X")
    with translation.override("en"), pytest.raises(ImportRefused) as refused:
        apply_import_plan(plan, actor=world.staff)
    assert "Unknown organization code “B4”" in refused.value.message
    assert (refused.value.row.sheet, refused.value.row.number) == ("人员", 2)
    assert snapshot() == before
