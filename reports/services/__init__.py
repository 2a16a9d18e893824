"""Writes of the reports: bulletins (generate, publish) and notices (send, e-mail, read)."""
