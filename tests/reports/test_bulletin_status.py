"""A bulletin's status moves only through ``move_bulletin``: guarded, locked and recorded.

The worker's moves (generate, fail) are recorded without an actor; publishing records who
published. Rendering is replaced by stand-ins here: test_bulletin.py covers the real files.
"""

import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from branches.errors import WorkflowError
from reports.models import Bulletin, BulletinEvent, BulletinStatus
from reports.pdf import PdfResult
from reports.services import bulletins as service
from reports.services.bulletins import generate_bulletin, move_bulletin, publish_bulletin

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english", "private_media")]

NOW = datetime.datetime(2026, 10, 10, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
YEAR, QUARTER = 2026, 3


@pytest.fixture
def renders(monkeypatch):
    """Stand-ins for the data function and the renderers; ``glyphs`` says what the PDF lacked."""
    outcome = {"glyphs": [], "error": None}

    def pdf(data, target: Path) -> PdfResult:
        if outcome["error"]:
            raise outcome["error"]
        Path(target).write_bytes(b"%PDF-1.4 stand-in")
        return PdfResult(path=target, pages=1, notdef_warnings=outcome["glyphs"])

    monkeypatch.setattr(service, "bulletin_data", lambda **kwargs: {"frozen": True})
    monkeypatch.setattr(service, "bulletin_pdf", pdf)
    monkeypatch.setattr(
        service, "bulletin_xlsx", lambda data, target: Path(target).write_bytes(b"PK stand-in")
    )
    return outcome


def generate(world) -> Bulletin:
    with time_machine.travel(NOW, tick=False):
        return generate_bulletin(committee_id=world.committee.pk, year=YEAR, quarter=QUARTER)


def make_bulletin(world, status: str) -> Bulletin:
    return Bulletin.objects.create(
        committee=world.committee, year=YEAR, quarter=QUARTER, status=status, data={"frozen": True}
    )


def moves(bulletin: Bulletin) -> list[tuple]:
    return list(
        BulletinEvent.objects.filter(bulletin=bulletin)
        .order_by("pk")
        .values_list("action", "actor", "from_status", "to_status")
    )


# --- the worker's moves -----------------------------------------------------------------------


def test_generating_is_a_system_move_from_generating_to_draft(world, renders):
    bulletin = generate(world)

    assert bulletin.status == BulletinStatus.DRAFT
    assert moves(bulletin) == [("generate", None, BulletinStatus.GENERATING, BulletinStatus.DRAFT)]


def test_a_refused_pdf_is_a_fail_move_whose_note_says_why(world, renders):
    renders["glyphs"] = ["No glyph for U+4E00"]

    bulletin = generate(world)

    assert bulletin.status == BulletinStatus.FAILED
    assert moves(bulletin) == [("fail", None, BulletinStatus.GENERATING, BulletinStatus.FAILED)]
    assert "U+4E00" in BulletinEvent.objects.get().note


def test_an_unexpected_error_is_recorded_as_a_fail_move_and_propagates(world, renders):
    renders["error"] = RuntimeError("pango exploded")

    with pytest.raises(RuntimeError):
        generate(world)

    bulletin = Bulletin.objects.get()
    assert bulletin.status == BulletinStatus.FAILED
    assert moves(bulletin) == [("fail", None, BulletinStatus.GENERATING, BulletinStatus.FAILED)]
    assert BulletinEvent.objects.get().note == "RuntimeError: pango exploded"


def test_a_failed_bulletin_generated_again_moves_to_draft(world, renders):
    renders["error"] = RuntimeError("pango exploded")
    with pytest.raises(RuntimeError):
        generate(world)
    renders["error"] = None

    bulletin = generate(world)

    assert moves(bulletin)[-1] == ("generate", None, BulletinStatus.FAILED, BulletinStatus.DRAFT)
    assert len(moves(bulletin)) == 2


def test_the_table_never_generates_a_published_bulletin_again(world):
    bulletin = make_bulletin(world, BulletinStatus.PUBLISHED)

    with pytest.raises(WorkflowError):
        move_bulletin(bulletin_id=bulletin.pk, action="generate", actor=None)

    assert Bulletin.objects.get(pk=bulletin.pk).status == BulletinStatus.PUBLISHED
    assert moves(bulletin) == []


# --- publishing -------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["staff", "approver"])
def test_publishing_records_who_published_from_draft_to_published(world, who):
    bulletin = make_bulletin(world, BulletinStatus.DRAFT)

    publish_bulletin(bulletin=bulletin, actor=getattr(world, who))

    assert moves(bulletin) == [
        ("publish", getattr(world, who).pk, BulletinStatus.DRAFT, BulletinStatus.PUBLISHED)
    ]


def test_publishing_a_published_bulletin_is_refused_and_writes_nothing(world):
    bulletin = make_bulletin(world, BulletinStatus.DRAFT)
    publish_bulletin(bulletin=bulletin, actor=world.staff)

    with pytest.raises(WorkflowError, match="already been published"):
        publish_bulletin(bulletin=bulletin, actor=world.approver)

    assert len(moves(bulletin)) == 1
    assert Bulletin.objects.get(pk=bulletin.pk).published_by == world.staff


@pytest.mark.parametrize("status", [BulletinStatus.GENERATING, BulletinStatus.FAILED])
def test_only_a_draft_is_published_and_a_refusal_writes_nothing(world, status):
    bulletin = make_bulletin(world, status)

    with pytest.raises(WorkflowError, match="only a draft can be published"):
        publish_bulletin(bulletin=bulletin, actor=world.staff)

    assert Bulletin.objects.get(pk=bulletin.pk).status == status
    assert moves(bulletin) == []


@pytest.mark.parametrize("who", ["secretary", "parent_reviewer", "reviewer", "other_approver", "outsider"])
def test_publishing_needs_a_managing_role_on_the_committee(world, who):
    bulletin = make_bulletin(world, BulletinStatus.DRAFT)
    actor = world.reviewers[0] if who == "reviewer" else getattr(world, who)

    with pytest.raises(PermissionDenied):
        publish_bulletin(bulletin=bulletin, actor=actor)

    assert Bulletin.objects.get(pk=bulletin.pk).status == BulletinStatus.DRAFT
    assert moves(bulletin) == []


def test_the_bulletin_event_admin_lists_only_the_committees_one_manages(client, world):
    ours = make_bulletin(world, BulletinStatus.DRAFT)
    theirs = Bulletin.objects.create(
        committee=world.other_committee, year=YEAR, quarter=QUARTER, status=BulletinStatus.DRAFT
    )
    publish_bulletin(bulletin=ours, actor=world.staff)
    publish_bulletin(bulletin=theirs, actor=world.other_approver)
    world.staff.user_permissions.add(Permission.objects.get(codename="view_bulletinevent"))
    client.force_login(world.staff)

    page = client.get(reverse("admin:reports_bulletinevent_changelist")).content.decode()

    assert str(ours) in page
    assert str(theirs) not in page
