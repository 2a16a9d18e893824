"""The shell around every page: sign-in, lockout, sign-out, language, and the 我的工作 home page."""

from django.urls import reverse

from branches.roles import Role
from branches.services.organizations import assign_role
from tests.factories import PASSWORD, make_branch, make_user

# Django's own zh_Hans translation of AuthenticationForm's "invalid_login" message, with the
# User model's username label (用户名) filled in.
DJANGO_WRONG_PASSWORD_ZH = "请输入一个正确的用户名和密码。注意，两者都区分大小写。"

ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}


def login(client, username, password, **headers):
    return client.post(reverse("login"), {"username": username, "password": password}, **headers)


def test_anonymous_visitor_is_sent_to_the_login_page(client):
    response = client.get(reverse("home"))

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next=/"


def test_login_page_is_in_chinese_by_default(client, db):
    response = client.get(reverse("login"))

    assert response.status_code == 200
    assert '<html lang="zh-hans">' in response.text


def test_login_page_follows_an_english_browser(client, db):
    response = client.get(reverse("login"), **ENGLISH)

    assert '<html lang="en">' in response.text
    assert "Sign in" in response.text


def test_wrong_password_shows_djangos_error_in_chinese(client, world):
    response = login(client, "zhangwei", "wrong password")

    assert response.status_code == 200
    assert DJANGO_WRONG_PASSWORD_ZH in response.text
    assert "_auth_user_id" not in client.session


def test_right_password_signs_in_and_lands_on_the_home_page(client, world):
    response = login(client, "zhangwei", PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.session["_auth_user_id"] == str(world.secretary.pk)


def test_sixth_attempt_after_five_failures_is_locked_out_even_with_the_right_password(
    client, world, settings
):
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = 0.5  # hours
    for _ in range(5):
        login(client, "zhangwei", "wrong password", **ENGLISH)

    response = login(client, "zhangwei", PASSWORD, **ENGLISH)

    assert response.status_code == 429
    assert "registration/locked_out.html" in [t.name for t in response.templates]
    assert "this account has been locked for a while" in response.text
    assert "Try again in 30 minutes, or ask the administrator to unlock the account." in response.text
    assert "_auth_user_id" not in client.session


def test_lockout_of_one_account_leaves_other_accounts_alone(client, world, settings):
    settings.AXES_FAILURE_LIMIT = 5
    for _ in range(5):
        login(client, "zhangwei", "wrong password")

    response = login(client, world.sibling_secretary.username, PASSWORD)

    assert response.status_code == 302


def test_logout_refuses_get(client, world):
    client.force_login(world.secretary)

    response = client.get(reverse("logout"))

    assert response.status_code == 405
    assert client.session["_auth_user_id"] == str(world.secretary.pk)


def test_logout_by_post_signs_out_and_returns_to_the_login_page(client, world):
    client.force_login(world.secretary)

    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert "_auth_user_id" not in client.session


def test_layout_offers_logout_as_a_post_form(client, world):
    client.force_login(world.secretary)

    response = client.get(reverse("home"))

    assert f'<form action="{reverse("logout")}" method="post">' in response.text


def test_language_switch_changes_the_page_language(client, db):
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("login")}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("login")
    assert '<html lang="en">' in response.text


def test_home_lists_each_role_with_its_organization_and_scope(client, world):
    user = world.secretary
    assign_role(user=user, role=Role.PARENT_REVIEWER, organization=world.party_committee)
    assign_role(user=user, role=Role.STAFF, organization=world.committee)
    client.force_login(user)

    response = client.get(reverse("home"), **ENGLISH)

    assert response.status_code == 200
    rows = [
        (a.get_role_display(), a.organization.name, a.branch_count) for a in response.context["assignments"]
    ]
    assert rows == [
        ("Party-affairs staff", "市直机关工委", 4),
        ("Preliminary reviewer", "市教育局机关党委", 2),
        ("Branch secretary", "教育局第一党支部", 1),
    ]
    text = response.text
    assert "张伟" in text
    for label in ("Party-affairs staff", "Preliminary reviewer", "Branch secretary"):
        assert label in text
    for kind in ("Working committee", "Party committee", "Party branch"):
        assert kind in text
    assert "Scope: 4 party branches" in text
    assert "Scope: 2 party branches" in text
    assert "Scope: 1 party branch<" in text.replace("\n", "").replace("  ", "")


def test_home_shows_an_empty_state_to_a_user_without_roles(client, world):
    client.force_login(world.outsider)

    response = client.get(reverse("home"), **ENGLISH)

    assert response.status_code == 200
    assert "No role has been assigned to you yet; ask your party-affairs staff." in response.text


def test_home_counts_only_branches_in_the_subtree_of_the_role(client, world):
    # The other committee's branch is not counted.
    client.force_login(world.reviewers[0])

    response = client.get(reverse("home"))

    assert [a.branch_count for a in response.context["assignments"]] == [4]


def test_home_runs_a_fixed_number_of_queries_whatever_the_number_of_roles(client, world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    user = make_user(
        "busy", roles=((Role.STAFF, world.committee), (Role.PARENT_REVIEWER, world.party_committee))
    )
    client.force_login(user)
    counts = []
    for number in range(7):
        if number:
            branch = make_branch(f"新建第{number}党支部", f"N{number}", parent=world.party_committee)
            assign_role(user=user, role=Role.BRANCH_SECRETARY, organization=branch)
        if number in (1, 6):
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(reverse("home"))
            counts.append(len(ctx.captured_queries))
            assert len(response.context["assignments"]) == 2 + number

    assert counts[0] == counts[1]


def test_admin_link_is_shown_only_to_staff_users(client, world):
    client.force_login(world.outsider)
    assert reverse("admin:index") not in client.get(reverse("home")).text

    client.force_login(world.staff)  # a Django staff user
    assert reverse("admin:index") in client.get(reverse("home")).text


def test_password_change_then_done_page(client, world):
    client.force_login(world.secretary)

    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a-new-Passw0rd-2025",
            "new_password2": "a-new-Passw0rd-2025",
        },
        follow=True,
    )

    assert response.redirect_chain[-1][0] == reverse("password_change_done")
    assert "registration/password_change_done.html" in [t.name for t in response.templates]
    world.secretary.refresh_from_db()
    assert world.secretary.check_password("a-new-Passw0rd-2025")
