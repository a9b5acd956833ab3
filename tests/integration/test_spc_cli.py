"""``wholeplace spc`` from a CSV file to printed points and summaries, and its errors."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from typer.testing import CliRunner

from wholeplace.cli import app

runner = CliRunner()
NORTH = [50, 52, 49, 51, 50, 53, 48, 51, 50, 52, 49, 51, 60, 61, 59, 62, 60, 61, 63, 60]
SOUTH = [30, 31, 29, 30, 32, 28, 30, 31, 29, 30, 31, 29, 30, 32, 28, 30, 31, 29, 30, 31]


def _write(tmp_path: Path, text: str | None = None, name: str = "rates.csv") -> Path:
    path = tmp_path / name
    if text is None:
        rows = [f"2023-{m:02d}-01,{area},{v}" if m <= 12 else f"2024-{m - 12:02d}-01,{area},{v}"
                for area, values in (("North", NORTH), ("South", SOUTH)) for m, v in enumerate(values, start=1)]
        text = "month,area,rate\n" + "\n".join(rows) + "\n"
    path.write_text(text)
    return path


def _spc(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["spc", *args])
    return result.exit_code, result.output


def _csv_tables(output: str) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    points, summary = output.split("\n\n")
    return list(csv.DictReader(io.StringIO(points))), list(csv.DictReader(io.StringIO(summary)))


def test_csv_output_has_every_point_and_a_summary_per_group(tmp_path: Path) -> None:
    path = _write(tmp_path)
    code, output = _spc(str(path), "--x", "month", "--y", "rate", "--group", "area", "--direction", "increase",
                        "--target", "North=40;South=35", "--fix-after", "12", "--format", "csv")
    assert code == 0, output
    points, summary = _csv_tables(output)
    assert [(p["group"], float(p["y"])) for p in points] == [("North", v) for v in NORTH] + [
        ("South", v) for v in SOUTH]
    assert {"mean", "lpl", "upl", "lower_2sigma", "upper_2sigma", "outside_limits", "shift", "trend",
            "two_in_three", "special_cause_type", "point_type"} <= points[0].keys()
    north_after_step = [p for p in points if p["group"] == "North"][12:]
    assert {p["point_type"] for p in north_after_step} == {"special_cause_improvement"}
    assert [(s["group"], s["variation_type"], s["variation_icon"], s["assurance_type"]) for s in summary] == [
        ("North", "special_cause_improvement", "improvement_high", "pass"),
        ("South", "common_cause", "common_cause", "fail")]
    assert float(summary[1]["mean"]) == sum(SOUTH[:12]) / 12


def test_json_output_has_settings_points_and_summary(tmp_path: Path) -> None:
    path = _write(tmp_path)
    code, output = _spc(str(path), "--x", "month", "--y", "rate", "--group", "area", "--rebase", "2024-01-01",
                        "--profile", "nhsr", "--no-screen-outliers", "--format", "json")
    assert code == 0, output
    document = json.loads(output)
    assert document["settings"]["profile"] == "nhsr" and document["settings"]["screen_outliers"] is False
    assert document["settings"]["rebase"] == [{"at": "2024-01-01", "reason": None, "approver": None}]
    assert len(document["points"]) == len(NORTH) + len(SOUTH)
    assert document["points"][0]["x"] == "2023-01-01"
    assert [(s["group"], s["rebase_group"], s["n"], s["latest"]) for s in document["summary"]] == [
        ("North", 0, 12, False), ("North", 1, 8, True), ("South", 0, 12, False), ("South", 1, 8, True)]
    assert document["summary"][1]["mean"] == sum(NORTH[12:]) / 8


def test_the_profile_decides_screening_unless_the_option_is_given(tmp_path: Path) -> None:
    values = [1, 2, 1, 2, 10, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1]
    path = _write(tmp_path, "t,v\n" + "".join(f"{i},{v}\n" for i, v in enumerate(values)))

    def upl(*options: str) -> float:
        code, output = _spc(str(path), "--x", "t", "--y", "v", "--format", "json", *options)
        assert code == 0, output
        return round(json.loads(output)["summary"][0]["upl"], 2)

    assert (upl(), upl("--profile", "nhsr"), upl("--profile", "nhsr", "--no-screen-outliers"),
            upl("--screen-outliers")) == (6.95, 4.6, 6.95, 4.6)


def test_bad_file_column_or_value_exits_non_zero_naming_it(tmp_path: Path) -> None:
    path = _write(tmp_path)
    code, output = _spc(str(tmp_path / "missing.csv"), "--x", "month", "--y", "rate")
    assert code == 2 and "missing.csv: no such file" in output
    code, output = _spc(str(path), "--x", "month", "--y", "rates")
    assert code == 2 and "column 'rates': there is no column 'rates'; the columns are: month, area, rate" in output
    bad = _write(tmp_path, "month,rate\n2023-01-01,5\n2023-02-01,five\n2023-03-01,6\n2023-03-01,7\n", "bad.csv")
    code, output = _spc(str(bad), "--x", "month", "--y", "rate")
    assert code == 2 and "line 3, column 'rate': 'five' is not a number" in output
    fixed = _write(tmp_path, "month,rate\n2023-01-01,5\n2023-02-01,4\n2023-03-01,6\n2023-03-01,7\n", "twice.csv")
    code, output = _spc(str(fixed), "--x", "month", "--y", "rate")
    assert code == 2 and "line 5, column 'month': repeats 2023-03-01 (first on line 4)" in output
    code, output = _spc(str(path), "--x", "month", "--y", "rate", "--group", "area", "--profile", "loose")
    assert code == 2 and "Unknown SPC profile 'loose'" in output
    code, output = _spc(str(path), "--x", "month", "--y", "rate", "--group", "area", "--target", "high")
    assert code == 2 and "--target 'high' is not a number" in output


def test_an_error_quoting_square_brackets_prints_them_as_text(tmp_path: Path) -> None:
    """Messages quote user input; Rich markup in a column name must neither vanish nor break the output."""
    path = tmp_path / "series.csv"
    path.write_text("month,value\n2024-01-01,1\n", encoding="utf-8")
    result = runner.invoke(app, ["spc", str(path), "--x", "month", "--y", "[bold]rate[/]"])
    assert result.exit_code == 2
    assert "[bold]rate[/]" in result.output
