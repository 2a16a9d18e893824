"""Deduction items (扣分项): 基础分 + 加分 − 减分, in the arithmetic, the model, publication and the admin."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from scoring.arithmetic import (
    BONUS,
    DEDUCTION,
    NORMAL,
    VETO,
    ItemRule,
    ScoreError,
    StandardRules,
    star_for,
    star_for_total,
    total_parts,
    total_score,
)
from scoring.models import Item, ItemKind
from scoring.selectors import rules_from_standard
from scoring.services import standards as services
from scoring.templatetags.points import signed_points
from tests.factories import items_by_code, make_draft_standard, make_standard_with_deduction
from tests.scoring.test_arithmetic_properties import points, thresholds

D = Decimal

# --- Strategies ------------------------------------------------------------------------------


@st.composite
def rules_with_deductions(draw) -> StandardRules:
    """A standard with 1–6 normal items, 0–3 bonus items, 1–4 deduction items and 0–2 vetoes."""
    normal = draw(st.lists(points("0.5", "30"), min_size=1, max_size=6))
    bonus = draw(st.lists(points("0", "10"), max_size=3))
    deductions = draw(st.lists(points("0.1", "40"), min_size=1, max_size=4))
    veto_caps = draw(st.lists(st.integers(1, 5), max_size=2))
    max_score = sum(normal, D(0))
    items = (
        tuple(ItemRule(f"N{n}", value, NORMAL) for n, value in enumerate(normal))
        + tuple(ItemRule(f"B{n}", value, BONUS) for n, value in enumerate(bonus))
        + tuple(ItemRule(f"K{n}", value, DEDUCTION) for n, value in enumerate(deductions))
        + tuple(ItemRule(f"V{n}", D(0), VETO, veto_star_cap=cap) for n, cap in enumerate(veto_caps))
    )
    return StandardRules(
        max_score=max_score,
        thresholds=draw(thresholds(max_score)),
        bonus_cap=draw(st.none() | points("0", "10")),
        allow_total_above_max=draw(st.booleans()),
        items=items,
    )


@st.composite
def sheets(draw) -> tuple[StandardRules, dict[str, Decimal]]:
    """A standard with deduction items and a partly or fully filled sheet of valid scores."""
    rules = draw(rules_with_deductions())
    scores = {}
    for item in rules.items:
        if item.kind != VETO and draw(st.booleans()):
            scores[item.code] = draw(points("0", str(item.max_score)))
    return rules, scores


def deduction_codes(rules: StandardRules) -> list[str]:
    return [item.code for item in rules.items if item.kind == DEDUCTION]


# --- Properties ------------------------------------------------------------------------------


@given(sheets(), st.data())
def test_more_deduction_never_raises_the_total(case, data):
    rules, scores = case
    code = data.draw(st.sampled_from(deduction_codes(rules)))
    item = rules.item(code)
    now = scores.get(code, D(0))
    more = data.draw(points(str(now), str(item.max_score)))

    assert total_score(rules, {**scores, code: more}) <= total_score(rules, scores)


@given(sheets(), st.data())
def test_more_deduction_never_raises_the_stars(case, data):
    rules, scores = case
    code = data.draw(st.sampled_from(deduction_codes(rules)))
    more = data.draw(points(str(scores.get(code, D(0))), str(rules.item(code).max_score)))
    before, after = total_score(rules, scores), total_score(rules, {**scores, code: more})

    assert star_for_total(after, rules.thresholds) <= star_for_total(before, rules.thresholds)


@given(sheets())
def test_the_total_is_never_below_zero(case):
    rules, scores = case

    assert total_score(rules, scores) >= 0


@given(rules_with_deductions())
def test_every_deduction_at_its_maximum_on_an_empty_sheet_still_totals_zero(rules):
    scores = {code: rules.item(code).max_score for code in deduction_codes(rules)}

    assert total_score(rules, scores) == 0


@given(sheets())
def test_the_total_is_the_capped_subtotal_minus_the_deductions_floored_at_zero(case):
    rules, scores = case
    kinds = {item.code: item.kind for item in rules.items}

    def points_of(kind: str) -> Decimal:
        return sum((value for code, value in scores.items() if kinds[code] == kind), D(0))

    bonus = points_of(BONUS) if rules.bonus_cap is None else min(points_of(BONUS), rules.bonus_cap)
    subtotal = points_of(NORMAL) + bonus
    if not rules.allow_total_above_max:
        subtotal = min(subtotal, rules.max_score)

    assert total_parts(rules, scores) == (
        subtotal,
        points_of(DEDUCTION),
        max(subtotal - points_of(DEDUCTION), 0),
    )


@given(sheets())
def test_the_total_never_exceeds_the_maximum_unless_allowed(case):
    rules, scores = case

    if not rules.allow_total_above_max:
        assert total_score(rules, scores) <= rules.max_score


@given(sheets(), st.data())
def test_a_deduction_above_its_items_maximum_is_refused(case, data):
    rules, scores = case
    code = data.draw(st.sampled_from(deduction_codes(rules)))
    too_much = rules.item(code).max_score + data.draw(points("0.1", "50"))

    with pytest.raises(ScoreError, match="above the item's maximum"):
        total_score(rules, {**scores, code: too_much})


@given(sheets(), st.data())
def test_one_deduction_takes_off_at_most_its_maximum(case, data):
    rules, scores = case
    code = data.draw(st.sampled_from(deduction_codes(rules)))
    without = {**scores, code: D(0)}
    at_most = {**scores, code: rules.item(code).max_score}

    assert total_score(rules, without) - total_score(rules, at_most) <= rules.item(code).max_score


@given(sheets(), st.data())
def test_stars_follow_the_total_with_deductions(case, data):
    rules, scores = case
    vetoes = [item.code for item in rules.items if item.kind == VETO]
    applied = data.draw(st.lists(st.sampled_from(vetoes), unique=True)) if vetoes else []
    total = total_score(rules, scores)

    stars = star_for(rules, total, applied)

    caps = [rules.item(code).veto_star_cap for code in applied]
    assert stars == min([star_for_total(total, rules.thresholds), *caps])


# --- Boundaries ------------------------------------------------------------------------------

RULES = StandardRules(
    max_score=D("100"),
    thresholds=((5, D("95")), (4, D("90")), (3, D("80")), (2, D("70"))),
    bonus_cap=D("5"),
    allow_total_above_max=False,
    items=(
        ItemRule("N1", D("60"), NORMAL),
        ItemRule("N2", D("40"), NORMAL),
        ItemRule("B1", D("5"), BONUS),
        ItemRule("B2", D("5"), BONUS),
        ItemRule("K1", D("3"), DEDUCTION),
        ItemRule("K2", D("10"), DEDUCTION),
    ),
)


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ({"N1": "60", "N2": "40"}, ("100.0", "0.0", "100.0")),
        ({"N1": "60", "N2": "40", "K1": "0"}, ("100.0", "0.0", "100.0")),
        ({"N1": "60", "N2": "35", "K1": "0.1"}, ("95.0", "0.1", "94.9")),
        ({"N1": "60", "N2": "35", "B1": "1", "K1": "1"}, ("96.0", "1.0", "95.0")),
        # Bonus above the maximum cannot soak up a deduction: capped at 100 first, then −3.
        ({"N1": "60", "N2": "40", "B1": "5", "K1": "3"}, ("100.0", "3.0", "97.0")),
        ({"N1": "60", "N2": "40", "B1": "5", "B2": "5", "K1": "3", "K2": "10"}, ("100.0", "13.0", "87.0")),
        # The floor: more deducted than earned is a total of 0, never negative.
        ({"N1": "5", "K1": "3", "K2": "10"}, ("5.0", "13.0", "0.0")),
        ({"K1": "3", "K2": "10"}, ("0.0", "13.0", "0.0")),
        ({"N1": "13", "K1": "3", "K2": "10"}, ("13.0", "13.0", "0.0")),
        ({"N1": "13.1", "K1": "3", "K2": "10"}, ("13.1", "13.0", "0.1")),
    ],
)
def test_total_parts_at_the_boundaries(scores, expected):
    assert tuple(str(part) for part in total_parts(RULES, scores)) == expected
    assert str(total_score(RULES, scores)) == expected[2]


def test_with_a_total_above_the_maximum_allowed_the_deduction_comes_off_the_whole_sum():
    rules = StandardRules(
        max_score=RULES.max_score,
        thresholds=RULES.thresholds,
        bonus_cap=RULES.bonus_cap,
        allow_total_above_max=True,
        items=RULES.items,
    )

    assert total_parts(rules, {"N1": "60", "N2": "40", "B1": "5", "K1": "3"}) == (D("105"), D("3"), D("102"))


@pytest.mark.parametrize(("score", "stars"), [("0", 5), ("0.1", 4), ("5", 4), ("5.1", 3)])
def test_a_deduction_moves_the_star_level_across_its_threshold(score, stars):
    total = total_score(RULES, {"N1": "60", "N2": "35", "K2": score})

    assert star_for(RULES, total) == stars


@pytest.mark.parametrize("score", ["3.1", "-1", "-0", "0.05", "1e1"])
def test_a_deduction_outside_0_to_its_maximum_or_with_two_decimals_is_refused(score):
    with pytest.raises(ScoreError):
        total_score(RULES, {"K1": score})


def test_a_deduction_item_must_be_able_to_deduct_something():
    with pytest.raises(ValueError, match="deduction item K1"):
        ItemRule("K1", D("0"), DEDUCTION)


def test_a_deduction_item_has_no_veto_cap():
    with pytest.raises(ValueError, match="only veto items"):
        ItemRule("K1", D("3"), DEDUCTION, veto_star_cap=1)


def test_rules_know_whether_a_standard_has_deductions():
    assert RULES.has_deductions
    assert not StandardRules(
        max_score=D("10"),
        thresholds=((5, D("9")),),
        bonus_cap=None,
        allow_total_above_max=False,
        items=(ItemRule("N1", D("10"), NORMAL),),
    ).has_deductions


@pytest.mark.parametrize(
    ("value", "kind", "printed"),
    [
        (D("2.0"), DEDUCTION, "−2.0"),
        (D("0.0"), DEDUCTION, "0.0"),
        (None, DEDUCTION, None),
        (D("2.0"), NORMAL, "2.0"),
        ("1.5", DEDUCTION, "−1.5"),
    ],
)
def test_a_deduction_prints_with_a_minus_sign_and_nothing_deducted_without_one(value, kind, printed):
    assert signed_points(value, kind) == printed


# --- The model, publication and the editor ---------------------------------------------------


@pytest.mark.django_db
def test_a_deduction_item_with_no_points_to_deduct_is_refused(draft):
    dimension = draft.dimensions.get(code="2")
    item = Item(
        dimension=dimension, order=9, code="K9", title="扣分", max_score=D("0"), kind=ItemKind.DEDUCTION
    )

    with pytest.raises(ValidationError) as error:
        services.save_item(item=item)

    assert "max_score" in error.value.message_dict


@pytest.mark.django_db
def test_deduction_items_are_not_counted_in_the_dimension_or_standard_points(superuser):
    draft = make_draft_standard(with_deduction=True)

    published = services.publish_standard(standard=draft, actor=superuser)

    assert published.is_published
    rules = rules_from_standard(published)
    assert rules.item("K1").kind == DEDUCTION
    assert rules.item("K1").max_score == D("3")


@pytest.mark.django_db
def test_a_dimension_made_only_of_a_deduction_item_is_worth_zero_points(superuser):
    draft = make_draft_standard()
    dimension = services.save_dimension(
        dimension=draft.dimensions.model(standard=draft, order=3, code="3", title="扣分项", max_score=D("0"))
    )
    services.save_item(
        item=Item(
            dimension=dimension, order=1, code="K1", title="迟报", max_score=D("5"), kind=ItemKind.DEDUCTION
        )
    )

    assert services.publish_standard(standard=draft, actor=superuser).is_published


@pytest.mark.django_db
def test_a_dimension_whose_points_count_a_deduction_item_is_not_published(superuser):
    draft = make_draft_standard(with_deduction=True)
    draft.dimensions.filter(code="2").update(max_score=D("13"))

    with pytest.raises(ValidationError) as error:
        services.publish_standard(standard=draft, actor=superuser)

    assert "normal items add up to 10" in " ".join(error.value.messages)


@pytest.mark.django_db
def test_copying_a_standard_keeps_its_deduction_item(world):
    standard = make_standard_with_deduction(committee=world.committee, actor=world.approver)

    copy = services.copy_standard_to_new_draft(standard=standard)

    assert items_by_code(copy)["K1"].kind == ItemKind.DEDUCTION
    assert items_by_code(copy)["K1"].max_score == D("3")


@pytest.mark.django_db
def test_committee_staff_add_a_deduction_item_to_their_draft_in_the_admin(client, committee_staff, world):
    draft = make_draft_standard(name="本工委细则", committee=world.committee)
    dimension = draft.dimensions.get(code="2")
    client.force_login(committee_staff, backend="django.contrib.auth.backends.ModelBackend")

    form = client.get(reverse("admin:scoring_item_add"))
    response = client.post(
        reverse("admin:scoring_item_add"),
        {
            "dimension": str(dimension.pk),
            "order": "5",
            "code": "K2",
            "title": "会议记录不全",
            "guidance": "每缺一次扣0.5分。",
            "evidence_hint": "",
            "max_score": "2",
            "kind": "deduction",
            "veto_star_cap": "",
            "_save": "Save",
        },
    )

    assert ("deduction", "Deduction item") in form.context["adminform"].form.fields["kind"].choices
    assert response.status_code == 302, response.content.decode()
    item = Item.objects.get(dimension=dimension, code="K2")
    assert (item.kind, item.max_score) == (ItemKind.DEDUCTION, D("2"))
    assert services.publish_standard(standard=draft, actor=world.staff).is_published


@pytest.mark.django_db
def test_the_admin_refuses_a_deduction_item_with_nothing_to_deduct(client, committee_staff, world):
    draft = make_draft_standard(name="本工委细则", committee=world.committee)
    client.force_login(committee_staff, backend="django.contrib.auth.backends.ModelBackend")

    response = client.post(
        reverse("admin:scoring_item_add"),
        {
            "dimension": str(draft.dimensions.get(code="2").pk),
            "order": "5",
            "code": "K2",
            "title": "会议记录不全",
            "max_score": "0",
            "kind": "deduction",
            "_save": "Save",
        },
    )

    assert response.status_code == 200
    assert "A deduction item needs the most points it can deduct" in response.content.decode()
    assert not Item.objects.filter(code="K2").exists()
