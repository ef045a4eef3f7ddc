"""One thread per target delivers its events, oldest first, at least once.

A target's oldest pending event goes first and the others wait behind it, so a receiver gets
them in seq order. An attempt that fails (refused, timed out, an answer other than 2xx) is
tried again after a backoff: from 1 s, doubling to 10 minutes, with full jitter, for
`give_up_after` (25 h by default) since its first attempt; then it is marked failed, with its
last error, and the next goes. The state is in the database (storemon/notify/outbox.py): a
service killed between a batch's commit and its delivery delivers after it starts again.
Nothing here runs on a batch's path: `wake()` only sets an event, so a slow receiver never
slows a batch, nor another target.
"""

from __future__ import annotations

import http.client
import logging
import random
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime, timedelta

import duckdb

from storemon.alerts.reads import AlertEvent
from storemon.notify import outbox
from storemon.notify.messages import event_json, human_text, title
from storemon.notify.outbox import Delivery
from storemon.notify.signing import HEADER, sign
from storemon.notify.targets import Target

log = logging.getLogger("storemon.notify")

IDLE_LOOK = 5.0  # seconds: how often an idle target looks for events a wake() did not announce
CHUNK = 200  # pending events read at once
FLUSH = 0.2  # seconds: delivered events are marked at least this often


class Notifier:
    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        targets: tuple[Target, ...],
        secret: str,
        *,
        timeout: float = 10.0,
        first_backoff: float = 1.0,
        max_backoff: float = 600.0,
        give_up_after: timedelta = timedelta(hours=25),
        clock: Callable[[], datetime] = outbox.now,
    ) -> None:
        self.con = con
        self.targets = targets
        self.secret = secret
        self.timeout = timeout
        self.first_backoff = first_backoff
        self.max_backoff = max_backoff
        self.give_up_after = give_up_after
        self.clock = clock
        self._stop = threading.Event()
        self._wakes = [threading.Event() for _ in targets]
        self._threads: list[threading.Thread] = []
        with con.cursor() as cur:
            outbox.outbox_tables(cur)

    def start(self) -> None:
        # Each target is seen here, before its thread runs: one seen for the first time gets
        # every event committed after start(), not only those after its thread's first look.
        with self.con.cursor() as cur:
            for target in self.targets:
                outbox.queue(cur, target.name, target.group)
        for target, wake in zip(self.targets, self._wakes, strict=True):
            thread = threading.Thread(
                target=self._run, args=(target, wake), name=f"notify {target.name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def wake(self) -> None:
        """New events were committed: every target looks now."""
        for wake in self._wakes:
            wake.set()

    def close(self) -> None:
        self._stop.set()
        self.wake()
        for thread in self._threads:
            thread.join(timeout=self.timeout + 5)

    def deliveries(self, limit: int = 100) -> list[Delivery]:
        with self.con.cursor() as cur:
            return outbox.deliveries(cur, limit)

    def summary(self) -> dict[str, dict[str, int]]:
        with self.con.cursor() as cur:
            found = outbox.summary(cur)
        return {target.name: found.get(target.name, {}) for target in self.targets} | found

    # --- one target's thread ---------------------------------------------------------------

    def _run(self, target: Target, wake: threading.Event) -> None:
        with self.con.cursor() as cur:
            while not self._stop.is_set():
                try:
                    pause = self._step(cur, target)
                except Exception:  # the database is closing, or a bug: log, and go on
                    log.exception("alerts to %s: delivery failed unexpectedly", target.name)
                    pause = IDLE_LOOK
                if pause > 0:
                    wake.wait(pause)
                    wake.clear()

    def _step(self, cur: duckdb.DuckDBPyConnection, target: Target) -> float:
        """Deliver the target's pending events that are due, oldest first, until one fails or
        none is left; the seconds to wait next. Deliveries are marked in the database a run
        at a time (at most every FLUSH seconds): a crash in between sends a run again, which
        at least once allows, rather than paying a transaction per event."""
        outbox.queue(cur, target.name, target.group)
        done: list[int] = []
        flushed = time.monotonic()
        try:
            while not self._stop.is_set():
                batch = outbox.pending(cur, target.name, CHUNK)
                if not batch:
                    return IDLE_LOOK
                for event, attempts, first_tried, next_try in batch:
                    if self._stop.is_set():
                        return 0
                    now = self.clock()
                    if next_try is not None and next_try > now:
                        return min((next_try - now).total_seconds(), IDLE_LOOK * 12)
                    error = self._send(target, event)
                    if error is None:
                        done.append(event.seq)
                        if time.monotonic() - flushed > FLUSH:
                            outbox.delivered(cur, target.name, done)
                            done, flushed = [], time.monotonic()
                        continue
                    if done:  # (first: the failed one waits behind them no more)
                        outbox.delivered(cur, target.name, done)
                        done = []
                    return self._failed(
                        cur, target, event, attempts, first_tried or now, now, error
                    )
                if done:
                    outbox.delivered(cur, target.name, done)
                    done, flushed = [], time.monotonic()
            return 0
        finally:
            if done:
                outbox.delivered(cur, target.name, done)
                log.info("alerts to %s: %d event(s) delivered", target.name, len(done))

    def _failed(
        self,
        cur: duckdb.DuckDBPyConnection,
        target: Target,
        event: AlertEvent,
        attempts: int,
        first: datetime,
        now: datetime,
        error: str,
    ) -> float:
        """Record a failed attempt; the seconds until the next (0: given up, go on)."""
        if now - first >= self.give_up_after:
            outbox.failed_attempt(cur, target.name, event.seq, error, first, None)
            log.error(
                "alerts to %s: event %d given up after %d attempts: %s",
                target.name,
                event.seq,
                attempts + 1,
                error,
            )
            return 0
        backoff = min(self.first_backoff * 2**attempts, self.max_backoff)
        wait = random.uniform(0, backoff)  # full jitter: receivers coming back are not stampeded
        outbox.failed_attempt(
            cur, target.name, event.seq, error, first, now + timedelta(seconds=wait)
        )
        log.warning(
            "alerts to %s: event %d not delivered (%s): again in %.1f s",
            target.name,
            event.seq,
            error,
            wait,
        )
        return wait

    def _send(self, target: Target, event: AlertEvent) -> str | None:
        """Send one event; None if delivered, else why not."""
        return self._post(target, event) if target.webhook else self._apprise(target, event)

    def _post(self, target: Target, event: AlertEvent) -> str | None:
        body = event_json(event)
        request = urllib.request.Request(
            target.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": "storemon",
                "Storemon-Event-Id": event.id,
                HEADER: sign(self.secret, body),
            },
        )
        try:
            with _OPENER.open(request, timeout=self.timeout) as answer:
                answer.read(64 * 1024)
            return None
        except urllib.error.HTTPError as error:
            return f"HTTP {error.code}"
        except TimeoutError:
            return f"timed out after {self.timeout:g} s"
        except urllib.error.URLError as error:
            reason = error.reason
            if isinstance(reason, TimeoutError):
                return f"timed out after {self.timeout:g} s"
            return str(getattr(reason, "strerror", None) or reason)
        except OSError as error:
            return str(error.strerror or error)
        except http.client.HTTPException as error:  # a TLS port, or not a web server at all
            return f"not an HTTP answer ({type(error).__name__})"

    def _apprise(self, target: Target, event: AlertEvent) -> str | None:
        import apprise

        sender = apprise.Apprise()
        sender.add(target.url)
        result = sender.notify(title=title(event), body=human_text(event))
        if result:
            return None
        return _apprise_why(result) or "Apprise could not deliver it (its log says why)"


def _apprise_why(result: object) -> str | None:
    """The last warning of a failed notification: Apprise 2 keeps its log in its answer (1.x
    answers a bare bool, and says why only in its log)."""
    entries = getattr(result, "logs", None)
    if entries is None:
        return None
    said = [entry.message for entry in entries() if entry.level in ("WARNING", "ERROR")]
    return said[-1][:200] if said else None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer other than 2xx: urllib would follow a POST's 302 with a GET
    without the body, and the event would count as delivered while nobody got it."""

    def redirect_request(self, *args, **kwargs) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)
