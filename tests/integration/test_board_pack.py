"""The board pack of the demo place (scale 0.1): the HTML has a chart, its text and the table behind it for every
indicator with a chart; the PDF is tagged, every chart is drawn on its page (checked on images of the pages made
with pdftoppm) and the text, every indicator title included, can be extracted with pdftotext.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi import FastAPI

from tests.support.web_client import AppClient, signed_in
from wholeplace.outcomes.published import reader_audience
from wholeplace.reports.board_pack import BoardPack, board_pack
from wholeplace.settings import Settings
from wholeplace.synth.demo import build_demo
from wholeplace.web.app import create_app
from wholeplace.web.purpose import read_scope

PURPOSE = "csp_strategic_assessment"
POLICE = "police-wenlow-vale-constabulary"
MEAN_LINE = np.array([0x50, 0x5A, 0x5F])  # spc_charts.LINE_GREY: the mean and limits of every chart


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("board-pack") / "data", partnership_key_file=None)
    built = create_app(build_demo(settings=settings, seed=20260101, scale=0.1).settings)
    yield built
    built.state.stores.close()


@pytest.fixture(scope="module")
def client(app: FastAPI) -> AppClient:
    return signed_in(app, role="analyst", partner=POLICE, purpose=PURPOSE)


@pytest.fixture(scope="module")
def pack(app: FastAPI, client: AppClient) -> BoardPack:
    from wholeplace.governance.users import find_user, principal

    user = find_user(stores=app.state.stores, email=f"analyst@{POLICE}.example.org")
    scope = read_scope(stores=app.state.stores, principal=principal(user), purpose=PURPOSE)
    return board_pack(stores=app.state.stores, audience=reader_audience(scope))


@pytest.fixture(scope="module")
def pdf(client: AppClient, tmp_path_factory: pytest.TempPathFactory) -> Path:
    for tool in ("pdftoppm", "pdftotext", "pdfinfo"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: scripts/setup --test installs poppler-utils")
    response = client.get("/outcomes/board-pack.pdf")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    path = tmp_path_factory.mktemp("pdf") / "board-pack.pdf"
    path.write_bytes(response.content)
    return path


def test_the_html_has_a_chart_a_text_and_a_table_for_every_charted_indicator(pack: BoardPack):
    assert 15 <= len(pack.indicators) <= 25 and pack.charts >= 15
    assert pack.html.count("<figure>") == pack.charts
    assert pack.html.count('src="data:image/svg+xml;base64,') == pack.charts
    assert pack.html.count("<caption>The values behind the chart of") == pack.charts
    assert pack.html.count("<figcaption>") == pack.charts
    assert "The story behind the curve" in pack.html and "Action plan" in pack.html
    assert "red, amber or green" in pack.html  # said once, as what the pack does not do
    assert "Disclosure control: Counts from 1 to 7 are hidden" in pack.html


def test_the_pdf_is_tagged_and_its_text_extractable(pdf: Path, pack: BoardPack):
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^Tagged:\s+yes$", info, re.M)
    text = _text(pdf)
    flat = " ".join(text.split())
    missing = [title for title in pack.indicators if " ".join(title.split()) not in flat]
    assert missing == []
    # every chart's own legend ("Point") is drawn as text, once per chart
    assert sum(1 for line in text.splitlines() if line.strip() == "Point") == pack.charts


def test_every_chart_is_drawn_on_its_page(pdf: Path, pack: BoardPack, tmp_path: Path):
    pages = int(re.search(r"^Pages:\s+(\d+)$", subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True,
                                                             check=True).stdout, re.M).group(1))
    subprocess.run(["pdftoppm", "-r", "60", str(pdf), str(tmp_path / "page")], check=True)
    images = sorted(tmp_path.glob("page-*.ppm"))
    assert len(images) == pages
    charted = 0
    for number, image in enumerate(images, start=1):
        pixels = _read_ppm(image)
        assert (pixels < 250).any(), f"page {number} is blank"
        legends = sum(1 for line in _text(pdf, number).splitlines() if line.strip() == "Point")
        lines = (np.abs(pixels.astype(int) - MEAN_LINE).max(axis=2) <= 12).sum()
        if legends:
            charted += legends
            assert lines >= 200 * legends, f"page {number} names {legends} chart(s) but their lines are not drawn"
    assert charted == pack.charts


def _text(pdf: Path, page: int | None = None) -> str:
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return subprocess.run(["pdftotext", "-layout", *pages, str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout


def _read_ppm(path: Path) -> np.ndarray:
    """A binary PPM (P6) as a height × width × 3 array."""
    data = path.read_bytes()
    header = re.match(rb"P6\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
    assert header is not None, f"{path} is not a binary PPM"
    width, height = int(header.group(1)), int(header.group(2))
    return np.frombuffer(data[header.end():], dtype=np.uint8).reshape(height, width, 3)
