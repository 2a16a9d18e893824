"""Scoped reads of supervision: 404 outside the user's scope, 403 when the role is too low."""
