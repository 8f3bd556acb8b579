"""The connection core: the per-request path of an HTTP/1.1 connection, from the bytes a read
brings to the one write of the responses, for the common cases. One source, two twins.

Strategy
--------
:class:`ConnectionCore` holds the state of a connection and runs what every request runs:
``data_received`` -> the parser -> the :class:`~fasthttp.requests.Request` and its body reader ->
the handler (``def`` inline, ``async def`` driven inline until it really waits) -> the response
serialized by the writer kernel -> one ``transport.write`` per read (pipelined responses
batched). Everything rare is a method of the subclass, :class:`fasthttp.protocol.HttpProtocol`,
in plain Python: protocol errors and lingering close, upgrades and take-over, streamed and file
responses, handler Tasks and failures, trusted proxies, timeouts, shutdown. The core names those
methods below (they raise :class:`NotImplementedError` here) and calls them; the protocol
implements them. So the per-request path is compiled and the rest stays where it was.

The twins (PERF, issue 17). This file is the pure twin (``fasthttp._core_py.connection``), and
Cython compiles the *same file*, in its pure-Python mode, into the compiled twin
(``fasthttp._core_c.connection``; setup.py). ``fasthttp/_core_c/connection.pxd`` (Cython finds
a pure-mode module's declarations under the name it compiles to) declares the class an
extension type with typed attributes, so the compiled twin reads and writes its state as C
struct fields rather than through attribute look-ups (compiling this class as an ordinary
Python class gained nothing over CPython's specializing interpreter: measured). The decision:
one source rather than a hand-written ``.pyx`` beside a ``.py``, because this code is glue
between Python objects (requests, handlers, the transport), where a separate C version would
buy little more speed and could drift from the Python one in behaviour; with one source, both
twins run the same statements and the suite, the parity tests and the corpus check both. The
kernels it calls are the facades' (``fasthttp.parser``, ``fasthttp.writer``): the twin in use
for them is the process's choice (``fasthttp._compat``), and :mod:`fasthttp.protocol` picks this
module's twin by the same switch (``FASTHTTP_NO_EXTENSIONS=1``: the pure twin). The compiled
twin goes further with the parser: it cimports the compiled parser's types (``parser.pxd``), so
``feed()`` is a C call and a head's fields are struct reads; it therefore runs on the compiled
parser only, which the one switch guarantees (PERF, issue 17: callgrind, about 11% fewer
instructions per plaintext request).

Layering: the core builds requests and calls the application, so it is engine-layer code
(``fasthttp._core_py`` and ``fasthttp._core_c`` are engine packages in the import contract), not a
kernel: the kernels stay sans-IO and know nothing of requests.

Rules for this file: plain Python that Cython compiles unchanged; the attributes are declared in
``fasthttp/_core_c/connection.pxd`` too (a new one goes in both places; the pure twin's are the
``__slots__`` below); no ``async def``, generators or closures in
the class (they stay in ``fasthttp.protocol``); nothing here may behave differently compiled.
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import sys
import types
from collections.abc import Callable
from time import perf_counter
from typing import TYPE_CHECKING, Any

from ..application import Deferred
from ..body import RequestBody
from ..config import INLINE
from ..connections import ConnectionManager, error_bytes
from ..contextcall import copy_context, run_in
from ..errors import ExpectationFailed, HttpError, HttpProtocolError, InvalidResponseHeader, LengthRequired
from ..jsontext import FASTER_THAN_ORJSON, encode_simple
from ..listeners import TLS_RECORD_START, send_and_shut, wants_tls_upgrade
from ..parser import RequestHead
from ..requests import Request, new_request
from ..sockio import send_now
from ..responses import (
    Response,
    Upgrade,
    error_response,
    ORJSON_DUMPS,
    json_dumps,
    render_http_error,
    stdlib_json_dumps,
    to_response,
    without_close,
)
from ..writer import write_response

if TYPE_CHECKING:
    from ..forwarded import ProxyTrust

__all__ = (
    "ConnectionCore",
    "COMPILED",
    "K_NONE",
    "K_IDLE",
    "K_HEAD",
    "K_BODY",
    "K_LINGER",
    "P_BODY",
    "P_WRITE",
    "P_QUEUE",
    "P_UPGRADE",
    "P_STOP",
    "QUEUE_HIGH",
    "DRAIN_LIMIT",
    "INTERNAL_ERROR",
)

#: True in the compiled twin: it is this source compiled under the package ``fasthttp._core_c``.
COMPILED: bool = __name__.startswith("fasthttp._core_c.")
#: Whether the core writes a whole response straight to the socket (:meth:`ConnectionCore._write`):
#: the compiled twin does; the pure twin writes through the transport, whose write (asyncio's, in
#: Python) costs it less than the direct path's two questions and a borrowed socket per send
#: (PERF, session 9's benchmarks/server run: pure plaintext 13.8 -> 15.7 µs per request, POST
#: 18.3 -> 21.8, with the direct path). Read once per connection; the tests set it to run the
#: direct path's logic on the pure twin too.
DIRECT_WRITES: bool = COMPILED

_INF = float("inf")
_CORO = types.CoroutineType
# PERF: Context.run called as the method descriptor it is, _ctx_run(ctx, f, *args): the compiled
# twin makes one vectorcall instead of looking ``run`` up on each request's context first
# (callgrind, issue 17: ~130 instructions per call); the same call in the pure twin.
_ctx_run = contextvars.Context.run
# PERF: the compiled parser's "GET" and "1.1" are interned strs (fasthttp/_speedups/parser.pyx),
# these very objects: one pointer test spares the common request a str comparison (in the
# compiled twin a PyUnicode_Compare call, ~95 instructions); a head whose strs are other objects
# (the pure parser) takes the comparison, as before.
_GET = "GET"
_V11 = sys.intern("1.1")
_current_task = asyncio.current_task

# What the read deadline (``_deadline``) currently stands for.
K_NONE = 0  # a handler is running, or a response is being written: no read deadline
K_IDLE = 1  # between requests: keep-alive idle timeout, then a silent close
K_HEAD = 2  # bytes of a request head arrived: header deadline, then 408
K_BODY = 3  # receiving a request body: inactivity deadline and minimum rate, then 408
K_LINGER = 4  # closing: discarding input until EOF or the linger deadline

# Why reading is paused (a bit mask; reading resumes when it is 0).
P_BODY = 1  # unconsumed request-body bytes above read_high_water
P_WRITE = 2  # transport write buffer above write_high_water (the peer is not reading)
P_QUEUE = 4  # too many pipelined requests waiting
P_UPGRADE = 8  # the parser paused after an upgrade request
P_STOP = 16  # the request side is finished (error, timeout, close after this response)

QUEUE_HIGH = 64  # pipelined requests held before reading pauses
DRAIN_LIMIT = 64 * 1024  # unread Content-Length body the server reads and discards to keep a connection

# PERF: the compiled twin holds the constants above as C numbers (connection.pxd: no module
# global look-up, no int boxing, no rich comparison per use), and a C global is not a module
# attribute: publish them for fasthttp.protocol and the tests (a no-op in the pure twin).
globals().update(
    K_NONE=K_NONE, K_IDLE=K_IDLE, K_HEAD=K_HEAD, K_BODY=K_BODY, K_LINGER=K_LINGER,
    P_BODY=P_BODY, P_WRITE=P_WRITE, P_QUEUE=P_QUEUE, P_UPGRADE=P_UPGRADE, P_STOP=P_STOP,
    QUEUE_HIGH=QUEUE_HIGH, DRAIN_LIMIT=DRAIN_LIMIT, COMPILED=COMPILED,
)  # fmt: skip

#: The bare 500 a failed handler gets.
INTERNAL_ERROR = error_response(500)



class ConnectionCore:
    """The per-request path of one HTTP/1.1 connection (module docstring); the base class of
    :class:`fasthttp.protocol.HttpProtocol`, which implements the rare paths it names."""

    # The pure twin's attributes; the compiled twin's are the struct fields of connection.pxd
    # (an extension type cannot also have __slots__).
    if not COMPILED:
            __slots__ = (
                "_manager",
                "_cfg",
                "_loop",
                "_handler",
                "_parser",
                "transport",
                "_client",
                "_session",
                "_secure",
                "_active",
                "_queue",
                "_reading",
                "_body",
                "_batch",
                "_batch_size",
                "_pause_mask",
                "_write_paused",
                "_drain_waiter",
                "_requests",
                "_max_requests",
                "_keep",
                "_stop",
                "_closed",
                "_upgraded",
                "_kind",
                "_deadline",
                "_write_deadline",
                "_rate_since",
                "_rate_bytes",
                "_body_buffered",
                "_read_high",
                "_read_low",
                "_max_body",
                "_server_header",
                "_log",
                "_task",
                "_in_queue",
                "_pending_error",
                "_upgrade_req",
                "_resume_at_eom",
                "_no_chunked",
                "_async_mode",
                "_lost_callbacks",
                "_proxy_trust",
                "_text_fields",
                "_json_fields",
                "_fast_routes",
                "_idle_at",
                "_deadlines",
                "_fd",
                "_tx_size",
                "_tx_closing",
            )

    def __init__(self, manager: ConnectionManager) -> None:
        self._manager = manager
        # PERF: the manager's and config's settings in one tuple (ConnectionManager.connection_settings).
        (
            cfg,
            loop,
            self._handler,
            self._max_requests,
            read_high,
            self._max_body,
            self._server_header,
            self._log,
            self._no_chunked,
            self._async_mode,
            self._proxy_trust,
            # The manager's [head, body, idle] deadlines, one list its sweep updates in place
            # (ConnectionManager.deadlines): the idle one is read for every response.
            self._deadlines,
        ) = manager.connection_settings
        self._cfg = cfg
        # The fields of a str answer and of a dict or list one (ConnectionManager.answer_fields).
        self._text_fields, self._json_fields = manager.answer_fields
        # The application's exact-route table, or None (ConnectionManager.fast_routes).
        self._fast_routes: dict[str, dict[str, Any]] | None = manager.fast_routes
        self._loop: asyncio.AbstractEventLoop = loop
        self._parser: Any = None
        self.transport: Any = None  # the asyncio transport, once connection_made
        self._client: Any = None
        self._session: dict[str, Any] | None = None
        self._secure: bool | None = None
        self._active: Request | None = None
        self._queue: collections.deque[Request] | None = None
        self._reading: Request | None = None  # the request whose body is being received
        self._body: RequestBody | None = None  # its body reader
        self._batch: list[bytes] | None = None
        self._batch_size = 0
        self._pause_mask = 0
        self._write_paused = False
        self._drain_waiter: asyncio.Future[None] | None = None
        self._requests = 0
        self._keep = True
        self._stop = False
        self._closed = False
        self._upgraded = False
        self._kind = K_IDLE
        self._deadline = _INF
        self._write_deadline = _INF
        self._rate_since = 0.0
        self._rate_bytes = 0
        self._body_buffered = 0
        self._read_high = read_high
        self._read_low = read_high // 4
        self._task: asyncio.Task[Any] | Deferred | None = None
        self._in_queue = False
        self._pending_error: HttpProtocolError | None = None
        self._upgrade_req: Request | None = None
        self._resume_at_eom = False
        self._lost_callbacks: list[Callable[[], None]] | None = None
        # The manager's idle_deadline while a pipelined read is answered (_on_events), else -1.
        self._idle_at = -1.0
        # The socket's descriptor for _write's direct sends: -2 not looked up yet (at the first
        # write: connection_made stays as cheap, for a connection that never answers), -1 none.
        self._fd = -2
        # Its transport's get_write_buffer_size and is_closing, bound once with the descriptor.
        self._tx_size: Callable[[], int] | None = None
        self._tx_closing: Callable[[], bool] | None = None

    # -- asyncio.Protocol: a connection's start and end, common cases ---------------------------

    def connection_made(self, transport: Any) -> None:  # an asyncio.Transport
        """The connection is open: admission, the write limit, the parser, the header deadline.

        PERF (benchmarks/server "New connection per request"): the common case runs here, in
        the compiled twin, not as interpreted Python per connection; a connection that may be
        refused (the server closing, ``max_connections`` reached), an ``on_connect`` hook, or
        logging of connections at DEBUG (``ConnectionManager.log_connections``) take the
        protocol's full path (``_open_connection``).
        """
        self.transport = transport
        m = self._manager
        connections = m.connections
        limit = m.max_connections
        if m.closing or (limit and len(connections) >= limit) or m.on_connect is not None or m.log_connections:
            self._open_connection(transport)
            return
        conn: Any = self  # the manager's ManagedConnection is the whole protocol (fasthttp.protocol)
        # ConnectionManager.admit, whose refusals were ruled out just above: counted in. PERF: a
        # set's add, not a Python call (nor the logger's level check: m.log_connections).
        connections.add(conn)
        # PERF: positional (a keyword costs uvloop's Cython method a third more, per connection).
        transport.set_write_buffer_limits(self._cfg.write_high_water)
        self._parser = m.new_parser()
        self._kind = K_IDLE
        self._deadline = m.head_deadline  # the coarse clock's now + header_timeout

    def connection_lost(self, exc: Exception | None) -> None:
        """The connection is closed: it no longer counts; whoever waits on it is told.

        PERF: a connection closed between requests (the common case: nothing read, running,
        queued, drained or watched) ends here; anything else takes the protocol's path
        (``_lost_connection``), as does logging of connections at DEBUG.
        """
        self._closed = True
        self._stop = True
        conn: Any = self
        m = self._manager
        m.connections.discard(conn)  # ConnectionManager.release (PERF: no Python call)
        self._kind = K_NONE
        self._deadline = self._write_deadline = _INF
        if (
            self._reading is not None
            or self._active is not None
            or self._queue
            or self._drain_waiter is not None
            or self._lost_callbacks
            or m.log_connections
        ):
            self._lost_connection(exc)

    def _close_after(self, req: Request | None) -> None:
        """The last response is written: close now, or linger if the client may still send
        (RFC 9112 §9.6: the rest of a request body unread; ``_linger``)."""
        self._stop = True
        self._pending_error = None
        if self._queue:
            self._queue.clear()
        body: RequestBody | None = None if req is None else req.body_reader  # type: ignore[assignment]
        if body is not None and not body.complete or self._reading is not None:
            self._linger()
        else:
            # The whole request was read: closing now loses nothing (no unread input for the
            # kernel to answer with a reset), so no half-close and no linger deadline.
            if self._closed or self.is_secure:
                self._flush()
                if not self._closed:
                    self.transport.close()
            else:
                # The response (_respond leaves the last one in a batch) and the FIN in one
                # segment, before the client's own FIN (listeners.send_and_shut: no
                # simultaneous close, no TIME_WAIT on the client's side).
                batch = self._batch
                data = b""
                if batch:
                    data = batch[0] if len(batch) == 1 else b"".join(batch)
                    batch.clear()
                    self._batch_size = 0
                send_and_shut(self.transport, data)
                self.transport.close()
            self._batch = None  # what it held is written (an open batch's owner finds it empty)
            self._kind = K_NONE
            self._deadline = _INF

    def body_buffered(self, n: int) -> None:
        """*n* more bytes of request body wait for the handler: past ``read_high_water`` the
        connection stops reading until the handler consumes them."""
        held = self._body_buffered = self._body_buffered + n
        if held > self._read_high and not self._pause_mask & P_BODY:
            self._pause_reading(P_BODY)

    def body_consumed(self, n: int) -> None:
        """*n* bytes of request body were read or dropped: reading resumes under the low-water
        mark (a quarter of ``read_high_water``)."""
        held = self._body_buffered = self._body_buffered - n
        if self._pause_mask & P_BODY and held <= self._read_low:
            self._resume_reading(P_BODY)

    @property
    def is_secure(self) -> bool:
        """True on a TLS connection."""
        secure = self._secure
        if secure is None:
            secure = self._secure = (
                self.transport is not None and self.transport.get_extra_info("sslcontext") is not None
            )
        return secure

    def data_received(self, data: bytes) -> None:
        if self._stop:
            return  # discarding: nothing after a refused or final request is parsed
        # A read on an idle connection starts a request head: K_HEAD, on the header-read
        # deadline (408). PERF (issue 17, callgrind: ~140 instructions per request, an attribute
        # look-up on the manager): that deadline is stamped only if the read leaves the
        # connection in K_HEAD (the head incomplete, or refused before its request opened);
        # a read that brings a whole head replaces it at once (_open) and never needed it.
        # Nothing reads the deadline meanwhile (the manager's sweep is a callback of its own).
        fresh = False
        if self._kind == K_IDLE:
            if self._requests == 0 and data[:1] == TLS_RECORD_START:
                # A TLS ClientHello on this plain port (the rule: listeners.TLS_RECORD_START).
                # PERF: a comparison, not a call (~1k instructions per connection), made once
                # per connection's first read (the K_IDLE branch, first request).
                self._wrong_protocol()
                return
            self._kind = K_HEAD
            fresh = True
        try:
            events = self._parser.feed(data)
        except HttpProtocolError as exc:
            if fresh:
                self._deadline = self._manager.head_deadline
            self._parse_failed(exc)
            return
        if events:
            self._on_events(events)
            kind = self._kind
            if kind == K_IDLE:
                if self._buffered():
                    # The read ended inside the next request's head: it is on the header-read
                    # deadline (408), not the silent keep-alive one. One check per read, not
                    # per request (the per-response fast path in _respond stays as it is).
                    self._kind = K_HEAD
                    self._deadline = self._manager.head_deadline
            elif fresh and kind == K_HEAD:
                self._deadline = self._manager.head_deadline  # refused before it opened (_fail)
        elif fresh:
            self._deadline = self._manager.head_deadline  # the head is still arriving

    def _buffered(self) -> bool:
        """Bytes received but not yet parsed (the parser's ``buffered``): the next request's
        head has begun. PERF (issue 17, callgrind: ~140 instructions per request): the compiled
        twin reads the compiled parser's count as a struct field (parser.pxd), not through its
        property; the pure twin reads the property."""
        n: int = self._parser._len if COMPILED else self._parser.buffered
        return n != 0

    def _pause_reading(self, reason: int) -> None:
        if not self._pause_mask and not self._closed:
            self.transport.pause_reading()
            if self._kind == K_BODY:
                self._deadline = _INF  # not the peer's fault: the handler is not consuming
        self._pause_mask |= reason

    def _resume_reading(self, reason: int) -> None:
        if not self._pause_mask & reason:
            return
        self._pause_mask &= ~reason
        if not self._pause_mask and not self._closed:
            self.transport.resume_reading()
            if self._kind == K_BODY:
                now = self._manager.now
                self._deadline = now + self._cfg.body_timeout
                self._rate_since = now
                self._rate_bytes = 0

    def _on_events(self, events: list[Any]) -> None:
        # PERF: a lone request ([head, end]) is written straight to the transport; pipelined
        # requests are answered into one batch, written once (one syscall for 16 responses).
        batch: list[bytes] | None = None
        n = len(events)
        # A batch only for more than one request in this read: three events that open with a
        # head and end without one (head, body, end: a POST in one read; or a chunked body not
        # yet ended) are one request, one response, written straight (PERF, the POST echo).
        if n > 3 or n == 3 and (type(events[0]) is not RequestHead or type(events[2]) is RequestHead):
            self._batch = batch = []
            # PERF (issue 17, benchmarks/bench_connection.py test_pipelined): the idle deadline
            # each response of this read sets, read from the manager once per read rather than
            # once per response: the manager's coarse clock moves only in its sweep, a callback
            # of its own, so the value cannot change while this read is being answered.
            self._idle_at = self._manager.idle_deadline
        skip = 0
        try:
            for i, ev in enumerate(events):
                if skip:
                    skip -= 1  # body events already delivered with their head (_on_head_with_body)
                    continue
                t = type(ev)
                if t is RequestHead:
                    head = ev  # the compiled twin: a C-typed head (connection.pxd)
                    if self._stop:
                        break
                    if (head.content_length or head.chunked) and i + 1 < n:
                        skip = self._on_head_with_body(head, events, i)
                    else:
                        self._on_head(head)
                elif t is bytes:
                    self._on_body(ev)
                elif self._reading is not None or self._upgrade_req is not None or self._resume_at_eom:
                    self._on_eom(ev)
                if self._upgraded:
                    return
        finally:
            if batch is not None:
                self._idle_at = -1.0  # a response written later (a Task's) reads the manager's
                self._batch = None
                if batch and not self._upgraded:
                    self._batch_size = 0
                    self._write(batch[0] if len(batch) == 1 else b"".join(batch))

    def _on_head_with_body(self, head: RequestHead, events: list[Any], i: int) -> int:
        """*head* (``events[i]``) has content. When the whole of it is in *events* too, deliver
        it to the body reader before the handler runs, so reading it never waits (no Task, no
        wake-up per piece: PERF, the POST echo scenario); return how many events that took.

        Not for an upgrade (the parser pauses after it), nor when the client waits for
        ``100 Continue`` (the handler's first read sends it, however the bytes were split), nor
        past the server's body limit (a route may raise it before reading; the reader checks
        each piece against the limit it has when the piece arrives). Otherwise 0: the usual
        order, the handler first."""
        n = len(events)
        if i + 2 < n and not head.chunked and not head.upgrade and not head.expect_continue:
            # PERF (issue 17, POST echo): a Content-Length body in one piece, then its end, the
            # common case, tested first: the reader is made complete with it (RequestBody's
            # *whole*), without the receiving state a body read over time goes through
            # (_reading, K_BODY, feed, end).
            whole = events[i + 1]
            end = events[i + 2]
            limit = self._max_body
            if (
                type(whole) is bytes
                and type(end) is not bytes
                and type(end) is not RequestHead
                and (limit is None or len(whole) <= limit)
            ):
                req = self._open(head, whole)
                if req is None:
                    return 0  # refused (411, 417): the events that follow go the usual way
                if self._upgrade_req is not None:
                    self._pause_reading(P_UPGRADE)  # what _on_eom does after a pending upgrade
                elif self._resume_at_eom:
                    self._resume_at_eom = False
                    self._loop.call_soon(self._resume_parser)
                if not self._stop and self._active is None and not self._queue and self._write_paused:
                    self._to_idle()  # queued behind a paused write (as _on_eom leaves it)
                else:
                    self._kind = K_NONE
                    self._deadline = _INF
                self._schedule(req)
                return 2
        j = i + 1
        size = 0
        while j < n and type(events[j]) is bytes:
            size += len(events[j])
            j += 1
        if j == n or type(events[j]) is RequestHead or head.upgrade or head.expect_continue:
            self._on_head(head)
            return 0
        limit = self._max_body
        if limit is not None and size > limit:
            self._on_head(head)
            return 0
        req = self._open(head)
        if req is None:
            return 0  # refused (411, 417): the events that follow go the usual way
        for k in range(i + 1, j):
            self._on_body(events[k])
        self._on_eom(events[j])
        if not self._stop and self._active is None and not self._queue and not self._write_paused:
            # Dispatched now: while the handler runs there is no read deadline (as for a
            # request without content).
            self._kind = K_NONE
            self._deadline = _INF
        self._schedule(req)
        return j - i

    def _on_body(self, data: bytes) -> None:
        body = self._body
        if body is not None:
            body.feed(data)
            self._rate_bytes += len(data)
            if self._kind == K_BODY and not self._pause_mask:
                self._deadline = self._manager.body_deadline

    def _on_head(self, head: RequestHead) -> None:
        req = self._open(head)
        if req is not None:
            if head.upgrade:
                tls = self._manager.tls_upgrade
                if tls is not None and req.body_reader is None and self._active is None and not self._queue and wants_tls_upgrade(head.headers.get("upgrade")) and not self.is_secure:
                    self._upgrade_to_tls(req, tls)  # RFC 2817 §3.2 (fasthttp.protocol)
                    return
            self._schedule(req)

    def _open(self, head: RequestHead, whole: bytes | None = None) -> Request | None:
        """The request for *head*, with its body reader if it has content; None if refused.
        *whole*: the whole body, which came with the head (``_on_head_with_body``)."""
        trust = self._proxy_trust
        # The connection a request and its body reader see is the whole protocol (this core
        # and the properties of fasthttp.protocol.HttpProtocol): ConnectionInfo, BodyConnection.
        conn: Any = self
        seen: Any = conn if trust is None else self._forwarded(trust, head)  # the request's view
        if COMPILED:
            # PERF (issue 17, benchmarks/bench_connection.py): Request(...) as C calls, without
            # the type call (fasthttp._model_py.request.new_request: callgrind, about 400
            # instructions per request); the pure twin's class call is cheaper than the factory.
            req = new_request(Request, head, seen, self._max_body)
        else:
            req = Request(head, seen, self._max_body)
        if self._log is not None:
            # The access log's durations: perf_counter, not the loop's clock (milliseconds on
            # uvloop).
            req.received_at = perf_counter()
        self._requests += 1
        if self._requests == self._max_requests:
            self._keep = False
        if head.content_length or head.chunked:
            if head.chunked and self._no_chunked:
                self._fail(LengthRequired())
                return None
            if head.has_expect and not head.expect_continue and head.version == "1.1":
                # RFC 9110 §10.1.1: an expectation other than 100-continue may be refused with
                # 417. NOTE: only requests with content are checked; an expectation is about
                # the content, and the check stays off the bodyless fast path.
                self._fail(ExpectationFailed())
                return None
            if whole is not None:
                req.body_reader = RequestBody(conn, head, self._max_body, whole)
                self.body_buffered(len(whole))
                return req  # not receiving: the caller sets the read deadline
            req.body_reader = self._body = RequestBody(conn, head, self._max_body)
            self._reading = req
            m = self._manager
            self._kind = K_BODY
            self._deadline = m.body_deadline if not self._pause_mask else _INF
            self._rate_since = m.now
            self._rate_bytes = 0
        else:
            self._kind = K_NONE
            self._deadline = _INF
        if head.upgrade:
            self._upgrade_req = req
        return req

    def _schedule(self, req: Request) -> None:
        """Dispatch *req* now, or queue it behind the responses still owed (RFC 9112 §9.3.2)."""
        if self._active is not None or self._queue or self._write_paused:
            queue = self._queue
            if queue is None:
                queue = self._queue = collections.deque()
            queue.append(req)
            if len(queue) >= QUEUE_HIGH:
                self._pause_reading(P_QUEUE)
            return
        self._dispatch(req)

    def _on_eom(self, eom: Any) -> None:
        body = self._body
        if body is not None:
            self._reading = self._body = None
            body.end(eom.trailers)
            if self._active is None and not self._queue and not self._stop:
                self._to_idle()
            else:
                self._kind = K_NONE
                self._deadline = _INF
        if self._upgrade_req is not None:
            # The parser paused after this upgrade request (RFC 9110 §7.8): hold the bytes that
            # follow in the socket until the handler takes the connection over or declines.
            self._pause_reading(P_UPGRADE)
        elif self._resume_at_eom:
            self._resume_at_eom = False
            self._loop.call_soon(self._resume_parser)

    def _to_idle(self) -> None:
        if self._buffered():
            # The next request's head began in the same read as the end of the last one: that
            # head is now on the header-read deadline (408), not the silent keep-alive one.
            self._kind = K_HEAD
            self._deadline = self._manager.head_deadline
        else:
            self._kind = K_IDLE
            self._deadline = self._manager.idle_deadline

    def _dispatch(self, req: Request) -> None:
        """Run the handler for *req*, the request at the head of the pipeline, and answer it.

        The handler runs in a copy of the connection's context, so context variables it sets
        never leak into later requests; a Task it needs inherits that copy.
        """
        # PERF (issue 17, callgrind: ~180 instructions per plaintext request): the context
        # kernel's copy_context and run_in (fasthttp.contextcall), C calls of CPython's context
        # API in the compiled twin (connection.pxd); contextvars' own in the pure twin.
        ctx = req.context = copy_context()
        try:
            call: Any = None
            routes = self._fast_routes
            if routes is not None:
                head = req.head
                calls = routes.get(head.path)
                if calls is not None:
                    call = calls.get(head.method)
            if call is None:
                result = run_in(ctx, self._handler, req)
            else:
                # PERF (issue 17, benchmarks/bench_connection.py): the handler's exact-route
                # hit (its fast_routes, fasthttp.application) made here, with two dict look-ups,
                # instead of in the application's interpreted dispatcher. What the handler
                # would do around the call, the engine does: the body-size check of a request
                # with content, and an exception answered with the handler's on_error.
                try:
                    reader = req.body_reader
                    if reader is not None:
                        reader.check_size()  # ContentTooLarge past the limit
                    result = run_in(ctx, call, req)
                except Exception as exc:
                    result = self._apply_on_error(req, ctx, exc)
            if type(result) is _CORO:
                if self._async_mode == INLINE:
                    # PERF: drive the first step here; most handlers finish without waiting.
                    # NOTE: until it suspends there is no current task (asyncio.timeout() and,
                    # on 3.12+, asyncio.wait_for() need one): see Config.async_handlers.
                    try:
                        yielded = run_in(ctx, result.send, None)
                    except StopIteration as stop:
                        result = stop.value
                    except Exception as exc:
                        # The application's answer to its coroutine's failure (the handler's
                        # on_error, fasthttp.application), once: a failure of that answer gets
                        # the engine's own (below). PERF: no wrapper coroutine per request.
                        result = self._apply_on_error(req, ctx, exc)
                        if type(result) is _CORO:
                            try:
                                yielded = run_in(ctx, result.send, None)
                            except StopIteration as stop:
                                result = stop.value
                            else:
                                self._suspended(req, ctx, result, yielded, False)
                                return
                    else:
                        self._suspended(req, ctx, result, yielded)
                        return
                else:
                    self._start_async(req, ctx, result)
                    return
        except HttpError as exc:
            result = render_http_error(exc, req)
        except Exception as exc:
            result = self._handler_failed(req, exc)
        self._respond(req, result)

    def _apply_on_error(self, req: Request, ctx: contextvars.Context, exc: Exception) -> Any:
        """The handler's answer to *exc*, raised by a route it handed the engine or by its
        coroutine: its ``on_error`` run in the request's context (fasthttp.application); *exc*
        itself, raised again, when it has none (the engine's own answer, in ``_dispatch``)."""
        on_error = getattr(self._handler, "on_error", None)
        if on_error is None:
            raise exc
        return _ctx_run(ctx, on_error, req, exc)

    def _keep_alive(self, req: Request) -> bool:
        """May the connection carry another request after *req*'s response?"""
        head = req.head
        if not (head.keep_alive and self._keep):
            return False
        # The engine made this reader: a RequestBody (the Request knows it as a BodyReader).
        body: RequestBody | None = req.body_reader  # type: ignore[assignment]
        if body is None:
            return True
        # A complete body: yes, and what the handler left unread stops counting against
        # read_high_water (it would pause reading for the requests that follow). Else the
        # response goes out before the whole body arrived: keep the connection only if the body
        # reader can read and discard the rest (small, announced, not awaiting a 100).
        return body.answered(DRAIN_LIMIT)

    def _respond(self, req: Request, result: Any) -> None:
        """Write the response for *req* (the request at the head of the pipeline)."""
        t = type(result)
        if t is str:
            # PERF (issue 17, callgrind plaintext: ~150 instructions per request): the writer
            # copies a str's UTF-8 into the response itself (fasthttp.writer.write_response), so
            # no bytes object is made for it; the access log, which counts the body's bytes,
            # gets them encoded.
            status, fields, body = 200, self._text_fields, result if self._log is None else result.encode()
        elif t is Response:
            status, fields, body = result.status, result.fields, result.body
        elif t is dict or t is list:
            # PERF (issue 17): a small simple value (flat ASCII strings, ints, booleans, nulls) is
            # encoded by the jsontext kernel, the same bytes without orjson's fixed per-call cost
            # (GET /json, whole process, callgrind: 10,349 -> 9,548 instructions per request).
            # The pure twin is ~11x slower than orjson, so the pure core skips it
            # (FASTER_THAN_ORJSON); the compiled core calls the compiled twin (a C call).
            body = encode_simple(result) if FASTER_THAN_ORJSON else None
            if body is not None:
                status, fields = 200, self._json_fields
            else:
                # orjson called directly, with json_dumps's fallback for what it refuses (the
                # function's frame cost ~590 instructions of ~13k per JSON response).
                dumps = ORJSON_DUMPS
                try:
                    if dumps is None:
                        body = json_dumps(result)
                    else:
                        try:
                            body = dumps(result)
                        except TypeError:
                            body = stdlib_json_dumps(result)
                    status, fields = 200, self._json_fields
                except Exception as exc:  # a value no encoder takes: the handler's failure
                    result = self._handler_failed(req, exc)
                    status, fields, body = result.status, result.fields, result.body
        else:
            if isinstance(result, Deferred):
                self._defer(req, result)  # an adapter answers later (fasthttp.application)
                return
            try:
                result = to_response(result)
            except Exception as exc:
                result = self._handler_failed(req, exc)
            t = type(result)
            if t is not Response and not isinstance(result, Response):
                if t is Upgrade:
                    self._take_over(req, result)
                else:
                    self._start_sender(req, result)
                return
            status, fields, body = result.status, result.fields, result.body
        head = req.head
        keep = head.keep_alive and self._keep and (req.body_reader is None or self._keep_alive(req))
        # NOTE: a length or a character tested first cost the pure twin more than the comparison
        # it spares (callgrind, issue 17); the identity test (_GET, _V11 above) costs it an IS_OP.
        method = head.method
        is_head = method is not _GET and method == "HEAD"
        http_1_0 = head.version is not _V11 and head.version == "1.0"
        try:
            # PERF: positional (keep_alive, http_1_0, head, date, server): a keyword costs the
            # writer's argument parsing (the compiled twin calls it in C: connection.pxd).
            data = write_response(status, fields, body, keep, http_1_0, is_head, True, self._server_header)
        except Exception as exc:  # an invalid header or status from the application
            try:
                data = self._write_closing(exc, status, fields, body, http_1_0, is_head)
                keep = False
            except Exception as failure:
                self._handler_failed(req, failure)
                status = 500
                data = error_bytes(500, keep, self._server_header)
        batch = self._batch
        if batch is not None:
            batch.append(data)
            self._batch_size += len(data)
            if self._batch_size > self._read_high:
                self._flush()
        elif keep:
            self._write(data)
        else:
            self._batch = [data]  # the last response: _close_after sends it with the FIN
        if self._log is not None:
            self._log(req, status, len(body) if not is_head and status >= 200 else 0, self)
        if req.form_data is not None:
            req.close()  # the form's spooled files go as soon as the response is out
        if req.background is not None:  # PERF: one slot read when there are none
            self._after_response(req)
        if keep and self._active is None and self._reading is None and not self._queue and self._upgrade_req is None and self._pending_error is None:
            # PERF: _finished's common case, inlined: idle until the next request.
            self._kind = K_IDLE
            idle = self._idle_at
            self._deadline = idle if idle >= 0.0 else self._deadlines[2]  # the manager's idle_deadline
        else:
            self._finished(req, keep)

    def _write_closing(self, exc: Exception, status: Any, fields: Any, body: Any, http_1_0: bool, is_head: bool) -> bytes:
        """The response the writer refused with *exc*, if it refused only the application's own
        ``Connection: close``: written with the engine's, and the connection ends after it (RFC
        9112 §9.6, :func:`~fasthttp.responses.without_close`). Else *exc* (or the rewrite's own
        error) is raised. An error path only: the common response never comes here."""
        rest = without_close(fields) if isinstance(exc, InvalidResponseHeader) else None
        if rest is None:
            raise exc
        data: bytes = write_response(status, rest, body, False, http_1_0, is_head, True, self._server_header)
        self._keep = False
        return data

    def _finished(self, req: Request, keep: bool) -> None:
        """*req*'s response is written: close, or move on to the next request."""
        if self._active is req:
            self._active = None
        if req.form_data is not None:
            req.close()
        if not keep:
            self._close_after(req)
            return
        if req is self._upgrade_req:
            # A declined upgrade: HTTP goes on with what followed the request.
            self._upgrade_req = None
            if self._parser.paused:
                self._loop.call_soon(self._resume_parser)
            else:
                self._resume_at_eom = True
        if self._queue:
            if not self._in_queue:
                if _current_task() is None:
                    self._run_queue()
                else:
                    # Called from the Task of the request just answered: the next handler must
                    # not run inside that Task (it would see the wrong current_task()).
                    self._loop.call_soon(self._run_queue)
        elif self._active is None:
            if self._pending_error is not None:
                self._send_error(self._pending_error)
            elif self._reading is None and not self._stop:
                self._to_idle()

    def _run_queue(self) -> None:
        queue = self._queue
        if self._in_queue or queue is None:
            return
        self._in_queue = True
        try:
            while queue and self._active is None and not self._write_paused and not self._closed:
                req = queue.popleft()
                if self._pause_mask & P_QUEUE and len(queue) < QUEUE_HIGH // 2:
                    self._resume_reading(P_QUEUE)
                self._dispatch(req)
        finally:
            self._in_queue = False
        if not queue and self._active is None and not self._closed:
            if self._pending_error is not None:
                self._send_error(self._pending_error)
            elif self._reading is None and not self._stop:
                self._to_idle()

    def _send(self, data: bytes) -> None:
        """Write *data* after everything written before it (the batch, if one is open)."""
        batch = self._batch
        if batch is not None:
            batch.append(data)
            self._batch_size += len(data)
        elif not self._closed:
            self._write(data)

    def _flush(self) -> None:
        batch = self._batch
        if batch:
            data = b"".join(batch)
            batch.clear()
            self._batch_size = 0
            self._write(data)

    # -- the rare paths: implemented by fasthttp.protocol.HttpProtocol --------------------------

    def _parse_failed(self, exc: HttpProtocolError) -> None:
        """The parser refused the input."""
        raise NotImplementedError

    def _fail(self, exc: HttpProtocolError) -> None:
        """A protocol error: answer it after the responses already owed, then close."""
        raise NotImplementedError

    def _forwarded(self, trust: ProxyTrust, head: RequestHead) -> Any:
        """The connection as *head*'s request sees it through a trusted proxy."""
        raise NotImplementedError

    def _handler_failed(self, req: Request, exc: BaseException) -> Response:
        """Log a handler's exception; the response to send instead."""
        raise NotImplementedError

    def _suspended(
        self, req: Request, ctx: contextvars.Context, coro: Any, yielded: Any, on_error: bool = True
    ) -> None:
        """An ``async def`` handler driven inline waits on *yielded*: a Task finishes it.
        *on_error* False: *coro* is already the application's answer to a failure."""
        raise NotImplementedError

    def _start_async(self, req: Request, ctx: contextvars.Context, coro: Any) -> None:
        """Run an ``async def`` handler in a Task (the ``task`` and ``eager`` modes)."""
        raise NotImplementedError

    def _take_over(self, req: Request, up: Upgrade) -> None:
        """Hand the connection over to another protocol (or decline the switch)."""
        raise NotImplementedError

    def _start_sender(self, req: Request, resp: Any) -> None:
        """Send a streamed or file response from a Task."""
        raise NotImplementedError

    def _open_connection(self, transport: Any) -> None:
        """``connection_made``'s full path: refusal (503), DEBUG logging, the on_connect hook."""
        raise NotImplementedError

    def _lost_connection(self, exc: Exception | None) -> None:
        """``connection_lost``'s rest: fail the body being read, the running request, a drain
        waiter; run the lost callbacks; log at DEBUG."""
        raise NotImplementedError

    def _linger(self) -> None:
        """Half-close and discard input for a moment, so the response is not lost to a reset."""
        raise NotImplementedError

    def _send_error(self, exc: HttpProtocolError) -> None:
        """Answer a protocol error after the responses owed before it."""
        raise NotImplementedError

    def _resume_parser(self) -> None:
        """Continue HTTP after a declined upgrade."""
        raise NotImplementedError

    def _wrong_protocol(self) -> None:
        """A TLS handshake on this plain port: an explanatory 400, then close."""
        raise NotImplementedError

    def _upgrade_to_tls(self, req: Request, context: Any) -> None:
        """RFC 2817: 101, the TLS handshake on this connection, then *req* over TLS."""
        raise NotImplementedError

    def _after_response(self, req: Request) -> None:
        """Start the background tasks of *req*, whose response has been written."""
        raise NotImplementedError

    def _defer(self, req: Request, pending: Deferred) -> None:
        """*req*'s handler answers later (``fasthttp.application.Deferred``)."""
        raise NotImplementedError

    # -- the write: straight to the socket when nothing waits before it ----------------------

    def _write(self, data: bytes) -> None:
        """Write *data* after everything written before it on this connection.

        Strategy: on a plain socket (not TLS) whose transport holds nothing unsent, the bytes
        go straight to the socket (the sockio kernel's ``send_now``); what it does not take
        (a full socket: the peer reads slowly) goes to ``transport.write``, which then owns the
        order and the flow control (``pause_writing`` above ``write_high_water``, the write
        deadline). Anything in the transport's buffer (queued by this path or by any other
        writer of the connection: a stream, a file, the adapters) sends every later write
        through it, so the bytes keep their order. The transport is asked on each write
        rather than trusted from a flag of this class: the other writers call it directly. A
        closing transport (``close``, ``abort``: its descriptor is still open until
        ``connection_lost``) and a lost connection (the descriptor may be another's by now)
        get the transport's write, as does a failed send: the transport meets the same error
        (the peer is gone) and reports it, ``connection_lost``, as without this path.

        PERF (issue 17, benchmarks/server plaintext, callgrind of the whole server under wrk):
        uvloop's ``UVStream.write`` cost ~990 instructions per response (its ``_initiate_write``,
        ``_exec_write``, ``uv_try_write``) around the one system call that ``send_now`` makes
        directly; this method costs ~440, of which ~210 are the transport's two questions (bound
        methods, kept with the descriptor: asked by name they cost ~200 each) and ~37 the send.
        ``data_received`` went from ~7,980 to ~7,270 per request, the process from ~9,860 to
        ~9,250.
        """
        fd = self._fd
        if fd == -2:
            fd = self._fd = self._descriptor()
        if (
            fd >= 0
            and not self._closed
            and type(data) is bytes
            and not self._tx_size()  # type: ignore[misc]
            and not self._tx_closing()  # type: ignore[misc]
        ):
            whole = data  # the compiled twin: a bytes local (its size read in C)
            try:
                n = send_now(fd, whole)
            except OSError:  # the peer is gone: the transport's write meets the same error
                n = 0
            if n == len(whole):
                return
            if n:
                data = whole[n:]
        self.transport.write(data)

    def _descriptor(self) -> int:
        """The descriptor :meth:`_write` sends on, or -1: a TLS connection (its bytes go through
        the TLS layer, on whose socket ``get_extra_info`` still answers), a transport without a
        socket, the pure twin (:data:`DIRECT_WRITES`)."""
        if self.is_secure or not DIRECT_WRITES:
            return -1
        transport = self.transport
        sock = transport.get_extra_info("socket")
        if sock is None:
            return -1
        fd: int = sock.fileno()
        self._tx_size = transport.get_write_buffer_size
        self._tx_closing = transport.is_closing
        return fd
