"""The pages under /ui/: what is loaded and the recent reports, a report's stores, one store's
week, and the data's quality. Server-rendered (Jinja2 templates in storemon/templates/); they
work without JavaScript, and storemon/static/storemon.js only refreshes what is still running.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.enums import MediaType, RequestEncodingType
from litestar.params import Body, Parameter
from litestar.response import Redirect, Template
from markupsafe import Markup

from storemon.api.access import groups_of, is_admin
from storemon.api.health import inbox_state
from storemon.api.shapes import REPORT_ID_PATTERN, Service
from storemon.api.stores import StorePath, store_id_in
from storemon.errors import StoremonError
from storemon.finished import Finished
from storemon.instants import iso
from storemon.keys import Principal
from storemon.report import parse_as_of
from storemon.runs import UNREADY_STATUS, Busy, Run, unready
from storemon.web import browse
from storemon.web.svg import histogram, timeline

COLUMNS = [  # (name, heading, unit) of the report table, in order
    ("store_id", "store", ""),
    ("uptime_last_hour", "up, hour", "min"),
    ("uptime_last_day", "up, day", "h"),
    ("uptime_last_week", "up, week", "h"),
    ("uptime_percent_week", "up, week", "%"),
    ("downtime_last_hour", "down, hour", "min"),
    ("downtime_last_day", "down, day", "h"),
    ("downtime_last_week", "down, week", "h"),
    ("outages_last_week", "outages, week", ""),
    ("longest_outage_last_week", "longest, week", "h"),
    ("down_now", "down now", ""),
]


def render(name: str, status_code: int = 200, **context: Any) -> Template:
    return Template(template_name=name, context=context, status_code=status_code)


class KeptPage(Template):
    """A page of a finished report whose own part (its template's blocks) is the same for
    every request that asks `ask`: rendered once and kept (storemon/finished.py); the frame
    around it (base.html: who is signed in, the sign-out form's token) is rendered each time."""

    def __init__(
        self, name: str, kept: Finished, report_id: str, ask: tuple, **context: Any
    ) -> None:
        super().__init__(template_name=name, context=context)
        self.kept, self.report_id, self.ask = kept, report_id, ask


FRAME = "kept.html"  # base.html around a kept page's blocks


def rendered_here(handler: Callable[..., Any]) -> Callable[..., Any]:
    """A page handler (on a worker thread) whose page is rendered on that thread. Litestar
    renders a returned Template on the event loop, where a page of a few tens of milliseconds
    held back every other request, /health too."""

    @functools.wraps(handler)
    def handle(self: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = handler(self, request, *args, **kwargs)
        if not isinstance(page, Template) or page.template_name is None:
            return page
        engine = request.app.template_engine
        if engine is None:
            raise RuntimeError("no template engine")
        template = engine.get_template(page.template_name)
        context = page.create_template_context(request)
        if isinstance(page, KeptPage):

            def blocks() -> dict[str, Markup]:
                made = template.new_context(context)
                return {name: Markup("".join(make(made))) for name, make in template.blocks.items()}

            context["blocks"] = page.kept.get(page.report_id, ("html", *page.ask), blocks)
            template = engine.get_template(FRAME)
        body = template.render(**context)
        return Response(
            body, status_code=page.status_code, media_type=MediaType.HTML, headers=page.headers
        )

    return handle


def problem(status_code: int, title: str, detail: str) -> Template:
    """An error, as a page."""
    return render("error.html", status_code, title=title, detail=detail)


def unfinished(run: Run | None, report_id: str) -> Template | None:
    """The page for a report that is not there to show (service.unready), or None."""
    why = unready(run)
    status = UNREADY_STATUS[why] if why else 200
    if why == "unknown" or run is None:
        return problem(status, "No such report", f"No report {report_id} was triggered here.")
    if why == "removed":
        return problem(status, "Report removed", f"Report {report_id} was removed: {run.error}.")
    if why == "failed":
        return problem(status, "Report failed", f"Report {report_id} failed: {run.error}")
    if why == "pending":
        return render("running.html", status, run=run)
    return None


BOARD = 50  # stores the down-now board lists, longest down first; GET /alerts/down_now has all


def _rejected(service: Service) -> list[dict]:
    with service.con.cursor() as cur:
        return browse.rejected_by_reason(cur, samples=0)


def overview_page(
    service: Service,
    principal: Principal | None,
    status: int = 200,
    form_error: str | None = None,
    as_of_text: str = "",
) -> Template:
    """The overview; after a refused run, with the form's error and what was typed. What the
    data is (counts, rejected rows) is for admin keys; a key of some groups sees which."""
    allowed = service.as_of_range()
    admin = is_admin(principal)
    rejected = service.current.get(("rejected",), lambda: _rejected(service)) if admin else []
    groups = principal.groups if principal is not None else frozenset()
    down, down_in_all = service.down_now(groups, limit=BOARD)
    return render(
        "overview.html",
        status,
        data=service.data if admin else None,
        principal=principal,
        runs=service.recent(20),
        rejected=sum(r["rows"] for r in rejected),
        as_of_range=[iso(allowed.earliest), iso(allowed.latest)] if allowed else None,
        form_error=form_error,
        as_of_text=as_of_text,
        down=down,
        down_in_all=down_in_all,
    )


class Pages(Controller):
    path = "/ui"
    include_in_schema = False

    @get("/", sync_to_thread=True)
    @rendered_here
    def overview(self, request: Request, service: Service) -> Template:
        return overview_page(service, request.state.principal)

    @post("/reports", sync_to_thread=True, status_code=303)
    def run_report(
        self,
        request: Request,
        service: Service,
        data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Redirect | Template:
        text = (data.get("as_of") or "").strip()
        try:
            as_of = parse_as_of(text) if text else None
            report_id = service.trigger(as_of)
        except Busy as busy:
            return problem(503, "Busy", str(busy))
        except StoremonError as bad:  # said on the form itself, with what was typed
            return overview_page(
                service, request.state.principal, 400, form_error=str(bad), as_of_text=text
            )
        return Redirect(path=f"/ui/#report-{report_id}", status_code=303)

    @get("/reports/{report_id:str}", sync_to_thread=True)
    @rendered_here
    def report(
        self,
        request: Request,
        service: Service,
        report_id: Annotated[str, Parameter(pattern=REPORT_ID_PATTERN)],
        sort: Annotated[str, Parameter(max_length=40)] = browse.DEFAULT_SORT,
        order: Annotated[str, Parameter(pattern="^(asc|desc)$")] = "desc",
        q: Annotated[str, Parameter(max_length=256)] = "",
        page: Annotated[int, Parameter(ge=1, le=1_000_000)] = 1,
        note: Annotated[str, Parameter(max_length=100)] = "",
        group: Annotated[str, Parameter(max_length=200)] = "",
    ) -> Template:
        run = service.get(report_id)
        waiting = unfinished(run, report_id)
        if waiting is not None:
            return waiting
        sort = sort if sort in browse.SORTS else browse.DEFAULT_SORT
        groups = groups_of(request)
        kept = service.finished  # a finished report's answers, read once
        notes = kept.get(
            report_id,
            ("notes", groups),
            lambda: [n for n in service.notes(report_id, groups) if n[1] > 0],
        )
        note = note if note in {n[0] for n in notes} else ""  # a finding of its notes, or none
        with service.con.cursor() as cur:
            shown_groups = kept.get(
                report_id, ("groups", groups), lambda: browse.report_groups(cur, report_id, groups)
            )
            group = group if group in shown_groups else ""  # one of the key's groups, or none
            seen = frozenset([group]) if group else groups
            descending = order == "desc"
            table = kept.get(
                report_id,
                ("page", sort, descending, q, page, note, seen),
                lambda: browse.report_page(cur, report_id, sort, descending, q, page, note, seen),
            )
            totals = kept.get(
                report_id, ("totals", seen), lambda: browse.totals(cur, report_id, seen)
            )
        return KeptPage(
            "report.html",
            kept,
            report_id,
            ("report", sort, descending, q, table.page, note, group, groups),
            run=run,
            table=table,
            totals=totals,
            columns=COLUMNS,
            sort=sort,
            order=order,
            q=q,
            histogram=histogram(totals.histogram),
            notes=notes,
            note=note,
            groups=shown_groups,
            group=group,
        )

    @get("/reports/{report_id:str}/rollups", sync_to_thread=True)
    @rendered_here
    def rollups(
        self,
        request: Request,
        service: Service,
        report_id: Annotated[str, Parameter(pattern=REPORT_ID_PATTERN)],
    ) -> Template:
        """The report's roll-ups (the key's groups'), most weekly downtime first."""
        run = service.get(report_id)
        waiting = unfinished(run, report_id)
        if waiting is not None:
            return waiting
        with service.con.cursor() as cur:
            rows = browse.rollups(cur, report_id, groups_of(request))
        return render("rollups.html", run=run, rows=rows)

    @get("/reports/{report_id:str}/stores/{store_id:path}", sync_to_thread=True)
    @rendered_here
    def store(
        self,
        request: Request,
        service: Service,
        report_id: Annotated[str, Parameter(pattern=REPORT_ID_PATTERN)],
        store_id: Annotated[str, StorePath],  # decoded, `//` collapsed: read again below
        rows: Annotated[str, Parameter(pattern="^(|all)$")] = "",
    ) -> Template:
        """A store's week; with `rows=all`, also its business intervals and polls one row each
        (a few hundred rows: most readers never open them, so they are a link)."""
        store_id = store_id_in(request, report_id)
        groups = groups_of(request)
        hidden = groups is not None and not service.sees_store(report_id, store_id, groups)
        week = None if hidden else service.store_week(report_id, store_id)  # if Complete
        run = service.get(report_id)
        waiting = unfinished(run, report_id)
        if waiting is not None:
            return waiting
        if week is None:
            return problem(
                404,
                "No such store in this report",
                f"Report {report_id} has no store {store_id[:64]}: a report has a row for "
                "each store with a poll up to its instant.",
            )
        return render(
            "store.html",
            run=run,
            week=week,
            timeline=timeline(week),
            events=service.store_events(store_id),
            rows=rows == "all",
        )

    @get("/sign-in", sync_to_thread=False)
    def sign_in_form(self) -> Template:
        return render("sign_in.html")

    @post("/sign-in", sync_to_thread=False, status_code=303)
    def sign_in(
        self,
        request: Request,
        data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Redirect | Template:
        """A key typed in sets a session cookie (storemon/web/sessions.py)."""
        key = (data.get("key") or "").strip()
        principal = request.app.state.key_ring.principal(key) if key else None
        if principal is None:
            return render(
                "sign_in.html",
                401,
                form_error="That is not a current key: check it, or ask "
                "for a new one (storemon keys add).",
            )
        answer = Redirect(path="/ui/", status_code=303)
        answer.cookies.append(request.app.state.sessions.cookie(principal, key))
        return answer

    @post("/sign-out", sync_to_thread=False, status_code=303)
    def sign_out(self, request: Request) -> Redirect:
        answer = Redirect(path="/ui/sign-in", status_code=303)
        answer.cookies.append(request.app.state.sessions.ended())
        return answer

    @get("/alerts", sync_to_thread=True)
    @rendered_here
    def alerts(self, request: Request, service: Service) -> Template:
        """The alert targets: what was delivered, what is pending, what failed and why."""
        return render(
            "alerts.html",
            summary=service.delivery_summary(),
            deliveries=service.deliveries(200),
        )

    @get("/data-quality", sync_to_thread=True)
    @rendered_here
    def quality(self, request: Request, service: Service) -> Template:
        files, findings = service.quality()
        with service.con.cursor() as cur:
            rejected = browse.rejected_by_reason(cur)
            batches = browse.recent_batches(cur)
        return render(
            "quality.html",
            files=files,
            findings=findings,
            rejected=rejected,
            batches=batches,
            inbox=inbox_state(request),
        )


@get("/", include_in_schema=False, sync_to_thread=False)
def home() -> Redirect:
    """A browser that opens the service's address lands on the pages."""
    return Redirect(path="/ui/", status_code=302)
