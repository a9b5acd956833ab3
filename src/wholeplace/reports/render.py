"""Charts as pictures for reports: a Vega-Lite spec (the one the pages draw) rendered to SVG or PNG offline.

vl-convert bundles Vega and Vega-Lite, so nothing is fetched: external data is refused (no base URL is allowed)
and text is set in Liberation Sans, which has Arial's metrics (``fonts-liberation``, installed by scripts/setup),
registered with vl-convert from the local font directory. An SVG carries the chart's title and description as
``<title>`` and ``<desc>``, so it is named and described for screen readers wherever it is embedded.
"""

from __future__ import annotations

import copy
import re
from functools import cache
from html import escape
from pathlib import Path
from typing import Any

import vl_convert

from wholeplace.errors import UserError

FONT_DIRECTORY = Path("/usr/share/fonts/truetype/liberation")
FONT = "Liberation Sans, Arial, sans-serif"
REPORT_WIDTH = 640  # CSS pixels, for a spec that fills its container on a page (A4 portrait text width)
PAGE_FONTS = {"arial", "helvetica", "sans-serif"}  # what pages ask for; offline they get the Arial-metric font
SVG_OPEN = re.compile(r"<svg\b[^>]*>")


def chart_svg(spec: dict[str, Any], *, font_directory: Path = FONT_DIRECTORY) -> str:
    """The chart as an SVG document with ``<title>`` and ``<desc>`` (from the spec's title and description)."""
    svg = _convert(vl_convert.vegalite_to_svg, spec, font_directory)
    return _with_title(svg, *_title_and_description(spec))


def chart_png(spec: dict[str, Any], scale: float = 2, *, font_directory: Path = FONT_DIRECTORY) -> bytes:
    """The chart as a PNG image, ``scale`` times its size in CSS pixels (2 suits print and high-density screens)."""
    if not scale > 0:
        raise UserError(f"The PNG scale must be above 0; got {scale!r}.", hint="Use 1 for screen size, 2 for print.")
    return _convert(vl_convert.vegalite_to_png, spec, font_directory, scale=scale)  # type: ignore[no-any-return]


def register_fonts(font_directory: Path = FONT_DIRECTORY) -> None:
    """Make the fonts in ``font_directory`` available to vl-convert (once per directory)."""
    _register(str(font_directory))


@cache
def _register(directory: str) -> None:
    if not any(Path(directory).glob("*.ttf")):
        raise UserError(f"No fonts were found in {directory}, so chart text cannot be rendered.",
                        hint="Install fonts-liberation (scripts/setup does), or pass the folder of an Arial-metric "
                             "TrueType font.")
    vl_convert.register_font_directory(directory)


def _convert(convert: Any, spec: dict[str, Any], font_directory: Path, **options: Any) -> Any:
    register_fonts(font_directory)
    try:
        return convert(_offline(spec), allowed_base_urls=[], **options)
    except ValueError as error:
        raise UserError(f"The chart could not be rendered: {error}",
                        hint="Charts for reports must carry their data inline (data.values), not load a URL.") from None


def _offline(spec: dict[str, Any]) -> dict[str, Any]:
    """A copy of the spec whose fonts are the locally installed Arial-metric one, and a fixed width for one that
    would fill its container on a page (there is no container offline)."""
    copied = copy.deepcopy(spec)
    if copied.get("width") == "container":
        copied["width"] = REPORT_WIDTH
    _replace_fonts(copied)
    copied.setdefault("config", {}).setdefault("font", FONT)
    return copied


def _replace_fonts(node: Any) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key.lower().endswith("font") and isinstance(value, str) and _page_font(value):
                node[key] = FONT
            else:
                _replace_fonts(value)
    elif isinstance(node, list):
        for item in node:
            _replace_fonts(item)


def _page_font(value: str) -> bool:
    return {name.strip().strip("'\"").lower() for name in value.split(",")} <= PAGE_FONTS


def _title_and_description(spec: dict[str, Any]) -> tuple[str, str]:
    title = spec.get("title")
    if isinstance(title, dict):
        parts = [title.get("text"), title.get("subtitle")]
        text = ". ".join(_flat(p) for p in parts if p)
    else:
        text = _flat(title) if title else ""
    description = spec.get("description") or ""
    return text or description or "Chart", description or text


def _flat(value: Any) -> str:
    return " ".join(value) if isinstance(value, list) else str(value)


def _with_title(svg: str, title: str, description: str) -> str:
    """``role="img"``, ``<title>`` and ``<desc>`` on the root element (they must be its first children)."""
    found = SVG_OPEN.search(svg)
    if found is None:
        raise RuntimeError("vl-convert returned no <svg> element")
    tag = found.group(0)
    opened = tag[:-1].replace(' role="graphics-document"', "").replace(' aria-roledescription="visualization"', "")
    opened = re.sub(r'\saria-label="[^"]*"', "", opened)
    named = f'{opened} role="img" aria-labelledby="chart-title chart-desc">'
    head = f'<title id="chart-title">{escape(title)}</title><desc id="chart-desc">{escape(description)}</desc>'
    return svg[: found.start()] + named + head + svg[found.end():]
