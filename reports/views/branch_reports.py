"""Placeholder until this part has pages."""

urlpatterns: list = []
