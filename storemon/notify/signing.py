"""The signature of a webhook's body, in Stripe's manner: the header

    Storemon-Signature: t=<Unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body>

with the secret `$STOREMON_NOTIFY_SECRET`, or the file `<db>.notify-secret` beside the
database, made at the first start and readable by its owner alone (kept like the service's
key: storemon/auth.py). A receiver recomputes it over the raw body and refuses a mismatch or
a `t` too far from its clock (a replay): docs/alerts.md.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from pathlib import Path

from storemon.auth import kept_secret

SECRET_ENV = "STOREMON_NOTIFY_SECRET"
HEADER = "Storemon-Signature"


def secret_file(db: Path) -> Path:
    return Path(db).with_name(Path(db).name + ".notify-secret")


def notify_secret(db: Path) -> str:
    return kept_secret(secret_file(db), SECRET_ENV, "the alerts' signing secret")


def sign(secret: str, body: bytes, at: int | None = None) -> str:
    """The header's value for `body`, signed at `at` (Unix seconds; default now)."""
    stamp = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256)
    return f"t={stamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes, tolerance: int = 300) -> bool:
    """Whether `header` signs `body` with `secret`, within `tolerance` seconds of now."""
    fields = [part.strip().split("=", 1) for part in header.split(",") if "=" in part]
    stamps = [value for name, value in fields if name == "t"]
    try:
        stamp = int(stamps[0])
    except (IndexError, ValueError):
        return False
    if len(stamps) > 1 or abs(time.time() - stamp) > tolerance:
        return False
    expected = sign(secret, body, stamp).split("v1=", 1)[1].encode()
    # bytes, not str: compare_digest refuses non-ASCII text, which a forged header may hold;
    # any v1 may match, as in Stripe's scheme (several while a secret is being replaced)
    return any(
        hmac.compare_digest(expected, value.encode()) for name, value in fields if name == "v1"
    )
