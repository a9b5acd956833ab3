"""Geography: boundaries as levels of named hierarchies, point-in-polygon placement,
lookups between levels (nested or weighted) and aggregation to any level."""
