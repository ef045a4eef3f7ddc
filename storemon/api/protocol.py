"""The HTTP connection: uvicorn's h11 protocol, with a limit on how long a request's headers
may take.

uvicorn closes a kept-alive connection that stays idle after an answer (`timeout_keep_alive`),
but not one that sends nothing at all, or its headers a byte at a time: 500 such connections
stayed open as long as their client liked. Here a connection must send a request's whole
headers within `HEADER_TIMEOUT` seconds of opening, or of starting to send them after an
answer; it is closed otherwise. The body has its own bounds (the body size limit; a batch is
read as it arrives).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("storemon.api")

HEADER_TIMEOUT = 10.0  # seconds (storemon serve --header-timeout)


def guarded_protocol(header_timeout: float = HEADER_TIMEOUT) -> type[H11Protocol]:
    """uvicorn's h11 protocol, closing a connection whose request headers are not complete
    within `header_timeout` seconds."""

    class Guarded(H11Protocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.header_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                self._arm()  # part of a request's headers: they must be complete in time
            else:
                self._disarm()

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
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                log.info(
                    "closed a connection from %s: no whole request headers in %g s",
                    self.client[0] if self.client else "?",
                    header_timeout,
                )
                self.transport.close()

    return Guarded
