"""Alerts through the service (storemon/api/alerts.py, storemon/notify/): GET /alerts, the
board, /metrics parsed by prometheus-client's own parser, and delivery at least once to real
local receivers that fail, time out, come back, and to a service killed before it delivered."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
from prometheus_client.parser import text_string_to_metric_families

from storemon.append import append_batch
from storemon.ingest import ingest
from storemon.keys import add_key
from storemon.notify import Notifier, Target
from storemon.notify.signing import verify
from tests.conftest import GROUPS_HEADER, HOURS_HEADER, STATUS_HEADER, ZONES_HEADER, write_csv
from tests.receivers import eventually, receiving
from tests.server import ROOT, free_port, in_process, serving

SECRET = "s3cret-for-the-tests-only"
POLLS = [  # Monday 8 January 2024, UTC stores open 24x7
    ("a", "active", "2024-01-08 09:00:00"),
    ("b", "active", "2024-01-08 09:00:00"),
]
DOWN = (
    "store_id,status,timestamp_utc\n"
    "a,inactive,2024-01-08 10:00:00\n"
    "b,inactive,2024-01-08 10:00:00\n"
)
BACK = "store_id,status,timestamp_utc\na,active,2024-01-08 11:00:00\n"


@pytest.fixture
def db(tmp_path) -> Path:
    path = tmp_path / "storemon.duckdb"
    with duckdb.connect(str(path)) as con:
        ingest(
            con,
            write_csv(tmp_path / "p.csv", STATUS_HEADER, POLLS),
            write_csv(tmp_path / "h.csv", HOURS_HEADER, []),
            write_csv(tmp_path / "z.csv", ZONES_HEADER, [("a", "UTC"), ("b", "UTC")]),
            groups=write_csv(
                tmp_path / "g.csv", GROUPS_HEADER, [("a", "owner:acme"), ("b", "owner:other")]
            ),
            allow_empty=True,
        )
    return path


def read(service, path: str):
    status, body = service.json("GET", path)
    assert status == 200, body
    return body


def post(service, path: str, body: str, token: str | None = None) -> dict:
    status, _, answer = service.send(
        "POST",
        path,
        body.encode(),
        {"Authorization": f"Bearer {token or service.token}", "Content-Type": "text/csv"},
        30,
    )
    assert status == 201, answer
    return json.loads(answer)


def test_alerts_after_a_seq_oldest_first_and_each_owner_sees_only_its_stores(db):
    with duckdb.connect(str(db)) as con:
        acme = add_key(con, "acme", groups=["owner:acme"])
    with in_process(db) as service:
        assert post(service, "/polls", DOWN)["events"] == 2
        assert post(service, "/polls", BACK)["events"] == 1
        every = read(service, "/alerts")
        assert [(e["seq"], e["kind"], e["store_id"]) for e in every["events"]] == [
            (1, "down", "a"),
            (2, "down", "b"),
            (3, "up", "a"),
        ]
        assert every["next_after"] == 3
        page = read(service, "/alerts?after=1&limit=1")
        assert [e["seq"] for e in page["events"]] == [2] and page["next_after"] == 2
        assert read(service, "/alerts?after=3") == {"events": [], "next_after": 3}
        up = every["events"][2]
        assert (up["down_hours"], up["polls"], up["started_at"]) == (
            1.0,
            1,
            "2024-01-08T09:30:00.000000Z",
        )
        assert up["groups"] == ["owner:acme"] and up["at_local"] == "2024-01-08 11:00:00+00:00"
        mine = {"Authorization": f"Bearer {acme}"}
        status, _, body = service.send("GET", "/alerts", None, mine, 10)
        assert status == 200
        assert {e["store_id"] for e in json.loads(body)["events"]} == {"a"}
        status, _, body = service.send("GET", "/alerts/down_now", None, mine, 10)
        assert json.loads(body) == []  # a came back; b is down, and is another owner's
        board = read(service, "/alerts/down_now")
        assert [(s["store_id"], s["polls"], s["since"]) for s in board] == [
            ("b", 1, "2024-01-08T09:30:00.000000Z")
        ]
        status, _, page = service.send("GET", "/ui/", None, {}, 10)
        assert status == 200 and b'id="down-now"' in page and b"1 store down while open" in page


def test_metrics_in_prometheus_text_parsed_by_its_own_parser(db):
    with duckdb.connect(str(db)) as con:
        acme = add_key(con, "acme", groups=["owner:acme"])
    with in_process(db) as service:
        post(service, "/polls", DOWN)
        status, headers, body = service.send("GET", "/metrics", None, {}, 10)
        assert status == 200 and headers["content-type"].startswith("text/plain")
        samples = {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(body.decode())
            for s in family.samples
        }
        assert samples[("storemon_stores_down_now", ())] == 2
        assert samples[("storemon_group_stores_down_now", (("group", "owner:acme"),))] == 1
        assert samples[("storemon_alert_events_total", (("kind", "down"),))] == 2
        assert samples[("storemon_alert_events_total", (("kind", "up"),))] == 0
        assert samples[("storemon_batch_duration_seconds_count", (("kind", "polls"),))] == 1
        assert samples[("storemon_reports_waiting", ())] == 0
        assert samples[("storemon_latest_poll_timestamp_seconds", ())] == 1704708000
        assert samples[("storemon_data_age_seconds", ())] > 0
        status, _, body = service.send(
            "GET", "/metrics", None, {"Authorization": f"Bearer {acme}"}, 10
        )
        names = {
            (s.name, tuple(s.labels.items()))
            for family in text_string_to_metric_families(body.decode())
            for s in family.samples
        }
        assert names == {("storemon_group_stores_down_now", (("group", "owner:acme"),))}


def test_a_receiver_that_fails_then_comes_back_gets_every_event_in_order_signed(db):
    with (
        receiving(fail_first=3) as receiver,
        in_process(db, "--notify", receiver.url, env={"STOREMON_NOTIFY_SECRET": SECRET}) as service,
    ):
        post(service, "/polls", DOWN)
        post(service, "/polls", BACK)
        eventually(lambda: len(receiver.got) == 3, timeout=15)
        assert [(e["seq"], e["kind"]) for e in receiver.events()] == [
            (1, "down"),
            (2, "down"),
            (3, "up"),
        ]
        for headers, body in receiver.got:
            assert verify(SECRET, headers["Storemon-Signature"], body)
            assert not verify("another secret", headers["Storemon-Signature"], body)
            assert headers["Storemon-Event-Id"] == json.loads(body)["id"]
        # (marked a moment after they are sent: a run of deliveries at a time)
        deliveries = eventually(
            lambda: (
                (found := read(service, "/alerts/deliveries"))
                and {d["status"] for d in found} == {"delivered"}
                and found
            ),
            timeout=15,
        )
        first = next(d for d in deliveries if d["seq"] == 1)
        assert first["attempts"] == 4 and first["last_error"] == "HTTP 503"
        status, _, page = service.send("GET", "/ui/alerts", None, {}, 10)
        assert status == 200 and b"delivered" in page


def test_a_slow_receiver_times_out_and_never_holds_back_another_target(db, tmp_path):
    with duckdb.connect(str(db)) as con:
        append_batch(
            con,
            "polls",
            write_csv(
                tmp_path / "d.csv", STATUS_HEADER, [("a", "inactive", "2024-01-08 10:00:00")]
            ),
        )
    with (
        receiving(mode="hang", hang=2.0) as slow,
        receiving() as quick,
        duckdb.connect(str(db)) as con,
    ):
        # both targets start from the events there are when first seen: seq 0 here
        con.execute(
            "CREATE TABLE IF NOT EXISTS alert_targets (target VARCHAR PRIMARY KEY, "
            "queued_seq BIGINT NOT NULL, added_at TIMESTAMPTZ NOT NULL)"
        )
        targets = (Target(slow.url), Target(quick.url, group="owner:acme"))
        for target in targets:
            con.execute("INSERT INTO alert_targets VALUES (?, 0, now())", [target.name])
        notifier = Notifier(con, targets, SECRET, timeout=0.5, first_backoff=0.1)
        notifier.start()
        try:
            eventually(lambda: quick.events(), timeout=15)
            assert [e["store_id"] for e in quick.events()] == ["a"]
            failing = eventually(
                lambda: [
                    d
                    for d in notifier.deliveries()
                    if d.target == targets[0].name and d.attempts > 0
                ],
                timeout=15,
            )
            assert failing[0].status == "pending"
            assert failing[0].last_error == "timed out after 0.5 s"
        finally:
            notifier.close()


def test_gives_up_after_the_age_limit_and_goes_on(db, tmp_path):
    with duckdb.connect(str(db)) as con:
        append_batch(
            con,
            "polls",
            write_csv(
                tmp_path / "d.csv",
                STATUS_HEADER,
                [
                    ("a", "inactive", "2024-01-08 10:00:00"),
                    ("b", "inactive", "2024-01-08 10:00:00"),
                ],
            ),
        )
        target = Target(f"http://127.0.0.1:{free_port()}/nobody")  # refuses: nobody listens
        con.execute(
            "CREATE TABLE IF NOT EXISTS alert_targets (target VARCHAR PRIMARY KEY, "
            "queued_seq BIGINT NOT NULL, added_at TIMESTAMPTZ NOT NULL)"
        )
        con.execute("INSERT INTO alert_targets VALUES (?, 0, now())", [target.name])
        notifier = Notifier(con, (target,), SECRET, first_backoff=0.01, give_up_after=timedelta(0))
        notifier.start()
        try:

            def failed():
                return [d for d in notifier.deliveries() if d.status == "failed"]

            eventually(lambda: len(failed()) == 2, timeout=15)
            found = failed()
            assert {d.seq for d in found} == {1, 2}
            assert all("refused" in (d.last_error or "").lower() for d in found)
            assert notifier.summary()[target.name] == {"failed": 2}
        finally:
            notifier.close()


def test_the_documented_receiver_verifies_the_signature(db):
    port = free_port()
    receiver = subprocess.Popen(
        [sys.executable, str(ROOT / "docs" / "receiver.py"), str(port)],
        env={**os.environ, "STOREMON_NOTIFY_SECRET": SECRET},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(0.5)
        with in_process(
            db, "--notify", f"http://127.0.0.1:{port}/", env={"STOREMON_NOTIFY_SECRET": SECRET}
        ) as service:
            post(service, "/polls", DOWN)
            eventually(
                lambda: {d["status"] for d in read(service, "/alerts/deliveries")} == {"delivered"},
                timeout=15,
            )
            ids = [e["id"] for e in read(service, "/alerts")["events"]]
    finally:
        receiver.terminate()
        printed = receiver.communicate(timeout=10)[0].split()
    assert printed == [ids[0], "down", ids[1], "down"]


def test_an_apprise_target_gets_a_line_a_person_reads(db):
    with (
        receiving() as receiver,
        in_process(
            db,
            "--notify",
            receiver.url.replace("http://", "json://"),
            env={"STOREMON_NOTIFY_SECRET": SECRET},
        ) as service,
    ):
        post(service, "/polls", DOWN)
        eventually(lambda: len(receiver.got) == 2, timeout=15)
        bodies = sorted(json.loads(body)["message"] for _, body in receiver.got)
        assert bodies == [
            "Store a (UTC) is down since 09:30 local, 1 poll",
            "Store b (UTC) is down since 09:30 local, 1 poll",
        ]


def test_killed_between_commit_and_delivery_it_delivers_after_restart(db):
    port = free_port()
    hook = f"http://127.0.0.1:{port}/hook"  # nobody listens yet: every attempt is refused
    env = {"STOREMON_NOTIFY_SECRET": SECRET}
    with serving(db, "--notify", hook, env=env) as server:
        assert post(server, "/polls", DOWN)["events"] == 2
        server.kill()  # kill -9: the events are committed, not delivered
    with receiving(port=port) as receiver, serving(db, "--notify", hook, env=env):
        eventually(lambda: len(receiver.got) >= 2, timeout=30)
        assert {e["store_id"] for e in receiver.events()} == {"a", "b"}


def test_the_board_lists_the_longest_down_and_says_how_many_are_down_in_all(tmp_path):
    from storemon.web.pages import BOARD

    stores = [f"s{n:03d}" for n in range(BOARD + 10)]
    path = tmp_path / "many.duckdb"
    up = [(s, "active", "2024-01-08 09:00:00") for s in stores]
    with duckdb.connect(str(path)) as con:
        ingest(
            con,
            write_csv(tmp_path / "p.csv", STATUS_HEADER, up),
            write_csv(tmp_path / "h.csv", HOURS_HEADER, []),
            write_csv(tmp_path / "z.csv", ZONES_HEADER, [(s, "UTC") for s in stores]),
            allow_empty=True,
        )
    # the later stores went down first, so they are the ones listed
    down = "".join(f"{s},inactive,2024-01-08 10:{59 - n:02d}:00\n" for n, s in enumerate(stores))
    with in_process(path) as service:
        assert post(service, "/polls", "store_id,status,timestamp_utc\n" + down)["events"] == 60
        assert len(read(service, "/alerts/down_now")) == 60
        status, _, page = service.send("GET", "/ui/", None, {}, 10)
        assert status == 200
        board = page.decode().split('id="down-now"', 1)[1].split("</section>", 1)[0]
        assert f"60 stores down while open: the {BOARD} down longest below" in board
        listed = re.findall(r"<tr><td><bdi>(s\d+)</bdi></td>", board)
        assert listed == stores[::-1][:BOARD]
