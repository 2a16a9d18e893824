"""A branch's PDFs (评定表 and star certificate) and the public certificate verification page.

The small world, every step through the real services:

    市直机关工委 (C1) ── 市教育局机关党委 (P1) ── 教育局第一党支部 (B1): certified ★5 (99.5 points)
                     │                          └─ 教育局第二党支部 (B2): being scored, one reviewer done
                     └─ 工委机关党支部 (B3)
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
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from branches.models import Organization, OrgKind, User
from branches.roles import Role
from branches.services.organizations import assign_role, create_organization
from reports import branch_pdfs
from reviews.demo import DEMO_PDF
from reviews.models import (
    Assessment,
    AssessmentStatus,
    Certificate,
    CertificateStatus,
    Cycle,
    ReviewerAssignment,
)
from reviews.selectors import ScoresVisibility
from reviews.services.assessment import add_evidence, save_self_assessment, submit_self_assessment
from reviews.services.cycles import open_cycle
from reviews.services.decision import certify_cycle, decide_assessment, publicize_cycle, revoke_branch
from reviews.services.preliminary import forward_assessment
from reviews.services.scoring import assign_reviewers, submit_scores
from scoring.arithmetic import ScoreEntry
from scoring.models import Item, ItemKind, Standard, StandardStatus

pytestmark = pytest.mark.usefixtures("english")

SHANGHAI = ZoneInfo("Asia/Shanghai")
OPENED_AT = datetime.datetime(2025, 3, 3, 9, 0, tzinfo=SHANGHAI)

# Two reviewers take points off, each on one item and with a comment.
DEDUCTIONS = [
    {},
    {"1.2": (Decimal("0.5"), "组织生活会记录不全，扣0.5分。")},
    {"4.1": (Decimal("1"), "特色亮点不够突出。")},
]
REVIEWER_NAMES = ["李明", "王芳", "赵强"]


# ---------------------------------------------------------------------------- builders
# Plain functions, also used by tests/reports/test_notices.py and the browser test.


def standard_items(standard: Standard) -> list[Item]:
    return list(
        Item.objects.filter(dimension__standard=standard).order_by(
            "dimension__order", "dimension__code", "order"
        )
    )


def make_user(username: str, real_name: str = "", *roles, email: str = "") -> User:
    user = User.objects.create_user(username, password="x-unused-x", real_name=real_name, email=email)
    for role, organization in roles:
        assign_role(user=user, role=role, organization=organization)
    return user


def new_cycle(committee, approver, standard, name="2025—2026年度星级认定", **extra) -> Cycle:
    return open_cycle(
        committee=committee,
        actor=approver,
        name=name,
        standard=standard,
        self_assessment_deadline=datetime.date(2025, 3, 31),
        preliminary_deadline=datetime.date(2025, 4, 30),
        scoring_deadline=datetime.date(2025, 5, 31),
        **extra,
    )


def submit_full_marks(assessment: Assessment, secretary, items: list[Item], declared: int = 5) -> None:
    """The secretary scores every item in full, attaches the required evidence and submits."""
    scores = {
        item.pk: (False, "")
        if item.kind == ItemKind.VETO
        else (item.max_score, f"{item.title}：已按要求落实。")
        for item in items
    }
    save_self_assessment(assessment=assessment, actor=secretary, scores=scores)
    for item in items:
        if item.evidence_required:
            upload = SimpleUploadedFile(f"{item.code}-佐证材料.pdf", DEMO_PDF)
            add_evidence(assessment=assessment, item=item, actor=secretary, uploaded_file=upload)
    submit_self_assessment(assessment=assessment, actor=secretary, declared_stars=declared)


def submit_sheet(assessment: Assessment, reviewer, items: list[Item], deductions: dict) -> None:
    entries = {}
    for item in items:
        if item.kind == ItemKind.VETO:
            entries[item.pk] = ScoreEntry(Decimal(0))
        else:
            off, comment = deductions.get(item.code, (Decimal(0), ""))
            entries[item.pk] = ScoreEntry(item.max_score - off, comment)
    assignment = ReviewerAssignment.objects.get(assessment=assessment, reviewer=reviewer)
    submit_scores(assignment=assignment, actor=reviewer, entries=entries)


def forward_and_assign(assessment, *, secretary, parent, approver, reviewers, items) -> None:
    submit_full_marks(assessment, secretary, items)
    forward_assessment(assessment=assessment, actor=parent, recommendation="材料齐全，同意推荐。")
    assign_reviewers(assessment=assessment, actor=approver, reviewers=reviewers)


def certify(cycle: Cycle, assessments, *, secretary, parent, approver, reviewers, items) -> None:
    """Take each assessment from self-assessment to certification; the clock is set by the caller.

    ``secretary`` is one user, or a dict of branch pk → user.
    """
    for assessment in assessments:
        forward_and_assign(
            assessment,
            secretary=secretary[assessment.branch_id] if isinstance(secretary, dict) else secretary,
            parent=parent,
            approver=approver,
            reviewers=reviewers,
            items=items,
        )
        for reviewer, deductions in zip(reviewers, DEDUCTIONS, strict=False):
            submit_sheet(assessment, reviewer, items, deductions)
        assessment.refresh_from_db()
        decide_assessment(assessment=assessment, actor=approver, stars=assessment.proposed_stars)
    publicize_cycle(cycle=cycle, actor=approver)
    cycle.refresh_from_db()
    with time_machine.travel(cycle.publicity_ends_at + datetime.timedelta(hours=1), tick=False):
        certify_cycle(cycle=cycle, actor=approver)


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(content)).pages)


def squashed(text: str) -> str:
    # pypdf may break lines inside a cell; compare without whitespace.
    return re.sub(r"\s+", "", text)


# ---------------------------------------------------------------------------- fixtures


@dataclass
class World:
    tree: dict[str, Organization]
    people: dict[str, User]
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
def world(db) -> World:
    standard = Standard.objects.get(status=StandardStatus.PUBLISHED)
    items = standard_items(standard)
    c1 = create_organization(name="市直机关工委", code="C1", kind=OrgKind.COMMITTEE)
    p1 = create_organization(name="市教育局机关党委", code="P1", kind=OrgKind.PARTY_COMMITTEE, parent=c1)
    b1 = create_organization(name="教育局第一党支部", code="B1", kind=OrgKind.BRANCH, parent=p1)
    b2 = create_organization(name="教育局第二党支部", code="B2", kind=OrgKind.BRANCH, parent=p1)
    b3 = create_organization(name="工委机关党支部", code="B3", kind=OrgKind.BRANCH, parent=c1)
    c2 = create_organization(name="区直机关工委", code="C2", kind=OrgKind.COMMITTEE)
    d1 = create_organization(name="区第一党支部", code="D1", kind=OrgKind.BRANCH, parent=c2)
    tree = {o.code: o for o in (c1, p1, b1, b2, b3, c2, d1)}
    people = {
        "approver": make_user("approver", "周审批", (Role.COMMITTEE_APPROVER, c1)),
        "staff": make_user("staff", "吴党务", (Role.STAFF, c1)),
        "parent": make_user("parent", "陈初审", (Role.PARENT_REVIEWER, p1)),
        "secretary": make_user("secretary", "张伟", (Role.BRANCH_SECRETARY, b1)),
        "secretary2": make_user("secretary2", "刘洋", (Role.BRANCH_SECRETARY, b2)),
        "other_approver": make_user("other_approver", "郑工委", (Role.COMMITTEE_APPROVER, c2)),
        "outsider": make_user("outsider", "路人"),
    }
    reviewers = [
        make_user(f"reviewer{n}", name, (Role.ASSESSMENT_REVIEWER, c1))
        for n, name in enumerate(REVIEWER_NAMES, start=1)
    ]
    people.update({f"reviewer{n}": user for n, user in enumerate(reviewers, start=1)})
    with time_machine.travel(OPENED_AT, tick=False):
        cycle = new_cycle(c1, people["approver"], standard)
        assessments = {a.branch.code: a for a in cycle.assessments.select_related("branch")}
        scoring = assessments["B2"]
        forward_and_assign(
            scoring,
            secretary=people["secretary2"],
            parent=people["parent"],
            approver=people["approver"],
            reviewers=reviewers[:2],
            items=items,
        )
        submit_sheet(scoring, reviewers[0], items, {"2.1": (Decimal("1"), "只有评委一知道的意见")})
        # B2 is still being scored, so the cycle's decisions wait for B1 only.
        scoring_cycle_b1 = assessments["B1"]
        forward_and_assign(
            scoring_cycle_b1,
            secretary=people["secretary"],
            parent=people["parent"],
            approver=people["approver"],
            reviewers=reviewers,
            items=items,
        )
        for reviewer, deductions in zip(reviewers, DEDUCTIONS, strict=True):
            submit_sheet(scoring_cycle_b1, reviewer, items, deductions)
        scoring_cycle_b1.refresh_from_db()
        decide_assessment(
            assessment=scoring_cycle_b1,
            actor=people["approver"],
            stars=scoring_cycle_b1.proposed_stars,
        )
    with time_machine.travel(datetime.datetime(2025, 6, 10, 9, 0, tzinfo=SHANGHAI), tick=False):
        publicize_cycle(cycle=cycle, actor=people["approver"])
    with time_machine.travel(datetime.datetime(2025, 6, 20, 10, 0, tzinfo=SHANGHAI), tick=False):
        certify_cycle(cycle=cycle, actor=people["approver"])
    certified = Assessment.objects.get(pk=scoring_cycle_b1.pk)
    return World(
        tree=tree,
        people=people,
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


def test_the_world_certifies_b1_with_five_stars_from_99_5_points(world):
    assert world.certified.status == AssessmentStatus.CERTIFIED
    assert world.certified.consolidated_score == Decimal("99.5")
    assert (world.certificate.stars, world.certificate.status) == (5, CertificateStatus.VALID)
    assert world.certificate.valid_until == datetime.date(2027, 6, 20)
    assert world.scoring.status == AssessmentStatus.SCORING


# ---------------------------------------------------------------------------- the 评定表


def test_the_assessment_form_has_every_item_each_reviewers_score_and_comment_and_the_result(client, world):
    response, content = get_pdf(client, world.people["approver"], assessment_url(world.certified))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "private, no-store"
    text = squashed(pdf_text(content))
    assert "教育局第一党支部" in text
    assert "市教育局机关党委" in text and "2025—2026年度星级认定" in text
    for item in world.items:
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


def test_the_assessment_form_renders_without_missing_glyphs(world, tmp_path):
    data = branch_pdfs.assessment_report_data(
        world.certified, visibility=ScoresVisibility(scores=True, names=True)
    )
    with translation.override("zh-hans"):
        result = branch_pdfs.render_assessment_report(data, tmp_path)

    assert result.notdef_warnings == []
    assert result.pages >= 1
    assert result.path.read_bytes().startswith(b"%PDF")


def test_the_form_data_takes_the_same_few_queries_with_two_or_three_reviewers(world):
    counts = []
    for pk in (world.scoring.pk, world.certified.pk):  # two reviewers (one submitted), three
        assessment = Assessment.objects.select_related("branch", "cycle__standard").get(pk=pk)
        with CaptureQueriesContext(connection) as queries:
            branch_pdfs.assessment_report_data(
                assessment, visibility=ScoresVisibility(scores=True, names=True)
            )
        counts.append(len(queries.captured_queries))

    assert counts[0] == counts[1] <= 8


def test_the_branch_sees_the_team_scores_without_the_reviewers_names_once_certified(client, world):
    response, content = get_pdf(client, world.people["secretary"], assessment_url(world.certified))

    assert response.status_code == 200
    text = squashed(pdf_text(content))
    assert "99.5" in text and "4.5" in text
    assert "Reviewer1" in text and "Reviewer3" in text
    for name in REVIEWER_NAMES:
        assert name not in text


def test_a_reviewer_who_has_not_submitted_does_not_see_the_others_scores(client, world):
    response, content = get_pdf(client, world.people["reviewer2"], assessment_url(world.scoring))

    assert response.status_code == 200
    text = squashed(pdf_text(content))
    assert "教育局第二党支部" in text
    assert "只有评委一知道的意见" not in text
    assert "李明" not in text


def test_a_reviewer_who_has_submitted_sees_the_scores_submitted_so_far(client, world):
    response, content = get_pdf(client, world.people["reviewer1"], assessment_url(world.scoring))

    assert response.status_code == 200
    assert "只有评委一知道的意见" in squashed(pdf_text(content))


def test_the_branch_does_not_see_scores_before_the_public_notice(client, world):
    response, content = get_pdf(client, world.people["secretary2"], assessment_url(world.scoring))

    assert response.status_code == 200
    text = squashed(pdf_text(content))
    assert "只有评委一知道的意见" not in text
    assert squashed("shown here once the result is under public notice") in text


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("approver", 200),
        ("staff", 200),
        ("parent", 200),
        ("secretary", 200),
        ("reviewer3", 200),  # assigned to B1
        ("secretary2", 404),
        ("other_approver", 404),
        ("outsider", 404),
    ],
)
def test_who_gets_the_assessment_form_of_b1(client, world, who, status):
    response, _content = get_pdf(client, world.people[who], assessment_url(world.certified))
    assert response.status_code == status


def test_a_reviewer_not_assigned_to_an_assessment_gets_404(client, world):
    # reviewer3 is on the team (a role on the whole committee) but was not assigned to B2.
    response, _content = get_pdf(client, world.people["reviewer3"], assessment_url(world.scoring))
    assert response.status_code == 404


def test_an_unknown_assessment_is_404(client, world):
    response, _content = get_pdf(client, world.people["approver"], "/assessments/999999/report.pdf")
    assert response.status_code == 404


def test_the_pdfs_need_a_sign_in(client, world):
    for url in (assessment_url(world.certified), certificate_url(world.certificate)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


# ---------------------------------------------------------------------------- the certificate


def test_the_certificate_shows_branch_committee_stars_dates_and_the_verification_code(client, world):
    response, content = get_pdf(client, world.people["secretary"], certificate_url(world.certificate))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = squashed(pdf_text(content))
    code = world.certificate.verification_code
    assert code in text
    assert f"https://dangjian.example.cn/verify/{code}/" in text
    assert "教育局第一党支部" in text and "市直机关工委" in text
    assert "★★★★★" in text and "five-starpartybranch" in text
    assert "2025—2026年度星级认定" in text
    assert "June20,2025" in text and "June20,2027" in text  # issued, valid until
    assert len(PdfReader(BytesIO(content)).pages) == 1


def test_the_certificate_renders_on_one_page_without_missing_glyphs(world, tmp_path):
    data = branch_pdfs.certificate_data(world.certificate)
    with translation.override("zh-hans"):
        result = branch_pdfs.render_certificate(data, tmp_path)

    assert result.notdef_warnings == []
    assert result.pages == 1


def test_a_revoked_certificate_is_stamped_as_such(client, world):
    revoke_branch(
        branch=world.tree["B1"], actor=world.people["approver"], reason="严重违纪", violation="违反廉洁纪律"
    )

    response, content = get_pdf(client, world.people["secretary"], certificate_url(world.certificate))

    assert response.status_code == 200
    assert "Revoked" in pdf_text(content)


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("approver", 200),
        ("staff", 200),
        ("parent", 200),
        ("secretary", 200),
        ("reviewer1", 200),  # the team's role is held on the whole committee
        ("secretary2", 404),
        ("other_approver", 404),
        ("outsider", 404),
    ],
)
def test_who_gets_the_certificate_of_b1(client, world, who, status):
    response, _content = get_pdf(client, world.people[who], certificate_url(world.certificate))
    assert response.status_code == status


def test_a_pdf_with_a_character_the_fonts_lack_is_refused_with_a_page_not_a_500(client, world, caplog):
    Organization.objects.filter(pk=world.tree["B1"].pk).update(name="教育局第一党支部\U000f0000")

    response, content = get_pdf(client, world.people["secretary"], certificate_url(world.certificate))

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


def test_the_verification_form_needs_no_sign_in(client, world):
    response = client.get(reverse("reports:verify"))

    assert response.status_code == 200
    assert 'name="code"' in response.text
    assert '<meta name="robots" content="noindex">' in response.text


def test_a_valid_certificate_is_shown_valid_with_the_minimal_data(client, world):
    response = client.get(verify_url(world.certificate.verification_code))

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


def test_the_code_is_case_insensitive_and_may_be_grouped(client, world):
    code = world.certificate.verification_code
    grouped = "-".join(code.lower()[i : i + 4] for i in range(0, len(code), 4))

    response = client.get(reverse("reports:verify"), {"code": f"  {grouped} "})
    assert response.status_code == 302
    assert response["Location"] == verify_url(code)

    response = client.get(verify_url(code.lower()), follow=True)
    assert response.redirect_chain == [(verify_url(code), 302)]
    assert 'data-state="valid"' in response.text


def test_a_certificate_past_its_last_day_is_shown_expired(client, world):
    with time_machine.travel(datetime.datetime(2027, 6, 21, 9, 0, tzinfo=SHANGHAI), tick=False):
        response = client.get(verify_url(world.certificate.verification_code))

    assert response.status_code == 200
    assert 'data-state="expired"' in response.text
    assert "has expired and is no longer valid" in response.text


def test_on_its_last_day_the_certificate_is_still_valid(client, world):
    with time_machine.travel(datetime.datetime(2027, 6, 20, 23, 0, tzinfo=SHANGHAI), tick=False):
        response = client.get(verify_url(world.certificate.verification_code))

    assert 'data-state="valid"' in response.text


def test_a_revoked_certificate_is_shown_revoked_without_the_reason(client, world):
    revoke_branch(
        branch=world.tree["B1"], actor=world.people["approver"], reason="严重违纪", violation="违反廉洁纪律"
    )

    response = client.get(verify_url(world.certificate.verification_code))

    assert response.status_code == 200
    assert 'data-state="revoked"' in response.text
    assert "has been revoked and is no longer valid" in response.text
    for secret in NOT_ON_THE_VERIFICATION_PAGE:
        assert secret not in response.text, secret


def test_a_superseded_certificate_is_shown_as_no_longer_valid(client, world):
    standard = world.cycle.standard
    with time_machine.travel(datetime.datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI), tick=False):
        second = new_cycle(world.tree["C1"], world.people["approver"], standard, name="2026年度复核")
        certify(
            second,
            [second.assessments.get(branch=world.tree["B1"])],
            secretary=world.people["secretary"],
            parent=world.people["parent"],
            approver=world.people["approver"],
            reviewers=[world.people[f"reviewer{n}"] for n in (1, 2, 3)],
            items=world.items,
        )
    world.certificate.refresh_from_db()
    assert world.certificate.status == CertificateStatus.SUPERSEDED

    response = client.get(verify_url(world.certificate.verification_code))

    assert response.status_code == 200
    assert 'data-state="superseded"' in response.text
    assert "replaced by a newer certification and is no longer valid" in response.text
    newer = Certificate.objects.get(assessment__cycle=second)
    assert newer.verification_code not in response.text


def test_an_unknown_code_is_a_clear_404(client, world):
    response = client.get(verify_url("0123456789ABCDEF"))

    assert response.status_code == 404
    assert 'data-state="not-found"' in response.text
    assert "No certificate found" in response.text
    assert "0123456789ABCDEF" in response.text


@pytest.mark.parametrize(
    "raw",
    ["x" * 500, "<script>alert(1)</script>", "ABC", "代码代码代码代码", "' OR 1=1 --", "%00%00"],
)
def test_absurd_input_is_refused_cleanly(client, world, raw):
    response = client.get(reverse("reports:verify"), {"code": raw})

    assert response.status_code == 400
    assert "This is not a verification code." in response.text
    assert "<script>alert" not in response.text


def test_absurd_input_in_the_address_is_refused_cleanly(client, world):
    response = client.get("/verify/" + "A" * 300 + "/")
    assert response.status_code == 400
    response = client.get("/verify/%3Cb%3E/")
    assert response.status_code == 400
    assert "<b>" not in response.text
