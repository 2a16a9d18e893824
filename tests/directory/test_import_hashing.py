"""One-time passwords are hashed cheaply, work once, and give way to the default hasher."""

import pytest
from django.conf.global_settings import PASSWORD_HASHERS as DJANGO_PASSWORD_HASHERS
from django.contrib.auth.hashers import identify_hasher
from django.urls import reverse

from branches.hashers import ONE_TIME_PASSWORD_ITERATIONS, OneTimePasswordHasher, hash_one_time_password
from branches.models import User
from branches.services.people import create_person, reset_password

pytestmark = pytest.mark.django_db

SITE_HASHERS = [*DJANGO_PASSWORD_HASHERS, "branches.hashers.OneTimePasswordHasher"]


@pytest.fixture
def site_hashers(settings):
    """The site's own hasher list (the suite otherwise hashes with MD5 for speed)."""
    settings.PASSWORD_HASHERS = SITE_HASHERS
    return settings


def test_the_site_lists_the_one_time_hasher_after_the_default():
    from config import settings as site_settings

    assert site_settings.PASSWORD_HASHERS[0] == DJANGO_PASSWORD_HASHERS[0]
    assert site_settings.PASSWORD_HASHERS[-1] == "branches.hashers.OneTimePasswordHasher"


def test_a_new_account_s_one_time_password_uses_the_cheap_hasher_and_works(site_hashers, world):
    user, one_time = create_person(actor=world.staff, username="chenjing", real_name="陈静")
    stored = User.objects.get(pk=user.pk)
    assert stored.password.startswith(f"{OneTimePasswordHasher.algorithm}${ONE_TIME_PASSWORD_ITERATIONS}$")
    assert stored.must_change_password
    assert stored.check_password(one_time)
    assert not stored.check_password(one_time + "x")


def test_a_chosen_password_never_uses_the_one_time_hasher(site_hashers, world):
    user, one_time = create_person(actor=world.staff, username="chenjing", password="A-good-pass-2026")
    assert one_time is None
    assert identify_hasher(User.objects.get(pk=user.pk).password).algorithm == "pbkdf2_sha256"


def test_after_the_forced_change_the_stored_hash_uses_the_default_hasher(site_hashers, client, world):
    one_time = reset_password(actor=world.staff, user=world.secretary)
    assert identify_hasher(User.objects.get(pk=world.secretary.pk).password).algorithm == (
        OneTimePasswordHasher.algorithm
    )
    assert client.post(reverse("login"), {"username": "zhangwei", "password": one_time}).status_code == 302
    # Django upgrades a hash made by a hasher that is not the preferred one at sign-in.
    assert identify_hasher(User.objects.get(pk=world.secretary.pk).password).algorithm == "pbkdf2_sha256"
    response = client.post(
        reverse("password_change"),
        {
            "old_password": one_time,
            "new_password1": "Another-good-pass-2026",
            "new_password2": "Another-good-pass-2026",
        },
    )
    assert response.status_code == 302
    stored = User.objects.get(pk=world.secretary.pk)
    assert not stored.must_change_password
    assert identify_hasher(stored.password).algorithm == "pbkdf2_sha256"
    assert stored.check_password("Another-good-pass-2026") and not stored.check_password(one_time)


def test_without_the_one_time_hasher_configured_the_default_is_used(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    assert identify_hasher(hash_one_time_password("Abcdefgh2345")).algorithm == "md5"
