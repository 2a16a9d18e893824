"""The sign-in page warns of the attempts left before the lockout, the same for every name typed."""

import re

import pytest
from django.urls import reverse

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture(autouse=True)
def _limit(settings):
    settings.AXES_FAILURE_LIMIT = 3


def login(client, username, password, **headers):
    return client.post(reverse("login"), {"username": username, "password": password}, **headers)


def attempts_left(response) -> str | None:
    found = re.search(r'class="mb-0 mt-1 fw-semibold attempts-left">([^<]*)<', response.text)
    return found.group(1) if found else None


def test_the_first_visit_shows_no_warning(client):
    response = client.get(reverse("login"), **ENGLISH)
    assert attempts_left(response) is None


def test_each_failure_says_how_many_attempts_are_left_until_the_lockout(client, world):
    first = login(client, world.secretary.username, "wrong", **ENGLISH)
    second = login(client, world.secretary.username, "wrong", **ENGLISH)
    third = login(client, world.secretary.username, "wrong", **ENGLISH)

    assert attempts_left(first) == "2 attempts left before sign-in with this name is locked for a while."
    assert attempts_left(second) == "1 attempt left before sign-in with this name is locked for a while."
    assert third.status_code == 429  # the limit reached: the lockout page, no count


def test_an_unknown_name_gets_the_same_page_as_a_real_one(client, world):
    real = login(client, world.secretary.username, "wrong", **ENGLISH)
    unknown = login(client, "nobody-by-this-name", "wrong", **ENGLISH)

    assert attempts_left(real) == attempts_left(unknown)
    assert attempts_left(unknown) == "2 attempts left before sign-in with this name is locked for a while."

    def without_the_name(response, name):
        return response.content.decode().replace(name, "NAME")

    # Apart from the name typed back into the field, the pages are the same.
    real_page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", without_the_name(real, "zhangwei"))
    unknown_page = re.sub(
        r'name="csrfmiddlewaretoken" value="[^"]+"', "", without_the_name(unknown, "nobody-by-this-name")
    )
    assert real_page == unknown_page


def test_the_count_belongs_to_the_name_typed(client, world):
    login(client, world.secretary.username, "wrong", **ENGLISH)
    other = login(client, world.sibling_secretary.username, "wrong", **ENGLISH)

    assert attempts_left(other) == "2 attempts left before sign-in with this name is locked for a while."


def test_the_warning_is_in_chinese_by_default(client, world):
    response = login(client, world.secretary.username, "wrong")
    assert "attempts-left" in response.text


def test_a_successful_sign_in_starts_the_count_again(client, world):
    login(client, world.secretary.username, "wrong", **ENGLISH)
    assert login(client, world.secretary.username, PASSWORD, **ENGLISH).status_code == 302
    client.post(reverse("logout"))

    response = login(client, world.secretary.username, "wrong", **ENGLISH)

    assert attempts_left(response) == "2 attempts left before sign-in with this name is locked for a while."
