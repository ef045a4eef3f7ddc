"""Who may read and change what (storemon/api/access.py, storemon/keys.py): every route of the
service and every page, for each kind of caller, from one table. A route added to the service
and missing here fails the first test."""

from __future__ import annotations

import csv
import io
import re
import time

import duckdb
import pytest

from storemon.api.access import ACCESS, app_routes
from storemon.keys import KeyRing, add_key, revoke_key
from storemon.web.sessions import COOKIE, Sessions
from tests.conftest import Workspace
from tests.server import in_process, serving, storemon

OWNER_A = {"a1", "a2"}  # owner:a; a2 is also brand:x
OWNER_B = {"b1"}  # owner:b and brand:x
ALL = OWNER_A | OWNER_B | {"n1"}  # n1 is in no group
CALLERS = ("admin", "owner_a", "owner_b", "writer", "revoked", "nobody")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A service with reads by key, four stores (two of owner A, one of owner B, one in no
    group), a finished report, and a key of each kind."""
    ws = Workspace(tmp_path_factory.mktemp("access"))
    polls = [
        (store, status, f"2023-01-12 {hour:02d}:00:00")
        for store in sorted(ALL)
        for hour, status in ((10, "active"), (11, "inactive"), (12, "inactive"))
    ]
    ws.load(
        status=polls,
        groups=[
            ("a1", "owner:a"),
            ("a2", "owner:a"),
            ("a2", "brand:x"),
            ("b1", "owner:b"),
            ("b1", "brand:x"),
        ],
    )
    keys = {
        "owner_a": add_key(ws.con, "owner-a", ["owner:a"]),
        "owner_b": add_key(ws.con, "owner-b", ["owner:b", "brand:x"]),
        "writer": add_key(ws.con, "poller", write=True),
        "revoked": add_key(ws.con, "gone", ["owner:a"]),
    }
    revoke_key(ws.con, "gone")
    ws.con.close()
    with in_process(ws.db, "--reads", "key") as server:
        keys["admin"] = server.token
        headers = {caller: {"Authorization": f"Bearer {key}"} for caller, key in keys.items()} | {
            "nobody": {}
        }
        code, answer = server.json("POST", "/trigger_report", headers=headers["admin"])
        assert code == 202, answer
        report_id = answer["report_id"]
        assert finished(server, report_id, headers["admin"]) == 200
        yield server, headers, report_id


def finished(server, report_id: str, headers: dict) -> int:
    """The report's status code once it is no longer running (202)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        code, _, _ = server.request("GET", f"/get_report/{report_id}", headers=headers)
        if code != 202:
            return code
        time.sleep(0.05)
    raise AssertionError(f"report {report_id} still running")


# Each route: (method, path, body, expected status per caller in CALLERS order). "R" in a path
# is the report's id. A CSV body is a function of the caller's number, so that no batch is
# another's repeat. Reads answer each key with its own stores (checked below).
READ = (200, 200, 200, 200, 401, 401)
QUALITY = (200, 403, 403, 403, 401, 401)
WRITE = (201, 403, 403, 201, 401, 401)
ADMIN = (200, 403, 403, 403, 401, 401)
EVERYONE = (200,) * 6


def csv_body(header: str, row: str):
    return lambda n: f"{header}\n{row.format(n=n)}\n".encode()


TABLE = {
    "POST /trigger_report": ("POST", "/trigger_report", None, (202, 202, 202, 202, 401, 401)),
    "GET /get_report": ("GET", "/get_report?report_id=R", None, READ),
    "GET /get_report/{report_id}": ("GET", "/get_report/R", None, READ),
    "GET /reports/{file_name}": ("GET", "/reports/R.csv", None, READ),
    "GET /reports/{report_id}/{part}": ("GET", "/reports/R/summary.csv", None, READ),
    "GET /reports": ("GET", "/reports", None, READ),
    "GET /reports/{report_id}/stores/{store_id}": (
        "GET", "/reports/R/stores/a1", None, (200, 200, 404, 404, 401, 401),
    ),
    "GET /health": ("GET", "/health", None, EVERYONE),
    "GET /data_quality": ("GET", "/data_quality", None, QUALITY),
    "POST /ingest": (
        "POST", "/ingest", {"status": "/nonexistent"}, (400, 403, 403, 403, 401, 401),
    ),
    "POST /polls": (
        "POST", "/polls",
        csv_body("store_id,status,timestamp_utc", "a1,active,2023-01-12 12:30:0{n}"), WRITE,
    ),
    "POST /hours": (
        "POST", "/hours",
        csv_body("store_id,dayOfWeek,start_time_local,end_time_local", "zz{n},1,09:00,17:00"),
        WRITE,
    ),
    "POST /timezones": (
        "POST", "/timezones", csv_body("store_id,timezone_str", "zz{n},America/Denver"), WRITE,
    ),
    "POST /special_hours": (
        "POST", "/special_hours",
        csv_body("store_id,date,start_time_local,end_time_local", "zz{n},2023-01-01,,"), WRITE,
    ),
    "POST /groups": ("POST", "/groups", csv_body("store_id,group", "zz{n},owner:z"), WRITE),
    "GET /keys": ("GET", "/keys", None, ADMIN),
    "POST /keys": (
        "POST", "/keys", {"name": "made-here", "groups": ["owner:a"]},
        (201, 403, 403, 403, 401, 401),
    ),
    "DELETE /keys/{name}": (
        "DELETE", "/keys/nobody-has-it", None, (404, 403, 403, 403, 401, 401),
    ),
    "GET /alerts": ("GET", "/alerts", None, READ),
    "GET /alerts/down_now": ("GET", "/alerts/down_now", None, READ),
    "GET /alerts/deliveries": ("GET", "/alerts/deliveries", None, QUALITY),
    "GET /metrics": ("GET", "/metrics", None, READ),
    "GET /ui/alerts": ("GET", "/ui/alerts", None, QUALITY),
    "GET /": ("GET", "/", None, READ),  # a redirect to /ui/, which the client follows
    "GET /ui": ("GET", "/ui/", None, READ),
    "GET /ui/data-quality": ("GET", "/ui/data-quality", None, QUALITY),
    "GET /ui/reports/{report_id}": ("GET", "/ui/reports/R", None, READ),
    # a form: its CSRF token is checked first (tests/test_pages.py sends one)
    "POST /ui/reports": ("POST", "/ui/reports", None, (403,) * 6),
    "GET /ui/reports/{report_id}/stores/{store_id}": (
        "GET", "/ui/reports/R/stores/b1", None, (200, 404, 200, 404, 401, 401),
    ),
    "GET /ui/reports/{report_id}/rollups": ("GET", "/ui/reports/R/rollups", None, READ),
    "GET /ui/sign-in": ("GET", "/ui/sign-in", None, EVERYONE),
    # forms: their CSRF token is checked first (the browser test below signs in and out)
    "POST /ui/sign-in": ("POST", "/ui/sign-in", None, (403,) * 6),
    "POST /ui/sign-out": ("POST", "/ui/sign-out", None, (403,) * 6),
    "GET /ui/static/{file_path}": ("GET", "/ui/static/storemon.css", None, EVERYONE),
    "GET /schema": ("GET", "/schema", None, EVERYONE),
    "GET /schema/swagger": ("GET", "/schema/swagger", None, EVERYONE),
    "GET /schema/openapi.json": ("GET", "/schema/openapi.json", None, EVERYONE),
    "GET /schema/{path}": ("GET", "/schema/elements", None, (404,) * 6),
}  # fmt: skip


def test_every_route_of_the_service_is_in_the_table_and_has_an_access_rule(served):
    server, _, _ = served
    routes = app_routes(server.client.app)
    assert routes == set(TABLE) == set(ACCESS)


@pytest.mark.parametrize("route", sorted(TABLE))
def test_each_caller_gets_what_its_key_allows(served, route):
    server, headers, report_id = served
    method, path, body, expected = TABLE[route]
    path = path.replace("R", report_id) if "/R" in path or "=R" in path else path
    got = []
    for number, caller in enumerate(CALLERS):
        raw = body(number) if callable(body) else None
        sent = {**headers[caller], **({"Content-Type": "text/csv"} if raw else {})}
        code, answered, _ = server.request(
            method, path, body if isinstance(body, dict) else None, headers=sent, data=raw
        )
        got.append(code)
        if code == 401:
            challenge = {k.lower(): v for k, v in answered.items()}.get("www-authenticate", "")
            assert challenge.startswith("Bearer"), (route, caller)
    assert tuple(got) == expected, route


def stores_in(content: bytes) -> set[str]:
    return {row["store_id"] for row in csv.DictReader(io.StringIO(content.decode()))}


def test_a_key_of_some_groups_reads_only_their_stores_in_every_file(served, tmp_path):
    server, headers, report_id = served
    seen = {"admin": ALL, "owner_a": OWNER_A, "owner_b": OWNER_B | {"a2"}, "writer": set()}
    for caller, stores in seen.items():
        for path in (f"/reports/{report_id}.csv", f"/reports/{report_id}/summary.csv"):
            code, _, content = server.request("GET", path, headers=headers[caller])
            assert code == 200 and stores_in(content) == stores, (caller, path)
        code, _, content = server.request(
            "GET", f"/reports/{report_id}/outages.csv", headers=headers[caller]
        )
        assert stores_in(content) == stores, caller  # each store has one outage
        code, _, content = server.request(
            "GET", f"/reports/{report_id}.parquet", headers=headers[caller]
        )
        written = tmp_path / f"{caller}.parquet"
        written.write_bytes(content)
        with duckdb.connect() as con:
            rows = con.execute("SELECT store_id FROM read_parquet(?)", [str(written)])
            assert {row[0] for row in rows.fetchall()} == stores, caller
        code, answer = server.json("GET", f"/get_report/{report_id}", headers=headers[caller])
        assert answer["stores"] == len(stores), caller
        code, _, content = server.request(
            "GET", f"/reports/{report_id}/rollups.csv", headers=headers[caller]
        )
        groups = {row["group"] for row in csv.DictReader(io.StringIO(content.decode()))}
        assert (
            groups
            == {
                "admin": {"owner:a", "owner:b", "brand:x"},
                "owner_a": {"owner:a"},
                "owner_b": {"owner:b", "brand:x"},
                "writer": set(),
            }[caller]
        )


def test_the_union_of_the_owners_views_is_the_admins_restricted_to_grouped_stores(served):
    server, headers, report_id = served
    rows = {}
    for caller in ("admin", "owner_a", "owner_b"):
        _, _, content = server.request("GET", f"/reports/{report_id}.csv", headers=headers[caller])
        rows[caller] = set(content.decode().splitlines()[1:])
    grouped = {line for line in rows["admin"] if line.split(",", 1)[0] != "n1"}
    assert rows["owner_a"] | rows["owner_b"] == grouped


def test_notes_and_pages_hold_only_the_keys_stores(served):
    server, headers, report_id = served
    code, _, page = server.request("GET", f"/ui/reports/{report_id}", headers=headers["owner_a"])
    assert code == 200
    assert b"/stores/a1" in page and b"/stores/a2" in page and b"/stores/b1" not in page
    assert b"/stores/n1" not in page
    assert b" 2 stores (your key's) " in page  # the key's count, never the report's 4
    code, _, page = server.request("GET", "/ui/", headers=headers["owner_a"])
    assert b"rejected rows" not in page and b"owner:a" in page
    code, health = server.json("GET", "/health", headers=headers["owner_a"])
    assert set(health) == {"status", "version"}
    code, health = server.json("GET", "/health", headers=headers["admin"])
    assert health["data"]["stores"] >= 4


def test_a_revoked_key_is_refused_at_once(served):
    server, headers, report_id = served
    code, made = server.json(
        "POST", "/keys", {"name": "short-lived", "groups": ["owner:a"]}, headers=headers["admin"]
    )
    mine = {"Authorization": f"Bearer {made['key']}"}
    assert server.request("GET", f"/reports/{report_id}.csv", headers=mine)[0] == 200
    code, _, _ = server.request("DELETE", "/keys/short-lived", headers=headers["admin"])
    assert code == 204
    assert server.request("GET", f"/reports/{report_id}.csv", headers=mine)[0] == 401
    code, listed = server.json("GET", "/keys", headers=headers["admin"])
    assert {k["name"] for k in listed} >= {"owner-a", "short-lived"}
    assert all("key" not in k and "key_hash" not in k for k in listed)


def test_keys_are_never_in_the_analysts_copies_and_only_their_hash_is_stored(served):
    server, _, _ = served
    snapshots = server.db.parent / "snapshots"
    assert not list(snapshots.glob("*key*"))
    with duckdb.connect() as con:
        for path in snapshots.glob("*.parquet"):
            found = con.execute("DESCRIBE FROM read_parquet(?)", [str(path)]).fetchall()
            assert "key_hash" not in [column[0] for column in found], path


def test_reads_open_on_loopback_serve_everything_without_a_key_but_a_bad_key_is_refused(tmp_path):
    ws = Workspace(tmp_path)
    ws.load(status=[("s1", "active", "2023-01-12 10:00:00")], groups=[("s1", "owner:a")])
    ws.con.close()
    with in_process(ws.db) as server:
        report_id = server.trigger()
        assert server.wait(report_id)[0] == 200
        assert server.request("GET", f"/reports/{report_id}.csv")[0] == 200
        assert server.json("GET", "/health")[1]["data"]["stores"] == 1
        bad = {"Authorization": "Bearer smk_not-a-key-anyone-made"}
        assert server.request("GET", f"/reports/{report_id}.csv", headers=bad)[0] == 401
        poll = b"store_id,status,timestamp_utc\ns1,active,2023-01-12 11:00:00\n"
        code, _, _ = server.request(
            "POST", "/polls", data=poll, headers={"Content-Type": "text/csv"}
        )
        assert code == 401  # writes still need a key


def test_a_key_asked_for_with_a_body_over_the_limit_is_413_as_documented(served):
    server, headers, _ = served
    code, answer = server.json(
        "POST", "/keys", {"name": "big", "groups": ["g" * 100] * 1000}, headers=headers["admin"]
    )
    assert (code, answer["error"]) == (413, "request entity too large")


def test_signing_in_sets_a_strict_httponly_session_that_ends_with_its_key(served):
    server, headers, report_id = served
    code, made = server.json(
        "POST", "/keys", {"name": "browser", "groups": ["owner:b"]}, headers=headers["admin"]
    )
    assert code == 201, made
    client = server.client
    client.cookies.clear()
    client.get("/ui/sign-in")  # hands out the CSRF cookie
    token = client.cookies.get("csrftoken")
    answer = client.post(
        "/ui/sign-in",
        data={"key": made["key"], "_csrf_token": token},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"]
    assert "storemon_session=browser." in cookie
    assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
    assert "Max-Age=43200" in cookie and "Secure" not in cookie  # (http here: no --public-url)
    assert made["key"] not in cookie  # the cookie names the key, never holds it
    page = client.get(f"/ui/reports/{report_id}")
    assert page.status_code == 200 and "/stores/b1" in page.text and "/stores/a1" not in page.text
    # what the pages' script reads, it reads with the session; the API's writes never do
    assert client.get(f"/get_report/{report_id}").status_code == 200
    assert client.post("/trigger_report").status_code == 401
    # a forged or edited cookie is nobody
    value = client.cookies.get("storemon_session")
    client.cookies.set("storemon_session", value.replace("browser.", "owner-a.", 1))
    assert client.get(f"/ui/reports/{report_id}").status_code == 401
    edited = value[:-1] + ("1" if value.endswith("0") else "0")  # its signature, one digit off
    for hostile in ("x.1.2.3", "....", "a.b.c.d.e", edited):
        client.cookies.set("storemon_session", hostile)
        assert client.get(f"/ui/reports/{report_id}").status_code == 401, hostile
    client.cookies.set("storemon_session", value)
    server.request("DELETE", "/keys/browser", headers=headers["admin"])
    assert client.get(f"/ui/reports/{report_id}").status_code == 401  # revoked: at once
    client.cookies.clear()


def test_the_session_cookie_is_secure_behind_an_https_address(tmp_path):
    ws = Workspace(tmp_path)
    ws.load(status=[("s1", "active", "2023-01-12 10:00:00")])
    key = add_key(ws.con, "someone", ["owner:a"])
    ws.con.close()
    with in_process(ws.db, "--public-url", "https://storemon.example.org") as server:
        server.client.get("/ui/sign-in")
        answer = server.client.post(
            "/ui/sign-in",
            data={"key": key, "_csrf_token": server.client.cookies.get("csrftoken")},
            follow_redirects=False,
        )
        assert answer.status_code == 303
        assert "Secure" in answer.headers["set-cookie"]


def test_an_owners_rollups_page_and_group_filter_hold_their_groups_alone(served):
    server, headers, report_id = served
    code, _, page = server.request(
        "GET", f"/ui/reports/{report_id}/rollups", headers=headers["owner_b"]
    )
    assert code == 200
    listed = re.findall(rb'\?group=([^"]+)">', page)
    assert sorted(listed) == [b"brand%3Ax", b"owner%3Ab"]
    base = f"/ui/reports/{report_id}"
    code, _, page = server.request("GET", f"{base}?group=brand%3Ax", headers=headers["owner_b"])
    assert set(re.findall(rb"/stores/(\w+)\"", page)) == {b"a2", b"b1"}
    assert b"2 stores of brand:x" in page and b"<small>%</small>" in page
    # a group that is not the key's is no filter: its own stores, as without one
    code, _, page = server.request("GET", f"{base}?group=owner%3Aa", headers=headers["owner_b"])
    assert set(re.findall(rb"/stores/(\w+)\"", page)) == {b"a2", b"b1"}


def test_reads_default_to_open_on_loopback_alone():
    from storemon.cli import loopback

    assert [loopback(h) for h in ("127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost")] == [
        True
    ] * 5
    assert not any(loopback(h) for h in ("0.0.0.0", "::", "192.168.1.5", "storemon.example.org"))


def test_a_service_the_network_reaches_reads_by_key_by_default(tmp_path, capsys):
    ws = Workspace(tmp_path)
    ws.load(status=[("s1", "active", "2023-01-12 10:00:00")])
    ws.con.close()
    with in_process(ws.db, "--host", "0.0.0.0") as server:
        assert "reads: key" in capsys.readouterr().out  # said at start
        assert server.request("GET", "/reports")[0] == 401
        assert server.request("GET", "/reports", headers=server.authorized())[0] == 200


def test_a_session_cookie_of_any_text_is_nobody_never_an_error():
    class Connection:  # what Sessions reads of a request
        def __init__(self, value: str) -> None:
            self.cookies = {COOKIE: value}

    with duckdb.connect() as con:
        sessions = Sessions("t" * 22, KeyRing(con, "t" * 22), secure=False)
        for text in ("x.1.2.é", "ü.ü.ü.ü", "....", "a" * 5000, ".1.2.3", "token.9999999999.x.y"):
            assert sessions.principal(Connection(text)) is None, text


def test_the_keys_commands_go_through_a_running_service_that_holds_the_database(tmp_path):
    ws = Workspace(tmp_path)
    ws.load(status=[("s1", "active", "2023-01-12 10:00:00")], groups=[("s1", "owner:a")])
    ws.con.close()
    with serving(ws.db) as server:
        printed = storemon(
            "keys", "add", "--db", str(ws.db), "--name", "acme", "--group", "owner:a"
        )
        key = printed.splitlines()[-1]  # alone on the last line
        assert key.startswith("smk_")
        mine = {"Authorization": f"Bearer {key}"}
        assert server.request("GET", "/reports", headers=mine)[0] == 200
        listed = storemon("keys", "list", "--db", str(ws.db))
        assert re.search(r"^acme +read +current +owner:a$", listed, re.M), listed
        storemon("keys", "revoke", "--db", str(ws.db), "acme")
        assert server.request("GET", "/reports", headers=mine)[0] == 401
