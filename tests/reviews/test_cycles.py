"""Opening certification cycles (认定周期), and the cycle list and detail pages."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from branches.models import OrgKind, User
from branches.roles import Role
from branches.services.organizations import assign_role, create_organization
from reviews.models import Assessment, AssessmentStatus, Cycle
from reviews.services.cycles import open_cycle
from scoring.models import Standard, StandardStatus

pytestmark = pytest.mark.usefixtures("english")

D = datetime.date


@pytest.fixture
def tree(db):
    """C1 → P1 → (B1, B2, inactive B3); C1 → B4 directly. A second committee C2 → D1."""
    c1 = create_organization(name="第一工委", code="C1", kind=OrgKind.COMMITTEE)
    p1 = create_organization(name="甲党委", code="P1", kind=OrgKind.PARTY_COMMITTEE, parent=c1)
    b1 = create_organization(name="甲一支部", code="B1", kind=OrgKind.BRANCH, parent=p1)
    b2 = create_organization(name="甲二支部", code="B2", kind=OrgKind.BRANCH, parent=p1)
    b3 = create_organization(name="甲三支部", code="B3", kind=OrgKind.BRANCH, parent=p1, is_active=False)
    b4 = create_organization(name="工委机关支部", code="B4", kind=OrgKind.BRANCH, parent=c1)
    c2 = create_organization(name="第二工委", code="C2", kind=OrgKind.COMMITTEE)
    d1 = create_organization(name="丙一支部", code="D1", kind=OrgKind.BRANCH, parent=c2)
    return {o.code: o for o in [c1, p1, b1, b2, b3, b4, c2, d1]}


@pytest.fixture
def people(tree):
    def make(username, role, code):
        user = User.objects.create_user(username, password="x-unused-x", real_name=username)
        assign_role(user=user, role=role, organization=tree[code])
        return user

    return {
        "approver": make("approver", Role.COMMITTEE_APPROVER, "C1"),
        "staff": make("staff", Role.STAFF, "C1"),
        "secretary": make("secretary", Role.BRANCH_SECRETARY, "B1"),
        "reviewer": make("reviewer", Role.ASSESSMENT_REVIEWER, "C1"),
        "other_approver": make("other_approver", Role.COMMITTEE_APPROVER, "C2"),
    }


@pytest.fixture
def standard(db):
    return Standard.objects.get(status=StandardStatus.PUBLISHED)


def cycle_fields(standard, **overrides):
    fields = {
        "name": "2025—2026年度星级认定",
        "standard": standard,
        "self_assessment_deadline": D(2025, 3, 31),
        "preliminary_deadline": D(2025, 4, 30),
        "scoring_deadline": D(2025, 5, 31),
    }
    fields.update(overrides)
    return fields


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
def test_opening_a_cycle_creates_one_assessment_per_active_branch_of_the_committee(tree, people, standard):
    cycle = open_cycle(committee=tree["C1"], actor=people["approver"], **cycle_fields(standard))

    branches = set(Assessment.objects.filter(cycle=cycle).values_list("branch__code", flat=True))
    assert branches == {"B1", "B2", "B4"}
    assert set(Assessment.objects.filter(cycle=cycle).values_list("status", flat=True)) == {
        AssessmentStatus.NOT_STARTED
    }


@pytest.mark.django_db
def test_a_new_cycle_has_the_default_rules(tree, people, standard):
    cycle = open_cycle(committee=tree["C1"], actor=people["approver"], **cycle_fields(standard))

    assert (cycle.validity_months, cycle.publicity_days, cycle.reviewers_per_branch) == (24, 5, 3)
    assert cycle.disagreement_fraction == Decimal("0.333")
    assert cycle.star_caps == {}
    assert cycle.opened_by == people["approver"]


@pytest.mark.django_db
def test_star_caps_keep_only_the_levels_given(tree, people, standard):
    cycle = open_cycle(
        committee=tree["C1"],
        actor=people["staff"],
        **cycle_fields(standard, star_caps={"5": Decimal("30"), "4": Decimal("45.5"), "3": None}),
    )

    assert cycle.star_caps == {"5": 30, "4": 45.5}
    assert cycle.cap_for(5) == Decimal("30")
    assert cycle.cap_for(3) is None


@pytest.mark.django_db
def test_opening_a_cycle_refuses_a_draft_standard(tree, people, standard):
    draft = Standard.objects.create(name="草稿细则", version=1, status=StandardStatus.DRAFT)

    with pytest.raises(ValidationError) as error:
        open_cycle(committee=tree["C1"], actor=people["approver"], **cycle_fields(draft))

    assert "standard" in error.value.message_dict
    assert not Cycle.objects.exists()


@pytest.mark.django_db
def test_opening_a_cycle_refuses_another_committees_standard(tree, people, standard):
    other = Standard.objects.create(
        name="二工委细则",
        version=1,
        status=StandardStatus.PUBLISHED,
        published_at=timezone.now(),
        committee=tree["C2"],
    )

    with pytest.raises(ValidationError):
        open_cycle(committee=tree["C1"], actor=people["approver"], **cycle_fields(other))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("deadlines", "field"),
    [
        ((D(2025, 4, 30), D(2025, 3, 31), D(2025, 5, 31)), "preliminary_deadline"),
        ((D(2025, 3, 31), D(2025, 5, 31), D(2025, 4, 30)), "scoring_deadline"),
        ((D(2025, 3, 31), D(2025, 3, 31), D(2025, 5, 31)), "preliminary_deadline"),
    ],
)
def test_opening_a_cycle_refuses_deadlines_out_of_order(tree, people, standard, deadlines, field):
    first, second, third = deadlines
    with pytest.raises(ValidationError) as error:
        open_cycle(
            committee=tree["C1"],
            actor=people["approver"],
            **cycle_fields(
                standard,
                self_assessment_deadline=first,
                preliminary_deadline=second,
                scoring_deadline=third,
            ),
        )

    assert field in error.value.message_dict
    assert not Assessment.objects.exists()


@pytest.mark.django_db
def test_a_branch_secretary_cannot_open_a_cycle(tree, people, standard):
    with pytest.raises(PermissionDenied):
        open_cycle(committee=tree["C1"], actor=people["secretary"], **cycle_fields(standard))


@pytest.mark.django_db
def test_two_cycles_of_a_committee_cannot_share_a_name(tree, people, standard):
    open_cycle(committee=tree["C1"], actor=people["approver"], **cycle_fields(standard))

    with pytest.raises(ValidationError):
        open_cycle(committee=tree["C1"], actor=people["approver"], **cycle_fields(standard))
    assert Cycle.objects.count() == 1


# --- The pages -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_approver_opens_a_cycle_with_a_star_cap_through_the_form(client, tree, people, standard):
    client.force_login(people["approver"])

    response = client.post(reverse("reviews:cycle_open"), form_data(tree["C1"], standard, cap_5="30"))

    cycle = Cycle.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("reviews:cycle_detail", args=[cycle.pk])
    assert cycle.committee == tree["C1"]
    assert cycle.star_caps == {"5": 30}
    assert cycle.assessments.count() == 3


@pytest.mark.django_db
def test_the_form_shows_deadlines_out_of_order_and_opens_nothing(client, tree, people, standard):
    client.force_login(people["approver"])

    response = client.post(
        reverse("reviews:cycle_open"), form_data(tree["C1"], standard, scoring_deadline="2025-04-01")
    )

    assert response.status_code == 200
    assert (
        "The scoring deadline must come after the preliminary review deadline." in response.content.decode()
    )
    assert not Cycle.objects.exists()


@pytest.mark.django_db
def test_the_form_offers_only_published_standards(client, tree, people, standard):
    draft = Standard.objects.create(name="草稿细则", version=1, status=StandardStatus.DRAFT)
    client.force_login(people["approver"])

    response = client.post(reverse("reviews:cycle_open"), form_data(tree["C1"], draft))

    assert response.status_code == 200
    assert not Cycle.objects.exists()


@pytest.mark.django_db
def test_a_branch_secretary_gets_403_on_the_open_page(client, people):
    client.force_login(people["secretary"])

    assert client.get(reverse("reviews:cycle_open")).status_code == 403


@pytest.mark.django_db
def test_an_assessment_reviewer_of_the_committee_gets_403_for_it(client, tree, people, standard):
    client.force_login(people["reviewer"])

    url = reverse("reviews:cycle_open") + f"?committee={tree['C1'].pk}"
    assert client.get(url).status_code == 403
    assert client.post(reverse("reviews:cycle_open"), form_data(tree["C1"], standard)).status_code == 403


@pytest.mark.django_db
def test_another_committees_approver_gets_404(client, tree, people, standard):
    client.force_login(people["other_approver"])

    url = reverse("reviews:cycle_open") + f"?committee={tree['C1'].pk}"
    assert client.get(url).status_code == 404
    assert client.post(reverse("reviews:cycle_open"), form_data(tree["C1"], standard)).status_code == 404
    assert not Cycle.objects.exists()


@pytest.mark.django_db
def test_a_cycle_is_404_to_another_committees_approver(client, tree, people, standard):
    cycle = open_cycle(committee=tree["C1"], actor=people["approver"], **cycle_fields(standard))
    client.force_login(people["other_approver"])

    assert client.get(reverse("reviews:cycle_detail", args=[cycle.pk])).status_code == 404
    assert cycle.name not in client.get(reverse("reviews:cycle_list")).content.decode()


@pytest.mark.django_db
def test_the_cycle_page_shows_the_settings_and_branches(client, tree, people, standard):
    cycle = open_cycle(
        committee=tree["C1"], actor=people["approver"], **cycle_fields(standard, star_caps={"5": 30})
    )
    client.force_login(people["staff"])

    page = client.get(reverse("reviews:cycle_detail", args=[cycle.pk])).content.decode()

    assert cycle.name in page
    assert "2025-05-31" in page
    assert "甲一支部" in page and "工委机关支部" in page
    assert "甲三支部" not in page
    assert "5★ at most 30%" in page


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context)


def _add_branches(committee, count, prefix):
    parent = create_organization(
        name=f"{prefix}党委", code=f"{prefix}P", kind=OrgKind.PARTY_COMMITTEE, parent=committee
    )
    for number in range(count):
        create_organization(
            name=f"{prefix}支部{number}", code=f"{prefix}B{number}", kind=OrgKind.BRANCH, parent=parent
        )


@pytest.mark.django_db
def test_the_cycle_page_runs_the_same_queries_for_few_and_many_branches(client, tree, people, standard):
    small = open_cycle(committee=tree["C2"], actor=tree_admin(tree["C2"]), **cycle_fields(standard))
    _add_branches(tree["C1"], 60, "X")
    large = open_cycle(committee=tree["C1"], actor=people["approver"], **cycle_fields(standard))
    client.force_login(User.objects.create_superuser("root", password="x-unused-x"))

    assert _queries(client, reverse("reviews:cycle_detail", args=[small.pk])) == _queries(
        client, reverse("reviews:cycle_detail", args=[large.pk])
    )


@pytest.mark.django_db
def test_the_cycle_list_runs_the_same_queries_for_few_and_many_cycles(client, tree, people, standard):
    client.force_login(people["approver"])
    open_cycle(committee=tree["C1"], actor=people["approver"], **cycle_fields(standard))
    few = _queries(client, reverse("reviews:cycle_list"))
    for number in range(30):
        open_cycle(
            committee=tree["C1"], actor=people["approver"], **cycle_fields(standard, name=f"周期{number}")
        )

    assert _queries(client, reverse("reviews:cycle_list")) == few


def tree_admin(committee):
    user = User.objects.create_user(f"approver-{committee.code}", password="x-unused-x")
    assign_role(user=user, role=Role.COMMITTEE_APPROVER, organization=committee)
    return user
