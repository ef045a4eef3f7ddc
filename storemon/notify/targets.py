"""The targets of `--notify URL` and `--notify-group GROUP URL`.

An `http://` or `https://` URL gets one signed JSON POST per event (a webhook); any other URL
goes through Apprise (slack://, msteams://, mailto://, ntfy://, json://, ...: its own list of
services). A target is named in the database and on the pages by its URL without what could be
a secret (user, password, path, query), and a short hash of the whole URL.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import urlsplit

from storemon.errors import StoremonError
from storemon.keys import GROUP_MAX


@dataclass(frozen=True)
class Target:
    url: str
    group: str | None = None
    """Only the events of this group's stores (None: every event)."""

    @property
    def webhook(self) -> bool:
        return urlsplit(self.url).scheme.lower() in ("http", "https")

    @property
    def name(self) -> str:
        parts = urlsplit(self.url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
        digest = hashlib.sha256(self.url.encode()).hexdigest()[:8]
        shown = f"{parts.scheme}://{host}{port} #{digest}"
        return shown + (f" (group {self.group})" if self.group else "")


def parse_targets(urls: list[str], group_urls: list[tuple[str, str]]) -> tuple[Target, ...]:
    """The targets of the command line, each checked now: a bad URL stops the service from
    starting, rather than failing at the first event."""
    targets = [Target(url) for url in urls]
    targets += [Target(url, _group(group)) for group, url in group_urls]
    names: set[str] = set()
    for target in targets:
        _check(target)
        if target.name in names:  # one queue each: two threads on one would send all twice
            raise StoremonError(f"--notify: {target.name} is given twice")
        names.add(target.name)
    return tuple(targets)


def _group(group: str) -> str:
    """The group as the loaded data spells it (blanks around it removed)."""
    label = group.strip()
    if not label:
        raise StoremonError("--notify-group: the group is empty")
    if len(label) > GROUP_MAX or not label.isprintable():
        raise StoremonError(
            f"--notify-group: a group is 1 to {GROUP_MAX} printable characters (not {group!r})"
        )
    return label


def _check(target: Target) -> None:
    try:
        parts = urlsplit(target.url)
        parts.port  # noqa: B018 (raises on a bad port)
    except ValueError as error:
        # named by its scheme and host alone: the rest may hold a password or a token
        scheme, _, rest = target.url.partition("://")
        host = rest.split("/", 1)[0].rpartition("@")[2].split(":", 1)[0]
        raise StoremonError(f"--notify: {scheme}://{host}/... is not a URL ({error})") from None
    if not parts.scheme:
        raise StoremonError(
            f"--notify: {target.name} has no scheme: give https://... for a webhook, or an "
            "Apprise URL (slack://..., mailto://..., ntfy://...)"
        )
    if target.webhook:
        if not parts.hostname:
            raise StoremonError(f"--notify: {target.name} has no host")
        return
    import apprise  # (a second to import: only when an Apprise target is given)

    if not apprise.Apprise().add(target.url):
        raise StoremonError(
            f"--notify: Apprise does not take {target.name}: see Apprise's list of URLs "
            "(https://github.com/caronc/apprise/wiki)"
        )
