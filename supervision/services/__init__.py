"""Services of supervision: every change of a row goes through here and leaves an event."""
