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

        from . import kept

        # Every statement that writes bumps the versions of its tables (branches/kept.py).
        kept.install()

        from django.db.models.signals import post_delete, post_save

        from .models import Organization
        from .selectors import tree_changed

        def organizations_changed(**kwargs):
            tree_changed()

        post_save.connect(organizations_changed, sender=Organization, dispatch_uid="branches-tree-changed")
        post_delete.connect(
            organizations_changed, sender=Organization, dispatch_uid="branches-tree-changed-d"
        )
