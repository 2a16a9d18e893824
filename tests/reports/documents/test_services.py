"""Making, editing and issuing official documents: events, refusals, frozen data and numbering."""

import datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from branches.errors import WorkflowError
from reports.models import (
    BulletinStatus,
    DocumentKind,
    DocumentStatus,
    OfficialDocument,
    OfficialDocumentEvent,
)
from reports.services.documents import (
    create_bulletin_document,
    create_commendation,
    create_results_notices,
    edit_document,
    issue_document,
)
from reviews.models import NoticeBatch
from tests.reports.bulletin_world import SHANGHAI

pytestmark = pytest.mark.django_db


def test_a_draft_is_made_once_per_source_with_a_create_event(docs_world, frozen_now):
    staff = docs_world.people["staff"]
    first, created = create_bulletin_document(bulletin=docs_world.bulletin, actor=staff)
    again, created_again = create_bulletin_document(bulletin=docs_world.bulletin, actor=staff)
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert first.status == DocumentStatus.DRAFT and first.number is None
    assert first.title and first.lead and first.closing
    assert list(first.events.values_list("action", "from_status", "to_status", "actor")) == [
        ("create", "", "draft", staff.pk)
    ]


def test_only_a_published_quarterly_bulletin_becomes_a_document(docs_world, frozen_now):
    docs_world.bulletin.status = BulletinStatus.DRAFT
    docs_world.bulletin.save(update_fields=["status"])
    with pytest.raises(WorkflowError):
        create_bulletin_document(bulletin=docs_world.bulletin, actor=docs_world.people["staff"])
    assert not OfficialDocument.objects.exists()


@pytest.mark.parametrize("who", ["secretary", "p1_parent", "p2_staff", "other_staff", "outsider"])
def test_only_the_committees_staff_and_approver_make_documents(who, docs_world, frozen_now):
    with pytest.raises(PermissionDenied):
        create_commendation(cycle=docs_world.past, actor=docs_world.people[who])
    assert not OfficialDocument.objects.exists()


def test_an_uncertified_batch_is_refused(docs_world, frozen_now):
    later = NoticeBatch.objects.create(
        cycle=docs_world.past,
        number=2,
        started_at=frozen_now,
        ends_at=frozen_now + datetime.timedelta(days=5),
    )
    with pytest.raises(WorkflowError):
        create_results_notices(cycle=docs_world.past, batch=later, actor=docs_world.people["staff"])
    assert not OfficialDocument.objects.exists()


def test_editing_a_draft_is_recorded_and_an_issued_document_is_frozen(docs_world, frozen_now):
    staff, approver = docs_world.people["staff"], docs_world.people["approver"]
    document, _ = create_commendation(cycle=docs_world.past, actor=staff)
    edit_document(document=document, title="新标题", lead="新导语。", closing="新结尾。", actor=approver)
    document.refresh_from_db()
    assert (document.title, document.lead, document.closing) == ("新标题", "新导语。", "新结尾。")
    issued = issue_document(document=document, actor=approver)
    with pytest.raises(WorkflowError):
        edit_document(document=issued, title="再改", lead="x", closing="y", actor=staff)
    with pytest.raises(WorkflowError):
        issue_document(document=issued, actor=staff)
    issued.refresh_from_db()
    assert issued.title == "新标题" and issued.number == 1
    assert list(issued.events.values_list("action", "to_status")) == [
        ("create", "draft"),
        ("edit", "draft"),
        ("issue", "issued"),
    ]
    assert (
        issued.issued_by == approver and issued.docx.name == f"documents/{issued.committee_id}/2026-001.docx"
    )


def test_a_secretary_may_not_edit_or_issue(docs_world, frozen_now):
    document, _ = create_commendation(cycle=docs_world.past, actor=docs_world.people["staff"])
    for move in (
        lambda who: edit_document(document=document, title="x", lead="y", closing="", actor=who),
        lambda who: issue_document(document=document, actor=who),
    ):
        with pytest.raises(PermissionDenied):
            move(docs_world.people["secretary"])
    document.refresh_from_db()
    assert document.status == DocumentStatus.DRAFT
    assert OfficialDocumentEvent.objects.filter(document=document).count() == 1


def test_numbers_run_per_committee_and_year_without_gaps(docs_world, frozen_now):
    staff = docs_world.people["staff"]
    bulletin_doc, _ = create_bulletin_document(bulletin=docs_world.bulletin, actor=staff)
    commendation, _ = create_commendation(cycle=docs_world.past, actor=staff)
    notices = [d for d, _ in create_results_notices(cycle=docs_world.past, actor=staff)]
    c2_staff = docs_world.people["other_staff"]
    c2_cycle = docs_world.orgs["C2"].cycles.get()
    c2_doc, _ = create_commendation(cycle=c2_cycle, actor=c2_staff)

    numbers = [issue_document(document=d, actor=staff).document_number for d in [commendation, *notices]]
    assert numbers == ["一直工委〔2026〕1号", "一直工委〔2026〕2号", "一直工委〔2026〕3号"]
    # Another committee counts on its own.
    assert issue_document(document=c2_doc, actor=c2_staff).document_number == "二直工委〔2026〕1号"
    # A new year starts again at 1.
    with time_machine.travel(datetime.datetime(2027, 1, 4, 9, tzinfo=SHANGHAI), tick=False):
        next_year = issue_document(document=bulletin_doc, actor=staff)
    assert (next_year.year, next_year.number, next_year.document_number) == (2027, 1, "一直工委〔2027〕1号")
    assert list(
        OfficialDocument.objects.filter(committee=docs_world.committee, year=2026)
        .order_by("number")
        .values_list("number", flat=True)
    ) == [1, 2, 3]


def test_the_database_refuses_a_second_document_with_the_same_number(docs_world, frozen_now):
    staff = docs_world.people["staff"]
    first, _ = create_commendation(cycle=docs_world.past, actor=staff)
    issue_document(document=first, actor=staff)
    second = OfficialDocument.objects.create(
        committee=docs_world.committee,
        kind=DocumentKind.BULLETIN,
        source_key="by-hand",
        title="t",
        lead="l",
        created_by=staff,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        OfficialDocument.objects.filter(pk=second.pk).update(
            status=DocumentStatus.ISSUED, year=2026, number=1
        )


def test_an_issued_document_keeps_the_issuer_it_was_issued_with(docs_world, frozen_now):
    from reports.services.documents import update_issuer

    staff = docs_world.people["staff"]
    document, _ = create_commendation(cycle=docs_world.past, actor=staff)
    issued = issue_document(document=document, actor=staff)
    update_issuer(committee=docs_world.committee, organ_name="新机关", code="新代字", actor=staff)
    issued.refresh_from_db()
    assert (issued.organ_name, issued.document_number) == (
        "中共第一市直属机关工作委员会",
        "一直工委〔2026〕1号",
    )
