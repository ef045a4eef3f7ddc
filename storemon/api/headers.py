"""What every answer carries, whatever route or error made it.

- Security headers: pages and files are never framed (`frame-ancestors 'none'`,
  `X-Frame-Options: DENY`), load scripts, styles and images only from the service itself (no
  inline script, no CDN), are not sniffed into another type, and tell other sites nothing of
  where a link was followed from.
- `HEAD` on any `GET` route: answered as the `GET` would be, headers only.
"""

from __future__ import annotations

from typing import cast

from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)

SECURITY_HEADERS = [
    (name.encode(), value.encode())
    for name, value in [
        ("content-security-policy", CONTENT_SECURITY_POLICY),
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
        # same-origin, not no-referrer: with no-referrer a browser sends `Origin: null` on the
        # pages' own forms, which the origin check must refuse
        ("referrer-policy", "same-origin"),
        ("cross-origin-opener-policy", "same-origin"),
        ("cross-origin-resource-policy", "same-origin"),
    ]
]
NAMES = {name for name, _ in SECURITY_HEADERS}


async def security_headers(message: Message, scope: Scope) -> None:
    """Litestar's before_send hook: every answer's start gets the headers."""
    if message["type"] == "http.response.start":
        headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in NAMES]
        message["headers"] = [*headers, *SECURITY_HEADERS]


def head_as_get(app: ASGIApp) -> ASGIApp:
    """A HEAD request is routed as GET and answered with the GET's status and headers
    (Content-Length included), its body left out."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or cast("HTTPScope", scope)["method"] != "HEAD":
            await app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await app(cast("HTTPScope", {**scope, "method": "GET"}), receive, headers_only)

    return middleware
