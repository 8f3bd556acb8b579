"""Helpers for the tests that serve over real sockets (test_protocol, test_server, test_app, ...).

Plain functions and classes, imported by name; the fixtures built on them (``loop``, ``tls``)
live in ``conftest.py``.

- ``LOOPS``: the loop kinds every socket test runs on (``asyncio``, and ``uvloop`` when
  installed), the parameters of the ``loop`` fixture.
- :func:`run`: run a coroutine on a loop with a hard time limit, so no test can hang.
- :func:`serving`: an async context manager that starts a :class:`fasthttp.Server` on
  ``127.0.0.1:0`` (or the given binds) on the running loop and drains it afterwards.
- :class:`Client`: a raw HTTP/1.1 client over asyncio streams. It sends bytes exactly as given
  and reads responses with the project's one strict response reader
  (:class:`fasthttp.testing.ResponseReader`: Content-Length, chunked with trailers,
  close-delimited, interim 1xx); it can also read a head alone and leave what follows on the
  stream, for tests that take the connection over.
- :class:`TlsFiles`: the CA, server and client certificates of the ``tls`` fixture.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from dataclasses import dataclass, field
from typing import Any

from fasthttp.server import Server
from fasthttp.testing import IncompleteResponse, ResponseReader, TestResponse

try:
    import uvloop  # noqa: F401

    LOOPS = ["asyncio", "uvloop"]
except ImportError:  # pragma: no cover
    LOOPS = ["asyncio"]

TIMEOUT = 10.0  # hard limit for one test scenario, in seconds

_READ = 64 * 1024  # bytes per read from the stream

def run(loop: asyncio.AbstractEventLoop, coro: Any, timeout: float = TIMEOUT) -> Any:
    """Run *coro* on *loop*, failing (not hanging) after *timeout* seconds."""
    return loop.run_until_complete(asyncio.wait_for(coro, timeout))


@contextlib.asynccontextmanager
async def serving(app: Any, bind: Any = "127.0.0.1:0", **options: Any):
    """A started server on the running loop; drained (1 s at most) on exit."""
    server = Server(app, bind, **options)
    await server.start()
    try:
        yield server
    finally:
        await server.shutdown(timeout=1.0)


def host_port(server: Server, index: int = 0) -> tuple[str, int]:
    address = server.addresses[index]
    return address[0], address[1]


@dataclass
class Resp:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes = b""
    trailers: list[tuple[str, str]] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        name = name.lower()
        for k, v in self.headers:
            if k == name:
                return v
        return None

    def headers_named(self, name: str) -> list[str]:
        name = name.lower()
        return [v for k, v in self.headers if k == name]

    @property
    def text(self) -> str:
        return self.body.decode()

    @classmethod
    def of(cls, response: TestResponse) -> Resp:
        """The test view of what the reader read: lower-cased names, in received order."""
        assert response.version == "1.1", response  # the server answers in HTTP/1.1
        return cls(response.status, response.reason, response.headers.items(), response.body, response.trailers.items())


class Client:
    """A raw HTTP/1.1 client on one connection.

    ``reader`` and ``writer`` are the asyncio streams (a test may read the stream itself after
    :meth:`read_head`); ``responses`` is the sans-IO reader the responses are parsed with.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.responses = ResponseReader()

    @classmethod
    async def connect(cls, server: Server | None = None, *, address: Any = None, ssl_context: ssl.SSLContext | None = None, server_hostname: str | None = None) -> Client:
        if address is None:
            address = server.addresses[0]
        if isinstance(address, (str, bytes)):
            # NOTE: uvloop cannot connect to an abstract name given as a path: connect here.
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(address)
            except BaseException:
                sock.close()
                raise
            reader, writer = await asyncio.open_unix_connection(sock=sock, ssl=ssl_context, server_hostname=server_hostname)
        else:
            host = address[0]
            reader, writer = await asyncio.open_connection(
                host, address[1], ssl=ssl_context, server_hostname=server_hostname if ssl_context else None
            )
        return cls(reader, writer)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def request(self, method: str = "GET", target: str = "/", *, headers: list[tuple[str, str]] | None = None, body: bytes | None = None, version: str = "1.1") -> Resp:
        await self.send(build_request(method, target, headers=headers, body=body, version=version))
        return await self.read_response(head=method == "HEAD")

    async def read_head(self) -> Resp:
        """The next response head, 1xx included, with no content read: what follows the head
        stays on the stream, for the test to read."""
        responses = self.responses
        if not responses.pending:
            responses.expect("GET")  # the raw request sent, unless read_response announced it
        # A head ends with a line: reading line by line never reads past it.
        while (head := responses.next_head()) is None:
            responses.feed(await self.reader.readuntil(b"\n"))
        assert not responses.buffered, "bytes after the head were read already"
        return Resp.of(head)

    async def read_response(self, *, head: bool = False) -> Resp:
        """The next final response (interim 1xx responses are skipped); *head*: it answers a
        HEAD request, so it has no content."""
        responses = self.responses
        if not responses.pending:  # else read_head announced it (an interim head was read)
            responses.expect("HEAD" if head else "GET")
        try:
            while (response := responses.next_response()) is None:
                data = await self.reader.read(_READ)
                if data:
                    responses.feed(data)
                else:
                    responses.feed_eof()
        except IncompleteResponse as exc:
            # The stream ended early: reported as the stream reader reports it.
            raise asyncio.IncompleteReadError(b"", None) from exc
        return Resp.of(response)

    async def read_interim_or_final(self) -> Resp:
        """The next response head, 1xx included (no body is read)."""
        return await self.read_head()

    async def closed(self, timeout: float = 5.0) -> bool:
        """True if the server closes the connection (EOF or reset) within *timeout*, with no
        further bytes."""
        try:
            data = await asyncio.wait_for(self.reader.read(), timeout)
        except (ConnectionResetError, BrokenPipeError):
            return True
        except asyncio.TimeoutError:
            return False
        return data == b"" and not self.responses.buffered

    async def read_until_closed(self, timeout: float = 10.0) -> bytes:
        """Every raw byte the server sends until it closes the connection (each read bounded by
        *timeout*: a server that keeps the connection open fails the test with a timeout)."""
        data = b""
        while chunk := await asyncio.wait_for(self.reader.read(65536), timeout):
            data += chunk
        return data

    async def close(self) -> None:
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except (ConnectionError, ssl.SSLError, OSError):
            pass


async def get_each(app: Any, *targets: str, **options: Any) -> list[Resp]:
    """``GET`` each of *targets* from *app* (served with *options*), each on a new connection,
    so one request's outcome (a 500, a close) cannot touch the next; the responses in order."""
    responses = []
    async with serving(app, **options) as server:
        for target in targets:
            c = await Client.connect(server)
            try:
                responses.append(await c.request("GET", target))
            finally:
                await c.close()
    return responses


def build_request(method: str = "GET", target: str = "/", *, headers: list[tuple[str, str]] | None = None, body: bytes | None = None, version: str = "1.1", host: str = "test") -> bytes:
    lines = [f"{method} {target} HTTP/{version}"]
    names = {k.lower() for k, _ in headers or []}
    if "host" not in names and version == "1.1":
        lines.append(f"Host: {host}")
    for k, v in headers or []:
        lines.append(f"{k}: {v}")
    if body is not None and "content-length" not in names and "transfer-encoding" not in names:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


def ipv6_available() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True



