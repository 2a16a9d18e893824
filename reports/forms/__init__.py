"""Forms of the reports pages, one module per views module."""
