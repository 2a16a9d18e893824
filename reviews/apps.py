from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReviewsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reviews"
    verbose_name = _("Star-rating reviews")

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from branches.selectors import statuses_changed

        from .models import Assessment, Certificate

        # The services call statuses_changed themselves; these catch the rows written elsewhere
        # (the admin, the builders): a certificate saved or deleted, an assessment added or saved
        # whole (a draft's save names its few fields and changes no status). An assessment goes
        # only with its branch (the tree's version changes) or its cycle (whose figures nobody
        # asks for any more); no receiver on its deletion keeps those cascades fast.
        def certificate_changed(**kwargs):
            statuses_changed()

        def assessment_changed(created=True, update_fields=None, **kwargs):
            if created or update_fields is None or {"status", "decided_stars"} & set(update_fields):
                statuses_changed()

        post_save.connect(certificate_changed, sender=Certificate, dispatch_uid="reviews-cert-saved")
        post_delete.connect(certificate_changed, sender=Certificate, dispatch_uid="reviews-cert-deleted")
        post_save.connect(assessment_changed, sender=Assessment, dispatch_uid="reviews-assessment-saved")
