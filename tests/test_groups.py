"""Store groups (sql/README.md, "Groups"): loading and appending them, their refusals, their
batches, the drop folder, the cluster, an old database, and what data quality says of them."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import duckdb

from storemon.database import connect
from storemon.ingest import ingest
from tests.conftest import GROUPS_HEADER, HOURS_HEADER, STATUS_HEADER, ZONES_HEADER, write_csv
from tests.server import in_process, storemon
from tests.test_live import settled

POLLS = [("s1", "active", "2023-01-12 12:00:00"), ("s2", "active", "2023-01-12 12:00:00")]


def groups_of(workspace) -> list[tuple]:
    return workspace.query(
        "SELECT store_id, group_name FROM store_groups JOIN stores USING (store_key) ORDER BY ALL"
    )


def test_the_file_is_read_generously_and_its_unusable_rows_kept_with_line_and_reason(workspace):
    long = "x" * 201
    text = (
        "\ufeffStore_ID , Group_Name\r\n"
        '"s1",owner:acme\r\n'
        "s1, brand:pizza co \r\n"
        "s1,owner:acme\r\n"  # the same (store, group) again: counted once
        '"s2","region:north, east"\r\n'  # a comma inside quotes
        "s2,\r\n"
        f"s2,{long}\r\n"
        "s2,bad\ttab\r\n"
        ",owner:acme\r\n"
        "s3,owner:acme,extra\r\n"
    )
    path = workspace.root / "groups.csv"
    path.write_bytes(text.encode("utf-8"))
    status, hours, zones = workspace.files(status=POLLS)
    result = ingest(workspace.con, status, hours, zones, allow_empty=True, groups=path)
    files = {row.source: row for row in result.files}
    row = files["store_groups"]
    assert (row.data_rows, row.kept_rows, row.duplicates, row.rejected) == (9, 3, 1, 5)
    rejected = workspace.query(
        "SELECT line, reason, detail FROM rejected_rows WHERE source = 'store_groups' ORDER BY line"
    )
    assert [(line, reason) for line, reason, _ in rejected] == [
        (6, "missing group"),
        (7, "group too long"),
        (8, "group has control characters"),
        (9, "missing store_id"),
        (10, "wrong number of fields"),
    ]
    assert rejected[1][2].startswith("the group is 201 characters long; a group has at most 200")
    assert rejected[2][2] == 'group "bad\\x09tab" has control characters (shown as \\xNN)'
    assert groups_of(workspace) == [
        ("s1", "brand:pizza co"),
        ("s1", "owner:acme"),
        ("s2", "region:north, east"),
    ]


def test_a_file_of_utf16_text_is_read_as_the_others_are(workspace):
    path = workspace.root / "groups.csv"
    path.write_bytes(
        ",".join(GROUPS_HEADER).encode("utf-16") + "\r\ns1,owner:é\r\n".encode("utf-16-le")
    )
    status, hours, zones = workspace.files(status=POLLS)
    ingest(workspace.con, status, hours, zones, allow_empty=True, groups=path)
    assert groups_of(workspace) == [("s1", "owner:é")]


def test_a_load_without_groups_has_none_and_does_not_list_the_file(workspace):
    workspace.load(status=POLLS, groups=[("s1", "owner:acme")])
    assert groups_of(workspace) == [("s1", "owner:acme")]
    result = workspace.load(status=POLLS)
    assert groups_of(workspace) == []
    assert [row.source for row in result.files] == ["polls", "business_hours", "timezones"]


def test_a_batch_replaces_all_the_groups_of_the_stores_it_names(workspace):
    workspace.load(
        status=POLLS,
        groups=[("s1", "owner:acme"), ("s1", "brand:b1"), ("s2", "owner:bob")],
    )
    answer = workspace.append("groups", [("s1", "owner:carol"), ("s3", "owner:acme"), ("s1", "")])
    assert (answer.rows_read, answer.kept, answer.rejected) == (3, 2, 1)
    assert groups_of(workspace) == [
        ("s1", "owner:carol"),
        ("s2", "owner:bob"),
        ("s3", "owner:acme"),
    ]
    # the same batch again changes nothing; an earlier one again is a real change back
    assert workspace.append("groups", [("s1", "owner:carol"), ("s3", "owner:acme"), ("s1", "")])
    assert groups_of(workspace)[0] == ("s1", "owner:carol")


def test_batches_in_any_order_of_stores_equal_one_load(workspace):
    first = [("s1", "owner:acme"), ("s1", "brand:b1")]
    second = [("s2", "owner:acme")]
    workspace.load(status=POLLS, groups=first + second)
    once = groups_of(workspace)
    for batches in ([first, second], [second, first]):
        workspace.load(status=POLLS)
        for number, batch in enumerate(batches):
            workspace.append("groups", batch, name=f"b{number}.csv")
        assert groups_of(workspace) == once


def test_the_cli_and_the_api_take_groups(db, tmp_path):
    batch = write_csv(tmp_path / "owners.csv", GROUPS_HEADER, [("s1", "owner:acme")])
    printed = storemon("append", "--db", str(db), "--groups", str(batch))
    assert re.search(r"groups +1 rows kept +0 rejected", printed), printed
    with in_process(db) as server:
        for media, body in (
            ("text/csv", b"store_id,group\ns2,owner:acme\ns2,brand:b1\n"),
            ("application/json", b'[{"store_id": "s3", "group": "owner:bob"}]'),
        ):
            code, _, content = server.request(
                "POST", "/groups", data=body, headers={"Content-Type": media, **server.authorized()}
            )
            assert code == 201, content
            assert json.loads(content)["kind"] == "groups"
        code, _, _ = server.request(
            "POST", "/groups", data=b"store_id,group\ns4,x\n", headers={"Content-Type": "text/csv"}
        )
        assert code == 401
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute(
            "SELECT store_id, group_name FROM store_groups JOIN stores USING (store_key) "
            "ORDER BY ALL"
        ).fetchall() == [("s1", "owner:acme"), ("s2", "brand:b1"), ("s2", "owner:acme"),
                         ("s3", "owner:bob")]  # fmt: skip


def test_ingest_takes_groups_from_the_cli_and_copies_them_for_analysts(tmp_path):
    files = [
        write_csv(tmp_path / "s.csv", STATUS_HEADER, POLLS),
        write_csv(tmp_path / "h.csv", HOURS_HEADER, []),
        write_csv(tmp_path / "z.csv", ZONES_HEADER, []),
        write_csv(tmp_path / "g.csv", GROUPS_HEADER, [("s1", "owner:acme")]),
    ]
    db = tmp_path / "storemon.duckdb"
    options = ("--status", "--hours", "--timezones", "--groups")
    arguments = [text for pair in zip(options, map(str, files), strict=True) for text in pair]
    printed = storemon("ingest", "--db", str(db), *arguments, "--allow-empty")
    assert re.search(r"store_groups +1 rows kept", printed), printed
    copy = tmp_path / "snapshots" / "store_groups.parquet"
    with duckdb.connect() as con:
        assert con.execute("SELECT count(*) FROM read_parquet(?)", [str(copy)]).fetchone() == (1,)


def test_the_drop_folder_knows_a_groups_file_by_its_columns(db, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    with in_process(db, "--inbox", str(inbox), "--inbox-settle", "0.2"):
        (inbox / "owners.csv").write_text("store_id,group\ns1,owner:acme\n")
        settled(inbox, lambda: any((inbox / "done").glob("*")))
    assert [p.name for p in (inbox / "done").iterdir()] == ["owners.csv"]
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM store_groups").fetchone() == (1,)


def test_a_database_loaded_before_groups_gets_an_empty_table(db):
    with connect(db) as con:
        con.execute("DROP TABLE store_groups")
    with connect(db, read_only=True) as con:  # an empty TEMP table of its own
        assert con.execute("SELECT count(*) FROM store_groups").fetchone() == (0,)
    with connect(db) as con:  # the table, empty
        assert con.execute("SELECT count(*) FROM store_groups").fetchone() == (0,)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM store_groups").fetchone() == (0,)


def test_data_quality_says_what_groups_cannot_mean(workspace):
    workspace.load(status=POLLS, groups=[("ghost", "owner:acme"), ("s1", "owner:acme")])
    found = {
        finding: (count, examples)
        for finding, count, examples in workspace.query(
            "SELECT finding, count, examples FROM data_quality WHERE source = 'store_groups'"
        )
    }
    assert found == {
        "groups of stores without polls": (1, ["ghost"]),
        "polled stores in no group": (1, ["s2"]),
    }
    workspace.load(status=POLLS)  # no groups at all: no store is said to be in none
    assert workspace.query(
        "SELECT count FROM data_quality WHERE finding = 'polled stores in no group'"
    ) == [(0,)]


# --- roll-ups (sql/README.md, rule 10) ------------------------------------------------------

NOW = datetime(2023, 1, 12, 19, 0, tzinfo=UTC)  # 13:00 in America/Chicago (the default zone)


def test_a_groups_figures_are_summed_exactly_then_rounded_once(workspace):
    # each store is open the last 7.5 s before now and up: 0.125 min, 0.13 in its report row;
    # their group's two add up to 0.25 min exactly (0.26 from the rounded rows)
    stores = ("s1", "s2")
    workspace.load(
        status=[(s, "active", "2023-01-12 18:59:55") for s in stores],
        hours=[(s, 3, "12:59:52.5", "13:00:00") for s in stores],
        groups=[(s, "owner:acme") for s in stores],
    )
    report = workspace.report(NOW)
    assert [report[s]["uptime_last_hour"] for s in stores] == [0.13, 0.13]
    row = workspace.rollups()["owner:acme"]
    assert (row["stores"], row["stores_with_evidence"]) == (2, 2)
    assert float(row["uptime_last_hour"]) == 0.25
    assert float(row["uptime_ratio_last_hour"]) == 1.0


def test_a_store_in_two_groups_counts_in_both_and_a_group_outside_the_report_has_no_row(
    workspace,
):
    workspace.load(
        status=[
            ("s1", "inactive", "2023-01-12 18:00:00"),
            ("s1", "inactive", "2023-01-12 18:30:00"),
            ("s2", "active", "2023-01-12 18:00:00"),
            ("s2", "active", "2023-01-12 18:30:00"),
            ("late", "active", "2023-01-12 20:00:00"),  # after now: not in the report
        ],
        groups=[
            ("s1", "owner:acme"),
            ("s1", "brand:b1"),
            ("s2", "owner:acme"),
            ("late", "owner:late"),
            ("nowhere", "owner:ghost"),  # no polls at all
        ],
    )
    workspace.report(NOW)
    rollups = workspace.rollups()
    assert list(rollups) == ["brand:b1", "owner:acme"]
    acme, brand = rollups["owner:acme"], rollups["brand:b1"]
    assert (acme["stores"], acme["down_now"], acme["outages_last_week"]) == (2, 1, 1)
    assert (brand["stores"], brand["down_now"]) == (1, 1)
    # 24x7 (no hours loaded): in the last hour s1 is down 60 min and s2 up 60 min
    assert (float(acme["uptime_last_hour"]), float(acme["downtime_last_hour"])) == (60.0, 60.0)
    assert float(acme["uptime_ratio_last_hour"]) == 0.5
    assert float(brand["uptime_ratio_last_hour"]) == 0.0


def test_a_group_without_up_or_down_time_has_an_empty_ratio(workspace):
    workspace.load(
        status=[("s1", "active", "2023-01-12 18:00:00")],
        hours=[("s1", 0, "09:00", "10:00")],  # open only on Mondays: no poll is evidence
        groups=[("s1", "owner:acme")],
    )
    workspace.report(NOW)
    row = workspace.rollups()["owner:acme"]
    assert (row["stores"], row["stores_with_evidence"]) == (1, 0)
    assert [row[f"uptime_ratio_last_{w}"] for w in ("hour", "day", "week")] == [None] * 3


def test_the_cli_and_the_api_give_the_rollups_with_exactly_their_columns(db, tmp_path):
    with connect(db) as con:
        stores = con.execute("SELECT store_id FROM stores ORDER BY store_id LIMIT 3").fetchall()
    batch = write_csv(tmp_path / "g.csv", GROUPS_HEADER, [(s, "owner:acme") for (s,) in stores])
    storemon("append", "--db", str(db), "--groups", str(batch))
    out = tmp_path / "rollups.csv"
    printed = storemon(
        "report", "--db", str(db), "--out", str(tmp_path / "r.csv"), "--rollups", str(out)
    )
    assert "wrote 1 groups to" in printed
    lines = out.read_text().splitlines()
    assert lines[0] == ROLLUP_HEADER
    assert lines[1].startswith("owner:acme,3,")
    with in_process(db) as server:
        report_id = server.trigger()
        assert server.wait(report_id)[0] == 200
        _, answer = server.json("GET", f"/get_report/{report_id}")
        assert answer["rollups_csv_url"] == f"/reports/{report_id}/rollups.csv"
        code, _, body = server.request("GET", answer["rollups_csv_url"])
        assert code == 200 and body.decode().splitlines() == lines
        code, _, body = server.request("GET", answer["rollups_parquet_url"])
        assert code == 200 and body.startswith(b"PAR1")


ROLLUP_HEADER = (
    "group,stores,stores_with_evidence,uptime_last_hour,uptime_last_day,uptime_last_week,"
    "downtime_last_hour,downtime_last_day,downtime_last_week,outages_last_hour,"
    "outages_last_day,outages_last_week,down_now,uptime_ratio_last_hour,uptime_ratio_last_day,"
    "uptime_ratio_last_week"
)


def test_a_load_that_leaves_the_optional_files_out_has_their_rows_tables_empty_and_alike(
    workspace,
):
    shapes = {}
    for given in (True, False, False):  # the second leaves them out, the third reuses that
        workspace.load(
            status=POLLS,
            groups=[("s1", "owner:a")] if given else None,
            special=[("s1", "2023-01-11", "", "")] if given else None,
        )
        for table in ("group_rows", "special_hours_rows"):
            shape = workspace.query(f"SELECT column_name, column_type FROM (DESCRIBE {table})")
            count = workspace.query(f"SELECT count(*) FROM {table}")[0][0]
            shapes.setdefault(table, []).append((shape, count))
    for table, seen in shapes.items():
        assert seen[0][0] == seen[1][0] == seen[2][0], table
        assert [count for _, count in seen] == [1, 0, 0], table
