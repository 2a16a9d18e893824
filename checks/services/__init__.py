"""Every write of the quarterly checks: rounds, sheets, monthly entries, year results, proposals."""
