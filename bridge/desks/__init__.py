"""What staff actions call: replies, claims, admin commands, linking, the unanswered list,
alerts, the audit log, reports, and who may do what (authority.py)."""
