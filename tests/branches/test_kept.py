"""Page parts kept until a table they were read from is written (branches/kept.py), on real commits."""

import pytest
from axes.models import AccessLog
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from branches import kept as kept_module
from branches.kept import kept, tables_named
from branches.models import Organization, RoleAssignment
from branches.roles import Role
from branches.selectors import statuses_changed

pytestmark = pytest.mark.django_db(transaction=True)


def body_queries(client) -> list[str]:
    """The statements of one home page that read more than the layout does."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/")
    assert response.status_code == 200
    return [q["sql"] for q in queries if "reviews_" in q["sql"] or "supervision_" in q["sql"]]


def home_of(client) -> str:
    return client.get("/").content.decode()


@pytest.fixture
def secretary_client(client, world):
    client.force_login(world.secretary)
    # The first page is drawn (and, the first time in this process, learns the tables it
    # reads); by the second it is kept.
    assert body_queries(client)
    body_queries(client)
    return client


def test_a_reload_after_nothing_changed_reads_nothing_for_the_body(secretary_client):
    assert body_queries(secretary_client) == []


def test_a_bulk_update_shows_at_once(secretary_client, world):
    assert "教育局第一党支部" in home_of(secretary_client)
    # A queryset update sends no signal: the statement itself bumps the table's version.
    Organization.objects.filter(pk=world.branch.pk).update(name="教育局第一党支部（改名）")
    assert "教育局第一党支部（改名）" in home_of(secretary_client)


def test_a_raw_statement_shows_at_once(secretary_client, world):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE branches_organization SET name = %s WHERE id = %s", ["原生语句改名", world.branch.pk]
        )
    assert "原生语句改名" in home_of(secretary_client)


def test_a_role_removed_leaves_the_home_at_once(secretary_client, world):
    RoleAssignment.objects.filter(user=world.secretary).delete()
    page = home_of(secretary_client)
    assert "教育局第一党支部" not in page
    assert "No role has been assigned" in page or "尚未" in page


def test_uncommitted_rows_are_neither_read_from_nor_left_in_the_cache(secretary_client, world):
    class Undo(Exception):
        pass

    with pytest.raises(Undo), transaction.atomic():
        Organization.objects.filter(pk=world.branch.pk).update(name="未提交的名字")
        # The same transaction sees its own row, not the kept page…
        assert "未提交的名字" in home_of(secretary_client)
        raise Undo
    # …and what it drew is not kept after the rollback.
    page = home_of(secretary_client)
    assert "未提交的名字" not in page and "教育局第一党支部" in page


def test_a_write_to_a_table_the_page_does_not_read_leaves_it_kept(secretary_client):
    AccessLog.objects.create(username="someone", ip_address="10.0.0.1", user_agent="x", path_info="/")
    assert body_queries(secretary_client) == []


def test_figures_kept_elsewhere_carry_their_versions(client, world):
    client.force_login(world.approver)
    assert body_queries(client)
    body_queries(client)
    assert body_queries(client) == []
    statuses_changed()  # no table written: the committee's figures alone are counted again
    assert body_queries(client)


def test_each_user_and_language_has_their_own(secretary_client, world):
    from django.test import Client

    other = Client()
    other.force_login(world.sibling_secretary)
    page = other.get("/").content.decode()
    assert "教育局第二党支部" in page and "教育局第一党支部" not in page
    assert "教育局第一党支部" in home_of(secretary_client)
    for _ in range(3):  # learnt, kept, read from the cache
        english = secretary_client.get("/", headers={"accept-language": "en"}).content.decode()
        chinese = secretary_client.get("/", headers={"accept-language": "zh-hans"}).content.decode()
        assert "My work" in english and "我的工作" not in english
        assert "我的工作" in chinese and "My work" not in chinese


def test_nothing_is_kept_without_a_shared_cache(secretary_client, settings):
    settings.KEEP_PAGES = False
    assert body_queries(secretary_client)
    assert body_queries(secretary_client)


def test_a_new_connection_is_watched():
    connection.close()
    connection.ensure_connection()
    assert kept_module._watch in connection.execute_wrappers


def test_a_table_read_for_the_first_time_is_learnt_before_anything_is_kept(world):
    calls = []

    def count():
        calls.append(1)
        return Organization.objects.filter(committee_id=world.committee.pk).count()

    kept_module._LEARNT.pop("test-count", None)
    first = kept("test-count", (1,), count)
    assert kept("test-count", (1,), count) == first  # learnt the table, now kept
    assert kept("test-count", (1,), count) == first
    assert len(calls) == 2
    Organization.objects.filter(pk=world.branch.pk).update(sort_order=5)
    kept("test-count", (1,), count)
    assert len(calls) == 3


def test_tables_are_found_quoted_or_bare():
    assert tables_named('SELECT 1 FROM "branches_organization" INNER JOIN "reviews_assessment" ON 1=1') == {
        "branches_organization",
        "reviews_assessment",
    }
    assert tables_named("update branches_organization set name = 'x'") == {"branches_organization"}
    assert tables_named('SELECT "name" FROM "no_such_table"') == set()


def test_a_failing_cache_costs_speed_not_the_page(secretary_client, monkeypatch):
    get_many = kept_module.cache.get_many

    def failing_for_kept(keys, *args, **kwargs):
        if any(key.startswith("kept:") for key in keys):
            raise ConnectionError("the cache server is down")
        return get_many(keys, *args, **kwargs)

    monkeypatch.setattr(kept_module.cache, "get_many", failing_for_kept)
    assert body_queries(secretary_client)  # drawn, and answered 200 (body_queries checks)


def test_a_kept_page_carries_the_token_of_each_request(world):
    import re

    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(world.staff)
    for _ in range(3):  # learnt, kept, read from the cache
        page = client.get("/directory/organizations/").content.decode()
    for attempt in range(2):
        if attempt:
            # A new token secret (as after signing in again): the kept page gets the new one.
            del client.cookies["csrftoken"]
        page = client.get("/directory/organizations/")
        assert page.status_code == 200
        tokens = set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()))
        assert tokens and kept_module.TOKEN_MARK not in page.content.decode()
        answer = client.post(
            "/i18n/setlang/", {"language": "zh-hans", "next": "/", "csrfmiddlewaretoken": tokens.pop()}
        )
        assert answer.status_code == 302, answer.status_code


def test_a_kept_list_is_refused_at_once_when_the_role_goes(world):
    from django.test import Client

    client = Client()
    client.force_login(world.staff)
    for _ in range(3):  # learnt, kept, read from the cache
        assert client.get("/directory/people/").status_code == 200
    RoleAssignment.objects.filter(user=world.staff, role=Role.STAFF).delete()
    assert client.get("/directory/people/").status_code in (403, 404)
