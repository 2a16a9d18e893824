"""The progress a page draws agrees with the rows it lists, and is drawn for every reader.

* A cycle's progress buckets: one per status, named as the rows' badges are, each counting
  exactly the rows that wear its badge (a "draft" bucket holding the returned ones, or a
  "forwarded" one holding those being scored, disagreed with the rows).
* The star distribution of the approver's and staff's home pages: a bar chart whose bars are
  for the eye only (no unnamed progressbar read as "10 %" while drawn 77 % wide).
"""

import datetime
from collections import Counter
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import timezone

from reviews.models import AssessmentStatus
from tests.factories import make_assessment, make_branch, make_certificate, make_cycle

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

S = AssessmentStatus
# How many branches stand in each status: every status, a different number for each.
PLACED = {
    S.NOT_STARTED: 1,
    S.DRAFT: 2,
    S.SUBMITTED: 1,
    S.RETURNED: 3,
    S.FORWARDED: 1,
    S.SCORING: 2,
    S.SCORED: 1,
    S.DECIDED: 2,
    S.PUBLICIZED: 1,
    S.CERTIFIED: 2,
    S.NOT_TAKING_PART: 1,
}


class _Elements(HTMLParser):
    """Collects the text of elements with a given class, and their attributes."""

    def __init__(self, css_class: str):
        super().__init__()
        self.css_class = css_class
        self.found: list[tuple[dict, str]] = []
        self._depth = 0
        self._current: tuple[dict, list[str]] | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if self._current is not None:
            self._depth += 1
        elif self.css_class in (attributes.get("class") or "").split():
            self._current = (attributes, [])
            self._depth = 1

    def handle_endtag(self, tag):
        if self._current is None:
            return
        self._depth -= 1
        if self._depth == 0:
            attributes, text = self._current
            self.found.append((attributes, " ".join("".join(text).split())))
            self._current = None

    def handle_data(self, data):
        if self._current is not None:
            self._current[1].append(data)


def elements(html: str, css_class: str) -> list[tuple[dict, str]]:
    parser = _Elements(css_class)
    parser.feed(html)
    return parser.found


@pytest.fixture
def cycle(world):
    """C1's open cycle with branches under P1 in every status, as many as PLACED says."""
    cycle = make_cycle(world.committee, opened_by=world.approver)
    n = 0
    for status, count in PLACED.items():
        for _ in range(count):
            n += 1
            branch = make_branch(f"进度党支部{n:02d}", f"PB{n:02d}", parent=world.party_committee)
            make_assessment(cycle, branch, status=status)
    return cycle


def test_each_progress_bucket_counts_exactly_the_rows_wearing_its_badge(client, world, cycle):
    client.force_login(world.approver)
    response = client.get(reverse("reviews:cycle_detail", args=[cycle.pk]))
    assert response.status_code == 200
    html = response.text

    badges = elements(html, "status-badge")
    assert len(badges) == sum(PLACED.values())  # every row on one page
    rows_by_label = Counter(text for _attributes, text in badges)

    # Each bucket: <li data-status=…><a class="bucket-label">label</a><span class="bucket-count">n</span>
    statuses = [a["data-status"] for a, _t in elements(html, "list-group-item") if "data-status" in a]
    labels = [t for _a, t in elements(html, "bucket-label")]
    counts = [int(t) for _a, t in elements(html, "bucket-count")]

    assert statuses == list(S.values)  # one bucket per status, in the workflow's order
    assert sum(counts) == sum(PLACED.values())
    for status, label, count in zip(statuses, labels, counts, strict=True):
        assert label == S(status).label
        assert count == rows_by_label[label], label
        assert count == PLACED[status], status
    # The returned ones are their own bucket, no longer inside "Draft".
    assert rows_by_label["Draft"] == 2 and rows_by_label["Returned"] == 3


def test_a_bucket_links_to_the_rows_it_counts(client, world, cycle):
    client.force_login(world.approver)
    response = client.get(reverse("reviews:cycle_detail", args=[cycle.pk]), {"status": S.RETURNED})
    html = response.text

    badges = [text for _a, text in elements(html, "status-badge")]
    assert badges == ["Returned"] * PLACED[S.RETURNED]
    assert 'href="?status=returned" class="bucket-label" aria-current="true"' in html


# ---------------------------------------------------------------------------- the star distribution


@pytest.fixture
def certificates(world):
    """Branches holding certificates in force: 5★ ×3, 4★ ×1, none of the other levels."""
    cycle = make_cycle(world.committee, opened_by=world.approver, status="closed")
    issued = timezone.now() - datetime.timedelta(days=10)
    valid_until = timezone.localdate() + datetime.timedelta(days=300)
    for n, stars in enumerate([5, 5, 5, 4]):
        branch = make_branch(f"星级党支部{n}", f"SB{n}", parent=world.party_committee)
        assessment = make_assessment(cycle, branch, status=S.CERTIFIED, stars=stars)
        make_certificate(assessment, stars=stars, issued_at=issued, valid_until=valid_until)


@pytest.mark.parametrize("who", ["approver", "staff"])
def test_the_star_distribution_has_no_unnamed_progressbar_and_bars_drawn_to_their_counts(
    client, world, certificates, who
):
    client.force_login(world.people[who])
    html = client.get(reverse("home")).text

    assert 'role="progressbar"' not in html
    table = html[html.index('class="table table-sm mb-2 star-distribution"') :]
    table = table[: table.index("</table>")]
    assert "Branches holding a star certificate in force, by star level" in table  # the table's name
    bars = elements(table, "progress")
    assert len(bars) == 5
    assert all(attributes.get("aria-hidden") == "true" for attributes, _t in bars)
    counts = {a["data-stars"]: int(t) for a, t in elements(table, "text-end")}
    assert counts == {"5": 3, "4": 1, "3": 0, "2": 0, "1": 0}
    widths = [int(a["data-width"]) for a, _t in elements(table, "progress-bar")]
    # Each bar is its count's share of the longest one, as drawn (class="… pct-w-N").
    assert widths == [100, 33, 0, 0, 0]
    for width in widths:
        assert f'pct-w-{width}" data-width="{width}"' in table
    # Each row is named by its header: the star level in words.
    assert "5 stars" in table and "1 star" in table
