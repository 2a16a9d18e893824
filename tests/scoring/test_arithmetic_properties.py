"""Properties of the arithmetic that must hold for every standard, not only the default one."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from scoring.arithmetic import ItemRule, StandardRules, mean_score, star_for, star_for_total, total_score


def points(low: str, high: str) -> st.SearchStrategy[Decimal]:
    """One-decimal scores between ``low`` and ``high``, the only kind the rules allow."""
    return st.decimals(min_value=Decimal(low), max_value=Decimal(high), places=1)


@st.composite
def thresholds(draw, max_score: Decimal = Decimal("100")) -> tuple[tuple[int, Decimal], ...]:
    """1–5 star levels whose minimums strictly increase with the stars."""
    levels = draw(st.lists(st.integers(1, 5), min_size=1, max_size=5, unique=True))
    minimums = draw(
        st.lists(points("0", str(max_score)), min_size=len(levels), max_size=len(levels), unique=True)
    )
    return tuple(zip(sorted(levels), sorted(minimums), strict=True))


@st.composite
def standard_rules(draw, min_vetoes: int = 0) -> StandardRules:
    normal = draw(st.lists(points("0.5", "30"), min_size=1, max_size=6))
    bonus = draw(st.lists(points("0", "10"), max_size=3))
    veto_caps = draw(st.lists(st.integers(1, 5), min_size=min_vetoes, max_size=3))
    max_score = sum(normal, Decimal(0))
    items = (
        tuple(ItemRule(code=f"N{n}", max_score=value, kind="normal") for n, value in enumerate(normal))
        + tuple(ItemRule(code=f"B{n}", max_score=value, kind="bonus") for n, value in enumerate(bonus))
        + tuple(
            ItemRule(code=f"V{n}", max_score=Decimal(0), kind="veto", veto_star_cap=cap)
            for n, cap in enumerate(veto_caps)
        )
    )
    return StandardRules(
        max_score=max_score,
        thresholds=draw(thresholds(max_score)),
        bonus_cap=draw(st.none() | points("0", "10")),
        allow_total_above_max=draw(st.booleans()),
        items=items,
    )


@st.composite
def rules_and_scores(draw) -> tuple[StandardRules, dict[str, Decimal]]:
    """A standard and a partly or fully filled sheet of valid scores for it."""
    rules = draw(standard_rules())
    scores = {}
    for item in rules.items:
        if draw(st.booleans()):
            scores[item.code] = draw(points("0", str(item.max_score)))
    return rules, scores


totals = points("0", "200")


@given(thresholds(), totals, totals)
def test_more_points_never_mean_fewer_stars(levels, first, second):
    low, high = sorted([first, second])

    assert star_for_total(low, levels) <= star_for_total(high, levels)


@given(thresholds(), totals)
def test_the_star_level_reaches_its_own_threshold_and_no_higher_one(levels, total):
    stars = star_for_total(total, levels)

    assert 1 <= stars <= 5
    for level, minimum in levels:
        # One star is the floor: it needs no threshold, even where the standard names one.
        if level == stars > 1:
            assert total >= minimum
        if level > stars:
            assert total < minimum


@given(standard_rules(min_vetoes=1), totals, st.data())
def test_the_star_level_is_never_above_the_cap_of_an_applied_veto(rules, total, data):
    vetoes = [item for item in rules.items if item.kind == "veto"]
    applied = data.draw(st.lists(st.sampled_from(vetoes), min_size=1, unique=True))

    stars = star_for(rules, total, applied_vetoes=[item.code for item in applied])

    assert all(stars <= item.veto_star_cap for item in applied)
    assert stars == min([star_for_total(total, rules.thresholds)] + [item.veto_star_cap for item in applied])


@given(rules_and_scores())
def test_the_total_never_exceeds_the_maximum_unless_the_standard_allows_it(case):
    rules, scores = case

    total = total_score(rules, scores)

    assert total >= 0
    if not rules.allow_total_above_max:
        assert total <= rules.max_score


@given(rules_and_scores())
def test_the_total_is_the_normal_points_plus_the_capped_bonus(case):
    rules, scores = case
    kinds = {item.code: item.kind for item in rules.items}
    normal = sum((value for code, value in scores.items() if kinds[code] == "normal"), Decimal(0))
    bonus = sum((value for code, value in scores.items() if kinds[code] == "bonus"), Decimal(0))
    if rules.bonus_cap is not None:
        bonus = min(bonus, rules.bonus_cap)
    expected = normal + bonus if rules.allow_total_above_max else min(normal + bonus, rules.max_score)

    assert total_score(rules, scores) == expected


@given(st.lists(points("0", "100"), min_size=1, max_size=7))
def test_the_mean_lies_between_the_lowest_and_the_highest_score(values):
    mean = mean_score(values)

    assert min(values) <= mean <= max(values)
    assert mean == mean.quantize(Decimal("0.1"))
