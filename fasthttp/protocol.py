"""The HTTP/1.1 connection: one :class:`HttpProtocol` per connection drives the parser,
dispatches each request to the application's handler and writes the responses in order.

The connections of one server share a :class:`~fasthttp.connections.ConnectionManager`
(admission, the coarse clock and the deadline sweep, shutdown); each request body is read by a
:class:`~fasthttp.body.RequestBody`, which sees its connection only through the
:class:`~fasthttp.body.BodyConnection` methods implemented here.

Strategy
--------
The protocol is an ``asyncio.Protocol`` (it runs the same on uvloop and on the stdlib loop). Bytes
go into the sans-IO parser (``fasthttp.parser``); each event it returns is routed by exact type:

- a ``RequestHead`` becomes a :class:`~fasthttp.requests.Request` and is *dispatched* at once
  (the handler runs as soon as the head is in, so a route can refuse a body it has not read,
  RFC 9110 §10.1.1) unless an earlier response is still in progress, in which case it waits in
  the pipeline queue: responses always leave in request order (RFC 9112 §9.3.2);
- body ``bytes`` go to the body stream of the request being received, which may be a later one
  than the request being answered;
- ``EndOfMessage`` closes that stream and carries the trailers.

The hot path (PERF, measured with wrk, see the issue 3 note): parse -> handler -> the writer
kernel's ``write_response`` -> one ``transport.write`` per ``data_received`` (responses to
pipelined requests are batched). A handler that is ``def`` runs inline. An ``async def`` handler
is driven inline with ``coro.send(None)``; only if it really suspends does it get a Task, and the
requests behind it wait in the queue. No timer is armed per request: each connection keeps one
read deadline and one write deadline (floats stamped from the manager's coarse clock), and one
periodic sweep per server enforces them all.

Limits and deadlines (all from the server's ``Config``)
-------------------------------------------------------
- request line, header size and count, chunk line and trailer size: enforced by the parser
  (414, 431, 400);
- body size: the body reader's one rule (``fasthttp.body.check_body_size``) against
  ``Request.max_body_size`` (server default, a route may change it), on the Content-Length
  before any body byte is read, and on the running total of a chunked body (413);
- header-read deadline from the first byte of a request (slowloris, 408); body inactivity
  deadline and a minimum body rate over a window (408); keep-alive idle timeout (silent close);
  write deadline while the peer does not read (abort);
- requests per connection (the last response says ``Connection: close``); concurrent
  connections per server (``503`` and close).

Flow control: unconsumed request-body bytes above ``read_high_water`` pause reading until the
handler consumes them; a transport write buffer above ``write_high_water`` pauses the production
of responses (the queue holds, streaming senders await) and reading; a long pipeline queue pauses
reading. So a peer that sends without reading holds at most one read's worth of parsed requests
and one high-water mark of responses.

Errors: a protocol error answers the requests parsed before it, then its own status with
``Connection: close``; the connection then only discards input until the peer closes or the
linger deadline passes ("lingering close", so the response is not destroyed by a TCP reset) and
nothing after the bad bytes is ever parsed (RFC 9112 §9.6, §11.2). An exception in a handler
is logged (logger ``fasthttp.error``) and answered with a bare 500; the connection goes on.

Senders: a streamed response and a file response are written by a Task of the connection, and
share one tail (errors, abort, access log, the next request). A
:class:`~fasthttp.files.FileResponse` is opened and ``fstat``'ed here; its ``plan`` decides
what to send from that (validators, 304/412, one or several ranges, 416), and the file spans go
out with ``sendfile`` on plain TCP, read in chunks under TLS.

Take-over: a handler returns :class:`~fasthttp.responses.Upgrade` and the transport is handed to
another protocol with the bytes already received after the request (websocket, CONNECT). A new
protocol that is a :class:`~fasthttp.connections.ManagedConnection` (``fasthttp.websocket``)
stays one of the manager's connections and writes its own access-log line when it ends.
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import logging
import os
import types
from collections.abc import Callable, Coroutine, Generator
from time import perf_counter
from typing import Any

from .application import Deferred, report_failure
from .body import ClientDisconnected, RequestBody
from .chunked import encode_chunk, encode_last_chunk
from .config import EAGER, INLINE
from .connections import ConnectionManager, ManagedConnection, error_bytes
from .errors import (
    ExpectationFailed,
    HttpError,
    HttpProtocolError,
    LengthRequired,
    RequestTimeout,
)
from .files import FileResponse
from .forwarded import ForwardedConnection, ProxyTrust
from .parser import RequestHead, RequestParser
from .requests import Request
from .responses import (
    JSON_FIELDS,
    TEXT_FIELDS,
    Response,
    StreamingResponse,
    Upgrade,
    error_response,
    json_dumps,
    reason,
    render_http_error,
    to_response,
)
from .writer import write_head, write_response

__all__ = ("HttpProtocol",)

error_log = logging.getLogger("fasthttp.error")
#: Connection-level events: DEBUG for each connection made, refused and lost; INFO for each
#: request refused by the parser or a limit, with its reason (the access log has no reason).
server_log = logging.getLogger("fasthttp.server")

_INF = float("inf")
_CORO = types.CoroutineType
_copy_context = contextvars.copy_context

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

_QUEUE_HIGH = 64  # pipelined requests held before reading pauses
_DRAIN_LIMIT = 64 * 1024  # unread Content-Length body the server reads and discards to keep a connection

#: What a sender reports once the response is out: ``(status, body bytes sent, keep-alive)``.
_Sent = tuple[int, int, bool]

_INTERNAL_ERROR = error_response(500)
_INCOMPLETE = error_response(400, "incomplete request body")
_current_task = asyncio.current_task


@types.coroutine
def _resume(coro: Coroutine[Any, Any, Any], yielded: Any) -> Generator[Any, Any, Any]:
    """Continue a coroutine that was started with ``coro.send(None)`` and suspended on *yielded*.

    Awaited by a Task, this hands *yielded* (the future the coroutine waits on) to the Task as
    if the coroutine itself had yielded it, then forwards every send and throw. PERF: this is
    what lets an ``async def`` handler that never suspends run without any Task.
    """
    while True:
        try:
            sent = yield yielded
        except BaseException as exc:  # thrown in by the Task (cancellation)
            try:
                yielded = coro.throw(exc)
            except StopIteration as stop:
                return stop.value
        else:
            try:
                yielded = coro.send(sent)
            except StopIteration as stop:
                return stop.value


class HttpProtocol(asyncio.Protocol):
    """One HTTP/1.1 connection. See the module docstring for the strategy.

    It is what a :class:`~fasthttp.requests.Request` knows as its ``connection`` (the
    :class:`~fasthttp.requests.ConnectionInfo` properties), what its body reader knows as its
    connection (:class:`~fasthttp.body.BodyConnection`), and what the manager sweeps
    (:class:`~fasthttp.connections.ManagedConnection`).
    """

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
    )

    def __init__(self, manager: ConnectionManager) -> None:
        cfg = manager.config
        self._manager = manager
        self._cfg = cfg
        self._loop = manager.loop
        self._handler = manager.handler
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
        self._max_requests = cfg.max_requests_per_connection or 0
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
        self._read_high = cfg.read_high_water
        self._read_low = cfg.read_high_water // 4
        self._max_body = cfg.max_body_size
        self._server_header = cfg.server_header
        self._log = manager.access_log
        self._task: asyncio.Task[Any] | Deferred | None = None
        self._in_queue = False
        self._pending_error: HttpProtocolError | None = None
        self._upgrade_req: Request | None = None
        self._resume_at_eom = False
        self._no_chunked = cfg.require_content_length
        self._async_mode = manager.async_mode
        self._lost_callbacks: list[Callable[[], None]] | None = None
        self._proxy_trust = manager.proxy_trust

    # -- what handlers see through the Request ---------------------------------------------------

    @property
    def client(self) -> Any:
        """The peer address (``transport.get_extra_info("peername")``), looked up once."""
        client = self._client
        if client is None and self.transport is not None:
            client = self._client = self.transport.get_extra_info("peername")
        return client

    def use_client(self, client: Any) -> None:
        """Take *client* as the peer address (a PROXY protocol preface told the real one)."""
        self._client = client

    @property
    def session(self) -> dict[str, Any]:
        """The per-connection dict shared by the ``on_connect`` hook and every request."""
        session = self._session
        if session is None:
            session = self._session = {"client": self.client}
        return session

    @property
    def is_secure(self) -> bool:
        """True on a TLS connection."""
        secure = self._secure
        if secure is None:
            secure = self._secure = (
                self.transport is not None and self.transport.get_extra_info("sslcontext") is not None
            )
        return secure

    @property
    def peercert(self) -> dict[str, Any] | None:
        """The verified client certificate (``SSLSocket.getpeercert()``), or None."""
        if self.transport is None or not self.is_secure:
            return None
        return self.transport.get_extra_info("peercert") or None

    @property
    def manager(self) -> ConnectionManager:
        """The manager of this server's connections (its ``config``, ``loop``, ``access_log``):
        what a protocol taking this connection over (``fasthttp.websocket``) needs."""
        return self._manager

    @property
    def buffered_bytes(self) -> int:
        """Bytes this connection holds for the peer: unsent output and unconsumed request bodies."""
        out = self.transport.get_write_buffer_size() if self.transport is not None and not self._closed else 0
        return out + self._body_buffered + self._batch_size

    # -- what the request's body reader sees (fasthttp.body.BodyConnection) -----------------------

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The event loop the connection runs on."""
        return self._loop

    @property
    def closed(self) -> bool:
        """True once the connection is lost (or handed over to another protocol)."""
        return self._closed

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

    def send_interim(self, data: bytes) -> None:
        """Write an interim response (``100 Continue``) after everything written before it."""
        self._send(data)

    def refuse_keep_alive(self) -> None:
        """Close the connection after the response in progress (the body cannot be finished)."""
        self._keep = False

    def limit_body(self, limit: int | None) -> None:
        """A route's limit for the chunked body being read (the only unfinished one)."""
        self._parser.limit_body(limit)

    # -- what adapters see: notice of a lost connection ------------------------------------------

    def add_lost_callback(self, callback: Callable[[], None]) -> None:
        """Call *callback()* once when the connection is lost or the client ends its side
        while a request is in flight (the ASGI adapter's ``http.disconnect``); at once if the
        connection is already lost."""
        if self._closed:
            callback()
            return
        callbacks = self._lost_callbacks
        if callbacks is None:
            callbacks = self._lost_callbacks = []
        callbacks.append(callback)

    def remove_lost_callback(self, callback: Callable[[], None]) -> None:
        """Forget a callback given to :meth:`add_lost_callback` (no error if unknown)."""
        callbacks = self._lost_callbacks
        if callbacks is not None and callback in callbacks:
            callbacks.remove(callback)

    # -- what the manager sees (fasthttp.connections.ManagedConnection) ----------------------------

    def check_deadlines(self, now: float) -> None:
        """Act on the deadlines that have passed at *now*, and on a body below the minimum rate."""
        if self._deadline <= now or self._write_deadline <= now:
            self._on_timeout(now)
        elif self._kind == K_BODY and not self._pause_mask:
            cfg = self._cfg
            min_rate = cfg.min_body_rate
            if min_rate:
                elapsed = now - self._rate_since
                if elapsed >= cfg.body_rate_window:
                    # RFC 9110 §15.5.9: a body trickling in slower than the floor is a timeout.
                    if self._rate_bytes < min_rate * elapsed:
                        self._body_timeout()
                    else:
                        self._rate_since = now
                        self._rate_bytes = 0

    def abort(self) -> None:
        """Drop the connection now; a running handler or sender Task is cancelled."""
        task = self._task
        if task is not None and not task.done():
            task.cancel()
        if self.transport is not None and not self._closed:
            self.transport.abort()

    # -- asyncio.Protocol ------------------------------------------------------------------------

    def connection_made(self, transport: Any) -> None:  # an asyncio.Transport
        self.transport = transport
        m = self._manager
        cfg = self._cfg
        # PERF: one cached level check per connection, nothing per request
        # (benchmarks/server "New connection per request").
        debug = server_log.isEnabledFor(logging.DEBUG)
        if not m.admit(self):
            # RFC 9110 §15.6.4: 503 says the refusal is temporary; the client may retry.
            if debug:
                server_log.debug("connection from %s refused: max_connections reached (503)", self.client)
            self._closed = self._stop = True
            transport.write(m.busy_response)
            transport.close()
            return
        if debug:
            server_log.debug("connection from %s", self.client)
        transport.set_write_buffer_limits(high=cfg.write_high_water)
        self._parser = RequestParser(**m.parser_options)
        self._kind = K_IDLE
        self._deadline = m.now + cfg.header_timeout
        on_connect = m.on_connect
        if on_connect is not None:
            try:
                accepted = on_connect(transport, self.session)
            except Exception:
                error_log.exception("on_connect hook failed; refusing the connection")
                accepted = False
            if not accepted:
                self._stop = True
                transport.close()

    def data_received(self, data: bytes) -> None:
        if self._stop:
            return  # discarding: nothing after a refused or final request is parsed
        if self._kind == K_IDLE:
            self._kind = K_HEAD
            self._deadline = self._manager.head_deadline
        try:
            events = self._parser.feed(data)
        except HttpProtocolError as exc:
            self._parse_failed(exc)
            return
        if events:
            self._on_events(events)
            if self._kind == K_IDLE and self._parser.buffered:
                # The read ended inside the next request's head: it is on the header-read
                # deadline (408), not the silent keep-alive one. One check per read, not per
                # request (the per-response fast path in _respond stays as it is).
                self._kind = K_HEAD
                self._deadline = self._manager.head_deadline

    def eof_received(self) -> bool | None:
        if self._kind == K_LINGER or self._stop and self._active is None and not self._queue:
            return None  # close
        self._stop = True
        self._keep = False
        body = self._body
        if body is not None:
            self._reading = self._body = None
            body.fail(ClientDisconnected("the client ended the request body early"))
        if self._active is None and not self._queue:
            return None
        # The client is done: an adapter tells its application (ASGI http.disconnect, as
        # uvicorn does on EOF), while the engine still writes what it is given.
        self._run_lost_callbacks()
        # Half-closed: answer what is in flight, then close (not possible under TLS).
        return not self.is_secure

    def connection_lost(self, exc: Exception | None) -> None:
        if server_log.isEnabledFor(logging.DEBUG):
            server_log.debug("connection from %s closed%s", self.client, f" ({exc})" if exc else "")
        self._closed = True
        self._stop = True
        self._manager.release(self)
        self._kind = K_NONE
        self._deadline = self._write_deadline = _INF
        lost = ClientDisconnected("the client closed the connection")
        reading, body = self._reading, self._body
        if reading is not None and body is not None:
            self._reading = self._body = None
            body.fail(lost)
            reading.close()
        active = self._active
        if active is not None:
            active_body: RequestBody | None = active.body_reader  # type: ignore[assignment]
            if active_body is not None:
                active_body.fail(lost)
            active.close()
        if self._queue:
            self._queue.clear()
        waiter = self._drain_waiter
        if waiter is not None:
            self._drain_waiter = None
            if not waiter.done():
                waiter.set_exception(lost)
        self._run_lost_callbacks()

    def _run_lost_callbacks(self) -> None:
        callbacks = self._lost_callbacks
        if callbacks:
            self._lost_callbacks = None
            for callback in callbacks:
                try:
                    callback()
                except Exception:  # pragma: no cover - an adapter's callback failed
                    error_log.exception("error in a connection-lost callback")

    def pause_writing(self) -> None:
        self._write_paused = True
        self._write_deadline = self._manager.now + self._cfg.write_timeout
        self._pause_reading(P_WRITE)

    def resume_writing(self) -> None:
        self._write_paused = False
        self._write_deadline = _INF
        waiter = self._drain_waiter
        if waiter is not None:
            self._drain_waiter = None
            if not waiter.done():
                waiter.set_result(None)
        self._resume_reading(P_WRITE)
        if self._queue and self._active is None and not self._in_queue:
            self._run_queue()

    # -- reading ---------------------------------------------------------------------------------

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
        if len(events) > 2:
            self._batch = batch = []
        try:
            for ev in events:
                t = type(ev)
                if t is RequestHead:
                    if self._stop:
                        break
                    self._on_head(ev)
                elif t is bytes:
                    body = self._body
                    if body is not None:
                        body.feed(ev)
                        self._rate_bytes += len(ev)
                        if self._kind == K_BODY and not self._pause_mask:
                            self._deadline = self._manager.body_deadline
                elif self._reading is not None or self._upgrade_req is not None or self._resume_at_eom:
                    self._on_eom(ev)
                if self._upgraded:
                    return
        finally:
            if batch is not None:
                self._batch = None
                if batch and not self._upgraded:
                    self._batch_size = 0
                    self.transport.write(batch[0] if len(batch) == 1 else b"".join(batch))

    def _on_head(self, head: RequestHead) -> None:
        trust = self._proxy_trust
        req = Request(head, self if trust is None else self._forwarded(trust, head), self._max_body)
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
                return
            if not head.expect_continue and head.version == "1.1" and head.headers.get_bytes("expect") is not None:
                # RFC 9110 §10.1.1: an expectation other than 100-continue may be refused with
                # 417. NOTE: only requests with content are checked; an expectation is about
                # the content, and the check stays off the bodyless fast path.
                self._fail(ExpectationFailed())
                return
            req.body_reader = self._body = RequestBody(self, head, self._max_body)
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
        if self._active is not None or self._queue or self._write_paused:
            queue = self._queue
            if queue is None:
                queue = self._queue = collections.deque()
            queue.append(req)
            if len(queue) >= _QUEUE_HIGH:
                self._pause_reading(P_QUEUE)
            return
        self._dispatch(req)

    def _forwarded(self, trust: ProxyTrust, head: RequestHead) -> Any:
        """The connection as *head*'s request sees it: with what a trusted proxy forwarded
        applied (client, scheme, host), or this connection itself."""
        forwarded = trust.resolve(self.client, head.headers)
        return self if forwarded is None else ForwardedConnection(self, forwarded)

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
        if self._parser.buffered:
            # The next request's head began in the same read as the end of the last one: that
            # head is now on the header-read deadline (408), not the silent keep-alive one.
            self._kind = K_HEAD
            self._deadline = self._manager.head_deadline
        else:
            self._kind = K_IDLE
            self._deadline = self._manager.idle_deadline

    def _resume_parser(self) -> None:
        """Continue HTTP after a declined upgrade: parse what arrived after that request."""
        if self._closed or self._upgraded or self._stop:
            return
        parser = self._parser
        if not parser.paused:
            return
        try:
            events = parser.resume()
        except HttpProtocolError as exc:
            self._parse_failed(exc)
            return
        self._resume_reading(P_UPGRADE)
        if events:
            self._on_events(events)

    # -- dispatching -----------------------------------------------------------------------------

    def _dispatch(self, req: Request) -> None:
        """Run the handler for *req*, the request at the head of the pipeline, and answer it.

        The handler runs in a copy of the connection's context, so context variables it sets
        never leak into later requests; a Task it needs inherits that copy.
        """
        ctx = req.context = _copy_context()
        try:
            result = ctx.run(self._handler, req)
            if type(result) is _CORO:
                mode = self._async_mode
                if mode == INLINE:
                    # PERF: drive the first step here; most handlers finish without waiting.
                    # NOTE: until it suspends there is no current task (asyncio.timeout() and,
                    # on 3.12+, asyncio.wait_for() need one): see Config.async_handlers.
                    try:
                        yielded = ctx.run(result.send, None)
                    except StopIteration as stop:
                        result = stop.value
                    else:
                        self._active = req
                        self._task = ctx.run(self._loop.create_task, self._finish_async(req, _resume(result, yielded)))
                        return
                else:
                    if mode == EAGER:
                        # eager_start is Python 3.12+, where async_mode() alone allows EAGER.
                        task = asyncio.Task(self._finish_async(req, result), loop=self._loop, context=ctx, eager_start=True)  # type: ignore[call-arg]
                    else:
                        task = ctx.run(self._loop.create_task, self._finish_async(req, result))
                    if not task.done():
                        self._active = req
                        self._task = task
                    return
        except HttpError as exc:
            result = render_http_error(exc, req)
        except Exception as exc:
            result = self._handler_failed(req, exc)
        self._respond(req, result)

    async def _finish_async(self, req: Request, awaitable: Any) -> None:
        try:
            result = await awaitable
        except HttpError as exc:
            result = render_http_error(exc, req)
        except ClientDisconnected:
            if self._closed:
                return
            result = _INCOMPLETE  # the client ended the body early (half-close)
        except asyncio.CancelledError:
            if self._closed:
                return
            raise
        except Exception as exc:
            result = self._handler_failed(req, exc)
        if self._task is asyncio.current_task():
            self._task = None
        if self._closed:
            return
        self._respond(req, result)

    def _handler_failed(self, req: Request, exc: BaseException) -> Response:
        # APPSEC: the client gets a bare 500; the traceback goes to the server log only.
        error_log.error("error in handler for %s %s", req.method, req.target.decode("latin-1"), exc_info=exc)
        report_failure(exc)
        return _INTERNAL_ERROR

    def _keep_alive(self, req: Request) -> bool:
        """May the connection carry another request after *req*'s response?"""
        head = req.head
        if not (head.keep_alive and self._keep):
            return False
        # The engine made this reader: a RequestBody (the Request knows it as a BodyReader).
        body: RequestBody | None = req.body_reader  # type: ignore[assignment]
        if body is None or body.complete:
            return True
        # The response goes out before the whole body arrived: keep the connection only if the
        # body reader can read and discard the rest (small, announced, not awaiting a 100).
        return body.drain(_DRAIN_LIMIT)

    def _respond(self, req: Request, result: Any) -> None:
        """Write the response for *req* (the request at the head of the pipeline)."""
        t = type(result)
        if t is str:
            status, fields, body = 200, TEXT_FIELDS, result.encode()
        elif t is Response:
            status, fields, body = result.status, result.fields, result.body
        elif t is dict or t is list:
            status, fields, body = 200, JSON_FIELDS, json_dumps(result)
        else:
            if isinstance(result, Deferred):
                self._defer(req, result)
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
        try:
            data = write_response(
                status,
                fields,
                body,
                keep_alive=keep,
                http_1_0=head.version == "1.0",
                head=head.method == "HEAD",
                server=self._server_header,
            )
        except Exception as exc:  # an invalid header or status from the application
            self._handler_failed(req, exc)
            status = 500
            data = error_bytes(500, keep, self._server_header)
        batch = self._batch
        if batch is not None:
            batch.append(data)
            self._batch_size += len(data)
            if self._batch_size > self._read_high:
                self._flush()
        else:
            self.transport.write(data)
        if self._log is not None:
            self._log(req, status, len(body) if head.method != "HEAD" and status >= 200 else 0, self)
        if req.form_data is not None:
            req.close()  # the form's spooled files go as soon as the response is out
        if keep and self._active is None and self._reading is None and not self._queue and self._upgrade_req is None and self._pending_error is None:
            # PERF: _finished's common case, inlined: idle until the next request.
            self._kind = K_IDLE
            self._deadline = self._manager.idle_deadline
        else:
            self._finished(req, keep)

    def _defer(self, req: Request, pending: Deferred) -> None:
        """*req*'s handler answers later, from a task of its own (the adapters' hook, see
        :class:`~fasthttp.application.Deferred`): the request is in flight until it does."""
        self._active = req
        self._task = pending
        pending.attach(self._deferred, req)

    def _deferred(self, req: Request, result: Any) -> None:
        self._task = None
        if self._closed:
            return
        self._respond(req, result)

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
                if self._pause_mask & P_QUEUE and len(queue) < _QUEUE_HIGH // 2:
                    self._resume_reading(P_QUEUE)
                self._dispatch(req)
        finally:
            self._in_queue = False
        if not queue and self._active is None and not self._closed:
            if self._pending_error is not None:
                self._send_error(self._pending_error)
            elif self._reading is None and not self._stop:
                self._to_idle()

    # -- writing -----------------------------------------------------------------------------------

    def _send(self, data: bytes) -> None:
        """Write *data* after everything written before it (the batch, if one is open)."""
        batch = self._batch
        if batch is not None:
            batch.append(data)
            self._batch_size += len(data)
        elif not self._closed:
            self.transport.write(data)

    def _flush(self) -> None:
        batch = self._batch
        if batch:
            data = b"".join(batch)
            batch.clear()
            self._batch_size = 0
            self.transport.write(data)

    async def _drain(self) -> None:
        """Wait until the transport's buffer is under its low-water mark."""
        if self._closed:
            raise ClientDisconnected("the client closed the connection")
        if not self._write_paused:
            return
        waiter = self._drain_waiter
        if waiter is None:
            waiter = self._drain_waiter = self._loop.create_future()
        await waiter

    def _start_sender(self, req: Request, resp: Any) -> None:
        self._flush()
        self._active = req
        coro = self._send_body(req, resp)
        if self._async_mode == EAGER:
            # NOTE: an eager handler Task runs in req.context itself (not a copy), and answers
            # from its own step, where that context is entered: entering it again would raise
            # (Python 3.12+). The sender's Task takes the context instead, entered at its steps.
            self._task = self._loop.create_task(coro, context=req.context)  # type: ignore[call-arg]
        else:
            self._task = req.context.run(self._loop.create_task, coro)

    async def _send_body(self, req: Request, resp: Any) -> None:
        """Run the sender for *resp* (a file or a stream) in the connection's Task, then the one
        tail every sender shares: errors, abort, task reset, access log, the next request."""
        try:
            if type(resp) is FileResponse or isinstance(resp, FileResponse):
                outcome = await self._send_file(req, resp)
            else:
                outcome = await self._send_stream(req, resp)
        except (ClientDisconnected, asyncio.CancelledError):
            if not self._closed:
                self.transport.abort()
            return
        except Exception as exc:
            # The head is out: the only honest signal left is an incomplete message.
            head = req.head
            error_log.error("error while sending the response to %s %s", head.method, head.target.decode("latin-1"), exc_info=exc)
            report_failure(exc)
            if not self._closed:
                self.transport.abort()
            return
        finally:
            self._task = None
        if type(outcome) is not tuple:
            # Nothing was written: an ordinary response goes out instead (404, 500, 304, ...).
            # NOTE: after the task reset, as it may dispatch the next request (and its Task).
            self._respond(req, outcome)
            return
        status, sent, keep = outcome
        if self._log is not None:
            self._log(req, status, sent, self)
        self._finished(req, keep)

    async def _send_stream(self, req: Request, resp: StreamingResponse) -> _Sent | Response:
        """Write a streamed response: its head, then each piece as the iterator yields it
        (chunk-framed unless the length is announced or the client speaks HTTP/1.0)."""
        head = req.head
        status = resp.status
        http_1_0 = head.version == "1.0"
        length = resp.content_length
        bodyless = head.method == "HEAD" or status < 200 or status == 204 or status == 304
        # RFC 9112 §7: chunked only to HTTP/1.1; an HTTP/1.0 body is delimited by closing.
        chunked = length is None and not http_1_0
        keep = self._keep_alive(req) and (length is not None or chunked or bodyless)
        content = resp.content
        sent = 0
        try:
            try:
                data = write_head(
                    status,
                    resp.fields,
                    content_length=length,
                    chunked=chunked,
                    keep_alive=keep,
                    http_1_0=http_1_0,
                    server=self._server_header,
                )
            except Exception as exc:
                self._handler_failed(req, exc)
                await _aclose(content)
                return _INTERNAL_ERROR
            self._send(data)
            if bodyless:
                await _aclose(content)
                return status, 0, keep
            # APPSEC: with an announced length, a piece that would pass it is never written
            # (the excess would be read as the next response: RFC 9112 §6.3).
            room = -1 if length is None else length
            if hasattr(content, "__aiter__"):
                async for chunk in content:
                    sent += self._write_piece(chunk, chunked, room - sent)
                    if self._write_paused:
                        await self._drain()
            else:
                for chunk in content:
                    sent += self._write_piece(chunk, chunked, room - sent)
                    if self._write_paused:
                        await self._drain()
            if length is not None and sent != length:
                raise RuntimeError(f"streamed {sent} bytes, announced Content-Length {length}")
            if chunked:
                trailers = resp.trailers
                if callable(trailers):
                    trailers = trailers()
                    if hasattr(trailers, "__await__"):
                        trailers = await trailers
                self.transport.write(encode_last_chunk(trailers or None))
        except BaseException:
            await _aclose(content)
            raise
        return status, sent, keep

    def _write_piece(self, chunk: bytes | str, chunked: bool, room: int) -> int:
        """Write one piece of a streamed body (chunk-framed when *chunked*); return its size.
        *room*: the bytes the announced Content-Length still allows (negative: no length)."""
        if isinstance(chunk, str):
            chunk = chunk.encode()
        if not chunk:
            return 0  # an empty piece would end a chunked body early (RFC 9112 §7.1)
        if 0 <= room < len(chunk):
            raise RuntimeError(f"the stream passed its announced Content-Length by {len(chunk) - room} bytes")
        if self._closed:
            raise ClientDisconnected("the client closed the connection")
        self.transport.write(encode_chunk(chunk) if chunked else chunk)
        return len(chunk)

    async def _send_file(self, req: Request, resp: FileResponse) -> _Sent | Response:
        """Open and ``fstat`` the file, let the response plan what to send from that, and send
        the spans (``sendfile`` on plain TCP, read in chunks under TLS)."""
        head = req.head
        try:
            f = open(resp.path, "rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return error_response(404)
        except PermissionError:
            return error_response(403)
        with f:
            try:
                # The response decides from the opened file's metadata: validators,
                # preconditions (304/412), Range (206, multipart/byteranges, 416); see
                # FileResponse.plan.
                plan = resp.plan(head.method, head.headers, os.fstat(f.fileno()))
            except Exception as exc:
                plan = self._handler_failed(req, exc)
            if isinstance(plan, Response):
                return plan
            status, fields, parts, length = plan
            keep = self._keep_alive(req)
            try:
                data = write_head(
                    status,
                    fields,
                    content_length=length,
                    keep_alive=keep,
                    http_1_0=head.version == "1.0",
                    server=self._server_header,
                )
            except Exception as exc:
                self._handler_failed(req, exc)
                return _INTERNAL_ERROR
            self._send(data)
            sent = 0
            if head.method != "HEAD" and length and status >= 200 and status not in (204, 304):
                zero_copy = not self.is_secure and self._manager.sendfile
                for part in parts:
                    if type(part) is bytes:
                        # multipart/byteranges framing between the file spans
                        if self._closed:
                            raise ClientDisconnected("the client closed the connection")
                        self.transport.write(part)
                        sent += len(part)
                        continue
                    offset, count = part
                    if not count:
                        continue
                    if zero_copy:
                        sent += await self._sendfile(f, count, offset)
                    else:
                        sent += await self._copy_file(f, count, resp.chunk_size, offset)
        return status, sent, keep

    async def _copy_file(self, f: Any, size: int, chunk_size: int, offset: int = 0) -> int:
        sent = 0
        write = self.transport.write
        f.seek(offset)
        while sent < size:
            chunk = f.read(min(chunk_size, size - sent))
            if not chunk:
                raise RuntimeError("the file shrank while it was being sent")
            if self._closed:
                raise ClientDisconnected("the client closed the connection")
            write(chunk)
            sent += len(chunk)
            if self._write_paused:
                await self._drain()
        return sent

    async def _sendfile(self, f: Any, size: int, start: int = 0) -> int:
        """Zero-copy: ``os.sendfile`` of *size* bytes from offset *start* of the file to the
        socket (plain TCP only); returns the number of bytes sent."""
        loop = self._loop
        transport = self.transport
        if not self._manager.uvloop:
            # The stdlib loop implements it: it waits for the buffer to empty and for writability.
            return await loop.sendfile(transport, f, start, size, fallback=True)
        # uvloop has no loop.sendfile. Wait until the transport's buffer is empty (so the bytes
        # keep their order), then sendfile on a duplicate of the socket's descriptor, waiting
        # for writability on that duplicate (the original belongs to the transport).
        if transport.get_write_buffer_size():
            transport.set_write_buffer_limits(high=0, low=0)
            try:
                await self._drain()
            finally:
                if not self._closed:
                    transport.set_write_buffer_limits(high=self._cfg.write_high_water)
        sock = transport.get_extra_info("socket")
        fd = os.dup(sock.fileno())
        offset = start
        end = start + size
        try:
            infd = f.fileno()
            while offset < end:
                if self._closed:
                    raise ClientDisconnected("the client closed the connection")
                try:
                    n = os.sendfile(fd, infd, offset, end - offset)
                except BlockingIOError:
                    n = -1
                except (BrokenPipeError, ConnectionResetError) as exc:
                    raise ClientDisconnected(str(exc)) from None
                if n == 0:
                    raise RuntimeError("the file shrank while it was being sent")
                if n > 0:
                    offset += n
                    continue
                waiter = loop.create_future()
                loop.add_writer(fd, _set_done, waiter)
                self._write_deadline = self._manager.now + self._cfg.write_timeout
                try:
                    await waiter
                finally:
                    loop.remove_writer(fd)
                    self._write_deadline = _INF
        finally:
            os.close(fd)
        return offset - start

    # -- take-over -------------------------------------------------------------------------------

    def _take_over(self, req: Request, up: Upgrade) -> None:
        head = req.head
        status = up.status
        if not (status == 101 or head.method == "CONNECT" and 200 <= status < 300):
            # Anything else declines the switch: an ordinary response without a body.
            self._respond(req, Response(b"", status, up.fields))
            return
        if self._stop:
            # The client ended its side (EOF) while the handler decided: there is no one to
            # switch protocols with. The Upgrade is dropped unused (its protocol never made).
            self._close_after(req)
            return
        body = req.body_reader
        if not head.upgrade or (body is not None and not body.complete) or not self._parser.paused:
            # Only a complete upgrade request can hand the rest of the stream over.
            self._keep = False
            self._respond(req, self._handler_failed(req, RuntimeError("take-over needs a complete upgrade request")))
            return
        try:
            # RFC 9110 §9.3.6: no Content-Length or Transfer-Encoding in a 2xx to CONNECT; the
            # writer adds none when content_length is None and chunked is False.
            data = write_head(status, up.fields, keep_alive=True, server=self._server_header)
            protocol = up.protocol_factory()
        except Exception as exc:
            self._keep = False
            self._respond(req, self._handler_failed(req, exc))
            return
        self._send(data)
        self._flush()
        # A successor the manager keeps (a websocket connection) logs its own line when it ends,
        # with the duration of the whole connection.
        managed = protocol if isinstance(protocol, ManagedConnection) else None
        if self._log is not None and managed is None:
            self._log(req, up.status, 0, self)
        rest = self._parser.take_unparsed()
        transport = self.transport
        self._upgraded = True
        self._closed = self._stop = True  # this object no longer owns the transport
        self._upgrade_req = None
        self._active = None
        self._kind = K_NONE
        self._deadline = self._write_deadline = _INF
        self._manager.hand_over(self, transport, managed)
        if self._pause_mask:
            self._pause_mask = 0
            transport.resume_reading()
        transport.set_protocol(protocol)
        protocol.connection_made(transport)
        if rest:
            protocol.data_received(rest)

    # -- errors, timeouts, closing -------------------------------------------------------------

    def _parse_failed(self, exc: HttpProtocolError) -> None:
        """The parser refused the input: handle the events it returned before the bad bytes,
        then answer the error."""
        events = getattr(exc, "events", None)
        if events:
            self._on_events(events)
        if self._stop:
            # Those events already ended the request side: a final response said close (and
            # may have half-closed the connection, _linger), or an engine error is on its way.
            # The bad bytes come after it and are never answered: a second response would
            # follow a final one, or be written after write_eof.
            return
        self._fail(exc)

    def _fail(self, exc: HttpProtocolError) -> None:
        """A protocol error: answer it after the responses already owed, then close."""
        # NOTE: the responses still owed keep their own persistence; only the error response
        # says close (nothing after it is parsed: _stop).
        self._stop = True
        self._pause_reading(P_STOP)
        body = self._body
        if body is not None:
            self._reading = self._body = None
            # The handler reading this body meets the parser's own error (its status: 400,
            # 413, 431), so its answer carries the status the client can act on.
            body.fail(exc)
        if self._active is None and not self._queue:
            self._send_error(exc)
        else:
            self._pending_error = exc

    def _send_error(self, exc: HttpProtocolError) -> None:
        server_log.info("refused a request from %s: %d %s", self.client, exc.status, exc.detail)
        self._pending_error = None
        self._flush()
        if not self._closed:
            self.transport.write(error_bytes(exc.status, False, self._server_header))
        if self._log is not None:
            self._log(None, exc.status, len(reason(exc.status)), self)
        self._linger()

    def _close_after(self, req: Request | None) -> None:
        """The last response is written: close now, or linger if the client may still send."""
        self._stop = True
        self._pending_error = None
        if self._queue:
            self._queue.clear()
        body = None if req is None else req.body_reader
        if body is not None and not body.complete or self._reading is not None:
            self._linger()
        else:
            self._flush()
            if not self._closed:
                self.transport.close()
            self._kind = K_NONE
            self._deadline = _INF

    def _linger(self) -> None:
        """Half-close and discard input for a moment, so our response is not lost to a reset."""
        self._flush()
        if self._queue:
            self._queue.clear()
        self._kind = K_LINGER
        self._deadline = self._manager.now + self._cfg.linger_timeout
        if self._closed:
            return
        transport = self.transport
        self._pause_mask = 0
        transport.resume_reading()
        if transport.can_write_eof():
            transport.write_eof()

    def _on_timeout(self, now: float) -> None:
        """Called by the manager's sweep when a deadline has passed."""
        if self._closed:
            return
        if self._write_deadline <= now:
            # The peer stopped reading: nothing more can be delivered.
            self.transport.abort()
            return
        kind = self._kind
        if kind == K_HEAD:
            self._fail(RequestTimeout())
        elif kind == K_BODY:
            self._body_timeout()
        elif kind == K_IDLE:
            self._kind = K_NONE
            self._deadline = _INF
            self.transport.close()
        elif kind == K_LINGER:
            self._deadline = _INF
            self.transport.close()

    def _body_timeout(self) -> None:
        """The body stalled or trickles below the minimum rate (RFC 9110 §15.5.9)."""
        body = self._body
        self._kind = K_NONE
        self._deadline = _INF
        if body is None:
            return
        self._reading = self._body = None
        self._keep = False
        if body.discarding:
            # Its response is out; we were only draining the rest of the body to reuse the
            # connection. Give up on that.
            self._stop = True
            self.transport.close()
            return
        self._stop = True
        self._pause_reading(P_STOP)
        # The handler reading this body gets HttpError(408); one that answers without reading
        # it closes the connection, as the body is incomplete. A request still in the queue
        # meets the same error when its handler reads.
        body.fail(HttpError(408))

    def start_shutdown(self) -> None:
        """Graceful shutdown: finish what is in flight, close when idle."""
        self._keep = False
        if self._closed:
            return
        # A connection that has not sent its first request yet was accepted just before the
        # listener closed: its client is sending now, so it is served once (then closed, _keep
        # is off); the header timeout or the shutdown deadline ends it if nothing comes.
        if self._requests == 0 and self._kind == K_IDLE:
            return
        if self._active is None and not self._queue and self._reading is None and self._kind in (K_IDLE, K_HEAD, K_NONE):
            self._stop = True
            self._flush()
            self.transport.close()


def _set_done(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


async def _aclose(content: Any) -> None:
    aclose = getattr(content, "aclose", None)
    if aclose is not None:
        try:
            await aclose()
        except Exception:  # pragma: no cover - the iterator's own cleanup failed
            error_log.exception("error closing a response iterator")
        return
    close = getattr(content, "close", None)
    if close is not None:
        try:
            close()
        except Exception:  # pragma: no cover
            error_log.exception("error closing a response iterator")
