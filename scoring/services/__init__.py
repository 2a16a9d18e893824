"""Every write to standards, thresholds, dimensions and items."""
