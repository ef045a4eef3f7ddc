"""The `storemon` command line: everything the project does, scriptable."""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import json
import logging
import shutil
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

import msgspec

from storemon import __version__
from storemon.append import MIN_KEEP_DAYS, BatchRetention, append_batch, as_csv, is_parquet
from storemon.client import append_via, ingest_via, keys_via, report_via, running_service
from storemon.cluster import DEFAULT_BUCKETS
from storemon.database import DEFAULT_DB, connect, has_table, scalar
from storemon.errors import DatabaseBusy, StoremonError
from storemon.generate import generate
from storemon.ingest import ingest
from storemon.keys import add_key, list_keys, revoke_key
from storemon.quality import finding_line, note_line
from storemon.report import OUTPUTS, copy_options, parse_as_of, run_report, write_report
from storemon.results import BatchAnswer, IngestResult, RejectCount
from storemon.snapshots import write_inputs

if TYPE_CHECKING:
    from storemon.api import Settings

BUNDLED = Path("data")


def say(message: str) -> None:
    print(message, flush=True)


def print_load(result: IngestResult) -> None:
    for f in result.files:
        say(
            f"{f.source:<15} {f.kept_rows:>10,} rows kept   {f.rejected:>6,} rejected"
            f"   {f.duplicates:>6,} duplicates counted once   ({f.data_rows:,} rows in {f.file})"
        )
    for why in result.rejected:
        say(f"  rejected {why.source}: {why.rows:,} x {why.reason} (e.g. {why.example()})")
    if result.rejected:
        say("  (every rejected row, with file, line and raw text: SELECT * FROM rejected_rows)")
    say(f"{result.stores:,} stores loaded in {result.seconds:.2f} s")
    found = [finding for finding in result.quality if finding.count > 0]
    if found:
        say("what the data means (every check: SELECT * FROM data_quality):")
    for finding in found:
        say(f"  warning: {finding_line(finding)}")


def cmd_ingest(args: argparse.Namespace) -> None:
    allow_empty = getattr(args, "allow_empty", False)  # `storemon demo` comes here too
    # What this command would create: a first load that fails leaves none of it behind, so that
    # a later `storemon report` does not take an empty new file for data loaded.
    db = Path(args.db)
    created = [
        path
        for path in (db, Path(f"{db}.wal"), Path(f"{db}.tmp"), db.parent / "snapshots")
        if not path.exists()
    ]
    folders = [folder for folder in (db.parent, *db.parent.parents) if not folder.exists()]
    try:
        con = connect(db)
    except DatabaseBusy:
        url = running_service(db)
        if url is None:
            raise
        say(f"{db} is held by the storemon service at {url}: handing the load to it")
        special, groups = getattr(args, "special_hours", None), getattr(args, "groups", None)
        print_load(
            ingest_via(
                url, db, args.status, args.hours, args.timezones, allow_empty, special, groups
            )
        )
        return
    try:
        if sys.stdout.isatty():
            con.execute("SET enable_progress_bar = true")  # DuckDB's own bar, for long steps
        say(f"loading into {db}")
        result = ingest(
            con,
            args.status,
            args.hours,
            args.timezones,
            log=say,
            allow_empty=allow_empty,
            special_hours=getattr(args, "special_hours", None),
            groups=getattr(args, "groups", None),
        )
    except BaseException:
        con.close()
        if db in created:  # a first load: nothing of it stays
            for path in created:
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)
            for folder in folders:  # innermost first; only if still empty
                with contextlib.suppress(OSError):
                    folder.rmdir()
        raise
    print_load(result)


def cmd_append(args: argparse.Namespace) -> None:
    batches = [
        (kind, path)
        for kind, path in (
            ("timezones", args.timezones),
            ("hours", args.hours),
            ("special_hours", args.special_hours),
            ("groups", args.groups),
            ("polls", args.polls),
        )
        if path is not None
    ]
    if not batches:
        raise StoremonError(
            "nothing to append: give --polls, --hours, --timezones, --special-hours and/or --groups"
        )
    try:
        con = connect(args.db)
    except DatabaseBusy:
        url = running_service(args.db)
        if url is None:
            raise
        say(f"{args.db} is held by the storemon service at {url}: handing the batches to it")
        for kind, path in batches:
            print_batch(append_via(url, args.db, kind, path, args.allow_empty), path)
        return
    with con:
        for kind, path in batches:
            with ExitStack() as scratch:
                media = "parquet" if is_parquet(path) else "text/csv"
                csv_path, offset = as_csv(path, media, kind, scratch)
                result = append_batch(
                    con,
                    kind,
                    csv_path,
                    shown=str(path),
                    keep_days=args.keep_days,
                    batch_retention=batch_retention(args),
                    line_offset=offset,
                    allow_empty=args.allow_empty,
                    alert_after=args.alert_after,
                )
            print_batch(result, path)
        write_inputs(con)


def batch_retention(args: argparse.Namespace) -> BatchRetention:
    return BatchRetention(keep=args.keep_batches or None, days=args.keep_batch_days or None)


def print_batch(result: BatchAnswer, file: Path) -> None:
    if result.repeated:
        say(
            f"{result.kind}: {file} was appended before as batch {result.batch_id}: nothing changed"
        )
        return
    say(
        f"{result.kind:<10} {result.kept:>10,} rows kept   {result.rejected:>6,} rejected"
        f"   {result.duplicates:>6,} counted once   ({result.rows_read:,} rows in {file},"
        f" batch {result.batch_id})"
    )
    for why in result.rejected_by_reason:
        say(f"  rejected: {why.rows:,} x {why.reason} (e.g. {why.example()})")
    say(f"latest poll now {result.latest_poll}")


# The report's files beside it (report.OUTPUTS), by option, and what their rows are.
ROWS_OF = {"outages": "outages", "summary": "stores", "rollups": "groups"}


def cmd_report(args: argparse.Namespace) -> None:
    as_of = parse_as_of(args.as_of, "--as-of") if args.as_of else None
    beside = {name: path for name in ROWS_OF if (path := getattr(args, name))}
    for path in (args.out, *beside.values()):
        copy_options(path)  # a suffix it cannot write is said before anything runs
    try:
        con = connect(args.db, read_only=True)
    except DatabaseBusy:
        url = running_service(args.db)
        if url is None:
            raise
        answer = report_via(
            url, args.out, as_of.strftime("%Y-%m-%d %H:%M:%S.%f") if as_of else None, beside
        )
        say(
            f"wrote {answer['stores']:,} stores to {args.out} (as of {answer['as_of']}), "
            f"computed by the storemon service at {url} as report {answer['report_id']}"
        )
        for path in beside.values():
            say(f"wrote {path}")
        notes = [tuple(note.values()) for note in answer.get("notes", [])]
    else:
        run = run_report(con, as_of, log=say if args.verbose else _quiet)
        write_report(con, args.out)
        when = f"as of {run.as_of}" if run.as_of else "no polls loaded"
        say(f"wrote {run.stores:,} stores to {args.out} ({when}) in {run.seconds:.2f} s")
        for name, path in beside.items():
            write_report(con, path, OUTPUTS[name])
            rows = scalar(con, f"SELECT count(*) FROM {OUTPUTS[name]}")
            say(f"wrote {rows:,} {ROWS_OF[name]} to {path}")
        notes = run.notes
    for note in notes:
        if note[1] > 0:
            say(f"  note: {note_line(*note)}")


def cmd_keys_add(args: argparse.Namespace) -> None:
    groups = args.group or None
    key = keys_via_service_or_db(
        args.db,
        lambda con: add_key(con, args.name, groups, args.write, args.admin),
        lambda url: keys_via(
            url,
            args.db,
            "POST",
            "/keys",
            {"name": args.name, "groups": groups, "write": args.write, "admin": args.admin},
        )["key"],
    )
    rights = ", ".join(r for r, on in (("write", args.write), ("admin", args.admin)) if on)
    reads = (
        "every store"
        if args.admin
        else "the stores of " + ", ".join(groups)
        if groups
        else "no store (a key without --group or --admin only writes, with --write)"
    )
    say(f"key {args.name!r} made: it reads {reads}{'; ' + rights if rights else ''}")
    say("it is shown this once (storemon keeps only its hash):")
    print(key)


def cmd_keys_list(args: argparse.Namespace) -> None:
    found = keys_via_service_or_db(
        args.db,
        lambda con: [msgspec.structs.asdict(k) for k in list_keys(con)],
        lambda url: keys_via(url, args.db, "GET", "/keys"),
    )
    for key in found:
        groups = (
            "every store"
            if key["admin"]
            else ", ".join(key["groups"])
            if key["groups"]
            else "no store"
        )
        rights = "admin" if key["admin"] else "write" if key["write"] else "read"
        state = f"revoked {key['revoked_at']}" if key["revoked_at"] else "current"
        print(f"{key['name']:<24} {rights:<6} {state:<30} {groups}")
    if not found:
        say("no keys yet (the service's token is its admin key): storemon keys add")


def cmd_keys_revoke(args: argparse.Namespace) -> None:
    revoked = keys_via_service_or_db(
        args.db,
        lambda con: revoke_key(con, args.name),
        lambda url: keys_via(url, args.db, "DELETE", f"/keys/{quote(args.name)}") == {},
    )
    if not revoked:
        raise StoremonError(f"no current key is named {args.name!r}")
    say(f"key {args.name!r} revoked")


def keys_via_service_or_db(db: Path, direct, through):
    """Do it on the database, or, when a running service holds it, through that service."""
    try:
        con = connect(db)
    except DatabaseBusy:
        url = running_service(db)
        if url is None:
            raise
        return through(url)
    with con:
        return direct(con)


def cmd_generate(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    files = generate(
        args.out,
        stores=args.stores,
        days=args.days,
        poll_minutes=args.poll_minutes,
        seed=args.seed,
        bad_rows=args.bad_rows,
    )
    say(
        f"wrote {files.stores:,} stores and {files.polls:,} polls to {args.out}/ "
        f"in {time.perf_counter() - started:.1f} s"
    )


def loopback(host: str) -> bool:
    """Whether listening on `host` serves this machine alone (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a name: it may resolve to anything
        return False


def serve_settings(args: argparse.Namespace) -> Settings:
    """What `storemon serve ARGS` serves: the app's settings from its command line."""
    from storemon.api import Settings
    from storemon.api.access import Reads
    from storemon.auth import service_token
    from storemon.limits import Limits
    from storemon.notify import parse_targets
    from storemon.notify.signing import notify_secret

    notify = parse_targets(args.notify, [tuple(pair) for pair in args.notify_group])
    if (args.scheduler is None) != (args.data is None):
        raise StoremonError("--scheduler and --data go together: reports on a cluster's data")
    host = "[::1]" if args.host == "::1" else args.host
    url = f"http://{host}:{args.port}"
    hosts = {args.host, "localhost", "127.0.0.1", "::1", *args.allowed_host}
    if args.public_url:
        hosts.add(urlsplit(args.public_url).hostname or "")
    reads: Reads = args.reads or ("open" if loopback(args.host) else "key")
    say(
        "reads: open (no key needed to read; the service listens on this machine alone)"
        if reads == "open"
        else "reads: key (every read route and page needs a key: storemon keys add)"
    )
    return Settings(
        db=args.db,
        token=service_token(args.db),
        reads=reads,
        workers=args.workers,
        url=url,
        allowed_hosts=tuple(sorted(hosts - {""})),
        public_url=args.public_url,
        limits=Limits(
            keep_reports=args.keep_reports or None,
            keep_report_days=args.keep_report_days,
            max_waiting=args.max_waiting,
            keep_days=args.keep_days,
            keep_batches=batch_retention(args).keep,
            keep_batch_days=batch_retention(args).days,
        ),
        max_body=args.max_body * 1024 * 1024,
        inbox=args.inbox,
        inbox_settle=args.inbox_settle,
        scheduler=args.scheduler,
        data=args.data,
        alert_after=args.alert_after,
        notify=notify,
        notify_secret=notify_secret(args.db) if notify else "",
    )


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    from storemon.api import create_app, handler_threads
    from storemon.api.protocol import guarded_protocol

    settings = serve_settings(args)
    handler_threads()
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    uvicorn.run(
        create_app(settings),
        host=args.host,
        port=args.port,
        # uvicorn's lines (one a request) go to the app's logging, which Litestar writes from a
        # thread of its own; uvicorn's own handlers wrote on the event loop, a fifth of its time
        log_config=None,
        log_level="info",
        http=guarded_protocol(args.header_timeout),
        loop="auto",  # uvloop (a dependency, pyproject.toml) where it is installed
        timeout_keep_alive=args.idle_timeout,
        limit_concurrency=args.max_connections,
    )


def cmd_demo(args: argparse.Namespace) -> None:
    """Load the bundled sample if the database has no data yet, then serve it."""
    url = f"http://{args.host}:{args.port}"
    say(f"storemon: open {url}/ui/ in a browser (the pages), or use the API below")
    with connect(args.db) as con:
        empty = not has_table(con, "polls")
    if empty:
        args.status = BUNDLED / "store_status.csv"
        args.hours = BUNDLED / "menu_hours.csv"
        args.timezones = BUNDLED / "timezones.csv"
        args.special_hours = BUNDLED / "special_hours.csv"
        args.groups = BUNDLED / "store_groups.csv"
        cmd_ingest(args)
    else:
        say(f"{args.db} already holds data: serving it (`storemon ingest` loads other files)")
    say(
        f"""
storemon is starting on {url} (Ctrl-C stops it). The pages: {url}/ui/
From another terminal:

  curl -s -X POST {url}/trigger_report
  curl -s "{url}/get_report?report_id=REPORT_ID"      # "Running" until done, then the CSV
  curl -s -H "Accept: application/json" {url}/get_report/REPORT_ID
  curl -s {url}/reports                               # recent reports
  # API documentation: {url}/schema
  # loading new files needs the key: -H "Authorization: Bearer $(cat {args.db}.token)"
"""
    )
    cmd_serve(args)


def cmd_cluster_ingest(args: argparse.Namespace) -> None:
    from storemon import cluster

    started = time.perf_counter()
    with cluster.connect_cluster(args.scheduler) as client:
        done = cluster.ingest(client, args.data, args.files, args.buckets)
    for batch in sorted(done, key=lambda b: b["seq"]):
        say(
            f"{batch['kind']:<10} {batch['kept']:>12,} rows kept {batch['rejected']:>7,} rejected"
            f"   ({batch['rows']:,} rows in {batch['file']})"
        )
        for why in (msgspec.convert(found, RejectCount) for found in batch["reasons"]):
            say(f"  rejected: {why.rows:,} x {why.reason} (e.g. {why.example()})")
    say(f"ingested {len(done)} file(s) into {args.data} in {time.perf_counter() - started:.2f} s")


def cmd_cluster_compact(args: argparse.Namespace) -> None:
    from storemon import cluster, cluster_compact

    with cluster.connect_cluster(args.scheduler) as client:
        done = cluster_compact.compact_now(client, args.data)
    if done is None:
        say(f"{args.data} holds no batches: nothing to compact")
        return
    say(
        f"compacted {done['files_merged']:,} files into one a bucket and kind in "
        f"{done['seconds']:.2f} s (the merged files go in {cluster.RETIRE_AFTER / 60:.0f} min)"
    )


def cmd_cluster_report(args: argparse.Namespace) -> None:
    from storemon import cluster

    as_of = parse_as_of(args.as_of, "--as-of") if args.as_of else None
    beside = {name: path for name in ROWS_OF if (path := getattr(args, name))}
    with cluster.connect_cluster(args.scheduler) as client:
        done = cluster.report(client, args.data, args.out, as_of, beside)
    slowest = max(done["tasks"], key=lambda task: task["seconds"])
    say(
        f"wrote {done['stores']:,} stores to {args.out} in {done['seconds']:.2f} s: "
        f"{done['buckets']} buckets in {len(done['tasks'])} tasks, the slowest "
        f"{slowest['seconds']:.2f} s ({cluster.buckets_named(slowest['buckets'])}, "
        f"{slowest['polls']:,} polls)"
    )


def cmd_bench(args: argparse.Namespace) -> None:
    from storemon.bench import render, run_bench

    out = args.json or args.data / "results.json"
    compare_with = args.compare or (out if out.is_file() else None)
    earlier = json.loads(compare_with.read_text()) if compare_with else None
    results = run_bench(
        args.stores, args.repeat, args.data, say, args.buckets, args.days, args.load_seconds
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print()
    print(render(results, earlier))
    print(f"\n(written to {out}{f'; before = {compare_with}' if earlier else ''})")


def cmd_loadtest(args: argparse.Namespace) -> None:
    from storemon.bench.data import datasets, ingest_once, prepare
    from storemon.bench.load import run_load

    data = prepare(datasets(args.stores)["1x"], args.data, say)
    if not data.db.is_file():
        say(f"loading {data.describe()} ...")
        ingest_once(data, data.db)
    say(f"{args.users} readers for {args.seconds} s on {data.describe()} ...")
    load = run_load(data, args.users, args.seconds, background_reports=not args.no_reports)
    print(load.table())
    print()
    print(load.verdict())


def _quiet(_: str) -> None:
    pass


def alert_after_option(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--alert-after",
        type=at_least(1),
        default=1,
        metavar="K",
        help="a store is down now when its last K polls while open are all inactive (default 1)",
    )


def at_least(low: int):
    def parse(text: str) -> int:
        value = int(text)
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}")
        return value

    return parse


def days(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of days") from None
    if not 0 <= value <= 100 * 365:
        raise argparse.ArgumentTypeError("must be at least 0 and at most 36500 days")
    return value


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError("must be more than 0 and at most 3600 seconds")
    return value


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="storemon",
        description="Uptime and downtime of stores during their business hours, from polls.",
    )
    top.add_argument("--version", action="version", version=f"storemon {__version__}")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, handler, help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        sub.set_defaults(handler=handler)
        return sub

    def keep_days_option(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--keep-days",
            type=at_least(MIN_KEEP_DAYS),
            metavar="N",
            help=f"after each batch, drop polls older than the latest poll minus N days "
            f"(N >= {MIN_KEEP_DAYS}; default: keep everything)",
        )
        sub.add_argument(
            "--keep-batches",
            type=at_least(0),
            default=10_000,
            metavar="N",
            help="the batch log remembers the newest N appended batches (their row, "
            "Idempotency-Key and rejected rows; default 10000, 0 all)",
        )
        sub.add_argument(
            "--keep-batch-days",
            type=days,
            default=30,
            metavar="D",
            help="and forgets those older than D days (default 30, 0: no age limit)",
        )

    def db_option(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--db", type=Path, default=DEFAULT_DB, help=f"database file (default: {DEFAULT_DB})"
        )

    sub = command("ingest", cmd_ingest, "load the three CSV files (replaces what was loaded)")
    db_option(sub)
    sub.add_argument("--status", type=Path, required=True, help="store_status.csv (polls)")
    sub.add_argument("--hours", type=Path, required=True, help="menu_hours.csv (business hours)")
    sub.add_argument("--timezones", type=Path, required=True, help="timezones.csv")
    sub.add_argument(
        "--special-hours",
        type=Path,
        help="special_hours.csv (optional: the dates a store keeps other hours, or is closed)",
    )
    sub.add_argument(
        "--groups",
        type=Path,
        help="store_groups.csv (optional: store_id, group; a store may be in several groups)",
    )
    sub.add_argument(
        "--allow-empty",
        action="store_true",
        help="load a file that has a header and no rows, or rows none of which is usable "
        "(refused by default: it would replace the loaded data with nothing)",
    )

    sub = command(
        "append",
        cmd_append,
        "add batches to the loaded data (polls, hours, zones, special hours, groups; CSV or "
        "Parquet)",
    )
    db_option(sub)
    sub.add_argument("--polls", type=Path, help="polls (store_id, status, timestamp_utc)")
    sub.add_argument("--hours", type=Path, help="business hours: replace the named stores' hours")
    sub.add_argument("--timezones", type=Path, help="time zones: replace the named stores' zone")
    sub.add_argument(
        "--special-hours",
        type=Path,
        help="special hours: replace the named stores' special rows of the dates named",
    )
    sub.add_argument("--groups", type=Path, help="store groups: replace the named stores' groups")
    keep_days_option(sub)
    alert_after_option(sub)
    sub.add_argument(
        "--allow-empty",
        action="store_true",
        help="append a file that has rows none of which is usable (refused by default)",
    )

    sub = command("report", cmd_report, "compute the report and write it as CSV")
    db_option(sub)
    sub.add_argument(
        "--out", type=Path, required=True, help="where to write the report (.csv or .parquet)"
    )
    sub.add_argument(
        "--outages", type=Path, help="also write its outages, one row each (.csv or .parquet)"
    )
    sub.add_argument(
        "--summary", type=Path, help="also write how often each store went down (.csv or .parquet)"
    )
    sub.add_argument(
        "--rollups", type=Path, help="also write its roll-ups, one row per group (.csv or .parquet)"
    )
    sub.add_argument("-v", "--verbose", action="store_true", help="time every SQL step")
    sub.add_argument(
        "--as-of", help='report as of this UTC instant, "YYYY-MM-DD HH:MM:SS" (default: last poll)'
    )

    def serve_options(sub: argparse.ArgumentParser) -> None:
        db_option(sub)
        sub.add_argument("--host", default="127.0.0.1", help="address to listen on")
        sub.add_argument("--port", type=int, default=8000)
        sub.add_argument("--workers", type=int, default=2, help="reports computed at once")
        alert_after_option(sub)
        sub.add_argument(
            "--notify",
            action="append",
            default=[],
            metavar="URL",
            help="send each alert event there: an http(s):// URL gets a signed JSON POST, any "
            "other an Apprise message (slack://, mailto://, ntfy://, ...); repeat for more",
        )
        sub.add_argument(
            "--notify-group",
            action="append",
            nargs=2,
            default=[],
            metavar=("GROUP", "URL"),
            help="send the events of GROUP's stores alone to URL; repeat for more",
        )
        sub.add_argument(
            "--allowed-host",
            action="append",
            default=[],
            metavar="NAME",
            help="a name clients reach the service by (besides --host, localhost, 127.0.0.1 "
            "and ::1); repeat for more, `*` for any. Requests for other hosts are refused.",
        )
        sub.add_argument(
            "--reads",
            choices=("open", "key"),
            help="open: reading needs no key; key: every read route and page needs one "
            "(default: open when --host is loopback, key otherwise: a service the network "
            "reaches serves data to no one by default)",
        )
        sub.add_argument(
            "--public-url",
            help="the service's address as clients see it (e.g. behind a proxy), for the links "
            "in answers (default: relative links)",
        )
        sub.add_argument(
            "--keep-reports",
            type=at_least(0),
            default=100,
            metavar="N",
            help="keep the newest N finished reports, remove older ones' rows and files "
            "(default 100; 0 keeps all)",
        )
        sub.add_argument(
            "--keep-report-days",
            type=days,
            metavar="D",
            help="remove finished reports older than D days (default: no age limit)",
        )
        sub.add_argument(
            "--max-waiting",
            type=at_least(1),
            default=100,
            metavar="N",
            help="reports queued or computing at once; more triggers get 503 (default 100)",
        )
        keep_days_option(sub)
        sub.add_argument(
            "--max-body",
            type=at_least(1),
            default=256,
            metavar="MB",
            help="the largest batch a POST may send, in MB; larger gets 413 (default 256)",
        )
        sub.add_argument(
            "--header-timeout",
            type=positive_seconds,
            default=10.0,
            metavar="SECONDS",
            help="close a connection whose request headers are not all in within this many "
            "seconds (default 10)",
        )
        sub.add_argument(
            "--idle-timeout",
            type=at_least(1),
            default=5,
            metavar="SECONDS",
            help="close a kept-alive connection idle this long after an answer (default 5)",
        )
        sub.add_argument(
            "--max-connections",
            type=at_least(1),
            default=1000,
            metavar="N",
            help="connections and requests at once; a request beyond them gets 503 (default 1000)",
        )
        sub.add_argument(
            "--inbox",
            type=Path,
            metavar="DIR",
            help="append every file that appears in DIR (written under a temporary name and "
            "renamed in), then move it to DIR/done/ or DIR/failed/ with a .error file",
        )
        sub.add_argument(
            "--inbox-settle",
            type=positive_seconds,
            default=2.0,
            metavar="SECONDS",
            help="take a file from --inbox only once it has been left untouched this long "
            "(default 2); one not ending in a line break waits ten times longer",
        )
        sub.add_argument(
            "--scheduler",
            help="compute reports on a Dask cluster (tcp://host:8786, or local:N) from --data",
        )
        sub.add_argument(
            "--data", type=Path, help="the cluster's data folder (storemon cluster ingest)"
        )

    serve_options(command("serve", cmd_serve, "serve the report API"))
    serve_options(
        command("demo", cmd_demo, "load the bundled data in data/ if the database is empty; serve")
    )

    sub = command("keys", lambda _: None, "make, list and revoke the keys owners and pollers use")
    key_commands = sub.add_subparsers(dest="keys_command", required=True, metavar="STEP")
    step = key_commands.add_parser("add", help="make a key; it is printed once, on the last line")
    step.set_defaults(handler=cmd_keys_add)
    db_option(step)
    step.add_argument("--name", required=True, help="what the key is called (its holder)")
    step.add_argument(
        "--group",
        action="append",
        default=[],
        metavar="G",
        help="it reads the stores of this group (repeat for more; none: no store but with --admin)",
    )
    step.add_argument("--write", action="store_true", help="it may append batches (a poller)")
    step.add_argument("--admin", action="store_true", help="it may do everything")
    step = key_commands.add_parser("list", help="the keys, their groups and rights (no key)")
    step.set_defaults(handler=cmd_keys_list)
    db_option(step)
    step = key_commands.add_parser("revoke", help="revoke a key at once")
    step.set_defaults(handler=cmd_keys_revoke)
    db_option(step)
    step.add_argument("name", help="the key's name")

    sub = command("generate", cmd_generate, "write synthetic real-shaped input files")
    sub.add_argument("--out", type=Path, required=True, help="folder for the three CSV files")
    sub.add_argument("--stores", type=int, default=300)
    sub.add_argument("--days", type=int, default=7)
    sub.add_argument("--poll-minutes", type=int, default=60, help="one poll per store this often")
    sub.add_argument("--seed", type=int, default=42)
    sub.add_argument("--bad-rows", action="store_true", help="append a few unreadable rows")

    sub = command(
        "cluster",
        lambda _: None,
        "the same SQL on a Dask cluster (pip install 'storemon[cluster]')",
    )
    cluster_commands = sub.add_subparsers(dest="cluster_command", required=True, metavar="STEP")

    def cluster_command(name: str, handler, help: str) -> argparse.ArgumentParser:
        step = cluster_commands.add_parser(name, help=help, description=help)
        step.set_defaults(handler=handler)
        step.add_argument(
            "--scheduler",
            required=True,
            help="a Dask scheduler's address (tcp://host:8786), or local:N for N worker "
            "processes on this machine",
        )
        step.add_argument(
            "--data", type=Path, required=True, help="the data folder every worker can read"
        )
        return step

    step = cluster_command(
        "ingest", cmd_cluster_ingest, "add input files to a data folder, one task per file"
    )
    step.add_argument(
        "files", type=Path, nargs="+", metavar="FILE",
        help="polls, hours or time-zone files (recognised by their columns), CSV or Parquet",
    )  # fmt: skip
    step.add_argument(
        "--buckets", type=at_least(1), metavar="K",
        help=f"store buckets of a new data folder (default {DEFAULT_BUCKETS}; fixed once made)",
    )  # fmt: skip
    cluster_command(
        "compact", cmd_cluster_compact, "merge each bucket's files of each kind into one"
    )
    step = cluster_command(
        "report", cmd_cluster_report, "compute the report over a data folder, one task a bucket"
    )
    step.add_argument("--out", type=Path, required=True, help="the report (.csv or .parquet)")
    step.add_argument("--outages", type=Path, help="also its outages (.csv or .parquet)")
    step.add_argument("--summary", type=Path, help="also its outage summary (.csv or .parquet)")
    step.add_argument("--rollups", type=Path, help="also its roll-ups per group (.csv or .parquet)")
    step.add_argument("--as-of", help="as of this UTC instant (default: the latest poll)")

    sub = command("bench", cmd_bench, "measure load, report and API against the speed targets")
    sub.add_argument("--stores", type=int, default=14_000, help="stores in the 1x data set")
    sub.add_argument("--repeat", type=int, default=5, help="timed runs per workload")
    sub.add_argument(
        "--buckets", type=at_least(1), default=DEFAULT_BUCKETS, metavar="K",
        help=f"store buckets of the cluster rows' data folders (default {DEFAULT_BUCKETS})",
    )  # fmt: skip
    sub.add_argument(
        "--days", type=at_least(1), default=7,
        help="days of polls in each data set, hourly batches in the live row (default 7: a week)",
    )  # fmt: skip
    sub.add_argument(
        "--load-seconds", type=at_least(1), default=30,
        help="how long the concurrent row's readers read (default 30)",
    )  # fmt: skip
    sub.add_argument("--data", type=Path, default=Path("data/bench"), help="cached data sets")
    sub.add_argument("--json", type=Path, help="results file (default: DATA/results.json)")
    sub.add_argument(
        "--compare", type=Path, help="earlier results to show beside (default: the last run)"
    )

    sub = command(
        "loadtest", cmd_loadtest, "many readers at once (Locust): req/s and percentiles per route"
    )
    sub.add_argument("--stores", type=int, default=14_000, help="stores in the data set")
    sub.add_argument("--users", type=at_least(1), default=50, help="simulated readers at once")
    sub.add_argument("--seconds", type=at_least(1), default=30, help="how long they read")
    sub.add_argument(
        "--no-reports", action="store_true", help="no reports computing in the background"
    )
    sub.add_argument("--data", type=Path, default=Path("data/bench"), help="cached data sets")
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        args.handler(args)
    except StoremonError as error:
        print(f"storemon: error: {error}", file=sys.stderr)
        return 2
    return 0
