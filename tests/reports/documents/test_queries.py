"""The list page and the data of a document run a fixed number of queries, whatever the size."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from reports.documents.data import certification_results
from reports.models import DocumentKind, OfficialDocument

pytestmark = pytest.mark.django_db


def queries_of(call) -> int:
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured)


def add_drafts(world, n: int) -> None:
    OfficialDocument.objects.bulk_create(
        OfficialDocument(
            committee=world.committee,
            kind=DocumentKind.COMMENDATION,
            source_key=f"test:{len_}",
            title=f"草稿{len_}",
            lead="导语",
            created_by=world.people["staff"],
        )
        for len_ in range(OfficialDocument.objects.count(), OfficialDocument.objects.count() + n)
    )


def test_the_list_page_costs_the_same_for_two_documents_and_twenty(client, docs_world, frozen_now):
    client.force_login(docs_world.people["staff"])
    url = reverse("reports:document_list")
    add_drafts(docs_world, 2)
    client.get(url)  # warm the session and the issuer rows
    few = queries_of(lambda: client.get(url))
    add_drafts(docs_world, 18)
    many = queries_of(lambda: client.get(url))
    assert few == many


def test_making_the_certification_documents_costs_the_same_at_5_and_50_branches(db, private_media):
    from reports.services.documents import create_commendation, create_results_notices
    from reviews.models import Cycle
    from tests.reports.bulletin_world import build_scored_committee

    counts = []
    for size, prefix in ((5, "S"), (50, "L")):
        committee, staff = build_scored_committee(size, prefix)
        cycle = Cycle.objects.select_related("committee").get(committee=committee, name="往期")
        assert len(certification_results(cycle=cycle)["rows"]) == size
        counts.append(
            (
                queries_of(lambda cycle=cycle: certification_results(cycle=cycle)),
                queries_of(lambda cycle=cycle, staff=staff: create_commendation(cycle=cycle, actor=staff)),
                queries_of(lambda cycle=cycle, staff=staff: create_results_notices(cycle=cycle, actor=staff)),
            )
        )
    assert counts[0] == counts[1]
    assert counts[0][0] == 2
