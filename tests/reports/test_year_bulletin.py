"""The year bulletin (年度通报): the frozen data, generation and publication, PDF, Excel, pages.

The year of tests/checks/test_year.py (four published checks of 2025):

    year means A 90.0 · B 89.9 · F 85.5 · D 85.25 · E 84.25 · C 79.75 → ranks A1 B2 F3 D4 E5 C6
    A is named 五好党支部 (threshold 90), B is not; C and E are flagged (班子调整), C's action
    is recorded; C's 70 (Q1) and 75 (Q3) proposed downgrades, one dismissed, one still open.
"""

import datetime
import logging
from decimal import Decimal

import openpyxl
import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from branches.errors import WorkflowError
from branches.roles import Role
from checks.models import (
    CheckRound,
    CheckRoundStatus,
    CheckSheet,
    CheckSheetStatus,
    DowngradeProposal,
    LeadershipFlag,
    YearResult,
)
from checks.services.years import dismiss_proposal, record_flag_action
from reports.bulletin.year import PDF_BRANCH_LIMIT, year_bulletin_data, year_document_context
from reports.models import Bulletin, BulletinEvent, BulletinKind, BulletinStatus, JobRun, JobStatus
from reports.services.bulletins import generate_year_bulletin, publish_bulletin
from reports.tasks import generate_year_bulletin_task
from scoring.services.defaults import ensure_default_check_standard
from tests.checks.test_year import year_world  # noqa: F401 - the fixture
from tests.factories import make_sized_committee, make_user

pytestmark = pytest.mark.django_db

AFTER_THE_YEAR = "2026-01-12 10:00 +0800"
RANKS = ["A支部", "B支部", "F支部", "D支部", "E支部", "C支部"]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def year(year_world):  # noqa: F811
    """The year, with C's action recorded and C's Q1 proposal dismissed by the approver."""
    world, rounds = year_world
    with time_machine.travel("2025-10-20 10:00 +0800", tick=False):
        record_flag_action(
            flag=LeadershipFlag.objects.get(branch=world.branches["C"]),
            actor=world.p1_reviewer,
            action_taken="党委约谈支部书记，改选支部委员会。",
            action_on=datetime.date(2025, 10, 15),
        )
        first = DowngradeProposal.objects.get(sheet__round=rounds[1])
        dismiss_proposal(proposal=first, actor=world.approver, reason="已整改到位。")
    return world, rounds


def generate(world):
    with time_machine.travel(AFTER_THE_YEAR, tick=False):
        return generate_year_bulletin(committee_id=world.committee.pk, year=2025)


def pdf_text(bulletin: Bulletin) -> str:
    with bulletin.pdf.open("rb") as handle:
        return "\n".join(page.extract_text() for page in PdfReader(handle).pages)


# --- The data ------------------------------------------------------------------------------------


def test_the_data_ranks_the_year_means_as_the_year_results_hold_them(year):
    world, _rounds = year
    with translation.override("zh-hans"):
        data = year_bulletin_data(committee=world.committee, year=2025)
    assert [row["branch"] for row in data["rows"]] == RANKS
    assert [row["rank"] for row in data["rows"]] == [1, 2, 3, 4, 5, 6]
    means = {row["branch"]: row["mean"] for row in data["rows"]}
    assert means == {
        "A支部": "90.00",
        "B支部": "89.90",
        "F支部": "85.50",
        "D支部": "85.25",
        "E支部": "84.25",
        "C支部": "79.75",
    }
    stored = {r.branch.name: str(r.average_shown) for r in YearResult.objects.filter(year=2025)}
    assert means == stored
    c = data["rows"][-1]
    assert c["scores"] == ["70.0", "86.0", "75.0", "88.0"]
    assert c["ranks"] == [6, 2, 6, 6] and c["flagged"] and c["last_places"] == 3
    assert [q["label"] for q in data["quarters"]] == [
        "2025年第1季度",
        "2025年第2季度",
        "2025年第3季度",
        "2025年第4季度",
    ]


def test_the_data_names_the_five_good_branches_by_the_committees_threshold(year):
    world, _rounds = year
    data = year_bulletin_data(committee=world.committee, year=2025)
    assert data["threshold"] == "90"
    assert [row["branch"] for row in data["five_goods"]] == ["A支部"]
    assert data["totals"] == {"branches": 6, "ranked": 6, "five_good": 1, "flags": 2, "mean": "85.77"}


def test_the_data_holds_the_flags_with_the_action_and_the_proposals_with_their_outcome(year):
    world, _rounds = year
    with translation.override("zh-hans"):
        data = year_bulletin_data(committee=world.committee, year=2025)
    flags = {flag["branch"]: flag for flag in data["flags"]}
    assert set(flags) == {"C支部", "E支部"}
    assert flags["C支部"]["action_taken"] == "党委约谈支部书记，改选支部委员会。"
    assert flags["C支部"]["action_on"] == "2025-10-15"
    assert flags["C支部"]["recorded_at"] == "2025-10-20"
    assert flags["C支部"]["recorded_by"] == "一号初审"
    assert flags["C支部"]["quarters"] == "2025年第1季度, 2025年第3季度, 2025年第4季度"
    assert flags["E支部"]["action_taken"] == "" and flags["E支部"]["action_on"] is None
    proposals = data["proposals"]["rows"]
    assert [(p["branch"], p["status"]) for p in proposals] == [("C支部", "dismissed"), ("C支部", "open")]
    assert proposals[0]["note"] == "已整改到位。" and proposals[0]["decided"] == "2025-10-20"
    summary = {item["status"]: item["count"] for item in data["proposals"]["summary"]}
    assert summary == {"open": 1, "downgraded": 0, "dismissed": 1}


def test_the_data_sums_up_each_party_committee(year):
    world, _rounds = year
    data = year_bulletin_data(committee=world.committee, year=2025)
    assert data["groups"] == [
        {"name": "一号党委", "branches": 3, "mean": "86.55", "five_good": 1, "flags": 1},
        {"name": "二号党委", "branches": 3, "mean": "85.00", "five_good": 0, "flags": 1},
    ]


def test_a_year_without_its_four_published_checks_is_refused_and_makes_no_row(year_world):  # noqa: F811
    world, rounds = year_world
    CheckRound.objects.filter(pk=rounds[4].pk).update(status=CheckRoundStatus.OPEN)
    with pytest.raises(ValidationError) as refused, translation.override("zh-hans"):
        generate(world)
    assert "2025年第4季度" in str(refused.value)
    assert not Bulletin.objects.exists()


def test_a_branch_scored_in_fewer_quarters_is_listed_after_the_ranked_ones_unranked(year):
    world, rounds = year
    CheckSheet.objects.filter(round=rounds[2], branch=world.branches["A"]).delete()
    from checks.services.years import compute_year_results

    compute_year_results(committee_id=world.committee.pk, year=2025)
    data = year_bulletin_data(committee=world.committee, year=2025)
    assert data["rows"][-1]["branch"] == "A支部" and data["rows"][-1]["rank"] is None
    assert data["rows"][-1]["scores"][1] is None
    assert [row["rank"] for row in data["rows"][:5]] == [1, 2, 3, 4, 5]
    assert data["five_goods"] == []


# --- Generation, publication, files -----------------------------------------------------------


def test_generating_makes_one_draft_with_its_pdf_and_workbook_and_an_event(year, caplog):
    world, _rounds = year
    caplog.set_level(logging.WARNING, logger="weasyprint")
    bulletin = generate(world)
    again = generate(world)
    assert again.pk == bulletin.pk and Bulletin.objects.count() == 1
    assert (bulletin.kind, bulletin.year, bulletin.quarter, bulletin.status) == (
        BulletinKind.YEAR,
        2025,
        None,
        BulletinStatus.DRAFT,
    )
    assert bulletin.pdf.name.endswith("/2025.pdf") and bulletin.xlsx.name.endswith("/2025.xlsx")
    assert not [r for r in caplog.records if ".notdef" in r.getMessage()]
    assert list(BulletinEvent.objects.filter(bulletin=bulletin).values_list("action", flat=True)) == [
        "generate",
        "generate",
    ]


def test_the_pdf_shows_the_ranking_the_five_good_list_the_flags_and_the_proposals(year):
    world, _rounds = year
    text = pdf_text(generate(world))
    assert "2025年度季度考核年度通报" in text.replace(" ", "").replace("\n", "")
    order = [text.index(name) for name in RANKS]
    assert order == sorted(order)
    for needle in ("五好党支部", "90.00", "79.75", "党委约谈支部书记", "2025-10-15", "已整改到位", "86.55"):
        assert needle in text, needle


def test_the_excel_holds_every_branch_with_its_four_quarters(year):
    world, _rounds = year
    bulletin = generate(world)
    with bulletin.xlsx.open("rb") as handle:
        workbook = openpyxl.load_workbook(handle)
    assert workbook.sheetnames == ["年度排名", "各党委汇总", "五好党支部", "班子调整", "降星建议"]
    ranking = workbook["年度排名"]
    rows = list(ranking.iter_rows(min_row=3, values_only=True))
    assert [row[1] for row in rows] == RANKS
    c = rows[-1]
    assert c[0] == 6 and c[3:11] == (
        Decimal("70.0"),
        6,
        Decimal("86.0"),
        2,
        Decimal("75.0"),
        6,
        Decimal("88.0"),
        6,
    )
    assert c[12] == Decimal("79.75") and c[15] == "是"
    flags = list(workbook["班子调整"].iter_rows(min_row=3, values_only=True))
    assert flags[0][0] == "C支部" and flags[0][4] == datetime.datetime(2025, 10, 15)


def test_publishing_is_guarded_and_recorded_and_a_published_year_is_never_generated_again(year):
    world, _rounds = year
    bulletin = generate(world)
    secretary = world.secretary_a
    with pytest.raises(PermissionDenied):  # a role too low: refused, nothing moves
        publish_bulletin(bulletin=bulletin, actor=secretary)
    published = publish_bulletin(bulletin=bulletin, actor=world.staff)
    assert published.status == BulletinStatus.PUBLISHED and published.published_by == world.staff
    with pytest.raises(WorkflowError):
        publish_bulletin(bulletin=published, actor=world.approver)
    data = Bulletin.objects.get(pk=bulletin.pk).data
    assert generate(world).data == data
    assert BulletinEvent.objects.filter(bulletin=bulletin, action="publish").count() == 1


def test_the_task_records_its_run_and_a_refusal_fails_it_at_once(year_world):  # noqa: F811
    world, rounds = year_world
    CheckRound.objects.filter(pk=rounds[4].pk).update(status=CheckRoundStatus.OPEN)
    with time_machine.travel(AFTER_THE_YEAR, tick=False), pytest.raises(ValidationError):
        generate_year_bulletin_task.apply(args=(world.committee.pk, 2025), throw=True)
    run = JobRun.objects.get(task_name=generate_year_bulletin_task.name)
    assert run.status == JobStatus.FAILED and run.attempt == 1 and "ValidationError" in run.error
    CheckRound.objects.filter(pk=rounds[4].pk).update(status=CheckRoundStatus.PUBLISHED)
    with time_machine.travel(AFTER_THE_YEAR, tick=False):
        pk = generate_year_bulletin_task.apply(args=(world.committee.pk, 2025), throw=True).get()
    assert Bulletin.objects.get(pk=pk).status == BulletinStatus.DRAFT
    assert (
        JobRun.objects.filter(status=JobStatus.SUCCEEDED, arguments__committee_id=world.committee.pk).count()
        == 1
    )


# --- Pages ---------------------------------------------------------------------------------------


def test_staff_generate_it_from_the_year_results_page_and_see_it(
    client, year, django_capture_on_commit_callbacks
):
    world, _rounds = year
    client.force_login(world.staff)
    with time_machine.travel(AFTER_THE_YEAR, tick=False):
        page = client.get(reverse("checks:year_results") + "?year=2025")
        assert reverse("reports:year_bulletin_generate") in page.content.decode()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("reports:year_bulletin_generate"), {"committee": world.committee.pk, "year": 2025}
            )
    # The job ran once the request's transaction committed: with a worker the row may not exist
    # yet when the page answers, so it goes back to the list, where the bulletin's status shows.
    assert response.status_code == 302 and response["Location"] == reverse("reports:bulletin_list")
    bulletin = Bulletin.objects.get(kind=BulletinKind.YEAR)
    detail = client.get(reverse("reports:bulletin_detail", args=[bulletin.pk])).content.decode()
    assert "年度通报" in detail and "C支部" in detail and "党委约谈支部书记" in detail
    assert reverse("reports:bulletin_pdf", args=[bulletin.pk]) in detail
    listed = client.get(reverse("reports:bulletin_list")).content.decode()
    assert reverse("reports:bulletin_detail", args=[bulletin.pk]) in listed and "2025年度" in listed
    assert client.get(reverse("reports:year_bulletin_of", args=[2025]))["Location"] == reverse(
        "reports:bulletin_detail", args=[bulletin.pk]
    )
    pdf = client.get(reverse("reports:bulletin_pdf", args=[bulletin.pk]))
    body = b"".join(pdf.streaming_content)
    pdf.close()
    assert pdf.status_code == 200 and "2025.pdf" in pdf["Content-Disposition"] and body.startswith(b"%PDF")


def test_generate_now_says_which_quarters_are_missing(client, year_world):  # noqa: F811
    world, rounds = year_world
    CheckRound.objects.filter(pk=rounds[3].pk).update(status=CheckRoundStatus.OPEN)
    client.force_login(world.approver)
    with time_machine.travel(AFTER_THE_YEAR, tick=False):
        page = client.get(reverse("checks:year_results") + "?year=2025").content.decode()
        assert reverse("reports:year_bulletin_generate") not in page  # nothing to generate yet
        response = client.post(
            reverse("reports:year_bulletin_generate"),
            {"committee": world.committee.pk, "year": 2025},
            follow=True,
        )
    assert "2025年第3季度" in response.content.decode()
    assert not Bulletin.objects.exists()


def test_a_secretary_sees_the_year_results_without_the_year_bulletin(client, year):
    world, _rounds = year
    client.force_login(world.secretary_a)
    with time_machine.travel(AFTER_THE_YEAR, tick=False):
        page = client.get(reverse("checks:year_results") + "?year=2025").content.decode()
        assert reverse("reports:year_bulletin_of", args=[2025]) not in page
        assert client.get(reverse("reports:year_bulletin_of", args=[2025])).status_code == 403


# --- Bounded length and a fixed number of queries --------------------------------------------------


def frozen_year(prefix: str, size: int):
    """A committee of ``size`` branches in three party committees whose four 2025 checks are
    published, written as the rows publication leaves (the data reads only those)."""
    sized = make_sized_committee(prefix, size, party_committees=3)
    standard = ensure_default_check_standard()
    staff = make_user(f"{prefix}_staff", "党务", roles=((Role.STAFF, sized.committee),))
    sheets = []
    for quarter in range(1, 5):
        check_round = CheckRound.objects.create(
            committee=sized.committee,
            year=2025,
            quarter=quarter,
            standard=standard,
            self_report_deadline=datetime.date(2025, 3 * quarter, 28),
            scoring_deadline=datetime.date(2025, 3 * quarter, 28),
            status=CheckRoundStatus.PUBLISHED,
        )
        for index, branch in enumerate(sized.branches):
            sheets.append(
                CheckSheet(
                    round=check_round,
                    branch=branch,
                    group=branch.parent,
                    status=CheckSheetStatus.PUBLISHED,
                    total=Decimal(60 + (index * 7 + quarter) % 40),
                    rank_committee=index + 1,
                    rank_group=index // 3 + 1,
                    is_last_in_group=index == size - 1,
                )
            )
    CheckSheet.objects.bulk_create(sheets)
    YearResult.objects.bulk_create(
        YearResult(
            committee=sized.committee,
            branch=branch,
            year=2025,
            rounds=4,
            average=Decimal(60 + index % 40),
            threshold=Decimal(90),
            five_good=index % 40 >= 30,
        )
        for index, branch in enumerate(sized.branches)
    )
    flag = LeadershipFlag.objects.create(committee=sized.committee, branch=sized.branches[-1], year=2025)
    flag.sheets.set(CheckSheet.objects.filter(branch=sized.branches[-1]))
    return sized, staff


def data_queries(prefix: str, size: int) -> int:
    sized, _staff = frozen_year(prefix, size)
    with CaptureQueriesContext(connection) as ctx:
        year_bulletin_data(committee=sized.committee, year=2025)
    return len(ctx.captured_queries)


def test_the_data_runs_the_same_number_of_queries_with_10_and_200_branches():
    assert data_queries("S", 10) == data_queries("L", 200)


def page_queries(client, prefix: str, size: int) -> list[int]:
    sized, staff = frozen_year(prefix, size)
    with time_machine.travel(AFTER_THE_YEAR, tick=False):
        bulletin = generate_year_bulletin(committee_id=sized.committee.pk, year=2025)
    client.force_login(staff)
    counts = []
    for url in (
        reverse("reports:bulletin_detail", args=[bulletin.pk]),
        reverse("reports:bulletin_list"),
        reverse("checks:year_results") + "?year=2025",
    ):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        counts.append(len(ctx.captured_queries))
    return counts


def test_the_pages_run_the_same_number_of_queries_with_10_and_200_branches(client):
    assert page_queries(client, "S", 10) == page_queries(client, "L", 200)


def test_the_pdf_lists_every_branch_only_up_to_its_limit():
    sized, _staff = frozen_year("M", 12)
    data = year_bulletin_data(committee=sized.committee, year=2025)
    assert year_document_context(data, screen=False)["full_rows"] == data["rows"]
    many = {**data, "rows": data["rows"] * (PDF_BRANCH_LIMIT // 12 + 1)}
    context = year_document_context(many, screen=False)
    assert context["full_rows"] is None and context["ranking_tables"][0][1] == data["top"]
    preview = year_document_context(many, row_limit=200)
    assert len(preview["full_rows"]) == 200 and preview["more_rows"] == len(many["rows"]) - 200
    long_lists = {**data, "five_goods": data["rows"] * 40}
    assert len(long_lists["five_goods"]) > PDF_BRANCH_LIMIT
    cut = year_document_context(long_lists, screen=False)["five_goods"]
    assert (
        len(cut["rows"]) == PDF_BRANCH_LIMIT
        and cut["more"] == len(long_lists["five_goods"]) - PDF_BRANCH_LIMIT
    )


def test_the_quarterly_bulletin_of_the_same_committee_is_a_row_of_its_own(year):
    world, _rounds = year
    generate(world)
    from reports.services.bulletins import generate_bulletin

    with time_machine.travel(AFTER_THE_YEAR, tick=False):
        quarterly = generate_bulletin(committee_id=world.committee.pk, year=2025, quarter=4)
    assert quarterly.kind == BulletinKind.QUARTERLY and quarterly.quarter == 4
    assert Bulletin.objects.filter(committee=world.committee).count() == 2


def test_the_demo_publishes_last_years_year_bulletin_and_reminds_of_this_quarters_check(settings, tmp_path):
    import io

    from django.core.management import call_command
    from django.utils import timezone

    from reports.models import Notice, NoticeKind

    settings.MEDIA_ROOT = tmp_path / "demo-media"
    call_command("load_demo", stdout=io.StringIO())
    last_year = timezone.localdate().year - 1
    bulletin = Bulletin.objects.get(kind=BulletinKind.YEAR, year=last_year)
    assert bulletin.status == BulletinStatus.PUBLISHED and bulletin.published_by.username == "dangwu"
    data = bulletin.data
    assert data["totals"]["branches"] >= 30 and data["five_goods"] and data["flags"][0]["action_taken"]
    outcomes = {row["status"] for row in data["proposals"]["rows"]}
    assert "dismissed" in outcomes and "open" in outcomes
    with bulletin.pdf.open("rb") as handle:
        assert handle.read(5) == b"%PDF-"
    # This quarter's scoring is due in three days: the parent reviewers with sheets left are reminded.
    reminded = set(
        Notice.objects.filter(kind=NoticeKind.CHECK_SCORING_DUE).values_list("recipient__username", flat=True)
    )
    assert "chushen" in reminded
    call_command("load_demo", stdout=io.StringIO())
    assert Bulletin.objects.filter(kind=BulletinKind.YEAR).count() == 1
    assert Notice.objects.filter(kind=NoticeKind.CHECK_SCORING_DUE).count() == len(reminded)


def test_above_the_limit_the_pdf_stays_short_and_the_excel_holds_every_branch(caplog):
    sized, _staff = frozen_year("X", PDF_BRANCH_LIMIT + 10)
    caplog.set_level(logging.WARNING, logger="weasyprint")
    with time_machine.travel(AFTER_THE_YEAR, tick=False):
        bulletin = generate_year_bulletin(committee_id=sized.committee.pk, year=2025)
    assert bulletin.status == BulletinStatus.DRAFT, bulletin.error
    text = pdf_text(bulletin)
    with bulletin.pdf.open("rb") as handle:
        pages = len(PdfReader(handle).pages)
    # The party committees, the top and the bottom, the 五好 list: not a table of 310 branches.
    assert pages <= 8
    assert "支部数超过300个" in text.replace(" ", "").replace("\n", "")
    assert "X第0党支部" in text  # the last place, in the bottom list
    with bulletin.xlsx.open("rb") as handle:
        workbook = openpyxl.load_workbook(handle)
    assert workbook.worksheets[0].max_row - 2 == PDF_BRANCH_LIMIT + 10
    assert not [r for r in caplog.records if ".notdef" in r.getMessage()]
