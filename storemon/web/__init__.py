"""The pages people look at (/ui/): server-rendered HTML over the same service as the API.

- pages.py   the pages: overview, a report, one store's week, data quality
- browse.py  what they read: a report's rows sorted, searched and paged, its totals, the
             rejected rows and the last batches
- svg.py     the pictures, drawn by the server as inline SVG

Templates are in storemon/templates/, the stylesheet and the one small script in
storemon/static/ (served at /ui/static/): nothing is fetched from elsewhere at run time.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import ControllerRouterHandler
from markupsafe import Markup, escape

from storemon.web.pages import Pages, home, problem

PACKAGE = Path(__file__).resolve().parent.parent
PREFIX = "/ui"

TITLES = {
    400: "Bad request",
    401: "A key is needed",
    403: "Forbidden",
    404: "Not found",
    405: "Not allowed",
}


def template_config() -> TemplateConfig:
    return TemplateConfig(
        directory=PACKAGE / "templates", engine=JinjaTemplateEngine, engine_callback=add_filters
    )


def add_filters(engine: JinjaTemplateEngine) -> None:
    # a store_id as the last segment of a link: every character but unreserved ones encoded, its
    # slashes too (Jinja's urlencode keeps them, and a browser would then resolve `a/../b`)
    engine.engine.filters["store_link"] = lambda store_id: quote(store_id, safe="")
    engine.engine.filters["shown"] = shown
    engine.engine.filters["shown_text"] = shown_text
    engine.engine.filters["when"] = when
    engine.engine.filters["when_utc"] = when_utc


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace(" UTC", "+00:00").replace("Z", "+00:00"))


def when(local_text: str | None, utc_text: str | None = None) -> Markup:
    """A local time as a person reads it, `Wed 25 Jan 13:13`, with the instant in UTC on
    hover (the data's own text: `2023-01-25 13:13:20-05:00`)."""
    if not local_text:
        return Markup("")
    moment = _instant(local_text)
    exact = (_instant(utc_text).astimezone(UTC) if utc_text else moment.astimezone(UTC)).strftime(
        "%Y-%m-%d %H:%M:%S UTC"
    )
    return _time(moment.isoformat(), f"{exact} ({local_text})", f"{moment:%a %d %b %H:%M}")


def when_utc(utc_text: str | None) -> Markup:
    """An instant in UTC as a person reads it, `Wed 25 Jan 18:13 UTC`, to the microsecond on
    hover."""
    if not utc_text:
        return Markup("")
    moment = _instant(utc_text).astimezone(UTC)
    return _time(moment.isoformat(), utc_text, f"{moment:%a %d %b %H:%M} UTC")


def _time(instant: str, title: str, text: str) -> Markup:
    """A <time> element, each piece escaped. (Markup.format took 3 times as long, 9 us a call,
    and a store's page shows a few hundred of these.)"""
    shown = escape(text)
    return Markup(f'<time datetime="{escape(instant)}" title="{escape(title)}">{shown}</time>')


def shown(text: object) -> Markup:
    """Text from the data (a store id, a raw line) as it reads: isolated from the page's text
    around it (<bdi>), and each invisible or direction character (Unicode category Cf: a
    direction override, a zero-width space, a byte-order mark) shown as ⟨U+XXXX⟩, so that
    `123<U+202E>654` never reads as "123456"."""
    text = str(text)
    if text.isascii():  # no character of category Cf is ASCII
        return Markup("<bdi>") + escape(text) + Markup("</bdi>")
    pieces = [
        Markup('<span class="fmt">⟨U+{:04X}⟩</span>').format(ord(c))
        if unicodedata.category(c) == "Cf"
        else escape(c)
        for c in text
    ]
    return Markup("<bdi>") + Markup("").join(pieces) + Markup("</bdi>")


def shown_text(text: object) -> str:
    """The same for plain text (a page's title): each such character as ⟨U+XXXX⟩."""
    return "".join(f"⟨U+{ord(c):04X}⟩" if unicodedata.category(c) == "Cf" else c for c in str(text))


def static_files():
    return create_static_files_router(
        path=f"{PREFIX}/static", directories=[PACKAGE / "static"], include_in_schema=False
    )


route_handlers: list[ControllerRouterHandler] = [Pages, home]


def is_page(request: Request) -> bool:
    return request.url.path == PREFIX or request.url.path.startswith(f"{PREFIX}/")


def error_page(request: Request, exc: HTTPException) -> Response | Template:
    """An error under /ui/ as a page (the API's errors stay JSON)."""
    status = exc.status_code
    if status >= 500:
        return problem(status, "Something went wrong", "The service's log says more.")
    page = problem(status, TITLES.get(status, "Cannot do that"), str(exc.detail))
    page.headers.update(exc.headers or {})  # a 401's WWW-Authenticate
    return page
