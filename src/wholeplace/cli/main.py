"""Root command, shared options and error handling."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from wholeplace.errors import UserError
from wholeplace.settings import Settings

app = typer.Typer(
    name="wholeplace",
    help="Wholeplace: one shared, governed picture of a place.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console(stderr=False)
errors = Console(stderr=True)

DataDirOption = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Folder of the stores (default: WHOLEPLACE_DATA_DIR or ./wholeplace-data)."),
]


def cli_actor() -> str:
    """Who the audit log records for a command typed at this terminal."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def make_settings(data_dir: Path | None) -> Settings:
    return Settings(data_dir=data_dir) if data_dir is not None else Settings()


def fail(exc: UserError) -> None:
    # The message and hint quote user input (column names, values), so they are printed as text, not markup.
    errors.print(Text("Error: ", style="bold red") + Text(exc.message), highlight=False, soft_wrap=True)
    if exc.hint:
        errors.print(Text(exc.hint), highlight=False, soft_wrap=True)
    raise typer.Exit(code=2)


def run() -> None:  # pragma: no cover - console entry point alias
    sys.exit(app())


from wholeplace.cli import commands  # noqa: E402,F401  (registers the commands)
