"""Services of rectification: every change of a row goes through here and leaves an event."""
