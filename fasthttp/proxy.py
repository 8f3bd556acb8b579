"""Tunnels and proxies: CONNECT tunnels for a forward proxy, and a reverse-proxy handler.

Strategy
--------
**Tunnels** (RFC 9110 §9.3.6). CONNECT is routed like any method (``app.route("/",
methods=["CONNECT"])``, by host like other routes; its authority-form target is
``request.target``). :func:`open_tunnel` connects to that authority first, so a refused or
unresolvable one is a 502 and a slow one a 504 before anything is promised; then it returns an
:class:`~fasthttp.responses.Upgrade` with status 200, and the engine hands the client's transport
to the tunnel with the bytes that already followed the request. A :class:`Tunnel` relays bytes
both ways with flow control (a side whose write buffer is full pauses reading on the other
side, so memory stays at two transport buffers), propagates half-closes (``write_eof``), and has
its own idle timeout, reset by any byte either way: the engine's keep-alive timeout never cuts a
tunnel while data flows. Graceful shutdown aborts it with the other upgraded connections.

**Reverse proxy** (degu's ``Proxy``). :class:`ReverseProxy` is a handler: each request goes to one
upstream HTTP/1.1 server over a pooled connection, the request body streamed to it as it
arrives (chunked when its length is unknown), the response body streamed back as the upstream
sends it, with backpressure both ways. Hop-by-hop fields (RFC 9110 §7.6.1: ``Connection`` and the
fields it names, ``Keep-Alive``, ``TE``, ``Trailer``, ``Transfer-Encoding``, ``Upgrade``,
``Proxy-*``) are removed in both directions; ``Forwarded`` (RFC 7239) gets this hop appended and
``Via`` (RFC 9110 §7.6.3) names it. Upstream failures: refused, reset or malformed is 502, no
connection or no response head within the timeouts is 504 (RFC 9110 §15.6.3, §15.6.5); once the
response has started, a failure can only abort the client's connection.

NOTE: the upstream connection here is deliberately minimal and bounded (:class:`UpstreamPool`:
at most ``max_connections`` open, ``max_idle`` kept, one stale-connection retry for requests
without a body); ``fasthttp.client`` is meant to replace it. Response heads are read with the
strict reader of ``fasthttp._wire``, chunked bodies with the chunked kernel.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

from ._wire import IncompleteResponse, ResponseReader
from .chunked import ChunkedDecoder, EndOfMessage, encode_chunk, encode_last_chunk
from .errors import HttpError
from .requests import Request
from .responses import Response, StreamingResponse, Upgrade, error_response

__all__ = ("open_tunnel", "Tunnel", "ReverseProxy", "UpstreamPool", "HOP_BY_HOP", "parse_authority")

log = logging.getLogger("fasthttp.server")

#: RFC 9110 §7.6.1: fields meaningful for one connection only, never forwarded.
HOP_BY_HOP = frozenset(
    ("connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "proxy-authenticate", "proxy-authorization")
)
_READ = 64 * 1024


def parse_authority(target: bytes | str) -> tuple[str, int]:
    """``(host, port)`` of an authority-form target (RFC 9112 §3.2.3: ``host:port``,
    ``[v6]:port``); a port is required. ValueError otherwise."""
    text = target.decode("latin-1") if isinstance(target, bytes) else target
    if text.startswith("["):
        end = text.find("]")
        host, rest = text[1:end], text[end + 1 :]
        if end < 0 or not rest.startswith(":"):
            raise ValueError(f"not an authority: {text!r}")
        port_text = rest[1:]
    else:
        host, _, port_text = text.rpartition(":")
    if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"not host:port: {text!r}")
    return host, int(port_text)


# -- tunnels ------------------------------------------------------------------------------------------


class _Side(asyncio.Protocol):
    """One end of a :class:`Tunnel`: what it reads is written to the other end."""

    def __init__(self, tunnel: Tunnel) -> None:
        self.tunnel = tunnel
        self.transport: Any = None
        self.peer: _Side | None = None
        self.eof = False
        self.pending: list[bytes] = []  # read before the other end existed

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.tunnel.side_ready(self)

    def data_received(self, data: bytes) -> None:
        tunnel = self.tunnel
        tunnel.last_activity = time.monotonic()
        tunnel.bytes_relayed += len(data)
        peer = self.peer
        if peer is None or peer.transport is None:
            self.pending.append(data)
            self.transport.pause_reading()
            return
        peer.transport.write(data)

    def eof_received(self) -> bool | None:
        self.eof = True
        peer = self.peer
        if peer is not None and peer.transport is not None and peer.transport.can_write_eof():
            peer.transport.write_eof()  # the half-close goes through
        if peer is not None and peer.eof:
            self.tunnel.close()
            return None
        return True  # keep our write side open until the other end is done too

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self.tunnel.close()

    # Flow control: our write buffer is full, so stop reading from the other end.
    def pause_writing(self) -> None:
        peer = self.peer
        if peer is not None and peer.transport is not None:
            peer.transport.pause_reading()

    def resume_writing(self) -> None:
        peer = self.peer
        if peer is not None and peer.transport is not None:
            peer.transport.resume_reading()


class Tunnel:
    """A byte relay between a client and an upstream connection (see the module docstring).
    ``client`` and ``upstream`` are the two protocols; ``idle_timeout`` (seconds, None: none)
    closes a tunnel with no byte either way for that long."""

    def __init__(self, idle_timeout: float | None = 300.0, write_high_water: int = 64 * 1024) -> None:
        self.client = _Side(self)
        self.upstream = _Side(self)
        self.client.peer = self.upstream
        self.upstream.peer = self.client
        self.idle_timeout = idle_timeout
        self.write_high_water = write_high_water
        self.last_activity = time.monotonic()
        self.bytes_relayed = 0
        self.closed = False
        self._timer: asyncio.TimerHandle | None = None

    def side_ready(self, side: _Side) -> None:
        side.transport.set_write_buffer_limits(high=self.write_high_water)
        peer = side.peer
        assert peer is not None
        if peer.transport is None:
            return
        # Both ends are connected: deliver what waited, start the idle watch.
        for s in (side, peer):
            if s.pending:
                data, s.pending = b"".join(s.pending), []
                s.peer.transport.write(data)  # type: ignore[union-attr]
                s.transport.resume_reading()
        if self.idle_timeout and self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.idle_timeout, self._check_idle)

    def _check_idle(self) -> None:
        self._timer = None
        if self.closed or not self.idle_timeout:
            return
        idle = time.monotonic() - self.last_activity
        if idle >= self.idle_timeout:
            log.info("tunnel idle for %.0f s: closed", idle)
            self.close()
            return
        self._timer = asyncio.get_running_loop().call_later(self.idle_timeout - idle, self._check_idle)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for side in (self.client, self.upstream):
            if side.transport is not None and not side.transport.is_closing():
                side.transport.close()


async def open_tunnel(
    request: Request,
    *,
    connect_timeout: float = 10.0,
    idle_timeout: float | None = 300.0,
    allow: Any = None,
) -> Upgrade | Response:
    """Answer a CONNECT *request*: connect to its authority, then take the connection over as a
    :class:`Tunnel` (200), or answer 400 (no authority), 403 (*allow* ``(host, port) -> bool``
    said no), 502 (refused, unresolvable) or 504 (no connection within *connect_timeout*)."""
    if request.method != "CONNECT":
        return error_response(405, "only CONNECT opens a tunnel", [("Allow", "CONNECT")])
    try:
        host, port = parse_authority(request.target)
    except ValueError as exc:
        return error_response(400, str(exc))
    if allow is not None and not allow(host, port):
        return error_response(403, f"tunnels to {host}:{port} are not allowed")
    tunnel = Tunnel(idle_timeout)
    loop = asyncio.get_running_loop()
    try:
        await asyncio.wait_for(loop.create_connection(lambda: tunnel.upstream, host, port), connect_timeout)
    except asyncio.TimeoutError:
        return error_response(504, f"no connection to {host}:{port} within {connect_timeout} s")
    except OSError as exc:
        return error_response(502, f"cannot connect to {host}:{port}: {exc.strerror or exc}")
    return Upgrade(lambda: tunnel.client, status=200)


# -- the reverse proxy ----------------------------------------------------------------------------------


class _Upstream:
    """One connection to the upstream server (asyncio streams) and its response reader."""

    __slots__ = ("reader", "writer", "reused")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.reused = False

    def close(self) -> None:
        if not self.writer.is_closing():
            self.writer.close()


class UpstreamPool:
    """A minimal, bounded pool of connections to one upstream (see the module docstring's NOTE):
    at most *max_connections* open at once (callers wait for one), at most *max_idle* kept."""

    def __init__(self, host: str | None, port: int | None, path: str | None = None, *, max_connections: int = 64, max_idle: int = 16, connect_timeout: float = 5.0) -> None:
        self.host = host
        self.port = port
        self.path = path
        self.max_idle = max_idle
        self.connect_timeout = connect_timeout
        self.opened = 0  # connections made since the start (the tests count reuse with it)
        self._idle: list[_Upstream] = []
        self._slots = asyncio.Semaphore(max_connections)

    async def acquire(self) -> _Upstream:
        await self._slots.acquire()
        try:
            while self._idle:
                conn = self._idle.pop()
                if not conn.writer.is_closing() and not conn.reader.at_eof():
                    conn.reused = True
                    return conn
                conn.close()
            return await self.connect()
        except BaseException:
            self._slots.release()
            raise

    async def connect(self) -> _Upstream:
        """A new connection (within ``connect_timeout``); the caller already holds a slot."""
        if self.path is not None:
            opening = asyncio.open_unix_connection(self.path, limit=_READ)
        else:
            opening = asyncio.open_connection(self.host, self.port, limit=_READ)
        reader, writer = await asyncio.wait_for(opening, self.connect_timeout)
        self.opened += 1
        return _Upstream(reader, writer)

    def release(self, conn: _Upstream, reusable: bool) -> None:
        if reusable and len(self._idle) < self.max_idle and not conn.writer.is_closing():
            self._idle.append(conn)
        else:
            conn.close()
        self._slots.release()

    def close(self) -> None:
        while self._idle:
            self._idle.pop().close()


class _Body:
    """The response body iterator given to the engine: it returns the upstream connection to the
    pool even when the engine closes it before the first piece (an unstarted async generator
    runs no ``finally``)."""

    def __init__(self, pieces: AsyncIterator[bytes], release: Any) -> None:
        self._pieces = pieces
        self._release = release
        self._started = False

    def __aiter__(self) -> _Body:
        return self

    async def __anext__(self) -> bytes:
        self._started = True
        return await self._pieces.__anext__()

    async def aclose(self) -> None:
        if not self._started:
            self._started = True
            self._release()
        await self._pieces.aclose()  # type: ignore[attr-defined]


class _UpstreamFailed(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def _hop_names(fields: list[tuple[str, str]]) -> set[str]:
    """The hop-by-hop names of a header section: the fixed ones and those ``Connection`` lists."""
    names = set(HOP_BY_HOP)
    for name, value in fields:
        if name.lower() == "connection":
            names.update(token.strip().lower() for token in value.split(",") if token.strip())
    return names


def _forwarded_node(client: Any) -> str:
    """RFC 7239 §6: an IPv6 address is quoted and bracketed; AF_UNIX peers are "unknown"."""
    if isinstance(client, tuple):
        host = str(client[0])
        return f'"[{host}]"' if ":" in host else host
    return "unknown"


class ReverseProxy:
    """A handler that forwards every request to *upstream* (``http://host:port`` or
    ``unix:/path``) and streams the answer back (see the module docstring). *timeout* bounds the
    wait for the response head (504); *connect_timeout* the connection (504). ``await
    proxy.close()`` (or an app shutdown hook) drops the idle upstream connections.

    ``app.route("/:path*", methods=[...])(ReverseProxy("http://127.0.0.1:8080"))``
    """

    def __init__(
        self,
        upstream: str,
        *,
        max_connections: int = 64,
        max_idle: int = 16,
        connect_timeout: float = 5.0,
        timeout: float = 30.0,
        via: str = "fasthttp",
    ) -> None:
        if upstream.startswith("unix:"):
            path: str | None = upstream[5:]
            host, port, self.authority = None, None, "localhost"
        else:
            parts = urlsplit(upstream)
            if parts.scheme != "http" or not parts.hostname:
                raise ValueError(f"upstream is http://HOST:PORT or unix:PATH, not {upstream!r}")
            path, host, port = None, parts.hostname, parts.port or 80
            self.authority = parts.netloc
        self.pool = UpstreamPool(host, port, path, max_connections=max_connections, max_idle=max_idle, connect_timeout=connect_timeout)
        self.timeout = timeout
        self.via = via

    async def close(self) -> None:
        self.pool.close()

    async def __call__(self, request: Request) -> Response | StreamingResponse:
        head = self._request_head(request)
        try:
            conn, response, reader = await self._exchange(request, head)
        except _UpstreamFailed as exc:
            log.info("upstream failed for %s %s: %s", request.method, request.target.decode("latin-1"), exc.detail)
            return error_response(exc.status, exc.detail)
        hop = _hop_names(response.headers.items())
        hop.update(("content-length", "date"))  # the engine frames and dates its own response
        fields = [(n, v) for n, v in response.headers.items() if n.lower() not in hop]
        fields.append(("Via", f"1.1 {self.via}"))
        length_text = response.headers.get("content-length")
        length = int(length_text) if length_text is not None and length_text.isdigit() else None
        status = response.status
        keep = (response.headers.get("connection") or "").lower() != "close"
        if request.method == "HEAD" or status < 200 or status in (204, 304):
            self.pool.release(conn, keep and not reader.buffered)
            return StreamingResponse((), status, fields, content_length=length)
        if length is not None and reader.buffered >= length:
            # PERF: the whole body came with the head (small responses): one Response, written
            # with the head in one write, and no sender Task (the proxy figures, issue 16).
            data = reader.take_buffered()
            self.pool.release(conn, keep and len(data) == length)
            return Response(data[:length], status, fields)
        body = _Body(self._body(conn, reader, response, keep, length), lambda: self.pool.release(conn, False))
        return StreamingResponse(body, status, fields, content_length=length)

    def _request_head(self, request: Request) -> bytes:
        fields = request.headers.items()
        hop = _hop_names(fields)
        hop.update(("host", "content-length", "forwarded"))
        out = [f"{request.method} {request.target.decode('latin-1')} HTTP/1.1\r\n"]
        host = request.headers.get("host") or self.authority
        out.append(f"Host: {host}\r\n")
        for name, value in fields:
            if name.lower() not in hop:
                out.append(f"{name}: {value}\r\n")
        # RFC 7239 §4: this hop appended to what came before it.
        node = f"for={_forwarded_node(request.client)};proto={request.scheme}"
        if request.headers.get("host"):
            node += f';host="{request.headers.get("host")}"'
        earlier = request.headers.getall("forwarded")
        out.append("Forwarded: " + ", ".join([*earlier, node]) + "\r\n")
        out.append(f"Via: 1.{1 if request.version == '1.1' else 0} {self.via}\r\n")
        if request.body_reader is not None:
            length = request.content_length
            out.append(f"Content-Length: {length}\r\n" if length is not None else "Transfer-Encoding: chunked\r\n")
        out.append("\r\n")
        return "".join(out).encode("latin-1")

    async def _exchange(self, request: Request, head: bytes) -> tuple[_Upstream, Any, ResponseReader]:
        """Send the request (streaming its body) and read the response head; one retry on a
        reused connection the upstream closed meanwhile, for a request without a body."""
        for attempt in (1, 2):
            try:
                conn = await self.pool.acquire()
            except asyncio.TimeoutError:
                raise _UpstreamFailed(504, "no connection to the upstream in time") from None
            except OSError as exc:
                raise _UpstreamFailed(502, f"cannot connect to the upstream: {exc.strerror or exc}") from None
            reader = ResponseReader()
            reader.expect(request.method)
            try:
                conn.writer.write(head)
                if request.body_reader is not None:
                    chunked = request.content_length is None
                    async for piece in request.stream():
                        conn.writer.write(encode_chunk(piece) if chunked else piece)
                        await conn.writer.drain()  # backpressure: the upstream reads as we send
                    if chunked:
                        conn.writer.write(encode_last_chunk())
                await conn.writer.drain()
                response = await asyncio.wait_for(self._read_head(conn, reader), self.timeout)
                return conn, response, reader
            except asyncio.TimeoutError:
                self.pool.release(conn, False)
                raise _UpstreamFailed(504, f"no response from the upstream within {self.timeout} s") from None
            except HttpError:
                self.pool.release(conn, False)
                raise  # the client's own body failed (413, 400): its status, not the upstream's
            except (OSError, IncompleteResponse, ValueError) as exc:
                self.pool.release(conn, False)
                if attempt == 1 and conn.reused and request.body_reader is None and not reader.buffered:
                    continue  # a pooled connection the upstream had closed: once more, fresh
                raise _UpstreamFailed(502, f"bad response from the upstream: {exc}") from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def _read_head(self, conn: _Upstream, reader: ResponseReader) -> Any:
        while True:
            head = reader.next_head()
            if head is not None:
                if 100 <= head.status < 200 and head.status != 101:
                    continue  # interim responses stay between us and the upstream
                return head
            data = await conn.reader.read(_READ)
            if not data:
                reader.feed_eof()
                reader.next_head()
                raise IncompleteResponse("the upstream closed the connection before a response")
            reader.feed(data)

    async def _body(self, conn: _Upstream, reader: ResponseReader, response: Any, keep: bool, length: int | None) -> AsyncIterator[bytes]:
        """The upstream's response body as it arrives; the connection goes back to the pool only
        after a complete body on a persistent connection."""
        reusable = False
        try:
            rest = reader.take_buffered()
            if (response.headers.get("transfer-encoding") or "").lower().endswith("chunked"):
                decoder = ChunkedDecoder()
                data = rest
                while True:
                    for event in decoder.feed(data) if data else []:
                        if type(event) is EndOfMessage or isinstance(event, EndOfMessage):
                            reusable = keep and not decoder.unused
                            return
                        yield bytes(event)
                    data = await conn.reader.read(_READ)
                    if not data:
                        raise IncompleteResponse("the upstream closed inside a chunked body")
            elif length is not None:
                left = length
                if rest:
                    piece = rest[:left]
                    left -= len(piece)
                    yield piece
                while left > 0:
                    data = await conn.reader.read(min(_READ, left))
                    if not data:
                        raise IncompleteResponse("the upstream closed before the announced length")
                    left -= len(data)
                    yield data
                reusable = keep
            else:  # RFC 9112 §6.3 (8): the body runs to the upstream's close
                if rest:
                    yield rest
                while True:
                    data = await conn.reader.read(_READ)
                    if not data:
                        break
                    yield data
        finally:
            self.pool.release(conn, reusable)
