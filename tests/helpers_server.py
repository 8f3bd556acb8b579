"""Shared utilities for the engine tests (test_protocol, test_server, test_app, test_cli).

- ``loop``: a fresh event loop per test, parametrized ``asyncio``/``uvloop`` (ids), closed
  afterwards with every leftover task cancelled. Tests import it by name from this module.
- :func:`run`: run a coroutine on that loop with a hard time limit, so no test can hang.
- :func:`serving`: an async context manager that starts a :class:`fasthttp.Server` on
  ``127.0.0.1:0`` (or the given binds) on the running loop and drains it afterwards.
- :class:`Client`: a raw HTTP/1.1 client over asyncio streams. It sends bytes exactly as given
  and parses responses strictly enough for assertions (Content-Length, chunked with trailers,
  close-delimited, interim 1xx).
- ``tls``: a trustme CA with a server certificate for localhost/127.0.0.1/::1 and a client
  certificate, written to files.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from dataclasses import dataclass, field
from typing import Any

import pytest

from fasthttp.loops import close_loop, new_event_loop
from fasthttp.server import Server

try:
    import uvloop  # noqa: F401

    LOOPS = ["asyncio", "uvloop"]
except ImportError:  # pragma: no cover
    LOOPS = ["asyncio"]

TIMEOUT = 10.0  # hard limit for one test scenario, in seconds


@pytest.fixture(params=LOOPS)
def loop(request: pytest.FixtureRequest):
    """A new event loop of each kind; closed after the test."""
    lp = new_event_loop(request.param == "uvloop")
    asyncio.set_event_loop(lp)
    try:
        yield lp
    finally:
        close_loop(lp)


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


class Client:
    """A raw HTTP/1.1 client on one connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

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
        line = await self.reader.readuntil(b"\r\n")
        version, status, reason = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
        assert version == "HTTP/1.1", line
        headers = []
        while True:
            line = await self.reader.readuntil(b"\r\n")
            if line == b"\r\n":
                break
            name, _, value = line.decode("latin-1").partition(":")
            headers.append((name.strip().lower(), value.strip()))
        return Resp(int(status), reason, headers)

    async def read_response(self, *, head: bool = False) -> Resp:
        """The next final response (interim 1xx responses are skipped)."""
        while True:
            resp = await self.read_head()
            if resp.status >= 200:
                break
        if head or resp.status in (204, 304):
            return resp
        te = resp.header("transfer-encoding")
        cl = resp.header("content-length")
        if te is not None:
            assert te.lower() == "chunked", te
            assert cl is None, "Content-Length with Transfer-Encoding"
            parts = []
            while True:
                size_line = await self.reader.readuntil(b"\r\n")
                size = int(size_line.split(b";")[0], 16)
                if size == 0:
                    break
                parts.append(await self.reader.readexactly(size))
                assert await self.reader.readexactly(2) == b"\r\n"
            while True:
                line = await self.reader.readuntil(b"\r\n")
                if line == b"\r\n":
                    break
                name, _, value = line.decode("latin-1").partition(":")
                resp.trailers.append((name.strip().lower(), value.strip()))
            resp.body = b"".join(parts)
        elif cl is not None:
            resp.body = await self.reader.readexactly(int(cl))
        else:
            resp.body = await self.reader.read()  # close-delimited
        return resp

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
        return data == b""

    async def close(self) -> None:
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except (ConnectionError, ssl.SSLError, OSError):
            pass


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


@dataclass
class TlsFiles:
    ca: Any
    ca_file: str
    cert_file: str
    key_file: str
    client_cert_file: str
    client_key_file: str

    def client_context(self, with_cert: bool = False) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=self.ca_file)
        if with_cert:
            ctx.load_cert_chain(self.client_cert_file, self.client_key_file)
        return ctx


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    trustme = pytest.importorskip("trustme")
    directory = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    server_cert = ca.issue_cert("localhost", "127.0.0.1", "::1")
    client_cert = ca.issue_cert("client@example.org", common_name="test client")
    files = TlsFiles(
        ca=ca,
        ca_file=str(directory / "ca.pem"),
        cert_file=str(directory / "server.pem"),
        key_file=str(directory / "server.key"),
        client_cert_file=str(directory / "client.pem"),
        client_key_file=str(directory / "client.key"),
    )
    ca.cert_pem.write_to_path(files.ca_file)
    server_cert.cert_chain_pems[0].write_to_path(files.cert_file)
    for pem in server_cert.cert_chain_pems[1:]:
        pem.write_to_path(files.cert_file, append=True)
    server_cert.private_key_pem.write_to_path(files.key_file)
    client_cert.cert_chain_pems[0].write_to_path(files.client_cert_file)
    client_cert.private_key_pem.write_to_path(files.client_key_file)
    return files
