"""The generated data sets the bench measures on, cached under data/bench/ with the parameters
that made them (a folder whose parameters differ is made again)."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from storemon import generate
from storemon.bench.children import run_child, storemon
from storemon.errors import StoremonError

STAMP = "generated.json"


@dataclass(frozen=True)
class Dataset:
    key: str
    stores: int
    poll_minutes: int
    days: int = 7

    @property
    def folder_name(self) -> str:
        days = "" if self.days == 7 else f"-{self.days}-days"
        return f"{self.stores}-stores-every-{self.poll_minutes}-min{days}"


@dataclass
class Prepared:
    dataset: Dataset
    folder: Path
    db: Path
    polls: int
    csv_mb: float

    def describe(self) -> str:
        return f"{self.dataset.stores:,} stores, {self.polls / 1e6:.2f} M polls"

    def inputs(self, special: bool = False) -> list[str]:
        return [
            "--status", str(self.folder / "store_status.csv"),
            "--hours", str(self.folder / "menu_hours.csv"),
            "--timezones", str(self.folder / "timezones.csv"),
            "--groups", str(self.folder / "store_groups.csv"),  # owners, brands, regions
            *(["--special-hours", str(self.folder / "special_hours.csv")] if special else []),
        ]  # fmt: skip

    @property
    def special_db(self) -> Path:
        """The same data loaded with its special hours (30% of the stores)."""
        return self.folder / "storemon-special.duckdb"


def datasets(stores: int, days: int = 7) -> dict[str, Dataset]:
    return {
        "1x": Dataset("1x", stores, 60, days),
        "10x": Dataset("10x", stores * 10, 60, days),
        "5min": Dataset("5min", stores, 5, days),
    }


def prepare(dataset: Dataset, root: Path, log) -> Prepared:
    """Generate the data set unless a copy made the same way (same parameters, same generator
    code) is cached in `root`."""
    folder = root / dataset.folder_name
    stamp_path = folder / STAMP
    generator = hashlib.sha256(Path(generate.__file__).read_bytes()).hexdigest()[:12]
    wanted = {
        "stores": dataset.stores,
        "poll_minutes": dataset.poll_minutes,
        "days": dataset.days,
        "seed": 42,
        "generator": generator,
    }
    stamp = json.loads(stamp_path.read_text()) if stamp_path.is_file() else {}
    if {k: stamp.get(k) for k in wanted} != wanted:
        log(f"generating {dataset.folder_name} (once; cached in {folder}) ...")
        shutil.rmtree(folder, ignore_errors=True)
        args = ["generate", "--out", str(folder), "--stores", str(dataset.stores)]
        args += ["--poll-minutes", str(dataset.poll_minutes), "--days", str(dataset.days)]
        seconds, _, said = run_child(storemon(*args))
        counted = re.search(r"and ([\d,]+) polls", said)
        if counted is None:
            raise StoremonError(f"bench: storemon generate did not say how many polls: {said!r}")
        polls = int(counted.group(1).replace(",", ""))
        stamp = {**wanted, "polls": polls, "generated_in_seconds": round(seconds, 1)}
        stamp_path.write_text(json.dumps(stamp, indent=2) + "\n")
    csv_mb = sum(p.stat().st_size for p in folder.glob("*.csv")) / 1e6
    return Prepared(dataset, folder, folder / "storemon.duckdb", stamp["polls"], csv_mb)


def ingest_once(data: Prepared, db: Path, special: bool = False) -> tuple[float, int]:
    db.unlink(missing_ok=True)
    seconds, rss, _ = run_child(storemon("ingest", "--db", str(db), *data.inputs(special)))
    return seconds, rss


def hourly_batches(data: Prepared) -> list[Path]:
    """The data set's polls cut into one CSV per UTC hour, as a poller would send them."""
    folder = data.folder / "hourly"
    if not (folder / "done").is_file():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        with duckdb.connect() as con:
            con.execute(
                f"COPY (SELECT *, strftime(date_trunc('hour', timestamp_utc::TIMESTAMP), "
                f"'%Y%m%d%H') AS hour FROM read_csv('{data.folder / 'store_status.csv'}', "
                f"all_varchar = true)) TO '{folder}' (FORMAT csv, HEADER, PARTITION_BY (hour))"
            )
        (folder / "done").write_text("")
    return sorted(folder.glob("hour=*/*.csv"))
