"""The two stores: analytic (Parquet segments read through DuckDB/Ibis) and operational
(SQLAlchemy on SQLite or PostgreSQL). ``Stores`` opens both from settings."""

from wholeplace.store.stores import Stores, open_stores

__all__ = ["Stores", "open_stores"]
