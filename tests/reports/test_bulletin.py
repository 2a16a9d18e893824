"""The quarterly bulletin: its data, PDF and workbook, idempotent generation and publication.

The small world (2026 Q3, today 2026-10-10 in Shanghai):

    第一工委 (C1) ── 甲党委 (P1) ── B1 ★5 (lowered to ★4 on 10-01, after the quarter)
                 │               ├─ B2 ★5 → ★4 (downgrade 08-15)
                 │               ├─ B3 ★4 → revoked 09-10
                 │               ├─ B4 ★3 (superseded an old ★2 certificate)
                 │               └─ 甲党委下属党总支 (G1) ── B5 ★5
                 ├─ 乙党委 (P2) ── B6 ★2, ran out 08-31 (expiry event 09-01)
                 │               ├─ B7 never rated
                 │               └─ B9 inactive, ★5 (left out)
                 └─ B8 directly under C1: certified ★4 on 07-01 00:30 Shanghai (06-30 UTC)
    第二工委 (C2) ── 丙党委 (Q1) ── D1 ★5 (another committee: left out)

At the quarter's end: ★5 B1 B5 · ★4 B2 B8 · ★3 B4 · unrated B3 B6 B7 → 8 branches, 25.0 %.
"""

import datetime
import json
import re
import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from pypdf import PdfReader

from branches.errors import WorkflowError
from branches.models import CommitteePolicy, Organization, OrgKind, User
from branches.roles import Role
from branches.services.organizations import assign_role, create_organization
from reports.bulletin import pdf as pdf_renderer
from reports.bulletin.data import bulletin_data
from reports.bulletin.html import bulletin_html
from reports.bulletin.xlsx import bulletin_xlsx
from reports.models import Bulletin, BulletinStatus
from reports.pdf import PdfResult
from reports.quarters import previous_quarter, quarter_of
from reports.services.bulletins import generate_bulletin, publish_bulletin
from reviews.models import (
    Assessment,
    AssessmentStatus,
    Certificate,
    CertificateStatus,
    Cycle,
    CycleStatus,
    StarEvent,
    StarEventKind,
)
from scoring.models import Standard

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = datetime.date(2026, 10, 10)
NOW = datetime.datetime(2026, 10, 10, 9, 0, tzinfo=SHANGHAI)
YEAR, QUARTER = 2026, 3


def at(y, m, d, hour=10, minute=0, tz=SHANGHAI) -> datetime.datetime:
    return datetime.datetime(y, m, d, hour, minute, tzinfo=tz)


@dataclass
class World:
    committee: Organization
    orgs: dict[str, Organization]
    people: dict[str, User]


def make_user(username: str, role: str | None = None, org: Organization | None = None) -> User:
    user = User.objects.create_user(username, password="x-unused-x", real_name=username)
    if role:
        assign_role(user=user, role=role, organization=org)
    return user


def make_cycle(committee, name, opened, status, user) -> Cycle:
    day = opened.date()
    cycle = Cycle.objects.create(
        committee=committee,
        name=name,
        standard=Standard.objects.filter(status="published").order_by("-version").first(),
        self_assessment_deadline=day + datetime.timedelta(days=30),
        preliminary_deadline=day + datetime.timedelta(days=40),
        scoring_deadline=day + datetime.timedelta(days=50),
        status=status,
        opened_by=user,
    )
    Cycle.objects.filter(pk=cycle.pk).update(opened_at=opened)
    return cycle


def assess(cycle, branch, status, score=None, stars=None, decided_at=None) -> Assessment:
    return Assessment.objects.create(
        cycle=cycle,
        branch=branch,
        status=status,
        consolidated_score=Decimal(score) if score is not None else None,
        decided_stars=stars,
        decided_at=decided_at,
    )


def certify(assessment, stars, issued, valid_until, status=CertificateStatus.VALID, from_stars=None):
    cert = Certificate.objects.create(
        branch=assessment.branch,
        assessment=assessment,
        certified_stars=stars,
        stars=stars,
        issued_at=issued,
        valid_until=valid_until,
        status=status,
    )
    StarEvent.objects.create(
        branch=assessment.branch,
        certificate=cert,
        kind=StarEventKind.CERTIFICATION,
        from_stars=from_stars,
        to_stars=stars,
        at=issued,
    )
    return cert


def star_event(cert, kind, when, from_stars, to_stars, reason="", violation=""):
    return StarEvent.objects.create(
        branch=cert.branch,
        certificate=cert,
        kind=kind,
        from_stars=from_stars,
        to_stars=to_stars,
        at=when,
        reason=reason,
        violation=violation,
    )


def build_world() -> World:
    c1 = create_organization(name="第一工委", code="C1", kind=OrgKind.COMMITTEE)
    p1 = create_organization(name="甲党委", code="P1", kind=OrgKind.PARTY_COMMITTEE, parent=c1)
    g1 = create_organization(name="甲党委下属党总支", code="G1", kind=OrgKind.GENERAL_BRANCH, parent=p1)
    p2 = create_organization(name="乙党委", code="P2", kind=OrgKind.PARTY_COMMITTEE, parent=c1)
    orgs = {"C1": c1, "P1": p1, "G1": g1, "P2": p2}
    for code, name, parent in [
        ("B1", "甲一支部", p1),
        ("B2", "甲二支部", p1),
        ("B3", "甲三支部", p1),
        ("B4", "甲四支部", p1),
        ("B5", "总支一支部", g1),
        ("B6", "乙一支部", p2),
        ("B7", "乙二支部", p2),
        ("B9", "乙三支部（已撤销）", p2),
        ("B8", "工委机关支部", c1),
    ]:
        orgs[code] = create_organization(name=name, code=code, kind=OrgKind.BRANCH, parent=parent)
    Organization.objects.filter(pk=orgs["B9"].pk).update(is_active=False)
    c2 = create_organization(name="第二工委", code="C2", kind=OrgKind.COMMITTEE)
    q1 = create_organization(name="丙党委", code="Q1", kind=OrgKind.PARTY_COMMITTEE, parent=c2)
    orgs.update(
        C2=c2, Q1=q1, D1=create_organization(name="丙一支部", code="D1", kind=OrgKind.BRANCH, parent=q1)
    )
    CommitteePolicy.objects.filter(committee=c1).update(
        five_star_target_percent=Decimal("80"),
        target_deadline=datetime.date(2027, 12, 31),
        five_goods_min_percent=Decimal("40"),
    )

    people = {
        "staff": make_user("staff", Role.STAFF, c1),
        "approver": make_user("approver", Role.COMMITTEE_APPROVER, c1),
        "secretary": make_user("secretary", Role.BRANCH_SECRETARY, orgs["B1"]),
        "p2_staff": make_user("p2_staff", Role.STAFF, p2),
        "other_staff": make_user("other_staff", Role.STAFF, c2),
        "outsider": make_user("outsider"),
    }
    user = people["approver"]
    B = orgs
    done = AssessmentStatus.CERTIFIED
    oldest = make_cycle(c1, "2021—2022年度", at(2022, 10, 1), CycleStatus.CERTIFIED, user)
    past = make_cycle(c1, "2023—2024年度", at(2024, 10, 1), CycleStatus.CERTIFIED, user)
    current = make_cycle(c1, "2025—2026年度", at(2026, 5, 1), CycleStatus.OPEN, user)
    decided = at(2024, 12, 20)
    issued = at(2025, 1, 10)
    until = datetime.date(2027, 1, 10)

    old_b4 = certify(
        assess(oldest, B["B4"], done, "75.0", 2, at(2022, 12, 20)),
        2,
        at(2023, 1, 1),
        datetime.date(2025, 1, 1),
        status=CertificateStatus.SUPERSEDED,
    )
    c = {
        code: certify(
            assess(past, B[code], done, score, stars, decided), stars, issued, until, from_stars=None
        )
        for code, score, stars in [
            ("B1", "96.0", 5),
            ("B2", "95.5", 5),
            ("B3", "92.0", 4),
            ("B5", "97.0", 5),
            ("B9", "99.9", 5),
        ]
    }
    c["B4"] = certify(
        assess(past, B["B4"], done, "92.0", 3, decided), 3, issued, until, from_stars=old_b4.stars
    )
    c["B6"] = certify(
        assess(past, B["B6"], done, "72.0", 2, decided),
        2,
        issued,
        datetime.date(2026, 8, 31),
        status=CertificateStatus.EXPIRED,
    )
    # Dynamic management in (and just after) the quarter.
    Certificate.objects.filter(pk=c["B2"].pk).update(stars=4)
    star_event(
        c["B2"], StarEventKind.DOWNGRADE, at(2026, 8, 15), 5, 4, "未按期召开组织生活会", "三会一课制度"
    )
    Certificate.objects.filter(pk=c["B3"].pk).update(status=CertificateStatus.REVOKED)
    star_event(c["B3"], StarEventKind.REVOCATION, at(2026, 9, 10), 4, None, "发生违纪问题", "廉洁纪律")
    star_event(c["B6"], StarEventKind.EXPIRY, at(2026, 9, 1, 1), 2, None)
    # 2026-10-01 00:30 in Shanghai is still 09-30 in UTC: after the quarter all the same.
    Certificate.objects.filter(pk=c["B1"].pk).update(stars=4)
    star_event(
        c["B1"],
        StarEventKind.DOWNGRADE,
        at(2026, 9, 30, 16, 30, tz=datetime.UTC),
        5,
        4,
        "督导发现问题",
        "学习制度",
    )

    # The current cycle: B8 certified at 2026-07-01 00:30 Shanghai (06-30 in UTC).
    for code, status, score, stars, when in [
        ("B1", AssessmentStatus.NOT_STARTED, None, None, None),
        ("B2", AssessmentStatus.DRAFT, None, None, None),
        ("B3", AssessmentStatus.RETURNED, None, None, None),
        ("B4", AssessmentStatus.SCORED, "99.0", None, None),
        ("B5", AssessmentStatus.SUBMITTED, None, None, None),
        ("B6", AssessmentStatus.DECIDED, "99.0", 5, at(2026, 10, 3)),
        ("B7", AssessmentStatus.FORWARDED, None, None, None),
    ]:
        assess(current, B[code], status, score, stars, when)
    certify(
        assess(current, B["B8"], AssessmentStatus.CERTIFIED, "96.5", 4, at(2026, 6, 30, 10, tz=datetime.UTC)),
        4,
        at(2026, 6, 30, 16, 30, tz=datetime.UTC),
        datetime.date(2028, 7, 1),
    )

    other = make_cycle(c2, "丙工委周期", at(2024, 10, 1), CycleStatus.CERTIFIED, people["other_staff"])
    certify(assess(other, orgs["D1"], done, "99.5", 5, decided), 5, issued, until)
    return World(committee=c1, orgs=orgs, people=people)


@pytest.fixture
def world(db) -> World:
    return build_world()


@pytest.fixture
def data(world) -> dict:
    with translation.override("zh-hans"):
        return bulletin_data(committee=world.committee, year=YEAR, quarter=QUARTER, today=TODAY)


@pytest.fixture(autouse=True)
def in_english():
    """Messages in English, whatever the catalogue says; the bulletin itself is rendered in Chinese."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def names(rows, key="name") -> list[str]:
    return [row[key] for row in rows]


# --- Quarters --------------------------------------------------------------------------------


def test_quarter_of_and_previous_quarter_cross_the_year():
    assert quarter_of(datetime.date(2026, 1, 1)) == (2026, 1)
    assert quarter_of(datetime.date(2026, 9, 30)) == (2026, 3)
    assert quarter_of(datetime.date(2026, 10, 1)) == (2026, 4)
    assert previous_quarter(2026, 1) == (2025, 4)
    assert previous_quarter(2026, 3) == (2026, 2)
    assert previous_quarter(2026, 3, steps=7) == (2024, 4)


# --- The data --------------------------------------------------------------------------------


def test_star_counts_are_those_in_force_at_the_quarters_end(data):
    assert data["committee"]["name"] == "第一工委"
    assert data["period"] == {
        "start": "2026-07-01",
        "end": "2026-09-30",
        "as_of": "2026-09-30",
        "complete": True,
        "timezone": "Asia/Shanghai",
    }
    totals = data["totals"]
    assert totals["branches"] == 8
    assert totals["counts"] == [2, 2, 1, 0, 0]  # ★5 ★4 ★3 ★2 ★1
    assert (totals["rated"], totals["unrated"]) == (5, 3)
    assert totals["five_star_percent"] == "25.0"
    assert data["target"] == {
        "five_star_percent": "25.0",
        "target_percent": "80",
        "reached": False,
        "gap": "55",
    }


def test_distribution_per_parent_org_covers_its_subtree_and_adds_up_to_the_totals(data):
    rows = {row["name"]: row for row in data["distribution"]}
    assert len(rows) == 3 and set(list(rows)[:2]) == {"甲党委", "乙党委"}  # the direct branches last
    assert rows["甲党委"]["branches"] == 5  # B5 of the nested general branch included
    assert rows["甲党委"]["counts"] == [2, 1, 1, 0, 0]
    assert rows["甲党委"]["unrated"] == 1
    assert rows["乙党委"]["counts"] == [0, 0, 0, 0, 0] and rows["乙党委"]["unrated"] == 2
    direct = data["distribution"][-1]
    assert direct["branches"] == 1 and direct["counts"] == [0, 1, 0, 0, 0]
    for index in range(5):
        assert sum(row["counts"][index] for row in data["distribution"]) == data["totals"]["counts"][index]


def test_commendation_lists_name_the_five_four_and_three_star_branches_with_their_parent(data):
    lists = {group["stars"]: group["branches"] for group in data["commendations"]}
    assert list(lists) == [5, 4, 3]
    assert {(b["name"], b["parent"]) for b in lists[5]} == {
        ("甲一支部", "甲党委"),
        ("总支一支部", "甲党委下属党总支"),
    }
    assert {(b["name"], b["parent"]) for b in lists[4]} == {
        ("甲二支部", "甲党委"),
        ("工委机关支部", "第一工委"),
    }
    assert [(b["name"], b["since"]) for b in lists[3]] == [("甲四支部", "2025-01-10")]


def test_changes_are_the_star_events_of_the_quarter_in_shanghai_time(data):
    rows = data["changes"]["rows"]
    assert [(r["date"], r["branch"], r["kind"], r["from_stars"], r["to_stars"]) for r in rows] == [
        ("2026-07-01", "工委机关支部", "certification", None, 4),
        ("2026-08-15", "甲二支部", "downgrade", 5, 4),
        ("2026-09-01", "乙一支部", "expiry", 2, None),
        ("2026-09-10", "甲三支部", "revocation", 4, None),
    ]
    downgrade = rows[1]
    assert (downgrade["reason"], downgrade["violation"], downgrade["parent"]) == (
        "未按期召开组织生活会",
        "三会一课制度",
        "甲党委",
    )
    assert {item["kind"]: item["count"] for item in data["changes"]["summary"]} == {
        "certification": 1,
        "downgrade": 1,
        "revocation": 1,
        "expiry": 1,
    }


def test_ranking_uses_each_branchs_latest_decided_score_and_ties_share_a_rank(data):
    ranking = data["ranking"]
    assert ranking["ranked"] == 7  # B7 never scored; B9 inactive; D1 another committee
    assert [(r["branch"], r["score"], r["rank"]) for r in ranking["top"][:4]] == [
        ("总支一支部", "97.0", 1),
        ("工委机关支部", "96.5", 2),  # the current cycle's score, not the past one
        ("甲一支部", "96.0", 3),
        ("甲二支部", "95.5", 4),
    ]
    assert {(r["branch"], r["rank"]) for r in ranking["top"][4:6]} == {("甲三支部", 5), ("甲四支部", 5)}
    # B6's 99.0 was decided after the quarter; B4's 99.0 is not decided yet.
    assert (ranking["top"][6]["branch"], ranking["top"][6]["score"], ranking["top"][6]["rank"]) == (
        "乙一支部",
        "72.0",
        7,
    )
    assert ranking["bottom"] == []  # seven branches: all in the top ten


@pytest.mark.parametrize(
    ("minimum", "p1_eligible"),
    [(Decimal("40"), True), (Decimal("40.01"), False), (Decimal("39.99"), True)],
)
def test_five_goods_needs_the_minimum_five_star_share_exactly(world, minimum, p1_eligible):
    CommitteePolicy.objects.filter(committee=world.committee).update(five_goods_min_percent=minimum)
    data = bulletin_data(committee=world.committee, year=YEAR, quarter=QUARTER, today=TODAY)
    rows = {row["name"]: row for row in data["five_goods"]}
    assert (rows["甲党委"]["branches"], rows["甲党委"]["five_star"], rows["甲党委"]["five_star_percent"]) == (
        5,
        2,
        "40.0",
    )
    assert rows["甲党委"]["eligible"] is p1_eligible
    assert rows["甲党委下属党总支"]["eligible"] is True and rows["甲党委下属党总支"]["level"] == 1
    assert rows["乙党委"]["eligible"] is False


def test_trend_gives_the_five_star_share_at_the_end_of_each_of_the_last_eight_quarters(data):
    trend = data["trend"]
    assert [(p["year"], p["quarter"]) for p in trend] == [
        (2024, 4),
        (2025, 1),
        (2025, 2),
        (2025, 3),
        (2025, 4),
        (2026, 1),
        (2026, 2),
        (2026, 3),
    ]
    # 2024 Q4: only B4's old two-star certificate; then B1 B2 B5 five-star; Q3: B1 B5.
    assert [(p["rated"], p["five_star"], p["five_star_percent"]) for p in trend] == [
        (1, 0, "0.0"),
        *[(6, 3, "37.5")] * 6,
        (5, 2, "25.0"),
    ]
    assert trend[-1]["as_of"] == "2026-09-30" and trend[0]["as_of"] == "2024-12-31"


def test_progress_counts_the_current_cycle_by_funnel_stage_per_parent_org(data):
    progress = data["progress"]
    assert progress["cycle"]["name"] == "2025—2026年度"
    stages = [stage["status"] for stage in progress["stages"]]
    assert stages == ["not_started", "draft", "submitted", "forwarded", "scored", "decided", "certified"]
    rows = {row["name"]: row for row in progress["rows"]}
    assert rows["甲党委"]["counts"] == [1, 2, 1, 0, 1, 0, 0]  # returned counts as draft
    assert rows["乙党委"]["counts"] == [0, 0, 0, 1, 0, 1, 0]
    assert progress["rows"][-1]["counts"] == [0, 0, 0, 0, 0, 0, 1]
    assert progress["totals"] == {"counts": [1, 2, 1, 1, 1, 1, 1], "total": 8}


def test_a_running_quarter_counts_the_levels_in_force_today(world):
    data = bulletin_data(committee=world.committee, year=2026, quarter=4, today=TODAY)
    assert data["period"]["as_of"] == "2026-10-10" and data["period"]["complete"] is False
    # B1's downgrade on 10-01 counts now.
    assert data["totals"]["counts"] == [1, 3, 1, 0, 0]
    assert [row["kind"] for row in data["changes"]["rows"]] == ["downgrade"]
    assert data["ranking"]["top"][0]["score"] == "99.0"  # B6, decided on 10-03


def test_a_quarter_that_has_not_begun_is_refused(world):
    with pytest.raises(ValueError, match="not begun"):
        bulletin_data(committee=world.committee, year=2027, quarter=1, today=TODAY)


def test_the_data_is_plain_json(data):
    assert json.loads(json.dumps(data)) == data


def build_committee(n_branches: int, prefix: str) -> Organization:
    """A committee with two parent orgs and ``n_branches`` branches, each certified and scored."""
    committee = create_organization(name=f"{prefix}工委", code=f"{prefix}C", kind=OrgKind.COMMITTEE)
    parents = [
        create_organization(
            name=f"{prefix}党委{i}", code=f"{prefix}P{i}", kind=OrgKind.PARTY_COMMITTEE, parent=committee
        )
        for i in range(2)
    ]
    user = make_user(f"{prefix}-staff", Role.STAFF, committee)
    past = make_cycle(committee, "往期", at(2024, 10, 1), CycleStatus.CERTIFIED, user)
    current = make_cycle(committee, "本期", at(2026, 5, 1), CycleStatus.OPEN, user)
    for i in range(n_branches):
        branch = create_organization(
            name=f"{prefix}支部{i}", code=f"{prefix}B{i}", kind=OrgKind.BRANCH, parent=parents[i % 2]
        )
        stars = 5 - i % 5
        cert = certify(
            assess(past, branch, AssessmentStatus.CERTIFIED, f"{70 + i % 30}.5", stars, at(2024, 12, 20)),
            stars,
            at(2025, 1, 10),
            datetime.date(2027, 1, 10),
        )
        if i % 7 == 0:
            star_event(
                cert, StarEventKind.DOWNGRADE, at(2026, 8, 1), stars, max(stars - 1, 1), "原因", "违规"
            )
        assess(current, branch, AssessmentStatus.DRAFT)
    return committee


def data_queries(n_branches: int, prefix: str) -> tuple[int, dict]:
    committee = build_committee(n_branches, prefix)
    with CaptureQueriesContext(connection) as ctx:
        data = bulletin_data(committee=committee, year=YEAR, quarter=QUARTER, today=TODAY)
    return len(ctx.captured_queries), data


@pytest.mark.django_db
def test_the_data_function_runs_the_same_number_of_queries_with_10_and_200_branches():
    small, small_data = data_queries(10, "S")
    large, large_data = data_queries(200, "L")
    assert small == large
    assert small_data["totals"]["branches"] == 10 and large_data["totals"]["branches"] == 200
    assert len(large_data["ranking"]["top"]) == 10 and len(large_data["ranking"]["bottom"]) == 10
    assert len(large_data["changes"]["rows"]) == 29


# --- Rendering -------------------------------------------------------------------------------


def pdf_text(path: Path) -> list[str]:
    return [page.extract_text() for page in PdfReader(path).pages]


@pytest.fixture
def generated(world, media) -> Bulletin:
    with time_machine.travel(NOW):
        return generate_bulletin(committee_id=world.committee.pk, year=YEAR, quarter=QUARTER)


def test_generation_makes_a_draft_with_its_pdf_and_workbook_under_media(generated, media):
    assert generated.status == BulletinStatus.DRAFT, generated.error
    assert generated.error == ""
    committee_id = generated.committee_id
    assert generated.pdf.name == f"bulletins/{committee_id}/2026Q3.pdf"
    assert generated.xlsx.name == f"bulletins/{committee_id}/2026Q3.xlsx"
    assert (media / generated.pdf.name).is_file() and (media / generated.xlsx.name).is_file()
    assert generated.data["totals"]["counts"] == [2, 2, 1, 0, 0]
    assert generated.data["language"] == "zh-hans"
    assert list((media / "bulletins" / str(committee_id)).glob("*.part")) == []


def test_the_pdf_holds_the_committee_the_counts_per_star_level_and_page_numbers(generated, media):
    pages = pdf_text(media / generated.pdf.name)
    text = "\n".join(pages)
    assert "第一工委" in pages[0]
    assert "第 1 页 / 共" in pages[0]
    # The distribution's total row: 8 branches, ★5..★1 = 2 2 1 0 0, 3 unrated, 25.0 %.
    assert re.search(r"\b8 2 2 1 0 0 3 25\.0%", text)
    assert "5 星" in text and "甲党委下属党总支" in text
    assert "未按期召开组织生活会" in text.replace("\n", "")  # a wrapped table cell


def test_the_bulletin_html_renders_without_missing_glyphs(data, tmp_path):
    from reports.pdf import render_pdf

    html = bulletin_html(data)
    assert '<html lang="zh-CN">' in html
    assert html.count("<svg") == 2 and "Dangjian CJK" in html
    result = render_pdf(html, tmp_path / "check.pdf")
    assert result.notdef_warnings == []
    assert result.pages >= 2


def test_a_pdf_with_missing_glyphs_is_refused(world, media, monkeypatch):
    def boxes(html, target, **kwargs):
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        Path(target).write_bytes(b"%PDF-1.4 boxes")
        return PdfResult(
            path=Path(target), pages=1, notdef_warnings=["No glyph for U+4E00 .notdef glyph rendered"]
        )

    monkeypatch.setattr(pdf_renderer, "render_pdf", boxes)
    with time_machine.travel(NOW):
        bulletin = generate_bulletin(committee_id=world.committee.pk, year=YEAR, quarter=QUARTER)
    assert bulletin.status == BulletinStatus.FAILED
    assert ".notdef" in bulletin.error
    assert not bulletin.pdf and not bulletin.xlsx
    assert not (media / "bulletins" / str(world.committee.pk) / "2026Q3.pdf").exists()


def test_an_unexpected_error_marks_the_bulletin_failed_and_propagates(world, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("pango exploded")

    monkeypatch.setattr(pdf_renderer, "render_pdf", broken)
    with time_machine.travel(NOW), pytest.raises(RuntimeError):
        generate_bulletin(committee_id=world.committee.pk, year=YEAR, quarter=QUARTER)
    bulletin = Bulletin.objects.get(committee=world.committee)
    assert bulletin.status == BulletinStatus.FAILED
    assert "pango exploded" in bulletin.error


def test_the_workbook_has_its_six_sheets_with_numbers_equal_to_the_data_and_the_pdf(generated, media):
    data = generated.data
    workbook = openpyxl.load_workbook(media / generated.xlsx.name)
    with translation.override("zh-hans"):
        expected = [
            translation.gettext(name)
            for name in (
                "Star distribution",
                "Commendation",
                "Changes in the quarter",
                "Certification progress",
                "Score ranking",
                "Five goods",
            )
        ]
    assert workbook.sheetnames == expected
    distribution, commendation, changes, progress, ranking, five_goods = (workbook[n] for n in expected)

    rows = list(distribution.iter_rows(min_row=3, values_only=True))
    total = rows[len(data["distribution"])]
    assert list(total[1:8]) == [8, 2, 2, 1, 0, 0, 3]
    assert all(isinstance(value, int) for value in total[1:8])
    assert total[8] == pytest.approx(25.0)
    # The same numbers as the PDF's total row.
    assert re.search(
        " ".join(str(v) for v in total[1:8]) + r" 25\.0%", "\n".join(pdf_text(media / generated.pdf.name))
    )

    stars = [row[0] for row in commendation.iter_rows(min_row=3, values_only=True)]
    assert stars == [5, 5, 4, 4, 3]

    change_rows = list(changes.iter_rows(min_row=3, values_only=True))
    assert len(change_rows) == 4
    assert change_rows[1][0] == datetime.datetime(2026, 8, 15)  # a date cell
    assert change_rows[1][4:6] == (5, 4)

    ranking_rows = list(ranking.iter_rows(min_row=3, values_only=True))
    assert [(row[1], row[4]) for row in ranking_rows[:2]] == [(1, 97.0), (2, 96.5)]
    assert not isinstance(ranking_rows[0][4], str)  # a number, as Excel reads it

    progress_rows = list(progress.iter_rows(min_row=3, values_only=True))
    assert list(progress_rows[-1][1:]) == [1, 2, 1, 1, 1, 1, 1, 8]

    goods = {row[0]: row for row in five_goods.iter_rows(min_row=3, values_only=True)}
    assert goods["甲党委"][2:5] == (5, 2, 40.0)


def test_the_workbook_is_written_atomically(data, tmp_path):
    target = tmp_path / "out" / "b.xlsx"
    bulletin_xlsx(data, target)
    assert target.is_file()
    assert [p.name for p in target.parent.iterdir()] == ["b.xlsx"]


# --- Idempotence and publication --------------------------------------------------------------


def test_generating_twice_keeps_one_row_and_refreshes_the_draft(generated, world):
    first_generated_at = generated.generated_at
    with time_machine.travel(NOW + datetime.timedelta(hours=1)):
        again = generate_bulletin(committee_id=world.committee.pk, year=YEAR, quarter=QUARTER)
    assert again.pk == generated.pk
    assert Bulletin.objects.filter(committee=world.committee).count() == 1
    assert again.status == BulletinStatus.DRAFT
    assert again.generated_at > first_generated_at


def test_a_row_inserted_by_another_worker_is_reused_not_duplicated(world):
    existing = Bulletin.objects.create(committee=world.committee, year=YEAR, quarter=QUARTER)
    with time_machine.travel(NOW):
        bulletin = generate_bulletin(committee_id=world.committee.pk, year=YEAR, quarter=QUARTER)
    assert bulletin.pk == existing.pk and bulletin.status == BulletinStatus.DRAFT
    assert Bulletin.objects.count() == 1


def test_a_published_bulletin_is_never_generated_again(generated, world, media):
    publish_bulletin(bulletin=generated, actor=world.people["staff"])
    pdf = media / generated.pdf.name
    before = (pdf.stat().st_mtime_ns, Bulletin.objects.get(pk=generated.pk).data)
    # Records change afterwards; the published bulletin does not.
    Assessment.objects.filter(branch=world.orgs["B7"]).update(consolidated_score=Decimal("100"))
    with time_machine.travel(NOW + datetime.timedelta(days=1)):
        again = generate_bulletin(committee_id=world.committee.pk, year=YEAR, quarter=QUARTER)
    assert again.status == BulletinStatus.PUBLISHED
    assert (pdf.stat().st_mtime_ns, Bulletin.objects.get(pk=generated.pk).data) == before


def test_a_quarter_that_has_not_begun_cannot_be_generated(world):
    from django.core.exceptions import ValidationError

    with time_machine.travel(NOW), pytest.raises(ValidationError):
        generate_bulletin(committee_id=world.committee.pk, year=2027, quarter=1)
    assert not Bulletin.objects.exists()


def draft(world) -> Bulletin:
    return Bulletin.objects.create(
        committee=world.committee, year=YEAR, quarter=QUARTER, status=BulletinStatus.DRAFT, data={"x": 1}
    )


@pytest.mark.parametrize("who", ["staff", "approver"])
def test_staff_and_approvers_publish_a_draft(world, who):
    bulletin = publish_bulletin(bulletin=draft(world), actor=world.people[who])
    assert bulletin.status == BulletinStatus.PUBLISHED
    assert bulletin.published_by == world.people[who] and bulletin.published_at is not None


@pytest.mark.parametrize("who", ["secretary", "p2_staff", "other_staff", "outsider"])
def test_others_cannot_publish(world, who):
    bulletin = draft(world)
    with pytest.raises(PermissionDenied):
        publish_bulletin(bulletin=bulletin, actor=world.people[who])
    assert Bulletin.objects.get(pk=bulletin.pk).status == BulletinStatus.DRAFT


def test_publishing_twice_makes_one_change(world):
    bulletin = draft(world)
    first = publish_bulletin(bulletin=bulletin, actor=world.people["staff"])
    stale = Bulletin.objects.get(pk=bulletin.pk)
    stale.status = BulletinStatus.DRAFT  # a second click from a page loaded before the first
    with pytest.raises(WorkflowError, match="already been published"):
        publish_bulletin(bulletin=stale, actor=world.people["approver"])
    after = Bulletin.objects.get(pk=bulletin.pk)
    assert (after.published_by, after.published_at) == (world.people["staff"], first.published_at)


@pytest.mark.parametrize("status", [BulletinStatus.GENERATING, BulletinStatus.FAILED])
def test_only_a_draft_can_be_published(world, status):
    bulletin = draft(world)
    Bulletin.objects.filter(pk=bulletin.pk).update(status=status)
    bulletin.refresh_from_db()
    with pytest.raises(WorkflowError):
        publish_bulletin(bulletin=bulletin, actor=world.people["staff"])


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_generations_make_one_bulletin_rendered_once(monkeypatch, media):
    if connection.vendor != "postgresql":
        pytest.skip("needs a database with row locks and concurrent writers (PostgreSQL)")
    committee = create_organization(name="并发工委", code="RACE", kind=OrgKind.COMMITTEE)
    create_organization(name="并发支部", code="RACE-B", kind=OrgKind.BRANCH, parent=committee)
    calls = []

    def slow_render(html, target, **kwargs):
        calls.append(target)
        time.sleep(1.5)  # long enough for the other worker to arrive while this one renders
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        Path(target).write_bytes(b"%PDF-1.4 slow")
        return PdfResult(path=Path(target), pages=1)

    monkeypatch.setattr(pdf_renderer, "render_pdf", slow_render)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def worker():
        try:
            barrier.wait()
            results.append(generate_bulletin(committee_id=committee.pk, year=YEAR, quarter=QUARTER).pk)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    with time_machine.travel(NOW):  # process-wide: entered once, not per thread
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert Bulletin.objects.filter(committee=committee).count() == 1
    assert len(set(results)) == 1 and len(results) == 2
    assert len(calls) == 1
    assert Bulletin.objects.get(committee=committee).status == BulletinStatus.DRAFT


def test_the_web_preview_cuts_long_lists_and_says_how_many_rows_the_files_hold(data):
    from reports.bulletin.html import document_html

    data = {**data, "language": "en"}  # the bulletin renders in its own language
    cut = str(document_html(data, row_limit=1))
    full = str(document_html(data))
    assert "And 1 more" in cut and "And 1 more" not in full
    assert cut.count("<svg") == full.count("<svg") == 2
