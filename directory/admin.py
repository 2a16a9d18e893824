"""The directory owns no tables; it adds to the admin of other apps' models.

Organizations: deactivating one in the admin (unticking 有效) goes through the same check and
service as the site's deactivate button (``directory.services.organizations``): refused, with
the branches named on the form, while an assessment is in flight in its subtree, and otherwise
the whole subtree deactivated, each node recorded. ``branches`` cannot ask ``reviews`` about
assessments; the directory may, so it wraps the organization admin that ``branches.admin``
registers.

The quarterly schedule:
django-celery-beat's periodic tasks and crontabs are edited in the admin (with the names
``reports.admin`` gives them); whatever admin class is registered for them gets the
recording of ``branches.admin.AuditedAdminMixin`` on top. This module is imported after
``reports.admin`` (INSTALLED_APPS order), so it wraps the final registration.
"""

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from branches.admin import AuditedAdminMixin
from branches.errors import WorkflowError
from branches.models import Organization

from .services.organizations import deactivate_organization, deactivation_refusal


def _deactivating(form) -> bool:
    """Whether the admin's form turns an active organization inactive."""
    return (
        bool(form.instance.pk) and "is_active" in form.changed_data and not form.cleaned_data.get("is_active")
    )


class DeactivationCheckedForm(forms.ModelForm):
    """Refuses unticking 有效 while an assessment is in flight in the subtree (the site's reason)."""

    def clean(self):
        data = super().clean()
        if _deactivating(self):
            refusal = deactivation_refusal(Organization.objects.get(pk=self.instance.pk))
            if refusal:
                self.add_error("is_active", refusal)
        return data


class DeactivationCheckedAdminMixin:
    """The organization admin's deactivation through ``deactivate_organization``."""

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (DeactivationCheckedForm, form), {})

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # An assessment that got in flight between the form's check and the save: the view's
        # transaction is rolled back; the refusal is shown on the organization's page again.
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except WorkflowError as error:
            messages.error(request, error.message)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj, form, change):
        if not (change and _deactivating(form)):
            super().save_model(request, obj, form, change)
            return
        # The other changes of the form first, recorded as usual; then the subtree goes,
        # checked again under the row's lock (the admin's view is one transaction).
        obj.is_active = True
        super().save_model(request, obj, form, change)
        deactivate_organization(org=obj, actor=request.user)
        obj.refresh_from_db()


_organization_admin = admin.site._registry.get(Organization)
if _organization_admin is not None and not isinstance(_organization_admin, DeactivationCheckedAdminMixin):
    _checked = type(
        _organization_admin.__class__.__name__,
        (DeactivationCheckedAdminMixin, _organization_admin.__class__),
        {},
    )
    admin.site.unregister(Organization)
    admin.site.register(Organization, _checked)

for _scheduled_model in (PeriodicTask, CrontabSchedule):
    _current = admin.site._registry.get(_scheduled_model)
    if _current is not None and not isinstance(_current, AuditedAdminMixin):
        _audited = type(_current.__class__.__name__, (AuditedAdminMixin, _current.__class__), {})
        admin.site.unregister(_scheduled_model)
        admin.site.register(_scheduled_model, _audited)
