"""Reports: documents made from the platform's published outputs, rendered offline (no network, local fonts)."""
