"""A tiny blocking HTTP/1.1 client for correctness checks, reading with fasthttp's response reader.

The load generator (wrk) counts statuses but never looks at a body, so before a server is
load-tested on a scenario the harness sends that scenario's exact request bytes here and checks
every response: status, content type, body, and framing (RFC 9112 §6: Content-Length or chunked).
The bytes are read by the project's one strict response reader,
:class:`fasthttp.testing.ResponseReader`; what it refuses, or a connection closed in the middle of
a response, is an ``HttpCheckError``; so are bytes no request claims (:meth:`ResponseReader.expect`
announces the requests sent). Only loopback addresses are ever contacted (see
``run.LOOPBACK``).
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field

from fasthttp import testing
from fasthttp.errors import ResponseProtocolError

__all__ = ("Response", "ResponseReader", "exchange", "HttpCheckError")


class HttpCheckError(Exception):
    """The server's answer could not be read as HTTP/1.1 within the deadline."""


@dataclass
class Response:
    status: int
    headers: dict[str, str] = field(default_factory=dict)  # lower-cased names, last value wins
    body: bytes = b""

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)


class ResponseReader:
    """``feed`` bytes (and ``feed_eof`` at the close), collect complete responses in
    ``responses``: :class:`fasthttp.testing.ResponseReader`, drained as it is fed."""

    def __init__(self) -> None:
        self._reader = testing.ResponseReader()
        self.responses: list[Response] = []

    def expect(self, count: int = 1, method: str = "GET") -> None:
        """Announce *count* requests sent (the reader parses a response only for a request)."""
        for _ in range(count):
            self._reader.expect(method)

    def feed(self, data: bytes) -> None:
        self._reader.feed(data)
        self._drain()

    def feed_eof(self) -> None:
        self._reader.feed_eof()
        self._drain()

    def _drain(self) -> None:
        try:
            while (response := self._reader.next_response()) is not None:
                self.responses.append(Response(response.status, dict(response.headers.items()), response.body))
        except ResponseProtocolError as exc:
            raise HttpCheckError(str(exc)) from exc


def exchange(
    host: str, port: int, payload: bytes, count: int, timeout: float = 5.0
) -> tuple[list[Response], bool]:
    """Send *payload* on a new connection and read *count* responses.

    Returns the responses and whether the server closed the connection after the last one
    (waited for up to 0.5 s). Raises ``HttpCheckError`` on a timeout or malformed answer.
    """
    deadline = time.monotonic() + timeout
    reader = ResponseReader()
    reader.expect(count)  # NOTE: the harness's payloads carry no HEAD or CONNECT request
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(payload)
        eof = False
        while len(reader.responses) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise HttpCheckError(f"timed out after {len(reader.responses)}/{count} responses")
            sock.settimeout(remaining)
            try:
                data = sock.recv(1 << 20)
            except socket.timeout:
                raise HttpCheckError(f"timed out after {len(reader.responses)}/{count} responses")
            if not data:
                eof = True
                reader.feed_eof()
                break
            reader.feed(data)
        if len(reader.responses) < count:
            raise HttpCheckError(
                f"connection closed after {len(reader.responses)}/{count} responses"
            )
        if not eof:
            sock.settimeout(0.5)
            try:
                eof = sock.recv(1) == b""
            except socket.timeout:
                eof = False
            except ConnectionResetError:
                eof = True
    return reader.responses, eof
