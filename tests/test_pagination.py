"""The one pager every list page includes keeps the page's filter in its links."""

from django.core.paginator import Paginator
from django.template.loader import render_to_string
from django.utils import translation


def render(page_number: int, query: str) -> str:
    page = Paginator(range(45), 20).get_page(page_number)
    with translation.override("en"):
        return render_to_string("_pagination.html", {"page": page, "query": query})


def test_the_pager_links_keep_the_filter_of_the_page():
    html = render(2, "state=done")
    assert 'href="?state=done&amp;page=1"' in html
    assert 'href="?state=done&amp;page=3"' in html
    assert "Page 2 of 3" in html


def test_the_pager_without_a_filter_links_to_plain_pages():
    html = render(1, "")
    assert 'href="?page=2"' in html
    assert "?&amp;" not in html


def test_a_single_page_shows_no_pager():
    page = Paginator(range(5), 20).get_page(1)
    assert render_to_string("_pagination.html", {"page": page, "query": ""}).strip() == ""
