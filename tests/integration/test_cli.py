"""The command line over the real service functions."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.support.police_files import street_row, write_street_file
from wholeplace.cli import app

runner = CliRunner()


def _status(data_dir: Path) -> dict:
    result = runner.invoke(app, ["status", "--json", "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_load_then_status_json_accounts_for_every_row(tmp_path: Path) -> None:
    data = tmp_path / "data"
    files = [write_street_file(tmp_path / f"2021-0{m}-test-street.csv", [street_row(f"2021-0{m}")] * m)
             for m in (1, 2, 3)]
    bad = write_street_file(tmp_path / "2021-04-test-street.csv", [street_row("2021-04")] * 3 + [street_row("x")])
    result = runner.invoke(app, ["load", "police-uk", "--data-dir", str(data), *map(str, files), str(bad)])
    assert result.exit_code == 0, result.output
    assert "quarantined 1: Month is not a YYYY-MM month (lines 5" in result.output
    status = _status(data)
    assert {"loads", "datasets"} <= status.keys()
    assert [(x["file"], x["rows_read"], x["rows_stored"], x["rows_quarantined"]) for x in status["loads"]] == [
        ("2021-01-test-street.csv", 1, 1, 0), ("2021-02-test-street.csv", 2, 2, 0),
        ("2021-03-test-street.csv", 3, 3, 0), ("2021-04-test-street.csv", 4, 3, 1)]
    assert [(d["dataset"], d["rows_in_store"]) for d in status["datasets"]] == [
        ("police-uk-street-test-constabulary", 9)]
    again = runner.invoke(app, ["load", "police-uk", "--data-dir", str(data), *map(str, files)])
    assert again.output.count("already loaded, nothing changed") == 3
    assert _status(data) == status


def test_user_errors_exit_2_with_the_message(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    result = runner.invoke(app, ["load", "police-uk", "--data-dir", str(tmp_path / "d"), str(empty)])
    assert result.exit_code == 2
    assert "empty.csv" in result.output and "empty" in result.output
    missing = runner.invoke(app, ["load", "police-uk", "--data-dir", str(tmp_path / "d"), str(tmp_path / "no.csv")])
    assert missing.exit_code == 2 and "no such file" in missing.output


def test_key_create_refuses_to_overwrite(tmp_path: Path) -> None:
    key = tmp_path / "k" / "partnership.key"
    assert runner.invoke(app, ["key", "create", "--file", str(key)]).exit_code == 0
    second = runner.invoke(app, ["key", "create", "--file", str(key)])
    assert second.exit_code == 2 and "never overwritten" in second.output
