"""Sign-in (等保 2.0): failures limited per client address, the previous sign-in shown, /verify/ limited.

The limit per name (django-axes) stays; on top of it many names tried from one address are
refused once the address has failed SIGN_IN_ADDRESS_LIMIT times in the window, without
locking any account. The same tests run on the local-memory cache and on a real Redis.
"""

import datetime

import pytest
import time_machine
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from branches.signin import PreviousSignIn, previous_sign_in_message
from branches.throttle import client_address
from tests.factories import PASSWORD
from tests.security_redis import shared_redis  # noqa: F401

pytestmark = pytest.mark.django_db

ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}
REFUSED = "Too many failed sign-in attempts came from your network address"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.SIGN_IN_ADDRESS_LIMIT = 5
    settings.SIGN_IN_ADDRESS_WINDOW = 600


@pytest.fixture(params=["local memory", "redis"])
def cache_backend(request):
    if request.param == "redis":
        request.getfixturevalue("shared_redis")
    return request.param


def login(client, username, password, address="10.1.2.3", **extra):
    return client.post(
        reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        **ENGLISH,
        **extra,
    )


def test_many_names_from_one_address_are_refused_after_the_limit(client, world, cache_backend):
    answers = [login(client, f"guess{number}", "wrong") for number in range(5)]
    assert [answer.status_code for answer in answers] == [200] * 5
    assert all(REFUSED not in answer.text for answer in answers)

    refused = login(client, "guess-next", "wrong")

    assert refused.status_code == 429
    assert REFUSED in refused.text
    assert "No account has been locked." in refused.text
    assert "Try again in 10 minutes" in refused.text
    assert refused["Retry-After"] == "600"


def test_the_refusal_holds_for_a_right_password_too_and_locks_no_account(client, world, cache_backend):
    for number in range(5):
        login(client, f"guess{number}", "wrong")

    refused = login(client, world.secretary.username, PASSWORD)

    assert refused.status_code == 429
    assert "_auth_user_id" not in client.session
    # No account was locked or even counted for the refused attempt.
    assert not AccessAttempt.objects.filter(username=world.secretary.username).exists()


def test_another_address_may_still_sign_in(client, world, cache_backend):
    for number in range(5):
        login(client, f"guess{number}", "wrong", address="10.1.2.3")

    response = login(client, world.secretary.username, PASSWORD, address="10.9.9.9")

    assert response.status_code == 302
    assert response.url == reverse("home")


def test_the_address_may_sign_in_again_once_the_window_is_over(client, world):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        for number in range(5):
            login(client, f"guess{number}", "wrong")
        assert login(client, world.secretary.username, PASSWORD).status_code == 429

        traveller.shift(datetime.timedelta(seconds=601))

        assert login(client, world.secretary.username, PASSWORD).status_code == 302


def test_the_admin_sign_in_counts_and_is_refused_too(client, world):
    for number in range(5):
        client.post(
            reverse("admin:login"), {"username": f"g{number}", "password": "x"}, REMOTE_ADDR="10.1.2.3"
        )

    refused = client.post(
        reverse("admin:login"),
        {"username": world.secretary.username, "password": PASSWORD},
        REMOTE_ADDR="10.1.2.3",
    )
    site = login(client, world.secretary.username, PASSWORD, address="10.1.2.3")

    assert refused.status_code == 429
    assert site.status_code == 429


def test_the_limit_is_in_chinese_by_default(client, world):
    for number in range(5):
        client.post(reverse("login"), {"username": f"g{number}", "password": "x"})
    refused = client.post(reverse("login"), {"username": "g", "password": "x"})

    assert refused.status_code == 429
    assert "网络地址" in refused.text
    assert REFUSED not in refused.text


def test_a_forwarded_address_counts_only_behind_a_trusted_proxy(client, world, settings):
    # Not trusted: X-Forwarded-For is ignored, so changing it escapes nothing.
    for number in range(5):
        login(client, f"guess{number}", "wrong", address="10.1.2.3", HTTP_X_FORWARDED_FOR=f"192.0.2.{number}")
    assert (
        login(client, "x", "wrong", address="10.1.2.3", HTTP_X_FORWARDED_FOR="192.0.2.99").status_code == 429
    )

    # Behind the trusted proxy each client behind it is counted on its own.
    settings.TRUSTED_PROXIES = ["172.16.0.0/12"]
    for number in range(5):
        login(client, f"guess{number}", "wrong", address="172.16.0.5", HTTP_X_FORWARDED_FOR="198.51.100.7")
    refused = login(client, "x", "wrong", address="172.16.0.5", HTTP_X_FORWARDED_FOR="198.51.100.7")
    other = login(
        client, world.secretary.username, PASSWORD, address="172.16.0.5", HTTP_X_FORWARDED_FOR="198.51.100.8"
    )

    assert refused.status_code == 429
    assert other.status_code == 302


@pytest.mark.parametrize(
    ("remote", "forwarded", "trusted", "expected"),
    [
        ("10.1.2.3", "", [], "10.1.2.3"),
        ("10.1.2.3", "6.6.6.6", [], "10.1.2.3"),
        ("10.1.2.3", "6.6.6.6", ["172.16.0.1"], "10.1.2.3"),
        ("172.16.0.1", "198.51.100.7", ["172.16.0.1"], "198.51.100.7"),
        # The client's own header cannot push an address in front: the nearest untrusted hop counts.
        ("172.16.0.1", "6.6.6.6, 198.51.100.7", ["172.16.0.1"], "198.51.100.7"),
        ("172.16.0.1", "198.51.100.7, 172.16.0.9", ["172.16.0.0/12"], "198.51.100.7"),
        ("172.16.0.1", "not-an-address", ["172.16.0.1"], "172.16.0.1"),
        ("::1", "2001:db8::7", ["::1"], "2001:db8::7"),
    ],
)
def test_client_address(settings, remote, forwarded, trusted, expected):
    settings.TRUSTED_PROXIES = trusted
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)

    assert client_address(request) == expected


def test_django_axes_records_the_same_address(client, world, settings):
    settings.TRUSTED_PROXIES = ["172.16.0.1"]
    login(
        client, world.secretary.username, "wrong", address="172.16.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7"
    )

    assert AccessFailureLog.objects.get(username=world.secretary.username).ip_address == "198.51.100.7"


# --- the previous sign-in -------------------------------------------------------------------


def test_after_signing_in_the_previous_sign_in_and_the_failures_since_are_shown(client, world):
    with time_machine.travel(
        datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC), tick=False
    ) as traveller:
        login(client, world.secretary.username, PASSWORD, address="10.8.1.23")
        client.post(reverse("logout"))
        traveller.shift(datetime.timedelta(hours=5))
        login(client, world.secretary.username, "wrong", address="203.0.113.9")
        login(client, world.secretary.username, "wrong-again", address="203.0.113.9")
        traveller.shift(datetime.timedelta(hours=1))

        response = login(client, world.secretary.username, PASSWORD, address="10.8.1.24")
        page = client.get(response.url, **ENGLISH)

    text = page.text
    assert "Your previous sign-in: 2026-03-02 17:00 from 10.8.1.23." in text  # Asia/Shanghai
    assert "Since then 2 sign-in attempts with your name failed" in text
    # Both sign-ins are recorded with their address and time.
    assert list(
        AccessLog.objects.filter(username=world.secretary.username).values_list("ip_address", flat=True)
    ) == [
        "10.8.1.23",
        "10.8.1.24",
    ]


def test_the_next_sign_in_counts_no_failures(client, world):
    login(client, world.secretary.username, "wrong")
    first = login(client, world.secretary.username, PASSWORD)
    assert "Since then 1 sign-in attempt with your name failed" in client.get(first.url, **ENGLISH).text
    client.post(reverse("logout"))

    response = login(client, world.secretary.username, PASSWORD)
    text = client.get(response.url, **ENGLISH).text

    assert "Your previous sign-in:" in text
    assert "failed" not in text


def test_the_first_sign_in_says_so(client, world):
    response = login(client, world.secretary.username, PASSWORD)
    text = client.get(response.url, **ENGLISH).text

    assert "this is the first sign-in recorded for your account" in text


def test_the_message_is_in_chinese_by_default():
    from django.utils import translation

    previous = PreviousSignIn(
        at=datetime.datetime(2026, 3, 2, 1, 0, tzinfo=datetime.UTC), address="10.8.1.23", failures=2
    )
    with translation.override("zh-hans"):
        text = previous_sign_in_message(previous)

    assert "2026-03-02 09:00" in text
    assert "10.8.1.23" in text
    assert "Your previous" not in text


# --- /verify/ -----------------------------------------------------------------------------


def test_verify_is_limited_per_address(client, settings, cache_backend):
    settings.VERIFY_RATE_LIMIT = 3
    settings.VERIFY_RATE_WINDOW = 120
    answers = [client.get(reverse("reports:verify"), REMOTE_ADDR="10.5.5.5", **ENGLISH) for _ in range(3)]
    code = client.get(
        reverse("reports:verify_code", args=["ZZZZ-ZZZZ-ZZZZ"]), REMOTE_ADDR="10.5.5.5", **ENGLISH
    )
    elsewhere = client.get(reverse("reports:verify"), REMOTE_ADDR="10.6.6.6", **ENGLISH)

    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert code.status_code == 429
    assert "Too many requests came from your network address" in code.text
    assert "Wait 2 minutes and try again." in code.text
    assert code["Retry-After"] == "120"
    assert elsewhere.status_code == 200


def test_a_cache_that_does_not_answer_does_not_stop_sign_in(client, world, settings):
    from tests.security_redis import free_port, redis_cache_settings

    settings.CACHES = redis_cache_settings(f"redis://127.0.0.1:{free_port()}/0")
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    for number in range(6):
        login(client, f"guess{number}", "wrong")

    assert login(client, world.secretary.username, PASSWORD).status_code == 302
