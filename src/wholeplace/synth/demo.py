"""``wholeplace demo``: generate the demo place and load it through the normal ingest path.

The demo is built in the data folder: partner files and boundaries under ``demo-source/``
with ``truth.json`` beside them, a partnership key under ``keys/`` (a real partnership
keeps its key elsewhere), and everything loaded with the same service functions as real
data. A marker file records the seed and scale once everything is loaded, so asking for the
same demo again reuses it at once. A folder holding anything else is refused: the demo
never mixes with real data.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from wholeplace.errors import UserError
from wholeplace.geography.boundaries import load_boundaries
from wholeplace.geography.context import load_deprivation, load_population, load_rural_urban
from wholeplace.governance.access import Role
from wholeplace.governance.pseudonymise import create_key_file
from wholeplace.governance.registry import load_example_agreements
from wholeplace.governance.users import create_user, find_user
from wholeplace.ingest.mapped import MappedAdapter
from wholeplace.ingest.pipeline import LoadResult, Reporter, load_files
from wholeplace.ingest.police_uk import PoliceUkAdapter
from wholeplace.settings import Settings
from wholeplace.store import open_stores
from wholeplace.store.operational import ContextLoadRow, LevelRow, LoadRow, PartnerRow
from wholeplace.store.stores import Stores
from wholeplace.synth.demand import month_starts
from wholeplace.synth.files import BOUNDARY_FILES, RURAL_URBAN_FILE, DemoFiles, write_demo_files, write_rural_urban
from wholeplace.synth.generate import PERIOD_MONTHS, PERIOD_START, POLICE_UK, generate
from wholeplace.synth.place import build_place
from wholeplace.synth.truth import GENERATOR_VERSION, build_truth, write_truth

SOURCE_FOLDER = "demo-source"
MARKER = "demo.json"
DIRECTORY_FILES = (Path("directory") / "services.json", Path("directory") / "pathways.yaml")
KEY_FILE = Path("keys") / "partnership.key"
MAPPINGS = Path(__file__).parent / "mappings"
MAPPING_FILES = {
    "demo-police-calls": "police-calls.yaml", "demo-ambulance-incidents": "ambulance.yaml",
    "demo-ae-attendances": "ae.yaml", "demo-crisis-contacts": "crisis.yaml", "demo-council-reports": "council.yaml",
}
# The demo place's accounts share one password, printed by `wholeplace demo`; never used outside the demo.
DEMO_PASSWORD = "wenlow-vale-demo"
DEMO_EMAIL_DOMAIN = ".wenlow.example"
# What a data folder may hold besides the demo: the stores themselves.
STORE_ENTRIES = {"analytic", "operational.sqlite", "operational.sqlite-wal", "operational.sqlite-shm", "keys",
                 "audit-anchor.json", SOURCE_FOLDER, MARKER}


@dataclass
class DemoResult:
    settings: Settings  # the settings to serve the demo with (same data folder, its key)
    truth_path: Path
    source_dir: Path
    seed: int
    scale: float
    reused: bool
    seconds: float
    totals: dict[str, Any] = field(default_factory=dict)  # dataset → {read, stored, quarantined}

    def summary(self) -> str:
        verb = "Reused the demo place" if self.reused else f"Built the demo place in {self.seconds:.0f} s"
        read = sum(t["read"] for t in self.totals.values())
        stored = sum(t["stored"] for t in self.totals.values())
        quarantined = sum(t["quarantined"] for t in self.totals.values())
        lines = [f"{verb}: Wenlow Vale (seed {self.seed}, scale {self.scale:g}), data folder "
                 f"{self.settings.data_dir}.",
                 f"  {len(self.totals)} partner datasets: read {read:,} rows, stored {stored:,}, quarantined "
                 f"{quarantined:,} (planted bad rows).",
                 f"  Partner files in {self.source_dir}; planted truth in {self.truth_path}.",
                 f"  Partnership key: {self.settings.partnership_key_file} (demo only: keep a real key outside "
                 "the data folder).",
                 f"  Serve it again with: WHOLEPLACE_PARTNERSHIP_KEY_FILE={self.settings.partnership_key_file} "
                 f"wholeplace serve --data-dir {self.settings.data_dir}",
                 f"  Sign in as ROLE@PARTNER{DEMO_EMAIL_DOMAIN} with the password {DEMO_PASSWORD!r} (demo only), "
                 f"e.g. {demo_email(Role.ADMINISTRATOR, 'council-wenlow-vale')} or "
                 f"{demo_email(Role.ANALYST, 'acute-wenlow-general')}; roles: "
                 + ", ".join(role.value for role in Role) + "."]
        return "\n".join(lines)


def build_demo(*, settings: Settings, seed: int = 20260101, reporter: Reporter | None = None,
               scale: float = 1.0) -> DemoResult:
    """Build (or reuse) the demo place in ``settings.data_dir`` and load it like real data."""
    started = time.monotonic()
    data_dir = settings.data_dir
    if scale <= 0:
        raise UserError(f"The demo scale must be positive, not {scale:g}.")
    demo_settings = settings.model_copy(update={"partnership_key_file": (data_dir / KEY_FILE).resolve()})
    existing = _read_marker(data_dir)
    if existing is not None:
        result = _reuse(existing, demo_settings, seed, scale, started)
        _add_governance(open_stores(demo_settings))  # a place built by an earlier version gets them too
        _add_outcomes(open_stores(demo_settings))
        _add_rural_urban(open_stores(demo_settings), data_dir / SOURCE_FOLDER, seed)
        _add_directory(open_stores(demo_settings), data_dir / SOURCE_FOLDER, seed)
        return result
    _refuse_foreign_folder(data_dir)
    stores = open_stores(demo_settings)
    _refuse_foreign_loads(stores, data_dir / SOURCE_FOLDER)
    _ensure_key(demo_settings.partnership_key_file)  # type: ignore[arg-type]
    reporter = reporter or Reporter()
    files, truth_path = _write_files(seed, scale, data_dir / SOURCE_FOLDER, reporter)
    totals = _load_everything(stores, demo_settings, files, reporter)
    _add_governance(stores)
    _add_outcomes(stores)
    _add_directory(stores, data_dir / SOURCE_FOLDER, seed)
    _write_marker(data_dir, seed, scale, totals)
    return DemoResult(demo_settings, truth_path, files.folder, seed, scale, False, time.monotonic() - started, totals)


def _read_marker(data_dir: Path) -> dict[str, Any] | None:
    path = data_dir / MARKER
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]
    except json.JSONDecodeError:
        raise UserError(f"{path} is not a readable demo marker.",
                        hint="Choose another --data-dir for the demo, or remove that folder to rebuild it.") from None


def _reuse(marker: dict[str, Any], settings: Settings, seed: int, scale: float, started: float) -> DemoResult:
    built = (marker.get("seed"), marker.get("scale"), marker.get("generator_version"))
    same = built == (seed, scale, GENERATOR_VERSION)
    if not same:
        raise UserError(
            f"{settings.data_dir} already holds the demo place built with seed {marker.get('seed')} and scale "
            f"{marker.get('scale')} (generator version {marker.get('generator_version')}), not seed {seed} and "
            f"scale {scale:g}.",
            hint="Choose another --data-dir for this demo, or remove that folder to rebuild it.")
    source = settings.data_dir / SOURCE_FOLDER
    return DemoResult(settings, source / "truth.json", source, seed, scale, True, time.monotonic() - started,
                      marker.get("totals", {}))


def _add_governance(stores: Stores) -> None:
    """The partnership's agreements (some allow, one is a draft, one has ended, so the demo shows
    governance working both ways) and an account per role per partner; both idempotent."""
    load_example_agreements(stores=stores, actor="demo")
    _create_demo_users(stores)


def _add_outcomes(stores: Stores) -> None:
    """The partnership's shared outcomes framework (outcomes/frameworks/wenlow-vale.yaml); an unchanged file
    adds no version."""
    from wholeplace.outcomes.framework import FRAMEWORKS, install_framework_file

    install_framework_file(stores=stores, path=FRAMEWORKS / "wenlow-vale.yaml", actor="demo")


def _add_rural_urban(stores: Stores, source: Path, seed: int) -> None:
    """The small areas' rural-urban classification, for a place built before the demo wrote one."""
    if stores.connect().execute("SELECT count(*) FROM rural_urban WHERE level = 'lsoa'").fetchone() != (0,):
        return
    path = source / "context" / RURAL_URBAN_FILE
    if not path.exists():
        write_rural_urban(build_place(seed, _place_years()), path)
    load_rural_urban(stores=stores, path=path, level="lsoa")


def _add_directory(stores: Stores, source: Path, seed: int) -> None:
    """The demo community support directory and its pathways, written under ``directory/`` and imported
    like a real feed when the store has no services yet; the pathways' import adds no version when
    unchanged."""
    from wholeplace.directory.hsds_io import import_directory
    from wholeplace.directory.pathways import import_pathways
    from wholeplace.directory.store import DirectoryServiceRow, directory_session
    from wholeplace.synth.directory import demo_pathways, write_directory

    services, pathways = source / DIRECTORY_FILES[0], source / DIRECTORY_FILES[1]
    if not services.exists() or not pathways.exists():
        place = build_place(seed, _place_years())
        write_directory(place, seed, services)
        pathways.write_text(yaml.safe_dump(demo_pathways(place, seed), allow_unicode=True, sort_keys=False),
                            encoding="utf-8")
    with directory_session(stores) as session:
        empty = session.scalars(select(DirectoryServiceRow.id).limit(1)).first() is None
    if empty:
        import_directory(stores=stores, path=services)
    import_pathways(stores=stores, path=pathways, actor="demo")
    from wholeplace.referrals.parties import map_demo_organisations

    map_demo_organisations(stores=stores, seed=seed)  # referrals to demo partners' services reach them


def _place_years() -> tuple[int, ...]:
    months = month_starts(PERIOD_START, PERIOD_MONTHS)
    return tuple(range(int(str(months[0])[:4]) - 1, int(str(months[-1])[:4]) + 1))  # as generate() does


def demo_email(role: Role, partner: str) -> str:
    return f"{role.value}@{partner}{DEMO_EMAIL_DOMAIN}"


def _create_demo_users(stores: Stores) -> None:
    """One account per role for every partner, so each view of the governed place can be tried."""
    with stores.sessions() as session:
        partners = session.scalars(select(PartnerRow.code).order_by(PartnerRow.code)).all()
    for partner in partners:
        for role in Role:
            if find_user(stores=stores, email=demo_email(role, partner)) is None:
                create_user(stores=stores, email=demo_email(role, partner), partner=partner, role=role,
                            password=DEMO_PASSWORD)


def _refuse_foreign_folder(data_dir: Path) -> None:
    if not data_dir.exists():
        return
    if not data_dir.is_dir():
        raise UserError(f"{data_dir} is a file, not a folder.", hint="Choose another --data-dir for the demo.")
    foreign = sorted(p.name for p in data_dir.iterdir() if p.name not in STORE_ENTRIES)
    if foreign:
        shown = ", ".join(foreign[:5]) + (" …" if len(foreign) > 5 else "")
        raise UserError(f"{data_dir} already holds other files ({shown}); the demo is only built in an empty "
                        "folder or one that holds this demo.",
                        hint="Choose another --data-dir for the demo (a new folder is created for you).")


def _refuse_foreign_loads(stores: Stores, source: Path) -> None:
    """Refuse a store holding anything not loaded from the demo's own files."""
    source_text = str(source.resolve())
    with stores.sessions() as session:
        loads = session.scalars(select(LoadRow.file_path)).all()
        levels = session.scalars(select(LevelRow.source_file)).all()
        context = session.scalars(select(ContextLoadRow.file_name)).all()
    foreign = [p for p in [*loads, *levels] if not str(p).startswith(source_text)]
    foreign += [name for name in context if name not in {"population.csv", "deprivation.csv", RURAL_URBAN_FILE}]
    if foreign:
        raise UserError(f"{stores.settings.data_dir} already holds data that is not the demo place "
                        f"(for example {Path(str(foreign[0])).name}); the demo never mixes with real data.",
                        hint="Choose another --data-dir for the demo (a new folder is created for you).")


def _ensure_key(path: Path) -> None:
    if not path.exists():
        create_key_file(path)


def _write_files(seed: int, scale: float, folder: Path, reporter: Reporter) -> tuple[DemoFiles, Path]:
    steps = ("place", "police", "health", "council", "write files")
    reporter.start_file("generating the demo place", len(steps))
    data = generate(seed, scale, step=reporter.stage)
    reporter.stage("write files")
    files = write_demo_files(data, folder)
    truth_path = write_truth(build_truth(data), folder / "truth.json")
    reporter.finish_file()
    return files, truth_path


def _load_everything(stores: Stores, settings: Settings, files: DemoFiles, reporter: Reporter) -> dict[str, Any]:
    """Boundaries coarsest first (so parents exist), context, then every partner's files."""
    for level in ("lad", "msoa", "lsoa", "ward"):
        _, code_field, name_field, parent, _ = BOUNDARY_FILES[level]
        load_boundaries(stores=stores, path=files.boundaries[level], level=level, hierarchy=None,
                        code_field=code_field, name_field=name_field, parent_level=parent)
    load_population(stores=stores, path=files.population, level="lsoa")  # type: ignore[arg-type]
    load_deprivation(stores=stores, path=files.deprivation, level="lsoa")  # type: ignore[arg-type]
    load_rural_urban(stores=stores, path=files.rural_urban, level="lsoa")  # type: ignore[arg-type]
    totals: dict[str, Any] = {}
    for code, paths in files.datasets.items():
        adapter = PoliceUkAdapter() if code == POLICE_UK else MappedAdapter.from_file(MAPPINGS / MAPPING_FILES[code])
        results = load_files(stores=stores, adapter=adapter, paths=paths, settings=settings, reporter=reporter)
        totals[code] = _totals(results)
    return totals


def _totals(results: list[LoadResult]) -> dict[str, int]:
    return {"files": len(results), "read": sum(r.rows_read for r in results),
            "stored": sum(r.rows_stored for r in results), "quarantined": sum(r.rows_quarantined for r in results)}


def _write_marker(data_dir: Path, seed: int, scale: float, totals: dict[str, Any]) -> None:
    marker = {"seed": seed, "scale": scale, "generator_version": GENERATOR_VERSION, "totals": totals}
    (data_dir / MARKER).write_text(json.dumps(marker, indent=1, sort_keys=True) + "\n", encoding="utf-8")
