"""The admin of supervision."""
