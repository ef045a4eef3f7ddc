"""The HTTP connection: uvicorn's httptools protocol (llhttp, the C parser), with a limit on how
long a request's headers may take.

uvicorn closes a kept-alive connection that stays idle after an answer (`timeout_keep_alive`),
but not one that sends nothing at all, or its headers a byte at a time: 500 such connections
stayed open as long as their client liked. Here a connection must send a request's whole
headers within `HEADER_TIMEOUT` seconds of opening, or of starting to send them after an
answer; it is closed otherwise. The body has its own bounds (the body size limit; a batch is
read as it arrives).

(Before, this extended uvicorn's h11 protocol, which parses in Python: under 50 readers at
once, h11's parsing on the event loop was what /health waited behind; README, "Many readers".)
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger("storemon.api")

HEADER_TIMEOUT = 10.0  # seconds (storemon serve --header-timeout)


def guarded_protocol(header_timeout: float = HEADER_TIMEOUT) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol, closing a connection whose request headers are not
    complete within `header_timeout` seconds."""

    class Guarded(HttpToolsProtocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.header_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()  # its first request's headers, from now

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._arm()  # a request begins (the first: still timed from the opening)

        def on_headers_complete(self) -> None:
            self._disarm()
            super().on_headers_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            if self.header_timer is None:
                self.header_timer = self.loop.call_later(header_timeout, self._too_slow)

        def _disarm(self) -> None:
            if self.header_timer is not None:
                self.header_timer.cancel()
                self.header_timer = None

        def _too_slow(self) -> None:
            self.header_timer = None
            if not self.transport.is_closing():
                log.info(
                    "closed a connection from %s: no whole request headers in %g s",
                    self.client[0] if self.client else "?",
                    header_timeout,
                )
                self.transport.close()

    return Guarded
