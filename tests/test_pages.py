"""The pages (/ui/) in a real browser: headless Chromium from Debian's packages, driven by
Playwright, against a real server on a free loopback port. Each test saves a screenshot of every
page it sees in its temporary folder (pytest keeps the last runs' folders, failed or not)."""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from playwright.sync_api import expect

from storemon.database import connect
from storemon.generate import generate
from storemon.ingest import ingest
from tests.conftest import Workspace, two_owners
from tests.server import free_port, serving

# The server and the browser: set up once, as the whole file runs in one test process
# (pyproject.toml: --dist loadgroup)
pytestmark = pytest.mark.xdist_group("browser")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
HOW = "install it with `apt-get install chromium` (Debian's package; Playwright cannot fetch one)"
PAGE_WEIGHT = 150 * 1024


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright launches the system's Chromium. Without one the browser tests skip on
    a developer's machine, and fail in CI (CI=true), which installs it first (.ci/run)."""
    if CHROMIUM is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"no chromium on PATH in CI: {HOW}")
        pytest.skip(f"the browser tests need Chromium: {HOW}")
    return {**browser_type_launch_args, "executable_path": CHROMIUM}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """4,000 stores (a report takes a few tenths of a second: long enough to see it running),
    with unreadable rows on purpose."""
    folder = tmp_path_factory.mktemp("pages")
    files = generate(folder / "csv", stores=4000, days=7, seed=7, bad_rows=True)
    db = folder / "storemon.duckdb"
    with connect(db) as con:
        ingest(con, files.status, files.hours, files.timezones)
    return db


@pytest.fixture(scope="module")
def server(built, tmp_path_factory):
    db = tmp_path_factory.mktemp("served") / "storemon.duckdb"
    shutil.copy(built, db)
    with serving(db) as server:
        yield server


@pytest.fixture(scope="module")
def finished(server) -> str:
    """A finished report's id."""
    report_id = server.trigger("2023-03-14 12:00:00")
    assert server.wait(report_id)[0] == 200
    return report_id


def shoot(page, tmp_path: Path, name: str) -> None:
    page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)


def follow(page, selector: str, lands_on: str) -> None:
    """Click a link or a form's button and wait until the page it leads to has loaded, so that
    what the test reads next is the new page, never the old one."""
    page.click(selector)
    page.wait_for_url(lambda url: lands_on in url)
    page.wait_for_load_state("load")


def weight(page, url: str) -> int:
    """Bytes transferred to show `url`: the page and everything it loads."""
    sizes: list[int] = []
    page.on("response", lambda response: sizes.append(len(response.body())))
    page.goto(url)
    page.wait_for_load_state("networkidle")
    return sum(sizes)


def test_overview_runs_a_report_and_watches_it_finish_without_reloading(server, page, tmp_path):
    assert server.request("GET", "/", accept="text/html")[0] == 200  # redirected to /ui/
    page.goto(server.url + "/")
    assert page.url.endswith("/ui/") or page.url.endswith("/ui")
    shoot(page, tmp_path, "overview")
    cards = page.locator("section.cards").inner_text()
    assert "4,000 stores" in cards and "rejected rows" in cards
    page.fill("input[name=as_of]", "2023-03-14 09:00:00")
    follow(page, "button:text('Run report')", "#report-")
    report_id = page.url.rsplit("#report-", 1)[1]
    row = page.locator(f"#report-{report_id}")
    assert row.locator("td.status").inner_text() == "Running"
    page.evaluate("window.notReloaded = true")
    row.locator("td.status:text('Complete')").wait_for(timeout=30_000)
    assert page.evaluate("window.notReloaded") is True  # the row changed in place
    shoot(page, tmp_path, "overview-complete")
    assert page.locator(f"#report-{report_id} a.csv").count() == 1


def test_the_report_table_sorts_and_searches_on_the_server(server, finished, page, tmp_path):
    page.goto(f"{server.url}/ui/reports/{finished}")
    shoot(page, tmp_path, "report")
    assert page.locator("svg.histogram g.bin").count() == 10

    def column(index: int) -> list[str]:
        return page.locator(f"table.stores tbody tr td:nth-child({index})").all_inner_texts()

    # Worst downtime first, 50 stores a page, 4,000 stores in all.
    down_week = [float(v) for v in column(8)]
    assert len(down_week) == 50 and down_week == sorted(down_week, reverse=True)
    assert "page 1 of 80" in page.locator("nav.pages").inner_text()
    # Sorted by store id, then the other way.
    follow(page, "table.stores th a:text('store')", "sort=store_id&order=asc")
    ids = column(1)
    assert len(ids) == 50 and ids == sorted(ids)
    follow(page, "table.stores th a:text('store')", "sort=store_id&order=desc")
    descending = column(1)
    assert len(descending) == 50 and descending == sorted(descending, reverse=True)
    # Most outages first.
    follow(page, "table.stores th a:text('outages')", "sort=outages_last_week")
    outages = [int(v) for v in column(9)]
    assert outages == sorted(outages, reverse=True) and outages[0] > 0
    # Search by store id: only the matching stores, in the chosen order.
    fragment = ids[0][3:9]
    page.fill("input[name=q]", fragment)
    follow(page, "button:text('Search')", f"q={fragment}")
    shoot(page, tmp_path, "report-search")
    found = column(1)
    assert found and all(fragment in store for store in found)
    assert f"q={fragment}" in page.url and "sort=outages_last_week" in page.url


def test_a_store_page_draws_its_week_with_one_mark_per_outage(server, finished, page, tmp_path):
    _, _, content = server.request("GET", f"/reports/{finished}/outages.csv")
    rows = list(csv.DictReader(io.StringIO(content.decode())))
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["store_id"]] = counts.get(row["store_id"], 0) + 1
    store_id = max(sorted(counts), key=counts.get)
    page.goto(f"{server.url}/ui/reports/{finished}")
    page.fill("input[name=q]", store_id)
    follow(page, "button:text('Search')", f"q={store_id}")
    page.get_by_role("link", name=store_id, exact=True).click()
    expect(page.locator("h1")).to_have_text(f"Store {store_id}")
    shoot(page, tmp_path, "store")
    timeline = page.locator("svg.timeline")
    assert timeline.locator("g.outage").count() == counts[store_id] > 1
    assert timeline.locator("line.now").count() == 1
    assert timeline.locator("rect.open").count() > 0
    _, week = server.json("GET", f"/reports/{finished}/stores/{store_id}")
    assert timeline.locator("circle.poll").count() == len(week["polls"])
    assert page.locator("table.outages tbody tr").count() == counts[store_id]
    # times as a person reads them, in the store's zone, the exact instant on hover
    first = week["outages"][0]
    cell = page.locator("table.outages tbody tr").first.locator("td time").first
    started = datetime.fromisoformat(first["started_at_local"])
    assert cell.inner_text() == f"{started:%a %d %b %H:%M}"
    assert first["started_at_local"] in cell.get_attribute("title")
    # its intervals and polls, a row each, behind a link (few readers open them)
    assert page.locator("details").count() == 0
    follow(page, "p.rows a", "rows=all")
    tables = page.locator("details[open] table")
    assert tables.nth(0).locator("tbody tr").count() == len(week["business_intervals"])
    assert tables.nth(1).locator("tbody tr").count() == len(week["polls"])
    shoot(page, tmp_path, "store-rows")


def test_the_csv_link_downloads_the_apis_bytes(server, finished, page, tmp_path):
    page.goto(f"{server.url}/ui/reports/{finished}")
    with page.expect_download() as download:
        page.click("a.csv")
    saved = tmp_path / "report.csv"
    download.value.save_as(saved)
    assert saved.read_bytes() == server.request("GET", f"/reports/{finished}.csv")[2]


def rejected_reasons(server) -> list[tuple[str, str]]:
    """The (source, reason) pairs of rejected rows, from the Parquet copy the service keeps
    (the service holds the database file)."""
    path = Path(server.db).parent / "snapshots" / "rejected_rows.parquet"
    with duckdb.connect() as con:
        return con.execute(f"SELECT DISTINCT source, reason FROM '{path}' ORDER BY ALL").fetchall()


def test_the_data_quality_page_shows_rejected_rows_with_samples(server, page, tmp_path):
    page.goto(f"{server.url}/ui/data-quality")
    shoot(page, tmp_path, "data-quality")
    reasons = rejected_reasons(server)
    assert page.locator("section.rejected").count() == len(reasons) > 0
    for source, reason in reasons:
        section = page.locator("section.rejected", has_text=f"{source}: {reason}")
        assert section.count() == 1
        assert section.locator("tbody tr").count() >= 1  # samples: file, line, raw text


def test_errors_are_pages(server, finished, page, tmp_path):
    answer = page.goto(f"{server.url}/ui/reports/AAAAAAAAAAAAAAAAAAAAAA")
    assert answer.status == 404 and page.locator("h1").inner_text() == "No such report"
    answer = page.goto(f"{server.url}/ui/reports/{finished}/stores/no-such-store")
    assert answer.status == 404 and "no store no-such-store" in page.inner_text("main")
    answer = page.goto(f"{server.url}/ui/nowhere")
    assert answer.status == 404 and page.locator("h1").inner_text() == "Not found"
    shoot(page, tmp_path, "not-found")
    # The API's own errors stay JSON.
    code, body = server.json("GET", "/reports/AAAAAAAAAAAAAAAAAAAAAA.csv")
    assert (code, body["error"]) == (404, "unknown report id")


def test_pages_are_light(server, finished, page):
    assert weight(page, f"{server.url}/ui/") < PAGE_WEIGHT
    assert weight(page, f"{server.url}/ui/reports/{finished}") < PAGE_WEIGHT


def test_the_run_form_needs_its_csrf_token(server):
    code, _, content = server.request(
        "POST",
        "/ui/reports",
        data=b"as_of=",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert code == 403 and re.search(rb"<h1>", content)


def test_no_page_breaks_its_content_security_policy_or_fetches_from_elsewhere(
    server, finished, page, tmp_path
):
    # Every page, the API's documentation too, under the headers every answer carries: nothing
    # the policy blocks (Chromium says so on the console), nothing from another origin.
    _, _, content = server.request("GET", f"/reports/{finished}/outages.csv")
    store_id = next(csv.DictReader(io.StringIO(content.decode())))["store_id"]
    complaints: list[str] = []
    page.on("console", lambda message: complaints.append(message.text))
    page.on("pageerror", lambda error: complaints.append(str(error)))
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url))
    for path in [
        "/ui/",
        f"/ui/reports/{finished}",
        f"/ui/reports/{finished}/stores/{store_id}",
        "/ui/data-quality",
        "/schema",
    ]:
        answer = page.goto(server.url + path)
        assert answer.status == 200
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")
    page.locator(".opblock").first.wait_for()  # the documentation drew the API's routes
    assert page.locator(".opblock").count() >= 10
    shoot(page, tmp_path, "schema")
    assert [c for c in complaints if "Content Security Policy" in c or "Refused" in c] == []
    assert [url for url in fetched if not url.startswith(server.url)] == []


def test_a_page_of_another_origin_cannot_frame_the_pages(server, page, tmp_path):
    # Clickjacking: a page on another port of the same host puts /ui/ in a frame, to have a
    # visitor click "Run report" through it. The browser refuses to show the frame.
    (tmp_path / "frame.html").write_text(
        f'<!DOCTYPE html><iframe id="f" src="{server.url}/ui/" width="800" height="600"></iframe>'
    )
    other = subprocess.Popen(
        [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port := free_port())],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                page.goto(f"http://127.0.0.1:{port}/frame.html")
                break
            except Exception:
                time.sleep(0.1)
        page.wait_for_load_state("networkidle")
        framed = page.frame_locator("#f")
        assert framed.locator("button:text('Run report')").count() == 0
        frame = next(f for f in page.frames if f != page.main_frame)
        assert not frame.url.startswith(server.url)  # an error page in its place
    finally:
        other.terminate()
        other.wait(timeout=10)


def test_the_run_form_says_on_the_form_why_it_ran_nothing(server, page, tmp_path):
    # An as-of outside the data: the API answers 400; the form used to make a Failed run.
    page.goto(f"{server.url}/ui/")
    runs = server.json("GET", "/reports?limit=100")[1]
    page.fill("input[name=as_of]", "2001-01-01 00:00:00")
    with page.expect_response(lambda answer: answer.request.method == "POST") as posted:
        page.click("button:text('Run report')")
    assert posted.value.status == 400
    shoot(page, tmp_path, "run-form-error")
    said = page.locator("form.run .form-error").inner_text()
    assert "No report was run" in said and "outside the loaded polls" in said
    assert page.input_value("input[name=as_of]") == "2001-01-01 00:00:00"
    assert server.json("GET", "/reports?limit=100")[1] == runs  # nothing queued, nothing failed
    page.fill("input[name=as_of]", "not an instant")
    page.click("button:text('Run report')")
    assert "No report was run" in page.locator("form.run .form-error").inner_text()


def test_an_owner_signs_in_sees_only_their_stores_and_signs_out(page, tmp_path):
    db, key = two_owners(tmp_path / "owners")
    with serving(db, "--reads", "key") as server:
        code, answer = server.json("POST", "/trigger_report", headers=server.authorized())
        assert code == 202, answer
        report_id = answer["report_id"]
        done = server.authorized()
        while server.request("GET", f"/get_report/{report_id}", headers=done)[0] != 200:
            time.sleep(0.05)
        page.goto(f"{server.url}/ui/reports/{report_id}")
        assert page.locator("h1").inner_text() == "A key is needed"
        shoot(page, tmp_path, "needs-a-key")
        page.goto(f"{server.url}/ui/sign-in")
        page.fill("input[name=key]", "smk_wrong")
        page.click("form.sign-in button")
        assert "not a current key" in page.locator("#key-error").inner_text()
        page.fill("input[name=key]", key)
        page.click("form.sign-in button")
        page.wait_for_url(f"{server.url}/ui/")
        assert "owner-a" in page.locator("header").inner_text()
        page.goto(f"{server.url}/ui/reports/{report_id}")
        shown = set(page.locator("table.stores tbody td:first-child").all_inner_texts())
        assert shown == {"a1", "a2"}
        shoot(page, tmp_path, "signed-in")
        page.click("form.sign-out button")
        page.wait_for_url(f"{server.url}/ui/sign-in")
        page.goto(f"{server.url}/ui/reports/{report_id}")
        assert page.locator("h1").inner_text() == "A key is needed"


def test_the_down_now_board_shows_who_is_down_and_refreshes_by_itself(page, tmp_path):
    """The overview's board (alerts, sql/README.md rule 11): a store down while open is listed
    with since when and its polls; when it comes back, the board changes in place, without a
    reload."""
    ws = Workspace(tmp_path)
    ws.load(status=[("s1", "active", "2024-01-08 09:00:00")], zones=[("s1", "UTC")])
    ws.con.close()
    db = ws.db
    with serving(db) as server:
        batch = "store_id,status,timestamp_utc\ns1,inactive,2024-01-08 10:00:00\n"
        code, _, _ = server.request(
            "POST",
            "/polls",
            data=batch.encode(),
            headers={"Content-Type": "text/csv", **server.authorized()},
        )
        assert code == 201
        page.goto(server.url + "/ui/")
        board = page.locator("#down-now")
        assert "1 store down while open" in board.inner_text()
        assert "s1" in board.locator("tbody").inner_text()
        assert board.locator("time").first.get_attribute("datetime") == "2024-01-08T09:30:00+00:00"
        shoot(page, tmp_path, "down-now")
        page.evaluate("window.notReloaded = true")
        back = "store_id,status,timestamp_utc\ns1,active,2024-01-08 11:00:00\n"
        code, _, _ = server.request(
            "POST",
            "/polls",
            data=back.encode(),
            headers={"Content-Type": "text/csv", **server.authorized()},
        )
        assert code == 201
        expect(page.locator("#down-now")).to_contain_text("No store is down", timeout=15000)
        assert page.evaluate("window.notReloaded") is True
