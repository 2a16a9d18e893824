"""Totals and star levels, worked through by example at every boundary the rules name."""

from decimal import Decimal

import pytest

from scoring.arithmetic import (
    ItemRule,
    ScoreError,
    StandardRules,
    mean_score,
    star_for,
    star_for_total,
    total_score,
    validate_item_score,
)

D = Decimal
DEFAULT_THRESHOLDS = ((5, D("95")), (4, D("90")), (3, D("80")), (2, D("70")), (1, D("0")))


def default_like_rules(**overrides) -> StandardRules:
    """Ten normal items of 10 points, a bonus item, two vetoes; thresholds 95/90/80/70/0."""
    items = tuple(ItemRule(code=f"N{n}", max_score=D("10"), kind="normal") for n in range(1, 11))
    items += (
        ItemRule(code="B1", max_score=D("5"), kind="bonus"),
        ItemRule(code="B2", max_score=D("5"), kind="bonus"),
        ItemRule(code="V1", max_score=D("0"), kind="veto", veto_star_cap=1),
        ItemRule(code="V3", max_score=D("0"), kind="veto", veto_star_cap=3),
    )
    values = {
        "max_score": D("100"),
        "thresholds": DEFAULT_THRESHOLDS,
        "bonus_cap": D("3"),
        "allow_total_above_max": False,
        "items": items,
    }
    values.update(overrides)
    return StandardRules(**values)


def full_marks(rules: StandardRules) -> dict[str, Decimal]:
    return {item.code: item.max_score for item in rules.items if item.kind == "normal"}


# --- star_for_total ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "stars"),
    [
        ("100", 5),
        ("95.0", 5),
        ("94.9", 4),
        ("90.0", 4),
        ("89.9", 3),
        ("80", 3),
        ("79.9", 2),
        ("70", 2),
        ("69.9", 1),
        ("0", 1),
    ],
)
def test_star_for_total_is_the_highest_level_whose_threshold_is_reached(total, stars):
    assert star_for_total(D(total), DEFAULT_THRESHOLDS) == stars


def test_star_for_total_is_one_star_below_the_lowest_threshold_even_without_a_one_star_row():
    thresholds = ((5, D("95")), (4, D("90")), (3, D("80")), (2, D("70")))

    assert star_for_total(D("69.9"), thresholds) == 1
    assert star_for_total(D("70"), thresholds) == 2


def test_star_for_total_does_not_depend_on_the_order_thresholds_are_given_in():
    assert star_for_total(D("91"), tuple(reversed(DEFAULT_THRESHOLDS))) == 4


def test_star_for_total_refuses_a_total_that_is_not_a_number():
    with pytest.raises(ScoreError):
        star_for_total(D("NaN"), DEFAULT_THRESHOLDS)


# --- total_score ---------------------------------------------------------------------


def test_total_adds_up_normal_items():
    rules = default_like_rules()

    assert total_score(rules, {"N1": D("10"), "N2": D("7.5"), "N3": D("0")}) == D("17.5")


def test_items_without_a_score_count_as_zero():
    assert total_score(default_like_rules(), {}) == D("0")


def test_bonus_points_are_added_up_to_the_bonus_cap():
    rules = default_like_rules(bonus_cap=D("3"))
    scores = {"N1": D("10"), "B1": D("2"), "B2": D("2.5")}

    assert total_score(rules, scores) == D("13")


def test_bonus_points_are_added_in_full_without_a_bonus_cap():
    rules = default_like_rules(bonus_cap=None)

    assert total_score(rules, {"N1": D("10"), "B1": D("2"), "B2": D("2.5")}) == D("14.5")


def test_bonus_points_cannot_lift_the_total_above_the_maximum():
    rules = default_like_rules()
    scores = full_marks(rules) | {"B1": D("3")}

    assert total_score(rules, scores) == D("100")


def test_bonus_points_may_lift_the_total_above_the_maximum_when_the_standard_allows_it():
    rules = default_like_rules(allow_total_above_max=True)
    scores = full_marks(rules) | {"B1": D("3")}

    assert total_score(rules, scores) == D("103")


def test_total_refuses_a_score_for_an_item_the_standard_does_not_have():
    with pytest.raises(ScoreError, match="X9"):
        total_score(default_like_rules(), {"X9": D("1")})


def test_total_refuses_an_invalid_item_score():
    with pytest.raises(ScoreError):
        total_score(default_like_rules(), {"N1": D("10.5")})


def test_a_veto_item_carries_no_points():
    rules = default_like_rules()

    assert total_score(rules, {"N1": D("5"), "V1": D("0")}) == D("5")
    with pytest.raises(ScoreError):
        total_score(rules, {"V1": D("1")})


# --- star_for with vetoes ------------------------------------------------------------


def test_an_applied_veto_caps_the_star_level_whatever_the_total():
    assert star_for(default_like_rules(), D("100"), applied_vetoes={"V1"}) == 1


def test_the_lowest_cap_of_several_applied_vetoes_wins():
    assert star_for(default_like_rules(), D("100"), applied_vetoes=["V3", "V1"]) == 1


def test_a_veto_cap_never_raises_a_lower_star_level():
    assert star_for(default_like_rules(), D("75"), applied_vetoes={"V3"}) == 2


def test_without_vetoes_the_star_is_that_of_the_total():
    assert star_for(default_like_rules(), D("94.9")) == 4


def test_applying_an_item_that_is_not_a_veto_is_refused():
    with pytest.raises(ScoreError):
        star_for(default_like_rules(), D("100"), applied_vetoes={"N1"})


def test_applying_an_unknown_veto_is_refused():
    with pytest.raises(ScoreError):
        star_for(default_like_rules(), D("100"), applied_vetoes={"V9"})


def test_a_single_veto_code_must_be_passed_in_a_collection():
    with pytest.raises(TypeError):
        star_for(default_like_rules(), D("100"), applied_vetoes="V1")


# --- validate_item_score -------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        ("5", D("5.0")),
        ("4.5", D("4.5")),
        (D("4.50"), D("4.5")),
        (" 3 ", D("3.0")),
        (0, D("0.0")),
        (D("0"), D("0.0")),
        ("+4", D("4.0")),
        (".5", D("0.5")),
        ("3.", D("3.0")),
    ],
)
def test_valid_scores_come_back_with_one_decimal(score, expected):
    result = validate_item_score(score, D("5"))

    assert result == expected
    assert str(result) == str(expected)


@pytest.mark.parametrize(
    ("score", "message"),
    [
        ("4.55", "one decimal"),
        (D("0.01"), "one decimal"),
        ("-1", "negative"),
        ("-0.1", "negative"),
        ("-0", "negative"),
        (D("-0"), "negative"),
        ("5.1", "maximum"),
        ("1E+3", "not a number"),
        ("1e1", "not a number"),
        ("NaN", "not a number"),
        ("sNaN", "not a number"),
        ("Infinity", "not a number"),
        ("-Infinity", "not a number"),
        (D("NaN"), "finite"),
        (D("Infinity"), "finite"),
        ("4.5.", "not a number"),
        (".", "not a number"),
        ("", "not a number"),
        ("four", "not a number"),
    ],
)
def test_invalid_scores_are_refused_with_a_message(score, message):
    with pytest.raises(ScoreError, match=message):
        validate_item_score(score, D("5"))


@pytest.mark.parametrize("score", [4.5, True, None])
def test_floats_and_other_types_are_refused_rather_than_converted(score):
    with pytest.raises(ScoreError):
        validate_item_score(score, D("5"))


def test_a_score_error_is_a_value_error():
    assert issubclass(ScoreError, ValueError)


def test_the_maximum_itself_is_a_valid_score():
    assert validate_item_score("7.5", D("7.5")) == D("7.5")


# --- mean_score ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["4.5", "4.6"], "4.6"),  # 4.55: a half rounds up
        (["4", "5", "5"], "4.7"),  # 4.666…
        (["4", "4", "5"], "4.3"),  # 4.333…
        (["1", "2"], "1.5"),
        (["0.1", "0.2"], "0.2"),  # 0.15 rounds up, not to even
        (["0.1", "0.4"], "0.3"),  # 0.25 rounds up, not to even
        (["88.5"], "88.5"),
        (["0", "0", "0"], "0.0"),
    ],
)
def test_mean_score_rounds_to_one_decimal_with_halves_up(values, expected):
    result = mean_score([D(value) for value in values])

    assert result == D(expected)
    assert str(result) == expected


def test_mean_score_of_nothing_is_refused():
    with pytest.raises(ScoreError):
        mean_score([])


def test_mean_score_refuses_a_value_that_is_not_a_number():
    with pytest.raises(ScoreError):
        mean_score([D("1"), D("NaN")])


# --- building rules ------------------------------------------------------------------


def test_rules_keep_thresholds_sorted_from_most_stars_down():
    rules = default_like_rules(thresholds=((2, 70), (5, 95), (3, 80), (4, 90)))

    assert rules.thresholds == ((5, D("95")), (4, D("90")), (3, D("80")), (2, D("70")))


@pytest.mark.parametrize(
    "thresholds",
    [
        ((5, D("90")), (4, D("90"))),  # not strictly increasing
        ((5, D("80")), (4, D("90"))),  # decreasing
        ((6, D("99")),),  # no six stars
        ((0, D("0")),),
        ((5, D("95")), (5, D("96"))),  # one row per level
        ((5, 95.0),),  # floats are not exact
    ],
)
def test_rules_refuse_inconsistent_thresholds(thresholds):
    with pytest.raises(ValueError):
        default_like_rules(thresholds=thresholds)


def test_rules_refuse_duplicate_item_codes():
    items = (ItemRule("1.1", D("5"), "normal"), ItemRule("1.1", D("5"), "normal"))

    with pytest.raises(ValueError, match="unique"):
        default_like_rules(items=items)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"code": "V", "max_score": D("0"), "kind": "veto"},  # no cap
        {"code": "V", "max_score": D("0"), "kind": "veto", "veto_star_cap": 6},
        {"code": "V", "max_score": D("1"), "kind": "veto", "veto_star_cap": 1},  # points on a veto
        {"code": "N", "max_score": D("5"), "kind": "normal", "veto_star_cap": 1},
        {"code": "N", "max_score": D("-1"), "kind": "normal"},
        {"code": "N", "max_score": 5.0, "kind": "normal"},
        {"code": "N", "max_score": D("5"), "kind": "extra"},
    ],
)
def test_item_rules_refuse_inconsistent_definitions(kwargs):
    with pytest.raises(ValueError):
        ItemRule(**kwargs)
