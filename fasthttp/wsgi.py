"""The WSGI adapter: a PEP 3333 application served by the engine, in a bounded thread pool.

Strategy
--------
The engine calls one handler per request (``fasthttp.application``); here that handler builds
the WSGI ``environ`` and hands the call to a pool (:class:`_Pool`) of at most *threads* threads,
started as needed (requests beyond that wait for a thread; the event loop never blocks). The
thread runs the application and iterates its result; the loop and the thread meet through one
:class:`_WsgiCycle` per request. PERF: the hand-off is one queue put (no future, no engine
Task: the handler answers with the cycle, a :class:`~fasthttp.application.Deferred`), and what
the threads hand back goes through one :class:`_Inbox`, which wakes the loop once per batch:

- ``wsgi.input`` reads the engine's body reader from the thread, one piece at a time
  (``run_coroutine_threadsafe``): the body is streamed from the socket, never read whole first,
  and the connection stops reading while the application does not consume (flow control);
- the response is decided in the thread and handed to the loop: a small body whose
  ``Content-Length`` is announced (up to ``_WHOLE``, the usual Flask response) becomes one
  :class:`~fasthttp.responses.Response`; ``wsgi.file_wrapper`` over a regular file, read from
  its start, becomes a :class:`~fasthttp.files.FileResponse` (``sendfile`` on plain TCP);
  anything else is streamed (:class:`~fasthttp.responses.StreamingResponse`) as the iterable
  yields, and ``write()`` pieces go the same way;
- backpressure: the thread hands a piece over and blocks until the engine asks for the next one,
  which it does after writing the piece and waiting for the transport to drain;
- the result's ``close()`` is always called (PEP 3333), in the thread, once iteration ends, the
  client leaves or the application fails.

Errors (logged on ``fasthttp.error`` either way): before the head was handed over, 500; after,
the connection is aborted (an incomplete message). ``start_response`` with ``exc_info`` replaces
the head while nothing was sent, and re-raises once it was.

Framing belongs to the engine: ``Content-Length`` (kept as the streamed length),
``Transfer-Encoding``, ``Connection``, ``Keep-Alive`` and ``Date`` from the application are
written by the engine. APPSEC: request header names holding ``_`` are left out of the environ
(``X_Forwarded_For`` and ``X-Forwarded-For`` would both become ``HTTP_X_FORWARDED_FOR``).
"""

from __future__ import annotations

import asyncio
import collections
import io
import logging
import os
import queue
import stat
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote_to_bytes

from .application import Deferred, Handler, OnConnect
from .body import ClientDisconnected
from .files import FileResponse
from .forwarded import ForwardedConnection
from .requests import Request
from .responses import Response, StreamingResponse, error_response

__all__ = ("WsgiApplication", "FileWrapper", "is_wsgi_application")

error_log = logging.getLogger("fasthttp.error")

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_WHOLE = 256 * 1024  # an announced body up to this size is collected and sent in one write
_ENGINE_FIELDS = frozenset(("content-length", "transfer-encoding", "connection", "keep-alive", "date"))
_INTERNAL_ERROR = error_response(500)


_get_running_loop = asyncio.get_running_loop
# The connection's (SERVER_NAME, SERVER_PORT), in its session dict (WsgiApplication.environ).
_SERVER_KEY = "fasthttp.wsgi.server"


def _server_name_port(conn: Any) -> tuple[str, str]:
    transport = getattr(conn, "transport", None)
    sock = transport.get_extra_info("sockname") if transport is not None else None
    if type(sock) is tuple:
        return str(sock[0]), str(sock[1])
    return "localhost", "0"


# The environ key of each request header name seen (PERF: one dict look-up per field after the
# first time), None for a name left out; bounded: past _MAX_KEYS names, new ones are not kept.
_ENVIRON_KEYS: dict[bytes, str | None] = {}
_MAX_KEYS = 512


def _environ_key(name: bytes) -> str | None:
    """The environ key of the request header *name* (PEP 3333: ``HTTP_`` + upper case, ``-`` as
    ``_``; ``CONTENT_TYPE`` as is), None for one left out: Content-Length (the engine's) and,
    APPSEC, names holding ``_`` (see the module docstring)."""
    if b"_" in name:
        key = None
    else:
        key = name.decode("latin-1").upper().replace("-", "_")
        if key == "CONTENT_LENGTH":
            key = None
        elif key != "CONTENT_TYPE":
            key = "HTTP_" + key
    if len(_ENVIRON_KEYS) < _MAX_KEYS:
        _ENVIRON_KEYS[name] = key
    return key


def is_wsgi_application(app: Any) -> bool:
    """True if *app* looks like a WSGI application: a plain (not ``async``) callable taking
    ``(environ, start_response)``."""
    import inspect

    if inspect.isclass(app) or not callable(app):
        return False
    call = app if inspect.isfunction(app) or inspect.ismethod(app) else getattr(app, "__call__", None)
    if call is None or inspect.iscoroutinefunction(call):
        return False
    try:
        params = inspect.signature(call).parameters
    except (TypeError, ValueError):  # pragma: no cover - a builtin
        return False
    positional = [p for p in params.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) == 2


class FileWrapper:
    """``wsgi.file_wrapper`` (PEP 3333): iterates a file-like object in blocks; over a regular
    file the adapter sends it with the engine's file sender instead."""

    def __init__(self, filelike: Any, blksize: int = 256 * 1024) -> None:
        self.filelike = filelike
        self.blksize = blksize
        close = getattr(filelike, "close", None)
        if close is not None:
            self.close = close

    def __iter__(self) -> FileWrapper:
        return self

    def __next__(self) -> bytes:
        data = self.filelike.read(self.blksize)
        if data:
            return bytes(data)
        raise StopIteration


class _Inbox:
    """What the pool's threads hand to the loop, in order, in batches: one loop wake-up
    (``call_soon_threadsafe``, a write to the loop's wake-up fd) for all that arrived since the
    last one, instead of one per message (PERF)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.items: collections.deque[tuple[Callable[[Any], None], Any]] = collections.deque()
        self.scheduled = False

    def call(self, fn: Callable[[Any], None], arg: Any) -> None:
        """(any thread) Run ``fn(arg)`` in the loop."""
        self.items.append((fn, arg))
        if not self.scheduled:
            self.scheduled = True
            try:
                self.loop.call_soon_threadsafe(self.drain)
            except RuntimeError:  # pragma: no cover - the loop is closed: nobody to tell
                pass

    def drain(self) -> None:
        # NOTE: reset before taking: a message added after this point schedules another drain.
        self.scheduled = False
        items = self.items
        while items:
            fn, arg = items.popleft()
            try:
                fn(arg)
            except Exception:  # pragma: no cover - a delivery failed; the others go on
                error_log.exception("error handing a WSGI result to the engine")


class _Pool:
    """At most *size* threads calling the WSGI application, started as work needs them; jobs
    beyond wait in a queue. PERF: one queue put per request, no future (the cycle is the job's
    only record), instead of :class:`concurrent.futures.ThreadPoolExecutor`'s future, work item
    and semaphores. The threads are daemons: an application stuck in one does not hold the
    process's exit."""

    def __init__(self, app: WsgiApp, size: int) -> None:
        self.app = app
        self.size = size
        self.jobs: queue.SimpleQueue[tuple[_WsgiCycle, dict[str, Any]] | None] = queue.SimpleQueue()
        self.threads: list[threading.Thread] = []
        self.idle = 0
        self.lock = threading.Lock()
        self.closed = False

    def submit(self, cycle: _WsgiCycle, environ: dict[str, Any]) -> None:
        if self.closed:
            raise RuntimeError("the WSGI thread pool is shut down")
        jobs = self.jobs
        jobs.put((cycle, environ))
        # A thread more if the waiting jobs outnumber the idle threads (a thread just started
        # counts as idle: it takes one of them).
        if len(self.threads) < self.size and jobs.qsize() > self.idle:
            with self.lock:
                if len(self.threads) < self.size and jobs.qsize() > self.idle:
                    thread = threading.Thread(target=self.work, name=f"fasthttp-wsgi_{len(self.threads)}", daemon=True)
                    self.threads.append(thread)
                    self.idle += 1  # counted idle until it takes its first job
                    thread.start()

    def work(self) -> None:
        jobs, lock, app = self.jobs, self.lock, self.app
        while True:
            job = jobs.get()
            with lock:
                self.idle -= 1
            if job is None:
                return
            cycle, environ = job
            try:
                cycle.run(app, environ)  # the application's failures go to the cycle
            except BaseException:  # pragma: no cover - a bug of the adapter's own
                error_log.exception("error in a WSGI pool thread")
            del job, cycle, environ
            with lock:
                self.idle += 1

    def shutdown(self) -> None:
        """Drop the jobs no thread has taken, and let every thread end after its current one."""
        self.closed = True
        while True:
            try:
                job = self.jobs.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                job[0].lost()
        for _ in self.threads:
            self.jobs.put(None)


class _Input(io.RawIOBase):
    """``wsgi.input``: the request body, read from the engine in the application's thread."""

    def __init__(self, cycle: _WsgiCycle) -> None:
        self._cycle = cycle
        self._buffer = b""
        self._eof = cycle.req.body_reader is None

    def readable(self) -> bool:
        return True

    def _more(self) -> bool:
        if self._eof:
            return False
        reader = self._cycle.req.body_reader
        assert reader is not None
        piece = asyncio.run_coroutine_threadsafe(reader.read(), self._cycle.loop).result()
        if not piece:
            self._eof = True
            return False
        self._buffer += piece
        return True

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            while self._more():
                pass
            data, self._buffer = self._buffer, b""
            return data
        while len(self._buffer) < size and self._more():
            pass
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def readinto(self, b: Any) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        while b"\n" not in self._buffer and (size is None or size < 0 or len(self._buffer) < size) and self._more():
            pass
        end = self._buffer.find(b"\n") + 1 or len(self._buffer)
        if size is not None and size >= 0:
            end = min(end, size)
        data, self._buffer = self._buffer[:end], self._buffer[end:]
        return data


class _WsgiCycle(Deferred):
    """One request between the loop (the engine) and the thread running the application; the
    engine holds it as the request's :class:`~fasthttp.application.Deferred` until the thread
    hands the response over."""

    # PERF: the state every exchange starts in is the class's (see Deferred).
    status: int | None = None
    fields: list[tuple[str, str]] = []  # noqa: RUF012 - replaced, never mutated
    length: int | None = None
    sent = False  # the head was handed to the engine
    # the streamed body, loop side
    chunks: collections.deque[bytes] | None = None
    ended = False  # the thread handed over the last piece
    failure: BaseException | None = None
    waiter: asyncio.Future[None] | None = None
    owed = False  # the thread waits for the engine to ask for the next piece
    ack: threading.Semaphore | None = None  # the engine asks for the next piece
    disconnected = False
    streamed = 0  # body bytes taken from the application

    def __init__(self, req: Request, loop: asyncio.AbstractEventLoop, inbox: _Inbox) -> None:
        self.req = req
        self.loop = loop
        self.inbox = inbox

    # -- thread side ---------------------------------------------------------------------------

    def start_response(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        if exc_info is not None:
            try:
                if self.sent:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self.status is not None:
            raise RuntimeError("start_response called twice without exc_info")
        code = status[:3]
        if not (len(status) >= 3 and code.isascii() and code.isdigit() and (len(status) == 3 or status[3] == " ")):
            raise ValueError(f"invalid WSGI status: {status!r}")
        if code < "200":
            # RFC 9110 §15.2: a 1xx is interim, never the answer to a request (the client would
            # take the next response for this one; 101 would switch protocols). (Past 599: the
            # writer's rule.)
            raise ValueError(f"WSGI status {status!r} is not a final status")
        fields = []
        length = None
        for name, value in headers:
            if type(name) is not str or type(value) is not str:
                raise TypeError(f"WSGI header names and values are str: {(name, value)!r}")
            key = name.lower()
            if key in _ENGINE_FIELDS:
                if key == "content-length":
                    if not (value.strip().isascii() and value.strip().isdigit()):
                        raise ValueError(f"invalid Content-Length from the application: {value!r}")
                    if length is not None and int(value) != length:
                        # RFC 9110 §8.6, RFC 9112 §6.3: two different lengths frame no message.
                        raise ValueError(f"conflicting Content-Length values from the application: {length} and {int(value)}")
                    length = int(value)
                continue
            fields.append((name, value))
        self.status = int(code)
        self.fields = fields
        self.length = length
        return self.write

    def write(self, data: bytes) -> None:
        """PEP 3333's ``write()``: the piece is handed over before this returns."""
        if self.status is None:
            raise RuntimeError("write() before start_response()")
        data = _body_bytes(data)
        if not self.sent:
            self.hand_over(self.stream_response())
        self.hand_piece(data)

    def hand_over(self, result: Any) -> None:
        self.sent = True
        self.inbox.call(self.resolve, result)

    def stream_response(self) -> StreamingResponse:
        assert self.status is not None
        self.chunks = collections.deque()
        self.ack = threading.Semaphore(0)
        resp = StreamingResponse(_ThreadBody(self), self.status, content_length=self.length)
        resp.fields = self.fields
        return resp

    def hand_piece(self, data: bytes) -> None:
        """Hand *data* to the engine and wait until it asks for more (backpressure)."""
        if self.disconnected:
            raise ClientDisconnected("the client closed the connection")
        if not data:
            return
        self.check_length(len(data), False)
        self.inbox.call(self.put, data)
        assert self.ack is not None
        self.ack.acquire()
        if self.disconnected:
            raise ClientDisconnected("the client closed the connection")

    def check_length(self, n: int, last: bool) -> None:
        """Count *n* more body bytes; never a byte past the announced ``Content-Length`` (the
        connection carries the next response right after it, RFC 9112 §6.3), nor fewer at the
        end (*last*)."""
        streamed = self.streamed = self.streamed + n
        length = self.length
        if length is None or self.bodyless():
            return
        if streamed > length or last and streamed != length:
            raise RuntimeError(f"the response body ({streamed} bytes) does not match its Content-Length {length}")

    def bodyless(self) -> bool:
        """Does the response carry no content (RFC 9110 §6.4.1: HEAD, 1xx, 204, 304)?"""
        status = self.status or 200
        return self.req.head.method == "HEAD" or status < 200 or status == 204 or status == 304

    def run(self, app: WsgiApp, environ: dict[str, Any]) -> None:
        """The thread's work: call the application, iterate its result, close it."""
        result: Any = None
        try:
            result = app(environ, self.start_response)
            self.send_result(result)
        except BaseException as exc:
            self.failed(exc)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                try:
                    close()
                except Exception as exc:
                    error_log.error("error closing the WSGI response of %s", self.describe(), exc_info=exc)

    def send_result(self, result: Any) -> None:
        if isinstance(result, FileWrapper) and not self.sent:
            file = self.file_response(result.filelike)
            if file is not None:
                self.hand_over(file)
                return
        if not self.sent and self.length is not None and self.length <= _WHOLE:
            # PERF: the usual small response: one Response, one write.
            body = b"".join(result)
            if self.status is None:
                raise RuntimeError("the WSGI application returned without calling start_response()")
            self.check_length(len(body), True)
            if self.length and self.req.head.method == "HEAD":
                # RFC 9110 §9.3.2, as below: the announced length wins over a body (discarded).
                self.hand_over(self.stream_response())
                self.inbox.call(self.end, None)
                return
            resp = Response(body, self.status)
            resp.fields = self.fields
            self.hand_over(resp)
            return
        for piece in result:
            if piece:
                piece = _body_bytes(piece)  # before the head goes out: a wrong type is a 500
                if not self.sent:
                    if self.status is None:
                        raise RuntimeError("the WSGI application yielded before calling start_response()")
                    self.hand_over(self.stream_response())
                self.hand_piece(piece)
        if self.status is None:
            raise RuntimeError("the WSGI application returned without calling start_response()")
        if not self.sent:
            resp = Response(b"", self.status)
            resp.fields = self.fields
            if self.length and self.req.head.method == "HEAD":
                # RFC 9110 §9.3.2: the length the GET would have, announced.
                self.hand_over(self.stream_response())
            else:
                self.hand_over(resp)
        self.inbox.call(self.end, None)

    def file_response(self, filelike: Any) -> FileResponse | None:
        """A FileResponse for a regular file read from its start, else None (iterate it)."""
        name = getattr(filelike, "name", None)
        fileno = getattr(filelike, "fileno", None)
        tell = getattr(filelike, "tell", None)
        if not isinstance(name, str) or fileno is None or tell is None or self.status is None:
            return None
        try:
            if tell() != 0 or not stat.S_ISREG(os.fstat(fileno()).st_mode):
                return None
        except (OSError, ValueError):
            return None
        resp = FileResponse(name, self.status, etag=False, last_modified=False, accept_ranges=False)
        resp.fields = self.fields
        return resp

    def failed(self, exc: BaseException) -> None:
        if not self.sent:
            error_log.error("error in WSGI application for %s", self.describe(), exc_info=exc)
            self.hand_over(_INTERNAL_ERROR)
        elif self.disconnected and isinstance(exc, OSError):
            pass  # the client left
        else:
            # The head is out: the engine aborts the connection and logs this with its traceback.
            self.inbox.call(self.fail, exc)

    def describe(self) -> str:
        return f"{self.req.method} {self.req.target.decode('latin-1')}"

    # -- loop side -----------------------------------------------------------------------------

    def resolve(self, result: Any) -> None:
        if type(result) is StreamingResponse:
            add = getattr(self.req.connection, "add_lost_callback", None)
            if add is not None:
                add(self.lost)
        self.deliver(result)

    def put(self, data: bytes) -> None:
        assert self.chunks is not None
        self.chunks.append(data)
        self.wake()

    def end(self, _: Any = None) -> None:
        self.ended = True
        self.wake()

    def fail(self, exc: BaseException) -> None:
        self.failure = exc
        self.wake()

    def wake(self) -> None:
        waiter = self.waiter
        if waiter is not None:
            self.waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def lost(self) -> None:
        if not self.disconnected:
            self.disconnected = True
            if self.ack is not None:
                self.ack.release()  # a thread waiting to hand a piece over gives up
            self.wake()

    def finished(self) -> None:
        remove = getattr(self.req.connection, "remove_lost_callback", None)
        if remove is not None:
            remove(self.lost)


def _body_bytes(piece: Any) -> bytes:
    """A piece of a WSGI response body as bytes: PEP 3333 says bytes; a bytearray or memoryview
    is taken too. Anything else is the application's error (``bytes(5)`` would send five NULs,
    ``bytes("text")`` fails only after the head went out)."""
    if type(piece) is bytes:
        return piece
    if isinstance(piece, (bytes, bytearray, memoryview)):
        return bytes(piece)
    raise TypeError(f"a WSGI response body is bytes, not {type(piece).__name__}: {piece!r:.40}")


class _ThreadBody:
    """The async iterator the engine's stream sender pulls the thread's pieces from."""

    def __init__(self, cycle: _WsgiCycle) -> None:
        self.cycle = cycle

    def __aiter__(self) -> _ThreadBody:
        return self

    async def __anext__(self) -> bytes:
        cycle = self.cycle
        if cycle.owed:
            # The engine asks for more: the piece before is written (and drained).
            cycle.owed = False
            assert cycle.ack is not None
            cycle.ack.release()
        while True:
            if cycle.chunks:
                cycle.owed = True
                return cycle.chunks.popleft()
            if cycle.failure is not None:
                cycle.finished()
                raise cycle.failure
            if cycle.disconnected:
                raise ClientDisconnected("the client closed the connection")
            if cycle.ended:
                cycle.finished()
                raise StopAsyncIteration
            waiter = cycle.waiter = cycle.loop.create_future()
            await waiter

    async def aclose(self) -> None:
        """The engine gave up on the response (the client left, or a write failed)."""
        self.cycle.lost()
        self.cycle.finished()


class WsgiApplication:
    """A WSGI (PEP 3333) application, served by the engine in a pool of at most *threads*
    threads (see the module docstring). *root_path* is ``SCRIPT_NAME``."""

    def __init__(self, app: WsgiApp, *, threads: int = 10, root_path: str = "", on_connect: OnConnect | None = None) -> None:
        if threads < 1:
            raise ValueError(f"threads must be at least 1, not {threads!r}")
        if root_path and (not root_path.startswith("/") or root_path.endswith("/")):
            raise ValueError(f"root_path must start with '/' and not end with one: {root_path!r}")
        self.app = app
        self.threads = threads
        self.root_path = root_path
        self.on_connect = on_connect
        self._pool: _Pool | None = None
        self._inbox: _Inbox | None = None
        # PERF: the environ keys that are the same for every request (a copy per request).
        self._base: dict[str, Any] = {
            "SCRIPT_NAME": root_path,
            "wsgi.version": (1, 0),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "wsgi.file_wrapper": FileWrapper,
            "wsgi.input_terminated": True,  # a chunked body reads to its end
        }

    def engine_handler(self) -> Handler:
        return self.handle

    async def startup(self) -> None:
        self._start()

    def _start(self) -> _Pool:
        pool = self._pool
        if pool is None:
            pool = self._pool = _Pool(self.app, self.threads)
        return pool

    async def shutdown(self) -> None:
        pool = self._pool
        if pool is not None:
            self._pool = None
            # The engine drained the connections; threads still streaming to a closed one stop
            # at their next piece. An application stuck in a thread does not hold shutdown.
            pool.shutdown()

    def environ(self, req: Request, cycle: _WsgiCycle) -> dict[str, Any]:
        """The PEP 3333 environ of *req*."""
        head = req.head
        path = head.path
        if "%" in path:
            # PEP 3333: PATH_INFO is the decoded bytes, as latin-1 "bytes in str".
            path = unquote_to_bytes(path).decode("latin-1")
        conn = req.connection
        # PERF: the server address is the connection's (a getsockname per lookup): looked up
        # once, kept in the connection's session dict (the application never sees it).
        session = conn.session
        server = session.get(_SERVER_KEY)
        if server is None:
            server = session[_SERVER_KEY] = _server_name_port(conn)
        environ = self._base.copy()
        environ["REQUEST_METHOD"] = head.method
        environ["PATH_INFO"] = path
        environ["QUERY_STRING"] = head.query
        environ["SERVER_NAME"], environ["SERVER_PORT"] = server
        environ["SERVER_PROTOCOL"] = "HTTP/1.1" if head.version == "1.1" else "HTTP/" + head.version
        environ["wsgi.url_scheme"] = "https" if conn.is_secure else "http"
        environ["wsgi.input"] = _Input(cycle)
        client = conn.client
        if type(client) is tuple:
            environ["REMOTE_ADDR"] = str(client[0])
            environ["REMOTE_PORT"] = str(client[1])
        if head.content_length is not None:
            environ["CONTENT_LENGTH"] = str(head.content_length)
        keys = _ENVIRON_KEYS
        for name, value in head.headers.raw():
            key = keys.get(name)
            if key is None:
                key = _environ_key(name)
                if key is None:
                    continue  # APPSEC: see the module docstring; or Content-Length, set above
            text = value.decode("latin-1")
            if key in environ and key != "CONTENT_TYPE":
                # RFC 9110 §5.3: repeated fields combine with commas (cookies with "; ").
                environ[key] += ("; " if key == "HTTP_COOKIE" else ",") + text
            else:
                environ[key] = text
        if head.target[:1] != b"/" or type(conn) is ForwardedConnection and conn.forwarded_host is not None:
            # The host the router would see (Request.host): absolute-form authority (RFC 9112
            # §3.2.2) or a trusted proxy's forwarded host.
            host = req.host
            if host is not None:
                environ["HTTP_HOST"] = host
        return environ

    def handle(self, req: Request) -> Any:
        """The engine's handler: run the application in the pool for *req*. PERF: a plain
        function answering with the exchange, a :class:`~fasthttp.application.Deferred` the
        thread delivers: no Task and no future of the engine's."""
        if req.body_reader is not None:
            req.check_body_size()  # 413 on the announced length, before the application runs
        loop = _get_running_loop()
        pool = self._pool or self._start()
        inbox = self._inbox
        if inbox is None or inbox.loop is not loop:
            inbox = self._inbox = _Inbox(loop)
        cycle = _WsgiCycle(req, loop, inbox)
        pool.submit(cycle, self.environ(req, cycle))
        return cycle

    def __repr__(self) -> str:
        return f"WsgiApplication({self.app!r}, threads={self.threads})"
