"""Charts rendered offline for reports (wholeplace.reports.render)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from datetime import date
from io import BytesIO
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from PIL import Image

from wholeplace.errors import UserError
from wholeplace.outcomes.spc import Rebase, xmr
from wholeplace.reports.render import REPORT_WIDTH, chart_png, chart_svg
from wholeplace.web.charts import monthly_chart
from wholeplace.web.spc_charts import BLUE, spc_chart_spec

MONTHS = [date(2021 + i // 12, i % 12 + 1, 1) for i in range(30)]


def _spec(*, title: str = "Emergency admissions", description: str = "Admissions rose in January 2022.") -> dict:
    values = np.where(np.arange(30) < 12, 50.0, 65.0) + np.random.default_rng(7).normal(0, 2, 30)
    result = xmr(pl.DataFrame({"month": MONTHS, "rate": values}), x="month", y="rate", direction="increase",
                 rebase=[Rebase(MONTHS[24], reason="new unit")])
    return spc_chart_spec(result.points, title=title, y_title="Per 1,000", direction="increase", target=60,
                          description=description)


def _marks(svg: str, kind: str) -> list[str]:
    return re.findall(rf'<g class="mark-{kind} role-mark[^>]*>(.*?)</g>', svg, re.S)


def test_svg_is_named_and_described_and_draws_the_data_marks():
    svg = chart_svg(_spec())
    root = re.match(r"<svg\b[^>]*>", svg)
    assert root and 'role="img"' in root.group(0) and 'aria-labelledby="chart-title chart-desc"' in root.group(0)
    assert svg[root.end():].startswith('<title id="chart-title">Emergency admissions. Higher is better</title>'
                                       '<desc id="chart-desc">Admissions rose in January 2022.</desc>')
    symbols = _marks(svg, "symbol")
    assert len(symbols) == 1 and symbols[0].count("<path") == 30  # one symbol per point
    assert f'fill="{BLUE}"' in symbols[0]  # improvement points in blue
    assert len([g for g in re.findall(r'<g class="mark-line role-mark layer_0_marks"', svg)]) == 2  # mean per group
    assert ">Jan 2021</text>" in svg and 'font-family="Liberation Sans, Arial, sans-serif"' in svg
    assert f'<path class="background" aria-hidden="true" d="M0,0h{REPORT_WIDTH}v320' in svg  # not the page's width


def test_page_fonts_are_replaced_by_the_local_arial_metric_font():
    rows = [{"month": "2021-01", "partner": "p", "partner_name": "Police", "events": 3},
            {"month": "2021-02", "partner": "p", "partner_name": "Police", "events": 5}]
    spec = monthly_chart(rows, description="Five events in February.")
    svg = chart_svg(spec)
    assert 'font-family="arial"' not in svg and 'font-family="Liberation Sans, Arial, sans-serif"' in svg
    assert spec["config"]["axis"]["labelFont"] == "arial"  # the page's spec is left as it was
    assert "<desc id=\"chart-desc\">Five events in February.</desc>" in svg


def test_png_decodes_at_the_scale_asked_with_text_and_coloured_points():
    spec = _spec()
    one, two = (Image.open(BytesIO(chart_png(spec, scale=s))) for s in (1, 2))
    assert one.format == two.format == "PNG"
    assert two.size == (2 * one.size[0], 2 * one.size[1]) and one.size[0] > REPORT_WIDTH
    pixels = np.asarray(one.convert("RGB"))
    assert (np.abs(pixels.astype(int) - [0x1D, 0x70, 0xB8]).sum(axis=2) < 30).sum() > 20  # blue points drawn
    untitled = np.asarray(Image.open(BytesIO(chart_png(_spec(title="")))).convert("RGB"))
    titled = np.asarray(two.convert("RGB"))
    assert (titled[:40, :400] < 100).sum() > (untitled[:40, :400] < 100).sum() + 100  # the title's glyphs


def test_rendering_needs_no_network():
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-rn", "true"]).returncode != 0:
        pytest.skip("unshare cannot make a network namespace here")
    code = ("from tests.unit.test_reports_render import _spec\nfrom wholeplace.reports.render import chart_svg, "
            "chart_png\nprint(len(chart_png(_spec())), chart_svg(_spec()).count('<path'))")
    done = subprocess.run(["unshare", "-rn", sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=Path(__file__).parents[2], timeout=120)
    assert done.returncode == 0, done.stderr
    png_bytes, paths = map(int, done.stdout.split())
    assert png_bytes > 10_000 and paths > 30


def test_data_from_a_url_is_refused_with_a_clear_error():
    spec = {"data": {"url": "https://example.com/values.csv"}, "mark": "point",
            "encoding": {"x": {"field": "a", "type": "quantitative"}}}
    with pytest.raises(UserError, match="External data url not allowed") as error:
        chart_svg(spec)
    assert "inline" in (error.value.hint or "")


def test_bad_scale_and_a_folder_without_fonts_are_user_errors(tmp_path: Path):
    with pytest.raises(UserError, match="scale must be above 0"):
        chart_png(_spec(), scale=0)
    with pytest.raises(UserError, match="No fonts were found") as error:
        chart_svg(_spec(), font_directory=tmp_path)
    assert "fonts-liberation" in (error.value.hint or "")
