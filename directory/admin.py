"""Nothing of its own to administer (see models.py)."""
