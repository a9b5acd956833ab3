"""The ``wholeplace`` command line: thin commands over the service functions."""

from wholeplace.cli.main import app

__all__ = ["app"]
