"""The request a handler receives: a lazy view over the parser's :class:`RequestHead`.

Strategy: nothing is decoded, copied or allocated until a handler asks for it. A
:class:`Request` holds four references (the parsed head, the connection, the body stream if
the request has content, and the body-size limit) and answers every attribute through them:
``path`` and ``query`` are sliced from the raw target on access, ``query_params`` is parsed on
first access and cached, header values are decoded by the header index (``fasthttp.headers``)
only when looked up. The body is a stream the connection feeds (``fasthttp.protocol``); reading
it is what sends the interim ``100 Continue`` (RFC 9110 §10.1.1) and what lets the connection
resume reading from a client it paused for backpressure.

The framework issue extends this class (cookies, forms, path parameters); keep it a view.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qsl

from .responses import HTTPError, json_loads

__all__ = ("Request", "QueryParams")


class QueryParams:
    """An immutable, multi-valued view of a query string (``a=1&a=2&b=``), decoded as
    ``application/x-www-form-urlencoded`` (UTF-8, ``+`` is a space).

    ``params["a"]`` and ``get("a")`` give the first value, ``getall("a")`` every value in order.
    """

    __slots__ = ("_items",)

    def __init__(self, query: str | list[tuple[str, str]] = "") -> None:
        if isinstance(query, str):
            self._items = parse_qsl(query, keep_blank_values=True) if query else []
        else:
            self._items = list(query)

    def get(self, name: str, default: str | None = None) -> str | None:
        for k, v in self._items:
            if k == name:
                return v
        return default

    def getall(self, name: str) -> list[str]:
        return [v for k, v in self._items if k == name]

    def __getitem__(self, name: str) -> str:
        for k, v in self._items:
            if k == name:
                return v
        raise KeyError(name)

    def __contains__(self, name: object) -> bool:
        return any(k == name for k, _ in self._items)

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self._items)

    def keys(self) -> list[str]:
        seen: dict[str, None] = {}
        for k, _ in self._items:
            seen.setdefault(k)
        return list(seen)

    def items(self) -> list[tuple[str, str]]:
        """Every ``(name, value)`` pair, repeated names included, in order."""
        return list(self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, QueryParams):
            return self._items == other._items
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"QueryParams({self._items!r})"


class Request:
    """One HTTP request as the handler sees it (built by the connection, never by users).

    Head: ``method``, ``path`` and ``query`` (raw, not percent-decoded), ``target`` (bytes, as
    received), ``version`` (``"1.0"``/``"1.1"``), ``headers`` (case-insensitive, multi-valued,
    see :class:`fasthttp.headers.Headers`), ``query_params``, ``keep_alive``, ``content_length``,
    ``expect_continue``, ``upgrade``.

    Connection: ``client`` (the peer address: ``(host, port)``, an IPv6 4-tuple, or the AF_UNIX
    name), ``session`` (one dict per connection, shared by its requests and the ``on_connect``
    hook), ``peercert`` (the verified TLS client certificate as ``ssl.SSLSocket.getpeercert()``
    returns it, or None), ``is_secure``.

    Body: ``await body()``, ``async for chunk in stream()``, ``await json()``, and ``trailers``
    once the body has been read. Bodies larger than ``max_body_size`` raise ``HTTPError(413)``.
    """

    __slots__ = ("_head", "_conn", "_body", "max_body_size", "_query_params", "_start", "_context")

    def __init__(self, head: Any, conn: Any, max_body_size: int | None) -> None:
        self._head = head
        self._conn = conn
        self._body = None
        #: The body-size limit for this request; a route may change it before the body is read.
        self.max_body_size = max_body_size
        self._query_params = None

    # -- the head ----------------------------------------------------------------------------

    @property
    def method(self) -> str:
        return self._head.method

    @property
    def path(self) -> str:
        return self._head.path

    @property
    def query(self) -> str:
        return self._head.query

    @property
    def target(self) -> bytes:
        return self._head.target

    @property
    def version(self) -> str:
        return self._head.version

    @property
    def headers(self):
        return self._head.headers

    @property
    def keep_alive(self) -> bool:
        return self._head.keep_alive

    @property
    def content_length(self) -> int | None:
        return self._head.content_length

    @property
    def expect_continue(self) -> bool:
        """True when the client waits for ``100 Continue`` before sending the body."""
        return self._head.expect_continue

    @property
    def upgrade(self) -> bool:
        """True for a protocol-switch request (``Connection: upgrade``, or CONNECT)."""
        return self._head.upgrade

    @property
    def query_params(self) -> QueryParams:
        qp = self._query_params
        if qp is None:
            qp = self._query_params = QueryParams(self._head.query)
        return qp

    # -- the connection ----------------------------------------------------------------------

    @property
    def client(self) -> Any:
        return self._conn.client

    @property
    def session(self) -> dict:
        return self._conn.session

    @property
    def peercert(self) -> dict | None:
        return self._conn.peercert

    @property
    def is_secure(self) -> bool:
        return self._conn.is_secure

    @property
    def scheme(self) -> str:
        return "https" if self._conn.is_secure else "http"

    # -- the body ----------------------------------------------------------------------------

    async def body(self) -> bytes:
        """The whole body (cached: later calls return the same bytes)."""
        body = self._body
        if body is None:
            return b""
        return await body.read_all(self.max_body_size)

    async def stream(self) -> AsyncIterator[bytes]:
        """The body as it arrives, piece by piece; reading pauses the client when not consumed."""
        body = self._body
        if body is None:
            return
        limit = self.max_body_size
        while True:
            chunk = await body.read(limit)
            if not chunk:
                return
            yield chunk

    async def json(self) -> Any:
        """The body decoded as JSON; malformed JSON is ``HTTPError(400)``."""
        data = await self.body()
        try:
            return json_loads(data)
        except ValueError:
            raise HTTPError(400, "malformed JSON body") from None

    @property
    def trailers(self):
        """The trailer fields of a chunked body (a Headers view), once it has been read; else None."""
        body = self._body
        return None if body is None else body.trailers

    def __repr__(self) -> str:
        return f"<Request {self._head.method} {self._head.target.decode('latin-1')!r}>"
