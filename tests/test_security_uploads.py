"""Uploads (等保 2.0): archives that would unpack past the limits, files per item, unsafe names.

A .docx or .xlsx is a ZIP archive; one whose members would unpack into too much, or hold
too many parts, or are compressed far beyond any ordinary document is refused before it is
read, on every upload path: the evidence form, the in-place upload (JSON), the monthly
check's self-report and the directory's Excel import.
"""

import datetime
import io
import json
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from branches.archives import check_archive
from directory.forms.imports import ImportUploadForm
from reviews.models import Evidence
from reviews.services.assessment import add_evidence
from tests.factories import items_by_code, make_assessment, make_cycle
from tests.reviews.test_evidence import PDF, docx_bytes, page_fields, upload, upload_url, xlsx_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english", "private_media")]


@pytest.fixture
def assessment(world, default_standard):
    cycle = make_cycle(
        world.committee,
        name="2025年度星级认定",
        standard=default_standard,
        opened_by=world.approver,
        self_assessment_deadline=datetime.date(2025, 10, 31),
        preliminary_deadline=datetime.date(2025, 11, 15),
        scoring_deadline=datetime.date(2025, 11, 30),
    )
    return make_assessment(cycle, world.branch)


@pytest.fixture
def items(default_standard):
    return items_by_code(default_standard)


def padded_docx(*, extra_members: int = 0, zeros: int = 0) -> bytes:
    """A real .docx (readable by the other checks) with extra parts or a part of many zeros."""
    buffer = io.BytesIO(docx_bytes())
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as archive:
        for number in range(extra_members):
            archive.writestr(f"word/media/part{number}.xml", "<x/>")
        if zeros:
            archive.writestr("word/padding.xml", b"\x00" * zeros)
    return buffer.getvalue()


@pytest.fixture
def small_limits(settings):
    settings.ARCHIVE_MAX_UNPACKED_BYTES = 3 * 1024 * 1024
    settings.ARCHIVE_MAX_MEMBERS = 10
    settings.ARCHIVE_MAX_RATIO = 100


def refused(content: bytes, name: str = "记录.docx") -> str:
    with pytest.raises(ValidationError) as excinfo:
        check_archive(io.BytesIO(content), name)
    return " ".join(excinfo.value.messages)


def test_ordinary_documents_pass(small_limits):
    check_archive(io.BytesIO(docx_bytes()), "记录.docx")
    check_archive(io.BytesIO(xlsx_bytes()), "台账.xlsx")
    check_archive(io.BytesIO(PDF), "x.pdf")  # not an archive: other checks judge it


def test_too_many_parts(small_limits):
    message = refused(padded_docx(extra_members=8))
    assert message == "“记录.docx” holds 11 parts; a file may hold at most 10."


def test_too_much_unpacked(small_limits, settings):
    settings.ARCHIVE_MAX_RATIO = 100_000
    message = refused(padded_docx(zeros=4 * 1024 * 1024)).replace("\xa0", " ")
    assert message == "“记录.docx” would unpack into 4.0 MB; a file may unpack into at most 3.0 MB."


def test_compressed_far_beyond_a_document(small_limits):
    content = padded_docx(zeros=2 * 1024 * 1024)  # 2 MB of zeros deflate to a few KB
    assert len(content) < 20 * 1024
    message = refused(content)
    assert message == (
        "“记录.docx” is compressed more than 100 times over, which no ordinary document is; it is refused."
    )


def test_the_limits_hold_in_the_service_and_nothing_is_stored(small_limits, world, assessment, items):
    with pytest.raises(ValidationError) as excinfo:
        add_evidence(
            assessment=assessment,
            item=items["1.2"],
            actor=world.secretary,
            uploaded_file=upload("记录.docx", padded_docx(zeros=2 * 1024 * 1024)),
        )
    assert "compressed more than 100 times" in " ".join(excinfo.value.messages)
    assert not Evidence.objects.exists()


def test_the_form_and_the_in_place_upload_show_the_refusal(small_limits, client, world, assessment, items):
    client.force_login(world.secretary)
    item = items["1.2"]
    data = page_fields(items)
    data["item"] = str(item.pk)
    data[f"evidence_{item.pk}"] = upload("炸弹.docx", padded_docx(extra_members=20))

    page = client.post(upload_url(assessment), data)

    assert page.status_code == 200
    assert "“炸弹.docx” holds 23 parts; a file may hold at most 10." in page.text

    data[f"evidence_{item.pk}"] = upload("炸弹.docx", padded_docx(extra_members=20))
    answer = client.post(upload_url(assessment), data, HTTP_ACCEPT="application/json")

    assert answer.status_code == 400
    assert json.loads(answer.content)["errors"] == ["“炸弹.docx” holds 23 parts; a file may hold at most 10."]
    assert not Evidence.objects.exists()


def test_at_most_n_files_per_item(settings, world, assessment, items):
    settings.EVIDENCE_MAX_FILES_PER_ITEM = 2
    for number in range(2):
        add_evidence(
            assessment=assessment,
            item=items["1.2"],
            actor=world.secretary,
            uploaded_file=upload(f"{number}.pdf", PDF),
        )
    with pytest.raises(ValidationError) as excinfo:
        add_evidence(
            assessment=assessment,
            item=items["1.2"],
            actor=world.secretary,
            uploaded_file=upload("3.pdf", PDF),
        )

    assert excinfo.value.messages == ["An item may have at most 2 files; delete one before adding another."]
    assert Evidence.objects.count() == 2
    # Another item has room of its own.
    add_evidence(
        assessment=assessment, item=items["1.1"], actor=world.secretary, uploaded_file=upload("4.pdf", PDF)
    )


UNSAFE_NAMES = [
    "报告\u202efdp.docx",  # right-to-left override: shows as "报告xcod.pdf"
    "报告\u202a.pdf",
    "报告\u2066.pdf",
    "报告\u2069.pdf",
    "报告\u200e.pdf",
    "报告\u200f.pdf",
    "报告\x07.pdf",  # C0
    "报告\x85.pdf",  # C1
    "报告\x9b.pdf",  # C1
]


@pytest.mark.parametrize("name", UNSAFE_NAMES)
def test_a_name_with_control_or_bidirectional_characters_is_refused_through_the_form(
    client, world, assessment, items, name
):
    client.force_login(world.secretary)
    item = items["1.2"]
    data = page_fields(items)
    data["item"] = str(item.pk)
    data[f"evidence_{item.pk}"] = upload(name, PDF if name.endswith(".pdf") else docx_bytes())

    answer = client.post(upload_url(assessment), data, HTTP_ACCEPT="application/json")

    assert answer.status_code == 400
    [error] = json.loads(answer.content)["errors"]
    assert "contains control characters; rename the file and try again." in error
    assert not Evidence.objects.exists()


def import_form(name: str, content: bytes) -> ImportUploadForm:
    return ImportUploadForm(data={}, files={"file": SimpleUploadedFile(name, content)})


def test_the_directory_import_refuses_an_archive_past_the_limits(small_limits):
    buffer = io.BytesIO(xlsx_bytes())
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/padding.xml", b"\x00" * (2 * 1024 * 1024))
    form = import_form("名册.xlsx", buffer.getvalue())

    assert not form.is_valid()
    assert "compressed more than 100 times" in form.errors["file"][0]


def test_the_directory_import_refuses_a_bidirectional_name():
    form = import_form("名册\u202exslx.xlsx", xlsx_bytes())

    assert not form.is_valid()
    assert "contains control characters" in form.errors["file"][0]
