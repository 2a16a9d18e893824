"""The pages: make from a bulletin and a cycle, edit a draft (nothing typed is lost on a bad
submit), confirm before issuing, download the draft and the issued file, read as a party committee."""

import io

import pytest
from django.urls import reverse
from docx import Document

from reports.models import DocumentKind, DocumentStatus, OfficialDocument
from reports.services.documents import create_results_notices, issue_document

pytestmark = pytest.mark.django_db


def docx_of(response) -> Document:
    return Document(io.BytesIO(b"".join(response.streaming_content)))


def test_staff_make_the_bulletins_document_from_its_page(client, docs_world, frozen_now):
    client.force_login(docs_world.people["staff"])
    page = client.get(reverse("reports:bulletin_detail", args=[docs_world.bulletin.pk]))
    assert reverse("reports:document_from_bulletin", args=[docs_world.bulletin.pk]) in page.content.decode()
    response = client.post(reverse("reports:document_from_bulletin", args=[docs_world.bulletin.pk]))
    document = OfficialDocument.objects.get(kind=DocumentKind.BULLETIN)
    assert response.status_code == 302 and response["Location"] == reverse(
        "reports:document_detail", args=[document.pk]
    )
    detail = client.get(response["Location"]).content.decode()
    assert document.title in detail and "8" in detail


def test_a_bad_edit_keeps_what_was_typed_and_changes_nothing(client, docs_world, frozen_now):
    client.force_login(docs_world.people["staff"])
    client.post(reverse("reports:cycle_documents", args=[docs_world.past.pk]), {"kind": "commendation"})
    document = OfficialDocument.objects.get(kind=DocumentKind.COMMENDATION)
    before = document.title
    response = client.post(
        reverse("reports:document_edit", args=[document.pk]),
        {"title": "", "lead": "我写的导语", "closing": "结尾"},
    )
    assert response.status_code == 400
    assert "我写的导语" in response.content.decode()
    document.refresh_from_db()
    assert document.title == before
    response = client.post(
        reverse("reports:document_edit", args=[document.pk]),
        {"title": "新标题", "lead": "我写的导语", "closing": ""},
    )
    assert response.status_code == 302
    document.refresh_from_db()
    assert (document.title, document.lead, document.closing) == ("新标题", "我写的导语", "")


def test_issuing_needs_the_confirmation_then_freezes_the_document(client, docs_world, frozen_now):
    client.force_login(docs_world.people["approver"])
    client.post(reverse("reports:cycle_documents", args=[docs_world.past.pk]), {"kind": "commendation"})
    document = OfficialDocument.objects.get(kind=DocumentKind.COMMENDATION)
    url = reverse("reports:document_issue", args=[document.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, {}).status_code == 400
    document.refresh_from_db()
    assert document.status == DocumentStatus.DRAFT and document.number is None
    assert client.post(url, {"confirm": "on"}).status_code == 302
    document.refresh_from_db()
    assert document.status == DocumentStatus.ISSUED and document.document_number == "一直工委〔2026〕1号"
    # Frozen: the edit page sends back to the document, a second issue changes nothing.
    edit = client.post(reverse("reports:document_edit", args=[document.pk]), {"title": "x", "lead": "y"})
    assert edit.status_code == 302
    assert client.post(url, {"confirm": "on"}).status_code == 302
    document.refresh_from_db()
    assert document.title != "x" and document.number == 1
    assert OfficialDocument.objects.filter(number__isnull=False).count() == 1


def test_the_draft_downloads_marked_and_the_issued_file_as_stored(client, docs_world, frozen_now):
    client.force_login(docs_world.people["staff"])
    client.post(reverse("reports:cycle_documents", args=[docs_world.past.pk]), {"kind": "commendation"})
    document = OfficialDocument.objects.get(kind=DocumentKind.COMMENDATION)
    url = reverse("reports:document_docx", args=[document.pk])
    draft = client.get(url)
    assert draft["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.wordprocessingml")
    assert draft["Cache-Control"] == "private, no-store"
    header = docx_of(draft).sections[0].header.paragraphs[0].text
    assert "征求意见稿" in header
    issue_document(document=document, actor=docs_world.people["staff"])
    document.refresh_from_db()
    issued = client.get(url)
    with document.docx.open("rb") as handle:
        assert b"".join(issued.streaming_content) == handle.read()


def test_the_cycle_page_makes_a_notice_for_every_party_committee_in_one_go(client, docs_world, frozen_now):
    client.force_login(docs_world.people["staff"])
    url = reverse("reports:cycle_documents", args=[docs_world.past.pk])
    page = client.get(url).content.decode()
    assert "cycle-document-form" in page
    for _ in range(2):  # the second time makes nothing new
        response = client.post(url, {"kind": "results_notice", "batch": "1"})
        assert response.status_code == 302
    notices = OfficialDocument.objects.filter(kind=DocumentKind.RESULTS_NOTICE)
    assert sorted(notices.values_list("unit__name", flat=True)) == ["乙党委", "甲党委"]
    assert client.post(url, {"kind": "results_notice", "batch": "7"}).status_code == 400


def test_a_party_committee_reads_only_its_own_issued_notice(client, docs_world, frozen_now):
    staff = docs_world.people["staff"]
    made = {d.unit.code: d for d, _ in create_results_notices(cycle=docs_world.past, actor=staff)}
    p1 = issue_document(document=made["P1"], actor=staff)
    p2 = made["P2"]  # still a draft
    client.force_login(docs_world.people["p1_parent"])
    listed = client.get(reverse("reports:document_list")).content.decode()
    assert p1.title in listed and p1.document_number in listed
    assert client.get(reverse("reports:document_detail", args=[p1.pk])).status_code == 200
    download = client.get(reverse("reports:document_docx", args=[p1.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content)  # read to the end: the client then closes the file
    assert client.get(reverse("reports:document_edit", args=[p1.pk])).status_code == 403
    assert client.get(reverse("reports:document_detail", args=[p2.pk])).status_code == 404
    client.force_login(docs_world.people["p2_parent"])
    assert client.get(reverse("reports:document_detail", args=[p1.pk])).status_code == 404
    assert client.get(reverse("reports:document_detail", args=[p2.pk])).status_code == 404
    assert p1.title not in client.get(reverse("reports:document_list")).content.decode()


def test_the_list_shows_an_empty_state_and_the_issuer(client, docs_world, frozen_now):
    client.force_login(docs_world.people["staff"])
    page = client.get(reverse("reports:document_list")).content.decode()
    assert "bi-file-earmark-word" in page and "一直工委" in page
    response = client.post(
        reverse("reports:issuer_edit", args=[docs_world.committee.pk]), {"organ_name": "", "code": "码"}
    )
    assert response.status_code == 400 and "码" in response.content.decode()


def test_the_export_holds_the_rows_the_list_shows(client, docs_world, frozen_now):
    import openpyxl

    staff = docs_world.people["staff"]
    made = {d.unit.code: d for d, _ in create_results_notices(cycle=docs_world.past, actor=staff)}
    issue_document(document=made["P1"], actor=staff)
    client.force_login(docs_world.people["p1_parent"])
    response = client.get(reverse("reports:document_list_export"))
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))[1:]
    assert [(row[0], row[4]) for row in rows] == [("一直工委〔2026〕1号", "甲党委")]


def test_the_task_page_offers_the_rectification_notice_to_the_committees_staff(
    client, docs_world, frozen_now
):
    task_url = reverse("rectification:task_detail", args=[docs_world.task.pk])
    make_url = reverse("reports:document_from_task", args=[docs_world.task.pk])
    client.force_login(docs_world.people["p1_parent"])
    assert make_url not in client.get(task_url).content.decode()
    assert client.post(make_url).status_code == 403
    client.force_login(docs_world.people["staff"])
    assert make_url in client.get(task_url).content.decode()
    response = client.post(make_url)
    document = OfficialDocument.objects.get(kind=DocumentKind.RECTIFICATION_NOTICE)
    assert response["Location"] == reverse("reports:document_detail", args=[document.pk])
    assert document.unit == docs_world.orgs["B1"] and document.data["task"]["title"] == docs_world.task.title
