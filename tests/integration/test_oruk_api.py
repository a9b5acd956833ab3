"""The Open Referral UK API at its boundary: open to anonymous callers, CORS on every answer
(errors too), one JSON error shape with the parameter named; and the CLI round trip of a feed."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.support.web_client import AppClient
from tests.unit.test_directory_seed import seeded_services, uid
from wholeplace.cli.main import app as cli
from wholeplace.settings import Settings
from wholeplace.web.app import create_app


def test_anonymous_callers_get_open_data_and_json_errors(tmp_path: Path):
    feed = tmp_path / "feed.json"
    feed.write_text(json.dumps(seeded_services(filler=2)))
    data = tmp_path / "data"
    runner = CliRunner()
    imported = runner.invoke(cli, ["directory", "import", str(feed), "--data-dir", str(data)])
    assert imported.exit_code == 0 and "5 services" in imported.output
    duplicates = runner.invoke(cli, ["directory", "duplicates", "--data-dir", str(data)])
    assert "Harbour Foodbank CIO" in duplicates.output
    exported = runner.invoke(cli, ["directory", "export", str(tmp_path / "out"), "--data-dir", str(data)])
    assert exported.exit_code == 0 and (tmp_path / "out" / "services.csv").exists()
    merged = runner.invoke(cli, ["directory", "merge", uid("o-Harbour Food Bank"), uid("o-nobody"), "--by",
                                 "editor@example.org", "--data-dir", str(data)])
    assert merged.exit_code != 0 and "No organisation has the id" in merged.output
    with AppClient(create_app(Settings(data_dir=data, partnership_key_file=None))) as client:
        listed = client.get("/oruk/services?search=harbour")
        assert listed.status_code == 200 and listed.headers["access-control-allow-origin"] == "*"
        assert listed.json()["total_items"] == 2
        bad = client.get("/oruk/services?day=someday")
        assert bad.status_code == 400 and bad.headers["access-control-allow-origin"] == "*"
        assert "day" in bad.json()["error"]["message"]
        unknown = client.get("/oruk/services?postcode=ZZ9+9ZZ")
        assert unknown.status_code == 400 and "ZZ9 9ZZ" in unknown.json()["error"]["message"]
