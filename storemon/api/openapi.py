"""What Litestar's generated OpenAPI document cannot say by itself, said as it is served
(`Document`, /schema/openapi.json); and the query parameters each operation takes, read from it
(`query_names`, for the guard that refuses any other)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from litestar import Litestar, Request
from litestar.openapi.plugins import JsonRenderPlugin

STRICT_BODIES = ("TriggerRequest", "IngestRequest", "NewKey")  # unknown fields are refused


class Document(JsonRenderPlugin):
    """/schema/openapi.json: Litestar's document, completed."""

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, complete(openapi_schema))


def query_names(app: Litestar) -> Mapping[str, frozenset[str]]:
    """Each operation's query parameters, by operation id. The document they are read from is
    made once per process for the same routes: every app of this code has the same (the suite
    makes a few hundred apps, each paying 80 ms for it)."""
    routes = tuple(
        (route.path, tuple(sorted(route.methods)), type(route).__name__) for route in app.routes
    )
    found = _QUERY_NAMES.get(routes)
    if found is None:
        found = _QUERY_NAMES[routes] = _read_query_names(app)
    return found


_QUERY_NAMES: dict[tuple, Mapping[str, frozenset[str]]] = {}


def _read_query_names(app: Litestar) -> Mapping[str, frozenset[str]]:
    paths = app.openapi_schema.to_schema()["paths"]
    return MappingProxyType(
        {
            operation["operationId"]: frozenset(
                p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"
            )
            for methods in paths.values()
            for operation in methods.values()
            if isinstance(operation, dict) and "operationId" in operation
        }
    )


def complete(schema: dict[str, Any]) -> dict[str, Any]:
    """Optional bodies are optional, strict bodies say so, and the files' types are listed.
    In place, and as often as it is served: doing it again changes nothing."""
    paths = schema["paths"]
    paths["/trigger_report"]["post"]["requestBody"]["required"] = False
    for name in STRICT_BODIES:
        schema["components"]["schemas"][name]["additionalProperties"] = False
    text = {"schema": {"type": "string"}}
    binary = {"schema": {"type": "string", "format": "binary"}}
    for path in ("/get_report", "/get_report/{report_id}"):
        paths[path]["get"]["responses"]["200"]["content"]["text/csv"] = text
    paths["/reports/{file_name}"]["get"]["responses"]["200"]["content"] = {
        "text/csv": text,
        "application/vnd.apache.parquet": binary,
    }
    # Batches are read from the stream, so Litestar sees no body to describe.
    rows = {"type": "array", "items": {"type": "object"}}
    for kind in ("polls", "hours", "timezones", "special_hours"):
        operation = paths[f"/{kind}"]["post"]
        operation["requestBody"] = {
            "required": True,
            "content": {
                "text/csv": text,
                "application/json": {"schema": rows},
                "application/x-ndjson": text,
            },
        }
        parameters = operation.setdefault("parameters", [])
        if any(p.get("name") == "Idempotency-Key" for p in parameters):
            continue
        parameters.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": "The same key again: the batch is not appended twice",
                "schema": {"type": "string", "minLength": 1, "maxLength": 200},
            }
        )
    return schema
