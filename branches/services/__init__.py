"""Writes to the organization tree and role assignments; views, admin and commands call these."""
