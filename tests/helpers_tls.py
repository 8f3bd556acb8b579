"""Blocking raw-socket clients for the TLS tests (run in a thread while the server runs on the
test's loop): the bytes on the wire, read to the end of one response."""

from __future__ import annotations

import socket
import ssl
from typing import Any

LIMIT = 10.0


def read_head(sock: Any) -> bytes:
    """Bytes up to and including the first blank line (the head of one response)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(1)
        if not chunk:
            break
        data += chunk
    return data


def read_response(sock: Any, method: str = "GET") -> tuple[bytes, bytes]:
    """``(head, body)`` of one response: framed by Content-Length, by chunked coding (the body
    returned decoded), or read to EOF; no body for HEAD, 1xx, 204 and 304."""
    head = read_head(sock)
    fields = {}
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        fields[name.strip().lower()] = value.strip()
    status = int(head.split(b" ", 2)[1]) if head else 0
    if method == "HEAD" or status < 200 or status in (204, 304):
        return head, b""
    if fields.get(b"transfer-encoding", b"").lower() == b"chunked":
        body = b""
        while True:
            size = int(_line(sock).split(b";")[0], 16)
            if size == 0:
                while _line(sock):  # trailers, then the empty line
                    pass
                return head, body
            body += _exactly(sock, size)
            _line(sock)
    length = int(fields[b"content-length"]) if b"content-length" in fields else None
    if length is not None:
        return head, _exactly(sock, length)
    return head, read_all(sock)


def _line(sock: Any) -> bytes:
    data = b""
    while not data.endswith(b"\r\n"):
        chunk = sock.recv(1)
        if not chunk:
            raise ConnectionError("closed inside a chunked body")
        data += chunk
    return data[:-2]


def _exactly(sock: Any, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def read_all(sock: Any) -> bytes:
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, ssl.SSLError):
            break
        if not chunk:
            break
        data += chunk
    return data


def connect(address: tuple[str, int]) -> socket.socket:
    return socket.create_connection(address[:2], timeout=LIMIT)
