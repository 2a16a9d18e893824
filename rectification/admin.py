"""The admin of rectification."""
