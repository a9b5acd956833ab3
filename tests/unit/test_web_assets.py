"""The vendored front-end files: present, the pinned versions, and nothing loaded from elsewhere."""

from __future__ import annotations

import json
import re
from pathlib import Path

import wholeplace.web

WEB = Path(wholeplace.web.__file__).parent
STATIC = WEB / "static"
FRONTEND = Path(__file__).resolve().parents[2] / "frontend"
USED = ["vendor/govuk/wholeplace.min.css", "vendor/govuk/govuk-frontend.min.js", "vendor/htmx/htmx.min.js",
        "vendor/leaflet/leaflet.js", "vendor/leaflet/leaflet.css", "vendor/vega/vega.min.js",
        "vendor/vega/vega-lite.min.js", "vendor/vega/vega-embed.min.js", "wholeplace.js", "wholeplace-init.mjs"]
# What makes a browser fetch from another site: a script, stylesheet, image or frame in a page,
# a CSS url() or @import, an ES import. (Plain links to other sites fetch nothing until followed.)
PAGE_FETCH = re.compile(r"""<(?:script|link|img|iframe|source)\b[^>]*(?:src|href)\s*=\s*["']?(?:https?:)?//""")
STYLE_FETCH = re.compile(r"""url\(\s*["']?(?:https?:)?//|@import\s+(?:url\()?["']?(?:https?:)?//""")
SCRIPT_FETCH = re.compile(r"""\bimport\s*(?:\(|[^;]*from)\s*["'](?:https?:)?//""")


def test_every_asset_the_pages_use_is_in_the_package():
    missing = [name for name in USED if not (STATIC / name).is_file()]
    assert missing == []


def test_vendored_versions_are_the_exact_pins_of_the_frontend_package():
    pins = json.loads((FRONTEND / "package.json").read_text())
    wanted = pins["dependencies"] | pins["devDependencies"]
    assert all(re.fullmatch(r"\d+\.\d+\.\d+", version) for version in wanted.values())
    shipped = json.loads((STATIC / "vendor" / "versions.json").read_text())
    assert shipped == wanted
    assert shipped["govuk-frontend"] == "6.3.0" and shipped["htmx.org"] == "2.0.11" and shipped["leaflet"] == "1.9.4"


def test_stylesheet_is_unbranded():
    css = (STATIC / "vendor" / "govuk" / "wholeplace.min.css").read_text()
    assert "GDS Transport" not in css and "@font-face" not in css
    assert "arial" in css.lower()
    assert not list((STATIC / "vendor").rglob("*.woff*"))
    assert not list((STATIC / "vendor").rglob("govuk-crest*")) and not list((STATIC / "vendor").rglob("favicon*"))


def test_no_template_or_static_file_loads_anything_from_another_site():
    checks = [(WEB.joinpath("templates").rglob("*.html"), PAGE_FETCH), (STATIC.rglob("*.css"), STYLE_FETCH),
              (STATIC.rglob("*.js"), SCRIPT_FETCH), (STATIC.rglob("*.mjs"), SCRIPT_FETCH)]
    offenders = [str(path.relative_to(WEB)) for paths, pattern in checks for path in paths
                 if pattern.search(path.read_text(errors="replace"))]
    assert offenders == []
    files = [*WEB.joinpath("templates").rglob("*.html"), *STATIC.rglob("*.css"), *STATIC.rglob("*.js"),
             *STATIC.rglob("*.mjs")]
    for cdn in ("jsdelivr", "unpkg", "cdnjs", "googleapis", "design-system.service.gov.uk"):
        assert not [p for p in files if cdn in p.read_text(errors="replace")], cdn
