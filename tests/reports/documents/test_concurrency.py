"""Issues of one committee at the same moment take consecutive numbers, none twice, none skipped
(PostgreSQL: the issuer's row lock; SQLite serialises every writer anyway and is not tested)."""

import threading
import time

import pytest
from django.db import connection, connections

from branches.roles import Role
from reports.models import DocumentKind, OfficialDocument
from reports.services.documents import issue_document, update_issuer
from tests.factories import make_committee, make_user

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 6


def test_concurrent_issues_take_consecutive_numbers(settings, tmp_path, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's; set DATABASE_URL to run this test")
    settings.MEDIA_ROOT = tmp_path / "media"
    # Rendering between taking a number and saving it is the window a race needs: widen it.
    from reports.services import documents as service

    real_render = service.render_to

    def slow_render(*args, **kwargs):
        time.sleep(0.3)
        return real_render(*args, **kwargs)

    monkeypatch.setattr(service, "render_to", slow_render)
    committee = make_committee("并发工委", "CC")
    staff = make_user("cc_staff", "并发", roles=((Role.STAFF, committee),))
    update_issuer(committee=committee, organ_name="中共并发工委", code="并工委", actor=staff)
    drafts = [
        OfficialDocument.objects.create(
            committee=committee,
            kind=DocumentKind.COMMENDATION,
            source_key=f"test:{n}",
            title=f"第{n}号",
            lead="导语。",
            created_by=staff,
            data={"levels": [], "total": 0, "cycle": {"name": "周期"}},
        )
        for n in range(THREADS)
    ]
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def issue(document):
        try:
            barrier.wait(timeout=30)
            issue_document(document=document, actor=staff)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=issue, args=(d,)) for d in drafts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    numbers = sorted(OfficialDocument.objects.filter(committee=committee).values_list("number", flat=True))
    assert numbers == list(range(1, THREADS + 1))
