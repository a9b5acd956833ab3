"""Mapping files: the YAML that says how a partner's extract becomes canonical events.

The file is parsed into pydantic models so that every mistake is reported at once, each
named by its key path (``timestamps.received_at.formats``) and line in the mapping file,
with a "did you mean" for misspelt keys. docs/mapping-files.md documents every key.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ValidationError

from wholeplace.errors import InputError, MappingError
from wholeplace.ingest.category_tables import CategoryTable, load_category_table
from wholeplace.ingest.mapping_spec import MappingSpec, clear_columns, identifier_columns

CATEGORY_KEYS = ("category", "category_opening", "category_closing")


@dataclass(frozen=True)
class Mapping:
    """A validated mapping file with its category tables loaded."""

    path: Path
    spec: MappingSpec
    tables: dict[str, CategoryTable]  # key path (category, category_opening, ...) → table
    version: str


def load_mapping(path: Path) -> Mapping:
    """Read and check a mapping file; raise MappingError listing every problem found."""
    file = str(path)
    text = _read_text(path)
    raw = _parse_yaml(file, text)
    tables, table_problems = _load_tables(path, raw, text)
    try:
        spec = MappingSpec.model_validate(raw)
    except ValidationError as exc:
        raise MappingError(file, [_describe(error, text) for error in exc.errors()] + table_problems) from None
    problems = check_mapping(spec, text) + table_problems
    if problems:
        raise MappingError(file, problems)
    return Mapping(path, spec, tables, _version(path, spec, tables))


def check_mapping(spec: MappingSpec, text: str) -> list[str]:
    """Checks across keys, which the models cannot make one key at a time."""
    problems = _check_occurrence(spec) + _check_categories(spec) + _check_clear_columns(spec)
    return [f"{key}{locate_key(text, key)}: {message}" for key, message in problems]


def _check_occurrence(spec: MappingSpec) -> list[tuple[str, str]]:
    if spec.timestamps.occurred_at or spec.timestamps.received_at or spec.occurred_month:
        return []
    return [("timestamps", "give timestamps.occurred_at, timestamps.received_at or occurred_month: "
             "every event needs a time")]


def _check_categories(spec: MappingSpec) -> list[tuple[str, str]]:
    if spec.category is not None and (spec.category_opening or spec.category_closing):
        return [("category", "give category, or category_opening and category_closing, not both")]
    if spec.category is None and spec.category_closing is None:
        key = "category_opening" if spec.category_opening else "category"
        return [(key, "give category (or category_closing, with category_opening if the source has one): "
                 "every event needs a category")]
    return []


def _check_clear_columns(spec: MappingSpec) -> list[tuple[str, str]]:
    """Identifier columns must never be stored in clear, so they cannot be used elsewhere."""
    identifiers = identifier_columns(spec)
    return [
        (key, f"column '{column}' is declared as an identifier ({identifiers[column]}), so it cannot "
              "also be stored in clear here")
        for key, column in clear_columns(spec) if column in identifiers
    ]


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise MappingError(str(path), ["the mapping file does not exist; check the --mapping path"])
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MappingError(str(path), [f"the mapping file is not UTF-8 text ({exc.reason})"]) from None


def _parse_yaml(file: str, text: str) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise MappingError(file, [f"{where}not valid YAML: {exc.problem or exc}"]) from None
    except yaml.YAMLError as exc:
        raise MappingError(file, [f"not valid YAML: {exc}"]) from None
    if not isinstance(raw, dict):
        raise MappingError(file, ["the file must be a YAML mapping of keys (mapping:, version:, ...)"])
    return raw


def _describe(error: Any, text: str) -> str:
    loc = tuple(error["loc"])
    key = key_path(loc)
    where = locate_key(text, loc)
    if error["type"] == "extra_forbidden":
        close = difflib.get_close_matches(str(loc[-1]), fields_at(loc[:-1]), n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else f"; known keys here: {', '.join(fields_at(loc[:-1]))}"
        return f"{key}{where}: unknown key{hint}"
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] in ("enum", "literal_error", "string_pattern_mismatch", "string_type"):
        message += f" (found {error['input']!r})"
    return f"{key or '(top level)'}{where}: {message}"


def key_path(loc: tuple[Any, ...]) -> str:
    parts = [f"[{p}]" if isinstance(p, int) else str(p).rstrip("_") for p in loc]
    return ".".join(parts).replace(".[", "[")


def fields_at(loc: tuple[Any, ...]) -> list[str]:
    """The keys allowed at ``loc``, for "did you mean" suggestions."""
    model: Any = MappingSpec
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) or model.model_fields.get(f"{part}_")
        model = _inner_model(field.annotation) if field else None
        if model is None:
            return []
    return [f.alias or name for name, f in model.model_fields.items()]


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) is Annotated:
        return _inner_model(typing.get_args(annotation)[0])
    if typing.get_origin(annotation) not in (list, types.UnionType, typing.Union):
        return None
    return next((found for arg in typing.get_args(annotation) if (found := _inner_model(arg))), None)


def locate_key(text: str, loc: tuple[Any, ...] | str) -> str:
    """`` (line N)`` for the deepest key of ``loc`` found in the YAML, or ``""``."""
    parts = _parse_key(loc) if isinstance(loc, str) else loc
    try:
        node: Any = yaml.compose(text)
    except yaml.YAMLError:
        return ""
    line = None
    for part in parts:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value in (part, str(part).rstrip("_"))), None)
            if match is None:
                break
            line, node = match[0].start_mark.line + 1, match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return f" (line {line})" if line else ""


def _parse_key(key: str) -> tuple[str | int, ...]:
    """``attributes[0]`` → ("attributes", 0); ``location.text`` → ("location", "text")."""
    return tuple(int(part[1:-1]) if part.startswith("[") else part for part in re.findall(r"\[\d+\]|[^.\[\]]+", key))


def _load_tables(path: Path, raw: dict[str, Any], text: str) -> tuple[dict[str, CategoryTable], list[str]]:
    """Category tables named in the file, loaded even when other keys are wrong, so that
    their problems are reported in the same pass."""
    tables: dict[str, CategoryTable] = {}
    problems: list[str] = []
    for key in CATEGORY_KEYS:
        ref = raw.get(key)
        name = ref.get("table") if isinstance(ref, dict) else None
        if not isinstance(name, str) or not name:
            continue
        table_path = (path.parent / name).resolve()
        where = f"{key}.table{locate_key(text, (key, 'table'))}"
        if not table_path.is_file():
            problems.append(f"{where}: category table {table_path} not found (the path is relative to the "
                            "mapping file)")
            continue
        try:
            tables[key] = load_category_table(table_path)
        except InputError as exc:
            problems += [f"{where}: {problem}" for problem in exc.problems]
    return tables, problems


def _version(path: Path, spec: MappingSpec, tables: dict[str, CategoryTable]) -> str:
    digest = hashlib.sha256(path.read_bytes())
    for table in sorted({t.path for t in tables.values()}):
        digest.update(table.read_bytes())
    return f"{spec.mapping}@{spec.version}+{digest.hexdigest()[:10]}"
