"""URLs of notices, bulletins, branch reports and certificate verification."""

from .views import branch_reports, bulletins, notices

app_name = "reports"

urlpatterns = [
    *notices.urlpatterns,
    *bulletins.urlpatterns,
    *branch_reports.urlpatterns,
]
