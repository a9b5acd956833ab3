"""Governance: pseudonymisation at the door (and, later, agreements, audit, disclosure)."""
