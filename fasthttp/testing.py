"""``TestClient``: drive an app in process, through the real engine, without sockets.

Strategy: the client writes HTTP/1.1 request bytes into a real :class:`fasthttp.protocol.
HttpProtocol` (so the real parser, limits, pipelining rules and writer run) through an in-memory
transport, and reads the bytes the protocol writes back with the strict response reader of
``fasthttp._wire`` (:class:`ResponseReader`, on the client's response-parser kernel: status line,
fields, then Content-Length, chunked with trailers, or close-delimited content, RFC 9112 §6.3),
the one every test tool of the project reads responses with. Nothing is mocked above the transport: what a test sees is what a socket
peer would receive. The engine is driven through its public names only: a
:class:`~fasthttp.connections.ConnectionManager` and one :class:`~fasthttp.protocol.HttpProtocol`
per connection, the app through the :class:`~fasthttp.application.Application` contract.

The client keeps one connection open across requests (``request.session`` persists, like a
browser's keep-alive connection) and opens a new one when the server closed it. It honours the
transport contract: it stops feeding the protocol while reading is paused (flow control) and
feeds the body in pieces. A request with ``Expect: 100-continue`` sends its head first and the
body only after ``100 Continue``, as RFC 9110 §10.1.1 asks of clients, so route decisions taken
before the body (413, 417, ...) are observable. Cookies from ``Set-Cookie`` are kept (RFC 6265
§5.3, simplified: no domain matching, the test host is the only host) and sent back.

The client runs its own event loop (the stdlib loop, or uvloop with ``use_uvloop=True``), so it
works from plain synchronous tests; in a ``with TestClient(app) as client:`` block the app's
startup hooks run on entry and its shutdown hooks on exit, on that loop.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import email.utils
import os
import ssl
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlencode, urlsplit

from wsproto.connection import Connection as WsConnection
from wsproto.connection import ConnectionState as WsState
from wsproto.connection import ConnectionType
from wsproto.events import BytesMessage as WsBytesMessage
from wsproto.events import CloseConnection as WsClose
from wsproto.events import Ping as WsPing
from wsproto.events import TextMessage as WsTextMessage
from wsproto.extensions import PerMessageDeflate

from ._wire import IncompleteResponse, ResponseReader, TestResponse
from .application import FAILURE_OBSERVER, as_application
from .config import Config, split_options
from .loops import close_loop, new_event_loop
from .connections import ConnectionManager
from .listeners import format_address, make_ssl_context
from .protocol import HttpProtocol
from .responses import json_dumps, json_loads
from .runners import ServerThread, start_server
from .websocket import WebSocketDisconnect, accept_key

if TYPE_CHECKING:
    from .application import Application, Handler

__all__ = (
    "TestClient",
    "TestResponse",
    "ResponseReader",
    "IncompleteResponse",
    "WebSocketTestSession",
    "WebSocketDenied",
    "WebSocketDisconnect",
    "TempServer",
    "TempPKI",
)

_FEED = 64 * 1024  # bytes per data_received call when sending a body

T = TypeVar("T")


class _MemoryTransport(asyncio.Transport):
    """The transport the protocol writes to: bytes go to the connection's response reader."""

    def __init__(self, conn: _Connection, extra: dict[str, Any]) -> None:
        super().__init__(extra)
        self._conn = conn
        self._closing = False
        self._resumed = asyncio.Event()  # set while the protocol reads (flow control)
        self._resumed.set()

    # writing
    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._closing:
            return
        self._conn.received(bytes(data))

    def writelines(self, list_of_data: Iterable[bytes | bytearray | memoryview]) -> None:
        for data in list_of_data:
            self.write(data)

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        self._conn.server_eof()

    def get_write_buffer_size(self) -> int:
        return 0

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return (0, 0)

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass

    # reading
    def pause_reading(self) -> None:
        self._resumed.clear()

    def resume_reading(self) -> None:
        self._resumed.set()

    def is_reading(self) -> bool:
        return self._resumed.is_set()

    async def reading(self) -> None:
        """Until the protocol reads again."""
        await self._resumed.wait()

    # closing
    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        if not self._closing:
            self._closing = True
            self._conn.server_closed()

    def abort(self) -> None:
        self.close()

    def client_closed(self) -> None:
        """The client closed its side: later writes go nowhere."""
        self._closing = True

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._conn.protocol = protocol  # type: ignore[assignment]  # an upgrade's asyncio.Protocol

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._conn.protocol  # type: ignore[return-value]


class _Connection:
    """One in-memory connection: a protocol, its transport and the client's response reader."""

    def __init__(self, loop: asyncio.AbstractEventLoop, manager: ConnectionManager, extra: dict[str, Any]) -> None:
        self.loop = loop
        self.reader = ResponseReader()
        self.closed = False
        self.body_done = True  # every byte of the current request has been fed
        self._waiter: asyncio.Future[None] | None = None
        self.transport = _MemoryTransport(self, extra)
        #: After a switch to another protocol (websocket): what takes the server's bytes
        #: instead of the response reader.
        self.raw: Callable[[bytes], None] | None = None
        self.protocol: asyncio.Protocol | None = HttpProtocol(manager)
        self.protocol.connection_made(self.transport)

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # what the transport reports
    def received(self, data: bytes) -> None:
        raw = self.raw
        if raw is not None:
            raw(data)
        else:
            self.reader.feed(data)
        self._wake()

    def server_eof(self) -> None:
        self.reader.feed_eof()
        self._wake()

    def server_closed(self) -> None:
        self.closed = True
        self.reader.feed_eof()
        self._wake()
        self.loop.call_soon(self._lost)

    def _lost(self) -> None:
        protocol = self.protocol
        if protocol is not None:
            self.protocol = None
            protocol.connection_lost(None)

    async def wait(self) -> None:
        """Until the server writes or closes."""
        self._waiter = self.loop.create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    def wake_when_done(self, task: asyncio.Future[None]) -> None:
        task.add_done_callback(lambda _: self._wake())

    async def send(self, data: bytes) -> None:
        """Feed *data* to the protocol, in pieces, each while it is reading."""
        view = memoryview(data)
        first = True
        while view:
            if not first:
                await asyncio.sleep(0)  # let the handler consume what it got
            first = False
            transport = self.transport
            if not transport.is_reading():
                await transport.reading()
            if self.closed or self.protocol is None:
                return
            piece, view = view[:_FEED], view[_FEED:]
            self.protocol.data_received(bytes(piece))

    async def send_chunks(self, chunks: Iterable[bytes]) -> None:
        for chunk in chunks:
            if chunk:
                await self.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                await asyncio.sleep(0)
        await self.send(b"0\r\n\r\n")

    def close(self) -> None:
        """The client closes its side: the protocol sees EOF, then the loss of the connection."""
        if self.protocol is not None and not self.closed:
            self.closed = True
            self.transport.client_closed()
            self.protocol.eof_received()
            self._lost()


class _FakeSsl:
    """Stands for an SSLContext in ``get_extra_info("sslcontext")`` (``request.is_secure``)."""


class TestClient:
    """Drive *app* (a :class:`fasthttp.App`, another :class:`~fasthttp.application.Application`,
    or a handler callable) in process.

    >>> with TestClient(app) as client:
    ...     response = client.get("/users/1", headers={"Accept": "application/json"})
    ...     assert response.status == 200 and response.json() == {"id": 1}

    *base_url* gives the ``Host`` field and the scheme (``https://`` makes ``request.is_secure``
    true, with *peercert* as the client certificate). *headers* are sent with every request.
    *client_address* is what ``request.client`` reports. *timeout* bounds each request (seconds).
    *server_options* are :class:`fasthttp.server.Config` fields (the app's own ``server_options``
    apply first); ``sendfile`` is off, since there is no socket.

    *raise_server_exceptions* (Starlette's option, default True): an exception the server would
    answer with a bare ``500`` (unhandled in a handler, or a result it cannot send) is raised
    from the request call, so a failing test shows the exception; False gives the 500 response.
    """

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        app: Application | Handler,
        base_url: str = "http://testserver",
        *,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        client_address: tuple[str, int] | str = ("testclient", 50000),
        peercert: dict[str, Any] | None = None,
        use_uvloop: bool = False,
        timeout: float = 30.0,
        raise_server_exceptions: bool = True,
        **server_options: Any,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"base_url is http(s)://host[:port], not {base_url!r}")
        self.app = app
        self.base_url = base_url
        self.host = parts.netloc
        self.secure = parts.scheme == "https"
        self.peercert = peercert
        self.client_address = client_address
        self.timeout = timeout
        self.raise_server_exceptions = raise_server_exceptions
        self.headers = _pair_list(headers)
        #: name -> (value, path, secure, expires): the cookie jar.
        self.cookies: dict[str, tuple[str, str, bool, float | None]] = {}
        options = dict(getattr(app, "server_options", None) or {})
        options.update(server_options)
        config, _ = split_options(options)
        config["sendfile"] = False
        self._loop = new_event_loop(use_uvloop)
        self._application = application = as_application(app)
        self._manager = ConnectionManager(
            self._loop, application.engine_handler(), Config(**config), on_connect=application.on_connect
        )
        self._conn: _Connection | None = None
        self._entered = False

    # -- life cycle -------------------------------------------------------------------------------

    def __enter__(self) -> TestClient:
        self._check()
        self._run(self._application.startup())
        self._entered = True
        return self

    def __exit__(self, *exc: Any) -> None:
        try:
            self._close_connection()
            if self._entered:
                self._entered = False
                self._run(self._application.shutdown())
        finally:
            self.close()

    def close(self) -> None:
        """Close the connection and the client's loop (cancelling what the app left running)."""
        loop = self._loop
        if loop.is_closed():
            return
        self._close_connection()
        close_loop(loop)

    def __del__(self) -> None:
        loop = getattr(self, "_loop", None)
        if loop is not None and not loop.is_closed() and not loop.is_running():
            try:
                self.close()
            except Exception:  # pragma: no cover - interpreter shutdown
                pass

    def _close_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not self._loop.is_closed():
            conn.close()
            self._loop.run_until_complete(asyncio.sleep(0))

    def _check(self) -> None:
        if self._loop.is_closed():
            raise RuntimeError("the TestClient is closed")
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return
        raise RuntimeError("TestClient runs its own loop: call it from synchronous code")

    def _run(self, coro: Awaitable[T]) -> T:
        return self._loop.run_until_complete(coro)

    # -- requests -------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        data: bytes | str | Iterable[bytes] | None = None,
        json: Any = None,
        form: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None,
        files: Mapping[str, Any] | None = None,
        cookies: Mapping[str, str] | None = None,
        version: str = "1.1",
        timeout: float | None = None,
    ) -> TestResponse:
        """Send one request and return its response.

        *url*: a path (``/a?b=1``) or an absolute URL (its host becomes ``Host``). *params* are
        added to the query. The body is one of: *data* (bytes, str as UTF-8, or an iterable of
        bytes, sent chunked), *json*, *form* (urlencoded) or *form* and *files* (multipart/
        form-data; a file is ``bytes``, ``(filename, content)`` or ``(filename, content,
        content_type)``, content being bytes, str or a binary file object).
        """
        self._check()
        target, host = self._target(url, params)
        given = self.headers + _pair_list(headers)
        fields = [] if any(n.lower() == "host" for n, _ in given) else [("Host", host)]
        fields += given
        body, body_fields, chunks = _encode_body(data, json, form, files)
        names = {name.lower() for name, _ in fields}
        fields += [(n, v) for n, v in body_fields if n.lower() not in names]
        if "cookie" not in names:
            cookie = self._cookie_header(target, cookies)
            if cookie:
                fields.append(("Cookie", cookie))
        head = f"{method} {target} HTTP/{version}\r\n" + "".join(f"{n}: {v}\r\n" for n, v in fields) + "\r\n"
        expect = any(n.lower() == "expect" and v.lower() == "100-continue" for n, v in fields)
        coro = self._exchange(method, head.encode("latin-1"), body, chunks, expect)
        failures: list[BaseException] = []
        token = FAILURE_OBSERVER.set(failures.append) if self.raise_server_exceptions else None
        try:
            response = self._run(asyncio.wait_for(coro, timeout if timeout is not None else self.timeout))
        finally:
            if token is not None:
                FAILURE_OBSERVER.reset(token)
        if failures:
            raise failures[0]
        self._store_cookies(response)
        return response

    def get(self, url: str, **kwargs: Any) -> TestResponse:
        return self.request("GET", url, **kwargs)

    def head(self, url: str, **kwargs: Any) -> TestResponse:
        return self.request("HEAD", url, **kwargs)

    def options(self, url: str, **kwargs: Any) -> TestResponse:
        return self.request("OPTIONS", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> TestResponse:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> TestResponse:
        return self.request("PUT", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> TestResponse:
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> TestResponse:
        return self.request("DELETE", url, **kwargs)

    def websocket_connect(
        self,
        url: str,
        *,
        subprotocols: Iterable[str] | None = None,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        params: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None,
        cookies: Mapping[str, str] | None = None,
        compress: bool = False,
        timeout: float | None = None,
    ) -> WebSocketTestSession:
        """Open a websocket to *url* on a new in-memory connection and return the session (a
        context manager) once the server answered ``101``; any other answer raises
        :class:`WebSocketDenied` with the response.

        *subprotocols* are offered in order; *compress* offers permessage-deflate (RFC 7692).
        The client's default headers and cookies are sent as with :meth:`request`.

        >>> with client.websocket_connect("/ws") as ws:
        ...     ws.send("hello")
        ...     assert ws.receive() == "hello"
        """
        self._check()
        target, host = self._target(url, params)
        key = base64.b64encode(os.urandom(16)).decode("ascii")
        given = self.headers + _pair_list(headers)
        fields = [] if any(n.lower() == "host" for n, _ in given) else [("Host", host)]
        fields += [
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", key),
            ("Sec-WebSocket-Version", "13"),
        ]
        offered = list(subprotocols or ())
        if offered:
            fields.append(("Sec-WebSocket-Protocol", ", ".join(offered)))
        if compress:
            fields.append(("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits"))
        fields += given
        if not any(n.lower() == "cookie" for n, _ in fields):
            cookie = self._cookie_header(target, cookies)
            if cookie:
                fields.append(("Cookie", cookie))
        head = f"GET {target} HTTP/1.1\r\n" + "".join(f"{n}: {v}\r\n" for n, v in fields) + "\r\n"
        wait = timeout if timeout is not None else self.timeout
        conn = self._connect()
        try:
            response = self._run(asyncio.wait_for(_handshake(conn, head.encode("latin-1")), wait))
        except BaseException:
            conn.close()
            raise
        self._store_cookies(response)
        if response.status != 101:
            conn.close()
            self._run(asyncio.sleep(0))
            raise WebSocketDenied(response)
        if response.headers.get("sec-websocket-accept") != accept_key(key):
            conn.close()
            raise IncompleteResponse("the 101 does not carry the right Sec-WebSocket-Accept (RFC 6455 §4.1)")
        return WebSocketTestSession(self, conn, response, wait)

    def _target(
        self, url: str, params: Mapping[str, Any] | Iterable[tuple[str, Any]] | None
    ) -> tuple[str, str]:
        host = self.host
        if url.startswith(("http://", "https://")):
            parts = urlsplit(url)
            host = parts.netloc
            url = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if not url.startswith("/") and url != "*":
            raise ValueError(f"a request path starts with '/': {url!r}")
        if params:
            query = urlencode(list(params.items()) if isinstance(params, Mapping) else list(params), doseq=True)
            url += ("&" if "?" in url else "?") + query
        return url, host

    def _connect(self) -> _Connection:
        extra: dict[str, Any] = {"peername": self.client_address, "sockname": ("testserver", 80)}
        if self.secure:
            extra["sslcontext"] = _FakeSsl()
            extra["peercert"] = self.peercert
        return _Connection(self._loop, self._manager, extra)

    async def _exchange(
        self, method: str, head: bytes, body: bytes, chunks: Iterable[bytes] | None, expect: bool
    ) -> TestResponse:
        conn = self._conn
        if conn is None or conn.closed:
            conn = self._conn = self._connect()
        reader = conn.reader
        reader.expect(method)
        sender = None
        try:
            if expect:
                # RFC 9110 §10.1.1: the head alone, then the body only after 100 Continue.
                seen = len(reader.interim_seen)
                await conn.send(head)
                while True:
                    response = reader.next_response()
                    if response is not None:
                        self._after(conn, response, body_sent=False)
                        return response
                    if len(reader.interim_seen) > seen:
                        break
                    if conn.closed:
                        raise IncompleteResponse("the server closed the connection without answering")
                    await conn.wait()
                payload = body
            else:
                payload = head + body if chunks is None else head
            conn.body_done = False
            if chunks is None and len(payload) <= _FEED and conn.transport.is_reading():
                # The common case: one piece, fed inline (a def handler answers within it).
                if payload and conn.protocol is not None:
                    conn.protocol.data_received(payload)
                conn.body_done = True
            else:
                sender = asyncio.ensure_future(self._send_body(conn, payload, chunks))
                conn.wake_when_done(sender)
            while True:
                if sender is not None and sender.done():
                    error = sender.exception()
                    if error is not None:
                        raise error
                # At EOF the reader returns the response or raises IncompleteResponse.
                response = reader.next_response()
                if response is not None:
                    break
                if conn.closed and reader.eof:
                    raise IncompleteResponse("the server closed the connection without a complete response")
                await conn.wait()
            self._after(conn, response, body_sent=conn.body_done)
            return response
        finally:
            if sender is not None and not sender.done():
                sender.cancel()
                try:
                    await sender
                except asyncio.CancelledError:
                    pass

    @staticmethod
    async def _send_body(conn: _Connection, payload: bytes, chunks: Iterable[bytes] | None) -> None:
        if payload:
            await conn.send(payload)
        if chunks is not None:
            await conn.send_chunks(chunks)
        conn.body_done = not conn.closed

    def _after(self, conn: _Connection, response: TestResponse, *, body_sent: bool) -> None:
        """Drop the connection when it cannot carry another request (closed, a body not sent
        whole, HTTP/1.0, or switched to another protocol: RFC 9110 §15.2.2, RFC 9112 §6.3 (2))."""
        connection = ",".join(response.headers.getall("connection")).lower()
        closing = "close" in connection or response.version == "1.0"
        if conn.closed or closing or not body_sent or conn.reader.switched:
            conn.close()
            if self._conn is conn:
                self._conn = None

    # -- cookies --------------------------------------------------------------------------------

    def _cookie_header(self, target: str, extra: Mapping[str, str] | None) -> str:
        path = target.split("?", 1)[0]
        now = time.time()
        pairs = {}
        for name, (value, cpath, secure, expires) in list(self.cookies.items()):
            if expires is not None and expires <= now:
                del self.cookies[name]
                continue
            if secure and not self.secure:
                continue
            # RFC 6265 §5.1.4: path-match.
            if path == cpath or path.startswith(cpath.rstrip("/") + "/") or cpath == "/":
                pairs[name] = value
        if extra:
            pairs.update(extra)
        return "; ".join(f"{k}={v}" for k, v in pairs.items())

    def _store_cookies(self, response: TestResponse) -> None:
        """RFC 6265 §5.2: name=value, then attributes; Max-Age wins over Expires; a past
        expiry deletes the cookie."""
        for line in response.headers.getall("set-cookie"):
            pair, *attrs = line.split(";")
            name, eq, value = pair.partition("=")
            name, value = name.strip(), value.strip()
            if not eq or not name:
                continue
            path, secure, expires, max_age = "/", False, None, None
            for attr in attrs:
                key, _, val = attr.strip().partition("=")
                key = key.lower()
                if key == "path" and val.startswith("/"):
                    path = val
                elif key == "secure":
                    secure = True
                elif key == "max-age":
                    try:
                        max_age = int(val)
                    except ValueError:
                        pass
                elif key == "expires":
                    try:
                        expires = email.utils.parsedate_to_datetime(val).timestamp()
                    except (TypeError, ValueError):
                        pass
            if max_age is not None:
                expires = time.time() + max_age
            if expires is not None and expires <= time.time():
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = (value, path, secure, expires)

    def __repr__(self) -> str:
        return f"<TestClient {self.base_url} app={self.app!r}>"


def _pair_list(headers: Mapping[str, Any] | Iterable[tuple[str, Any]] | None) -> list[tuple[str, str]]:
    if not headers:
        return []
    if isinstance(headers, Mapping):
        return [(str(k), str(v)) for k, v in headers.items()]
    return [(str(k), str(v)) for k, v in headers]


def _encode_body(
    data: bytes | str | Iterable[bytes] | None,
    json: Any,
    form: Mapping[str, Any] | Iterable[tuple[str, Any]] | None,
    files: Mapping[str, Any] | None,
) -> tuple[bytes, list[tuple[str, str]], Iterator[bytes] | None]:
    """(body bytes, the fields that describe it, chunks iterable or None)."""
    given = [x is not None for x in (data, json)] + [form is not None or files is not None]
    if sum(given) > 1:
        raise ValueError("give one of data, json, or form/files")
    if json is not None:
        body = json_dumps(json)
        return body, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))], None
    if files is not None:
        boundary = uuid.uuid4().hex
        body = _multipart(boundary, form or {}, files)
        ctype = f"multipart/form-data; boundary={boundary}"
        return body, [("Content-Type", ctype), ("Content-Length", str(len(body)))], None
    if form is not None:
        items = list(form.items()) if isinstance(form, Mapping) else list(form)
        body = urlencode(items, doseq=True).encode()
        return body, [("Content-Type", "application/x-www-form-urlencoded"), ("Content-Length", str(len(body)))], None
    if data is None:
        return b"", [], None
    if isinstance(data, str):
        body = data.encode()
        return body, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))], None
    if isinstance(data, (bytes, bytearray, memoryview)):
        body = bytes(data)
        return body, [("Content-Length", str(len(body)))], None
    # RFC 9112 §7.1: an iterable of bytes goes out with chunked coding.
    return b"", [("Transfer-Encoding", "chunked")], (bytes(c) for c in data)


def _form_quote(text: str) -> str:
    # WHATWG HTML "multipart/form-data encoding algorithm": escape '"', CR and LF in names.
    return text.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def _multipart(boundary: str, form: Mapping[str, Any] | Iterable[tuple[str, Any]], files: Mapping[str, Any]) -> bytes:
    """RFC 7578: one part per field, then one per file."""
    out = bytearray()
    items = list(form.items()) if isinstance(form, Mapping) else list(form)
    for name, value in items:
        out += f"--{boundary}\r\nContent-Disposition: form-data; name=\"{_form_quote(str(name))}\"\r\n\r\n".encode()
        out += value if isinstance(value, bytes) else str(value).encode()
        out += b"\r\n"
    for name, spec in files.items():
        filename, content, ctype = None, spec, "application/octet-stream"
        if isinstance(spec, tuple):
            filename, content = spec[0], spec[1]
            if len(spec) > 2:
                ctype = spec[2]
        if hasattr(content, "read"):
            if filename is None:
                filename = os.path.basename(getattr(content, "name", "") or name)
            content = content.read()
        if isinstance(content, str):
            content = content.encode()
        if filename is None:
            filename = name
        out += (
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"{_form_quote(name)}\"; "
            f"filename=\"{_form_quote(filename)}\"\r\nContent-Type: {ctype}\r\n\r\n"
        ).encode()
        out += content
        out += b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out)



# -- websockets ---------------------------------------------------------------------------------------


async def _handshake(conn: _Connection, head: bytes) -> TestResponse:
    """Send an opening handshake on *conn*; its response (a 101 head, or a whole refusal)."""
    reader = conn.reader
    reader.expect("GET")
    if conn.protocol is not None:
        conn.protocol.data_received(head)
    while True:
        response = reader.next_response()
        if response is not None:
            return response
        if conn.closed and reader.eof:
            raise IncompleteResponse("the server closed the connection without answering the handshake")
        await conn.wait()


class WebSocketDenied(Exception):
    """The server answered a websocket handshake with *response* (a ``TestResponse``) instead of
    ``101``: the handler refused it (403, 401, ...), or the handshake was invalid (400, 426)."""

    def __init__(self, response: TestResponse) -> None:
        super().__init__(f"the websocket handshake was refused: {response.status} {response.reason}")
        self.response = response


class WebSocketTestSession:
    """A synchronous websocket client over the in-memory connection of a :class:`TestClient`
    (the client's side of the protocol is wsproto's, masking included).

    ``send(str | bytes)``, ``send_text``, ``send_bytes``, ``send_json``; ``receive()`` (``str``
    or ``bytes``), ``receive_text``, ``receive_bytes``, ``receive_json``, each raising
    :class:`~fasthttp.websocket.WebSocketDisconnect` once the server closed; ``close(code,
    reason)``; ``close_code``; ``response`` (the 101), ``subprotocol``, ``extensions``.
    ``send_raw(bytes)`` writes bytes as they are (frames a conforming client never sends).
    Leaving the ``with`` block closes with 1000 and lets the handler finish.
    """

    __test__ = False

    def __init__(self, client: TestClient, conn: _Connection, response: TestResponse, timeout: float) -> None:
        self._client = client
        self._conn = conn
        self.response = response
        self.timeout = timeout
        #: The subprotocol the server chose, or None.
        self.subprotocol = response.headers.get("sec-websocket-protocol")
        #: The ``Sec-WebSocket-Extensions`` the server agreed to, or None.
        self.extensions = response.headers.get("sec-websocket-extensions")
        extensions: list[Any] = []
        if self.extensions:
            deflate = PerMessageDeflate()
            deflate.finalize(self.extensions)
            extensions.append(deflate)
        self._ws = WsConnection(ConnectionType.CLIENT, extensions)
        self._messages: collections.deque[str | bytes] = collections.deque()
        self._parts: list[Any] = []
        self._pending: list[bytes] = []  # pongs and close echoes to send
        #: The close code and reason the server sent, once it did.
        self.close_code: int | None = None
        self.close_reason = ""
        server = conn.protocol
        self._server_task = getattr(getattr(server, "ws", None), "task", None)
        rest = conn.reader.take_buffered()
        conn.raw = self._on_bytes
        if rest:
            self._on_bytes(rest)

    # what the server writes
    def _on_bytes(self, data: bytes) -> None:
        ws = self._ws
        if ws.state is WsState.CLOSED:
            return
        ws.receive_data(data)
        for event in ws.events():
            if isinstance(event, (WsTextMessage, WsBytesMessage)):
                if event.message_finished and not self._parts:
                    self._messages.append(bytes(event.data) if isinstance(event.data, bytearray) else event.data)
                    continue
                self._parts.append(event.data)
                if event.message_finished:
                    parts, self._parts = self._parts, []
                    self._messages.append(("" if isinstance(event, WsTextMessage) else b"").join(parts))
            elif isinstance(event, WsPing):
                self._pending.append(ws.send(event.response()))
            elif isinstance(event, WsClose):
                self.close_code, self.close_reason = int(event.code), event.reason or ""
                if ws.state is WsState.REMOTE_CLOSING:
                    self._pending.append(ws.send(event.response()))
                break

    async def _flush(self) -> None:
        while self._pending:
            data = self._pending.pop(0)
            await self._conn.send(data)

    async def _next(self) -> str | bytes:
        conn = self._conn
        while True:
            await self._flush()
            if self._messages:
                return self._messages.popleft()
            if self.close_code is not None:
                raise WebSocketDisconnect(self.close_code, self.close_reason)
            if conn.closed:
                self.close_code = 1006
                raise WebSocketDisconnect(1006, "")
            await conn.wait()

    def _run(self, coro: Awaitable[T], timeout: float | None = None) -> T:
        self._client._check()
        return self._client._run(asyncio.wait_for(coro, timeout if timeout is not None else self.timeout))

    # sending
    def send_raw(self, data: bytes) -> None:
        """Write *data* to the server as it is."""
        self._run(self._conn.send(data))

    def send(self, data: str | bytes) -> None:
        """Send one message: ``str`` as text, ``bytes`` as binary."""
        if self._ws.state is not WsState.OPEN:
            raise WebSocketDisconnect(self.close_code or 1006, self.close_reason)
        event = WsTextMessage(data) if isinstance(data, str) else WsBytesMessage(bytes(data))
        self.send_raw(self._ws.send(event))

    def send_text(self, data: str) -> None:
        self.send(str(data))

    def send_bytes(self, data: bytes) -> None:
        self.send(bytes(data))

    def send_json(self, value: Any, binary: bool = False) -> None:
        data = json_dumps(value)
        self.send(data if binary else data.decode())

    # receiving
    def receive(self, timeout: float | None = None) -> str | bytes:
        """The next message from the server (``str`` or ``bytes``)."""
        return self._run(self._next(), timeout)

    def receive_text(self, timeout: float | None = None) -> str:
        message = self.receive(timeout)
        if not isinstance(message, str):
            raise TypeError(f"expected a text message, got {message!r}")
        return message

    def receive_bytes(self, timeout: float | None = None) -> bytes:
        message = self.receive(timeout)
        if not isinstance(message, bytes):
            raise TypeError(f"expected a binary message, got {message!r}")
        return message

    def receive_json(self, timeout: float | None = None) -> Any:
        return json_loads(self.receive(timeout))

    # closing
    def close(self, code: int = 1000, reason: str = "") -> None:
        """Send a close frame (unless the server closed first) and wait for the server to close
        the connection and for its handler to finish."""
        if self._client._loop.is_closed():
            return
        if self._ws.state is WsState.OPEN:
            self.send_raw(self._ws.send(WsClose(code, reason)))
        self._run(self._wait_closed())

    async def _wait_closed(self) -> None:
        conn = self._conn
        while not conn.closed:
            await self._flush()
            await conn.wait()
        await asyncio.sleep(0)  # connection_lost is called soon after the close
        task = self._server_task
        if task is not None and not task.done():
            await asyncio.wait([task])

    def __enter__(self) -> WebSocketTestSession:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<WebSocketTestSession {self.response.status} close_code={self.close_code}>"


# -- throw-away servers and certificates (degu's TempServer and test PKI) -------------------------------


class TempPKI:
    """A throw-away public-key infrastructure for tests and examples: a CA, a server certificate
    for *names* (default ``localhost``, ``127.0.0.1``, ``::1``) and a client certificate, written
    as PEM files to a temporary directory removed by :meth:`cleanup` (or at the end of a
    ``with`` block). Built on ``trustme`` (the ``test`` extra).

    Files: ``ca_file``, ``cert_file`` (the server's chain), ``key_file``, ``client_cert_file``,
    ``client_key_file``. Contexts: :meth:`server_context` (the server's secure defaults, see
    :func:`fasthttp.listeners.make_ssl_context`; ``client_cert="required"`` verifies clients
    against the CA) and :meth:`client_context` (trusts the CA; with the client certificate on
    request).
    """

    def __init__(self, *names: str, client_name: str = "client@example.org") -> None:
        import tempfile

        try:
            import trustme
        except ImportError:  # pragma: no cover - trustme is in the test extra
            raise RuntimeError("TempPKI needs trustme: pip install 'fasthttp[test]' (or trustme)") from None
        self._dir = tempfile.TemporaryDirectory(prefix="fasthttp-pki-")
        path = self._dir.name
        #: The trustme CA (issue more certificates with ``pki.ca.issue_cert(...)``).
        self.ca = trustme.CA()
        server = self.ca.issue_cert(*(names or ("localhost", "127.0.0.1", "::1")))
        client = self.ca.issue_cert(client_name, common_name="test client")
        self.ca_file = os.path.join(path, "ca.pem")
        self.cert_file = os.path.join(path, "server.pem")
        self.key_file = os.path.join(path, "server.key")
        self.client_cert_file = os.path.join(path, "client.pem")
        self.client_key_file = os.path.join(path, "client.key")
        self.ca.cert_pem.write_to_path(self.ca_file)
        server.cert_chain_pems[0].write_to_path(self.cert_file)
        for pem in server.cert_chain_pems[1:]:
            pem.write_to_path(self.cert_file, append=True)
        server.private_key_pem.write_to_path(self.key_file)
        client.cert_chain_pems[0].write_to_path(self.client_cert_file)
        client.private_key_pem.write_to_path(self.client_key_file)

    def server_context(self, client_cert: str = "none") -> ssl.SSLContext:
        """A server context for the server certificate; *client_cert* ``"optional"`` or
        ``"required"`` verifies client certificates against this CA."""
        ca = self.ca_file if client_cert != "none" else None
        return make_ssl_context(self.cert_file, self.key_file, ca_certs=ca, client_cert=client_cert)

    def client_context(self, with_cert: bool = False) -> ssl.SSLContext:
        """A client context that trusts this CA (and presents the client certificate)."""
        ctx = ssl.create_default_context(cafile=self.ca_file)
        if with_cert:
            ctx.load_cert_chain(self.client_cert_file, self.client_key_file)
        return ctx

    def cleanup(self) -> None:
        """Remove the files."""
        self._dir.cleanup()

    def __enter__(self) -> TempPKI:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()


class TempServer:
    """Serve *app* on a free port for the duration of a ``with`` block (degu's ``TempServer``):
    in a thread of this process (default), or in a child process with ``process=True`` (the
    server can then be killed outright; *app* is an object with the ``fork`` start method, or a
    ``"module:app"`` string with any). *bind* defaults to ``127.0.0.1:0``; every other keyword
    goes to the server (``ssl=``, ``certfile=``, limits...).

    ``address`` (the first bound address), ``addresses``, ``url`` (``http://127.0.0.1:PORT``,
    ``https://`` with TLS) and ``urls`` are known inside the block; the server drains (thread) or
    is terminated (process) on exit.
    """

    def __init__(self, app: Any, bind: Any = "127.0.0.1:0", *, process: bool = False, timeout: float = 10.0, **options: Any) -> None:
        self.app = app
        self.bind = bind
        self.process = process
        self.timeout = timeout
        self.options = options
        self.addresses: list[Any] = []
        self._thread: ServerThread | None = None
        self._process: Any = None

    @property
    def address(self) -> Any:
        return self.addresses[0]

    @property
    def urls(self) -> list[str]:
        tls = self.options.get("ssl") is not None or bool(self.options.get("certfile"))
        return [format_address(a, tls) for a in self.addresses]

    @property
    def url(self) -> str:
        return self.urls[0]

    def start(self) -> TempServer:
        if self.process:
            self._process, self.addresses = start_server(self.app, self.bind, timeout=self.timeout, **self.options)
        else:
            self._thread = ServerThread(self.app, self.bind, timeout=self.timeout, **self.options)
            self.addresses = list(self._thread.addresses)
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._thread.stop(1.0)
            self._thread = None
        if self._process is not None:
            self._process.terminate()
            self._process.join(self.timeout)
            if self._process.is_alive():  # pragma: no cover - it ignored SIGTERM
                self._process.kill()
                self._process.join(self.timeout)
            self._process = None

    def __enter__(self) -> TempServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
