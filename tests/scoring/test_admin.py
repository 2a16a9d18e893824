"""The admin: published standards are read-only, actions call the services, lists are scoped."""

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from scoring.models import Item, Standard, StandardStatus
from scoring.services import standards as services
from tests.factories import DEFAULT_STANDARD_NAME, make_draft_standard

pytestmark = pytest.mark.django_db

BACKEND = "django.contrib.auth.backends.ModelBackend"


def change_url(standard: Standard) -> str:
    return reverse("admin:scoring_standard_change", args=[standard.pk])


def change_form_data(standard: Standard, **overrides) -> dict[str, str]:
    """What the change form posts for ``standard`` and its inlines, unchanged unless overridden."""
    data = {
        "committee": str(standard.committee_id or ""),
        "max_score": str(standard.max_score),
        "bonus_cap": "" if standard.bonus_cap is None else str(standard.bonus_cap),
        "allow_total_above_max": "on" if standard.allow_total_above_max else "",
        "_save": "Save",
    }
    if not data["allow_total_above_max"]:
        del data["allow_total_above_max"]
    inlines = {
        "thresholds": (standard.thresholds.order_by("-stars"), ("stars", "min_score")),
        "dimensions": (
            standard.dimensions.order_by("order", "code"),
            ("order", "code", "title", "max_score"),
        ),
    }
    for prefix, (rows, fields) in inlines.items():
        rows = list(rows)
        data |= {
            f"{prefix}-TOTAL_FORMS": str(len(rows)),
            f"{prefix}-INITIAL_FORMS": str(len(rows)),
            f"{prefix}-MIN_NUM_FORMS": "0",
            f"{prefix}-MAX_NUM_FORMS": "1000",
        }
        for n, row in enumerate(rows):
            data[f"{prefix}-{n}-id"] = str(row.pk)
            data[f"{prefix}-{n}-standard"] = str(standard.pk)
            for field in fields:
                data[f"{prefix}-{n}-{field}"] = str(getattr(row, field))
    data.update(overrides)
    return data


def messages_of(response) -> str:
    return " ".join(str(message) for message in get_messages(response.wsgi_request))


@pytest.fixture
def as_superuser(client, superuser):
    client.force_login(superuser, backend=BACKEND)
    return client


@pytest.fixture
def as_committee_staff(client, committee_staff):
    client.force_login(committee_staff, backend=BACKEND)
    return client


# --- published standards are read-only ------------------------------------------------


def test_a_published_standard_opens_read_only_even_for_a_superuser(as_superuser, published):
    response = as_superuser.get(change_url(published))

    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="max_score"' not in content
    assert 'name="_save"' not in content
    assert 'name="thresholds-0-min_score"' not in content


def test_posting_to_a_published_standard_changes_nothing(as_superuser, published):
    data = change_form_data(published, max_score="30", **{"thresholds-0-min_score": "1"})

    response = as_superuser.post(change_url(published), data)

    assert response.status_code == 403
    published.refresh_from_db()
    assert published.max_score == Decimal("20")
    assert published.thresholds.get(stars=5).min_score == Decimal("19")


def test_the_shipped_default_standard_cannot_be_changed_in_the_admin(as_superuser, default_standard):
    response = as_superuser.post(
        change_url(default_standard), change_form_data(default_standard, max_score="90")
    )

    assert response.status_code == 403
    default_standard.refresh_from_db()
    assert default_standard.max_score == Decimal("100")


def test_a_published_standard_cannot_be_deleted_in_the_admin(as_superuser, published):
    url = reverse("admin:scoring_standard_delete", args=[published.pk])

    assert as_superuser.post(url, {"post": "yes"}).status_code == 403
    assert Standard.objects.filter(pk=published.pk).exists()


def test_bulk_deleting_a_published_standard_is_refused(as_superuser, published):
    response = as_superuser.post(
        reverse("admin:scoring_standard_changelist"),
        {"action": "delete_selected", "_selected_action": [published.pk], "post": "yes"},
    )

    assert response.status_code == 403
    assert Standard.objects.filter(pk=published.pk).exists()


def test_an_item_of_a_published_standard_cannot_be_changed_in_the_admin(as_superuser, published):
    item = Item.objects.get(dimension__standard=published, code="1.1")
    url = reverse("admin:scoring_item_change", args=[item.pk])
    data = {
        "dimension": str(item.dimension_id),
        "order": "1",
        "code": "1.1",
        "title": "改过的标题",
        "max_score": "5",
        "kind": "normal",
    }

    assert as_superuser.get(url).status_code == 200
    assert as_superuser.post(url, data).status_code == 403
    assert Item.objects.get(pk=item.pk).title == "支部设置合理"


# --- drafts are edited through the services -------------------------------------------


def test_a_draft_opens_editable_for_a_superuser(as_superuser, draft):
    content = as_superuser.get(change_url(draft)).content.decode()

    assert 'name="max_score"' in content
    assert 'name="thresholds-0-min_score"' in content
    assert 'name="_save"' in content


def test_a_superuser_can_change_a_draft_and_its_thresholds(as_superuser, draft):
    data = change_form_data(draft, bonus_cap="1.5", **{"thresholds-0-min_score": "19.5"})

    response = as_superuser.post(change_url(draft), data)

    assert response.status_code == 302, response.content.decode()[:2000]
    draft.refresh_from_db()
    assert draft.bonus_cap == Decimal("1.5")
    assert draft.thresholds.get(stars=5).min_score == Decimal("19.5")


def test_a_standard_added_in_the_admin_is_a_draft_numbered_after_its_namesakes(
    as_superuser, default_standard
):
    data = {
        "name": DEFAULT_STANDARD_NAME,
        "committee": "",
        "max_score": "100",
        "bonus_cap": "",
        "thresholds-TOTAL_FORMS": "1",
        "thresholds-INITIAL_FORMS": "0",
        "thresholds-MIN_NUM_FORMS": "0",
        "thresholds-MAX_NUM_FORMS": "1000",
        "thresholds-0-stars": "5",
        "thresholds-0-min_score": "95",
        "dimensions-TOTAL_FORMS": "0",
        "dimensions-INITIAL_FORMS": "0",
        "dimensions-MIN_NUM_FORMS": "0",
        "dimensions-MAX_NUM_FORMS": "1000",
        "_save": "Save",
    }

    response = as_superuser.post(reverse("admin:scoring_standard_add"), data)

    assert response.status_code == 302, response.content.decode()[:2000]
    created = Standard.objects.get(name=DEFAULT_STANDARD_NAME, version=2)
    assert created.status == StandardStatus.DRAFT
    assert created.thresholds.get().min_score == Decimal("95")


# --- actions -------------------------------------------------------------------------


def run_action(client, action: str, *standards: Standard):
    return client.post(
        reverse("admin:scoring_standard_changelist"),
        {"action": action, "_selected_action": [standard.pk for standard in standards]},
        follow=True,
    )


def test_the_publish_action_publishes_a_consistent_draft(as_superuser, draft):
    response = run_action(as_superuser, "publish_selected", draft)

    draft.refresh_from_db()
    assert draft.status == StandardStatus.PUBLISHED
    assert "is published" in messages_of(response)


def test_the_publish_action_reports_why_a_draft_was_not_published(as_superuser, draft):
    draft.max_score = Decimal("25")
    services.save_standard(standard=draft)

    response = run_action(as_superuser, "publish_selected", draft)

    draft.refresh_from_db()
    assert draft.status == StandardStatus.DRAFT
    assert "was not published" in messages_of(response)
    assert "maximum is 25" in messages_of(response)


def test_the_publish_action_leaves_published_standards_alone(as_superuser, default_standard):
    published_at = default_standard.published_at

    response = run_action(as_superuser, "publish_selected", default_standard)

    default_standard.refresh_from_db()
    assert default_standard.published_at == published_at
    assert "already published" in messages_of(response)


def test_the_copy_action_makes_a_new_draft_version(as_superuser, default_standard):
    response = run_action(as_superuser, "copy_selected_to_new_draft", default_standard)

    copy = Standard.objects.get(name=DEFAULT_STANDARD_NAME, version=2)
    assert copy.status == StandardStatus.DRAFT
    assert copy.copied_from == default_standard
    assert copy.committee is None
    assert "new draft" in messages_of(response)


# --- scope for committee staff -------------------------------------------------------


@pytest.fixture
def scoped(world, default_standard):
    return {
        "ours": make_draft_standard(name="本工委细则", committee=world.committee),
        "theirs": make_draft_standard(name="他工委细则", committee=world.other_committee),
        "default": default_standard,
    }


def test_committee_staff_list_their_committees_and_the_global_standards(as_committee_staff, scoped):
    response = as_committee_staff.get(reverse("admin:scoring_standard_changelist"))

    content = response.content.decode()
    assert response.status_code == 200
    assert "本工委细则" in content
    assert DEFAULT_STANDARD_NAME in content
    assert "他工委细则" not in content


def test_another_committees_standard_is_not_found_for_committee_staff(as_committee_staff, scoped):
    response = as_committee_staff.get(change_url(scoped["theirs"]))

    # The admin answers a missing object by going back to the index: no page, no name.
    assert response.status_code == 302
    assert "他工委细则" not in messages_of(response)


def test_committee_staff_can_change_their_committees_draft(as_committee_staff, scoped):
    ours = scoped["ours"]

    response = as_committee_staff.post(change_url(ours), change_form_data(ours, bonus_cap="1"))

    assert response.status_code == 302, response.content.decode()[:2000]
    ours.refresh_from_db()
    assert ours.bonus_cap == Decimal("1")


def test_committee_staff_cannot_change_a_global_draft(as_committee_staff, world):
    global_draft = make_draft_standard(name="通用草稿")

    response = as_committee_staff.post(
        change_url(global_draft), change_form_data(global_draft, bonus_cap="1")
    )

    assert response.status_code == 403
    global_draft.refresh_from_db()
    assert global_draft.bonus_cap == Decimal("2")


def test_committee_staff_cannot_make_a_global_standard(as_committee_staff, world):
    response = as_committee_staff.post(
        reverse("admin:scoring_standard_add"),
        {
            "name": "私造的通用细则",
            "committee": "",
            "max_score": "100",
            "thresholds-TOTAL_FORMS": "0",
            "thresholds-INITIAL_FORMS": "0",
            "dimensions-TOTAL_FORMS": "0",
            "dimensions-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 200  # the form comes back with an error
    assert "committee" in response.context["adminform"].form.errors
    assert not Standard.objects.filter(name="私造的通用细则").exists()


def test_committee_staff_cannot_give_a_standard_to_another_committee(as_committee_staff, world):
    response = as_committee_staff.post(
        reverse("admin:scoring_standard_add"),
        {
            "name": "越权细则",
            "committee": str(world.other_committee.pk),
            "max_score": "100",
            "thresholds-TOTAL_FORMS": "0",
            "thresholds-INITIAL_FORMS": "0",
            "dimensions-TOTAL_FORMS": "0",
            "dimensions-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 200
    assert "committee" in response.context["adminform"].form.errors
    assert not Standard.objects.filter(name="越权细则").exists()


def test_copying_a_global_standard_gives_committee_staff_their_own_draft(as_committee_staff, scoped, world):
    run_action(as_committee_staff, "copy_selected_to_new_draft", scoped["default"])

    copy = Standard.objects.get(name=DEFAULT_STANDARD_NAME, version=2)
    assert copy.committee == world.committee
    assert copy.status == StandardStatus.DRAFT


def test_committee_staff_cannot_publish_a_global_draft(as_committee_staff, world):
    global_draft = make_draft_standard(name="通用草稿")

    response = run_action(as_committee_staff, "publish_selected", global_draft)

    global_draft.refresh_from_db()
    assert global_draft.status == StandardStatus.DRAFT
    assert "may not publish" in messages_of(response)


def test_the_item_list_shows_only_items_of_visible_standards(as_committee_staff, scoped):
    response = as_committee_staff.get(reverse("admin:scoring_item_changelist") + "?all=")

    content = response.content.decode()
    assert response.status_code == 200
    assert "本工委细则" in content
    assert "他工委细则" not in content


def test_items_can_only_be_added_to_dimensions_of_editable_drafts(as_committee_staff, scoped):
    response = as_committee_staff.get(reverse("admin:scoring_item_add"))

    choices = list(response.context["adminform"].form.fields["dimension"].queryset)
    assert {dimension.standard.name for dimension in choices} == {"本工委细则"}
