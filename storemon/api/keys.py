"""Keys, through the service (admin only): what `storemon keys` does when the service holds
the database. GET /keys lists them (never a key), POST /keys makes one and answers it once,
DELETE /keys/NAME revokes one at once."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Response, delete, get, post
from litestar.params import JSONBody, Parameter

from storemon.api.errors import (
    INVALID,
    TOO_LARGE,
    UNAUTHORIZED,
    Refused,
    documented,
    error,
)
from storemon.api.guards import require_json
from storemon.api.shapes import Service
from storemon.errors import StoremonError
from storemon.keys import NAME, KeyExists, KeyInfo

KeyName = Annotated[str, msgspec.Meta(pattern=NAME.pattern.join("^$"), max_length=64)]


class NewKey(msgspec.Struct, forbid_unknown_fields=True):
    name: KeyName
    groups: Annotated[list[str], msgspec.Meta(max_length=1000)] | None = None
    """The groups whose stores it reads, each 1 to 200 printable characters (an admin key
    reads every store; a key of no group none)."""
    write: bool = False
    """It may append batches (a poller)."""
    admin: bool = False
    """It may do everything."""


class MadeKey(msgspec.Struct):
    name: str
    key: str
    """The key itself: shown this once, stored only as its hash."""


FORBIDDEN_ADMIN = documented(
    "The key is not an admin key.",
    "forbidden",
    "this route needs an admin key (key 'acme' is not one)",
)


@get(
    "/keys",
    summary="The keys the service knows (names, groups, rights; never a key)",
    operation_id="listKeys",
    tags=["keys"],
    security=[{"bearer": []}],
    responses={400: INVALID, 401: UNAUTHORIZED, 403: FORBIDDEN_ADMIN},
    sync_to_thread=True,
)
def list_keys(service: Service) -> list[KeyInfo]:
    return service.keys()


@post(
    "/keys",
    summary="Make a key (shown once)",
    operation_id="addKey",
    tags=["keys"],
    guards=[require_json],
    security=[{"bearer": []}],
    status_code=201,
    responses={
        400: documented(
            "The name or a group is not one a key can have.", "bad key", "a group is 1 to 200 ..."
        ),
        409: documented(
            "A current key has this name.", "key exists", "a key named 'acme' exists: ..."
        ),
        401: UNAUTHORIZED,
        403: FORBIDDEN_ADMIN,
        413: TOO_LARGE,
    },
    sync_to_thread=True,
)
def add_key(service: Service, data: JSONBody[NewKey]) -> Response[MadeKey]:
    try:
        key = service.add_key(data.name, data.groups, data.write, data.admin)
    except KeyExists as taken:
        return error(409, "key exists", str(taken))
    except StoremonError as bad:
        return error(400, "bad key", str(bad))
    return Response(MadeKey(data.name, key), status_code=201)


@delete(
    "/keys/{name:str}",
    summary="Revoke a key, at once (its sessions too)",
    operation_id="revokeKey",
    tags=["keys"],
    security=[{"bearer": []}],
    status_code=204,
    responses={
        400: INVALID,
        404: documented(
            "No current key has this name.", "unknown key", "no current key is named 'acme'"
        ),
        401: UNAUTHORIZED,
        403: FORBIDDEN_ADMIN,
    },
    sync_to_thread=True,
)
def revoke_key(
    service: Service,
    name: Annotated[str, Parameter(max_length=64, pattern=NAME.pattern.join("^$"))],
) -> None:
    if not service.revoke_key(name):
        raise Refused(404, "unknown key", f"no current key is named {name!r}")
