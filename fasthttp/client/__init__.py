"""An HTTP/1.1 client on fasthttp's own kernels: async :class:`Client`, blocking :class:`SyncClient`.

Strategy: the same strict response parser as the server's tests and the same header index
(``fasthttp.responseparser``, compiled), a sans-IO request flow shared by both clients
(``_flow.py``: URL, fields, redirects, auth, cookies), and two I/O shells: asyncio protocols
with a :class:`ConnectionPool` (``_async.py``), blocking sockets with a :class:`SyncPool`
(``_sync.py``, no event loop in a thread).

Errors: every one is a :class:`fasthttp.errors.ClientError` (a root of its own, not
``HttpError``, which is a response a server answers with): ``ConnectError``, ``ClientTimeout``
(``.phase``: connect, pool, write, read, total), ``ResponseProtocolError`` (``.data``: the bytes
that broke it, truncated), its ``IncompleteResponseError`` and ``ResponseTooLarge``,
``TooManyRedirects`` and ``ResponseStatusError`` (``raise_for_status()``).

    async with Client(base_url="http://127.0.0.1:8000") as client:
        response = await client.get("/users", params={"page": 2})
        users = await response.json()
"""

from __future__ import annotations

from ..errors import (
    ClientError,
    ClientTimeout,
    ConnectError,
    IncompleteResponseError,
    ResponseProtocolError,
    ResponseStatusError,
    ResponseTooLarge,
    TooManyRedirects,
)
from ._async import Batch, BatchResult, Client, Connection, ConnectionPool, Response
from ._auth import Auth, BasicAuth, DigestAuth
from ._cookies import Cookie, CookieJar
from ._flow import Limits, Prepared, Timeouts
from ._sync import SyncClient, SyncPool, SyncResponse

__all__ = (
    "Client",
    "SyncClient",
    "Response",
    "SyncResponse",
    "Batch",
    "BatchResult",
    "ConnectionPool",
    "SyncPool",
    "Connection",
    "Timeouts",
    "Limits",
    "Prepared",
    "Auth",
    "BasicAuth",
    "DigestAuth",
    "Cookie",
    "CookieJar",
    "ClientError",
    "ConnectError",
    "ClientTimeout",
    "ResponseProtocolError",
    "IncompleteResponseError",
    "ResponseTooLarge",
    "TooManyRedirects",
    "ResponseStatusError",
)
