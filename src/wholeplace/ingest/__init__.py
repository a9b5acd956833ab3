"""Ingest: one pipeline (read → validate → quarantine → map → pseudonymise → place →
store → record provenance) shared by every source adapter."""
