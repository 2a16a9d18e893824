from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupervisionConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "supervision"
    verbose_name = _("Supervision and stages")

    def ready(self):
        from branches import timeline

        from .timeline import visits

        timeline.register(visits)
