from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RectificationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "rectification"
    verbose_name = _("Rectification")

    def ready(self) -> None:
        from branches import timeline

        from .selectors import timeline_entries
        from .services.sources import connect

        connect()
        timeline.register(timeline_entries)
