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

The per-request path below is the connection core's (``fasthttp/_core_py/connection.py``,
compiled into ``fasthttp._core_c.connection`` by default, issue 17): :class:`HttpProtocol` is its
subclass and implements the rare paths (errors, upgrades, senders, Tasks, timeouts) here.

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
out with ``sendfile`` on plain TCP, read in chunks under TLS. PERF: for a zero-copy body the
head goes with ``MSG_MORE`` (it shares the first segment) and the socket's unsent backlog is
bounded (``Config.sendfile_lowat``, ``TCP_NOTSENT_LOWAT``), so the server, not the client's
ACK processing, does the transmit work (issue 17's 1 MiB file: wrk's cost per response
~600 -> ~280 us); the rest of a span the socket cannot take goes from writability callbacks.

Take-over: a handler returns :class:`~fasthttp.responses.Upgrade` and the transport is handed to
another protocol with the bytes already received after the request (websocket, CONNECT). A new
protocol that is a :class:`~fasthttp.connections.ManagedConnection` (``fasthttp.websocket``)
stays one of the manager's connections and writes its own access-log line when it ends.
"""

from __future__ import annotations

import asyncio
import contextvars
import errno
import functools
import inspect
import itertools
import logging
import os
import socket
import ssl
import stat
import types
from collections.abc import Callable, Coroutine, Generator
from typing import TYPE_CHECKING, Any

from ._compat import load
from .application import Deferred, report_failure
from .body import ClientDisconnected, RequestBody
from .chunked import encode_chunk, encode_last_chunk
from .config import EAGER, sendfile_lowat
from .connections import ConnectionManager, ManagedConnection, error_bytes
from .errors import (
    HttpError,
    HttpProtocolError,
    InvalidResponseHeader,
    RequestTimeout,
)
from .files import FileResponse
from .forwarded import ForwardedConnection, ProxyTrust
from .listeners import TLS_ON_PLAIN, TLS_UPGRADE_FIELDS, peer_credentials, tls_on_plain_port
from .parser import RequestHead
from .requests import PeerCredentials, Request
from .responses import (
    Response,
    StreamingResponse,
    Upgrade,
    error_response,
    reason,
    render_http_error,
    without_close,
)
from .sockio import bound_backlog, send_more
from .writer import write_head

# The connection core (fasthttp/_core_py/connection.py): the per-request path, compiled by
# default; FASTHTTP_NO_EXTENSIONS=1 selects its pure twin (fasthttp._compat).
if TYPE_CHECKING:
    from ._core_py import connection as _core
else:
    _core = load("connection")
ConnectionCore = _core.ConnectionCore
K_NONE, K_IDLE, K_HEAD, K_BODY, K_LINGER = _core.K_NONE, _core.K_IDLE, _core.K_HEAD, _core.K_BODY, _core.K_LINGER
P_BODY, P_WRITE, P_QUEUE, P_UPGRADE, P_STOP = _core.P_BODY, _core.P_WRITE, _core.P_QUEUE, _core.P_UPGRADE, _core.P_STOP
INTERNAL_ERROR = _core.INTERNAL_ERROR

__all__ = ("HttpProtocol", "TracingHttpProtocol", "protocol_class", "finish_background_tasks")

error_log = logging.getLogger("fasthttp.error")
#: Connection-level events: DEBUG for each connection made, refused and lost; INFO for each
#: request refused by the parser or a limit, with its reason (the access log has no reason).
server_log = logging.getLogger("fasthttp.server")

_INF = float("inf")

#: What a sender reports once the response is out: ``(status, body bytes sent, keep-alive)``.
_Sent = tuple[int, int, bool]

_INTERNAL_ERROR = INTERNAL_ERROR
_INCOMPLETE = error_response(400, "incomplete request body")


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


class HttpProtocol(ConnectionCore, asyncio.Protocol):
    """One HTTP/1.1 connection. See the module docstring for the strategy.

    It is what a :class:`~fasthttp.requests.Request` knows as its ``connection`` (the
    :class:`~fasthttp.requests.ConnectionInfo` properties), what its body reader knows as its
    connection (:class:`~fasthttp.body.BodyConnection`), and what the manager sweeps
    (:class:`~fasthttp.connections.ManagedConnection`).

    The per-request path is the connection core's (:class:`ConnectionCore`, compiled by
    default); the methods here are the rare paths it falls back to.
    """

    __slots__ = ()

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
            client = self.client
            session = self._session = {"client": client}
            if type(client) is str or type(client) is bytes:
                # AF_UNIX (degu): the peer process, for on_connect and every request.
                session["credentials"] = self.peer_credentials
        return session

    @property
    def peercert(self) -> dict[str, Any] | None:
        """The verified client certificate (``SSLSocket.getpeercert()``), or None."""
        if self.transport is None or not self.is_secure:
            return None
        return self.transport.get_extra_info("peercert") or None

    @property
    def peer_credentials(self) -> PeerCredentials | None:
        """The peer process of an AF_UNIX connection (``SO_PEERCRED``), or None."""
        if self.transport is None:
            return None
        return peer_credentials(self.transport)

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

    def _open_connection(self, transport: Any) -> None:  # an asyncio.Transport
        # connection_made's full path (the common case is the core's, compiled).
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
        # PERF: positional (a keyword costs uvloop's Cython method a third more, per connection).
        transport.set_write_buffer_limits(cfg.write_high_water)
        self._parser = m.new_parser()
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
                return
        if m.closing:
            self.start_shutdown()  # admitted while draining: served once, then closed (admit)


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

    def _lost_connection(self, exc: Exception | None) -> None:
        # connection_lost's rest, when something waits on the connection or DEBUG logs it (the
        # core has marked it closed and released it).
        if server_log.isEnabledFor(logging.DEBUG):
            server_log.debug("connection from %s closed%s", self.client, f" ({exc})" if exc else "")
        # PERF: the exception is made only when someone waits to be told (a body being read, a
        # drain): a connection closed between requests, the common case, makes none
        # (benchmarks/server "New connection per request").
        reading, body = self._reading, self._body
        if reading is not None and body is not None:
            self._reading = self._body = None
            body.fail(ClientDisconnected("the client closed the connection"))
            reading.close()
        active = self._active
        if active is not None:
            active_body: RequestBody | None = active.body_reader  # type: ignore[assignment]
            if active_body is not None:
                active_body.fail(ClientDisconnected("the client closed the connection"))
            active.close()
        if self._queue:
            self._queue.clear()
        waiter = self._drain_waiter
        if waiter is not None:
            self._drain_waiter = None
            if not waiter.done():
                waiter.set_exception(ClientDisconnected("the client closed the connection"))
        if self._lost_callbacks:
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









    def _forwarded(self, trust: ProxyTrust, head: RequestHead) -> Any:
        """The connection as *head*'s request sees it: with what a trusted proxy forwarded
        applied (client, scheme, host), or this connection itself."""
        forwarded = trust.resolve(self.client, head.headers)
        return self if forwarded is None else ForwardedConnection(self, forwarded)



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


    def _suspended(
        self, req: Request, ctx: contextvars.Context, coro: Any, yielded: Any, on_error: bool = True
    ) -> None:
        """An ``async def`` handler driven inline waits on *yielded*: a Task finishes it, and
        the requests behind it wait in the queue. *on_error* False: *coro* is the application's
        answer to a failure (the handler's ``on_error``), whose own failure gets the engine's
        answer."""
        self._active = req
        self._task = ctx.run(self._loop.create_task, self._finish_async(req, _resume(coro, yielded), on_error))

    def _start_async(self, req: Request, ctx: contextvars.Context, coro: Any) -> None:
        """Run an ``async def`` handler in a Task from its first step (``task``/``eager``)."""
        if self._async_mode == EAGER:
            # eager_start is Python 3.12+, where async_mode() alone allows EAGER.
            task = asyncio.Task(self._finish_async(req, coro), loop=self._loop, context=ctx, eager_start=True)  # type: ignore[call-arg]
        else:
            task = ctx.run(self._loop.create_task, self._finish_async(req, coro))
        if not task.done():
            self._active = req
            self._task = task

    async def _finish_async(self, req: Request, awaitable: Any, on_error: bool = True) -> None:
        """Await the handler's *awaitable* and answer; its failure gets the application's
        answer, the handler's ``on_error`` (fasthttp.application), when it has one and
        *on_error* is True, else (and if that answer fails too) the engine's."""
        try:
            try:
                result = await awaitable
            except Exception as exc:
                answer = getattr(self._handler, "on_error", None) if on_error else None
                if answer is None:
                    raise
                result = answer(req, exc)
                if type(result) is types.CoroutineType:
                    result = await result
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





    # -- writing -----------------------------------------------------------------------------------



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
        if req.background is not None:
            self._after_response(req)
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
                data, keep = _final_head(
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
            # PERF: a bare descriptor: no file object (nor its own fstat, or a BufferedReader's
            # isatty ioctl and lseek) per request; sendfile and pread take the descriptor.
            f = os.open(resp.path, os.O_RDONLY)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return error_response(404)
        except PermissionError:
            return error_response(403)
        try:
            st = os.fstat(f)
            if stat.S_ISDIR(st.st_mode):
                return error_response(404)
            try:
                # The response decides from the opened file's metadata: validators,
                # preconditions (304/412), Range (206, multipart/byteranges, 416); see
                # FileResponse.plan.
                plan = resp.plan(head.method, head.headers, st)
            except Exception as exc:
                plan = self._handler_failed(req, exc)
            if isinstance(plan, Response):
                return plan
            status, fields, parts, length = plan
            keep = self._keep_alive(req)
            try:
                data, keep = _final_head(
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
            sent = 0
            if head.method != "HEAD" and length and status >= 200 and status not in (204, 304):
                zero_copy = not self.is_secure and self._manager.sendfile
                if zero_copy:
                    self._send_file_head(data, type(parts[0]) is tuple, length)
                else:
                    self._send(data)
                    # The body goes to the transport directly: the head must not wait in an
                    # open batch (an eager sender runs inside one).
                    self._flush()
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
            else:
                self._send(data)
        finally:
            os.close(f)
        return status, sent, keep

    def _send_file_head(self, data: bytes, span_first: bool, length: int) -> None:
        """Write the head of a zero-copy file response of *length* bytes, and ready the socket
        for the spans that follow.

        A body larger than ``Config.sendfile_lowat`` (``"auto"``: 64 KiB on uvloop, no bound
        on the stdlib loop) gets the socket's unsent backlog bounded (``TCP_NOTSENT_LOWAT``:
        ``sendfile`` stops once that much waits, and the socket reports writable again below
        half of it; the reasons are the config field's). When a file span comes first and
        nothing else waits to be written, the head goes straight to the socket with
        ``MSG_MORE``: the kernel holds it and the first ``sendfile`` bytes share its segment
        (one packet, and one wake-up of the client, fewer). Otherwise it goes the usual way,
        out of any open batch (the body is written to the socket directly, so the head must not
        wait in one).
        """
        transport = self.transport
        lowat = self._cfg.sendfile_lowat
        if type(lowat) is str:
            lowat = sendfile_lowat(lowat, self._manager.uvloop)
        bound = lowat is not None and length > lowat
        direct = span_first and _HEAD_MORE and self._batch is None and not transport.get_write_buffer_size()
        if not self._closed and (bound or direct):
            # PERF: the sockio kernels act on the descriptor itself (no socket object, whose
            # construction validates the descriptor with one more system call, getsockname).
            fd = transport.get_extra_info("socket").fileno()
            if bound:
                bound_backlog(fd, lowat)  # False (AF_UNIX, no such option): the default backlog
            if direct:
                try:
                    n = send_more(fd, data)
                except OSError:  # the peer is gone: the transport's write meets the same error
                    n = 0  # and reports it
                if n < len(data):  # full (rare: nothing is queued): the transport queues the rest
                    transport.write(data[n:])
                return
        self._send(data)
        self._flush()

    async def _copy_file(self, f: int, size: int, chunk_size: int, offset: int = 0) -> int:
        """Copy *size* bytes from *offset* of the file (descriptor *f*) through the transport
        in chunks of *chunk_size*, waiting on flow control (TLS, or ``Config.sendfile`` off)."""
        sent = 0
        write = self.transport.write
        while sent < size:
            chunk = os.pread(f, min(chunk_size, size - sent), offset + sent)
            if not chunk:
                raise RuntimeError("the file shrank while it was being sent")
            if self._closed:
                raise ClientDisconnected("the client closed the connection")
            write(chunk)
            sent += len(chunk)
            if self._write_paused:
                await self._drain()
        return sent

    async def _sendfile(self, f: int, size: int, start: int = 0) -> int:
        """Zero-copy: ``os.sendfile`` of *size* bytes from offset *start* of the file
        (descriptor *f*) to the socket (plain TCP, either loop); returns the bytes sent.

        Strategy: wait until the transport's buffer is empty (so the bytes keep their order),
        then ``sendfile`` on the transport's own descriptor until the kernel takes no more
        (its unsent backlog bounded by ``_send_file_head``); the rest goes from a writability
        callback on a duplicate of the descriptor (:class:`_FileSender`), one ``sendfile`` per
        wake-up, and this coroutine wakes once, when the span is out.
        """
        transport = self.transport
        if transport.get_write_buffer_size():
            transport.set_write_buffer_limits(high=0, low=0)
            try:
                await self._drain()
            finally:
                if not self._closed:
                    transport.set_write_buffer_limits(high=self._cfg.write_high_water)
        # PERF: sendfile writes to the transport's own descriptor first (a file that fits the
        # socket costs no dup/close pair). The own descriptor is used only before the first
        # await, while the transport is known open: once closed, its number may already name
        # another connection's socket. After that, the duplicate (which keeps this socket
        # alive) is the one written to. NOTE: the stdlib loop's own loop.sendfile is not used:
        # it pauses and resumes reading, registers the socket for writing even when the whole
        # span went in one call, and waits one more loop iteration after the last byte.
        if self._closed or transport.is_closing():
            raise ClientDisconnected("the client closed the connection")
        fd = transport.get_extra_info("socket").fileno()
        infd = f
        offset = start
        end = start + size
        while offset < end:
            try:
                n = os.sendfile(fd, infd, offset, end - offset)
            except BlockingIOError:
                break
            except (BrokenPipeError, ConnectionResetError) as exc:
                raise ClientDisconnected(str(exc)) from None
            except OSError as exc:
                if offset == start and exc.errno in _NO_SENDFILE:
                    # Not a file sendfile can read (a device, a FIFO): copy it instead.
                    return await self._copy_file(f, size, 256 * 1024, start)
                raise
            if n == 0:
                raise RuntimeError("the file shrank while it was being sent")
            offset += n
            if offset < end:
                break  # PERF: a short count means the socket is full: another call would EAGAIN
        if offset < end:
            offset = await _FileSender(self, os.dup(fd), infd, offset, end).wait()
        return offset - start

    # -- take-over -------------------------------------------------------------------------------

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

    def _after_response(self, req: Request) -> None:
        """Start the background tasks of *req*, whose response has been written."""
        tasks, req.background = req.background, None
        if tasks:
            task = self._loop.create_task(_run_background(tasks, req))
            _BACKGROUND.add(task)  # a strong reference until it ends
            task.add_done_callback(_BACKGROUND.discard)

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

    # -- RFC 2817: upgrading this connection to TLS ----------------------------------------------

    def _upgrade_to_tls(self, req: Request, context: ssl.SSLContext) -> None:
        """RFC 2817 §3.3: answer 101, run the TLS handshake on this connection, then answer *req*
        over TLS and go on with HTTP there. The pipeline holds meanwhile (*req* is active)."""
        self._active = req
        self._kind = K_NONE
        self._deadline = _INF
        self._send(write_head(101, TLS_UPGRADE_FIELDS, server=self._server_header))
        self._flush()
        self._task = self._loop.create_task(self._finish_tls_upgrade(req, context))

    async def _finish_tls_upgrade(self, req: Request, context: ssl.SSLContext) -> None:
        await asyncio.sleep(0)  # the end of the request is handled first: reading pauses there
        transport = self.transport
        try:
            if self._closed or self._stop:
                raise ConnectionError("the client left before the TLS handshake")
            if self._parser.buffered:
                # RFC 2817 §3.3: the client waits for the 101 before TLS; bytes already here
                # would belong to a handshake this engine can no longer hand to TLS.
                raise ConnectionError("bytes after an upgrade request, before the 101")
            tls = await self._loop.start_tls(
                transport, self, context, server_side=True, ssl_handshake_timeout=self._cfg.header_timeout
            )
            if tls is None:
                raise ConnectionError("the connection closed during the TLS handshake")
        except Exception as exc:
            self._task = None
            server_log.info("TLS upgrade with %s failed: %s", self.client, exc)
            if not transport.is_closing():
                transport.abort()
            if not self._closed:
                self.connection_lost(None)
            return
        self._task = None
        if self._closed:
            return
        self.transport = tls
        self._secure = None
        self._fd = -1  # TLS from now on: no direct sends (ConnectionCore._write)
        tls.set_write_buffer_limits(high=self._cfg.write_high_water)
        self._active = None
        self._upgrade_req = None
        events = self._parser.resume()
        self._resume_reading(P_UPGRADE)
        self._dispatch(req)
        if events and not self._closed:
            self._on_events(events)

    def _wrong_protocol(self) -> None:
        """A TLS handshake on this plain port: a 400 that says to use http://, then close."""
        server_log.info("a TLS handshake from %s on a plain HTTP port: answered 400", self.client)
        self._stop = True
        self._pause_reading(P_STOP)
        self.transport.write(tls_on_plain_port(self._server_header))
        if self._log is not None:
            self._log(None, 400, len(TLS_ON_PLAIN), self)
        self._linger()

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

    def _linger(self) -> None:
        """Half-close and discard input for a moment, so our response is not lost to a reset."""
        self._flush()
        self._batch = None  # the last response's (ConnectionCore._respond), or an open one's, now empty
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


#: Background tasks still running (asyncio keeps only weak references to tasks).
_BACKGROUND: set[asyncio.Task[None]] = set()


async def finish_background_tasks(timeout: float) -> None:
    """Give the background tasks still running on this loop (``Request.add_background_task``)
    up to *timeout* seconds, then cancel the rest: the last step of a graceful shutdown."""
    loop = asyncio.get_running_loop()
    tasks = [t for t in _BACKGROUND if t.get_loop() is loop and not t.done()]
    if not tasks:
        return
    _, pending = await asyncio.wait(tasks, timeout=max(timeout, 0))
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending)


async def _run_background(tasks: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]], req: Request) -> None:
    """Run the background tasks of *req* one after the other (``Request.add_background_task``)."""
    loop = asyncio.get_running_loop()
    for func, args, kwargs in tasks:
        try:
            if inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(getattr(func, "__call__", None)):
                await func(*args, **kwargs)
            else:
                await loop.run_in_executor(None, functools.partial(func, *args, **kwargs))
        except Exception as exc:
            error_log.error("background task %r of %s %s failed", func, req.method, req.target.decode("latin-1"), exc_info=exc)
            report_failure(exc)


def _final_head(status: int, fields: Any, *, keep_alive: bool, **framing: Any) -> tuple[bytes, bool]:
    """``write_head`` for a request's final response (a stream's or a file's), and whether the
    connection stays open after it.

    - A 1xx status is a ``ValueError`` there, as ``write_response`` makes it for a whole
      response. RFC 9110 §15.2: a 1xx is interim; written as the final response, the client
      would take the connection's next response for this request's.
    - The application's own ``Connection: close`` is honoured as the core honours it for a whole
      response (RFC 9112 §9.6, :func:`~fasthttp.responses.without_close`): the head is written
      with the engine's ``Connection: close`` and the connection ends after it."""
    if isinstance(status, int) and status < 200:
        raise ValueError(f"a final response has a 2xx-9xx status, not the interim {status}")
    try:
        return write_head(status, fields, keep_alive=keep_alive, **framing), keep_alive
    except InvalidResponseHeader:
        rest = without_close(fields)
        if rest is None:
            raise
    return write_head(status, rest, keep_alive=False, **framing), False


#: sendfile's errors for a descriptor it cannot read from (the span is copied instead).
_NO_SENDFILE = frozenset((errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP))
#: Whether the head of a zero-copy file response can go ahead with ``MSG_MORE`` (Linux): without
#: it the head would take a segment of its own, so it goes the usual way.
_HEAD_MORE = hasattr(socket, "MSG_MORE")


class _FileSender:
    """The rest of a ``sendfile`` span the socket could not take at once: one ``sendfile``
    per writability callback on *wait_fd* (a duplicate of the socket's descriptor, which it
    closes), no Task wake-up until the span is out or fails. Each step of progress moves the
    connection's write deadline (``Config.write_timeout``) on; the connection's loss (the
    transport closed, so its descriptor may be reused) fails the wait."""

    __slots__ = ("conn", "wait_fd", "infd", "offset", "end", "done")

    def __init__(self, conn: HttpProtocol, wait_fd: int, infd: int, offset: int, end: int) -> None:
        self.conn = conn
        self.wait_fd = wait_fd
        self.infd = infd
        self.offset = offset
        self.end = end
        self.done: asyncio.Future[None] = conn._loop.create_future()

    async def wait(self) -> int:
        """Send the rest; return the offset reached (the span's end)."""
        conn = self.conn
        loop = conn._loop
        wait_fd = self.wait_fd
        try:
            loop.add_writer(wait_fd, self.on_writable)
        except BaseException:
            os.close(wait_fd)
            raise
        conn.add_lost_callback(self.on_lost)
        conn._write_deadline = conn._manager.now + conn._cfg.write_timeout
        try:
            await self.done
        finally:
            conn.remove_lost_callback(self.on_lost)
            conn._write_deadline = _INF
            loop.remove_writer(wait_fd)
            os.close(wait_fd)
        return self.offset

    def on_writable(self) -> None:
        done = self.done
        if done.done():
            return  # the waiter has not resumed yet
        conn = self.conn
        if conn._closed:
            done.set_exception(ClientDisconnected("the client closed the connection"))
            return
        try:
            n = os.sendfile(self.wait_fd, self.infd, self.offset, self.end - self.offset)
        except BlockingIOError:
            return
        except (BrokenPipeError, ConnectionResetError) as exc:
            done.set_exception(ClientDisconnected(str(exc)))
            return
        except OSError as exc:
            done.set_exception(exc)
            return
        if n == 0:
            done.set_exception(RuntimeError("the file shrank while it was being sent"))
            return
        self.offset += n
        if self.offset >= self.end:
            done.set_result(None)
        else:
            conn._write_deadline = conn._manager.now + conn._cfg.write_timeout

    def on_lost(self) -> None:
        # Also called when the client only ends its side (half-close): sending goes on then.
        if self.conn._closed and not self.done.done():
            self.done.set_exception(ClientDisconnected("the client closed the connection"))


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


# -- --debug: a connection that traces its events ------------------------------------------------------

trace_log = logging.getLogger("fasthttp.trace")
_KINDS = {K_NONE: "none", K_IDLE: "keep-alive idle", K_HEAD: "header read", K_BODY: "body read", K_LINGER: "linger"}
_ids = itertools.count(1)


class TracingHttpProtocol(HttpProtocol):
    """:class:`HttpProtocol` that logs each event of its connection to ``fasthttp.trace`` at DEBUG
    (``Config.debug``, ``fasthttp --debug``): opened, bytes in (their start), each parsed head,
    each response, protocol errors, deadlines that fire, closed. PERF: a separate class, so the
    plain protocol pays nothing for it."""

    def __init__(self, manager: ConnectionManager) -> None:
        super().__init__(manager)
        self.trace_id = next(_ids)

    def _trace(self, message: str, *args: Any) -> None:
        trace_log.debug("#%d " + message, self.trace_id, *args)

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self._trace("open from %s%s", self.client, " (TLS)" if self.is_secure else "")
        super().connection_made(transport)

    def data_received(self, data: bytes) -> None:
        self._trace("in %d bytes: %r", len(data), data[:160])
        super().data_received(data)

    def _on_head(self, head: RequestHead) -> None:
        framing = "chunked" if head.chunked else f"length {head.content_length}" if head.content_length else "no content"
        self._trace("head: %s %s HTTP/%s, %d fields, %s", head.method, head.target.decode("latin-1"), head.version, len(head.headers), framing)
        super()._on_head(head)

    def _respond(self, req: Request, result: Any) -> None:
        status = getattr(result, "status", 200 if result is not None else 204)
        self._trace("response to %s %s: %s (%s)", req.method, req.target.decode("latin-1"), status, type(result).__name__)
        super()._respond(req, result)

    def _send_error(self, exc: HttpProtocolError) -> None:
        self._trace("protocol error: %d %s", exc.status, exc.detail)
        super()._send_error(exc)

    def _on_timeout(self, now: float) -> None:
        self._trace("deadline passed: %s", "write" if self._write_deadline <= now else _KINDS.get(self._kind, self._kind))
        super()._on_timeout(now)

    def connection_lost(self, exc: Exception | None) -> None:
        self._trace("closed%s", f" ({exc})" if exc else "")
        super().connection_lost(exc)


def protocol_class(core: type[Any]) -> type[HttpProtocol]:
    """:class:`HttpProtocol` on another twin of the connection core (*core*: the
    ``ConnectionCore`` of ``fasthttp._core_py.connection`` or ``fasthttp._core_c.connection``),
    for the tests and benchmarks that run both twins in one process."""
    if core is ConnectionCore:
        return HttpProtocol
    namespace = {k: v for k, v in vars(HttpProtocol).items() if k not in ("__dict__", "__weakref__")}
    cls: type[HttpProtocol] = type(HttpProtocol.__name__, (core, asyncio.Protocol), namespace)
    return cls
