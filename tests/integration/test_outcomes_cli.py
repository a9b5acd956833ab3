"""``wholeplace outcomes`` on the squares place: import, list, show, values and signals, and a bad file refused."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from typer.testing import CliRunner

from tests.support.places import build_squares
from tests.unit.test_outcomes_values import FRAMEWORK
from wholeplace.cli import app
from wholeplace.geography.context import load_population
from wholeplace.settings import Settings
from wholeplace.store import open_stores

runner = CliRunner()


def _place(tmp_path: Path) -> tuple[Path, Path]:
    data = tmp_path / "data"
    build_squares(Settings(data_dir=data, partnership_key_file=None), tmp_path)
    population = tmp_path / "population.csv"
    population.write_text("Year,LSOA Code,Population\n" + "".join(f"2021,E0100000{i},1200\n" for i in range(1, 5)))
    load_population(stores=open_stores(Settings(data_dir=data)), path=population, level="lsoa")
    framework = tmp_path / "squares.yaml"
    framework.write_text(FRAMEWORK)
    return data, framework


def _run(*args: str) -> str:
    result = runner.invoke(app, ["outcomes", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_import_list_show_and_a_new_version(tmp_path: Path) -> None:
    data, framework = _place(tmp_path)
    assert "stored as version 1 (3 indicators)" in _run("import", str(framework), "--data-dir", str(data))
    assert "unchanged since version 1" in _run("import", str(framework), "--data-dir", str(data))
    framework.write_text(FRAMEWORK.replace("People are safe at home", "Everyone is safe at home"))
    assert "stored as version 2" in _run("import", str(framework), "--note", "plainer", "--data-dir", str(data))
    assert "squares  v2  1 outcomes, 3 indicators" in _run("list", "--data-dir", str(data))
    assert _run("show", "squares", "--version", "1", "--data-dir", str(data)) == FRAMEWORK
    missing = runner.invoke(app, ["outcomes", "show", "squares", "--version", "7", "--data-dir", str(data)])
    assert missing.exit_code == 2 and "no version 7" in missing.output


def test_values_as_csv_and_signals_as_json(tmp_path: Path) -> None:
    data, framework = _place(tmp_path)
    _run("import", str(framework), "--data-dir", str(data))
    text = _run("values", "squares", "--indicator", "burglary", "--level", "ward", "--data-dir", str(data))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {r["level"] for r in rows} == {"ward"} and len(rows) == 3 + 1  # three months and the whole period
    january = next(r for r in rows if r["period"] == "2021-01-01" and r["period_type"] == "month")
    assert (float(january["numerator"]), float(january["value"])) == (5.0, 12.5)
    out = json.loads(_run("signals", "squares", "--indicator", "burglary", "--level", "lsoa", "--format", "json",
                          "--data-dir", str(data)))
    assert {r["area_code"] for r in out["rows"]} == {"E01000001", "E01000002", "E01000003", "E01000004"}
    assert {r["turning_the_curve"] for r in out["rows"]} == {"no_baseline"}
    assert out["settings"]["burglary"]["profile"] == "mdc" and len(out["points"]) == 4 * 3


def test_a_bad_framework_is_refused_naming_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(FRAMEWORK.replace("polarity: decrease", "polarity: down", 1))
    result = runner.invoke(app, ["outcomes", "import", str(bad), "--data-dir", str(tmp_path / "data")])
    assert result.exit_code == 2
    assert "outcomes[0].indicators[0].polarity (line 13)" in result.output and "'down'" in result.output
