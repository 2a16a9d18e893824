"""The password policy (等保 2.0): 8+ characters, three of four classes, none of the last five.

Applied wherever a password is chosen: the change page, the forced change after a one-time
password, the admin; the history is written by every one of them.
"""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

from branches.demo import DEMO_PASSWORD
from branches.models import PasswordHistory, User
from branches.passwords import character_classes
from branches.services.people import create_person, generate_one_time_password, reset_password
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}
TOO_SIMPLE = "A password mixes at least 3 of: upper-case letters, lower-case letters, digits, symbols (such as @ # ! *)."
REUSED = "A password may not be one of your last 5 passwords."


def refusals(password: str, user=None) -> list[str]:
    try:
        validate_password(password, user)
    except ValidationError as error:
        return error.messages
    return []


@pytest.mark.usefixtures("english")
@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("Xq7mPz2w", True),  # upper, lower, digit
        ("xq7m#pz2", True),  # lower, digit, symbol
        ("XQ7M#PZ2", True),  # upper, digit, symbol
        ("Xqm#pzwk", True),  # upper, lower, symbol
        (DEMO_PASSWORD, True),
        ("xq7mpz2wlk", False),  # two classes only
        ("XQMPZWLKRT", False),
        ("xqmp#zwlk!", False),
    ],
)
def test_three_of_four_character_classes(password, ok):
    assert (refusals(password) == []) is ok
    if not ok:
        assert refusals(password) == [TOO_SIMPLE]


@pytest.mark.usefixtures("english")
def test_at_least_eight_characters():
    assert "This password is too short. It must contain at least 8 characters." in refusals("Xq7#pz2")
    assert refusals("Xq7#pz2w") == []


def test_the_messages_are_in_chinese(client, world):
    client.force_login(world.secretary)
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "xq7mpz2wlk", "new_password2": "xq7mpz2wlk"},
    )
    assert response.status_code == 200
    assert "密码须至少包含以下 3 类字符" in response.text
    assert "upper-case" not in response.text


def change(client, old: str, new: str):
    return client.post(
        reverse("password_change"),
        {"old_password": old, "new_password1": new, "new_password2": new},
        **ENGLISH,
    )


def test_none_of_the_last_five_passwords_may_be_chosen_again(client, world):
    user = world.secretary
    client.force_login(user)
    chosen = [f"Branch#{number}x" for number in range(1, 7)]
    old = PASSWORD
    for new in chosen:
        assert change(client, old, new).status_code == 302
        old = new
    assert PasswordHistory.objects.filter(user=user).count() == 5  # only the newest five are kept

    for reused in chosen[1:]:  # the current one and the four before it
        response = change(client, old, reused)
        assert response.status_code == 200
        assert REUSED in response.text
    # The sixth-last may come back.
    assert change(client, old, chosen[0]).status_code == 302
    user.refresh_from_db()
    assert user.check_password(chosen[0])


def test_the_password_in_use_counts_even_without_a_history(client, world):
    assert not PasswordHistory.objects.filter(user=world.secretary).exists()  # set before the history
    client.force_login(world.secretary)

    response = change(client, PASSWORD, PASSWORD)

    assert REUSED in response.text


def test_the_history_keeps_hashes_only(client, world):
    client.force_login(world.secretary)
    change(client, PASSWORD, "Branch#1x")

    stored = PasswordHistory.objects.get(user=world.secretary).password
    assert "Branch#1x" not in stored
    assert stored == User.objects.get(pk=world.secretary.pk).password


def test_the_forced_change_after_a_one_time_password_applies_and_records_it(client, world):
    one_time = reset_password(actor=world.staff, user=world.secretary)
    assert not PasswordHistory.objects.filter(user=world.secretary).exists()  # a one-time one is not kept
    response = client.post(reverse("login"), {"username": world.secretary.username, "password": one_time})
    assert response.status_code == 302
    assert client.get(reverse("home")).url == reverse("password_change")

    too_simple = change(client, one_time, "onlylowercase")
    assert TOO_SIMPLE in too_simple.text
    assert change(client, one_time, "Branch#1x").status_code == 302

    user = User.objects.get(pk=world.secretary.pk)
    assert not user.must_change_password
    assert PasswordHistory.objects.filter(user=user).count() == 1


@pytest.mark.usefixtures("english")
def test_the_admin_applies_the_policy_and_records_the_change(client, world, django_user_model):
    admin = django_user_model.objects.create_superuser("root", password=DEMO_PASSWORD)
    client.force_login(admin)
    url = reverse("admin:auth_user_password_change", args=[world.secretary.pk])

    refused = client.post(
        url, {"password1": "xq7mpz2wlk", "password2": "xq7mpz2wlk", "usable_password": "true"}
    )
    assert TOO_SIMPLE in refused.text

    done = client.post(url, {"password1": "Branch#1x", "password2": "Branch#1x", "usable_password": "true"})
    assert done.status_code == 302
    assert PasswordHistory.objects.filter(user=world.secretary).count() == 1


def test_a_chosen_password_at_account_creation_follows_the_policy(world):
    with pytest.raises(ValidationError) as excinfo:
        create_person(actor=world.staff, username="newcomer", password="onlylowercase")
    assert "password" in excinfo.value.message_dict


def test_one_time_passwords_follow_the_policy(world):
    for _ in range(200):
        one_time = generate_one_time_password(world.secretary)
        assert len(one_time) >= 8
        assert len(character_classes(one_time)) >= 3
        assert refusals(one_time, world.secretary) == []
