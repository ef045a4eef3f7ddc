"""Alert delivery (storemon/notify/) on its own: events written by hand into a fresh database,
a real local receiver that fails, hangs and comes back, and the Notifier's threads delivering
them. What the service adds around it (--notify, kill -9 mid-way) is tests/test_alert_delivery.py.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import http.server
import itertools
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from storemon.alerts.reads import AlertEvent
from storemon.errors import StoremonError
from storemon.notify import Notifier, Target, deliverer, outbox, parse_targets
from storemon.notify.messages import event_json, human_text, title
from storemon.notify.signing import HEADER, notify_secret, secret_file, sign, verify
from tests.receivers import eventually, receiving
from tests.server import free_port

ROOT = Path(__file__).resolve().parent.parent
SECRET = "a-secret-for-these-tests-only"
FAST = {"timeout": 0.5, "first_backoff": 0.02, "max_backoff": 0.1}  # seconds


# --- the database and its events -------------------------------------------------------------


@pytest.fixture
def con(tmp_path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(tmp_path / "storemon.duckdb"))
    for name in ("01_alert_tables.sql", "05_alert_deliveries_table.sql"):
        connection.execute((ROOT / "sql" / "alerts" / name).read_text())
    yield connection
    connection.close()


def add_event(con: duckdb.DuckDBPyConnection, store: str, kind: str = "down", groups=()) -> int:
    """Write one event as a batch would (its seq the next), and return its seq."""
    seq = con.execute("SELECT coalesce(max(seq), 0) + 1 FROM alert_events").fetchone()[0]
    con.execute(
        "INSERT INTO alert_events VALUES (?, ?, ?, ?, 'batch-1', TIMESTAMPTZ '2024-01-08 "
        "15:20:00+00', TIMESTAMPTZ '2024-01-08 14:15:00+00', 2, ?, 'America/New_York', "
        "'2024-01-08 10:20:00-05:00', '2024-01-08 09:15:00-05:00', ?, now())",
        [seq, f"evt_{seq}_{store}", kind, store, 1.25 if kind == "up" else None, list(groups)],
    )
    return seq


def tried(con: duckdb.DuckDBPyConnection, target: Target) -> int:
    """How often the target's first event was attempted (0: not queued yet)."""
    found = rows(con, target)
    return found[0][2] if found else 0


def rows(con: duckdb.DuckDBPyConnection, target: Target) -> list[tuple]:
    return con.execute(
        "SELECT seq, status, attempts, last_error FROM alert_deliveries WHERE target = ? "
        "ORDER BY seq",
        [target.name],
    ).fetchall()


@contextmanager
def notifying(con, targets, **options) -> Iterator[Notifier]:
    notifier = Notifier(con, tuple(targets), SECRET, **{**FAST, **options})
    notifier.start()
    try:
        yield notifier
    finally:
        notifier.close()


# --- delivery --------------------------------------------------------------------------------


def test_each_event_is_posted_signed_with_its_id_and_all_its_columns(con):
    with receiving() as receiver, notifying(con, [Target(receiver.url)]) as notifier:
        seq = add_event(con, "123", groups=["owner:acme", "region:east"])
        notifier.wake()
        eventually(lambda: receiver.got)
    headers, body = receiver.got[0]
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"] == "storemon"
    assert headers["Storemon-Event-Id"] == f"evt_{seq}_123"
    assert verify(SECRET, headers[HEADER], body)
    assert not verify("another secret entirely", headers[HEADER], body)
    assert not verify(SECRET, headers[HEADER], body.replace(b"123", b"124"))
    assert json.loads(body) == {
        "seq": seq,
        "id": f"evt_{seq}_123",
        "kind": "down",
        "store_id": "123",
        "batch_id": "batch-1",
        "at": "2024-01-08T15:20:00.000000Z",
        "started_at": "2024-01-08T14:15:00.000000Z",
        "polls": 2,
        "down_hours": None,
        "timezone": "America/New_York",
        "at_local": "2024-01-08 10:20:00-05:00",
        "started_local": "2024-01-08 09:15:00-05:00",
        "groups": ["owner:acme", "region:east"],
        "created_at": json.loads(body)["created_at"],
    }
    assert json.loads(body)["created_at"].endswith("Z")


def test_a_target_first_seen_gets_the_events_from_then_on_not_the_history(con):
    add_event(con, "old-1")
    add_event(con, "old-2")
    with receiving() as receiver, notifying(con, [Target(receiver.url)]) as notifier:
        assert con.execute("SELECT queued_seq FROM alert_targets").fetchall() == [(2,)]
        new = add_event(con, "new")
        notifier.wake()
        eventually(lambda: receiver.got)
        time.sleep(0.2)  # nothing else comes
    assert receiver.seqs() == [new]


def test_a_wake_starts_delivery_well_under_a_second(con):
    with receiving() as receiver, notifying(con, [Target(receiver.url)]) as notifier:
        time.sleep(0.3)  # every thread idle, waiting (5 s between its own looks)
        add_event(con, "1")
        woken = time.monotonic()
        notifier.wake()
        eventually(lambda: receiver.got, timeout=1.0)
        assert receiver.attempts[0][0] - woken < 0.5


def test_retries_back_off_doubling_to_the_cap_and_keep_the_order(con, monkeypatch):
    # the jitter drawn at its most (uniform(0, b) -> b): the backoff itself is what is measured
    monkeypatch.setattr(deliverer.random, "uniform", lambda low, high: high)
    with receiving(mode="fail") as receiver:
        target = Target(receiver.url)
        with notifying(con, [target], first_backoff=0.05, max_backoff=0.2) as notifier:
            seqs = [add_event(con, f"s{n}") for n in range(3)]
            notifier.wake()
            eventually(lambda: len(receiver.attempts) >= 5)
            receiver.mode = "ok"
            eventually(lambda: len(receiver.got) == 3)
            assert [d.status for d in notifier.deliveries()] == ["delivered"] * 3
    tried = [at for at, event_id in receiver.attempts if event_id == f"evt_{seqs[0]}_s0"]
    gaps = [later - earlier for earlier, later in itertools.pairwise(tried)]
    # 0.05, 0.1, 0.2, 0.2, ... (a little more each: the request and the database's writes)
    for gap, expected in zip(gaps, [0.05, 0.1, 0.2, 0.2], strict=False):
        assert expected * 0.9 <= gap <= expected + 0.3, gaps
    # the head blocked the others: nothing after it was tried before it was delivered
    assert {event_id for _, event_id in receiver.attempts[: len(tried)]} == {f"evt_{seqs[0]}_s0"}
    assert receiver.seqs() == seqs
    first = rows(con, target)[0]
    assert first[:2] == (seqs[0], "delivered")
    assert first[2] == len(tried) and first[3] == "HTTP 503"


def test_the_jitter_is_full_between_no_wait_and_the_backoff(con):
    with receiving(mode="fail") as receiver:
        target = Target(receiver.url)
        with notifying(con, [target], first_backoff=30.0, max_backoff=60.0) as notifier:
            add_event(con, "1")
            notifier.wake()
            before = datetime.now(UTC)
            eventually(lambda: tried(con, target) == 1)
            after = datetime.now(UTC)
    (next_try,) = con.execute("SELECT epoch(next_try_at) FROM alert_deliveries").fetchone()
    assert before.timestamp() <= next_try <= (after + timedelta(seconds=30)).timestamp()
    assert rows(con, target)[0][1:] == ("pending", 1, "HTTP 503")


def test_a_hanging_receiver_times_out_and_never_delays_another_target(con):
    with receiving(mode="hang", hang=3.0) as slow, receiving() as quick:
        targets = [Target(slow.url), Target(quick.url)]
        notifier = Notifier(con, tuple(targets), SECRET, **FAST)
        notifier.start()
        try:
            seqs = [add_event(con, "1"), add_event(con, "2")]
            started = time.monotonic()
            notifier.wake()
            eventually(lambda: len(quick.got) == 2, timeout=1.0)
            assert time.monotonic() - started < 1.0 and quick.seqs() == seqs
            # (the slow target's thread may have queued event 1 alone before event 2 was made)
            eventually(lambda: tried(con, targets[0]) >= 1 and len(rows(con, targets[0])) == 2)
            first, second = rows(con, targets[0])
            assert first[1] == "pending" and first[2] >= 1 and first[3] == "timed out after 0.5 s"
            assert second[1:] == ("pending", 0, None)  # waits behind it
        finally:
            closing = time.monotonic()
            notifier.close()
        assert time.monotonic() - closing < 1.5  # mid-request or mid-backoff: promptly


def test_a_refused_connection_is_an_attempt_with_its_reason(con):
    target = Target(f"http://127.0.0.1:{free_port()}/nobody")
    with notifying(con, [target]) as notifier:
        add_event(con, "1")
        notifier.wake()
        eventually(lambda: tried(con, target) >= 2)
    assert rows(con, target)[0][1] == "pending"
    assert "refused" in rows(con, target)[0][3].lower()


def test_a_redirect_is_a_failure_not_a_delivery(con):
    class Redirect(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.send_response(302)
            self.send_header("Location", "/elsewhere")
            self.end_headers()

        def do_GET(self):  # what urllib would turn the POST into: the event's body lost
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    target = Target(f"http://127.0.0.1:{server.server_port}/hook")
    try:
        with notifying(con, [target]) as notifier:
            add_event(con, "1")
            notifier.wake()
            eventually(lambda: tried(con, target) >= 1)
    finally:
        server.shutdown()
        server.server_close()
    assert rows(con, target)[0][1::2] == ("pending", "HTTP 302")  # (status, last_error)


def test_an_answer_that_is_not_http_is_an_attempt_and_backs_off(con):
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def garbage():
        while not stop.is_set():
            try:
                peer, _ = listener.accept()
            except OSError:
                return
            with peer:
                peer.recv(65536)
                peer.sendall(b"\x15\x03\x01\x00\x02\x02\x46")  # a TLS alert: not HTTP
                # read the rest of the request before closing: closed with bytes unread, the
                # client would see a reset, not the answer
                peer.shutdown(socket.SHUT_WR)
                peer.settimeout(2)
                with contextlib.suppress(OSError):
                    while peer.recv(65536):
                        pass

    threading.Thread(target=garbage, daemon=True).start()
    target = Target(f"http://127.0.0.1:{listener.getsockname()[1]}/hook")
    try:
        with notifying(con, [target]) as notifier:
            add_event(con, "1")
            notifier.wake()
            eventually(lambda: tried(con, target) >= 1)
            # (read while the listener still answers: once it is closed, attempts are refused)
            _, status, attempts, error = rows(con, target)[0]
    finally:
        stop.set()
        listener.close()
    assert status == "pending" and attempts >= 1
    assert error.startswith("not an HTTP answer"), error


def test_a_group_target_gets_only_its_groups_events(con):
    with receiving() as everyone, receiving() as acme:
        every, only = Target(everyone.url), Target(acme.url, group="owner:acme")
        with notifying(con, [every, only]) as notifier:
            mine = add_event(con, "1", groups=["owner:acme"])
            add_event(con, "2", groups=["owner:other"])
            add_event(con, "3")
            both = add_event(con, "4", groups=["owner:other", "owner:acme"])
            notifier.wake()
            eventually(lambda: len(everyone.got) == 4 and len(acme.got) == 2)
            time.sleep(0.2)
        assert acme.seqs() == [mine, both]
        assert [seq for seq, *_ in rows(con, only)] == [mine, both]  # others never queued
        assert everyone.seqs() == [1, 2, 3, 4]


def test_gives_up_after_the_age_limit_then_delivers_the_next(con):
    offset = [timedelta(0)]  # how far the clock is ahead of now

    def clock() -> datetime:
        return datetime.now(UTC) + offset[0]

    with receiving(mode="fail") as receiver:
        target = Target(receiver.url)
        with notifying(con, [target], clock=clock, give_up_after=timedelta(hours=24)) as notifier:
            first = add_event(con, "1")
            second = add_event(con, "2")
            notifier.wake()
            eventually(lambda: len(receiver.attempts) >= 3)
            assert rows(con, target)[0][1] == "pending"  # well within a day: retried
            offset[0] = timedelta(hours=24, minutes=1)
            eventually(lambda: rows(con, target)[0][1] == "failed")
            receiver.mode = "ok"
            eventually(lambda: receiver.got)
            eventually(lambda: rows(con, target)[1][1] == "delivered")
    failed = rows(con, target)[0]
    assert failed[0] == first and failed[2] >= 4 and failed[3] == "HTTP 503"
    assert receiver.seqs() == [second]  # the one given up is never sent after


def test_a_new_notifier_delivers_what_a_closed_one_left_pending(con):
    port = free_port()
    target = Target(f"http://127.0.0.1:{port}/hook")  # nobody listens yet
    with notifying(con, [target]) as notifier:
        seqs = [add_event(con, store) for store in ("1", "2", "3")]
        notifier.wake()
        eventually(lambda: tried(con, target) >= 1)
    assert [status for _, status, *_ in rows(con, target)] == ["pending"] * 3
    later = add_event(con, "4")  # committed while no notifier ran: not queued yet
    with receiving(port=port) as receiver, notifying(con, [target]):
        eventually(lambda: len(receiver.got) == 4)
    assert receiver.seqs() == [*seqs, later]
    assert {status for _, status, *_ in rows(con, target)} == {"delivered"}


def test_a_notifier_abandoned_mid_delivery_loses_nothing(con):
    """A receiver that hangs on the first event while the notifier goes away (as a killed
    service does): the next notifier sends it again (at least once), then the rest, in order."""
    with receiving(mode="hang", hang=1.0) as receiver:
        target = Target(receiver.url)
        first = Notifier(con, (target,), SECRET, timeout=5.0, first_backoff=0.02)
        first.start()
        seqs = [add_event(con, store) for store in ("1", "2")]
        first.wake()
        eventually(lambda: receiver.attempts)
        first._stop.set()  # abandoned: its request still under way, its row still pending
        receiver.mode = "ok"
        with notifying(con, [target]):
            eventually(lambda: set(receiver.seqs()) == set(seqs))
        first.close()
    firsts = list(dict.fromkeys(receiver.seqs()))  # each seq at its first delivery
    assert firsts == seqs
    assert [status for _, status, *_ in rows(con, target)] == ["delivered"] * 2


def test_deliveries_and_summary_latest_first_per_target(con):
    with receiving() as ok:
        good, bad = Target(ok.url), Target(f"http://127.0.0.1:{free_port()}/nobody")
        with notifying(con, [good, bad]) as notifier:
            add_event(con, "1")
            add_event(con, "2", kind="up")
            notifier.wake()
            eventually(lambda: len(ok.got) == 2 and tried(con, bad) >= 1)
        summary = notifier.summary()
        shown = notifier.deliveries(limit=3)
    assert summary[good.name] == {"delivered": 2}
    assert summary[bad.name] == {"pending": 2}
    assert [(d.seq, d.kind) for d in shown][:2] == [(2, "up"), (2, "up")]
    assert len(shown) == 3 and shown[2].seq == 1
    mine = next(d for d in shown if d.target == good.name and d.seq == 2)
    assert (mine.status, mine.attempts, mine.id, mine.store_id) == ("delivered", 1, "evt_2_2", "2")
    assert mine.delivered_at.endswith("Z")
    with con.cursor() as cur:  # the same without a Notifier, as a page reads them
        assert outbox.summary(cur) == summary
        assert outbox.deliveries(cur, 3) == shown


# --- the documented receiver, and Apprise ----------------------------------------------------


def test_the_documented_receiver_prints_what_it_accepts_and_refuses_a_bad_signature(con):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "docs" / "receiver.py"), str(port)],
        env={**os.environ, "STOREMON_NOTIFY_SECRET": SECRET},
        stdout=subprocess.PIPE,
        text=True,
    )
    hook = f"http://127.0.0.1:{port}/"
    try:
        with socket.socket() as probe:  # listening once it accepts a connection
            eventually(lambda: probe.connect_ex(("127.0.0.1", port)) == 0)

        def post(headers: dict) -> int:
            body = b'{"kind": "down"}'
            request = urllib.request.Request(hook, body, headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=5) as answer:
                    return answer.status
            except urllib.error.HTTPError as error:
                return error.code

        forged = {"Storemon-Event-Id": "x", HEADER: sign("not the secret", b'{"kind": "down"}')}
        assert post(forged) == 400
        assert post({"Storemon-Event-Id": "x", HEADER: "t=1,v1=ab"}) == 400
        assert post({"Storemon-Event-Id": "x"}) == 400  # no signature at all
        target = Target(hook)
        with notifying(con, [target]) as notifier:
            seqs = [add_event(con, "1"), add_event(con, "2", kind="up")]
            notifier.wake()
            eventually(lambda: [s for _, s, *_ in rows(con, target)] == ["delivered"] * 2)
    finally:
        process.terminate()
        printed = process.communicate(timeout=5)[0].split()
    assert printed == [f"evt_{seqs[0]}_1", "down", f"evt_{seqs[1]}_2", "up"]


def test_an_apprise_target_gets_the_text_a_person_reads(con):
    with receiving() as receiver:  # Apprise's json:// POSTs {"title", "message", ...}
        target = Target(receiver.url.replace("http://", "json://"))
        (parsed,) = parse_targets([target.url], [])
        assert not parsed.webhook
        with notifying(con, [target]) as notifier:
            add_event(con, "123")
            add_event(con, "123", kind="up")
            notifier.wake()
            eventually(lambda: len(receiver.got) == 2)
    sent = [(event["title"], event["message"]) for event in receiver.events()]
    assert sent == [
        (
            "storemon: store 123 is down",
            "Store 123 (America/New_York) is down since 09:15 local, 2 polls",
        ),
        (
            "storemon: store 123 is back up",
            "Store 123 (America/New_York) is back up at 10:20 local after 1.25 h down (2 polls)",
        ),
    ]


def test_an_apprise_target_that_fails_says_why_and_is_retried(con):
    target = Target(f"json://127.0.0.1:{free_port()}/nobody")
    with notifying(con, [target]) as notifier:
        add_event(con, "1")
        notifier.wake()
        eventually(lambda: tried(con, target) >= 2)
    _, status, _, error = rows(con, target)[0]
    assert status == "pending" and "connection" in error.lower(), error


def test_the_messages_of_an_up_event():
    event = AlertEvent(
        7, "evt_7", "up", "123", "b", "2024-01-08T15:20:00.000000Z",
        "2024-01-08T14:15:00.000000Z", 1, 1.25, "America/New_York",
        "2024-01-08 10:20:00-05:00", "2024-01-08 09:15:00-05:00", ["g"],
        "2024-01-08T15:21:00.000000Z",
    )  # fmt: skip
    assert human_text(event) == (
        "Store 123 (America/New_York) is back up at 10:20 local after 1.25 h down (1 poll)"
    )
    assert title(event) == "storemon: store 123 is back up"
    assert json.loads(event_json(event))["groups"] == ["g"]


# --- targets ---------------------------------------------------------------------------------


def test_targets_are_webhooks_or_apprise_and_their_names_keep_secrets_out():
    hook, chat, acme = parse_targets(
        ["https://user:pa55word@hooks.example.com:8443/T0/B0/tok3nXYZ?token=abc123",
         "json://user:pa55word@127.0.0.1:9/x"],
        [("owner:acme", "https://hooks.example.com/acme")],
    )  # fmt: skip
    assert hook.webhook and not chat.webhook and acme.webhook and acme.group == "owner:acme"
    for target in (hook, chat, acme):
        assert "pa55word" not in target.name and "user" not in target.name
        assert "tok3n" not in target.name and "abc123" not in target.name
    assert hook.name.startswith("https://hooks.example.com:8443 #")
    assert "owner:acme" in acme.name
    assert acme.name != Target("https://hooks.example.com/acme").name  # a key of its own
    assert hook.name == Target(hook.url).name  # stable: the same at every start


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("https:///no-host", "no host"),
        ("hooks.example.com/x", "no scheme"),
        ("nosuchservice://pa55word@example.com", "Apprise does not take"),
        ("https://example.com:99999999/pa55word", "not a URL"),
    ],
)
def test_a_bad_target_is_refused_naming_it_without_its_secrets(url, says):
    with pytest.raises(StoremonError, match=says) as refused:
        parse_targets([url], [])
    assert "pa55word" not in str(refused.value)


def test_an_empty_group_and_a_target_given_twice_are_refused():
    with pytest.raises(StoremonError, match="group is empty"):
        parse_targets([], [(" ", "https://hooks.example.com/x")])
    with pytest.raises(StoremonError, match="twice"):
        parse_targets(["https://hooks.example.com/x", "https://hooks.example.com/x"], [])


# --- the secret, and the signature -----------------------------------------------------------


def test_the_secret_file_is_made_once_owner_only_and_reused(tmp_path, monkeypatch):
    monkeypatch.delenv("STOREMON_NOTIFY_SECRET", raising=False)
    db = tmp_path / "data" / "storemon.duckdb"
    secret = notify_secret(db)
    path = secret_file(db)
    assert path == tmp_path / "data" / "storemon.duckdb.notify-secret"
    assert path.stat().st_mode & 0o777 == 0o600 and len(secret) >= 16
    assert notify_secret(db) == secret  # reused, not made again
    monkeypatch.setenv("STOREMON_NOTIFY_SECRET", "from-the-environment-1234")
    assert notify_secret(db) == "from-the-environment-1234"  # the environment wins
    monkeypatch.setenv("STOREMON_NOTIFY_SECRET", "short")
    with pytest.raises(StoremonError, match="at least 16"):
        notify_secret(db)


def test_a_secret_file_others_may_read_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv("STOREMON_NOTIFY_SECRET", raising=False)
    db = tmp_path / "storemon.duckdb"
    notify_secret(db)
    secret_file(db).chmod(0o644)
    with pytest.raises(StoremonError, match="others may read it") as refused:
        notify_secret(db)
    assert "chmod 600" in str(refused.value)


def test_a_signature_is_stripes_scheme_and_verify_refuses_anything_else():
    body = b'{"kind": "down"}'
    header = sign(SECRET, body, 1_700_000_000)
    mac = hmac.new(SECRET.encode(), b"1700000000." + body, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={mac}"
    assert not verify(SECRET, header, body)  # signed long ago: a replay
    assert verify(SECRET, header, body, tolerance=10**10)
    fresh = sign(SECRET, body)
    assert verify(SECRET, fresh, body)
    stamp = fresh.split(",")[0]
    for forged in ("", "garbage", stamp, f"{stamp},v1=", f"{stamp},v1=é{mac[1:]}", "t=x,v1=00"):
        assert not verify(SECRET, forged, body), forged
