"""Domain types: the canonical event, category taxonomy and dataset schemas, declared once."""
