"""What Litestar's generated OpenAPI document cannot say by itself, said after it is built."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar._openapi.plugin import OpenAPIPlugin

STRICT_BODIES = ("TriggerRequest", "IngestRequest")  # unknown fields are refused


def complete_schema(app: Litestar) -> None:
    """Optional bodies are optional, strict bodies say so, and the files' types are listed;
    and app.state.query_names, each operation's query parameters."""
    schema: dict[str, Any] = app.plugins.get(OpenAPIPlugin).provide_openapi_schema()
    paths = schema["paths"]
    # The query parameters each operation takes, for the guard that refuses any other.
    app.state.query_names = {
        operation["operationId"]: {
            p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"
        }
        for methods in paths.values()
        for operation in methods.values()
        if isinstance(operation, dict) and "operationId" in operation
    }
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
    for kind in ("polls", "hours", "timezones"):
        operation = paths[f"/{kind}"]["post"]
        operation["requestBody"] = {
            "required": True,
            "content": {
                "text/csv": text,
                "application/json": {"schema": rows},
                "application/x-ndjson": text,
            },
        }
        operation.setdefault("parameters", []).append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": "The same key again: the batch is not appended twice",
                "schema": {"type": "string", "minLength": 1, "maxLength": 200},
            }
        )
