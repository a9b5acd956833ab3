"""Checking a file's header against the columns a schema or mapping needs."""

from __future__ import annotations

import difflib

from wholeplace.errors import InputError, Problem
from wholeplace.ingest.reading import SourceTable


def require_columns(source: SourceTable, required: list[str], *, what: str) -> None:
    """Refuse the file, naming every missing column and the likely renamed one."""
    present = set(source.header)
    problems = []
    for name in required:
        if name in present:
            continue
        close = difflib.get_close_matches(name, source.header, n=1, cutoff=0.6)
        suggestion = f"; the file has '{close[0]}' — was it renamed?" if close else ""
        problems.append(Problem(source.file, f"required column '{name}' is missing{suggestion}", line=1, column=name))
    if problems:
        raise InputError(
            problems,
            hint=f"The file's header is: {', '.join(source.header)}. {what} needs {', '.join(required)}.",
        )
