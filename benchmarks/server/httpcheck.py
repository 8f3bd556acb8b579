"""A tiny blocking HTTP/1.1 client for correctness checks, and the response reader they share.

The load generator (wrk) counts statuses but never looks at a body, so before a server is
load-tested on a scenario the harness sends that scenario's exact request bytes here and checks
every response: status, content type, body, and framing (RFC 9112 §6: Content-Length or chunked).
Only loopback addresses are ever contacted (see ``run.LOOPBACK``).
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field

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
    """Incremental reader: ``feed`` bytes, collect complete responses in ``responses``.

    Handles Content-Length and chunked bodies (RFC 9112 §6.3, §7.1; trailers are skipped);
    a response with neither is delimited by the connection closing (``feed_eof``).
    """

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.responses: list[Response] = []
        self._current: Response | None = None
        self._length: int | None = None  # body bytes still expected, None for chunked or to-EOF
        self._chunked = False
        self._until_eof = False

    def feed(self, data: bytes) -> None:
        self.buffer += data
        while self._step():
            pass

    def feed_eof(self) -> None:
        if self._current is not None and self._until_eof:
            self._current.body = bytes(self.buffer)
            self.buffer.clear()
            self._finish()

    @property
    def pending(self) -> bool:
        """True while a response has started but is not complete."""
        return self._current is not None or bool(self.buffer)

    def _finish(self) -> None:
        assert self._current is not None
        self.responses.append(self._current)
        self._current = None
        self._length = None
        self._chunked = self._until_eof = False

    def _step(self) -> bool:
        if self._current is None:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return False
            head = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
            del self.buffer[: end + 4]
            parts = head[0].split(" ", 2)
            if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
                raise HttpCheckError(f"bad status line {head[0]!r}")
            response = Response(int(parts[1]))
            for line in head[1:]:
                name, _, value = line.partition(":")
                response.headers[name.strip().lower()] = value.strip()
            self._current = response
            if "chunked" in response.header("transfer-encoding").lower():
                self._chunked = True
            elif response.header("content-length"):
                self._length = int(response.header("content-length"))
            elif response.status in (204, 304) or 100 <= response.status < 200:
                self._length = 0
            else:
                self._until_eof = True
            return True
        if self._length is not None:
            if len(self.buffer) < self._length:
                return False
            self._current.body = bytes(self.buffer[: self._length])
            del self.buffer[: self._length]
            self._finish()
            return True
        if self._chunked:
            return self._step_chunk()
        return False  # body delimited by EOF

    def _step_chunk(self) -> bool:
        assert self._current is not None
        line_end = self.buffer.find(b"\r\n")
        if line_end < 0:
            return False
        size = int(bytes(self.buffer[:line_end]).split(b";")[0].strip(), 16)
        if size == 0:
            # Last chunk, then trailer fields up to an empty line (RFC 9112 §7.1.2).
            end = self.buffer.find(b"\r\n\r\n", line_end)
            if end < 0:
                if self.buffer[line_end : line_end + 4] == b"\r\n\r\n":
                    end = line_end
                else:
                    return False
            del self.buffer[: end + 4]
            self._finish()
            return True
        start = line_end + 2
        if len(self.buffer) < start + size + 2:
            return False
        self._current.body += bytes(self.buffer[start : start + size])
        del self.buffer[: start + size + 2]
        return True


def exchange(
    host: str, port: int, payload: bytes, count: int, timeout: float = 5.0
) -> tuple[list[Response], bool]:
    """Send *payload* on a new connection and read *count* responses.

    Returns the responses and whether the server closed the connection after the last one
    (waited for up to 0.5 s). Raises ``HttpCheckError`` on a timeout or malformed answer.
    """
    deadline = time.monotonic() + timeout
    reader = ResponseReader()
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
