"""Files through Django's storage API, on the local disk and on a real S3 server (SeaweedFS).

Each test marked with ``any_storage`` runs twice: FileSystemStorage in a folder of its own, and
django-storages' S3Storage on the session's SeaweedFS under a key prefix of its own (skipped
without the ``weed`` binary, except under ``CI=true``). On S3 the tests also look into the bucket
with plain boto3, so a file that silently landed on the local disk instead would fail them.

    .venv/bin/pytest tests/storage -q -p no:cacheprovider
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from reports import files
from reports.models import Bulletin, BulletinStatus
from reports.services.bulletins import bulletin_file_name, generate_bulletin
from reviews.services.assessment import add_evidence
from tests.factories import items_by_code, make_assessment, make_cycle
from tests.reports.bulletin_world import NOW, QUARTER, YEAR, build_bulletin_world
from tests.storage.support import is_s3, read_stored, stored_names

ROOT = Path(__file__).resolve().parents[2]
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def raw_keys(storage, s3_server_or_none, folder: str) -> list[str]:
    """What is really there: bucket keys under the storage's prefix, or files under MEDIA_ROOT."""
    if is_s3(storage):
        prefix = f"{storage.location}/{folder}".lstrip("/")
        return [key[len(storage.location) :].lstrip("/") for key in s3_server_or_none.keys(prefix)]
    root = Path(storage.location)
    return sorted(str(p.relative_to(root)) for p in (root / folder).rglob("*") if p.is_file())


# --- Configuration --------------------------------------------------------------------------------


def run_settings(env_overrides: dict[str, str], code: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("S3_") and k != "DATABASE_URL"}
    env.update(env_overrides, DJANGO_SETTINGS_MODULE="config.settings")
    script = "import django; django.setup(); from django.conf import settings\n" + code
    return subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


S3_ENV = {
    "S3_ENDPOINT_URL": "http://127.0.0.1:9",
    "S3_BUCKET": "dangjian",
    "S3_ACCESS_KEY_ID": "key",
    "S3_SECRET_ACCESS_KEY": "secret",
}


def test_without_s3_variables_files_stay_on_the_local_disk():
    result = run_settings(
        {}, "from django.core.files.storage import storages; print(type(storages['default']).__name__)"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "FileSystemStorage"


def test_with_the_s3_variables_files_go_to_the_bucket():
    code = (
        "from django.core.files.storage import storages; s = storages['default']\n"
        "print(type(s).__name__, s.bucket_name, s.endpoint_url, s.region_name, s.file_overwrite, s.default_acl)"
    )
    result = run_settings({**S3_ENV, "S3_REGION": "cn-north-1"}, code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "S3Storage",
        "dangjian",
        "http://127.0.0.1:9",
        "cn-north-1",
        "False",
        "None",
    ]


def test_half_an_s3_configuration_stops_start_up_naming_what_is_missing():
    result = run_settings({k: v for k, v in S3_ENV.items() if k != "S3_SECRET_ACCESS_KEY"}, "")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "S3_SECRET_ACCESS_KEY" in result.stderr


# --- The storage API ------------------------------------------------------------------------------


def test_save_open_exists_size_and_delete(any_storage):
    storage = any_storage
    content = "支部委员会会议记录".encode() * 100
    name = storage.save("evidence/1/记录.txt", ContentFile(content))
    again = storage.save("evidence/1/记录.txt", ContentFile(b"second"))

    assert name == "evidence/1/记录.txt" and again != name  # nothing is overwritten by an upload
    assert storage.exists(name) and storage.size(name) == len(content)
    with storage.open(name, "rb") as handle:
        assert handle.read() == content
    assert stored_names("evidence/1") == sorted([name, again])
    storage.delete(name)
    assert not storage.exists(name)
    assert stored_names("evidence/1") == [again]
    with pytest.raises(FileNotFoundError):
        storage.open(name, "rb")


def test_a_generated_file_is_published_whole_and_a_killed_runs_leftovers_are_removed(
    any_storage, tmp_path, s3_server_or_none
):
    storage = any_storage
    name = "bulletins/7/2026Q3.pdf"
    (tmp_path / "old.pdf").write_bytes(b"%PDF old")
    (tmp_path / "new.pdf").write_bytes(b"%PDF new")
    files.save_generated(tmp_path / "old.pdf", name)

    # A run killed between upload and publication: only a temporary key, the old file intact.
    staged = files.stage_file(tmp_path / "new.pdf", name)
    assert staged.startswith("bulletins/7/.2026Q3.pdf.") and staged.endswith(".part")
    assert files.temporaries(name) == [staged]
    assert read_stored(name) == b"%PDF old"
    assert raw_keys(storage, s3_server_or_none, "bulletins/7") == sorted([name, staged])

    # The next run first removes the leftovers, then publishes its own file in one step.
    assert files.remove_temporaries(name) == [staged]
    files.save_generated(tmp_path / "new.pdf", name)
    assert read_stored(name) == b"%PDF new"
    assert files.temporaries(name) == []
    assert raw_keys(storage, s3_server_or_none, "bulletins/7") == [name]


@pytest.fixture
def s3_server_or_none(request, any_storage):
    """The S3 server when the test runs on S3 (for looking into the bucket), else None."""
    return request.getfixturevalue("s3_server") if is_s3(any_storage) else None


# --- Downloads through the views, after the scope check --------------------------------------------


@pytest.mark.django_db
def test_evidence_is_stored_and_downloaded_only_inside_its_scope(
    any_storage, s3_server_or_none, client, world
):
    from tests.factories import default_standard

    standard = default_standard()
    cycle = make_cycle(world.committee, name="2025年度星级认定", standard=standard, opened_by=world.approver)
    assessment = make_assessment(cycle, world.branch)
    evidence = add_evidence(
        assessment=assessment,
        item=items_by_code(standard)["1.2"],
        actor=world.secretary,
        uploaded_file=SimpleUploadedFile("组织生活会记录.pdf", PDF, content_type="application/pdf"),
    )
    assert raw_keys(any_storage, s3_server_or_none, f"evidence/{assessment.pk}") == [evidence.file.name]
    url = reverse("reviews:evidence_download", args=[evidence.pk])

    client.force_login(world.secretary)
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Cache-Control"] == "private, no-store"

    client.force_login(world.sibling_secretary)  # another branch: as if it did not exist
    assert client.get(url).status_code == 404


@pytest.mark.django_db
def test_a_bulletin_is_rendered_into_the_storage_and_downloaded_only_inside_its_scope(
    any_storage, s3_server_or_none, client, english
):
    world = build_bulletin_world()
    with time_machine.travel(NOW):
        bulletin = generate_bulletin(committee_id=world.committee.pk, year=YEAR, quarter=QUARTER)
    assert bulletin.status == BulletinStatus.DRAFT, bulletin.error
    folder = f"bulletins/{world.committee.pk}"
    expected = [
        bulletin_file_name(committee_id=world.committee.pk, year=YEAR, quarter=QUARTER, suffix=suffix)
        for suffix in ("pdf", "xlsx")
    ]
    assert [bulletin.pdf.name, bulletin.xlsx.name] == expected
    annexes = [annex.pdf.name for annex in bulletin.annexes.all()]  # one per party committee
    assert annexes
    # No temporary key left.
    assert raw_keys(any_storage, s3_server_or_none, folder) == sorted([*expected, *annexes])
    stored_pdf = read_stored(bulletin.pdf.name)
    assert stored_pdf.startswith(b"%PDF")

    client.force_login(world.people["staff"])
    response = client.get(reverse("reports:bulletin_pdf", args=[bulletin.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == stored_pdf
    xlsx = client.get(reverse("reports:bulletin_xlsx", args=[bulletin.pk]))
    assert b"".join(xlsx.streaming_content) == read_stored(bulletin.xlsx.name)

    for who, status in (("secretary", 403), ("other_staff", 404), ("outsider", 404)):
        client.force_login(world.people[who])
        assert client.get(reverse("reports:bulletin_pdf", args=[bulletin.pk])).status_code == status

    # A file that vanished from the storage is a 404, not a server error.
    any_storage.delete(bulletin.pdf.name)
    client.force_login(world.people["staff"])
    assert client.get(reverse("reports:bulletin_pdf", args=[bulletin.pk])).status_code == 404
    assert Bulletin.objects.get(pk=bulletin.pk).pdf.name == expected[0]
