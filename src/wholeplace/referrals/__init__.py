"""Closed-loop referrals: a practitioner refers a person to a directory service and both sides follow
the referral to its outcome (statuses, history, notifications in the app and by email)."""
