"""Scoped reads of rectification: 404 outside the user's scope, 403 when the role is too low."""
