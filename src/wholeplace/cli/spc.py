"""``wholeplace spc FILE.csv``: an XmR chart (Making Data Count) of any series an analyst has, printed as tables.

The command reads and checks the CSV (problems name the file, line and column), calls
``wholeplace.outcomes.spc.xmr`` and prints every point, then a summary per limit group.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer

from wholeplace.cli.main import fail
from wholeplace.errors import InputError, Problem, UserError
from wholeplace.ingest.reading import LINE_COLUMN, SourceTable, read_source
from wholeplace.outcomes.spc import DEFAULT_PROFILE, PROFILES, Direction, SpcResult, xmr

MAX_PROBLEMS = 20


class OutputFormat(StrEnum):
    CSV = "csv"
    JSON = "json"


def spc_command(
    file: Annotated[Path, typer.Argument(help="CSV file with a header row (UTF-8, plain or gzip).")],
    x: Annotated[str, typer.Option("--x", help="Column that orders the points: dates (YYYY-MM-DD) or numbers.")],
    y: Annotated[str, typer.Option("--y", help="Column of the values to chart.")],
    group: Annotated[
        str | None, typer.Option("--group", help="Column whose values name separate series (one chart each).")
    ] = None,
    direction: Annotated[
        Direction, typer.Option("--direction", help="Which way is better (neutral: no judgement).")
    ] = Direction.NEUTRAL,
    target: Annotated[
        str | None,
        typer.Option("--target", help="Target for the assurance type (needs a direction): one value, or one per "
                                      "group as GROUP=VALUE;GROUP=VALUE."),
    ] = None,
    rebase: Annotated[
        list[str] | None,
        typer.Option("--rebase", help="Start new limits at this x; repeat it or separate dates with commas."),
    ] = None,
    fix_after: Annotated[
        int | None, typer.Option("--fix-after", min=2, help="Compute each group's limits on its first N points.")
    ] = None,
    screen_outliers: Annotated[
        bool | None,
        typer.Option("--screen-outliers/--no-screen-outliers",
                     help="Leave moving ranges of 3.267 × their mean or more out of the limits (default: the "
                          "profile's)."),
    ] = None,
    profile: Annotated[
        str, typer.Option("--profile", help=f"Named rule settings: {', '.join(PROFILES)} (see docs/spc.md).")
    ] = DEFAULT_PROFILE,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="csv: points, a blank line, then the summary; json: one object.")
    ] = OutputFormat.CSV,
) -> None:
    """SPC (XmR chart, Making Data Count rules) of a series in a CSV: every point, then a summary per group."""
    try:
        frame = read_series(file, x=x, y=y, group=group)
        result = xmr(frame, x=x, y=y, group=group, direction=direction, target=parse_target(target),
                     rebase=split_values(rebase or []), fix_after=fix_after, screen_outliers=screen_outliers,
                     profile=profile)
    except UserError as exc:
        fail(exc)
        return
    typer.echo(render(result, output_format), nl=False)


def parse_target(text: str | None) -> float | dict[str, float] | None:
    """``0.95`` → 0.95; ``A=1;B=2`` → {"A": 1.0, "B": 2.0}."""
    if text is None or not text.strip():
        return None
    try:
        if "=" not in text:
            return float(text)
        pairs = [part.split("=", 1) for part in text.split(";") if part.strip()]
        return {name.strip(): float(value) for name, value in pairs}
    except ValueError:
        raise UserError(f"--target {text!r} is not a number or a list of GROUP=VALUE pairs.",
                        hint="Write e.g. --target 0.95, or --target 'North=0.9;South=0.92'.") from None


def split_values(options: list[str]) -> list[str]:
    """``--rebase A --rebase B,C`` → [A, B, C]."""
    return [part.strip() for option in options for part in option.split(",") if part.strip()]


def read_series(path: Path, *, x: str, y: str, group: str | None) -> pl.DataFrame:
    """The CSV's x, y (and group) columns, typed; every problem found is reported at once."""
    table = read_source(path)
    missing = [c for c in dict.fromkeys((x, y, group)) if c is not None and c not in table.header]
    if missing:
        raise InputError(
            [Problem(str(path), f"there is no column '{c}'; the columns are: {', '.join(table.header)}", line=1,
                     column=c) for c in missing],
            hint="Name the columns with --x, --y and --group exactly as the header row spells them.",
        )
    problems = [Problem(str(path), f"has {len(r.fields)} fields where the header has {r.expected}", line=r.line)
                for r in table.ragged]
    rows = table.rows
    x_values, x_problems = _parse_x(table, x)
    y_values, y_problems = _parse_numbers(table, y)
    problems += x_problems + y_problems
    if group is not None:
        problems += _blank_problems(table, group)
    columns = {x: x_values, y: y_values} | ({group: rows.get_column(group)} if group is not None else {})
    frame = pl.DataFrame(columns).with_columns(rows.get_column(LINE_COLUMN))
    if not problems:
        problems = _repeated_x(frame, str(path), x, group)
    _raise(problems)
    return frame.drop(LINE_COLUMN)


def _parse_x(table: SourceTable, x: str) -> tuple[pl.Series, list[Problem]]:
    """Dates, date-times or numbers, whichever every value is; otherwise the kind of the first value decides."""
    text = table.rows.get_column(x).str.strip_chars()
    parsers = [
        ("a date (YYYY-MM-DD)", lambda s: s.str.to_date("%Y-%m-%d", strict=False)),
        ("a date and time (YYYY-MM-DDTHH:MM:SS)", _parse_datetime),
        ("a number", lambda s: s.cast(pl.Float64, strict=False)),
    ]
    parsed = [(what, parse(text)) for what, parse in parsers]
    for _, values in parsed:
        if values.null_count() == 0:
            whole = text.cast(pl.Int64, strict=False)
            return (whole if values.dtype == pl.Float64 and whole.null_count() == 0 else values).alias(x), []
    present = text.is_not_null().arg_true()
    first = present[0] if present.len() else None
    chosen = next(((w, v) for w, v in parsed if first is not None and v[first] is not None), None)
    if chosen is None:
        return parsed[0][1].alias(x), _null_problems(table, x, parsed[0][1], "is not a date (YYYY-MM-DD) or a number")
    what, values = chosen
    return values.alias(x), _null_problems(table, x, values, f"is not {what}, as the first value is")


def _parse_datetime(text: pl.Series) -> pl.Series:
    """ISO date-times with a T or a space, to the second; anything else becomes null."""
    with_t = text.str.to_datetime("%Y-%m-%dT%H:%M:%S", strict=False)
    return with_t.fill_null(text.str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False))


def _parse_numbers(table: SourceTable, column: str) -> tuple[pl.Series, list[Problem]]:
    text = table.rows.get_column(column).str.strip_chars()
    values = text.cast(pl.Float64, strict=False)
    return values.alias(column), _null_problems(table, column, values, "is not a number")


def _null_problems(table: SourceTable, column: str, values: pl.Series, message: str) -> list[Problem]:
    """A problem for each value that is blank or did not parse."""
    text = table.rows.get_column(column)
    lines = table.rows.get_column(LINE_COLUMN)
    return [
        Problem(table.file, "is blank" if raw is None else f"'{raw}' {message}", line=line, column=column)
        for raw, line in zip(text.filter(values.is_null()).to_list(), lines.filter(values.is_null()).to_list(),
                             strict=True)
    ]


def _blank_problems(table: SourceTable, column: str) -> list[Problem]:
    blank = table.rows.get_column(column).is_null()
    return [Problem(table.file, "is blank", line=line, column=column)
            for line in table.rows.get_column(LINE_COLUMN).filter(blank).to_list()]


def _repeated_x(frame: pl.DataFrame, file: str, x: str, group: str | None) -> list[Problem]:
    keys = [x] if group is None else [group, x]
    first = pl.col(LINE_COLUMN).min().over(keys)
    repeats = frame.with_columns(first.alias("_first")).filter(pl.col(LINE_COLUMN) != pl.col("_first"))
    where = "" if group is None else " in the same group"
    return [Problem(file, f"repeats {row[x]}{where} (first on line {row['_first']}); each point needs its own x",
                    line=row[LINE_COLUMN], column=x) for row in repeats.iter_rows(named=True)]


def _raise(problems: list[Problem]) -> None:
    if not problems:
        return
    shown = problems[:MAX_PROBLEMS]
    if len(problems) > MAX_PROBLEMS:
        shown.append(Problem(problems[0].file, f"and {len(problems) - MAX_PROBLEMS} more problems like these"))
    raise InputError(shown, hint="Fix the rows named above; every point needs an x and a numeric y.")


def render(result: SpcResult, output_format: OutputFormat) -> str:
    """CSV: the points table, a blank line, the summary table. JSON: settings, points and summary."""
    if output_format is OutputFormat.JSON:
        document = {"settings": result.settings.as_dict(), "points": result.points.to_dicts(),
                    "summary": result.summary.to_dicts()}
        return json.dumps(document, indent=2, default=_json_value) + "\n"
    return f"{result.points.write_csv()}\n{result.summary.write_csv()}"


def _json_value(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")
