"""URLs of rectification."""

app_name = "rectification"

urlpatterns: list = []
