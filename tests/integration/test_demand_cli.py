"""``wholeplace demand`` on the demo place (scale 0.1): every command's CSV and JSON output parses, and the figures
agree with the service functions (the response statuses add up to the incidents read)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wholeplace.cli import app
from wholeplace.settings import Settings
from wholeplace.synth.demo import build_demo

runner = CliRunner()


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demand-cli") / "data"
    build_demo(settings=Settings(data_dir=folder, partnership_key_file=None), seed=20260101, scale=0.1)
    return folder


def _run(data: Path, *args: str) -> str:
    result = runner.invoke(app, ["demand", *args, "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("args", [("profile", "--by", "source"), ("repeat",), ("rcrp",), ("failure",),
                                  ("response",), ("forecast", "--top", "1", "--horizon", "6"),
                                  ("scenario", "--percent", "30")])
def test_every_command_prints_csv_that_parses(data: Path, args: tuple[str, ...]):
    rows = list(csv.DictReader(io.StringIO(_run(data, *args, "--format", "csv"))))
    assert rows


def test_json_carries_the_rest_of_the_result(data: Path):
    response = json.loads(_run(data, "response", "--format", "json"))
    assert sum(s["incidents"] for s in response["statuses"]) == response["incidents"] > 0
    profile = json.loads(_run(data, "profile", "--by", "source", "--format", "json"))
    assert {r["source"] for r in profile["rows"]} == {"public", "other_agency", "officer_initiated"}
    assert profile["totals"]["all"] == sum(r["all"] for r in profile["rows"])
    rcrp = json.loads(_run(data, "rcrp", "--format", "json"))
    assert rcrp["mapping_version"].startswith("rcrp-mapping") and len(rcrp["rows"]) == 5


def test_a_bad_choice_is_refused_with_the_choices(data: Path):
    result = runner.invoke(app, ["demand", "repeat", "--entity", "dog", "--data-dir", str(data)])
    assert result.exit_code == 2 and "location" in result.output
    assert "weekday" in _run(data, "profile", "--by", "hour", "--by", "weekday")  # the table format
