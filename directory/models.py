"""The directory owns no tables: organizations, people, roles and the audit trail live in
``branches``; this app is the staff's pages over them, the Excel import and the search."""
