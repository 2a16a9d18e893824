"""The password hasher for one-time passwords (new accounts, a reset), and how to use it.

A one-time password is hashed with PBKDF2 at ``ONE_TIME_PASSWORD_ITERATIONS`` (10,000)
instead of Django's default (1,000,000, about half a second of CPU each), so that an import
of a thousand people takes seconds rather than minutes (at 20,000 iterations hashing alone
took 160 s of CPU of a 24,000-person province import; at 10,000 it is half that). That is safe because such a password
is unlike one a person chooses:

- it is 12 random characters from an alphabet of 55 (about 69 bits), not a word a dictionary
  attack finds; at 10,000 iterations guessing it from a stolen hash still takes far longer
  than it lives;
- it is short-lived: ``must_change_password`` makes its holder choose a new one at the first
  sign-in, and the password chosen then is hashed with the default hasher;
- the hasher is listed in ``PASSWORD_HASHERS`` *after* Django's default, so it is never used
  for a password a person chooses, and Django re-hashes a one-time hash with the default
  hasher at the first successful sign-in anyway (a hash whose algorithm is not the preferred
  one is upgraded by ``check_password``).
"""

from django.contrib.auth.hashers import PBKDF2PasswordHasher, get_hasher, make_password

ONE_TIME_PASSWORD_ITERATIONS = 10_000


class OneTimePasswordHasher(PBKDF2PasswordHasher):
    """PBKDF2-SHA256 with few iterations, under its own name: only for one-time passwords."""

    algorithm = "pbkdf2_sha256_one_time"
    iterations = ONE_TIME_PASSWORD_ITERATIONS


def hash_one_time_password(raw: str) -> str:
    """The stored form of a one-time password: the cheap hasher where it is configured.

    Without it in ``PASSWORD_HASHERS`` (a deployment's own list, the tests' fast hasher)
    the default hasher is used, so a password is never hashed with a hasher Django cannot
    check.
    """
    try:
        hasher = get_hasher(OneTimePasswordHasher.algorithm)
    except ValueError:
        return make_password(raw)
    return make_password(raw, hasher=hasher)
