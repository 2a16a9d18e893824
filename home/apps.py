from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HomeConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "home"
    verbose_name = _("My work")

    def ready(self):
        from . import audit_log  # noqa: F401 - connects the sign-in receivers
