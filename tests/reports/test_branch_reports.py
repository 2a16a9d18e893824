"""A branch's PDFs (评定表 and star certificate) and the public certificate verification page.

The shared world one cycle on, every step through the real services:

    市直机关工委 (C1) ── 市教育局机关党委 (P1) ── 教育局第一党支部 (B1): certified ★5 (99.5 points)
                     │                          └─ 教育局第二党支部 (B2): being scored, one reviewer done
                     ├─ 市卫健委机关党委 (P2) ── 卫健委第一党支部 (B4): not started
                     └─ 工委机关党支部 (B3): not started
    区直机关工委 (C2) ── 区第一党支部 (D1)
"""

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from branches.models import Organization
from reports import branch_pdfs
from reviews.models import Assessment, AssessmentStatus, Certificate, CertificateStatus, Cycle
from reviews.selectors import ScoresVisibility
from reviews.services.decision import certify_batch, decide_assessment, publicize_cycle, revoke_branch
from scoring.models import Item
from tests.factories import (
    DEDUCTIONS,
    certify,
    default_standard,
    forward_and_assign,
    open_default_cycle,
    standard_items,
    submit_sheet,
)

pytestmark = pytest.mark.usefixtures("english")

SHANGHAI = ZoneInfo("Asia/Shanghai")
OPENED_AT = datetime.datetime(2025, 3, 3, 9, 0, tzinfo=SHANGHAI)
REVIEWER_NAMES = ["李明", "王芳", "赵强"]  # the world's assessment team


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(content)).pages)


def squashed(text: str) -> str:
    # pypdf may break lines inside a cell; compare without whitespace.
    return re.sub(r"\s+", "", text)


# ---------------------------------------------------------------------------- fixtures


@dataclass(frozen=True)
class CertifiedCycle:
    cycle: Cycle
    items: list[Item]
    certified: Assessment  # B1
    scoring: Assessment  # B2: reviewer1 has submitted, reviewer2 not
    certificate: Certificate


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SITE_URL = "https://dangjian.example.cn"


@pytest.fixture
def certified_cycle(world) -> CertifiedCycle:
    """C1's cycle of 2025: B1 certified with five stars, B2 half scored by two of the team."""
    standard = default_standard()
    items = standard_items(standard)
    reviewers = list(world.reviewers)
    crew = {"parent": world.parent_reviewer, "approver": world.approver, "items": items}
    with time_machine.travel(OPENED_AT, tick=False):
        cycle = open_default_cycle(world.committee, world.approver, standard=standard)
        scoring = cycle.assessments.get(branch=world.sibling_branch)
        forward_and_assign(scoring, secretary=world.sibling_secretary, reviewers=reviewers[:2], **crew)
        submit_sheet(scoring, reviewers[0], items, {"2.1": (Decimal("1"), "只有评委一知道的意见")})
        # B2 is still being scored, so the cycle's decisions wait for B1 only.
        certified = cycle.assessments.get(branch=world.branch)
        forward_and_assign(certified, secretary=world.secretary, reviewers=reviewers, **crew)
        for reviewer, deductions in zip(reviewers, DEDUCTIONS, strict=True):
            submit_sheet(certified, reviewer, items, deductions)
        certified.refresh_from_db()
        decide_assessment(assessment=certified, actor=world.approver, stars=certified.proposed_stars)
    with time_machine.travel(datetime.datetime(2025, 6, 10, 9, 0, tzinfo=SHANGHAI), tick=False):
        batch = publicize_cycle(cycle=cycle, actor=world.approver)
    with time_machine.travel(datetime.datetime(2025, 6, 20, 10, 0, tzinfo=SHANGHAI), tick=False):
        certify_batch(batch=batch, actor=world.approver)
    certified = Assessment.objects.get(pk=certified.pk)
    return CertifiedCycle(
        cycle=cycle,
        items=items,
        certified=certified,
        scoring=Assessment.objects.get(pk=scoring.pk),
        certificate=Certificate.objects.get(assessment=certified),
    )


def get_pdf(client, user, url):
    client.force_login(user)
    response = client.get(url)
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return response, content


def assessment_url(assessment) -> str:
    return reverse("reports:assessment_pdf", args=[assessment.pk])


def certificate_url(certificate) -> str:
    return reverse("reports:certificate_pdf", args=[certificate.pk])


# ---------------------------------------------------------------------------- the world is as drawn


def test_the_world_certifies_b1_with_five_stars_from_99_5_points(certified_cycle):
    assert certified_cycle.certified.status == AssessmentStatus.CERTIFIED
    assert certified_cycle.certified.consolidated_score == Decimal("99.5")
    assert (certified_cycle.certificate.stars, certified_cycle.certificate.status) == (
        5,
        CertificateStatus.VALID,
    )
    assert certified_cycle.certificate.valid_until == datetime.date(2027, 6, 20)
    assert certified_cycle.scoring.status == AssessmentStatus.SCORING


# ---------------------------------------------------------------------------- the 评定表


def test_the_assessment_form_has_every_item_each_reviewers_score_and_comment_and_the_result(
    client, world, certified_cycle
):
    response, content = get_pdf(client, world.approver, assessment_url(certified_cycle.certified))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "private, no-store"
    text = squashed(pdf_text(content))
    assert "教育局第一党支部" in text
    assert "市教育局机关党委" in text and "2025—2026年度星级认定" in text
    for item in certified_cycle.items:
        assert squashed(item.title) in text, item.title
    for name in REVIEWER_NAMES:
        assert name in text
    assert "4.5" in text  # 王芳 on 1.2
    assert "5.0" in text  # 赵强 on 4.1
    assert "组织生活会记录不全，扣0.5分。" in text and "特色亮点不够突出。" in text
    assert "4.8" in text and "5.7" in text  # the means of 1.2 and 4.1
    assert "99.5" in text  # the consolidated score
    assert "★★★★★" in text
    assert "材料齐全，同意推荐。" in text


def test_the_assessment_form_renders_without_missing_glyphs(certified_cycle, tmp_path):
    data = branch_pdfs.assessment_report_data(
        certified_cycle.certified, visibility=ScoresVisibility(scores=True, names=True)
    )
    with translation.override("zh-hans"):
        result = branch_pdfs.render_assessment_report(data, tmp_path)

    assert result.notdef_warnings == []
    assert result.pages >= 1
    assert result.path.read_bytes().startswith(b"%PDF")


def test_the_form_data_takes_the_same_few_queries_with_two_or_three_reviewers(certified_cycle):
    counts = []
    for pk in (
        certified_cycle.scoring.pk,
        certified_cycle.certified.pk,
    ):  # two reviewers (one submitted), three
        assessment = Assessment.objects.select_related("branch", "cycle__standard").get(pk=pk)
        with CaptureQueriesContext(connection) as queries:
            branch_pdfs.assessment_report_data(
                assessment, visibility=ScoresVisibility(scores=True, names=True)
            )
        counts.append(len(queries.captured_queries))

    assert counts[0] == counts[1] <= 8


def test_the_branch_sees_the_team_scores_without_the_reviewers_names_once_certified(
    client, world, certified_cycle
):
    response, content = get_pdf(client, world.secretary, assessment_url(certified_cycle.certified))

    assert response.status_code == 200
    text = squashed(pdf_text(content))
    assert "99.5" in text and "4.5" in text
    assert "Reviewer1" in text and "Reviewer3" in text
    for name in REVIEWER_NAMES:
        assert name not in text


def test_a_reviewer_who_has_not_submitted_does_not_see_the_others_scores(client, world, certified_cycle):
    response, content = get_pdf(client, world.reviewers[1], assessment_url(certified_cycle.scoring))

    assert response.status_code == 200
    text = squashed(pdf_text(content))
    assert "教育局第二党支部" in text
    assert "只有评委一知道的意见" not in text
    assert "李明" not in text


def test_a_reviewer_who_has_submitted_sees_the_scores_submitted_so_far(client, world, certified_cycle):
    response, content = get_pdf(client, world.reviewers[0], assessment_url(certified_cycle.scoring))

    assert response.status_code == 200
    assert "只有评委一知道的意见" in squashed(pdf_text(content))


def test_the_branch_does_not_see_scores_before_the_public_notice(client, world, certified_cycle):
    response, content = get_pdf(client, world.sibling_secretary, assessment_url(certified_cycle.scoring))

    assert response.status_code == 200
    text = squashed(pdf_text(content))
    assert "只有评委一知道的意见" not in text
    assert squashed("shown here once the result is under public notice") in text


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("approver", 200),
        ("staff", 200),
        ("parent_reviewer", 200),
        ("secretary", 200),
        ("reviewer3", 200),  # assigned to B1
        ("sibling_secretary", 404),
        ("other_approver", 404),
        ("outsider", 404),
    ],
)
def test_who_gets_the_assessment_form_of_b1(client, world, certified_cycle, who, status):
    response, _content = get_pdf(client, world.people[who], assessment_url(certified_cycle.certified))
    assert response.status_code == status


def test_a_reviewer_not_assigned_to_an_assessment_gets_404(client, world, certified_cycle):
    # reviewer3 is on the team (a role on the whole committee) but was not assigned to B2.
    response, _content = get_pdf(client, world.reviewers[2], assessment_url(certified_cycle.scoring))
    assert response.status_code == 404


def test_an_unknown_assessment_is_404(client, world):
    response, _content = get_pdf(client, world.approver, "/assessments/999999/report.pdf")
    assert response.status_code == 404


def test_the_pdfs_need_a_sign_in(client, certified_cycle):
    for url in (assessment_url(certified_cycle.certified), certificate_url(certified_cycle.certificate)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


# ---------------------------------------------------------------------------- the certificate


def test_the_certificate_shows_branch_committee_stars_dates_and_the_verification_code(
    client, world, certified_cycle
):
    response, content = get_pdf(client, world.secretary, certificate_url(certified_cycle.certificate))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = squashed(pdf_text(content))
    code = certified_cycle.certificate.verification_code
    assert code in text
    assert f"https://dangjian.example.cn/verify/{code}/" in text
    assert "教育局第一党支部" in text and "市直机关工委" in text
    assert "★★★★★" in text and "five-starpartybranch" in text
    assert "2025—2026年度星级认定" in text
    assert "June20,2025" in text and "June20,2027" in text  # issued, valid until
    assert len(PdfReader(BytesIO(content)).pages) == 1


def test_the_certificate_renders_on_one_page_without_missing_glyphs(certified_cycle, tmp_path):
    data = branch_pdfs.certificate_data(certified_cycle.certificate)
    with translation.override("zh-hans"):
        result = branch_pdfs.render_certificate(data, tmp_path)

    assert result.notdef_warnings == []
    assert result.pages == 1


def test_a_revoked_certificate_is_stamped_as_such(client, world, certified_cycle):
    revoke_branch(branch=world.branch, actor=world.approver, reason="严重违纪", violation="违反廉洁纪律")

    response, content = get_pdf(client, world.secretary, certificate_url(certified_cycle.certificate))

    assert response.status_code == 200
    assert "Revoked" in pdf_text(content)


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("approver", 200),
        ("staff", 200),
        ("parent_reviewer", 200),
        ("secretary", 200),
        ("reviewer1", 200),  # the team's role is held on the whole committee
        ("sibling_secretary", 404),
        ("other_approver", 404),
        ("outsider", 404),
    ],
)
def test_who_gets_the_certificate_of_b1(client, world, certified_cycle, who, status):
    response, _content = get_pdf(client, world.people[who], certificate_url(certified_cycle.certificate))
    assert response.status_code == status


def test_a_pdf_with_a_character_the_fonts_lack_is_refused_with_a_page_not_a_500(
    client, world, certified_cycle, caplog
):
    Organization.objects.filter(pk=world.branch.pk).update(name="教育局第一党支部\U000f0000")

    response, content = get_pdf(client, world.secretary, certificate_url(certified_cycle.certificate))

    assert response.status_code == 422
    assert not content.startswith(b"%PDF")
    assert "The PDF could not be made" in content.decode()
    assert any("glyphs missing" in record.getMessage() for record in caplog.records)


# ---------------------------------------------------------------------------- verification


def verify_url(code: str) -> str:
    return reverse("reports:verify_code", args=[code])


# What the verification page must never show: scores, people, the parent organization, reasons.
NOT_ON_THE_VERIFICATION_PAGE = [
    "99.5",
    "市教育局机关党委",
    "张伟",
    "周审批",
    *REVIEWER_NAMES,
    "材料齐全",
    "严重违纪",
    "违反廉洁纪律",
]


def test_the_verification_form_needs_no_sign_in(client, certified_cycle):
    response = client.get(reverse("reports:verify"))

    assert response.status_code == 200
    assert 'name="code"' in response.text
    assert '<meta name="robots" content="noindex">' in response.text


def test_a_valid_certificate_is_shown_valid_with_the_minimal_data(client, certified_cycle):
    response = client.get(verify_url(certified_cycle.certificate.verification_code))

    assert response.status_code == 200
    page = response.text
    assert 'data-state="valid"' in page
    assert "This certificate is valid." in page
    assert "教育局第一党支部" in page and "市直机关工委" in page
    assert "5 stars" in page
    assert "June 20, 2027" in page
    for secret in NOT_ON_THE_VERIFICATION_PAGE:
        assert secret not in page, secret
    assert "no-cache" in response["Cache-Control"]


def test_the_code_is_case_insensitive_and_may_be_grouped(client, certified_cycle):
    code = certified_cycle.certificate.verification_code
    grouped = "-".join(code.lower()[i : i + 4] for i in range(0, len(code), 4))

    response = client.get(reverse("reports:verify"), {"code": f"  {grouped} "})
    assert response.status_code == 302
    assert response["Location"] == verify_url(code)

    response = client.get(verify_url(code.lower()), follow=True)
    assert response.redirect_chain == [(verify_url(code), 302)]
    assert 'data-state="valid"' in response.text


def test_a_certificate_past_its_last_day_is_shown_expired(client, certified_cycle):
    with time_machine.travel(datetime.datetime(2027, 6, 21, 9, 0, tzinfo=SHANGHAI), tick=False):
        response = client.get(verify_url(certified_cycle.certificate.verification_code))

    assert response.status_code == 200
    assert 'data-state="expired"' in response.text
    assert "has expired and is no longer valid" in response.text


def test_on_its_last_day_the_certificate_is_still_valid(client, certified_cycle):
    with time_machine.travel(datetime.datetime(2027, 6, 20, 23, 0, tzinfo=SHANGHAI), tick=False):
        response = client.get(verify_url(certified_cycle.certificate.verification_code))

    assert 'data-state="valid"' in response.text


def test_a_revoked_certificate_is_shown_revoked_without_the_reason(client, world, certified_cycle):
    revoke_branch(branch=world.branch, actor=world.approver, reason="严重违纪", violation="违反廉洁纪律")

    response = client.get(verify_url(certified_cycle.certificate.verification_code))

    assert response.status_code == 200
    assert 'data-state="revoked"' in response.text
    assert "has been revoked and is no longer valid" in response.text
    for secret in NOT_ON_THE_VERIFICATION_PAGE:
        assert secret not in response.text, secret


def test_a_superseded_certificate_is_shown_as_no_longer_valid(client, world, certified_cycle):
    standard = certified_cycle.cycle.standard
    with time_machine.travel(datetime.datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI), tick=False):
        second = open_default_cycle(world.committee, world.approver, standard=standard, name="2026年度复核")
        certify(
            second,
            [second.assessments.get(branch=world.branch)],
            secretary=world.secretary,
            parent=world.parent_reviewer,
            approver=world.approver,
            reviewers=list(world.reviewers),
            items=certified_cycle.items,
        )
    certified_cycle.certificate.refresh_from_db()
    assert certified_cycle.certificate.status == CertificateStatus.SUPERSEDED

    response = client.get(verify_url(certified_cycle.certificate.verification_code))

    assert response.status_code == 200
    assert 'data-state="superseded"' in response.text
    assert "replaced by a newer certification and is no longer valid" in response.text
    newer = Certificate.objects.get(assessment__cycle=second)
    assert newer.verification_code not in response.text


def test_an_unknown_code_is_a_clear_404(client, certified_cycle):
    response = client.get(verify_url("0123456789ABCDEF"))

    assert response.status_code == 404
    assert 'data-state="not-found"' in response.text
    assert "No certificate found" in response.text
    assert "0123456789ABCDEF" in response.text


@pytest.mark.parametrize(
    "raw",
    ["x" * 500, "<script>alert(1)</script>", "ABC", "代码代码代码代码", "' OR 1=1 --", "%00%00"],
)
def test_absurd_input_is_refused_cleanly(client, certified_cycle, raw):
    response = client.get(reverse("reports:verify"), {"code": raw})

    assert response.status_code == 400
    assert "This is not a verification code." in response.text
    assert "<script>alert" not in response.text


def test_absurd_input_in_the_address_is_refused_cleanly(client, certified_cycle):
    response = client.get("/verify/" + "A" * 300 + "/")
    assert response.status_code == 400
    response = client.get("/verify/%3Cb%3E/")
    assert response.status_code == 400
    assert "<b>" not in response.text
