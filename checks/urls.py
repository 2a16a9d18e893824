"""URLs of the quarterly checks (季度考核), monthly checks, year results and downgrade proposals."""

from .views import entries, proposals, rounds, sheets, years

app_name = "checks"

urlpatterns = [
    *rounds.urlpatterns,
    *sheets.urlpatterns,
    *entries.urlpatterns,
    *years.urlpatterns,
    *proposals.urlpatterns,
]
