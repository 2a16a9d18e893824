"""URLs of notices, bulletins, branch reports and certificate verification."""

from .views import branch_reports, bulletins, exports, jobs, notices

app_name = "reports"

urlpatterns = [
    *notices.urlpatterns,
    *bulletins.urlpatterns,
    *branch_reports.urlpatterns,
    *jobs.urlpatterns,
    *exports.urlpatterns,
]
