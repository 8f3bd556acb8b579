"""The request-body reader: the body of one request as its connection receives it, and the
body-size rule.

Strategy
--------
The connection (``fasthttp.protocol``) feeds each piece of body the parser produces into the
:class:`RequestBody` of the request being received; the handler reads them through
:class:`~fasthttp.requests.Request` (``body()``, ``stream()`` and the decoders), which sees the
reader through the :class:`~fasthttp.requests.BodyReader` protocol. The reader sees its
connection through the narrow :class:`BodyConnection` protocol below and nothing else: it reports
the bytes it holds and releases (the connection pauses and resumes reading around
``read_high_water``), asks for the interim ``100 Continue``, and refuses keep-alive when a body
cannot be finished.

The body-size limit has one home (DESIGN.md, "one home per rule"):
:func:`fasthttp.requests.check_body_size`, applied by the reader to the announced ``Content-Length`` (when the limit is set, when the
application asks with ``Request.check_body_size()``, and at the first read, so always before a
byte of the body is read: RFC 9110 §15.5.14) and to the running total of a chunked body as it
arrives. The parser kernel's own ``max_body_size`` stays off in the engine: a route may change
the limit after the head is parsed. Every refusal is :class:`~fasthttp.errors.ContentTooLarge`.

``100 Continue`` (RFC 9110 §10.1.1) goes out at the first read, when the client asked for it and
has sent nothing yet; a request refused before that never gets one, and the client may then
skip the body.
"""

from __future__ import annotations

import asyncio
import collections
from typing import TYPE_CHECKING, Protocol

from .errors import ContentTooLarge
from .requests import check_body_size

if TYPE_CHECKING:
    from .headers import Headers
    from .parser import RequestHead

__all__ = ("RequestBody", "BodyConnection", "ClientDisconnected")

_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


class ClientDisconnected(ConnectionError):
    """The client closed the connection while the handler was reading the body or streaming."""


class BodyConnection(Protocol):
    """What a :class:`RequestBody` needs from its connection (``HttpProtocol`` implements it)."""

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The event loop the connection runs on."""
        ...

    @property
    def closed(self) -> bool:
        """True once the connection is lost."""
        ...

    def body_buffered(self, n: int) -> None:
        """*n* more bytes of request body wait for the handler (past the high-water mark, the
        connection stops reading)."""
        ...

    def body_consumed(self, n: int) -> None:
        """*n* bytes of request body were taken or dropped (under the low-water mark, reading
        resumes)."""
        ...

    def send_interim(self, data: bytes) -> None:
        """Write an interim (1xx) response now, after everything written before it."""
        ...

    def refuse_keep_alive(self) -> None:
        """The connection must close after the response to this request."""
        ...

    def limit_body(self, limit: int | None) -> None:
        """Apply *limit* to the chunked body being read; raise ``ContentTooLarge`` at once if
        the chunk sizes announced so far pass it (the parser's ``limit_body``)."""
        ...


class RequestBody:
    """The body of one request as the connection receives it; read by the handler through
    :meth:`fasthttp.requests.Request.stream` and ``body()``.

    Chunks are queued as the parser produces them. While the connection holds more unconsumed
    body bytes than ``read_high_water`` it stops reading from the socket; each read that brings
    the total back under the low-water mark resumes it. The first read sends ``100 Continue``
    when the client asked for it and has sent nothing yet (RFC 9110 §10.1.1).
    """

    __slots__ = (
        "_conn",
        "_head",
        "_limit",
        "_chunks",
        "_received",
        "_done",
        "_error",
        "_waiter",
        "_discard",
        "_cached",
        "_started",
        "_continue",
        "_settled",
        "trailers",
    )

    def __init__(self, conn: BodyConnection, head: RequestHead, limit: int | None, whole: bytes | None = None) -> None:
        self._conn = conn
        self._head = head
        self._limit = limit
        self._error: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._discard = False
        self._cached: bytes | None = None
        if whole is None:
            self._chunks: collections.deque[bytes] = collections.deque()
            self._received = 0
            self._done = False
            # True once the announced length was found within the limit (_start); a limit
            # that refuses it resets it (set_limit), so it also spares check_size its work.
            self._started = False
            # True while the client waits for our 100 Continue before sending the body.
            self._continue = head.expect_continue
        else:
            # PERF (issue 17, POST echo): the whole body came with its head, in one piece, and
            # the connection checked its length against *limit*: the reader starts complete
            # and started (what feed(whole), end(None) and the first read's _start would
            # leave), and the connection counts the bytes it holds (body_buffered).
            self._chunks = collections.deque((whole,))
            self._received = len(whole)
            self._done = True
            self._started = True
            self._continue = False
        # True once what is held no longer counts against the connection's read limit (settle).
        self._settled = False
        #: The trailer fields of a chunked body, once it has been received; else None.
        self.trailers: Headers | None = None

    # -- the limit -----------------------------------------------------------------------------

    @property
    def limit(self) -> int | None:
        """The body-size limit in bytes (None: none)."""
        return self._limit

    def set_limit(self, limit: int | None) -> None:
        """Record a new limit (a route's); raise :class:`ContentTooLarge` at once if the
        announced ``Content-Length`` exceeds it."""
        self._limit = limit
        try:
            check_body_size(self._head.content_length, limit)
        except ContentTooLarge:
            self._started = False  # refused: every later read is refused again (_start)
            raise
        if self._head.chunked and not self._done:
            # A chunk announced past the limit (say 2**64 - 1) is refused now, and any later
            # one as its size line arrives, not after a body timeout (RFC 9110 §15.5.14).
            self._conn.limit_body(limit)

    def check_size(self) -> None:
        """Raise :class:`ContentTooLarge` if the announced ``Content-Length`` exceeds the limit."""
        if not self._started:  # started: checked under this limit already (set_limit resets it)
            check_body_size(self._head.content_length, self._limit)

    # -- fed by the connection -----------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        """A piece of the body arrived."""
        if self._discard:
            return
        self._continue = False
        n = len(data)
        self._received += n
        try:
            check_body_size(self._received, self._limit)
        except ContentTooLarge as exc:
            # A chunked body past the limit (a Content-Length one is refused before reading):
            # the rest cannot be read, so the connection cannot be reused.
            self.fail(exc)
            self._conn.refuse_keep_alive()
            return
        self._chunks.append(data)
        self._conn.body_buffered(n)
        waiter = self._waiter  # PERF: _wake, inlined on the per-piece path
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def end(self, trailers: Headers | None) -> None:
        """The body is complete; *trailers* are its trailer fields (chunked), or None."""
        self._done = True
        self._continue = False
        self.trailers = trailers
        self._wake()

    def fail(self, exc: BaseException) -> None:
        """Make every later read raise *exc*, and drop what is buffered."""
        if self._error is None:
            self._error = exc
        self._release()
        self._discard = True
        self._wake()

    def drain(self, max_rest: int) -> bool:
        """The response went out before the whole body arrived: may the connection read the
        rest and discard it, to carry another request? Yes (True, and from now on the body is
        discarded) only if the rest is announced and at most *max_rest* bytes, and the client is
        not waiting for a 100 Continue (it may or may not send the body now, RFC 9110 §10.1.1).
        """
        if self._continue or self._error is not None:
            return False
        length = self._head.content_length
        if length is None or length - self._received > max_rest:
            return False
        self._release()
        self._discard = True
        return True

    def answered(self, max_rest: int) -> bool:
        """The response to this body's request is written (or its head is being written): may
        the connection carry another request? A complete body: yes, and what the handler left
        unread no longer counts (:meth:`settle`); else :meth:`drain` decides. PERF: the
        engine's one call per response with content, rather than ``complete`` then either."""
        if self._done:
            if not self._settled:
                # PERF (issue 17, POST echo): settle() inlined; a body read whole holds nothing.
                self._settled = True
                chunks = self._chunks
                if chunks:
                    held = sum(map(len, chunks))
                    if held:
                        self._conn.body_consumed(held)
            return True
        return self.drain(max_rest)

    def settle(self) -> None:
        """The whole body was received and the response to its request is written (or being
        written): the bytes the handler left unread no longer count against the connection's
        ``read_high_water`` (they would pause reading for the next requests: a handler that
        never reads the body, keep-alive), though they stay readable (a background task, a
        streamed response). A reader that is not complete is the ``drain`` case instead."""
        if self._settled:
            return
        self._settled = True
        held = sum(map(len, self._chunks))
        if held:
            self._conn.body_consumed(held)

    @property
    def discarding(self) -> bool:
        """True when what still arrives is dropped (the body failed, or is being drained)."""
        return self._discard

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def _release(self) -> None:
        held = sum(map(len, self._chunks))
        self._chunks.clear()
        if held and not self._settled:
            self._conn.body_consumed(held)

    # -- read by the handler -------------------------------------------------------------------

    def _start(self) -> None:
        # Refused on the announced length, before the client sends a byte of it; a refused
        # request stays unstarted, so a later read is refused again.
        self.check_size()
        self._started = True
        if self._continue and not self._done:
            self._continue = False
            self._conn.send_interim(_CONTINUE)

    async def read(self) -> bytes:
        """The next piece of the body, or ``b""`` at its end."""
        if not self._started:
            self._start()
        chunks = self._chunks
        while not chunks:
            if self._error is not None:
                raise self._error
            if self._done:
                return b""
            conn = self._conn
            if conn.closed:
                raise ClientDisconnected("the client closed the connection")
            waiter = self._waiter = conn.loop.create_future()
            await waiter
        chunk = chunks.popleft()
        if not self._settled:
            self._conn.body_consumed(len(chunk))
        return chunk

    async def read_all(self) -> bytes:
        """The whole body, cached for later calls."""
        if self._cached is not None:
            return self._cached
        if not self._started:
            self._start()
        chunks = self._chunks
        if self._done and self._error is None:
            # PERF (issue 17, POST echo): the whole body is already here, as it is when it came
            # in the read that brought its head: take it without a read() coroutine per piece.
            # The same bytes and the same accounting as the loop below (body_consumed once,
            # for all of it, with nothing run in between).
            if not chunks:
                data = b""
            else:
                data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
                chunks.clear()
                if not self._settled:
                    self._conn.body_consumed(len(data))
            self._cached = data
            return data
        parts = []
        while True:
            chunk = await self.read()
            if not chunk:
                break
            parts.append(chunk)
        data = parts[0] if len(parts) == 1 else b"".join(parts)
        self._cached = data
        return data

    @property
    def cached(self) -> bytes | None:
        """The whole body once :meth:`read_all` returned it; else None."""
        return self._cached

    @property
    def complete(self) -> bool:
        """True once the whole body has been received."""
        return self._done
