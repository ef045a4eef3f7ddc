"""What a target is sent for one event: its JSON (a webhook), or a line a person reads
(Apprise): "Store 123 (America/New_York) is down since 09:15 local, 2 polls"."""

from __future__ import annotations

import msgspec

from storemon.alerts.reads import AlertEvent


def event_json(event: AlertEvent) -> bytes:
    return msgspec.json.encode(event)


def _clock(local_text: str) -> str:
    return local_text[11:16]  # '2023-01-22 09:15:00-05:00' -> '09:15'


def title(event: AlertEvent) -> str:
    verb = "down" if event.kind == "down" else "back up"
    return f"storemon: store {event.store_id} is {verb}"


def human_text(event: AlertEvent) -> str:
    polls = f"{event.polls} poll{'' if event.polls == 1 else 's'}"
    if event.kind == "down":
        return (
            f"Store {event.store_id} ({event.timezone}) is down since "
            f"{_clock(event.started_local)} local, {polls}"
        )
    return (
        f"Store {event.store_id} ({event.timezone}) is back up at {_clock(event.at_local)} "
        f"local after {event.down_hours or 0:.2f} h down ({polls})"
    )
