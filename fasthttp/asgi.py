"""The ASGI adapter: an ASGI 3 application (spec 2.4: the ``http``, ``websocket`` and ``lifespan``
scopes) served by the engine as an :class:`~fasthttp.application.Application`.

Strategy
--------
The engine calls one handler per request (``fasthttp.application``); here that handler builds the
ASGI ``http`` scope from the :class:`~fasthttp.requests.Request` and starts the application, in
one Task of its own (anyio and sniffio, under Starlette and FastAPI, need a current task), with a
``receive``/``send`` pair bound to one :class:`_HttpCycle`. PERF: that Task is the only one of
the request: the handler is a plain function answering with the cycle, a
:class:`~fasthttp.application.Deferred`, and the application's ``send()`` delivers the response
to the engine, which writes it from there (no engine Task, no future, no second loop iteration);
``send()`` itself is a plain function returning a done future when it need not wait. The
application runs up to its first suspension at once, inside the handler, and the handler answers
with the response itself when it is decided by then: on Python 3.12+ an eager Task; on 3.11 the
adapter's own first step (:func:`_start_task`), with the application's Task current but
initialized (registered, scheduled) only if the application suspends, so most requests make no
Task at all. The response is decided by what the application sends:

- the whole response (the common case: ``start`` then one ``body`` without ``more_body``): a
  plain :class:`~fasthttp.responses.Response`, written by the engine's fast path in one write;
- a :class:`~fasthttp.responses.StreamingResponse` once a body message says ``more_body``, once
  the application suspends after ``http.response.start`` (so the head of a long poll or an event
  stream goes out at once; checked once per loop iteration), or when trailers were announced; a
  :class:`~fasthttp.files.FileResponse` for ``http.response.pathsend``, and a span of the file for
  an ``http.response.zerocopysend`` that is the whole body (the engine's ``sendfile`` path on
  plain TCP; a zerocopysend piece of a longer body is read and streamed).

Backpressure both ways: ``receive()`` reads the engine's body reader one piece at a time (the
connection stops reading from the socket while pieces are not consumed); ``send()`` of a streamed
piece returns only when the engine asks for the next piece, which it does after writing the
previous one and waiting for the transport to drain.

Framing belongs to the engine: ``Content-Length``, ``Transfer-Encoding``, ``Connection`` and
``Date`` from the application are dropped and written by the engine (a streamed body with a
``Content-Length`` keeps that length, and a body of another length aborts the connection; a HEAD
response keeps the length the application announced).

Errors (a log line on ``fasthttp.error`` either way): an exception before anything was sent, or an
application that returns without a complete response, is answered 500; one after the head was
sent aborts the connection (an incomplete message is the only honest signal left). A request body
the engine refuses while the application reads it (413 for a chunked body over the limit, 408)
turns into ``http.disconnect`` for the application and into the refusal's status for the client.
``send()`` after the client went away raises :class:`~fasthttp.body.ClientDisconnected` (an
``OSError``, spec 2.4).

The ``websocket`` scope: a request asking for ``Upgrade: websocket`` goes through the engine's
websocket support, the path a native ``@app.websocket`` route takes
(:func:`fasthttp.websocket.run_websocket`: its handshake validation, limits, flow control,
timers and graceful shutdown), with the application as the session; :class:`_WebSocketCycle`
maps each ASGI event to a :class:`~fasthttp.websocket.WebSocket` method. ``websocket.connect``
is the first ``receive()``; ``websocket.accept`` is ``ws.accept(subprotocol, headers)``;
``websocket.receive`` and ``websocket.disconnect`` are ``ws.receive()`` and the
:class:`~fasthttp.websocket.WebSocketDisconnect` it raises; ``websocket.send`` is ``ws.send()``
(a closed connection raises :class:`~fasthttp.body.ClientDisconnected`, an ``OSError``);
``websocket.close`` is ``ws.close(code, reason)`` after accept and a ``403`` before it, as is an
application that returns without accepting. A denial response (the ``websocket.http.response``
extension) is an ``http`` response cycle whose answer goes to ``ws.deny()``. An exception before
the decision is a ``500``, one after accept a close ``1011``; both are logged.
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import logging
import os
import stat
import sys
import types
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import unquote

from .application import Deferred, Handler, OnConnect
from .body import ClientDisconnected
from .errors import HttpError
from .files import FilePlan, FileResponse
from .forwarded import ForwardedConnection
from .requests import Request
from .responses import Response, StreamingResponse, error_response, render_http_error
from .websocket import S_CLOSED, S_CONNECTING, WebSocket, WebSocketDisconnect, run_websocket

__all__ = ("AsgiApplication", "ASGI_INFO", "is_asgi_application")

error_log = logging.getLogger("fasthttp.error")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
AsgiApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: The ``asgi`` key of every scope: ASGI 3, spec version 2.4 (``http.disconnect`` on a closed
#: connection, ``OSError`` from ``send()`` after it).
ASGI_INFO = {"version": "3.0", "spec_version": "2.4"}

_DISCONNECT = {"type": "http.disconnect"}
# The extensions of every http scope (each scope gets a copy).
_EXTENSIONS: dict[str, dict[str, Any]] = {"http.response.trailers": {}, "http.response.pathsend": {}, "http.response.zerocopysend": {}}
# Framing and per-hop fields the engine writes itself (RFC 9112 §6, RFC 9110 §7.6.1, §6.6.1).
_ENGINE_FIELDS = frozenset((b"content-length", b"transfer-encoding", b"connection", b"keep-alive", b"date"))
_INTERNAL_ERROR = error_response(500)
_FORBIDDEN = error_response(403)


_get_running_loop = asyncio.get_running_loop
_new_response = object.__new__
# The connection's scope template (AsgiApplication.scope), in its session dict.
_SCOPE_KEY = "fasthttp.asgi.scope"


def _peer(conn: Any) -> tuple[Any, Any, str]:
    """The ASGI ``server``, ``client`` and ``scheme`` of a connection."""
    return _server_address(conn), _client_address(conn.client), "https" if conn.is_secure else "http"


def _client_address(client: Any) -> tuple[Any, ...] | None:
    """The ASGI ``client``: ``(host, port)``, None if not an IP address."""
    return client[:2] if type(client) is tuple else None


def _server_address(conn: Any) -> tuple[str, int | None] | None:
    """The ASGI ``server`` of a connection: ``(host, port)``, ``(path, None)`` on a UNIX
    socket, None if unknown."""
    transport = getattr(conn, "transport", None)
    if transport is None:
        return None
    sock = transport.get_extra_info("sockname")
    if type(sock) is tuple:
        return sock[:2]
    if sock:
        return (sock if isinstance(sock, str) else sock.decode("latin-1", "replace"), None)
    return None


def is_asgi_application(app: Any) -> bool:
    """True if *app* looks like an ASGI 3 application: an ``async def app(scope, receive, send)``
    function, or an object whose ``__call__`` is one (Starlette, FastAPI)."""
    import inspect

    if inspect.isclass(app):
        return False
    call = app if inspect.isfunction(app) or inspect.ismethod(app) else getattr(app, "__call__", None)
    if call is None or not inspect.iscoroutinefunction(call):
        return False
    try:
        params = inspect.signature(call).parameters
    except (TypeError, ValueError):  # pragma: no cover - a builtin
        return False
    positional = [p for p in params.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) == 3 or any(p.kind == p.VAR_POSITIONAL for p in params.values())


def _app_fields(headers: Any) -> tuple[list[tuple[bytes, bytes]], int | None, bool]:
    """The application's response headers without the engine's framing fields, the
    ``Content-Length`` it announced (None if none), and whether its ``Connection`` field asks
    for ``close``."""
    key: tuple[Any, ...] | None
    try:
        key = tuple(headers)
        known = _FIELD_SETS.get(key)
    except TypeError:  # pairs that are not hashable (lists, bytearrays): classified each time
        key = known = None
    if known is not None:
        return list(known[0]), known[1], known[2]
    fields, length, close = _classify_fields(headers)
    if key is not None and len(key) <= _MAX_SET_FIELDS:
        size = 0
        for name, value in key:
            if type(name) is not bytes or type(value) is not bytes:
                return fields, length, close
            size += len(name) + len(value)
        if size <= _MAX_SET_BYTES:
            if len(_FIELD_SETS) >= _MAX_SETS:
                _FIELD_SETS.clear()  # the sets in use come back at once
            _FIELD_SETS[key] = (tuple(fields), length, close)
    return fields, length, close


# PERF: the response field lists applications send, by content (a tuple of their pairs): most
# send the same few over and over (a constant list, or one built per response with the same
# names and values), so each is classified once (~1 us less per response). Only all-bytes
# pairs; bounded by count (the cache starts over when full), fields and bytes per list.
_FIELD_SETS: dict[tuple[Any, ...], tuple[tuple[tuple[bytes, bytes], ...], int | None, bool]] = {}
_MAX_SETS = 256
_MAX_SET_FIELDS = 16
_MAX_SET_BYTES = 1024


def _classify_fields(headers: Any) -> tuple[list[tuple[bytes, bytes]], int | None, bool]:
    """_app_fields() without the cache: each field looked at."""
    fields = []
    length = None
    close = False
    kinds = _FIELD_KINDS
    for name, value in headers:
        kind = kinds.get(name) if type(name) is bytes else None
        if kind is None:
            kind = _field_kind(name)
        if kind is _KEEP:
            fields.append((name, value))
            continue
        if kind is _LENGTH:
            text = bytes(value).strip()
            if not text.isdigit():
                raise ValueError(f"invalid Content-Length from the application: {value!r}")
            if length is not None and int(text) != length:
                # RFC 9110 §8.6, RFC 9112 §6.3: two different lengths frame no message; which
                # one the application meant is unknown (the last one silently won before).
                raise ValueError(f"conflicting Content-Length values from the application: {length} and {int(text)}")
            length = int(text)
        elif kind is _CONNECTION:
            # RFC 9112 §9.6: an application that answers "Connection: close" means the
            # connection to end after this response; the engine writes the field itself.
            close = close or any(o.strip(b" \t").lower() == b"close" for o in bytes(value).split(b","))
    return fields, length, close


# PERF: what each response field name an application sent is (_KEEP, _LENGTH or _DROP, an
# engine field), looked up by the name as sent: applications send the same name objects over
# and over (their hash is cached), so no lower-casing per field. Bounded: past _MAX_KINDS names,
# new ones are classified each time.
_KEEP, _LENGTH, _CONNECTION, _DROP = "keep", "length", "connection", "drop"
_FIELD_KINDS: dict[bytes, str] = {}
_MAX_KINDS = 1024


def _field_kind(name: Any) -> str:
    raw = bytes(name)
    key = raw.lower()
    if key not in _ENGINE_FIELDS:
        kind = _KEEP
    else:
        kind = _LENGTH if key == b"content-length" else _CONNECTION if key == b"connection" else _DROP
    if type(name) is bytes and len(_FIELD_KINDS) < _MAX_KINDS:
        _FIELD_KINDS[name] = kind
    return kind


_EAGER = sys.version_info >= (3, 12)
if _EAGER:

    def _start_task(loop: asyncio.AbstractEventLoop, coro: Any, cycle: _HttpCycle) -> asyncio.Task[None] | None:
        # PERF: an eager Task runs the application at once, up to its first suspension; most
        # answer without one, and the engine gets the response at the end of this iteration.
        return asyncio.Task(cycle.run(coro), loop=loop, eager_start=True)  # type: ignore[call-arg]

elif sys.version_info >= (3, 11) and asyncio.Task.__module__ == "_asyncio":
    from asyncio.tasks import _enter_task, _leave_task

    class _AppTask(asyncio.Task):  # type: ignore[type-arg]
        """The application's Task, made before it runs (see :func:`_start_task`): until its
        first suspension a bare C Task object, current for the application (``current_task()``,
        anyio and sniffio see it) but not initialized; initialized, with the same identity, only
        if the application suspends."""

        __slots__ = ("app_coro",)

        def get_coro(self) -> Any:
            # The C Task's own would read its coroutine, unset before the initialization.
            return self.app_coro

        # Before the initialization the C Future's own raise RuntimeError ("not initialized"):
        # what an application may reasonably ask of its current task answers as a Task would.
        def get_loop(self) -> asyncio.AbstractEventLoop:
            try:
                return super().get_loop()
            except RuntimeError:
                return asyncio.get_running_loop()

        def __repr__(self) -> str:
            try:
                return super().__repr__()
            except RuntimeError:
                return f"<Task running (first step) coro={self.app_coro!r}>"

    _new_task = _AppTask.__new__
    _init_task = asyncio.Task.__init__
    _copy_context = contextvars.copy_context

    @types.coroutine
    def _resume(coro: Any, yielded: Any, cycle: _HttpCycle) -> Any:
        """Carry on with the application's *coro*, which yielded *yielded* to its Task before
        there was one: what ``await coro`` does from there (the Task gets what *coro* yields,
        *coro* what the Task sends or throws), then settle *cycle* as :meth:`_HttpCycle.run`
        does. Primed before the Task steps it, so that a cancellation the Task throws in at
        once reaches *coro* (an unstarted generator would end without it)."""
        try:
            try:
                yield
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:
                yielded = coro.throw(exc)
            while True:
                try:
                    sent = yield yielded
                except GeneratorExit:
                    coro.close()
                    raise
                except BaseException as exc:
                    yielded = coro.throw(exc)
                else:
                    yielded = coro.send(sent)
        except StopIteration:
            cycle.returned()
        except GeneratorExit:
            raise
        except BaseException as exc:
            cycle.raised(exc)
            if not isinstance(exc, Exception):
                raise  # cancellation, KeyboardInterrupt, SystemExit

    def _start_task(loop: asyncio.AbstractEventLoop, coro: Any, cycle: _HttpCycle) -> asyncio.Task[None] | None:
        """Run the application's *coro* up to its first suspension at once, as Python 3.12's
        eager Task does; None if it finished by then (*cycle* is settled as
        :meth:`_HttpCycle.run` settles it), else its Task, which carries on from there.

        PERF: most applications answer without suspending: then no Task is initialized
        (registered and scheduled), and the engine gets the response at the end of this loop
        iteration (:meth:`AsgiApplication.handle`); no wrapper coroutine either. The step runs as a Task would run it: with the Task current
        (``current_task()``) and in a context of its own: the engine runs every handler in a
        fresh copy of the connection's context (``ConnectionCore._dispatch``), and the Task, if
        the application suspends, starts from a copy of that one (what a Task made there would
        copy)."""
        task = _new_task(_AppTask)
        task.app_coro = coro
        try:
            _enter_task(loop, task)
        except RuntimeError:  # a Task is running (not the engine's callback): one of its own
            return loop.create_task(cycle.run(coro))
        try:
            yielded = coro.send(None)
        except StopIteration:
            _leave_task(loop, task)
            if not (cycle.body_done and cycle.result is not None and not (cycle.expect_trailers or cycle.watching)):
                cycle.returned()  # PERF: its common case (a whole response) needs nothing
            return None
        except BaseException as exc:
            _leave_task(loop, task)
            cycle.raised(exc)
            if not isinstance(exc, (Exception, asyncio.CancelledError)):
                raise  # KeyboardInterrupt, SystemExit
            return None
        _leave_task(loop, task)
        # A cancel() during the step marked the bare Task: the initialized one gets it again.
        cancels = task.cancelling()
        message = task._cancel_message
        resume = _resume(coro, yielded, cycle)
        resume.send(None)
        _init_task(task, resume, loop=loop, context=_copy_context())
        for _ in range(cancels):
            task.cancel(message)
        return task

else:  # pragma: no cover - Python 3.10, or asyncio's pure-Python Task

    def _start_task(loop: asyncio.AbstractEventLoop, coro: Any, cycle: _HttpCycle) -> asyncio.Task[None] | None:
        return loop.create_task(cycle.run(coro))


def _heads_due(heads: list[_HttpCycle]) -> None:
    """Stream the responses whose application suspended after its head (see _HttpCycle.send)."""
    due = heads[:]
    heads.clear()
    for cycle in due:
        cycle.head_due()


def _answers_due(due: list[_HttpCycle]) -> None:
    """Hand the engine the responses decided in the first steps of this loop iteration (see
    AsgiApplication.handle)."""
    answers = due[:]
    due.clear()
    for cycle in answers:
        cycle.deliver(cycle.result)


def _ready_future(loop: asyncio.AbstractEventLoop) -> asyncio.Future[None]:
    """A future that is already done: what ``send()`` returns when it need not wait (awaiting
    it returns at once, in C, with no coroutine to create and step)."""
    fut = loop.create_future()
    fut.set_result(None)
    return fut


class _FileSpan(FileResponse):
    """*count* bytes from *offset* of the file open as *fd* (a duplicate the span owns), sent
    by the engine's file path (``sendfile`` on plain TCP). The engine opens ``path`` (the same
    file, through ``/proc/self/fd``) and then asks :meth:`plan`, which closes the duplicate."""

    __slots__ = ("fd", "offset", "count")

    def __init__(self, fd: int, status: int, offset: int, count: int) -> None:
        super().__init__(f"/proc/self/fd/{fd}", status, etag=False, last_modified=False, accept_ranges=False)
        self.fd = fd
        self.offset = offset
        self.count = count

    def release(self) -> None:
        fd = self.fd
        if fd >= 0:
            self.fd = -1
            os.close(fd)

    def plan(self, method: str, headers: Any, st: os.stat_result) -> Response | FilePlan:
        self.release()  # the engine holds the file open now
        return self.status, list(self.fields), [(self.offset, self.count)], self.count

    def __del__(self) -> None:
        self.release()  # never sent (the client left first)


class _StreamBody:
    """The async iterator the engine's stream sender pulls a streamed response from."""

    __slots__ = ("cycle",)

    def __init__(self, cycle: _HttpCycle) -> None:
        self.cycle = cycle

    def __aiter__(self) -> _StreamBody:
        return self

    async def __anext__(self) -> bytes:
        cycle = self.cycle
        chunks = cycle.chunks
        while True:
            if chunks:
                return chunks.popleft()
            if cycle.failure is not None:
                raise cycle.failure
            if cycle.disconnected:
                raise ClientDisconnected("the client closed the connection")
            if cycle.body_done:
                if not cycle.expect_trailers:
                    cycle.complete()
                raise StopAsyncIteration
            # The engine asks for more: the piece before is written (and drained).
            cycle.wake_writer()
            fut = cycle.reader_waiter = cycle.loop.create_future()
            await fut

    async def aclose(self) -> None:
        """The engine gave up on the response (the client left, or a write failed)."""
        self.cycle.lost()


class _HttpCycle(Deferred):
    """One request/response exchange between the engine and the application; the engine holds
    it as the request's :class:`~fasthttp.application.Deferred` until the response is decided."""

    # PERF: no __slots__: the state every exchange starts in is the class's; an instance holds
    # only what it changed (most exchanges set a handful of attributes, not thirty).
    task: asyncio.Task[None] | None = None  # the Task running the application
    in_task = False  # past the first step, which the handler runs (see _start_task)
    aborted = False  # the engine dropped the connection before the answer
    status: int | None = None
    fields: list[tuple[bytes, bytes]] = []  # noqa: RUF012 - replaced, never mutated
    length: int | None = None
    expect_trailers = False
    parts: list[bytes] | None = None  # the body, until the response is decided
    chunks: collections.deque[bytes] | None = None  # streamed pieces the engine has not taken
    body_done = False
    result: Any = None  # the response the engine gets, once decided
    reader_waiter: asyncio.Future[None] | None = None
    writer_waiter: asyncio.Future[None] | None = None
    request_complete = False
    response_complete = False
    disconnected = False
    disconnect_waiter: asyncio.Future[None] | None = None
    failure: BaseException | None = None
    body_error: HttpError | None = None
    discard = False
    trailer_fields: list[tuple[bytes, bytes]] | None = None
    trailers_done = False
    watching = False
    streamed = 0  # body bytes taken from the application

    # What the exchanges of one loop share: _cycle_class() makes a subclass holding them.
    loop: asyncio.AbstractEventLoop = None  # type: ignore[assignment]
    ready: asyncio.Future[None] = None  # type: ignore[assignment]
    heads: list[Any] = []  # noqa: RUF012 - replaced, never mutated
    answers: list[Any] = []  # noqa: RUF012 - replaced, never mutated (_answers_due)

    def __init__(self, req: Request, loop: asyncio.AbstractEventLoop, ready: asyncio.Future[None], heads: list[Any]) -> None:
        self.req = req
        self.loop = loop
        self.ready = ready  # a done future (_ready_future): send() that need not wait
        self.heads = heads  # the exchanges whose head is due (_heads_due), of this loop

    # -- receive ---------------------------------------------------------------------------------

    async def receive(self) -> Message:
        if not self.request_complete:
            reader = self.req.body_reader
            if reader is None:
                self.request_complete = True
                return {"type": "http.request", "body": b"", "more_body": False}
            try:
                if reader.complete and reader.cached is None:
                    # PERF: the whole body is in: one message.
                    body = await reader.read_all()
                    self.request_complete = True
                    return {"type": "http.request", "body": body, "more_body": False}
                chunk = await reader.read()
            except ClientDisconnected:
                self.request_complete = True
                self.lost()
                return dict(_DISCONNECT)
            except HttpError as exc:
                # Refused by the engine (413, 408, 400): the client gets that status.
                self.request_complete = True
                self.body_error = exc
                return dict(_DISCONNECT)
            if chunk:
                if not reader.complete:
                    return {"type": "http.request", "body": chunk, "more_body": True}
                # PERF: the end is in (the usual small body: head and body in one read): the
                # pieces still held go in this message, and none says more_body.
                rest = [chunk]
                while piece := await reader.read():  # does not wait: the body is complete
                    rest.append(piece)
                chunk = rest[0] if len(rest) == 1 else b"".join(rest)
            self.request_complete = True
            if chunk:
                return {"type": "http.request", "body": chunk, "more_body": False}
            return {"type": "http.request", "body": b"", "more_body": False}
        # The body is read: wait for the client to leave or for the response to be complete.
        if not (self.disconnected or self.response_complete):
            self.watch()
            fut = self.disconnect_waiter = self.loop.create_future()
            await fut
        return dict(_DISCONNECT)

    def watch(self) -> None:
        """Ask the connection for notice of its loss (once per cycle)."""
        if not self.watching:
            self.watching = True
            add = getattr(self.req.connection, "add_lost_callback", None)
            if add is not None:
                add(self.lost)

    def unwatch(self) -> None:
        if self.watching:
            self.watching = False
            remove = getattr(self.req.connection, "remove_lost_callback", None)
            if remove is not None:
                remove(self.lost)

    def lost(self) -> None:
        """The connection is gone (or the engine abandoned the response)."""
        if self.disconnected:
            return
        self.disconnected = True
        self.wake_disconnect()
        self.wake_writer()
        self.wake_reader()

    def complete(self) -> None:
        self.response_complete = True
        self.wake_disconnect()

    # -- wake-ups --------------------------------------------------------------------------------

    def wake_disconnect(self) -> None:
        fut = self.disconnect_waiter
        if fut is not None:
            self.disconnect_waiter = None
            if not fut.done():
                fut.set_result(None)

    def wake_writer(self) -> None:
        fut = self.writer_waiter
        if fut is not None:
            self.writer_waiter = None
            if not fut.done():
                fut.set_result(None)

    def wake_reader(self) -> None:
        fut = self.reader_waiter
        if fut is not None:
            self.reader_waiter = None
            if not fut.done():
                fut.set_result(None)

    # -- send ------------------------------------------------------------------------------------

    def send(self, message: Message) -> Awaitable[None]:
        """ASGI ``send``. PERF: a plain function; what need not wait (the head, a whole body,
        trailers) is done at once and answered with a done future, the rest with a coroutine
        (a streamed piece waits for the engine to ask for the next one)."""
        kind = message["type"]
        if kind == "http.response.start":
            if self.status is not None:
                raise RuntimeError("http.response.start sent twice")
            status = message["status"]
            if type(status) is not int:
                raise TypeError(f"the status must be an int, not {status!r}")
            if status < 200:
                # RFC 9110 §15.2: a 1xx is interim, never the answer to a request: written as
                # the response, the client would take the next response for this one (a
                # desync); 101 would switch protocols. (Past 599: the writer's rule.)
                raise RuntimeError(f"http.response.start: {status} is not a final status")
            self.fields, self.length, close = _app_fields(message.get("headers", ()))
            if close:
                # The engine's connection (or the proxy layer's view of it, which forwards).
                refuse = getattr(self.req.connection, "refuse_keep_alive", None)
                if refuse is not None:
                    refuse()
            self.expect_trailers = bool(message.get("trailers", False))
            self.status = status
            if self.result is None and self.in_task:
                # If the application suspends before the body is decided, the head goes out
                # at once (an event stream, a long poll): checked on the next loop iteration,
                # after every step of the application that runs without waiting. PERF: one
                # callback checks every exchange that sent its head in an iteration; the first
                # step (no task yet) is checked by handle() when it returns.
                heads = self.heads
                if not heads:
                    self.loop.call_soon(_heads_due, heads)
                heads.append(self)
            return self.ready
        if self.disconnected:
            raise ClientDisconnected("the client closed the connection")
        if kind == "http.response.body":
            if self.status is None:
                raise RuntimeError("http.response.body sent before http.response.start")
            if self.body_done:
                raise RuntimeError("http.response.body sent after the body was complete")
            body = message.get("body", b"")
            more = message.get("more_body", False)
            streamed = self.streamed = self.streamed + len(body)
            length = self.length
            mismatch = False
            if length is not None and (streamed > length or not more and streamed != length):
                if not self.bodyless():
                    # Never a byte past the announced length: the connection carries the next
                    # response right after it (RFC 9112 §6.3). As uvicorn, the application is told.
                    raise RuntimeError(f"the response body ({streamed} bytes so far) does not match its Content-Length {length}")
                # A body that is not sent (HEAD, 204, 304): the announced length goes out for a
                # HEAD (RFC 9110 §9.3.2, whole_response()), not the discarded body's.
                mismatch = True
            if self.discard:
                self.body_done = not more
                return self.ready
            if self.result is not None:
                return self.push(bytes(body), more)
            parts = self.parts
            if not more and parts is None and not self.expect_trailers and self.body_error is None and type(body) is bytes and not mismatch:
                # PERF: the common case, a whole body in one message: the response at once.
                self.body_done = True
                resp = _new_response(Response)
                resp.status = self.status
                resp.fields = self.fields
                resp.body = body
                self.result = resp
                if self.in_task:
                    self.deliver(resp)
                # else: the first step (_start_task): handle() hands self.result over (_answers_due)
                return self.ready
            if body:
                body = body if type(body) is bytes else bytes(body)
                if parts is None:
                    self.parts = [body]
                else:
                    parts.append(body)
            if more:
                self.start_streaming()
                return self.push(b"", True)
            self.body_done = True
            if self.expect_trailers:
                self.start_streaming()
            elif self.body_error is None and not mismatch:
                # PERF: the common case, whole_response() and resolve() inlined.
                parts = self.parts
                resp = _new_response(Response)
                resp.status = self.status
                resp.fields = self.fields
                resp.body = b"" if parts is None else parts[0] if len(parts) == 1 else b"".join(parts)
                self.result = resp
                if self.in_task:
                    self.deliver(resp)
                # else: the first step (_start_task): handle() hands self.result over (_answers_due)
            else:
                self.resolve(self.whole_response())
            return self.ready
        if kind == "http.response.trailers":
            if not self.expect_trailers or not self.body_done:
                raise RuntimeError("http.response.trailers without trailers=True in the start, or before the body ended")
            if self.trailers_done:
                raise RuntimeError("http.response.trailers sent after the last trailers")
            trailer_fields = self.trailer_fields
            if trailer_fields is None:
                trailer_fields = self.trailer_fields = []
            trailer_fields.extend(message.get("headers", ()))
            if not message.get("more_trailers", False):
                self.trailers_done = True
                self.wake_reader()
            return self.ready
        if kind == "http.response.pathsend":
            if self.status is None or self.body_done or self.parts or self.result is not None:
                raise RuntimeError("http.response.pathsend must follow http.response.start and be the whole body")
            self.body_done = True
            if self.discard:
                return self.ready
            file = FileResponse(message["path"], self.status, etag=False, last_modified=False, accept_ranges=False)
            file.fields = self.fields  # the application's own, without a guessed type
            self.resolve(file)
            return self.ready
        if kind == "http.response.zerocopysend":
            return self.zerocopysend(message)
        raise RuntimeError(f"unknown ASGI message type for an http scope: {kind!r}")

    async def zerocopysend(self, message: Message) -> None:
        """``http.response.zerocopysend``: *count* bytes of the open file *file* from *offset*
        (default: its position, which then moves past them; count default: to the end).

        The whole body in one message goes out with ``sendfile`` (a :class:`_FileSpan` on the
        engine's file path, Linux: the file is reopened through ``/proc/self/fd``); a piece of a
        longer body, or where that is not possible, is read and sent as ``http.response.body``.
        """
        if self.status is None or self.body_done:
            raise RuntimeError("http.response.zerocopysend must follow http.response.start, before the body ends")
        fd = message["file"].fileno()
        offset = message.get("offset")
        st = os.fstat(fd)
        start = os.lseek(fd, 0, os.SEEK_CUR) if offset is None else int(offset)
        count = message.get("count")
        count = max(0, st.st_size - start) if count is None else int(count)
        if start < 0 or count < 0:
            raise ValueError(f"invalid offset {start} or count {count} in http.response.zerocopysend")
        more = bool(message.get("more_body", False))
        if offset is None:
            os.lseek(fd, start + count, os.SEEK_SET)  # ASGI: the file position moves past them
        if (
            not more
            and not self.parts
            and self.result is None
            and not self.discard
            and stat.S_ISREG(st.st_mode)
            and start + count <= st.st_size
            and os.path.isdir("/proc/self/fd")
        ):
            if self.length is not None and self.length != count and not self.bodyless():
                raise RuntimeError(f"the response body ({count} bytes) does not match its Content-Length {self.length}")
            self.body_done = True
            self.streamed = count
            resp = _FileSpan(os.dup(fd), self.status, start, count)
            resp.fields = self.fields
            self.resolve(resp)
            return
        data = os.pread(fd, count, start)
        if len(data) != count:
            raise RuntimeError(f"http.response.zerocopysend: the file has {len(data)} of the {count} bytes asked for")
        await self.send({"type": "http.response.body", "body": data, "more_body": more})

    def bodyless(self) -> bool:
        """Does the response carry no content whatever its Content-Length says (RFC 9110
        §6.4.1: HEAD, 1xx, 204, 304)?"""
        status = self.status or 200
        return self.req.head.method == "HEAD" or status < 200 or status == 204 or status == 304

    def push(self, body: bytes, more: bool) -> Awaitable[None]:
        """Hand a piece of a streamed body to the engine; the awaitable returned waits until it
        asks for the next one (the last piece need not wait)."""
        if body:
            chunks = self.chunks
            if chunks is None:
                chunks = self.chunks = collections.deque()
            chunks.append(body)
        if not more:
            self.body_done = True
        self.wake_reader()
        if more:
            return self.taken()
        return self.ready

    async def taken(self) -> None:
        """Wait until the engine took the pieces handed over (backpressure)."""
        while self.chunks and not self.disconnected and self.failure is None:
            fut = self.writer_waiter = self.loop.create_future()
            await fut
        if self.disconnected:
            raise ClientDisconnected("the client closed the connection")

    # -- deciding the response -------------------------------------------------------------------

    def whole_response(self) -> Response | StreamingResponse:
        assert self.status is not None
        parts = self.parts
        body = b"" if parts is None else parts[0] if len(parts) == 1 else b"".join(parts)
        if self.length is not None and self.req.head.method == "HEAD":
            # RFC 9110 §9.3.2: a HEAD response may announce the length the GET would have; the
            # length announced wins over any body sent (discarded, §9.3.2).
            stream = StreamingResponse((), self.status, content_length=self.length)
            stream.fields = self.fields
            return stream
        # PERF: the three slots set directly (Response.__init__ would guess a content type).
        resp = _new_response(Response)
        resp.status = self.status
        resp.fields = self.fields
        resp.body = body
        return resp

    def start_streaming(self) -> None:
        assert self.status is not None
        if self.chunks is None:
            self.chunks = collections.deque()
        if self.parts:
            self.chunks.extend(self.parts)
            self.parts = None
        stream = StreamingResponse(
            _StreamBody(self),
            self.status,
            content_length=self.length,
            trailers=self.trailers if self.expect_trailers else None,
        )
        stream.fields = self.fields
        self.watch()
        self.resolve(stream)

    async def trailers(self) -> list[tuple[bytes, bytes]]:
        """Called by the engine after the last chunk: the trailers, once the application sent them."""
        while not self.trailers_done:
            if self.failure is not None:
                raise self.failure
            if self.disconnected:
                raise ClientDisconnected("the client closed the connection")
            fut = self.reader_waiter = self.loop.create_future()
            await fut
        self.complete()
        return self.trailer_fields or []

    def resolve(self, result: Any) -> None:
        if self.result is not None:
            return
        if self.body_error is not None:
            # The client's fault comes first: the application's answer to it is dropped.
            result = render_http_error(self.body_error, self.req)
            self.discard = True
        self.result = result
        self.deliver(result)

    def head_due(self) -> None:
        """The application suspended after its head (see :meth:`send`): stream the response."""
        if self.result is None and self.status is not None:
            self.start_streaming()

    async def run(self, coro: Awaitable[None]) -> None:
        """The application's Task: run *coro*, then settle the exchange."""
        try:
            await coro
        except BaseException as exc:
            self.raised(exc)
            if not isinstance(exc, Exception):
                raise  # cancellation, KeyboardInterrupt, SystemExit
            return
        self.returned()

    def returned(self) -> None:
        """The application returned."""
        if self.body_done and self.result is not None and not (self.expect_trailers or self.watching):
            return  # PERF: finished(None)'s common case: a whole response, nothing to undo
        self.finished(None)

    def raised(self, exc: BaseException) -> None:
        """The application raised *exc* (or was cancelled)."""
        if self.aborted:
            self.unwatch()
        else:
            self.finished(None if isinstance(exc, asyncio.CancelledError) else exc)

    def cancel(self) -> bool:
        """The engine dropped the connection before the answer: stop the application."""
        Deferred.cancel(self)
        self.aborted = True
        task = self.task
        if task is not None and not task.done():
            task.cancel()
        return True

    def finished(self, exc: BaseException | None) -> None:
        """The application returned (*exc* None) or raised *exc*."""
        self.unwatch()
        req = self.req
        if self.result is None:
            if self.body_error is not None:
                self.resolve(None)
                return
            if exc is not None:
                error_log.error("error in ASGI application for %s %s", req.method, req.target.decode("latin-1"), exc_info=exc)
            else:
                error_log.error(
                    "ASGI application returned without %s for %s %s",
                    "starting a response" if self.status is None else "completing the response",
                    req.method,
                    req.target.decode("latin-1"),
                )
            self.resolve(_INTERNAL_ERROR)
            return
        done = self.body_done and (self.trailers_done or not self.expect_trailers)
        if done or self.discard:
            if exc is not None and not (self.disconnected and isinstance(exc, OSError)):
                error_log.error("error in ASGI application after its response, for %s %s", req.method, req.target.decode("latin-1"), exc_info=exc)
            return
        if self.disconnected:
            return  # the client left; the application saw it
        # The head is out: the engine aborts the connection and logs this with its traceback.
        self.failure = exc if exc is not None else RuntimeError("ASGI application returned without completing the response")
        self.wake_reader()


_new_cycle = object.__new__


def _cycle_class(loop: asyncio.AbstractEventLoop) -> type[_HttpCycle]:
    """A subclass of :class:`_HttpCycle` for the exchanges on *loop*, with what they share (the
    loop, a done future for ``send()``, the list of heads due) as class attributes. PERF: an
    exchange is then made with one attribute, its request, and no ``__init__`` call."""
    return type("_HttpCycle", (_HttpCycle,), {"loop": loop, "ready": _ready_future(loop), "heads": [], "answers": []})


class _DenialCycle(_HttpCycle):
    """A websocket denial response (the ``websocket.http.response`` extension): an ``http``
    response cycle whose answer refuses the upgrade instead of being the handler's result."""

    __slots__ = ("ws",)
    in_task = True  # created by the session's send(), in its Task

    def __init__(self, ws: WebSocket, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(ws.request, loop, _ready_future(loop), [])
        self.ws = ws

    def deliver(self, result: Any) -> None:
        # Every way a response is decided ends here (resolve(), and send()'s fast paths for a
        # body in one message, which set the result themselves): a denial answered with one
        # http.response.body was lost before, and the client got the 403 of an application
        # that returned without accepting.
        if not self.settled:
            super().deliver(result)
            self.ws.deny(result)


class _WebSocketCycle:
    """One ASGI ``websocket`` session on a :class:`~fasthttp.websocket.WebSocket` (see the
    module docstring for the mapping of events to methods)."""

    __slots__ = ("app", "scope", "ws", "connected", "denial")

    def __init__(self, app: AsgiApp, scope: Scope, ws: WebSocket) -> None:
        self.app = app
        self.scope = scope
        self.ws = ws
        self.connected = False
        self.denial: _DenialCycle | None = None

    async def run(self) -> None:
        """The session: run the application; settle a denial response it started."""
        try:
            await self.app(self.scope, self.receive, self.send)
        except Exception as exc:
            denial = self.denial
            if denial is not None:
                denial.finished(exc)  # a 500, an aborted denial, or a log line
                return
            if isinstance(exc, ClientDisconnected) and self.ws.close_code is not None:
                return  # sent on a closed connection: the application was told (ASGI 2.4)
            raise  # run_websocket: a 500 before the decision, close 1011 after; logged
        if self.denial is not None:
            self.denial.finished(None)

    async def receive(self) -> Message:
        ws = self.ws
        if not self.connected:
            self.connected = True
            return {"type": "websocket.connect"}
        if ws.state == S_CONNECTING:
            raise RuntimeError("websocket receive() before websocket.accept: accept or deny the connection first")
        if ws.state == S_CLOSED and ws.close_code is None:
            # Refused before accept: there never was a websocket connection.
            return {"type": "websocket.disconnect", "code": 1006, "reason": ""}
        try:
            message = await ws.receive()
        except WebSocketDisconnect as exc:
            return {"type": "websocket.disconnect", "code": exc.code, "reason": exc.reason}
        if type(message) is str:
            return {"type": "websocket.receive", "text": message}
        return {"type": "websocket.receive", "bytes": message}

    async def send(self, message: Message) -> None:
        ws = self.ws
        kind = message["type"]
        if kind == "websocket.send":
            data = message.get("text")
            if data is None:
                data = message.get("bytes")
                if data is None:
                    raise ValueError("websocket.send carries 'text' or 'bytes'")
            try:
                await ws.send(data)
            except WebSocketDisconnect as exc:
                raise ClientDisconnected(f"the websocket is closed ({exc.code})") from None
            return
        if kind == "websocket.accept":
            await ws.accept(message.get("subprotocol"), message.get("headers") or None)
            return
        if kind == "websocket.close":
            if ws.state == S_CONNECTING:
                ws.deny(_FORBIDDEN)  # ASGI: a close before accept is an HTTP 403
                return
            if ws.close_code is not None:
                return  # already closed: nothing to say
            await ws.close(message.get("code") or 1000, message.get("reason") or "")
            return
        if kind.startswith("websocket.http.response."):
            denial = self.denial
            if denial is None:
                if ws.state != S_CONNECTING or kind != "websocket.http.response.start":
                    raise RuntimeError(f"{kind} is only possible before websocket.accept, after websocket.http.response.start")
                denial = self.denial = _DenialCycle(ws, asyncio.get_running_loop())
            await denial.send({**message, "type": "http." + kind[len("websocket.http.") :]})
            return
        raise RuntimeError(f"unknown ASGI message type for a websocket scope: {kind!r}")


def _is_websocket_upgrade(req: Request) -> bool:
    """Does *req* ask for the websocket protocol (RFC 6455 §4.1: ``Upgrade: websocket``)?"""
    return any(t.strip(" \t").lower() == "websocket" for v in req.head.headers.getall("upgrade") for t in v.split(","))


class AsgiApplication:
    """An ASGI 3 application, served by the engine (see the module docstring).

    *root_path* is where a proxy mounts the application (the ``root_path`` of the scope; ``path``
    and ``raw_path`` include it, as uvicorn sets them). *lifespan*: ``"auto"`` runs the lifespan
    protocol and carries on if the application does not support it, ``"on"`` requires it, ``"off"``
    skips it. :attr:`state` is the lifespan ``state``; each request's scope gets a shallow copy.
    """

    def __init__(self, app: AsgiApp, *, root_path: str = "", lifespan: str = "auto", on_connect: OnConnect | None = None) -> None:
        if lifespan not in ("auto", "on", "off"):
            raise ValueError(f"lifespan must be 'auto', 'on' or 'off', not {lifespan!r}")
        if root_path and (not root_path.startswith("/") or root_path.endswith("/")):
            raise ValueError(f"root_path must start with '/' and not end with one: {root_path!r}")
        self.app = app
        self.root_path = root_path
        self._raw_root = root_path.encode("utf-8")
        self.lifespan = lifespan
        self.on_connect = on_connect
        self.state: dict[str, Any] = {}
        self._lifespan_task: asyncio.Task[None] | None = None
        self._lifespan_inbox: asyncio.Queue[Message] | None = None
        self._lifespan_reply: asyncio.Future[Message] | None = None
        self._started = False
        self._lifespan_messages = 0
        self._cycle_class: type[_HttpCycle] = _HttpCycle  # of the running loop (_cycle_class())

    def engine_handler(self) -> Handler:
        return self.handle

    # -- http ----------------------------------------------------------------------------------

    def scope(self, req: Request) -> Scope:
        """The ASGI ``http`` scope of *req*."""
        head = req.head
        target = head.target
        origin = target[:1] == b"/"
        if origin:
            # PERF: origin-form (RFC 9112 §3.2.1), the usual target: split once, as bytes.
            raw_path, _, query = target.partition(b"?")
            path = raw_path.decode("latin-1")
        else:
            path = head.path
            raw_path = path.encode("latin-1")
            query = head.query.encode("latin-1")
        if "%" in path:
            path = unquote(path)  # RFC 3986 §2.1, as UTF-8 (ASGI: "path" is decoded)
        conn = req.connection
        # PERF: what the scopes of a connection share (server, client and scheme: a getsockname
        # per server lookup) is a template made once, kept in the connection's session dict (the
        # application never sees it), with every key already in place: a scope is its copy with
        # the request's values set, no insertion (a dict display of 14 keys costs ~40% more).
        session = conn.session
        template: dict[str, Any] | None = session.get(_SCOPE_KEY)
        if template is None:
            template = session[_SCOPE_KEY] = self.scope_template(conn.connection if type(conn) is ForwardedConnection else conn)
        scope = template.copy()
        forwarded_host = None
        if type(conn) is ForwardedConnection:
            # A trusted proxy's client and scheme replace the connection's, per request.
            proxied: ForwardedConnection = conn
            scope["client"] = _client_address(proxied.client)
            scope["scheme"] = "https" if proxied.is_secure else "http"
            forwarded_host = proxied.forwarded_host
        # ASGI: header names lower-cased, values as received (one list, made by the index).
        headers = head.headers.raw_lower()
        if not origin or forwarded_host is not None:
            # The application sees the host the router would (Request.host): an absolute-form
            # target's authority (RFC 9112 §3.2.2) or a trusted proxy's X-Forwarded-Host.
            host = req.host
            if host is not None:
                headers = [(n, v) for n, v in headers if n != b"host"]
                headers.append((b"host", host.encode("latin-1")))
        if self.root_path:
            path = self.root_path + path
            raw_path = self._raw_root + raw_path
        scope["http_version"] = head.version
        scope["method"] = head.method
        scope["path"] = path
        scope["raw_path"] = raw_path
        scope["query_string"] = query
        scope["headers"] = headers
        scope["state"] = self.state.copy()
        scope["extensions"] = _EXTENSIONS.copy()
        return scope

    def scope_template(self, conn: Any) -> dict[str, Any]:
        """What the ``http`` scopes of the connection *conn* share; the keys of each request
        (None here) are set by :meth:`scope`, in the order of the spec's table."""
        server, client, scheme = _peer(conn)
        return {
            "type": "http",
            "asgi": ASGI_INFO,
            "http_version": None,
            "server": server,
            "client": client,
            "scheme": scheme,
            "method": None,
            "root_path": self.root_path,
            "path": None,
            "raw_path": None,
            "query_string": None,
            "headers": None,
            "state": None,
            "extensions": None,
        }

    def handle(self, req: Request) -> Any:
        """The engine's handler: run the application for *req* (see the module docstring).

        PERF: a plain function. The application runs in one Task of its own (anyio and sniffio,
        under Starlette and FastAPI, need a current task; a streamed response outlives this
        call), its first step here; the handler answers the engine with the exchange, a
        :class:`~fasthttp.application.Deferred` delivered at the end of the loop iteration if
        the response is decided by then (:func:`_answers_due`), else by the application's
        ``send()``, so the engine needs no Task of its own."""
        head = req.head
        if head.upgrade and _is_websocket_upgrade(req):
            return self.handle_websocket(req)
        if req.body_reader is not None:
            req.check_body_size()  # 413 on the announced length, before the application runs
        loop = _get_running_loop()
        cycle_class = self._cycle_class
        if cycle_class.loop is not loop:
            cycle_class = self._cycle_class = _cycle_class(loop)
        cycle = _new_cycle(cycle_class)  # PERF: what __init__ sets, the class has (_cycle_class)
        cycle.req = req
        task = _start_task(loop, self.app(self.scope(req), cycle.receive, cycle.send), cycle)
        if cycle.result is None:  # not settled (a settled exchange has its result)
            cycle.task = task
            cycle.in_task = True
            if cycle.status is None:
                return cycle
            cycle.head_due()  # suspended after its head: the head goes out now (see send())
            return cycle.result
        # Decided in the first step: the engine gets the response at the end of this loop
        # iteration, with the others decided in it (one callback for all), not now. PERF: over
        # sockets under load (wrk -c64) this costs less CPU per request than writing it from
        # here, though it is more Python work: the reads of an iteration are all served before
        # its writes wake the client, so each iteration serves more requests (an A/B in issue
        # 13: answering from here cost 15-25% more CPU per request).
        answers = cycle_class.answers
        if not answers:
            loop.call_soon(_answers_due, answers)
        answers.append(cycle)
        return cycle

    # -- websocket -------------------------------------------------------------------------------

    def websocket_scope(self, req: Request, ws: WebSocket) -> Scope:
        """The ASGI ``websocket`` scope of the upgrade request *req* (its session *ws*)."""
        scope = self.scope(req)
        del scope["method"]
        scope["type"] = "websocket"
        scope["scheme"] = "wss" if req.scheme == "https" else "ws"
        scope["subprotocols"] = list(ws.subprotocols)
        scope["extensions"] = {"websocket.http.response": {}}
        return scope

    async def handle_websocket(self, req: Request) -> Any:
        """Serve the upgrade request *req* as an ASGI ``websocket`` session, through the
        engine's websocket support (:func:`~fasthttp.websocket.run_websocket`: an invalid
        handshake is answered 400 or 426 without the application)."""

        def session(ws: WebSocket) -> Awaitable[None]:
            return _WebSocketCycle(self.app, self.websocket_scope(req, ws), ws).run()

        try:
            return await run_websocket(req, session)
        except Exception as exc:
            # APPSEC: raised before accept or a denial: the client gets a bare 500.
            error_log.error("error in ASGI application for websocket %s", req.target.decode("latin-1"), exc_info=exc)
            return _INTERNAL_ERROR

    # -- lifespan --------------------------------------------------------------------------------

    async def startup(self) -> None:
        """Run the lifespan protocol's startup (see the class docstring)."""
        if self.lifespan == "off" or self._started:
            return
        self._started = True
        loop = asyncio.get_running_loop()
        self._lifespan_inbox = asyncio.Queue()
        reply = self._lifespan_reply = loop.create_future()
        self._lifespan_task = loop.create_task(self._run_lifespan())
        await self._lifespan_inbox.put({"type": "lifespan.startup"})
        message = await reply
        if message["type"] == "lifespan.startup.failed":
            raise RuntimeError(f"ASGI lifespan startup failed: {message.get('message', '')}")
        if message["type"] == "unsupported":
            if self.lifespan == "on":
                raise RuntimeError("the ASGI application does not support the lifespan protocol")
            self._lifespan_task = None

    async def shutdown(self) -> None:
        """Run the lifespan protocol's shutdown, if startup ran."""
        task = self._lifespan_task
        if task is None or task.done() or self._lifespan_inbox is None:
            return
        reply = self._lifespan_reply = asyncio.get_running_loop().create_future()
        await self._lifespan_inbox.put({"type": "lifespan.shutdown"})
        message = await reply
        self._lifespan_task = None
        if message["type"] == "lifespan.shutdown.failed":
            error_log.error("ASGI lifespan shutdown failed: %s", message.get("message", ""))

    async def _run_lifespan(self) -> None:
        scope = {"type": "lifespan", "asgi": ASGI_INFO, "state": self.state}
        try:
            await self.app(scope, self._lifespan_receive, self._lifespan_send)
        except BaseException as exc:
            if self._lifespan_messages == 0:
                # ASGI lifespan: an application that raises here does not support the protocol.
                if self.lifespan == "on":
                    error_log.error("ASGI lifespan failed", exc_info=exc)
                else:
                    logging.getLogger("fasthttp").info("ASGI 'lifespan' is not supported by the application (%r)", exc)
                self._reply({"type": "unsupported"})
            else:
                error_log.error("error in the ASGI lifespan", exc_info=exc)
                self._reply({"type": "lifespan.shutdown.failed", "message": repr(exc)})
            if isinstance(exc, asyncio.CancelledError):
                raise
            return
        self._reply({"type": "lifespan.shutdown.complete"} if self._lifespan_messages else {"type": "unsupported"})

    def _reply(self, message: Message) -> None:
        reply = self._lifespan_reply
        if reply is not None and not reply.done():
            reply.set_result(message)

    async def _lifespan_receive(self) -> Message:
        assert self._lifespan_inbox is not None
        return await self._lifespan_inbox.get()

    async def _lifespan_send(self, message: Message) -> None:
        if message["type"] not in (
            "lifespan.startup.complete",
            "lifespan.startup.failed",
            "lifespan.shutdown.complete",
            "lifespan.shutdown.failed",
        ):
            raise RuntimeError(f"unknown ASGI lifespan message type: {message['type']!r}")
        self._lifespan_messages += 1
        self._reply(message)

    def __repr__(self) -> str:
        return f"AsgiApplication({self.app!r})"
