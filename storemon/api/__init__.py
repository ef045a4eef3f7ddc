"""The HTTP API (Litestar): one module per resource, sharing the report service; and the app
that serves it beside the pages (storemon/web/, under /ui/).

- reports.py   trigger a report, poll it, fetch its files, list them
- data.py      full loads (need the key)
- batches.py   batches appended as they arrive (need the key)
- health.py    up, data loaded, limits; what the loaded data can mean
- alerts.py    alert events, the stores down now, deliveries, /metrics
- guards.py    allowed hosts, no foreign web pages, the key, JSON bodies
- errors.py    one error body for every error
- openapi.py   what the generated OpenAPI document cannot say by itself
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path

import msgspec
from litestar import Litestar, Request, Router
from litestar.concurrency import set_asyncio_executor
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from storemon import __version__, web
from storemon.api.access import Reads, access_guard, check_routes
from storemon.api.alerts import alerts, alerts_deliveries, alerts_down_now, metrics
from storemon.api.batches import (
    append_groups,
    append_hours,
    append_polls,
    append_special_hours,
    append_timezones,
)
from storemon.api.data import ingest_files
from storemon.api.docs import ApiDocs
from storemon.api.errors import handle_http_error, handle_unexpected
from storemon.api.guards import host_guard, known_query_only
from storemon.api.headers import head_as_get, security_headers
from storemon.api.health import data_quality, health
from storemon.api.keys import add_key, list_keys, revoke_key
from storemon.api.openapi import Document, query_names
from storemon.api.reports import Reports
from storemon.api.stores import get_report_store, route_store_paths
from storemon.backends import backend_for
from storemon.inbox import Inbox
from storemon.limits import Limits, usable_cores
from storemon.notify import Target
from storemon.service import ReportService
from storemon.web.sessions import Sessions

MAX_JSON_BODY = 64 * 1024  # the JSON bodies here are a few hundred bytes


def read_threads() -> int:
    """Handlers running at once on threads: one per core this process may use, at least two
    (each DuckDB call frees the GIL). On two cores under 50 readers with reports computing,
    two threads instead of four took /health's p99 from 120-190 to 49-61 ms, the same req/s
    (README, "Many readers at once")."""
    return max(2, usable_cores())


def handler_threads() -> None:
    """The threads that run the handlers (sync_to_thread): read_threads() of their own. (The
    guards are async: what they read is in memory, and they never wait for one.)"""
    set_asyncio_executor(ThreadPoolExecutor(read_threads(), thread_name_prefix="handler"))


class Settings(msgspec.Struct, frozen=True):
    db: Path
    token: str
    workers: int = 2
    url: str | None = None
    """Where this service listens, left in <db>.service.json for the CLI to hand work over."""
    allowed_hosts: tuple[str, ...] = ("localhost", "127.0.0.1", "::1")
    """Names a request's Host may give (ports aside); `*` allows any."""
    public_url: str | None = None
    """Base of the links in answers; without it they are relative (/reports/ID.csv)."""
    limits: Limits = Limits()
    max_body: int = 256 * 1024 * 1024
    """The largest batch body accepted (413 beyond, before it is read)."""
    inbox: Path | None = None
    """A drop folder whose files are appended as they appear (storemon/inbox.py)."""
    inbox_settle: float = 2.0
    """Seconds a file in the drop folder must be left untouched before it is taken."""
    scheduler: str | None = None
    """A Dask scheduler (or local:N): reports are computed there, from `data` (cluster.py)."""
    data: Path | None = None
    """The cluster's data folder (with `scheduler`)."""
    alert_after: int = 1
    """K: a store is down now when its last K evidence polls are all inactive (storemon/alerts/)."""
    notify: tuple[Target, ...] = ()
    """Where alert events are delivered (storemon/notify/)."""
    notify_secret: str = ""
    """What the webhooks' bodies are signed with (storemon/notify/signing.py)."""
    reads: Reads = "open"
    """`open`: reading needs no key (a key of some groups still sees only theirs); `key`: every
    read route and page needs one (storemon/api/access.py)."""


def link_maker(public_url: str | None) -> Callable[[str], str]:
    """Links never come from the request's Host: from the configured base, or relative."""
    base = (public_url or "").rstrip("/")
    return lambda path: base + path


def create_app(settings: Settings) -> Litestar:
    state: dict[str, ReportService] = {}

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        app.state.query_names = query_names(app)
        service = state["service"] = ReportService(
            settings.db,
            workers=settings.workers,
            url=settings.url,
            limits=settings.limits,
            backend=backend_for(settings.scheduler, settings.data),
            token=settings.token,
            alert_after=settings.alert_after,
            notify=settings.notify,
            notify_secret=settings.notify_secret,
        )
        app.state.key_ring = service.key_ring
        app.state.sessions = Sessions(
            settings.token,
            service.key_ring,
            secure=(settings.public_url or "").lower().startswith("https://"),
        )
        inbox = app.state.inbox = (
            Inbox(settings.inbox, service, settle=settings.inbox_settle) if settings.inbox else None
        )
        if inbox:
            inbox.start()
        try:
            yield
        finally:
            if inbox:
                inbox.stop()
            state.pop("service").close()

    def provide_service() -> ReportService:
        return state["service"]

    # Pages with forms (under /ui/) get CSRF tokens by default; the JSON API is exempt, as a
    # browser cannot send it JSON from another site, and its writes need the bearer key.
    csrf_secret = hashlib.sha256(b"storemon csrf\0" + settings.token.encode()).hexdigest()
    api = Router(
        "/",
        route_handlers=[
            Reports,
            get_report_store,
            health,
            data_quality,
            ingest_files,
            list_keys,
            add_key,
            revoke_key,
            alerts,
            alerts_down_now,
            alerts_deliveries,
            metrics,
            Router(
                "/",
                route_handlers=[
                    append_polls,
                    append_hours,
                    append_timezones,
                    append_special_hours,
                    append_groups,
                ],
                request_max_body_size=settings.max_body,
            ),
        ],
        opt={"exclude_from_csrf": True},
        guards=[known_query_only],
    )
    pages = Router(
        "/", route_handlers=[*web.route_handlers, web.static_files()], include_in_schema=False
    )

    def handle_error(request: Request, exc: HTTPException):
        return (
            web.error_page(request, exc)
            if web.is_page(request)
            else handle_http_error(request, exc)
        )

    app = Litestar(
        route_handlers=[api, pages],
        template_config=web.template_config(),
        lifespan=[lifespan],
        dependencies={"service": Provide(provide_service, sync_to_thread=False)},
        middleware=[host_guard(frozenset(h.lower() for h in settings.allowed_hosts))],
        guards=[access_guard],
        csrf_config=CSRFConfig(secret=csrf_secret),
        exception_handlers={HTTPException: handle_error, Exception: handle_unexpected},
        before_send=[security_headers],
        request_max_body_size=MAX_JSON_BODY,
        state=State(
            {
                "token": settings.token,
                "reads": settings.reads,
                "key_ring": None,
                "sessions": None,
                "link": link_maker(settings.public_url),
                "inbox": None,
                "query_names": {},
            }
        ),
        openapi_config=OpenAPIConfig(
            title="storemon",
            version=__version__,
            render_plugins=[ApiDocs(), Document()],
            description="Uptime and downtime of stores during business hours. Trigger a "
            "report, poll it until it is Complete, then download the CSV or Parquet file. "
            "Routes that change data need `Authorization: Bearer <token>`.",
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(
                        type="http",
                        scheme="bearer",
                        description="$STOREMON_TOKEN, or the file <database>.token the service "
                        "made at its first start",
                    )
                }
            ),
        ),
    )
    check_routes(app)  # every route has its access rule
    # before routing: every GET route answers HEAD; a store's route takes any store_id
    app.asgi_handler = head_as_get(route_store_paths(app.asgi_handler))
    return app
