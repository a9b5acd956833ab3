"""The demand section of HTML and PDF reports: the published demand summary of a reader, in one fragment.

For each chosen demand page (profile, repeat, not police business, response, future demand) the section holds
the words, each chart rendered offline as SVG (``reports.render.chart_svg``, the spec the page draws) with its
table, the other tables (the first rows of a long one) and the notes, under the reader's disclosure rule.
``document`` wraps the fragment as a page of its own and ``to_pdf`` makes it a tagged PDF (PDF/UA-1).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime

from jinja2 import Environment, FileSystemLoader

from wholeplace.governance.scope import ReadScope
from wholeplace.reports.render import chart_svg
from wholeplace.store.stores import Stores
from wholeplace.web import demand_forms
from wholeplace.web.templating import TEMPLATES

SECTIONS = ("profile", "repeat", "rcrp", "response", "forecast")
MAX_ROWS = 20  # a report shows the first rows of a long table; the pages and downloads have them all
_ENVIRONMENT = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True, lstrip_blocks=True)


@dataclass(frozen=True)
class DemandReport:
    html: str  # the fragment, to place in a report
    charts: int
    sections: list[str]  # titles, in order


def demand_section(*, stores: Stores, scope: ReadScope, sections: tuple[str, ...] = SECTIONS) -> DemandReport:
    """The demand summary for ``scope`` as an HTML fragment with its charts as SVG pictures."""
    built = [demand_forms.section_for(name, {}, stores=stores, scope=scope) for name in sections]
    pictures = {chart.id: _data_uri(chart_svg(chart.spec)) for part in built for chart in part.charts}
    html = _ENVIRONMENT.get_template("demand_report.html").render(
        sections=built, pictures=pictures, max_rows=MAX_ROWS, statement=scope.rule.statement(),
        purpose=scope.purpose, made_at=datetime.now(UTC))
    return DemandReport(html, len(pictures), [part.title for part in built])


def document(fragment: str, *, title: str = "Demand") -> str:
    """The fragment as a complete HTML document (for a report that is the demand section alone)."""
    return _ENVIRONMENT.get_template("demand_report_document.html").render(fragment=fragment, title=title)


def to_pdf(html: str) -> bytes:
    """A tagged PDF (PDF/UA-1) of a complete HTML document."""
    import weasyprint  # imported here: it loads Pango, which only PDFs need

    return weasyprint.HTML(string=html).write_pdf(pdf_variant="pdf/ua-1")  # type: ignore[no-any-return]


def _data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
