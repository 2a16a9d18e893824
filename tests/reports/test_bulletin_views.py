"""Bulletin pages: who may see them, preview, publish, downloads, "generate now", query counts."""

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from branches.selectors import is_version_bump
from reports.bulletin.data import bulletin_data
from reports.models import Bulletin, BulletinStatus
from reports.services.bulletins import bulletin_file_name
from tests.reports.bulletin_world import NOW, QUARTER, TODAY, YEAR, build_scored_committee

# The two charts' SVG, not the small bars of their phone twins.
CHART_SVG = '<svg xmlns="http://www.w3.org/2000/svg" class="chart"'

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def make_bulletin(committee, media, status=BulletinStatus.DRAFT, year=YEAR, quarter=QUARTER) -> Bulletin:
    """A bulletin row with real frozen data and stand-in files (the renderers have their own tests)."""
    with translation.override("zh-hans"):
        data = bulletin_data(committee=committee, year=year, quarter=quarter, today=TODAY)
    names = {}
    for suffix in ("pdf", "xlsx"):
        names[suffix] = bulletin_file_name(
            committee_id=committee.pk, year=year, quarter=quarter, suffix=suffix
        )
        content = b"%PDF-1.4 stand-in" if suffix == "pdf" else b"PK stand-in"
        assert default_storage.save(names[suffix], ContentFile(content)) == names[suffix]
    return Bulletin.objects.create(
        committee=committee,
        year=year,
        quarter=quarter,
        status=status,
        data=data,
        pdf=names["pdf"],
        xlsx=names["xlsx"],
        generated_at=NOW,
    )


@pytest.fixture
def bulletin(bulletin_world, media) -> Bulletin:
    return make_bulletin(bulletin_world.committee, media)


def url(name: str, bulletin: Bulletin) -> str:
    return reverse(f"reports:{name}", args=[bulletin.pk])


ACCESS = [
    ("staff", 200),
    ("approver", 200),
    ("secretary", 403),  # inside the committee, role too low
    ("p2_staff", 403),  # staff of a party committee, not of the committee
    ("other_staff", 404),  # another committee: as if it did not exist
    ("outsider", 404),
]


@pytest.mark.parametrize(("who", "expected"), ACCESS)
def test_who_may_open_the_preview(client, bulletin_world, bulletin, who, expected):
    client.force_login(bulletin_world.people[who])
    assert client.get(url("bulletin_detail", bulletin)).status_code == expected


@pytest.mark.parametrize("name", ["bulletin_detail", "bulletin_pdf", "bulletin_xlsx"])
def test_anonymous_visitors_are_sent_to_sign_in(client, bulletin, name):
    response = client.get(url(name, bulletin))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_a_bulletin_that_does_not_exist_answers_404(client, bulletin_world):
    client.force_login(bulletin_world.people["staff"])
    assert client.get(reverse("reports:bulletin_detail", args=[999999])).status_code == 404


def test_the_preview_shows_the_document_with_both_charts_and_a_publish_form(client, bulletin_world, bulletin):
    client.force_login(bulletin_world.people["staff"])
    html = client.get(url("bulletin_detail", bulletin)).content.decode()
    assert "第一工委" in html and "甲党委下属党总支" in html
    assert html.count(CHART_SVG) == 2
    assert "未按期召开组织生活会" in html
    assert 'name="confirm"' in html and url("bulletin_publish", bulletin) in html
    assert url("bulletin_pdf", bulletin) in html and url("bulletin_xlsx", bulletin) in html


def test_a_published_bulletin_has_no_publish_form(client, bulletin_world, media):
    published = make_bulletin(bulletin_world.committee, media, status=BulletinStatus.PUBLISHED)
    client.force_login(bulletin_world.people["staff"])
    html = client.get(url("bulletin_detail", published)).content.decode()
    assert 'name="confirm"' not in html and url("bulletin_pdf", published) in html


@pytest.mark.parametrize(
    ("name", "content_type", "suffix"),
    [
        ("bulletin_pdf", "application/pdf", "pdf"),
        ("bulletin_xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    ],
)
@pytest.mark.parametrize("status", [BulletinStatus.DRAFT, BulletinStatus.PUBLISHED])
def test_staff_download_the_files_as_attachments(
    client, bulletin_world, media, name, content_type, suffix, status
):
    bulletin = make_bulletin(bulletin_world.committee, media, status=status)
    client.force_login(bulletin_world.people["staff"])
    response = client.get(url(name, bulletin))
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"].startswith("attachment;")
    assert f"2026Q3.{suffix}" in response["Content-Disposition"]
    assert b"stand-in" in b"".join(response.streaming_content)
    response.close()


@pytest.mark.parametrize(("who", "expected"), ACCESS)
def test_downloads_follow_the_same_access_rules(client, bulletin_world, bulletin, who, expected):
    client.force_login(bulletin_world.people[who])
    response = client.get(url("bulletin_pdf", bulletin))
    response.close()  # a FileResponse holds the file open until closed
    assert response.status_code == expected


@pytest.mark.parametrize("status", [BulletinStatus.FAILED, BulletinStatus.GENERATING])
def test_a_bulletin_without_good_files_has_nothing_to_download(client, bulletin_world, bulletin, status):
    Bulletin.objects.filter(pk=bulletin.pk).update(status=status)
    client.force_login(bulletin_world.people["staff"])
    assert client.get(url("bulletin_pdf", bulletin)).status_code == 404


def test_publishing_needs_the_confirmation_box(client, bulletin_world, bulletin):
    client.force_login(bulletin_world.people["staff"])
    response = client.post(url("bulletin_publish", bulletin))
    assert response.status_code == 302
    assert Bulletin.objects.get(pk=bulletin.pk).status == BulletinStatus.DRAFT


def test_publishing_from_the_page_publishes_the_draft_once(client, bulletin_world, bulletin):
    client.force_login(bulletin_world.people["approver"])
    response = client.post(url("bulletin_publish", bulletin), {"confirm": "yes"})
    assert response.status_code == 302 and response["Location"] == url("bulletin_detail", bulletin)
    first = Bulletin.objects.get(pk=bulletin.pk)
    assert (
        first.status == BulletinStatus.PUBLISHED and first.published_by == bulletin_world.people["approver"]
    )

    client.force_login(bulletin_world.people["staff"])
    response = client.post(url("bulletin_publish", bulletin), {"confirm": "yes"}, follow=True)
    assert "already been published" in response.content.decode()
    second = Bulletin.objects.get(pk=bulletin.pk)
    assert (second.published_by, second.published_at) == (first.published_by, first.published_at)


def test_publish_accepts_only_post(client, bulletin_world, bulletin):
    client.force_login(bulletin_world.people["staff"])
    assert client.get(url("bulletin_publish", bulletin)).status_code == 405


@pytest.mark.parametrize(("who", "expected"), [("secretary", 403), ("other_staff", 404)])
def test_others_cannot_publish_from_the_page(client, bulletin_world, bulletin, who, expected):
    client.force_login(bulletin_world.people[who])
    assert client.post(url("bulletin_publish", bulletin), {"confirm": "yes"}).status_code == expected
    assert Bulletin.objects.get(pk=bulletin.pk).status == BulletinStatus.DRAFT


def test_the_list_shows_the_committees_bulletins_with_their_status(client, bulletin_world, bulletin, media):
    other = make_bulletin(bulletin_world.orgs["C2"], media)
    client.force_login(bulletin_world.people["staff"])
    response = client.get(reverse("reports:bulletin_list"))
    html = response.content.decode()
    assert response.status_code == 200
    assert url("bulletin_detail", bulletin) in html and url("bulletin_detail", other) not in html
    assert "Draft" in html or "草稿" in html


@pytest.mark.parametrize("who", ["secretary", "p2_staff", "outsider"])
def test_the_list_is_403_without_a_committee_role(client, bulletin_world, who):
    client.force_login(bulletin_world.people[who])
    assert client.get(reverse("reports:bulletin_list")).status_code == 403


def test_generate_now_generates_the_bulletin_after_the_commit(
    client, bulletin_world, media, django_capture_on_commit_callbacks
):
    client.force_login(bulletin_world.people["staff"])
    with time_machine.travel(NOW), django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(
            reverse("reports:bulletin_list"), {"committee": bulletin_world.committee.pk, "quarter": "2026-3"}
        )
    assert response.status_code == 302
    # One task queued for the commit (besides the cached figures' version bumps).
    assert len([callback for callback in callbacks if not is_version_bump(callback)]) == 1
    bulletin = Bulletin.objects.get(committee=bulletin_world.committee, year=2026, quarter=3)
    assert bulletin.status == BulletinStatus.DRAFT, bulletin.error
    assert default_storage.exists(bulletin.pdf.name)


def test_generate_now_leaves_a_published_bulletin_alone(
    client, bulletin_world, media, django_capture_on_commit_callbacks
):
    published = make_bulletin(bulletin_world.committee, media, status=BulletinStatus.PUBLISHED)
    client.force_login(bulletin_world.people["staff"])
    with time_machine.travel(NOW), django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(
            reverse("reports:bulletin_list"),
            {"committee": bulletin_world.committee.pk, "quarter": "2026-3"},
            follow=True,
        )
    assert callbacks == []
    assert "no longer generated again" in response.content.decode()
    assert Bulletin.objects.get(pk=published.pk).generated_at == published.generated_at


def test_generate_now_refuses_a_committee_the_user_does_not_manage(
    client, bulletin_world, django_capture_on_commit_callbacks
):
    client.force_login(bulletin_world.people["staff"])
    with time_machine.travel(NOW), django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(
            reverse("reports:bulletin_list"), {"committee": bulletin_world.orgs["C2"].pk, "quarter": "2026-3"}
        )
    assert response.status_code == 400
    assert callbacks == [] and not Bulletin.objects.exists()


def page_queries(client, n_branches: int, prefix: str, media) -> tuple[int, int]:
    committee, staff = build_scored_committee(n_branches, prefix)
    bulletin = make_bulletin(committee, media)
    client.force_login(staff)
    counts = []
    for target in (url("bulletin_detail", bulletin), reverse("reports:bulletin_list")):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(target).status_code == 200
        counts.append(len(ctx.captured_queries))
    return counts[0], counts[1]


@pytest.mark.django_db
def test_the_pages_run_the_same_number_of_queries_with_10_and_200_branches(client, media):
    assert page_queries(client, 10, "S", media) == page_queries(client, 200, "L", media)
