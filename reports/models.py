"""Quarterly notices, bulletins and reports (PDF and Excel) live here."""
