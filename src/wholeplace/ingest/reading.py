"""Reading a delimited source file into rows of text, with exact line numbers.

Structural problems (an empty file, a truncated gzip, bytes that are not in the declared
encoding) refuse the whole file with a message naming the file, line and what to do;
rows with the wrong number of fields are returned separately so they can be quarantined.

Python's csv module is used rather than a faster reader because it reports the line each
record starts on even when quoted fields span lines, and keeps ragged rows instead of
failing or padding them silently.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from wholeplace.errors import InputError, Problem

LINE_COLUMN = "_line"
GZIP_MAGIC = b"\x1f\x8b"


@dataclass
class RaggedRow:
    line: int
    fields: list[str]
    expected: int


@dataclass
class SourceTable:
    """A file's rows as text: one column per header field plus ``_line``."""

    file: str
    path: Path
    sha256: str
    size: int
    header: list[str]
    rows: pl.DataFrame
    ragged: list[RaggedRow]

    @property
    def rows_read(self) -> int:
        return self.rows.height + len(self.ragged)


def file_sha256(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def read_bytes(path: Path) -> bytes:
    """The file's content, un-gzipped when it is gzip (detected by content, not name)."""
    if not path.exists():
        raise InputError([Problem(str(path), "no such file")], hint="Check the path and try again.")
    raw = path.read_bytes()
    if not raw.startswith(GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        partial = _partial_gunzip(raw)
        line = partial.count(b"\n") + 1
        raise InputError(
            [
                Problem(
                    str(path),
                    f"the gzip data is truncated or corrupt ({exc}); it breaks "
                    f"off after {len(partial):,} bytes, in line {line}",
                    line=line,
                )
            ],
            hint="Download or copy the file again; a complete file can be checked with `gzip -t`.",
        ) from None


def _partial_gunzip(raw: bytes) -> bytes:
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        return decompressor.decompress(raw)
    except zlib.error:
        return b""


def decode(path: Path, data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError(
            [
                Problem(
                    str(path), f"byte 0x{data[exc.start]:02x} at character {column} is not valid {encoding}", line=line
                )
            ],
            hint=f"Re-save the file as {encoding}, or declare its real encoding (for example "
            "`encoding: cp1252` in the mapping file).",
        ) from None


def read_source(path: Path, *, encoding: str = "utf-8-sig", delimiter: str = ",") -> SourceTable:
    sha, size = file_sha256(path) if path.exists() else ("", 0)
    text = decode(path, read_bytes(path), encoding)
    if not text.strip():
        raise InputError(
            [Problem(str(path), "the file is empty: it has no header row", line=1)],
            hint="Check that the export finished; an export with no rows still has a header.",
        )
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    header = [h.strip() for h in next(reader)]
    _check_header(path, header)
    fast = _frame_polars(text, header, delimiter)
    frame, ragged = fast if fast is not None else _frame_tracking_lines(path, text, header, delimiter)
    return SourceTable(str(path), path, sha, size, header, frame, ragged)


def _frame_polars(text: str, header: list[str], delimiter: str) -> tuple[pl.DataFrame, list[RaggedRow]] | None:
    """Fast path: polars parses the file when every line is exactly one well-formed record.

    That is checked first from the lines themselves (field counts; a line with a quote is
    parsed on its own by the csv module), so record i is known to be on line i + 2.
    Anything else (ragged rows, quoted line breaks, blank lines) takes the exact slow path.
    """
    lines = pl.Series(text.removesuffix("\n").split("\n")).str.strip_suffix("\r")
    body = lines.slice(1)
    if body.len() == 0 or (body == "").any() or body.str.contains("\r", literal=True).any():
        return None  # a carriage return inside a line is a line break to the csv module: use the exact path
    quoted = body.str.contains('"', literal=True)
    counts = body.str.count_matches(delimiter, literal=True) + 1
    width = len(header)
    if (counts.filter(~quoted) != width).any():
        return None
    if quoted.any() and not _quoted_lines_are_whole(body.filter(quoted).to_list(), delimiter, width):
        return None
    try:
        frame = pl.read_csv(
            io.StringIO(text),
            has_header=True,
            new_columns=header,
            infer_schema=False,
            separator=delimiter,
            quote_char='"',
        )
    except pl.exceptions.PolarsError:
        return None
    if frame.height != body.len():
        return None
    frame = frame.with_columns(pl.all().replace("", None)).with_columns(
        pl.int_range(2, frame.height + 2, dtype=pl.Int64).alias(LINE_COLUMN)
    )
    return frame, []


def _records(path: Path, reader: Any) -> Iterator[list[str]]:
    """The reader's records; a record the csv module cannot read refuses the file, naming its line."""
    try:
        yield from reader
    except csv.Error as exc:
        raise InputError(
            [Problem(str(path), f"cannot be read as CSV from here on ({exc})", line=reader.line_num)],
            hint="A quote is probably opened and never closed; check the quotes around this line.",
        ) from None


def _quoted_lines_are_whole(lines: list[str], delimiter: str, width: int) -> bool:
    try:
        return all(len(next(csv.reader([line], delimiter=delimiter))) == width for line in lines)
    except csv.Error:  # e.g. a carriage return inside a quoted field: let the exact path decide
        return False


def _frame_tracking_lines(
    path: Path, text: str, header: list[str], delimiter: str
) -> tuple[pl.DataFrame, list[RaggedRow]]:
    """The slower path for files with quoted line breaks or blank lines: tracks each record's first line."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    next(reader)
    width = len(header)
    columns: list[list[str | None]] = [[] for _ in range(width)]
    lines: list[int] = []
    ragged: list[RaggedRow] = []
    start = reader.line_num + 1
    for record in _records(path, reader):
        if record and len(record) != width:
            ragged.append(RaggedRow(start, record, width))
        elif record:
            for index, value in enumerate(record):
                columns[index].append(value if value != "" else None)
            lines.append(start)
        start = reader.line_num + 1
    frame = pl.DataFrame(
        {name: pl.Series(name, col, dtype=pl.String) for name, col in zip(header, columns, strict=True)}
        | {LINE_COLUMN: pl.Series(LINE_COLUMN, lines, dtype=pl.Int64)}
    )
    return frame, ragged


def _check_header(path: Path, header: list[str]) -> None:
    problems = []
    seen: set[str] = set()
    for index, name in enumerate(header, start=1):
        if not name:
            problems.append(Problem(str(path), f"header field {index} is blank", line=1))
        elif name in seen:
            problems.append(Problem(str(path), f"header names '{name}' twice", line=1, column=name))
        seen.add(name)
    if problems:
        raise InputError(problems, hint="Every column needs a distinct name in the header row.")
