"""Placeholder until this part of the workflow has pages."""

urlpatterns: list = []
