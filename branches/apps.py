from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BranchesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "branches"
    verbose_name = _("Organizations, people and roles")

    def ready(self):
        from . import (
            signin,  # noqa: F401 - connects the sign-in receivers
            timeline,
        )

        timeline.register(timeline.stage_changes)
