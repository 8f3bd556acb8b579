"""The blocking client: the same API as ``Client`` without ``await``, on plain sockets.

Strategy: no event loop, not even in a thread: a :class:`SyncPool` of blocking sockets per origin
(thread-safe, bounded per origin and in total, idle expiry, a non-blocking peek before reuse to
see whether the server closed or sent something unsolicited), each read fed to the same
response-parser kernel, and the same request flow as the async client (``_flow.py``).
Timeouts are socket timeouts per phase (connect, write, read) plus a deadline for the call.
"""

from __future__ import annotations

import collections
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from ..chunked import encode_chunk, encode_last_chunk
from ..errors import (
    ClientError,
    ClientTimeout,
    ConnectError,
    IncompleteResponseError,
    ResponseStatusError,
)
from ..headers import Headers
from ..responseparser import EndOfMessage, ResponseHead, ResponseParser
from ._auth import Auth
from ._cookies import CookieJar
from ._flow import (
    ClientSettings,
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
from ._async import DRAIN_LIMIT

__all__ = ("SyncClient", "SyncResponse", "SyncPool", "SyncConnection")

_READ = 65536


class SyncConnection:
    """One blocking connection and its parser."""

    def __init__(self, origin: Origin, sock: socket.socket, limits: Limits) -> None:
        self.origin = origin
        self.sock = sock
        self.limits = limits
        self.parser = ResponseParser(
            max_header_size=limits.max_header_size, max_body_size=limits.max_response_size, body_on_head=True
        )
        self.events: collections.deque[Any] = collections.deque()
        self.idle_since = 0.0
        self.closed = False
        #: set when the exchange left the connection unusable (content announced, not sent)
        self.broken = False

    @property
    def reusable(self) -> bool:
        """Health check: the parser is between responses and the socket has nothing to read
        (an EOF or unsolicited bytes mean the server is done with it)."""
        if self.closed or self.broken or not self.parser.idle or self.events:
            return False
        sock = self.sock
        try:
            readable, _, _ = select.select([sock], [], [], 0)
        except (OSError, ValueError):
            return False
        if not readable:
            return True
        if isinstance(sock, ssl.SSLSocket) and not sock.pending():
            # a TLS record with no application data (a TLS 1.3 session ticket) also wakes select
            sock.setblocking(False)
            try:
                sock.recv(1)
            except ssl.SSLWantReadError:
                return True
            except OSError:
                return False
            finally:
                sock.setblocking(True)
        return False  # an EOF, or bytes nobody asked for

    def send(self, data: bytes, timeout: float | None) -> None:
        self.sock.settimeout(timeout)
        try:
            self.sock.sendall(data)
        except TimeoutError:
            raise ClientTimeout("write", timeout) from None

    def next_event(self, timeout: float | None, deadline: float | None) -> Any:
        while not self.events:
            wait = timeout
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ClientTimeout("total")
                wait = left if wait is None else min(wait, left)
            self.sock.settimeout(wait)
            try:
                data = self.sock.recv(_READ)
            except TimeoutError:
                phase = "read" if wait == timeout else "total"
                raise ClientTimeout(phase, wait) from None
            if data:
                events = self.parser.feed(data)
            else:
                events = self.parser.feed_eof()
                if not events:
                    raise IncompleteResponseError("connection closed before the response ended")
            self.events.extend(events)
        return self.events.popleft()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            try:
                self.sock.close()
            except OSError:
                pass


class SyncPool:
    """The blocking twin of :class:`fasthttp.client.ConnectionPool` (same limits and checks);
    *on_connect* gets each new socket (an ``ssl.SSLSocket`` for https)."""

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
        self._idle: dict[Origin, list[SyncConnection]] = {}
        self._active: dict[Origin, int] = {}
        self._total = 0
        self._cond = threading.Condition()

    @property
    def ssl(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = ssl_context(self._verify, self._cert)
        return self._ssl

    def acquire(self, origin: Origin, timeout: float | None = None) -> tuple[SyncConnection, bool]:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while True:
                idle = self._idle.get(origin)
                now = time.monotonic()
                while idle:
                    conn = idle.pop()
                    if now - conn.idle_since < self.limits.idle_expiry and conn.reusable:
                        return conn, True
                    self._discard(conn)
                if self._total < self.limits.max_connections and self._active.get(origin, 0) < self.limits.max_per_host:
                    self._total += 1
                    self._active[origin] = self._active.get(origin, 0) + 1
                    break
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise ClientTimeout("pool", timeout)
                self._cond.wait(left)
        try:
            return self._connect(origin), False
        except BaseException:
            with self._cond:
                self._forget(origin)
            raise

    def release(self, conn: SyncConnection, reusable: bool = True) -> None:
        with self._cond:
            if reusable and conn.parser.idle and not conn.closed and not conn.broken:
                conn.idle_since = time.monotonic()
                self._idle.setdefault(conn.origin, []).append(conn)
                self._cond.notify()
            else:
                self._discard(conn)

    def _discard(self, conn: SyncConnection) -> None:
        conn.close()
        self._forget(conn.origin)

    def _forget(self, origin: Origin) -> None:
        self._total -= 1
        self._active[origin] -= 1
        self._cond.notify()

    def _connect(self, origin: Origin) -> SyncConnection:
        scheme, host, port = origin
        timeout = self.timeouts.connect
        try:
            if self.unix_socket is not None:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.settimeout(timeout)
                sock.connect(self.unix_socket)
            elif self.proxy is not None:
                sock = socket.create_connection((self.proxy[1], self.proxy[2]), timeout)
                self._tunnel(sock, host, port, timeout)
            else:
                sock = socket.create_connection((host, port), timeout)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if scheme == "https":
                sock = self.ssl.wrap_socket(sock, server_hostname=host)
        except TimeoutError:
            raise ClientTimeout("connect", timeout) from None
        except (OSError, ssl.SSLError) as exc:
            raise ConnectError(f"cannot connect to {scheme}://{host}:{port}: {exc}") from exc
        if self.on_connect is not None and self.on_connect(sock) is False:
            sock.close()
            raise ConnectError(f"on_connect refused the connection to {scheme}://{host}:{port}")
        return SyncConnection(origin, sock, self.limits)

    def _tunnel(self, sock: socket.socket, host: str, port: int, timeout: float | None) -> None:
        sock.settimeout(timeout)
        sock.sendall(connect_head(host, port, self._proxy_auth))
        parser = ResponseParser()
        parser.request("CONNECT")
        status = 0
        while not parser.paused:
            data = sock.recv(_READ)
            if not data:
                raise ConnectError("the proxy closed the connection during CONNECT")
            for event in parser.feed(data):
                if isinstance(event, ResponseHead):
                    status = event.status
            if status and not (200 <= status < 300):
                raise ConnectError(f"the proxy refused CONNECT {host}:{port}: {status}")

    def close(self) -> None:
        with self._cond:
            for conns in self._idle.values():
                for conn in conns:
                    conn.close()
            self._idle.clear()


class SyncResponse:
    """The blocking :class:`fasthttp.client.Response`: ``read()``, ``text()``, ``json()`` and
    ``stream()`` without ``await``."""

    def __init__(self, head: ResponseHead, req: Prepared, conn: SyncConnection | None, pool: SyncPool, timeouts: Timeouts, deadline: float | None) -> None:
        self.status = head.status
        self.reason = head.reason
        self.version = head.version
        self.headers: Headers = head.headers
        self.url = req.url
        self.method = req.method
        self.request = req
        self.history: list[SyncResponse] = []
        self.trailers: Headers | None = None
        self._head = head
        self._conn = conn
        self._pool = pool
        self._timeouts = timeouts
        self._deadline = deadline
        self._body: bytes | None = None
        self._streamed = False
        if head.body is not None:
            # PERF: the whole content came with the head (the parser's body_on_head), as in
            # fasthttp.client.Response: kept, and the connection given back at once
            self._body = head.body
            self._finish(True)

    def __repr__(self) -> str:
        return f"<SyncResponse {self.status} {self.reason} {self.url}>"

    @property
    def ok(self) -> bool:
        return self.status < 400

    def raise_for_status(self) -> SyncResponse:
        if self.status >= 400:
            raise ResponseStatusError(f"{self.status} {self.reason} for {self.method} {self.url}", self)
        return self

    def stream(self) -> Iterator[bytes]:
        if self._body is not None:
            if self._body:
                yield self._body
            return
        conn = self._conn
        if conn is None:
            return
        self._streamed = True
        try:
            while True:
                event = conn.next_event(self._timeouts.read, self._deadline)
                if type(event) is bytes:
                    yield event
                elif isinstance(event, EndOfMessage):
                    self.trailers = event.trailers
                    break
        except BaseException:
            self._finish(False)
            raise
        self._body = b""
        self._finish(True)

    def read(self) -> bytes:
        if self._body is None:
            if self._streamed:
                raise ClientError("the content was already streamed")
            self._body = b"".join(self.stream())
        return self._body

    def _finish(self, complete: bool) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            self._pool.release(conn, complete and self._head.keep_alive)

    def text(self, encoding: str | None = None) -> str:
        body = self.read()
        return body.decode(encoding or charset_of(self.headers.get("content-type")) or "utf-8", errors="replace")

    def json(self) -> Any:
        return json_content(self.read())

    def discard(self) -> None:
        """As :meth:`fasthttp.client.Response.discard`: read a small content, else close."""
        length = self._head.content_length
        if self._conn is not None and not self._head.chunked and length is not None and length <= DRAIN_LIMIT:
            self.read()
        else:
            self.close()

    def close(self) -> None:
        if self._conn is not None:
            self._finish(False)

    def __enter__(self) -> SyncResponse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SyncClient(ClientSettings):
    """A blocking HTTP/1.1 client with a connection pool; the API of :class:`Client`."""

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
        pool: SyncPool | None = None,
    ) -> None:
        super().__init__(base_url, headers, timeout, limits, auth, cookies, follow_redirects, max_redirects)
        self.pool = pool or SyncPool(limits=self.limits, timeouts=self.timeouts, verify=verify, cert=cert, unix_socket=unix_socket, proxy=proxy, on_connect=on_connect)

    def __enter__(self) -> SyncClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.pool.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: HeadersArg = None,
        params: ParamsArg = None,
        content: bytes | str | Iterable[bytes] | None = None,
        data: Mapping[str, Any] | None = None,
        json: Any = None,
        auth: Auth | tuple[str, str] | None = None,
        follow_redirects: bool | None = None,
        timeout: Timeouts | float | None = None,
        stream: bool = False,
        expect_continue: bool = False,
        byte_range: tuple[int, int | None] | None = None,
    ) -> SyncResponse:
        timeouts = self.timeouts if timeout is None else Timeouts.of(timeout)
        deadline = None if timeouts.total is None else time.monotonic() + timeouts.total
        flow = self.flow(
            method, url, headers=headers, params=params, content=content, data=data, json=json, auth=auth,
            follow_redirects=follow_redirects, expect_continue=expect_continue, byte_range=byte_range,
        )
        req = flow.first()
        while True:
            response = self._send(req, timeouts, deadline)
            nxt = flow.next(req, response.status, response.headers, response)
            if nxt is None:
                response.history = flow.history
                if not stream:
                    response.read()
                return response
            response.discard()
            req = nxt

    def _send(self, req: Prepared, timeouts: Timeouts, deadline: float | None) -> SyncResponse:
        conn, reused = self.pool.acquire(req.origin, timeouts.pool)
        try:
            return self._exchange(conn, req, timeouts, deadline)
        except (IncompleteResponseError, ConnectionError) as exc:
            self.pool.release(conn, False)
            received = 0 if isinstance(exc, ConnectionError) else exc.received
            if not (reused and req.idempotent and received == 0 and (req.body is None or isinstance(req.body, bytes))):
                if isinstance(exc, ClientError):
                    raise
                raise IncompleteResponseError(f"connection lost: {exc}") from exc
        except BaseException:
            self.pool.release(conn, False)
            raise
        conn, _ = self.pool.acquire(req.origin, timeouts.pool)
        try:
            return self._exchange(conn, req, timeouts, deadline)
        except BaseException as exc:
            self.pool.release(conn, False)
            if isinstance(exc, ConnectionError):
                raise IncompleteResponseError(f"connection lost: {exc}") from exc
            raise

    def _exchange(self, conn: SyncConnection, req: Prepared, timeouts: Timeouts, deadline: float | None) -> SyncResponse:
        body = req.body
        conn.parser.request(req.method)
        if body is None or isinstance(body, (bytes, bytearray, memoryview)):
            head = encode_head(req, None if body is None else len(body), False)
            if req.expect_continue and body:
                conn.send(head, timeouts.write)
                first = self._await_continue(conn, timeouts, deadline)
                if first is not None:
                    conn.broken = True  # the server may still wait for the content
                    return SyncResponse(first, req, conn, self.pool, timeouts, deadline)
                conn.send(bytes(body), timeouts.write)
            else:
                conn.send(head + bytes(body) if body else head, timeouts.write)
        else:
            conn.send(encode_head(req, None, True), timeouts.write)
            for piece in body:  # type: ignore[union-attr]
                if piece:
                    conn.send(encode_chunk(piece), timeouts.write)
            conn.send(encode_last_chunk(), timeouts.write)
        while True:
            event = conn.next_event(timeouts.read, deadline)
            if isinstance(event, ResponseHead) and not event.informational:
                return SyncResponse(event, req, conn, self.pool, timeouts, deadline)

    def _await_continue(self, conn: SyncConnection, timeouts: Timeouts, deadline: float | None) -> ResponseHead | None:
        try:
            while True:
                event = conn.next_event(min(timeouts.read or 1.0, 1.0), deadline)
                if isinstance(event, ResponseHead):
                    if event.status == 100:
                        return None
                    if not event.informational:
                        return event
        except ClientTimeout:
            return None

    def get(self, url: str, **kwargs: Any) -> SyncResponse:
        return self.request("GET", url, **kwargs)

    def head(self, url: str, **kwargs: Any) -> SyncResponse:
        return self.request("HEAD", url, **kwargs)

    def options(self, url: str, **kwargs: Any) -> SyncResponse:
        return self.request("OPTIONS", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> SyncResponse:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> SyncResponse:
        return self.request("PUT", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> SyncResponse:
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> SyncResponse:
        return self.request("DELETE", url, **kwargs)

    def get_json(self, url: str, **kwargs: Any) -> Any:
        return self.request("GET", url, **kwargs).raise_for_status().json()
