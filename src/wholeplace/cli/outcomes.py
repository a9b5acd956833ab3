"""``wholeplace outcomes``: import, list and show outcomes frameworks; print indicator values and SPC signals."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer

from wholeplace.cli.main import DataDirOption, cli_actor, console, errors, fail, make_settings
from wholeplace.errors import UserError
from wholeplace.store import open_stores

outcomes_app = typer.Typer(help="Shared outcomes: frameworks, indicator values and SPC signals.",
                           no_args_is_help=True)
CodeArgument = Annotated[str, typer.Argument(help="Framework code.")]
IndicatorOption = Annotated[list[str] | None, typer.Option("--indicator", help="Only this indicator (repeatable).")]
LevelOption = Annotated[list[str] | None, typer.Option("--level", help="Only this level, or 'place' (repeatable).")]


class OutputFormat(StrEnum):
    CSV = "csv"
    JSON = "json"


FormatOption = Annotated[OutputFormat, typer.Option("--format", help="csv: one table; json: rows and more.")]


@outcomes_app.command("import")
def import_command(file: Annotated[Path, typer.Argument(help="Framework file (YAML).")],
                   note: Annotated[str, typer.Option("--note", help="What changed and why.")] = "",
                   data_dir: DataDirOption = None) -> None:
    """Check a framework file and store it as the framework's next version."""
    from wholeplace.outcomes.framework import import_framework

    try:
        stored = import_framework(stores=open_stores(make_settings(data_dir)), path=file, actor=cli_actor(), note=note)
    except UserError as exc:
        fail(exc)
        return
    change = "stored as version" if stored.created else "unchanged since version"
    console.print(f"Framework {stored.framework.code} {change} {stored.version} "
                  f"({len(stored.framework.indicators())} indicators).", highlight=False)


@outcomes_app.command("list")
def list_command(data_dir: DataDirOption = None) -> None:
    """List every framework's latest version."""
    from wholeplace.outcomes.framework import list_frameworks

    stored = list_frameworks(stores=open_stores(make_settings(data_dir)))
    if not stored:
        console.print("No outcomes frameworks yet: `wholeplace outcomes import FILE` adds one.")
    for item in stored:
        f = item.framework
        console.print(f"{f.code}  v{item.version}  {len(f.outcomes)} outcomes, {len(f.indicators())} indicators  "
                      f"{f.name}  (saved {item.saved_at:%Y-%m-%d} by {item.saved_by})", highlight=False,
                      markup=False, soft_wrap=True)


@outcomes_app.command("show")
def show_command(code: CodeArgument, version: Annotated[int | None, typer.Option("--version", help="A stored "
                 "version number (default: the latest).")] = None, data_dir: DataDirOption = None) -> None:
    """Print a framework version exactly as it was imported."""
    from wholeplace.outcomes.framework import framework_yaml

    try:
        text = framework_yaml(stores=open_stores(make_settings(data_dir)), code=code, version=version)
    except UserError as exc:
        fail(exc)
        return
    sys.stdout.write(text)


@outcomes_app.command("values")
def values_command(code: CodeArgument, indicator: IndicatorOption = None, level: LevelOption = None,
                   output_format: FormatOption = OutputFormat.CSV, data_dir: DataDirOption = None) -> None:
    """Print every indicator value (place, level, period) with its interval and comparisons."""
    from wholeplace.outcomes.values import indicator_values

    try:
        result = indicator_values(stores=open_stores(make_settings(data_dir)), framework=code, indicators=indicator,
                                  levels=level)
    except UserError as exc:
        fail(exc)
        return
    _print(result.values, output_format, {"unavailable": result.unavailable, "lineage": result.lineage})


@outcomes_app.command("signals")
def signals_command(code: CodeArgument, indicator: IndicatorOption = None, level: LevelOption = None,
                    output_format: FormatOption = OutputFormat.CSV, data_dir: DataDirOption = None) -> None:
    """Print the SPC reading of every indicator in every place: icons of the last point, turning the curve."""
    from wholeplace.outcomes.signals import indicator_signals

    try:
        result = indicator_signals(stores=open_stores(make_settings(data_dir)), framework=code,
                                   indicators=indicator, levels=level)
    except UserError as exc:
        fail(exc)
        return
    extra = {"unavailable": result.unavailable, "settings": result.settings}
    if output_format is OutputFormat.JSON:
        extra["points"] = _rows(result.points)
    _print(result.summary, output_format, extra)


def _print(frame: pl.DataFrame, output_format: OutputFormat, extra: dict[str, Any]) -> None:
    if output_format is OutputFormat.CSV:
        sys.stdout.write(frame.write_csv())
        for code, reason in extra.get("unavailable", {}).items():
            errors.print(f"{code}: unavailable, {reason}", highlight=False, markup=False, soft_wrap=True)
        return
    sys.stdout.write(json.dumps({"rows": _rows(frame), **extra}, default=str, indent=1) + "\n")


def _rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return [{k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
            for row in frame.iter_rows(named=True)]
