"""A small exception tree. ``UserError`` and its children are problems the user can fix;
anything else is a bug. Each boundary (CLI, API, pages) translates errors once."""

from __future__ import annotations

from dataclasses import dataclass


class WholeplaceError(Exception):
    """Base of every error Wholeplace raises on purpose."""


class UserError(WholeplaceError):
    """Something the user can fix: the message says what, where and what to do next."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n{self.hint}" if self.hint else self.message


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located as precisely as the input allows."""

    file: str
    message: str
    line: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f", line {self.line}"
        if self.column is not None:
            where += f", column '{self.column}'"
        return f"{where}: {self.message}"


class InputError(UserError):
    """An input file cannot be loaded at all; lists every problem found at once."""

    def __init__(self, problems: list[Problem], *, hint: str | None = None) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"Cannot load this input; nothing was changed:\n{lines}", hint=hint)


class MappingError(UserError):
    """A mapping file is wrong; names the mapping file and key."""

    def __init__(self, file: str, problems: list[str]) -> None:
        self.file = file
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(
            f"The mapping file {file} has errors; nothing was loaded:\n{lines}",
            hint="Fix the keys named above; docs/mapping-files.md lists every key.",
        )


class ConfigurationError(UserError):
    """A setting is missing or unsafe."""


class NotFoundError(UserError):
    """Something asked for does not exist."""
