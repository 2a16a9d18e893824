"""AppConfigs that give installed packages a Chinese name in the admin.

django-axes names its app "Axes" and ships no Simplified Chinese; INSTALLED_APPS lists this
subclass instead of ``"axes"``, so the app keeps its label and behaviour and only its name
changes.
"""

from axes.apps import AppConfig as AxesAppConfig
from django.utils.translation import gettext_lazy as _


class SignInProtectionConfig(AxesAppConfig):
    verbose_name = _("Sign-in protection")

    def ready(self):
        super().ready()
        from axes.admin import AccessAttemptAdmin

        # Two columns of its admin are methods without a description: named from the method.
        AccessAttemptAdmin.status.short_description = _("status")
        AccessAttemptAdmin.expiration.short_description = _("expires at")
