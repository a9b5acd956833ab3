"""Loading postcode centroids (ONSPD / NSPL and OS Code-Point Open): every row is loaded, skipped or rejected
with its place; a bad file changes nothing; loading again replaces; search then places postcodes at them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tests.unit.test_directory_seed import seeded_services
from wholeplace.cli.directory import directory_app
from wholeplace.directory.hsds_io import import_directory
from wholeplace.directory.postcodes import CODE_POINT, ONS, PostcodeLoad, load_postcodes
from wholeplace.directory.query import metres_between, postcode_centroid
from wholeplace.directory.store import DirectoryPostcodeRow, directory_session
from wholeplace.errors import InputError, UserError
from wholeplace.settings import Settings
from wholeplace.store.stores import Stores

ONS_HEADER = "pcd,pcd2,pcds,dointr,doterm,usertype,oseast1m,osnrth1m,osgrdind,lat,long"
# PR7 1AB is where the seeded directory has no location; PR1 2AA is where it has two.
ONS_ROWS = [
    "PR7 1AB,PR7  1AB,PR7 1AB,198001,,0,356000,418000,1,53.652000,-2.632000",
    "PR1 2AA,PR1  2AA,PR1 2AA,198001,,0,354000,429000,1,53.758000,-2.700000",
    "BB101AA,BB10 1AA,BB10 1AA,198001,,0,385000,433000,1,53.795000,-2.224000",
    "PR9 9ZZ,PR9  9ZZ,PR9 9ZZ,198001,200512,0,334000,418000,1,53.650000,-2.990000",  # terminated
    "BT1 1AA,BT1  1AA,BT1 1AA,198001,,0,,,9,99.999999,0.000000",  # no grid reference
    "LA1 1AA,LA1  1AA,LA1 1AA,198001,,0,347000,461000,1,54.0x,-2.800000",  # malformed latitude
]


def write(tmp_path: Path, name: str, lines: list[str]) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def stored(stores: Stores) -> dict[str, tuple[float, float]]:
    with directory_session(stores) as session:
        rows = session.execute(select(DirectoryPostcodeRow.postcode, DirectoryPostcodeRow.latitude,
                                      DirectoryPostcodeRow.longitude)).all()
    return {code: (lat, lon) for code, lat, lon in rows}


def assert_nothing_lost(load: PostcodeLoad) -> None:
    assert load.read == (load.accepted + load.terminated + load.without_location + load.outside_area
                         + load.rejected)


def test_onspd_rows_are_loaded_skipped_or_rejected_with_their_place(stores: Stores, tmp_path: Path):
    load = load_postcodes(stores=stores, path=write(tmp_path, "ONSPD_MAY_2025.csv", [ONS_HEADER, *ONS_ROWS]))
    assert (load.format, load.read, load.loaded) == (ONS, 6, 3)
    assert (load.terminated, load.without_location, load.rejected) == (1, 1, 1)
    assert_nothing_lost(load)
    [problem] = load.problems
    assert (problem.file, problem.line, problem.column) == ("ONSPD_MAY_2025.csv", 7, "lat")
    assert "'54.0x' is not a number" in str(problem)
    assert stored(stores) == {"PR71AB": (53.652, -2.632), "PR12AA": (53.758, -2.7), "BB101AA": (53.795, -2.224)}


def test_a_missing_column_is_named_with_the_file_and_line(stores: Stores, tmp_path: Path):
    header = ONS_HEADER.replace(",lat,", ",latitude,").replace(",doterm,", ",terminated,")
    path = write(tmp_path, "nspl.csv", [header, ONS_ROWS[0]])
    with pytest.raises(InputError) as caught:
        load_postcodes(stores=stores, path=path)
    message = str(caught.value)
    assert "nspl.csv, line 1, column 'lat': the header has no column 'lat'" in message
    assert "column 'doterm'" in message and "pcds" in (caught.value.hint or "")


def test_code_point_open_is_converted_from_the_british_national_grid(stores: Stores, tmp_path: Path):
    # Caister Water Tower, the worked example in OS "Transformations and OSGM15 User Guide", Annexe A:
    # OSGB36 National Grid E 651409.804, N 313177.450 is ETRS89 (≈ WGS84) 52.658007833 N, 1.716073973 E.
    # Without the OSTN15 grid pyproj uses the Helmert parameters, a few metres out (3.5 m here).
    path = write(tmp_path, "nr.csv", [
        '"NR29 5AA",10,651409.804,313177.450,"E92000001","E19000001","E18000012","E10000020","E07000145","E05005790"',
        '"NR29 5AB",90,0,0,"E92000001","","","","",""',
        '"NR29 5AD",10,6514x9,313177,"E92000001","","","","",""',
        '"NR29 5AE",10,651409',
    ])
    load = load_postcodes(stores=stores, path=path)
    assert (load.format, load.loaded, load.without_location, load.rejected) == (CODE_POINT, 1, 1, 2)
    assert [(p.line, p.column) for p in load.problems] == [(3, "3 (eastings)"), (4, "4 (northings)")]
    assert "'6514x9' is not a number from 0 to 700,000" in str(load.problems[0])
    assert "too few" in str(load.problems[1])
    latitude, longitude = stored(stores)["NR295AA"]
    assert latitude == pytest.approx(52.658007833, abs=1e-4) and longitude == pytest.approx(1.716073973, abs=1e-4)
    assert metres_between((latitude, longitude), (52.658007833, 1.716073973)) < 5


def test_a_folder_of_code_point_files_with_a_header_is_loaded(stores: Stores, tmp_path: Path):
    folder = tmp_path / "CSV"
    folder.mkdir()
    header = "Postcode,Positional_quality_indicator,Eastings,Northings,Country_code"
    write(folder, "pr.csv", [header, "PR1 2AA,10,354000,429000,E92000001"])
    write(folder, "bb.csv", [header, "BB10 1AA,10,385000,433000,E92000001"])
    load = load_postcodes(stores=stores, path=folder)
    assert (load.format, load.read, load.loaded) == (CODE_POINT, 2, 2)
    assert set(stored(stores)) == {"PR12AA", "BB101AA"}


def test_a_failing_load_keeps_the_previous_postcodes(stores: Stores, tmp_path: Path):
    load_postcodes(stores=stores, path=write(tmp_path, "good.csv", [ONS_HEADER, *ONS_ROWS]))
    before = stored(stores)
    bad_rows = [row.replace("53.", "5x.") for row in ONS_ROWS[:3]] + [ONS_ROWS[0].replace("PR7 1AB", "PR7 1AC")]
    with pytest.raises(InputError) as caught:  # the good row is written, then the whole load is refused
        load_postcodes(stores=stores, path=write(tmp_path, "bad.csv", [ONS_HEADER, *bad_rows]), batch_size=1)
    assert "bad.csv, line 2, column 'lat'" in str(caught.value)
    assert "3 of 4 rows failed" in (caught.value.hint or "")
    with pytest.raises(UserError, match="No postcodes to load"):
        load_postcodes(stores=stores, path=write(tmp_path, "far.csv", [ONS_HEADER, *ONS_ROWS]), areas=["ZE"])
    with pytest.raises(InputError, match="no data rows"):
        load_postcodes(stores=stores, path=write(tmp_path, "empty.csv", [ONS_HEADER]))
    assert stored(stores) == before


def test_loading_again_replaces_on_each_engine(stores_on_each_engine: Stores, tmp_path: Path):
    stores = stores_on_each_engine
    load_postcodes(stores=stores, path=write(tmp_path, "first.csv", [ONS_HEADER, *ONS_ROWS]))
    moved = ONS_ROWS[1].replace("53.758000", "53.759500")
    second = load_postcodes(stores=stores, path=write(tmp_path, "second.csv", [ONS_HEADER, ONS_ROWS[1], moved]),
                            batch_size=1)
    assert (second.accepted, second.loaded) == (2, 1)  # a postcode given twice keeps its last position
    assert stored(stores) == {"PR12AA": (53.7595, -2.7)}


def test_search_places_a_postcode_at_its_loaded_centroid(stores_on_each_engine: Stores, tmp_path: Path):
    stores = stores_on_each_engine
    feed = tmp_path / "feed.json"
    feed.write_text(json.dumps(seeded_services(filler=2)))
    import_directory(stores=stores, path=feed)
    with directory_session(stores) as session, pytest.raises(UserError, match="not known"):
        postcode_centroid(session, "PR7 1AB")
    load_postcodes(stores=stores, path=write(tmp_path, "onspd.csv", [ONS_HEADER, *ONS_ROWS]))
    with directory_session(stores) as session:
        assert postcode_centroid(session, "pr7 1ab") == (53.652, -2.632)
        assert postcode_centroid(session, "PR1 2AA") == (53.758, -2.7)  # the table before the locations' mean


def test_areas_and_districts_restrict_the_load(stores: Stores, tmp_path: Path):
    path = write(tmp_path, "onspd.csv", [ONS_HEADER, *ONS_ROWS])
    load = load_postcodes(stores=stores, path=path, areas=["pr", " BB10 ", ""])
    assert set(stored(stores)) == {"PR71AB", "PR12AA", "BB101AA"}
    assert (load.outside_area, load.terminated, load.rejected) == (2, 1, 0)  # BT and LA are not read further
    assert_nothing_lost(load)
    load_postcodes(stores=stores, path=path, areas=["PR1"])
    assert set(stored(stores)) == {"PR12AA"}
    with pytest.raises(UserError, match="1PR is not a postcode area"):
        load_postcodes(stores=stores, path=path, areas=["PR", "1PR"])


def test_within_km_keeps_postcodes_near_the_directory(stores: Stores, tmp_path: Path):
    path = write(tmp_path, "onspd.csv", [ONS_HEADER, *ONS_ROWS])
    with pytest.raises(UserError, match="no locations"):
        load_postcodes(stores=stores, path=path, within_km=5)
    feed = tmp_path / "feed.json"
    feed.write_text(json.dumps(seeded_services(filler=0)))  # at 53.759,-2.699 and 54.12,-2.70
    import_directory(stores=stores, path=feed)
    load = load_postcodes(stores=stores, path=path, within_km=12.7)
    assert set(stored(stores)) == {"PR71AB", "PR12AA"}  # PR7 1AB is 12.69 km away; BB10 1AA 31.5 km
    assert (load.outside_area, load.accepted) == (1, 2)
    assert_nothing_lost(load)
    load_postcodes(stores=stores, path=path, within_km=12.6)
    assert set(stored(stores)) == {"PR12AA"}


def test_the_command_prints_the_counts(settings: Settings, tmp_path: Path):
    path = write(tmp_path, "onspd.csv", [ONS_HEADER, *ONS_ROWS])
    result = CliRunner().invoke(directory_app, ["postcodes", str(path), "--areas", "PR,BB,LA",
                                                "--data-dir", str(settings.data_dir)])
    assert result.exit_code == 0, result.output
    assert "Loaded 3 postcodes" in result.output and "1 terminated" in result.output
    assert "rejected 1" in result.output and "onspd.csv, line 7, column 'lat'" in result.output
    missing = CliRunner().invoke(directory_app, ["postcodes", str(tmp_path / "nope.csv"),
                                                 "--data-dir", str(settings.data_dir)])
    assert missing.exit_code == 2 and "There is no file" in missing.output
