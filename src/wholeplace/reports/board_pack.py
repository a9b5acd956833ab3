"""The board pack: every shared outcome of a place as one document, in HTML and as a tagged PDF.

One section per outcome: the scorecard narrative (story behind the curve, partners, what works, action plan),
then each indicator with its latest rolling-year value and interval, its SPC chart rendered offline as SVG
(``reports.render.chart_svg``, the same Vega-Lite spec the pages draw), the text summary of the chart, the
table behind it and "turning the curve" in words. Figures are published figures (``outcomes.published``) for
the reader's audience, and the pack states the disclosure rule. The PDF is PDF/UA-1 (tagged), made by
WeasyPrint with local fonts only.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime

from jinja2 import Environment, FileSystemLoader

from wholeplace.outcomes.published import Audience
from wholeplace.reports.render import chart_svg
from wholeplace.store.stores import Stores
from wholeplace.web import outcome_views
from wholeplace.web.templating import TEMPLATES, number

_ENVIRONMENT = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True, lstrip_blocks=True)
_ENVIRONMENT.filters["number"] = number


@dataclass(frozen=True)
class BoardPack:
    html: str
    place: outcome_views.Place
    framework: str
    charts: int  # SPC charts in the pack
    indicators: list[str]  # titles of the indicators with figures, in order


def board_pack(*, stores: Stores, audience: Audience, framework: str | None = None, level: str | None = None,
               area: str | None = None) -> BoardPack:
    """The board pack of one place (the whole place by default) as HTML, for ``audience``."""
    context = outcome_views.dashboard(stores=stores, audience=audience, framework=framework, level=level, area=area,
                                      small=False)
    charts = 0
    for section in context["outcomes"]:
        section["partners"] = outcome_views.partner_names(stores, section["outcome"])
        for card in section["cards"]:
            if card["chart"] is not None:
                card["svg"] = _data_uri(chart_svg(card["chart"]))
                charts += 1
    stored = context["framework"]
    html = _ENVIRONMENT.get_template("board_pack.html").render(
        **context, made_at=datetime.now(UTC), audience=audience, version=stored.version)
    titles = [card["title"] for section in context["outcomes"] for card in section["cards"]]
    return BoardPack(html, context["place"], stored.framework.code, charts, titles)


def to_pdf(html: str) -> bytes:
    """A tagged PDF (PDF/UA-1) of the pack's HTML."""
    import weasyprint  # imported here: it loads Pango, which only PDFs need

    return weasyprint.HTML(string=html).write_pdf(pdf_variant="pdf/ua-1")  # type: ignore[no-any-return]


def _data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
