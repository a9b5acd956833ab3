"""Reference docs generated from the declarations, so they cannot drift from the code.

Regenerate with ``python -m wholeplace.model.docs``; a test fails when they are stale.
"""

from __future__ import annotations

from pathlib import Path

from wholeplace.model.categories import CATEGORIES, GROUPS
from wholeplace.model.events import EVENT_FIELDS
from wholeplace.model.fields import DatasetSchema, FieldSpec

GENERATED = "<!-- Generated from the code by `python -m wholeplace.model.docs`; do not edit by hand. -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _field_row(spec: FieldSpec) -> str:
    notes = []
    if spec.allowed:
        notes.append("one of " + ", ".join(f"`{a}`" for a in spec.allowed))
    if spec.minimum is not None or spec.maximum is not None:
        notes.append(f"from {spec.minimum} to {spec.maximum}")
    if spec.identifier:
        notes.append(f"direct identifier ({spec.identifier}), pseudonymised at the door")
    notes += list(spec.quirks)
    required = "yes" if spec.required else ""
    return f"| `{spec.name}` | {spec.type} | {required} | {_cell(spec.meaning)} | {_cell('; '.join(notes))} |"


def _fields_table(fields: tuple[FieldSpec, ...]) -> list[str]:
    return ["| field | type | required | meaning | notes |", "|---|---|---|---|---|", *(_field_row(f) for f in fields)]


def render_events() -> str:
    lines = [
        GENERATED,
        "",
        "# The canonical event",
        "",
        "Every partner's data is mapped to this shape. People appear only as keyed tokens.",
        "",
        *_fields_table(EVENT_FIELDS),
        "",
        "Views add `area_code`, `area_level` and `place_status` (`placed`, `out_of_area`, "
        "`area_only`, `unlocated`) from the placement of each event's point.",
        "",
    ]
    return "\n".join(lines)


def render_categories() -> str:
    lines = [
        GENERATED,
        "",
        "# Categories",
        "",
        "Category tables (`source_value,category`) map each source's codes to these.",
        "",
    ]
    for group in GROUPS:
        lines += [f"## {group.replace('_', ' ').capitalize()}", "", "| code | label |", "|---|---|"]
        lines += [f"| `{c.code}` | {c.label} |" for c in CATEGORIES.values() if c.group == group]
        lines.append("")
    return "\n".join(lines)


def render_datasets(schemas: dict[str, DatasetSchema]) -> str:
    lines = [
        GENERATED,
        "",
        "# Source datasets",
        "",
        "The declared layout of each source Wholeplace reads, as the source delivers it.",
        "",
    ]
    for schema in schemas.values():
        lines += [f"## {schema.title} (`{schema.name}`)", "", schema.description, ""]
        if schema.source_url:
            lines += [f"Source: <{schema.source_url}>", ""]
        lines += [*_fields_table(schema.fields), ""]
        if schema.quirks:
            lines += ["Known quirks:", "", *(f"- {q}" for q in schema.quirks), ""]
    return "\n".join(lines)


def rendered() -> dict[str, str]:
    from wholeplace.model.schemas import SCHEMAS

    return {"events.md": render_events(), "categories.md": render_categories(), "datasets.md": render_datasets(SCHEMAS)}


def write(folder: Path) -> None:
    for name, text in rendered().items():
        (folder / name).write_text(text)


if __name__ == "__main__":  # pragma: no cover
    write(Path(__file__).resolve().parents[3] / "docs")
