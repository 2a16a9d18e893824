"""Opening certification cycles (认定周期), and the cycle list and detail pages."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from branches.models import User
from reviews.models import Assessment, AssessmentStatus, Cycle
from reviews.services.cycles import open_cycle
from scoring.models import Standard, StandardStatus
from tests.factories import CYCLE_NAME, DEADLINES, make_branch, make_party_committee

pytestmark = pytest.mark.usefixtures("english")

D = datetime.date


@pytest.fixture
def inactive_branch(world):
    """A branch of P1 that no longer works: a cycle leaves it out."""
    return make_branch("教育局第三党支部", "B5", parent=world.party_committee, is_active=False)


def cycle_fields(standard, **overrides):
    return {"name": CYCLE_NAME, "standard": standard, **DEADLINES, **overrides}


def form_data(committee, standard, **overrides):
    data = {
        "committee": committee.pk,
        "name": "2025—2026年度星级认定",
        "standard": standard.pk,
        "self_assessment_deadline": "2025-03-31",
        "preliminary_deadline": "2025-04-30",
        "scoring_deadline": "2025-05-31",
        "validity_months": "24",
        "publicity_days": "5",
        "reviewers_per_branch": "3",
        "disagreement_fraction": "0.333",
        "cap_5": "",
        "cap_4": "",
        "cap_3": "",
        "cap_2": "",
        "cap_1": "",
    }
    data.update(overrides)
    return data


# --- The service ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_opening_a_cycle_creates_one_assessment_per_active_branch_of_the_committee(
    world, inactive_branch, default_standard
):
    cycle = open_cycle(committee=world.committee, actor=world.approver, **cycle_fields(default_standard))

    branches = set(Assessment.objects.filter(cycle=cycle).values_list("branch__code", flat=True))
    assert branches == {"B1", "B2", "B3", "B4"}
    assert set(Assessment.objects.filter(cycle=cycle).values_list("status", flat=True)) == {
        AssessmentStatus.NOT_STARTED
    }


@pytest.mark.django_db
def test_a_new_cycle_has_the_default_rules(world, default_standard):
    cycle = open_cycle(committee=world.committee, actor=world.approver, **cycle_fields(default_standard))

    assert (cycle.validity_months, cycle.publicity_days, cycle.reviewers_per_branch) == (24, 5, 3)
    assert cycle.disagreement_fraction == Decimal("0.333")
    assert cycle.star_caps == {}
    assert cycle.opened_by == world.approver


@pytest.mark.django_db
def test_star_caps_keep_only_the_levels_given(world, default_standard):
    cycle = open_cycle(
        committee=world.committee,
        actor=world.staff,
        **cycle_fields(default_standard, star_caps={"5": Decimal("30"), "4": Decimal("45.5"), "3": None}),
    )

    assert cycle.star_caps == {"5": 30, "4": 45.5}
    assert cycle.cap_for(5) == Decimal("30")
    assert cycle.cap_for(3) is None


@pytest.mark.django_db
def test_opening_a_cycle_refuses_a_draft_standard(world, default_standard):
    draft = Standard.objects.create(name="草稿细则", version=1, status=StandardStatus.DRAFT)

    with pytest.raises(ValidationError) as error:
        open_cycle(committee=world.committee, actor=world.approver, **cycle_fields(draft))

    assert "standard" in error.value.message_dict
    assert not Cycle.objects.exists()


@pytest.mark.django_db
def test_opening_a_cycle_refuses_another_committees_standard(world, default_standard):
    other = Standard.objects.create(
        name="二工委细则",
        version=1,
        status=StandardStatus.PUBLISHED,
        published_at=timezone.now(),
        committee=world.other_committee,
    )

    with pytest.raises(ValidationError):
        open_cycle(committee=world.committee, actor=world.approver, **cycle_fields(other))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("deadlines", "field"),
    [
        ((D(2025, 4, 30), D(2025, 3, 31), D(2025, 5, 31)), "preliminary_deadline"),
        ((D(2025, 3, 31), D(2025, 5, 31), D(2025, 4, 30)), "scoring_deadline"),
        ((D(2025, 3, 31), D(2025, 3, 31), D(2025, 5, 31)), "preliminary_deadline"),
    ],
)
def test_opening_a_cycle_refuses_deadlines_out_of_order(world, default_standard, deadlines, field):
    first, second, third = deadlines
    with pytest.raises(ValidationError) as error:
        open_cycle(
            committee=world.committee,
            actor=world.approver,
            **cycle_fields(
                default_standard,
                self_assessment_deadline=first,
                preliminary_deadline=second,
                scoring_deadline=third,
            ),
        )

    assert field in error.value.message_dict
    assert not Assessment.objects.exists()


@pytest.mark.django_db
def test_a_branch_secretary_cannot_open_a_cycle(world, default_standard):
    with pytest.raises(PermissionDenied):
        open_cycle(committee=world.committee, actor=world.secretary, **cycle_fields(default_standard))


@pytest.mark.django_db
def test_two_cycles_of_a_committee_cannot_share_a_name(world, default_standard):
    open_cycle(committee=world.committee, actor=world.approver, **cycle_fields(default_standard))

    with pytest.raises(ValidationError):
        open_cycle(committee=world.committee, actor=world.approver, **cycle_fields(default_standard))
    assert Cycle.objects.count() == 1


# --- The pages -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_approver_opens_a_cycle_with_a_star_cap_through_the_form(
    client, world, inactive_branch, default_standard
):
    client.force_login(world.approver)

    response = client.post(
        reverse("reviews:cycle_open"), form_data(world.committee, default_standard, cap_5="30")
    )

    cycle = Cycle.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("reviews:cycle_detail", args=[cycle.pk])
    assert cycle.committee == world.committee
    assert cycle.star_caps == {"5": 30}
    assert cycle.assessments.count() == 4


@pytest.mark.django_db
def test_the_form_shows_deadlines_out_of_order_and_opens_nothing(client, world, default_standard):
    client.force_login(world.approver)

    response = client.post(
        reverse("reviews:cycle_open"),
        form_data(world.committee, default_standard, scoring_deadline="2025-04-01"),
    )

    assert response.status_code == 200
    assert (
        "The scoring deadline must come after the preliminary review deadline." in response.content.decode()
    )
    assert not Cycle.objects.exists()


@pytest.mark.django_db
def test_the_form_offers_only_published_standards(client, world, default_standard):
    draft = Standard.objects.create(name="草稿细则", version=1, status=StandardStatus.DRAFT)
    client.force_login(world.approver)

    response = client.post(reverse("reviews:cycle_open"), form_data(world.committee, draft))

    assert response.status_code == 200
    assert not Cycle.objects.exists()


@pytest.mark.django_db
def test_a_branch_secretary_gets_403_on_the_open_page(client, world):
    client.force_login(world.secretary)

    assert client.get(reverse("reviews:cycle_open")).status_code == 403


@pytest.mark.django_db
def test_an_assessment_reviewer_of_the_committee_gets_403_for_it(client, world, default_standard):
    client.force_login(world.reviewers[0])

    url = reverse("reviews:cycle_open") + f"?committee={world.committee.pk}"
    assert client.get(url).status_code == 403
    assert (
        client.post(reverse("reviews:cycle_open"), form_data(world.committee, default_standard)).status_code
        == 403
    )


@pytest.mark.django_db
def test_another_committees_approver_gets_404(client, world, default_standard):
    client.force_login(world.other_approver)

    url = reverse("reviews:cycle_open") + f"?committee={world.committee.pk}"
    assert client.get(url).status_code == 404
    assert (
        client.post(reverse("reviews:cycle_open"), form_data(world.committee, default_standard)).status_code
        == 404
    )
    assert not Cycle.objects.exists()


@pytest.mark.django_db
def test_a_cycle_is_404_to_another_committees_approver(client, world, default_standard):
    cycle = open_cycle(committee=world.committee, actor=world.approver, **cycle_fields(default_standard))
    client.force_login(world.other_approver)

    assert client.get(reverse("reviews:cycle_detail", args=[cycle.pk])).status_code == 404
    assert cycle.name not in client.get(reverse("reviews:cycle_list")).content.decode()


@pytest.mark.django_db
def test_the_cycle_page_shows_the_settings_and_branches(client, world, inactive_branch, default_standard):
    cycle = open_cycle(
        committee=world.committee, actor=world.approver, **cycle_fields(default_standard, star_caps={"5": 30})
    )
    client.force_login(world.staff)

    page = client.get(reverse("reviews:cycle_detail", args=[cycle.pk])).content.decode()

    assert cycle.name in page
    assert "2025-05-31" in page
    assert "教育局第一党支部" in page and "工委机关党支部" in page
    assert "教育局第三党支部" not in page
    assert "5★ at most 30%" in page


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context)


def _add_branches(committee, count, prefix):
    parent = make_party_committee(f"{prefix}党委", f"{prefix}P", parent=committee)
    for number in range(count):
        make_branch(f"{prefix}支部{number}", f"{prefix}B{number}", parent=parent)


@pytest.mark.django_db
def test_the_cycle_page_runs_the_same_queries_for_few_and_many_branches(client, world, default_standard):
    small = open_cycle(
        committee=world.other_committee, actor=world.other_approver, **cycle_fields(default_standard)
    )
    _add_branches(world.committee, 60, "X")
    large = open_cycle(committee=world.committee, actor=world.approver, **cycle_fields(default_standard))
    client.force_login(User.objects.create_superuser("root", password="x-unused-x"))

    assert _queries(client, reverse("reviews:cycle_detail", args=[small.pk])) == _queries(
        client, reverse("reviews:cycle_detail", args=[large.pk])
    )


@pytest.mark.django_db
def test_the_cycle_list_runs_the_same_queries_for_few_and_many_cycles(client, world, default_standard):
    client.force_login(world.approver)
    open_cycle(committee=world.committee, actor=world.approver, **cycle_fields(default_standard))
    few = _queries(client, reverse("reviews:cycle_list"))
    for number in range(30):
        open_cycle(
            committee=world.committee,
            actor=world.approver,
            **cycle_fields(default_standard, name=f"周期{number}"),
        )

    assert _queries(client, reverse("reviews:cycle_list")) == few


@pytest.mark.django_db
def test_the_cycle_pages_pager_counts_the_rows_under_each_filter(client, world, default_standard):
    """The pager's count comes from the status counts, not a COUNT(*) of its own: it must agree."""
    _add_branches(world.committee, 60, "X")
    cycle = open_cycle(committee=world.committee, actor=world.approver, **cycle_fields(default_standard))
    first = cycle.assessments.order_by("pk").first()
    Assessment.objects.filter(pk=first.pk).update(status=AssessmentStatus.SUBMITTED)
    client.force_login(world.approver)
    url = reverse("reviews:cycle_detail", args=[cycle.pk])

    for status, expected in [
        ("", cycle.assessments.count()),
        (AssessmentStatus.SUBMITTED, 1),
        (AssessmentStatus.NOT_STARTED, cycle.assessments.count() - 1),
        (AssessmentStatus.CERTIFIED, 0),
        ("no-such-status", cycle.assessments.count()),
    ]:
        page = client.get(url, {"status": status} if status else {}).context["page"]
        assert page.paginator.count == expected, status
        last = client.get(url, {"status": status, "page": page.paginator.num_pages}).context["page"]
        assert last.start_index() + len(last.object_list) - 1 == expected or expected == 0


@pytest.mark.django_db
def test_the_cycle_list_counts_each_cycles_assessments_and_follows_a_change(client, world, default_standard):
    """The sizes are kept in the cache (the page's cycles only); an assessment added shows at once."""
    cycle = open_cycle(committee=world.committee, actor=world.approver, **cycle_fields(default_standard))
    client.force_login(world.approver)

    def listed():
        return {
            row.pk: row.assessment_count for row in client.get(reverse("reviews:cycle_list")).context["page"]
        }

    newcomer = make_branch("新党支部", "BX", parent=world.party_committee)  # after the cycle opened
    assert listed() == {cycle.pk: cycle.assessments.count()} == {cycle.pk: 4}
    before = _queries(client, reverse("reviews:cycle_list"))
    Assessment.objects.create(cycle=cycle, branch=newcomer)
    assert listed() == {cycle.pk: 5}
    assert _queries(client, reverse("reviews:cycle_list")) == before  # counted once more, then kept
