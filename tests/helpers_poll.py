"""Helpers for the poll-driven server's tests: a plain ``select`` loop over servers and raw
client sockets (no asyncio anywhere), and a small HTTP/1.1 response reader."""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Callable
from typing import Any

from fasthttp.poll import PollRequest, PollServer

LIMIT = 10.0  # seconds any one exchange may take before the test fails


class RawClient:
    """A non-blocking client socket whose input is collected by :func:`pump`. Every client made
    is in :attr:`opened` until :meth:`close_all` (the tests' fixture calls it)."""

    opened: list[RawClient] = []

    def __init__(self, server: PollServer | tuple[str, int], sock: socket.socket | None = None) -> None:
        if sock is None:
            address = server.address if isinstance(server, PollServer) else server
            sock = socket.create_connection(address[:2], timeout=LIMIT)
        sock.setblocking(False)
        self.sock = sock
        self.data = bytearray()
        self.eof = False
        self.responses: list[Response] = []
        RawClient.opened.append(self)

    @classmethod
    def close_all(cls) -> None:
        while cls.opened:
            cls.opened.pop().close()

    def send(self, data: bytes) -> None:
        self.sock.setblocking(True)
        self.sock.settimeout(LIMIT)
        self.sock.sendall(data)
        self.sock.setblocking(False)

    def read(self) -> None:
        while True:
            try:
                chunk = self.sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                break
            except ConnectionResetError:
                self.eof = True
                break
            if not chunk:
                self.eof = True
                break
            self.data += chunk
        while True:
            parsed = parse_response(bytes(self.data))
            if parsed is None:
                break
            resp, used = parsed
            self.responses.append(resp)
            del self.data[:used]

    def close(self) -> None:
        self.sock.close()


class Response:
    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes, head: bytes, trailers: list[tuple[str, str]]) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.head = head
        self.trailers = trailers

    def header(self, name: str) -> str | None:
        for n, v in self.headers:
            if n.lower() == name.lower():
                return v
        return None


def parse_response(data: bytes, head_only: bool = False) -> tuple[Response, int] | None:
    """One response (interim ones included) from the front of *data*, and its size; None if
    incomplete. A body without framing is taken to the end of *data* only when *head_only*."""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = data[:end]
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ")[1])
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers.append((name.decode(), value.strip().decode("latin-1")))
    pos = end + 4
    names = {n.lower(): v for n, v in headers}
    trailers: list[tuple[str, str]] = []
    if head_only or status < 200 or status in (204, 304):
        return Response(status, headers, b"", head, trailers), pos
    if "content-length" in names:
        n = int(names["content-length"])
        if len(data) < pos + n:
            return None
        return Response(status, headers, data[pos : pos + n], head, trailers), pos + n
    if names.get("transfer-encoding") == "chunked":
        body = bytearray()
        while True:
            eol = data.find(b"\r\n", pos)
            if eol < 0:
                return None
            size = int(data[pos:eol].split(b";")[0], 16)
            pos = eol + 2
            if size == 0:
                while True:
                    eol = data.find(b"\r\n", pos)
                    if eol < 0:
                        return None
                    line = data[pos:eol]
                    pos = eol + 2
                    if not line:
                        return Response(status, headers, bytes(body), head, trailers), pos
                    name, _, value = line.partition(b":")
                    trailers.append((name.decode(), value.strip().decode()))
            if len(data) < pos + size + 2:
                return None
            body += data[pos : pos + size]
            pos += size + 2
    return None  # close-delimited: read to EOF by the caller


def pump(
    servers: list[PollServer],
    until: Callable[[], bool],
    handler: Callable[[PollRequest], Any] | None = None,
    clients: list[RawClient] = (),  # type: ignore[assignment]
    limit: float = LIMIT,
) -> None:
    """Run one plain ``select`` loop over *servers* and *clients* until *until()* is true;
    each request the servers return goes to *handler* (or is left unanswered)."""
    deadline = time.monotonic() + limit
    while True:
        for c in clients:
            c.read()
        if until():
            return
        if time.monotonic() > deadline:
            raise AssertionError("the exchange did not finish in time")
        readable: list[Any] = [c.sock for c in clients if not c.eof]
        writable: list[Any] = []
        for server in servers:
            readable += server.read_sockets
            writable += server.write_sockets
        r, w, _ = select.select(readable, writable, [], 0.02)
        for server in servers:
            req = server.process_events(r, w)
            while req is not None:
                if handler is not None:
                    handler(req)
                req = server.process_events([], [])


def exchange(server: PollServer, request: bytes, handler: Callable[[PollRequest], Any], count: int = 1) -> tuple[RawClient, list[Response]]:
    """Send *request* (bytes) on a new connection, serve it with *handler*, return the client
    and the first *count* responses."""
    client = RawClient(server)
    client.send(request)
    pump([server], lambda: len(client.responses) >= count or client.eof, handler, [client])
    return client, client.responses
