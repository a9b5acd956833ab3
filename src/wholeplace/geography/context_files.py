"""Reading place-context tables (population, deprivation, rural-urban classification, lookups):
finding their columns by name, checking their rows, and the result every context load reports.

Context files come from many publishers with slightly different headers ("LSOA Code",
"LSOA code (2011)", "lsoa11cd"), so columns are found by what their names contain; a header
that does not fit is refused naming the file and its columns, and bad rows are quarantined
with their line, column and reason, as in the event ingest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from wholeplace.errors import InputError, Problem
from wholeplace.ingest.checks import RowChecks, quarantine_frame, ragged_frame
from wholeplace.ingest.parsing import parse_decimal
from wholeplace.ingest.reading import LINE_COLUMN, SourceTable, read_source

Matcher = Callable[[str], bool]

# The ONS Rural Urban Classification: 2011 codes (A–C urban, D–E rural) and 2021 codes (U… urban,
# R… rural). A plain flag column may say yes/no, true/false, 1/0 or rural/urban instead.
RUC11 = {
    "A1": "Urban major conurbation", "B1": "Urban minor conurbation", "C1": "Urban city and town",
    "C2": "Urban city and town in a sparse setting", "D1": "Rural town and fringe",
    "D2": "Rural town and fringe in a sparse setting", "E1": "Rural village and dispersed",
    "E2": "Rural village and dispersed in a sparse setting",
}
RUC21 = {
    "UN1": "Urban: Nearer to a major town or city", "UF1": "Urban: Further from a major town or city",
    "RLN1": "Larger rural: Nearer to a major town or city", "RLF1": "Larger rural: Further from a major town or city",
    "RSN1": "Smaller rural: Nearer to a major town or city", "RSF1": "Smaller rural: Further from a major town or city",
}
RUC21_PATTERN = r"^[UR][A-Z]{0,3}[0-9]?$"
RURAL_FLAGS = {word: True for word in ("RURAL", "YES", "Y", "TRUE", "1")} | {
    word: False for word in ("URBAN", "NO", "N", "FALSE", "0")}
VALID_RURAL_URBAN = (f"use a 2011 code ({', '.join(RUC11)}), a 2021 code starting U (urban) or R (rural) "
                     f"such as {', '.join(RUC21)}, or a yes/no rural flag")


@dataclass
class ContextLoadResult:
    """What a context load did; ``quarantined`` holds (line, column, reason) of refused rows."""

    table: str
    file: str
    level: str
    status: str  # stored / unchanged
    rows_read: int
    rows_stored: int
    columns: dict[str, str] = field(default_factory=dict)  # role → column used
    quarantined: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if self.status == "unchanged":
            return f"{self.file}: this {self.table} for level '{self.level}' is already loaded; nothing changed."
        used = ", ".join(f"{role} from '{column}'" for role, column in self.columns.items())
        lines = [f"{self.file}: read {self.rows_read:,} rows, stored {self.rows_stored:,} as {self.table} "
                 f"for level '{self.level}' ({used}); quarantined {len(self.quarantined):,}."]
        lines += [f"  quarantined: {problem}" for problem in self.quarantined[:10]]
        if len(self.quarantined) > 10:
            lines.append(f"  … and {len(self.quarantined) - 10:,} more")
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)


def read_table(path: Path) -> SourceTable:
    return read_source(path)


def find_column(source: SourceTable, given: str | None, role: str, tiers: list[Matcher]) -> str:
    """The column named ``given``, else the only column matching the first tier that matches any."""
    found = find_optional_column(source, given, role, tiers)
    if found is None:
        raise _header_error(source, f"no column looks like the {role}", None)
    return found


def find_optional_column(source: SourceTable, given: str | None, role: str, tiers: list[Matcher]) -> str | None:
    if given is not None:
        if given not in source.header:
            raise _header_error(source, f"there is no column '{given}' for the {role}", given)
        return given
    for matches in tiers:
        found = [name for name in source.header if matches(name.lower())]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise _header_error(source, f"several columns could hold the {role}: {', '.join(found)}", None)
    return None


def _header_error(source: SourceTable, message: str, column: str | None) -> InputError:
    return InputError([Problem(source.file, f"{message}; the columns are: {', '.join(source.header)}",
                               line=1, column=column)],
                      hint="Name the column with the matching option (e.g. code_column=...).")


def code_tiers(level: str) -> list[Matcher]:
    return [lambda n: level in n and ("code" in n or n.endswith("cd")), lambda n: "code" in n or n.endswith("cd")]


def parse_number(rows: pl.DataFrame, column: str, checks: RowChecks, *, minimum: float | None = None,
                 maximum: float | None = None, whole: bool = False, required: bool = True) -> pl.Series:
    """A numeric column (thousands separators allowed); failures are added to ``checks``."""
    text = rows[column].str.replace_all(",", "", literal=True)
    parsed = parse_decimal(text, minimum=minimum, maximum=maximum)
    failed = parsed.failed
    if whole:
        failed = failed | (parsed.values != parsed.values.round(0)).fill_null(False)
    bounds = (f" from {minimum:g} to {maximum:g}" if minimum is not None and maximum is not None
              else f" of at least {minimum:g}" if minimum is not None
              else f" of at most {maximum:g}" if maximum is not None else "")
    checks.add(failed, column, f"{column} is not a {'whole ' if whole else ''}number{bounds}")
    if required:
        checks.add(rows[column].is_null(), column, f"{column} is blank")
    return parsed.values


def check_code(rows: pl.DataFrame, column: str, checks: RowChecks, key: list[str] | None = None) -> pl.Series:
    """Stripped codes; blank ones (and, given a ``key``, repeats of an earlier row's key) are added to ``checks``."""
    codes = rows[column].str.strip_chars()
    checks.add(codes.is_null() | (codes == ""), column, f"{column} is blank")
    if key is None:
        return codes
    keyed = rows.with_columns(codes.alias(column)).select(key)
    first_line = keyed.with_columns(rows[LINE_COLUMN]).group_by(key).agg(pl.col(LINE_COLUMN).min())
    earliest = keyed.join(first_line, on=key, how="left", nulls_equal=True)[LINE_COLUMN]
    repeated = (earliest != rows[LINE_COLUMN]).fill_null(False)
    checks.add(repeated, column, "repeats line " + earliest.cast(pl.String) + " (same " + ", ".join(key) + ")")
    return codes


def parse_rural_urban(rows: pl.DataFrame, column: str, checks: RowChecks,
                      name_column: str | None = None) -> pl.DataFrame:
    """``classification_code``, ``classification_name`` and ``rural`` from a classification (or
    flag) column; blank and unknown values are added to ``checks``. The name is the file's where
    it gives one, else the official one; a plain flag has no code and is named Rural or Urban."""
    value = pl.col(column).str.strip_chars().str.to_uppercase()
    flag = value.replace_strict(RURAL_FLAGS, default=None, return_dtype=pl.Boolean)
    from_code = (pl.when(value.is_in(list(RUC11))).then(value.str.slice(0, 1).is_in(["D", "E"]))
                 .when(value.str.contains(RUC21_PATTERN)).then(value.str.starts_with("R")))
    parsed = rows.select(
        rural=pl.coalesce(flag, from_code), flag=flag, value=value,
        given=pl.col(name_column).str.strip_chars().replace("", None) if name_column else pl.lit(None, pl.String))
    blank = parsed["value"].is_null() | (parsed["value"] == "")
    checks.add(blank, column, f"{column} is blank")
    unknown = ~blank & parsed["rural"].is_null()
    checks.add(unknown, column, "'" + rows[column].str.strip_chars() + f"' is not a rural-urban classification: "
               f"{VALID_RURAL_URBAN}")
    official = pl.col("value").replace_strict(RUC11 | RUC21, default=None, return_dtype=pl.String)
    plain = pl.when(pl.col("rural")).then(pl.lit("Rural")).otherwise(pl.lit("Urban"))
    return parsed.select(
        classification_code=pl.when(pl.col("flag").is_null()).then(pl.col("value")),
        classification_name=pl.when(pl.col("flag").is_null()).then(pl.coalesce("given", official, plain))
        .otherwise(plain),
        rural=pl.col("rural"))


def quarantined(source: SourceTable, checks: RowChecks) -> tuple[pl.Series, list[Problem]]:
    """The failed mask and every problem, in line order (ragged rows included)."""
    frame = pl.concat([quarantine_frame(file=source.file, rows=source.rows, checks=checks, record_columns=[]),
                       ragged_frame(source.file, source.ragged, withhold=False)]).sort("line")
    problems = [Problem(source.file, r["reason"], line=r["line"], column=r["column"])
                for r in frame.iter_rows(named=True)]
    return checks.failed(), problems


def refuse_if_mostly_bad(source: SourceTable, problems: list[Problem], share: float) -> None:
    bad = len(problems)
    if source.rows_read and (bad == source.rows_read or bad / source.rows_read > share):
        shown = problems[:10] + ([Problem(source.file, f"… and {bad - 10:,} more rows like these")] if bad > 10 else [])
        raise InputError(shown, hint=f"{bad:,} of {source.rows_read:,} rows failed, more than the {share:.0%} "
                         "allowed; the file was refused whole. Check that it is the right file and level.")
