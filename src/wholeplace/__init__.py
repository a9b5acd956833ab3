"""Wholeplace: one shared, governed picture of a place."""

__version__ = "0.1.0"
