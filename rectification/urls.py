"""URLs of rectification."""

from .views import tasks

app_name = "rectification"

urlpatterns = [*tasks.urlpatterns]
