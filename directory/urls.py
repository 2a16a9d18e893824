"""The directory: organizations, people and roles, search, the audit trail (and the Excel import)."""

from .views import audit, imports, organizations, people, search

app_name = "directory"

urlpatterns = [
    *organizations.urlpatterns,
    *people.urlpatterns,
    *search.urlpatterns,
    *audit.urlpatterns,
    *imports.urlpatterns,
]
