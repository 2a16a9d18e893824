"""Evidence files: judged by content, stored under random names, downloaded only within scope."""

import base64
import datetime
import io
import re
import struct
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.conf import settings as django_settings
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.urls import reverse
from django.utils.datastructures import MultiValueDict

from branches.errors import WorkflowError
from reviews.models import (
    Assessment,
    AssessmentEvent,
    AssessmentStatus,
    Evidence,
    ReviewerAssignment,
    SelfScore,
)
from reviews.services.assessment import (
    add_evidence,
    delete_evidence,
    save_self_assessment,
    submit_self_assessment,
)
from reviews.uploads import check_file_name, check_upload
from reviews.views.secretary import evidence_upload
from scoring.models import Item
from tests.factories import items_by_code, make_assessment, make_cycle
from tests.storage.support import is_s3, stored_names

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english", "private_media")]

# --- files, made here rather than checked in --------------------------------------------------

PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
HTML = b"<!DOCTYPE html><html><head><title>x</title></head><body><script>alert(1)</script></body></html>"


def xlsx_bytes() -> bytes:
    workbook = openpyxl.Workbook()
    workbook.active["A1"] = "党费收缴台账"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def docx_bytes(*, macro: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'wordprocessingml.document.main+xml"/></Types>',
        )
        archive.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships/>')
        archive.writestr(
            "word/document.xml",
            '<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            "<w:body><w:p><w:r><w:t>会议记录</w:t></w:r></w:p></w:body></w:document>",
        )
        if macro:
            archive.writestr("word/vbaProject.bin", b"\x00" * 16)
    return buffer.getvalue()


def ole_bytes(stream: str) -> bytes:
    """A minimal compound-file header followed by a directory entry naming ``stream``."""
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 0x18, 0x3E, 3, 0xFFFE, 9, 6)
    return bytes(header) + b"\x00" * 512 + (stream + "\x00").encode("utf-16-le") + b"\x00" * 400


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def assessment(world, default_standard) -> Assessment:
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
def items(default_standard) -> dict[str, Item]:
    return items_by_code(default_standard)


@pytest.fixture
def evidence(world, assessment, items) -> Evidence:
    return add_evidence(
        assessment=assessment,
        item=items["1.2"],
        actor=world.secretary,
        uploaded_file=upload("组织生活会记录.pdf", PDF),
    )


def upload_url(assessment) -> str:
    return reverse("reviews:evidence_upload", args=[assessment.pk])


def self_url(assessment) -> str:
    return reverse("reviews:self_assessment", args=[assessment.pk])


def page_fields(items: dict[str, Item], **values: str) -> dict:
    data = {}
    for item in items.values():
        key = item.code.replace(".", "_")
        data[f"score_{item.pk}"] = values.get(f"score_{key}", "")
        data[f"explanation_{item.pk}"] = values.get(f"explanation_{key}", "")
    data["declared_stars"] = values.get("declared_stars", "")
    return data


# --- what is accepted -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("会议记录.pdf", PDF, "application/pdf"),
        ("公开栏照片.PNG", PNG, "image/png"),
        ("活动照片.jpg", JPEG, "image/jpeg"),
        (
            "学习记录.docx",
            docx_bytes(),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        ("党费台账.xlsx", xlsx_bytes(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("旧制度汇编.doc", ole_bytes("WordDocument"), "application/msword"),
        ("旧台账.xls", ole_bytes("Workbook"), "application/vnd.ms-excel"),
    ],
)
def test_real_files_of_every_allowed_type_are_accepted(world, assessment, items, name, content, content_type):
    # The browser's content type is ignored: it says octet-stream here.
    evidence = add_evidence(
        assessment=assessment, item=items["1.2"], actor=world.secretary, uploaded_file=upload(name, content)
    )

    assert (evidence.original_name, evidence.content_type, evidence.size) == (
        name,
        content_type,
        len(content),
    )
    assert evidence.uploaded_by == world.secretary
    with evidence.file.open("rb") as stored:
        assert stored.read() == content


def test_the_first_upload_starts_the_draft(evidence, assessment):
    assessment.refresh_from_db()

    assert assessment.status == AssessmentStatus.DRAFT
    assert AssessmentEvent.objects.filter(assessment=assessment, action="start").count() == 1


def test_the_stored_file_name_is_random_and_not_under_static(evidence, assessment):
    assert re.fullmatch(rf"evidence/{assessment.pk}/[0-9a-f]{{32}}\.pdf", evidence.file.name)
    assert evidence.file.storage.exists(evidence.file.name)
    if not is_s3(evidence.file.storage):  # on disk: inside MEDIA_ROOT, never under the static files
        stored = Path(evidence.file.path).resolve()
        assert stored.is_file()
        assert stored.is_relative_to(Path(django_settings.MEDIA_ROOT).resolve())
        for static_dir in [*django_settings.STATICFILES_DIRS, django_settings.STATIC_ROOT]:
            assert not stored.is_relative_to(Path(static_dir).resolve())
    assert "组织生活会记录" not in evidence.file.name


# --- what is refused ----------------------------------------------------------------------------


def refusal(assessment, item, secretary, uploaded_file) -> str:
    with pytest.raises(ValidationError) as excinfo:
        add_evidence(assessment=assessment, item=item, actor=secretary, uploaded_file=uploaded_file)
    assert not Evidence.objects.exists()
    return " ".join(excinfo.value.messages)


def test_a_renamed_html_file_is_refused(world, assessment, items):
    message = refusal(assessment, items["1.2"], world.secretary, upload("x.pdf", HTML, "application/pdf"))

    assert message == (
        "The content of “x.pdf” is not one of PDF, JPEG or PNG images, Word (.doc, .docx) and Excel "
        "(.xls, .xlsx) files (it looks like text/html)."
    )


def test_a_file_whose_extension_disagrees_with_its_content_is_refused(world, assessment, items):
    message = refusal(assessment, items["1.2"], world.secretary, upload("照片.pdf", PNG))

    assert (
        message
        == "“照片.pdf” is named like a PDF file but its content is PNG; rename it or choose another file."
    )


def test_an_excel_file_named_docx_is_refused(world, assessment, items):
    message = refusal(assessment, items["1.2"], world.secretary, upload("台账.docx", xlsx_bytes()))

    assert "is named like a Word (.docx) file but its content is Excel (.xlsx)" in message


def test_a_macro_enabled_word_file_is_refused(world, assessment, items):
    message = refusal(assessment, items["1.2"], world.secretary, upload("宏.docx", docx_bytes(macro=True)))

    assert "is not one of PDF" in message


def test_a_plain_zip_named_docx_is_refused(world, assessment, items):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")

    assert "is not one of PDF" in refusal(
        assessment, items["1.2"], world.secretary, upload("a.docx", buffer.getvalue())
    )


def test_an_oversize_file_is_refused(world, assessment, items, settings):
    settings.EVIDENCE_MAX_BYTES = 100

    message = refusal(assessment, items["1.2"], world.secretary, upload("big.pdf", PDF + b"%" * 200))

    assert message == f"“big.pdf” is {len(PDF) + 200}\xa0bytes; a file may be at most 100\xa0bytes."


def test_an_empty_file_and_an_unknown_extension_are_refused(world, assessment, items):
    assert refusal(assessment, items["1.2"], world.secretary, upload("a.pdf", b"")) == "“a.pdf” is empty."
    assert "only PDF, JPEG or PNG images" in refusal(
        assessment, items["1.2"], world.secretary, upload("a.exe", PDF)
    )
    assert "only PDF" in refusal(assessment, items["1.2"], world.secretary, upload("a.html", HTML))


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("../x.pdf", "The file name “../x.pdf” contains a folder path; upload the file by its name only."),
        ("a/b.pdf", "The file name “a/b.pdf” contains a folder path; upload the file by its name only."),
        ("a\\b.pdf", "The file name “a\\b.pdf” contains a folder path; upload the file by its name only."),
        (
            "..\\..\\x.pdf",
            "The file name “..\\..\\x.pdf” contains a folder path; upload the file by its name only.",
        ),
        ("x\x00.pdf", "The file name “x?.pdf” contains control characters; rename the file and try again."),
        ("x\n.pdf", "The file name “x?.pdf” contains control characters; rename the file and try again."),
        (
            "x\u202egpj.pdf",
            "The file name “x?gpj.pdf” contains control characters; rename the file and try again.",
        ),
        ("..", "“..” is not a usable file name."),
    ],
)
def test_a_name_with_a_path_or_control_characters_is_refused(name, message):
    with pytest.raises(ValidationError) as excinfo:
        check_file_name(name)

    assert excinfo.value.messages == [message]


def test_the_service_refuses_a_name_with_a_path_even_with_valid_content(world, assessment, items):
    crafted = upload("ok.pdf", PDF)
    crafted._name = "..\\..\\static\\x.pdf"  # what a direct caller could pass; Django's parser strips it

    assert "contains a folder path" in refusal(assessment, items["1.2"], world.secretary, crafted)


def test_the_file_is_checked_before_anything_is_stored(settings, tmp_path):
    settings.EVIDENCE_MAX_BYTES = 10
    with pytest.raises(ValidationError):
        check_upload(upload("big.pdf", PDF))

    assert not (tmp_path / "media").exists() and stored_names("evidence") == []


def test_uploading_is_for_the_branch_secretary_and_only_while_editable(world, assessment, items):
    with pytest.raises(PermissionDenied):
        add_evidence(
            assessment=assessment,
            item=items["1.2"],
            actor=world.parent_reviewer,
            uploaded_file=upload("a.pdf", PDF),
        )
    Assessment.objects.filter(pk=assessment.pk).update(status=AssessmentStatus.SUBMITTED)
    assessment.refresh_from_db()
    with pytest.raises(WorkflowError):
        add_evidence(
            assessment=assessment,
            item=items["1.2"],
            actor=world.secretary,
            uploaded_file=upload("a.pdf", PDF),
        )
    assert not Evidence.objects.exists()


# --- uploading through the page ---------------------------------------------------------------


def test_the_upload_button_saves_the_file_and_everything_typed(client, world, assessment, items):
    client.force_login(world.secretary)
    data = page_fields(items, score_1_1="4.5", explanation_1_2="见附件", declared_stars="4")
    data["item"] = str(items["1.2"].pk)
    data[f"evidence_{items['1.2'].pk}"] = upload("组织生活会记录.pdf", PDF)

    response = client.post(upload_url(assessment), data)

    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(f"{self_url(assessment)}?saved=")
    assert location.endswith(f"#item-{items['1.2'].pk}")
    evidence = Evidence.objects.get()
    assert (evidence.item, evidence.original_name) == (items["1.2"], "组织生活会记录.pdf")
    assert {
        row.item.code: (row.score, row.explanation) for row in SelfScore.objects.select_related("item")
    } == {
        "1.1": (Decimal("4.5"), ""),
        "1.2": (None, "见附件"),
    }
    page = client.get(self_url(assessment)).text
    assert "“组织生活会记录.pdf” was uploaded." in page
    assert "组织生活会记录.pdf" in page
    assert "张伟" in page
    assert f"{len(PDF)}\xa0bytes" in page


def test_a_renamed_html_upload_is_refused_and_the_rest_of_the_form_is_intact(
    client, world, assessment, items
):
    client.force_login(world.secretary)
    data = page_fields(
        items, score_1_1="4.5", score_1_3="4.55", explanation_1_2="每半年一次", declared_stars="5"
    )
    data["item"] = str(items["1.2"].pk)
    data[f"evidence_{items['1.2'].pk}"] = upload("x.pdf", HTML, "application/pdf")
    data[f"evidence_{items['1.4'].pk}"] = upload("经费台账.xlsx", xlsx_bytes())

    response = client.post(upload_url(assessment), data)

    assert response.status_code == 200
    page = response.text
    assert "The content of “x.pdf” is not one of PDF" in page
    assert "(it looks like text/html)" in page
    # Everything typed is back on the page, the invalid score included, and the valid parts were saved.
    assert f'id="id_score_{items["1.1"].pk}" value="4.5"' in page
    assert f'id="id_score_{items["1.3"].pk}" value="4.55"' in page
    assert "每半年一次" in page
    assert '<option value="5" selected>' in page
    assert [e.original_name for e in Evidence.objects.all()] == ["经费台账.xlsx"]
    assert "经费台账.xlsx" in page
    assessment.refresh_from_db()
    assert assessment.declared_stars == 5
    assert SelfScore.objects.get(item=items["1.1"]).score == Decimal("4.5")
    assert not SelfScore.objects.filter(item=items["1.3"]).exists()


def test_an_oversize_upload_is_refused_with_a_message_and_the_form_intact(
    client, world, assessment, items, settings
):
    settings.EVIDENCE_MAX_BYTES = 100
    client.force_login(world.secretary)
    data = page_fields(items, score_2_1="5", explanation_2_1="每月学习")
    data["action"] = "save"
    data[f"evidence_{items['2.1'].pk}"] = upload("学习记录.pdf", PDF + b"%" * 200)

    response = client.post(self_url(assessment), data)

    assert response.status_code == 200
    assert (
        f"“学习记录.pdf” is {len(PDF) + 200}\xa0bytes; a file may be at most 100\xa0bytes." in response.text
    )
    assert f'id="id_score_{items["2.1"].pk}" value="5"' in response.text
    assert "每月学习" in response.text
    assert not Evidence.objects.exists()


def test_pressing_upload_without_a_file_says_so(client, world, assessment, items):
    client.force_login(world.secretary)
    data = page_fields(items)
    data["item"] = str(items["1.2"].pk)

    response = client.post(upload_url(assessment), data)

    assert response.status_code == 200
    assert "Choose a file to upload first." in response.text


def test_a_path_in_an_uploaded_name_never_becomes_a_path_on_disk(client, world, assessment, items):
    # Django's multipart parser keeps only the last part of a name, so "../../x.pdf" arrives as "x.pdf".
    client.force_login(world.secretary)
    data = page_fields(items)
    data["item"] = str(items["1.2"].pk)
    data[f"evidence_{items['1.2'].pk}"] = upload("../../static/x.pdf", PDF)

    client.post(upload_url(assessment), data)

    evidence = Evidence.objects.get()
    assert evidence.original_name == "x.pdf"
    assert re.fullmatch(rf"evidence/{assessment.pk}/[0-9a-f]{{32}}\.pdf", evidence.file.name)


@pytest.mark.parametrize("name", ["..\\..\\x.pdf", "x\x07.pdf"])
def test_a_path_or_control_character_that_reaches_the_view_is_refused_with_the_form_intact(
    world, assessment, items, name
):
    # Names that survive Django's parser cannot be sent with the test client; build the request.
    data = page_fields(items, score_1_1="4.5", explanation_1_2="见附件")
    data["item"] = str(items["1.2"].pk)
    request = RequestFactory().post(upload_url(assessment), data)
    request.user = world.secretary
    request.session = {}
    request._messages = FallbackStorage(request)
    assert request.POST["item"]  # parse the body now, so the files set next are not replaced
    request._files = MultiValueDict({f"evidence_{items['1.2'].pk}": [upload(name, PDF)]})

    response = evidence_upload(request, pk=assessment.pk)

    assert response.status_code == 200
    page = response.content.decode()
    assert "contains a folder path" in page or "contains control characters" in page
    assert f'id="id_score_{items["1.1"].pk}" value="4.5"' in page
    assert "见附件" in page
    assert not Evidence.objects.exists()
    assert SelfScore.objects.get(item=items["1.1"]).score == Decimal("4.5")


# --- downloading --------------------------------------------------------------------------------


def download_url(evidence) -> str:
    return reverse("reviews:evidence_download", args=[evidence.pk])


@pytest.mark.parametrize("who", ["secretary", "parent_reviewer"])
def test_the_secretary_and_the_parent_reviewer_can_download(client, world, evidence, who):
    client.force_login(world.people[who])

    response = client.get(download_url(evidence))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert (
        "filename*=utf-8''%E7%BB%84%E7%BB%87%E7%94%9F%E6%B4%BB%E4%BC%9A%E8%AE%B0%E5%BD%95.pdf" in disposition
    )


def test_a_secretary_of_another_branch_gets_404(client, world, evidence):
    client.force_login(world.sibling_secretary)

    assert client.get(download_url(evidence)).status_code == 404


def test_an_unknown_evidence_id_gets_404(client, world, db):
    client.force_login(world.secretary)

    assert client.get(reverse("reviews:evidence_download", args=[987654])).status_code == 404


def test_an_anonymous_visitor_is_sent_to_the_login_page(client, evidence):
    response = client.get(download_url(evidence))

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={download_url(evidence)}"


def test_an_assessment_reviewer_downloads_only_when_assigned(client, world, evidence):
    client.force_login(world.reviewers[0])
    assert client.get(download_url(evidence)).status_code == 404

    ReviewerAssignment.objects.create(
        assessment=evidence.assessment, reviewer=world.reviewers[0], assigned_by=world.secretary
    )

    response = client.get(download_url(evidence))
    response.close()
    assert response.status_code == 200


def test_the_read_only_view_lists_evidence_with_size_and_uploader(client, world, evidence):
    client.force_login(world.parent_reviewer)

    page = client.get(reverse("reviews:assessment_detail", args=[evidence.assessment_id])).text

    assert download_url(evidence) in page
    assert "组织生活会记录.pdf" in page
    assert f"{len(PDF)}\xa0bytes · 张伟" in page
    assert reverse("reviews:evidence_delete", args=[evidence.pk]) not in page


# --- removing -------------------------------------------------------------------------------------


def delete_url(evidence) -> str:
    return reverse("reviews:evidence_delete", args=[evidence.pk])


def test_removing_asks_for_confirmation_then_deletes_the_row_and_the_file(
    client, world, evidence, django_capture_on_commit_callbacks
):
    name, storage = evidence.file.name, evidence.file.storage
    assert storage.exists(name)
    client.force_login(world.secretary)

    confirm = client.get(delete_url(evidence))
    assert confirm.status_code == 200
    assert "The file is deleted and cannot be restored." in confirm.text
    assert Evidence.objects.filter(pk=evidence.pk).exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(delete_url(evidence))

    assert response.status_code == 302
    assert response["Location"] == f"{self_url(evidence.assessment)}#item-{evidence.item_id}"
    assert not Evidence.objects.exists()
    assert not storage.exists(name)


def test_removing_is_refused_to_the_parent_reviewer_and_to_another_branch(client, world, evidence):
    client.force_login(world.parent_reviewer)
    assert client.post(delete_url(evidence)).status_code == 403
    client.force_login(world.sibling_secretary)
    assert client.post(delete_url(evidence)).status_code == 404
    assert Evidence.objects.filter(pk=evidence.pk).exists()


def test_removing_after_submit_is_refused_with_409(client, world, evidence, assessment, items):
    save_self_assessment(
        assessment=assessment,
        actor=world.secretary,
        scores={item.pk: (str(item.max_score), "") for item in items.values()},
    )
    for item in items.values():
        if item.evidence_required and item.code != "1.2":
            add_evidence(
                assessment=assessment, item=item, actor=world.secretary, uploaded_file=upload("a.pdf", PDF)
            )
    submit_self_assessment(assessment=assessment, actor=world.secretary, declared_stars=5)
    client.force_login(world.secretary)

    assert client.get(delete_url(evidence)).status_code == 409
    assert client.post(delete_url(evidence)).status_code == 409
    with pytest.raises(WorkflowError):
        delete_evidence(evidence=evidence, actor=world.secretary)
    assert Evidence.objects.filter(pk=evidence.pk).exists()
