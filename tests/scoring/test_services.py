"""Writing standards: drafts change freely, publication validates, published ones are frozen."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from branches.errors import WorkflowError
from branches.models import User
from scoring.models import Dimension, Item, ItemKind, Standard, StandardStatus, StarThreshold
from scoring.services import standards as services
from scoring.services.standards import PublishedStandardError
from tests.factories import DEFAULT_STANDARD_NAME, make_draft_standard

pytestmark = pytest.mark.django_db

D = Decimal


def publisher() -> User:
    """A superuser to publish with: these tests are about the standard, not about who publishes."""
    return User.objects.get_or_create(username="publisher", defaults={"is_superuser": True})[0]


def publication_messages(standard: Standard) -> str:
    with pytest.raises(ValidationError) as excinfo:
        services.publish_standard(standard=standard, actor=publisher())
    standard.refresh_from_db()
    assert standard.status == StandardStatus.DRAFT
    return " ".join(excinfo.value.messages)


# --- drafts --------------------------------------------------------------------------


def test_a_new_standard_is_a_draft_numbered_version_one():
    standard = services.create_standard(name="新细则")

    assert standard.status == StandardStatus.DRAFT
    assert standard.version == 1
    assert standard.published_at is None


def test_a_new_standard_with_an_existing_name_gets_the_next_version(default_standard):
    standard = services.create_standard(name=DEFAULT_STANDARD_NAME)

    assert standard.version == 2


def test_a_standard_can_only_be_owned_by_a_working_committee(world):
    branch = world.branch_under_committee

    with pytest.raises(ValidationError):
        services.create_standard(name="支部细则", committee=branch)


def test_a_draft_can_be_changed(draft):
    draft.max_score = D("30")
    services.save_standard(standard=draft)
    item = Item.objects.get(dimension__standard=draft, code="1.1")
    item.title = "支部设置规范"
    services.save_item(item=item)

    draft.refresh_from_db()
    assert draft.max_score == D("30")
    assert Item.objects.get(pk=item.pk).title == "支部设置规范"


def test_saving_cannot_publish_a_standard(draft):
    draft.status = StandardStatus.PUBLISHED

    with pytest.raises(ValidationError):
        services.save_standard(standard=draft)
    draft.refresh_from_db()
    assert draft.status == StandardStatus.DRAFT


def test_item_codes_are_unique_across_the_whole_standard(draft):
    second = draft.dimensions.get(code="2")

    with pytest.raises(ValidationError, match=r"1\.1"):
        services.save_item(item=Item(dimension=second, code="1.1", title="重复", max_score=D("1")))


def test_a_veto_item_needs_a_star_cap(draft):
    dimension = draft.dimensions.get(code="2")

    with pytest.raises(ValidationError) as excinfo:
        services.save_item(
            item=Item(dimension=dimension, code="V2", title="否决", max_score=D("0"), kind="veto")
        )
    assert "veto_star_cap" in excinfo.value.message_dict


def test_a_score_with_two_decimals_is_not_a_valid_item_maximum(draft):
    dimension = draft.dimensions.get(code="2")

    with pytest.raises(ValidationError) as excinfo:
        services.save_item(item=Item(dimension=dimension, code="2.9", title="细", max_score=D("1.25")))
    assert "max_score" in excinfo.value.message_dict


# --- publishing ----------------------------------------------------------------------


def test_publishing_a_consistent_draft_freezes_it(draft):
    published = services.publish_standard(standard=draft, actor=publisher())

    assert published.status == StandardStatus.PUBLISHED
    assert published.published_at is not None
    assert draft.status == StandardStatus.PUBLISHED  # the caller's instance is kept in step


def test_a_standard_without_dimensions_cannot_be_published():
    standard = services.create_standard(name="空细则")

    assert "at least one dimension" in publication_messages(standard)


def test_a_standard_without_items_cannot_be_published():
    standard = services.create_standard(name="空细则")
    services.save_dimension(dimension=Dimension(standard=standard, code="1", title="维度", max_score=D("0")))

    assert "at least one item" in publication_messages(standard)


def test_a_dimension_without_items_blocks_publication(draft):
    services.save_dimension(
        dimension=Dimension(standard=draft, order=3, code="3", title="空维度", max_score=D("0"))
    )

    assert "has no items" in publication_messages(draft)


def test_normal_items_must_add_up_to_the_standards_maximum(draft):
    draft.max_score = D("25")
    services.save_standard(standard=draft)

    assert "add up to 20.0 points, but the standard's maximum is 25" in publication_messages(draft)


def test_a_dimension_must_be_worth_the_points_of_its_normal_items(draft):
    dimension = draft.dimensions.get(code="1")
    dimension.max_score = D("9")
    services.save_dimension(dimension=dimension)

    messages = publication_messages(draft)

    assert "is worth 9.0 points, but its normal items add up to 10.0" in messages


def test_bonus_and_veto_items_do_not_count_towards_the_dimensions_points(draft):
    # The draft's dimension 2 holds a normal item of 10 plus a bonus of 3 and a veto.
    assert services.publish_standard(standard=draft, actor=publisher()).is_published


def test_thresholds_must_rise_with_the_stars(draft):
    four = draft.thresholds.get(stars=4)
    four.min_score = D("19.5")
    services.save_threshold(threshold=four)

    assert "The threshold for 5 stars (19.0) must be above the threshold for 4 stars (19.5)" in (
        publication_messages(draft)
    )


def test_equal_thresholds_for_two_levels_block_publication(draft):
    four = draft.thresholds.get(stars=4)
    four.min_score = D("19")
    services.save_threshold(threshold=four)

    assert "must be above" in publication_messages(draft)


def test_a_standard_without_thresholds_cannot_be_published(draft):
    for threshold in draft.thresholds.all():
        services.delete_threshold(threshold=threshold)

    assert "at least one star threshold" in publication_messages(draft)


def test_a_threshold_above_the_maximum_blocks_publication(draft):
    five = draft.thresholds.get(stars=5)
    five.min_score = D("21")
    services.save_threshold(threshold=five)

    assert "no branch could reach it" in publication_messages(draft)


def test_every_problem_is_reported_at_once(draft):
    draft.max_score = D("25")
    services.save_standard(standard=draft)
    four = draft.thresholds.get(stars=4)
    four.min_score = D("19.5")
    services.save_threshold(threshold=four)

    with pytest.raises(ValidationError) as excinfo:
        services.publish_standard(standard=draft, actor=publisher())
    assert len(excinfo.value.messages) == 2


def test_duplicate_item_codes_written_behind_the_services_back_block_publication(draft):
    Item.objects.create(dimension=draft.dimensions.get(code="2"), code="1.1", title="重复", max_score=D("0"))

    assert "1.1 is used more than once" in publication_messages(draft)


def test_publishing_twice_is_refused(published):
    with pytest.raises(WorkflowError, match="already published"):
        services.publish_standard(standard=published, actor=publisher())


# --- published standards are frozen --------------------------------------------------


def test_a_published_standard_cannot_be_changed(published):
    published.max_score = D("30")

    with pytest.raises(PublishedStandardError):
        services.save_standard(standard=published)
    published.refresh_from_db()
    assert published.max_score == D("20")


def test_a_stale_draft_instance_cannot_change_a_standard_published_since(draft):
    stale = Standard.objects.get(pk=draft.pk)
    services.publish_standard(standard=draft, actor=publisher())
    stale.max_score = D("30")

    with pytest.raises(PublishedStandardError):
        services.save_standard(standard=stale)


def test_a_published_standard_cannot_be_deleted(published):
    with pytest.raises(PublishedStandardError):
        services.delete_standard(standard=published)
    assert Standard.objects.filter(pk=published.pk).exists()


def test_the_thresholds_of_a_published_standard_are_frozen(published):
    threshold = published.thresholds.get(stars=5)
    threshold.min_score = D("18.5")

    with pytest.raises(PublishedStandardError):
        services.save_threshold(threshold=threshold)
    with pytest.raises(PublishedStandardError):
        services.delete_threshold(threshold=threshold)
    with pytest.raises(PublishedStandardError):
        services.save_threshold(threshold=StarThreshold(standard=published, stars=6, min_score=D("20")))
    assert published.thresholds.get(stars=5).min_score == D("19")


def test_the_dimensions_of_a_published_standard_are_frozen(published):
    dimension = published.dimensions.get(code="1")
    dimension.title = "改名"

    with pytest.raises(PublishedStandardError):
        services.save_dimension(dimension=dimension)
    with pytest.raises(PublishedStandardError):
        services.delete_dimension(dimension=dimension)
    with pytest.raises(PublishedStandardError):
        services.save_dimension(
            dimension=Dimension(standard=published, code="9", title="新", max_score=D("0"))
        )
    assert published.dimensions.count() == 2


def test_the_items_of_a_published_standard_are_frozen(published):
    item = Item.objects.get(dimension__standard=published, code="1.1")
    item.max_score = D("4")

    with pytest.raises(PublishedStandardError):
        services.save_item(item=item)
    with pytest.raises(PublishedStandardError):
        services.delete_item(item=item)
    with pytest.raises(PublishedStandardError):
        services.save_item(item=Item(dimension=item.dimension, code="1.9", title="新", max_score=D("1")))
    assert Item.objects.get(pk=item.pk).max_score == D("5")


def test_an_item_cannot_be_moved_out_of_a_published_standard(published):
    other = make_draft_standard(name="另一细则")
    item = Item.objects.get(dimension__standard=published, code="1.1")
    item.dimension = other.dimensions.get(code="1")
    item.code = "1.9"

    with pytest.raises(PublishedStandardError):
        services.save_item(item=item)


def test_an_item_cannot_be_moved_into_a_published_standard(published):
    other = make_draft_standard(name="另一细则")
    item = Item.objects.get(dimension__standard=other, code="1.1")
    item.dimension = published.dimensions.get(code="1")
    item.code = "1.9"

    with pytest.raises(PublishedStandardError):
        services.save_item(item=item)


def test_the_shipped_default_standard_is_frozen(default_standard):
    with pytest.raises(PublishedStandardError):
        services.save_item(item=Item.objects.filter(dimension__standard=default_standard).first())


# --- copying -------------------------------------------------------------------------


def item_rows(standard: Standard) -> list[tuple]:
    return list(
        Item.objects.filter(dimension__standard=standard)
        .order_by("dimension__order", "order")
        .values_list(
            "dimension__code",
            "dimension__title",
            "dimension__max_score",
            "order",
            "code",
            "title",
            "guidance",
            "evidence_hint",
            "evidence_required",
            "max_score",
            "kind",
            "veto_star_cap",
        )
    )


def test_copying_makes_the_next_version_as_a_draft_with_the_same_content(published):
    copy = services.copy_standard_to_new_draft(standard=published)

    assert copy.version == 2
    assert copy.name == published.name
    assert copy.status == StandardStatus.DRAFT
    assert copy.published_at is None
    assert copy.copied_from == published
    assert (copy.max_score, copy.bonus_cap, copy.allow_total_above_max, copy.committee_id) == (
        published.max_score,
        published.bonus_cap,
        published.allow_total_above_max,
        published.committee_id,
    )
    assert item_rows(copy) == item_rows(published)
    assert set(copy.thresholds.values_list("stars", "min_score")) == set(
        published.thresholds.values_list("stars", "min_score")
    )


def test_the_copy_shares_no_rows_with_the_original(published):
    copy = services.copy_standard_to_new_draft(standard=published)

    assert not set(copy.dimensions.values_list("pk", flat=True)) & set(
        published.dimensions.values_list("pk", flat=True)
    )
    assert not set(Item.objects.filter(dimension__standard=copy).values_list("pk", flat=True)) & set(
        Item.objects.filter(dimension__standard=published).values_list("pk", flat=True)
    )


def test_changing_the_copy_leaves_the_published_original_untouched(published):
    copy = services.copy_standard_to_new_draft(standard=published)
    item = Item.objects.get(dimension__standard=copy, code="1.1")
    item.title = "新标题"
    item.max_score = D("4")
    services.save_item(item=item)

    assert Item.objects.get(dimension__standard=published, code="1.1").title == "支部设置合理"
    assert Item.objects.get(dimension__standard=published, code="1.1").max_score == D("5")


def test_a_copy_can_be_published_in_turn(published):
    copy = services.copy_standard_to_new_draft(standard=published)

    assert services.publish_standard(standard=copy, actor=publisher()).is_published


def test_each_copy_takes_the_next_free_version(published):
    services.copy_standard_to_new_draft(standard=published)
    third = services.copy_standard_to_new_draft(standard=published)

    assert third.version == 3


def test_copying_the_default_standard_makes_its_version_two(default_standard):
    copy = services.copy_standard_to_new_draft(standard=default_standard)

    assert copy.version == 2
    assert Item.objects.filter(dimension__standard=copy).count() == 19
    assert copy.dimensions.get(code="4").max_score == D("20")


def test_a_committee_can_take_its_own_copy_of_a_global_standard(default_standard, world):
    copy = services.copy_standard_to_new_draft(standard=default_standard, committee=world.committee)

    assert copy.committee == world.committee
    assert default_standard.committee is None


def test_a_draft_can_be_deleted_with_everything_under_it(draft):
    services.delete_standard(standard=draft)

    assert not Standard.objects.filter(pk=draft.pk).exists()
    assert not Item.objects.filter(code="1.1", dimension__standard_id=draft.pk).exists()


def test_item_kinds_are_the_four_of_the_design():
    assert set(ItemKind.values) == {"normal", "bonus", "deduction", "veto"}
