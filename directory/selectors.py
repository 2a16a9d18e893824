"""Scoped reads for the directory pages."""
