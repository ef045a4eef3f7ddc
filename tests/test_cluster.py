"""The same SQL on a real Dask cluster (`dask scheduler` and `dask worker` processes, as the
README starts them): the cluster's report is the single-node report, byte for byte, whatever
the buckets and workers; a worker killed mid-report or mid-ingest changes nothing, nor does a
scheduler restarted between an ingest and a report; a bucket that fails for good fails the
report, naming it."""

from __future__ import annotations

import dataclasses
import os
import signal
import threading
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import dask
import duckdb
import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storemon import cluster, cluster_batch, cluster_compact
from storemon.append import append_batch
from storemon.backends import Batch
from storemon.bench.dask_processes import DaskProcesses
from storemon.database import connect
from storemon.errors import StoremonError
from storemon.generate import generate
from storemon.ingest import ingest
from storemon.report import run_report, write_report
from tests.conftest import GROUPS_HEADER, HOURS_HEADER, SPECIAL_HEADER, examples, write_csv
from tests.server import in_process, storemon

# The cluster (`processes`, `client`): set up once in each of two test processes, for the tests
# of each of two xdist groups (pyproject.toml: --dist loadgroup), about half a minute of tests
# each; the tests that need no shared cluster (one starts its own) are in neither.
REPORTS = pytest.mark.xdist_group("cluster_reports")
BATCHES = pytest.mark.xdist_group("cluster_batches")

AS_OF = datetime(2023, 3, 13, 9, 30, tzinfo=UTC)  # the week holds the US spring-forward night
PARTS = ("report", "outages", "summary", "rollups")


@pytest.fixture(scope="module")
def processes(tmp_path_factory):
    """`dask scheduler` and two `dask worker --nthreads 1`, processes of their own."""
    with DaskProcesses(tmp_path_factory.mktemp("dask")) as processes:
        yield processes


@pytest.fixture(scope="module")
def client(processes):
    """storemon's client of that cluster, by its address."""
    with cluster.connect_cluster(processes.address) as client:
        yield client


@pytest.fixture(autouse=True)
def _the_shared_cluster_is_used_in_a_group(request):
    """A test of the shared cluster is in one of the two groups: outside them, it would start
    another cluster in whichever test process it ran in."""
    shared = {"processes", "client"} & set(request.fixturenames)
    if shared and request.node.get_closest_marker("xdist_group") is None:
        pytest.fail("a test of the shared cluster needs @REPORTS or @BATCHES", pytrace=False)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """Generated data (US and other zones, DST, split and overnight hours, unreadable rows), and
    a later batch of business hours for a few of its stores."""
    folder = tmp_path_factory.mktemp("inputs")
    files = generate(folder, stores=240, days=9, seed=13, bad_rows=True)
    with files.hours.open() as handle:
        stores = [line.split(",", 1)[0] for line in handle.read().splitlines()[1:6]]
    later = write_csv(
        folder / "later_hours.csv",
        HOURS_HEADER,
        [(store, day, "10:00", "14:00") for store in stores for day in range(5)],
    )
    return files, later


def single_node(folder: Path, files, later: Path | None, as_of: datetime | None) -> dict:
    """The single-node files (and rejected rows) for the same inputs."""
    with connect(folder / "single.duckdb") as con:
        ingest(con, files.status, files.hours, files.timezones, groups=files.groups)
        if later is not None:
            append_batch(con, "hours", later)
        run_report(con, as_of)
        out = {}
        for part, relation in zip(
            PARTS,
            ("store_report", "store_outages", "store_outage_summary", "group_rollups"),
            strict=True,
        ):
            out[part] = folder / f"single.{part}.csv"
            write_report(con, out[part], relation)
        rejected = con.execute(
            "SELECT source, file, line, reason FROM rejected_rows ORDER BY ALL"
        ).fetchall()
    return {part: path.read_bytes() for part, path in out.items()} | {"rejected": rejected}


@pytest.fixture(scope="module")
def single_node_of(tmp_path_factory):
    """single_node's files for the module's inputs (and a later batch, an as-of), each made
    once: several tests compare the cluster with the same single-node report."""
    made: dict = {}

    def of(files, later: Path | None, as_of: datetime | None) -> dict:
        if (files, later, as_of) not in made:
            folder = tmp_path_factory.mktemp("single")
            made[files, later, as_of] = single_node(folder, files, later, as_of)
        return made[files, later, as_of]

    return of


def on_cluster(client, folder: Path, files: list[Path], buckets: int, as_of) -> dict:
    data = folder / "data"
    cluster.ingest(client, data, files, buckets)
    out = {part: folder / f"cluster.{part}.csv" for part in PARTS}
    done = cluster.report(client, data, out["report"], as_of, {p: out[p] for p in PARTS[1:]})
    with duckdb.connect() as con:
        rejected = con.execute(
            "SELECT source, file, line, reason "
            f"FROM read_parquet('{data}/rejected/*.parquet') ORDER BY ALL"
        ).fetchall()
    return {part: path.read_bytes() for part, path in out.items()} | {
        "rejected": rejected,
        "tasks": [task["buckets"] for task in done["tasks"]],
    }


# Tasks are sized by data: on two workers, these tiny buckets go two tasks to a report, unless a
# task may hold no more than a byte (one bucket each).
@REPORTS
@pytest.mark.parametrize(
    ("buckets", "as_of", "task_bytes"),
    [(1, None, None), (7, AS_OF, None), (32, None, None), (16, AS_OF, 1)],
)
def test_the_cluster_report_is_the_single_node_report_byte_for_byte(
    single_node_of, client, inputs, tmp_path, buckets, as_of, task_bytes, monkeypatch
):
    if task_bytes:
        monkeypatch.setattr(cluster, "TASK_BYTES", task_bytes)
    files, _ = inputs
    expected = single_node_of(files, None, as_of)
    got = on_cluster(
        client, tmp_path, [files.status, files.hours, files.timezones, files.groups], buckets, as_of
    )
    assert expected["rollups"].count(b"\n") > 10  # owners, brands and regions, across buckets
    for part in PARTS:
        assert got[part] == expected[part], part
    assert expected["report"].count(b"\n") == 241
    assert got["rejected"] == expected["rejected"] and len(got["rejected"]) >= 8
    tasks = buckets if task_bytes else min(buckets, 2)
    assert len(got["tasks"]) == tasks
    assert [b for task in got["tasks"] for b in task] == list(range(buckets))


def _quiet_settings() -> tuple:
    names = ("worker.profile.enabled", "admin.tick.interval", "admin.system-monitor.interval")
    return tuple(dask.config.get(f"distributed.{name}") for name in names)


@REPORTS
def test_the_suites_dask_processes_idle_quietly(client):
    """The settings tests/conftest.py gives every process the tests start (README, "A real
    cluster") reach the workers, and the scheduler, started by `dask` as the README does."""
    quiet = (False, "1s", "5s")
    assert set(client.run(_quiet_settings).values()) == {quiet}
    assert client.run_on_scheduler(_quiet_settings) == quiet


def test_report_tasks_are_consecutive_buckets_of_about_equal_size():
    groups = cluster.task_groups
    # one task per thread while each holds no more than per_task bytes; more when it would
    assert groups([10] * 8, 2, 1000) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert groups([10] * 8, 2, 20) == [[0, 1], [2, 3], [4, 5], [6, 7]]
    # in whole rounds, a task per thread each: 60 bytes of tasks of at most 20 on 2 threads are
    # 4 tasks, not 3 (the third would run alone while the other thread waited)
    assert groups([10] * 6, 2, 20) == [[0], [1, 2], [3], [4, 5]]
    # a bucket goes where its first byte falls: a big one alone, the small ones together
    assert groups([100, 1, 1, 1], 2, 1000) == [[0], [1, 2, 3]]
    assert groups([12, 10, 11, 9], 2, 1000) == [[0, 1], [2, 3]]
    # the shares are counted from the first bucket: the last task is no larger than the others
    tasks = groups([10] * 64, 2, 64)
    assert len(tasks) == 10 and {len(task) for task in tasks} == {6, 7}
    # never more tasks than buckets; empty buckets are shared out by number
    assert groups([5, 5], 8, 1000) == [[0], [1]]
    assert groups([0] * 5, 2, 1000) == [[0, 1, 2], [3, 4]]
    assert groups([3, 0, 4], 1, 1) == [[0], [1], [2]]


@settings(max_examples=examples(200), deadline=None)
@given(
    sizes=st.lists(st.integers(0, 1000), min_size=1, max_size=80),
    threads=st.integers(1, 8),
    per_task=st.integers(1, 5000),
)
def test_report_tasks_cover_the_buckets_in_order_each_near_its_share(sizes, threads, per_task):
    groups = cluster.task_groups(sizes, threads, per_task)
    assert [bucket for group in groups for bucket in group] == list(range(len(sizes)))
    assert all(groups)
    total = sum(sizes)
    rounds = max(1, -(-total // (per_task * threads)))  # a task per thread in each
    tasks = min(len(sizes), threads * rounds)
    assert len(groups) == tasks
    if total:
        # a task holds its share, give or take a bucket at each end
        assert all(sum(sizes[b] for b in group) <= total / tasks + max(sizes) for group in groups)


@REPORTS
def test_a_later_hours_file_replaces_the_hours_of_the_stores_it_names(
    single_node_of, client, inputs, tmp_path
):
    files, later = inputs
    expected = single_node_of(files, later, None)
    got = on_cluster(client, tmp_path, [files.status, files.hours, files.timezones, later], 5, None)
    assert got["report"] == expected["report"]
    without = single_node_of(files, None, None)
    assert got["report"] != without["report"]  # the later hours changed those stores' numbers


@REPORTS
def test_polls_in_several_files_and_parquet_are_the_union(single_node_of, client, inputs, tmp_path):
    files, _ = inputs
    lines = files.status.read_text().splitlines()
    half = len(lines) // 2
    first = tmp_path / "polls_a.csv"
    first.write_text("\n".join(lines[:half]) + "\n")
    second = tmp_path / "polls_b.parquet"
    rest = tmp_path / "polls_b.csv"
    rest.write_text("\n".join([lines[0], *lines[half - 50 :]]) + "\n")  # 50 polls sent twice
    with duckdb.connect() as con:
        con.execute(
            f"COPY (SELECT * FROM read_csv('{rest}', all_varchar = true, ignore_errors = true)) "
            f"TO '{second}' "
            "(FORMAT parquet)"
        )
    expected = single_node_of(files, None, None)
    got = on_cluster(client, tmp_path, [first, second, files.hours, files.timezones], 9, None)
    assert got["report"] == expected["report"]
    assert got["outages"] == expected["outages"]


@REPORTS
def test_a_big_polls_file_is_parsed_in_pieces_keeping_its_line_numbers(client, inputs, tmp_path):
    files, _ = inputs
    # a record across lines (quoted), which no piece may cut, and unreadable rows at the end
    lines = files.status.read_text().splitlines()
    lines.insert(900, '"store\nwith a break",active,2023-03-10 10:00:00 UTC')
    polls = tmp_path / "polls.csv"
    polls.write_text("\n".join(lines) + "\n")
    expected = single_node(tmp_path, dataclasses.replace(files, status=polls), None, None)
    data = tmp_path / "data"
    done = cluster.ingest(
        client, data, [polls, files.hours, files.timezones], 8, piece_bytes=64 << 10
    )
    assert done[0]["pieces"] > 10
    out = tmp_path / "cluster.csv"
    reported = cluster.report(client, data, out)
    assert out.read_bytes() == expected["report"]
    # the pieces left a file of each in every bucket: the ingest compacted them, its polls one
    # per store and instant, so the report grouped none of them again
    assert cluster.one_per_instant(cluster.read_manifest(data)) is not None
    assert max(visible_files(data, 8)["polls"]) == 1
    assert not any(task["grouped"] for task in reported["tasks"])
    with duckdb.connect() as con:
        rejected = con.execute(
            "SELECT source, file, line, reason "
            f"FROM read_parquet('{data}/rejected/*.parquet') ORDER BY ALL"
        ).fetchall()
    assert rejected == expected["rejected"]
    assert ("polls", str(polls), 901, "missing store_id") not in rejected  # a store, kept whole


@REPORTS
def test_a_worker_killed_mid_report_changes_nothing(single_node_of, client, inputs, tmp_path):
    files, _ = inputs
    expected = single_node_of(files, None, None)
    data = tmp_path / "data"
    cluster.ingest(client, data, [files.status, files.hours, files.timezones], 16)
    pids = sorted(client.run(os.getpid).values())
    out = tmp_path / "cluster.report.csv"
    finished: list = []
    report = threading.Thread(
        target=lambda: finished.append(cluster.report(client, data, out)), daemon=True
    )
    report.start()
    # once a bucket is done, the report is under way: kill a worker (its process, by pid)
    reports = data / "reports"
    while not list(reports.glob("*/report/*.parquet")) and report.is_alive():
        threading.Event().wait(0.005)
    os.kill(pids[0], signal.SIGKILL)
    report.join(timeout=120)
    assert finished, "the report did not finish"
    assert pids[0] not in client.run(os.getpid).values()  # the nanny started a new one
    assert out.read_bytes() == expected["report"]


@REPORTS
def test_a_worker_killed_mid_ingest_changes_nothing(single_node_of, client, inputs, tmp_path):
    files, _ = inputs
    expected = single_node_of(files, None, None)
    data = tmp_path / "data"
    pids = sorted(client.run(os.getpid).values())
    done: list = []
    ingesting = threading.Thread(
        target=lambda: done.append(
            cluster.ingest(client, data, [files.status, files.hours, files.timezones], 16,
                           piece_bytes=64 * 1024)
        ),
        daemon=True,
    )  # fmt: skip
    ingesting.start()
    # once a piece is parsed, the ingest is under way: kill a worker (its process, by pid)
    while not list(data.rglob("*.parquet")) and ingesting.is_alive():
        threading.Event().wait(0.005)
    os.kill(pids[0], signal.SIGKILL)
    ingesting.join(timeout=120)
    assert done, "the ingest did not finish"
    out = tmp_path / "cluster.report.csv"
    cluster.report(client, data, out)
    assert out.read_bytes() == expected["report"]


def test_a_scheduler_restarted_between_ingest_and_report_changes_nothing(
    single_node_of, inputs, tmp_path
):
    """The data folder is the cluster's state: a new scheduler at the same address, and new
    workers on it (a worker ends when its scheduler goes), report what was ingested before."""
    files, _ = inputs
    expected = single_node_of(files, None, AS_OF)
    data = tmp_path / "data"
    with DaskProcesses(tmp_path / "dask", workers=1) as processes:
        storemon(
            "cluster", "ingest", "--scheduler", processes.address, "--data", str(data),
            "--buckets", "4", str(files.status), str(files.hours), str(files.timezones),
        )  # fmt: skip
        processes.stop_scheduler()  # its workers end with it
        processes.start_scheduler()
        processes.start_workers()  # as their supervisor would
        out = tmp_path / "cli.csv"
        storemon(
            "cluster", "report", "--scheduler", processes.address, "--data", str(data),
            "--out", str(out), "--as-of", "2023-03-13 09:30:00",
        )  # fmt: skip
    assert out.read_bytes() == expected["report"]


@REPORTS
def test_a_bucket_that_fails_for_good_fails_the_report_naming_it(
    client, inputs, tmp_path, monkeypatch
):
    files, _ = inputs
    data = tmp_path / "data"
    cluster.ingest(client, data, [files.status, files.hours, files.timezones], 4)
    broken = sorted((data / "polls" / "bucket=2").glob("*.parquet"))[0]
    broken.write_bytes(b"not parquet at all")
    monkeypatch.setattr(cluster, "TASK_BYTES", 1)  # a task per bucket
    with pytest.raises(StoremonError, match=r"bucket 2 failed: .*bucket=2/.*parquet"):
        cluster.report(client, data, tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()
    monkeypatch.undo()  # two tasks of two buckets: the task is named by its buckets
    with pytest.raises(StoremonError, match=r"buckets 2-3 failed: .*bucket=2/.*parquet"):
        cluster.report(client, data, tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()


@REPORTS
def test_an_as_of_outside_the_data_is_refused_before_any_task(client, inputs, tmp_path):
    files, _ = inputs
    data = tmp_path / "data"
    cluster.ingest(client, data, [files.status, files.hours, files.timezones], 2)
    with pytest.raises(StoremonError, match="is outside the loaded polls: choose an instant"):
        cluster.report(client, data, tmp_path / "out.csv", datetime(2030, 1, 1, tzinfo=UTC))
    assert not (data / "reports").exists()
    with pytest.raises(StoremonError, match="holds 2 buckets"):
        cluster.ingest(client, data, [files.hours], 8)
    # every file is checked before any task runs: nothing of the good one is ingested
    batches = len(cluster.read_manifest(data)["batches"])
    with pytest.raises(StoremonError, match=r"nowhere\.csv: no such file"):
        cluster.ingest(client, data, [files.hours, tmp_path / "nowhere.csv"])
    with pytest.raises(StoremonError, match="its columns are those of no input"):
        cluster.ingest(client, data, [write_csv(tmp_path / "odd.csv", ("a", "b"), [(1, 2)])])
    assert len(cluster.read_manifest(data)["batches"]) == batches


@BATCHES
def test_the_cli_runs_on_its_own_local_cluster_or_on_a_running_one(
    single_node_of, client, inputs, tmp_path
):
    files, _ = inputs
    expected = single_node_of(files, None, AS_OF)

    data = tmp_path / "data"
    # a cluster of its own (one worker) to ingest; a running one, by its address, to report
    printed = storemon(
        "cluster", "ingest", "--scheduler", "local:1", "--data", str(data), "--buckets", "6",
        str(files.status), str(files.hours), str(files.timezones),
    )  # fmt: skip
    assert "rejected: 1 x unknown time zone" in printed
    printed = storemon(
        "cluster", "compact", "--scheduler", client.scheduler.address, "--data", str(data)
    )
    assert "compacted 18 files into one a bucket and kind" in printed  # 3 files, 6 buckets
    out = tmp_path / "cli.csv"
    printed = storemon(
        "cluster", "report", "--scheduler", client.scheduler.address, "--data", str(data),
        "--out", str(out),
        "--as-of", "2023-03-13 09:30:00",
    )  # fmt: skip
    assert "wrote 240 stores" in printed and "6 buckets" in printed
    assert out.read_bytes() == expected["report"]


@BATCHES
def test_the_service_computes_its_reports_on_the_cluster(single_node_of, client, inputs, tmp_path):
    files, _ = inputs
    expected = single_node_of(files, None, AS_OF)
    data = tmp_path / "data"
    cluster.ingest(client, data, [files.status, files.hours, files.timezones, files.groups], 8)
    db = tmp_path / "service" / "storemon.duckdb"
    db.parent.mkdir()
    # the service connects to the running cluster by its scheduler's address
    scheduler = client.scheduler.address
    with in_process(db, "--scheduler", scheduler, "--data", str(data)) as server:
        _, health = server.json("GET", "/health")
        assert health["as_of_range"] and health["as_of_range"][0].startswith("2023-03-0")
        report_id = server.trigger("2023-03-13 09:30:00")
        code, _, content = server.wait(report_id, timeout=180)
        assert (code, content) == (200, expected["report"])
        code, answer = server.json("GET", f"/get_report/{report_id}")
        assert answer["stores"] == 240 and answer["as_of"].startswith("2023-03-13T09:30:00")
        for part in ("outages", "summary", "rollups"):
            got = server.request("GET", f"/reports/{report_id}/{part}.csv")[2]
            assert got == expected[part], part
        # an owner's key reads its own stores' rows of the cluster's report
        with files.groups.open() as handle:
            owned = {
                line.split(",")[0] for line in handle if line.rstrip().endswith(",owner:o0001")
            }
        code, made = server.json(
            "POST", "/keys", {"name": "o1", "groups": ["owner:o0001"]}, headers=server.authorized()
        )
        assert code == 201, made
        mine = {"Authorization": f"Bearer {made['key']}"}
        lines = expected["report"].decode().splitlines()
        wanted = [lines[0], *(line for line in lines[1:] if line.split(",")[0] in owned)]
        got = server.request("GET", f"/reports/{report_id}.csv", headers=mine)[2]
        assert got.decode().splitlines() == wanted and len(wanted) == 61
        # one store's week: its material from the store's bucket on the cluster's data
        store_id = expected["outages"].decode().splitlines()[1].split(",", 1)[0]
        code, week = server.json("GET", f"/reports/{report_id}/stores/{store_id}")
        assert code == 200, week
        assert week["outages"] and week["polls"] and week["business_intervals"]
        assert week["data_changed"] is False
        # a full load replaces the cluster's data: `storemon cluster ingest`, not the service
        code, answer = server.json(
            "POST",
            "/ingest",
            {
                "status": str(files.status),
                "hours": str(files.hours),
                "timezones": str(files.timezones),
            },
            headers=server.authorized(),
        )
        assert code == 400 and "storemon cluster ingest" in answer["detail"]
        # an instant outside the cluster's data is refused at once
        code, body = server.json("POST", "/trigger_report", {"as_of": "2030-01-01 00:00:00"})
        assert (code, body["error"]) == (400, "bad as_of")


@BATCHES
def test_special_hours_on_the_cluster_are_the_single_node_ones(client, inputs, tmp_path):
    files, _ = inputs
    with files.hours.open() as handle:
        stores = sorted({line.split(",", 1)[0] for line in handle.read().splitlines()[1:80]})
    special = write_csv(
        tmp_path / "special_hours.csv",
        SPECIAL_HEADER,
        [
            row
            for number, store in enumerate(stores)
            for row in (
                [(store, "2023-03-12", "", "")]  # closed on the spring-forward Sunday
                if number % 2
                else [(store, "2023-03-10", "20:00", "03:00"), (store, "2023-03-11", "", "")]
            )
        ],
    )
    single = tmp_path / "single.duckdb"
    with connect(single) as con:
        ingest(con, files.status, files.hours, files.timezones, special_hours=special)
        run_report(con, AS_OF)
        write_report(con, tmp_path / "single.csv", "store_report")
        noted = con.execute("SELECT * FROM report_note_stores ORDER BY ALL").fetchall()
        without = tmp_path / "without.csv"
        ingest(con, files.status, files.hours, files.timezones)
        run_report(con, AS_OF)
        write_report(con, without, "store_report")
    got = on_cluster(
        client, tmp_path, [files.status, files.hours, files.timezones, special], 6, AS_OF
    )
    assert got["report"] == (tmp_path / "single.csv").read_bytes() != without.read_bytes()
    # the stores of its notes (the report page lists them), from the buckets' files
    assert ("special hours in the week", stores[0]) in noted
    with duckdb.connect() as con:
        assert (
            noted
            == con.execute(
                f"SELECT * FROM read_parquet('{tmp_path}/data/reports/*/note_stores/*.parquet') "
                "ORDER BY ALL"
            ).fetchall()
        )


@BATCHES
def test_the_cluster_keeps_each_stores_groups_as_one_load_and_its_batches_do(client, tmp_path):
    polls = [(f"s{n}", "active", "2023-01-12 12:00:00") for n in range(40)]
    rows = [(f"s{n}", f"owner:o{n % 3}") for n in range(40)] + [("s1", "brand:b1")]
    later = [("s1", "owner:new"), ("s2", "owner:o0")]  # replaces all of s1's and s2's groups
    files = [
        write_csv(tmp_path / "store_status.csv", ("store_id", "status", "timestamp_utc"), polls),
        write_csv(tmp_path / "store_groups.csv", GROUPS_HEADER, rows),
    ]
    data = tmp_path / "data"
    cluster.ingest(client, data, files, 4)
    cluster.ingest(client, data, [write_csv(tmp_path / "later.csv", GROUPS_HEADER, later)], 4)
    expected = sorted([row for row in rows if row[0] not in ("s1", "s2")] + later)
    with ExitStack() as scratch, cluster.new_connection() as con:
        batches = cluster.committed(cluster.read_manifest(data))
        cluster.bucket_tables(con, data, range(4), batches, scratch)
        got = con.execute(
            "SELECT store_id, group_name FROM store_groups JOIN stores USING (store_key) "
            "ORDER BY ALL"
        ).fetchall()
    assert got == expected


@BATCHES
def test_a_batch_that_never_committed_is_not_read_and_the_next_ingest_removes_it(
    single_node_of, client, inputs, tmp_path
):
    files, later = inputs
    expected = single_node_of(files, None, None)
    data = tmp_path / "data"
    cluster.ingest(client, data, [files.status, files.hours, files.timezones], 4)
    # an ingest that died after writing its files, before its manifest: its batch (the later
    # hours, which would change the report) is in the folder but not in the manifest
    orphan = cluster.ingest_file(
        str(later), str(data), "hours", 4, 4, "dead-batch_0a", "2023-03-14T00:00:00+00:00"
    )
    written = sorted(data.rglob("000004-dead-batch_0a*.parquet"))
    assert orphan["kept"] > 0 and written
    out = tmp_path / "cluster.report.csv"
    cluster.report(client, data, out)
    assert out.read_bytes() == expected["report"]
    # the next writer removes what never committed, and its own batch is read
    cluster.ingest(client, data, [later], 4)
    assert not any(path.exists() for path in written)
    cluster.report(client, data, out)
    assert out.read_bytes() == single_node_of(files, later, None)["report"]
    seqs = [batch["seq"] for batch in cluster.read_manifest(data)["batches"]]
    assert seqs == [1, 2, 3, 4]


@BATCHES
def test_two_ingests_at_once_both_commit_neither_loses_the_others_batch(client, tmp_path):
    header = ("store_id", "status", "timestamp_utc")
    inputs = [
        write_csv(
            tmp_path / f"polls{n}.csv",
            header,
            [
                (f"w{n}s{i}", "active", f"2023-01-12 {h:02d}:00:00")
                for i in range(30)
                for h in range(24)
            ],
        )
        for n in range(2)
    ]
    data = tmp_path / "data"
    start = threading.Barrier(2)
    errors: list = []

    def writer(path: Path) -> None:
        start.wait()
        try:
            cluster.ingest(client, data, [path], 4)
        except Exception as error:  # said below, with the other writer's outcome
            errors.append(error)

    writers = [threading.Thread(target=writer, args=(path,)) for path in inputs]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join(timeout=120)
    assert not errors
    batches = cluster.read_manifest(data)["batches"]
    assert sorted(b["seq"] for b in batches) == [1, 2]
    assert sorted(b["file"] for b in batches) == sorted(str(p.resolve()) for p in inputs)
    with ExitStack() as scratch, cluster.new_connection() as con:
        tables = cluster.bucket_tables(
            con, data, range(4), cluster.committed({"batches": batches}), scratch
        )
    assert tables.polls == 2 * 30 * 24 and not tables.keyed


def test_a_files_batch_is_read_from_its_name():
    # the id may hold '-' and '_' (secrets.token_urlsafe); its length is fixed
    assert cluster.batch_of("000012-ab-_cd_ef-g0-0003_0.parquet") == "000012-ab-_cd_ef-g0"
    assert cluster.batch_of("1000000-abcdefghijkl_0.parquet") == "1000000-abcdefghijkl"
    manifest = {
        "batches": [
            {"seq": 1, "batch_id": "aaaaaaaaaaaa", "kind": "polls"},
            {"seq": 2, "batch_id": "bbbbbbbbbbbb", "kind": "polls"},
            {"seq": 3, "batch_id": "cccccccccccc", "kind": "polls"},
        ]
    }
    every = {"000001-aaaaaaaaaaaa", "000002-bbbbbbbbbbbb", "000003-cccccccccccc"}
    assert cluster.committed(manifest) == every
    # after a compaction: the compaction's files and the batches after it
    merged = {"seq": 4, "batch_id": "dddddddddddd", "kind": "compaction", "through_seq": 3}
    after = {"seq": 5, "batch_id": "eeeeeeeeeeee", "kind": "hours"}
    manifest["batches"] += [merged, after]
    assert cluster.committed(manifest) == {"000004-dddddddddddd", "000005-eeeeeeeeeeee"}
    assert cluster.committed(None) == frozenset()


@BATCHES
def test_the_service_on_a_cluster_takes_batches_into_its_data_folder(
    single_node_of, client, inputs, tmp_path, monkeypatch
):
    files, later = inputs
    monkeypatch.setattr(cluster_compact, "COMPACT_AFTER", 6)  # the hours batch compacts
    data = tmp_path / "data"
    cluster.ingest(client, data, [files.status, files.hours, files.timezones, files.groups], 8)
    db = tmp_path / "service" / "storemon.duckdb"
    db.parent.mkdir()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    serving = ("--scheduler", client.scheduler.address, "--data", str(data))
    with in_process(db, *serving, "--inbox", str(inbox), "--inbox-settle", "0.2") as server:
        csv = {"Content-Type": "text/csv", **server.authorized()}
        # polls already in the data, one of them twice: the report does not change
        lines = files.status.read_bytes().splitlines(keepends=True)
        polls = b"".join([*lines[:40], lines[5]])
        code, _, body = server.request("POST", "/polls", data=polls, headers=csv)
        assert code == 201, body
        code, _, again = server.request("POST", "/polls", data=polls, headers=csv)
        assert code == 200 and b'"repeated":true' in again
        first = msgspec.json.decode(body)
        assert (first["rows_read"], first["kept"], first["duplicates"]) == (40, 39, 1)
        assert first["latest_poll"] and first["events"] == 0
        # a later batch of hours, as JSON with an Idempotency-Key: it replaces those stores'
        rows = [
            dict(zip(HOURS_HEADER, line.split(","), strict=True))
            for line in later.read_text().splitlines()[1:]
        ]
        keyed = {**server.authorized(), "Idempotency-Key": "hours-1"}
        code, answer = server.json("POST", "/hours", rows, headers=keyed)
        assert code == 201 and answer["kept"] == len(rows), answer
        code, answer = server.json("POST", "/hours", rows[:-1], headers=keyed)
        assert (code, answer["error"]) == (422, "idempotency key reused")
        # a batch with rows and none usable is refused, and changes nothing
        code, _, refused = server.request(
            "POST",
            "/hours",
            data=b"store_id,dayOfWeek,start_time_local,end_time_local\nx,9,a,b\n",
            headers=csv,
        )
        assert code == 400 and b"none of them is usable" in refused
        # the drop folder: a file of zones the data already holds (nothing changes), taken
        (inbox / "zones.csv").write_bytes(
            b"".join(files.timezones.read_bytes().splitlines(True)[:9])
        )
        deadline = time.monotonic() + 60
        while not list((inbox / "done").glob("*")):
            assert time.monotonic() < deadline, list(inbox.rglob("*"))
            time.sleep(0.1)
        report_id = server.trigger("2023-03-13 09:30:00")
        code, _, content = server.wait(report_id, timeout=180)
        assert (code, content) == (200, single_node_of(files, later, AS_OF)["report"])
    kinds = [batch["kind"] for batch in cluster.read_manifest(data)["batches"]]
    assert kinds == [
        *("polls", "hours", "timezones", "groups", "polls", "hours"),
        *("compaction", "timezones"),
    ]
    assert not list((data / cluster.INCOMING).glob("*"))


def visible_files(data: Path, buckets: int) -> dict[str, list[int]]:
    """How many files each kind's buckets are read from."""
    batches = cluster.committed(cluster.read_manifest(data))
    return {
        kind: [len(cluster.bucket_files(data, kind, b, batches)) for b in range(buckets)]
        for kind in cluster.KEPT
    }


@BATCHES
def test_compaction_merges_each_buckets_files_and_changes_no_report(
    single_node_of, client, inputs, tmp_path, monkeypatch
):
    files, later = inputs
    data = tmp_path / "data"
    cluster.ingest(client, data, [files.status, files.hours, files.timezones, files.groups], 4)
    lines = files.status.read_bytes().splitlines(keepends=True)
    for n, part in enumerate((lines[:300], lines[:1] + lines[300:700])):
        batch = tmp_path / f"polls{n}.csv"
        batch.write_bytes(b"".join(part))  # polls the data holds: the same report
        cluster_batch.append_batch(client, data, Batch("polls", batch, batch.name))
    assert max(visible_files(data, 4)["polls"]) == 3
    out = tmp_path / "cluster.csv"
    cluster.report(client, data, out)
    expected = single_node_of(files, None, None)["report"]
    assert out.read_bytes() == expected
    before = sorted(path for kind in cluster.KEPT for path in (data / kind).rglob("*.parquet"))

    done = cluster_compact.compact_now(client, data)
    assert done is not None and done["files_merged"] == len(before)
    # one file a bucket of each kind (the generated data has no special hours)
    merged = {kind: [int(kind != "special_hours")] * 4 for kind in cluster.KEPT}
    assert visible_files(data, 4) == merged
    cluster.report(client, data, out)
    assert out.read_bytes() == expected
    # a later batch of hours still replaces the hours each store had (rows keep their seq)
    cluster_batch.append_batch(client, data, Batch("hours", later, later.name))
    cluster.report(client, data, out)
    with_later = single_node_of(files, later, None)["report"]
    assert out.read_bytes() == with_later
    # the merged files stay for reports already reading them, then the next writer removes them
    assert all(path.exists() for path in before)
    monkeypatch.setattr(cluster, "RETIRE_AFTER", -1.0)
    cluster_compact.compact_now(client, data)
    assert not any(path.exists() for path in before)
    assert visible_files(data, 4) == merged
    cluster.report(client, data, out)
    assert out.read_bytes() == with_later
    assert len(list((data / "rejected").glob("*.parquet"))) >= 1  # a batch's own, kept


def test_a_live_folder_compacts_every_so_many_batches():
    def manifest(*kinds: str) -> dict:
        return {"batches": [{"seq": n, "kind": kind} for n, kind in enumerate(kinds, 1)]}

    every = cluster_compact.COMPACT_AFTER
    assert not cluster_compact.due(manifest(*["polls"] * (every - 1)))
    assert cluster_compact.due(manifest(*["polls"] * every))
    assert not cluster_compact.due(manifest(*["polls"] * every, "compaction", "polls"))


@BATCHES
def test_a_compactions_polls_are_one_per_store_and_instant_and_not_grouped_again(
    client, inputs, tmp_path
):
    """Polls sent again in a later batch, some of them now inactive at the same instant: the
    compaction keeps one row per store and instant, inactive winning (the load's rule); a report
    after it takes each bucket's one file as it is, and is the single-node report still."""
    files, _ = inputs
    lines = files.status.read_text().splitlines()
    status = lines[0].split(",").index("status")
    again = [line for line in lines[1:] if line.split(",")[status] == "active"][:40:4]
    flipped = [
        ",".join("inactive" if n == status else field for n, field in enumerate(line.split(",")))
        for line in again
    ]
    batch, both = tmp_path / "again.csv", tmp_path / "both.csv"
    batch.write_text("\n".join([lines[0], *again, *flipped]) + "\n")
    both.write_text("\n".join([*lines, *flipped]) + "\n")
    expected = single_node(tmp_path, dataclasses.replace(files, status=both), None, None)
    data = tmp_path / "data"
    cluster.ingest(client, data, [files.status, files.hours, files.timezones], 4)
    cluster_batch.append_batch(client, data, Batch("polls", batch, batch.name))
    out = tmp_path / "cluster.csv"
    before = cluster.report(client, data, out)
    assert out.read_bytes() == expected["report"]
    assert all(task["grouped"] for task in before["tasks"])  # two files in some buckets

    cluster_compact.compact_now(client, data)
    manifest = cluster.read_manifest(data)
    unique = cluster.one_per_instant(manifest)
    assert unique is not None
    polls = [
        path
        for b in range(4)
        for path in cluster.bucket_files(data, "polls", b, frozenset([unique]))
    ]
    with duckdb.connect() as con:
        rows, instants, inactive = con.execute(
            "SELECT count(*), count(DISTINCT (store_id, timestamp_utc)), "
            "count(*) FILTER (WHERE NOT active) FROM read_parquet(?)",
            [[str(path) for path in polls]],
        ).fetchone()
    with duckdb.connect(str(tmp_path / "single.duckdb"), read_only=True) as con:
        single = con.execute("SELECT count(*), count(*) FILTER (WHERE NOT active) FROM polls")
        single = single.fetchone()
    assert rows == instants and (rows, inactive) == single
    after = cluster.report(client, data, out)
    assert not any(task["grouped"] for task in after["tasks"])
    assert out.read_bytes() == expected["report"]


def _task_tables(data: Path, buckets, unique: str | None) -> dict:
    """The stores (id -> key) and the polls (as (id, instant, active)) a task of `buckets` makes,
    its polls read by key when `unique` names the compaction, by id when it is None."""
    batches = cluster.committed(cluster.read_manifest(data))
    with ExitStack() as scratch, cluster.new_connection() as con:
        cluster.bucket_tables(con, data, buckets, batches, scratch, unique)
        stores = dict(con.execute("SELECT store_id, store_key FROM stores").fetchall())
        polls = con.execute(
            "SELECT store_id, epoch_us(timestamp_utc), active FROM polls "
            "JOIN stores USING (store_key) ORDER BY ALL"
        ).fetchall()
    return {"stores": stores, "polls": polls}


@BATCHES
def test_a_compaction_keys_each_buckets_stores_and_a_task_reads_its_polls_by_key(
    client, inputs, tmp_path, monkeypatch
):
    """The compaction writes each bucket's stores beside its polls, keyed apart from every other
    bucket's; a task of several buckets reads its polls by those keys and makes the same stores
    and polls as one reading them by id, a store named since only by a batch of hours included.
    A bucket whose stores would not fit its keys gets no stores file, and is read by id."""
    files, _ = inputs
    data = tmp_path / "data"
    lines = files.status.read_bytes().splitlines(keepends=True)
    cluster.ingest(client, data, [files.hours, files.timezones, files.groups], 4)
    for n, part in enumerate((lines[:500], lines[:1] + lines[500:])):
        batch = tmp_path / f"polls{n}.csv"
        batch.write_bytes(b"".join(part))
        cluster_batch.append_batch(client, data, Batch("polls", batch, batch.name))
    cluster_compact.compact_now(client, data)
    unique = cluster.one_per_instant(cluster.read_manifest(data))
    stride = cluster.key_stride(4)
    with duckdb.connect() as con:
        keys = con.execute(
            "SELECT store_key, store_id, "
            "replace(parse_path(filename)[-2], 'bucket=', '')::INTEGER AS bucket "
            f"FROM read_parquet('{data}/stores/*/*.parquet', filename = true)"
        ).fetchall()
        polls_keys = con.execute(
            "SELECT DISTINCT store_key, store_id "
            f"FROM read_parquet('{data}/polls/*/{unique}_0.parquet')"
        ).fetchall()
    assert len({key for key, _, _ in keys}) == len(keys) == len({i for _, i, _ in keys})
    assert all(bucket * stride < key < (bucket + 1) * stride for key, _, bucket in keys)
    assert set(polls_keys) <= {(key, store_id) for key, store_id, _ in keys}
    later = write_csv(tmp_path / "later.csv", HOURS_HEADER, [("a-new-store", 0, "09:00", "17:00")])
    cluster_batch.append_batch(client, data, Batch("hours", later, later.name))

    by_id = _task_tables(data, range(4), None)
    assert cluster.compacted_alone(
        data, range(4), cluster.committed(cluster.read_manifest(data)), unique
    )
    by_key = _task_tables(data, range(4), unique)
    assert by_key["polls"] == by_id["polls"] and len(by_id["polls"]) > 1000
    assert set(by_key["stores"]) == set(by_id["stores"])
    assert "a-new-store" in by_key["stores"] and by_key["stores"]["a-new-store"] < 0
    assert by_key["stores"] != by_id["stores"]  # the compaction's keys, not the task's own

    monkeypatch.setattr(cluster, "KEY_SPACE", 4 * 10)  # ten keys a bucket: too few
    cluster_compact.compact_now(client, data)  # (the workers keep their KEY_SPACE: the stride
    unique = cluster.one_per_instant(cluster.read_manifest(data))  # comes from the client)
    batches = cluster.committed(cluster.read_manifest(data))
    assert not any(cluster.bucket_files(data, cluster.STORES, b, batches) for b in range(4))
    assert not cluster.compacted_alone(data, range(4), batches, unique)
    assert _task_tables(data, range(4), unique)["polls"] == by_id["polls"]


def test_only_a_compaction_that_wrote_its_polls_one_per_instant_is_taken_as_such():
    batches = [{"seq": 1, "batch_id": "a" * 12, "kind": "polls"}]
    assert cluster.one_per_instant({"batches": batches}) is None
    older = {"seq": 2, "batch_id": "b" * 12, "kind": "compaction", "through_seq": 1}
    assert cluster.one_per_instant({"batches": [*batches, older]}) is None
    newer = {"seq": 3, "batch_id": "c" * 12, "kind": "compaction", "through_seq": 2}
    newer["polls_one_per_instant"] = True
    assert cluster.one_per_instant({"batches": [*batches, older, newer]}) == "000003-" + "c" * 12
    assert cluster.one_per_instant({"batches": [*batches, newer, older | {"seq": 4}]}) is None
