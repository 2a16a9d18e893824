"""URLs of notices, bulletins, branch reports and certificate verification."""

from .views import branch_reports, bulk_jobs, bulletins, dashboard, documents, exports, jobs, notices

app_name = "reports"

urlpatterns = [
    *notices.urlpatterns,
    *bulletins.urlpatterns,
    *branch_reports.urlpatterns,
    *jobs.urlpatterns,
    *bulk_jobs.urlpatterns,
    *exports.urlpatterns,
    *dashboard.urlpatterns,
    *documents.urlpatterns,
]
