"""Sessions (等保 2.0): unused for SESSION_IDLE_TIMEOUT seconds a session ends, with a message why.

With CACHE_URL sessions are read from that Redis and written through to the database
(cached_db), for every process; without it, from the database only, so that a sign-out in one
process holds in the others (a local-memory cache is each process's own).
"""

import datetime

import pytest
import time_machine
from django.conf import settings as django_settings
from django.contrib.sessions.models import Session
from django.urls import reverse

from tests.factories import PASSWORD
from tests.security_redis import shared_redis  # noqa: F401

pytestmark = pytest.mark.django_db

ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}
START = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def _short_idle_timeout(settings):
    settings.SESSION_IDLE_TIMEOUT = 300


def sign_in(client, user):
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD}, **ENGLISH)
    assert response.status_code == 302


def test_a_session_used_within_the_timeout_goes_on(client, world):
    with time_machine.travel(START, tick=False) as traveller:
        sign_in(client, world.secretary)
        for _ in range(4):  # 4 × 4 minutes: longer than the timeout in all, never idle that long
            traveller.shift(datetime.timedelta(minutes=4))
            assert client.get(reverse("home"), **ENGLISH).status_code == 200


def test_an_idle_session_ends_and_the_person_is_told_why(client, world):
    with time_machine.travel(START, tick=False) as traveller:
        sign_in(client, world.secretary)
        client.get(reverse("home"))
        traveller.shift(datetime.timedelta(seconds=301))

        response = client.get(reverse("home"), **ENGLISH)

        assert response.status_code == 302
        assert response.url == f"{reverse('login')}?next={reverse('home')}"
        login_page = client.get(response.url, **ENGLISH)
        assert "You were signed out after 5 minutes without activity; sign in again." in login_page.text
        assert "_auth_user_id" not in client.session
        # Signing in again works as ever.
        sign_in(client, world.secretary)
        assert client.get(reverse("home"), **ENGLISH).status_code == 200


def test_the_message_is_in_chinese_by_default(client, world):
    with time_machine.travel(START, tick=False) as traveller:
        sign_in(client, world.secretary)
        traveller.shift(datetime.timedelta(seconds=301))
        response = client.get(reverse("home"), follow=True)

    assert "您已 5 分钟无操作，已自动退出，请重新登录。" in response.text


def test_the_absolute_age_still_bounds_a_session_in_use(world):
    assert django_settings.SESSION_COOKIE_AGE == 8 * 3600
    assert django_settings.SESSION_IDLE_TIMEOUT == 300  # this module's


def test_without_a_shared_cache_sessions_live_in_the_database(client, world):
    sign_in(client, world.secretary)
    key = client.session.session_key

    assert django_settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"
    assert Session.objects.filter(session_key=key).exists()


def test_sessions_in_a_real_redis(client, world, settings, shared_redis):  # noqa: F811 - the fixture
    import redis

    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"  # as with CACHE_URL
    sign_in(client, world.secretary)
    key = client.session.session_key
    stored = redis.Redis.from_url(shared_redis).keys(f"*{key}*")

    assert stored, "the session is not in Redis"
    assert Session.objects.filter(session_key=key).exists()  # and in the database
    assert client.get(reverse("home"), **ENGLISH).status_code == 200
