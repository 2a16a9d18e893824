"""In a real browser: the in-place upload shows the server's refusal of an unsafe file.

A name with a right-to-left override, an archive that would unpack past the limits, and a
file beyond the per-item count are each refused in place, in the server's own Chinese words,
and nothing is stored.
"""

import io
import zipfile
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation
from playwright.sync_api import expect

from reviews.models import Evidence
from reviews.services.assessment import add_evidence
from reviews.uploads import check_upload
from scoring.models import ItemKind
from tests.factories import PASSWORD, make_assessment, make_cycle, standard_items
from tests.reviews.test_evidence import PDF, docx_bytes

OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def bomb_docx() -> bytes:
    buffer = io.BytesIO(docx_bytes())
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/padding.xml", b"\x00" * (2 * 1024 * 1024))
    return buffer.getvalue()


def refusal_zh(name: str, content: bytes) -> str:
    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        check_upload(SimpleUploadedFile(name, content))
    return refused.value.messages[0]


def test_unsafe_files_are_refused_in_place(page, live_server, world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EVIDENCE_MAX_FILES_PER_ITEM = 2
    cycle = make_cycle(world.committee, opened_by=world.approver, opened_at=timezone.now())
    assessment = make_assessment(cycle, world.branch)
    item = next(item for item in standard_items(cycle.standard) if item.kind == ItemKind.NORMAL)
    add_evidence(
        assessment=assessment,
        item=item,
        actor=world.secretary,
        uploaded_file=SimpleUploadedFile("已有.pdf", PDF),
    )

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(world.secretary.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.goto(live_server.url + reverse("reviews:self_assessment", args=[assessment.pk]))
    card = page.locator(f"#item-{item.pk}")
    field = card.locator(f"#id_evidence_{item.pk}")

    field.set_input_files([{"name": "会议记录\u202efdp.docx", "mimeType": "application/pdf", "buffer": PDF}])
    refused = card.locator(".upload-status .upload-refused")
    expect(refused).to_have_count(1)
    expect(refused).to_contain_text("包含控制字符")
    # The name is shown as the server quotes it, not reversed by the override.
    expect(card.locator(".upload-status .upload-name")).to_have_text("会议记录?fdp.docx")
    card.screenshot(path=str(OUTPUT / "test_unsafe_files_item-1-name-refused.png"))

    field.set_input_files([{"name": "大文件.docx", "mimeType": "application/msword", "buffer": bomb_docx()}])
    expect(refused).to_contain_text(refusal_zh("大文件.docx", bomb_docx()))
    expect(refused).to_have_count(1)
    card.screenshot(path=str(OUTPUT / "test_unsafe_files_item-2-archive-refused.png"))

    field.set_input_files([{"name": "第二份.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    expect(card.locator(".upload-status .upload-ok")).to_have_count(1)
    field.set_input_files([{"name": "第三份.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    expect(refused).to_contain_text("每个评分项最多上传 2 个文件")
    expect(refused).to_have_count(1)
    card.screenshot(path=str(OUTPUT / "test_unsafe_files_item-3-count-refused.png"))

    assert sorted(Evidence.objects.filter(item=item).values_list("original_name", flat=True)) == [
        "已有.pdf",
        "第二份.pdf",
    ]
