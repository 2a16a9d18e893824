"""The error pages speak Chinese, sit in the site's layout and offer a way back (DEBUG is off here)."""

import pytest
from django.core.exceptions import SuspiciousOperation
from django.template.loader import render_to_string
from django.test import Client
from django.urls import path, reverse

from config import urls as site_urls


def _crash(request):
    raise RuntimeError("a bug in a view")


def _suspicious(request):
    raise SuspiciousOperation("a tampered request")


# The site's own URLs and handlers, plus two views that fail (pytest.mark.urls below).
urlpatterns = [
    path("test-crash/", _crash),
    path("test-suspicious/", _suspicious),
    *site_urls.urlpatterns,
]
handler403 = site_urls.handler403
handler404 = site_urls.handler404


def page(response) -> str:
    return response.content.decode()


def assert_in_layout_for(html: str, user) -> None:
    """The navigation of the signed-in user is there: 我的工作, the user's name, sign out."""
    assert 'class="navbar navbar-expand-md navbar-party"' in html
    assert "我的工作" in html
    assert user.display_name in html
    assert "退出" in html


@pytest.fixture
def secretary_client(client, world):
    client.force_login(world.secretary)
    return client


def test_an_unknown_address_gives_the_chinese_404_in_the_layout(secretary_client, world):
    response = secretary_client.get("/no-such-page/")
    assert response.status_code == 404
    html = page(response)
    assert "页面不存在" in html
    assert f'href="{reverse("home")}" id="error-home"' in html
    assert_in_layout_for(html, world.secretary)
    assert "Page not found" not in html and "Not Found" not in html


def test_a_branch_outside_the_secretarys_scope_gives_the_same_404(secretary_client, world):
    response = secretary_client.get(reverse("reviews:branch_detail", args=[world.other_branch.pk]))
    assert response.status_code == 404
    html = page(response)
    assert "页面不存在" in html
    # The page names nothing of what was asked for.
    assert world.other_branch.name not in html
    assert_in_layout_for(html, world.secretary)


def test_a_role_too_low_gives_the_chinese_403_with_the_views_reason(secretary_client, world):
    response = secretary_client.get(reverse("reviews:branch_downgrade", args=[world.branch.pk]))
    assert response.status_code == 403
    html = page(response)
    assert "无权访问" in html
    assert "您的角色无权执行此操作" in html  # the reason the view gave, translated
    assert_in_layout_for(html, world.secretary)
    assert "403 Forbidden" not in html


def test_the_admin_refusing_a_page_also_answers_with_the_site_403(client, world):
    client.force_login(world.staff)  # a Django staff user without the permission asked for
    response = client.get(reverse("admin:reports_jobrun_add"))
    assert response.status_code == 403
    assert "无权访问" in page(response)
    assert_in_layout_for(page(response), world.staff)


def test_the_back_link_is_offered_only_for_a_page_of_this_site(secretary_client):
    inside = secretary_client.get("/no-such-page/", HTTP_REFERER="http://testserver/cycles/")
    assert 'href="http://testserver/cycles/" id="error-back"' in page(inside)
    assert "返回上一页" in page(inside)

    outside = secretary_client.get("/no-such-page/", HTTP_REFERER="https://evil.example/phish")
    assert "evil.example" not in page(outside)
    assert 'id="error-back"' not in page(outside)

    scripted = secretary_client.get("/no-such-page/", HTTP_REFERER="javascript:alert(1)")
    assert 'id="error-back"' not in page(scripted)


def test_a_visitor_who_is_not_signed_in_gets_the_404_without_personal_navigation(client, db):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = page(response)
    assert "页面不存在" in html
    assert "退出" not in html


def test_the_404_page_follows_the_chosen_language(client, world, english):
    client.force_login(world.secretary)
    html = page(client.get("/no-such-page/"))
    assert "Page not found" in html and "Back to my work" in html


@pytest.mark.urls("tests.test_error_pages")
def test_a_crash_gives_the_chinese_500_page_with_the_sites_look(db):
    client = Client(raise_request_exception=False)
    response = client.get("/test-crash/")
    assert response.status_code == 500
    html = page(response)
    assert "服务器出错了" in html
    assert "/static/css/app.css" in html
    assert 'href="/" id="error-home"' in html
    assert "a bug in a view" not in html and "Traceback" not in html


def test_the_500_page_renders_without_the_database():
    # No ``db`` fixture: pytest-django refuses every query, so a page needing one would fail.
    html = render_to_string("500.html")
    assert "服务器出错了" in html
    assert 'lang="zh-hans"' in html


@pytest.mark.urls("tests.test_error_pages")
def test_a_suspicious_request_gives_the_chinese_400_page(db):
    client = Client(raise_request_exception=False)
    response = client.get("/test-suspicious/")
    assert response.status_code == 400
    html = page(response)
    assert "无法处理该请求" in html
    assert "a tampered request" not in html


def test_a_form_sent_without_its_csrf_token_gets_the_chinese_page_in_the_layout(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.secretary)
    response = client.post(reverse("password_change"), {"old_password": "x"})
    assert response.status_code == 403
    html = page(response)
    assert "表单已过期" in html
    assert_in_layout_for(html, world.secretary)
    assert "CSRF verification failed" not in html
