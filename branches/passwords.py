"""The password policy (等保 2.0): character classes and no reuse of the last few.

The length (at least ``PASSWORD_MIN_LENGTH``, 8) is Django's own validator, already in Chinese.

Listed in ``AUTH_PASSWORD_VALIDATORS``, so every place that checks a new password (the change
form, the forced change after a one-time password, the admin, ``create_person``) applies it,
and every place that saves one records its hash (``password_changed``, called by
``User.save()`` after ``set_password``). One-time passwords are not recorded: they are
chosen by nobody and changed at the first sign-in.
"""

from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

CHARACTER_CLASSES = (
    ("upper", lambda char: char.isupper()),
    ("lower", lambda char: char.islower()),
    ("digit", lambda char: char.isdigit()),
    ("symbol", lambda char: not char.isalnum() and not char.isspace()),
)


def character_classes(password: str) -> set[str]:
    """Which of upper-case letters, lower-case letters, digits and symbols ``password`` holds."""
    return {name for name, test in CHARACTER_CLASSES if any(test(char) for char in password)}


class CharacterClassesValidator:
    def __init__(self, min_classes: int = 3):
        self.min_classes = min_classes

    def validate(self, password: str, user=None) -> None:
        if len(character_classes(password)) < self.min_classes:
            raise ValidationError(self.get_help_text(), code="password_too_simple")

    def get_help_text(self) -> str:
        return _(
            "A password mixes at least %(min)d of: upper-case letters, lower-case letters, digits, "
            "symbols (such as @ # ! *)."
        ) % {"min": self.min_classes}


class PasswordHistoryValidator:
    def __init__(self, remember: int = 5):
        self.remember = remember

    def _recent_hashes(self, user) -> list[str]:
        from .models import PasswordHistory, User

        if user is None or user.pk is None:
            return []
        hashes = list(
            PasswordHistory.objects.filter(user_id=user.pk).values_list("password", flat=True)[
                : self.remember
            ]
        )
        # The password in use counts too, also when it was set before the history was kept;
        # read from the database, as the object may already hold the new one.
        current = User.objects.filter(pk=user.pk).values_list("password", flat=True).first()
        if current and current not in hashes:
            hashes.append(current)
        return hashes

    def validate(self, password: str, user=None) -> None:
        for encoded in self._recent_hashes(user):
            if check_password(password, encoded):
                raise ValidationError(self.get_help_text(), code="password_reused")

    def password_changed(self, password: str, user=None) -> None:
        from .models import PasswordHistory

        if user is None or user.pk is None or getattr(user, "must_change_password", False):
            return
        with transaction.atomic():
            PasswordHistory.objects.create(user_id=user.pk, password=user.password)
            stale = PasswordHistory.objects.filter(user_id=user.pk).values_list("pk", flat=True)[
                self.remember :
            ]
            PasswordHistory.objects.filter(pk__in=list(stale)).delete()

    def get_help_text(self) -> str:
        return ngettext(
            "A password may not be the same as your last %(count)d password.",
            "A password may not be one of your last %(count)d passwords.",
            self.remember,
        ) % {"count": self.remember}
