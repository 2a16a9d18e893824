"""The self-assessment page's arithmetic in a real browser against scoring.arithmetic.

While the secretary types, static/js/self_assessment.js shows a running total and star level;
the server decides with scoring.arithmetic. The two must agree, so every case here is computed
twice: in Python, and by the repository's own script loaded into headless Chromium, which
exposes its arithmetic as ``window.DangjianArithmetic`` (the same functions the page's
``recompute()`` calls). The script gets the rules in the shape the page gets them from
``reviews.views.secretary._js_config``.
"""

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest

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
    validate_item_score,
)

pytestmark = pytest.mark.browser

SCRIPT = Path(__file__).resolve().parents[2] / "static" / "js" / "self_assessment.js"

DEFAULT_THRESHOLDS = ((5, Decimal("95")), (4, Decimal("90")), (3, Decimal("80")), (2, Decimal("70")))

# The default standard's shape: 100 points of normal items, bonus items capped at 5, two vetoes.
DEFAULT_ITEMS = (
    ItemRule("N1", Decimal("30"), NORMAL),
    ItemRule("N2", Decimal("30"), NORMAL),
    ItemRule("N3", Decimal("40"), NORMAL),
    ItemRule("B1", Decimal("5"), BONUS),
    ItemRule("B2", Decimal("5"), BONUS),
    ItemRule("V1", Decimal("0"), VETO, veto_star_cap=3),
    ItemRule("V2", Decimal("0"), VETO, veto_star_cap=2),
    ItemRule("V3", Decimal("0"), VETO, veto_star_cap=1),
)


def standard(
    *,
    bonus_cap: Decimal | None = Decimal("5"),
    allow_total_above_max: bool = False,
    max_score: Decimal = Decimal("100"),
    thresholds=DEFAULT_THRESHOLDS,
    items=DEFAULT_ITEMS,
) -> StandardRules:
    return StandardRules(
        max_score=max_score,
        thresholds=thresholds,
        bonus_cap=bonus_cap,
        allow_total_above_max=allow_total_above_max,
        items=items,
    )


DEFAULT = standard()
NO_BONUS_CAP = standard(bonus_cap=None)
ZERO_BONUS_CAP = standard(bonus_cap=Decimal("0"))
FRACTIONAL_BONUS_CAP = standard(bonus_cap=Decimal("2.5"))
ABOVE_MAX_ALLOWED = standard(allow_total_above_max=True)
ABOVE_MAX_ALLOWED_NO_CAP = standard(bonus_cap=None, allow_total_above_max=True)
# Small one-decimal numbers, where binary floats go wrong (0.7 + 0.1 < 0.8 as floats).
TENTHS = standard(
    max_score=Decimal("1"),
    bonus_cap=Decimal("0.2"),
    thresholds=((5, Decimal("0.9")), (4, Decimal("0.8")), (3, Decimal("0.5")), (2, Decimal("0.3"))),
    items=(
        ItemRule("D1", Decimal("0.7"), NORMAL),
        ItemRule("D2", Decimal("0.7"), NORMAL),
        ItemRule("D3", Decimal("0.7"), NORMAL),
        ItemRule("DB", Decimal("0.5"), BONUS),
    ),
)
# Fewer star levels than five, and a maximum that is not a round number.
SPARSE = standard(
    max_score=Decimal("50.5"),
    thresholds=((5, Decimal("45.5")), (3, Decimal("30"))),
    items=(ItemRule("S1", Decimal("25.5"), NORMAL), ItemRule("S2", Decimal("25"), NORMAL)),
)


# Deduction items (扣分项): 基础分 + 加分 − 减分, the deductions taken off after the cap at the
# maximum and the total never below 0.
WITH_DEDUCTIONS_ITEMS = (
    *DEFAULT_ITEMS,
    ItemRule("K1", Decimal("3"), DEDUCTION),
    ItemRule("K2", Decimal("10"), DEDUCTION),
)
DEDUCTIONS = standard(items=WITH_DEDUCTIONS_ITEMS)
DEDUCTIONS_ABOVE_MAX = standard(items=WITH_DEDUCTIONS_ITEMS, allow_total_above_max=True)
DEDUCTIONS_NO_BONUS_CAP = standard(items=WITH_DEDUCTIONS_ITEMS, bonus_cap=None)
DEDUCTIONS_TENTHS = standard(
    max_score=Decimal("1"),
    bonus_cap=Decimal("0.2"),
    thresholds=((5, Decimal("0.9")), (4, Decimal("0.8")), (3, Decimal("0.5")), (2, Decimal("0.3"))),
    items=(
        ItemRule("D1", Decimal("0.7"), NORMAL),
        ItemRule("D2", Decimal("0.7"), NORMAL),
        ItemRule("DB", Decimal("0.5"), BONUS),
        ItemRule("DK", Decimal("0.3"), DEDUCTION),
    ),
)


def js_config(rules: StandardRules) -> dict:
    """The rules as _js_config hands them to the page; item ids differ from codes as pks do."""
    return {
        "maxScore": str(rules.max_score),
        "bonusCap": None if rules.bonus_cap is None else str(rules.bonus_cap),
        "allowAboveMax": rules.allow_total_above_max,
        "thresholds": [[stars, str(min_score)] for stars, min_score in rules.thresholds],
        "items": {
            item_id(rules, item.code): {
                "code": item.code,
                "kind": item.kind,
                "max": str(item.max_score),
                "vetoCap": item.veto_star_cap,
            }
            for item in rules.items
        },
    }


def item_id(rules: StandardRules, code: str) -> str:
    return str(100 + [item.code for item in rules.items].index(code))


@dataclass(frozen=True)
class Case:
    id: str
    rules: StandardRules
    scores: dict[str, str] = field(default_factory=dict)  # code → typed score; missing = unscored
    vetoes: tuple[str, ...] = ()


def full(n3: str, **others: str) -> dict[str, str]:
    """N1 and N2 at their 30 points, N3 as given: the total is 60 + n3 before bonus points."""
    return {"N1": "30", "N2": "30", "N3": n3, **others}


CASES = [
    Case("empty-sheet", DEFAULT),
    Case("all-zero", DEFAULT, {"N1": "0", "N2": "0.0", "N3": "0", "B1": "0", "B2": "0"}),
    Case("full-marks", DEFAULT, full("40")),
    # Each threshold, just below and exactly on it.
    Case("boundary-94.9", DEFAULT, full("34.9")),
    Case("boundary-95.0", DEFAULT, full("35.0")),
    Case("boundary-89.9", DEFAULT, full("29.9")),
    Case("boundary-90.0", DEFAULT, full("30")),
    Case("boundary-79.9", DEFAULT, full("19.9")),
    Case("boundary-80.0", DEFAULT, full("20")),
    Case("boundary-69.9", DEFAULT, full("9.9")),
    Case("boundary-70.0", DEFAULT, full("10.0")),
    Case("boundary-95.0-reached-through-bonus", DEFAULT, full("33", B1="2")),
    Case("boundary-94.9-with-bonus", DEFAULT, full("33", B1="1.9")),
    # Bonus points and the bonus cap.
    Case("bonus-under-cap", DEFAULT, full("20", B1="2.5", B2="1.5")),
    Case("bonus-exactly-cap", DEFAULT, full("20", B1="3", B2="2")),
    Case("bonus-over-cap", DEFAULT, full("25", B1="5", B2="4.5")),
    Case("bonus-over-cap-crosses-no-threshold", DEFAULT, full("9", B1="5", B2="5")),
    Case("bonus-cap-zero", ZERO_BONUS_CAP, full("30", B1="5", B2="5")),
    Case("bonus-cap-fractional", FRACTIONAL_BONUS_CAP, full("32", B1="1.5", B2="1.5")),
    Case("bonus-cap-none", NO_BONUS_CAP, full("20", B1="5", B2="5")),
    Case("bonus-cap-none-crosses-threshold", NO_BONUS_CAP, full("26", B1="5", B2="4")),
    Case("bonus-only", DEFAULT, {"B1": "5", "B2": "5"}),
    # The total above the maximum.
    Case("above-max-capped", DEFAULT, full("40", B1="5", B2="5")),
    Case("above-max-capped-no-bonus-cap", NO_BONUS_CAP, full("40", B1="5", B2="5")),
    Case("above-max-allowed", ABOVE_MAX_ALLOWED, full("40", B1="5", B2="5")),
    Case("above-max-allowed-no-bonus-cap", ABOVE_MAX_ALLOWED_NO_CAP, full("40", B1="5", B2="5")),
    Case("above-max-allowed-but-not-reached", ABOVE_MAX_ALLOWED, full("36.5", B1="1")),
    Case("sparse-max-capped", SPARSE, {"S1": "25.5", "S2": "25"}),
    # Veto items: the lowest cap of those that apply wins; a cap never raises the stars.
    Case("veto-cap-3", DEFAULT, full("40"), ("V1",)),
    Case("veto-caps-3-and-2", DEFAULT, full("40"), ("V1", "V2")),
    Case("veto-caps-2-and-3", DEFAULT, full("40"), ("V2", "V1")),
    Case("veto-caps-3-and-1", DEFAULT, full("35", B1="1"), ("V3", "V1")),
    Case("veto-all-three", DEFAULT, full("40"), ("V1", "V2", "V3")),
    Case("veto-cap-above-earned-stars", DEFAULT, full("15"), ("V1",)),
    Case("veto-on-empty-sheet", DEFAULT, {}, ("V2",)),
    Case("veto-with-total-above-max", ABOVE_MAX_ALLOWED, full("40", B1="5"), ("V2",)),
    # Decimals: integers of tenths in JS, Decimal in Python, never binary floats.
    Case("decimal-0.1+0.2", TENTHS, {"D1": "0.1", "D2": "0.2"}),
    Case("decimal-0.7+0.1-reaches-0.8", TENTHS, {"D1": "0.7", "D2": "0.1"}),
    Case("decimal-0.4+0.4-reaches-0.8", TENTHS, {"D1": "0.4", "D2": "0.4"}),
    Case("decimal-0.2+0.7-reaches-0.9", TENTHS, {"D1": "0.2", "D2": "0.7"}),
    Case("decimal-0.1+0.1+0.1-bonus-0.2", TENTHS, {"D1": "0.1", "D2": "0.1", "D3": "0.1", "DB": "0.2"}),
    Case("decimal-tenths-bonus-over-cap", TENTHS, {"D1": "0.5", "DB": "0.3"}),
    Case("decimal-tenths-above-max", TENTHS, {"D1": "0.7", "D2": "0.7", "D3": "0.7"}),
    Case("decimal-many-tenths-to-95.0", DEFAULT, {"N1": "29.9", "N2": "29.9", "N3": "35.2"}),
    Case(
        "decimal-29.9+29.9+30.1-bonus-0.1", DEFAULT, {"N1": "29.9", "N2": "29.9", "N3": "30.1", "B1": "0.1"}
    ),
    Case("decimal-trailing-zeros", DEFAULT, {"N1": "29.90", "N2": "30.00", "N3": "35.10"}),
    Case("decimal-leading-point-and-bare-point", DEFAULT, full("34.", B1=".5", B2="0.5")),
    Case("decimal-leading-zeros-and-plus-and-spaces", DEFAULT, {"N1": "030", "N2": "+30", "N3": " 35 "}),
    Case("decimal-full-width-digits", DEFAULT, full("３５")),
    # Half-filled sheets: unscored items count 0.
    Case("half-filled-one-item", DEFAULT, {"N1": "30"}),
    Case("half-filled-reaches-70", DEFAULT, {"N1": "30", "N3": "40"}),
    Case("half-filled-with-bonus", DEFAULT, {"N2": "25.5", "B2": "4.5"}),
    Case("half-filled-with-veto", DEFAULT, {"N1": "30", "N3": "40"}, ("V1",)),
    Case("half-filled-tenths", TENTHS, {"D3": "0.3"}),
    # Deduction items.
    Case("deduction-none-typed", DEDUCTIONS, full("40")),
    Case("deduction-zero", DEDUCTIONS, full("40", K1="0", K2="0.0")),
    Case("deduction-from-full-marks", DEDUCTIONS, full("40", K1="3")),
    Case("deduction-95.0-to-94.9", DEDUCTIONS, full("35", K1="0.1")),
    Case("deduction-95.1-to-95.0", DEDUCTIONS, full("35.1", K1="0.1")),
    Case("deduction-90.0-to-89.9", DEDUCTIONS, full("30", K2="0.1")),
    Case("deduction-both-at-maximum", DEDUCTIONS, full("40", K1="3", K2="10")),
    Case("deduction-not-absorbed-by-bonus-above-max", DEDUCTIONS, full("40", B1="5", K1="3")),
    Case("deduction-after-bonus-cap", DEDUCTIONS, full("30", B1="5", B2="5", K1="2")),
    Case("deduction-after-bonus-no-cap", DEDUCTIONS_NO_BONUS_CAP, full("30", B1="5", B2="5", K2="7.5")),
    Case("deduction-above-max-allowed", DEDUCTIONS_ABOVE_MAX, full("40", B1="5", K1="3")),
    Case("deduction-floor-at-zero", DEDUCTIONS, {"N1": "5", "K1": "3", "K2": "10"}),
    Case("deduction-only", DEDUCTIONS, {"K1": "3", "K2": "10"}),
    Case("deduction-exactly-to-zero", DEDUCTIONS, {"N1": "13", "K1": "3", "K2": "10"}),
    Case("deduction-just-above-zero", DEDUCTIONS, {"N1": "13.1", "K1": "3", "K2": "10"}),
    Case("deduction-above-its-maximum-counts-0", DEDUCTIONS, full("40", K1="3.1")),
    Case("deduction-invalid-counts-0", DEDUCTIONS, full("40", K1="abc", K2="-1")),
    Case("deduction-full-width", DEDUCTIONS, full("40", K1="２．５")),
    Case("deduction-with-veto", DEDUCTIONS, full("40", K1="1"), ("V1",)),
    Case("deduction-tenths", DEDUCTIONS_TENTHS, {"D1": "0.7", "D2": "0.2", "DK": "0.1"}),
    Case("deduction-tenths-floor", DEDUCTIONS_TENTHS, {"D1": "0.1", "DK": "0.3"}),
    Case(
        "deduction-tenths-after-bonus",
        DEDUCTIONS_TENTHS,
        {"D1": "0.7", "D2": "0.3", "DB": "0.2", "DK": "0.1"},
    ),
]

# Typed scores checked one by one: validate_item_score (after the form's full-width
# normalisation, which toTenths also does) against the page's verdict. None means refused.
VALIDATION_INPUTS = [
    "4.5",
    "4.50",
    "4.55",
    "0.05",
    "0",
    "0.0",
    "10",
    "10.0",
    "10.1",
    "11",
    "-1",
    "-0.1",
    " 4.5 ",
    "+4.5",
    ".5",
    "5.",
    "00.5",
    "abc",
    "4,5",
    "NaN",
    "Infinity",
    ".",
    "4.5.",
    "１０",
    "９．５",
    "-0",
    "1e1",
    "1E+1",
    "-1",
]


@pytest.fixture(scope="module")
def arithmetic(browser):
    """A blank page with the repository's self_assessment.js loaded, and no JS errors."""
    context = browser.new_context()
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(error))
    page.goto("about:blank")
    page.add_script_tag(path=str(SCRIPT))
    assert page.evaluate("typeof window.DangjianArithmetic") == "object"
    yield page
    assert errors == []
    context.close()


def python_result(case: Case) -> dict:
    # As the server sees the page: a typed score the form refuses is not saved, so it counts 0,
    # as the page counts it.
    verdicts = {
        code: server_verdict(typed, case.rules.item(code).max_score) for code, typed in case.scores.items()
    }
    scores = {code: verdict for code, verdict in verdicts.items() if verdict is not None}
    parts = total_parts(case.rules, scores)
    assert parts.total == total_score(case.rules, scores)
    return {
        "total": str(parts.total),
        "subtotal": str(parts.subtotal),
        "deducted": str(parts.deducted),
        "stars": star_for(case.rules, parts.total, case.vetoes),
    }


def js_result(page, case: Case) -> dict:
    # As on the page: every score input sends its value ("" when unscored); the ticked veto
    # boxes give their caps.
    config = js_config(case.rules)
    scores = {
        item_id(case.rules, item.code): case.scores.get(item.code, "")
        for item in case.rules.items
        if item.kind != VETO
    }
    vetoes = [item_id(case.rules, code) for code in case.vetoes]
    return page.evaluate(
        """([config, scores, vetoes]) => {
            const arithmetic = window.DangjianArithmetic;
            const total = arithmetic.total(config, scores);
            const parts = arithmetic.parts(config, scores);
            const vetoCaps = vetoes.map((id) => config.items[id].vetoCap);
            return {
                total: arithmetic.formatTenths(total),
                subtotal: arithmetic.formatTenths(parts.subtotal),
                deducted: arithmetic.formatTenths(parts.deducted),
                stars: arithmetic.starFor(config, parts.total, vetoCaps),
            };
        }""",
        [config, scores, vetoes],
    )


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_page_and_server_agree_on_total_and_stars(arithmetic, case):
    expected = python_result(case)
    assert js_result(arithmetic, case) == expected, f"{case.id}: scores {case.scores}, vetoes {case.vetoes}"


@pytest.mark.parametrize(
    "rules", [DEFAULT, TENTHS, SPARSE, ABOVE_MAX_ALLOWED], ids=["default", "tenths", "sparse", "above-max"]
)
def test_page_and_server_agree_on_the_stars_of_every_one_decimal_total(arithmetic, rules):
    top = int(rules.max_score * 10) + 60  # a little past the maximum as well
    totals = [Decimal(tenths) / 10 for tenths in range(top + 1)]
    page_stars = arithmetic.evaluate(
        """([config, totals]) => totals.map(
            (tenths) => window.DangjianArithmetic.starFor(config, tenths, [])
        )""",
        [js_config(rules), [int(total * 10) for total in totals]],
    )
    mismatches = [
        f"{total}: page {page} ≠ server {star_for_total(total, rules.thresholds)}"
        for total, page in zip(totals, page_stars, strict=True)
        if page != star_for_total(total, rules.thresholds)
    ]
    assert mismatches == []


def server_verdict(raw: str, max_score: Decimal) -> str | None:
    text = (
        raw.replace("．", ".")
        .replace("。", ".")
        .translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    )
    try:
        return str(validate_item_score(text, max_score))
    except ScoreError:
        return None


@pytest.mark.parametrize("raw", VALIDATION_INPUTS)
def test_page_and_server_agree_on_which_typed_scores_are_valid(arithmetic, raw):
    max_score = Decimal("10")
    page = arithmetic.evaluate(
        """([item, raw]) => {
            const arithmetic = window.DangjianArithmetic;
            const tenths = arithmetic.scoreTenths(item, raw);
            return tenths === null || isNaN(tenths) ? null : arithmetic.formatTenths(tenths);
        }""",
        [{"code": "X", "kind": NORMAL, "max": str(max_score), "vetoCap": None}, raw],
    )
    assert page == server_verdict(raw, max_score)
