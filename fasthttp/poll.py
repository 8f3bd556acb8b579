"""Poll-driven HTTP serving: a synchronous server object for programs that own their own
``select``/``poll`` loop, or have no asyncio at all (uHTTP's model).

Strategy
--------
No second implementation of HTTP: a :class:`PollServer` drives the same kernels as the engine
(the request parser with the same limits, the writer, the chunked encoder), hands out the same
:class:`~fasthttp.requests.Request` (a :class:`PollRequest` adds ``respond`` and friends), and
serializes the same response family (``Response``, ``StreamingResponse`` with a sync iterable,
``FileResponse`` with its conditional and Range planning). What is new here is only the I/O:
non-blocking sockets and a readiness loop that belongs to the caller.

- ``server.read_sockets`` / ``server.write_sockets`` are what to give ``select``;
  ``server.process_events(readable, writable)`` does the reading, parsing and writing those
  allow, runs the deadlines, and returns the next complete request (or None). Several servers
  (HTTP and HTTPS) and the caller's own sockets can share one ``select``: each server ignores the
  sockets it does not own. ``server.wait(timeout)`` is the same with ``poll``/``select`` inside.
- A request is handed out once its whole body is in (bounded by ``max_body_size``, 413 on the
  announced length before a byte is read; ``Expect: 100-continue`` is answered then). The
  caller may answer at once or keep the request and answer later (the delayed-response
  pattern): the connection has no read deadline while its request waits for an answer.
- Pipelining: responses leave in request order; a connection hands out its next request only
  once the one before is answered, and stops being read past a small queue of parsed requests.
- Writing never blocks: output goes to a per-connection buffer flushed when the socket is
  writable. A file (``respond_file``) or an iterable is pulled piece by piece only while that
  buffer is under ``write_high_water``; a pushed stream (``respond_stream``,
  ``respond_multipart`` for MJPEG) reports its backlog (``stream.buffered``) so the producer can
  drop frames for a slow client. A connection whose buffer is full is not read (the peer must
  read what it asked for first).
- TLS: each connection's handshake runs non-blocking inside the same loop. Before it, the first
  bytes are peeked (:func:`fasthttp.listeners.sniff_tls`): plain HTTP on the TLS port gets a
  plaintext 400 telling the client to use https (as nginx does) instead of a failed handshake.
- Deadlines (``Config``): header read (408), body inactivity (408), keep-alive idle (silent
  close), write (abort), linger after an error (discard input, then close). They are checked
  on every ``process_events`` call: call it at least every second (a ``select`` timeout of one
  second does that).
- Errors the parser raises get the engine's answer (the same status, reason body and
  ``Connection: close``), after the responses already owed.

Layer: engine (``DESIGN.md``). It does socket I/O, which the message model may not, and builds
on the engine's ``Config`` and listeners; it imports no asyncio, so a program without an event
loop pays for none.
"""

from __future__ import annotations

import collections
import errno
import logging
import os
import select
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from .chunked import encode_chunk, encode_last_chunk
from .config import Config, split_options
from .errors import ExpectationFailed, HttpError, HttpProtocolError, RequestTimeout
from .files import FileResponse
from .headers import Headers
from .listeners import compose_bind, make_socket, peer_credentials, plain_http_on_tls_port, sniff_tls
from .parser import RequestHead, RequestParser
from .ranges import make_boundary
from .requests import PeerCredentials, Request, check_body_size
from .responses import (
    FieldMethods,
    Response,
    StreamingResponse,
    Upgrade,
    error_bytes,
    error_response,
    multipart_part,
    render_http_error,
    to_response,
)
from .writer import write_head, write_response

__all__ = ("PollServer", "PollRequest", "ResponseStream", "MultipartStream")

log = logging.getLogger("fasthttp.server")
error_log = logging.getLogger("fasthttp.error")

_INF = float("inf")
_READ_SIZE = 64 * 1024
_MAX_READS = 4  # reads per readable event: fairness between connections
_QUEUE_HIGH = 16  # parsed requests a connection holds before it is no longer read
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_ACCEPTS = 64  # connections accepted per readable event on the listener

# What a connection's read deadline stands for (as in fasthttp.protocol).
_K_NONE, _K_IDLE, _K_HEAD, _K_BODY, _K_LINGER, _K_TLS = range(6)


class _CompleteBody:
    """The body of a poll request: received whole before the request is handed out. It is the
    :class:`~fasthttp.requests.BodyReader` of the request, so every decoder works on it."""

    __slots__ = ("_data", "_limit", "_taken", "_trailers")

    def __init__(self, data: bytes, limit: int | None, trailers: Headers | None) -> None:
        self._data = data
        self._limit = limit
        self._taken = False
        self._trailers = trailers

    @property
    def limit(self) -> int | None:
        return self._limit

    def set_limit(self, limit: int | None) -> None:
        self._limit = limit
        self.check_size()

    def check_size(self) -> None:
        check_body_size(len(self._data), self._limit)

    async def read(self) -> bytes:
        if self._taken:
            return b""
        self._taken = True
        self.check_size()
        return self._data

    async def read_all(self) -> bytes:
        self.check_size()
        self._taken = True
        return self._data

    @property
    def cached(self) -> bytes | None:
        return self._data

    @property
    def complete(self) -> bool:
        return True

    @property
    def trailers(self) -> Headers | None:
        return self._trailers


def run_sync(awaitable: Awaitable[Any]) -> Any:
    """The result of *awaitable* when it completes without waiting (a body decoder over a body
    already received); RuntimeError if it would wait for an event loop."""
    gen = awaitable.__await__()
    try:
        gen.send(None)
    except StopIteration as stop:
        return stop.value
    gen.close()
    raise RuntimeError("this awaitable needs an event loop; the poll server runs none")


class PollRequest(Request):
    """A :class:`~fasthttp.requests.Request` handed out by a :class:`PollServer`, with its body
    already received, and the means to answer it (now, or later: keep the object).

    ``data`` is the body as bytes; ``sync(request.json())`` (or ``form()``, ``text()``,
    ``validated(schema)``) runs a body decoder without an event loop, raising the same
    :class:`~fasthttp.errors.HttpError` (400, 413, 415, 422) an engine handler would meet;
    answer it with :meth:`respond_error`.
    """

    __slots__ = ("_conn", "answered", "number")

    def __init__(self, head: RequestHead, conn: _Connection, max_body_size: int | None) -> None:
        Request.__init__(self, head, conn, max_body_size)
        self._conn = conn
        #: True once a response (or the head of a stream) was given for this request.
        self.answered = False
        #: Its place on the connection (1 for the first request).
        self.number = conn.requests

    @property
    def data(self) -> bytes:
        """The request body (``b""`` for a request without content)."""
        reader = self.body_reader
        cached = reader.cached if reader is not None else None
        return cached if cached is not None else b""

    @property
    def url(self) -> str:
        """The request-target as received (``/path?query``)."""
        return self.target.decode("latin-1")

    @staticmethod
    def sync(awaitable: Awaitable[Any]) -> Any:
        """Run a body decoder (``request.json()``, ``form()``, ...) to its result, no loop."""
        return run_sync(awaitable)

    def respond(self, body: Any = None, status: int = 200, headers: Any = None) -> None:
        """Answer with *body*: ``str`` (text/plain), ``bytes``, ``dict``/``list`` (JSON), ``None``
        (empty), or a response object (``Response``, ``FileResponse``, ``StreamingResponse``
        over a sync iterable). *status* and *headers* apply to a plain body; for a response
        object they override its own only when given (a status other than 200, or headers)."""
        t = type(body)
        response: Any
        if t is str or t is bytes:
            # PERF: the common answer, one Response (what to_response((body, status)) makes).
            response = Response(body, status, headers)
        elif isinstance(body, (FieldMethods, Upgrade)) and status == 200 and headers is None:
            response = to_response(body)
        elif body is None:
            response = Response(b"", status, headers)
        else:
            response = to_response((body, status, headers) if headers is not None else (body, status))
        self._conn.answer(self, response)

    def respond_error(self, exc: HttpError) -> None:
        """Answer an :class:`~fasthttp.errors.HttpError` as the framework would (its status,
        detail and headers, in the representation the request accepts)."""
        self._conn.answer(self, render_http_error(exc, self))

    def respond_redirect(self, url: str, status: int = 302, headers: Any = None) -> None:
        """Redirect to *url* (``Location``, RFC 9110 §10.2.2)."""
        self._conn.answer(self, Response.redirect(url, status, headers))

    def respond_file(self, path: str | os.PathLike[str], headers: Any = None, **options: Any) -> None:
        """Send a file from disk without blocking the loop, with validators, conditional
        requests and ``Range`` (see :class:`~fasthttp.files.FileResponse` for *options*)."""
        self._conn.answer(self, FileResponse(path, headers=headers, **options))

    def respond_stream(
        self, status: int = 200, headers: Any = None, content_type: str | bytes | None = None
    ) -> ResponseStream:
        """Start a response whose body the caller pushes later (``stream.write(data)``, then
        ``stream.end()``): chunked to HTTP/1.1, close-delimited to HTTP/1.0."""
        stream = ResponseStream(self._conn, self)
        self._conn.open_stream(self, stream, StreamingResponse((), status, headers, content_type))
        return stream

    def respond_multipart(
        self,
        headers: Any = None,
        *,
        frame_type: str | bytes | None = "image/jpeg",
        subtype: str = "x-mixed-replace",
    ) -> MultipartStream:
        """Start a ``multipart/x-mixed-replace`` stream (MJPEG): ``stream.frame(data)`` sends one
        part, ``stream.end()`` the closing delimiter."""
        boundary = make_boundary()
        stream = MultipartStream(self._conn, self, boundary.encode("ascii"), frame_type)
        ctype = f"multipart/{subtype}; boundary={boundary}"
        self._conn.open_stream(self, stream, StreamingResponse((), 200, headers, ctype))
        return stream


class ResponseStream:
    """A response body pushed piece by piece by the caller (see :meth:`PollRequest.respond_stream`)."""

    __slots__ = ("_conn", "request", "_chunked", "_open")

    def __init__(self, conn: _Connection, request: PollRequest) -> None:
        self._conn = conn
        self.request = request
        self._chunked = False
        self._open = True

    @property
    def closed(self) -> bool:
        """True once ended, or once the client went away (writing then raises BrokenPipeError)."""
        return not self._open or self._conn.closed

    @property
    def buffered(self) -> int:
        """Bytes written but not yet taken by the client: a producer of live frames skips a
        frame while this is high, so a slow client sees fewer frames, not older ones."""
        return self._conn.buffered

    def start(self, chunked: bool) -> None:
        self._chunked = chunked

    def write(self, data: bytes | str) -> None:
        """Send one piece of the body (nothing for an empty piece)."""
        if isinstance(data, str):
            data = data.encode()
        if self.closed:
            raise BrokenPipeError("the stream is closed" if not self._open else "the client closed the connection")
        if data:
            self._conn.push(encode_chunk(data) if self._chunked else data)

    def end(self, trailers: Any = None) -> None:
        """End the body (with *trailers*, when chunked: RFC 9112 §7.1.2)."""
        if not self._open:
            return
        self._open = False
        if not self._conn.closed:
            self._conn.end_stream(self.request, encode_last_chunk(trailers or None) if self._chunked else b"")


class MultipartStream(ResponseStream):
    """A ``multipart/x-mixed-replace`` stream (see :meth:`PollRequest.respond_multipart`)."""

    __slots__ = ("boundary", "_frame_type")

    def __init__(self, conn: _Connection, request: PollRequest, boundary: bytes, frame_type: str | bytes | None) -> None:
        ResponseStream.__init__(self, conn, request)
        self.boundary = boundary
        self._frame_type = frame_type

    def frame(self, data: bytes, headers: Any = None) -> None:
        """Send one part (a frame), with its own *headers* if given."""
        self.write(multipart_part((data, headers) if headers is not None else data, self.boundary, self._frame_type))

    def end(self, trailers: Any = None) -> None:
        if not self._open:
            return
        if not self.closed:
            self.write(b"--" + self.boundary + b"--\r\n")
        ResponseStream.end(self, trailers)


class _Connection:
    """One client connection of a :class:`PollServer` (the requests' ``connection``)."""

    def __init__(self, server: PollServer, sock: socket.socket, client: Any) -> None:
        cfg = server.config
        self.server = server
        self.sock: Any = sock  # a socket.socket, or its ssl.SSLSocket once wrapped
        self.client = client
        self._session: dict[str, Any] | None = None
        self.tls = server.ssl_context is not None
        self.state = _K_TLS if self.tls else _K_IDLE
        self.sniffing = self.tls
        self.parser = RequestParser(**server.parser_options)
        self.inbox: collections.deque[PollRequest] = collections.deque()
        self.current: PollRequest | None = None  # handed out, not yet answered in full
        self.receiving: PollRequest | None = None  # head in, body arriving
        self.parts: list[bytes] = []
        self.out = bytearray()
        self.producer: Iterator[bytes] | None = None  # a file or an iterable being sent
        self.stream: ResponseStream | None = None
        self.keep_after = True  # the persistence of the response in progress
        self.requests = 0
        self.eof = False  # the client ended its side
        self.stop = False  # nothing more is parsed (error, or the last response said close)
        self.close_when_flushed = False
        self.closed = False
        self.pending_error: HttpProtocolError | None = None
        self.write_deadline = _INF
        self.deadline = server.now + cfg.header_timeout
        self.peeked_secure = False

    # -- ConnectionInfo (what a Request tells about its connection) ----------------------------

    @property
    def session(self) -> dict[str, Any]:
        session = self._session
        if session is None:
            session = self._session = {"client": self.client}
            if isinstance(self.client, (str, bytes)):
                session["credentials"] = self.peer_credentials  # AF_UNIX (degu)
        return session

    @property
    def is_secure(self) -> bool:
        return isinstance(self.sock, ssl.SSLSocket)

    @property
    def peercert(self) -> dict[str, Any] | None:
        if not isinstance(self.sock, ssl.SSLSocket):
            return None
        return self.sock.getpeercert() or None

    @property
    def buffered(self) -> int:
        return len(self.out)

    @property
    def peer_credentials(self) -> PeerCredentials | None:
        return peer_credentials(self.sock) if not self.tls else None

    # -- readiness ----------------------------------------------------------------------------

    def wants_read(self) -> bool:
        if self.closed or self.eof:
            return False
        if self.state == _K_LINGER or self.sniffing:
            return True
        if self.state == _K_TLS:
            return not self._handshake_wants_write
        if self.stop:
            return False
        return len(self.out) < self.server.config.write_high_water and len(self.inbox) < _QUEUE_HIGH

    def wants_write(self) -> bool:
        if self.closed:
            return False
        if self.state == _K_TLS and not self.sniffing:
            return self._handshake_wants_write
        return bool(self.out) or (self.producer is not None and len(self.out) < self.server.config.write_high_water)

    _handshake_wants_write = False

    # -- reading --------------------------------------------------------------------------------

    def on_readable(self) -> None:
        if self.sniffing:
            self._sniff()
            return
        if self.state == _K_TLS:
            self._handshake()
            return
        for _ in range(_MAX_READS):
            try:
                data = self.sock.recv(_READ_SIZE)
            except (BlockingIOError, InterruptedError, ssl.SSLWantReadError):
                return
            except ssl.SSLWantWriteError:
                return
            except (ConnectionError, ssl.SSLError, OSError):
                self.close()
                return
            if not data:
                self._on_eof()
                return
            if self.state == _K_LINGER:
                continue  # discarding after an error response
            self._feed(data)
            if self.closed or not self.wants_read():
                return
            if len(data) < _READ_SIZE and not (self.tls and self.sock.pending()):
                return

    def _sniff(self) -> None:
        """Peek at the first bytes on a TLS listener: a ClientHello starts the handshake; plain
        HTTP gets the explanatory 400 (RFC 9110 §15.5.1) and the connection closes."""
        try:
            first = self.sock.recv(8, socket.MSG_PEEK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self.close()
            return
        if not first:
            self.close()
            return
        verdict = sniff_tls(first)
        self.sniffing = False
        server = self.server
        if not verdict:
            log.info("plain HTTP from %s on the TLS port %s", self.client, server.port)
            self.stop = True
            self.out += plain_http_on_tls_port(server.config.server_header)
            self._linger()
            return
        raw = self.sock
        assert server.ssl_context is not None
        try:
            self.sock = server.ssl_context.wrap_socket(raw, server_side=True, do_handshake_on_connect=False)
        except (OSError, ValueError):
            self.close()
            return
        server.rekey(raw, self)
        self._handshake()

    def _handshake(self) -> None:
        try:
            self.sock.do_handshake()
        except ssl.SSLWantReadError:
            self._handshake_wants_write = False
            return
        except ssl.SSLWantWriteError:
            self._handshake_wants_write = True
            return
        except (ssl.SSLError, OSError) as exc:
            log.debug("TLS handshake with %s failed: %s", self.client, exc)
            self.close()
            return
        self._handshake_wants_write = False
        self.state = _K_IDLE
        self.deadline = self.server.now + self.server.config.header_timeout
        if not self.server.admit_hook(self):
            return
        if self.sock.pending():
            self.on_readable()

    def _on_eof(self) -> None:
        self.eof = True
        if self.state == _K_LINGER or (self.current is None and not self.inbox and not self.out and self.producer is None):
            self.close()
            return
        self.stop = True
        if self.receiving is not None:
            # RFC 9112 §8: an incomplete message; nothing more will come to finish it.
            self.receiving = None
        self.keep_after = False
        if self.current is None and not self.inbox:
            self.close_when_flushed = True
            self.flush()

    def _feed(self, data: bytes) -> None:
        if self.state == _K_IDLE:
            self.state = _K_HEAD
            self.deadline = self.server.now + self.server.config.header_timeout
        try:
            events = self.parser.feed(data)
        except HttpProtocolError as exc:
            events = getattr(exc, "events", None) or []
            self._on_events(events)
            if not self.stop:
                self.fail(exc)
            return
        self._on_events(events)

    def _on_events(self, events: list[Any]) -> None:
        cfg = self.server.config
        for ev in events:
            if self.stop:
                return
            t = type(ev)
            if t is RequestHead:
                self._on_head(ev)
            elif t is bytes:
                self.parts.append(ev)
                self.deadline = self.server.now + cfg.body_timeout
            else:
                self._on_end(ev)
        if self.parser.paused and not self.stop:
            # An Upgrade or CONNECT request: this server switches no protocols (RFC 9110 §7.8
            # lets it ignore Upgrade), so HTTP goes on with what followed.
            self._on_events(self.parser.resume())

    def _on_head(self, head: RequestHead) -> None:
        server = self.server
        self.requests += 1
        req = PollRequest(head, self, server.config.max_body_size)
        if head.content_length or head.chunked:
            if head.has_expect and not head.expect_continue and head.version == "1.1":
                # RFC 9110 §10.1.1, as the engine (fasthttp.protocol): an expectation other than
                # 100-continue on a request with content is refused with 417.
                self.fail(ExpectationFailed())
                return
            self.receiving = req
            self.parts = []
            self.state = _K_BODY
            self.deadline = server.now + server.config.body_timeout
            if head.expect_continue and head.version == "1.1" and self.current is None and not self.inbox:
                # RFC 9110 §10.1.1: the limits were checked on the head; ask for the body.
                self.push(_CONTINUE)
        else:
            self._complete(req, None)

    def _on_end(self, eom: Any) -> None:
        req = self.receiving
        if req is None:
            return
        self.receiving = None
        data = b"".join(self.parts)
        self.parts = []
        req.body_reader = _CompleteBody(data, self.server.config.max_body_size, eom.trailers)
        self._complete(req, eom)

    def _complete(self, req: PollRequest, eom: Any) -> None:
        self.inbox.append(req)
        self.state = _K_NONE
        self.deadline = _INF
        self._advance()

    def _advance(self) -> None:
        """Hand out the next request once the one before it is answered (responses in order)."""
        if self.current is not None or self.closed:
            return
        if self.inbox:
            req = self.current = self.inbox.popleft()
            self.state = _K_NONE
            self.deadline = _INF  # a delayed response is the caller's business, not a timeout
            self.server.ready.append(req)
            return
        exc = self.pending_error
        if exc is not None:
            self.pending_error = None
            self.out += error_bytes(exc.status, False, self.server.config.server_header)
            self._linger()
            return
        if self.receiving is not None:
            head = self.receiving.head
            if head.expect_continue and head.version == "1.1" and not self.parts:
                self.push(_CONTINUE)
            self.state = _K_BODY
            self.deadline = self.server.now + self.server.config.body_timeout
            return
        if self.stop:
            return
        if self.parser.buffered:
            self.state = _K_HEAD
            self.deadline = self.server.now + self.server.config.header_timeout
        else:
            self.state = _K_IDLE
            self.deadline = self.server.now + self.server.config.keep_alive_timeout

    # -- answering ------------------------------------------------------------------------------

    def _check_answer(self, req: PollRequest) -> bool:
        if req.answered:
            raise RuntimeError("this request was already answered")
        if req is not self.current:
            raise RuntimeError("a request is answered only once it has been handed out by the server")
        req.answered = True
        return not self.closed

    def _keep(self, req: PollRequest) -> bool:
        cfg = self.server.config
        limit = cfg.max_requests_per_connection
        return (
            req.head.keep_alive
            and not self.eof
            and not self.server.closing
            and not (limit and req.number >= limit)
        )

    def answer(self, req: PollRequest, response: Any) -> None:
        if not self._check_answer(req):
            return
        head = req.head
        if type(response) is Upgrade or isinstance(response, Upgrade):
            raise TypeError("the poll server switches no protocols: answer an upgrade request with a plain response")
        keep = self._keep(req)
        server_header = self.server.config.server_header
        if isinstance(response, FileResponse):
            self._send_file(req, response, keep)
            return
        if isinstance(response, StreamingResponse):
            content = response.content
            if hasattr(content, "__aiter__"):
                raise TypeError("the poll server runs no event loop: give StreamingResponse a sync iterable")
            chunked, keep = self._stream_framing(req, response.content_length, keep)
            data = self._head(req, response.status, response.fields, response.content_length, chunked, keep)
            if data is None:
                return
            self.push(data)
            if head.method == "HEAD" or response.status in (204, 304) or response.status < 200:
                self._done(req, keep)
                return
            self.keep_after = keep
            self.producer = _stream_pieces(iter(content), chunked, response.content_length, response.trailers)
            self._fill()
            self.flush()
            return
        try:
            data = write_response(
                response.status,
                response.fields,
                response.body,
                keep_alive=keep,
                http_1_0=head.version == "1.0",
                head=head.method == "HEAD",
                server=server_header,
            )
        except Exception as exc:  # an invalid header or status from the caller
            error_log.error("invalid response to %s %s", head.method, req.url, exc_info=exc)
            data = error_bytes(500, keep, server_header)
        self.push(data)
        self._done(req, keep)

    def _stream_framing(self, req: PollRequest, length: int | None, keep: bool) -> tuple[bool, bool]:
        # RFC 9112 §7: chunked only to HTTP/1.1; an HTTP/1.0 body is delimited by closing.
        chunked = length is None and req.head.version == "1.1"
        return chunked, keep and (length is not None or chunked)

    def _head(self, req: PollRequest, status: int, fields: Any, length: int | None, chunked: bool, keep: bool) -> bytes | None:
        try:
            return write_head(
                status,
                fields,
                content_length=length,
                chunked=chunked,
                keep_alive=keep,
                http_1_0=req.head.version == "1.0",
                server=self.server.config.server_header,
            )
        except Exception as exc:
            error_log.error("invalid response to %s %s", req.method, req.url, exc_info=exc)
            self.push(error_bytes(500, keep, self.server.config.server_header))
            self._done(req, keep)
            return None

    def _send_file(self, req: PollRequest, resp: FileResponse, keep: bool) -> None:
        head = req.head
        try:
            f = open(resp.path, "rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            req.answered = False
            self.answer(req, error_response(404))
            return
        except PermissionError:
            req.answered = False
            self.answer(req, error_response(403))
            return
        try:
            plan = resp.plan(head.method, head.headers, os.fstat(f.fileno()))
        except Exception:
            f.close()
            raise
        if isinstance(plan, Response):
            f.close()
            req.answered = False
            self.answer(req, plan)
            return
        status, fields, parts, length = plan
        data = self._head(req, status, fields, length, False, keep)
        if data is None:
            f.close()
            return
        self.push(data)
        if head.method == "HEAD" or not length or status in (204, 304):
            f.close()
            self._done(req, keep)
            return
        self.keep_after = keep
        self.producer = _file_pieces(f, parts, resp.chunk_size)
        self._fill()
        self.flush()

    def open_stream(self, req: PollRequest, stream: ResponseStream, resp: StreamingResponse) -> None:
        if not self._check_answer(req):
            stream._open = False
            return
        keep = self._keep(req)
        chunked, keep = self._stream_framing(req, None, keep)
        bodyless = req.head.method == "HEAD"
        data = self._head(req, resp.status, resp.fields, None, chunked and not bodyless, keep)
        if data is None:
            stream._open = False
            return
        self.push(data)
        if bodyless:
            stream._open = False
            self._done(req, keep)
            return
        stream.start(chunked)
        self.stream = stream
        self.keep_after = keep

    def end_stream(self, req: PollRequest, tail: bytes) -> None:
        if self.stream is None or self.stream.request is not req:
            return
        self.stream = None
        if tail:
            self.push(tail)
        self._done(req, self.keep_after)

    def push(self, data: bytes) -> None:
        """Queue *data* for the client and try to send at once (one syscall when it fits)."""
        if self.closed:
            return
        self.out += data
        self.flush()

    def _fill(self) -> None:
        producer = self.producer
        if producer is None:
            return
        high = self.server.config.write_high_water
        try:
            while len(self.out) < high:
                piece = next(producer, None)
                if piece is None:
                    self.producer = None
                    req = self.current
                    if req is not None:
                        self._done(req, self.keep_after)
                    return
                self.out += piece
        except Exception as exc:
            # The head is out: the only honest signal left is an incomplete message.
            error_log.error("error while sending a response body", exc_info=exc)
            self.producer = None
            self.close()

    def _done(self, req: PollRequest, keep: bool) -> None:
        """*req*'s response is complete in the output buffer."""
        if req.form_data is not None:
            req.close()
        if self.current is req:
            self.current = None
        self.server.count_response()
        if not keep:
            self.stop = True
            self.inbox.clear()
            self.close_when_flushed = True
            self.flush()
            return
        self._advance()

    def flush(self) -> None:
        """Send what the socket takes now; finish a close that waited for the buffer to empty."""
        out = self.out
        while out and not self.closed:
            try:
                n = self.sock.send(out)
            except (BlockingIOError, InterruptedError, ssl.SSLWantWriteError, ssl.SSLWantReadError):
                break
            except (ConnectionError, ssl.SSLError, OSError):
                self.close()
                return
            del out[:n]
            if self.producer is not None and len(out) < self.server.config.write_high_water:
                self._fill()
        if self.closed:
            return
        if out or self.producer is not None:
            if self.write_deadline == _INF:
                self.write_deadline = self.server.now + self.server.config.write_timeout
            return
        self.write_deadline = _INF
        if self.close_when_flushed:
            self.close_when_flushed = False
            if not self.eof and (self.state == _K_LINGER or self.receiving is not None or self.parser.buffered):
                # Input may still come: discard it until EOF or the linger deadline.
                self.state = _K_LINGER
                self.deadline = min(self.deadline, self.server.now + self.server.config.linger_timeout)
                self._shutdown_write()
            else:
                self.close()

    def on_writable(self) -> None:
        if self.state == _K_TLS and not self.sniffing:
            self._handshake()
            return
        self._fill()
        self.flush()
        if self.write_deadline != _INF and not self.out:
            self.write_deadline = _INF

    # -- errors, deadlines, closing ---------------------------------------------------------------

    def fail(self, exc: HttpProtocolError) -> None:
        """A protocol error: answer it after the responses owed, then close (RFC 9112 §9.6)."""
        log.info("refused a request from %s: %d %s", self.client, exc.status, exc.detail)
        self.stop = True
        self.receiving = None
        # The requests parsed before the bad bytes keep their answers; the error goes after.
        self.pending_error = exc
        self._advance()

    def _linger(self) -> None:
        """Half-close after the error response and discard input for a moment, so the response
        is not destroyed by a TCP reset (RFC 9112 §9.6)."""
        self.state = _K_LINGER
        self.deadline = self.server.now + self.server.config.linger_timeout
        self.close_when_flushed = True
        self.flush()

    def _shutdown_write(self) -> None:
        if self.tls:
            self.close()  # TLS has no half-close here: close_notify and close
            return
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            self.close()

    def check_deadlines(self, now: float) -> None:
        if self.closed:
            return
        if self.write_deadline <= now:
            self.close()  # the peer stopped reading: nothing more can be delivered
            return
        if self.deadline > now:
            return
        state = self.state
        if state == _K_HEAD or state == _K_BODY:
            self.deadline = _INF
            self.fail(RequestTimeout())
        else:  # idle keep-alive, linger, a TLS handshake or sniff that never finished
            self.close()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.producer = None
        self.stream = None
        self.out.clear()
        self.server.forget(self)
        try:
            self.sock.close()
        except OSError:  # pragma: no cover
            pass
        if self.current is not None and self.current.form_data is not None:
            self.current.close()


def _stream_pieces(content: Iterator[Any], chunked: bool, length: int | None, trailers: Any) -> Iterator[bytes]:
    sent = 0
    try:
        for piece in content:
            if isinstance(piece, str):
                piece = piece.encode()
            if not piece:
                continue
            sent += len(piece)
            if length is not None and sent > length:
                # APPSEC: never more than the announced length (RFC 9112 §6.3).
                raise RuntimeError(f"the stream passed its announced Content-Length ({length})")
            yield encode_chunk(piece) if chunked else bytes(piece)
        if length is not None and sent != length:
            raise RuntimeError(f"streamed {sent} bytes, announced Content-Length {length}")
        if chunked:
            if callable(trailers):
                trailers = trailers()
            yield encode_last_chunk(trailers or None)
    finally:
        close = getattr(content, "close", None)
        if close is not None:
            close()


def _file_pieces(f: Any, parts: list[Any], chunk_size: int) -> Iterator[bytes]:
    with f:
        for part in parts:
            if type(part) is bytes:
                yield part  # multipart/byteranges framing between the spans
                continue
            offset, count = part
            f.seek(offset)
            while count > 0:
                chunk = f.read(min(chunk_size, count))
                if not chunk:
                    raise RuntimeError("the file shrank while it was being sent")
                count -= len(chunk)
                yield chunk


class PollServer:
    """An HTTP (or, with *ssl_context*, HTTPS) server driven by the caller's loop.

    *address* and *port* are where to listen (``"0.0.0.0"``, ``"::"`` for dual stack,
    ``"127.0.0.1"``; port 0 picks a free one, see :attr:`port`); *address* may also be any bind
    spec of :func:`fasthttp.listeners.parse_bind` (``"unix:/path"``) with *port* None. Every
    other keyword is a :class:`~fasthttp.config.Config` field (``max_header_size``,
    ``max_body_size``, ``keep_alive_timeout``, ``max_requests_per_connection``,
    ``max_connections``, ``header_timeout``, ...) or *config* itself. *on_connect*
    ``(socket, session) -> bool`` may refuse a connection (after the TLS handshake on HTTPS).
    """

    def __init__(
        self,
        address: Any = "0.0.0.0",
        port: int | None = 80,
        ssl_context: ssl.SSLContext | None = None,
        *,
        config: Config | None = None,
        on_connect: Callable[[Any, dict[str, Any]], bool] | None = None,
        **options: Any,
    ) -> None:
        fields, rest = split_options(options)
        if rest:
            raise TypeError(f"unknown PollServer option(s): {', '.join(sorted(rest))}")
        self.config = config if config is not None else Config(**fields)
        if config is not None and fields:
            raise TypeError("give either config or Config fields, not both")
        cfg = self.config
        spec = address if port is None else compose_bind(address, port)
        self.socket = make_socket(spec, backlog=cfg.backlog)
        self.address = self.socket.getsockname()
        self.ssl_context = ssl_context
        self.on_connect = on_connect
        self.parser_options: dict[str, Any] = dict(
            max_request_line=cfg.max_request_line,
            max_header_size=cfg.max_header_size,
            max_header_count=cfg.max_header_count,
            max_body_size=cfg.max_body_size,  # no route may change it here: the kernel's check
            max_chunk_line=cfg.max_chunk_line,
            max_trailer_size=cfg.max_trailer_size,
        )
        #: Complete requests not yet returned by :meth:`process_events` / :meth:`wait`.
        self.ready: collections.deque[PollRequest] = collections.deque()
        self.closing = False
        self.now = time.monotonic()
        self.responses = 0
        self._conns: dict[Any, _Connection] = {}
        self._next_sweep = self.now + 0.25
        self._busy = error_bytes(503, False, cfg.server_header)

    # -- uHTTP's properties ------------------------------------------------------------------------

    @property
    def port(self) -> int | None:
        """The bound port (None on AF_UNIX)."""
        return self.address[1] if isinstance(self.address, tuple) else None

    @property
    def is_secure(self) -> bool:
        return self.ssl_context is not None

    @property
    def connections(self) -> int:
        """Open client connections."""
        return len(self._conns)

    @property
    def read_sockets(self) -> list[Any]:
        """The sockets to watch for reading: the listener (unless full) and each connection
        that may read now (not held back by flow control)."""
        socks: list[Any] = []
        if not self.closing:
            socks.append(self.socket)
        socks.extend(s for s, c in self._conns.items() if c.wants_read())
        return socks

    @property
    def write_sockets(self) -> list[Any]:
        """The sockets with output waiting for the peer to take it."""
        return [s for s, c in self._conns.items() if c.wants_write()]

    # -- the loop ------------------------------------------------------------------------------

    def process_events(self, readable: Any, writable: Any) -> PollRequest | None:
        """Act on what ``select`` reported (sockets of other servers are ignored); run the
        deadlines; return the next complete request, or None."""
        self.now = time.monotonic()
        if self.ready:
            # Requests are already waiting: return one without reading more (flow control).
            self._sweep_if_due()
            return self.ready.popleft()
        conns = self._conns
        for sock in writable:
            conn = conns.get(sock)
            if conn is not None:
                conn.on_writable()
        for sock in readable:
            if sock is self.socket:
                self._accept()
                continue
            conn = conns.get(sock)
            if conn is not None:
                conn.on_readable()
        if self.ssl_context is not None:
            # Bytes TLS already decrypted wait inside the SSL object, invisible to select.
            for conn in [c for c in conns.values() if c.is_secure and not c.closed and c.state != _K_TLS and c.wants_read() and c.sock.pending()]:
                conn.on_readable()
        self._sweep_if_due()
        return self.ready.popleft() if self.ready else None

    def wait(self, timeout: float | None = 1.0) -> PollRequest | None:
        """Wait up to *timeout* seconds (None: until a request comes) for the next complete
        request; return it, or None."""
        if self.ready:
            self.now = time.monotonic()
            return self.ready.popleft()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            step = 1.0 if left is None else min(left, 1.0)  # deadlines run at least every second
            readable, writable = _select(self.read_sockets, self.write_sockets, step)
            req = self.process_events(readable, writable)
            if req is not None or (deadline is not None and time.monotonic() >= deadline):
                return req

    def close(self) -> None:
        """Stop listening and close every connection (requests held are dropped)."""
        self.closing = True
        for conn in list(self._conns.values()):
            conn.close()
        self.ready.clear()
        self.socket.close()
        if self.socket.family == socket.AF_UNIX and isinstance(self.address, str) and self.address:
            try:
                os.unlink(self.address)
            except OSError:
                pass

    def __enter__(self) -> PollServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- what connections call --------------------------------------------------------------------

    def forget(self, conn: _Connection) -> None:
        self._conns.pop(conn.sock, None)
        if conn.current is not None:
            try:
                self.ready.remove(conn.current)
            except ValueError:
                pass

    def rekey(self, old: Any, conn: _Connection) -> None:
        """*conn*'s socket object changed (wrapped for TLS)."""
        self._conns.pop(old, None)
        self._conns[conn.sock] = conn

    def admit_hook(self, conn: _Connection) -> bool:
        on_connect = self.on_connect
        if on_connect is None:
            return True
        try:
            accepted = bool(on_connect(conn.sock, conn.session))
        except Exception:
            error_log.exception("on_connect hook failed; refusing the connection")
            accepted = False
        if not accepted:
            conn.close()
        return accepted

    def count_response(self) -> None:
        self.responses += 1

    # -- internals ------------------------------------------------------------------------------------

    def _accept(self) -> None:
        limit = self.config.max_connections
        for _ in range(_ACCEPTS):
            try:
                sock, client = self.socket.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    error_log.error("cannot accept a connection: %s", exc)
                    return
                raise
            sock.setblocking(False)
            if sock.family != socket.AF_UNIX:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if limit and len(self._conns) >= limit:
                # RFC 9110 §15.6.4: 503 says the refusal is temporary.
                try:
                    sock.send(self._busy)
                except OSError:
                    pass
                sock.close()
                continue
            conn = _Connection(self, sock, client)
            self._conns[sock] = conn
            if self.ssl_context is None:
                self.admit_hook(conn)

    def _sweep_if_due(self) -> None:
        now = self.now
        if now < self._next_sweep:
            return
        self._next_sweep = now + 0.1
        for conn in list(self._conns.values()):
            conn.check_deadlines(now)


def _select(readable: list[Any], writable: list[Any], timeout: float) -> tuple[list[Any], list[Any]]:
    """``poll`` where the system has it (no FD_SETSIZE limit), else ``select``."""
    if not hasattr(select, "poll"):  # pragma: no cover - Windows
        ready = select.select(readable, writable, [], timeout)
        return ready[0], ready[1]
    poller = select.poll()
    by_fd: dict[int, Any] = {}
    masks: dict[int, int] = {}
    for sock in readable:
        fd = sock.fileno()
        by_fd[fd] = sock
        masks[fd] = select.POLLIN
    for sock in writable:
        fd = sock.fileno()
        by_fd[fd] = sock
        masks[fd] = masks.get(fd, 0) | select.POLLOUT
    for fd, mask in masks.items():
        poller.register(fd, mask)
    try:
        events = poller.poll(timeout * 1000)
    except InterruptedError:  # pragma: no cover
        return [], []
    r: list[Any] = []
    w: list[Any] = []
    for fd, ev in events:
        sock = by_fd[fd]
        if ev & (select.POLLIN | select.POLLHUP | select.POLLERR):
            r.append(sock)
        if ev & select.POLLOUT:
            w.append(sock)
    return r, w
