"""URLs of supervision: liaison branches, visits and stage applications."""

from .views import liaisons, stages, visits

app_name = "supervision"

urlpatterns = [
    *visits.urlpatterns,
    *liaisons.urlpatterns,
    *stages.urlpatterns,
]
