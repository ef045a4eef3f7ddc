"""Signed-in pages: the session cookie that signing in with a key sets.

The cookie says which key (its name and the start of its hash) until when, signed with HMAC-
SHA256 under a secret derived from the service's token: it holds no key, cannot be forged or
extended, expires (SESSION_SECONDS), and ends the moment its key is revoked (each request finds
the key again among the current ones). HttpOnly (no script reads it), SameSite=Strict (no other
site's page sends it), Secure when the service's public address is https.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie

from storemon.keys import ADMIN, KeyRing, Principal, digest

COOKIE = "storemon_session"
SESSION_SECONDS = 12 * 3600
FINGERPRINT = 16  # hex characters of the key's hash in the cookie


class Sessions:
    def __init__(self, token: str, ring: KeyRing, secure: bool) -> None:
        self._secret = hashlib.sha256(b"storemon session\0" + token.encode()).digest()
        self._token_fingerprint = digest(token)[:FINGERPRINT]
        self._ring = ring
        self.secure = secure

    def _mac(self, text: str) -> str:
        return hmac.new(self._secret, text.encode(), hashlib.sha256).hexdigest()

    def cookie(self, principal: Principal, key: str) -> Cookie:
        """The cookie of a session for `key`'s holder."""
        expires = int(time.time()) + SESSION_SECONDS
        text = f"{principal.name}.{expires}.{digest(key)[:FINGERPRINT]}"
        return Cookie(
            key=COOKIE,
            value=f"{text}.{self._mac(text)}",
            max_age=SESSION_SECONDS,
            path="/",
            httponly=True,
            samesite="strict",
            secure=self.secure,
        )

    def ended(self) -> Cookie:
        """The cookie that ends a session (signing out)."""
        return Cookie(key=COOKIE, value="", max_age=0, path="/", httponly=True, samesite="strict")

    def principal(self, connection: ASGIConnection) -> Principal | None:
        """The signed-in principal of a request, if its cookie is good, current and its key
        is not revoked."""
        value = connection.cookies.get(COOKIE)
        if not value or value.count(".") < 3:
            return None
        text, _, mac = value.rpartition(".")
        name, expires, fingerprint = text.rsplit(".", 2)
        if not hmac.compare_digest(mac.encode(), self._mac(text).encode()):
            return None  # (as bytes: a cookie's text may be anything)
        if not expires.isdigit() or int(expires) < time.time():
            return None
        if name == ADMIN.name and fingerprint == self._token_fingerprint:  # (both signed)
            return ADMIN
        return self._ring.by_fingerprint(name, fingerprint)
