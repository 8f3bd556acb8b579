"""The asyncio client: a connection protocol on the response-parser kernel, a pool, the Client.

Strategy: each connection is an ``asyncio.Protocol`` (no stream layer) that feeds what arrives
to :class:`fasthttp.responseparser.ResponseParser` and queues its events; a request writes its
head (and content) in one ``transport.write`` when it can and awaits the events. The
:class:`ConnectionPool` keeps idle connections per origin (LIFO, so the warmest is reused),
bounded per origin and in total, expires idle ones, and checks each before reuse (not closing,
no EOF seen, nothing unsolicited buffered). What a request *is* (URL, fields, redirects, auth,
cookies) is ``_flow.py``'s, shared with the sync client.
"""

from __future__ import annotations

import asyncio
import collections
import socket
import ssl
import time
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Callable, Iterable, Mapping
from typing import Any

from ..chunked import encode_chunk, encode_last_chunk
from ..errors import (
    ClientError,
    ClientTimeout,
    ConnectError,
    IncompleteResponseError,
    ResponseProtocolError,
    ResponseStatusError,
)
from ..headers import Headers
from ..responseparser import EndOfMessage, ResponseHead, ResponseParser
from ._auth import Auth
from ._cookies import CookieJar
from ._flow import (
    ClientSettings,
    Flow,
    HeadersArg,
    Limits,
    Origin,
    ParamsArg,
    Prepared,
    Timeouts,
    charset_of,
    json_content,
    connect_head,
    encode_head,
    proxy_authorization,
    split_url,
    ssl_context,
)

__all__ = ("Client", "Response", "ConnectionPool", "Connection", "Batch", "BatchResult", "DRAIN_LIMIT")

_HIGH_WATER = 256 * 1024  # buffered body bytes at which a streamed response pauses reading
DRAIN_LIMIT = 65536  # a discarded response's content up to this is read, to keep the connection


class Connection(asyncio.Protocol):
    """One HTTP/1.1 connection: the parser, the queue of its events, flow control.

    The parser puts a content that came whole with its head on the head (``body_on_head``): a
    :class:`ResponseHead` whose ``body`` is not None is the whole response; otherwise body
    ``bytes`` and an :class:`EndOfMessage` follow it.
    """

    def __init__(self, origin: Origin, limits: Limits) -> None:
        self.origin = origin
        self.limits = limits
        self.parser = self._new_parser()
        self.transport: asyncio.Transport | None = None
        self.events: collections.deque[Any] = collections.deque()
        self.error: BaseException | None = None
        self.eof = False
        #: set when the exchange left the connection unusable (content announced, not sent)
        self.broken = False
        self.idle_since = 0.0
        self.requests = 0
        self._waiter: asyncio.Future[None] | None = None
        self._drain: asyncio.Future[None] | None = None
        self._buffered = 0
        self._paused = False

    def _new_parser(self) -> ResponseParser:
        return ResponseParser(
            max_header_size=self.limits.max_header_size, max_body_size=self.limits.max_response_size, body_on_head=True
        )

    # -- asyncio.Protocol ---------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            events = self.parser.feed(data)
        except ResponseProtocolError as exc:
            self.events.extend(exc.events)
            self.error = exc
            self.transport.close()  # type: ignore[union-attr]
        else:
            if events:
                self.events.extend(events)
        self._wake()

    def eof_received(self) -> bool:
        self._end()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._end()
        if self._drain is not None and not self._drain.done():
            self._drain.set_exception(ConnectionResetError("connection lost while writing"))

    def _end(self) -> None:
        if self.eof:
            return
        self.eof = True
        if self.error is None:
            try:
                self.events.extend(self.parser.feed_eof())
            except ResponseProtocolError as exc:
                self.error = exc
        self._wake()

    def pause_writing(self) -> None:
        if self._drain is None or self._drain.done():
            self._drain = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)

    def _wake(self) -> None:
        w = self._waiter
        if w is not None and not w.done():
            w.set_result(None)

    # -- used by requests -------------------------------------------------------------------
    @property
    def reusable(self) -> bool:
        """The health check before reuse: open, no EOF, no error, nothing unsolicited."""
        t = self.transport
        return (
            t is not None and not t.is_closing() and not self.eof and not self.broken
            and self.error is None and self.parser.idle and not self.events
        )

    async def drain(self, timeout: float | None) -> None:
        d = self._drain
        if d is not None and not d.done():
            try:
                await asyncio.wait_for(asyncio.shield(d), timeout)
            except asyncio.TimeoutError:
                raise ClientTimeout("write", timeout) from None

    def write(self, data: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            raise ConnectionResetError("connection closed")
        self.transport.write(data)

    async def next_event(self, timeout: float | None) -> Any:
        """The next parser event; raises the connection's error once the events run out."""
        events = self.events
        while not events:
            if self.error is not None:
                raise self.error
            if self.eof:
                raise IncompleteResponseError("connection closed before the response ended")
            loop = asyncio.get_running_loop()
            waiter = self._waiter = loop.create_future()
            # PERF: a timer handle, not asyncio.wait_for (a task per wait); benchmarks/clientbench.py
            timer = None if timeout is None else loop.call_later(timeout, _expire, waiter)
            try:
                await waiter
            except asyncio.TimeoutError:
                raise ClientTimeout("read", timeout) from None
            finally:
                self._waiter = None
                if timer is not None:
                    timer.cancel()
        return self._take()

    def _take(self) -> Any:
        event = self.events.popleft()
        if type(event) is bytes:
            self._buffered -= len(event)
            if self._paused and self._buffered < _HIGH_WATER // 2:
                self._paused = False
                self.transport.resume_reading()  # type: ignore[union-attr]
        return event

    def ready_content(self) -> tuple[list[bytes], EndOfMessage] | None:
        """The rest of the current response's content if all of it has arrived already (its
        pieces and the end of message, taken off the queue), else None and nothing taken."""
        n = 0
        for event in self.events:
            if type(event) is bytes:
                n += 1
            elif isinstance(event, EndOfMessage):
                pieces = [self._take() for _ in range(n)]
                return pieces, self._take()
            else:
                return None
        return None

    def note_buffered(self) -> None:
        # flow control for a streamed body: stop reading while the caller has not caught up
        self._buffered = sum(len(e) for e in self.events if type(e) is bytes)
        if self._buffered > _HIGH_WATER and not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(asyncio.TimeoutError())


class ConnectionPool:
    """Idle keep-alive connections per origin, with a total and a per-origin limit.

    Usable on its own (the reverse proxy uses it): :meth:`acquire` returns a connected
    :class:`Connection` for an origin (reused if a healthy idle one exists, else new, waiting up
    to the pool timeout when the limits are reached); :meth:`release` gives it back (kept if it
    is reusable, closed otherwise); :meth:`aclose` closes everything. TLS is verified by default
    (*verify*, *cert*: see ``ssl_context``); *unix_socket* connects every origin to that path;
    *proxy* (``http://[user:pass@]host:port``) tunnels every connection through CONNECT;
    *on_connect* (degu's client hook) is called with each new connection's transport (its
    ``get_extra_info("peercert")`` and so on) and refuses it by returning False.
    """

    def __init__(
        self,
        *,
        limits: Limits | None = None,
        timeouts: Timeouts | None = None,
        verify: bool | str | ssl.SSLContext = True,
        cert: str | tuple[str, str] | None = None,
        unix_socket: str | None = None,
        proxy: str | None = None,
        on_connect: Callable[[Any], bool | None] | None = None,
    ) -> None:
        self.limits = limits or Limits()
        self.on_connect = on_connect
        self.timeouts = timeouts or Timeouts()
        self._verify, self._cert = verify, cert
        self._ssl: ssl.SSLContext | None = None
        self.unix_socket = unix_socket
        self.proxy = split_url(proxy) if proxy else None
        self._proxy_auth = proxy_authorization(proxy) if proxy else None
        self._idle: dict[Origin, list[Connection]] = {}
        self._active: dict[Origin, int] = {}
        self._total = 0
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self._closed = False

    @property
    def ssl(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = ssl_context(self._verify, self._cert)
        return self._ssl

    def stats(self) -> dict[str, int]:
        return {"connections": self._total, "idle": sum(len(v) for v in self._idle.values())}

    async def acquire(self, origin: Origin, timeout: float | None = None) -> tuple[Connection, bool]:
        """A connection to *origin* and whether it was reused."""
        if self._closed:
            raise ClientError("the pool is closed")
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            idle = self._idle.get(origin)
            now = time.monotonic()
            while idle:
                conn = idle.pop()
                if conn.reusable and now - conn.idle_since < self.limits.idle_expiry:
                    return conn, True
                self._discard(conn)
            if self._total < self.limits.max_connections and self._active.get(origin, 0) < self.limits.max_per_host:
                self._total += 1
                self._active[origin] = self._active.get(origin, 0) + 1
                try:
                    return await self._connect(origin), False
                except BaseException:
                    self._forget(origin)
                    raise
            if self._total >= self.limits.max_connections and self._idle_elsewhere(origin):
                continue
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            remaining = None if deadline is None else deadline - time.monotonic()
            try:
                if remaining is not None and remaining <= 0:
                    raise asyncio.TimeoutError
                await asyncio.wait_for(waiter, remaining)
            except asyncio.TimeoutError:
                raise ClientTimeout("pool", timeout) from None
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)

    def _idle_elsewhere(self, origin: Origin) -> bool:
        # the total limit is reached but another origin holds an idle connection: close it
        for other, conns in self._idle.items():
            if other != origin and conns:
                self._discard(conns.pop(0))
                return True
        return False

    def release(self, conn: Connection, reusable: bool = True) -> None:
        if reusable and conn.reusable and not self._closed:
            idle = self._idle.setdefault(conn.origin, [])
            keep = self.limits.max_idle_per_host
            if keep is not None and len(idle) >= keep:
                self._discard(conn)
            else:
                conn.idle_since = time.monotonic()
                idle.append(conn)
        else:
            self._discard(conn)
        self._wake_one()

    def _discard(self, conn: Connection) -> None:
        conn.close()
        self._forget(conn.origin)

    def _forget(self, origin: Origin) -> None:
        self._total -= 1
        self._active[origin] -= 1
        self._wake_one()

    def _wake_one(self) -> None:
        while self._waiters:
            w = self._waiters.popleft()
            if not w.done():
                w.set_result(None)
                return

    async def _connect(self, origin: Origin) -> Connection:
        scheme, host, port = origin
        loop = asyncio.get_running_loop()
        timeout = self.timeouts.connect
        conn = Connection(origin, self.limits)
        tls = self.ssl if scheme == "https" else None
        try:
            await asyncio.wait_for(self._open(conn, loop, host, port, tls), timeout)
        except asyncio.TimeoutError as exc:
            conn.close()
            if isinstance(exc, ClientTimeout):
                raise
            raise ClientTimeout("connect", timeout) from None
        except (OSError, ssl.SSLError) as exc:
            conn.close()
            raise ConnectError(f"cannot connect to {scheme}://{host}:{port}: {exc}") from exc
        if self.on_connect is not None and self.on_connect(conn.transport) is False:
            conn.close()
            raise ConnectError(f"on_connect refused the connection to {scheme}://{host}:{port}")
        sock = conn.transport.get_extra_info("socket") if conn.transport else None
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn

    async def _open(self, conn: Connection, loop: asyncio.AbstractEventLoop, host: str, port: int, tls: Any) -> None:
        if self.unix_socket is not None:
            await loop.create_unix_connection(lambda: conn, self.unix_socket, ssl=tls, server_hostname=host if tls else None)
        elif self.proxy is not None:
            await loop.create_connection(lambda: conn, self.proxy[1], self.proxy[2])
            await self._tunnel(conn, host, port)
            if tls is not None:
                transport = await loop.start_tls(conn.transport, conn, tls, server_hostname=host)  # type: ignore[arg-type]
                conn.transport = transport
        else:
            await loop.create_connection(lambda: conn, host, port, ssl=tls, server_hostname=host if tls else None)

    async def _tunnel(self, conn: Connection, host: str, port: int) -> None:
        # RFC 9110 §9.3.6: CONNECT host:port, then the bytes are the origin's
        conn.parser.request("CONNECT")
        conn.write(connect_head(host, port, self._proxy_auth))
        event = await conn.next_event(self.timeouts.connect)
        if not (200 <= event.status < 300):
            raise ConnectError(f"the proxy refused CONNECT {host}:{port}: {event.status} {event.reason}")
        while not conn.parser.paused:
            await conn.next_event(self.timeouts.connect)
        conn.events.clear()
        conn.parser.take_unparsed()
        conn.parser = conn._new_parser()

    async def aclose(self) -> None:
        self._closed = True
        for conns in self._idle.values():
            for conn in conns:
                conn.close()
        self._idle.clear()




class Response:
    """A response: ``status``, ``reason``, ``version``, ``headers``
    (:class:`fasthttp.headers.Headers`), ``url``, ``history`` (the redirects followed),
    ``trailers``; the content through ``await read()``, ``text()``, ``json()`` or
    ``async for piece in response.stream()``."""

    def __init__(self, head: ResponseHead, req: Prepared, conn: Connection | None, pool: ConnectionPool | None, timeouts: Timeouts) -> None:
        self.status = head.status
        self.reason = head.reason
        self.version = head.version
        self.headers: Headers = head.headers
        self.url = req.url
        self.method = req.method
        self.request = req
        self.history: list[Response] = []
        self.trailers: Headers | None = None
        self._head = head
        self._conn = conn
        self._pool = pool
        self._timeouts = timeouts
        self._body: bytes | None = None
        self._pieces: list[bytes] = []
        if head.body is not None:
            # PERF: the whole content came with the head (the parser's body_on_head): kept, and
            # the connection given back at once (benchmarks/bench_responseparser.py, client view)
            self._body = head.body
            self._finish(True)

    def __repr__(self) -> str:
        return f"<Response {self.status} {self.reason} {self.url}>"

    @property
    def ok(self) -> bool:
        return self.status < 400

    @property
    def content_length(self) -> int | None:
        """The Content-Length the server announced (also on a response to HEAD or a 304), or None."""
        return self._head.content_length

    @property
    def chunked(self) -> bool:
        """The content comes in chunks (RFC 9112 §7.1): it may end with trailers."""
        return self._head.chunked

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")

    def raise_for_status(self) -> Response:
        if self.status >= 400:
            raise ResponseStatusError(f"{self.status} {self.reason} for {self.method} {self.url}", self)
        return self

    async def stream(self) -> AsyncIterator[bytes]:
        """The content as it arrives (once; after :meth:`read`, the whole content at once)."""
        if self._body is not None:
            if self._body:
                yield self._body
            return
        conn = self._conn
        if conn is None:
            return
        try:
            while True:
                event = await conn.next_event(self._timeouts.read)
                if type(event) is bytes:
                    self._pieces.append(b"")  # marks that the stream was consumed
                    conn.note_buffered()
                    yield event
                elif isinstance(event, EndOfMessage):
                    self.trailers = event.trailers
                    break
        except BaseException:
            self._finish(False)
            raise
        self._body = b""
        self._finish(True)

    def read_ready(self) -> bytes | None:
        """The whole content if it has all arrived already (it is then kept, as after
        :meth:`read`, and the connection released), else None: no waiting. A reverse proxy
        answers with one write when the content came with the head (``fasthttp.proxy``)."""
        if self._body is not None:
            return self._body
        conn = self._conn
        if conn is None:
            self._body = b""
            return self._body
        if self._pieces:
            return None
        ready = conn.ready_content()
        if ready is None:
            return None
        pieces, end = ready
        self.trailers = end.trailers
        self._body = pieces[0] if len(pieces) == 1 else b"".join(pieces)
        self._finish(True)
        return self._body

    async def read(self) -> bytes:
        """The whole content (read once, then kept)."""
        if self._body is None:
            if self._pieces:
                raise ClientError("the content was already streamed")
            self._body = await self._collect()
        return self._body

    async def _collect(self) -> bytes:
        conn = self._conn
        if conn is None:
            return b""
        pieces = []
        try:
            while True:
                event = await conn.next_event(self._timeouts.read)
                if type(event) is bytes:
                    pieces.append(event)
                elif isinstance(event, EndOfMessage):
                    self.trailers = event.trailers
                    break
        except BaseException:
            self._finish(False)
            raise
        self._finish(True)
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    def _finish(self, complete: bool) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and self._pool is not None:
            self._pool.release(conn, complete and self._head.keep_alive)

    async def text(self, encoding: str | None = None) -> str:
        body = await self.read()
        if encoding is None:
            encoding = charset_of(self.headers.get("content-type")) or "utf-8"
        return body.decode(encoding, errors="replace")

    async def json(self) -> Any:
        return json_content(await self.read())

    async def discard(self) -> None:
        """Done with a response whose content does not matter (a redirect, a 401 answered with
        credentials): a small announced content is read so the connection can be reused, any
        other closes it."""
        length = self._head.content_length
        if self._conn is not None and not self._head.chunked and length is not None and length <= DRAIN_LIMIT:
            await self.read()
        else:
            await self.aclose()

    async def aclose(self) -> None:
        """Give the connection back: an unread content is discarded (the connection closes)."""
        if self._conn is not None:
            self._finish(False)

    async def __aenter__(self) -> Response:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()




class Client(ClientSettings):
    """An async HTTP/1.1 client with a connection pool (see the package docstring)."""

    def __init__(
        self,
        base_url: str | None = None,
        *,
        headers: HeadersArg = None,
        timeout: Timeouts | float | None = None,
        limits: Limits | None = None,
        verify: bool | str | ssl.SSLContext = True,
        cert: str | tuple[str, str] | None = None,
        unix_socket: str | None = None,
        proxy: str | None = None,
        auth: Auth | tuple[str, str] | None = None,
        cookies: CookieJar | str | None = "all",
        follow_redirects: bool = True,
        max_redirects: int = 10,
        on_connect: Callable[[Any], bool | None] | None = None,
        pool: ConnectionPool | None = None,
    ) -> None:
        super().__init__(base_url, headers, timeout, limits, auth, cookies, follow_redirects, max_redirects)
        self.pool = pool or ConnectionPool(limits=self.limits, timeouts=self.timeouts, verify=verify, cert=cert, unix_socket=unix_socket, proxy=proxy, on_connect=on_connect)

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.pool.aclose()

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: HeadersArg = None,
        params: ParamsArg = None,
        content: bytes | str | Iterable[bytes] | AsyncIterable[bytes] | None = None,
        data: Mapping[str, Any] | None = None,
        json: Any = None,
        auth: Auth | tuple[str, str] | None = None,
        follow_redirects: bool | None = None,
        timeout: Timeouts | float | None = None,
        stream: bool = False,
        expect_continue: bool = False,
        byte_range: tuple[int, int | None] | None = None,
    ) -> Response:
        """Send a request, follow redirects and auth challenges, return the final response.
        With *stream*, the content is left to ``response.stream()`` / ``read()``; otherwise it
        is read before this returns."""
        timeouts = self.timeouts if timeout is None else Timeouts.of(timeout)
        flow = self.flow(
            method, url, headers=headers, params=params, content=content, data=data, json=json, auth=auth,
            follow_redirects=follow_redirects, expect_continue=expect_continue, byte_range=byte_range,
        )
        if timeouts.total is None:
            return await self._run(flow, timeouts, stream)
        try:
            return await asyncio.wait_for(self._run(flow, timeouts, stream), timeouts.total)
        except asyncio.TimeoutError as exc:
            if isinstance(exc, ClientTimeout):
                raise
            raise ClientTimeout("total", timeouts.total) from None

    async def send(self, req: Prepared, *, timeout: Timeouts | float | None = None) -> Response:
        """Send one prepared request as it is, and return the response with its content unread
        (``stream()``, ``read()``, ``read_ready()``): no redirects, auth, cookies or base
        headers, which are :meth:`request`'s. For intermediaries (``fasthttp.proxy``), whose
        requests are built from another request: *req* names its fields
        (``Prepared.headers``), its Host (``host_header``) and its content, which may be an
        async iterator with a known ``content_length``. A reused connection found closed is
        retried once for an idempotent request without a streamed body (RFC 9112 §9.3.1)."""
        timeouts = self.timeouts if timeout is None else Timeouts.of(timeout)
        return await self._send(req, timeouts)

    async def _run(self, flow: Flow, timeouts: Timeouts, stream: bool) -> Response:
        req = flow.first()
        while True:
            response = await self._send(req, timeouts)
            nxt = flow.next(req, response.status, response.headers, response)
            if nxt is None:
                response.history = flow.history
                if not stream:
                    await response.read()
                return response
            await response.discard()
            req = nxt

    async def _send(self, req: Prepared, timeouts: Timeouts) -> Response:
        """One exchange; a reused connection the server closed meanwhile is retried once on a
        new one for an idempotent request (RFC 9112 §9.3.1), never for another."""
        conn, reused = await self.pool.acquire(req.origin, timeouts.pool)
        try:
            return await self._exchange(conn, req, timeouts)
        except _ContentFailed as exc:
            self.pool.release(conn, False)
            raise exc.error from None  # the caller's content failed, not the connection
        except (IncompleteResponseError, ConnectionError) as exc:
            self.pool.release(conn, False)
            if not (reused and req.idempotent and _nothing_received(exc) and not _is_stream(req.body)):
                raise _as_client_error(exc) from exc
        except BaseException:
            self.pool.release(conn, False)
            raise
        conn, _ = await self.pool.acquire(req.origin, timeouts.pool)
        try:
            return await self._exchange(conn, req, timeouts)
        except BaseException as exc:
            self.pool.release(conn, False)
            if isinstance(exc, _ContentFailed):
                raise exc.error from None
            if isinstance(exc, ConnectionError):
                raise _as_client_error(exc) from exc
            raise

    async def _exchange(self, conn: Connection, req: Prepared, timeouts: Timeouts) -> Response:
        conn.requests += 1
        body = req.body
        parser = conn.parser
        parser.request(req.method)
        if body is None or isinstance(body, (bytes, bytearray, memoryview)):
            head = encode_head(req, None if body is None else len(body), False)
            if req.expect_continue and body:
                conn.write(head)
                first = await self._await_continue(conn, timeouts)
                if first is not None:
                    return Response(first, req, conn, self.pool, timeouts)
                conn.write(bytes(body))
            else:
                conn.write(head + bytes(body) if body else head)
            await conn.drain(timeouts.write)
        else:
            length = req.content_length
            conn.write(encode_head(req, length, length is None))
            if req.expect_continue:
                first = await self._await_continue(conn, timeouts)
                if first is not None:
                    return Response(first, req, conn, self.pool, timeouts)
            if length is None:
                await self._send_stream(conn, body, timeouts)
            else:
                await self._send_counted(conn, body, length, timeouts)
        while True:
            event = await conn.next_event(timeouts.read)
            if isinstance(event, ResponseHead) and not event.informational:
                return Response(event, req, conn, self.pool, timeouts)

    async def _await_continue(self, conn: Connection, timeouts: Timeouts) -> ResponseHead | None:
        # RFC 9110 §10.1.1: wait for 100 (or a final answer) a bounded time, then send anyway
        try:
            while True:
                event = await conn.next_event(min(timeouts.read or 1.0, 1.0))
                if isinstance(event, ResponseHead):
                    if event.status == 100:
                        return None
                    if not event.informational:
                        # a final answer: the content is never sent, and the server may still
                        # wait for it, so the connection is not reused (RFC 9110 §10.1.1)
                        conn.broken = True
                        return event
        except ClientTimeout:
            return None

    async def _send_stream(self, conn: Connection, body: Any, timeouts: Timeouts) -> None:
        # RFC 9112 §7.1: each piece a chunk, then the last chunk
        pieces = _content(body)
        try:
            async for piece in pieces:
                if piece:
                    conn.write(encode_chunk(piece))
                    await conn.drain(timeouts.write)
        finally:
            await pieces.aclose()
        conn.write(encode_last_chunk())
        await conn.drain(timeouts.write)

    async def _send_counted(self, conn: Connection, body: Any, length: int, timeouts: Timeouts) -> None:
        # RFC 9112 §6.2: the pieces as they are, exactly the announced length (a shorter or
        # longer content would desynchronise the connection, which is then never reused)
        sent = 0
        pieces = _content(body)
        try:
            async for piece in pieces:
                sent += len(piece)
                if sent > length:
                    raise ValueError(f"the content passed its Content-Length ({length})")
                conn.write(piece)
                await conn.drain(timeouts.write)
        finally:
            await pieces.aclose()
        if sent != length:
            raise ValueError(f"the content ended at {sent} bytes, before its Content-Length ({length})")

    # -- the verbs ----------------------------------------------------------------------------
    async def get(self, url: str, **kwargs: Any) -> Response:
        return await self.request("GET", url, **kwargs)

    async def head(self, url: str, **kwargs: Any) -> Response:
        return await self.request("HEAD", url, **kwargs)

    async def options(self, url: str, **kwargs: Any) -> Response:
        return await self.request("OPTIONS", url, **kwargs)

    async def post(self, url: str, **kwargs: Any) -> Response:
        return await self.request("POST", url, **kwargs)

    async def put(self, url: str, **kwargs: Any) -> Response:
        return await self.request("PUT", url, **kwargs)

    async def patch(self, url: str, **kwargs: Any) -> Response:
        return await self.request("PATCH", url, **kwargs)

    async def delete(self, url: str, **kwargs: Any) -> Response:
        return await self.request("DELETE", url, **kwargs)

    async def get_json(self, url: str, **kwargs: Any) -> Any:
        """GET *url* and decode its JSON content, raising ResponseStatusError on a 4xx/5xx."""
        response = await self.request("GET", url, **kwargs)
        return await response.raise_for_status().json()

    def batch(self, requests: Iterable[tuple[Any, ...]] = (), *, concurrency: int = 10) -> Batch:
        """A :class:`Batch` of requests run at most *concurrency* at a time: start them with
        ``batch.start(method, url, **kwargs)`` (or give ``(method, url[, kwargs])`` tuples
        here), then ``async for result in batch`` collects each as it completes."""
        batch = Batch(self, concurrency)
        for item in requests:
            batch.start(item[0], item[1], **(item[2] if len(item) > 2 else {}))
        return batch


class BatchResult:
    """One finished request of a :class:`Batch`: ``index`` (the order it was started in),
    ``method``, ``url``, and ``response`` or ``error`` (the ClientError it raised)."""

    __slots__ = ("index", "method", "url", "response", "error")

    def __init__(self, index: int, method: str, url: str, response: Response | None, error: ClientError | None) -> None:
        self.index, self.method, self.url, self.response, self.error = index, method, url, response, error

    @property
    def ok(self) -> bool:
        return self.error is None

    def __repr__(self) -> str:
        return f"<BatchResult #{self.index} {self.method} {self.url} {self.response or self.error!r}>"


class Batch:
    """Many requests in flight, collected as they complete (the HTTP/TCP protocol module's
    ``pending()`` / ``getResponses()``): :meth:`start` returns the request's index at once;
    :attr:`pending` counts the unfinished ones; ``async for result in batch`` yields a
    :class:`BatchResult` per request in completion order, until none is pending. An optional
    *callback* per request is called with its result as it completes."""

    def __init__(self, client: Client, concurrency: int = 10) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.client = client
        self._limit = asyncio.Semaphore(concurrency)
        self._done: asyncio.Queue[BatchResult] = asyncio.Queue()
        self._tasks: set[asyncio.Task[None]] = set()
        self._started = 0
        self._collected = 0

    @property
    def pending(self) -> int:
        """Requests started whose result has not been collected yet."""
        return self._started - self._collected

    def start(self, method: str, url: str, *, callback: Any = None, **kwargs: Any) -> int:
        index = self._started
        self._started += 1
        task = asyncio.ensure_future(self._one(index, method, url, callback, kwargs))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return index

    async def _one(self, index: int, method: str, url: str, callback: Any, kwargs: dict[str, Any]) -> None:
        async with self._limit:
            try:
                result = BatchResult(index, method, url, await self.client.request(method, url, **kwargs), None)
            except ClientError as exc:
                result = BatchResult(index, method, url, None, exc)
        if callback is not None:
            callback(result)
        self._done.put_nowait(result)

    def __aiter__(self) -> AsyncIterator[BatchResult]:
        return self._results()

    async def _results(self) -> AsyncIterator[BatchResult]:
        while self.pending:
            result = await self._done.get()
            self._collected += 1
            yield result

    async def results(self) -> list[BatchResult]:
        """Every result, in the order the requests were started."""
        return sorted([r async for r in self], key=lambda r: r.index)

    async def cancel(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._collected = self._started


class _ContentFailed(Exception):
    """An exception raised by a request's own content iterator (``error``): the caller's
    (a proxied client that went away, a body too large), never taken for the connection's."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


async def _content(body: Any) -> AsyncGenerator[bytes, None]:
    """The pieces of a streamed request content, sync or async; what the content itself raises
    comes out as :class:`_ContentFailed`."""
    try:
        if hasattr(body, "__aiter__"):
            async for piece in body:
                yield piece
        else:
            for piece in body:
                yield piece
    except Exception as exc:
        raise _ContentFailed(exc) from exc


def _nothing_received(exc: BaseException) -> bool:
    return isinstance(exc, ConnectionError) or (isinstance(exc, IncompleteResponseError) and exc.received == 0)


def _is_stream(body: Any) -> bool:
    return body is not None and not isinstance(body, (bytes, bytearray, memoryview))


def _as_client_error(exc: BaseException) -> ClientError:
    if isinstance(exc, ClientError):
        return exc
    return IncompleteResponseError(f"connection lost: {exc}")
