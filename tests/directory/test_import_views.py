"""The import on the site: upload, the preview of every row, confirm, the result with passwords."""

import io
import re

import pytest
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from branches.models import Organization, OrgKind, RoleAssignment, User
from branches.roles import Role
from branches.services.organizations import create_organization
from branches.spreadsheets import Sheet, write_workbook
from directory.imports.workbook import ORG_HEADERS, PEOPLE_HEADERS
from directory.tasks import IMPORT_UPLOADS_FOLDER
from directory.views import imports as import_views
from tests.factories import make_user
from tests.storage.support import stored_names

pytestmark = pytest.mark.django_db

GOOD_ORGS = [
    ["W1", "新建第一党支部", "党支部", "P1", "", 1],
    ["B1", "教育局第一党支部", "党支部", "P1", "", ""],
]
GOOD_PEOPLE = [["wangxin", "王新", "13700000000", "wangxin@example.cn", "支部书记", "W1"]]


def stored_workbooks() -> list[str]:
    """The import workbooks kept in the storage (disk or bucket), by file name."""
    return [name.rsplit("/", 1)[-1] for name in stored_names(IMPORT_UPLOADS_FOLDER) if name.endswith(".xlsx")]


def xlsx(organizations=(), people=(), name="import.xlsx") -> io.BytesIO:
    buffer = io.BytesIO()
    write_workbook(
        [
            Sheet("组织", list(ORG_HEADERS), list(organizations)),
            Sheet("人员", list(PEOPLE_HEADERS), list(people)),
        ],
        buffer,
    )
    buffer.seek(0)
    buffer.name = name
    return buffer


@pytest.fixture
def staff_client(client, world, private_media, english, django_capture_on_commit_callbacks):
    """Signed in as staff; a confirmed import's job runs (in-process) as the request commits."""
    client.force_login(world.staff)
    post = client.post

    def post_and_run_jobs(*args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return post(*args, **kwargs)

    client.post = post_and_run_jobs
    return client


def upload(client, file):
    return client.post(reverse("directory:import"), {"file": file})


def token_of(response) -> str:
    return re.search(r"/import/([A-Za-z0-9_-]{32})/", response.url).group(1)


def test_only_staff_of_a_committee_may_import(client, world, english):
    client.force_login(world.approver)
    assert client.get(reverse("directory:import")).status_code == 403
    party_staff = make_user("p1staff", "党委党务", roles=((Role.STAFF, world.party_committee),))
    client.force_login(party_staff)
    assert client.get(reverse("directory:import")).status_code == 403
    client.force_login(world.staff)
    page = client.get(reverse("directory:import"))
    assert page.status_code == 200 and reverse("directory:import_template") in page.content.decode()


def test_the_organization_tree_links_to_the_import(staff_client):
    assert reverse("directory:import") in staff_client.get(reverse("directory:org_tree")).content.decode()


def test_the_template_downloads_with_its_three_sheets(staff_client):
    response = staff_client.get(reverse("directory:import_template"))
    assert response.status_code == 200 and response["Content-Disposition"].endswith('.xlsx"')
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    assert book.sheetnames == ["组织", "人员", "说明"]


def test_a_file_that_is_not_a_workbook_is_refused_on_the_upload_page(staff_client, private_media):
    fake = io.BytesIO(b"<html>not a workbook</html>")
    fake.name = "list.xlsx"
    response = upload(staff_client, fake)
    assert response.status_code == 400
    assert "is not an Excel workbook" in response.content.decode()
    assert not stored_workbooks()
    renamed = xlsx(GOOD_ORGS, name="list.csv")
    assert upload(staff_client, renamed).status_code == 400


def test_a_bad_row_is_shown_first_and_confirm_stays_disabled(staff_client, world):
    bad = [*GOOD_ORGS, ["W2", "未知上级", "党支部", "NOPE", "", ""]]
    response = upload(staff_client, xlsx(bad, GOOD_PEOPLE))
    assert response.status_code == 302
    token = token_of(response)

    preview = staff_client.get(response.url)

    assert preview.status_code == 200
    rows = preview.context["page"].object_list
    assert (rows[0].sheet, rows[0].number, rows[0].action) == ("组织", 4, "error")
    assert [row.action for row in rows[1:]] == ["create", "unchanged", "create"]
    html = preview.content.decode()
    assert "Unknown parent code “NOPE”" in html
    assert re.search(r'id="import-confirm"[^>]*\sdisabled', html)
    before = (Organization.objects.count(), User.objects.count())
    refused = staff_client.post(reverse("directory:import_confirm", args=[token]))
    # The job plans the file again and, with errors, imports nothing; its result names the rows.
    assert refused.status_code == 302 and refused.url == reverse("directory:import_result", args=[token])
    assert (Organization.objects.count(), User.objects.count()) == before
    result = staff_client.get(refused.url)
    assert result.status_code == 200 and 'id="import-errors"' in result.content.decode()
    assert "Unknown parent code “NOPE”" in result.content.decode()
    assert reverse("directory:import_preview", args=[token]) in result.content.decode()


def test_a_good_file_imports_on_confirm_and_shows_each_password_once(staff_client, world, private_media):
    response = upload(staff_client, xlsx(GOOD_ORGS, GOOD_PEOPLE))
    token = token_of(response)
    preview = staff_client.get(response.url)
    assert not re.search(r'id="import-confirm"[^>]*\sdisabled', preview.content.decode())

    done = staff_client.post(reverse("directory:import_confirm", args=[token]))

    assert done.status_code == 302 and done.url == reverse("directory:import_result", args=[token])
    branch = Organization.objects.get(code="W1")
    person = User.objects.get(username="wangxin")
    assert branch.parent == world.party_committee and person.must_change_password
    assert RoleAssignment.objects.filter(
        user=person, role=Role.BRANCH_SECRETARY, organization=branch
    ).exists()
    kept = set(stored_workbooks())
    assert kept == {f"{token}-passwords.xlsx"}, "the upload is removed once imported; the passwords wait"

    result = staff_client.get(done.url)
    password = result.context["passwords"][0][2]
    assert result.context["passwords"][0][:2] == ["wangxin", "王新"] and password in result.content.decode()
    assert person.check_password(password)
    again = staff_client.get(done.url)
    assert again.status_code == 200 and password not in again.content.decode()

    download = staff_client.get(reverse("directory:import_passwords", args=[token]))
    sheet = load_workbook(io.BytesIO(b"".join(download.streaming_content)), read_only=True).worksheets[0]
    assert list(sheet.iter_rows(min_row=2, values_only=True)) == [("wangxin", "王新", password)]
    assert staff_client.get(reverse("directory:import_passwords", args=[token])).status_code == 404
    assert not stored_workbooks(), "downloaded once, the passwords are gone"
    assert staff_client.post(reverse("directory:import_confirm", args=[token])).status_code == 404


def test_confirming_plans_the_file_again_against_the_database_as_it_is_then(staff_client, world):
    response = upload(staff_client, xlsx(GOOD_ORGS))
    token = token_of(response)
    create_organization(name="别人的党支部", code="W1", kind=OrgKind.BRANCH, parent=world.other_committee)

    refused = staff_client.post(reverse("directory:import_confirm", args=[token]))

    assert refused.status_code == 302
    result = staff_client.get(refused.url).content.decode()
    assert "already used by an organization outside your scope" in result
    assert Organization.objects.get(code="W1").parent == world.other_committee


def test_another_persons_upload_cannot_be_opened(staff_client, client, world):
    token = token_of(upload(staff_client, xlsx(GOOD_ORGS)))
    colleague = make_user("colleague", "同事", roles=((Role.STAFF, world.committee),))
    client.force_login(colleague)
    for name in ("directory:import_preview", "directory:import_result", "directory:import_passwords"):
        assert client.get(reverse(name, args=[token])).status_code == 404, name
    assert client.post(reverse("directory:import_confirm", args=[token])).status_code == 404
    for bad_token in ("short", "..%2F..%2Fsettings", token[:-1] + "*"):
        assert client.get(f"/directory/import/{bad_token}/").status_code == 404


def test_the_preview_pages_through_long_files(staff_client, monkeypatch):
    monkeypatch.setattr(import_views, "IMPORT_ROWS_PER_PAGE", 2)
    organizations = [[f"W{i}", f"新建第{i}党支部", "党支部", "P1", "", i] for i in range(5)]
    url = upload(staff_client, xlsx(organizations)).url
    first, last = staff_client.get(url), staff_client.get(url + "?page=3")
    assert [row.number for row in first.context["page"]] == [2, 3]
    assert [row.number for row in last.context["page"]] == [6]
    with translation.override("en"):
        assert "Page 1 of 3" in first.content.decode()


# ---------------------------------------------------------------------------- the import as a job


def _confirmed(staff_client, organizations=GOOD_ORGS, people=GOOD_PEOPLE) -> str:
    token = token_of(upload(staff_client, xlsx(organizations, people)))
    assert staff_client.post(reverse("directory:import_confirm", args=[token])).status_code == 302
    return token


def test_the_confirmed_import_is_a_recorded_job_with_its_progress_and_no_password(staff_client, world):
    from reports.models import JobRun, JobStatus

    token = _confirmed(staff_client)
    run = JobRun.objects.get(task_name="directory.tasks.import_organizations_and_people")
    assert run.status == JobStatus.SUCCEEDED
    assert (run.progress_done, run.progress_total) == (3, 3)
    assert run.arguments["token"] == token and run.arguments["user_id"] == world.staff.pk
    assert run.arguments["committee_id"] == world.committee.pk
    assert run.outcome["state"] == "done" and run.outcome["counts"]["accounts_created"] == 1
    password = staff_client.get(reverse("directory:import_result", args=[token])).context["passwords"][0][2]
    assert password not in str(run.arguments) and password not in str(JobRun.objects.get(pk=run.pk).outcome)
    jobs = staff_client.get(reverse("reports:job_list")).content.decode()
    assert 'data-job-progress="3/3"' in jobs and password not in jobs


def test_a_running_import_shows_its_progress_and_refreshes_itself(staff_client, world):
    from reports.models import JobRun, JobStatus

    token = _confirmed(staff_client)
    JobRun.objects.update(status=JobStatus.RUNNING, progress_done=250, progress_total=1000, outcome={})
    page = staff_client.get(reverse("directory:import_result", args=[token]))
    html = page.content.decode()
    assert 'http-equiv="refresh"' in html and 'id="import-progress"' in html
    assert "250 of 1000 rows imported" in html and 'aria-valuenow="25"' in html
    assert page.context["passwords"] is None
    JobRun.objects.update(status=JobStatus.SUCCEEDED, progress_done=1000)
    done = staff_client.get(reverse("directory:import_result", args=[token])).content.decode()
    assert 'http-equiv="refresh"' not in done and "You cannot" not in done


def test_the_passwords_of_a_job_expire_and_are_nobody_elses(staff_client, client, world, monkeypatch):
    token = _confirmed(staff_client)
    colleague = make_user("colleague", "同事", roles=((Role.STAFF, world.committee),))
    client.force_login(colleague)
    for name in ("directory:import_result", "directory:import_passwords"):
        assert client.get(reverse(name, args=[token])).status_code == 404, name
    staff_client.force_login(world.staff)  # the same test client
    monkeypatch.setattr(import_views, "IMPORT_PASSWORDS_KEEP_SECONDS", -1)  # half an hour later
    result = staff_client.get(reverse("directory:import_result", args=[token]))
    assert result.status_code == 200 and result.context["passwords"] is None
    assert staff_client.get(reverse("directory:import_passwords", args=[token])).status_code == 404
