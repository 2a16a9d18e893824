"""The public notice (公示) as every member of the committee reads it, and objections lodged online.

World C1: B1 (4★) and B2 (5★) under P1 are published as batch 1 on PUBLISHED_AT for five days;
C2 publishes D1 (3★) at the same time. The committee's people read C1's notice, C2's people
C2's, and a user without any role reads none.
"""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from branches.models import AuditEntry
from reviews.models import Assessment, AssessmentStatus, NoticeBatch, Objection
from reviews.services.decision import certify_batch, publicize_cycle, record_objection, resolve_objection
from tests.factories import decide_all, make_branch, open_default_cycle

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

SHANGHAI = ZoneInfo("Asia/Shanghai")
PUBLISHED_AT = datetime.datetime(2025, 6, 10, 9, 0, tzinfo=SHANGHAI)
DURING = PUBLISHED_AT + datetime.timedelta(days=2)
AFTER = PUBLISHED_AT + datetime.timedelta(days=5, hours=1)

LIST_URL = reverse("reviews:public_notice")


def lodge_url(assessment) -> str:
    return reverse("reviews:objection_lodge", args=[assessment.pk])


def _scored(cycle, branch, *, stars: int) -> None:
    Assessment.objects.filter(cycle=cycle, branch=branch).update(
        status=AssessmentStatus.SCORED,
        consolidated_score=Decimal("90.0"),
        proposed_stars=stars,
        declared_stars=stars,
    )


def publish(committee, approver, stars_by_branch: dict) -> NoticeBatch:
    cycle = open_default_cycle(committee, approver)
    for branch, stars in stars_by_branch.items():
        _scored(cycle, branch, stars=stars)
    decide_all(cycle, approver)
    with time_machine.travel(PUBLISHED_AT, tick=False):
        return publicize_cycle(cycle=cycle, actor=approver)


@pytest.fixture
def notices(world):
    """C1's batch (B1 4★, B2 5★) and C2's batch (D1 3★), both running from PUBLISHED_AT."""
    c1 = publish(world.committee, world.approver, {world.branch: 4, world.sibling_branch: 5})
    c2 = publish(world.other_committee, world.other_approver, {world.other_branch: 3})
    return c1, c2


def result_of(world, branch) -> Assessment:
    return Assessment.objects.get(branch=branch, status=AssessmentStatus.PUBLICIZED)


def get(client, user, url):
    client.force_login(user)
    return client.get(url)


# ---------------------------------------------------------------------------- reading


@pytest.mark.parametrize("who", ["secretary", "sibling_secretary", "parent_reviewer", "reviewer1", "staff"])
def test_every_member_of_the_committee_reads_its_notice_with_branch_parent_star_and_period(
    client, world, notices, who
):
    with time_machine.travel(DURING, tick=False):
        response = get(client, world.people[who], LIST_URL)

    assert response.status_code == 200
    page = response.text
    assert "教育局第一党支部" in page and "教育局第二党支部" in page
    assert "市教育局机关党委" in page  # the parent organization
    assert "4 stars" in page and "5 stars" in page
    assert "Public notice from 2025-06-10 09:00 to 2025-06-15 09:00." in page
    assert "How to object" in page and "市直机关工委" in page
    assert page.count('class="btn btn-sm btn-outline-primary lodge-objection"') == 2
    # Another committee's notice is none of theirs.
    assert "区第一党支部" not in page


def test_the_rows_carry_their_own_star_level(client, world, notices):
    with time_machine.travel(DURING, tick=False):
        response = get(client, world.secretary, LIST_URL)
    rows = {a.branch.name: a.decided_stars for a in response.context["page"]}
    assert rows == {"教育局第一党支部": 4, "教育局第二党支部": 5}


def test_the_other_committee_reads_only_its_own_notice(client, world, notices):
    with time_machine.travel(DURING, tick=False):
        response = get(client, world.other_approver, LIST_URL)
    assert "区第一党支部" in response.text
    assert "教育局第一党支部" not in response.text


def test_a_user_without_any_role_reads_an_empty_notice(client, world, notices):
    with time_machine.travel(DURING, tick=False):
        response = get(client, world.outsider, LIST_URL)
    assert response.status_code == 200
    assert "No result is under public notice now." in response.text
    assert list(response.context["page"]) == []


def test_after_the_period_the_results_stay_listed_without_objection_buttons_until_certified(
    client, world, notices
):
    c1, _c2 = notices
    with time_machine.travel(AFTER, tick=False):
        response = get(client, world.secretary, LIST_URL)
        assert "教育局第一党支部" in response.text
        assert "lodge-objection" not in response.text
        assert "objections are no longer received" in response.text

        certify_batch(batch=c1, actor=world.approver)
        response = client.get(LIST_URL)
    assert "教育局第一党支部" not in response.text
    assert "No result is under public notice now." in response.text


def test_the_list_runs_a_fixed_number_of_queries(client, world, notices):
    client.force_login(world.secretary)
    with time_machine.travel(DURING, tick=False):
        client.get(LIST_URL)  # sessions, caches
        with CaptureQueriesContext(connection) as few:
            client.get(LIST_URL)
        c1, _c2 = notices
        for n in range(6):
            branch = make_branch(f"加测党支部{n}", f"BX{n}", parent=world.party_committee)
            Assessment.objects.create(
                cycle=c1.cycle,
                branch=branch,
                status=AssessmentStatus.PUBLICIZED,
                decided_stars=3,
                notice_batch=c1,
            )
        with CaptureQueriesContext(connection) as many:
            response = client.get(LIST_URL)
    assert "加测党支部5" in response.text
    assert len(many) == len(few)


# ---------------------------------------------------------------------------- the home page


def test_the_home_page_of_a_secretary_links_to_the_running_notice(client, world, notices):
    with time_machine.travel(DURING, tick=False):
        response = get(client, world.secretary, reverse("home"))
    page = response.text
    assert 'id="sec-publicity"' in page
    assert f'href="{LIST_URL}"' in page
    assert "2 results under public notice until 2025-06-15 09:00" in page


def test_the_home_page_has_no_notice_section_once_the_period_ended(client, world, notices):
    with time_machine.travel(AFTER, tick=False):
        response = get(client, world.secretary, reverse("home"))
    assert 'id="sec-publicity"' not in response.text


def test_the_home_page_of_a_user_without_any_role_has_no_notice_section(client, world, notices):
    with time_machine.travel(DURING, tick=False):
        response = get(client, world.outsider, reverse("home"))
    assert 'id="sec-publicity"' not in response.text


# ---------------------------------------------------------------------------- lodging an objection


def test_a_secretary_lodges_an_objection_recorded_with_their_name_and_an_audit_row(client, world, notices):
    target = result_of(world, world.sibling_branch)
    client.force_login(world.secretary)
    with time_machine.travel(DURING, tick=False):
        form = client.get(lodge_url(target))
        assert form.status_code == 200
        assert "教育局第二党支部" in form.text
        response = client.post(
            lodge_url(target), {"content": "该支部组织生活记录不全。", "contact": "13800000000"}
        )

    assert response.status_code == 302
    assert response["Location"] == LIST_URL
    objection = Objection.objects.get(assessment=target)
    assert objection.lodged_by == world.secretary
    assert objection.recorded_by == world.secretary
    assert objection.contact == "13800000000"
    assert objection.content == "该支部组织生活记录不全。"
    assert objection.resolved_at is None
    audit = AuditEntry.objects.get(target_type="objection", target_id=str(objection.pk))
    assert audit.actor == world.secretary
    assert audit.committee == world.committee


def test_the_approver_sees_the_lodged_objection_marked_as_lodged_online(client, world, notices):
    target = result_of(world, world.branch)
    client.force_login(world.sibling_secretary)
    with time_machine.travel(DURING, tick=False):
        client.post(lodge_url(target), {"content": "网上提出的异议。"})
        record_objection(
            assessment=target, actor=world.approver, received_from="群众来信", content="纸质异议。"
        )
        response = get(client, world.approver, reverse("reviews:cycle_publicity", args=[target.cycle_id]))

    page = response.text
    assert "网上提出的异议。" in page and "纸质异议。" in page
    assert page.count("objection-lodged-online") == 1
    assert "Lodged online" in page and "刘洋" in page
    assert "from 群众来信" in page


def test_a_lodged_objection_holds_the_certification_until_resolved(client, world, notices):
    c1, _c2 = notices
    target = result_of(world, world.branch)
    client.force_login(world.secretary)
    with time_machine.travel(DURING, tick=False):
        client.post(lodge_url(target), {"content": "有异议。"})
    with time_machine.travel(AFTER, tick=False):
        from branches.errors import WorkflowError

        with pytest.raises(WorkflowError):
            certify_batch(batch=c1, actor=world.approver)
        resolve_objection(
            objection=Objection.objects.get(), actor=world.approver, resolution="经核实不成立。"
        )
        certify_batch(batch=c1, actor=world.approver)


def test_an_objection_without_content_is_shown_again_with_the_contact_kept(client, world, notices):
    target = result_of(world, world.branch)
    client.force_login(world.secretary)
    with time_machine.travel(DURING, tick=False):
        response = client.post(lodge_url(target), {"content": "   ", "contact": "13800000000"})
    assert response.status_code == 400
    assert "13800000000" in response.text
    assert not Objection.objects.exists()


def test_after_the_period_the_form_says_so_and_a_late_post_is_refused_keeping_the_text(
    client, world, notices
):
    target = result_of(world, world.branch)
    client.force_login(world.secretary)
    with time_machine.travel(AFTER, tick=False):
        page = client.get(lodge_url(target))
        late = client.post(lodge_url(target), {"content": "迟到的异议。"})

    assert page.status_code == 200
    assert "The public notice period has ended; objections are no longer received." in page.text
    assert "<textarea" not in page.text
    assert late.status_code == 409
    assert "The public notice period has ended; objections are no longer received." in late.text
    assert "迟到的异议。" in late.text
    assert not Objection.objects.exists()


@pytest.mark.parametrize("who", ["other_approver", "outsider"])
def test_outside_the_committee_the_objection_page_is_not_found(client, world, notices, who):
    target = result_of(world, world.branch)
    client.force_login(world.people[who])
    with time_machine.travel(DURING, tick=False):
        assert client.get(lodge_url(target)).status_code == 404
        assert client.post(lodge_url(target), {"content": "有异议。"}).status_code == 404
    assert not Objection.objects.exists()


def test_a_result_not_under_public_notice_has_no_objection_page(client, world, notices):
    c1, _c2 = notices
    not_published = Assessment.objects.get(cycle=c1.cycle, branch=world.cousin_branch)
    with time_machine.travel(DURING, tick=False):
        response = get(client, world.secretary, lodge_url(not_published))
        assert response.status_code == 404
        assert (
            get(client, world.secretary, reverse("reviews:objection_lodge", args=[999999])).status_code == 404
        )


def test_signed_out_the_notice_asks_for_a_sign_in(client, notices):
    response = client.get(LIST_URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_service_refuses_someone_outside_the_committee_even_without_the_view(world, notices):
    from django.core.exceptions import PermissionDenied

    from reviews.services.decision import lodge_objection

    target = result_of(world, world.branch)
    with time_machine.travel(DURING, tick=False), pytest.raises(PermissionDenied):
        lodge_objection(assessment=target, actor=world.other_approver, content="有异议。")
    assert not Objection.objects.exists()
