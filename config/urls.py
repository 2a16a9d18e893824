"""URL configuration: the sign-in pages from django.contrib.auth, the language switch, the apps."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect
from django.templatetags.static import static
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from directory.forms.people import FirstPasswordChangeForm

from .health import health


def favicon_redirect(request):
    """/favicon.ico, which browsers ask for on pages without the layout's icon links (the admin's)."""
    return HttpResponseRedirect(static("favicon.ico"))


urlpatterns = [
    path("favicon.ico", favicon_redirect, name="favicon"),
    # For load balancers: JSON, no sign-in (config/health.py).
    path("health/", health, name="health"),
    path("", include("home.urls")),
    path("", include("reviews.urls")),
    path("", include("reports.urls")),
    path("checks/", include("checks.urls")),
    path("rectification/", include("rectification.urls")),
    path("supervision/", include("supervision.urls")),
    path("directory/", include("directory.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    # Django 5 accepts only POST here; the layout's "Sign out" is a form.
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The form also clears the "change the one-time password at first sign-in" flag.
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(form_class=FirstPasswordChangeForm),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]

# The admin names the product, not "Django administration".
admin.site.site_header = _("Party branch star rating")
admin.site.site_title = _("Party branch star rating")

# 403 and 404 in the site's layout with a way back; 400 and 500 are Django's own handlers
# rendering templates/400.html and 500.html, which need neither the database nor a user.
handler403 = "home.views_errors.permission_denied_page"
handler404 = "home.views_errors.not_found_page"
