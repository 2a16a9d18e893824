"""The star certificate after a downgrade or a revocation tells history as it happened.

B1 is certified with three stars on 20 June 2025 (valid two years); the approver lowers it
later through the real services. The certificate must still say "three-star", and print the
later change: its date, the new level and the violation cited.
"""

import datetime
import re
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from reports import branch_pdfs
from reviews.models import AssessmentStatus
from reviews.services.decision import downgrade_branch, revoke_branch
from tests.factories import make_assessment, make_certificate, make_cycle

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

SHANGHAI = ZoneInfo("Asia/Shanghai")
ISSUED = datetime.datetime(2025, 6, 20, 10, 0, tzinfo=SHANGHAI)
FIRST_CHANGE = datetime.datetime(2025, 11, 3, 9, 0, tzinfo=SHANGHAI)
SECOND_CHANGE = datetime.datetime(2026, 2, 9, 9, 0, tzinfo=SHANGHAI)


def squashed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def pdf_text(content: bytes) -> str:
    return squashed("\n".join(page.extract_text() for page in PdfReader(BytesIO(content)).pages))


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SITE_URL = "https://dangjian.example.cn"


@pytest.fixture
def certificate(world):
    cycle = make_cycle(world.committee, opened_by=world.approver, status="closed")
    assessment = make_assessment(cycle, world.branch, status=AssessmentStatus.CERTIFIED, stars=3)
    return make_certificate(
        assessment, stars=3, issued_at=ISSUED, valid_until=datetime.date(2027, 6, 20), actor=world.approver
    )


def certificate_pdf(client, world, certificate, when) -> str:
    client.force_login(world.secretary)
    with time_machine.travel(when, tick=False):
        response = client.get(reverse("reports:certificate_pdf", args=[certificate.pk]))
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    assert len(PdfReader(BytesIO(content)).pages) == 1
    return pdf_text(content)


def test_an_unchanged_certificate_prints_its_level_and_no_change(client, world, certificate):
    text = certificate_pdf(client, world, certificate, FIRST_CHANGE)

    assert "three-starpartybranch" in text and "★★★☆☆" in text
    assert "lowered" not in text and "revoked" not in text
    assert "Currentstarlevel" not in text


def test_a_downgraded_certificate_prints_the_certified_level_and_the_later_change(client, world, certificate):
    with time_machine.travel(FIRST_CHANGE, tick=False):
        downgrade_branch(
            branch=world.branch,
            actor=world.approver,
            to_stars=2,
            reason="经查属实。",
            violation="违反组织纪律",
        )

    text = certificate_pdf(client, world, certificate, FIRST_CHANGE + datetime.timedelta(days=1))

    # The certified level, as certified: it is not rewritten as "two-star".
    assert "yourbranchiscertifiedasthree-starpartybranch" in text
    assert "★★★☆☆" in text
    assert "OnNov.3,2025thestarlevelwasloweredtotwo-starpartybranch(★★☆☆☆)." in text
    assert "Reason:违反组织纪律." in text
    assert "Currentstarlevel:two-starpartybranch." in text
    assert "Revoked" not in text


def test_a_revoked_certificate_prints_the_certified_level_every_change_and_the_stamp(
    client, world, certificate
):
    with time_machine.travel(FIRST_CHANGE, tick=False):
        downgrade_branch(
            branch=world.branch,
            actor=world.approver,
            to_stars=2,
            reason="经查属实。",
            violation="违反组织纪律",
        )
    with time_machine.travel(SECOND_CHANGE, tick=False):
        revoke_branch(
            branch=world.branch, actor=world.approver, reason="严重违纪。", violation="违反廉洁纪律"
        )

    text = certificate_pdf(client, world, certificate, SECOND_CHANGE)

    assert "yourbranchiscertifiedasthree-starpartybranch" in text
    lowered = text.index("OnNov.3,2025thestarlevelwasloweredtotwo-starpartybranch")
    revoked = text.index("OnFeb.9,2026thestarlevelwasrevoked.Reason:违反廉洁纪律.")
    assert lowered < revoked  # oldest first
    assert "Revoked" in text  # the stamp
    assert "Currentstarlevel" not in text  # revoked: no level in force


def test_the_changed_certificate_fits_one_page_in_chinese_without_missing_glyphs(
    world, certificate, tmp_path
):
    with time_machine.travel(FIRST_CHANGE, tick=False):
        downgrade_branch(
            branch=world.branch,
            actor=world.approver,
            to_stars=2,
            reason="经查属实。",
            violation="违反组织纪律",
        )
    with time_machine.travel(SECOND_CHANGE, tick=False):
        downgrade_branch(
            branch=world.branch,
            actor=world.approver,
            to_stars=1,
            reason="再次违纪。",
            violation="违反工作纪律",
        )
        certificate.refresh_from_db()
        data = branch_pdfs.certificate_data(certificate)
    with translation.override("zh-hans"):
        result = branch_pdfs.render_certificate(data, tmp_path)

    assert [change["to_stars"] for change in data["changes"]] == [2, 1]
    assert data["certified_stars"] == 3 and data["current_stars"] == 1
    assert result.notdef_warnings == []
    assert result.pages == 1
