"""Talking to a running `storemon serve` for the same database, when it holds the file.

The service writes `<db>.service.json` with its address while it runs; `storemon ingest` and
`storemon report` use it to hand their work over instead of failing on DuckDB's file lock.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from contextlib import ExitStack
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urljoin

import msgspec

from storemon.auth import TOKEN_ENV, client_token, token_file
from storemon.errors import StoremonError
from storemon.results import BatchAnswer, IngestResult

# The service is on this machine: never ask a proxy that the environment may name.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def service_file(db: Path) -> Path:
    """Where a running service says how to reach it (it writes the file while it runs)."""
    return db.with_name(db.name + ".service.json")


def running_service(db: Path) -> str | None:
    """The base URL of the service that holds `db`, if one answers."""
    try:
        url = json.loads(service_file(Path(db)).read_text())["url"]
        with _opener.open(f"{url}/health", timeout=5):
            return url
    except (OSError, ValueError, KeyError):
        return None


def call(
    method: str,
    url: str,
    body: dict | None = None,
    accept: str = "application/json",
    token: str | None = None,
    raw: bytes | BinaryIO | None = None,
    media: str = "application/json",
):
    """(status, headers, body bytes); HTTP errors come back as answers, not exceptions.
    The body is `body` as JSON, or `raw` (bytes or an open file) typed as `media`."""
    data = json.dumps(body).encode() if body is not None else raw
    request = urllib.request.Request(url, data=data, method=method, headers={"Accept": accept})
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", media)
    try:
        with _opener.open(request, timeout=600) as answer:
            return answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as answer:
        return answer.code, answer.headers, answer.read()


def ingest_via(
    url: str,
    db: Path,
    status: Path,
    hours: Path,
    timezones: Path,
    allow_empty: bool = False,
    special_hours: Path | None = None,
    groups: Path | None = None,
) -> IngestResult:
    token = _token_or_explain(url, db)
    code, _, body = call(
        "POST",
        f"{url}/ingest",
        {
            "status": str(Path(status).resolve()),
            "hours": str(Path(hours).resolve()),
            "timezones": str(Path(timezones).resolve()),
            # sent only when asked for: a service of an earlier version refuses unknown fields
            **({"allow_empty": True} if allow_empty else {}),
            **({"special_hours": str(Path(special_hours).resolve())} if special_hours else {}),
            **({"groups": str(Path(groups).resolve())} if groups else {}),
        },
        token=token,
    )
    answer = json.loads(body)
    if code != 200:
        raise StoremonError(answer.get("detail") or answer.get("error") or f"HTTP {code}")
    return msgspec.convert(answer, IngestResult)


def append_via(url: str, db: Path, kind: str, path: Path, allow_empty: bool = False) -> BatchAnswer:
    """POST one batch file to the service (Parquet as CSV), streamed from disk."""
    from storemon.append import as_csv, is_parquet

    token = _token_or_explain(url, db)
    with ExitStack() as scratch:
        csv_path, _ = as_csv(path, "parquet" if is_parquet(path) else "text/csv", kind, scratch)
        with Path(csv_path).open("rb") as body:
            code, _, content = call(
                "POST",
                f"{url}/{kind}" + ("?allow_empty=true" if allow_empty else ""),
                token=token,
                raw=body,
                media="text/csv",
            )
    answer = json.loads(content)
    if code not in (200, 201):
        raise StoremonError(f"{path}: {answer.get('detail') or answer.get('error')}")
    return msgspec.convert(answer, BatchAnswer)


def _token_or_explain(url: str, db: Path) -> str:
    token = client_token(db)
    if token is None:
        raise StoremonError(
            f"the service at {url} needs its key to change data, and {token_file(db)} does not "
            f"exist: set {TOKEN_ENV} to the token the service was started with"
        )
    return token


def report_via(
    url: str,
    out: Path,
    as_of: str | None,
    beside: dict[str, Path] | None = None,
    poll_seconds: float = 0.1,
) -> dict:
    """Trigger a report on the service, wait for it, and save its file to `out` atomically (and
    its outages or summary to the paths in `beside`, by name); CSV or Parquet by the suffix."""
    code, _, body = call("POST", f"{url}/trigger_report", {"as_of": as_of} if as_of else None)
    answer = json.loads(body)
    if code != 202:
        raise StoremonError(answer.get("detail") or f"HTTP {code}")
    report_id = answer["report_id"]
    while True:
        code, _, body = call("GET", f"{url}/get_report/{report_id}")
        if code != 202:
            break
        time.sleep(poll_seconds)
    answer = json.loads(body)
    if code != 200:
        raise StoremonError(f"report {report_id}: {answer.get('detail') or answer.get('error')}")
    wanted = {"": Path(out)} | {name: Path(path) for name, path in (beside or {}).items()}
    for name, path in wanted.items():
        key = f"{name}_" if name else ""
        link = answer[f"{key}parquet_url" if path.suffix == ".parquet" else f"{key}csv_url"]
        code, _, data = call("GET", urljoin(url, link), accept="*/*")
        if code != 200:
            raise StoremonError(f"report {report_id}: {link} answered HTTP {code}")
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.partial")
        partial.write_bytes(data)
        os.replace(partial, path)
    return answer


def keys_via(url: str, db: Path, method: str, path: str, body: dict | None = None):
    """A call to the service's /keys routes with its admin key: its JSON answer ({} for 204)."""
    code, _, answer = call(method, f"{url}{path}", body, token=_token_or_explain(url, db))
    if code >= 400:
        said = json.loads(answer) if answer else {}
        raise StoremonError(said.get("detail") or said.get("error") or f"HTTP {code}")
    return json.loads(answer) if answer else {}
